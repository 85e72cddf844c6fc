/* SPDX-License-Identifier: MIT */
/*
 * test_cluster: the deterministic cluster simulator (DESIGN 8). Each
 * schedule runs 3 to 7 whole nodes (store, sync, node, discovery and
 * membership, control socket) on the hosts of one simulated world
 * (tests/lib/sim.h), in one thread, on virtual time, from one seed:
 * random puts and deletes through the API and the control socket, while
 * connections are cut at random bytes, the network partitions and heals,
 * messages are held back, nodes go silent for longer than the gone
 * timeout, crash at a random store commit or between commits, restart on
 * their data dir or on a stale copy of it, and wall clocks are skewed.
 * One schedule in three has one or two partial nodes (a replicate set,
 * sometimes a namespace: tests/lib/sim_partial.c), held to their sets.
 * Then everything heals and the cluster must settle; see check_end() for
 * what is checked, and tests/integration/SIM.md for the bugs it catches.
 *
 * Environment:
 *   RUMOR_SIM_SCHEDULES=N  schedules (default 1000; fewer under ASan)
 *   RUMOR_SIM_SEED=S       seed of the first schedule (default 1);
 *                          schedule i runs with seed S + i
 *   RUMOR_SIM_TRACE=1      print every step and the nodes' logs
 *   RUMOR_SIM_PARTIAL=0    no partial nodes (--replicate) in any
 *                          schedule; =1: partial nodes held to their
 *                          sets; =writes: partial nodes only
 *                          confine their writes, and are checked as
 *                          full nodes (for a tree whose sync ignores
 *                          the replicate set)
 *   RUMOR_SIM_KNOWN_BUGS=1 fail on the known (not planted) bugs of
 *                          tests/integration/SIM.md ("found") instead of
 *                          steering around them: a rewrite after a
 *                          tombstone collection is then tried, and a
 *                          collection a member's table does not know
 *                          fails instead of stopping the schedule, and
 *                          a stale copy that resurrects a collected
 *                          deletion is still restarted on
 * A failure prints the one command line that replays its schedule.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_SCHEDULES 200
#else
#define DEFAULT_SCHEDULES 1000
#endif

/* Partial nodes by default: 2, held to their sets (1, writes only, is
 * for a tree whose sync side ignores the replicate set). */
#define PARTIAL_DEFAULT 2

struct run {
	uint64_t lat_max, hold_max;
	/* figures over all schedules */
	uint64_t nodes, writes, refused, ctl_writes, crashes, stale, cuts;
	uint64_t partitions, pauses, collected, virtual_ms, probes, known;
	uint64_t live, no_live;
	/* schedules with partial nodes: how many, their nodes, writes
	 * outside a set refused, tombstones collected during the run and
	 * after the heal by full nodes for keys outside a partial set */
	uint64_t partial, partial_nodes, outside_refused, partial_collected;
	uint64_t end_collected, end_collect_max_ms;
	size_t peak_queued;
	int partial_mode;           /* 0 none, 1 writes only, 2 checked */
};

/* A user resolver: the longer value wins; a deletion loses to a value;
 * otherwise no opinion (the default order decides). */
static int longer_wins(const struct rumor_version *a,
		       const struct rumor_version *b)
{
	if (a->deleted != b->deleted)
		return a->deleted ? 1 : -1;
	if (a->value_len != b->value_len)
		return a->value_len > b->value_len ? -1 : 1;
	return 0;
}

static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void choose_params(uint64_t seed, int partial_mode,
			  struct simc_params *p)
{
	uint64_t x = seed ^ 0x5eedf00dULL;

