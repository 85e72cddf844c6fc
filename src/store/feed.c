/* SPDX-License-Identifier: MIT */
/*
 * store feed: the change feed (f | pos -> key; store.h says what it
 * holds), its reads (store_feed_scan), and the migration of a schema 2
 * store, which had no positions.
 *
 * The feed is compacted like the log: a change of a key deletes the key's
 * previous f entry in the change's own WriteBatch, so that the feed holds
 * one entry per stored key. The old position is in the meta the write
 * reads anyway: a change costs one more put and one more delete, no read.
 */
#include "store/store_int.h"
#include "lib/endian.h"

#include <stdlib.h>
#include <string.h>

void store__feed_put(struct store *s, uint64_t pos, const void *key,
		     size_t key_len)
{
	char fk[FEED_KEY_BYTES];

	format_feed_key(fk, pos);
	leveldb_writebatch_put(s->batch, fk, sizeof fk, key, key_len);
}

void store__feed_del(struct store *s, uint64_t pos)
{
	char fk[FEED_KEY_BYTES];

	format_feed_key(fk, pos);
	leveldb_writebatch_delete(s->batch, fk, sizeof fk);
}

uint64_t store_feed_head(const struct store *s)
{
	return s->feed_head;
}

uint64_t store_feed_floor(const struct store *s)
{
	return s->feed_floor;
}

/* One entry of store_feed_scan: the key's meta, given to cb when it is
 * still the change at pos. *gave says whether cb was called. */
static int feed_entry(struct store *s, uint64_t pos, const char *key,
		      size_t key_len, store_feed_cb cb, void *arg, int *gave,
		      int *stop, struct err *err)
{
	struct rumor_version v;
	struct meta m;
	char *raw = NULL;
	size_t klen;
	int rv, found;
	char hex[41];

	*gave = 0;
	klen = store__kbuf_set(s, PFX_META, key, key_len);
	rv = store__meta_read(s, s->ropts, klen, &m, &found, &raw, err);
	if (rv != 0)
		return rv;
	if (!found) {
		leveldb_free(raw);
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: feed entry %llu of a key without meta (%s)",
			       s->dir, (unsigned long long)pos,
			       format_key_hex(key, key_len, hex));
	}
	/* Replaced since the scan began: it comes again at its new place. */
	if (m.pos == pos) {
		store__version_of_meta(&v, key, key_len, &m);
		*gave = 1;
		s->in_hook++;
		*stop = cb(arg, pos, &v);
		s->in_hook--;
	}
	leveldb_free(raw);
	return 0;
}

int store_feed_scan(struct store *s, uint64_t after, size_t max,
		    store_feed_cb cb, void *arg, uint64_t *last, int *at_end,
		    struct err *err)
{
	leveldb_iterator_t *it;
	char fk[FEED_KEY_BYTES], key[RUMOR_KEY_MAX];
	const char *k, *v;
	size_t klen, vlen, given = 0;
	uint64_t pos = after;
	char *lerr = NULL;
	int rv = 0, stop = 0, gave, end = 1;

	if (s == NULL || cb == NULL)
		return err_set(err, RUMOR_EINVAL, "store_feed_scan: NULL argument");
	if (last != NULL)
		*last = after;
	if (at_end != NULL)
		*at_end = 0;
	if (after == UINT64_MAX)
		goto out;
	it = leveldb_create_iterator(s->db, s->ropts);
	format_feed_key(fk, after + 1);
	for (leveldb_iter_seek(it, fk, sizeof fk); leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		if (stop || (max != 0 && given >= max)) {
			end = 0;
			break;
		}
		k = leveldb_iter_key(it, &klen);
		if (klen == 0 || k[0] != PFX_FEED)
			break;
		v = leveldb_iter_value(it, &vlen);
		if (format_feed_key_decode(k, klen, &pos) != 0 || vlen == 0 ||
		    vlen > RUMOR_KEY_MAX) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable feed entry", s->dir);
			break;
		}
		/* The meta read reuses s->kbuf; the iterator's bytes stay
		 * valid until it moves, but a callback may write. */
		memcpy(key, v, vlen);
		rv = feed_entry(s, pos, key, vlen, cb, arg, &gave, &stop, err);
		if (rv != 0)
			break;
		given += gave;
		if (last != NULL)
			*last = pos;
	}
	if (rv == 0) {
		leveldb_iter_get_error(it, &lerr);
		if (lerr != NULL)
			rv = store__db_error(s, lerr, "reading the feed", err);
	}
	leveldb_iter_destroy(it);
	if (rv == 0 && stop)
		end = 0;
out:
	if (rv == 0 && at_end != NULL)
		*at_end = end;
	return rv;
}

/* ------------------------------------------------------------ migration */

/* Schema 2 -> 3: every meta in key order gets position 1, 2, ... and its
 * f entry, STORE_MIGRATE_BATCH metas a batch; the schema entry goes last,
 * alone. A crash midway leaves schema 2 with some metas in format 3 (and
 * their f entries): the next open does it all again, and gives each key
 * the same position (the keys are the same, in the same order), so the
 * entries written before are overwritten with themselves. */
int store__migrate2(struct store *s, struct err *err)
{
	uint8_t schema[SCHEMA_VALUE_BYTES];
	leveldb_iterator_t *it;
	const char *k, *v;
	size_t klen, vlen, in_batch = 0;
	uint64_t pos = 0;
	struct meta m;
	char *lerr = NULL;
	char hex[41];
	int rv = 0;

	leveldb_writebatch_clear(s->batch);
	it = leveldb_create_iterator(s->db, s->ropts);
	for (leveldb_iter_seek(it, "m", 1); leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen == 0 || k[0] != PFX_META)
			break;
		v = leveldb_iter_value(it, &vlen);
		if (klen < 2 || klen > 1 + RUMOR_KEY_MAX ||
		    (format_meta2_decode(v, vlen, &m) != 0 &&
		     format_meta_decode(v, vlen, &m) != 0)) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: schema 2 upgrade: unreadable meta for key %s",
				     s->dir, format_key_hex(k + 1, klen - 1, hex));
			break;
		}
		m.pos = ++pos;
		store__kbuf_set(s, PFX_META, k + 1, klen - 1);
		rv = store__meta_put(s, klen, &m, m.value, m.value_len, err);
		if (rv != 0)
			break;
		store__feed_put(s, pos, k + 1, klen - 1);
		if (++in_batch == STORE_MIGRATE_BATCH) {
			rv = store__commit(s, "schema 2 upgrade", err);
			if (rv != 0)
				break;
			in_batch = 0;
		}
	}
	if (rv == 0) {
		leveldb_iter_get_error(it, &lerr);
		if (lerr != NULL)
			rv = store__db_error(s, lerr, "schema 2 upgrade", err);
	}
	leveldb_iter_destroy(it);
	if (rv == 0 && in_batch > 0)
		rv = store__commit(s, "schema 2 upgrade", err);
	if (rv != 0) {
		leveldb_writebatch_clear(s->batch);
		return rv;
	}
	format_schema_encode(schema, STORE_SCHEMA_VERSION);
	leveldb_writebatch_put(s->batch, SINGLE_SCHEMA, strlen(SINGLE_SCHEMA),
			       (const char *)schema, sizeof schema);
	return store__commit(s, "schema 2 upgrade: the schema entry", err);
}
