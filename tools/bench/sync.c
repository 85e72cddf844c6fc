/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench sync: reconciliation between whole nodes (the public API)
 * over TCP on 127.0.0.1, beside the limit each stands on, measured in the
 * same run:
 *
 *   catchup  a fresh node pulls N keys from a peer    vs  raw batched
 *            (time from its open until it holds N)        LevelDB writes of
 *                                                         the same N keys
 *   steady   a peer applies what another writes       vs  raw batched
 *            without pause, in rumor_write batches        writes, same data
 *            (applies per second)
 *   latency  5 idle nodes: a put until all 5 hold it  vs  1 s; interval_min
 *            (p50, p99)                                   as the reference
 *   bytes    wire bytes per entry in a catch-up, and  vs  key + value bytes;
 *            per entry of a small delta after it          the catch-up's cost
 *
 * The serving node runs on its own thread and loop, the pulling node on
 * the main thread: two nodes are two processes in use, and this machine
 * has cores for both (but LevelDB's one background thread serves every
 * database of a process, so both nodes' compactions share it). The
 * latency cluster shares one loop (it is idle). Raw LevelDB gets the
 * store's options (src/store/) and batches of as many entries as one
 * sync BATCH frame carries; each raw figure is the best of RAW_ROUNDS.
 *
 * Lines marked "no target" say where the time goes: store_apply_batch
 * alone on the same batches (catch-up), raw writes in the writer's
 * batches and rumor_write on the writer (steady: the writer paces the
 * reader; --batch 1 writes with rumor_put, one WriteBatch a key).
 */
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
#include "node/node.h"
#include "node/node_ctl.h"
#include "rumor.h"
#include "store/store.h"
#include "sync/sync.h"
#include "wire/wire.h"

#define KEY_BYTES 16
#define VALUE_BYTES 100
#define DEFAULT_CATCHUP_KEYS 1000000
#define DEFAULT_STEADY_MS 3000
#define DEFAULT_WARMUP_MS 500
#define DEFAULT_BURST 64
#define DEFAULT_WRITE_BATCH 256
#define DEFAULT_SAMPLES 200
#define DEFAULT_BYTES_KEYS 100000
#define DEFAULT_DELTA_KEYS 100
#define LATENCY_NODES 5
#define WAIT_CONNECTED_MS 15000
#define WAIT_SAMPLE_MS 10000
#define TICK_MS 1
#define RAW_ROUNDS 2

/* Key ranges of the phases, so that a delta never rewrites a key. */
#define KEYS_MAIN 0u
#define KEYS_DELTA 0x80000000u

#define TARGET_CATCHUP 0.50     /* raw time / catch-up time */
#define TARGET_STEADY 0.50      /* applies/s / raw writes/s */
#define TARGET_LATENCY 1.00     /* 1000 ms / p99 */
#define TARGET_BYTES 0.77       /* key+value / wire bytes */
#define TARGET_DELTA (1.0 / 3)  /* big per-entry cost / delta per-entry */

struct bench_opts {
	size_t catchup_keys;
	size_t steady_ms;
	size_t burst;
	size_t write_batch;          /* steady: ops per rumor_write */
	size_t samples;
	size_t bytes_keys;
	size_t delta_keys;
	unsigned interval_min_ms;
	unsigned interval_max_ms;
};

/* ------------------------------------------------------------ data */

/* Key i: its index scrambled (writes land in random key order, as in
 * use), as hex, padded to KEY_BYTES. Distinct for i < 2^32. */
static void make_key(char *buf, uint32_t i)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t x = i * 2654435761u;
	int d;

	memset(buf, 'k', KEY_BYTES);
	for (d = 0; d < 8; d++)
		buf[d] = hex[(x >> (28 - 4 * d)) & 15];
}

/* Value i: incompressible bytes, different for every key, so that Snappy
 * flatters neither side (identical values would compress in a block). */
static void make_value(char *buf, uint32_t i)
{
	uint64_t x = ((uint64_t)i << 32) ^ 0x9e3779b97f4a7c15ull;
	size_t k;

	for (k = 0; k < VALUE_BYTES; k += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + k, &x, VALUE_BYTES - k < 8 ? VALUE_BYTES - k : 8);
	}
}

/* Entries in one sync BATCH frame of these entries: the batch size raw
 * LevelDB gets, so both write the same number of WriteBatches. */
static size_t sync_batch_entries(void)
{
	char key[KEY_BYTES], value[VALUE_BYTES];
	struct wire_entry e;
	size_t n;

	memset(&e, 0, sizeof e);
	make_key(key, 1);
	make_value(value, 1);
	e.seq = 1000000;
	e.clock = 1;
	e.wall_ms = 1700000000000ull;
	e.key = key;
	e.key_len = KEY_BYTES;
	e.value = value;
	e.value_len = VALUE_BYTES;
	n = (SYNC_BATCH_BYTES - WIRE_BATCH_HEAD_MAX) / wire_entry_size(&e);
	return n < 1 ? 1 : n > WIRE_BATCH_MAX ? WIRE_BATCH_MAX : n;
}

