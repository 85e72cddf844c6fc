/* SPDX-License-Identifier: MIT */
/*
 * Hostile announcements in the cluster simulator (tests/lib/sim.h):
 * multicast drops datagrams not sent to the group and from off-link
 * sources, holds each source to its budget and all sources together to
 * the new-id rate; a node keeps at most NET_DIALS_MAX dials in flight
 * however many valid announcements arrive, and still dials a genuine
 * node that keeps announcing.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/identity.h"
#include "discovery/multicast.h"
#include "node/net_int.h"
#include "node/node.h"
#include "tests/lib/sim.h"
#include "tests/lib/testutil.h"

#define HOSTS 12

/* ------------------------------------------------------------ multicast */

struct heard {
	int n;
	char from[INET_ADDRSTRLEN];
	unsigned port;
	uint8_t id[ANNOUNCE_ID_BYTES];
};

static void on_peer(void *arg, const struct announce *a,
		    const struct sockaddr *from)
{
	struct heard *h = arg;
	const struct sockaddr_in *in = (const struct sockaddr_in *)from;

	h->n++;
	inet_ntop(AF_INET, &in->sin_addr, h->from, sizeof h->from);
	h->port = ntohs(in->sin_port);
	memcpy(h->id, a->node_id, sizeof h->id);
}

struct mworld {
	struct sim *sim;
	struct multicast *m;
	struct heard heard;
	struct announce_keys keys;
	int closed;
};

static void mworld_init(struct mworld *w)
{
	struct multicast_config c;
	struct err err;

	memset(w, 0, sizeof *w);
	err_clear(&err);
	assert_int_equal(sim_new(&w->sim, 11, HOSTS, &err), 0);
	multicast_config_init(&c);
	c.no_ipv6 = true;       /* the simulator has IPv4 groups only */
	memset(c.node_id, 0x11, sizeof c.node_id);
	c.listen_port = 7000;
	c.network_key = identity_default_network_key;
	c.on_peer = on_peer;
	c.arg = &w->heard;
	assert_int_equal(multicast_start(&w->m, sim_host_io(w->sim, 0), &c,
					 &err),
			 0);
	announce_keys_derive(&w->keys, identity_default_network_key);
	sim_run_until(w->sim, 10);
}

static void mworld_closed(void *arg)
{
	((struct mworld *)arg)->closed = 1;
}

static void mworld_free(struct mworld *w)
{
	multicast_close(w->m, mworld_closed, w);
	sim_run_until(w->sim, sim_now(w->sim) + 10);
	assert_int_equal(w->closed, 1);
	sim_free(w->sim);
}

/* A valid announcement of id_byte.. (with n in its first bytes) from
 * host from, delivered with the given verdicts. */
static void inject(struct mworld *w, int from, uint32_t n, uint8_t id_byte,
		   int to_group, int on_link)
{
	struct announce a;
	uint8_t pkt[ANNOUNCE_BYTES];

	memset(a.node_id, id_byte, sizeof a.node_id);
	memcpy(a.node_id, &n, sizeof n);
	a.port = 7100;
	a.timestamp_ms = io_wall_ms(sim_host_io(w->sim, 0));
	randombytes_buf(a.nonce, sizeof a.nonce);
	announce_encode(&w->keys, &a, pkt);
	assert_int_equal(sim_udp_inject(w->sim, 0, from, pkt, sizeof pkt,
					to_group, on_link),
			 1);
}

static struct multicast_stats stats_of(const struct mworld *w)
{
	struct multicast_stats st;

	multicast_stats(w->m, &st);
	return st;
}

static void test_only_group_datagrams_from_on_link_sources_count(void **state)
{
	struct mworld w;
	struct multicast_stats st;

	(void)state;
	mworld_init(&w);
	inject(&w, 1, 1, 0x21, 0, 1);   /* to our address */
	inject(&w, 1, 2, 0x21, 1, 0);   /* from off the link */
	sim_run_until(w.sim, sim_now(w.sim) + 100);
	st = stats_of(&w);
	assert_int_equal(w.heard.n, 0);
	assert_int_equal(st.dropped[ANNOUNCE_NOT_GROUP], 1);
	assert_int_equal(st.dropped[ANNOUNCE_OFF_LINK], 1);
	inject(&w, 1, 3, 0x21, 1, 1);
	sim_run_until(w.sim, sim_now(w.sim) + 100);
	assert_int_equal(w.heard.n, 1);
	/* Dialed at the source address, at the announced port. */
	assert_string_equal(w.heard.from, "127.0.1.2");
	assert_int_equal(w.heard.port, 7100);
	assert_int_equal(stats_of(&w).accepted, 1);
	mworld_free(&w);
}

