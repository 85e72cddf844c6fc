/* SPDX-License-Identifier: MIT */
/*
 * test_wire: every message round-trips; every malformed frame is refused
 * with RUMOR_EPROTO and a message saying what was wrong; nothing crashes,
 * reads past the input or allocates without bound.
 *
 * Malformed inputs are written with a small CBOR writer of our own (tb_*)
 * rather than libcbor, so the tests also check the encoding byte by byte
 * independently of the library that produced it.
 *
 * Measured (test_batch_overhead_is_small, 1000 entries, 16-byte keys,
 * 100-byte values, seqs around 10^6, wall_ms around 1.7e12): 135.05 bytes
 * per entry on the wire, 1.164x key+value, origin and head included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire/wire.h"

/* ------------------------------------------------------------ helpers */

static const uint8_t origin_a[WIRE_ORIGIN_BYTES] = {
	0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 0xa1,
};
static const uint8_t origin_b[WIRE_ORIGIN_BYTES] = { 0xbb, 0, 0xbb };

struct fixture {
	struct wire_buf buf;
	struct wire_decoder dec;
	struct wire_msg msg;
	struct err err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	wire_buf_init(&f->buf);
	wire_decoder_init(&f->dec);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	wire_buf_free(&f->buf);
	wire_decoder_free(&f->dec);
	free(f);
	return 0;
}

/* Decodes the whole of f->buf; fails the test unless it decodes. */
static void decode_ok(struct fixture *f)
{
	int rv = wire_decode(&f->dec, f->buf.data, f->buf.len, &f->msg,
			     &f->err);

	if (rv != 0)
		fail_msg("decode failed (%d): %s", rv, f->err.msg);
}

static void assert_mem(const void *a, size_t alen, const void *b, size_t blen)
{
	assert_int_equal(alen, blen);
	if (alen > 0)
		assert_memory_equal(a, b, alen);
}

/* ------------------------------------------------------------ a CBOR writer
 * for hand-made frames: minimal heads unless told otherwise. */

struct tb {
	uint8_t *b;
	size_t n;
	size_t cap;
};

static void tb_raw(struct tb *t, const void *p, size_t n)
{
	if (t->n + n > t->cap) {
		t->cap = (t->n + n) * 2 + 64;
		t->b = realloc(t->b, t->cap);
		assert_non_null(t->b);
	}
	if (n > 0)
		memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void tb_byte(struct tb *t, uint8_t v)
{
	tb_raw(t, &v, 1);
}

static void tb_head(struct tb *t, int major, uint64_t v)
{
	uint8_t h[9];
	size_t n, i;

	if (v < 24) {
		h[0] = (uint8_t)(major << 5 | v);
		n = 1;
	} else {
		n = v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffffu ? 5 : 9;
		h[0] = (uint8_t)(major << 5 |
				 (n == 2 ? 24 : n == 3 ? 25 : n == 5 ? 26 : 27));
		for (i = 1; i < n; i++)
			h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	}
	tb_raw(t, h, n);
}

static void tb_u(struct tb *t, uint64_t v)
{
	tb_head(t, 0, v);
}

static void tb_arr(struct tb *t, uint64_t n)
{
	tb_head(t, 4, n);
}

/* A byte string of len bytes, all fill. */
static void tb_bstr(struct tb *t, size_t len, uint8_t fill)
{
	size_t i;

	tb_head(t, 2, len);
	for (i = 0; i < len; i++)
		tb_byte(t, fill);
}

/* Zero bytes after a short malformed list: without them the list's
 * count could not fit in what is left, and that error would come first. */
static void tb_pad(struct tb *t, size_t n)
{
	while (n-- > 0)
		tb_byte(t, 0);
}

static void tb_tstr(struct tb *t, const char *s)
{
	tb_head(t, 3, strlen(s));
	tb_raw(t, s, strlen(s));
}

/* Well-formed pieces the malformed rows start from. */
static void tb_hello(struct tb *t, uint64_t port, uint64_t mode)
{
	tb_arr(t, 6);
	tb_u(t, WIRE_HELLO);
	tb_u(t, WIRE_PROTO_VERSION);
	tb_u(t, port);
	tb_u(t, mode);
	tb_u(t, 1700000000000ull);
	tb_u(t, 0);
}

static void tb_digest_head(struct tb *t, uint64_t n)
{
	tb_arr(t, 3);
	tb_u(t, WIRE_DIGEST);
	tb_u(t, 42);
	tb_arr(t, n);
}

static void tb_batch_head(struct tb *t, uint64_t n)
{
	tb_arr(t, 4);
	tb_u(t, WIRE_BATCH);
	tb_u(t, 42);
	tb_bstr(t, WIRE_ORIGIN_BYTES, 0xa0);
	tb_arr(t, n);
}

/* The first four fields of an entry. */
static void tb_entry_head(struct tb *t, uint64_t flags)
{
	tb_arr(t, 6);
	tb_u(t, 7);
	tb_u(t, 3);
	tb_u(t, 1700000000000ull);
	tb_u(t, flags);
}

static void tb_members_head(struct tb *t)
{
	tb_arr(t, 2);
	tb_u(t, WIRE_MEMBERS);
	tb_arr(t, 1);
	tb_arr(t, 5);
	tb_bstr(t, WIRE_NODE_ID_BYTES, 0x11);
}

/* ------------------------------------------------------------ round trips */

static void test_hello_round_trips(void **state)
{
	struct fixture *f = *state;
	struct wire_hello h = {
		.proto_version = WIRE_PROTO_VERSION, .listen_port = 65535,
		.mode = WIRE_MODE_REPLICA, .wall_ms = 1700000000123ull,
		.flags = UINT64_MAX,
	};

	assert_int_equal(wire_encode_hello(&f->buf, &h, &f->err), 0);
	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_HELLO);
	assert_int_equal(f->msg.u.hello.proto_version, WIRE_PROTO_VERSION);
	assert_int_equal(f->msg.u.hello.listen_port, 65535);
	assert_int_equal(f->msg.u.hello.mode, WIRE_MODE_REPLICA);
	assert_true(f->msg.u.hello.wall_ms == 1700000000123ull);
	assert_true(f->msg.u.hello.flags == UINT64_MAX);
}

static void check_hwms_round_trip(struct fixture *f, enum wire_type type,
				  size_t n)
{
	struct wire_hwm *hwms = calloc(n + 1, sizeof(*hwms));
	uint8_t (*origins)[WIRE_ORIGIN_BYTES] = calloc(n + 1,
						       WIRE_ORIGIN_BYTES);
	size_t i;
	int rv;

	assert_non_null(hwms);
	assert_non_null(origins);
	for (i = 0; i < n; i++) {
		memset(origins[i], (int)i, WIRE_ORIGIN_BYTES);
		origins[i][0] = 0;      /* binary, NUL included */
		hwms[i].origin = origins[i];
		hwms[i].hwm = i == 0 ? UINT64_MAX : i * 1000;
	}
	wire_buf_reset(&f->buf);
	if (type == WIRE_DIGEST)
		rv = wire_encode_digest(&f->buf, 99, hwms, n, &f->err);
	else
		rv = wire_encode_done(&f->buf, 99, hwms, n, &f->err);
	assert_int_equal(rv, 0);
	decode_ok(f);
	assert_int_equal(f->msg.type, type);
	assert_int_equal(f->msg.u.digest.exchange_id, 99);
	assert_int_equal(f->msg.u.digest.n, n);
	for (i = 0; i < n; i++) {
		assert_memory_equal(f->msg.u.digest.hwms[i].origin, origins[i],
				    WIRE_ORIGIN_BYTES);
		assert_true(f->msg.u.digest.hwms[i].hwm == hwms[i].hwm);
		/* zero-copy: the origin points into the frame */
		assert_true(f->msg.u.digest.hwms[i].origin > f->buf.data &&
			    f->msg.u.digest.hwms[i].origin <
			    f->buf.data + f->buf.len);
	}
	free(hwms);
	free(origins);
}

static void test_digest_and_done_round_trip_empty_and_full(void **state)
{
	struct fixture *f = *state;

	check_hwms_round_trip(f, WIRE_DIGEST, 0);
	check_hwms_round_trip(f, WIRE_DIGEST, 3);
	check_hwms_round_trip(f, WIRE_DONE, 0);
	check_hwms_round_trip(f, WIRE_DONE, 1000);
}

