/* SPDX-License-Identifier: MIT */
/*
 * test_hostile: issue 11's attacks by an authenticated member gone bad.
 * Each test runs a small cluster of whole nodes on the simulator
 * (tests/lib/sim_cluster.h) plus an adversary on a host of its own
 * (tests/lib/sim_evil.h) that holds the network key, and shows the bound
 * holding while the node keeps serving its legitimate peers and writes.
 * Virtual time, one seed per test: a failure replays exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/identity.h"
#include "node/net_int.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "store/store.h"
#include "wire/ctl_types.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/sim_evil.h"
#include "tests/lib/testutil.h"
#include "tests/integration/hostile_fixture.h"

/* The harness itself: the node takes the adversary for a member and runs
 * exchanges with it (it sends its DIGEST), and node 0 still replicates a
 * write to the others. */
static int got_digest(void *arg)
{
	struct hostile *h = arg;

	return h->e->received[WIRE_DIGEST] > 0;
}

static void test_adversary_is_served_as_a_member(void **state)
{
	struct hostile *h = *state;

	assert_true(simc_run_cond(&h->c, got_digest, h,
				  sim_now(h->c.sim) + 10000));
	assert_false(h->e->closed);
	assert_true(h->e->received[WIRE_HELLO] > 0);
}


/* ------------------------------------------------------------ claims */
/*
 * Claims (issue 11, Deliver 1; src/sync/claims.c). The adversary plays
 * exchanges with node 0 by hand: it waits for the node's DIGEST (the
 * node's pull), sends a DIGEST of its own (the node's stream to it, which
 * it ACKs), then forged entries and a forged DONE for the node's pull.
 */

#define SEC 1000u

/* Node i's refusals of one reason (what `rumorctl status` shows). */
static uint64_t refused(struct hostile *h, int i, enum refuse_reason why)
{
	struct ctl_status st;

	memset(&st, 0, sizeof st);
	assert_int_equal(node_get_status(h->c.nodes[i].r, &st), 0);
	return st.refused[why];
}

static struct store *node_store(struct hostile *h, int i)
{
	return h->c.nodes[i].r->store;
}

struct fresh {
	struct hostile *h;
	uint64_t seen;
};

static int fresh_digest(void *arg)
{
	struct fresh *f = arg;

	return f->h->e->received[WIRE_DIGEST] > f->seen;
}

/* One forged claim: an origin and a value. */
struct claim {
	const uint8_t *origin;
	uint64_t hwm;
};

/* Waits for a DIGEST of node 0 newer than the last one used (its next
 * pull), then sends the adversary's DIGEST: node 0's own HWMs echoed
 * (so that it has nothing to stream), with the claims in c added or put
 * in place. Returns the node's exchange id. */
static uint64_t ex_begin(struct hostile *h, uint64_t *seen,
			 const struct claim *c, size_t n)
{
	struct fresh f = { h, *seen };
	uint8_t o[EVIL_DIGEST_MAX][WIRE_ORIGIN_BYTES];
	uint64_t v[EVIL_DIGEST_MAX];
	size_t i, j, k;

	assert_true(simc_run_cond(&h->c, fresh_digest, h == NULL ? NULL : &f,
				  sim_now(h->c.sim) + 10 * SEC));
	*seen = h->e->received[WIRE_DIGEST];
	k = h->e->n_digest;
	memcpy(o, h->e->digest_origin, k * sizeof o[0]);
	memcpy(v, h->e->digest_hwm, k * sizeof v[0]);
	for (i = 0; i < n; i++) {
		for (j = 0; j < k; j++)
			if (memcmp(o[j], c[i].origin, WIRE_ORIGIN_BYTES) == 0)
				break;
		if (j == k) {
			assert_true(k < EVIL_DIGEST_MAX);
			memcpy(o[k++], c[i].origin, WIRE_ORIGIN_BYTES);
		}
		v[j] = c[i].hwm;
	}
	h->e->auto_ack = 1;
	assert_int_equal(evil_send_hwms(h->e, WIRE_DIGEST, 1000 + *seen,
					(const uint8_t (*)[WIRE_ORIGIN_BYTES])o,
					v, k), 0);
	return h->e->digest_id;
}

