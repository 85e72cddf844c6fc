/* SPDX-License-Identifier: MIT */
/* bench_sync.h: what the files of rumor-bench sync share (tools/bench/
 * sync.c: the modes' driver; sync_data.c: keys, values, files, raw
 * LevelDB; sync_node.c: nodes, the worker thread, the main loop, a
 * serving and a pulling node; sync_modes.c: the four modes). */
#ifndef RUMOR_BENCH_SYNC_H
#define RUMOR_BENCH_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "rumor.h"

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


/* ------------------------------------------------ data (sync_data.c) */

/* Key i into buf[KEY_BYTES]; value i into buf[VALUE_BYTES]. */
void bsync_make_key(char *buf, uint32_t i);
void bsync_make_value(char *buf, uint32_t i);
/* Entries of KEY_BYTES and VALUE_BYTES in one sync BATCH frame. */
size_t bsync_batch_entries(void);
/* CPU seconds of the calling thread, or of the whole process. */
double bsync_cpu_now(clockid_t which);
/* root/name, in buf[len] (the caller's); returns buf. */
const char *bsync_path_in(char *buf, size_t len, const char *root,
			  const char *name);
/* Raw LevelDB writes of keys [first, first + count) into a fresh database
 * at dir in WriteBatches of batch; the seconds of the writes, or -1;
 * *cpu_s (if not NULL): the process's CPU seconds meanwhile. */
double bsync_raw_batched_write(const char *dir, uint32_t first,
			       size_t count, size_t batch, double *cpu_s);
/* The best of RAW_ROUNDS bsync_raw_batched_write of keys [0, count);
 * removes dir after each; seconds, or -1; *cpu_s (if not NULL): the
 * least CPU seconds of a round. */
double bsync_raw_best(const char *dir, size_t count, size_t batch,
		      double *cpu_s);
/* Loads keys [0, count) of a foreign origin into the store of a
 * node-to-be at dir; the seconds in store_apply_batch, or -1. */
double bsync_load_node_store(const char *dir, size_t count, size_t batch);

/* ----------------------------------------------- nodes (sync_node.c) */

/* Opens a node on loop at dir listening on 127.0.0.1 (seed: its one
 * peer, or NULL), with o's intervals; its address into addr unless NULL.
 * 0, or the rumor_open error (printed). The caller closes it. */
int bsync_node_start(struct rumor **out, uv_loop_t *loop, const char *dir,
		     const char *seed, const struct bench_opts *o,
		     char addr[64]);
/* Peers of n with an open connection. */
size_t bsync_node_connected(struct rumor *n);

/*
 * A loop on a thread of its own, driven from the main thread by
 * bsync_worker_call(): the function runs on the worker's loop thread
 * (where its node must be called) while the caller waits.
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
	double cpu;          /* the thread's CPU seconds (bsync_worker_cpu_fn) */
};


struct worker_open {
	const char *dir;
	const struct bench_opts *o;
	int rv;
};

/* Starts the worker's loop thread (no node yet): 0 or -1. */
int bsync_worker_start(struct worker *w);
/* Runs fn(w, arg) on the worker's thread and returns when it returned. */
void bsync_worker_call(struct worker *w, worker_fn fn, void *arg);
/* Closes the worker's node and loop and joins its thread. */
void bsync_worker_stop(struct worker *w);
/* worker_fns for bsync_worker_call: w->cpu = the thread's CPU seconds;
 * open w->node (arg: a struct worker_open, rv set); put *(size_t *)arg
 * keys from w->next_key; start and stop the steady put stream. */
void bsync_worker_cpu_fn(struct worker *w, void *arg);
void bsync_worker_open_fn(struct worker *w, void *arg);
void bsync_worker_put_fn(struct worker *w, void *arg);
void bsync_worker_start_puts_fn(struct worker *w, void *arg);
void bsync_worker_stop_puts_fn(struct worker *w, void *arg);

struct main_loop {
	uv_loop_t loop;
	uv_timer_t ticker;   /* wakes the loop every TICK_MS: polls see time */
};

/* A loop with a ticker: 0 or -1; close runs it until every handle is
 * closed. */
int bsync_main_loop_init(struct main_loop *m);
void bsync_main_loop_close(struct main_loop *m);

typedef int (*cond_fn)(void *arg);

/* Runs the loop until cond(arg) holds (1) or ms pass (0). */
int bsync_run_until(struct main_loop *m, cond_fn cond, void *arg,
		    double ms);
/* Conditions: never; n holds at least keys keys (a struct keys_at_least);
 * the node arg has a connected peer. */
int bsync_never(void *arg);
int bsync_has_keys(void *arg);
int bsync_is_connected(void *arg);

struct keys_at_least {
	struct rumor *n;
	uint64_t keys;
};


/* The node's counters; exits the program if rumor_stats fails. */
void bsync_stats(struct rumor *n, struct rumor_stats *st);

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

/* Opens A on dir_a (loaded with count keys when count > 0), then B on
 * dir_b seeded with A, and, when count > 0, times B until it holds them.
 * 0, or -1 with everything closed; bsync_pair_close closes both. */
int bsync_pair_open(struct pair *p, const struct bench_opts *o,
		    const char *dir_a, const char *dir_b, size_t count,
		    size_t batch);
void bsync_pair_close(struct pair *p);

/* ---------------------------------------------- modes (sync_modes.c) */

/* Each prints its figures: 1 when its targets are met, 0 when not, -1 on
 * a failure. Files go under root. */
int bsync_catchup(const struct bench_opts *o, const char *root);
int bsync_steady(const struct bench_opts *o, const char *root);
int bsync_latency(const struct bench_opts *o, const char *root);
int bsync_bytes(const struct bench_opts *o, const char *root);

#endif
