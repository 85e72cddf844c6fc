/* SPDX-License-Identifier: MIT */
/* test_partial: whole nodes with a replicate set next to full ones, on
 * one loop over TCP on 127.0.0.1 (nodes_fixture): the partial node holds
 * exactly its set, its HWMs move live like a full node's, it does not
 * hold back tombstone collection of keys outside its set, the full nodes
 * converge as before; and the HELLO sets a node refuses. Binary
 * prefixes (0x00 and 0xff bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/prefixes.h"
#include "node/net_int.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "store/store.h"
#include "tests/integration/nodes_fixture.h"
#include "tests/lib/testutil.h"

static const char PA[] = "a\x00\xff";       /* the partial node's set */
#define PA_LEN 3

/* Opens node i as open_node does, with the replicate set {p}. */
static int open_partial(struct cluster *c, int i, const char *const *peers,
			size_t n_peers, const void *p, size_t plen)
{
	struct rumor_options o;
	const void *rv_p[1] = { p };
	size_t rv_l[1] = { plen };

	node_options(c, i, peers, n_peers, &o);
	o.replicate = rv_p;
	o.replicate_len = rv_l;
	o.n_replicate = 1;
	return open_node_with(c, i, &o);
}

/* Node 0 full, node 1 partial (PA), node 2 full; both seeded by 0. */
static void start3(struct cluster *c)
{
	const char *seed[1];

	cluster_start(c, 1);
	c->n = 3;
	c->dirs[1] = tu_tmpdir("nodes");
	c->dirs[2] = tu_tmpdir("nodes");
	seed[0] = c->addrs[0];
	assert_int_equal(open_partial(c, 1, seed, 1, PA, PA_LEN), 0);
	assert_int_equal(open_node(c, 2, seed, 1), 0);
}

static size_t key_of(char *buf, const char *p, size_t plen, int i)
{
	memcpy(buf, p, plen);
	return plen + (size_t)sprintf(buf + plen, "%d", i);
}

/* A write on node i, retried while it still catches up. */
static void put_on(struct cluster *c, int i, const void *k, size_t kl,
		   const char *v)
{
	int rv;

	for (int tries = 0; tries < 2000; tries++) {
		rv = rumor_put(c->nodes[i], k, kl, v, strlen(v));
		if (rv != RUMOR_EREFUSED)
			break;
		run_once(c);
	}
	assert_int_equal(rv, 0);
}

static void put_del(struct cluster *c, const void *k, size_t kl)
{
	assert_int_equal(rumor_del(c->nodes[0], k, kl), 0);
}

static int get_is(struct cluster *c, int i, const void *k, size_t kl,
		  const char *want)
{
	void *v = NULL;
	size_t len = 0;
	int rv = rumor_get(c->nodes[i], k, kl, &v, &len);
	int ok = want == NULL ? rv == RUMOR_ENOTFOUND
			      : rv == 0 && len == strlen(want) &&
				memcmp(v, want, len) == 0;

	rumor_free(v);
	return ok;
}

struct probe {
	struct cluster *c;
	int i;
	const void *k;
	size_t kl;
	const char *want;
	const uint8_t *origin;
	uint64_t hwm;
	uint64_t tombstones;
};

static void pstep(void *arg)
{
	run_once(((struct probe *)arg)->c);
}

static int has_value(void *arg)
{
	struct probe *p = arg;

	return get_is(p->c, p->i, p->k, p->kl, p->want);
}

static void wait_value(struct cluster *c, int i, const void *k, size_t kl,
		       const char *want)
{
	struct probe p = { c, i, k, kl, want, NULL, 0, 0 };

	if (!tu_wait_for(has_value, pstep, &p, DEADLINE_MS))
		fail_msg("node %d: a key did not become %s", i,
			 want ? want : "(absent)");
}

static int hwm_reached(void *arg)
{
	struct probe *p = arg;

	return store_hwm(p->c->nodes[p->i]->store, p->origin) >= p->hwm;
}

static int tombstones_gone(void *arg)
{
	struct probe *p = arg;
	struct ctl_status st;

	memset(&st, 0, sizeof st);
	node_get_status(p->c->nodes[p->i], &st);
	return st.stats.tombstones <= p->tombstones;
}

/* The partial node ends with exactly its set's keys; the full nodes with
 * everything; its HWM for a full writer reaches the writer's local seq
 * through the live stream's SKIPs, though most writes are outside its
 * set. */
