/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench store: the store's writes beside raw LevelDB writes of the
 * same sizes, in one run, each in a fresh temporary directory:
 *
 *   raw leveldb_put of N single key/values     vs  store_put of N keys
 *   raw leveldb_write of batches of B puts     vs  store_apply_batch of N
 *                                                  remote versions, B a batch
 *
 * Raw LevelDB gets the options the store gives it (Bloom filter, block
 * cache, no sync), so the ratios measure what the store adds: the meta
 * (with the value) and log entries, the HWM, the decision. Every key is new,
 * as when a fresh node catches up: the store's key filter spares the meta
 * read, so overwrites (which read) are not measured here. Two more modes:
 * "store gc" (store_collect_tombstones on a 1M-key store, CPU and reads a
 * call), "store fsync" (put latency beside a store_sync a second) and
 * "store log" (listing each origin's newest log entries, store_log.c).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "bench.h"
#include "bench_store.h"
#include "store/store.h"

#define DEFAULT_COUNT 100000
#define DEFAULT_VALUE_BYTES 100
#define DEFAULT_KEY_BYTES 16
#define DEFAULT_BATCH 1000
#define DEFAULT_ROUNDS 3
#define TARGET_RATIO 0.50

struct bench_opts {
	size_t count;
	size_t value_bytes;
	size_t key_bytes;
	size_t batch;
	size_t rounds;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rumor-bench store [--count N] [--value-bytes B] [--key-bytes K] [--batch M] [--rounds R]\n"
		"       rumor-bench store gc [--keys N] [--calls C] [--tombstones T]\n"
		"       rumor-bench store fsync [--seconds S] [--keys N]\n"
		"       rumor-bench store layout [--count N] [--batch B] [--rounds R]\n"
		"                    [--compression 0|1]\n"
		"       rumor-bench store log [--keys N] [--limit L] [--calls C]\n"
		"  --count N        keys written in each phase (default %d)\n"
		"  --value-bytes B  bytes per value (default %d)\n"
		"  --key-bytes K    bytes per key, at least 8 (default %d)\n"
		"  --batch M        versions per batch in the batched phases (default %d)\n"
		"  --rounds R       rounds, each phase's best is kept (default %d)\n",
		DEFAULT_COUNT, DEFAULT_VALUE_BYTES, DEFAULT_KEY_BYTES,
		DEFAULT_BATCH, DEFAULT_ROUNDS);
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int i;

	o->count = DEFAULT_COUNT;
	o->value_bytes = DEFAULT_VALUE_BYTES;
	o->key_bytes = DEFAULT_KEY_BYTES;
	o->batch = DEFAULT_BATCH;
	o->rounds = DEFAULT_ROUNDS;
	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		size_t *dst = NULL, min = 1, max = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--count") == 0) {
			dst = &o->count;
			max = 100000000;
		} else if (strcmp(a, "--value-bytes") == 0) {
			dst = &o->value_bytes;
			min = 0;
			max = RUMOR_VALUE_MAX;
		} else if (strcmp(a, "--key-bytes") == 0) {
			dst = &o->key_bytes;
			min = 8;
			max = RUMOR_KEY_MAX;
		} else if (strcmp(a, "--batch") == 0) {
			dst = &o->batch;
			max = STORE_APPLY_MAX;
		} else if (strcmp(a, "--rounds") == 0) {
			dst = &o->rounds;
			max = 100;
		}
		if (dst == NULL || i + 1 >= argc ||
		    bench_parse_size(argv[i + 1], min, max, dst) != 0) {
			fprintf(stderr, "rumor-bench store: bad option or value at '%s'\n",
				a);
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

/* Key i: its index scrambled (so writes land in random key order, as
 * they do in use), as hex, padded to the key size. Distinct for i < 2^32. */
void bstore_make_key(char *buf, size_t key_bytes, size_t i)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t x = (uint32_t)i * 2654435761u;
	int d;

	memset(buf, 'k', key_bytes);
	for (d = 0; d < 8; d++)
		buf[d] = hex[(x >> (28 - 4 * d)) & 15];
}

/* Incompressible bytes, so that Snappy does not flatter either side. */
void bstore_fill_random(char *buf, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (char)(x >> 24);
	}
}

/* The store's LevelDB options (see store_open). */
struct raw_db {
	leveldb_t *db;
	leveldb_options_t *options;
	leveldb_cache_t *cache;
	leveldb_filterpolicy_t *filter;
	leveldb_writeoptions_t *wopts;
};

