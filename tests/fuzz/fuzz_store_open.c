/* SPDX-License-Identifier: MIT */
/*
 * fuzz_store_open: libFuzzer target for what the store decodes from disk
 * when it opens (src/store/store.c: the schema, the seq counter, the
 * clock floor, HWMs, log keys, metas; the decoders of format.h are
 * fuzzed alone by fuzz_store_format). The input is a list of raw LevelDB
 * entries, each [klen: 2 bytes BE][key][vlen: 3 bytes BE][value]
 * (lengths cut to what is left); they are written into a fresh LevelDB
 * (in /dev/shm when there is one), which the store then opens. Checks:
 * no crash or read out of bounds; open and store_check fail only with
 * RUMOR_ECORRUPT (or RUMOR_ENOMEM) and a message; and a store that
 * checks clean takes a local put and delete (or refuses them with
 * RUMOR_EINVAL, exhausted), checks clean after them and after a reopen.
 * Slow (two LevelDB opens an input): a few hundred runs a second.
 * Seeds (tests/fuzz/corpus/store_open: an empty store, one with writes)
 * are written by the target:
 *   FUZZ_STORE_OPEN_WRITE_SEEDS=tests/fuzz/corpus/store_open \
 *       tests/fuzz/fuzz_store_open -runs=0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A failed property names itself before the crash report. */
#define check(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n",   \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

static char dir[256];
static uint8_t origin[STORE_ORIGIN_BYTES];

static void remove_dir(void)
{
	leveldb_options_t *o = leveldb_options_create();
	char *lerr = NULL;

	leveldb_destroy_db(o, dir, &lerr);
	leveldb_free(lerr);
	leveldb_options_destroy(o);
	rmdir(dir);
}

static struct store *open_store(int *rv, struct err *err);

/* The entries of the store in dir, in the input format, into path. */
static void dump_entries(const char *path)
{
	leveldb_options_t *o = leveldb_options_create();
	leveldb_readoptions_t *ro = leveldb_readoptions_create();
	leveldb_iterator_t *it;
	leveldb_t *db;
	char *lerr = NULL;
	FILE *f = fopen(path, "wb");

	db = leveldb_open(o, dir, &lerr);
	check(f != NULL && db != NULL);
	it = leveldb_create_iterator(db, ro);
	for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		size_t kl, vl;
		const char *k = leveldb_iter_key(it, &kl);
		const char *v = leveldb_iter_value(it, &vl);
		uint8_t h[3];

		h[0] = (uint8_t)(kl >> 8);
		h[1] = (uint8_t)kl;
		fwrite(h, 1, 2, f);
		fwrite(k, 1, kl, f);
		h[0] = (uint8_t)(vl >> 16);
		h[1] = (uint8_t)(vl >> 8);
		h[2] = (uint8_t)vl;
		fwrite(h, 1, 3, f);
		fwrite(v, 1, vl, f);
	}
	leveldb_iter_destroy(it);
	leveldb_close(db);
	leveldb_readoptions_destroy(ro);
	leveldb_options_destroy(o);
	check(fclose(f) == 0);
}