struct done_seen {
	struct hostile *h;
	uint64_t dones;
};

static int node_sent_done(void *arg)
{
	struct done_seen *d = arg;

	return d->h->e->received[WIRE_DONE] > d->dones;
}

/* Sends the DONE of node 0's pull id with the claims in c, and runs
 * until node 0 has sent its own DONE and had the time to apply ours. */
static void ex_end(struct hostile *h, uint64_t id, const struct claim *c,
		   size_t n, uint64_t dones_before)
{
	uint8_t o[EVIL_DIGEST_MAX][WIRE_ORIGIN_BYTES];
	uint64_t v[EVIL_DIGEST_MAX];
	struct done_seen d = { h, dones_before };
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(o[i], c[i].origin, WIRE_ORIGIN_BYTES);
		v[i] = c[i].hwm;
	}
	assert_int_equal(evil_send_hwms(h->e, WIRE_DONE, id,
					(const uint8_t (*)[WIRE_ORIGIN_BYTES])o,
					v, n), 0);
	assert_true(simc_run_cond(&h->c, node_sent_done, &d,
				  sim_now(h->c.sim) + 10 * SEC));
	simc_run_until(&h->c, sim_now(h->c.sim) + 200);
	assert_false(h->e->closed);
}

/* A put on node i once it takes writes (it refuses them while it
 * catches up after a start). */
struct put {
	struct hostile *h;
	int i;
	const char *key;
	const char *val;
};

static int put_taken(void *arg)
{
	struct put *p = arg;
	struct rumor *r = p->h->c.nodes[p->i].r;

	return r != NULL && rumor_put(r, p->key, strlen(p->key), p->val,
				      strlen(p->val)) == 0;
}

static void put_when_ready(struct hostile *h, int i, const char *key,
			   const char *val)
{
	struct put p = { h, i, key, val };

	assert_true(simc_run_cond(&h->c, put_taken, &p,
				  sim_now(h->c.sim) + 10 * SEC));
}

/* Node i holds key with value val. */
static int holds(struct hostile *h, int i, const char *key, const char *val)
{
	void *v = NULL;
	size_t vl = 0;
	int ok;

	if (rumor_get(h->c.nodes[i].r, key, strlen(key), &v, &vl) != 0)
		return 0;
	ok = vl == strlen(val) && memcmp(v, val, vl) == 0;
	rumor_free(v);
	return ok;
}

struct held {
	struct hostile *h;
	int i;
	const char *key, *val;
};

static int held_cond(void *arg)
{
	struct held *x = arg;

	return holds(x->h, x->i, x->key, x->val);
}

/* Node i comes to hold key = val within the deadline. */
static void assert_reaches(struct hostile *h, int i, const char *key,
			   const char *val)
{
	struct held x = { h, i, key, val };

	assert_true(simc_run_cond(&h->c, held_cond, &x,
				  sim_now(h->c.sim) + 10 * SEC));
}

/* The attack of issue 11: a DONE naming node 0's own origin at 2^64-1,
 * then just above its local seq (within the bound). Both are refused,
 * the seq counter stays, and node 0 keeps writing and replicating, also
 * after a restart. */
