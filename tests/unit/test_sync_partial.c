/* SPDX-License-Identifier: MIT */
/* test_sync_partial: partial replication in sync sessions (src/sync/
 * filter.c): rounds send only the receiver's replicate set, DONE raises
 * only what covers the receiver's set, the per-session cover stops a
 * partial peer from re-sending, SKIPs move a partial node's HWM live,
 * and the protocol errors around them. Binary prefixes throughout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/prefixes.h"
#include "tests/unit/test_sync_fixture.h"

/* Binary prefixes: bytes 0x00 and 0xff inside and at the end. */
static const char PA[] = "a\x00\xff";       /* 3 bytes */
static const char PB[] = "\xff\x00";        /* 2 bytes */

static void set1(struct prefixes *ps, const void *p, size_t len)
{
	const void *v[1] = { p };
	size_t l[1] = { len };

	memset(ps, 0, sizeof(*ps));
	assert_int_equal(prefixes_set(ps, v, l, 1, "test", NULL), 0);
}

/* Key i under prefix p (plen bytes): p, then "k", then i, in buf. */
static size_t pkey(char *buf, const char *p, size_t plen, int i)
{
	memcpy(buf, p, plen);
	return plen + (size_t)sprintf(buf + plen, "k%04d", i);
}

static void put_under(struct cluster *c, int node, const char *p,
		      size_t plen, int i, const char *val)
{
	char k[64];
	size_t kl = pkey(k, p, plen, i);

	put_bin(c, node, k, kl, val, strlen(val));
}

static int holds(struct store *s, const char *p, size_t plen, int i)
{
	struct store_record *rec;
	char k[64];
	size_t kl = pkey(k, p, plen, i);
	int rv = store_get_version(s, k, kl, &rec, NULL);

	if (rv == 0)
		store_record_free(rec);
	return rv == 0;
}

/* The HWM invariant of a node whose replicate set is r: for every
 * version written of a key in r. */
static void check_invariant_within(struct cluster *c, int i,
				   const struct prefixes *r)
{
	struct simnet_version *sub = calloc(c->n_all + 1, sizeof(*sub));
	struct err err = { 0 };
	size_t k, n = 0;

	assert_non_null(sub);
	for (k = 0; k < c->n_all; k++)
		if (prefixes_match(r, c->all[k].key, c->all[k].key_len))
			sub[n++] = c->all[k];     /* a shallow view */
	if (simnet_check_hwm_invariant(c->nodes[i].store, c->nodes[i].res,
				       sub, n, &err) != 0)
		fail_msg("node %d: %s", i, err.msg);
	free(sub);
}

/* A link between nodes a and b with replicate sets ra and rb (NULL:
 * full), each side told the other's, both with the FILTERS capability;
 * sc_a and sc_b: self-complete. */
static struct simnet_link *plink(struct cluster *c, int a, int b,
				 const struct prefixes *ra, int sc_a,
				 const struct prefixes *rb, int sc_b,
				 const struct sync_config *cfg)
{
	struct simnet_link *l;
	struct sync_filters f;

	assert_int_equal(simnet_link_new(&l, c->nodes[a].store,
					 c->nodes[b].store, cfg, 0, NULL), 0);
	sync_session_set_peer_origin(l->end[0].ss, c->nodes[b].origin);
	sync_session_set_peer_origin(l->end[1].ss, c->nodes[a].origin);
	memset(&f, 0, sizeof(f));
	f.ours = ra;
	f.peers = rb;
	f.peer_filters = 1;
	f.peer_self_complete = sc_b;
	f.self_complete = sc_a;
	assert_int_equal(sync_session_set_filters(l->end[0].ss, &f, NULL), 0);
	f.ours = rb;
	f.peers = ra;
	f.peer_self_complete = sc_a;
	f.self_complete = sc_b;
	assert_int_equal(sync_session_set_filters(l->end[1].ss, &f, NULL), 0);
	return l;
}

