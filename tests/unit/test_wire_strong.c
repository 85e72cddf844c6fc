/* SPDX-License-Identifier: MIT */
/*
 * test_wire_strong: the strong-write messages PREPARE .. ANSWER round
 * trip with binary keys and values; the encoder refuses what breaks the
 * grammar (nothing appended) and a PREPARE over a frame; the decoder
 * refuses every malformed frame, naming the field, and allocates nothing
 * for counts the input cannot hold.
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

/* Encodes m as type into f->buf (emptied first) and decodes it back. */
static void round_trip(struct fixture *f, enum wire_type type,
		       const struct wire_strong *m)
{
	wire_buf_reset(&f->buf);
	if (wire_encode_strong(&f->buf, type, m, &f->err) != 0)
		fail_msg("encode %s: %s", wire_type_name((int)type),
			 f->err.msg);
	decode_ok(f);
	assert_int_equal(f->msg.type, type);
}

static void assert_clocks(const struct wire_strong *got, const uint64_t *want,
			  size_t n)
{
	size_t i;

	assert_int_equal(got->n_clocks, n);
	for (i = 0; i < n; i++)
		assert_int_equal(got->clocks[i], want[i]);
}

/* ------------------------------------------------------------ round trips */

static void test_prepare_round_trips_binary_ops_and_participants(void **state)
{
	struct fixture *f = *state;
	uint8_t parts[2 * WIRE_NODE_ID_BYTES];
	struct wire_strong m = { .txid = txid_a, .ttl_ms = 2500,
				 .participants = parts, .n_participants = 2,
				 .ops = sample_ops, .n_ops = 2 };
	const struct wire_strong *g = &f->msg.u.strong;

	sample_participants(parts);
	round_trip(f, WIRE_PREPARE, &m);
	assert_int_equal(f->buf.len, wire_prepare_size(&m));
	assert_mem(g->txid, WIRE_TXID_BYTES, txid_a, WIRE_TXID_BYTES);
	assert_int_equal(g->ttl_ms, 2500);
	assert_int_equal(g->n_participants, 2);
	assert_mem(g->participants, 2 * WIRE_NODE_ID_BYTES, parts,
		   sizeof(parts));
	assert_int_equal(g->n_ops, 2);
	assert_false(g->ops[0].deleted);
	assert_mem(g->ops[0].key, g->ops[0].key_len, "k\0\xff", 3);
	assert_mem(g->ops[0].value, g->ops[0].value_len, "v\0\x80\xff", 4);
	assert_true(g->ops[1].deleted);
	assert_mem(g->ops[1].key, g->ops[1].key_len, "gone", 4);
	assert_null(g->ops[1].value);
	assert_int_equal(g->ops[1].value_len, 0);
	/* the fields PREPARE does not use come back empty */
	assert_int_equal(g->n_clocks, 0);
	assert_null(g->coordinator);
	assert_int_equal(g->first_seq, 0);
}

static void test_prepare_round_trips_max_key_max_value_and_empty_value(
	void **state)
{
	struct fixture *f = *state;
	uint8_t *key = malloc(WIRE_KEY_MAX), *val = malloc(WIRE_VALUE_MAX);
	uint8_t parts[WIRE_NODE_ID_BYTES];
	struct wire_op ops[2];
	struct wire_strong m = { .txid = txid_a, .participants = parts,
				 .n_participants = 1, .ops = ops, .n_ops = 2,
				 .ttl_ms = UINT64_MAX };
	const struct wire_strong *g = &f->msg.u.strong;
	size_t i;

	assert_non_null(key);
	assert_non_null(val);
	for (i = 0; i < WIRE_KEY_MAX; i++)
		key[i] = (uint8_t)(i * 7);
	for (i = 0; i < WIRE_VALUE_MAX; i++)
		val[i] = (uint8_t)(i * 13 + 1);
	memcpy(parts, origin_b, sizeof(parts));
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct wire_op){ .key = key, .key_len = WIRE_KEY_MAX,
				   .value = val, .value_len = WIRE_VALUE_MAX };
	/* a live op with an empty value is not a deletion */
	ops[1] = (struct wire_op){ .key = (const uint8_t *)"", .key_len = 1,
				   .value = (const uint8_t *)"",
				   .value_len = 0 };
	round_trip(f, WIRE_PREPARE, &m);
	assert_int_equal(f->buf.len, wire_prepare_size(&m));
	assert_int_equal(g->ttl_ms, UINT64_MAX);
	assert_mem(g->ops[0].key, g->ops[0].key_len, key, WIRE_KEY_MAX);
	assert_mem(g->ops[0].value, g->ops[0].value_len, val,
		   WIRE_VALUE_MAX);
	assert_false(g->ops[1].deleted);
	assert_non_null(g->ops[1].value);
	assert_int_equal(g->ops[1].value_len, 0);
	assert_mem(g->ops[1].key, g->ops[1].key_len, "", 1);
	free(key);
	free(val);
}