static void test_own_origin_done_is_refused(void **state)
{
	struct hostile *h = *state;
	const uint8_t *self = h->c.nodes[0].pk;
	uint64_t seen = 0, id, seq, dones;
	struct claim c;

	put_when_ready(h, 0, "own-before", "1");
	seq = store_local_seq(node_store(h, 0));
	assert_true(seq >= 1);

	c.origin = self;
	c.hwm = UINT64_MAX;
	dones = h->e->received[WIRE_DONE];
	id = ex_begin(h, &seen, &c, 1);
	ex_end(h, id, &c, 1, dones);
	assert_true(refused(h, 0, REFUSE_HWM_LIMIT) >= 1);
	assert_int_equal(store_local_seq(node_store(h, 0)), seq);

	c.hwm = seq + 1000;
	dones = h->e->received[WIRE_DONE];
	id = ex_begin(h, &seen, &c, 1);
	ex_end(h, id, &c, 1, dones);
	assert_true(refused(h, 0, REFUSE_HWM_OWN) >= 1);
	assert_int_equal(store_local_seq(node_store(h, 0)), seq);
	assert_int_equal(store_hwm(node_store(h, 0), self), seq);

	/* Writes go on, with the next seq, and replicate. */
	put_when_ready(h, 0, "own-after", "2");
	assert_int_equal(store_local_seq(node_store(h, 0)), seq + 1);
	assert_reaches(h, 1, "own-after", "2");

	/* And after a restart: nothing forged was kept. */
	simc_stop(&h->c, 0);
	simc_start(&h->c, 0);
	put_when_ready(h, 0, "own-restarted", "3");
	assert_int_equal(store_local_seq(node_store(h, 0)), seq + 2);
	assert_reaches(h, 2, "own-restarted", "3");
}

/* A version with clock 2^64-1 (and one with seq 2^64-1) is refused: the
 * key stays writable, the forgery reaches no other node, and the DONE
 * does not cover the refused entry. */
static void test_version_at_clock_max_is_refused(void **state)
{
	struct hostile *h = *state;
	const uint8_t *evil = h->e->id.public_key;
	struct rumor_record *rec = NULL;
	uint64_t seen = 0, id, dones;
	struct claim c;

	put_when_ready(h, 0, "warm", "0");
	c.origin = evil;
	c.hwm = 2;
	dones = h->e->received[WIRE_DONE];
	id = ex_begin(h, &seen, &c, 1);
	assert_int_equal(evil_send_entry(h->e, id, evil,
					 (const uint8_t *)"k-clock", 7,
					 (const uint8_t *)"forged", 6, 1,
					 UINT64_MAX, 0), 0);
	assert_int_equal(evil_send_entry(h->e, id, evil,
					 (const uint8_t *)"k-seq", 5,
					 (const uint8_t *)"forged", 6,
					 UINT64_MAX, 1, 0), 0);
	ex_end(h, id, &c, 1, dones);
	assert_true(refused(h, 0, REFUSE_CLOCK_LIMIT) >= 1);
	assert_true(refused(h, 0, REFUSE_SEQ_LIMIT) >= 1);
	assert_false(holds(h, 0, "k-clock", "forged"));
	assert_false(holds(h, 0, "k-seq", "forged"));
	/* Its seq 1 was refused: the DONE raised nothing above 0. */
	assert_int_equal(store_hwm(node_store(h, 0), evil), 0);

	/* The key is writable, with a small clock, and replicates. */
	put_when_ready(h, 0, "k-clock", "honest");
	assert_int_equal(rumor_get_version(h->c.nodes[0].r, "k-clock", 7,
					   &rec), 0);
	assert_true(rec->v.clock < 1000);
	rumor_record_free(rec);
	assert_reaches(h, 1, "k-clock", "honest");
	assert_reaches(h, 2, "k-clock", "honest");
	assert_false(holds(h, 1, "k-seq", "forged"));
}

