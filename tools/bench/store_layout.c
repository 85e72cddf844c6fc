/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench store layout: what the shape of the store's entries costs
 * LevelDB, without the store: raw WriteBatches of the entries one remote
 * change writes, in today's layout and in candidate ones, beside raw
 * key/value writes of the same keys, in one run. It answers "how much
 * would a schema change buy?" before anyone writes one.
 *
 *   raw      key -> value                          (the limit)
 *   raw-random  the same in random key order       (the anchor of
 *                                                   rumor-bench sync)
 *   schema2  m|key -> head(58) value               today (src/store/format.h)
 *            l|origin(32)|seq -> head(18) key
 *   oidx     m|key -> head(30) value               origin as a 4-byte index
 *            l|oid(4)|seq -> head(18) key
 *   oidx-short  as oidx, the log value without      and the log value
 *            clock and wall_ms: head(2) key         only naming the key
 *
 * The changes come as a catch-up streams them (key order, seqs in random
 * order), in batches of --batch changes, into a fresh LevelDB with the
 * store's options. Figures: bytes a change adds to the WriteBatch (exact),
 * then the best wall time and the least process CPU time of --rounds
 * rounds; the layouts take turns in every round so that all see the same
 * neighbours on a shared machine. --compression 0 shows what Snappy costs
 * each (every layout and raw alike; the store uses Snappy).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <leveldb/c.h>

#include "bench.h"
#include "bench_store.h"
#include "lib/endian.h"
#include "store/store.h"

#define LAYOUT_KEY_BYTES 16
#define LAYOUT_VALUE_BYTES 100

struct layout {
	const char *name;
	size_t meta_head;       /* bytes before the value in an m value */
	size_t log_origin;      /* bytes naming the origin in an l key; 0:
				   no log entry (raw) */
	size_t log_head;        /* bytes before the key in an l value */
	int scrambled;          /* keys in random order, not key order */
};

static const struct layout layouts[] = {
	{"raw", 0, 0, 0, 0},
	{"raw-random", 0, 0, 0, 1},
	{"schema2", 2 + 8 + 8 + 8 + 32, 32, 2 + 8 + 8, 0},
	{"oidx", 2 + 8 + 8 + 8 + 4, 4, 2 + 8 + 8, 0},
	{"oidx-short", 2 + 8 + 8 + 8 + 4, 4, 2, 0},
};
#define N_LAYOUTS (sizeof layouts / sizeof layouts[0])

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Change i of the stream: the i-th key in key order, with a seq that is
 * a bijection of i (catch-ups stream keys in order, seqs at random). */
static void change_key(char key[LAYOUT_KEY_BYTES], size_t i)
{
	static const char hex[] = "0123456789abcdef";
	int d;

	memset(key, 'k', LAYOUT_KEY_BYTES);
	for (d = 0; d < 8; d++)
		key[d] = hex[(i >> (28 - 4 * d)) & 15];
}

/* Writes count changes in layout l into a fresh LevelDB at dir (Snappy
 * compression unless compress is 0); *wall and *cpu get the seconds of
 * the writes, *bytes the WriteBatch bytes a change adds. 0, or -1 with a
 * message. */
