/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench store gc | fsync: the store's upkeep on the loop. gc: the
 * CPU and the reads of one tombstone collection call on a 1M-key store,
 * with no tombstone and with a few. fsync: put latencies while another
 * thread calls store_sync once a second, against none.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_store.h"
#include "store/store.h"

/* ------------------------------------------------------------ gc */

/* CPU time of the calling thread: the loop's cost, without LevelDB's
 * background compaction threads. */
static double thread_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int covered_never(void *arg, const uint8_t *origin, uint64_t seq)
{
	(void)arg;
	(void)origin;
	(void)seq;
	return 0;
}

static int covered_always(void *arg, const uint8_t *origin, uint64_t seq)
{
	(void)arg;
	(void)origin;
	(void)seq;
	return 1;
}

/* Fills s with n keys of value_bytes, 1,000 a batch. */
static int gc_fill(struct store *s, size_t n, size_t key_bytes,
		   const char *value, size_t value_bytes)
{
	struct store_op ops[1000];
	char *keys = malloc(1000 * key_bytes);
	struct err e = {0};
	size_t i, j, m;
	int rv = 0;

	if (keys == NULL)
		return -1;
	for (i = 0; i < n && rv == 0; i += m) {
		m = n - i < 1000 ? n - i : 1000;
		for (j = 0; j < m; j++) {
			bstore_make_key(keys + j * key_bytes, key_bytes, i + j);
			ops[j].key = keys + j * key_bytes;
			ops[j].key_len = key_bytes;
			ops[j].value = value;
			ops[j].value_len = value_bytes;
			ops[j].del = 0;
		}
		rv = store_write_batch(s, ops, m, NULL, &e);
	}
	if (rv != 0)
		fprintf(stderr, "rumor-bench store gc: %s\n", e.msg);
	free(keys);
	return rv;
}

/* calls collections with covered; prints CPU time and reads per call. */
static int gc_measure(struct store *s, const char *name, size_t calls,
		      store_covered_cb covered)
{
	struct store_stats a, b;
	struct err e = {0};
	size_t i, removed, total = 0;
	double t0, cpu;

	store_get_stats(s, &a);
	t0 = thread_cpu_now();
	for (i = 0; i < calls; i++) {
		if (store_collect_tombstones(s, covered, NULL, 0, &removed,
					     &e) != 0) {
			fprintf(stderr, "rumor-bench store gc: %s\n", e.msg);
			return -1;
		}
		total += removed;
	}
	cpu = thread_cpu_now() - t0;
	store_get_stats(s, &b);
	printf("  %-34s %10.1f us CPU/call %10.1f reads/call %10.1f cache reads/call  (%zu removed)\n",
	       name, cpu * 1e6 / (double)calls,
	       (double)(b.gc_reads - a.gc_reads) / (double)calls,
	       (double)(b.gc_cache_reads - a.gc_cache_reads) / (double)calls,
	       total);
	return 0;
}

/* rumor-bench store gc: the cost of store_collect_tombstones on a large
 * store, as the node calls it (every 500 ms), with no tombstone and with a
 * few that no member has seen yet, then the call that collects them. */
int bench_store_gc(int argc, char **argv)
{
	size_t keys = 1000000, calls = 20, tombs = 5, i;
	uint8_t origin[STORE_ORIGIN_BYTES];
	const char *base = getenv("TMPDIR");
	char root[4096], key[16], value[100];
	struct store *s = NULL;
	struct err e = {0};
	int rv = -1;

	for (i = 1; i + 1 < (size_t)argc; i += 2) {
		size_t *dst = strcmp(argv[i], "--keys") == 0 ? &keys :
			      strcmp(argv[i], "--calls") == 0 ? &calls :
			      strcmp(argv[i], "--tombstones") == 0 ? &tombs : NULL;

		if (dst == NULL ||
		    bench_parse_size(argv[i + 1], 1, 100000000, dst) != 0)
			break;
	}
	if (i != (size_t)argc) {
		fprintf(stderr, "usage: rumor-bench store gc [--keys N] [--calls C] [--tombstones T]\n");
		return 2;
	}
	snprintf(root, sizeof root, "%s/rumor-bench-gc-XXXXXX",
		 base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror("rumor-bench store gc: mkdtemp");
		return 1;
	}
	memset(origin, 0xa1, sizeof origin);
	bstore_fill_random(value, sizeof value, 7);
	printf("store gc: %zu keys, values of %zu bytes, %zu calls a phase\n",
	       keys, sizeof value, calls);
	if (bstore_open(&s, root, origin) != 0 ||
	    gc_fill(s, keys, sizeof key, value, sizeof value) != 0)
		goto done;
	/* From disk, as a node that has run a while: a fresh open. */
	store_close(s);
	if (bstore_open(&s, root, origin) != 0)
		goto done;
	if (gc_measure(s, "no tombstone", calls, covered_never) != 0)
		goto done;
	for (i = 0; i < tombs; i++) {
		bstore_make_key(key, sizeof key, i * (keys / tombs));
		if (store_del(s, key, sizeof key, NULL, &e) != 0) {
			fprintf(stderr, "rumor-bench store gc: %s\n", e.msg);
			goto done;
		}
	}
	if (gc_measure(s, "a few, not yet seen by all", calls,
		       covered_never) != 0 ||
	    gc_measure(s, "a few, collected", 1, covered_always) != 0)
		goto done;
	rv = 0;
done:
	store_close(s);
	if (bench_rmrf(root) != 0)
		fprintf(stderr, "rumor-bench store gc: could not remove %s\n",
			root);
	return rv == 0 ? 0 : 1;
}

