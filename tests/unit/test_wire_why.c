/* SPDX-License-Identifier: MIT */
/*
 * test_wire_why: WHY_ASK and WHY_ANSWER (`rumorctl why`) round trip with
 * binary keys and values; the encoder refuses what breaks the grammar
 * (nothing appended); the decoder refuses every malformed frame, naming
 * the field, and allocates nothing for counts the input cannot hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_wire_fixture.h"

static uint8_t hash_a[WIRE_WHY_HASH_BYTES];
static const uint64_t hwms_ab[2] = { 17, 300 };

/* A found answer with a small value, every field set. */
static struct wire_why answer_sample(void)
{
	struct wire_why m = {
		.id = UINT64_MAX, .found = 1, .clock = 9, .origin = origin_a,
		.seq = 5, .wall_ms = 1700000000000ull,
		.value = (const uint8_t *)"v\0\x80", .value_len = 3,
		.hash = hash_a, .symmetry_violations = 4,
		.resolver = "default", .resolver_len = 7, .hwms = hwms_ab,
		.n_hwms = 2,
	};

	memset(hash_a, 0x3c, sizeof hash_a);
	return m;
}

static void round_trip(struct fixture *f, enum wire_type type,
		       const struct wire_why *m)
{
	wire_buf_reset(&f->buf);
	if (wire_encode_why(&f->buf, type, m, &f->err) != 0)
		fail_msg("encode %s: %s", wire_type_name((int)type),
			 f->err.msg);
	decode_ok(f);
	assert_int_equal(f->msg.type, type);
}

/* ------------------------------------------------------------ round trips */

static void test_ask_round_trips_binary_key_and_origins(void **state)
{
	struct fixture *f = *state;
	const uint8_t *origins[2] = { origin_a, origin_b };
	struct wire_why m = { .id = 42, .key = (const uint8_t *)"\0k\xff",
			      .key_len = 3, .origins = origins,
			      .n_origins = 2 };
	const struct wire_why *g = &f->msg.u.why;

	round_trip(f, WIRE_WHY_ASK, &m);
	assert_int_equal(g->id, 42);
	assert_mem(g->key, g->key_len, "\0k\xff", 3);
	assert_int_equal(g->n_origins, 2);
	assert_mem(g->origins[0], WIRE_ORIGIN_BYTES, origin_a,
		   WIRE_ORIGIN_BYTES);
	assert_mem(g->origins[1], WIRE_ORIGIN_BYTES, origin_b,
		   WIRE_ORIGIN_BYTES);
	/* without origins, and with a maximal key */
	m.n_origins = 0;
	m.origins = NULL;
	m.key = malloc(WIRE_KEY_MAX);
	assert_non_null(m.key);
	memset((uint8_t *)m.key, 'k', WIRE_KEY_MAX);
	m.key_len = WIRE_KEY_MAX;
	round_trip(f, WIRE_WHY_ASK, &m);
	assert_int_equal(g->key_len, WIRE_KEY_MAX);
	assert_int_equal(g->n_origins, 0);
	free((uint8_t *)m.key);
}

static void test_answer_round_trips_every_field(void **state)
{
	struct fixture *f = *state;
	struct wire_why m = answer_sample();
	const struct wire_why *g = &f->msg.u.why;

	round_trip(f, WIRE_WHY_ANSWER, &m);
	assert_int_equal(g->id, UINT64_MAX);
	assert_true(g->found);
	assert_int_equal(g->clock, 9);
	assert_mem(g->origin, WIRE_ORIGIN_BYTES, origin_a, WIRE_ORIGIN_BYTES);
	assert_int_equal(g->seq, 5);
	assert_int_equal(g->wall_ms, 1700000000000ull);
	assert_false(g->deleted);
	assert_false(g->outside);
	assert_int_equal(g->value_len, 3);
	assert_mem(g->value, 3, "v\0\x80", 3);
	assert_mem(g->hash, WIRE_WHY_HASH_BYTES, hash_a, WIRE_WHY_HASH_BYTES);
	assert_int_equal(g->symmetry_violations, 4);
	assert_mem(g->resolver, g->resolver_len, "default", 7);
	assert_int_equal(g->n_hwms, 2);
	assert_int_equal(g->hwms[0], 17);
	assert_int_equal(g->hwms[1], 300);
}