/* An entry of node 0's own origin above its local seq is not stored. */
static void test_own_origin_entry_above_seq_is_refused(void **state)
{
	struct hostile *h = *state;
	const uint8_t *self = h->c.nodes[0].pk;
	uint64_t seen = 0, id, seq, dones;

	put_when_ready(h, 0, "own-written", "1");
	seq = store_local_seq(node_store(h, 0));
	dones = h->e->received[WIRE_DONE];
	id = ex_begin(h, &seen, NULL, 0);
	assert_int_equal(evil_send_entry(h->e, id, self,
					 (const uint8_t *)"k-own", 5,
					 (const uint8_t *)"forged", 6, seq + 5,
					 1, 0), 0);
	ex_end(h, id, NULL, 0, dones);
	assert_true(refused(h, 0, REFUSE_OWN_SEQ) >= 1);
	assert_false(holds(h, 0, "k-own", "forged"));
	assert_int_equal(store_local_seq(node_store(h, 0)), seq);
	put_when_ready(h, 0, "k-own", "mine");
	assert_int_equal(store_local_seq(node_store(h, 0)), seq + 1);
	assert_reaches(h, 2, "k-own", "mine");
}

struct hwm_at_most {
	struct hostile *h;
	int i;
	const uint8_t *origin;
	uint64_t max;
};

static int hwm_at_most(void *arg)
{
	struct hwm_at_most *x = arg;

	return store_hwm(node_store(x->h, x->i), x->origin) <= x->max;
}

struct hwm_is {
	struct hostile *h;
	int i, j;
};

static int hwm_is_seq(void *arg)
{
	struct hwm_is *x = arg;

	return store_hwm(node_store(x->h, x->i), x->h->c.nodes[x->j].pk) ==
	       store_local_seq(node_store(x->h, x->j));
}

/* Node i's HWM for node j's origin comes to node j's local seq (a DONE
 * covers what a stream brought). */
static void assert_hwm_reaches_seq(struct hostile *h, int i, int j)
{
	struct hwm_is x = { h, i, j };

	assert_true(simc_run_cond(&h->c, hwm_is_seq, &x,
				  sim_now(h->c.sim) + 10 * SEC));
}

/* A forged HWM for node 1's origin (above its real seq, within the
 * bound) is believed by node 0 at first; node 0's next exchanges with
 * node 1 tell node 1 the value (refused there) and then lower it, and
 * node 1's new writes reach node 0. */
static void test_forged_hwm_is_healed_by_its_origin(void **state)
{
	struct hostile *h = *state;
	const uint8_t *one = h->c.nodes[1].pk;
	uint64_t seen = 0, id, dones, real;
	struct hwm_at_most x;
	struct claim c;

	put_when_ready(h, 1, "one-before", "1");
	assert_reaches(h, 0, "one-before", "1");
	assert_hwm_reaches_seq(h, 0, 1);
	real = store_local_seq(node_store(h, 1));
	c.origin = one;
	c.hwm = real + 1000;
	dones = h->e->received[WIRE_DONE];
	id = ex_begin(h, &seen, &c, 1);
	ex_end(h, id, &c, 1, dones);
	/* Node 0 cannot tell yet; node 1's DIGEST will. */
	x.h = h;
	x.i = 0;
	x.origin = one;
	x.max = store_local_seq(node_store(h, 1));
	assert_true(simc_run_cond(&h->c, hwm_at_most, &x,
				  sim_now(h->c.sim) + 10 * SEC));
	assert_true(refused(h, 0, REFUSE_HWM_HEALED) >= 1);
	/* Node 0 told node 1 the forged value first: node 1 kept its word. */
	assert_true(refused(h, 1, REFUSE_HWM_OWN) >= 1);
	put_when_ready(h, 1, "one-after", "2");
	assert_reaches(h, 0, "one-after", "2");
	assert_hwm_reaches_seq(h, 0, 1);
	assert_int_equal(store_check(node_store(h, 0), NULL), 0);
}

/* A DONE above the sender's own DIGEST is clamped to it, and a DONE with
 * no DIGEST of the round raises nothing. */