/* ------------------------------------------------------------ fsync */

/* Put latencies: 100 ns buckets up to 100 us, then one bucket a power
 * of two up to 2^40 ns. */
#define LAT_LINEAR 1000u
#define LAT_LOG 48u

struct lat_hist {
	uint64_t linear[LAT_LINEAR];
	uint64_t log2[LAT_LOG];
	uint64_t n, max_ns;
};

static void lat_add(struct lat_hist *h, uint64_t ns)
{
	unsigned b = 0;

	h->n++;
	if (ns > h->max_ns)
		h->max_ns = ns;
	if (ns < 100u * LAT_LINEAR) {
		h->linear[ns / 100u]++;
		return;
	}
	while (b + 1 < LAT_LOG && (ns >> (b + 1)) != 0)
		b++;
	h->log2[b]++;
}

/* The latency (ns) below which a fraction q of the puts fell: the upper
 * edge of the bucket the q-th put is in. */
static double lat_quantile(const struct lat_hist *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;
	unsigned i;

	for (i = 0; i < LAT_LINEAR; i++) {
		seen += h->linear[i];
		if (seen > want)
			return 100.0 * (i + 1);
	}
	for (i = 0; i < LAT_LOG; i++) {
		seen += h->log2[i];
		if (seen > want)
			return (double)(2ull << i);
	}
	return (double)h->max_ns;
}

struct syncer {
	struct store *s;
	atomic_int stop;
	atomic_uint gen;        /* odd while a store_sync runs */
	size_t n;
	double total, max;
	int failed;
};

/* The everysec policy of rumord: store_sync once a second, from its own
 * thread (the node runs it on a libuv worker). The second between syncs
 * is the workload's pace, so it is slept, not waited for. */
static void *syncer_main(void *arg)
{
	struct syncer *y = arg;
	struct timespec second = {1, 0};
	struct err e = {0};
	double t0, t;

	while (!atomic_load(&y->stop)) {
		nanosleep(&second, NULL);
		if (atomic_load(&y->stop))
			break;
		atomic_fetch_add(&y->gen, 1);
		t0 = bench_now();
		if (store_sync(y->s, &e) != 0) {
			fprintf(stderr, "rumor-bench store fsync: %s\n", e.msg);
			y->failed = 1;
			break;
		}
		t = bench_now() - t0;
		atomic_fetch_add(&y->gen, 1);
		y->n++;
		y->total += t;
		y->max = t > y->max ? t : y->max;
	}
	return NULL;
}

/* One run: puts for seconds over keys keys (cycling), latencies into h,
 * and those of the puts that overlapped a store_sync also into hs; with a
 * syncer thread when with_sync. */
static int fsync_run(const char *dir, double seconds, size_t keys,
		     int with_sync, struct lat_hist *h, struct lat_hist *hs,
		     struct syncer *y)
{
	unsigned g0, g1;
	uint8_t origin[STORE_ORIGIN_BYTES];
	char key[16], value[100];
	struct store *s;
	struct err e = {0};
	pthread_t th;
	double t0, a, b;
	size_t i;
	int rv = 0;

