/* SPDX-License-Identifier: MIT */
/* test_sync_bad_peer: a peer that breaks the protocol (malformed
 * frames, a batch before the digest, duplicate origins, a second digest
 * during a stream) is refused and nothing it sent is applied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/test_sync_fixture.h"

/* ------------------------------------------------------------ bad peers */

/* A transport that keeps the last frame sent. */
struct capture {
	struct wire_buf last;
	int frames;
};

static int capture_send(void *arg, const uint8_t *frame, size_t len)
{
	struct capture *cp = arg;

	wire_buf_reset(&cp->last);
	cp->last.data = realloc(cp->last.data, len);
	assert_non_null(cp->last.data);
	memcpy(cp->last.data, frame, len);
	cp->last.len = cp->last.cap = len;
	cp->frames++;
	return 0;
}

static struct sync_session *capture_session(struct store *s,
					    struct capture *cp)
{
	struct sync_transport t = { 0 };
	struct sync_session *ss;

	wire_buf_init(&cp->last);
	cp->frames = 0;
	t.send = capture_send;
	t.arg = cp;
	assert_int_equal(sync_session_new(&ss, s, &t, NULL, NULL, NULL), 0);
	return ss;
}

static const uint8_t bad_origin[WIRE_ORIGIN_BYTES] = { 0x77 };

/* A BATCH of entries with the given seqs, for exchange id xid. */
static void batch_frame(struct wire_buf *out, uint64_t xid,
			const uint64_t *seqs, size_t n)
{
	struct wire_batch_builder b;
	struct wire_entry e;
	size_t i;

	wire_buf_reset(out);
	assert_int_equal(wire_batch_begin(&b, out, xid, bad_origin, NULL), 0);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.seq = seqs[i];
		e.clock = 1;
		e.wall_ms = 5;
		e.key = i % 2 ? "bad1" : "bad0";
		e.key_len = 4;
		e.value = "x";
		e.value_len = 1;
		assert_int_equal(wire_batch_add(&b, &e, NULL), 0);
	}
	wire_batch_end(&b);
}

/* An MBATCH of entries with the given keys and seqs, of bad_origin. */
static void mbatch_frame(struct wire_buf *out, uint64_t xid,
			 const char *const *keys, const uint64_t *seqs,
			 uint64_t clock, size_t n)
{
	struct wire_mbatch_builder *b = malloc(sizeof(*b));
	struct wire_entry e;
	size_t i;

	assert_non_null(b);
	wire_buf_reset(out);
	assert_int_equal(wire_mbatch_begin(b, out, xid, NULL), 0);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.seq = seqs[i];
		e.clock = clock;
		e.wall_ms = 5;
		e.key = keys[i];
		e.key_len = strlen(keys[i]);
		e.value = "x";
		e.value_len = 1;
		assert_int_equal(wire_mbatch_add(b, bad_origin, &e, NULL), 0);
	}
	wire_mbatch_end(b);
	free(b);
}

static int absent(struct store *s, const char *key)
{
	struct store_record *rec;
	int rv = store_get_version(s, key, strlen(key), &rec, NULL);

	if (rv == 0)
		store_record_free(rec);
	return rv == RUMOR_ENOTFOUND;
}

static void assert_nothing_from_bad_peer(struct store *s)
{
	assert_true(absent(s, "bad0"));
	assert_int_equal(store_hwm(s, bad_origin), 0);
}

/* Feeds one frame to a fresh session that has sent its DIGEST (id 1);
 * expects an error and a store unchanged. */
static void expect_refused(struct cluster *c, const uint8_t *frame,
			   size_t len)
{
	struct store *s = c->nodes[1].store;
	struct capture cp;
	struct sync_session *ss = capture_session(s, &cp);
	struct store_stats before, after;
	struct err err = { 0 };
	int rv;

	assert_int_equal(sync_session_start(ss, NULL), 0);
	store_get_stats(s, &before);
	rv = sync_session_receive(ss, frame, len, &err);
	assert_int_equal(rv, RUMOR_EPROTO);
	assert_true(err.msg[0] != '\0');
	store_get_stats(s, &after);
	assert_int_equal(before.applied, after.applied);
	assert_int_equal(before.stale, after.stale);
	assert_int_equal(store_hwm(s, bad_origin), 0);
	assert_true(absent(s, "bad0"));
	/* The session stays failed. */
	assert_int_equal(sync_session_pump(ss, NULL), RUMOR_EPROTO);
	assert_int_equal(sync_session_start(ss, NULL), RUMOR_EPROTO);
	sync_session_free(ss);
	wire_buf_free(&cp.last);
}