static void test_done_above_digest_is_clamped(void **state)
{
	struct hostile *h = *state;
	const uint8_t *two = h->c.nodes[2].pk;
	uint64_t seen = 0, id, dones, before, n0;
	struct fresh f = { h, 0 };
	struct claim c;

	put_when_ready(h, 2, "two-before", "1");
	assert_reaches(h, 0, "two-before", "1");
	assert_hwm_reaches_seq(h, 0, 2);
	before = store_hwm(node_store(h, 0), two);

	/* A DONE before any DIGEST of the round. */
	assert_true(simc_run_cond(&h->c, fresh_digest, &f,
				  sim_now(h->c.sim) + 10 * SEC));
	seen = h->e->received[WIRE_DIGEST];
	c.origin = two;
	c.hwm = before + 50;
	n0 = refused(h, 0, REFUSE_HWM_DIGEST);
	assert_int_equal(evil_send_hwms(h->e, WIRE_DONE, h->e->digest_id,
					(const uint8_t (*)[WIRE_ORIGIN_BYTES])
					two, &c.hwm, 1), 0);
	simc_run_until(&h->c, sim_now(h->c.sim) + 200);
	assert_true(refused(h, 0, REFUSE_HWM_DIGEST) > n0);
	assert_int_equal(store_hwm(node_store(h, 0), two), before);
	/* Let the node's round end: our DIGEST, its stream and DONE. */
	h->e->auto_ack = 1;
	dones = h->e->received[WIRE_DONE];
	{
		struct done_seen d = { h, dones };
		uint64_t zero = 0;

		assert_int_equal(evil_send_hwms(h->e, WIRE_DIGEST, 999,
			(const uint8_t (*)[WIRE_ORIGIN_BYTES])two, &zero, 1),
			0);
		assert_true(simc_run_cond(&h->c, node_sent_done, &d,
					  sim_now(h->c.sim) + 10 * SEC));
	}

	/* A DIGEST that says `before`, a DONE that says 50 more. */
	c.hwm = before;
	dones = h->e->received[WIRE_DONE];
	id = ex_begin(h, &seen, &c, 1);
	n0 = refused(h, 0, REFUSE_HWM_DIGEST);
	c.hwm = before + 50;
	ex_end(h, id, &c, 1, dones);
	assert_true(refused(h, 0, REFUSE_HWM_DIGEST) > n0);
	assert_int_equal(store_hwm(node_store(h, 0), two),
			 store_local_seq(node_store(h, 2)));

	/* Replication goes on. */
	put_when_ready(h, 0, "zero-after", "z");
	assert_reaches(h, 2, "zero-after", "z");
	assert_false(h->e->closed);
	/* Honest DONEs never trip the check: nodes 1 and 2, which only
	 * honest peers talk to, refused none. */
	assert_int_equal(refused(h, 1, REFUSE_HWM_DIGEST), 0);
	assert_int_equal(refused(h, 2, REFUSE_HWM_DIGEST), 0);
}

/* ------------------------------------------------------------ node bounds */

static uint64_t refused_of(struct rumor *r, enum refuse_reason why)
{
	struct ctl_status st;

	memset(&st, 0, sizeof st);
	assert_int_equal(node_get_status(r, &st), 0);
	return st.refused[why];
}

struct ping_flood {
	struct hostile *h;
	uint64_t pings;
	size_t max_backlog;
};

/* The adversary queues PINGs as fast as it can (it never reads), then
 * the world runs 2 ms; the node's queue to it must stay under the cap
 * at every step. */
static void ping_flood_step(struct ping_flood *f)
{
	struct wire_msg m;
	size_t backlog;
	int i;

	memset(&m, 0, sizeof m);
	m.type = WIRE_PING;
	for (i = 0; i < 64 && !f->h->e->closed; i++) {
		m.u.nonce = ++f->pings;
		(void)evil_send(f->h->e, &m);
	}
	simc_run_until(&f->h->c, sim_now(f->h->c.sim) + 2);
	backlog = evil_backlog(f->h->e);
	if (backlog > f->max_backlog)
		f->max_backlog = backlog;
	if (backlog > NET_QUEUE_CAP)
		fail_msg("%zu bytes queued to the adversary, over the cap %u",
			 backlog, NET_QUEUE_CAP);
}

