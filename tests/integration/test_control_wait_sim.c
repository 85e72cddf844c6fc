/* SPDX-License-Identifier: MIT */
/*
 * test_control_wait_sim: a write through the control socket that waits
 * for catch-up (issue 15: `rumorctl put --wait MS`, src/node/
 * control_wait.c), on virtual time in the cluster simulator, so that
 * when the reply comes is asserted to the millisecond without a sleep:
 *
 * - waited, then done: node 0 catches up with nobody (its seeds are
 *   down; a long bound); a PUT with a wait longer than the bound gets no
 *   reply while the node is alone; once node 1 starts and the exchange
 *   completes, catch-up ends and the reply, OK, comes at once (long
 *   before the bound or the wait), the value written;
 * - the wait ends first: a PUT with wait_ms 700 is refused exactly 700
 *   virtual ms after it reached the node, saying it waited 700 ms, the
 *   node still catching up and nothing written;
 * - the node's bound (CTL_WAIT_DEFAULT, what rumorctl sends without
 *   --wait): done when catch-up ends at its deadline.
 *
 * Each scenario runs on every seed (the world's latencies and chunking
 * change with it).
 *
 * Environment:
 *   RUMOR_SIM_SEED=S        first seed (default 1)
 *   RUMOR_SIM_SCHEDULES=N   seeds (default 10)
 *   RUMOR_SIM_TRACE=1       every step and the nodes' logs
 * A failure prints the command line that replays it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rumor.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/testutil.h"
#include "wire/wire_ctl.h"

#define DEFAULT_SEEDS 10
/* The control stream's latency and a loop turn, at most (virtual ms). */
#define SLACK_MS 50u
/* The node's catch-up tick (src/node/sched.c checks the deadline on it). */
#define TICK_MS 500u

static void params(struct simc_params *p, uint32_t catchup_ms)
{
	memset(p, 0, sizeof(*p));
	p->n = 3;
	p->multicast = 0;           /* seeds: node 0 dials 1 and 2 */
	p->fsync = RUMOR_FSYNC_NEVER;
	p->interval_min_ms = 400;
	p->interval_max_ms = 1000;
	p->catchup_wait_ms = catchup_ms;
	p->suspect_after_ms = 4000;
	p->gone_after_ms = 8000;
}

static int catching_up(struct simc *c, int i)
{
	struct rumor_stats st = RUMOR_STATS_INIT;

	if (rumor_stats(c->nodes[i].r, &st) != 0)
		simc_fail(c, "rumor_stats of node %d", i);
	return st.catching_up;
}

/* A write on its way, and when node 0's catch-up was first seen over. */
struct pending {
	struct simc *c;
	struct simc_ctl_call *call;
	uint64_t ended_at;          /* 0: still catching up */
};

static int replied(void *arg)
{
	struct pending *w = arg;

	if (w->ended_at == 0 && !catching_up(w->c, 0))
		w->ended_at = sim_now(w->c->sim);
	return simc_ctl_answered(w->call);
}

static void put_waiting(struct simc *c, struct pending *w, uint64_t wait_ms,
			const uint8_t key[SIMC_KEY_LEN])
{
	struct ctl_request rq = {.cmd = CTL_CMD_PUT, .key = key,
				 .key_len = SIMC_KEY_LEN,
				 .value = (const uint8_t *)"done",
				 .value_len = 4, .has_wait = 1,
				 .wait_ms = wait_ms};

	w->c = c;
	w->ended_at = 0;
	w->call = simc_ctl_start(c, 0, &rq);
}

/* What node 0 holds for key: 1 with "done", 0 none. */
static int holds_done(struct simc *c, const uint8_t key[SIMC_KEY_LEN])
{
	void *v = NULL;
	size_t len = 0;
	int rv = rumor_get(c->nodes[0].r, key, SIMC_KEY_LEN, &v, &len);

	if (rv == RUMOR_ENOTFOUND)
		return 0;
	if (rv != 0 || len != 4 || memcmp(v, "done", 4) != 0)
		simc_fail(c, "node 0 holds something else than the write");
	rumor_free(v);
	return 1;
}

static void scenario_waited_then_done(struct simc *c, uint64_t seed,
				      const char *base, const char *prog)
{
	struct simc_params p;
	struct pending w;
	struct ctl_reply r;
	uint8_t key[SIMC_KEY_LEN];
	uint64_t t0;

	params(&p, 20000);
	simc_begin(c, seed, base, prog, &p);
	simc_key(0, key);
	simc_start(c, 0);
	simc_run_until(c, sim_now(c->sim) + 100);
	if (!catching_up(c, 0))
		simc_fail(c, "waited: node 0 alone is not catching up");
	t0 = sim_now(c->sim);
	put_waiting(c, &w, 30000, key);
	if (simc_run_cond(c, replied, &w, t0 + 2000))
		simc_fail(c, "waited: answered while node 0 catches up alone");
	if (!catching_up(c, 0) || holds_done(c, key))
		simc_fail(c, "waited: node 0 wrote while catching up");
	simc_start(c, 1);
	if (!simc_run_cond(c, replied, &w, t0 + 30000 + 1000))
		simc_fail(c, "waited: no reply within the wait");
	if (w.ended_at == 0)
		simc_fail(c, "waited: answered before catch-up ended");
	if (sim_now(c->sim) >= t0 + 20000)
		simc_fail(c, "waited: answered at +%llu ms, not when the "
			  "exchange with node 1 ended catch-up",
			  (unsigned long long)(sim_now(c->sim) - t0));
	if (sim_now(c->sim) > w.ended_at + SLACK_MS)
		simc_fail(c, "waited: answered %llu ms after catch-up ended",
			  (unsigned long long)(sim_now(c->sim) - w.ended_at));
	if (simc_ctl_finish(w.call, &r) != 0 || r.type != CTL_R_OK)
		simc_fail(c, "waited: reply %s (%s), not OK",
			  ctl_reply_name(r.type), r.message);
	ctl_reply_free(&r);
	if (!holds_done(c, key))
		simc_fail(c, "waited: OK but the value is not there");
	simc_end(c);
}

