/* SPDX-License-Identifier: MIT */
/* rumor-bench sync: the four modes (catchup, steady, latency, bytes),
 * each beside the limit it stands on; declarations in bench_sync.h. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <leveldb/c.h>
#include <uv.h>

#include "bench.h"
#include "bench_sync.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "rumor.h"
#include "store/store.h"
#include "sync/sync.h"
#include "wire/wire.h"


int bsync_catchup(const struct bench_opts *o, const char *root)
{
	char raw[4200], a[4200], b[4200];
	size_t batch = bsync_batch_entries();
	struct pair p;
	double raw_s, raw_cpu, cpu;
	int ok;

	printf("sync catchup: %zu keys of %d bytes, values of %d bytes; raw: best of %d, batches of %zu\n",
	       o->catchup_keys, KEY_BYTES, VALUE_BYTES, RAW_ROUNDS, batch);
	fflush(stdout);
	raw_s = bsync_raw_best(bsync_path_in(raw, sizeof raw, root,
					     "catchup-raw"),
			       o->catchup_keys, batch, &raw_cpu);
	if (raw_s < 0)
		return -1;
	if (bsync_pair_open(&p, o,
			    bsync_path_in(a, sizeof a, root, "catchup-a"),
			    bsync_path_in(b, sizeof b, root, "catchup-b"),
			    o->catchup_keys, batch) != 0)
		return -1;
	bsync_pair_close(&p);
	bench_rmrf(a);
	bench_rmrf(b);
	bench_report("raw batched LevelDB writes", raw_s * 1000, "ms");
	bench_report("store_apply_batch alone, same batches", p.load_s * 1000,
		     "ms");
	bench_report("catch-up (open to all keys held)", p.catchup_s * 1000,
		     "ms");
	bench_report("catch-up rate", (double)o->catchup_keys / p.catchup_s,
		     "keys/s");
	printf("  %-44s %13.2fx  (no target: the store's share)\n",
	       "store_apply_batch alone / catch-up time",
	       p.load_s / p.catchup_s);
	bench_report("  CPU busy: receiving node's thread",
		     100 * p.cpu_b / p.catchup_s, "%");
	bench_report("  CPU busy: sending node's thread",
		     100 * p.cpu_a / p.catchup_s, "%");
	bench_report("  CPU busy: LevelDB background (both)",
		     100 * p.cpu_other / p.catchup_s, "%");
	/* On a shared machine the times follow the neighbours' load; CPU
	 * seconds much less so. Neither side counts the compactions still
	 * owed when its last write returns. */
	cpu = p.cpu_a + p.cpu_b + p.cpu_other;
	bench_report("raw writes: CPU, whole process", raw_cpu * 1000, "ms");
	bench_report("catch-up: CPU, whole process", cpu * 1000, "ms");
	printf("  %-44s %13.2fx  (no target: robust where the machine is shared)\n",
	       "raw CPU / catch-up CPU", raw_cpu / cpu);
	ok = bench_ratio("raw time / catch-up time", raw_s / p.catchup_s,
			 TARGET_CATCHUP);
	return ok;
}

/* ------------------------------------------------------------ steady */

