/* SPDX-License-Identifier: MIT */
/*
 * load: what store_open reads into memory: the singletons of a fresh
 * store, and the one walk over every entry of an existing one (schema,
 * seq counter, HWMs and log bounds per origin, the key and log filters,
 * the tombstone index, intents and outcomes).
 */
#include "store/store_int.h"
#include "lib/array.h"
#include "lib/endian.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh store: the singletons, in one batch. */
static int store_init_fresh(struct store *s, struct err *err)
{
	uint8_t schema[SCHEMA_VALUE_BYTES], seq[SEQ_VALUE_BYTES];
	char *lerr = NULL;

	format_schema_encode(schema, STORE_SCHEMA_VERSION);
	format_u64_encode(seq, 0);
	leveldb_writebatch_clear(s->batch);
	leveldb_writebatch_put(s->batch, SINGLE_SCHEMA, strlen(SINGLE_SCHEMA),
			       (const char *)schema, sizeof schema);
	leveldb_writebatch_put(s->batch, SINGLE_SEQ, strlen(SINGLE_SEQ),
			       (const char *)seq, sizeof seq);
	leveldb_write(s->db, s->wopts, s->batch, &lerr);
	leveldb_writebatch_clear(s->batch);
	if (lerr != NULL)
		return store__db_error(s, lerr, "writing the schema", err);
	return 0;
}

/* What the scan at open gathers beside the memory view. */
struct load {
	int have_schema, have_seq;
	int migrating;          /* load_schema: schema 2 is accepted */
	uint32_t schema;        /* the schema entry's value */
	/* The filters are sized once the keys are counted: the hashes wait
	 * here (8 bytes a key, for the time of the open). */
	uint64_t *hashes;       /* user keys, for the key filter */
	size_t n_hashes, cap_hashes;
	uint64_t *lhashes;      /* log entries, for the log filter */
	size_t n_lhashes, cap_lhashes;
};

static int load_single(struct store *s, const char *k, size_t klen,
		       const char *v, size_t vlen, struct load *l,
		       struct err *err)
{
	uint32_t schema;

	if (klen == strlen(SINGLE_SCHEMA) &&
	    memcmp(k, SINGLE_SCHEMA, klen) == 0) {
		if (format_schema_decode(v, vlen, &schema) != 0)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable schema entry",
				       s->dir);
		l->schema = schema;
		if (schema != STORE_SCHEMA_VERSION &&
		    !(l->migrating && schema == STORE_SCHEMA_VERSION - 1))
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: schema %u, this build reads schema %u",
				       s->dir, (unsigned)schema,
				       (unsigned)STORE_SCHEMA_VERSION);
		l->have_schema = 1;
	} else if (klen == strlen(SINGLE_SEQ) &&
		   memcmp(k, SINGLE_SEQ, klen) == 0) {
		if (format_u64_decode(v, vlen, &s->local_seq) != 0)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable seq counter",
				       s->dir);
		l->have_seq = 1;
	} else if ((klen == strlen(SINGLE_FILTER) &&
		    memcmp(k, SINGLE_FILTER, klen) == 0) ||
		   (klen == strlen(SINGLE_SELF_INCOMPLETE) &&
		    memcmp(k, SINGLE_SELF_INCOMPLETE, klen) == 0)) {
		/* Read before the scan (filter.c). */
	} else if (klen == strlen(SINGLE_FEED_FLOOR) &&
		   memcmp(k, SINGLE_FEED_FLOOR, klen) == 0) {
		if (format_u64_decode(v, vlen, &s->feed_floor) != 0)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable feed floor",
				       s->dir);
	} else if (klen == strlen(SINGLE_CLOCK_FLOOR) &&
		   memcmp(k, SINGLE_CLOCK_FLOOR, klen) == 0) {
		/* Optional: a store that never collected has none (0). */
		if (format_u64_decode(v, vlen, &s->clock_floor) != 0)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable clock floor",
				       s->dir);
	} else {
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: unknown singleton '%.*s'", s->dir,
			       (int)(klen > 32 ? 32 : klen - 1), k + 1);
	}
	return 0;
}