static void test_votes_round_trip_yes_with_clocks_and_no_with_reason(
	void **state)
{
	struct fixture *f = *state;
	static const uint64_t clocks[] = { 0, 1, 23, 24, UINT64_MAX };
	struct wire_strong m = { .txid = txid_a, .yes = 1, .clocks = clocks,
				 .n_clocks = 5 };
	const struct wire_strong *g = &f->msg.u.strong;

	round_trip(f, WIRE_VOTE, &m);
	assert_int_equal(g->yes, 1);
	assert_int_equal(g->reason, WIRE_REFUSE_NONE);
	assert_clocks(g, clocks, 5);
	assert_mem(g->txid, WIRE_TXID_BYTES, txid_a, WIRE_TXID_BYTES);

	m = (struct wire_strong){ .txid = txid_a, .yes = 0,
				  .reason = WIRE_REFUSE_LOCKED };
	round_trip(f, WIRE_VOTE, &m);
	assert_int_equal(g->yes, 0);
	assert_int_equal(g->reason, WIRE_REFUSE_LOCKED);
	assert_int_equal(g->n_clocks, 0);
	/* reasons of later versions pass through */
	m.reason = 1000;
	round_trip(f, WIRE_VOTE, &m);
	assert_int_equal(g->reason, 1000);
}

static void test_commit_and_committed_answer_carry_the_version(void **state)
{
	struct fixture *f = *state;
	static const uint64_t clocks[] = { 10, 11, UINT64_MAX };
	struct wire_strong m = { .txid = txid_a, .first_seq = UINT64_MAX - 2,
				 .wall_ms = 1700000000123ull,
				 .clocks = clocks, .n_clocks = 3 };
	const struct wire_strong *g = &f->msg.u.strong;

	round_trip(f, WIRE_COMMIT, &m);
	assert_int_equal(g->first_seq, UINT64_MAX - 2);
	assert_int_equal(g->wall_ms, 1700000000123ull);
	assert_clocks(g, clocks, 3);

	m.state = WIRE_TX_COMMITTED;
	round_trip(f, WIRE_ANSWER, &m);
	assert_int_equal(g->state, WIRE_TX_COMMITTED);
	assert_int_equal(g->first_seq, UINT64_MAX - 2);
	assert_int_equal(g->wall_ms, 1700000000123ull);
	assert_clocks(g, clocks, 3);
}

static void test_small_strong_messages_round_trip(void **state)
{
	struct fixture *f = *state;
	struct wire_strong m = { .txid = txid_a, .coordinator = origin_a };
	const struct wire_strong *g = &f->msg.u.strong;
	uint64_t s;

	round_trip(f, WIRE_COMMITTED, &m);
	assert_mem(g->txid, WIRE_TXID_BYTES, txid_a, WIRE_TXID_BYTES);
	assert_null(g->coordinator);
	round_trip(f, WIRE_ABORT, &m);
	assert_mem(g->txid, WIRE_TXID_BYTES, txid_a, WIRE_TXID_BYTES);
	round_trip(f, WIRE_ASK, &m);
	assert_mem(g->coordinator, WIRE_NODE_ID_BYTES, origin_a,
		   WIRE_ORIGIN_BYTES);
	for (s = WIRE_TX_UNKNOWN; s <= WIRE_TX_ABORTED; s++) {
		if (s == WIRE_TX_COMMITTED)
			continue;
		m.state = s;
		round_trip(f, WIRE_ANSWER, &m);
		assert_int_equal(g->state, s);
		assert_int_equal(g->n_clocks, 0);
		assert_int_equal(g->first_seq, 0);
	}
}

