/* SPDX-License-Identifier: MIT */
/* The fixture of the wire unit tests (contracts in test_wire_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_wire_fixture.h"

const uint8_t origin_a[WIRE_ORIGIN_BYTES] = {
	0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 0xa1,
};
const uint8_t origin_b[WIRE_ORIGIN_BYTES] = { 0xbb, 0, 0xbb };

int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	wire_buf_init(&f->buf);
	wire_decoder_init(&f->dec);
	*state = f;
	return 0;
}

int teardown(void **state)
{
	struct fixture *f = *state;

	wire_buf_free(&f->buf);
	wire_decoder_free(&f->dec);
	free(f);
	return 0;
}

void decode_ok(struct fixture *f)
{
	int rv = wire_decode(&f->dec, f->buf.data, f->buf.len, &f->msg,
			     &f->err);

	if (rv != 0)
		fail_msg("decode failed (%d): %s", rv, f->err.msg);
}

void assert_mem(const void *a, size_t alen, const void *b, size_t blen)
{
	assert_int_equal(alen, blen);
	if (alen > 0)
		assert_memory_equal(a, b, alen);
}

const uint8_t txid_a[WIRE_TXID_BYTES] = {
	0x7a, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xff, 0x7b,
};

/* Two participants (origin_a, origin_b), a binary put and a delete. */
const struct wire_op sample_ops[2] = {
	{ .key = (const uint8_t *)"k\0\xff", .key_len = 3,
	  .value = (const uint8_t *)"v\0\x80\xff", .value_len = 4 },
	{ .deleted = 1, .key = (const uint8_t *)"gone", .key_len = 4 },
};

void sample_participants(uint8_t out[2 * WIRE_NODE_ID_BYTES])
{
	memcpy(out, origin_a, WIRE_NODE_ID_BYTES);
	memcpy(out + WIRE_NODE_ID_BYTES, origin_b, WIRE_NODE_ID_BYTES);
}

/* PREPARE, a yes VOTE, COMMIT, COMMITTED, ABORT, ASK and a committed
 * ANSWER of one transaction, into s[0..7). */
static void build_strong_samples(struct sample *s)
{
	static const uint64_t voted[2] = { 0, 9 }, committed[2] = { 10, 10 };
	uint8_t parts[2 * WIRE_NODE_ID_BYTES];
	struct wire_strong m = { .txid = txid_a };
	struct err err;

	sample_participants(parts);
	m.ttl_ms = 2500;
	m.participants = parts;
	m.n_participants = 2;
	m.ops = sample_ops;
	m.n_ops = 2;
	assert_int_equal(wire_encode_strong(&s[0].buf, WIRE_PREPARE, &m,
					    &err), 0);
	memset(&m, 0, sizeof(m));
	m.txid = txid_a;
	m.yes = 1;
	m.clocks = voted;
	m.n_clocks = 2;
	assert_int_equal(wire_encode_strong(&s[1].buf, WIRE_VOTE, &m, &err),
			 0);
	m.yes = 0;
	m.first_seq = 100;
	m.wall_ms = 1700000000002ull;
	m.clocks = committed;
	assert_int_equal(wire_encode_strong(&s[2].buf, WIRE_COMMIT, &m,
					    &err), 0);
	assert_int_equal(wire_encode_strong(&s[3].buf, WIRE_COMMITTED, &m,
					    &err), 0);
	assert_int_equal(wire_encode_strong(&s[4].buf, WIRE_ABORT, &m, &err),
			 0);
	m.coordinator = origin_a;
	assert_int_equal(wire_encode_strong(&s[5].buf, WIRE_ASK, &m, &err), 0);
	m.state = WIRE_TX_COMMITTED;
	assert_int_equal(wire_encode_strong(&s[6].buf, WIRE_ANSWER, &m,
					    &err), 0);
}