/* Appends h to a growing array of hashes; -1 when out of memory. */
static int load_push(uint64_t **arr, size_t *n, size_t *cap, uint64_t h)
{
	uint64_t *grown;

	if (*n == *cap) {
		grown = array_grow(*arr, cap, *n + 1, sizeof *grown, 1024);
		if (grown == NULL)
			return -1;
		*arr = grown;
	}
	(*arr)[(*n)++] = h;
	return 0;
}

/* One entry of the scan at open, into the memory view and l. */
static int load_entry(struct store *s, const char *k, size_t klen,
		      const char *v, size_t vlen, struct load *l,
		      struct err *err)
{
	struct origin_state *os;
	const uint8_t *origin;
	struct meta m;
	uint64_t seq;
	char hex[41];

	/* LevelDB allows an empty key: it has no prefix byte to read. */
	if (klen == 0)
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: entry with an empty key", s->dir);
	switch (k[0]) {
	case PFX_HWM:
		if (format_hwm_decode(k, klen, v, vlen, &origin, &seq) != 0)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable HWM entry", s->dir);
		os = store__origin_get(s, origin);
		if (os == NULL)
			goto nomem;
		os->hwm = seq;
		return 0;
	case PFX_LOG:
		if (klen != LOG_KEY_BYTES)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable log key", s->dir);
		os = store__origin_get(s, (const uint8_t *)k + 1);
		if (os == NULL)
			goto nomem;
		/* Entries of one origin come in seq order. */
		os->log_max = endian_get_be64((const uint8_t *)k + 1 +
					      STORE_ORIGIN_BYTES);
		s->stats.log_entries++;
		if (load_push(&l->lhashes, &l->n_lhashes, &l->cap_lhashes,
			      store__log_hash(os->origin, os->log_max)) != 0)
			goto nomem;
		return 0;
	case PFX_META:
		if (format_meta_decode(v, vlen, &m) != 0)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable meta for key %s",
				       s->dir, format_key_hex(k + 1, klen - 1, hex));
		if (m.deleted) {
			if (store__tomb_origin(s, m.origin) != 0 ||
			    store__tomb_reserve(s, 1) != 0)
				goto nomem;
			store__tomb_add(s, m.origin, m.seq);
			s->stats.tombstones++;
		} else {
			s->stats.keys++;
		}
		if (load_push(&l->hashes, &l->n_hashes, &l->cap_hashes,
			      bloom_hash(k + 1, klen - 1)) != 0)
			goto nomem;
		return 0;
	case PFX_FEED:
		/* Entries come in position order: the last is the highest. */
		if (format_feed_key_decode(k, klen, &seq) != 0 || vlen == 0 ||
		    vlen > RUMOR_KEY_MAX)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable feed entry", s->dir);
		s->feed_head = seq;
		return 0;
	case PFX_SINGLE:
		return load_single(s, k, klen, v, vlen, l, err);
	case PFX_INTENT:
	case PFX_OUTCOME:
		return store__intent_load(s, k, klen, v, vlen, err);
	default:
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: entry with unknown prefix 0x%02x",
			       s->dir, (unsigned)(uint8_t)k[0]);
	}
nomem:
	return err_set(err, RUMOR_ENOMEM, "store %s: out of memory", s->dir);
}

/* Builds filter b, sized for twice the n hashes found (or the minimum),
 * from them. 0, or -1 when out of memory. */
static int load_filter(struct bloom *b, const uint64_t *hashes, size_t n)
{
	size_t i;

	if (bloom_add_layer(b, n > STORE_FILTER_MIN_KEYS / 2 ?
			       2 * n : STORE_FILTER_MIN_KEYS) != 0)
		return -1;
	for (i = 0; i < n; i++)
		bloom_add(b, hashes[i]);
	return 0;
}