static int raw_open(struct raw_db *r, const char *dir)
{
	char *lerr = NULL;

	r->options = leveldb_options_create();
	leveldb_options_set_create_if_missing(r->options, 1);
	leveldb_options_set_write_buffer_size(r->options,
					      STORE_DEFAULT_WRITE_BUFFER_BYTES);
	r->cache = leveldb_cache_create_lru(STORE_DEFAULT_CACHE_BYTES);
	leveldb_options_set_cache(r->options, r->cache);
	r->filter = leveldb_filterpolicy_create_bloom(STORE_BLOOM_BITS_PER_KEY);
	leveldb_options_set_filter_policy(r->options, r->filter);
	r->wopts = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(r->wopts, 0);
	r->db = leveldb_open(r->options, dir, &lerr);
	if (lerr != NULL) {
		fprintf(stderr, "rumor-bench store: leveldb_open %s: %s\n", dir,
			lerr);
		leveldb_free(lerr);
		return -1;
	}
	return 0;
}

static void raw_close(struct raw_db *r)
{
	if (r->db != NULL)
		leveldb_close(r->db);
	leveldb_writeoptions_destroy(r->wopts);
	leveldb_options_destroy(r->options);
	leveldb_filterpolicy_destroy(r->filter);
	leveldb_cache_destroy(r->cache);
}

static double bench_raw_single(const struct bench_opts *o, const char *dir,
			       char *key, const char *value)
{
	struct raw_db r;
	char *lerr = NULL;
	double t0, t;
	size_t i;

	if (raw_open(&r, dir) != 0) {
		raw_close(&r);
		return -1;
	}
	t0 = bench_now();
	for (i = 0; i < o->count; i++) {
		bstore_make_key(key, o->key_bytes, i);
		leveldb_put(r.db, r.wopts, key, o->key_bytes, value,
			    o->value_bytes, &lerr);
		if (lerr != NULL) {
			fprintf(stderr, "rumor-bench store: leveldb_put: %s\n",
				lerr);
			leveldb_free(lerr);
			raw_close(&r);
			return -1;
		}
	}
	t = bench_now() - t0;
	raw_close(&r);
	return (double)o->count / t;
}

static double bench_raw_batched(const struct bench_opts *o, const char *dir,
				char *key, const char *value)
{
	leveldb_writebatch_t *b = leveldb_writebatch_create();
	struct raw_db r;
	char *lerr = NULL;
	double t0, t;
	size_t i;

	if (raw_open(&r, dir) != 0) {
		raw_close(&r);
		leveldb_writebatch_destroy(b);
		return -1;
	}
	t0 = bench_now();
	for (i = 0; i < o->count; i++) {
		bstore_make_key(key, o->key_bytes, i);
		leveldb_writebatch_put(b, key, o->key_bytes, value,
				       o->value_bytes);
		if ((i + 1) % o->batch != 0 && i + 1 != o->count)
			continue;
		leveldb_write(r.db, r.wopts, b, &lerr);
		leveldb_writebatch_clear(b);
		if (lerr != NULL) {
			fprintf(stderr, "rumor-bench store: leveldb_write: %s\n",
				lerr);
			leveldb_free(lerr);
			break;
		}
	}
	t = bench_now() - t0;
	raw_close(&r);
	leveldb_writebatch_destroy(b);
	return i == o->count ? (double)o->count / t : -1;
}

