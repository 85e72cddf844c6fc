/* SPDX-License-Identifier: MIT */
/* Unit tests of crypto/channel: sealed frames, streaming receive, sticky
 * failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/channel.h"

/* ------------------------------------------------------------ fixture */

struct pair {
	struct channel *tx;     /* seals */
	struct channel *rx;     /* opens what tx sealed */
};

/* What the receive callback saw. */
struct got {
	size_t frames;
	size_t bytes;
	size_t stop_after;      /* 0: never ask to stop */
	uint8_t *last;          /* copy of the last frame */
	size_t last_len;
	uint64_t order_error;   /* frames whose first byte broke the order */
};

static struct channel *channel_new(const uint8_t tx[32], const uint8_t rx[32])
{
	struct handshake_result res;
	struct channel *ch = malloc(channel_size());

	assert_non_null(ch);
	memset(&res, 0, sizeof res);
	memcpy(res.tx_key, tx, 32);
	memcpy(res.rx_key, rx, 32);
	channel_init(ch, &res);
	return ch;
}

static void channel_free(struct channel *ch)
{
	channel_wipe(ch);
	free(ch);
}

static int setup(void **state)
{
	uint8_t a[32], b[32];
	struct pair *p = calloc(1, sizeof *p);

	assert_non_null(p);
	randombytes_buf(a, sizeof a);
	randombytes_buf(b, sizeof b);
	p->tx = channel_new(a, b);
	p->rx = channel_new(b, a);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	channel_free(p->tx);
	channel_free(p->rx);
	free(p);
	return 0;
}

static int got_frame(void *arg, uint8_t *msg, size_t len)
{
	struct got *g = arg;

	assert_non_null(msg);
	/* Frames of the stream tests carry their index mod 256 first. */
	if (len > 0 && msg[0] != (uint8_t)g->frames)
		g->order_error++;
	g->frames++;
	g->bytes += len;
	free(g->last);
	g->last = malloc(len ? len : 1);
	assert_non_null(g->last);
	memcpy(g->last, msg, len);
	g->last_len = len;
	return g->stop_after != 0 && g->frames >= g->stop_after;
}

static void got_free(struct got *g)
{
	free(g->last);
	g->last = NULL;
}

/* Seals a message of len bytes whose first byte is idx and the rest a
 * pattern; returns the malloc'd frame. */
static uint8_t *seal_msg(struct channel *ch, size_t len, uint8_t idx)
{
	uint8_t *msg = malloc(len ? len : 1);
	uint8_t *out = malloc(channel_sealed_size(len));
	struct err err;
	size_t i;

	assert_non_null(msg);
	assert_non_null(out);
	for (i = 0; i < len; i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	if (len > 0)
		msg[0] = idx;
	assert_int_equal(channel_seal(ch, msg, len, out, &err), 0);
	free(msg);
	return out;
}

/* A stream of n frames of the given sizes, concatenated. */
static uint8_t *seal_stream(struct channel *ch, const size_t *sizes, size_t n,
			    size_t *total)
{
	uint8_t *all = NULL;
	size_t i, off = 0;

	for (i = 0; i < n; i++) {
		size_t sl = channel_sealed_size(sizes[i]);
		uint8_t *f = seal_msg(ch, sizes[i], (uint8_t)i);

		all = realloc(all, off + sl);
		assert_non_null(all);
		memcpy(all + off, f, sl);
		off += sl;
		free(f);
	}
	*total = off;
	return all;
}

/* xorshift64: a seeded, reproducible chunking. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ------------------------------------------------------------ round trips */

static void test_round_trip_of_many_sizes_including_empty_and_max(void **state)
{
	static const size_t sizes[] = {
		0, 1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 1000, 4095, 4096,
		4097, 65535, 65536, 100000, 1u << 20, CHANNEL_FRAME_MAX - 1,
		CHANNEL_FRAME_MAX,
	};
	struct pair *p = *state;
	struct got g = {0};
	struct err err;
	size_t i, used;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		uint8_t *f = seal_msg(p->tx, sizes[i], (uint8_t)i);
		size_t j;

		assert_int_equal(channel_feed(p->rx, f,
					      channel_sealed_size(sizes[i]),
					      &used, got_frame, &g, &err), 0);
		assert_int_equal(used, channel_sealed_size(sizes[i]));
		assert_int_equal(g.frames, i + 1);
		assert_int_equal(g.last_len, sizes[i]);
		for (j = 1; j < sizes[i]; j++)
			if (g.last[j] != (uint8_t)(j * 31 + 7))
				fail_msg("size %zu: byte %zu differs", sizes[i], j);
		assert_int_equal(channel_pending(p->rx), 0);
		free(f);
	}
	assert_int_equal(g.order_error, 0);
	got_free(&g);
}