static int layout_run(const struct layout *l, const char *dir, size_t count,
		      size_t batch, int compress, double *wall, double *cpu,
		      double *bytes)
{
	leveldb_options_t *options = leveldb_options_create();
	leveldb_cache_t *cache = leveldb_cache_create_lru(STORE_DEFAULT_CACHE_BYTES);
	leveldb_filterpolicy_t *filter =
		leveldb_filterpolicy_create_bloom(STORE_BLOOM_BITS_PER_KEY);
	leveldb_writeoptions_t *wopts = leveldb_writeoptions_create();
	leveldb_writebatch_t *b = leveldb_writebatch_create();
	char key[LAYOUT_KEY_BYTES], mkey[1 + LAYOUT_KEY_BYTES];
	char mval[64 + LAYOUT_VALUE_BYTES], lkey[1 + 32 + 8];
	char lval[32 + LAYOUT_KEY_BYTES];
	char pool[1 << 16];      /* 64 KiB of values to copy from */
	leveldb_t *db;
	char *lerr = NULL;
	double t0, c0;
	size_t i, n, total = 0;
	uint64_t seq;
	int rv = -1;

	leveldb_options_set_create_if_missing(options, 1);
	leveldb_options_set_write_buffer_size(options,
					      STORE_DEFAULT_WRITE_BUFFER_BYTES);
	leveldb_options_set_cache(options, cache);
	leveldb_options_set_filter_policy(options, filter);
	if (!compress)
		leveldb_options_set_compression(options, leveldb_no_compression);
	db = leveldb_open(options, dir, &lerr);
	if (lerr != NULL)
		goto failed;
	memset(mval, 0x5a, sizeof mval);
	bstore_fill_random(pool, sizeof pool, 7);
	memset(lkey, 0xb2, sizeof lkey);
	memset(lval, 0x01, sizeof lval);
	t0 = bench_now();
	c0 = cpu_now();
	for (i = 0, n = 0; i < count; i++) {
		change_key(key, l->scrambled ?
				(uint32_t)((uint32_t)i * 2654435761u) : i);
		/* Incompressible values, made outside the LevelDB calls. */
		memcpy(mval + l->meta_head, pool + (i * 61) % (sizeof pool -
			LAYOUT_VALUE_BYTES), LAYOUT_VALUE_BYTES);
		if (l->log_origin == 0) {
			leveldb_writebatch_put(b, key, sizeof key,
					       mval, LAYOUT_VALUE_BYTES);
			total += sizeof key + LAYOUT_VALUE_BYTES;
		} else {
			mkey[0] = 'm';
			memcpy(mkey + 1, key, sizeof key);
			leveldb_writebatch_put(b, mkey, sizeof mkey, mval,
					       l->meta_head + LAYOUT_VALUE_BYTES);
			seq = 1 + (uint32_t)((uint32_t)i * 2654435761u);
			lkey[0] = 'l';
			endian_put_be64((uint8_t *)lkey + 1 + l->log_origin, seq);
			memcpy(lval + l->log_head, key, sizeof key);
			leveldb_writebatch_put(b, lkey, 1 + l->log_origin + 8,
					       lval, l->log_head + sizeof key);
			total += sizeof mkey + l->meta_head + LAYOUT_VALUE_BYTES +
				 1 + l->log_origin + 8 + l->log_head + sizeof key;
		}
		if (++n == batch || i + 1 == count) {
			leveldb_write(db, wopts, b, &lerr);
			leveldb_writebatch_clear(b);
			n = 0;
			if (lerr != NULL)
				goto failed;
		}
	}
	*wall = bench_now() - t0;
	*cpu = cpu_now() - c0;
	*bytes = (double)total / (double)count;
	rv = 0;
	goto done;
failed:
	fprintf(stderr, "rumor-bench store layout: leveldb %s: %s\n", dir, lerr);
	leveldb_free(lerr);
done:
	if (db != NULL)
		leveldb_close(db);
	leveldb_writebatch_destroy(b);
	leveldb_writeoptions_destroy(wopts);
	leveldb_options_destroy(options);
	leveldb_filterpolicy_destroy(filter);
	leveldb_cache_destroy(cache);
	return rv;
}

int bench_store_layout(int argc, char **argv)
{
	size_t count = 1000000, batch = 1927, rounds = 3, compress = 1, r, k;
	double wall[N_LAYOUTS], cpu[N_LAYOUTS], bytes[N_LAYOUTS], w, c;
	const char *base = getenv("TMPDIR");
	char root[4096], dir[4096 + 64];
	int i, ok = 0;

	for (i = 1; i < argc; i += 2) {
		size_t *dst = NULL, min = 1, max = 0;

		if (strcmp(argv[i], "--count") == 0) {
			dst = &count;
			max = 100000000;
		} else if (strcmp(argv[i], "--batch") == 0) {
			dst = &batch;
			max = STORE_APPLY_MAX;
		} else if (strcmp(argv[i], "--rounds") == 0) {
			dst = &rounds;
			max = 100;
		} else if (strcmp(argv[i], "--compression") == 0) {
			dst = &compress;
			min = 0;
			max = 1;
		}
		if (dst == NULL || i + 1 >= argc ||
		    bench_parse_size(argv[i + 1], min, max, dst) != 0) {
			fprintf(stderr, "usage: rumor-bench store layout [--count N] [--batch B] [--rounds R] [--compression 0|1]\n");
			return 2;
		}
	}
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(root, sizeof root, "%s/rumor-bench-layout-XXXXXX", base);
	if (mkdtemp(root) == NULL) {
		perror("rumor-bench store layout: mkdtemp");
		return 1;
	}
	printf("store layout: %zu changes of a %d-byte key and a %d-byte value, batches of %zu, best of %zu rounds, %s\n",
	       count, LAYOUT_KEY_BYTES, LAYOUT_VALUE_BYTES, batch, rounds,
	       compress ? "Snappy (the store's default)" : "no compression");
	for (k = 0; k < N_LAYOUTS; k++)
		wall[k] = cpu[k] = -1;
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < N_LAYOUTS; k++) {
			snprintf(dir, sizeof dir, "%s/%zu-%s", root, r,
				 layouts[k].name);
			if (layout_run(&layouts[k], dir, count, batch,
				       (int)compress, &w, &c, &bytes[k]) != 0)
				goto done;
			bench_rmrf(dir);
			if (wall[k] < 0 || w < wall[k])
				wall[k] = w;
			if (cpu[k] < 0 || c < cpu[k])
				cpu[k] = c;
		}
	}
	for (k = 0; k < N_LAYOUTS; k++) {
		printf("  %-12s %6.1f bytes/change %9.1f ms %9.1f ms CPU   raw/this: time %.2fx, CPU %.2fx\n",
		       layouts[k].name, bytes[k], wall[k] * 1000, cpu[k] * 1000,
		       wall[0] / wall[k], cpu[0] / cpu[k]);
	}
	printf("  (no targets: what each layout would cost LevelDB alone)\n");
	ok = 1;
done:
	bench_rmrf(root);
	return ok ? 0 : 1;
}
