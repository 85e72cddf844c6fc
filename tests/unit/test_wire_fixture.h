/* SPDX-License-Identifier: MIT */
/* The fixture of the wire unit tests (test_wire*.c): a buffer, a decoder
 * and a message per test, two origins, and one valid frame of each
 * message type (the seed set of the fuzz target). */
#ifndef RUMOR_TEST_WIRE_FIXTURE_H
#define RUMOR_TEST_WIRE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "wire/wire.h"

extern const uint8_t origin_a[WIRE_ORIGIN_BYTES];
extern const uint8_t origin_b[WIRE_ORIGIN_BYTES];

struct fixture {
	struct wire_buf buf;
	struct wire_decoder dec;
	struct wire_msg msg;
	struct err err;
};

/* cmocka setup and teardown: *state is a struct fixture with an empty
 * buffer and a fresh decoder; teardown frees both. */
int setup(void **state);
int teardown(void **state);

/* Decodes the whole of f->buf; fails the test unless it decodes. */
void decode_ok(struct fixture *f);

/* Fails the test unless a[0..alen) and b[0..blen) are the same bytes. */
void assert_mem(const void *a, size_t alen, const void *b, size_t blen);

/* Every valid frame of the seed set, for the truncation and corpus tests:
 * build_samples encodes them into fresh buffers (names are static
 * strings), free_samples frees the buffers. */
#define N_SAMPLES 10
struct sample {
	const char *name;
	struct wire_buf buf;
};

void build_samples(struct sample s[N_SAMPLES]);
void free_samples(struct sample s[N_SAMPLES]);

#endif