static void test_batch_round_trips_binary_and_deleted_entries(void **state)
{
	struct fixture *f = *state;
	struct wire_batch_builder b;
	static const uint8_t key0[] = { 0, 'k', 0, 0xff };
	static const uint8_t val0[] = { 0, 0, 'v', 0 };
	struct wire_entry in[3] = {
		{ .seq = 1, .clock = 1, .wall_ms = 5, .key = key0,
		  .key_len = sizeof(key0), .value = val0,
		  .value_len = sizeof(val0) },
		{ .seq = UINT64_MAX, .clock = UINT64_MAX, .wall_ms = UINT64_MAX,
		  .deleted = 1, .key = "gone", .key_len = 4 },
		{ .seq = 300, .clock = 24, .wall_ms = 0, .key = "empty",
		  .key_len = 5, .value = "", .value_len = 0 },
	};
	const struct wire_entry *e;
	size_t i;

	assert_int_equal(wire_batch_begin(&b, &f->buf, 7, origin_a, &f->err),
			 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(wire_batch_add(&b, &in[i], &f->err), 0);
	assert_int_equal(wire_batch_count(&b), 3);
	assert_int_equal(wire_batch_payload(&b), 4 + 4 + 4 + 5);
	wire_batch_end(&b);
	assert_int_equal(b.start, 0);
	assert_int_equal(wire_batch_bytes(&b), f->buf.len);

	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_BATCH);
	assert_int_equal(f->msg.u.batch.exchange_id, 7);
	assert_memory_equal(f->msg.u.batch.origin, origin_a, WIRE_ORIGIN_BYTES);
	assert_int_equal(f->msg.u.batch.n, 3);
	assert_int_equal(f->msg.u.batch.payload_bytes, 17);
	for (i = 0; i < 3; i++) {
		e = &f->msg.u.batch.entries[i];
		assert_true(e->seq == in[i].seq);
		assert_true(e->clock == in[i].clock);
		assert_true(e->wall_ms == in[i].wall_ms);
		assert_int_equal(e->deleted, in[i].deleted);
		assert_mem(e->key, e->key_len, in[i].key, in[i].key_len);
		assert_mem(e->value, e->value_len, in[i].value,
			   in[i].value_len);
	}
	assert_null(f->msg.u.batch.entries[1].value);
}

static void test_batch_round_trips_max_key_and_value(void **state)
{
	struct fixture *f = *state;
	struct wire_batch_builder b;
	uint8_t *key = malloc(WIRE_KEY_MAX);
	uint8_t *val = malloc(WIRE_VALUE_MAX);
	struct wire_entry e = {
		.seq = 1, .clock = 2, .wall_ms = 3, .key = key,
		.key_len = WIRE_KEY_MAX, .value = val,
		.value_len = WIRE_VALUE_MAX,
	};
	size_t i;

	assert_non_null(key);
	assert_non_null(val);
	for (i = 0; i < WIRE_KEY_MAX; i++)
		key[i] = (uint8_t)(i * 7);
	for (i = 0; i < WIRE_VALUE_MAX; i++)
		val[i] = (uint8_t)(i * 13);
	assert_int_equal(wire_batch_begin(&b, &f->buf, 1, origin_a, &f->err),
			 0);
	assert_int_equal(wire_batch_add(&b, &e, &f->err), 0);
	wire_batch_end(&b);
	assert_true(f->buf.len <= WIRE_BATCH_HEAD_MAX + WIRE_KEY_MAX +
		    WIRE_VALUE_MAX + WIRE_ENTRY_OVERHEAD_MAX);
	assert_int_equal(f->buf.len, wire_batch_bytes(&b));
	decode_ok(f);
	assert_int_equal(f->msg.u.batch.n, 1);
	assert_mem(f->msg.u.batch.entries[0].key,
		   f->msg.u.batch.entries[0].key_len, key, WIRE_KEY_MAX);
	assert_mem(f->msg.u.batch.entries[0].value,
		   f->msg.u.batch.entries[0].value_len, val, WIRE_VALUE_MAX);
	free(key);
	free(val);
}

static void test_empty_batch_round_trips(void **state)
{
	struct fixture *f = *state;
	struct wire_batch_builder b;

	assert_int_equal(wire_batch_begin(&b, &f->buf, 3, origin_b, &f->err),
			 0);
	wire_batch_end(&b);
	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_BATCH);
	assert_int_equal(f->msg.u.batch.n, 0);
	assert_int_equal(f->msg.u.batch.payload_bytes, 0);
	assert_memory_equal(f->msg.u.batch.origin, origin_b, WIRE_ORIGIN_BYTES);
}

/* Frames are appended: a batch after another frame starts at b.start. */
static void test_batch_appends_after_existing_bytes(void **state)
{
	struct fixture *f = *state;
	struct wire_batch_builder b;
	struct wire_entry e = { .seq = 9, .key = "k", .key_len = 1,
				.value = "v", .value_len = 1 };

	assert_int_equal(wire_encode_ping(&f->buf, 1, &f->err), 0);
	assert_int_equal(wire_batch_begin(&b, &f->buf, 3, origin_a, &f->err),
			 0);
	assert_int_equal(wire_batch_add(&b, &e, &f->err), 0);
	wire_batch_end(&b);
	assert_true(b.start > 0);
	assert_int_equal(wire_decode(&f->dec, f->buf.data + b.start,
				     f->buf.len - b.start, &f->msg, &f->err), 0);
	assert_int_equal(f->msg.u.batch.entries[0].seq, 9);
	assert_int_equal(wire_decode(&f->dec, f->buf.data, b.start, &f->msg,
				     &f->err), 0);
	assert_int_equal(f->msg.type, WIRE_PING);
}

static void test_cancelled_batch_leaves_the_buffer_as_it_was(void **state)
{
	struct fixture *f = *state;
	struct wire_batch_builder b;
	struct wire_entry e = { .seq = 9, .key = "k", .key_len = 1,
				.value = "v", .value_len = 1 };
	size_t before;

	assert_int_equal(wire_encode_pong(&f->buf, 77, &f->err), 0);
	before = f->buf.len;
	assert_int_equal(wire_batch_begin(&b, &f->buf, 3, origin_a, &f->err),
			 0);
	assert_int_equal(wire_batch_add(&b, &e, &f->err), 0);
	wire_batch_cancel(&b);
	assert_int_equal(f->buf.len, before);
	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_PONG);
	assert_int_equal(f->msg.u.nonce, 77);
}

static void test_small_messages_round_trip(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(wire_encode_ack(&f->buf, 5, 1u << 30, &f->err), 0);
	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_ACK);
	assert_int_equal(f->msg.u.ack.exchange_id, 5);
	assert_int_equal(f->msg.u.ack.bytes, 1u << 30);

	wire_buf_reset(&f->buf);
	assert_int_equal(wire_encode_ping(&f->buf, UINT64_MAX, &f->err), 0);
	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_PING);
	assert_true(f->msg.u.nonce == UINT64_MAX);

	wire_buf_reset(&f->buf);
	assert_int_equal(wire_encode_pong(&f->buf, 0, &f->err), 0);
	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_PONG);
	assert_int_equal(f->msg.u.nonce, 0);

	wire_buf_reset(&f->buf);
	assert_int_equal(wire_encode_bye(&f->buf, WIRE_BYE_VERSION, &f->err), 0);
	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_BYE);
	assert_int_equal(f->msg.u.reason, WIRE_BYE_VERSION);
}