/* The PING flood (issue 11: 1.2 GB in 40 s): the node's queue to a peer
 * that sends PINGs and never reads stays bounded, the node skips PONGs
 * (or closes it), and node 0 goes on taking writes and replicating them
 * to nodes 1 and 2 all along. */
static void test_ping_flood_keeps_the_queue_bounded(void **state)
{
	struct hostile *h = *state;
	struct ping_flood f = { h, 0, 0 };
	char why[256] = "";
	uint64_t end;
	int round;

	evil_pause(h->e);
	for (round = 0; round < 6; round++) {
		assert_true(simc_write(&h->c, 0) >= 0);
		end = sim_now(h->c.sim) + 5000;
		while (!simc_settled(&h->c, why, sizeof why)) {
			if (sim_now(h->c.sim) >= end)
				fail_msg("round %d: node 0's write did not reach "
					 "nodes 1 and 2 under the flood: %s",
					 round, why);
			ping_flood_step(&f);
		}
		for (end = sim_now(h->c.sim) + 1000;
		     sim_now(h->c.sim) < end;)
			ping_flood_step(&f);
	}
	assert_true(f.pings > 100000);
	assert_true(h->e->closed ||
		    refused_of(h->c.nodes[0].r, REFUSE_PONG_SKIPPED) > 0);
	printf("# PING flood: %llu PINGs, at most %zu bytes queued to the "
	       "adversary (cap %u), %llu PONGs skipped, adversary %s\n",
	       (unsigned long long)f.pings, f.max_backlog, NET_QUEUE_CAP,
	       (unsigned long long)refused_of(h->c.nodes[0].r,
					      REFUSE_PONG_SKIPPED),
	       h->e->closed ? "closed" : "still connected");
}

/* NODES nodes started out of NODES + 1 (the last one starts later, in
 * the test), the adversary on the host after them, dialed to node 0. */
static int hostile_setup_spare(void **state)
{
	static struct hostile h;

	*state = hostile_begin(&h, NODES + 1, NODES, 12, 2);
	return 0;
}

#define FAKES 1023
#define NAMED 16
/* forget_after of the nodes: ten gone timeouts (src/node/net.c). */
#define FORGET_MS 300000u

struct members_flood {
	uint8_t ids[FAKES + NAMED][RUMOR_NODE_ID_BYTES];
	char hosts[FAKES + NAMED][48];
	struct wire_member w[FAKES + NAMED];
};

/* A well-mixed 64-bit value of x (splitmix64's finaliser). */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* FAKES members with random ids at numeric hosts (IPv4 and IPv6 of the
 * documentation ranges), then NAMED at names, one with a terminal escape
 * sequence. */
static void members_flood_make(struct members_flood *mf, uint64_t seed)
{
	size_t i, j;

	for (i = 0; i < FAKES + NAMED; i++) {
		for (j = 0; j < RUMOR_NODE_ID_BYTES; j += 8) {
			uint64_t r = mix(seed * 1000003u + i * 4 + j / 8);

			memcpy(mf->ids[i] + j, &r, 8);
		}
		if (i >= FAKES)
			snprintf(mf->hosts[i], sizeof mf->hosts[i],
				 i == FAKES ? "\033[31mnode.example" :
				 "node%zu.rumor.example", i);
		else if (i % 4 == 3)
			snprintf(mf->hosts[i], sizeof mf->hosts[i],
				 "2001:db8::%zx", i + 1);
		else
			snprintf(mf->hosts[i], sizeof mf->hosts[i],
				 "198.51.%zu.%zu", i / 250, i % 250 + 1);
		mf->w[i].node_id = mf->ids[i];
		mf->w[i].host = mf->hosts[i];
		mf->w[i].host_len = strlen(mf->hosts[i]);
		mf->w[i].port = 7000;
		mf->w[i].state = WIRE_MEMBER_ALIVE;
		mf->w[i].age_ms = 0;
	}
}