/* CPU seconds of the calling thread, or of the whole process. */
static double cpu_now(clockid_t which)
{
	struct timespec ts;

	clock_gettime(which, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ files */

static int rmrf_one(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int rmrf(const char *dir)
{
	return nftw(dir, rmrf_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* root/name, in a static-size buffer the caller gives. */
static const char *path_in(char *buf, size_t len, const char *root,
			   const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
	return buf;
}

/* ------------------------------------------------------------ raw LevelDB */

/* Writes keys [first, first + count) with their values into a fresh
 * LevelDB at dir, with the store's options, in WriteBatches of batch
 * puts. Only the batch puts and writes are timed (building keys and
 * values is the sender's work). Returns the seconds, or -1. */
static double raw_batched_write(const char *dir, uint32_t first, size_t count,
				size_t batch)
{
	leveldb_options_t *options = leveldb_options_create();
	leveldb_cache_t *cache = leveldb_cache_create_lru(STORE_DEFAULT_CACHE_BYTES);
	leveldb_filterpolicy_t *filter =
		leveldb_filterpolicy_create_bloom(STORE_BLOOM_BITS_PER_KEY);
	leveldb_writeoptions_t *wopts = leveldb_writeoptions_create();
	leveldb_writebatch_t *b = leveldb_writebatch_create();
	char *buf = malloc(batch * (KEY_BYTES + VALUE_BYTES));
	leveldb_t *db = NULL;
	char *lerr = NULL;
	double t = 0, t0;
	size_t i, j, n;

	leveldb_options_set_create_if_missing(options, 1);
	leveldb_options_set_write_buffer_size(options,
					      STORE_DEFAULT_WRITE_BUFFER_BYTES);
	leveldb_options_set_cache(options, cache);
	leveldb_options_set_filter_policy(options, filter);
	leveldb_writeoptions_set_sync(wopts, 0);
	if (buf == NULL) {
		t = -1;
		goto done;
	}
	db = leveldb_open(options, dir, &lerr);
	if (lerr != NULL)
		goto failed;
	for (i = 0; i < count; i += n) {
		n = count - i < batch ? count - i : batch;
		for (j = 0; j < n; j++) {
			char *kv = buf + j * (KEY_BYTES + VALUE_BYTES);

			make_key(kv, first + (uint32_t)(i + j));
			make_value(kv + KEY_BYTES, first + (uint32_t)(i + j));
		}
		t0 = bench_now();
		for (j = 0; j < n; j++) {
			char *kv = buf + j * (KEY_BYTES + VALUE_BYTES);

			leveldb_writebatch_put(b, kv, KEY_BYTES, kv + KEY_BYTES,
					       VALUE_BYTES);
		}
		leveldb_write(db, wopts, b, &lerr);
		leveldb_writebatch_clear(b);
		t += bench_now() - t0;
		if (lerr != NULL)
			goto failed;
	}
	goto done;
failed:
	fprintf(stderr, "rumor-bench sync: leveldb %s: %s\n", dir, lerr);
	leveldb_free(lerr);
	t = -1;
done:
	if (db != NULL)
		leveldb_close(db);
	free(buf);
	leveldb_writebatch_destroy(b);
	leveldb_writeoptions_destroy(wopts);
	leveldb_options_destroy(options);
	leveldb_filterpolicy_destroy(filter);
	leveldb_cache_destroy(cache);
	return t;
}

/* The best of RAW_ROUNDS raw_batched_write() of keys [0, count) into a
 * fresh dir each time (the machine is shared: the best is the limit). */
static double raw_best(const char *dir, size_t count, size_t batch)
{
	double best = -1, t;
	int r;

	for (r = 0; r < RAW_ROUNDS; r++) {
		t = raw_batched_write(dir, KEYS_MAIN, count, batch);
		rmrf(dir);
		if (t < 0)
			return -1;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/* Fills the store of a node-to-be (dir is its data dir) with keys [0,
 * count) as versions of a foreign origin, in store_apply_batch calls of
 * batch versions: the store's own work in a catch-up, without the
 * network. Returns the seconds spent in store_apply_batch, or -1. */
static double load_node_store(const char *dir, size_t count, size_t batch)
{
	uint8_t own[STORE_ORIGIN_BYTES], remote[STORE_ORIGIN_BYTES];
	char db[4200];
	struct store_options so;
	struct rumor_version *vs = calloc(batch, sizeof *vs);
	char *buf = malloc(batch * (KEY_BYTES + VALUE_BYTES));
	struct store_hwm raise;
	struct store *s = NULL;
	struct err e;
	size_t i, j, n;
	double t = 0, t0;
	int rv = -1;

	err_clear(&e);
	memset(own, 0xa1, sizeof own);
	memset(remote, 0xb2, sizeof remote);
	memset(&so, 0, sizeof so);
	so.origin = own;
	if (vs == NULL || buf == NULL || mkdir(dir, 0700) != 0)
		goto done;
	path_in(db, sizeof db, dir, NODE_DB_DIR);
	if (store_open(&s, db, &so, &e) != 0)
		goto done;
	memcpy(raise.origin, remote, sizeof remote);
	for (i = 0; i < count; i += n) {
		n = count - i < batch ? count - i : batch;
		for (j = 0; j < n; j++) {
			char *kv = buf + j * (KEY_BYTES + VALUE_BYTES);

			make_key(kv, KEYS_MAIN + (uint32_t)(i + j));
			make_value(kv + KEY_BYTES, KEYS_MAIN + (uint32_t)(i + j));
			vs[j].key = kv;
			vs[j].key_len = KEY_BYTES;
			vs[j].value = kv + KEY_BYTES;
			vs[j].value_len = VALUE_BYTES;
			vs[j].clock = 1;
			vs[j].wall_ms = 1700000000000ull + i + j;
			vs[j].origin = remote;
			vs[j].origin_len = sizeof remote;
			vs[j].seq = i + j + 1;
		}
		raise.seq = i + n;
		t0 = bench_now();
		rv = store_apply_batch(s, vs, n, &raise, 1, NULL, &e);
		t += bench_now() - t0;
		if (rv != 0)
			goto done;
	}
	/* A serving peer's data was written long ago: settle the freshly
	 * loaded store, so that its compactions do not run during the
	 * catch-up (raw writes get an idle machine too). */
	store_compact(s);
	rv = 0;
done:
	if (rv != 0)
		fprintf(stderr, "rumor-bench sync: loading %s: %s\n", dir,
			e.msg[0] ? e.msg : "out of memory or mkdir failed");
	if (s != NULL)
		store_close(s);
	free(vs);
	free(buf);
	return rv == 0 ? t : -1;
}

/* ------------------------------------------------------------ nodes */

static int node_start(struct rumor **out, uv_loop_t *loop, const char *dir,
		      const char *seed, const struct bench_opts *o,
		      char addr[64])
{
	const char *seeds[1] = {seed};
	struct rumor_options ro;
	struct node_status st;
	char msg[RUMOR_ERRMSG_MAX];
	int rv;

	rumor_options_init(&ro);
	ro.data_dir = dir;
	ro.loop = loop;
	ro.listen = "127.0.0.1:0";
	ro.no_multicast = 1;
	ro.peers = seed != NULL ? seeds : NULL;
	ro.n_peers = seed != NULL ? 1 : 0;
	ro.interval_min_ms = o->interval_min_ms;
	ro.interval_max_ms = o->interval_max_ms;
	ro.catchup_wait_ms = 0;
	rv = rumor_open(out, &ro, msg, sizeof msg);
	if (rv != 0) {
		fprintf(stderr, "rumor-bench sync: open node %s: %s\n", dir, msg);
		return rv;
	}
	if (addr != NULL) {
		node_get_status(*out, &st);
		snprintf(addr, 64, "%.63s", st.listen);
	}
	return 0;
}

/* Peers of n with an open connection. */
static size_t node_connected(struct rumor *n)
{
	struct node_peer_info info[LATENCY_NODES * 2];
	size_t i, k, c = 0;

	k = node_peers(n, info, sizeof info / sizeof info[0]);
	if (k > sizeof info / sizeof info[0])
		k = sizeof info / sizeof info[0];
	for (i = 0; i < k; i++)
		c += info[i].connected != 0;
	return c;
}

/* ------------------------------------------------------------ worker thread */

/*
 * A loop on a thread of its own, driven from the main thread by
 * worker_call(): the function runs on the worker's loop thread (where its
 * node must be called) while the caller waits.
 */
struct worker;
typedef void (*worker_fn)(struct worker *w, void *arg);

struct worker {
	uv_loop_t loop;
	uv_async_t wake;
	uv_thread_t thread;
	uv_mutex_t mu;
	uv_cond_t cv;
	worker_fn fn;
	void *arg;
	int done;

	/* The node on this loop, and its put stream (steady). */
	struct rumor *node;
	char addr[64];
	uv_idle_t put_idle;
	size_t burst;
	size_t write_batch;
	uint32_t next_key;
	uint64_t puts;
	double put_t0, put_t1;
	int put_failed;
	double cpu;          /* this thread's CPU seconds, by worker_cpu_fn */
};

static void worker_wake_cb(uv_async_t *h)
{
	struct worker *w = h->data;
	worker_fn fn;
	void *arg;

	uv_mutex_lock(&w->mu);
	fn = w->fn;
	arg = w->arg;
	w->fn = NULL;
	uv_mutex_unlock(&w->mu);
	if (fn == NULL)
		return;
	fn(w, arg);
	uv_mutex_lock(&w->mu);
	w->done = 1;
	uv_cond_signal(&w->cv);
	uv_mutex_unlock(&w->mu);
}

static void worker_main(void *arg)
{
	struct worker *w = arg;

	uv_run(&w->loop, UV_RUN_DEFAULT);
}

static int worker_start(struct worker *w)
{
	memset(w, 0, sizeof *w);
	if (uv_loop_init(&w->loop) != 0)
		return -1;
	uv_async_init(&w->loop, &w->wake, worker_wake_cb);
	w->wake.data = w;
	uv_mutex_init(&w->mu);
	uv_cond_init(&w->cv);
	if (uv_thread_create(&w->thread, worker_main, w) != 0) {
		uv_close((uv_handle_t *)&w->wake, NULL);
		uv_run(&w->loop, UV_RUN_DEFAULT);
		uv_loop_close(&w->loop);
		uv_mutex_destroy(&w->mu);
		uv_cond_destroy(&w->cv);
		return -1;
	}
	return 0;
}

/* Runs fn(w, arg) on the worker's thread and returns when it returned. */
static void worker_call(struct worker *w, worker_fn fn, void *arg)
{
	uv_mutex_lock(&w->mu);
	w->fn = fn;
	w->arg = arg;
	w->done = 0;
	uv_mutex_unlock(&w->mu);
	uv_async_send(&w->wake);
	uv_mutex_lock(&w->mu);
	while (!w->done)
		uv_cond_wait(&w->cv, &w->mu);
	uv_mutex_unlock(&w->mu);
}

static void worker_close_fn(struct worker *w, void *arg)
{
	(void)arg;
	if (w->node != NULL)
		rumor_close(w->node, NULL, NULL);
	w->node = NULL;
	uv_close((uv_handle_t *)&w->wake, NULL);
}

/* Closes the worker's node and loop and joins its thread. */
static void worker_stop(struct worker *w)
{
	worker_call(w, worker_close_fn, NULL);
	uv_thread_join(&w->thread);
	if (uv_loop_close(&w->loop) != 0)
		fprintf(stderr, "rumor-bench sync: a worker handle stayed open\n");
	uv_mutex_destroy(&w->mu);
	uv_cond_destroy(&w->cv);
}

static void worker_cpu_fn(struct worker *w, void *arg)
{
	(void)arg;
	w->cpu = cpu_now(CLOCK_THREAD_CPUTIME_ID);
}

struct worker_open {
	const char *dir;
	const struct bench_opts *o;
	int rv;
};

static void worker_open_fn(struct worker *w, void *arg)
{
	struct worker_open *wo = arg;

	wo->rv = node_start(&w->node, &w->loop, wo->dir, NULL, wo->o, w->addr);
	if (wo->rv != 0)
		w->node = NULL;
}

/* Puts keys [w->next_key, + *count) on the worker's node: with rumor_write
 * in batches of w->write_batch (the last one shorter), or with rumor_put
 * when that is 1. Keys and values are made outside the timed part of the
 * raw writes too (raw_batched_write). */
static void worker_put_fn(struct worker *w, void *arg)
{
	size_t *count = arg, i, j, n;
	char key[KEY_BYTES], value[VALUE_BYTES];
	struct rumor_op *ops;
	char *buf;

	if (w->write_batch <= 1) {
		for (i = 0; i < *count; i++, w->next_key++) {
			make_key(key, w->next_key);
			make_value(value, w->next_key);
			if (rumor_put(w->node, key, KEY_BYTES, value,
				      VALUE_BYTES) != 0)
				goto failed;
		}
		return;
	}
	ops = malloc(w->write_batch * sizeof *ops);
	buf = malloc(w->write_batch * (KEY_BYTES + VALUE_BYTES));
	if (ops == NULL || buf == NULL) {
		free(ops);
		free(buf);
		fprintf(stderr, "rumor-bench sync: out of memory\n");
		w->put_failed = 1;
		return;
	}
	for (i = 0; i < *count; i += n) {
		n = *count - i < w->write_batch ? *count - i : w->write_batch;
		for (j = 0; j < n; j++, w->next_key++) {
			char *kv = buf + j * (KEY_BYTES + VALUE_BYTES);

			make_key(kv, w->next_key);
			make_value(kv + KEY_BYTES, w->next_key);
			ops[j].key = kv;
			ops[j].key_len = KEY_BYTES;
			ops[j].value = kv + KEY_BYTES;
			ops[j].value_len = VALUE_BYTES;
			ops[j].del = 0;
		}
		if (rumor_write(w->node, ops, n) != 0) {
			free(ops);
			free(buf);
			goto failed;
		}
	}
	free(ops);
	free(buf);
	return;
failed:
	fprintf(stderr, "rumor-bench sync: %s: %s\n",
		w->write_batch <= 1 ? "put" : "write", rumor_errmsg(w->node));
	w->put_failed = 1;
}

/* Steady: a burst of writes every loop iteration (at least one batch),
 * the network in between. */
static void put_idle_cb(uv_idle_t *h)
{
	struct worker *w = h->data;
	size_t burst = w->burst > w->write_batch ? w->burst : w->write_batch;

	worker_put_fn(w, &burst);
	if (w->put_failed) {
		uv_idle_stop(h);
		return;
	}
	w->puts += burst;
}

static void worker_start_puts_fn(struct worker *w, void *arg)
{
	(void)arg;
	uv_idle_init(&w->loop, &w->put_idle);
	w->put_idle.data = w;
	w->puts = 0;
	w->put_t0 = bench_now();
	uv_idle_start(&w->put_idle, put_idle_cb);
}

static void worker_stop_puts_fn(struct worker *w, void *arg)
{
	(void)arg;
	w->put_t1 = bench_now();
	uv_idle_stop(&w->put_idle);
	uv_close((uv_handle_t *)&w->put_idle, NULL);
}

/* ------------------------------------------------------------ the main loop */

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

struct main_loop {
	uv_loop_t loop;
	uv_timer_t ticker;   /* wakes the loop every TICK_MS: polls see time */
};

static int main_loop_init(struct main_loop *m)
{
	if (uv_loop_init(&m->loop) != 0)
		return -1;
	uv_timer_init(&m->loop, &m->ticker);
	uv_timer_start(&m->ticker, tick_cb, TICK_MS, TICK_MS);
	return 0;
}

static void main_loop_close(struct main_loop *m)
{
	uv_close((uv_handle_t *)&m->ticker, NULL);
	uv_run(&m->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&m->loop) != 0)
		fprintf(stderr, "rumor-bench sync: a handle stayed open\n");
}

typedef int (*cond_fn)(void *arg);

/* Runs the loop until cond(arg) holds (1) or ms pass (0). cond is asked
 * after every loop iteration. */
static int run_until(struct main_loop *m, cond_fn cond, void *arg, double ms)
{
	double end = bench_now() + ms / 1000;

	while (!cond(arg)) {
		if (bench_now() >= end)
			return 0;
		uv_run(&m->loop, UV_RUN_ONCE);
	}
	return 1;
}

static int never(void *arg)
{
	(void)arg;
	return 0;
}

struct keys_at_least {
	struct rumor *n;
	uint64_t keys;
};

/* The node's counters. rumor_stats fails only on a bad argument, a bug
 * here, so a failure ends the bench rather than printing wrong figures. */
static void bench_stats(struct rumor *n, struct rumor_stats *st)
{
	rumor_stats_init(st);
	if (rumor_stats(n, st) != 0) {
		fprintf(stderr, "rumor-bench: rumor_stats: %s\n",
			rumor_errmsg(n));
		exit(1);
	}
}

static int has_keys(void *arg)
{
	struct keys_at_least *k = arg;
	struct rumor_stats st;

	bench_stats(k->n, &st);
	return st.keys >= k->keys;
}

static int is_connected(void *arg)
{
	return node_connected(arg) >= 1;
}

/* ------------------------------------------------------------ catch-up */

/* A serving node (worker thread) holding count keys and a fresh node on
 * the main loop that pulled them all. */
struct pair {
	struct main_loop m;
	struct worker a;
	struct rumor *b;
	int have_m, have_a;
	double load_s;               /* store_apply_batch loading A */
	double catchup_s;            /* B's open to B holding all */
	/* CPU seconds during the catch-up: B's thread, A's, the rest of
	 * the process (LevelDB's background compactions). */
	double cpu_b, cpu_a, cpu_other;
	struct rumor_stats b_after;  /* B's counters then */
};

static void pair_close(struct pair *p)
{
	if (p->b != NULL)
		rumor_close(p->b, NULL, NULL);
	p->b = NULL;
	if (p->have_a)
		worker_stop(&p->a);
	p->have_a = 0;
	if (p->have_m)
		main_loop_close(&p->m);
	p->have_m = 0;
}

/* Opens A on dir_a (loaded with count keys when count > 0), then B on
 * dir_b seeded with A, and, when count > 0, times B until it holds them. */
static int pair_open(struct pair *p, const struct bench_opts *o,
		     const char *dir_a, const char *dir_b, size_t count,
		     size_t batch)
{
	struct worker_open wo = {dir_a, o, 0};
	struct keys_at_least want;
	double t0, cpu_b0, cpu_a0, cpu_all0;

	memset(p, 0, sizeof *p);
	if (count > 0) {
		p->load_s = load_node_store(dir_a, count, batch);
		if (p->load_s < 0)
			return -1;
	}
	if (main_loop_init(&p->m) != 0)
		return -1;
	p->have_m = 1;
	if (worker_start(&p->a) != 0)
		goto failed;
	p->have_a = 1;
	worker_call(&p->a, worker_open_fn, &wo);
	if (wo.rv != 0)
		goto failed;
	worker_call(&p->a, worker_cpu_fn, NULL);
	cpu_a0 = p->a.cpu;
	cpu_all0 = cpu_now(CLOCK_PROCESS_CPUTIME_ID);
	cpu_b0 = cpu_now(CLOCK_THREAD_CPUTIME_ID);
	t0 = bench_now();
	if (node_start(&p->b, &p->m.loop, dir_b, p->a.addr, o, NULL) != 0)
		goto failed;
	want.n = p->b;
	want.keys = count;
	/* A generous bound: 10 s plus 1 ms per 20 keys (50 s for 10^6). */
	if (!run_until(&p->m, count > 0 ? has_keys : is_connected,
		       count > 0 ? (void *)&want : (void *)p->b,
		       10000 + (double)count / 20)) {
		fprintf(stderr, "rumor-bench sync: the second node did not %s in time\n",
			count > 0 ? "catch up" : "connect");
		goto failed;
	}
	p->catchup_s = bench_now() - t0;
	p->cpu_b = cpu_now(CLOCK_THREAD_CPUTIME_ID) - cpu_b0;
	worker_call(&p->a, worker_cpu_fn, NULL);
	p->cpu_a = p->a.cpu - cpu_a0;
	p->cpu_other = cpu_now(CLOCK_PROCESS_CPUTIME_ID) - cpu_all0 -
		       p->cpu_b - p->cpu_a;
	bench_stats(p->b, &p->b_after);
	return 0;
failed:
	pair_close(p);
	return -1;
}

static int bench_catchup(const struct bench_opts *o, const char *root)
{
	char raw[4200], a[4200], b[4200];
	size_t batch = sync_batch_entries();
	struct pair p;
	double raw_s;
	int ok;

	printf("sync catchup: %zu keys of %d bytes, values of %d bytes; raw: best of %d, batches of %zu\n",
	       o->catchup_keys, KEY_BYTES, VALUE_BYTES, RAW_ROUNDS, batch);
	fflush(stdout);
	raw_s = raw_best(path_in(raw, sizeof raw, root, "catchup-raw"),
			 o->catchup_keys, batch);
	if (raw_s < 0)
		return -1;
	if (pair_open(&p, o, path_in(a, sizeof a, root, "catchup-a"),
		      path_in(b, sizeof b, root, "catchup-b"), o->catchup_keys,
		      batch) != 0)
		return -1;
	pair_close(&p);
	rmrf(a);
	rmrf(b);
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
	ok = bench_ratio("raw time / catch-up time", raw_s / p.catchup_s,
			 TARGET_CATCHUP);
	return ok;
}

/* ------------------------------------------------------------ steady */

static int bench_steady(const struct bench_opts *o, const char *root)
{
	char raw[4200], a[4200], b[4200];
	size_t batch = sync_batch_entries();
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
	if (pair_open(&p, o, path_in(a, sizeof a, root, "steady-a"),
		      path_in(b, sizeof b, root, "steady-b"), 0, batch) != 0)
		return -1;
	p.a.burst = o->burst;
	p.a.write_batch = o->write_batch;
	p.a.next_key = KEYS_MAIN;
	worker_call(&p.a, worker_start_puts_fn, NULL);
	run_until(&p.m, never, NULL, DEFAULT_WARMUP_MS);
	bench_stats(p.b, &s0);
	t0 = bench_now();
	run_until(&p.m, never, NULL, (double)o->steady_ms);
	bench_stats(p.b, &s1);
	t1 = bench_now();
	worker_call(&p.a, worker_stop_puts_fn, NULL);
	puts = p.a.puts;
	put_rate = (double)puts / (p.a.put_t1 - p.a.put_t0);
	ok = !p.a.put_failed;
	pair_close(&p);
	rmrf(a);
	rmrf(b);
	if (!ok || puts == 0)
		return -1;
	applied_rate = (double)(s1.remote_applied - s0.remote_applied) /
		       (t1 - t0);
	raw_s = raw_best(path_in(raw, sizeof raw, root, "steady-raw"),
			 (size_t)puts, batch);
	/* The writer's limit: raw WriteBatches as large as its own. */
	raww_s = raw_best(raw, (size_t)puts, o->write_batch);
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
		if (node_connected(c->nodes[i]) < LATENCY_NODES - 1)
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

static int bench_latency(const struct bench_opts *o, const char *root)
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
	if (ms == NULL || main_loop_init(&c.m) != 0) {
		free(ms);
		return -1;
	}
	for (i = 0; i < LATENCY_NODES; i++) {
		snprintf(name, sizeof name, "latency-%d", i);
		path_in(dirs[i], sizeof dirs[i], root, name);
		if (node_start(&c.nodes[i], &c.m.loop, dirs[i],
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
		run_until(&c.m, all_connected, &c, 50);
	}
	c.key = key;
	for (s = 0; s < o->samples; s++) {
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		/* A random pause of 0 to 2 interval_min: some puts come while
		 * the writer's last round is recent (a new round waits for
		 * interval_min to pass), others after a quiet spell. */
		run_until(&c.m, never, NULL,
			  (double)(rnd >> 40) / (1 << 24) * 2 * o->interval_min_ms);
		make_key(key, KEYS_MAIN + (uint32_t)s);
		make_value(value, KEYS_MAIN + (uint32_t)s);
		i = (int)(rnd % LATENCY_NODES);
		t0 = bench_now();
		if (rumor_put(c.nodes[i], key, KEY_BYTES, value, VALUE_BYTES) != 0) {
			fprintf(stderr, "rumor-bench sync: put: %s\n",
				rumor_errmsg(c.nodes[i]));
			goto done;
		}
		if (!run_until(&c.m, all_hold, &c, WAIT_SAMPLE_MS)) {
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
done:
	for (i = 0; i < LATENCY_NODES; i++)
		if (c.nodes[i] != NULL)
			rumor_close(c.nodes[i], NULL, NULL);
	main_loop_close(&c.m);
	for (i = 0; i < LATENCY_NODES; i++)
		if (dirs[i][0] != '\0')
			rmrf(dirs[i]);
	free(ms);
	return ok;
}

/* ------------------------------------------------------------ bytes */

static int bench_bytes(const struct bench_opts *o, const char *root)
{
	char a[4200], b[4200];
	size_t batch = sync_batch_entries();
	struct keys_at_least want;
	struct rumor_stats s0, s1;
	struct pair p;
	double big, delta, kv = KEY_BYTES + VALUE_BYTES;
	size_t count = o->delta_keys;
	int ok;

	printf("sync bytes: a catch-up of %zu keys, then a delta of %zu new keys\n",
	       o->bytes_keys, o->delta_keys);
	fflush(stdout);
	if (pair_open(&p, o, path_in(a, sizeof a, root, "bytes-a"),
		      path_in(b, sizeof b, root, "bytes-b"), o->bytes_keys,
		      batch) != 0)
		return -1;
	big = (double)p.b_after.bytes_in / (double)o->bytes_keys;

	/* The delta: new keys on A, then until B holds them; whatever
	 * the nodes exchange meanwhile (digests, rounds) counts. */
	bench_stats(p.b, &s0);
	p.a.next_key = KEYS_DELTA;
	worker_call(&p.a, worker_put_fn, &count);
	want.n = p.b;
	want.keys = o->bytes_keys + o->delta_keys;
	if (p.a.put_failed || !run_until(&p.m, has_keys, &want, 10000)) {
		fprintf(stderr, "rumor-bench sync: the delta did not arrive\n");
		pair_close(&p);
		rmrf(a);
		rmrf(b);
		return -1;
	}
	bench_stats(p.b, &s1);
	pair_close(&p);
	rmrf(a);
	rmrf(b);
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

/* ------------------------------------------------------------ main */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rumor-bench sync [catchup|steady|latency|bytes|all] [options]\n"
		"  --keys N          catch-up: keys the source holds (default %d)\n"
		"  --seconds S       steady: measured window (default %d)\n"
		"  --burst B         steady: keys written per loop iteration, at least\n"
		"                    one batch (default %d)\n"
		"  --batch N         steady: keys per rumor_write; 1: rumor_put\n"
		"                    (default %d)\n"
		"  --samples N       latency: puts measured (default %d)\n"
		"  --bytes-keys N    bytes: keys of the catch-up (default %d)\n"
		"  --delta N         bytes: keys of the delta after it (default %d)\n"
		"  --interval-min MS fastest reconciliation interval (default 100)\n"
		"  --interval-max MS idle reconciliation interval (default 10000)\n"
		"Keys are %d bytes, values %d bytes. Without a mode, all four run.\n",
		DEFAULT_CATCHUP_KEYS, DEFAULT_STEADY_MS / 1000, DEFAULT_BURST,
		DEFAULT_WRITE_BATCH, DEFAULT_SAMPLES, DEFAULT_BYTES_KEYS, DEFAULT_DELTA_KEYS,
		KEY_BYTES, VALUE_BYTES);
}

static int parse_args(int argc, char **argv, struct bench_opts *o,
		      const char **mode)
{
	size_t imin = 100, imax = 10000, secs = DEFAULT_STEADY_MS / 1000;
	int i = 1;

	o->catchup_keys = DEFAULT_CATCHUP_KEYS;
	o->burst = DEFAULT_BURST;
	o->write_batch = DEFAULT_WRITE_BATCH;
	o->samples = DEFAULT_SAMPLES;
	o->bytes_keys = DEFAULT_BYTES_KEYS;
	o->delta_keys = DEFAULT_DELTA_KEYS;
	*mode = "all";
	if (argc > 1 && argv[1][0] != '-') {
		*mode = argv[1];
		i = 2;
	}
	/* Every option but --help takes one value: two words a step. */
	for (; i < argc; i += 2) {
		const char *a = argv[i];
		size_t *dst = NULL, min = 1, max = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--keys") == 0) {
			dst = &o->catchup_keys;
			max = 50000000;
		} else if (strcmp(a, "--seconds") == 0) {
			dst = &secs;
			max = 600;
		} else if (strcmp(a, "--burst") == 0) {
			dst = &o->burst;
			max = 100000;
		} else if (strcmp(a, "--batch") == 0) {
			dst = &o->write_batch;
			max = RUMOR_WRITE_MAX;
		} else if (strcmp(a, "--samples") == 0) {
			dst = &o->samples;
			max = 100000;
		} else if (strcmp(a, "--bytes-keys") == 0) {
			dst = &o->bytes_keys;
			max = 50000000;
		} else if (strcmp(a, "--delta") == 0) {
			dst = &o->delta_keys;
			max = 1000000;
		} else if (strcmp(a, "--interval-min") == 0) {
			dst = &imin;
			max = 3600000;
		} else if (strcmp(a, "--interval-max") == 0) {
			dst = &imax;
			max = 3600000;
		}
		if (dst == NULL || i + 1 >= argc ||
		    bench_parse_size(argv[i + 1], min, max, dst) != 0) {
			fprintf(stderr, "rumor-bench sync: bad option or value at '%s'\n",
				a);
			usage(stderr);
			return -1;
		}
	}
	if (imax < imin) {
		fprintf(stderr, "rumor-bench sync: --interval-max below --interval-min\n");
		return -1;
	}
	o->steady_ms = secs * 1000;
	o->interval_min_ms = (unsigned)imin;
	o->interval_max_ms = (unsigned)imax;
	return 0;
}

int bench_sync_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const struct bench_opts *o, const char *root);
	} phases[] = {
		{"catchup", bench_catchup},
		{"steady", bench_steady},
		{"latency", bench_latency},
		{"bytes", bench_bytes},
	};
	const char *base = getenv("TMPDIR"), *mode;
	struct bench_opts o;
	char root[4096];
	size_t i;
	int all, ran = 0, met = 1, failed = 0, rv;

	if (parse_args(argc, argv, &o, &mode) != 0)
		return 2;
	/* A peer that closes first makes our next write to its socket raise
	 * SIGPIPE; libuv reports EPIPE instead when the signal is ignored. */
	signal(SIGPIPE, SIG_IGN);
	all = strcmp(mode, "all") == 0;
	for (i = 0; i < sizeof phases / sizeof phases[0]; i++)
		if (strcmp(mode, phases[i].name) == 0)
			break;
	if (!all && i == sizeof phases / sizeof phases[0]) {
		fprintf(stderr, "rumor-bench sync: unknown mode '%s'\n", mode);
		usage(stderr);
		return 2;
	}
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(root, sizeof root, "%s/rumor-bench-sync-XXXXXX", base);
	if (mkdtemp(root) == NULL) {
		perror("rumor-bench sync: mkdtemp");
		return 1;
	}
	for (i = 0; i < sizeof phases / sizeof phases[0]; i++) {
		if (!all && strcmp(mode, phases[i].name) != 0)
			continue;
		if (ran++)
			printf("\n");
		rv = phases[i].run(&o, root);
		if (rv < 0) {
			fprintf(stderr, "rumor-bench sync: %s failed\n",
				phases[i].name);
			failed = 1;
		} else if (rv == 0) {
			met = 0;
		}
		fflush(stdout);
	}
	if (rmrf(root) != 0)
		fprintf(stderr, "rumor-bench sync: could not remove %s\n", root);
	return failed ? 1 : met ? 0 : 1;
}