/* Seeds: a store with live keys, a tombstone and a remote version. */
static void write_seeds(const char *out)
{
	static const uint8_t other[STORE_ORIGIN_BYTES] = {0x0b};
	struct rumor_version v;
	struct store_hwm h;
	struct store *s;
	struct err err;
	char path[4096];
	int rv;

	remove_dir();
	s = open_store(&rv, &err);
	check(rv == 0);
	snprintf(path, sizeof path, "%s/empty", out);
	store_close(s);
	dump_entries(path);
	s = open_store(&rv, &err);
	check(rv == 0);
	check(store_put(s, "a", 1, "one", 3, NULL, &err) == 0);
	check(store_put(s, "b", 1, "", 0, NULL, &err) == 0);
	check(store_del(s, "a", 1, NULL, &err) == 0);
	memset(&v, 0, sizeof v);
	v.key = "c";
	v.key_len = 1;
	v.value = "remote";
	v.value_len = 6;
	v.origin = other;
	v.origin_len = sizeof other;
	v.seq = 3;
	v.clock = 9;
	v.wall_ms = 1700000000000ull;
	memcpy(h.origin, other, sizeof other);
	h.seq = 3;
	check(store_apply_batch(s, &v, 1, &h, 1, NULL, &err) == 0);
	store_close(s);
	snprintf(path, sizeof path, "%s/writes", out);
	dump_entries(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *out = getenv("FUZZ_STORE_OPEN_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "%s/rumor-fuzz-store-%ld",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
		 (long)getpid());
	memset(origin, 0x0a, sizeof origin);
	atexit(remove_dir);
	if (out != NULL)
		write_seeds(out);
	return 0;
}

/* Writes the entries of the input into a fresh LevelDB in dir. */
static void write_entries(const uint8_t *p, size_t size)
{
	leveldb_options_t *o = leveldb_options_create();
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	leveldb_writebatch_t *wb = leveldb_writebatch_create();
	leveldb_t *db;
	char *lerr = NULL;

	leveldb_destroy_db(o, dir, &lerr);
	leveldb_free(lerr);
	lerr = NULL;
	leveldb_options_set_create_if_missing(o, 1);
	db = leveldb_open(o, dir, &lerr);
	check(db != NULL && lerr == NULL);
	while (size >= 2) {
		size_t klen = (size_t)p[0] << 8 | p[1], vlen;
		const uint8_t *k, *v;

		p += 2;
		size -= 2;
		klen = klen < size ? klen : size;
		k = p;
		p += klen;
		size -= klen;
		vlen = size >= 3 ? (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2] :
				   0;
		p += size >= 3 ? 3 : size;
		size -= size >= 3 ? 3 : size;
		vlen = vlen < size ? vlen : size;
		v = p;
		p += vlen;
		size -= vlen;
		leveldb_writebatch_put(wb, (const char *)k, klen,
				       (const char *)v, vlen);
	}
	leveldb_write(db, wo, wb, &lerr);
	check(lerr == NULL);
	leveldb_close(db);
	leveldb_writebatch_destroy(wb);
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(o);
}

static int count_cb(void *arg, const uint8_t *o, uint64_t seq)
{
	(void)o;
	(void)seq;
	++*(size_t *)arg;
	return 0;
}

static int log_cb(void *arg, const struct rumor_version *v)
{
	check(v->key_len >= 1 && v->key_len <= RUMOR_KEY_MAX);
	++*(size_t *)arg;
	return 0;
}

static void check_refusal(int rv, const struct err *err)
{
	check(rv == 0 || rv == RUMOR_ECORRUPT || rv == RUMOR_ENOMEM);
	if (rv != 0)
		check(err->code == rv && err->msg[0] != '\0');
}

static struct store *open_store(int *rv, struct err *err)
{
	struct store_options opt;
	struct store *s = NULL;

	memset(&opt, 0, sizeof opt);
	opt.origin = origin;
	opt.cache_bytes = 1u << 20;
	opt.write_buffer_bytes = 1u << 20;
	*rv = store_open(&s, dir, &opt, err);
	return s;
}

/* A clean store takes a write, or refuses it as exhausted. */
static int write_ok(int rv, const struct err *err)
{
	if (rv == RUMOR_EINVAL)
		check(strstr(err->msg, "exhausted") != NULL);
	else
		check(rv == 0);
	return rv == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store *s;
	struct err err;
	size_t n = 0;
	int rv, clean, wrote;

	write_entries(data, size);
	s = open_store(&rv, &err);
	check_refusal(rv, &err);
	if (rv != 0)
		return 0;
	rv = store_check(s, &err);
	check_refusal(rv, &err);
	clean = rv == 0;
	check_refusal(store_hwms(s, NULL, count_cb, &n, &err), &err);
	check_refusal(store_meta_scan(s, NULL, NULL, 0, 0, log_cb, &n, NULL,
				      &err), &err);
	check_refusal(store_log_scan(s, NULL, origin, 0, 0, log_cb, &n, NULL,
				     &err), &err);
	if (!clean) {
		store_close(s);
		return 0;
	}
	wrote = write_ok(store_put(s, "fuzz", 4, "v", 1, NULL, &err), &err);
	wrote |= write_ok(store_del(s, "fuzz", 4, NULL, &err), &err);
	if (wrote)
		check(store_check(s, &err) == 0);
	store_close(s);
	s = open_store(&rv, &err);
	check(rv == 0);
	check(store_check(s, &err) == 0);
	store_close(s);
	return 0;
}
