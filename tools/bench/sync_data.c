/* SPDX-License-Identifier: MIT */
/* rumor-bench sync: keys and values, files, raw LevelDB; declarations
 * in bench_sync.h. */
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


/* ------------------------------------------------------------ data */

/* Key i: its index scrambled (writes land in random key order, as in
 * use), as hex, padded to KEY_BYTES. Distinct for i < 2^32. */
void bsync_make_key(char *buf, uint32_t i)
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
void bsync_make_value(char *buf, uint32_t i)
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
size_t bsync_batch_entries(void)
{
	char key[KEY_BYTES], value[VALUE_BYTES];
	struct wire_entry e;
	size_t n;

	memset(&e, 0, sizeof e);
	bsync_make_key(key, 1);
	bsync_make_value(value, 1);
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
double bsync_cpu_now(clockid_t which)
{
	struct timespec ts;

	clock_gettime(which, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ files */

/* root/name, in a static-size buffer the caller gives. */
const char *bsync_path_in(char *buf, size_t len, const char *root,
			  const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
	return buf;
}

/* ------------------------------------------------------------ raw LevelDB */

/* Writes keys [first, first + count) with their values into a fresh
 * LevelDB at dir, with the store's options, in WriteBatches of batch
 * puts. Only the batch puts and writes are timed (building keys and
 * values is the sender's work). Returns the seconds, or -1; *cpu_s (if
 * not NULL) gets the CPU seconds of the whole process from the open to
 * the last write (LevelDB's background work meanwhile included). */
double bsync_raw_batched_write(const char *dir, uint32_t first,
			       size_t count, size_t batch, double *cpu_s)
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
	double t = 0, t0, cpu0 = bsync_cpu_now(CLOCK_PROCESS_CPUTIME_ID);
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

			bsync_make_key(kv, first + (uint32_t)(i + j));
			bsync_make_value(kv + KEY_BYTES,
					 first + (uint32_t)(i + j));
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
	if (cpu_s != NULL)
		*cpu_s = bsync_cpu_now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
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

/* The best of RAW_ROUNDS bsync_raw_batched_write() of keys [0, count) into a
 * fresh dir each time (the machine is shared: the best is the limit);
 * *cpu_s (if not NULL) gets the least CPU seconds of the rounds. */
double bsync_raw_best(const char *dir, size_t count, size_t batch,
		      double *cpu_s)
{
	double best = -1, t, cpu = 0, best_cpu = -1;
	int r;

	for (r = 0; r < RAW_ROUNDS; r++) {
		t = bsync_raw_batched_write(dir, KEYS_MAIN, count, batch, &cpu);
		bench_rmrf(dir);
		if (t < 0)
			return -1;
		if (best < 0 || t < best)
			best = t;
		if (best_cpu < 0 || cpu < best_cpu)
			best_cpu = cpu;
	}
	if (cpu_s != NULL)
		*cpu_s = best_cpu;
	return best;
}

/* Fills the store of a node-to-be (dir is its data dir) with keys [0,
 * count) as versions of a foreign origin, in store_apply_batch calls of
 * batch versions: the store's own work in a catch-up, without the
 * network. Returns the seconds spent in store_apply_batch, or -1. */
double bsync_load_node_store(const char *dir, size_t count, size_t batch)
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
	bsync_path_in(db, sizeof db, dir, NODE_DB_DIR);
	if (store_open(&s, db, &so, &e) != 0)
		goto done;
	memcpy(raise.origin, remote, sizeof remote);
	for (i = 0; i < count; i += n) {
		n = count - i < batch ? count - i : batch;
		for (j = 0; j < n; j++) {
			char *kv = buf + j * (KEY_BYTES + VALUE_BYTES);

			bsync_make_key(kv, KEYS_MAIN + (uint32_t)(i + j));
			bsync_make_value(kv + KEY_BYTES,
					 KEYS_MAIN + (uint32_t)(i + j));
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