void build_samples(struct sample s[N_SAMPLES])
{
	static const char *const names[N_SAMPLES] = {
		"hello", "digest", "batch", "ack", "done", "members", "ping",
		"pong", "bye", "mbatch", "prepare", "vote", "commit",
		"committed", "abort", "ask", "answer", "why_ask",
		"why_answer",
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
	build_strong_samples(s + 10);
	build_why_samples(s + 17);
}

void build_why_samples(struct sample *s)
{
	static const uint64_t hwms[2] = { 17, 300 };
	const uint8_t *origins[2] = { origin_a, origin_b };
	uint8_t hash[WIRE_WHY_HASH_BYTES];
	struct wire_why m = { .id = 7, .key = (const uint8_t *)"k\0y",
			      .key_len = 3, .origins = origins,
			      .n_origins = 2 };
	struct err err;

	memset(hash, 0xa5, sizeof hash);
	assert_int_equal(wire_encode_why(&s[0].buf, WIRE_WHY_ASK, &m, &err),
			 0);
	memset(&m, 0, sizeof m);
	m.id = 7;
	m.found = 1;
	m.clock = 3;
	m.origin = origin_b;
	m.seq = 300;
	m.wall_ms = 1700000000003ull;
	m.value = (const uint8_t *)"v\0\xff";
	m.value_len = 3;
	m.hash = hash;
	m.symmetry_violations = 2;
	m.resolver = "larger-value";
	m.resolver_len = 12;
	m.hwms = hwms;
	m.n_hwms = 2;
	assert_int_equal(wire_encode_why(&s[1].buf, WIRE_WHY_ANSWER, &m,
					 &err), 0);
}

void free_samples(struct sample s[N_SAMPLES])
{
	size_t i;

	for (i = 0; i < N_SAMPLES; i++)
		wire_buf_free(&s[i].buf);
}

/* ------------------------------------------------------------ a CBOR writer
 * for hand-made frames: minimal heads unless told otherwise. */

void tb_raw(struct tb *t, const void *p, size_t n)
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

void tb_byte(struct tb *t, uint8_t v)
{
	tb_raw(t, &v, 1);
}

void tb_head(struct tb *t, int major, uint64_t v)
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

void tb_u(struct tb *t, uint64_t v)
{
	tb_head(t, 0, v);
}

void tb_arr(struct tb *t, uint64_t n)
{
	tb_head(t, 4, n);
}

void tb_bstr(struct tb *t, size_t len, uint8_t fill)
{
	size_t i;

	tb_head(t, 2, len);
	for (i = 0; i < len; i++)
		tb_byte(t, fill);
}

void tb_pad(struct tb *t, size_t n)
{
	while (n-- > 0)
		tb_byte(t, 0);
}

void tb_tstr(struct tb *t, const char *s)
{
	tb_head(t, 3, strlen(s));
	tb_raw(t, s, strlen(s));
}

/* ------------------------------------------------------------ bad rows */

void run_bad_rows(struct fixture *f, const struct bad_row *rows, size_t n)
{
	struct tb t;
	uint8_t *copy;
	size_t i;
	int rv, failures = 0;

	for (i = 0; i < n; i++) {
		memset(&t, 0, sizeof(t));
		rows[i].build(&t);
		/* an exact-size copy, so ASan sees any overread */
		copy = malloc(t.n ? t.n : 1);
		assert_non_null(copy);
		if (t.n > 0)
			memcpy(copy, t.b, t.n);
		memset(&f->err, 0, sizeof(f->err));
		rv = wire_decode(&f->dec, copy, t.n, &f->msg, &f->err);
		if (rv != RUMOR_EPROTO || f->err.code != RUMOR_EPROTO) {
			print_error("%s: got %d, want RUMOR_EPROTO\n",
				    rows[i].name, rv);
			failures++;
		} else if (strstr(f->err.msg, rows[i].says) == NULL) {
			print_error("%s: message \"%s\" lacks \"%s\"\n",
				    rows[i].name, f->err.msg, rows[i].says);
			failures++;
		}
		free(copy);
		free(t.b);
	}
	assert_int_equal(failures, 0);
}