static void test_answers_without_a_carried_value_round_trip(void **state)
{
	struct fixture *f = *state;
	struct wire_why m = answer_sample();
	const struct wire_why *g = &f->msg.u.why;

	/* a deletion: no value, value_len 0 */
	m.deleted = 1;
	m.value = NULL;
	m.value_len = 0;
	round_trip(f, WIRE_WHY_ANSWER, &m);
	assert_true(g->deleted);
	assert_null(g->value);
	/* a value too large to carry: its length, no bytes */
	m.deleted = 0;
	m.value_len = WIRE_WHY_VALUE_MAX + 1;
	round_trip(f, WIRE_WHY_ANSWER, &m);
	assert_null(g->value);
	assert_int_equal(g->value_len, WIRE_WHY_VALUE_MAX + 1);
	/* nothing found; then outside the replicate set */
	memset(&m, 0, sizeof m);
	m.id = 1;
	m.resolver = "r";
	m.resolver_len = 1;
	round_trip(f, WIRE_WHY_ANSWER, &m);
	assert_false(g->found);
	assert_null(g->origin);
	assert_null(g->hash);
	assert_null(g->value);
	m.outside = 1;
	round_trip(f, WIRE_WHY_ANSWER, &m);
	assert_true(g->outside);
	assert_false(g->found);
}

static void test_encode_msg_reproduces_why_frames(void **state)
{
	struct fixture *f = *state;
	struct sample s[2];
	struct wire_buf again;
	size_t i;

	for (i = 0; i < 2; i++)
		wire_buf_init(&s[i].buf);
	build_why_samples(s);
	wire_buf_init(&again);
	for (i = 0; i < 2; i++) {
		assert_int_equal(wire_decode(&f->dec, s[i].buf.data,
					     s[i].buf.len, &f->msg, &f->err), 0);
		wire_buf_reset(&again);
		assert_int_equal(wire_encode_msg(&again, &f->msg, &f->err), 0);
		assert_mem(again.data, again.len, s[i].buf.data, s[i].buf.len);
	}
	wire_buf_free(&again);
	for (i = 0; i < 2; i++)
		wire_buf_free(&s[i].buf);
}

/* ------------------------------------------------------------ encoder */

#define MUT(name) static void mut_##name(struct wire_why *m)
MUT(not_found_with_clock) { m->found = 0; m->origin = NULL; m->hash = NULL;
			    m->value = NULL; m->value_len = 0; }
MUT(no_origin) { m->origin = NULL; }
MUT(no_hash) { m->hash = NULL; }
MUT(seq_zero) { m->seq = 0; }
MUT(deleted_with_length) { m->deleted = 1; m->value = NULL; }
MUT(deleted_with_value) { m->deleted = 1; m->value_len = 0; }
MUT(small_value_missing) { m->value = NULL; }
MUT(large_value_carried) { m->value_len = WIRE_WHY_VALUE_MAX + 1; }
MUT(value_over_the_limit) { m->value = NULL;
			    m->value_len = WIRE_VALUE_MAX + 1; }
MUT(found_outside) { m->outside = 1; }
MUT(too_many_hwms) { m->n_hwms = WIRE_WHY_ORIGINS_MAX + 1; }
MUT(no_resolver) { m->resolver_len = 0; }
MUT(resolver_with_nul) { m->resolver = "a\0b"; m->resolver_len = 3; }
MUT(resolver_too_long) { m->resolver_len = WIRE_WHY_RESOLVER_MAX + 1; }

static void test_encoder_refuses_what_breaks_the_grammar(void **state)
{
	static void (*const muts[])(struct wire_why *) = {
		mut_not_found_with_clock, mut_no_origin, mut_no_hash,
		mut_seq_zero, mut_deleted_with_length, mut_deleted_with_value,
		mut_small_value_missing, mut_large_value_carried,
		mut_value_over_the_limit, mut_found_outside,
		mut_too_many_hwms, mut_no_resolver, mut_resolver_with_nul,
		mut_resolver_too_long,
	};
	struct fixture *f = *state;
	char long_name[WIRE_WHY_RESOLVER_MAX + 2];
	const uint8_t *origins[1] = { origin_a };
	struct wire_why m, ask = { .id = 1, .key = (const uint8_t *)"k",
				   .key_len = 1, .origins = origins,
				   .n_origins = 1 };
	size_t i;

	memset(long_name, 'r', sizeof long_name);
	wire_buf_reset(&f->buf);
	for (i = 0; i < sizeof muts / sizeof muts[0]; i++) {
		m = answer_sample();
		m.resolver = muts[i] == mut_resolver_too_long ? long_name :
			m.resolver;
		muts[i](&m);
		assert_int_equal(wire_encode_why(&f->buf, WIRE_WHY_ANSWER, &m,
						 &f->err), RUMOR_EINVAL);
		assert_int_equal(f->buf.len, 0);
	}
	ask.key_len = 0;
	assert_int_equal(wire_encode_why(&f->buf, WIRE_WHY_ASK, &ask, &f->err),
			 RUMOR_EINVAL);
	ask.key_len = WIRE_KEY_MAX + 1;
	assert_int_equal(wire_encode_why(&f->buf, WIRE_WHY_ASK, &ask, &f->err),
			 RUMOR_EINVAL);
	ask.key_len = 1;
	ask.n_origins = WIRE_WHY_ORIGINS_MAX + 1;
	assert_int_equal(wire_encode_why(&f->buf, WIRE_WHY_ASK, &ask, &f->err),
			 RUMOR_EINVAL);
	assert_int_equal(wire_encode_why(&f->buf, WIRE_PING, &ask, &f->err),
			 RUMOR_EINVAL);
	assert_int_equal(f->buf.len, 0);
}