static void test_partial_node_holds_its_set_and_keeps_up(void **state)
{
	struct cluster c;
	char k[32];
	size_t kl;
	int i;
	struct probe p;

	(void)state;
	start3(&c);
	for (i = 0; i < 20; i++) {
		kl = key_of(k, PA, PA_LEN, i);
		put_on(&c, i % 2 ? 0 : 2, k, kl, "in");
		kl = key_of(k, "\xff\x00", 2, i);
		put_on(&c, i % 2 ? 0 : 2, k, kl, "out");
		kl = key_of(k, "a", 1, i);
		put_on(&c, 0, k, kl, "near");
	}
	put_on(&c, 0, "zlast", 5, "1");
	kl = key_of(k, PA, PA_LEN, 99);
	put_on(&c, 0, k, kl, "last");
	wait_value(&c, 1, k, kl, "last");
	wait_value(&c, 2, "zlast", 5, "1");
	wait_value(&c, 2, k, kl, "last");
	for (i = 0; i < 20; i++) {
		kl = key_of(k, PA, PA_LEN, i);
		wait_value(&c, 1, k, kl, "in");
		wait_value(&c, 0, k, kl, "in");
		kl = key_of(k, "\xff\x00", 2, i);
		assert_true(get_is(&c, 1, k, kl, NULL));
		wait_value(&c, 0, k, kl, "out");
		wait_value(&c, 2, k, kl, "out");
		kl = key_of(k, "a", 1, i);
		assert_true(get_is(&c, 1, k, kl, NULL));
		wait_value(&c, 2, k, kl, "near");
	}
	assert_true(get_is(&c, 1, "zlast", 5, NULL));
	/* The partial node claims node 0's writes (42 of them, 11 in its
	 * set) and node 2's. */
	p.c = &c;
	p.i = 1;
	p.origin = c.nodes[0]->id.public_key;
	p.hwm = store_local_seq(c.nodes[0]->store);
	assert_int_equal(p.hwm, 42);
	if (!tu_wait_for(hwm_reached, pstep, &p, DEADLINE_MS))
		fail_msg("the partial node's HWM for node 0 stays at %llu",
			 (unsigned long long)store_hwm(c.nodes[1]->store,
						       p.origin));
	p.origin = c.nodes[2]->id.public_key;
	p.hwm = store_local_seq(c.nodes[2]->store);
	assert_true(tu_wait_for(hwm_reached, pstep, &p, DEADLINE_MS));
	/* A local write outside its set is refused there. */
	assert_int_equal(rumor_put(c.nodes[1], "zz", 2, "v", 1),
			 RUMOR_EOUTSIDE);
	cluster_stop(&c);
}

/* Tombstones of keys outside the partial node's set are collected on
 * the full nodes, and the partial node never holds them; one inside the
 * set is collected everywhere once the partial node has it too. */
static void test_tombstones_outside_the_set_are_collected(void **state)
{
	struct cluster c;
	char in[16], out[16];
	size_t il = key_of(in, PA, PA_LEN, 1);
	size_t ol = key_of(out, "\xff\x00", 2, 1);
	struct probe p;
	int i;

	(void)state;
	start3(&c);
	put_on(&c, 0, in, il, "1");
	put_on(&c, 0, out, ol, "1");
	wait_value(&c, 1, in, il, "1");
	wait_value(&c, 2, out, ol, "1");
	put_del(&c, in, il);
	put_del(&c, out, ol);
	for (i = 0; i < 3; i++) {
		p.c = &c;
		p.i = i;
		p.tombstones = 0;
		if (!tu_wait_for(tombstones_gone, pstep, &p, DEADLINE_MS))
			fail_msg("node %d keeps its tombstones", i);
	}
	for (i = 0; i < 3; i++) {
		assert_true(get_is(&c, i, in, il, NULL));
		assert_true(get_is(&c, i, out, ol, NULL));
	}
	cluster_stop(&c);
}

/* Rounds node i completed with the peer whose id is id. */
static uint64_t rounds_with(struct cluster *c, int i, const uint8_t *id)
{
	struct peer *p;

	for (p = c->nodes[i]->net->peers; p != NULL; p = p->next)
		if (p->open && !p->closed && p->sync != NULL &&
		    memcmp(p->id, id, RUMOR_NODE_ID_BYTES) == 0)
			return sync_session_rounds(p->sync);
	return 0;
}

struct rounds_probe {
	struct cluster *c;
	const uint8_t *id;
	uint64_t want;
};

static int rounds_done(void *arg)
{
	struct rounds_probe *r = arg;

	return rounds_with(r->c, 0, r->id) >= r->want;
}

static void rstep(void *arg)
{
	run_once(((struct rounds_probe *)arg)->c);
}

/* A node whose narrower set dropped one of its own writes is no longer
 * self-complete (the store says so; its HELLO no longer does): a full
 * peer then never raises its HWM for that node from the node's DONE,
 * since the dropped write can come from nowhere. A self-complete partial
 * node's DONE does raise it (test_partial_node_holds_its_set...). */