static void test_frames_fed_byte_by_byte_arrive_whole(void **state)
{
	static const size_t sizes[] = {0, 1, 100, 5000, 0, 17};
	struct pair *p = *state;
	struct got g = {0};
	struct err err;
	size_t total, i;
	uint8_t *s = seal_stream(p->tx, sizes, 6, &total);

	for (i = 0; i < total; i++)
		assert_int_equal(channel_feed(p->rx, s + i, 1, NULL, got_frame,
					      &g, &err), 0);
	assert_int_equal(g.frames, 6);
	assert_int_equal(g.bytes, 0 + 1 + 100 + 5000 + 0 + 17);
	assert_int_equal(g.order_error, 0);
	assert_int_equal(channel_pending(p->rx), 0);
	free(s);
	got_free(&g);
}

static void test_frames_in_random_chunkings_arrive_in_order(void **state)
{
	struct pair *p = *state;
	size_t sizes[300];
	uint64_t rng = 0x9e3779b97f4a7c15u;
	size_t total, i, want_bytes = 0;
	struct got g = {0};
	struct err err;
	uint8_t *s;
	int round;

	for (i = 0; i < 300; i++) {
		sizes[i] = rng_next(&rng) % 3 == 0 ? rng_next(&rng) % 70000
						   : rng_next(&rng) % 300;
		want_bytes += sizes[i];
	}
	s = seal_stream(p->tx, sizes, 300, &total);
	for (round = 0; round < 2; round++) {
		/* The second round uses a fresh receiver pair so the frame
		 * numbers start over. */
		struct channel *rx = p->rx;
		size_t off = 0;

		if (round == 1) {
			uint8_t a[32] = {1}, b[32] = {2};
			struct channel *tx = channel_new(a, b);

			rx = channel_new(b, a);
			free(s);
			s = seal_stream(tx, sizes, 300, &total);
			channel_free(tx);
		}
		memset(&g, 0, sizeof g);
		while (off < total) {
			size_t n = 1 + rng_next(&rng) % (round ? 100000 : 700);

			if (n > total - off)
				n = total - off;
			assert_int_equal(channel_feed(rx, s + off, n, NULL,
						      got_frame, &g, &err), 0);
			off += n;
		}
		assert_int_equal(g.frames, 300);
		assert_int_equal(g.bytes, want_bytes);
		assert_int_equal(g.order_error, 0);
		got_free(&g);
		if (round == 1)
			channel_free(rx);
	}
	free(s);
}

static void test_callback_can_stop_the_feed_at_a_frame_boundary(void **state)
{
	static const size_t sizes[] = {10, 20, 30, 40};
	struct pair *p = *state;
	struct got g = {.stop_after = 2};
	struct err err;
	size_t total, used;
	uint8_t *s = seal_stream(p->tx, sizes, 4, &total);

	assert_int_equal(channel_feed(p->rx, s, total, &used, got_frame, &g,
				      &err), 0);
	assert_int_equal(g.frames, 2);
	assert_int_equal(used, channel_sealed_size(10) + channel_sealed_size(20));
	g.stop_after = 0;
	assert_int_equal(channel_feed(p->rx, s + used, total - used, &used,
				      got_frame, &g, &err), 0);
	assert_int_equal(g.frames, 4);
	assert_int_equal(g.order_error, 0);
	free(s);
	got_free(&g);
}

/* ------------------------------------------------------------ bad input */

static void test_truncated_frame_waits_for_more_and_delivers_nothing(void **state)
{
	struct pair *p = *state;
	struct got g = {0};
	struct err err;
	uint8_t *f = seal_msg(p->tx, 500, 0);
	size_t n = channel_sealed_size(500);

	assert_int_equal(channel_feed(p->rx, f, n - 1, NULL, got_frame, &g,
				      &err), 0);
	assert_int_equal(g.frames, 0);
	assert_int_equal(channel_pending(p->rx), n - 1);
	assert_int_equal(channel_error(p->rx), 0);
	assert_int_equal(channel_feed(p->rx, f + n - 1, 1, NULL, got_frame,
				      &g, &err), 0);
	assert_int_equal(g.frames, 1);
	assert_int_equal(channel_pending(p->rx), 0);
	free(f);
	got_free(&g);
}