static void test_members_round_trip(void **state)
{
	struct fixture *f = *state;
	char host255[WIRE_HOST_MAX];
	struct wire_member m[3] = {
		{ .node_id = origin_a, .host = "127.0.0.1", .host_len = 9,
		  .port = 7000, .state = WIRE_MEMBER_ALIVE, .age_ms = 0 },
		{ .node_id = origin_b, .host = host255,
		  .host_len = WIRE_HOST_MAX, .port = 65535,
		  .state = WIRE_MEMBER_GONE, .age_ms = UINT64_MAX },
		{ .node_id = origin_a, .host = "::1", .host_len = 3, .port = 0,
		  .state = WIRE_MEMBER_SUSPECT, .age_ms = 12345 },
	};
	size_t i;

	memset(host255, 'h', sizeof(host255));
	assert_int_equal(wire_encode_members(&f->buf, m, 3, &f->err), 0);
	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_MEMBERS);
	assert_int_equal(f->msg.u.members.n, 3);
	for (i = 0; i < 3; i++) {
		const struct wire_member *d = &f->msg.u.members.members[i];

		assert_memory_equal(d->node_id, m[i].node_id,
				    WIRE_NODE_ID_BYTES);
		assert_mem(d->host, d->host_len, m[i].host, m[i].host_len);
		assert_int_equal(d->port, m[i].port);
		assert_int_equal(d->state, m[i].state);
		assert_true(d->age_ms == m[i].age_ms);
	}

	wire_buf_reset(&f->buf);
	assert_int_equal(wire_encode_members(&f->buf, NULL, 0, &f->err), 0);
	decode_ok(f);
	assert_int_equal(f->msg.u.members.n, 0);
}

/* wire_encode_msg() re-encodes what wire_decode() produced, byte for
 * byte (our encoder is canonical). */
static void test_encode_msg_reproduces_decoded_frames(void **state)
{
	struct fixture *f = *state;
	struct wire_buf again;
	struct wire_entry e = { .seq = 1, .key = "k", .key_len = 1,
				.deleted = 1 };
	struct wire_batch_builder b;

	wire_buf_init(&again);
	assert_int_equal(wire_batch_begin(&b, &f->buf, 1, origin_a, &f->err),
			 0);
	assert_int_equal(wire_batch_add(&b, &e, &f->err), 0);
	wire_batch_end(&b);
	decode_ok(f);
	assert_int_equal(wire_encode_msg(&again, &f->msg, &f->err), 0);
	assert_mem(again.data, again.len, f->buf.data, f->buf.len);
	wire_buf_free(&again);
}

static void test_entry_to_version_fills_every_field(void **state)
{
	struct wire_entry e = { .seq = 11, .clock = 12, .wall_ms = 13,
				.key = "key", .key_len = 3, .value = "val",
				.value_len = 3 };
	struct rumor_version v;

	(void)state;
	memset(&v, 0xee, sizeof(v));
	wire_entry_to_version(origin_a, &e, &v);
	assert_ptr_equal(v.key, e.key);
	assert_int_equal(v.key_len, 3);
	assert_ptr_equal(v.value, e.value);
	assert_int_equal(v.value_len, 3);
	assert_int_equal(v.deleted, 0);
	assert_int_equal(v.clock, 12);
	assert_int_equal(v.wall_ms, 13);
	assert_ptr_equal(v.origin, origin_a);
	assert_int_equal(v.origin_len, WIRE_ORIGIN_BYTES);
	assert_int_equal(v.seq, 11);

	e.deleted = 1;
	wire_entry_to_version(origin_a, &e, &v);
	assert_int_equal(v.deleted, 1);
	assert_null(v.value);
	assert_int_equal(v.value_len, 0);
}

static void test_batch_add_version_round_trips_and_checks_origin(void **state)
{
	struct fixture *f = *state;
	struct wire_batch_builder b;
	struct rumor_version v = { .key = "k", .key_len = 1, .value = "vv",
				   .value_len = 2, .clock = 4, .wall_ms = 5,
				   .origin = origin_a,
				   .origin_len = WIRE_ORIGIN_BYTES, .seq = 6 };
	struct rumor_version back;
	size_t before;

	assert_int_equal(wire_batch_begin(&b, &f->buf, 1, origin_a, &f->err),
			 0);
	assert_int_equal(wire_batch_add_version(&b, &v, &f->err), 0);
	before = f->buf.len;
	v.origin = origin_b;
	assert_int_equal(wire_batch_add_version(&b, &v, &f->err), RUMOR_EINVAL);
	assert_int_equal(f->buf.len, before);
	wire_batch_end(&b);
	decode_ok(f);
	assert_int_equal(f->msg.u.batch.n, 1);
	wire_entry_to_version(f->msg.u.batch.origin,
			      &f->msg.u.batch.entries[0], &back);
	assert_mem(back.key, back.key_len, "k", 1);
	assert_mem(back.value, back.value_len, "vv", 2);
	assert_memory_equal(back.origin, origin_a, WIRE_ORIGIN_BYTES);
	assert_int_equal(back.seq, 6);
	assert_int_equal(back.clock, 4);
	assert_int_equal(back.wall_ms, 5);
}

/* ------------------------------------------------------------ encoder limits */

static void test_encoders_refuse_arguments_outside_the_limits(void **state)
{
	struct fixture *f = *state;
	struct wire_batch_builder b;
	static uint8_t big[WIRE_KEY_MAX + 1];
	struct wire_entry e = { .seq = 1, .key = "k", .key_len = 1 };
	struct wire_hello h = { .mode = 2 };
	struct wire_member m = { .node_id = origin_a, .host = "h",
				 .host_len = 1 };
	size_t before;

	assert_int_equal(wire_batch_begin(&b, &f->buf, 1, origin_a, &f->err),
			 0);
	before = f->buf.len;
	e.key_len = 0;
	assert_int_equal(wire_batch_add(&b, &e, &f->err), RUMOR_EINVAL);
	e.key = big;
	e.key_len = WIRE_KEY_MAX + 1;
	assert_int_equal(wire_batch_add(&b, &e, &f->err), RUMOR_EINVAL);
	e.key_len = 1;
	e.deleted = 1;
	e.value = "x";
	e.value_len = 1;
	assert_int_equal(wire_batch_add(&b, &e, &f->err), RUMOR_EINVAL);
	e.deleted = 0;
	e.value_len = WIRE_VALUE_MAX + 1;
	assert_int_equal(wire_batch_add(&b, &e, &f->err), RUMOR_EINVAL);
	e.value = NULL;
	e.value_len = 1;
	assert_int_equal(wire_batch_add(&b, &e, &f->err), RUMOR_EINVAL);
	/* a failed add changes nothing: the batch is still empty */
	assert_int_equal(f->buf.len, before);
	assert_int_equal(wire_batch_count(&b), 0);
	wire_batch_end(&b);
	decode_ok(f);
	assert_int_equal(f->msg.u.batch.n, 0);

	before = f->buf.len;
	assert_int_equal(wire_encode_hello(&f->buf, &h, &f->err), RUMOR_EINVAL);
	m.state = 3;
	assert_int_equal(wire_encode_members(&f->buf, &m, 1, &f->err),
			 RUMOR_EINVAL);
	m.state = 0;
	m.host_len = 0;
	assert_int_equal(wire_encode_members(&f->buf, &m, 1, &f->err),
			 RUMOR_EINVAL);
	m.host = "a\0b";
	m.host_len = 3;
	assert_int_equal(wire_encode_members(&f->buf, &m, 1, &f->err),
			 RUMOR_EINVAL);
	assert_int_equal(wire_encode_digest(&f->buf, 1, NULL,
					    WIRE_DIGEST_MAX + 1, &f->err),
			 RUMOR_EINVAL);
	assert_int_equal(f->buf.len, before);
}

static void test_entry_size_predicts_the_encoding(void **state)
{
	struct fixture *f = *state;
	struct wire_batch_builder b;
	struct wire_entry e = { .key = "key", .key_len = 3, .value = "v",
				.value_len = 1 };
	uint64_t vals[] = { 0, 23, 24, 255, 256, 65535, 65536, 1ull << 32,
			    UINT64_MAX };
	size_t i, before;

	assert_int_equal(wire_batch_begin(&b, &f->buf, UINT64_MAX, origin_a,
					  &f->err), 0);
	assert_true(wire_batch_bytes(&b) <= WIRE_BATCH_HEAD_MAX);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		e.seq = e.clock = e.wall_ms = vals[i];
		e.deleted = (int)(i & 1);
		e.value_len = e.deleted ? 0 : 1;
		before = wire_batch_bytes(&b);
		assert_int_equal(wire_batch_add(&b, &e, &f->err), 0);
		assert_int_equal(wire_batch_bytes(&b) - before,
				 wire_entry_size(&e));
	}
	wire_batch_end(&b);
	decode_ok(f);
	assert_int_equal(f->msg.u.batch.n, sizeof(vals) / sizeof(vals[0]));
}

/* ------------------------------------------------------------ measurements */

