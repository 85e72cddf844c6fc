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
/* The strong samples' transaction, ops and participants. */
extern const uint8_t txid_a[WIRE_TXID_BYTES];
extern const struct wire_op sample_ops[2];
void sample_participants(uint8_t out[2 * WIRE_NODE_ID_BYTES]);

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
#define N_SAMPLES 19
struct sample {
	const char *name;
	struct wire_buf buf;
};

void build_samples(struct sample s[N_SAMPLES]);
void free_samples(struct sample s[N_SAMPLES]);

/* A small CBOR writer of our own for hand-made (malformed) frames,
 * independent of the encoder under test: minimal heads unless told
 * otherwise; t->b is malloc'd, the caller frees it. */
struct tb {
	uint8_t *b;
	size_t n;
	size_t cap;
};

void tb_raw(struct tb *t, const void *p, size_t n);
void tb_byte(struct tb *t, uint8_t v);
void tb_head(struct tb *t, int major, uint64_t v);
void tb_u(struct tb *t, uint64_t v);
void tb_arr(struct tb *t, uint64_t n);
/* A byte string of len bytes, all fill. */
void tb_bstr(struct tb *t, size_t len, uint8_t fill);
/* n zero bytes, after a short malformed list: without them the list's
 * count could not fit in what is left, and that error would come first. */
void tb_pad(struct tb *t, size_t n);
void tb_tstr(struct tb *t, const char *s);

/* One malformed frame: a writer and a phrase the error must contain. */
struct bad_row {
	const char *name;
	void (*build)(struct tb *t);
	const char *says;
};

#define BAD(name) static void bad_##name(struct tb *t)
#define ROW(name, says) { #name, bad_##name, says }

/* Decodes each row's frame from an exact-size copy; fails the test
 * (after printing every offender) unless each is refused with
 * RUMOR_EPROTO and a message containing its phrase. */
void run_bad_rows(struct fixture *f, const struct bad_row *rows, size_t n);

/* test_wire_strong_rows.c: the malformed strong-message frames, and the
 * start of a PREPARE ([14, txid, ttl_ms 100], two items to go). */
extern const struct bad_row strong_rows[];
extern const size_t n_strong_rows;
void tb_prepare_head(struct tb *t);

/* The why samples (test_wire_why.c uses them too): a WHY_ASK listing origin_a and origin_b,
 * and a WHY_ANSWER holding a value, into s[0..2). */
void build_why_samples(struct sample *s);

#endif