int bstore_open(struct store **s, const char *dir, const uint8_t *origin)
{
	struct store_options so;
	struct err e = {0};

	memset(&so, 0, sizeof so);
	so.origin = origin;
	if (store_open(s, dir, &so, &e) != 0) {
		fprintf(stderr, "rumor-bench store: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static double bench_store_put(const struct bench_opts *o, const char *dir,
			      char *key, const char *value)
{
	uint8_t origin[STORE_ORIGIN_BYTES];
	struct store *s;
	struct err e = {0};
	double t0, t;
	size_t i;

	memset(origin, 0xa1, sizeof origin);
	if (bstore_open(&s, dir, origin) != 0)
		return -1;
	t0 = bench_now();
	for (i = 0; i < o->count; i++) {
		bstore_make_key(key, o->key_bytes, i);
		if (store_put(s, key, o->key_bytes, value, o->value_bytes, NULL,
			      &e) != 0) {
			fprintf(stderr, "rumor-bench store: store_put: %s\n",
				e.msg);
			store_close(s);
			return -1;
		}
	}
	t = bench_now() - t0;
	store_close(s);
	return (double)o->count / t;
}

static double bench_store_apply(const struct bench_opts *o, const char *dir,
				const char *value)
{
	uint8_t own[STORE_ORIGIN_BYTES], remote[STORE_ORIGIN_BYTES];
	struct rumor_version *vs;
	struct store_hwm raise;
	struct store *s;
	struct err e = {0};
	char *keys;
	double t0, t = 0;
	size_t i, j, n;
	int rv = 0;

	memset(own, 0xa1, sizeof own);
	memset(remote, 0xb2, sizeof remote);
	vs = calloc(o->batch, sizeof *vs);
	keys = malloc(o->batch * o->key_bytes);
	if (vs == NULL || keys == NULL || bstore_open(&s, dir, own) != 0) {
		free(vs);
		free(keys);
		return -1;
	}
	memcpy(raise.origin, remote, sizeof remote);
	for (i = 0; i < o->count && rv == 0; i += n) {
		n = o->count - i < o->batch ? o->count - i : o->batch;
		/* Building the batch is the peer's work, not the store's:
		 * only store_apply_batch is timed. */
		for (j = 0; j < n; j++) {
			char *k = keys + j * o->key_bytes;

			bstore_make_key(k, o->key_bytes, i + j);
			vs[j].key = k;
			vs[j].key_len = o->key_bytes;
			vs[j].value = value;
			vs[j].value_len = o->value_bytes;
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
	}
	if (rv != 0)
		fprintf(stderr, "rumor-bench store: store_apply_batch: %s\n",
			e.msg);
	store_close(s);
	free(vs);
	free(keys);
	return rv == 0 ? (double)o->count / t : -1;
}


int bench_store_main(int argc, char **argv)
{
	struct bench_opts o;
	const char *base = getenv("TMPDIR");
	char root[4096], dir[4096 + 64];
	char *key = NULL, *value = NULL;
	double raw1, put, raw2, apply, rate;
	size_t r;
	int ok = 1;

	if (argc > 1 && strcmp(argv[1], "gc") == 0)
		return bench_store_gc(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "fsync") == 0)
		return bench_store_fsync(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "layout") == 0)
		return bench_store_layout(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "log") == 0)
		return bench_store_log(argc - 1, argv + 1);
	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(root, sizeof root, "%s/rumor-bench-store-XXXXXX", base);
	if (mkdtemp(root) == NULL) {
		perror("rumor-bench store: mkdtemp");
		return 1;
	}
	key = malloc(o.key_bytes);
	value = malloc(o.value_bytes + 1);
	if (key == NULL || value == NULL) {
		fprintf(stderr, "rumor-bench store: out of memory\n");
		ok = -1;
		goto done;
	}
	bstore_fill_random(value, o.value_bytes, 42);

	printf("store: %zu keys of %zu bytes, values of %zu bytes, batches of %zu, best of %zu rounds\n",
	       o.count, o.key_bytes, o.value_bytes, o.batch, o.rounds);
	/* Other processes share the machine: each phase keeps its best round,
	 * and raw and store phases alternate so that both see the same
	 * weather. */
	raw1 = put = raw2 = apply = 0;
	for (r = 0; r < o.rounds; r++) {
		snprintf(dir, sizeof dir, "%s/%zu-raw-single", root, r);
		rate = bench_raw_single(&o, dir, key, value);
		raw1 = rate > raw1 ? rate : raw1;
		snprintf(dir, sizeof dir, "%s/%zu-store-put", root, r);
		rate = bench_store_put(&o, dir, key, value);
		put = rate > put ? rate : put;
		snprintf(dir, sizeof dir, "%s/%zu-raw-batched", root, r);
		rate = bench_raw_batched(&o, dir, key, value);
		raw2 = rate > raw2 ? rate : raw2;
		snprintf(dir, sizeof dir, "%s/%zu-store-apply", root, r);
		rate = bench_store_apply(&o, dir, value);
		apply = rate > apply ? rate : apply;
		if (raw1 <= 0 || put <= 0 || raw2 <= 0 || apply <= 0) {
			ok = -1;
			goto done;
		}
		/* The next round starts from empty disks again. */
		bench_rmrf(root);
		mkdir(root, 0700);
	}
	bench_report("raw leveldb_put (single)", raw1, "ops/s");
	bench_report("store_put (local, logged)", put, "ops/s");
	bench_report("raw leveldb_write (batched)", raw2, "ops/s");
	bench_report("store_apply_batch (remote)", apply, "versions/s");
	ok &= bench_ratio("store_put / raw put", put / raw1, TARGET_RATIO);
	ok &= bench_ratio("store_apply_batch / raw batched write",
			  apply / raw2, TARGET_RATIO);
done:
	free(key);
	free(value);
	if (bench_rmrf(root) != 0)
		fprintf(stderr, "rumor-bench store: could not remove %s\n", root);
	return ok == 1 ? 0 : 1;
}