int bsync_steady(const struct bench_opts *o, const char *root)
{
	char raw[4200], a[4200], b[4200];
	size_t batch = bsync_batch_entries();
	size_t burst = o->burst > o->write_batch ? o->burst : o->write_batch;
	struct rumor_stats s0, s1;
	struct pair p;
	double t0, t1, raw_s, raww_s, applied_rate, put_rate, raw_rate;
	uint64_t puts;
	int ok;

	if (o->write_batch <= 1)
		printf("sync steady: rumor_put, %zu a loop iteration, on one node for %zu ms (after %d ms warm-up), applied on the other\n",
		       burst, o->steady_ms, DEFAULT_WARMUP_MS);
	else
		printf("sync steady: rumor_write of %zu keys, %zu keys a loop iteration, on one node for %zu ms (after %d ms warm-up), applied on the other\n",
		       o->write_batch, burst, o->steady_ms, DEFAULT_WARMUP_MS);
	fflush(stdout);
	if (bsync_pair_open(&p, o, bsync_path_in(a, sizeof a, root, "steady-a"),
			    bsync_path_in(b, sizeof b, root, "steady-b"), 0,
			    batch) != 0)
		return -1;
	p.a.burst = o->burst;
	p.a.write_batch = o->write_batch;
	p.a.next_key = KEYS_MAIN;
	bsync_worker_call(&p.a, bsync_worker_start_puts_fn, NULL);
	bsync_run_until(&p.m, bsync_never, NULL, DEFAULT_WARMUP_MS);
	bsync_stats(p.b, &s0);
	t0 = bench_now();
	bsync_run_until(&p.m, bsync_never, NULL, (double)o->steady_ms);
	bsync_stats(p.b, &s1);
	t1 = bench_now();
	bsync_worker_call(&p.a, bsync_worker_stop_puts_fn, NULL);
	printf("  live: %llu entries received, %llu applied in all, %llu lost by the writer's stream (rounds repaired them)\n",
	       (unsigned long long)(s1.live_received - s0.live_received),
	       (unsigned long long)(s1.remote_applied - s0.remote_applied),
	       (unsigned long long)s1.live_lost);
	puts = p.a.puts;
	put_rate = (double)puts / (p.a.put_t1 - p.a.put_t0);
	ok = !p.a.put_failed;
	bsync_pair_close(&p);
	bench_rmrf(a);
	bench_rmrf(b);
	if (!ok || puts == 0)
		return -1;
	applied_rate = (double)(s1.remote_applied - s0.remote_applied) /
		       (t1 - t0);
	raw_s = bsync_raw_best(bsync_path_in(raw, sizeof raw, root,
					     "steady-raw"),
			       (size_t)puts, batch, NULL);
	/* The writer's limit: raw WriteBatches as large as its own. */
	raww_s = bsync_raw_best(raw, (size_t)puts, o->write_batch, NULL);
	if (raw_s < 0 || raww_s < 0)
		return -1;
	raw_rate = (double)puts / raw_s;
	bench_report("raw batched LevelDB writes (same keys)", raw_rate,
		     "writes/s");
	if (o->write_batch <= 1) {
		bench_report("raw LevelDB writes one by one (same keys)",
			     (double)puts / raww_s, "writes/s");
		bench_report("rumor_put on the writer", put_rate, "puts/s");
	} else {
		bench_report("raw LevelDB writes, writer's batches",
			     (double)puts / raww_s, "writes/s");
		bench_report("rumor_write on the writer", put_rate, "puts/s");
	}
	bench_report("applied on the other node", applied_rate, "versions/s");
	printf("  %-44s %13.2fx  (no target: the writer's own limit)\n",
	       o->write_batch <= 1 ? "put / raw one by one"
				   : "write / raw in the writer's batches",
	       put_rate * raww_s / (double)puts);
	printf("  %-44s %13.2fx  (no target: the writer's own pace)\n",
	       "applied / put", applied_rate / put_rate);
	return bench_ratio("applied / raw batched writes", applied_rate / raw_rate,
			   TARGET_STEADY);
}

/* ------------------------------------------------------------ latency */

struct cluster {
	struct main_loop m;
	struct rumor *nodes[LATENCY_NODES];
	const char *key;
};

static int all_connected(void *arg)
{
	struct cluster *c = arg;
	int i;

	for (i = 0; i < LATENCY_NODES; i++)
		if (bsync_node_connected(c->nodes[i]) < LATENCY_NODES - 1)
			return 0;
	return 1;
}

