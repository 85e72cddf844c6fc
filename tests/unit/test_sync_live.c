/* SPDX-License-Identifier: MIT */
/* test_sync_live: the live stream of a session (src/sync/live.c): HWMs
 * raised only without a gap, sending at once and coalescing while a frame
 * is in flight, what is not offered, and Plumtree's PRUNE, IHAVE and
 * GRAFT; and the protocol errors a peer can make with them. */
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
static const uint8_t other[STORE_ORIGIN_BYTES] = { 0x66 };

static int feed(struct sync_session *ss, const struct wire_buf *f)
{
	return sync_session_receive(ss, f->data, f->len, NULL);
}

struct lentry {
	const uint8_t *origin;
	uint64_t seq;
	uint64_t clock;
	const char *key;
};

/* Feeds a LIVE frame (an MBATCH of exchange 0) of the entries. */
static int feed_live(struct sync_session *ss, const struct lentry *le,
		     size_t n)
{
	struct wire_mbatch_builder *b = malloc(sizeof(*b));
	struct wire_entry e;
	struct wire_buf f;
	size_t i;
	int rv;

	assert_non_null(b);
	wire_buf_init(&f);
	assert_int_equal(wire_mbatch_begin(b, &f, WIRE_LIVE_EXCHANGE, NULL),
			 0);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.seq = le[i].seq;
		e.clock = le[i].clock;
		e.wall_ms = 5;
		e.key = le[i].key;
		e.key_len = strlen(le[i].key);
		e.value = "v";
		e.value_len = 1;
		assert_int_equal(wire_mbatch_add(b, le[i].origin, &e, NULL), 0);
	}
	wire_mbatch_end(b);
	rv = feed(ss, &f);
	wire_buf_free(&f);
	free(b);
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

/* A round of the session with a peer that holds nothing and sends
 * nothing: afterwards the live stream is ready. */
static void complete_round(struct sync_session *ss, struct tap *t)
{
	struct wire_msg m;
	int i;

	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 7, NULL, 0, 0), 0);
	/* Our stream to it: DONE, and ACKs for whatever was sent. */
	for (i = 0; i < t->n; i++) {
		tap_msg(t, i, &m, wire_decode(&t->dec, t->frames[i].data,
					      t->frames[i].len, &m, NULL) == 0
			? (int)m.type : -1);
		if (m.type == WIRE_BATCH || m.type == WIRE_MBATCH) {
			struct wire_buf f;

			wire_buf_init(&f);
			assert_int_equal(wire_encode_ack(&f, 7,
				m.type == WIRE_BATCH ? m.u.batch.payload_bytes
						     : m.u.mbatch.payload_bytes,
				NULL), 0);
			assert_int_equal(feed(ss, &f), 0);
			wire_buf_free(&f);
		}
	}
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, NULL, 0, 0), 0);
	assert_int_equal(sync_session_rounds(ss), 1);
}

static struct rumor_version version(const uint8_t *origin, uint64_t seq,
				    const char *key)
{
	struct rumor_version v;

	memset(&v, 0, sizeof v);
	v.key = key;
	v.key_len = strlen(key);
	v.value = "val";
	v.value_len = 3;
	v.origin = origin;
	v.origin_len = STORE_ORIGIN_BYTES;
	v.seq = seq;
	v.clock = seq;
	v.wall_ms = 7;
	return v;
}

/* ------------------------------------------------------------ receiving */

/* HWM[O] moves only while the live entries continue O's seqs; a gap
 * waits for a DONE, whatever comes later. */