static void members_flood_send(struct hostile *h, struct members_flood *mf)
{
	struct wire_msg m;

	memset(&m, 0, sizeof m);
	m.type = WIRE_MEMBERS;
	m.u.members.members = mf->w;
	m.u.members.n = FAKES + NAMED;
	assert_int_equal(evil_send(h->e, &m), 0);
}

/* How many of node i's members are fakes of mf. */
static size_t fakes_known(struct hostile *h, int i,
			  const struct members_flood *mf)
{
	static struct ctl_peer_info peers[2048];
	size_t n, k, j, fakes = 0;

	n = node_peers(h->c.nodes[i].r, peers, 2048);
	assert_true(n <= 2048);
	for (k = 0; k < n; k++)
		for (j = 0; j < FAKES + NAMED; j++)
			if (memcmp(peers[k].id, mf->ids[j],
				   RUMOR_NODE_ID_BYTES) == 0)
				fakes++;
	return fakes;
}

struct listed {
	struct hostile *h;
	int node, who;
};

/* Node l->node lists node l->who, alive and connected. */
static int node_listed(void *arg)
{
	static struct ctl_peer_info peers[2048];
	struct listed *l = arg;
	size_t n, k;

	n = node_peers(l->h->c.nodes[l->node].r, peers, 2048);
	for (k = 0; k < n && k < 2048; k++)
		if (memcmp(peers[k].id, l->h->c.nodes[l->who].pk,
			   RUMOR_NODE_ID_BYTES) == 0)
			return strcmp(peers[k].state, "alive") == 0 &&
			       peers[k].connected;
	return 0;
}

struct hwm_list {
	uint8_t origins[EVIL_DIGEST_MAX][WIRE_ORIGIN_BYTES];
	uint64_t hwms[EVIL_DIGEST_MAX];
	size_t n;
};

static int hwm_add(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct hwm_list *l = arg;

	if (l->n < EVIL_DIGEST_MAX) {
		memcpy(l->origins[l->n], origin, WIRE_ORIGIN_BYTES);
		l->hwms[l->n++] = seq;
	}
	return 0;
}

static int gc_key_collected(void *arg)
{
	struct hostile *h = arg;
	struct rumor_record *rec = NULL;
	uint8_t key[SIMC_KEY_LEN];
	int rv;

	simc_key(SIMC_KEYS - 1, key);
	rv = rumor_get_version(h->c.nodes[0].r, key, sizeof key, &rec);
	rumor_record_free(rec);
	return rv == RUMOR_ENOTFOUND;
}

/* The MEMBERS flood (issue 11: one message inserted 1,023 fake
 * members, passed on, and collection stalled): node 0 takes at most the
 * sender's quota, refuses names, passes none of the fakes on, still
 * lists a real node started after, and collects a deletion's tombstone
 * once the fakes it took are forgotten (they hold collection back until
 * then, as any member it cannot reach: see member_is_gossip_only). */
