/* SPDX-License-Identifier: MIT */
/*
 * test_strong_sim: strong writes (issue 14) in the cluster simulator
 * (tests/integration/SIM.md, "Strong writes"). Two schedule families:
 *
 * - schedules: 3 to 5 nodes in strong consistency (quorum all, one in
 *   three a majority), a client on each node issuing strong puts,
 *   deletes and batches and reads (tests/lib/sim_strong.h), while nodes
 *   crash at a store commit, at a strong-write step (every step of
 *   node_env.strong_step), are killed or restarted, and the network
 *   partitions and heals. Then: heal, restart every node, and wait until
 *   every write had its cb, no intent is pending and every node holds the
 *   same value per key; a read of every key on every node; the whole
 *   history must be linearizable (tests/lib/lincheck.h).
 * - races: three nodes, quorum all, connected; nodes 0 and 1 write the
 *   same key at the same virtual instant; both cbs come, the nodes never
 *   diverge, and the history is linearizable.
 * - readers: a strong write of a hot key while every node reads it
 *   every virtual ms (reads must honour the locks: planted bug S2).
 * - fixed scenarios: the coordinator's commit fails (the cb must not
 *   say aborted); the coordinator stalls until its participants gave up,
 *   then commits (no outcome guessed, the late COMMIT counted); with
 *   quorum 2 of 3, a yes vote that comes after the decision gets it at
 *   once (from the kept outcome; from the commit in memory, where it
 *   completes the quorum of COMMITTED), so its key is free within a
 *   round trip; a participant whose intent cannot be stored votes no
 *   (a yes vote promises a durable intent), so nothing commits.
 *
 * Environment:
 *   RUMOR_SIM_SEED=S        first seed (default 1)
 *   RUMOR_SIM_SCHEDULES=N   schedules (default 200)
 *   RUMOR_SIM_RACES=N       races (default 1000)
 *   RUMOR_SIM_READS=N       reader runs (default 100)
 *   RUMOR_SIM_SCENARIOS=0   skips the fixed scenarios (a commit that
 *                           fails on its coordinator, a late COMMIT,
 *                           an intent that cannot be stored, late yes
 *                           votes)
 *   RUMOR_SIM_TRACE=1       every step and the nodes' logs
 * A failure prints the command line that replays it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rumor.h"
#include "node/node.h"
#include "store/store.h"
#include "tests/lib/sim_strong.h"
#include "tests/lib/testutil.h"

#define DEFAULT_SCHEDULES 200
#define DEFAULT_RACES 1000
#define DEFAULT_READS 100

struct figures {
	uint64_t schedules, races, nodes, virtual_ms, ops, crashes;
	uint64_t step_crashes, partitions;
	uint64_t w_ok, w_failed, w_info, w_aborted, w_locked, w_notready;
	uint64_t w_timedout, r_ok, r_locked, r_notready, refused;
	uint64_t race_ok[3];        /* races with 0, 1, 2 writes ok */
	uint64_t reads_runs;
};

static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void choose_params(uint64_t seed, int n, struct simc_params *p)
{
	uint64_t x = seed ^ 0x5700c0deULL;

	memset(p, 0, sizeof(*p));
	p->n = n > 0 ? n : 3 + (int)(mix(&x) % 3);
	p->multicast = (int)(mix(&x) % 2);
	p->fsync = RUMOR_FSYNC_NEVER;
	p->interval_min_ms = 400;
	p->interval_max_ms = 1000 + (uint32_t)(mix(&x) % 2000);
	p->catchup_wait_ms = 1000 + (uint32_t)(mix(&x) % 2000);
	p->suspect_after_ms = 4000 + (uint32_t)(mix(&x) % 2000);
	p->gone_after_ms = p->suspect_after_ms + 2000 +
		(uint32_t)(mix(&x) % 3000);
	p->consistency = RUMOR_CONSISTENCY_STRONG;
	p->quorum = n == 0 && mix(&x) % 3 == 0 ? (uint32_t)(p->n / 2 + 1) : 0;
	p->strong_timeout_ms = 300 + (uint32_t)(mix(&x) % 700);
}