static void test_malformed_frames_are_refused_and_apply_nothing(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	static const uint8_t garbage[] = { 0xff, 0x00, 0x13, 0x37 };
	static const uint64_t in_order[] = { 1, 2 };
	static const uint64_t out_of_order[] = { 2, 1 };
	static const uint64_t zero_seq[] = { 0 };
	struct wire_buf f;
	size_t cut;

	(void)state;
	wire_buf_init(&f);
	expect_refused(c, garbage, sizeof(garbage));
	expect_refused(c, garbage, 0);
	/* A good BATCH cut at every byte offset: never applied. */
	batch_frame(&f, 1, in_order, 2);
	for (cut = 0; cut < f.len; cut++)
		expect_refused(c, f.data, cut);
	/* Well formed but against the rules. */
	batch_frame(&f, 1, out_of_order, 2);
	expect_refused(c, f.data, f.len);
	batch_frame(&f, 1, zero_seq, 1);
	expect_refused(c, f.data, f.len);
	batch_frame(&f, 2, in_order, 2);     /* not our exchange */
	expect_refused(c, f.data, f.len);
	wire_buf_reset(&f);
	assert_int_equal(wire_encode_ack(&f, 1, 10, NULL), 0);
	expect_refused(c, f.data, f.len);    /* ACK for nothing sent */
	wire_buf_reset(&f);
	assert_int_equal(wire_encode_ping(&f, 1, NULL), 0);
	expect_refused(c, f.data, f.len);    /* not a sync message */
	wire_buf_free(&f);
	assert_nothing_from_bad_peer(c->nodes[1].store);
	cluster_free(c);
}

static void test_malformed_mbatches_are_refused_and_apply_nothing(
	void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	static const char *const in_order[] = { "bad0", "bad1" };
	static const char *const out_of_order[] = { "bad1", "bad0" };
	static const char *const twice[] = { "bad0", "bad0" };
	static const uint64_t seqs[] = { 2, 1 };
	static const uint64_t zero_seq[] = { 1, 0 };
	struct wire_buf f;
	size_t cut;

	(void)state;
	wire_buf_init(&f);
	/* A good MBATCH cut at every byte offset: never applied. */
	mbatch_frame(&f, 1, in_order, seqs, 1, 2);
	for (cut = 0; cut < f.len; cut++)
		expect_refused(c, f.data, cut);
	/* Well formed but against the rules. */
	mbatch_frame(&f, 1, out_of_order, seqs, 1, 2);
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 1, twice, seqs, 1, 2);
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 1, in_order, zero_seq, 1, 2);
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 1, in_order, seqs, 0, 2);       /* clock 0 */
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 2, in_order, seqs, 1, 2);       /* not our exchange */
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 1, in_order, seqs, 1, 0);       /* empty */
	expect_refused(c, f.data, f.len);
	wire_buf_free(&f);
	assert_nothing_from_bad_peer(c->nodes[1].store);
	cluster_free(c);
}

static void test_batch_before_digest_is_refused(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	static const uint64_t seqs[] = { 1 };
	struct capture cp;
	struct sync_session *ss = capture_session(c->nodes[0].store, &cp);
	struct wire_buf f;

	(void)state;
	wire_buf_init(&f);
	batch_frame(&f, 1, seqs, 1);
	assert_int_equal(sync_session_receive(ss, f.data, f.len, NULL),
			 RUMOR_EPROTO);
	assert_int_equal(cp.frames, 0);
	sync_session_free(ss);
	wire_buf_free(&cp.last);
	wire_buf_free(&f);
	assert_true(absent(c->nodes[0].store, "bad0"));
	cluster_free(c);
}

static void test_duplicate_origins_in_digest_are_refused(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct capture cp;
	struct sync_session *ss = capture_session(c->nodes[0].store, &cp);
	struct wire_hwm h[2] = { { bad_origin, 1 }, { bad_origin, 2 } };
	struct wire_buf f;

	(void)state;
	wire_buf_init(&f);
	assert_int_equal(wire_encode_digest(&f, 9, h, 2, NULL), 0);
	assert_int_equal(sync_session_receive(ss, f.data, f.len, NULL),
			 RUMOR_EPROTO);
	sync_session_free(ss);
	wire_buf_free(&cp.last);
	wire_buf_free(&f);
	cluster_free(c);
}

static void test_second_digest_during_a_stream_is_refused(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;
	struct sync_config cfg = { 0 };
	struct wire_buf f;
	int k;
	char key[16];

	(void)state;
	for (k = 0; k < 50; k++) {
		snprintf(key, sizeof(key), "k%d", k);
		put(c, 0, key, "some value bytes");
	}
	cfg.batch_bytes = 256;
	cfg.pump_frames = 1;
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, &cfg, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	/* Deliver node 1's DIGEST: node 0 now streams (one frame a call). */
	assert_int_equal(simnet_step(l), 1);
	assert_true(simnet_queued(l, 0) >= 2);
	/* A new DIGEST before node 0 finished answering the first one. */
	wire_buf_init(&f);
	assert_int_equal(wire_encode_digest(&f, 2, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_receive(l->end[0].ss, f.data, f.len,
					      NULL), RUMOR_EPROTO);
	wire_buf_free(&f);
	simnet_link_free(l);
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_frames_are_refused_and_apply_nothing),
		cmocka_unit_test(test_malformed_mbatches_are_refused_and_apply_nothing),
		cmocka_unit_test(test_batch_before_digest_is_refused),
		cmocka_unit_test(test_duplicate_origins_in_digest_are_refused),
		cmocka_unit_test(test_second_digest_during_a_stream_is_refused),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
