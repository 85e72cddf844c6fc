/* SPDX-License-Identifier: MIT */
/*
 * test_schedules: a seeded randomized schedule tester for reconciliation
 * (DESIGN 8). Each schedule runs 3-5 nodes (real stores, sessions over
 * tests/lib/simnet) through random writes and deletes on a small key
 * space (conflicts, and same-clock conflicts with wall-clock ties from a
 * fake clock), partitions, exchanges cut at random points (some with a
 * partial frame delivered), local writes during streams and node
 * restarts; after every cut the HWM invariant must hold on both ends. Then
 * the network heals, full exchanges run between all nodes, and every node
 * must equal the model: for each key, the greatest version under
 * resolver_order of all versions ever written, with store_check passing.
 * A schedule streams in the order sync's rule picks (most), or always in
 * log order or always in key order; a fresh node's first pull and peers
 * that lack half make the rule pick key order, and the run fails unless
 * both orders streamed.
 *
 * Environment:
 *   RUMOR_SCHEDULES=N   schedules to run (default 1000; 500 under ASan)
 *   RUMOR_SEED=S        seed of the first schedule (default 1); schedule
 *                       i runs with seed S + i
 * A failure prints the seed and the command that replays that schedule.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolver/resolver.h"
#include "store/store.h"
#include "sync/sync.h"
#include "tests/lib/simnet.h"
#include "tests/lib/testutil.h"

#define NODES_MAX 5
#define KEYS 6

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_SCHEDULES 500
#else
#define DEFAULT_SCHEDULES 1000
#endif

struct node {
	char *dir;
	struct store *store;
	struct resolver *res;
	uint8_t origin[STORE_ORIGIN_BYTES];
	int group;               /* partition: nodes talk within a group */
};

struct sched {
	uint64_t seed;
	uint64_t rng;
	int n;
	uint64_t wall;
	rumor_resolve_fn fn;
	struct node nodes[NODES_MAX];
	struct simnet_version *all;
	size_t n_all, cap_all;
	struct sync_config cfg;
	/* figures over the run */
	uint64_t cuts, exchanges, restarts, writes;
	uint64_t key_streams, log_streams;
};

static const char *prog;
static char *base;
static int trace;   /* RUMOR_TRACE=1: print every step */

#define TRACE(...) do { if (trace) fprintf(stderr, __VA_ARGS__); } while (0)

static void sched_fail(struct sched *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void sched_fail(struct sched *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "test_schedules: schedule with seed %llu failed: ",
		(unsigned long long)s->seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nreproduce: RUMOR_SEED=%llu RUMOR_SCHEDULES=1 %s "
		"(RUMOR_TRACE=1 prints every step)\n",
		(unsigned long long)s->seed, prog);
	tu_rmrf(base);
	exit(1);
}

