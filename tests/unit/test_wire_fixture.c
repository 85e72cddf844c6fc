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

void build_samples(struct sample s[N_SAMPLES])
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

void free_samples(struct sample s[N_SAMPLES])
{
	size_t i;

	for (i = 0; i < N_SAMPLES; i++)
		wire_buf_free(&s[i].buf);
}