static void test_a_source_over_its_budget_is_dropped_others_are_not(void **state)
{
	struct mworld w;
	struct multicast_stats st;
	uint32_t i;

	(void)state;
	mworld_init(&w);
	for (i = 0; i < 50; i++)
		inject(&w, 1, i, 0x31, 1, 1);
	sim_run_until(w.sim, sim_now(w.sim) + 100);
	st = stats_of(&w);
	assert_int_equal(st.accepted, MULTICAST_SOURCE_BURST_DEFAULT);
	assert_int_equal(st.dropped[ANNOUNCE_SOURCE_BUDGET],
			 50 - MULTICAST_SOURCE_BURST_DEFAULT);
	/* Another source has its own budget. */
	inject(&w, 2, 0, 0x32, 1, 1);
	sim_run_until(w.sim, sim_now(w.sim) + 100);
	assert_int_equal(stats_of(&w).accepted,
			 MULTICAST_SOURCE_BURST_DEFAULT + 1);
	/* A second later the first has its rate again, no more. */
	sim_run_until(w.sim, sim_now(w.sim) + 1000);
	for (i = 100; i < 120; i++)
		inject(&w, 1, i, 0x31, 1, 1);
	sim_run_until(w.sim, sim_now(w.sim) + 100);
	st = stats_of(&w);
	assert_true(st.accepted >= MULTICAST_SOURCE_BURST_DEFAULT + 1 +
					   MULTICAST_SOURCE_PER_S_DEFAULT &&
		    st.accepted <= MULTICAST_SOURCE_BURST_DEFAULT + 1 +
					   MULTICAST_SOURCE_PER_S_DEFAULT + 2);
	mworld_free(&w);
}

static void test_new_ids_are_limited_over_all_sources(void **state)
{
	struct mworld w;
	struct multicast_stats st;
	uint64_t before;

	(void)state;
	mworld_init(&w);
	/* 10 sources, 10 new ids each: within each source's budget, over
	 * the new-id burst in all. */
	for (int h = 1; h <= 10; h++)
		for (uint32_t i = 0; i < 10; i++)
			inject(&w, h, i, (uint8_t)(0x40 + h), 1, 1);
	sim_run_until(w.sim, sim_now(w.sim) + 100);
	st = stats_of(&w);
	assert_int_equal(st.dropped[ANNOUNCE_SOURCE_BUDGET], 0);
	assert_true(st.accepted >= ANNOUNCE_NEW_IDS_BURST_DEFAULT &&
		    st.accepted <= ANNOUNCE_NEW_IDS_BURST_DEFAULT + 2);
	assert_int_equal(st.accepted + st.dropped[ANNOUNCE_NEW_ID_RATE], 100);
	/* A node already heard is heard again, the bucket empty or not. */
	before = st.accepted;
	inject(&w, 11, 0, 0x41, 1, 1);  /* id 0 of host 1: known */
	sim_run_until(w.sim, sim_now(w.sim) + 100);
	assert_int_equal(stats_of(&w).accepted, before + 1);
	mworld_free(&w);
}

/* ------------------------------------------------------------ dial cap */

struct nworld {
	struct mworld mw;       /* its sim and keys; no multicast of its own */
	struct rumor *r;
	char *dir;
	size_t max_dialing;
	int genuine_dialed;
	int closed;
};

/* Connection ends of host 0 (the node's) whose handshake is not done:
 * its dials in flight. */
static size_t dialing(const struct sim *s)
{
	size_t n = 0;

	for (size_t i = 0; i < sim_conn_count(s); i++) {
		struct io_conn *c = sim_conn_at(s, i);

		if (sim_conn_host(c) == 0 &&
		    ((struct peer *)c->data)->outbound &&
		    !((struct peer *)c->data)->open)
			n++;
	}
	return n;
}

