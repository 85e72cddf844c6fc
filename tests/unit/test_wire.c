/* SPDX-License-Identifier: MIT */
/*
 * test_wire: every message round-trips through its encoder and the
 * decoder, encoders refuse arguments outside the limits, and the fuzz
 * seed corpus is what the encoder writes (RUMOR_WRITE_CORPUS=1 rewrites
 * it). Multi-origin batches: test_wire_mbatch; malformed input:
 * test_wire_decode.
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

#include "tests/lib/testutil.h"
#include "tests/unit/test_wire_fixture.h"

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

/* A partial node's HELLO carries its replicate set (binary bytes kept);
 * a full node's keeps the six items of every version. */
static void test_hello_replicate_set_round_trips(void **state)
{
	struct fixture *f = *state;
	const uint8_t set[] = { 1, 0, 3, 'a', 0x00, 0xff };
	struct wire_hello h = {
		.proto_version = WIRE_PROTO_VERSION, .listen_port = 80,
		.wall_ms = 5, .flags = WIRE_HELLO_FILTERS,
		.replicate = set, .replicate_len = sizeof(set),
	};

	assert_int_equal(wire_encode_hello(&f->buf, &h, &f->err), 0);
	assert_int_equal(f->buf.data[0], 0x87);         /* 7 items */
	decode_ok(f);
	assert_int_equal(f->msg.u.hello.replicate_len, sizeof(set));
	assert_memory_equal(f->msg.u.hello.replicate, set, sizeof(set));
	assert_true(f->msg.u.hello.flags == WIRE_HELLO_FILTERS);
	wire_buf_reset(&f->buf);
	h.replicate = NULL;
	h.replicate_len = 0;
	assert_int_equal(wire_encode_hello(&f->buf, &h, &f->err), 0);
	assert_int_equal(f->buf.data[0], 0x86);         /* 6 items */
	decode_ok(f);
	assert_null(f->msg.u.hello.replicate);
	/* Out of bounds: refused, nothing appended. */
	wire_buf_reset(&f->buf);
	h.replicate = set;
	h.replicate_len = WIRE_HELLO_REPLICATE_MAX + 1;
	assert_int_equal(wire_encode_hello(&f->buf, &h, &f->err),
			 RUMOR_EINVAL);
	assert_int_equal(f->buf.len, 0);
}

/* A SKIP entry encodes and decodes in a LIVE frame: seq and origin, no
 * key, value or payload. */
static void test_live_skip_round_trips(void **state)
{
	struct fixture *f = *state;
	struct wire_mbatch_builder *b = malloc(sizeof(*b));
	const uint8_t origin[WIRE_ORIGIN_BYTES] = { 9 };
	struct wire_entry e;

	assert_non_null(b);
	assert_int_equal(wire_mbatch_begin(b, &f->buf, WIRE_LIVE_EXCHANGE,
					   &f->err), 0);
	memset(&e, 0, sizeof(e));
	e.seq = 41;
	e.skip = 1;
	assert_int_equal(wire_mbatch_add(b, origin, &e, &f->err), 0);
	/* A SKIP with a key is refused. */
	e.key = "k";
	e.key_len = 1;
	assert_int_equal(wire_mbatch_add(b, origin, &e, &f->err),
			 RUMOR_EINVAL);
	wire_mbatch_end(b);
	decode_ok(f);
	assert_int_equal(f->msg.u.mbatch.n, 1);
	assert_true(f->msg.u.mbatch.entries[0].skip);
	assert_int_equal(f->msg.u.mbatch.entries[0].seq, 41);
	assert_int_equal(f->msg.u.mbatch.entries[0].key_len, 0);
	assert_int_equal(f->msg.u.mbatch.payload_bytes, 0);
	free(b);
}

/* A decoder reuses its entry array: a SKIP decoded where the last frame
 * had a deleted entry is not deleted, and re-encodes (fuzz_wire found
 * the stale flag). */
static void test_live_skip_after_a_deletion(void **state)
{
	struct fixture *f = *state;
	struct wire_mbatch_builder *b = malloc(sizeof(*b));
	const uint8_t origin[WIRE_ORIGIN_BYTES] = { 9 };
	struct wire_decoder d2;
	struct wire_buf again;
	struct wire_entry e;
	struct wire_msg m2;

	assert_non_null(b);
	/* Both frames go through one decoder: f->dec. */
	assert_int_equal(wire_mbatch_begin(b, &f->buf, WIRE_LIVE_EXCHANGE,
					   &f->err), 0);
	memset(&e, 0, sizeof(e));
	e.seq = 40;
	e.clock = 3;
	e.deleted = 1;
	e.key = "k";
	e.key_len = 1;
	assert_int_equal(wire_mbatch_add(b, origin, &e, &f->err), 0);
	wire_mbatch_end(b);
	decode_ok(f);
	assert_true(f->msg.u.mbatch.entries[0].deleted);
	wire_buf_reset(&f->buf);
	assert_int_equal(wire_mbatch_begin(b, &f->buf, WIRE_LIVE_EXCHANGE,
					   &f->err), 0);
	memset(&e, 0, sizeof(e));
	e.seq = 41;
	e.skip = 1;
	assert_int_equal(wire_mbatch_add(b, origin, &e, &f->err), 0);
	wire_mbatch_end(b);
	decode_ok(f);
	assert_true(f->msg.u.mbatch.entries[0].skip);
	assert_false(f->msg.u.mbatch.entries[0].deleted);
	wire_buf_init(&again);
	assert_int_equal(wire_encode_msg(&again, &f->msg, &f->err), 0);
	wire_decoder_init(&d2);
	assert_int_equal(wire_decode(&d2, again.data, again.len, &m2, &f->err),
			 0);
	assert_true(m2.u.mbatch.n == 1 && m2.u.mbatch.entries[0].skip);
	assert_int_equal(m2.u.mbatch.entries[0].seq, 41);
	wire_decoder_free(&d2);
	wire_buf_free(&again);
	free(b);
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

/* Writes or compares one seed file under the source tree. */
static void seed_file(const char *rel, const struct wire_buf *b, int write)
{
	uint8_t buf[4096];
	ssize_t n = tu_seed_file(rel, b->data, b->len, write, buf, sizeof buf);

	if (n < 0)
		fail_msg("cannot %s %s (RUMOR_WRITE_CORPUS=1 writes it)",
			 write ? "write" : "read", rel);
	if (!write)
		assert_mem(buf, (size_t)n, b->data, b->len);
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
		T(test_hello_replicate_set_round_trips),
		T(test_live_skip_round_trips),
		T(test_live_skip_after_a_deletion),
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
		T(test_seed_corpus_matches_the_encoder),
#undef T
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