/* wire_encode_msg() routes every strong type to wire_encode_strong(),
 * and reproduces each seed frame byte for byte. */
static void test_encode_msg_reproduces_strong_frames(void **state)
{
	struct fixture *f = *state;
	struct sample s[N_SAMPLES];
	size_t i;

	build_samples(s);
	for (i = 10; i < N_SAMPLES; i++) {
		assert_int_equal(wire_decode(&f->dec, s[i].buf.data,
					     s[i].buf.len, &f->msg, &f->err),
				 0);
		wire_buf_reset(&f->buf);
		assert_int_equal(wire_encode_msg(&f->buf, &f->msg, &f->err),
				 0);
		assert_mem(f->buf.data, f->buf.len, s[i].buf.data,
			   s[i].buf.len);
	}
	free_samples(s);
}

/* ------------------------------------------------------------ the frame bound */

/* A PREPARE of 3 participants and 2 ops whose second value is sized so
 * the frame is exactly WIRE_PREPARE_MAX + extra bytes. */
static void fill_frame(struct wire_strong *m, struct wire_op ops[2],
		       uint8_t parts[3 * WIRE_NODE_ID_BYTES], uint8_t *val,
		       size_t extra)
{
	size_t size;

	memset(parts, 0, 3 * WIRE_NODE_ID_BYTES);
	parts[0] = 1;
	parts[WIRE_NODE_ID_BYTES] = 2;
	parts[2 * WIRE_NODE_ID_BYTES] = 3;
	ops[0] = (struct wire_op){ .key = (const uint8_t *)"a", .key_len = 1,
				   .value = val, .value_len = WIRE_VALUE_MAX };
	ops[1] = (struct wire_op){ .key = (const uint8_t *)"b", .key_len = 1,
				   .value = val, .value_len = 0 };
	*m = (struct wire_strong){ .txid = txid_a, .ttl_ms = 5000,
				   .participants = parts, .n_participants = 3,
				   .ops = ops, .n_ops = 2 };
	size = wire_prepare_size(m);
	ops[1].value_len = WIRE_PREPARE_MAX + extra - size;
	/* the value's head grew from 1 to 5 bytes */
	ops[1].value_len -= wire_prepare_size(m) - (WIRE_PREPARE_MAX + extra);
	assert_int_equal(wire_prepare_size(m), WIRE_PREPARE_MAX + extra);
	assert_true(ops[1].value_len <= WIRE_VALUE_MAX);
}

static void test_largest_prepare_fills_a_frame_and_one_byte_more_is_too_big(
	void **state)
{
	struct fixture *f = *state;
	uint8_t parts[3 * WIRE_NODE_ID_BYTES];
	uint8_t *val = calloc(1, WIRE_VALUE_MAX);
	struct wire_op ops[2];
	struct wire_strong m;

	assert_non_null(val);
	fill_frame(&m, ops, parts, val, 0);
	print_message("wire: largest PREPARE, 3 participants, 2 ops: %zu "
		      "bytes of keys and values in a %u-byte frame\n",
		      2 + ops[0].value_len + ops[1].value_len,
		      WIRE_PREPARE_MAX);
	/* the documented bound holds: head, participants, 10 bytes an op */
	assert_true(2 + ops[0].value_len + ops[1].value_len >=
		    WIRE_PREPARE_MAX - WIRE_PREPARE_HEAD_MAX -
		    3 * WIRE_PARTICIPANT_BYTES - 2 * WIRE_OP_OVERHEAD_MAX);
	round_trip(f, WIRE_PREPARE, &m);
	assert_int_equal(f->buf.len, WIRE_PREPARE_MAX);
	assert_int_equal(f->msg.u.strong.ops[1].value_len, ops[1].value_len);

	fill_frame(&m, ops, parts, val, 1);
	wire_buf_reset(&f->buf);
	wire_put_uint(&f->buf, 7);
	assert_int_equal(wire_encode_strong(&f->buf, WIRE_PREPARE, &m,
					    &f->err), RUMOR_ETOOBIG);
	assert_non_null(strstr(f->err.msg, "exceeds a frame"));
	assert_int_equal(f->buf.len, 1);        /* nothing appended */
	free(val);
}

/* ------------------------------------------------------------ encoder limits */