/* One complete round on l, started by end 0. */
static void pround(struct simnet_link *l)
{
	uint64_t r0 = l->end[0].rounds, r1 = l->end[1].rounds;

	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	if (simnet_run(l, UINT64_C(1) << 32) != 0)
		fail_msg("round: %s / %s", l->end[0].err.msg,
			 l->end[1].err.msg);
	assert_int_equal(l->end[0].rounds, r0 + 1);
	assert_int_equal(l->end[1].rounds, r1 + 1);
}

/* ------------------------------------------------------------ rounds */

/* A full node streams a partial one only the keys of its set, in log
 * order and in key order alike: the entries and payload bytes sent are
 * those of the set's keys, and nothing else is stored there. */
static void full_to_partial_sends_only_the_set(enum sync_order order)
{
	struct cluster *c = cluster_new(2, NULL);
	struct sync_config cfg = { .order = order };
	struct prefixes r;
	struct simnet_link *l;
	int i;

	set1(&r, PA, 3);
	for (i = 0; i < 40; i++) {
		put_under(c, 0, PA, 3, i, "in");          /* 3+5 + 2 bytes */
		put_under(c, 0, PB, 2, i, "outside");
		put_under(c, 0, "a", 1, i, "near");       /* "a" but not PA */
	}
	l = plink(c, 1, 0, &r, 1, NULL, 1, &cfg);
	pround(l);
	assert_int_equal(l->end[1].last.entries_sent, 40);
	assert_int_equal(l->end[1].last.payload_sent, 40 * (8 + 2));
	assert_int_equal(l->end[1].last.key_order,
			 order == SYNC_ORDER_KEY);
	assert_int_equal(l->end[0].last.entries_outside, 0);
	for (i = 0; i < 40; i++) {
		assert_true(holds(c->nodes[1].store, PA, 3, i));
		assert_false(holds(c->nodes[1].store, PB, 2, i));
		assert_false(holds(c->nodes[1].store, "a", 1, i));
	}
	/* Our DONE raised the partial node's HWM for node 0 (our set is
	 * within the full sender's): it claims node 0's writes for PA. */
	assert_int_equal(store_hwm(c->nodes[1].store, c->nodes[0].origin),
			 120);
	check_invariant_within(c, 1, &r);
	simnet_link_free(l);
	prefixes_free(&r);
	cluster_free(c);
}

static void test_full_to_partial_log_order_sends_only_the_set(void **state)
{
	(void)state;
	full_to_partial_sends_only_the_set(SYNC_ORDER_LOG);
}

static void test_full_to_partial_key_order_sends_only_the_set(void **state)
{
	(void)state;
	full_to_partial_sends_only_the_set(SYNC_ORDER_KEY);
}

/* Key order seeks from one of the receiver's prefixes to the next: a
 * prefix of one 0x00 byte (from the first key), one ending in 0x00 and
 * one of 0xff bytes, with keys between, below and above them all. */
static void test_key_order_seeks_over_binary_prefixes(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct sync_config cfg = { .order = SYNC_ORDER_KEY };
	const void *pv[3] = { "\x00", "a\x00", "\xff\xff" };
	size_t pl[3] = { 1, 2, 2 };
	static const struct { const char *k; size_t n; int in; } keys[] = {
		{ "\x00", 1, 1 }, { "\x00\xff", 2, 1 }, { "\x01", 1, 0 },
		{ "a", 1, 0 }, { "a\x00", 2, 1 }, { "a\x00z", 3, 1 },
		{ "a\x01", 2, 0 }, { "`\xff", 2, 0 }, { "\xff", 1, 0 },
		{ "\xff\xfe\xff", 3, 0 }, { "\xff\xff", 2, 1 },
		{ "\xff\xff\x00", 3, 1 },
	};
	const size_t nk = sizeof(keys) / sizeof(keys[0]);
	struct prefixes r;
	struct simnet_link *l;
	struct store_record *rec;
	size_t i, want = 0;
	int rv;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(prefixes_set(&r, pv, pl, 3, "test", NULL), 0);
	for (i = 0; i < nk; i++) {
		put_bin(c, 0, keys[i].k, keys[i].n, "v", 1);
		want += (size_t)keys[i].in;
	}
	l = plink(c, 1, 0, &r, 1, NULL, 1, &cfg);
	pround(l);
	assert_true(l->end[1].last.key_order);
	assert_int_equal(l->end[1].last.entries_sent, want);
	for (i = 0; i < nk; i++) {
		rv = store_get_version(c->nodes[1].store, keys[i].k,
				       keys[i].n, &rec, NULL);
		if (rv == 0)
			store_record_free(rec);
		if ((rv == 0) != keys[i].in)
			fail_msg("key %zu: held %d, in the set %d", i,
				 rv == 0, keys[i].in);
	}
	check_invariant_within(c, 1, &r);
	simnet_link_free(l);
	prefixes_free(&r);
	cluster_free(c);
}