static int random_node(struct simc *c, int up)
{
	int i = (int)sim_below(c->sim, (uint32_t)c->p.n), k;

	for (k = 0; k < c->p.n; k++, i = (i + 1) % c->p.n) {
		if (up && simc_up(c, i) &&
		    sim_host_state(c->sim, i) == SIM_HOST_UP)
			return i;
		if (!up && c->nodes[i].state == SIMC_DOWN &&
		    !c->nodes[i].closing)
			return i;
	}
	return -1;
}

/* Every node reaches every other (rumor_stats strong_reachable), or the
 * deadline passes (a tree whose stubs report nothing). */
static int all_reachable(void *arg)
{
	struct simc *c = arg;
	int i;

	for (i = 0; i < c->p.n; i++) {
		struct rumor_stats st = RUMOR_STATS_INIT;

		if (!simc_up(c, i) || rumor_stats(c->nodes[i].r, &st) != 0 ||
		    st.strong_reachable < (uint32_t)c->p.n ||
		    !rumor_ready(c->nodes[i].r))
			return 0;
	}
	return 1;
}

static void start_all(struct simc *c)
{
	int i;

	for (i = 0; i < c->p.n; i++) {
		simc_run_until(c, sim_now(c->sim) + sim_below(c->sim, 300));
		simc_start(c, i);
	}
	(void)simc_run_cond(c, all_reachable, c, sim_now(c->sim) + 15000);
}

/* A run's world: the cluster of p with its seed, the checker s over it,
 * every node started (start_all). */