/* One refused encoding: a valid message of type, broken by a mutation. */
struct enc_row {
	const char *name;
	enum wire_type type;
	void (*mutate)(struct wire_strong *m);
	int code;
	const char *says;
};

static uint8_t dup_parts[2 * WIRE_NODE_ID_BYTES];
static const uint64_t zero_clock[1] = { 0 };
static struct wire_op bad_op[1];

#define MUT(name) static void mut_##name(struct wire_strong *m)
MUT(no_txid) { m->txid = NULL; }
MUT(no_participants) { m->n_participants = 0; }
MUT(too_many_participants)
{
	m->n_participants = WIRE_STRONG_PARTICIPANTS_MAX + 1;
}
MUT(repeated_participant)
{
	memcpy(dup_parts, origin_a, WIRE_NODE_ID_BYTES);
	memcpy(dup_parts + WIRE_NODE_ID_BYTES, origin_a, WIRE_NODE_ID_BYTES);
	m->participants = dup_parts;
}
MUT(no_ops) { m->n_ops = 0; }
MUT(too_many_ops) { m->n_ops = WIRE_STRONG_OPS_MAX + 1; }
MUT(empty_key)
{
	bad_op[0] = (struct wire_op){ .key = (const uint8_t *)"k" };
	m->ops = bad_op;
	m->n_ops = 1;
}
MUT(long_key)
{
	bad_op[0] = (struct wire_op){ .key = (const uint8_t *)"k",
				      .key_len = WIRE_KEY_MAX + 1 };
	m->ops = bad_op;
	m->n_ops = 1;
}
MUT(long_value)
{
	bad_op[0] = (struct wire_op){ .key = (const uint8_t *)"k",
				      .key_len = 1, .value = dup_parts,
				      .value_len = WIRE_VALUE_MAX + 1 };
	m->ops = bad_op;
	m->n_ops = 1;
}
MUT(deleted_with_value)
{
	bad_op[0] = (struct wire_op){ .deleted = 1,
				      .key = (const uint8_t *)"k",
				      .key_len = 1, .value = dup_parts,
				      .value_len = 1 };
	m->ops = bad_op;
	m->n_ops = 1;
}
MUT(yes_two) { m->yes = 2; }
MUT(yes_with_reason) { m->reason = WIRE_REFUSE_BUSY; }
MUT(yes_without_clocks) { m->n_clocks = 0; }
MUT(no_without_reason) { m->yes = 0; m->n_clocks = 0; }
MUT(no_with_clocks) { m->yes = 0; m->reason = WIRE_REFUSE_LOCKED; }
MUT(too_many_clocks) { m->n_clocks = WIRE_STRONG_OPS_MAX + 1; }
MUT(without_clocks) { m->n_clocks = 0; }
MUT(first_seq_zero) { m->first_seq = 0; }
MUT(seqs_overflow) { m->first_seq = UINT64_MAX; }
MUT(clock_zero) { m->clocks = zero_clock; m->n_clocks = 1; }
MUT(no_coordinator) { m->coordinator = NULL; }
MUT(state_four) { m->state = 4; }
MUT(aborted_with_clocks) { m->state = WIRE_TX_ABORTED; }
MUT(aborted_with_seq)
{
	m->state = WIRE_TX_ABORTED;
	m->n_clocks = 0;
}