/* ------------------------------------------------------------ decoder */

/* [22, id 1, found, clock, origin, seq, wall, flags, value_len, hash]:
 * the head of an answer up to its hash; then the caller's tail. */
static void tb_answer_head(struct tb *t, uint64_t found, size_t origin_len,
			   uint64_t seq, uint64_t flags, uint64_t value_len,
			   size_t hash_len)
{
	tb_arr(t, 15);
	tb_u(t, WIRE_WHY_ANSWER);
	tb_u(t, 1);
	tb_u(t, found);
	tb_u(t, found ? 3 : 0);
	tb_bstr(t, origin_len, 0x11);
	tb_u(t, seq);
	tb_u(t, 0);
	tb_u(t, flags);
	tb_u(t, value_len);
	tb_bstr(t, hash_len, 0x22);
}

/* symmetry_violations 0, resolver "r", no hwms. */
static void tb_answer_mid(struct tb *t)
{
	tb_u(t, 0);
	tb_tstr(t, "r");
	tb_arr(t, 0);
}

static void tb_null(struct tb *t)
{
	tb_byte(t, 0xf6);
}

BAD(ask_empty_key)
{
	tb_arr(t, 4); tb_u(t, WIRE_WHY_ASK); tb_u(t, 1); tb_bstr(t, 0, 0);
	tb_arr(t, 0);
}
BAD(ask_origin_31)
{
	tb_arr(t, 4); tb_u(t, WIRE_WHY_ASK); tb_u(t, 1); tb_bstr(t, 1, 'k');
	tb_arr(t, 1); tb_bstr(t, 31, 1);
}
BAD(ask_too_many_origins)
{
	tb_arr(t, 4); tb_u(t, WIRE_WHY_ASK); tb_u(t, 1); tb_bstr(t, 1, 'k');
	tb_arr(t, WIRE_WHY_ORIGINS_MAX + 1); tb_pad(t, 64);
}
BAD(ask_origins_the_input_cannot_hold)
{
	tb_arr(t, 4); tb_u(t, WIRE_WHY_ASK); tb_u(t, 1); tb_bstr(t, 1, 'k');
	tb_arr(t, 1000); tb_bstr(t, 32, 1);
}
BAD(ask_three_items)
{
	tb_arr(t, 3); tb_u(t, WIRE_WHY_ASK); tb_u(t, 1); tb_bstr(t, 1, 'k');
}
BAD(answer_found_two)
{
	tb_answer_head(t, 2, 32, 1, 0, 0, 16);
}
BAD(answer_origin_31)
{
	tb_answer_head(t, 1, 31, 1, 0, 0, 16);
}
BAD(answer_hash_15)
{
	tb_answer_head(t, 1, 32, 1, 0, 0, 15);
}
BAD(answer_unknown_flag)
{
	tb_answer_head(t, 1, 32, 1, 0x4, 0, 16);
}
BAD(answer_value_len_over_the_limit)
{
	tb_answer_head(t, 1, 32, 1, 0, WIRE_VALUE_MAX + 1, 16);
}
BAD(answer_seq_zero)
{
	tb_answer_head(t, 1, 32, 0, 0, 0, 16); tb_answer_mid(t);
	tb_bstr(t, 0, 0);
}
BAD(answer_not_found_with_origin)
{
	tb_answer_head(t, 0, 32, 0, 0, 0, 0); tb_answer_mid(t); tb_null(t);
}
BAD(answer_found_outside)
{
	tb_answer_head(t, 1, 32, 1, WIRE_WHY_OUTSIDE, 0, 16);
	tb_answer_mid(t); tb_bstr(t, 0, 0);
}
BAD(answer_deleted_with_value)
{
	tb_answer_head(t, 1, 32, 1, WIRE_ENTRY_DELETED, 0, 16);
	tb_answer_mid(t); tb_bstr(t, 0, 0);
}
BAD(answer_small_value_missing)
{
	tb_answer_head(t, 1, 32, 1, 0, 5, 16); tb_answer_mid(t); tb_null(t);
}
BAD(answer_value_length_differs)
{
	tb_answer_head(t, 1, 32, 1, 0, 5, 16); tb_answer_mid(t);
	tb_bstr(t, 4, 'v');
}
BAD(answer_large_value_carried)
{
	tb_answer_head(t, 1, 32, 1, 0, WIRE_WHY_VALUE_MAX + 1, 16);
	tb_answer_mid(t); tb_bstr(t, WIRE_WHY_VALUE_MAX + 1, 'v');
}
BAD(answer_empty_resolver)
{
	tb_answer_head(t, 0, 0, 0, 0, 0, 0); tb_u(t, 0); tb_tstr(t, "");
	tb_arr(t, 0); tb_null(t);
}
BAD(answer_hwms_the_input_cannot_hold)
{
	tb_answer_head(t, 0, 0, 0, 0, 0, 0); tb_u(t, 0); tb_tstr(t, "r");
	tb_arr(t, WIRE_WHY_ORIGINS_MAX); tb_u(t, 1); tb_null(t);
}
BAD(answer_trailing_byte)
{
	tb_answer_head(t, 0, 0, 0, 0, 0, 0); tb_answer_mid(t); tb_null(t);
	tb_u(t, 0);
}