static void test_a_node_that_dropped_own_writes_claims_nothing(void **state)
{
	struct cluster c;
	const char *seed[1];
	const void *two[2] = { "a/", "b/" };
	const size_t two_len[2] = { 2, 2 };
	struct rumor_options o;
	char msg[RUMOR_ERRMSG_MAX];
	struct rounds_probe rp;
	const uint8_t *id1;

	(void)state;
	cluster_start(&c, 1);
	c.n = 2;
	c.dirs[1] = tu_tmpdir("nodes");
	/* Alone, with {a/, b/}: an own write under b/. */
	rumor_options_init(&o);
	o.data_dir = c.dirs[1];
	o.loop = &c.loop;
	o.listen = "127.0.0.1:0";
	o.no_multicast = 1;
	o.catchup_wait_ms = 0;
	o.replicate = two;
	o.replicate_len = two_len;
	o.n_replicate = 2;
	assert_int_equal(rumor_open(&c.nodes[1], &o, msg, sizeof msg), 0);
	put_on(&c, 1, "b/1", 3, "dropped");
	close_node(&c, 1);
	/* Reopened with {a/} and node 0 as seed: b/1 goes, and with it
	 * the node's completeness. */
	seed[0] = c.addrs[0];
	assert_int_equal(open_partial(&c, 1, seed, 1, "a/", 2), 0);
	assert_int_equal(store_self_complete(c.nodes[1]->store), 0);
	id1 = c.nodes[1]->id.public_key;
	put_on(&c, 1, "a/2", 3, "kept");
	wait_value(&c, 0, "a/2", 3, "kept");
	rp.c = &c;
	rp.id = id1;
	rp.want = rounds_with(&c, 0, id1) + 2;
	if (!tu_wait_for(rounds_done, rstep, &rp, DEADLINE_MS))
		fail_msg("no rounds between the nodes");
	assert_int_equal(store_local_seq(c.nodes[1]->store), 2);
	assert_int_equal(store_hwm(c.nodes[0]->store, id1), 0);
	assert_true(get_is(&c, 0, "b/1", 3, NULL));
	cluster_stop(&c);
}

/* What a node refuses in a peer's HELLO set (the connection is dropped,
 * nothing kept), and a good binary set. */
static void test_bad_hello_sets_are_protocol_errors(void **state)
{
	static const uint8_t good[] = { 2, 0, 2, 0x00, 0xff, 0, 1, 0xff };
	static const uint8_t empty[] = { 0 };
	static const uint8_t truncated[] = { 1, 0, 5, 'a', 'b' };
	static const uint8_t zero_len[] = { 1, 0, 0 };
	static const uint8_t trailing[] = { 1, 0, 1, 'a', 'x' };
	static const uint8_t too_many[] = { 17 };
	static const uint8_t too_long[] = { 1, 0x04, 0x01 };   /* 1025 */
	const struct { const uint8_t *b; size_t n; uint64_t flags; } bad[] = {
		{ empty, sizeof empty, WIRE_HELLO_FILTERS },
		{ truncated, sizeof truncated, WIRE_HELLO_FILTERS },
		{ zero_len, sizeof zero_len, WIRE_HELLO_FILTERS },
		{ trailing, sizeof trailing, WIRE_HELLO_FILTERS },
		{ too_many, sizeof too_many, WIRE_HELLO_FILTERS },
		{ too_long, sizeof too_long, WIRE_HELLO_FILTERS },
		{ good, sizeof good, WIRE_HELLO_LIVE },   /* no FILTERS */
	};
	struct wire_hello h;
	struct prefixes ps;
	struct err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&h, 0, sizeof h);
		memset(&ps, 0, sizeof ps);
		err_clear(&err);
		h.flags = bad[i].flags;
		h.replicate = bad[i].b;
		h.replicate_len = bad[i].n;
		if (net_hello_replicate(&h, &ps, &err) != RUMOR_EPROTO)
			fail_msg("bad set %zu accepted", i);
		assert_int_equal(err.code, RUMOR_EPROTO);
		assert_int_equal(ps.n, 0);
	}
	memset(&h, 0, sizeof h);
	h.flags = WIRE_HELLO_FILTERS;
	h.replicate = good;
	h.replicate_len = sizeof good;
	assert_int_equal(net_hello_replicate(&h, &ps, &err), 0);
	assert_int_equal(ps.n, 2);
	assert_true(prefixes_match(&ps, "\x00\xff\x01", 3));
	assert_true(prefixes_match(&ps, "\xff", 1));
	assert_false(prefixes_match(&ps, "\x00", 1));
	prefixes_free(&ps);
	/* A full node's HELLO: no set. */
	h.replicate = NULL;
	assert_int_equal(net_hello_replicate(&h, &ps, &err), 0);
	assert_int_equal(ps.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_node_holds_its_set_and_keeps_up),
		cmocka_unit_test(
			test_tombstones_outside_the_set_are_collected),
		cmocka_unit_test(
		    test_a_node_that_dropped_own_writes_claims_nothing),
		cmocka_unit_test(test_bad_hello_sets_are_protocol_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