	memset(p, 0, sizeof(*p));
	p->n = 3 + (int)(mix(&x) % 5);
	p->multicast = (int)(mix(&x) % 2);
	p->fsync = mix(&x) % 3 == 0 ? RUMOR_FSYNC_EVERYSEC : RUMOR_FSYNC_NEVER;
	p->resolve = mix(&x) % 2 ? longer_wins : NULL;
	p->interval_min_ms = 400;
	p->interval_max_ms = 1000 + (uint32_t)(mix(&x) % 2000);
	p->catchup_wait_ms = 1000 + (uint32_t)(mix(&x) % 2000);
	/* Above the 3 s keepalive of quiet connections (NET_PING_EVERY_MS),
	 * or connected members flap to suspect between pings. */
	p->suspect_after_ms = 4000 + (uint32_t)(mix(&x) % 2000);
	p->gone_after_ms = p->suspect_after_ms + 2000 +
		(uint32_t)(mix(&x) % 3000);
	/* From the seed alone: the world's PRNG draws as it did before
	 * partial nodes, in the schedules that have none. */
	if (partial_mode != 0)
		simc_draw_sets(seed, p);
}

static int random_up(struct simc *c)
{
	int i = (int)sim_below(c->sim, (uint32_t)c->p.n), k;

	for (k = 0; k < c->p.n; k++, i = (i + 1) % c->p.n)
		if (simc_up(c, i) && sim_host_state(c->sim, i) == SIM_HOST_UP)
			return i;
	return -1;
}

static int random_down(struct simc *c)
{
	int i = (int)sim_below(c->sim, (uint32_t)c->p.n), k;

	for (k = 0; k < c->p.n; k++, i = (i + 1) % c->p.n)
		if (c->nodes[i].state == SIMC_DOWN && !c->nodes[i].closing)
			return i;
	return -1;
}

static void restart(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];

	if (nd->stale != NULL && sim_below(c->sim, 3) == 0) {
		if (!simc_stale_resurrects(c, i)) {
			simc_start_stale(c, i);
			return;
		}
		SIMC_TRACE(c, "node %d: its stale copy would resurrect a "
			   "collected deletion; restarts on its data dir", i);
	}
	/* Sometimes keep this state aside, for a stale restart later. */
	if (sim_below(c->sim, 3) == 0)
		simc_save_stale(c, i);
	SIMC_TRACE(c, "node %d restarts on its data dir", i);
	nd->restarts++;
	simc_start(c, i);
}

static void cut_one(struct simc *c)
{
	size_t n = sim_conn_count(c->sim);
	struct io_conn *conn;

	if (n == 0)
		return;
	conn = sim_conn_at(c->sim, sim_below(c->sim, (uint32_t)n));
	SIMC_TRACE(c, "cut a connection of node %d", sim_conn_host(conn));
	sim_conn_cut(conn, sim_conn_sent(conn) + sim_below(c->sim, 2048));
	c->cuts++;
}

static void partition(struct simc *c)
{
	int g[SIMC_NODES_MAX], i;

	for (i = 0; i < c->p.n; i++)
		g[i] = (int)sim_below(c->sim, 2);
	SIMC_TRACE(c, "partition");
	sim_partition(c->sim, g);
	c->partitions++;
}

/* One random step of a schedule. */
static void step(struct simc *c)
{
	unsigned op;
	int i;

	/* Checked right before any fault: a stale restart may lower a
	 * member's HWMs below what a collection relied on. */
	simc_check_tombstones(c);
	op = sim_below(c->sim, 100);
	i = random_up(c);

	if (op < 40) {
		if (i >= 0)
			(void)simc_write(c, i);
	} else if (op < 45) {
		if (i >= 0)
			simc_ctl_write(c, i);
	} else if (op < 53) {
		cut_one(c);
	} else if (op < 58) {
		partition(c);
	} else if (op < 63) {
		sim_heal(c->sim);
	} else if (op < 67) {
		size_t n = sim_conn_count(c->sim);

		if (n > 0)
			sim_conn_hold(sim_conn_at(c->sim,
						  sim_below(c->sim,
							    (uint32_t)n)),
				      sim_below(c->sim, 100));
	} else if (op < 71) {
		if (i >= 0) {
			uint64_t ms = c->p.gone_after_ms +
				sim_below(c->sim, 2000);

			SIMC_TRACE(c, "node %d silent for %llu ms", i,
				   (unsigned long long)ms);
			sim_pause(c->sim, i, ms);
			c->pauses++;
		}
	} else if (op < 77) {
		if (i >= 0)
			simc_arm_crash(c, i, 1 + sim_below(c->sim, 6));
	} else if (op < 80) {
		if (i >= 0)
			simc_kill(c, i);
	} else if (op < 84) {
		if (i >= 0)
			simc_stop(c, i);
	} else if (op < 95) {
		i = random_down(c);
		if (i >= 0)
			restart(c, i);
	} else if (i >= 0) {
		sim_set_skew(c->sim, i, (int64_t)sim_below(c->sim, 20001) -
			     10000);
	}
}