static void begin_run(struct simc *c, struct sims *s, uint64_t seed,
		      const struct simc_params *p, const char *base,
		      const char *prog)
{
	simc_begin(c, seed, base, prog, p);
	sims_init(s, c);
	start_all(c);
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

static void step(struct sims *s)
{
	struct simc *c = s->c;
	unsigned op = sim_below(c->sim, 100);
	int i = random_node(c, 1);

	if (op < 55) {
		if (i >= 0)
			sims_client(s, i);
	} else if (op < 62) {
		partition(c);
	} else if (op < 68) {
		SIMC_TRACE(c, "heal");
		sim_heal(c->sim);
	} else if (op < 73) {
		if (i >= 0)
			simc_arm_crash(c, i, 1 + sim_below(c->sim, 6));
	} else if (op < 81) {
		if (i >= 0)
			simc_arm_step(c, i, sims_step_names[sim_below(
					      c->sim, SIMS_STEPS)],
				      1 + sim_below(c->sim, 2));
	} else if (op < 84) {
		if (i >= 0)
			simc_kill(c, i);
	} else if (op < 92) {
		i = random_node(c, 0);
		if (i >= 0) {
			c->nodes[i].restarts++;
			simc_start(c, i);
		}
	}
	simc_run_until(c, sim_now(c->sim) + sim_below(c->sim, 150));
	sims_note_down(s);
}

static int quiet(void *arg)
{
	struct sims *s = arg;
	char why[256];

	sims_note_down(s);
	return sims_idle(s) && sims_quiet(s, why, sizeof(why));
}

/* Heal, bring every node back, wait until quiet; then read everything
 * everywhere and check the history. */
static void end_checks(struct sims *s)
{
	struct simc *c = s->c;
	uint64_t bound = 2u * (uint64_t)c->p.gone_after_ms + 20000u +
		8u * (uint64_t)c->p.strong_timeout_ms;
	char why[256];
	int i;

	sim_heal(c->sim);
	sim_calm(c->sim);
	for (i = 0; i < c->p.n; i++) {
		c->nodes[i].crash_at = 0;
		c->nodes[i].crash_step_nth = 0;
	}
	simc_run_until(c, sim_now(c->sim) + 1);
	sims_note_down(s);
	for (i = 0; i < c->p.n; i++)
		if (c->nodes[i].state == SIMC_DOWN)
			simc_start(c, i);
	if (!simc_run_cond(c, quiet, s, sim_now(c->sim) + bound)) {
		if (!sims_idle(s))
			simc_fail(c, "a strong write's cb did not come within "
				  "%llu ms of the heal",
				  (unsigned long long)bound);
		(void)sims_quiet(s, why, sizeof(why));
		simc_fail(c, "not quiet within %llu ms of the heal: %s",
			  (unsigned long long)bound, why);
	}
	sims_final_reads(s);
	sims_check(s);
}

static void add_figures(struct figures *f, const struct sims *s,
			const struct simc *c)
{
	int i;

	f->nodes += (uint64_t)c->p.n;
	f->virtual_ms += sim_now(c->sim);
	f->ops += s->h.n;
	f->partitions += c->partitions;
	for (i = 0; i < c->p.n; i++) {
		f->crashes += c->nodes[i].crashes;
		f->step_crashes += c->nodes[i].step_crashes;
	}
	f->w_ok += s->w_ok;
	f->w_failed += s->w_failed;
	f->w_info += s->w_info;
	f->w_aborted += s->w_aborted;
	f->w_locked += s->w_locked;
	f->w_notready += s->w_notready;
	f->w_timedout += s->w_timedout;
	f->refused += s->w_refused;
	f->r_ok += s->r_ok;
	f->r_locked += s->r_locked;
	f->r_notready += s->r_notready;
}

static void run_schedule(struct simc *c, struct figures *f, uint64_t seed,
			 const char *base, const char *prog)
{
	struct simc_params p;
	struct sims s;
	int i, n_steps;

	choose_params(seed, 0, &p);
	simc_begin(c, seed, base, prog, &p);
	sims_init(&s, c);
	s.stale_reads = p.quorum != 0 && p.quorum < (uint32_t)p.n;
	SIMC_TRACE(c, "schedule %llu: %d nodes, quorum %u, strong timeout "
		   "%u ms", (unsigned long long)seed, p.n, p.quorum,
		   p.strong_timeout_ms);
	start_all(c);
	n_steps = 30 + (int)sim_below(c->sim, 40);
	for (i = 0; i < n_steps; i++)
		step(&s);
	end_checks(&s);
	add_figures(f, &s, c);
	simc_end(c);
	sims_free(&s);
	f->schedules++;
}

static void run_race(struct simc *c, struct figures *f, uint64_t seed,
		     const char *base, const char *prog)
{
	struct simc_params p;
	struct sims s;
	unsigned key = 0;
	uint64_t ok0;

	choose_params(seed, 3, &p);
	begin_run(c, &s, seed, &p, base, prog);
	ok0 = s.w_ok;
	(void)sims_write(&s, 0, &key, 1, 0);
	if (sim_below(c->sim, 2))
		sims_read(&s, 2, key);
	(void)sims_write(&s, 1, &key, 1, sim_below(c->sim, 4) == 0);
	if (!simc_run_cond(c, quiet, &s, sim_now(c->sim) +
			   20u * p.strong_timeout_ms + 20000u)) {
		char why[256];

		if (!sims_idle(&s))
			simc_fail(c, "race: a cb did not come");
		(void)sims_quiet(&s, why, sizeof(why));
		simc_fail(c, "race: not quiet: %s", why);
	}
	sims_final_reads(&s);
	sims_check(&s);
	f->race_ok[s.w_ok - ok0 > 2 ? 2 : s.w_ok - ok0]++;
	add_figures(f, &s, c);
	simc_end(c);
	sims_free(&s);
	f->races++;
}

/* ------------------------------------------------------------ scenarios */

static int idle(void *arg)
{
	struct sims *s = arg;

	sims_note_down(s);
	return sims_idle(s);
}

static struct rumor_stats stats_of(struct simc *c, int i)
{
	struct rumor_stats st = RUMOR_STATS_INIT;

	if (rumor_stats(c->nodes[i].r, &st) != 0)
		simc_fail(c, "rumor_stats %d", i);
	return st;
}

static void settle(struct sims *s, uint64_t bound)
{
	struct simc *c = s->c;
	char why[256];

	if (!simc_run_cond(c, quiet, s, sim_now(c->sim) + bound)) {
		(void)sims_quiet(s, why, sizeof(why));
		simc_fail(c, "not quiet: %s", why);
	}
	sims_final_reads(s);
	sims_check(s);
}

/* The coordinator's own commit fails (a store error) and the node lives
 * on: its participants may be told to abort, but the cb must not say
 * RUMOR_EABORTED ("nothing applied anywhere"): a store that failed may
 * still hold the batch. */
static void scenario_commit_fails(struct simc *c, const char *base,
				  const char *prog)
{
	struct simc_params p;
	struct sims s;
	unsigned key = 0;
	int rv;

	choose_params(7, 3, &p);
	begin_run(c, &s, 7, &p, base, prog);
	simc_arm_fail(c, 0, "strong commit");
	(void)sims_write(&s, 0, &key, 1, 0);
	if (!simc_run_cond(c, idle, &s, sim_now(c->sim) +
			   4u * p.strong_timeout_ms))
		simc_fail(c, "commit fails: no cb");
	rv = s.last_result[0];
	if (c->nodes[0].fails != 1 || rv == 0 || rv == RUMOR_EABORTED)
		simc_fail(c, "commit fails: %llu commit(s) failed, the cb "
			  "said %s (a write whose commit failed here has an "
			  "unknown outcome, never aborted)",
			  (unsigned long long)c->nodes[0].fails,
			  rumor_strerror(rv));
	settle(&s, 20000u + 8u * p.strong_timeout_ms);
	simc_end(c);
	sims_free(&s);
}

/* A participant's intent cannot be stored (its store commit "intent"
 * fails, the node lives on): it must not vote yes, since a yes vote
 * promises a durable intent; with quorum all the write cannot commit
 * anywhere and must fail as aborted (its no vote says why). Votes leave
 * only after the turn's group sync: a vote sent before the sync, as
 * the intent is queued, would let node 0 commit here. */
static void scenario_intent_fails(struct simc *c, const char *base,
				  const char *prog)
{
	struct simc_params p;
	struct sims s;
	unsigned key = 0;
	uint64_t committed0;
	int rv;

	choose_params(17, 3, &p);
	simc_begin(c, 17, base, prog, &p);
	sims_init(&s, c);
	start_all(c);
	committed0 = stats_of(c, 0).strong_committed;
	simc_arm_fail(c, 1, "intent");
	(void)sims_write(&s, 0, &key, 1, 0);
	if (!simc_run_cond(c, idle, &s, sim_now(c->sim) +
			   4u * p.strong_timeout_ms))
		simc_fail(c, "intent fails: no cb");
	rv = s.last_result[0];
	if (c->nodes[1].fails != 1)
		simc_fail(c, "intent fails: node 1's intent commit did not "
			  "fail (%llu failed)",
			  (unsigned long long)c->nodes[1].fails);
	if (stats_of(c, 0).strong_committed != committed0 ||
	    rv != RUMOR_EABORTED)
		simc_fail(c, "intent fails: node 0 committed (cb %s) though "
			  "node 1 could not store its intent: a yes vote left "
			  "before the intent was durable", rumor_strerror(rv));
	/* The coordinator's own intent: no PREPARE leaves before it is
	 * stored, so no participant prepares. */
	{
		uint64_t p1 = stats_of(c, 1).strong_prepared;
		uint64_t p2 = stats_of(c, 2).strong_prepared;

		simc_arm_fail(c, 0, "intent");
		(void)sims_write(&s, 0, &key, 1, 0);
		if (!simc_run_cond(c, idle, &s, sim_now(c->sim) +
				   4u * p.strong_timeout_ms))
			simc_fail(c, "intent fails: no cb (coordinator)");
		simc_run_until(c, sim_now(c->sim) + 50);
		if (c->nodes[0].fails != 1 || s.last_result[0] == 0 ||
		    stats_of(c, 1).strong_prepared != p1 ||
		    stats_of(c, 2).strong_prepared != p2)
			simc_fail(c, "intent fails: the coordinator's intent "
				  "was not stored, yet a participant prepared "
				  "(or the cb said %s)",
				  rumor_strerror(s.last_result[0]));
	}
	settle(&s, 20000u + 8u * p.strong_timeout_ms);
	simc_end(c);
	sims_free(&s);
}

static int both_prepared(void *arg)
{
	struct simc *c = arg;

	return stats_of(c, 1).strong_pending > 0 &&
	       stats_of(c, 2).strong_pending > 0;
}

static int gave_up(void *arg)
{
	struct simc *c = arg;

	return stats_of(c, 1).strong_pending == 0 &&
	       stats_of(c, 2).strong_pending == 0;
}

/* The coordinator stalls (a paused process) after both participants
 * prepared; they ask each other, learn nothing and give up; then the
 * coordinator commits and its COMMIT comes late. Giving up records no
 * outcome (answering "aborted" to an ASK would be a guess passed on as
 * final), the late COMMIT is counted (strong_late) and the value reaches
 * both participants; the cb does not say ok (fewer than the quorum
 * confirmed) nor aborted. */
static void scenario_late_commit(struct simc *c, const char *base,
				 const char *prog)
{
	struct simc_params p;
	struct sims s;
	unsigned key = 0;
	uint32_t t;
	int i, rv;

	choose_params(11, 3, &p);
	p.strong_timeout_ms = t = 300;
	begin_run(c, &s, 11, &p, base, prog);
	(void)sims_write(&s, 0, &key, 1, 0);
	if (!simc_run_cond(c, both_prepared, c, sim_now(c->sim) + t))
		simc_fail(c, "late commit: the participants did not prepare");
	sim_pause(c->sim, 0, 5u * t);
	if (!simc_run_cond(c, gave_up, c, sim_now(c->sim) + 4u * t))
		simc_fail(c, "late commit: the participants did not give up "
			  "within 4 strong timeouts");
	for (i = 1; i <= 2; i++)
		if (store_outcomes_count(c->nodes[i].r->store) != 0)
			simc_fail(c, "late commit: node %d gave up and "
				  "recorded an outcome", i);
	if (!simc_run_cond(c, idle, &s, sim_now(c->sim) + 8u * t))
		simc_fail(c, "late commit: no cb");
	rv = s.last_result[0];
	if (rv == 0 || rv == RUMOR_EABORTED)
		simc_fail(c, "late commit: the cb said %s",
			  rumor_strerror(rv));
	settle(&s, 20000u + 8u * t);
	for (i = 1; i <= 2; i++)
		/* One COMMIT, and one more when the coordinator resends
		 * it at half its commit bound (a participant that gave up
		 * does not confirm): each is late. */
		if (stats_of(c, i).strong_late < 1 ||
		    stats_of(c, i).strong_late > 2)
			simc_fail(c, "late commit: node %d counted %llu late "
				  "COMMITs, not 1 or 2", i,
				  (unsigned long long)stats_of(c, i).strong_late);
	simc_end(c);
	sims_free(&s);
}

struct on_node {
	struct simc *c;
	int i;
	uint64_t committed0, prepared0;
};

/* Node i stored an intent since prepared0 (its yes vote leaves then). */
static int node_prepared(void *arg)
{
	struct on_node *o = arg;

	return stats_of(o->c, o->i).strong_prepared > o->prepared0;
}

static int node_unlocked(void *arg)
{
	struct on_node *o = arg;

	return stats_of(o->c, o->i).strong_pending == 0;
}

static int node_committed(void *arg)
{
	struct on_node *o = arg;

	return stats_of(o->c, o->i).strong_committed > o->committed0;
}

/* The value of key on node i: 0 with *v (rumor_free) or the code. */
static int get_key(struct simc *c, int i, unsigned key, void **v,
		   size_t *len)
{
	uint8_t k[SIMC_KEY_LEN];

	simc_key(key, k);
	*v = NULL;
	*len = 0;
	return rumor_get(c->nodes[i].r, k, sizeof(k), v, len);
}

/* Quorum 2 of 3, T = 1 s, latency 2-8 ms: node 2's host is paused when
 * node 0's PREPARE reaches it, so its yes vote comes after node 0
 * decided on its own and node 1's. in_memory 0: node 0's write has
 * returned (its transaction freed), so the answer comes from the kept
 * outcome; 1: node 1 stalls right after its vote, so node 0 is still
 * waiting for a second COMMITTED when node 2's vote comes (the answer
 * comes from the commit in memory, and node 2's COMMITTED completes the
 * quorum while node 1 is still paused). Either way node 2 must release
 * its key within a round trip of its vote (before: only its recovery,
 * ttl + T = 2 s later, did), hold the committed value, and take a
 * strong write of its own. */
static void scenario_late_vote(struct simc *c, const char *base,
			       const char *prog, int in_memory)
{
	const uint32_t lat_max = 8;
	struct simc_params p;
	struct sims s;
	struct on_node o1, o2, o0;
	unsigned key = 0;
	uint64_t t_vote, waited;
	void *v0, *v2;
	size_t l0, l2;
	const char *how = in_memory ? "late vote (in memory)" :
			  "late vote (kept outcome)";

	choose_params(13, 3, &p);
	p.quorum = 2;
	p.strong_timeout_ms = 1000;
	simc_begin(c, 13, base, prog, &p);
	sims_init(&s, c);
	start_all(c);
	sim_set_latency(c->sim, 2, lat_max);
	o0.c = o1.c = o2.c = c;
	o0.i = 0;
	o1.i = 1;
	o2.i = 2;
	o0.committed0 = stats_of(c, 0).strong_committed;
	o1.prepared0 = stats_of(c, 1).strong_prepared;
	o2.prepared0 = stats_of(c, 2).strong_prepared;
	sim_pause(c->sim, 2, in_memory ? 60 : 100);
	if (sims_write(&s, 0, &key, 1, 0) != 0)
		simc_fail(c, "%s: the write did not start", how);
	if (in_memory) {
		if (!simc_run_cond(c, node_prepared, &o1,
				   sim_now(c->sim) + 50))
			simc_fail(c, "%s: node 1 did not prepare", how);
		sim_pause(c->sim, 1, 400);
		if (!simc_run_cond(c, node_committed, &o0,
				   sim_now(c->sim) + 50))
			simc_fail(c, "%s: node 0 did not commit", how);
	} else if (!simc_run_cond(c, idle, &s, sim_now(c->sim) + 50) ||
		   s.last_result[0] != 0) {
		simc_fail(c, "%s: node 0's write did not return 0 on the "
			  "votes of nodes 0 and 1", how);
	}
	/* The setup, or the test proves nothing: node 0 decided while
	 * node 2 had not even seen the PREPARE. */
	if (sim_host_state(c->sim, 2) != SIM_HOST_PAUSED ||
	    stats_of(c, 2).strong_prepared != o2.prepared0)
		simc_fail(c, "%s: node 2 prepared before node 0 decided", how);
	if (!simc_run_cond(c, node_prepared, &o2, sim_now(c->sim) + 200))
		simc_fail(c, "%s: node 2 did not prepare after its pause",
			  how);
	t_vote = sim_now(c->sim);       /* its vote leaves now */
	if (!simc_run_cond(c, node_unlocked, &o2, sim_now(c->sim) +
			   4u * p.strong_timeout_ms))
		simc_fail(c, "%s: node 2 still holds the intent", how);
	waited = sim_now(c->sim) - t_vote;
	SIMC_TRACE(c, "%s: node 2 released the key %llu ms after its vote",
		   how, (unsigned long long)waited);
	if (waited > 2u * lat_max + 4u)
		simc_fail(c, "%s: node 2 released the key %llu ms after its "
			  "late yes vote, not within a round trip (%u ms)",
			  how, (unsigned long long)waited, 2u * lat_max);
	if (stats_of(c, 2).strong_recovered != 0 ||
	    stats_of(c, 2).strong_late != 0)
		simc_fail(c, "%s: node 2 resolved its intent by recovery or "
			  "a late COMMIT, not by the answer to its vote", how);
	if (in_memory) {
		/* node 2's COMMITTED is the second of the quorum */
		if (!simc_run_cond(c, idle, &s, sim_now(c->sim) + 50) ||
		    s.last_result[0] != 0)
			simc_fail(c, "%s: the write did not return 0", how);
		if (sim_host_state(c->sim, 1) != SIM_HOST_PAUSED)
			simc_fail(c, "%s: the write returned only after node "
				  "1 resumed: node 2's COMMITTED did not count",
				  how);
	}
	if (get_key(c, 0, key, &v0, &l0) != 0)
		simc_fail(c, "%s: node 0 cannot read the key", how);
	if (get_key(c, 2, key, &v2, &l2) != 0 || l0 != l2 ||
	    memcmp(v0, v2, l0) != 0)
		simc_fail(c, "%s: node 2 does not read the committed value",
			  how);
	rumor_free(v0);
	rumor_free(v2);
	/* writable: a strong write of its own on node 2 */
	(void)simc_run_cond(c, idle, &s, sim_now(c->sim) + 1000);
	if (sims_write(&s, 2, &key, 1, 0) != 0 ||
	    !simc_run_cond(c, idle, &s, sim_now(c->sim) +
			   2u * p.strong_timeout_ms) ||
	    s.last_result[2] != 0)
		simc_fail(c, "%s: node 2's own strong write of the key "
			  "failed", how);
	settle(&s, 20000u + 8u * p.strong_timeout_ms);
	simc_end(c);
	sims_free(&s);
}

/* Readers: 3 to 5 nodes, quorum all, connected and ready; a strong
 * write of a hot key (a put, a delete one time in four) from a random
 * node while every node reads the key every virtual ms until the cb and
 * a few ms after. Reads that ignored the locks would see the new value
 * on the coordinator and then the old one on a participant whose COMMIT
 * has not arrived: not linearizable (planted bug S2). */
static void run_reads(struct simc *c, struct figures *f, uint64_t seed,
		      const char *base, const char *prog)
{
	struct simc_params p;
	struct sims s;
	unsigned key = 0;
	uint64_t until;
	int i, w;

	choose_params(seed, 0, &p);
	p.quorum = 0;
	begin_run(c, &s, seed, &p, base, prog);
	w = (int)sim_below(c->sim, (uint32_t)p.n);
	if (sim_below(c->sim, 2))
		(void)sims_write(&s, w, &key, 1, 0);   /* a value to replace */
	(void)simc_run_cond(c, idle, &s, sim_now(c->sim) +
			    4u * p.strong_timeout_ms);
	(void)sims_write(&s, w, &key, 1, sim_below(c->sim, 4) == 0);
	until = sim_now(c->sim) + 4u * p.strong_timeout_ms;
	while (!sims_idle(&s) && sim_now(c->sim) < until) {
		for (i = 0; i < p.n; i++)
			sims_read(&s, (w + 1 + i) % p.n, key);
		simc_run_until(c, sim_now(c->sim) + 1);
	}
	for (until = sim_now(c->sim) + 5; sim_now(c->sim) < until;) {
		for (i = 0; i < p.n; i++)
			sims_read(&s, (w + 1 + i) % p.n, key);
		simc_run_until(c, sim_now(c->sim) + 1);
	}
	settle(&s, 20000u + 8u * p.strong_timeout_ms);
	add_figures(f, &s, c);
	simc_end(c);
	sims_free(&s);
	f->reads_runs++;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *e = getenv(name);

	return e != NULL && *e != '\0' ? strtoull(e, NULL, 0) : dflt;
}

int main(int argc, char **argv)
{
	struct simc c;
	struct figures f;
	uint64_t first, n_sched, n_races, n_reads, i, t0;
	char *top, *base, sched_prog[512], race_prog[512], scen_prog[512];
	char reads_prog[512];

	(void)argc;
	/* simc_fail prints RUMOR_SIM_SEED=S RUMOR_SIM_SCHEDULES=1 prog:
	 * prog carries what makes that line replay this one run only */
	snprintf(sched_prog, sizeof(sched_prog), "RUMOR_SIM_RACES=0 "
		 "RUMOR_SIM_READS=0 RUMOR_SIM_SCENARIOS=0 %s", argv[0]);
	snprintf(race_prog, sizeof(race_prog),
		 "RUMOR_SIM_SCHEDULES=0 RUMOR_SIM_RACES=1 RUMOR_SIM_READS=0 "
		 "RUMOR_SIM_SCENARIOS=0 %s", argv[0]);
	snprintf(reads_prog, sizeof(reads_prog),
		 "RUMOR_SIM_SCHEDULES=0 RUMOR_SIM_RACES=0 RUMOR_SIM_SCENARIOS=0 "
		 "RUMOR_SIM_READS=1 %s", argv[0]);
	snprintf(scen_prog, sizeof(scen_prog),
		 "RUMOR_SIM_SCHEDULES=0 RUMOR_SIM_RACES=0 RUMOR_SIM_READS=0 %s",
		 argv[0]);
	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	c.trace = getenv("RUMOR_SIM_TRACE") != NULL;
	c.rewrite_collected = 1;
	first = env_u64("RUMOR_SIM_SEED", 1);
	n_sched = env_u64("RUMOR_SIM_SCHEDULES", DEFAULT_SCHEDULES);
	n_races = env_u64("RUMOR_SIM_RACES", DEFAULT_RACES);
	n_reads = env_u64("RUMOR_SIM_READS", DEFAULT_READS);
	tu_prefer_tmpfs();
	top = tu_tmpdir("strong");
	base = tu_join(top, "s");
	t0 = tu_now_ms();
	for (i = 0; i < n_sched; i++)
		run_schedule(&c, &f, first + i, base, sched_prog);
	for (i = 0; i < n_races; i++)
		run_race(&c, &f, first + i, base, race_prog);
	for (i = 0; i < n_reads; i++)
		run_reads(&c, &f, first + i, base, reads_prog);
	if (env_u64("RUMOR_SIM_SCENARIOS", 1)) {
		scenario_commit_fails(&c, base, scen_prog);
		scenario_late_commit(&c, base, scen_prog);
		scenario_intent_fails(&c, base, scen_prog);
		scenario_late_vote(&c, base, scen_prog, 0);
		scenario_late_vote(&c, base, scen_prog, 1);
	}
	tu_rmrf(top);
	free(base);
	free(top);
	printf("test_strong_sim: %llu schedules, %llu races and %llu "
	       "reader runs (seeds from %llu) passed in %llu ms (%llu s virtual): %llu nodes, %llu "
	       "ops recorded; writes: %llu ok, %llu failed (%llu aborted, "
	       "%llu locked, %llu not ready, %llu refused at the call), "
	       "%llu indeterminate (%llu timed out); reads: %llu ok, %llu "
	       "locked, %llu not ready; %llu crashes (%llu at a strong "
	       "step), %llu partitions; races with 0/1/2 writes ok: "
	       "%llu/%llu/%llu\n",
	       (unsigned long long)f.schedules, (unsigned long long)f.races,
	       (unsigned long long)f.reads_runs, (unsigned long long)first,
	       (unsigned long long)(tu_now_ms() - t0),
	       (unsigned long long)(f.virtual_ms / 1000),
	       (unsigned long long)f.nodes, (unsigned long long)f.ops,
	       (unsigned long long)f.w_ok, (unsigned long long)f.w_failed,
	       (unsigned long long)f.w_aborted,
	       (unsigned long long)f.w_locked,
	       (unsigned long long)f.w_notready,
	       (unsigned long long)f.refused,
	       (unsigned long long)f.w_info,
	       (unsigned long long)f.w_timedout,
	       (unsigned long long)f.r_ok, (unsigned long long)f.r_locked,
	       (unsigned long long)f.r_notready,
	       (unsigned long long)f.crashes,
	       (unsigned long long)f.step_crashes,
	       (unsigned long long)f.partitions,
	       (unsigned long long)f.race_ok[0],
	       (unsigned long long)f.race_ok[1],
	       (unsigned long long)f.race_ok[2]);
	return 0;
}
