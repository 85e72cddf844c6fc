/* SPDX-License-Identifier: MIT */
/*
 * test_wire_mbatch: a multi-origin batch (MBATCH) round-trips entries of
 * several origins through a table of at most 256 origins; its builder and
 * wire_encode_msg refuse bad entries and bad tables and leave the buffer
 * as it was.
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


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_mbatch_round_trips_entries_of_several_origins),
		T(test_empty_mbatch_round_trips),
		T(test_mbatch_table_holds_at_most_256_origins),
		T(test_mbatch_add_refuses_bad_entries_and_cancel_restores),
		T(test_encode_msg_refuses_a_bad_mbatch_table),
#undef T
	};

	return cmocka_run_group_tests_name("wire_mbatch", tests, NULL, NULL);
}