/* Two partial nodes with disjoint sets: each gets nothing of the
 * other's set from the other's store, and claims only the other's own
 * origin (both self-complete), never a third origin it learned. */
static void test_two_partial_nodes_with_disjoint_sets(void **state)
{
	struct cluster *c = cluster_new(3, NULL);
	struct prefixes ra, rb;
	struct simnet_link *l;
	int i;

	(void)state;
	set1(&ra, PA, 3);
	set1(&rb, PB, 2);
	for (i = 0; i < 5; i++) {
		put_under(c, 0, PA, 3, i, "n0");
		put_under(c, 1, PB, 2, i, "n1");
		put_under(c, 2, PA, 3, 10 + i, "n2");
		put_under(c, 2, PB, 2, 10 + i, "n2");
	}
	l = plink(c, 0, 2, &ra, 1, NULL, 1, NULL);      /* 0 learns n2's PA */
	pround(l);
	simnet_link_free(l);
	l = plink(c, 0, 1, &ra, 1, &rb, 1, NULL);
	pround(l);
	assert_int_equal(l->end[0].last.entries_received, 0);
	assert_int_equal(l->end[1].last.entries_received, 0);
	assert_int_equal(store_hwm(c->nodes[0].store, c->nodes[1].origin), 5);
	assert_int_equal(store_hwm(c->nodes[1].store, c->nodes[0].origin), 5);
	assert_int_equal(store_hwm(c->nodes[1].store, c->nodes[2].origin), 0);
	for (i = 0; i < 5; i++) {
		assert_false(holds(c->nodes[0].store, PB, 2, i));
		assert_false(holds(c->nodes[1].store, PA, 3, i));
	}
	check_invariant_within(c, 0, &ra);
	check_invariant_within(c, 1, &rb);
	simnet_link_free(l);
	prefixes_free(&ra);
	prefixes_free(&rb);
	cluster_free(c);
}

/* A partial node's DONE raises a full node's HWM only for the partial
 * node's own origin (when self-complete), not for the origins whose
 * other keys it never held; with no SELF_COMPLETE, not even that. */
static void partial_done_raises(int self_complete)
{
	struct cluster *c = cluster_new(3, NULL);
	struct prefixes r;
	struct simnet_link *l;
	int i;

	set1(&r, PA, 3);
	for (i = 0; i < 10; i++) {
		put_under(c, 2, PA, 3, i, "w2");
		put_under(c, 2, PB, 2, i, "w2");
		put_under(c, 1, PA, 3, 100 + i, "own");
	}
	/* Node 1 (partial) learns node 2's PA keys first. */
	l = plink(c, 1, 2, &r, 1, NULL, 1, NULL);
	pround(l);
	simnet_link_free(l);
	assert_int_equal(store_hwm(c->nodes[1].store, c->nodes[2].origin),
			 20);
	/* Then full node 0 pulls from it. */
	l = plink(c, 0, 1, NULL, 1, &r, self_complete, NULL);
	pround(l);
	assert_int_equal(l->end[0].last.entries_received, 20);
	assert_int_equal(store_hwm(c->nodes[0].store, c->nodes[1].origin),
			 self_complete ? 10 : 0);
	assert_int_equal(store_hwm(c->nodes[0].store, c->nodes[2].origin),
			 0);
	for (i = 0; i < 10; i++)
		assert_true(holds(c->nodes[0].store, PA, 3, i));
	check_invariant_within(c, 0, &(struct prefixes){ .n = 0 });
	simnet_link_free(l);
	/* Node 0 meets node 2 and gets the rest: everything converges. */
	exchange(c, 0, 2);
	assert_int_equal(store_hwm(c->nodes[0].store, c->nodes[2].origin),
			 20);
	prefixes_free(&r);
	cluster_free(c);
}