static void test_bit_flip_anywhere_kills_the_channel(void **state)
{
	static const size_t sizes[] = {40, 40, 40};
	struct pair *p = *state;
	size_t total, bit;
	uint8_t *s = seal_stream(p->tx, sizes, 3, &total);
	size_t first = channel_sealed_size(40);
	uint8_t key_tx[32], key_rx[32];

	(void)p;
	/* Fixed keys, so each trial gets the same stream from a fresh pair. */
	memset(key_tx, 0x11, 32);
	memset(key_rx, 0x22, 32);
	{
		struct channel *tx = channel_new(key_tx, key_rx);

		free(s);
		s = seal_stream(tx, sizes, 3, &total);
		channel_free(tx);
	}
	/* Flip every bit of the second frame: the first is delivered, the
	 * second and third never are, and the channel stays dead. */
	for (bit = first * 8; bit < 2 * first * 8; bit++) {
		struct channel *rx = channel_new(key_rx, key_tx);
		struct got g = {0};
		struct err err;
		uint8_t *bad = malloc(total);
		int rv;

		assert_non_null(bad);
		memcpy(bad, s, total);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rv = channel_feed(rx, bad, total, NULL, got_frame, &g, &err);
		if (rv == 0) {
			/* A flip in the length prefix that makes the frame
			 * longer leaves it waiting for bytes that would not
			 * authenticate either: finish it with zeros. */
			uint8_t zeros[4096] = {0};

			assert_int_equal(g.frames, 1);
			assert_true(channel_pending(rx) > 0);
			while (rv == 0)
				rv = channel_feed(rx, zeros, sizeof zeros,
						  NULL, got_frame, &g, &err);
		}
		assert_true(rv == RUMOR_EAUTH || rv == RUMOR_EPROTO);
		assert_int_equal(err.code, rv);
		assert_int_equal(g.frames, 1);
		assert_int_equal(channel_error(rx), rv);
		/* The intact third frame, fed alone, is refused too. */
		assert_int_equal(channel_feed(rx, s + 2 * first, first, NULL,
					      got_frame, &g, &err), rv);
		assert_int_equal(g.frames, 1);
		channel_free(rx);
		free(bad);
		got_free(&g);
	}
	free(s);
}

static void test_oversize_declared_length_fails_without_allocating(void **state)
{
	static const uint32_t lens[] = {CHANNEL_FRAME_MAX + 1, 0x7fffffffu,
					0xffffffffu};
	struct pair *p = *state;
	size_t i;

	(void)p;
	for (i = 0; i < 3; i++) {
		uint8_t k[32] = {0};
		struct channel *rx = channel_new(k, k);
		struct got g = {0};
		struct err err;
		uint8_t prefix[4] = {
			(uint8_t)(lens[i] >> 24), (uint8_t)(lens[i] >> 16),
			(uint8_t)(lens[i] >> 8), (uint8_t)lens[i],
		};

		assert_int_equal(channel_feed(rx, prefix, 4, NULL, got_frame,
					      &g, &err), RUMOR_EPROTO);
		assert_non_null(strstr(err.msg, "bound"));
		assert_int_equal(channel_memory(rx), 0);
		assert_int_equal(g.frames, 0);
		channel_free(rx);
	}
}

static void test_declared_length_alone_does_not_size_the_buffer(void **state)
{
	struct pair *p = *state;
	struct got g = {0};
	struct err err;
	uint8_t *f = seal_msg(p->tx, CHANNEL_FRAME_MAX, 0);

	/* A legal maximal length with only a few bytes behind it. */
	assert_int_equal(channel_feed(p->rx, f, 100, NULL, got_frame, &g,
				      &err), 0);
	assert_true(channel_memory(p->rx) < 64 * 1024);
	assert_int_equal(channel_feed(p->rx, f + 100,
				      channel_sealed_size(CHANNEL_FRAME_MAX) - 100,
				      NULL, got_frame, &g, &err), 0);
	assert_int_equal(g.frames, 1);
	assert_int_equal(g.last_len, CHANNEL_FRAME_MAX);
	free(f);
	got_free(&g);
}

static void test_replayed_frame_is_rejected(void **state)
{
	struct pair *p = *state;
	struct got g = {0};
	struct err err;
	uint8_t *f = seal_msg(p->tx, 64, 0);
	size_t n = channel_sealed_size(64);

	assert_int_equal(channel_feed(p->rx, f, n, NULL, got_frame, &g, &err),
			 0);
	assert_int_equal(channel_feed(p->rx, f, n, NULL, got_frame, &g, &err),
			 RUMOR_EAUTH);
	assert_int_equal(g.frames, 1);
	free(f);
	got_free(&g);
}