/* Gone members are redialed with a backoff capped at the gone timeout,
 * so a healed cluster finds itself again within about one (it took
 * forget_after, ten, before members were remembered and redialed). */
static uint64_t settle_ms(const struct simc *c)
{
	return 2u * (uint64_t)c->p.gone_after_ms + 20000u;
}

/* Heal everything, bring every node back, and wait for the cluster to
 * settle: every node holds the model, sees every other alive, and has
 * ended its catch-up. */
static void heal_and_settle(struct simc *c)
{
	uint64_t deadline, t;
	char why[256];
	int i;

	simc_check_tombstones(c);
	sim_heal(c->sim);
	sim_calm(c->sim);
	for (i = 0; i < c->p.n; i++)
		c->nodes[i].crash_at = 0;
	simc_run_until(c, sim_now(c->sim) + 1);
	for (i = 0; i < c->p.n; i++)
		if (c->nodes[i].state == SIMC_DOWN)
			restart(c, i);
	/* A member gone on both sides is dialed by neither until it is
	 * forgotten (10 gone timeouts) and relearned from gossip: the
	 * bound must cover that. */
	deadline = sim_now(c->sim) + settle_ms(c);
	for (t = sim_now(c->sim) + 200; t <= deadline; t += 200) {
		simc_run_until(c, t);
		if (c->hit_known || simc_settled(c, why, sizeof(why)))
			return;
	}
	simc_explain(c);
	simc_fail(c, "the cluster did not settle within %llu ms of the heal: "
		  "%s", (unsigned long long)settle_ms(c), why);
}

/* A bound on any connection's queue: the node pauses a stream at
 * NET_HIGH_WATERMARK (1 MiB), and nothing else it sends is large; with
 * this schedule's few small keys, everything a node could have to say
 * to a peer over the longest silence (a gone timeout and 2 s: at most 8
 * s of rounds, pings and pushes of a log of at most 9 keys) stays far
 * below 64 KiB. A queue above it grows with time, not with data. */
#define QUEUE_BOUND (64u * 1024u)

/* After a local write on a connected, idle cluster, every connected
 * peer hears of it at once (DESIGN 4.5: pushed, not left to the next
 * paced round): within the kick delay and a few message latencies. */
static void push_probe(struct simc *c, struct run *run)
{
	static const uint8_t key[] = "probe";
	struct ctl_peer_info peers[2 * SIMC_NODES_MAX];
	uint64_t within = 10 + 8 * run->lat_max + 50;
	size_t n, p;
	int a = random_up(c), j, k, rv;

	/* From a full node: the probe's key is outside every set. */
	for (k = 0; a >= 0 && k < c->p.n && simc_partial(c, a); k++)
		a = (a + 1) % c->p.n;
	if (a < 0 || simc_partial(c, a) || !simc_up(c, a) ||
	    !simc_may_write(c, a))
		return;
	/* Quiet first: no round in flight, the last push long past. */
	simc_run_until(c, sim_now(c->sim) + 2 * c->p.interval_min_ms);
	rv = rumor_put(c->nodes[a].r, key, sizeof(key) - 1, "x", 1);
	if (rv != 0)
		simc_fail(c, "probe write on node %d: %s", a,
			  rumor_strerror(rv));
	n = node_peers(c->nodes[a].r, peers, 2 * SIMC_NODES_MAX);
	if (n > 2 * SIMC_NODES_MAX)
		n = 2 * SIMC_NODES_MAX;
	simc_run_until(c, sim_now(c->sim) + within);
	for (p = 0; p < n; p++) {
		j = simc_origin_index(c, peers[p].id);
		if (j < 0 || !peers[p].connected ||
		    !simc_in_set(c, j, key, sizeof(key) - 1))
			continue;
		if (!simc_holds_winner(c, j, key, sizeof(key) - 1))
			simc_fail(c, "node %d wrote a key and its connected "
				  "peer node %d did not have it %llu ms later",
				  a, j, (unsigned long long)within);
	}
	run->probes++;
}