static void test_partial_done_raises_only_its_own_origin(void **state)
{
	(void)state;
	partial_done_raises(1);
}

static void test_partial_done_without_self_complete_raises_nothing(
	void **state)
{
	(void)state;
	partial_done_raises(0);
}

/* The sender's side of the rule: a partial node clamps its DONE for a
 * receiver without the FILTERS capability (an older node, which believes
 * any DONE): every origin at the receiver's DIGEST value, but the
 * sender's own (self-complete). A receiver with the capability gets the
 * true values (it applies the rule itself and keeps them as cover). */
static void sender_done(int peer_filters, uint64_t want_o2)
{
	struct cluster *c = cluster_new(2, NULL);
	struct store *s = c->nodes[0].store;
	const uint8_t *own = c->nodes[0].origin;
	const uint8_t *o2 = c->nodes[1].origin;
	struct sync_filters f = { 0 };
	struct prefixes r;
	struct sync_session *ss;
	struct wire_msg m;
	struct tap t;
	int i;

	set1(&r, PA, 3);
	for (i = 0; i < 5; i++) {
		put_under(c, 1, PA, 3, i, "x");
		put_under(c, 0, PA, 3, 50 + i, "own");
	}
	exchange(c, 0, 1);      /* node 0 holds o2's 5 entries */
	ss = tap_session(s, &t);
	f.ours = &r;
	f.peers = NULL;         /* a full receiver */
	f.peer_filters = peer_filters;
	f.self_complete = 1;
	assert_int_equal(sync_session_set_filters(ss, &f, NULL), 0);
	/* The receiver's DIGEST: it has 2 of o2's. */
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 9, o2, 2, 1), 0);
	for (i = 0; i < t.n; i++) {
		tap_msg(&t, i, &m, wire_decode(&t.dec, t.frames[i].data,
					       t.frames[i].len, &m, NULL) == 0
			? (int)m.type : -1);
		if (m.type != WIRE_DONE)
			continue;
		assert_int_equal(m.u.digest.n, 2);
		for (size_t k = 0; k < 2; k++) {
			const struct wire_hwm *h = &m.u.digest.hwms[k];

			if (memcmp(h->origin, own, STORE_ORIGIN_BYTES) == 0)
				assert_int_equal(h->hwm, 5);
			else
				assert_int_equal(h->hwm, want_o2);
		}
		break;
	}
	assert_true(i < t.n);
	sync_session_free(ss);
	tap_free(&t);
	prefixes_free(&r);
	cluster_free(c);
}

static void test_partial_sender_clamps_its_done_for_an_old_node(
	void **state)
{
	(void)state;
	sender_done(0, 2);
}

static void test_partial_sender_tells_a_filters_node_the_truth(
	void **state)
{
	(void)state;
	sender_done(1, 5);
}

/* "Never receives them again and again": a full node's next DIGEST to a
 * partial peer covers what that peer's DONE said, so the second round
 * on the connection moves nothing. */
