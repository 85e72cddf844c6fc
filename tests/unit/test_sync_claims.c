/* SPDX-License-Identifier: MIT */
/* test_sync_claims: what a peer may claim (src/sync/claims.c): the bound
 * that grows with wall time, entries refused and not covered by DONE, a
 * DONE no higher than its sender's DIGEST (and an honest sender's never
 * is), claims on our own origin, and store_lower_hwm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/test_sync_fixture.h"

static const uint8_t peer_origin[STORE_ORIGIN_BYTES] = { 0x55 };

/* Feeds a BATCH of origin: entries with the given seqs and clocks, keys
 * "c<seq>". */
static int feed_batch(struct sync_session *ss, uint64_t xid,
		      const uint8_t *origin, const uint64_t *seqs,
		      const uint64_t *clocks, size_t n)
{
	struct wire_batch_builder b;
	struct wire_entry e;
	struct wire_buf f;
	char keys[8][24];
	size_t i;
	int rv;

	assert_true(n <= 8);
	wire_buf_init(&f);
	assert_int_equal(wire_batch_begin(&b, &f, xid, origin, NULL), 0);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		snprintf(keys[i], sizeof keys[i], "c%llu",
			 (unsigned long long)seqs[i]);
		e.seq = seqs[i];
		e.clock = clocks[i];
		e.wall_ms = 5;
		e.key = keys[i];
		e.key_len = strlen(keys[i]);
		e.value = "v";
		e.value_len = 1;
		assert_int_equal(wire_batch_add(&b, &e, NULL), 0);
	}
	wire_batch_end(&b);
	rv = sync_session_receive(ss, f.data, f.len, NULL);
	wire_buf_free(&f);
	return rv;
}

static int has_key(struct store *s, const char *key)
{
	struct store_record *rec;
	int rv = store_get_version(s, key, strlen(key), &rec, NULL);

	if (rv == 0)
		store_record_free(rec);
	return rv == 0;
}

/* ------------------------------------------------------------ tests */

static void test_claim_limit_grows_with_wall_time(void **state)
{
	uint64_t now = 1796000000000ull;     /* 2026 */

	(void)state;
	assert_true(sync_claim_limit(0) ==
		    (uint64_t)SYNC_CLAIM_PER_MS * SYNC_CLAIM_AHEAD_MS);
	assert_true(sync_claim_limit(now + 1) - sync_claim_limit(now) ==
		    SYNC_CLAIM_PER_MS);
	/* Near 2^54 today: room for ~2^63 writes above it. */
	assert_true(sync_claim_limit(now) > (1ull << 53));
	assert_true(sync_claim_limit(now) < (1ull << 55));
	assert_true(sync_claim_limit(UINT64_MAX) == UINT64_MAX);
	assert_true(sync_claim_limit(UINT64_MAX / SYNC_CLAIM_PER_MS) ==
		    UINT64_MAX);
}

/* Entries beyond the bound are not stored, the rest of the frame is, and
 * the DONE raises their origin only to the first refused seq - 1. */
static void test_refused_entry_is_not_stored_nor_covered(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	static const uint64_t seqs[] = { 1, 2, 3 };
	uint64_t clocks[] = { 1, 0, 1 };
	struct tap t;
	struct sync_session *ss = tap_session(s, &t);

	(void)state;
	c->tick = 0;
	clocks[1] = sync_claim_limit(store_wall_ms(s)) + 1;
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 7, peer_origin, 3, 1), 0);
	assert_int_equal(feed_batch(ss, 1, peer_origin, seqs, clocks, 3), 0);
	assert_true(has_key(s, "c1"));
	assert_false(has_key(s, "c2"));
	assert_true(has_key(s, "c3"));
	assert_int_equal(t.refused[REFUSE_CLOCK_LIMIT], 1);
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, peer_origin, 3, 1), 0);
	/* Seq 2 must come again: HWM 1, not 3. */
	assert_int_equal(store_hwm(s, peer_origin), 1);
	sync_session_free(ss);
	tap_free(&t);
	/* A millisecond later the bound has grown past it: the next
	 * exchange sends it again, and it is taken. */
	c->wall += 1;
	ss = tap_session(s, &t);
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 8, peer_origin, 3, 1), 0);
	assert_int_equal(feed_batch(ss, 1, peer_origin, &seqs[1], &clocks[1],
				    1), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, peer_origin, 3, 1), 0);
	assert_true(has_key(s, "c2"));
	assert_int_equal(store_hwm(s, peer_origin), 3);
	assert_int_equal(t.refused[REFUSE_CLOCK_LIMIT], 0);
	assert_int_equal(store_check(s, NULL), 0);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* A DONE above the peer's DIGEST is clamped to it; a DONE with no DIGEST
 * of the round raises nothing; HWMs above the bound are refused. */