	memset(origin, 0xa1, sizeof origin);
	bstore_fill_random(value, sizeof value, 9);
	if (bstore_open(&s, dir, origin) != 0)
		return -1;
	memset(y, 0, sizeof *y);
	y->s = s;
	atomic_init(&y->stop, 0);
	atomic_init(&y->gen, 0);
	if (with_sync && pthread_create(&th, NULL, syncer_main, y) != 0) {
		store_close(s);
		return -1;
	}
	t0 = bench_now();
	for (i = 0;; i++) {
		bstore_make_key(key, sizeof key, i % keys);
		g0 = atomic_load(&y->gen);
		a = bench_now();
		if (store_put(s, key, sizeof key, value, sizeof value, NULL,
			      &e) != 0) {
			fprintf(stderr, "rumor-bench store fsync: %s\n", e.msg);
			rv = -1;
			break;
		}
		b = bench_now();
		g1 = atomic_load(&y->gen);
		lat_add(h, (uint64_t)((b - a) * 1e9));
		if ((g0 & 1u) != 0 || g0 != g1)
			lat_add(hs, (uint64_t)((b - a) * 1e9));
		if (b - t0 >= seconds)
			break;
	}
	atomic_store(&y->stop, 1);
	if (with_sync)
		pthread_join(th, NULL);
	store_close(s);
	return rv == 0 && !y->failed ? 0 : -1;
}

static void fsync_report(const char *name, const struct lat_hist *h,
			 double seconds)
{
	printf("  %-26s %9.0f puts/s  p50 %7.1f us  p99 %7.1f us  p99.9 %8.1f us  max %9.1f us\n",
	       name, (double)h->n / seconds, lat_quantile(h, 0.50) / 1e3,
	       lat_quantile(h, 0.99) / 1e3, lat_quantile(h, 0.999) / 1e3,
	       (double)h->max_ns / 1e3);
}

/* rumor-bench store fsync: store_put latency of one writer at full speed,
 * alone and while another thread calls store_sync once a second (rumord's
 * everysec policy). */
int bench_store_fsync(int argc, char **argv)
{
	size_t seconds = 10, keys = 200000, i;
	const char *base = getenv("TMPDIR");
	char root[4096], dir[4096 + 32];
	struct lat_hist *h, *hs;
	struct syncer y;
	int rv = 0, with;

	for (i = 1; i + 1 < (size_t)argc; i += 2) {
		size_t *dst = strcmp(argv[i], "--seconds") == 0 ? &seconds :
			      strcmp(argv[i], "--keys") == 0 ? &keys : NULL;

		if (dst == NULL ||
		    bench_parse_size(argv[i + 1], 1, 100000000, dst) != 0)
			break;
	}
	if (i != (size_t)argc) {
		fprintf(stderr, "usage: rumor-bench store fsync [--seconds S] [--keys N]\n");
		return 2;
	}
	snprintf(root, sizeof root, "%s/rumor-bench-fsync-XXXXXX",
		 base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror("rumor-bench store fsync: mkdtemp");
		return 1;
	}
	h = malloc(sizeof *h);
	hs = malloc(sizeof *hs);
	if (h == NULL || hs == NULL) {
		free(h);
		free(hs);
		bench_rmrf(root);
		return 1;
	}
	printf("store fsync: one writer, %zu s a run, %zu keys overwritten in turn, 100-byte values, in %s\n",
	       seconds, keys, root);
	for (with = 0; with < 2 && rv == 0; with++) {
		memset(h, 0, sizeof *h);
		memset(hs, 0, sizeof *hs);
		snprintf(dir, sizeof dir, "%s/%d", root, with);
		rv = fsync_run(dir, (double)seconds, keys, with, h, hs, &y);
		if (rv != 0)
			break;
		fsync_report(with ? "all, store_sync every 1 s" : "all, no sync",
			     h, (double)seconds);
		if (!with)
			continue;
		/* The stall, if any, is in these: their max is the fsync's
		 * length when writers queue behind it. */
		fsync_report("those during a store_sync", hs, (double)seconds);
		if (y.n > 0)
			printf("  %zu syncs: mean %.1f ms, max %.1f ms\n", y.n,
			       y.total * 1e3 / (double)y.n, y.max * 1e3);
	}
	free(h);
	free(hs);
	if (bench_rmrf(root) != 0)
		fprintf(stderr, "rumor-bench store fsync: could not remove %s\n",
			root);
	return rv == 0 ? 0 : 1;
}