static void check_end(struct simc *c, struct run *run)
{
	int i;

	for (i = 0; i < c->p.n; i++) {
		simc_check_model(c, i);
		simc_check_hwm(c, i);
	}
	simc_ctl_check(c, random_up(c));
	if (sim_peak_queued(c->sim) > QUEUE_BOUND)
		simc_fail(c, "a connection queued %zu bytes (bound %u)",
			  sim_peak_queued(c->sim), QUEUE_BOUND);
	push_probe(c, run);
	/* A partial node holds no collection back for keys outside its
	 * set, and takes part in those inside it: once settled, every
	 * tombstone goes everywhere within a few rounds. */
	if (run->partial_mode != 0 && simc_partial_count(c) > 0)
		simc_check_end_collection(c, 10u * c->p.interval_max_ms +
					  c->p.gone_after_ms);
}

static void run_schedule(struct simc *c, struct run *run, uint64_t seed,
			 const char *base, const char *prog)
{
	struct simc_params p;
	unsigned steps, s;
	int i;

	choose_params(seed, run->partial_mode, &p);
	simc_begin(c, seed, base, prog, &p);
	c->sets_checked = run->partial_mode == 2;
	run->lat_max = 2 + sim_below(c->sim, 20);
	run->hold_max = sim_below(c->sim, 4) == 0 ? sim_below(c->sim, 30) : 0;
	sim_set_latency(c->sim, 1, (uint32_t)run->lat_max);
	sim_set_hold(c->sim, (uint32_t)run->hold_max);
	sim_set_udp_loss(c->sim, sim_below(c->sim, 20));
	/* One schedule in four has a node without the live stream: its
	 * peers reach it by rounds, and it relays by rounds only. */
	if (sim_below(c->sim, 4) == 0)
		c->p.no_live_mask = 1u << sim_below(c->sim, (uint32_t)p.n);
	for (i = 0; i < p.n; i++) {
		if (sim_below(c->sim, 3) == 0)
			sim_set_skew(c->sim, i,
				     (int64_t)sim_below(c->sim, 4001) - 2000);
		/* A copy of the empty dir: a restart on it is a node that
		 * lost its disk but kept its key. */
		if (sim_below(c->sim, 4) == 0)
			simc_save_stale(c, i);
		simc_start(c, i);
	}
	steps = 15 + sim_below(c->sim, 30);
	for (s = 0; s < steps && !c->hit_known; s++) {
		simc_run_until(c, sim_now(c->sim) + sim_below(c->sim, 400));
		step(c);
	}
	if (!c->hit_known)
		heal_and_settle(c);
	if (!c->hit_known)
		check_end(c, run);
	if (c->hit_known)
		run->known++;
	run->nodes += (uint64_t)p.n;
	run->writes += c->writes;
	run->refused += c->refused;
	run->ctl_writes += c->ctl_writes;
	run->cuts += c->cuts;
	run->partitions += c->partitions;
	run->pauses += c->pauses;
	run->collected += c->tombstones_seen_collected;
	run->virtual_ms += sim_now(c->sim);
	if (sim_peak_queued(c->sim) > run->peak_queued)
		run->peak_queued = sim_peak_queued(c->sim);
	for (i = 0; i < p.n; i++) {
		struct rumor_stats st;

		run->crashes += c->nodes[i].crashes;
		run->stale += c->nodes[i].stale_restarts;
		rumor_stats_init(&st);
		if (c->nodes[i].r != NULL && rumor_stats(c->nodes[i].r, &st) == 0)
			run->live += st.live_received;
	}
	if (c->p.no_live_mask != 0)
		run->no_live++;
	if (simc_partial_count(c) > 0) {
		run->partial++;
		run->partial_nodes += (uint64_t)simc_partial_count(c);
		run->partial_collected += c->tombstones_seen_collected;
		run->end_collected += c->end_collected;
		if (c->end_collect_ms > run->end_collect_max_ms)
			run->end_collect_max_ms = c->end_collect_ms;
	}
	run->outside_refused += c->outside_refused;
	simc_end(c);
}