static void test_no_resend_from_a_partial_peer_next_round(void **state)
{
	struct cluster *c = cluster_new(3, NULL);
	struct prefixes r;
	struct simnet_link *l;
	int i;

	(void)state;
	set1(&r, PB, 2);
	for (i = 0; i < 30; i++) {
		put_under(c, 2, PB, 2, i, "w2");
		put_under(c, 2, PA, 3, i, "w2");
	}
	l = plink(c, 1, 2, &r, 1, NULL, 1, NULL);
	pround(l);
	simnet_link_free(l);
	l = plink(c, 0, 1, NULL, 1, &r, 1, NULL);
	pround(l);
	assert_int_equal(l->end[0].last.entries_received, 30);
	pround(l);
	assert_int_equal(l->end[0].last.entries_received, 0);
	assert_int_equal(l->end[1].last.entries_sent, 0);
	/* The partial node started it too: the same. */
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, UINT64_C(1) << 32), 0);
	assert_int_equal(l->end[0].last.entries_received, 0);
	/* And the store HWMs claim nothing of o2 (the cover is memory). */
	assert_int_equal(store_hwm(c->nodes[0].store, c->nodes[2].origin), 0);
	check_invariant_within(c, 0, &(struct prefixes){ .n = 0 });
	simnet_link_free(l);
	prefixes_free(&r);
	cluster_free(c);
}

/* A full node next to a partial one converges exactly as before: the
 * full nodes end identical, with every write, and the partial node holds
 * exactly its set's keys of that state. */
static void test_full_nodes_converge_next_to_a_partial_one(void **state)
{
	struct cluster *c = cluster_new(3, NULL);
	struct prefixes r, full = { .n = 0 };
	const void *pv[2] = { PA, "t/" };
	size_t pl[2] = { 3, 2 };
	struct simnet_link *l;
	int i, pass;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(prefixes_set(&r, pv, pl, 2, "test", NULL), 0);
	for (i = 0; i < 20; i++) {
		put_under(c, 0, PA, 3, i, "n0");
		put_under(c, 0, PB, 2, i, "n0");
		put_under(c, 2, PA, 3, i + 5, "n2");
		put_under(c, 2, PB, 2, i + 5, "n2");
		put_under(c, 1, PA, 3, i + 10, "n1");
	}
	/* Tombstones inside and outside the set. */
	put(c, 2, "t/x", "1");
	del(c, 2, "t/x");
	put(c, 0, "u/y", "1");
	del(c, 0, "u/y");
	for (pass = 0; pass < 2; pass++) {
		l = plink(c, 0, 1, NULL, 1, &r, 1, NULL);
		pround(l);
		simnet_link_free(l);
		l = plink(c, 2, 1, NULL, 1, &r, 1, NULL);
		pround(l);
		simnet_link_free(l);
		exchange(c, 0, 2);
	}
	assert_true(simnet_same_state(c->nodes[0].store, c->nodes[2].store));
	check_invariant_within(c, 0, &full);
	check_invariant_within(c, 2, &full);
	check_invariant_within(c, 1, &r);
	for (i = 0; i < 30; i++) {
		assert_true(holds(c->nodes[0].store, PA, 3, i));
		assert_true(holds(c->nodes[1].store, PA, 3, i));
		assert_false(holds(c->nodes[1].store, PB, 2, i));
	}
	assert_value(c, 1, "t/x", NULL);
	assert_value(c, 0, "u/y", NULL);
	{
		struct store_record *rec;

		/* The tombstone inside the set is there, the other not. */
		assert_int_equal(store_get_version(c->nodes[1].store, "t/x",
						   3, &rec, NULL), 0);
		assert_true(rec->v.deleted);
		store_record_free(rec);
		assert_int_equal(store_get_version(c->nodes[1].store, "u/y",
						   3, &rec, NULL),
				 RUMOR_ENOTFOUND);
	}
	prefixes_free(&r);
	cluster_free(c);
}

/* ------------------------------------------------------------ live */

/* Feeds a LIVE frame: entries (origin, seq, key or NULL for a SKIP). */
struct lentry {
	const uint8_t *origin;
	uint64_t seq;
	const char *key;
	size_t key_len;
};