static void test_members_flood_is_bounded(void **state)
{
	static struct members_flood mf;
	struct hostile *h = *state;
	struct rumor *n0 = h->c.nodes[0].r;
	struct listed l = { h, 0, NODES };
	struct hwm_list hl;
	uint8_t key[SIMC_KEY_LEN];
	uint64_t t0, flood_ms;
	size_t taken;

	members_flood_make(&mf, 11);
	flood_ms = sim_now(h->c.sim);
	members_flood_send(h, &mf);
	simc_run_until(&h->c, sim_now(h->c.sim) + 1000);
	taken = fakes_known(h, 0, &mf);
	assert_true(taken > 0);
	assert_true(taken <= MEMBERS_GOSSIP_PER_MSG_DEFAULT);
	assert_int_equal(refused_of(n0, REFUSE_MEMBERS_HOST), NAMED);
	assert_int_equal(refused_of(n0, REFUSE_MEMBERS_QUOTA), FAKES - taken);
	/* Again at once: the sender's bucket holds only so much more. */
	members_flood_make(&mf, 12);
	members_flood_send(h, &mf);
	simc_run_until(&h->c, sim_now(h->c.sim) + 5000);
	assert_true(fakes_known(h, 0, &mf) <= MEMBERS_GOSSIP_BURST_DEFAULT -
						      taken);
	assert_int_equal(refused_of(n0, REFUSE_MEMBERS_HOST), 2 * NAMED);
	/* Many rounds later, nodes 1 and 2 have heard of none of them. */
	assert_int_equal(fakes_known(h, 1, &mf), 0);
	assert_int_equal(fakes_known(h, 2, &mf), 0);
	members_flood_make(&mf, 11);
	assert_int_equal(fakes_known(h, 1, &mf), 0);
	assert_int_equal(fakes_known(h, 2, &mf), 0);
	/* A real node that starts now gets its place in node 0's table. */
	simc_start(&h->c, NODES);
	if (!simc_run_cond(&h->c, node_listed, &l, sim_now(h->c.sim) + 10000))
		fail_msg("node 0 does not list the node started after the "
			 "flood");
	/* A deletion on node 0: once every node and the adversary (its
	 * DIGEST says it holds everything) have it, it is collected. */
	simc_key(SIMC_KEYS - 1, key);
	assert_int_equal(rumor_put(n0, key, sizeof key, "v", 1), 0);
	assert_int_equal(rumor_del(n0, key, sizeof key), 0);
	memset(&hl, 0, sizeof hl);
	assert_int_equal(node_hwms(n0, hwm_add, &hl), 0);
	assert_int_equal(evil_send_hwms(h->e, WIRE_DIGEST, 77,
					(const uint8_t (*)[WIRE_ORIGIN_BYTES])
						hl.origins,
					hl.hwms, hl.n),
			 0);
	t0 = sim_now(h->c.sim);
	if (!simc_run_cond(&h->c, gc_key_collected, h,
			   flood_ms + FORGET_MS + 10000))
		fail_msg("node 0 did not collect the tombstone within 10 s of "
			 "forgetting the fakes");
	assert_false(h->e->closed);
	assert_int_equal(fakes_known(h, 0, &mf), 0);
	printf("# MEMBERS flood: %zu of %d fakes taken from one message, "
	       "tombstone collected %llu ms after the delete\n", taken, FAKES,
	       (unsigned long long)(sim_now(h->c.sim) - t0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_adversary_is_served_as_a_member, hostile_setup,
			hostile_teardown),
		/* claims (src/sync/claims.c) */
		cmocka_unit_test_setup_teardown(
			test_own_origin_done_is_refused, hostile_setup,
			hostile_teardown),
		cmocka_unit_test_setup_teardown(
			test_version_at_clock_max_is_refused, hostile_setup,
			hostile_teardown),
		cmocka_unit_test_setup_teardown(
			test_own_origin_entry_above_seq_is_refused,
			hostile_setup, hostile_teardown),
		cmocka_unit_test_setup_teardown(
			test_forged_hwm_is_healed_by_its_origin, hostile_setup,
			hostile_teardown),
		cmocka_unit_test_setup_teardown(
			test_done_above_digest_is_clamped, hostile_setup,
			hostile_teardown),
		/* node bounds (src/node/peer_msg.c, discovery/members.c) */
		cmocka_unit_test_setup_teardown(
			test_ping_flood_keeps_the_queue_bounded, hostile_setup,
			hostile_teardown),
		cmocka_unit_test_setup_teardown(
			test_members_flood_is_bounded, hostile_setup_spare,
			hostile_teardown),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