static void test_live_entries_raise_the_hwm_only_without_a_gap(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct tap t;
	struct sync_session *ss = tap_session(s, &t);
	const struct lentry a[] = {
		{ peer_origin, 1, 1, "a" }, { other, 1, 1, "x" },
		{ peer_origin, 2, 1, "b" },
	};
	const struct lentry gap[] = { { peer_origin, 4, 1, "d" } };
	const struct lentry fill[] = { { peer_origin, 3, 1, "c" } };
	const struct lentry again[] = { { peer_origin, 5, 1, "e" } };
	struct wire_msg m;

	(void)state;
	assert_int_equal(feed_live(ss, a, 3), 0);
	assert_int_equal(store_hwm(s, peer_origin), 2);
	assert_int_equal(store_hwm(s, other), 1);
	/* ACK 0 for the frame's payload. */
	tap_msg(&t, t.n - 1, &m, WIRE_ACK);
	assert_int_equal(m.u.ack.exchange_id, 0);
	assert_int_equal(m.u.ack.bytes, 6);
	/* Seq 4 is stored, but 3 is missing: no raise. */
	assert_int_equal(feed_live(ss, gap, 1), 0);
	assert_true(has_key(s, "d"));
	assert_int_equal(store_hwm(s, peer_origin), 2);
	/* 3 continues 2; 4 is held but only a DONE may claim it. */
	assert_int_equal(feed_live(ss, fill, 1), 0);
	assert_int_equal(store_hwm(s, peer_origin), 3);
	assert_int_equal(feed_live(ss, again, 1), 0);
	assert_int_equal(store_hwm(s, peer_origin), 3);
	assert_int_equal(sync_live_stats(ss)->entries_received, 6);
	assert_int_equal(store_check(s, NULL), 0);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* A refused entry (above the claim bound) is not stored and does not
 * count as continuing its origin's seqs. */
static void test_a_refused_live_entry_raises_nothing(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct tap t;
	struct sync_session *ss = tap_session(s, &t);
	struct lentry e[] = {
		{ peer_origin, 1, 0, "a" }, { peer_origin, 2, 1, "b" },
	};

	(void)state;
	c->tick = 0;
	e[0].clock = sync_claim_limit(store_wall_ms(s)) + 1;
	assert_int_equal(feed_live(ss, e, 2), 0);
	assert_false(has_key(s, "a"));
	assert_true(has_key(s, "b"));
	assert_int_equal(store_hwm(s, peer_origin), 0);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* A live entry already held was a second copy: its sender is pruned for
 * that origin, once; the peer's own entries never are. */
static void test_a_duplicate_prunes_its_sender_once(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct tap t;
	struct sync_session *ss = tap_session(s, &t);
	const struct lentry x[] = { { other, 1, 1, "x" } };
	const struct lentry p[] = { { peer_origin, 1, 1, "p" } };
	struct wire_msg m;
	int n;

	(void)state;
	sync_session_set_peer_origin(ss, peer_origin);
	assert_int_equal(feed_live(ss, x, 1), 0);
	assert_int_equal(feed_live(ss, x, 1), 0);
	tap_msg(&t, t.n - 2, &m, WIRE_PRUNE);
	assert_int_equal(m.u.digest.n, 1);
	assert_memory_equal(m.u.digest.hwms[0].origin, other,
			    STORE_ORIGIN_BYTES);
	n = t.n;
	assert_int_equal(feed_live(ss, x, 1), 0);
	assert_int_equal(t.n, n + 1);            /* the ACK only */
	/* Copies of the peer's own entries: no PRUNE. */
	assert_int_equal(feed_live(ss, p, 1), 0);
	assert_int_equal(feed_live(ss, p, 1), 0);
	tap_msg(&t, t.n - 1, &m, WIRE_ACK);
	tap_msg(&t, t.n - 2, &m, WIRE_ACK);
	assert_int_equal(sync_live_stats(ss)->duplicates, 3);
	assert_int_equal(sync_live_stats(ss)->prunes_sent, 1);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* ------------------------------------------------------------ sending */

/* Nothing goes before the first round completes (that round's follow-up
 * carries it); then a frame goes at once, later offers coalesce while
 * it is in flight, and its ACK lets them go in one frame. */
static void test_offers_go_at_once_and_coalesce_in_flight(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct tap t;
	struct sync_session *ss = tap_session(s, &t);
	struct rumor_version v1 = version(other, 1, "k1");
	struct rumor_version v2 = version(other, 2, "k2");
	struct rumor_version v3 = version(other, 3, "k3");
	struct wire_buf f;
	struct wire_msg m;
	int n;

	(void)state;
	assert_int_equal(sync_live_enable(ss, NULL), 0);
	assert_false(sync_live_ready(ss));
	assert_int_equal(sync_live_offer(ss, &v1, NULL), 0);
	assert_int_equal(sync_live_flush(ss, NULL), 0);
	assert_int_equal(t.n, 0);
	complete_round(ss, &t);
	/* The offer before the round asked for another round. */
	assert_int_equal(t.want_round, 1);
	assert_true(sync_live_ready(ss));
	n = t.n;
	assert_int_equal(sync_live_offer(ss, &v1, NULL), 0);
	assert_int_equal(t.n, n);                /* not before the flush */
	assert_int_equal(sync_live_flush(ss, NULL), 0);
	assert_int_equal(t.n, n + 1);
	tap_msg(&t, n, &m, WIRE_MBATCH);
	assert_int_equal(m.u.mbatch.exchange_id, 0);
	assert_int_equal(m.u.mbatch.n, 1);
	assert_int_equal(m.u.mbatch.entries[0].seq, 1);
	assert_int_equal(sync_live_offer(ss, &v2, NULL), 0);
	assert_int_equal(sync_live_offer(ss, &v3, NULL), 0);
	assert_int_equal(sync_live_flush(ss, NULL), 0);
	assert_int_equal(t.n, n + 1);            /* one in flight */
	wire_buf_init(&f);
	assert_int_equal(wire_encode_ack(&f, 0, 5, NULL), 0);
	assert_int_equal(feed(ss, &f), 0);
	wire_buf_free(&f);
	assert_int_equal(t.n, n + 2);
	tap_msg(&t, n + 1, &m, WIRE_MBATCH);
	assert_int_equal(m.u.mbatch.n, 2);
	assert_int_equal(m.u.mbatch.entries[0].seq, 2);
	assert_int_equal(m.u.mbatch.entries[1].seq, 3);
	assert_int_equal(sync_live_stats(ss)->entries_sent, 3);
	assert_int_equal(sync_live_stats(ss)->frames_sent, 2);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* The peer's own entries and those its DIGEST holds are not offered. */
static void test_what_the_peer_holds_is_not_sent(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct tap t;
	struct sync_session *ss = tap_session(s, &t);
	struct rumor_version own = version(peer_origin, 9, "p");
	struct rumor_version held = version(other, 4, "h");
	struct rumor_version news = version(other, 5, "n");
	struct wire_msg m;
	int n;

	(void)state;
	sync_session_set_peer_origin(ss, peer_origin);
	assert_int_equal(sync_live_enable(ss, NULL), 0);
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 7, other, 4, 1), 0);
	/* our store is empty: DONE went; the peer's DONE ends the round */
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, NULL, 0, 0), 0);
	assert_true(sync_live_ready(ss));
	n = t.n;
	assert_int_equal(sync_live_offer(ss, &own, NULL), 0);
	assert_int_equal(sync_live_offer(ss, &held, NULL), 0);
	assert_int_equal(sync_live_flush(ss, NULL), 0);
	assert_int_equal(t.n, n);
	assert_int_equal(sync_live_offer(ss, &news, NULL), 0);
	assert_int_equal(sync_live_flush(ss, NULL), 0);
	assert_int_equal(t.n, n + 1);
	tap_msg(&t, n, &m, WIRE_MBATCH);
	assert_int_equal(m.u.mbatch.n, 1);
	assert_int_equal(m.u.mbatch.entries[0].seq, 5);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* After PRUNE(O) the peer gets IHAVE(O, highest seq) instead of O's
 * entries; GRAFT(O) makes O eager again. */
static void test_prune_makes_an_origin_lazy_and_graft_eager(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct tap t;
	struct sync_session *ss = tap_session(s, &t);
	struct rumor_version v1 = version(other, 1, "k1");
	struct rumor_version v2 = version(other, 2, "k2");
	struct rumor_version v3 = version(other, 3, "k3");
	struct wire_msg m;
	int n;

	(void)state;
	assert_int_equal(sync_live_enable(ss, NULL), 0);
	complete_round(ss, &t);
	assert_int_equal(feed_hwms(ss, WIRE_PRUNE, 0, other, 0, 1), 0);
	n = t.n;
	assert_int_equal(sync_live_offer(ss, &v1, NULL), 0);
	assert_int_equal(sync_live_offer(ss, &v2, NULL), 0);
	assert_int_equal(sync_live_flush(ss, NULL), 0);
	/* IHAVE waits for the lazy timer. */
	assert_int_equal(t.n, n);
	assert_true(sync_live_lazy_pending(ss));
	assert_int_equal(sync_live_flush_lazy(ss, NULL), 0);
	assert_false(sync_live_lazy_pending(ss));
	assert_int_equal(t.n, n + 1);
	tap_msg(&t, n, &m, WIRE_IHAVE);
	assert_int_equal(m.u.digest.n, 1);
	assert_int_equal(m.u.digest.hwms[0].hwm, 2);
	assert_int_equal(feed_hwms(ss, WIRE_GRAFT, 0, other, 2, 1), 0);
	assert_int_equal(sync_live_offer(ss, &v3, NULL), 0);
	assert_int_equal(sync_live_flush(ss, NULL), 0);
	assert_int_equal(t.n, n + 2);
	tap_msg(&t, n + 1, &m, WIRE_MBATCH);
	assert_int_equal(m.u.mbatch.entries[0].seq, 3);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* An IHAVE for an entry that does not come within the graft timeout
 * sends GRAFT and asks for a round; one for an entry held (or that
 * comes in time) does nothing. */
static void test_an_ihave_not_followed_by_its_entry_grafts(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct tap t;
	struct sync_session *ss = tap_session(s, &t);
	const struct lentry e1[] = { { other, 1, 1, "x1" } };
	struct wire_msg m;
	uint64_t next;
	int n;

	(void)state;
	/* Held already: nothing waits. */
	assert_int_equal(feed_live(ss, e1, 1), 0);
	assert_int_equal(feed_hwms(ss, WIRE_IHAVE, 0, other, 1, 1), 0);
	assert_int_equal(sync_live_tick(ss, t.now), 0);
	/* Seq 3 is missing. */
	assert_int_equal(feed_hwms(ss, WIRE_IHAVE, 0, other, 3, 1), 0);
	n = t.n;
	next = sync_live_tick(ss, t.now + SYNC_LIVE_GRAFT_MS - 1);
	assert_int_equal(next, t.now + SYNC_LIVE_GRAFT_MS);
	assert_int_equal(t.n, n);
	assert_int_equal(t.want_round, 0);
	assert_int_equal(sync_live_tick(ss, t.now + SYNC_LIVE_GRAFT_MS), 0);
	assert_int_equal(t.n, n + 1);
	tap_msg(&t, n, &m, WIRE_GRAFT);
	assert_memory_equal(m.u.digest.hwms[0].origin, other,
			    STORE_ORIGIN_BYTES);
	assert_int_equal(t.want_round, 1);
	assert_int_equal(sync_live_stats(ss)->grafts_sent, 1);
	/* An entry that comes in time: no graft. */
	assert_int_equal(feed_hwms(ss, WIRE_IHAVE, 0, other, 7, 1), 0);
	{
		const struct lentry e7[] = { { other, 7, 1, "x7" } };

		assert_int_equal(feed_live(ss, e7, 1), 0);
	}
	n = t.n;
	assert_int_equal(sync_live_tick(ss, t.now + 10 * SYNC_LIVE_GRAFT_MS),
			 0);
	assert_int_equal(t.n, n);
	assert_int_equal(t.want_round, 1);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

/* ------------------------------------------------------------ errors */

static void test_a_live_ack_beyond_what_was_sent_fails(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct tap t;
	struct sync_session *ss = tap_session(c->nodes[0].store, &t);
	struct wire_buf f;

	(void)state;
	wire_buf_init(&f);
	assert_int_equal(wire_encode_ack(&f, 0, 1, NULL), 0);
	assert_int_equal(feed(ss, &f), RUMOR_EPROTO);
	wire_buf_free(&f);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

static void test_a_lazy_message_with_an_exchange_id_fails(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct tap t;
	struct sync_session *ss = tap_session(c->nodes[0].store, &t);

	(void)state;
	assert_int_equal(feed_hwms(ss, WIRE_IHAVE, 3, other, 1, 1),
			 RUMOR_EPROTO);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

static void test_an_empty_live_frame_fails(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct tap t;
	struct sync_session *ss = tap_session(c->nodes[0].store, &t);

	(void)state;
	assert_int_equal(feed_live(ss, NULL, 0), RUMOR_EPROTO);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_entries_raise_the_hwm_only_without_a_gap),
		cmocka_unit_test(test_a_refused_live_entry_raises_nothing),
		cmocka_unit_test(test_a_duplicate_prunes_its_sender_once),
		cmocka_unit_test(test_offers_go_at_once_and_coalesce_in_flight),
		cmocka_unit_test(test_what_the_peer_holds_is_not_sent),
		cmocka_unit_test(test_prune_makes_an_origin_lazy_and_graft_eager),
		cmocka_unit_test(test_an_ihave_not_followed_by_its_entry_grafts),
		cmocka_unit_test(test_a_live_ack_beyond_what_was_sent_fails),
		cmocka_unit_test(test_a_lazy_message_with_an_exchange_id_fails),
		cmocka_unit_test(test_an_empty_live_frame_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
