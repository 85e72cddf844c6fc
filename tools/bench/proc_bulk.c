/* SPDX-License-Identifier: MIT */
/* rumor-bench proc: catch-up (a fresh rumord pulls a loaded one's keys)
 * and steady replication (a pipelined writer on node 0, the apply rate
 * on node 1), each beside raw batched LevelDB writes and, when
 * redis-server is installed, Redis's full sync and replica stream on the
 * same keys; see bench_proc.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "bench_proc.h"
#include "bench_sync.h"

/* Writes keys [0, count) into a fresh node's store at dir through
 * librumor (rumor_write batches; no network): 0 or -1. */
static int load_store(const char *dir, size_t count)
{
	struct rumor_options ro;
	struct rumor_op *ops = calloc(PROC_LOAD_BATCH, sizeof *ops);
	char *buf = malloc((size_t)PROC_LOAD_BATCH * (KEY_BYTES + VALUE_BYTES));
	char errmsg[RUMOR_ERRMSG_MAX];
	struct rumor *n = NULL;
	size_t i, j, m;
	int rv = -1;

	if (ops == NULL || buf == NULL)
		goto out;
	rumor_options_init(&ro);
	ro.data_dir = dir;
	if (rumor_open(&n, &ro, errmsg, sizeof errmsg) != 0) {
		fprintf(stderr, "rumor-bench proc: rumor_open %s: %s\n", dir,
			errmsg);
		goto out;
	}
	for (i = 0; i < count; i += m) {
		m = count - i < PROC_LOAD_BATCH ? count - i : PROC_LOAD_BATCH;
		for (j = 0; j < m; j++) {
			char *k = buf + j * (KEY_BYTES + VALUE_BYTES);

			bsync_make_key(k, (uint32_t)(i + j));
			bsync_make_value(k + KEY_BYTES, (uint32_t)(i + j));
			ops[j].key = k;
			ops[j].key_len = KEY_BYTES;
			ops[j].value = k + KEY_BYTES;
			ops[j].value_len = VALUE_BYTES;
			ops[j].del = 0;
		}
		if (rumor_write(n, ops, m) != 0) {
			fprintf(stderr, "rumor-bench proc: rumor_write: %s\n",
				rumor_errmsg(n));
			goto out;
		}
	}
	rv = 0;
out:
	if (n != NULL)
		rumor_close(n, NULL, NULL);
	free(ops);
	free(buf);
	return rv;
}

/* B has applied at least count remote versions (a fresh connection per
 * poll: B's socket appears some time after its start). */
static int holds(const struct proc_node *b, size_t count)
{
	struct ctl_status st;

	return proc_status(b->dir, &st) == 0 &&
	       st.stats.remote_applied >= count;
}

static void redis_skipped(void)
{
	printf("  (redis-server not installed: Redis anchors skipped)\n");
}

/* The resident set of a rumord that just opened an empty data dir and
 * knows no peer, after a second: KiB, or -1. */
static long idle_rss(const struct proc_opts *o)
{
	struct timespec ts = {1, 0};
	struct proc_node c;
	long kib;

	proc_node_init(&c, o, 2, "idle");
	if (proc_node_start(&c, o, NULL, 0) != 0)
		return -1;
	nanosleep(&ts, NULL);
	kib = bench_status_kib(c.pid, "VmRSS");
	proc_node_stop(&c);
	bench_rmrf(c.dir);
	return kib;
}