static int feed_frame(struct sync_session *ss, uint64_t xid,
		      const struct lentry *le, size_t n)
{
	struct wire_mbatch_builder *b = malloc(sizeof(*b));
	struct wire_entry e;
	struct wire_buf f;
	size_t i;
	int rv;

	assert_non_null(b);
	wire_buf_init(&f);
	assert_int_equal(wire_mbatch_begin(b, &f, xid, NULL), 0);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.seq = le[i].seq;
		if (le[i].key == NULL) {
			e.skip = 1;
		} else {
			e.clock = 1;
			e.wall_ms = 5;
			e.key = le[i].key;
			e.key_len = le[i].key_len;
			e.value = "v";
			e.value_len = 1;
		}
		assert_int_equal(wire_mbatch_add(b, le[i].origin, &e, NULL), 0);
	}
	wire_mbatch_end(b);
	rv = sync_session_receive(ss, f.data, f.len, NULL);
	wire_buf_free(&f);
	free(b);
	return rv;
}

static const uint8_t po[STORE_ORIGIN_BYTES] = { 0x55 };

/* A partial node's HWM moves live through SKIPs and entries outside its
 * set (an old sender), exactly as a full node's would; only the entry
 * of its set is stored. */
static void test_partial_hwm_moves_live_through_skips(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct sync_filters f = { 0 };
	struct prefixes r;
	struct sync_session *ss;
	struct tap t;
	const struct lentry e[] = {
		{ po, 1, NULL, 0 },              /* SKIP */
		{ po, 2, "\xff\x00zz", 4 },      /* outside: not stored */
		{ po, 3, "a\x00\xffq", 4 },      /* inside */
		{ po, 4, NULL, 0 },
	};
	const struct lentry gap[] = { { po, 6, NULL, 0 } };

	(void)state;
	set1(&r, PA, 3);
	ss = tap_session(s, &t);
	f.ours = &r;
	assert_int_equal(sync_session_set_filters(ss, &f, NULL), 0);
	assert_int_equal(feed_frame(ss, WIRE_LIVE_EXCHANGE, e, 4), 0);
	assert_int_equal(store_hwm(s, po), 4);
	assert_int_equal(sync_live_stats(ss)->skips_received, 2);
	assert_int_equal(sync_live_stats(ss)->outside, 1);
	{
		struct store_stats st;

		store_get_stats(s, &st);
		assert_int_equal(st.log_entries, 1);
	}
	/* A SKIP after a gap raises nothing, like an entry. */
	assert_int_equal(feed_frame(ss, WIRE_LIVE_EXCHANGE, gap, 1), 0);
	assert_int_equal(store_hwm(s, po), 4);
	/* A duplicate SKIP is ignored: no PRUNE. */
	assert_int_equal(feed_frame(ss, WIRE_LIVE_EXCHANGE, e, 1), 0);
	assert_int_equal(sync_live_stats(ss)->prunes_sent, 0);
	sync_session_free(ss);
	tap_free(&t);
	prefixes_free(&r);
	cluster_free(c);
}

/* The sending side: to a partial peer with the FILTERS capability an
 * entry outside its set goes as a SKIP (no key, no value); to a peer
 * without the capability it does not go at all. */