static void test_batch_overhead_is_small(void **state)
{
	struct fixture *f = *state;
	struct wire_batch_builder b;
	uint8_t key[16], val[100];
	struct wire_entry e = { .key = key, .key_len = sizeof(key),
				.value = val, .value_len = sizeof(val) };
	double per_entry, ratio;
	size_t i;

	memset(val, 'v', sizeof(val));
	assert_int_equal(wire_batch_begin(&b, &f->buf, 12345, origin_a,
					  &f->err), 0);
	for (i = 0; i < 1000; i++) {
		snprintf((char *)key, sizeof(key), "key-%011zu", i);
		e.seq = 1000000 + i;
		e.clock = 1 + i % 300;
		e.wall_ms = 1700000000000ull + i;
		assert_int_equal(wire_batch_add(&b, &e, &f->err), 0);
	}
	wire_batch_end(&b);
	per_entry = (double)f->buf.len / 1000.0;
	ratio = per_entry / (double)(sizeof(key) + sizeof(val));
	print_message("wire: 1000-entry batch, 16 B keys, 100 B values: "
		      "%zu bytes, %.2f bytes/entry, %.3fx key+value\n",
		      f->buf.len, per_entry, ratio);
	assert_true(ratio < 1.3);
	decode_ok(f);
	assert_int_equal(f->msg.u.batch.n, 1000);
	assert_int_equal(f->msg.u.batch.payload_bytes, 116000);
}

/* ------------------------------------------------------------ mbatches */

static void test_mbatch_round_trips_entries_of_several_origins(void **state)
{
	struct fixture *f = *state;
	struct wire_mbatch_builder *b = malloc(sizeof(*b));
	static const uint8_t *const origin_of[4] = {
		origin_b, origin_a, origin_b, origin_b,
	};
	struct wire_entry in[4] = {
		{ .seq = 9, .clock = 1, .wall_ms = 5, .key = "a", .key_len = 1,
		  .value = "x", .value_len = 1 },
		{ .seq = 2, .clock = UINT64_MAX, .wall_ms = UINT64_MAX,
		  .deleted = 1, .key = "b", .key_len = 1 },
		{ .seq = 1, .clock = 3, .wall_ms = 0, .key = "c", .key_len = 1,
		  .value = "", .value_len = 0 },
		{ .seq = UINT64_MAX, .clock = 4, .wall_ms = 1, .key = "d",
		  .key_len = 1, .value = "yy", .value_len = 2 },
	};
	const struct wire_mbatch *m;
	size_t i, before;

	assert_non_null(b);
	/* Appends after what is in the buffer already. */
	assert_int_equal(wire_encode_ping(&f->buf, 1, &f->err), 0);
	before = f->buf.len;
	assert_int_equal(wire_mbatch_begin(b, &f->buf, 7, &f->err), 0);
	for (i = 0; i < 4; i++) {
		size_t bytes = wire_mbatch_bytes(b);
		size_t size = wire_mbatch_entry_size(b, origin_of[i], &in[i]);

		assert_int_equal(wire_mbatch_add(b, origin_of[i], &in[i],
						 &f->err), 0);
		/* The size predicted is the size added, table row included. */
		assert_int_equal(wire_mbatch_bytes(b), bytes + size);
	}
	assert_int_equal(wire_mbatch_count(b), 4);
	assert_int_equal(wire_mbatch_payload(b), 2 + 1 + 1 + 3);
	i = wire_mbatch_bytes(b);
	wire_mbatch_end(b);
	assert_int_equal(f->buf.len - before, i);
	assert_int_equal(wire_decode(&f->dec, f->buf.data + before,
				     f->buf.len - before, &f->msg, &f->err), 0);
	assert_int_equal(f->msg.type, WIRE_MBATCH);
	m = &f->msg.u.mbatch;
	assert_int_equal(m->exchange_id, 7);
	assert_int_equal(m->n, 4);
	assert_int_equal(m->payload_bytes, 7);
	/* The table in order of first use. */
	assert_int_equal(m->n_origins, 2);
	assert_memory_equal(m->origins[0], origin_b, WIRE_ORIGIN_BYTES);
	assert_memory_equal(m->origins[1], origin_a, WIRE_ORIGIN_BYTES);
	for (i = 0; i < 4; i++) {
		const struct wire_entry *e = &m->entries[i];

		assert_memory_equal(m->origins[e->origin_index], origin_of[i],
				    WIRE_ORIGIN_BYTES);
		assert_true(e->seq == in[i].seq && e->clock == in[i].clock &&
			    e->wall_ms == in[i].wall_ms);
		assert_int_equal(e->deleted, in[i].deleted);
		assert_mem(e->key, e->key_len, in[i].key, in[i].key_len);
		assert_mem(e->value, e->value_len, in[i].value,
			   in[i].value_len);
	}
	free(b);
}

static void test_empty_mbatch_round_trips(void **state)
{
	struct fixture *f = *state;
	struct wire_mbatch_builder *b = malloc(sizeof(*b));

	assert_non_null(b);
	assert_int_equal(wire_mbatch_begin(b, &f->buf, 1, &f->err), 0);
	assert_int_equal(wire_mbatch_bytes(b), f->buf.len + 1);
	wire_mbatch_end(b);
	decode_ok(f);
	assert_int_equal(f->msg.type, WIRE_MBATCH);
	assert_int_equal(f->msg.u.mbatch.n, 0);
	assert_int_equal(f->msg.u.mbatch.n_origins, 0);
	free(b);
}

static void test_mbatch_table_holds_at_most_256_origins(void **state)
{
	struct fixture *f = *state;
	struct wire_mbatch_builder *b = malloc(sizeof(*b));
	struct wire_entry e = { .seq = 1, .clock = 1, .key = "k",
				.key_len = 1, .value = "v", .value_len = 1 };
	uint8_t origin[WIRE_ORIGIN_BYTES] = { 0 };
	size_t i, len;

	assert_non_null(b);
	assert_int_equal(wire_mbatch_begin(b, &f->buf, 1, &f->err), 0);
	for (i = 0; i < WIRE_MBATCH_ORIGINS_MAX; i++) {
		origin[0] = (uint8_t)i;
		origin[1] = (uint8_t)(i >> 8);
		assert_true(wire_mbatch_has_origin_room(b, origin));
		assert_int_equal(wire_mbatch_add(b, origin, &e, &f->err), 0);
	}
	/* A new origin no longer fits; a known one does. */
	origin[0] = 0;
	origin[1] = 1;
	assert_false(wire_mbatch_has_origin_room(b, origin));
	len = f->buf.len;
	assert_int_equal(wire_mbatch_add(b, origin, &e, &f->err),
			 RUMOR_EINVAL);
	assert_int_equal(f->buf.len, len);
	origin[0] = 7;
	origin[1] = 0;
	assert_true(wire_mbatch_has_origin_room(b, origin));
	assert_int_equal(wire_mbatch_add(b, origin, &e, &f->err), 0);
	len = wire_mbatch_bytes(b);
	wire_mbatch_end(b);
	assert_int_equal(f->buf.len, len);
	decode_ok(f);
	assert_int_equal(f->msg.u.mbatch.n_origins, WIRE_MBATCH_ORIGINS_MAX);
	assert_int_equal(f->msg.u.mbatch.n, WIRE_MBATCH_ORIGINS_MAX + 1);
	assert_int_equal(f->msg.u.mbatch.entries[WIRE_MBATCH_ORIGINS_MAX]
			 .origin_index, 7);
	free(b);
}

static void test_mbatch_add_refuses_bad_entries_and_cancel_restores(
	void **state)
{
	struct fixture *f = *state;
	struct wire_mbatch_builder *b = malloc(sizeof(*b));
	struct wire_entry e = { .seq = 1, .clock = 1, .key = "k",
				.key_len = 1, .value = "v", .value_len = 1 };
	struct wire_entry bad = e;
	size_t len;

	assert_non_null(b);
	assert_int_equal(wire_encode_ping(&f->buf, 1, &f->err), 0);
	len = f->buf.len;
	assert_int_equal(wire_mbatch_begin(b, &f->buf, 1, &f->err), 0);
	assert_int_equal(wire_mbatch_add(b, origin_a, &e, &f->err), 0);
	bad.key_len = 0;
	assert_int_equal(wire_mbatch_add(b, origin_b, &bad, &f->err),
			 RUMOR_EINVAL);
	bad = e;
	bad.deleted = 1;
	assert_int_equal(wire_mbatch_add(b, origin_b, &bad, &f->err),
			 RUMOR_EINVAL);
	assert_int_equal(wire_mbatch_add(b, NULL, &e, &f->err), RUMOR_EINVAL);
	/* The refused entries left no origin behind. */
	assert_int_equal(wire_mbatch_count(b), 1);
	assert_int_equal(b->n_origins, 1);
	wire_mbatch_cancel(b);
	assert_int_equal(f->buf.len, len);
	free(b);
}

