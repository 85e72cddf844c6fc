/* SPDX-License-Identifier: MIT */
/* rumor-bench sync: nodes, the worker thread, the main loop, and a
 * serving and a pulling node; declarations in bench_sync.h. */
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


/* ------------------------------------------------------------ nodes */

int bsync_node_start(struct rumor **out, uv_loop_t *loop, const char *dir,
		     const char *seed, const struct bench_opts *o,
		     char addr[64])
{
	const char *seeds[1] = {seed};
	struct rumor_options ro;
	struct ctl_status st;
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
size_t bsync_node_connected(struct rumor *n)
{
	struct ctl_peer_info info[LATENCY_NODES * 2];
	size_t i, k, c = 0;

	k = node_peers(n, info, sizeof info / sizeof info[0]);
	if (k > sizeof info / sizeof info[0])
		k = sizeof info / sizeof info[0];
	for (i = 0; i < k; i++)
		c += info[i].connected != 0;
	return c;
}

/* ------------------------------------------------------------ worker thread */

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

int bsync_worker_start(struct worker *w)
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
void bsync_worker_call(struct worker *w, worker_fn fn, void *arg)
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
void bsync_worker_stop(struct worker *w)
{
	bsync_worker_call(w, worker_close_fn, NULL);
	uv_thread_join(&w->thread);
	if (uv_loop_close(&w->loop) != 0)
		fprintf(stderr, "rumor-bench sync: a worker handle stayed open\n");
	uv_mutex_destroy(&w->mu);
	uv_cond_destroy(&w->cv);
}

void bsync_worker_cpu_fn(struct worker *w, void *arg)
{
	(void)arg;
	w->cpu = bsync_cpu_now(CLOCK_THREAD_CPUTIME_ID);
}

void bsync_worker_open_fn(struct worker *w, void *arg)
{
	struct worker_open *wo = arg;

	wo->rv = bsync_node_start(&w->node, &w->loop, wo->dir, NULL, wo->o,
				  w->addr);
	if (wo->rv != 0)
		w->node = NULL;
}

/* Puts keys [w->next_key, + *count) on the worker's node: with rumor_write
 * in batches of w->write_batch (the last one shorter), or with rumor_put
 * when that is 1. Keys and values are made outside the timed part of the
 * raw writes too (bsync_raw_batched_write). */
void bsync_worker_put_fn(struct worker *w, void *arg)
{
	size_t *count = arg, i, j, n;
	char key[KEY_BYTES], value[VALUE_BYTES];
	struct rumor_op *ops;
	char *buf;

	if (w->write_batch <= 1) {
		for (i = 0; i < *count; i++, w->next_key++) {
			bsync_make_key(key, w->next_key);
			bsync_make_value(value, w->next_key);
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

			bsync_make_key(kv, w->next_key);
			bsync_make_value(kv + KEY_BYTES, w->next_key);
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

	bsync_worker_put_fn(w, &burst);
	if (w->put_failed) {
		uv_idle_stop(h);
		return;
	}
	w->puts += burst;
}

void bsync_worker_start_puts_fn(struct worker *w, void *arg)
{
	(void)arg;
	uv_idle_init(&w->loop, &w->put_idle);
	w->put_idle.data = w;
	w->puts = 0;
	w->put_t0 = bench_now();
	uv_idle_start(&w->put_idle, put_idle_cb);
}

void bsync_worker_stop_puts_fn(struct worker *w, void *arg)
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


int bsync_main_loop_init(struct main_loop *m)
{
	if (uv_loop_init(&m->loop) != 0)
		return -1;
	uv_timer_init(&m->loop, &m->ticker);
	uv_timer_start(&m->ticker, tick_cb, TICK_MS, TICK_MS);
	return 0;
}

void bsync_main_loop_close(struct main_loop *m)
{
	uv_close((uv_handle_t *)&m->ticker, NULL);
	uv_run(&m->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&m->loop) != 0)
		fprintf(stderr, "rumor-bench sync: a handle stayed open\n");
}

/* Runs the loop until cond(arg) holds (1) or ms pass (0). cond is asked
 * after every loop iteration. */
int bsync_run_until(struct main_loop *m, cond_fn cond, void *arg, double ms)
{
	double end = bench_now() + ms / 1000;

	while (!cond(arg)) {
		if (bench_now() >= end)
			return 0;
		uv_run(&m->loop, UV_RUN_ONCE);
	}
	return 1;
}

int bsync_never(void *arg)
{
	(void)arg;
	return 0;
}

/* The node's counters. rumor_stats fails only on a bad argument, a bug
 * here, so a failure ends the bench rather than printing wrong figures. */
void bsync_stats(struct rumor *n, struct rumor_stats *st)
{
	rumor_stats_init(st);
	if (rumor_stats(n, st) != 0) {
		fprintf(stderr, "rumor-bench: rumor_stats: %s\n",
			rumor_errmsg(n));
		exit(1);
	}
}

int bsync_has_keys(void *arg)
{
	struct keys_at_least *k = arg;
	struct rumor_stats st;

	bsync_stats(k->n, &st);
	return st.keys >= k->keys;
}

int bsync_is_connected(void *arg)
{
	return bsync_node_connected(arg) >= 1;
}

/* ------------------------------------------------------------ catch-up */


void bsync_pair_close(struct pair *p)
{
	if (p->b != NULL)
		rumor_close(p->b, NULL, NULL);
	p->b = NULL;
	if (p->have_a)
		bsync_worker_stop(&p->a);
	p->have_a = 0;
	if (p->have_m)
		bsync_main_loop_close(&p->m);
	p->have_m = 0;
}

/* Opens A on dir_a (loaded with count keys when count > 0), then B on
 * dir_b seeded with A, and, when count > 0, times B until it holds them. */
int bsync_pair_open(struct pair *p, const struct bench_opts *o,
		    const char *dir_a, const char *dir_b, size_t count,
		    size_t batch)
{
	struct worker_open wo = {dir_a, o, 0};
	struct keys_at_least want;
	double t0, cpu_b0, cpu_a0, cpu_all0;

	memset(p, 0, sizeof *p);
	if (count > 0) {
		p->load_s = bsync_load_node_store(dir_a, count, batch);
		if (p->load_s < 0)
			return -1;
	}
	if (bsync_main_loop_init(&p->m) != 0)
		return -1;
	p->have_m = 1;
	if (bsync_worker_start(&p->a) != 0)
		goto failed;
	p->have_a = 1;
	bsync_worker_call(&p->a, bsync_worker_open_fn, &wo);
	if (wo.rv != 0)
		goto failed;
	bsync_worker_call(&p->a, bsync_worker_cpu_fn, NULL);
	cpu_a0 = p->a.cpu;
	cpu_all0 = bsync_cpu_now(CLOCK_PROCESS_CPUTIME_ID);
	cpu_b0 = bsync_cpu_now(CLOCK_THREAD_CPUTIME_ID);
	t0 = bench_now();
	if (bsync_node_start(&p->b, &p->m.loop, dir_b, p->a.addr, o, NULL) != 0)
		goto failed;
	want.n = p->b;
	want.keys = count;
	/* A generous bound: 10 s plus 1 ms per 20 keys (50 s for 10^6). */
	if (!bsync_run_until(&p->m,
			     count > 0 ? bsync_has_keys : bsync_is_connected,
			     count > 0 ? (void *)&want : (void *)p->b,
			     10000 + (double)count / 20)) {
		fprintf(stderr, "rumor-bench sync: the second node did not %s in time\n",
			count > 0 ? "catch up" : "connect");
		goto failed;
	}
	p->catchup_s = bench_now() - t0;
	p->cpu_b = bsync_cpu_now(CLOCK_THREAD_CPUTIME_ID) - cpu_b0;
	bsync_worker_call(&p->a, bsync_worker_cpu_fn, NULL);
	p->cpu_a = p->a.cpu - cpu_a0;
	p->cpu_other = bsync_cpu_now(CLOCK_PROCESS_CPUTIME_ID) - cpu_all0 -
		       p->cpu_b - p->cpu_a;
	bsync_stats(p->b, &p->b_after);
	return 0;
failed:
	bsync_pair_close(p);
	return -1;
}