/* Before each event: the most dials seen in flight, and whether the
 * genuine node (id 0x99.., first 4 bytes 0) was dialed. */
static int track_dialing(void *arg)
{
	struct nworld *w = arg;
	size_t n = dialing(w->mw.sim);
	uint8_t want[RUMOR_NODE_ID_BYTES];

	memset(want, 0x99, sizeof want);
	memset(want, 0, 4);
	for (size_t i = 0; i < sim_conn_count(w->mw.sim); i++) {
		struct io_conn *c = sim_conn_at(w->mw.sim, i);
		struct peer *p = c->data;

		if (sim_conn_host(c) == 0 && p->outbound &&
		    memcmp(p->id, want, sizeof want) == 0)
			w->genuine_dialed = 1;
	}

	if (n > w->max_dialing)
		w->max_dialing = n;
	return 0;
}

static void node_closed_cb(void *arg)
{
	((struct nworld *)arg)->closed = 1;
}

static int is_closed(void *arg)
{
	return ((struct nworld *)arg)->closed;
}

/* 200 forged ids announced from paused hosts (their dials hang until the
 * handshake deadline): at most NET_DIALS_MAX at once, the rest deferred
 * and counted; a genuine node that keeps announcing is dialed as soon as
 * a slot frees, ahead of ids heard once. */
static void test_dials_in_flight_stay_under_the_cap(void **state)
{
	struct nworld w;
	struct rumor_options o;
	struct node_env env;
	char errmsg[256];
	uint64_t t0;

	(void)state;
	memset(&w, 0, sizeof w);
	mworld_init(&w.mw);     /* its multicast on host 0 is not used */
	multicast_close(w.mw.m, NULL, NULL);
	w.dir = tu_tmpdir("announce-sim");
	rumor_options_init(&o);
	o.data_dir = w.dir;
	o.listen = "127.0.1.1:7000";
	o.no_multicast6 = 1;
	o.catchup_wait_ms = 0;
	memset(&env, 0, sizeof env);
	env.io = sim_host_io(w.mw.sim, 0);
	assert_int_equal(node_open(&w.r, &o, &env, errmsg, sizeof errmsg), 0);
	sim_run_until(w.mw.sim, sim_now(w.mw.sim) + 100);
	for (int h = 1; h < HOSTS - 1; h++)
		sim_pause(w.mw.sim, h, 60000);
	/* Within the budgets: 2 a second from each of 10 sources. */
	t0 = sim_now(w.mw.sim);
	for (uint32_t i = 0; i < 200; i++) {
		sim_run_while_not(w.mw.sim, track_dialing, &w,
				  t0 + (uint64_t)i * 50);
		inject(&w.mw, 1 + (int)(i % 10), i, 0x51, 1, 1);
		/* The genuine node, host 11, announces every 2 s from 1 s
		 * on, when the forged ids hold every slot. */
		if (i % 40 == 20)
			inject(&w.mw, HOSTS - 1, 0, 0x99, 1, 1);
	}
	sim_run_while_not(w.mw.sim, track_dialing, &w, t0 + 10000);
	/* The flood fills the cap, and no more. */
	assert_int_equal(w.max_dialing, NET_DIALS_MAX);
	assert_true(w.r->net->refused.n[REFUSE_DIALS_DEFERRED] > 0);
	/* The genuine one (heard 5 times) was dialed when the first slots
	 * freed (the handshake deadline), before the ids heard once. */
	assert_false(w.genuine_dialed);     /* every slot still held */
	sim_run_while_not(w.mw.sim, track_dialing, &w,
			  t0 + IO_HANDSHAKE_TIMEOUT_MS + 2000);
	assert_true(w.genuine_dialed);
	assert_true(w.max_dialing <= NET_DIALS_MAX);
	rumor_close(w.r, node_closed_cb, &w);
	assert_true(sim_run_while_not(w.mw.sim, is_closed, &w,
				      sim_now(w.mw.sim) + 60000));
	sim_free(w.mw.sim);
	tu_rmrf(w.dir);
	free(w.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_group_datagrams_from_on_link_sources_count),
		cmocka_unit_test(test_a_source_over_its_budget_is_dropped_others_are_not),
		cmocka_unit_test(test_new_ids_are_limited_over_all_sources),
		cmocka_unit_test(test_dials_in_flight_stay_under_the_cap),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
