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
#include "tests/lib/sim_cluster.h"
#include "tests/lib/sim_evil.h"
#include "tests/lib/testutil.h"

#define NODES 3
#define EVIL_HOST NODES

struct hostile {
	struct simc c;
	uint8_t netkey[NETWORK_KEY_BYTES];
	struct evil *e;
};

/* NODES nodes found by seeds, all started and connected, and an
 * adversary dialed to node 0 (HELLO sent). */
static int hostile_setup(void **state)
{
	static struct hostile h;
	struct simc_params p;
	struct err err;
	char *base;
	int i;

	memset(&h, 0, sizeof h);
	memset(&p, 0, sizeof p);
	p.n = NODES;
	p.extra_hosts = 1;
	p.interval_min_ms = 50;
	p.interval_max_ms = 1000;
	p.suspect_after_ms = 5000;
	p.gone_after_ms = 30000;
	base = tu_tmpdir("hostile");
	tu_rmrf(base);
	simc_begin(&h.c, 11, base, "test_hostile", &p);
	free(base);
	for (i = 0; i < NODES; i++)
		simc_start(&h.c, i);
	simc_run_until(&h.c, sim_now(h.c.sim) + 5000);
	err_clear(&err);
	assert_int_equal(network_key_load(h.c.netkey_path, h.netkey, &err), 0);
	assert_int_equal(evil_dial(&h.e, h.c.sim, EVIL_HOST, 0, SIMC_PORT,
				   h.netkey, 1), 0);
	assert_true(evil_wait_open(h.e, sim_now(h.c.sim) + 5000));
	*state = &h;
	return 0;
}

static int hostile_teardown(void **state)
{
	struct hostile *h = *state;

	evil_free(h->e);
	simc_end(&h->c);
	return 0;
}

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
	struct simc_params p;
	struct err err;
	char *base;
	int i;

	memset(&h, 0, sizeof h);
	memset(&p, 0, sizeof p);
	p.n = NODES + 1;
	p.extra_hosts = 1;
	p.interval_min_ms = 50;
	p.interval_max_ms = 1000;
	p.suspect_after_ms = 5000;
	p.gone_after_ms = 30000;
	base = tu_tmpdir("hostile");
	tu_rmrf(base);
	simc_begin(&h.c, 12, base, "test_hostile", &p);
	free(base);
	for (i = 0; i < NODES; i++)
		simc_start(&h.c, i);
	simc_run_until(&h.c, sim_now(h.c.sim) + 5000);
	err_clear(&err);
	assert_int_equal(network_key_load(h.c.netkey_path, h.netkey, &err), 0);
	assert_int_equal(evil_dial(&h.e, h.c.sim, NODES + 1, 0, SIMC_PORT,
				   h.netkey, 2), 0);
	assert_true(evil_wait_open(h.e, sim_now(h.c.sim) + 5000));
	*state = &h;
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