static void test_done_is_clamped_to_the_senders_digest(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct tap t;
	struct sync_session *ss = tap_session(s, &t);
	uint64_t limit;

	(void)state;
	c->tick = 0;
	limit = sync_claim_limit(store_wall_ms(s));
	/* No peer DIGEST in the round. */
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, peer_origin, 9, 1), 0);
	assert_int_equal(store_hwm(s, peer_origin), 0);
	assert_int_equal(t.refused[REFUSE_HWM_DIGEST], 1);
	sync_session_free(ss);
	tap_free(&t);

	/* DIGEST 5, DONE 9: raised to 5. */
	ss = tap_session(s, &t);
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 7, peer_origin, 5, 1), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, peer_origin, 9, 1), 0);
	assert_int_equal(store_hwm(s, peer_origin), 5);
	assert_int_equal(t.refused[REFUSE_HWM_DIGEST], 1);
	sync_session_free(ss);
	tap_free(&t);

	/* DIGEST and DONE at 2^64-1: the DIGEST is clamped to the bound, the
	 * DONE refused. */
	ss = tap_session(s, &t);
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 7, peer_origin,
				   UINT64_MAX, 1), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, peer_origin, UINT64_MAX,
				   1), 0);
	assert_int_equal(t.refused[REFUSE_HWM_LIMIT], 2);
	assert_int_equal(store_hwm(s, peer_origin), 5);
	assert_true(store_hwm(s, peer_origin) <= limit);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* Our DONE never claims more than our DIGEST of the round, even when the
 * store moved between the DIGEST and the snapshot: the peer would refuse
 * the excess, and the counter must mean a lie. */
static void test_honest_done_never_exceeds_its_digest(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct wire_decoder dec;
	struct wire_msg dg, dn;
	struct tap t;
	struct sync_session *ss;
	uint64_t said;

	(void)state;
	put(c, 0, "a", "1");
	ss = tap_session(s, &t);
	wire_decoder_init(&dec);
	assert_int_equal(sync_session_start(ss, NULL), 0);
	tap_decode(&t, 0, &dec, &dg, WIRE_DIGEST);
	assert_int_equal(dg.u.digest.n, 1);
	said = dg.u.digest.hwms[0].hwm;
	assert_int_equal(said, 1);
	/* Writes after our DIGEST, before the peer's arrives. */
	put(c, 0, "b", "2");
	put(c, 0, "c", "3");
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 7, NULL, 0, 0), 0);
	tap_decode(&t, t.n - 1, &dec, &dn, WIRE_DONE);
	assert_int_equal(dn.u.digest.exchange_id, 7);
	assert_int_equal(dn.u.digest.n, 1);
	assert_int_equal(dn.u.digest.hwms[0].hwm, said);
	wire_decoder_free(&dec);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* Claims on our own origin: accepted before this node's first local
 * write since it opened (a node restored from an old copy relearns its
 * writes), refused after it (entries not stored, HWMs clamped). */
static void test_own_origin_claims(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	const uint8_t *self = c->nodes[0].origin;
	static const uint64_t relearn[] = { 3 };
	static const uint64_t above[] = { 9 };
	static const uint64_t one[] = { 1 };
	struct tap t;
	struct sync_session *ss;

	(void)state;
	/* Relearning: nothing written since the store opened. */
	ss = tap_session(s, &t);
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 7, self, 5, 1), 0);
	assert_int_equal(feed_batch(ss, 1, self, relearn, one, 1), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, self, 5, 1), 0);
	assert_true(has_key(s, "c3"));
	assert_int_equal(store_local_seq(s), 5);
	assert_int_equal(t.refused[REFUSE_OWN_SEQ] +
			 t.refused[REFUSE_HWM_OWN], 0);
	sync_session_free(ss);
	tap_free(&t);

	/* After a local write: refused. */
	put(c, 0, "mine", "x");
	assert_int_equal(store_local_seq(s), 6);
	ss = tap_session(s, &t);
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 7, self, 1000, 1), 0);
	assert_int_equal(feed_batch(ss, 1, self, above, one, 1), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, self, 1000, 1), 0);
	assert_false(has_key(s, "c9"));
	assert_int_equal(t.refused[REFUSE_OWN_SEQ], 1);
	assert_int_equal(t.refused[REFUSE_HWM_OWN], 1);
	assert_int_equal(store_local_seq(s), 6);
	assert_int_equal(store_hwm(s, self), 6);
	assert_int_equal(store_check(s, NULL), 0);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* store_lower_hwm: lowers (never raises), persists, refuses our own
 * origin, and leaves a store that checks. */
static void test_store_lower_hwm(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct store_hwm h;
	struct err err;

	(void)state;
	put(c, 0, "mine", "x");
	memcpy(h.origin, peer_origin, STORE_ORIGIN_BYTES);
	h.seq = 40;
	assert_int_equal(store_apply_batch(s, NULL, 0, &h, 1, NULL, NULL), 0);
	assert_int_equal(store_lower_hwm(s, peer_origin, 50, NULL), 0);
	assert_int_equal(store_hwm(s, peer_origin), 40);
	assert_int_equal(store_lower_hwm(s, peer_origin, 10, NULL), 0);
	assert_int_equal(store_hwm(s, peer_origin), 10);
	assert_int_equal(store_check(s, NULL), 0);
	err_clear(&err);
	assert_int_equal(store_lower_hwm(s, c->nodes[0].origin, 0, &err),
			 RUMOR_EINVAL);
	assert_int_equal(store_hwm(s, c->nodes[0].origin), 1);
	assert_int_equal(store_lower_hwm(s, peer_origin, 0, NULL), 0);
	assert_int_equal(store_check(s, NULL), 0);
	store_close(s);
	node_open(c, 0);
	s = c->nodes[0].store;
	assert_int_equal(store_hwm(s, peer_origin), 0);
	assert_int_equal(store_check(s, NULL), 0);
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_limit_grows_with_wall_time),
		cmocka_unit_test(test_refused_entry_is_not_stored_nor_covered),
		cmocka_unit_test(test_done_is_clamped_to_the_senders_digest),
		cmocka_unit_test(test_honest_done_never_exceeds_its_digest),
		cmocka_unit_test(test_own_origin_claims),
		cmocka_unit_test(test_store_lower_hwm),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