static void test_encode_msg_refuses_a_bad_mbatch_table(void **state)
{
	struct fixture *f = *state;
	struct wire_entry e[2] = {
		{ .seq = 1, .clock = 1, .key = "k", .key_len = 1,
		  .value = "v", .value_len = 1, .origin_index = 0 },
		{ .seq = 2, .clock = 1, .key = "l", .key_len = 1,
		  .value = "v", .value_len = 1, .origin_index = 1 },
	};
	const uint8_t *dup[2] = { origin_a, origin_a };
	const uint8_t *two[2] = { origin_a, origin_b };
	struct wire_msg m;

	memset(&m, 0, sizeof(m));
	m.type = WIRE_MBATCH;
	m.u.mbatch.entries = e;
	m.u.mbatch.n = 2;
	m.u.mbatch.origins = dup;
	m.u.mbatch.n_origins = 2;
	assert_int_equal(wire_encode_msg(&f->buf, &m, &f->err), RUMOR_EINVAL);
	m.u.mbatch.origins = two;
	m.u.mbatch.n = 1;      /* origin_b unused */
	assert_int_equal(wire_encode_msg(&f->buf, &m, &f->err), RUMOR_EINVAL);
	m.u.mbatch.n = 2;
	m.u.mbatch.n_origins = 1;      /* index 1 out of range */
	assert_int_equal(wire_encode_msg(&f->buf, &m, &f->err), RUMOR_EINVAL);
	assert_int_equal(f->buf.len, 0);
	/* The good one round-trips in its table order. */
	m.u.mbatch.n_origins = 2;
	m.u.mbatch.exchange_id = 3;
	assert_int_equal(wire_encode_msg(&f->buf, &m, &f->err), 0);
	decode_ok(f);
	assert_int_equal(f->msg.u.mbatch.n, 2);
	assert_memory_equal(f->msg.u.mbatch.origins[1], origin_b,
			    WIRE_ORIGIN_BYTES);
	assert_int_equal(f->msg.u.mbatch.entries[1].origin_index, 1);
}

/* ------------------------------------------------------------ malformed input */

/* Every valid frame of the seed set, for the truncation and corpus tests. */
#define N_SAMPLES 10
struct sample {
	const char *name;
	struct wire_buf buf;
};

static void build_samples(struct sample s[N_SAMPLES])
{
	static const char *const names[N_SAMPLES] = {
		"hello", "digest", "batch", "ack", "done", "members", "ping",
		"pong", "bye", "mbatch",
	};
	struct wire_hello h = { .proto_version = WIRE_PROTO_VERSION,
				.listen_port = 7000, .mode = WIRE_MODE_PEER,
				.wall_ms = 1700000000000ull, .flags = 0 };
	struct wire_hwm hwms[2] = { { origin_a, 17 }, { origin_b, 300 } };
	struct wire_entry e[2] = {
		{ .seq = 17, .clock = 5, .wall_ms = 1700000000000ull,
		  .key = "greeting", .key_len = 8, .value = "hello\0world",
		  .value_len = 11 },
		{ .seq = 18, .clock = 6, .wall_ms = 1700000000001ull,
		  .deleted = 1, .key = "old", .key_len = 3 },
	};
	struct wire_member m[2] = {
		{ .node_id = origin_a, .host = "127.0.0.1", .host_len = 9,
		  .port = 7000, .state = WIRE_MEMBER_ALIVE, .age_ms = 10 },
		{ .node_id = origin_b, .host = "localhost", .host_len = 9,
		  .port = 7001, .state = WIRE_MEMBER_SUSPECT, .age_ms = 5000 },
	};
	struct wire_batch_builder b;
	struct wire_mbatch_builder *mb = malloc(sizeof(*mb));
	struct err err;
	size_t i;

	assert_non_null(mb);
	for (i = 0; i < N_SAMPLES; i++) {
		s[i].name = names[i];
		wire_buf_init(&s[i].buf);
	}
	assert_int_equal(wire_encode_hello(&s[0].buf, &h, &err), 0);
	assert_int_equal(wire_encode_digest(&s[1].buf, 42, hwms, 2, &err), 0);
	assert_int_equal(wire_batch_begin(&b, &s[2].buf, 42, origin_a, &err),
			 0);
	assert_int_equal(wire_batch_add(&b, &e[0], &err), 0);
	assert_int_equal(wire_batch_add(&b, &e[1], &err), 0);
	wire_batch_end(&b);
	assert_int_equal(wire_encode_ack(&s[3].buf, 42, 19, &err), 0);
	assert_int_equal(wire_encode_done(&s[4].buf, 42, hwms, 2, &err), 0);
	assert_int_equal(wire_encode_members(&s[5].buf, m, 2, &err), 0);
	assert_int_equal(wire_encode_ping(&s[6].buf, 0xfeed, &err), 0);
	assert_int_equal(wire_encode_pong(&s[7].buf, 0xfeed, &err), 0);
	assert_int_equal(wire_encode_bye(&s[8].buf, WIRE_BYE_NORMAL, &err), 0);
	assert_int_equal(wire_mbatch_begin(mb, &s[9].buf, 42, &err), 0);
	assert_int_equal(wire_mbatch_add(mb, origin_b, &e[1], &err), 0);
	assert_int_equal(wire_mbatch_add(mb, origin_a, &e[0], &err), 0);
	wire_mbatch_end(mb);
	free(mb);
}

static void free_samples(struct sample s[N_SAMPLES])
{
	size_t i;

	for (i = 0; i < N_SAMPLES; i++)
		wire_buf_free(&s[i].buf);
}

/* Each prefix of a valid frame is refused, from a copy sized exactly to
 * the prefix so that ASan catches any read past it. */
static void test_every_truncation_is_rejected(void **state)
{
	struct fixture *f = *state;
	struct sample s[N_SAMPLES];
	uint8_t *copy;
	size_t i, cut;

	build_samples(s);
	for (i = 0; i < N_SAMPLES; i++) {
		assert_int_equal(wire_decode(&f->dec, s[i].buf.data,
					     s[i].buf.len, &f->msg, &f->err), 0);
		for (cut = 0; cut < s[i].buf.len; cut++) {
			copy = malloc(cut ? cut : 1);
			assert_non_null(copy);
			memcpy(copy, s[i].buf.data, cut);
			if (wire_decode(&f->dec, copy, cut, &f->msg,
					&f->err) != RUMOR_EPROTO)
				fail_msg("%s cut at %zu was accepted",
					 s[i].name, cut);
			free(copy);
		}
	}
	free_samples(s);
}

/* Flipping any bit of a valid frame never crashes: it decodes or is
 * refused with RUMOR_EPROTO. */
static void test_bit_flips_never_crash(void **state)
{
	struct fixture *f = *state;
	struct sample s[N_SAMPLES];
	size_t i, byte;
	int bit, rv;

	build_samples(s);
	for (i = 0; i < N_SAMPLES; i++)
		for (byte = 0; byte < s[i].buf.len; byte++)
			for (bit = 0; bit < 8; bit++) {
				s[i].buf.data[byte] ^= (uint8_t)(1u << bit);
				rv = wire_decode(&f->dec, s[i].buf.data,
						 s[i].buf.len, &f->msg,
						 &f->err);
				assert_true(rv == 0 || rv == RUMOR_EPROTO);
				s[i].buf.data[byte] ^= (uint8_t)(1u << bit);
			}
	free_samples(s);
}

/* One malformed frame: a writer and a phrase the error must contain. */
struct bad_row {
	const char *name;
	void (*build)(struct tb *t);
	const char *says;
};

#define BAD(name) static void bad_##name(struct tb *t)