/* The schema entry, read first: an older layout must be refused by name,
 * not stumbled over. *empty is set for a store with no entry at all. */
static int load_schema(struct store *s, leveldb_iterator_t *it, int *empty,
		       struct load *l, struct err *err)
{
	const char *k, *v;
	size_t klen, vlen;
	int rv;

	leveldb_iter_seek_to_first(it);
	*empty = !leveldb_iter_valid(it);
	if (*empty)
		return 0;
	leveldb_iter_seek(it, SINGLE_SCHEMA, strlen(SINGLE_SCHEMA));
	if (leveldb_iter_valid(it)) {
		k = leveldb_iter_key(it, &klen);
		v = leveldb_iter_value(it, &vlen);
		if (klen == strlen(SINGLE_SCHEMA) &&
		    memcmp(k, SINGLE_SCHEMA, klen) == 0) {
			rv = load_single(s, k, klen, v, vlen, l, err);
			if (rv != 0)
				return rv;
		}
	}
	if (!l->have_schema)
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: not a rumor store (no schema entry)",
			       s->dir);
	return 0;
}

/* At open: the schema first, then one scan of everything: singletons,
 * HWMs, per-origin log_max, counts, the filters. */
int store__load(struct store *s, const struct prefixes *filter,
		      struct err *err)
{
	leveldb_iterator_t *it;
	const char *k, *v;
	size_t klen, vlen;
	struct load l;
	char *lerr = NULL;
	int empty, rv;

	memset(&l, 0, sizeof l);
	it = leveldb_create_iterator(s->db, s->ropts);
	l.migrating = 1;
	rv = load_schema(s, it, &empty, &l, err);
	if (rv == 0 && !empty)
		s->schema_found = l.schema;
	if (rv == 0 && empty && s->inspect)
		rv = err_set(err, RUMOR_ECORRUPT,
			     "store %s: not a rumor store (an empty LevelDB)",
			     s->dir);
	if (rv == 0 && !empty && l.schema == STORE_SCHEMA_VERSION - 1) {
		/* The iterator would not see the migration's writes. */
		leveldb_iter_destroy(it);
		rv = store__migrate2(s, err);
		it = leveldb_create_iterator(s->db, s->ropts);
	}
	l.migrating = 0;
	l.have_schema = 0;
	if (rv == 0 && !empty) {
		/* The scan must see the store as the filter leaves it. */
		leveldb_iter_destroy(it);
		rv = store__filter_open(s, filter, 0, err);
		it = leveldb_create_iterator(s->db, s->ropts);
	}
	if (rv != 0)
		goto done;
	for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		v = leveldb_iter_value(it, &vlen);
		rv = load_entry(s, k, klen, v, vlen, &l, err);
		if (rv != 0)
			goto done;
	}
	leveldb_iter_get_error(it, &lerr);
	if (lerr != NULL) {
		rv = store__db_error(s, lerr, "scanning at open", err);
		goto done;
	}
	if (empty) {
		rv = store_init_fresh(s, err);
		if (rv == 0)
			rv = store__filter_open(s, filter, 1, err);
	}
	else if (!l.have_schema || !l.have_seq)
		rv = err_set(err, RUMOR_ECORRUPT,
			     "store %s: not a rumor store (no %s entry)",
			     s->dir, l.have_schema ? "seq" : "schema");
	if (rv != 0)
		goto done;
	if (s->feed_floor > s->feed_head)
		s->feed_head = s->feed_floor;
	if (load_filter(&s->kf, l.hashes, l.n_hashes) != 0 ||
	    load_filter(&s->lf, l.lhashes, l.n_lhashes) != 0)
		rv = err_set(err, RUMOR_ENOMEM, "store %s: out of memory",
			     s->dir);
done:
	free(l.hashes);
	free(l.lhashes);
	leveldb_iter_destroy(it);
	return rv;
}

uint32_t store_schema_found(const struct store *s)
{
	return s->schema_found;
}