static void scenario_wait_ends_first(struct simc *c, uint64_t seed,
				     const char *base, const char *prog)
{
	struct simc_params p;
	struct pending w;
	struct ctl_reply r;
	uint8_t key[SIMC_KEY_LEN];
	uint64_t t0, took;

	params(&p, 20000);
	simc_begin(c, seed, base, prog, &p);
	simc_key(1, key);
	simc_start(c, 0);
	simc_run_until(c, sim_now(c->sim) + 100);
	t0 = sim_now(c->sim);
	put_waiting(c, &w, 700, key);
	if (!simc_run_cond(c, replied, &w, t0 + 5000))
		simc_fail(c, "wait ends: no reply");
	took = sim_now(c->sim) - t0;
	if (took < 700 || took > 700 + SLACK_MS)
		simc_fail(c, "wait ends: answered after %llu ms, not 700",
			  (unsigned long long)took);
	if (w.ended_at != 0 || !catching_up(c, 0))
		simc_fail(c, "wait ends: catch-up ended (bound 20 s)");
	if (simc_ctl_finish(w.call, &r) != 0 || r.type != CTL_R_ERROR ||
	    r.code != RUMOR_EREFUSED ||
	    strstr(r.message, "still catching up with peers after waiting "
			      "700 ms") == NULL)
		simc_fail(c, "wait ends: reply %s %d '%s', not refused after "
			  "waiting 700 ms", ctl_reply_name(r.type), r.code,
			  r.message);
	ctl_reply_free(&r);
	if (holds_done(c, key))
		simc_fail(c, "wait ends: refused but written");
	simc_end(c);
}

static void scenario_the_nodes_bound(struct simc *c, uint64_t seed,
				     const char *base, const char *prog)
{
	struct simc_params p;
	struct pending w;
	struct ctl_reply r;
	uint8_t key[SIMC_KEY_LEN];
	uint64_t started;

	params(&p, 3000);
	simc_begin(c, seed, base, prog, &p);
	simc_key(2, key);
	simc_start(c, 0);
	started = c->nodes[0].started_ms;
	simc_run_until(c, sim_now(c->sim) + 100);
	put_waiting(c, &w, CTL_WAIT_DEFAULT, key);
	if (!simc_run_cond(c, replied, &w, started + 3000 + 5000))
		simc_fail(c, "bound: no reply");
	if (w.ended_at == 0 || w.ended_at < started + 3000 ||
	    w.ended_at > started + 3000 + TICK_MS + SLACK_MS)
		simc_fail(c, "bound: catch-up ended at +%llu ms, not at its "
			  "3000 ms bound", (unsigned long long)(w.ended_at -
								started));
	if (sim_now(c->sim) > w.ended_at + SLACK_MS)
		simc_fail(c, "bound: answered %llu ms after catch-up ended",
			  (unsigned long long)(sim_now(c->sim) - w.ended_at));
	if (simc_ctl_finish(w.call, &r) != 0 || r.type != CTL_R_OK)
		simc_fail(c, "bound: reply %s (%s), not OK",
			  ctl_reply_name(r.type), r.message);
	ctl_reply_free(&r);
	if (!holds_done(c, key))
		simc_fail(c, "bound: OK but the value is not there");
	simc_end(c);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *e = getenv(name);

	return e != NULL && *e != '\0' ? strtoull(e, NULL, 0) : dflt;
}

int main(int argc, char **argv)
{
	struct simc c;
	uint64_t first, n, i, t0;
	char *top, *base;

	(void)argc;
	memset(&c, 0, sizeof(c));
	c.trace = getenv("RUMOR_SIM_TRACE") != NULL;
	first = env_u64("RUMOR_SIM_SEED", 1);
	n = env_u64("RUMOR_SIM_SCHEDULES", DEFAULT_SEEDS);
	tu_prefer_tmpfs();
	top = tu_tmpdir("ctlwait");
	base = tu_join(top, "s");
	t0 = tu_now_ms();
	for (i = 0; i < n; i++) {
		scenario_waited_then_done(&c, first + i, base, argv[0]);
		scenario_wait_ends_first(&c, first + i, base, argv[0]);
		scenario_the_nodes_bound(&c, first + i, base, argv[0]);
	}
	tu_rmrf(top);
	free(base);
	free(top);
	printf("test_control_wait_sim: 3 scenarios on %llu seeds (from %llu) "
	       "passed in %llu ms\n", (unsigned long long)n,
	       (unsigned long long)first,
	       (unsigned long long)(tu_now_ms() - t0));
	return 0;
}