int main(int argc, char **argv)
{
	struct simc c;
	struct run run;
	uint64_t first = 1, count = DEFAULT_SCHEDULES, i, t0;
	const char *env;
	char *top, *base;

	(void)argc;
	memset(&run, 0, sizeof(run));
	memset(&c, 0, sizeof(c));
	c.trace = getenv("RUMOR_SIM_TRACE") != NULL;
	c.known_bugs = getenv("RUMOR_SIM_KNOWN_BUGS") != NULL;
	c.rewrite_collected = 1;   /* the clock floor fixed "found" 1 */
	env = getenv("RUMOR_SIM_PARTIAL");
	run.partial_mode = env == NULL || *env == '\0' ? PARTIAL_DEFAULT :
		strcmp(env, "writes") == 0 ? 1 : strcmp(env, "0") == 0 ? 0 : 2;
	env = getenv("RUMOR_SIM_SEED");
	if (env != NULL && *env != '\0')
		first = strtoull(env, NULL, 0);
	env = getenv("RUMOR_SIM_SCHEDULES");
	if (env != NULL && *env != '\0')
		count = strtoull(env, NULL, 0);
	tu_prefer_tmpfs();
	top = tu_tmpdir("cluster");
	base = tu_join(top, "s");
	t0 = tu_now_ms();
	for (i = 0; i < count; i++)
		run_schedule(&c, &run, first + i, base, argv[0]);
	tu_rmrf(top);
	free(base);
	free(top);
	printf("test_cluster: %llu schedules (seeds %llu..%llu) passed in "
	       "%llu ms (%llu s virtual): %llu nodes, %llu writes (%llu "
	       "refused, %llu by control socket), %llu crashes, %llu stale "
	       "restarts, %llu cuts, %llu partitions, %llu silences, %llu "
	       "tombstones collected, %llu push probes, %llu entries "
	       "received live (%llu schedules with a node without live), "
	       "peak queue %zu bytes; %llu stopped by a known bug\n",
	       (unsigned long long)count,
	       (unsigned long long)first,
	       (unsigned long long)(first + count - 1),
	       (unsigned long long)(tu_now_ms() - t0),
	       (unsigned long long)(run.virtual_ms / 1000),
	       (unsigned long long)run.nodes, (unsigned long long)run.writes,
	       (unsigned long long)run.refused,
	       (unsigned long long)run.ctl_writes,
	       (unsigned long long)run.crashes, (unsigned long long)run.stale,
	       (unsigned long long)run.cuts,
	       (unsigned long long)run.partitions,
	       (unsigned long long)run.pauses,
	       (unsigned long long)run.collected,
	       (unsigned long long)run.probes,
	       (unsigned long long)run.live,
	       (unsigned long long)run.no_live, run.peak_queued,
	       (unsigned long long)run.known);
	printf("test_cluster: partial nodes (%s): %llu schedules with %llu "
	       "partial nodes, %llu writes outside a set refused, %llu "
	       "tombstones collected in them, %llu collections by full "
	       "nodes after the heal of keys outside a partial set (every "
	       "tombstone gone within %llu virtual ms of the settle)\n",
	       run.partial_mode == 0 ? "off" : run.partial_mode == 1 ?
	       "writes only" : "checked", (unsigned long long)run.partial,
	       (unsigned long long)run.partial_nodes,
	       (unsigned long long)run.outside_refused,
	       (unsigned long long)run.partial_collected,
	       (unsigned long long)run.end_collected,
	       (unsigned long long)run.end_collect_max_ms);
	return 0;
}