BAD(empty_input) { (void)t; }
BAD(top_level_uint) { tb_u(t, 7); }
BAD(top_level_map) { tb_head(t, 5, 0); }
BAD(top_level_break) { tb_byte(t, 0xff); }
BAD(array_of_one) { tb_arr(t, 1); tb_u(t, 7); }
BAD(type_zero) { tb_arr(t, 2); tb_u(t, 0); tb_u(t, 1); }
BAD(type_eleven) { tb_arr(t, 2); tb_u(t, 11); tb_u(t, 1); }
BAD(type_huge) { tb_arr(t, 2); tb_u(t, UINT64_MAX); tb_u(t, 1); }
BAD(type_as_text) { tb_arr(t, 2); tb_tstr(t, "7"); tb_u(t, 1); }
BAD(type_negative) { tb_arr(t, 2); tb_head(t, 1, 0); tb_u(t, 1); }
BAD(ping_three_items) { tb_arr(t, 3); tb_u(t, 7); tb_u(t, 1); tb_u(t, 2); }
BAD(ping_nonce_bytes) { tb_arr(t, 2); tb_u(t, 7); tb_bstr(t, 1, 1); }
BAD(ping_nonce_half_float)
{
	tb_arr(t, 2); tb_u(t, 7); tb_byte(t, 0xf9); tb_byte(t, 0x3e);
	tb_byte(t, 0x00);
}
BAD(ping_nonce_double)
{
	tb_arr(t, 2); tb_u(t, 7); tb_byte(t, 0xfb); tb_raw(t, "\0\0\0\0\0\0\0\0", 8);
}
BAD(ping_nonce_tagged) { tb_arr(t, 2); tb_u(t, 7); tb_head(t, 6, 1); tb_u(t, 5); }
BAD(pong_nonce_negative) { tb_arr(t, 2); tb_u(t, 8); tb_head(t, 1, 5); }
BAD(ping_trailing_byte) { tb_arr(t, 2); tb_u(t, 7); tb_u(t, 1); tb_u(t, 0); }
BAD(ping_reserved_info) { tb_arr(t, 2); tb_u(t, 7); tb_byte(t, 0x1c); }
BAD(ack_bytes_undefined) { tb_arr(t, 3); tb_u(t, 4); tb_u(t, 1); tb_byte(t, 0xf7); }
BAD(bye_reason_true) { tb_arr(t, 2); tb_u(t, 9); tb_byte(t, 0xf5); }
BAD(bye_reason_simple)
{
	tb_arr(t, 2); tb_u(t, 9); tb_byte(t, 0xf8); tb_byte(t, 0x20);
}
BAD(indefinite_top_array)
{
	tb_byte(t, 0x9f); tb_u(t, 7); tb_u(t, 1); tb_byte(t, 0xff);
}
BAD(huge_string_length)
{
	tb_arr(t, 2); tb_u(t, 7); tb_head(t, 2, UINT64_MAX / 2);
	tb_raw(t, "abc", 3);
}
BAD(hello_port_65536) { tb_hello(t, 65536, 0); }
BAD(hello_mode_two) { tb_hello(t, 80, 2); }
BAD(hello_missing_flags)
{
	tb_arr(t, 5); tb_u(t, 1); tb_u(t, 1); tb_u(t, 80); tb_u(t, 0);
	tb_u(t, 0);
}
BAD(hello_extra_field)
{
	tb_arr(t, 7); tb_u(t, 1); tb_u(t, 1); tb_u(t, 80); tb_u(t, 0);
	tb_u(t, 0); tb_u(t, 0); tb_u(t, 0);
}
BAD(digest_origin_31)
{
	tb_digest_head(t, 1); tb_arr(t, 2); tb_bstr(t, 31, 1); tb_u(t, 1);
	tb_pad(t, 1);
}
BAD(digest_origin_33)
{
	tb_digest_head(t, 1); tb_arr(t, 2); tb_bstr(t, 33, 1); tb_u(t, 1);
}
BAD(digest_origin_text)
{
	tb_digest_head(t, 1); tb_arr(t, 2);
	tb_tstr(t, "0123456789abcdef0123456789abcdef"); tb_u(t, 1);
}
BAD(digest_pair_of_three)
{
	tb_digest_head(t, 1); tb_arr(t, 3); tb_bstr(t, 32, 1); tb_u(t, 1);
	tb_u(t, 1);
}
BAD(digest_hwm_nested_too_deep)
{
	tb_digest_head(t, 1); tb_arr(t, 2); tb_bstr(t, 32, 1); tb_arr(t, 1);
	tb_u(t, 1);
}
BAD(digest_count_beyond_input) { tb_digest_head(t, 65536); }
BAD(digest_count_over_limit) { tb_digest_head(t, WIRE_DIGEST_MAX + 1); }
BAD(digest_count_2_pow_63) { tb_digest_head(t, 1ull << 63); }
BAD(digest_indefinite_list)
{
	tb_arr(t, 3); tb_u(t, 2); tb_u(t, 1); tb_byte(t, 0x9f); tb_byte(t, 0xff);
}
BAD(batch_missing_origin)
{
	tb_arr(t, 3); tb_u(t, 3); tb_u(t, 1); tb_arr(t, 0);
}
BAD(batch_origin_31)
{
	tb_arr(t, 4); tb_u(t, 3); tb_u(t, 1); tb_bstr(t, 31, 0); tb_arr(t, 0);
}
BAD(batch_origin_indefinite)
{
	tb_arr(t, 4); tb_u(t, 3); tb_u(t, 1); tb_byte(t, 0x5f);
	tb_bstr(t, 32, 0); tb_byte(t, 0xff); tb_arr(t, 0);
}
BAD(batch_entry_of_five)
{
	tb_batch_head(t, 1); tb_arr(t, 5); tb_u(t, 1); tb_u(t, 1); tb_u(t, 1);
	tb_u(t, 0); tb_bstr(t, 1, 'k'); tb_pad(t, 1);
}
BAD(batch_entry_as_map) { tb_batch_head(t, 1); tb_head(t, 5, 0); tb_pad(t, 8); }
BAD(batch_key_empty)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_bstr(t, 0, 0);
	tb_bstr(t, 1, 'v');
}
BAD(batch_key_too_long)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0);
	tb_bstr(t, WIRE_KEY_MAX + 1, 'k'); tb_bstr(t, 1, 'v');
}
BAD(batch_key_text)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_tstr(t, "k");
	tb_bstr(t, 1, 'v');
}
BAD(batch_value_too_long)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_bstr(t, 1, 'k');
	tb_bstr(t, WIRE_VALUE_MAX + 1, 'v');
}
BAD(batch_value_on_deleted)
{
	tb_batch_head(t, 1); tb_entry_head(t, WIRE_ENTRY_DELETED);
	tb_bstr(t, 1, 'k'); tb_bstr(t, 1, 'v');
}
BAD(batch_empty_value_on_deleted)
{
	tb_batch_head(t, 1); tb_entry_head(t, WIRE_ENTRY_DELETED);
	tb_bstr(t, 1, 'k'); tb_bstr(t, 0, 0);
}
BAD(batch_null_on_live)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_bstr(t, 1, 'k');
	tb_byte(t, 0xf6);
}
BAD(batch_unknown_flag)
{
	tb_batch_head(t, 1); tb_entry_head(t, 2); tb_bstr(t, 1, 'k');
	tb_bstr(t, 1, 'v');
}
BAD(batch_value_indefinite)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_bstr(t, 1, 'k');
	tb_byte(t, 0x5f); tb_bstr(t, 1, 'v'); tb_byte(t, 0xff);
}
BAD(batch_seq_nested_too_deep)
{
	tb_batch_head(t, 1); tb_arr(t, 6); tb_arr(t, 1); tb_u(t, 1);
	tb_u(t, 1); tb_u(t, 1); tb_u(t, 0); tb_bstr(t, 1, 'k');
	tb_bstr(t, 1, 'v');
}
BAD(batch_count_beyond_input) { tb_batch_head(t, 60000); tb_bstr(t, 100, 0); }
BAD(batch_count_over_limit) { tb_batch_head(t, WIRE_BATCH_MAX + 1); }
BAD(batch_fewer_entries_than_count)
{
	size_t i;

	tb_batch_head(t, 3);
	for (i = 0; i < 2; i++) {
		tb_entry_head(t, 0); tb_bstr(t, 1, 'k'); tb_bstr(t, 1, 'v');
	}
	tb_raw(t, "\0\0\0\0\0\0\0\0\0\0", 10);
}
BAD(members_port_65536)
{
	tb_members_head(t); tb_tstr(t, "h"); tb_u(t, 65536); tb_u(t, 0);
	tb_u(t, 0);
}
BAD(members_state_three)
{
	tb_members_head(t); tb_tstr(t, "h"); tb_u(t, 1); tb_u(t, 3);
	tb_u(t, 0);
}
BAD(members_host_empty)
{
	tb_members_head(t); tb_tstr(t, ""); tb_u(t, 1); tb_u(t, 0);
	tb_u(t, 0); tb_pad(t, 1);
}
BAD(members_host_256)
{
	char host[257];

	memset(host, 'h', 256);
	host[256] = '\0';
	tb_members_head(t); tb_tstr(t, host); tb_u(t, 1); tb_u(t, 0);
	tb_u(t, 0);
}
BAD(members_host_bytes)
{
	tb_members_head(t); tb_bstr(t, 1, 'h'); tb_u(t, 1); tb_u(t, 0);
	tb_u(t, 0);
}
BAD(members_host_nul)
{
	tb_members_head(t); tb_head(t, 3, 3); tb_raw(t, "a\0b", 3);
	tb_u(t, 1); tb_u(t, 0); tb_u(t, 0);
}
BAD(members_host_indefinite)
{
	tb_members_head(t); tb_byte(t, 0x7f); tb_tstr(t, "h"); tb_byte(t, 0xff);
	tb_u(t, 1); tb_u(t, 0); tb_u(t, 0);
}
BAD(members_node_id_31)
{
	tb_arr(t, 2); tb_u(t, WIRE_MEMBERS); tb_arr(t, 1); tb_arr(t, 5);
	tb_bstr(t, 31, 1); tb_tstr(t, "h"); tb_u(t, 1); tb_u(t, 0);
	tb_u(t, 0); tb_pad(t, 1);
}
BAD(members_count_over_limit)
{
	tb_arr(t, 2); tb_u(t, WIRE_MEMBERS); tb_arr(t, WIRE_MEMBERS_MAX + 1);
}