int proc_catchup(const struct proc_opts *o)
{
	struct proc_node a, b;
	long rss_idle, rss_a, rss_b, anon_a, anon_b;
	const char *seed[1];
	struct timespec ts = {0, 2000000};
	char raw[4200];
	size_t batch = bsync_batch_entries();
	double raw_s, load_t, t0, t_end, catchup_s, ready_s, r_diskless = 0,
	       r_disk = 0;
	int ok, have_redis = o->have_redis;

	printf("proc catchup: %zu keys of %d bytes, values of %d bytes on rumord A; "
	       "a fresh rumord B seeded with A, from its start until its status "
	       "shows them all applied\n", o->keys, KEY_BYTES, VALUE_BYTES);
	fflush(stdout);
	raw_s = bsync_raw_best(bsync_path_in(raw, sizeof raw, o->root,
					     "catchup-raw"), o->keys, batch,
			       NULL);
	if (raw_s < 0)
		return -1;
	proc_node_init(&a, o, 0, "catchup-a");
	proc_node_init(&b, o, 1, "catchup-b");
	load_t = bench_now();
	if (load_store(a.dir, o->keys) != 0)
		return -1;
	load_t = bench_now() - load_t;
	if (proc_node_start(&a, o, NULL, 0) != 0)
		return -1;
	rss_a = bench_status_kib(a.pid, "VmRSS");
	anon_a = bench_status_kib(a.pid, "RssAnon");
	seed[0] = a.addr;
	t0 = bench_now();
	if (proc_node_start(&b, o, seed, 1) != 0) {
		proc_node_stop(&a);
		return -1;
	}
	ready_s = bench_now() - t0;
	t_end = t0 + 300;
	while (!holds(&b, o->keys)) {
		if (bench_now() > t_end) {
			fprintf(stderr, "rumor-bench proc: B did not catch up in 300 s\n");
			proc_node_stop(&b);
			proc_node_stop(&a);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	catchup_s = bench_now() - t0;
	rss_b = bench_status_kib(b.pid, "VmRSS");
	anon_b = bench_status_kib(b.pid, "RssAnon");
	proc_node_stop(&b);
	proc_node_stop(&a);
	bench_rmrf(a.dir);
	bench_rmrf(b.dir);
	rss_idle = idle_rss(o);
	if (have_redis &&
	    proc_redis_fullsync(o, o->keys, &r_diskless, &r_disk) != 0) {
		fprintf(stderr, "rumor-bench proc: the Redis full sync failed\n");
		return -1;
	}
	bench_report("raw batched LevelDB writes", raw_s * 1000, "ms");
	bench_report("loading A through rumor_write (no target)", load_t * 1000,
		     "ms");
	bench_report("catch-up (B's start to all keys applied)",
		     catchup_s * 1000, "ms");
	bench_report("  of which B's start until its socket answers",
		     ready_s * 1000, "ms");
	bench_report("catch-up rate", (double)o->keys / catchup_s, "keys/s");
	/* LevelDB maps its table files: their clean pages count in RSS
	 * (RssFile) but are the page cache's to drop; the heap (RssAnon)
	 * is what the node holds. */
	bench_report("RSS of A, opened on its keys", (double)rss_a / 1024,
		     "MiB");
	bench_report("  of which anonymous (heap)", (double)anon_a / 1024,
		     "MiB");
	bench_report("RSS of B, all keys applied", (double)rss_b / 1024,
		     "MiB");
	bench_report("  of which anonymous (heap)", (double)anon_b / 1024,
		     "MiB");
	bench_report("RSS of an idle rumord, empty", (double)rss_idle / 1024,
		     "MiB");
	if (have_redis) {
		bench_report("Redis full sync, diskless load", r_diskless * 1000,
			     "ms");
		bench_report("Redis full sync, on disk", r_disk * 1000, "ms");
	}
	ok = bench_ratio("raw time / catch-up time", raw_s / catchup_s,
			 TARGET_CATCHUP_RAW);
	if (have_redis) {
		ok &= bench_ratio("Redis diskless / catch-up time",
				  r_diskless / catchup_s, TARGET_CATCHUP_REDIS);
		printf("  %-44s %13.2fx  (no target)\n",
		       "Redis on disk / catch-up time", r_disk / catchup_s);
	} else {
		redis_skipped();
	}
	if (rss_idle > 0)
		ok &= bench_ratio("8 MiB / idle RSS",
				  8192.0 / (double)rss_idle, 1.0);
	if (rss_b > 0 && o->keys >= 1000000) {
		ok &= bench_ratio("64 MiB / RSS of B (1M keys)",
				  65536.0 / (double)rss_b, 1.0);
		printf("  %-44s %13.2fx  (the same bound on the heap alone)\n",
		       "64 MiB / anonymous RSS of B",
		       65536.0 / (double)anon_b);
	}
	return ok;
}

/* ------------------------------------------------------------ steady */

/* Queues PUTs of fresh keys until *in_flight is PROC_PIPELINE: 0 or -1. */
static int put_fill(struct ctlc *c, uint32_t *next, size_t *in_flight)
{
	char key[KEY_BYTES], value[VALUE_BYTES];

	while (*in_flight < PROC_PIPELINE) {
		struct ctl_request rq = {.cmd = CTL_CMD_PUT};

		bsync_make_key(key, *next);
		bsync_make_value(value, *next);
		(*next)++;
		rq.key = (const uint8_t *)key;
		rq.key_len = KEY_BYTES;
		rq.value = (const uint8_t *)value;
		rq.value_len = VALUE_BYTES;
		if (ctlc_queue(c, &rq) != 0)
			return -1;
		(*in_flight)++;
	}
	return ctlc_flush(c);
}

/* Pipelined PUTs (up to PROC_PIPELINE in flight) of fresh keys on c until
 * t_end; *acked counts the acknowledged ones. 0 or -1. The window is
 * refilled by half at once, in one write, as a pipelining client
 * (redis-benchmark -P) does. Whatever is in flight at t_end is read
 * before returning. */
static int put_until(struct ctlc *c, uint32_t *next, double t_end,
		     uint64_t *acked)
{
	size_t in_flight = 0;

	for (;;) {
		struct ctl_reply r;
		int ok;

		if (bench_now() < t_end && in_flight <= PROC_PIPELINE / 2 &&
		    put_fill(c, next, &in_flight) != 0)
			return -1;
		if (in_flight == 0)
			return 0;
		if (ctlc_recv(c, &r, PROC_SAMPLE_MS) != 0)
			return -1;
		ok = r.type == CTL_R_OK;
		ctl_reply_free(&r);
		if (!ok)
			return -1;
		in_flight--;
		(*acked)++;
	}
}

/* Polls until the node at dir has a peer connected: 0, or -1. */
static int wait_connected(const char *dir)
{
	struct timespec ts = {0, 2000000};
	struct ctl_status st;
	double t_end = bench_now() + PROC_MESH_MS / 1000.0;

	while (proc_status(dir, &st) != 0 || st.peers_connected < 1) {
		if (bench_now() > t_end)
			return -1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void pause_ms(double ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The same stream with the writer not in the way: a librumor node in
 * this process (a worker thread, rumor_write of DEFAULT_WRITE_BATCH keys
 * without pause, as rumor-bench sync steady) seeds a fresh rumord, whose
 * apply rate is read from its status over the window. Keys written into
 * *written (a rate) and *count; 0 or -1. */
static int steady_librumor(const struct proc_opts *o, double *written,
			   double *applied, uint64_t *count)
{
	struct bench_opts bo;
	struct worker w;
	struct worker_open wo;
	struct proc_node b;
	struct ctl_status s0, s1;
	char dir[4200];
	const char *seed[1];
	double t0, t1;
	int rv = -1;

	memset(&bo, 0, sizeof bo);
	bo.interval_min_ms = 100;     /* rumord's defaults */
	bo.interval_max_ms = 10000;
	memset(&w, 0, sizeof w);
	wo.dir = bsync_path_in(dir, sizeof dir, o->root, "steady-lib");
	wo.o = &bo;
	wo.rv = -1;
	if (bsync_worker_start(&w) != 0)
		return -1;
	bsync_worker_call(&w, bsync_worker_open_fn, &wo);
	if (wo.rv != 0)
		goto out_worker;
	proc_node_init(&b, o, 1, "steady-lib-b");
	seed[0] = w.addr;
	if (proc_node_start(&b, o, seed, 1) != 0)
		goto out_worker;
	if (wait_connected(b.dir) != 0)
		goto out_node;
	w.burst = DEFAULT_BURST;
	w.write_batch = DEFAULT_WRITE_BATCH;
	w.next_key = KEYS_MAIN;
	bsync_worker_call(&w, bsync_worker_start_puts_fn, NULL);
	/* A warm-up window, then the measured one: not synchronisation. */
	pause_ms(DEFAULT_WARMUP_MS);
	if (proc_status(b.dir, &s0) != 0)
		goto out_puts;
	t0 = bench_now();
	pause_ms((double)o->seconds * 1000);
	if (proc_status(b.dir, &s1) != 0)
		goto out_puts;
	t1 = bench_now();
	rv = 0;
out_puts:
	bsync_worker_call(&w, bsync_worker_stop_puts_fn, NULL);
	if (w.put_failed)
		rv = -1;
	if (rv == 0) {
		*written = (double)w.puts / (w.put_t1 - w.put_t0);
		*applied = (double)(s1.stats.remote_applied -
				    s0.stats.remote_applied) / (t1 - t0);
		*count = w.puts;
	}
out_node:
	proc_node_stop(&b);
out_worker:
	bsync_worker_stop(&w);
	return rv;
}

int proc_steady(const struct proc_opts *o)
{
	struct proc_node nodes[2];
	struct ctl_status s0, s1;
	struct ctlc c;
	char raw[4200];
	uint32_t next = KEYS_MAIN;
	uint64_t acked = 0, a0;
	double t0, t1, put_rate, applied_rate, raw_s, raw1_s, r_written = 0,
	       r_applied = 0, lib_written, lib_applied;
	uint64_t lib_count, raw_count;
	int ok;

	printf("proc steady: a pipelined writer (%d PUTs in flight on the control "
	       "socket) on rumord 0 for %zu s after 0.5 s of warm-up; applies on "
	       "rumord 1 from its status\n", PROC_PIPELINE, o->seconds);
	fflush(stdout);
	if (proc_cluster_start(nodes, 2, o, "steady") != 0)
		return -1;
	memset(&c, 0, sizeof c);
	c.fd = -1;
	if (ctlc_open(&c, nodes[0].dir) != 0 ||
	    put_until(&c, &next, bench_now() + 0.5, &acked) != 0 ||
	    proc_status(nodes[1].dir, &s0) != 0)
		goto fail;
	a0 = acked;
	t0 = bench_now();
	if (put_until(&c, &next, t0 + (double)o->seconds, &acked) != 0 ||
	    proc_status(nodes[1].dir, &s1) != 0)
		goto fail;
	t1 = bench_now();
	ctlc_close(&c);
	proc_cluster_stop(nodes, 2);
	put_rate = (double)(acked - a0) / (t1 - t0);
	applied_rate = (double)(s1.stats.remote_applied -
				s0.stats.remote_applied) / (t1 - t0);
	if (steady_librumor(o, &lib_written, &lib_applied, &lib_count) != 0) {
		fprintf(stderr, "rumor-bench proc: the librumor writer failed\n");
		return -1;
	}
	/* Raw batched writes of as many keys as the larger stream wrote. */
	raw_count = lib_count > acked ? lib_count : acked;
	raw_s = bsync_raw_best(bsync_path_in(raw, sizeof raw, o->root,
					     "steady-raw"),
			       (size_t)raw_count, bsync_batch_entries(), NULL);
	/* The writer's own limit: one PUT is one rumor_put, one WriteBatch. */
	raw1_s = bsync_raw_best(raw, (size_t)acked, 1, NULL);
	if (raw_s < 0 || raw1_s < 0)
		return -1;
	if (o->have_redis &&
	    proc_redis_stream(o, o->seconds * 1000, &r_written, &r_applied) != 0) {
		fprintf(stderr, "rumor-bench proc: the Redis stream failed\n");
		return -1;
	}
	bench_report("raw batched LevelDB writes (same keys)",
		     (double)raw_count / raw_s, "writes/s");
	bench_report("raw LevelDB writes one by one (no target)",
		     (double)acked / raw1_s, "writes/s");
	bench_report("PUTs acknowledged on rumord 0", put_rate, "writes/s");
	bench_report("applied on rumord 1", applied_rate, "versions/s");
	bench_report("librumor writer: rumor_write in this process",
		     lib_written, "writes/s");
	bench_report("librumor writer: applied on a rumord", lib_applied,
		     "versions/s");
	if (o->have_redis) {
		bench_report("Redis: SETs acknowledged on the master", r_written,
			     "writes/s");
		bench_report("Redis: applied on the replica", r_applied,
			     "writes/s");
	}
	printf("  %-44s %13.2fx  (no target: the writer's pace)\n",
	       "applied / acknowledged", applied_rate / put_rate);
	ok = bench_ratio("PUT stream: applied / raw batched writes",
			 applied_rate * raw_s / (double)raw_count,
			 TARGET_STEADY_RAW);
	ok &= bench_ratio("librumor: applied / raw batched writes",
			  lib_applied * raw_s / (double)raw_count,
			  TARGET_STEADY_RAW);
	if (o->have_redis) {
		ok &= bench_ratio("PUT stream: applied / Redis replica",
				  applied_rate / (r_applied > 0 ? r_applied : 1),
				  TARGET_STEADY_REDIS);
		ok &= bench_ratio("librumor: applied / Redis replica",
				  lib_applied / (r_applied > 0 ? r_applied : 1),
				  TARGET_STEADY_REDIS);
	} else
		redis_skipped();
	return ok;
fail:
	fprintf(stderr, "rumor-bench proc: the steady writer failed\n");
	ctlc_close(&c);
	proc_cluster_stop(nodes, 2);
	return -1;
}