static void live_sender(int peer_filters)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct sync_filters f = { 0 };
	struct rumor_version v;
	struct prefixes r;
	struct sync_session *ss;
	struct wire_msg m;
	struct tap t;
	int i;

	set1(&r, PA, 3);
	ss = tap_session(s, &t);
	f.peers = &r;
	f.peer_filters = peer_filters;
	assert_int_equal(sync_session_set_filters(ss, &f, NULL), 0);
	assert_int_equal(sync_live_enable(ss, NULL), 0);
	/* A round first: live is ready after it. */
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DIGEST, 7, NULL, 0, 0), 0);
	assert_int_equal(feed_hwms(ss, WIRE_DONE, 1, NULL, 0, 0), 0);
	assert_int_equal(sync_session_rounds(ss), 1);
	memset(&v, 0, sizeof(v));
	v.origin = po;
	v.origin_len = STORE_ORIGIN_BYTES;
	v.clock = 1;
	v.wall_ms = 3;
	v.value = "val";
	v.value_len = 3;
	v.seq = 1;
	v.key = "\xff\x00out";
	v.key_len = 5;
	assert_int_equal(sync_live_offer(ss, &v, NULL), 0);
	v.seq = 2;
	v.key = "a\x00\xffin";
	v.key_len = 5;
	assert_int_equal(sync_live_offer(ss, &v, NULL), 0);
	i = t.n;
	assert_int_equal(sync_live_flush(ss, NULL), 0);
	assert_int_equal(t.n, i + 1);
	tap_msg(&t, i, &m, WIRE_MBATCH);
	assert_int_equal(m.u.mbatch.exchange_id, WIRE_LIVE_EXCHANGE);
	if (peer_filters) {
		assert_int_equal(m.u.mbatch.n, 2);
		assert_true(m.u.mbatch.entries[0].skip);
		assert_int_equal(m.u.mbatch.entries[0].seq, 1);
		assert_int_equal(m.u.mbatch.entries[0].key_len, 0);
		assert_false(m.u.mbatch.entries[1].skip);
		assert_int_equal(sync_live_stats(ss)->skips_sent, 1);
	} else {
		assert_int_equal(m.u.mbatch.n, 1);
		assert_false(m.u.mbatch.entries[0].skip);
	}
	assert_int_equal(m.u.mbatch.payload_bytes, 5 + 3);
	sync_session_free(ss);
	tap_free(&t);
	prefixes_free(&r);
	cluster_free(c);
}

static void test_live_sends_skips_to_a_partial_peer(void **state)
{
	(void)state;
	live_sender(1);
}

static void test_live_sends_nothing_outside_to_a_peer_without_filters(
	void **state)
{
	(void)state;
	live_sender(0);
}

/* ------------------------------------------------------------ errors */

/* A SKIP to a full node, or outside a LIVE frame, is a protocol error,
 * and nothing of the frame is applied. */
static void test_misplaced_skips_are_protocol_errors(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct store *s = c->nodes[0].store;
	struct sync_session *ss;
	struct tap t;
	const struct lentry e[] = {
		{ po, 1, "a\x00\xffq", 4 }, { po, 2, NULL, 0 },
	};

	(void)state;
	ss = tap_session(s, &t);
	assert_int_equal(feed_frame(ss, WIRE_LIVE_EXCHANGE, e, 2),
			 RUMOR_EPROTO);
	assert_int_equal(store_hwm(s, po), 0);
	{
		struct store_stats st;

		store_get_stats(s, &st);
		assert_int_equal(st.log_entries, 0);
	}
	sync_session_free(ss);
	tap_free(&t);
	/* In a round's MBATCH: the decoder refuses it, whatever R. */
	ss = tap_session(s, &t);
	assert_int_equal(sync_session_start(ss, NULL), 0);
	assert_int_equal(feed_frame(ss, 1, e, 2), RUMOR_EPROTO);
	sync_session_free(ss);
	tap_free(&t);
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_full_to_partial_log_order_sends_only_the_set),
		cmocka_unit_test(
			test_full_to_partial_key_order_sends_only_the_set),
		cmocka_unit_test(test_key_order_seeks_over_binary_prefixes),
		cmocka_unit_test(test_two_partial_nodes_with_disjoint_sets),
		cmocka_unit_test(test_partial_done_raises_only_its_own_origin),
		cmocka_unit_test(
		    test_partial_done_without_self_complete_raises_nothing),
		cmocka_unit_test(
		    test_partial_sender_clamps_its_done_for_an_old_node),
		cmocka_unit_test(
		    test_partial_sender_tells_a_filters_node_the_truth),
		cmocka_unit_test(test_no_resend_from_a_partial_peer_next_round),
		cmocka_unit_test(
			test_full_nodes_converge_next_to_a_partial_one),
		cmocka_unit_test(test_partial_hwm_moves_live_through_skips),
		cmocka_unit_test(test_live_sends_skips_to_a_partial_peer),
		cmocka_unit_test(
		  test_live_sends_nothing_outside_to_a_peer_without_filters),
		cmocka_unit_test(test_misplaced_skips_are_protocol_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