/* An MBATCH of one entry whose origin index is index, then a table of
 * n origins filled 1, 2, ... */
static void tb_mbatch(struct tb *t, uint64_t index, uint64_t n)
{
	uint64_t i;

	tb_arr(t, 4);
	tb_u(t, WIRE_MBATCH);
	tb_u(t, 42);
	tb_arr(t, 1);
	tb_arr(t, 7);
	tb_u(t, index);
	tb_u(t, 7);
	tb_u(t, 3);
	tb_u(t, 1700000000000ull);
	tb_u(t, 0);
	tb_bstr(t, 1, 'k');
	tb_bstr(t, 1, 'v');
	tb_arr(t, n);
	for (i = 0; i < n; i++)
		tb_bstr(t, WIRE_ORIGIN_BYTES, (uint8_t)(i + 1));
}

BAD(mbatch_index_out_of_range) { tb_mbatch(t, 1, 1); }
BAD(mbatch_index_over_limit) { tb_mbatch(t, WIRE_MBATCH_ORIGINS_MAX, 1); }
BAD(mbatch_unused_origin) { tb_mbatch(t, 0, 2); }
BAD(mbatch_empty_table) { tb_mbatch(t, 0, 0); }
BAD(mbatch_duplicate_origin)
{
	tb_mbatch(t, 0, 1);
	t->b[t->n - WIRE_ORIGIN_BYTES - 3] = 0x82;   /* table of 2 */
	tb_bstr(t, WIRE_ORIGIN_BYTES, 1);
}
BAD(mbatch_entry_of_six)
{
	tb_arr(t, 4); tb_u(t, WIRE_MBATCH); tb_u(t, 42); tb_arr(t, 1);
	tb_entry_head(t, 0); tb_bstr(t, 1, 'k'); tb_bstr(t, 1, 'v');
	tb_arr(t, 0);
}
BAD(mbatch_origin_31)
{
	tb_mbatch(t, 0, 0);
	t->b[t->n - 1] = 0x81;
	tb_bstr(t, 31, 1);
	tb_pad(t, 1);
}
BAD(mbatch_table_over_limit)
{
	tb_mbatch(t, 0, 0);
	t->n--;
	tb_arr(t, WIRE_MBATCH_ORIGINS_MAX + 1);
	tb_pad(t, 34 * (WIRE_MBATCH_ORIGINS_MAX + 1));
}
BAD(mbatch_missing_table)
{
	tb_arr(t, 3); tb_u(t, WIRE_MBATCH); tb_u(t, 42); tb_arr(t, 0);
}
BAD(mbatch_deleted_with_value)
{
	tb_arr(t, 4); tb_u(t, WIRE_MBATCH); tb_u(t, 42); tb_arr(t, 1);
	tb_arr(t, 7); tb_u(t, 0); tb_u(t, 7); tb_u(t, 3); tb_u(t, 1);
	tb_u(t, WIRE_ENTRY_DELETED); tb_bstr(t, 1, 'k'); tb_bstr(t, 1, 'v');
	tb_arr(t, 1); tb_bstr(t, WIRE_ORIGIN_BYTES, 1);
}

#define ROW(name, says) { #name, bad_##name, says }

static const struct bad_row bad_rows[] = {
	ROW(empty_input, "truncated"),
	ROW(top_level_uint, "expected an array, got an unsigned int"),
	ROW(top_level_map, "got a map"),
	ROW(top_level_break, "got a break"),
	ROW(array_of_one, "array of 1 items"),
	ROW(type_zero, "message type 0 unknown"),
	ROW(type_eleven, "message type 11 unknown"),
	ROW(type_huge, "unknown"),
	ROW(type_as_text, "message type at byte 1: expected an unsigned int, got a text string"),
	ROW(type_negative, "got a negative int"),
	ROW(ping_three_items, "PING head at byte 0: array of 3 items, want 2"),
	ROW(ping_nonce_bytes, "PING nonce at byte 2: expected an unsigned int, got a byte string"),
	ROW(ping_nonce_half_float, "got a float"),
	ROW(ping_nonce_double, "got a float"),
	ROW(ping_nonce_tagged, "got a tag"),
	ROW(pong_nonce_negative, "PONG nonce"),
	ROW(ping_trailing_byte, "1 trailing bytes"),
	ROW(ping_reserved_info, "malformed"),
	ROW(ack_bytes_undefined, "ACK bytes at byte 3: expected an unsigned int, got undefined"),
	ROW(bye_reason_true, "got a boolean"),
	ROW(bye_reason_simple, "BYE reason"),
	ROW(indefinite_top_array, "got an indefinite-length array"),
	ROW(huge_string_length, "truncated"),
	ROW(hello_port_65536, "HELLO listen_port at byte 3: value 65536 exceeds 65535"),
	ROW(hello_mode_two, "HELLO mode"),
	ROW(hello_missing_flags, "array of 5 items, want 6"),
	ROW(hello_extra_field, "array of 7 items, want 6"),
	ROW(digest_origin_31, "DIGEST hwm 0 origin at byte 6: byte string of 31 bytes, want 32"),
	ROW(digest_origin_33, "byte string of 33 bytes, want 32"),
	ROW(digest_origin_text, "expected a byte string, got a text string"),
	ROW(digest_pair_of_three, "DIGEST hwm 0 pair"),
	ROW(digest_hwm_nested_too_deep, "DIGEST hwm 0 hwm at byte 40: expected an unsigned int, got an array"),
	ROW(digest_count_beyond_input, "cannot fit"),
	ROW(digest_count_over_limit, "65537 items"),
	ROW(digest_count_2_pow_63, "items"),
	ROW(digest_indefinite_list, "indefinite-length array"),
	ROW(batch_missing_origin, "BATCH head at byte 0: array of 3 items, want 4"),
	ROW(batch_origin_31, "BATCH origin"),
	ROW(batch_origin_indefinite, "indefinite-length byte string"),
	ROW(batch_entry_of_five, "BATCH entry 0 fields"),
	ROW(batch_entry_as_map, "BATCH entry 0 fields"),
	ROW(batch_key_empty, "BATCH entry 0 key"),
	ROW(batch_key_too_long, "byte string of 4097 bytes"),
	ROW(batch_key_text, "BATCH entry 0 key"),
	ROW(batch_value_too_long, "exceeds 1048576"),
	ROW(batch_value_on_deleted, "deleted entry carries a byte string"),
	ROW(batch_empty_value_on_deleted, "deleted entry carries"),
	ROW(batch_null_on_live, "live entry has a null value"),
	ROW(batch_unknown_flag, "unknown bits"),
	ROW(batch_value_indefinite, "indefinite-length byte string"),
	ROW(batch_seq_nested_too_deep, "BATCH entry 0 seq"),
	ROW(batch_count_beyond_input, "cannot fit"),
	ROW(batch_count_over_limit, "65537"),
	ROW(batch_fewer_entries_than_count, "BATCH entry 2"),
	ROW(members_port_65536, "MEMBERS member 0 port"),
	ROW(members_state_three, "MEMBERS member 0 state"),
	ROW(members_host_empty, "text string of 0 bytes"),
	ROW(members_host_256, "text string of 256 bytes"),
	ROW(members_host_bytes, "expected a text string"),
	ROW(members_host_nul, "NUL"),
	ROW(members_host_indefinite, "indefinite-length text string"),
	ROW(members_node_id_31, "MEMBERS member 0 node_id"),
	ROW(members_count_over_limit, "4097 items"),
	ROW(mbatch_index_out_of_range, "MBATCH entry 0 origin_index at byte 24: index 1 outside a table of 1 origins"),
	ROW(mbatch_index_over_limit, "MBATCH entry 0 origin_index at byte 6: value 256 exceeds 255"),
	ROW(mbatch_unused_origin, "MBATCH origin 1 origin"),
	ROW(mbatch_empty_table, "outside a table of 0 origins"),
	ROW(mbatch_duplicate_origin, "MBATCH origin 1 origin at byte 58: repeats origin 0"),
	ROW(mbatch_entry_of_six, "MBATCH entry 0 fields at byte 5: array of 6 items, want 7"),
	ROW(mbatch_origin_31, "MBATCH origin 0 origin"),
	ROW(mbatch_table_over_limit, "257 items"),
	ROW(mbatch_missing_table, "MBATCH head at byte 0: array of 3 items, want 4"),
	ROW(mbatch_deleted_with_value, "MBATCH entry 0 value"),
};