static const struct bad_row why_rows[] = {
	ROW(ask_empty_key, "key"),
	ROW(ask_origin_31, "origin"),
	ROW(ask_too_many_origins, "origin list"),
	ROW(ask_origins_the_input_cannot_hold, "origin list"),
	ROW(ask_three_items, "want 4"),
	ROW(answer_found_two, "found"),
	ROW(answer_origin_31, "origin"),
	ROW(answer_hash_15, "hash"),
	ROW(answer_unknown_flag, "unknown flags"),
	ROW(answer_value_len_over_the_limit, "value_len"),
	ROW(answer_seq_zero, "seq 0"),
	ROW(answer_not_found_with_origin, "found nothing"),
	ROW(answer_found_outside, "outside"),
	ROW(answer_deleted_with_value, "must not be"),
	ROW(answer_small_value_missing, "not carried"),
	ROW(answer_value_length_differs, "value_len says"),
	ROW(answer_large_value_carried, "must not be"),
	ROW(answer_empty_resolver, "resolver"),
	ROW(answer_hwms_the_input_cannot_hold, "hwm list"),
	ROW(answer_trailing_byte, "trailing"),
};

static void test_malformed_why_frames_are_rejected(void **state)
{
	run_bad_rows(*state, why_rows, sizeof why_rows / sizeof why_rows[0]);
}

/* Every prefix of a valid frame is refused (never read past the end). */
static void test_truncated_why_frames_are_rejected(void **state)
{
	struct fixture *f = *state;
	struct sample s[2];
	uint8_t *copy;
	size_t i, len;

	for (i = 0; i < 2; i++)
		wire_buf_init(&s[i].buf);
	build_why_samples(s);
	for (i = 0; i < 2; i++) {
		for (len = 0; len < s[i].buf.len; len++) {
			copy = malloc(len ? len : 1);
			assert_non_null(copy);
			memcpy(copy, s[i].buf.data, len);
			assert_int_equal(wire_decode(&f->dec, copy, len,
						     &f->msg, &f->err),
					 RUMOR_EPROTO);
			free(copy);
		}
		wire_buf_free(&s[i].buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_ask_round_trips_binary_key_and_origins),
		T(test_answer_round_trips_every_field),
		T(test_answers_without_a_carried_value_round_trip),
		T(test_encode_msg_reproduces_why_frames),
		T(test_encoder_refuses_what_breaks_the_grammar),
		T(test_malformed_why_frames_are_rejected),
		T(test_truncated_why_frames_are_rejected),
#undef T
	};

	return cmocka_run_group_tests_name("wire_why", tests, NULL, NULL);
}