#define ENC(type, name, code, says) \
	{ #type "_" #name, WIRE_##type, mut_##name, RUMOR_##code, says }

static const struct enc_row enc_rows[] = {
	ENC(PREPARE, no_txid, EINVAL, "PREPARE without a txid"),
	ENC(ABORT, no_txid, EINVAL, "ABORT without a txid"),
	ENC(PREPARE, no_participants, EINVAL, "PREPARE of 0 participants"),
	ENC(PREPARE, too_many_participants, EINVAL, "1025 participants"),
	ENC(PREPARE, repeated_participant, EINVAL, "participant 1 repeats 0"),
	ENC(PREPARE, no_ops, EINVAL, "PREPARE of 0 ops"),
	ENC(PREPARE, too_many_ops, EINVAL, "65537 ops"),
	ENC(PREPARE, empty_key, EINVAL, "op 0 key of 0 bytes"),
	ENC(PREPARE, long_key, EINVAL, "op 0 key of 4097 bytes"),
	ENC(PREPARE, long_value, EINVAL, "op 0 value of 1048577 bytes"),
	ENC(PREPARE, deleted_with_value, EINVAL, "deleted and has a value"),
	ENC(VOTE, yes_two, EINVAL, "VOTE yes is 2"),
	ENC(VOTE, yes_with_reason, EINVAL, "yes vote with a refusal reason"),
	ENC(VOTE, yes_without_clocks, EINVAL, "yes vote without clocks"),
	ENC(VOTE, no_without_reason, EINVAL, "no vote without a reason"),
	ENC(VOTE, no_with_clocks, EINVAL, "no vote with clocks"),
	ENC(VOTE, too_many_clocks, EINVAL, "more clocks than ops"),
	ENC(COMMIT, without_clocks, EINVAL, "COMMIT: a committed version "
	    "without clocks"),
	ENC(COMMIT, first_seq_zero, EINVAL, "first_seq 0"),
	ENC(COMMIT, seqs_overflow, EINVAL, "seqs run past"),
	ENC(COMMIT, clock_zero, EINVAL, "a committed clock 0"),
	ENC(ASK, no_coordinator, EINVAL, "ASK without a coordinator"),
	ENC(ANSWER, state_four, EINVAL, "ANSWER state 4 unknown"),
	ENC(ANSWER, without_clocks, EINVAL, "without clocks"),
	ENC(ANSWER, clock_zero, EINVAL, "a committed clock 0"),
	ENC(ANSWER, aborted_with_clocks, EINVAL, "clocks on an answer"),
	ENC(ANSWER, aborted_with_seq, EINVAL, "a version on an answer"),
};

/* A valid message of each type, the base every row breaks. */
static void valid_strong(struct wire_strong *m, uint8_t *parts)
{
	static const uint64_t clocks[2] = { 4, 5 };

	sample_participants(parts);
	*m = (struct wire_strong){
		.txid = txid_a, .ttl_ms = 100, .participants = parts,
		.n_participants = 2, .ops = sample_ops, .n_ops = 2,
		.yes = 1, .coordinator = origin_a,
		.state = WIRE_TX_COMMITTED, .first_seq = 7, .wall_ms = 9,
		.clocks = clocks, .n_clocks = 2,
	};
}

static void test_encoder_refuses_what_breaks_the_grammar(void **state)
{
	struct fixture *f = *state;
	uint8_t parts[2 * WIRE_NODE_ID_BYTES];
	struct wire_strong m;
	size_t i;
	int rv, failures = 0;
	enum wire_type t;

	/* the base is valid for every type */
	for (t = WIRE_PREPARE; t <= WIRE_ANSWER; t++) {
		valid_strong(&m, parts);
		round_trip(f, t, &m);
	}
	for (i = 0; i < sizeof(enc_rows) / sizeof(enc_rows[0]); i++) {
		valid_strong(&m, parts);
		enc_rows[i].mutate(&m);
		wire_buf_reset(&f->buf);
		wire_put_uint(&f->buf, 7);
		memset(&f->err, 0, sizeof(f->err));
		rv = wire_encode_strong(&f->buf, enc_rows[i].type, &m,
					&f->err);
		if (rv != enc_rows[i].code || f->buf.len != 1) {
			print_error("%s: got %d with %zu bytes, want %d and "
				    "nothing appended\n", enc_rows[i].name, rv,
				    f->buf.len - 1, enc_rows[i].code);
			failures++;
		} else if (strstr(f->err.msg, enc_rows[i].says) == NULL) {
			print_error("%s: message \"%s\" lacks \"%s\"\n",
				    enc_rows[i].name, f->err.msg,
				    enc_rows[i].says);
			failures++;
		}
	}
	valid_strong(&m, parts);
	assert_int_equal(wire_encode_strong(&f->buf, WIRE_BATCH, &m, &f->err),
			 RUMOR_EINVAL);
	assert_int_equal(failures, 0);
}

static void test_malformed_strong_frames_are_rejected(void **state)
{
	run_bad_rows(*state, strong_rows, n_strong_rows);
}

/* Counts the input cannot hold are refused before any allocation. */
static void test_oversized_strong_counts_allocate_nothing(void **state)
{
	struct fixture *f = *state;
	struct tb t = { 0 };

	tb_prepare_head(&t);
	tb_arr(&t, WIRE_STRONG_PARTICIPANTS_MAX);
	tb_pad(&t, 1000);
	assert_int_equal(wire_decode(&f->dec, t.b, t.n, &f->msg, &f->err),
			 RUMOR_EPROTO);
	assert_non_null(strstr(f->err.msg, "cannot fit"));
	t.n = 0;
	tb_prepare_head(&t);
	tb_arr(&t, 1);
	tb_bstr(&t, WIRE_NODE_ID_BYTES, 1);
	tb_arr(&t, WIRE_STRONG_OPS_MAX);
	tb_pad(&t, 1000);
	assert_int_equal(wire_decode(&f->dec, t.b, t.n, &f->msg, &f->err),
			 RUMOR_EPROTO);
	assert_non_null(strstr(f->err.msg, "PREPARE op list"));
	t.n = 0;
	tb_arr(&t, 5);
	tb_u(&t, WIRE_VOTE);
	tb_bstr(&t, WIRE_TXID_BYTES, 1);
	tb_u(&t, 1);
	tb_u(&t, 0);
	tb_arr(&t, WIRE_STRONG_OPS_MAX);
	tb_pad(&t, 1000);
	assert_int_equal(wire_decode(&f->dec, t.b, t.n, &f->msg, &f->err),
			 RUMOR_EPROTO);
	assert_int_equal(f->dec.participants_cap, 1);
	assert_int_equal(f->dec.ops_cap, 0);
	assert_null(f->dec.ops);
	assert_int_equal(f->dec.clocks_cap, 0);
	assert_null(f->dec.clocks);
	free(t.b);
}

/* The most participants a PREPARE may name, one of them twice at the
 * far end: found (the decoder sorts, so this costs n log n). */
static void test_repeat_among_the_most_participants_is_found(void **state)
{
	struct fixture *f = *state;
	struct tb t = { 0 };
	uint8_t id[WIRE_NODE_ID_BYTES];
	size_t i, n = WIRE_STRONG_PARTICIPANTS_MAX;
	int repeat;

	for (repeat = 0; repeat < 2; repeat++) {
		t.n = 0;
		tb_prepare_head(&t);
		tb_arr(&t, n);
		for (i = 0; i < n; i++) {
			memset(id, 0x5a, sizeof(id));
			id[0] = (uint8_t)(i >> 8);
			id[31] = (uint8_t)i;
			if (repeat && i == n - 1) {
				id[0] = 0;
				id[31] = 5;
			}
			tb_head(&t, 2, sizeof(id));
			tb_raw(&t, id, sizeof(id));
		}
		tb_arr(&t, 1);
		tb_arr(&t, 3);
		tb_u(&t, 0);
		tb_bstr(&t, 1, 'k');
		tb_bstr(&t, 1, 'v');
		if (!repeat) {
			assert_int_equal(wire_decode(&f->dec, t.b, t.n,
						     &f->msg, &f->err), 0);
			assert_int_equal(f->msg.u.strong.n_participants, n);
			/* in the order sent, not the order sorted */
			assert_int_equal(f->msg.u.strong.participants[31 +
				32 * (n - 1)], (uint8_t)(n - 1));
			continue;
		}
		assert_int_equal(wire_decode(&f->dec, t.b, t.n, &f->msg,
					     &f->err), RUMOR_EPROTO);
		assert_non_null(strstr(f->err.msg, "PREPARE participant list"));
		assert_non_null(strstr(f->err.msg, "participant 1023 repeats "
				       "5"));
	}
	free(t.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_prepare_round_trips_binary_ops_and_participants),
		T(test_prepare_round_trips_max_key_max_value_and_empty_value),
		T(test_votes_round_trip_yes_with_clocks_and_no_with_reason),
		T(test_commit_and_committed_answer_carry_the_version),
		T(test_small_strong_messages_round_trip),
		T(test_encode_msg_reproduces_strong_frames),
		T(test_largest_prepare_fills_a_frame_and_one_byte_more_is_too_big),
		T(test_encoder_refuses_what_breaks_the_grammar),
		T(test_malformed_strong_frames_are_rejected),
		T(test_oversized_strong_counts_allocate_nothing),
		T(test_repeat_among_the_most_participants_is_found),
#undef T
	};

	return cmocka_run_group_tests_name("wire_strong", tests, NULL, NULL);
}