static void test_malformed_frames_are_rejected(void **state)
{
	struct fixture *f = *state;
	struct tb t;
	uint8_t *copy;
	size_t i;
	int rv, failures = 0;

	assert_true(sizeof(bad_rows) / sizeof(bad_rows[0]) >= 25);
	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		memset(&t, 0, sizeof(t));
		bad_rows[i].build(&t);
		/* an exact-size copy, so ASan sees any overread */
		copy = malloc(t.n ? t.n : 1);
		assert_non_null(copy);
		if (t.n > 0)
			memcpy(copy, t.b, t.n);
		memset(&f->err, 0, sizeof(f->err));
		rv = wire_decode(&f->dec, copy, t.n, &f->msg, &f->err);
		if (rv != RUMOR_EPROTO || f->err.code != RUMOR_EPROTO) {
			print_error("%s: got %d, want RUMOR_EPROTO\n",
				    bad_rows[i].name, rv);
			failures++;
		} else if (strstr(f->err.msg, bad_rows[i].says) == NULL) {
			print_error("%s: message \"%s\" lacks \"%s\"\n",
				    bad_rows[i].name, f->err.msg,
				    bad_rows[i].says);
			failures++;
		}
		free(copy);
		free(t.b);
	}
	assert_int_equal(failures, 0);
}

/* A list count the input cannot hold is refused before any allocation:
 * the decoder's storage stays empty. */
static void test_oversized_counts_allocate_nothing(void **state)
{
	struct fixture *f = *state;
	struct tb t = { 0 };

	tb_batch_head(&t, 60000);
	tb_bstr(&t, 1000, 0);
	assert_int_equal(wire_decode(&f->dec, t.b, t.n, &f->msg, &f->err),
			 RUMOR_EPROTO);
	assert_int_equal(f->dec.entries_cap, 0);
	assert_null(f->dec.entries);
	free(t.b);
}

/* Integers (and list heads) with longer heads than needed decode. */
static void test_non_minimal_integers_are_accepted(void **state)
{
	struct fixture *f = *state;
	static const uint8_t ping[] = {
		0x82, 0x18, 0x07, 0x1b, 0, 0, 0, 0, 0, 0, 0, 5,
	};
	struct tb t = { 0 };

	assert_int_equal(wire_decode(&f->dec, ping, sizeof(ping), &f->msg,
				     &f->err), 0);
	assert_int_equal(f->msg.type, WIRE_PING);
	assert_int_equal(f->msg.u.nonce, 5);

	tb_arr(&t, 3);
	tb_u(&t, WIRE_DONE);
	tb_byte(&t, 0x19);      /* exchange id 1 in a 2-byte head */
	tb_raw(&t, "\0\1", 2);
	tb_byte(&t, 0x98);      /* an empty list with a 1-byte count */
	tb_byte(&t, 0);
	assert_int_equal(wire_decode(&f->dec, t.b, t.n, &f->msg, &f->err), 0);
	assert_int_equal(f->msg.type, WIRE_DONE);
	assert_int_equal(f->msg.u.digest.exchange_id, 1);
	assert_int_equal(f->msg.u.digest.n, 0);
	free(t.b);
}

/* Writes or compares one seed file under the source tree. */
static void seed_file(const char *rel, const struct wire_buf *b, int write)
{
	char path[512];
	uint8_t buf[4096];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", RUMOR_TOP_SRCDIR, rel);
	fp = fopen(path, write ? "wb" : "rb");
	if (fp == NULL)
		fail_msg("cannot open %s (RUMOR_WRITE_CORPUS=1 writes it)",
			 path);
	if (write) {
		assert_int_equal(fwrite(b->data, 1, b->len, fp), b->len);
		assert_int_equal(fclose(fp), 0);
		return;
	}
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_mem(buf, n, b->data, b->len);
}

/* The seed corpus of the fuzz target is exactly what the encoder writes;
 * RUMOR_WRITE_CORPUS=1 rewrites it after an intended format change. */
static void test_seed_corpus_matches_the_encoder(void **state)
{
	struct sample s[N_SAMPLES];
	char rel[128];
	size_t i;
	int write = getenv("RUMOR_WRITE_CORPUS") != NULL;

	(void)state;
	build_samples(s);
	for (i = 0; i < N_SAMPLES; i++) {
		snprintf(rel, sizeof(rel), "tests/fuzz/corpus/wire/%s.cbor",
			 s[i].name);
		seed_file(rel, &s[i].buf, write);
	}
	free_samples(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_hello_round_trips),
		T(test_digest_and_done_round_trip_empty_and_full),
		T(test_batch_round_trips_binary_and_deleted_entries),
		T(test_batch_round_trips_max_key_and_value),
		T(test_empty_batch_round_trips),
		T(test_batch_appends_after_existing_bytes),
		T(test_cancelled_batch_leaves_the_buffer_as_it_was),
		T(test_small_messages_round_trip),
		T(test_members_round_trip),
		T(test_encode_msg_reproduces_decoded_frames),
		T(test_entry_to_version_fills_every_field),
		T(test_batch_add_version_round_trips_and_checks_origin),
		T(test_encoders_refuse_arguments_outside_the_limits),
		T(test_entry_size_predicts_the_encoding),
		T(test_batch_overhead_is_small),
		T(test_mbatch_round_trips_entries_of_several_origins),
		T(test_empty_mbatch_round_trips),
		T(test_mbatch_table_holds_at_most_256_origins),
		T(test_mbatch_add_refuses_bad_entries_and_cancel_restores),
		T(test_encode_msg_refuses_a_bad_mbatch_table),
		T(test_every_truncation_is_rejected),
		T(test_bit_flips_never_crash),
		T(test_malformed_frames_are_rejected),
		T(test_oversized_counts_allocate_nothing),
		T(test_non_minimal_integers_are_accepted),
		T(test_seed_corpus_matches_the_encoder),
#undef T
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