static int all_hold(void *arg)
{
	struct cluster *c = arg;
	struct rumor_record *r;
	int i;

	for (i = 0; i < LATENCY_NODES; i++) {
		if (rumor_get_version(c->nodes[i], c->key, KEY_BYTES, &r) != 0)
			return 0;
		rumor_record_free(r);
	}
	return 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The live stream's figures over the cluster: copies received per
 * entry applied (Plumtree's duplicate suppression), and what it lost. */
static void latency_live_report(struct cluster *c)
{
	struct rumor_stats s;
	uint64_t recv = 0, dup = 0, lost = 0, grafts = 0, applied = 0;
	int i;

	for (i = 0; i < LATENCY_NODES; i++) {
		rumor_stats_init(&s);
		if (rumor_stats(c->nodes[i], &s) != 0)
			return;
		recv += s.live_received;
		dup += s.live_duplicates;
		lost += s.live_lost;
		grafts += s.live_grafts;
		applied += s.remote_applied;
	}
	bench_report("live entries received", (double)recv, "");
	bench_report("live duplicates", (double)dup, "");
	bench_report("live entries lost (rounds repaired)", (double)lost, "");
	bench_report("live grafts", (double)grafts, "");
	printf("  %-44s %13.2f   (target <= 1.50: %s)\n",
	       "live copies received per entry applied",
	       applied ? (double)recv / (double)applied : 0.0,
	       applied && (double)recv / (double)applied <= 1.5 ? "met"
							       : "NOT met");
}

int bsync_latency(const struct bench_opts *o, const char *root)
{
	char dirs[LATENCY_NODES][4200], addr0[64], name[32];
	char key[KEY_BYTES], value[VALUE_BYTES];
	struct cluster c;
	double *ms = calloc(o->samples, sizeof *ms);
	double t0, p50, p99;
	uint64_t rnd = 0x2545f4914f6cdd1dull;
	size_t s;
	int i, ok = -1;

	printf("sync latency: %d nodes on one loop, %zu puts on random nodes 0..%u ms apart, interval %u..%u ms\n",
	       LATENCY_NODES, o->samples, 2 * o->interval_min_ms,
	       o->interval_min_ms, o->interval_max_ms);
	fflush(stdout);
	memset(&c, 0, sizeof c);
	memset(dirs, 0, sizeof dirs);
	if (ms == NULL || bsync_main_loop_init(&c.m) != 0) {
		free(ms);
		return -1;
	}
	for (i = 0; i < LATENCY_NODES; i++) {
		snprintf(name, sizeof name, "latency-%d", i);
		bsync_path_in(dirs[i], sizeof dirs[i], root, name);
		if (bsync_node_start(&c.nodes[i], &c.m.loop, dirs[i],
				     i == 0 ? NULL : addr0, o,
				     i == 0 ? addr0 : NULL) != 0)
			goto done;
	}
	/* Nodes dial the members they pick for a round, and an idle node's
	 * rounds are interval_max apart: a few writes everywhere make the
	 * rounds come at interval_min until every node knows and has
	 * dialed every other. */
	t0 = bench_now();
	for (s = 0; !all_connected(&c); s++) {
		if (bench_now() - t0 > WAIT_CONNECTED_MS / 1000.0) {
			fprintf(stderr, "rumor-bench sync: the cluster did not connect fully\n");
			goto done;
		}
		for (i = 0; i < LATENCY_NODES; i++) {
			snprintf(name, sizeof name, "warm-%d-%zu", i, s);
			if (rumor_put(c.nodes[i], name, strlen(name), "", 0) != 0)
				goto done;
		}
		bsync_run_until(&c.m, all_connected, &c, 50);
	}
	c.key = key;
	for (s = 0; s < o->samples; s++) {
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		/* A random pause of 0 to 2 interval_min: some puts come while
		 * the writer's last round is recent (a new round waits for
		 * interval_min to pass), others after a quiet spell. */
		bsync_run_until(&c.m, bsync_never, NULL,
				(double)(rnd >> 40) / (1 << 24) * 2 *
				o->interval_min_ms);
		bsync_make_key(key, KEYS_MAIN + (uint32_t)s);
		bsync_make_value(value, KEYS_MAIN + (uint32_t)s);
		i = (int)(rnd % LATENCY_NODES);
		t0 = bench_now();
		if (rumor_put(c.nodes[i], key, KEY_BYTES, value, VALUE_BYTES) != 0) {
			fprintf(stderr, "rumor-bench sync: put: %s\n",
				rumor_errmsg(c.nodes[i]));
			goto done;
		}
		if (!bsync_run_until(&c.m, all_hold, &c, WAIT_SAMPLE_MS)) {
			fprintf(stderr, "rumor-bench sync: a put did not reach every node in %d ms\n",
				WAIT_SAMPLE_MS);
			goto done;
		}
		ms[s] = (bench_now() - t0) * 1000;
	}
	qsort(ms, o->samples, sizeof *ms, cmp_double);
	p50 = ms[o->samples / 2];
	p99 = ms[(o->samples * 99 + 99) / 100 - 1];
	bench_report("interval_min (the reference)", o->interval_min_ms, "ms");
	bench_report("put to all 5 nodes, p10", ms[o->samples / 10], "ms");
	bench_report("put to all 5 nodes, p50", p50, "ms");
	bench_report("put to all 5 nodes, p90", ms[o->samples * 9 / 10], "ms");
	bench_report("put to all 5 nodes, p99", p99, "ms");
	bench_report("put to all 5 nodes, max", ms[o->samples - 1], "ms");
	printf("  %-44s %13.2fx  (no target)\n", "p99 / interval_min",
	       p99 / o->interval_min_ms);
	ok = bench_ratio("1000 ms / p99", 1000 / (p99 > 0 ? p99 : 1e-3),
			 TARGET_LATENCY);
	latency_live_report(&c);
done:
	for (i = 0; i < LATENCY_NODES; i++)
		if (c.nodes[i] != NULL)
			rumor_close(c.nodes[i], NULL, NULL);
	bsync_main_loop_close(&c.m);
	for (i = 0; i < LATENCY_NODES; i++)
		if (dirs[i][0] != '\0')
			bench_rmrf(dirs[i]);
	free(ms);
	return ok;
}

/* ------------------------------------------------------------ bytes */

int bsync_bytes(const struct bench_opts *o, const char *root)
{
	char a[4200], b[4200];
	size_t batch = bsync_batch_entries();
	struct keys_at_least want;
	struct rumor_stats s0, s1;
	struct pair p;
	double big, delta, kv = KEY_BYTES + VALUE_BYTES;
	size_t count = o->delta_keys;
	int ok;

	printf("sync bytes: a catch-up of %zu keys, then a delta of %zu new keys\n",
	       o->bytes_keys, o->delta_keys);
	fflush(stdout);
	if (bsync_pair_open(&p, o, bsync_path_in(a, sizeof a, root, "bytes-a"),
			    bsync_path_in(b, sizeof b, root, "bytes-b"),
			    o->bytes_keys, batch) != 0)
		return -1;
	big = (double)p.b_after.bytes_in / (double)o->bytes_keys;

	/* The delta: new keys on A, then until B holds them; whatever
	 * the nodes exchange meanwhile (digests, rounds) counts. */
	bsync_stats(p.b, &s0);
	p.a.next_key = KEYS_DELTA;
	bsync_worker_call(&p.a, bsync_worker_put_fn, &count);
	want.n = p.b;
	want.keys = o->bytes_keys + o->delta_keys;
	if (p.a.put_failed ||
	    !bsync_run_until(&p.m, bsync_has_keys, &want, 10000)) {
		fprintf(stderr, "rumor-bench sync: the delta did not arrive\n");
		bsync_pair_close(&p);
		bench_rmrf(a);
		bench_rmrf(b);
		return -1;
	}
	bsync_stats(p.b, &s1);
	bsync_pair_close(&p);
	bench_rmrf(a);
	bench_rmrf(b);
	delta = (double)(s1.bytes_in - s0.bytes_in) / (double)o->delta_keys;

	bench_report("key + value", kv, "bytes/entry");
	bench_report("catch-up: received on the wire", big, "bytes/entry");
	bench_report("catch-up: sent by the receiver",
		     (double)p.b_after.bytes_out, "bytes");
	bench_report("delta: received on the wire", delta, "bytes/entry");
	bench_report("delta: sent by the receiver",
		     (double)(s1.bytes_out - s0.bytes_out), "bytes");
	ok = bench_ratio("key+value / catch-up wire bytes", kv / big,
			 TARGET_BYTES);
	ok &= bench_ratio("catch-up per entry / delta per entry", big / delta,
			  TARGET_DELTA);
	return ok;
}