static uint64_t rnd(struct sched *s)
{
	/* splitmix64: good enough and reproducible everywhere. */
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned below(struct sched *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static uint64_t fake_wall(void *arg)
{
	struct sched *s = arg;

	return s->wall;
}

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

static void node_open(struct sched *s, int i)
{
	struct node *nd = &s->nodes[i];
	struct store_options opt;
	struct err err = { 0 };

	memset(&opt, 0, sizeof(opt));
	opt.origin = nd->origin;
	opt.resolver = nd->res;
	opt.hooks.now_ms = fake_wall;
	opt.hooks.arg = s;
	if (store_open(&nd->store, nd->dir, &opt, &err) != 0)
		sched_fail(s, "store_open node %d: %s", i, err.msg);
}

static void sched_begin(struct sched *s, uint64_t seed)
{
	char name[16];
	int i;

	memset(s, 0, sizeof(*s));
	s->seed = seed;
	s->rng = seed;
	s->n = 3 + (int)below(s, 3);
	s->wall = 1000;
	s->fn = below(s, 2) ? longer_wins : NULL;
	/* Small frames and windows: cuts land inside long streams. */
	s->cfg.batch_bytes = 64 + below(s, 512);
	s->cfg.credit_bytes = 64 + below(s, 2048);
	s->cfg.scan_max = 1 + below(s, 8);
	s->cfg.pump_frames = 1 + below(s, 3);
	switch (below(s, 4)) {
	case 0:
		s->cfg.order = SYNC_ORDER_LOG;
		break;
	case 1:
		s->cfg.order = SYNC_ORDER_KEY;
		break;
	default:
		s->cfg.order = SYNC_ORDER_AUTO;
		break;
	}
	for (i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];

		snprintf(name, sizeof(name), "n%d", i);
		nd->dir = tu_join(base, name);
		/* Random origins: the default order's tie-break varies. */
		for (size_t b = 0; b < STORE_ORIGIN_BYTES; b++)
			nd->origin[b] = (uint8_t)rnd(s);
		nd->origin[0] = (uint8_t)(nd->origin[0] & 0xf0) | (uint8_t)i;
		if (resolver_new_fn(&nd->res, s->fn, "sched", NULL) != 0)
			sched_fail(s, "resolver_new_fn");
		node_open(s, i);
	}
}

static void sched_end(struct sched *s)
{
	size_t k;
	int i;

	for (i = 0; i < s->n; i++) {
		store_close(s->nodes[i].store);
		resolver_free(s->nodes[i].res);
		tu_rmrf(s->nodes[i].dir);
		free(s->nodes[i].dir);
	}
	for (k = 0; k < s->n_all; k++)
		simnet_version_free(&s->all[k]);
	free(s->all);
}

static void key_name(char *buf, unsigned k)
{
	/* Binary keys: a NUL inside every one. */
	buf[0] = 'k';
	buf[1] = 0;
	buf[2] = (char)('0' + k);
}

/* A local write or delete on node i; remembered for the model. */
static void write_one(struct sched *s, int i)
{
	char key[3], val[16];
	struct err err = { 0 };
	size_t vl;
	int rv;

	key_name(key, below(s, KEYS));
	/* Advance the wall clock sometimes: ties happen often. */
	s->wall += below(s, 3);
	if (below(s, 4) == 0) {
		rv = store_del(s->nodes[i].store, key, sizeof(key), NULL,
			       &err);
	} else {
		vl = 1 + below(s, sizeof(val) - 1);
		memset(val, 'a' + (int)below(s, 26), vl);
		val[0] = 0;   /* binary values too */
		rv = store_put(s->nodes[i].store, key, sizeof(key), val, vl,
			       NULL, &err);
	}
	if (rv != 0)
		sched_fail(s, "write on node %d: %s", i, err.msg);
	TRACE("  write node %d key %c wall %llu\n", i, key[2],
	      (unsigned long long)s->wall);
	if (s->n_all == s->cap_all) {
		s->cap_all = s->cap_all ? 2 * s->cap_all : 64;
		s->all = realloc(s->all, s->cap_all * sizeof(*s->all));
		if (s->all == NULL)
			sched_fail(s, "out of memory");
	}
	if (simnet_version_of(s->nodes[i].store, key, sizeof(key),
			      &s->all[s->n_all]) != 0)
		sched_fail(s, "version of a key just written");
	s->n_all++;
	s->writes++;
}

/* The HWM invariant always; store_check only when full (a cut stream
 * leaves applied log entries above the HWMs until a DONE covers them,
 * which store_check counts as a violation). */
static void check_invariant(struct sched *s, int i, const char *when,
			    int full)
{
	struct err err = { 0 };

	if (simnet_check_hwm_invariant(s->nodes[i].store, s->nodes[i].res,
				       s->all, s->n_all, &err) != 0)
		sched_fail(s, "%s: node %d: %s", when, i, err.msg);
	if (full && store_check(s->nodes[i].store, &err) != 0)
		sched_fail(s, "%s: store_check node %d: %s", when, i,
			   err.msg);
}

struct cut_plan {
	uint64_t at;        /* frames delivered before the cut */
	int partial;        /* the next frame arrives in part */
	uint64_t off_seed;
};

static enum simnet_verdict cut_filter(void *arg, struct simnet_link *l,
				      int from, const uint8_t *frame,
				      size_t len)
{
	struct cut_plan *cp = arg;

	if (l->delivered < cp->at)
		return SIMNET_DELIVER;
	if (cp->partial && len > 0) {
		/* What arrives is a prefix: the receiver must refuse it. */
		if (sync_session_receive(l->end[!from].ss, frame,
					 (size_t)(cp->off_seed % len),
					 NULL) == 0)
			cp->partial = -1;
	}
	return SIMNET_CUT;
}

/* An exchange between a and b, perhaps cut, perhaps with local writes
 * while it streams. */
static void exchange(struct sched *s, int a, int b, int may_cut)
{
	struct simnet_link *l;
	struct cut_plan cp;
	struct err err = { 0 };
	int rv, cut;

	cut = may_cut && below(s, 5) < 2;
	memset(&cp, 0, sizeof(cp));
	cp.at = below(s, 40);
	cp.partial = below(s, 2);
	cp.off_seed = rnd(s);
	rv = simnet_link_new(&l, s->nodes[a].store, s->nodes[b].store,
			     &s->cfg, rnd(s) | 1, &err);
	if (rv != 0)
		sched_fail(s, "simnet_link_new: %s", err.msg);
	if (cut) {
		l->filter = cut_filter;
		l->filter_arg = &cp;
	}
	if (sync_session_start(l->end[below(s, 2)].ss, &err) != 0)
		sched_fail(s, "sync_session_start: %s", err.msg);
	for (;;) {
		rv = simnet_step(l);
		if (rv < 0)
			sched_fail(s, "exchange %d-%d failed: %s / %s", a, b,
				   l->end[0].err.msg, l->end[1].err.msg);
		if (rv == 0)
			break;
		/* Writes go on while the stream runs (snapshots). */
		if (may_cut && below(s, 50) == 0)
			write_one(s, below(s, 2) ? a : b);
	}
	if (cp.partial < 0)
		sched_fail(s, "a partial frame was accepted");
	if (!l->cut && (l->end[0].rounds != 1 || l->end[1].rounds != 1))
		sched_fail(s, "exchange %d-%d quiescent but incomplete "
			   "(%llu/%llu rounds)", a, b,
			   (unsigned long long)l->end[0].rounds,
			   (unsigned long long)l->end[1].rounds);
	TRACE("  exchange %d-%d%s (%llu frames)\n", a, b,
	      l->cut ? (cp.partial ? " cut, partial frame" : " cut") : "",
	      (unsigned long long)l->delivered);
	if (l->cut)
		s->cuts++;
	s->exchanges++;
	/* Which order each end streamed in (when it got to stream). */
	for (rv = 0; rv < 2; rv++) {
		const struct sync_round_stats *st =
			sync_session_stats(l->end[rv].ss);

		if (st->key_order)
			s->key_streams++;
		else if (st->entries_sent > 0)
			s->log_streams++;
	}
	simnet_link_free(l);
	check_invariant(s, a, "after an exchange", 0);
	check_invariant(s, b, "after an exchange", 0);
}

static void restart(struct sched *s, int i)
{
	TRACE("  restart node %d\n", i);
	store_close(s->nodes[i].store);
	node_open(s, i);
	check_invariant(s, i, "after a restart", 0);
	s->restarts++;
}

static void partition(struct sched *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		s->nodes[i].group = below(s, 3) == 0 ? 1 : 0;
}

/* The model: the greatest version of key k ever written (NULL: none). */
static const struct simnet_version *model_winner(struct sched *s,
						 const char *key)
{
	const struct simnet_version *best = NULL;
	struct rumor_version a, b;
	size_t i;

	for (i = 0; i < s->n_all; i++) {
		if (s->all[i].key_len != 3 || memcmp(s->all[i].key, key, 3))
			continue;
		if (best != NULL) {
			simnet_version_view(&s->all[i], &a);
			simnet_version_view(best, &b);
			if (resolver_order(s->nodes[0].res, &a, &b, NULL) >= 0)
				continue;
		}
		best = &s->all[i];
	}
	return best;
}

static void check_model(struct sched *s)
{
	const struct simnet_version *want;
	struct store_record *rec;
	char key[3];
	unsigned k;
	int i, rv;

	for (i = 0; i < s->n; i++) {
		check_invariant(s, i, "at the end", 1);
		for (k = 0; k < KEYS; k++) {
			key_name(key, k);
			want = model_winner(s, key);
			rv = store_get_version(s->nodes[i].store, key,
					       sizeof(key), &rec, NULL);
			if (want == NULL) {
				if (rv != RUMOR_ENOTFOUND)
					sched_fail(s, "node %d has key %u, "
						   "never written", i, k);
				continue;
			}
			if (rv != 0)
				sched_fail(s, "node %d lacks key %u", i, k);
			if (rec->v.seq != want->seq ||
			    rec->v.clock != want->clock ||
			    memcmp(rec->v.origin, want->origin,
				   STORE_ORIGIN_BYTES) != 0 ||
			    !rec->v.deleted != !want->deleted ||
			    (!want->deleted &&
			     (rec->v.value_len != want->value_len ||
			      memcmp(rec->v.value, want->value,
				     want->value_len) != 0)))
				sched_fail(s, "node %d key %u: holds (%02x, "
					   "%llu, clock %llu), model (%02x, "
					   "%llu, clock %llu)", i, k,
					   rec->v.origin[0],
					   (unsigned long long)rec->v.seq,
					   (unsigned long long)rec->v.clock,
					   want->origin[0],
					   (unsigned long long)want->seq,
					   (unsigned long long)want->clock);
			store_record_free(rec);
		}
		if (i > 0 && !simnet_same_state(s->nodes[0].store,
						s->nodes[i].store))
			sched_fail(s, "node %d differs from node 0", i);
	}
}

static void run_schedule(struct sched *s, uint64_t seed)
{
	unsigned steps, step, op;
	int a, b, pass;

	sched_begin(s, seed);
	steps = 10 + below(s, 40);
	for (step = 0; step < steps; step++) {
		op = below(s, 100);
		a = (int)below(s, (unsigned)s->n);
		b = (int)below(s, (unsigned)s->n - 1);
		if (b >= a)
			b++;
		if (op < 50) {
			write_one(s, a);
		} else if (op < 85) {
			if (s->nodes[a].group == s->nodes[b].group)
				exchange(s, a, b, 1);
		} else if (op < 93) {
			restart(s, a);
		} else {
			partition(s);
		}
	}
	/* Heal; node 0 gathers everything, then gives it to everyone. */
	for (pass = 0; pass < 2; pass++)
		for (b = 1; b < s->n; b++)
			exchange(s, 0, b, 0);
	check_model(s);
	sched_end(s);
}

int main(int argc, char **argv)
{
	struct sched s;
	uint64_t first = 1, count = DEFAULT_SCHEDULES, i;
	uint64_t t0, writes = 0, cuts = 0, exchanges = 0, restarts = 0;
	uint64_t key_streams = 0, log_streams = 0;
	const char *env;

	(void)argc;
	prog = argv[0];
	trace = getenv("RUMOR_TRACE") != NULL;
	env = getenv("RUMOR_SEED");
	if (env != NULL && *env != '\0')
		first = strtoull(env, NULL, 0);
	env = getenv("RUMOR_SCHEDULES");
	if (env != NULL && *env != '\0')
		count = strtoull(env, NULL, 0);
	tu_prefer_tmpfs();
	base = tu_tmpdir("schedules");
	t0 = tu_now_ms();
	for (i = 0; i < count; i++) {
		run_schedule(&s, first + i);
		writes += s.writes;
		cuts += s.cuts;
		exchanges += s.exchanges;
		restarts += s.restarts;
		key_streams += s.key_streams;
		log_streams += s.log_streams;
	}
	tu_rmrf(base);
	free(base);
	printf("test_schedules: %llu schedules (seeds %llu..%llu) passed in "
	       "%llu ms: %llu writes, %llu exchanges (%llu cut), %llu "
	       "restarts\n", (unsigned long long)count,
	       (unsigned long long)first,
	       (unsigned long long)(first + count - 1),
	       (unsigned long long)(tu_now_ms() - t0),
	       (unsigned long long)writes, (unsigned long long)exchanges,
	       (unsigned long long)cuts, (unsigned long long)restarts);
	printf("test_schedules: streams in key order %llu, in log order %llu "
	       "(with entries)\n", (unsigned long long)key_streams,
	       (unsigned long long)log_streams);
	if (count >= 100 && (key_streams == 0 || log_streams == 0)) {
		fprintf(stderr, "test_schedules: an order was never "
			"exercised\n");
		return 1;
	}
	return 0;
}