static void test_reordered_frames_are_rejected(void **state)
{
	struct pair *p = *state;
	struct got g = {0};
	struct err err;
	uint8_t *f0 = seal_msg(p->tx, 64, 0);
	uint8_t *f1 = seal_msg(p->tx, 64, 1);
	size_t n = channel_sealed_size(64);

	assert_int_equal(channel_feed(p->rx, f1, n, NULL, got_frame, &g, &err),
			 RUMOR_EAUTH);
	assert_int_equal(channel_feed(p->rx, f0, n, NULL, got_frame, &g, &err),
			 RUMOR_EAUTH);
	assert_int_equal(g.frames, 0);
	free(f0);
	free(f1);
}

static void test_frame_under_the_wrong_key_is_rejected(void **state)
{
	struct pair *p = *state;
	struct got g = {0};
	struct err err;
	uint8_t *f = seal_msg(p->tx, 64, 0);

	/* The sender's own receive key is the other direction's key. */
	assert_int_equal(channel_feed(p->tx, f, channel_sealed_size(64), NULL,
				      got_frame, &g, &err), RUMOR_EAUTH);
	assert_int_equal(g.frames, 0);
	free(f);
}

static void test_dead_channel_refuses_feed_and_seal(void **state)
{
	struct pair *p = *state;
	struct got g = {0};
	struct err err;
	uint8_t garbage[64];
	uint8_t out[8 + CHANNEL_OVERHEAD];     /* channel_sealed_size(8) */
	uint8_t *f;

	memset(garbage, 0, sizeof garbage);     /* an empty frame, bad tag */
	assert_int_equal(channel_feed(p->rx, garbage, sizeof garbage, NULL,
				      got_frame, &g, &err), RUMOR_EAUTH);
	assert_int_equal(channel_error(p->rx), RUMOR_EAUTH);
	assert_int_equal(channel_seal(p->rx, (const uint8_t *)"12345678", 8,
				      out, &err), RUMOR_EAUTH);
	assert_int_equal(err.code, RUMOR_EAUTH);
	f = seal_msg(p->tx, 10, 0);
	assert_int_equal(channel_feed(p->rx, f, channel_sealed_size(10), NULL,
				      got_frame, &g, &err), RUMOR_EAUTH);
	assert_int_equal(channel_feed(p->rx, NULL, 0, NULL, got_frame, &g,
				      &err), RUMOR_EAUTH);
	assert_int_equal(g.frames, 0);
	free(f);
}

static void test_seal_refuses_an_oversize_message_and_changes_nothing(void **state)
{
	struct pair *p = *state;
	struct got g = {0};
	struct err err;
	uint8_t *big = calloc(1, CHANNEL_FRAME_MAX + 1);
	uint8_t *out = malloc(channel_sealed_size(CHANNEL_FRAME_MAX + 1));
	uint8_t *f;

	assert_non_null(big);
	assert_non_null(out);
	assert_int_equal(channel_seal(p->tx, big, CHANNEL_FRAME_MAX + 1, out,
				      &err), RUMOR_ETOOBIG);
	assert_int_equal(channel_error(p->tx), 0);
	/* The counter did not move: the next frame still opens. */
	f = seal_msg(p->tx, 5, 0);
	assert_int_equal(channel_feed(p->rx, f, channel_sealed_size(5), NULL,
				      got_frame, &g, &err), 0);
	assert_int_equal(g.frames, 1);
	free(f);
	free(big);
	free(out);
	got_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_round_trip_of_many_sizes_including_empty_and_max),
		T(test_frames_fed_byte_by_byte_arrive_whole),
		T(test_frames_in_random_chunkings_arrive_in_order),
		T(test_callback_can_stop_the_feed_at_a_frame_boundary),
		T(test_truncated_frame_waits_for_more_and_delivers_nothing),
		T(test_bit_flip_anywhere_kills_the_channel),
		T(test_oversize_declared_length_fails_without_allocating),
		T(test_declared_length_alone_does_not_size_the_buffer),
		T(test_replayed_frame_is_rejected),
		T(test_reordered_frames_are_rejected),
		T(test_frame_under_the_wrong_key_is_rejected),
		T(test_dead_channel_refuses_feed_and_seal),
		T(test_seal_refuses_an_oversize_message_and_changes_nothing),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
