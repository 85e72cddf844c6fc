/* SPDX-License-Identifier: MIT */
/*
 * store scan: reads (get, versions, key scans), HWMs, the log, meta scans
 * and snapshots.
 */
#include "store/store_int.h"
#include "lib/bytes.h"
#include "lib/endian.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ reads */

/* The meta of a user key, with the buffer it points into in *raw (the
 * caller leveldb_free()s it). RUMOR_ENOTFOUND when the key has no meta
 * (or, with live_only, only a tombstone: *raw is NULL then). */
static int get_meta(struct store *s, const void *key, size_t key_len,
		    int live_only, struct meta *m, char **raw, struct err *err)
{
	size_t klen;
	int rv, found;

	rv = store__check_key(key, key_len, err);
	if (rv != 0)
		return rv;
	klen = store__kbuf_set(s, PFX_META, key, key_len);
	rv = store__meta_read(s, s->ropts, klen, m, &found, raw, err);
	if (rv != 0)
		return rv;
	if (!found || (live_only && m->deleted)) {
		leveldb_free(*raw);
		*raw = NULL;
		return err_set(err, RUMOR_ENOTFOUND, "store: no such key");
	}
	return 0;
}

int store_get(struct store *s, const void *key, size_t key_len,
	      void **value, size_t *value_len, struct err *err)
{
	struct meta m;
	char *raw;
	int rv;

	if (s == NULL || value == NULL || value_len == NULL)
		return err_set(err, RUMOR_EINVAL, "store_get: NULL argument");
	rv = get_meta(s, key, key_len, 1, &m, &raw, err);
	if (rv != 0)
		return rv;
	/* LevelDB's buffer is malloc'd and at least the meta head long, so
	 * it becomes the caller's value (never NULL, even when empty) without
	 * another allocation. */
	memmove(raw, m.value, m.value_len);
	*value = raw;
	*value_len = m.value_len;
	return 0;
}

static int record_build(struct store *s, const void *key, size_t key_len,
			const struct meta *m, const void *value,
			size_t value_len, struct store_record **out,
			struct err *err)
{
	struct store_record *rec;
	uint8_t *p;

	rec = malloc(sizeof *rec + key_len + STORE_ORIGIN_BYTES + value_len + 1);
	if (rec == NULL)
		return err_set(err, RUMOR_ENOMEM, "store %s: out of memory",
			       s->dir);
	p = (uint8_t *)(rec + 1);
	memcpy(p, key, key_len);
	rec->v.key = p;
	rec->v.key_len = key_len;
	p += key_len;
	memcpy(p, m->origin, STORE_ORIGIN_BYTES);
	rec->v.origin = p;
	rec->v.origin_len = STORE_ORIGIN_BYTES;
	p += STORE_ORIGIN_BYTES;
	if (m->deleted) {
		rec->v.value = NULL;
		rec->v.value_len = 0;
	} else {
		if (value_len > 0)
			memcpy(p, value, value_len);
		rec->v.value = p;
		rec->v.value_len = value_len;
	}
	rec->v.deleted = m->deleted;
	rec->v.clock = m->clock;
	rec->v.wall_ms = m->wall_ms;
	rec->v.seq = m->seq;
	rec->pos = m->pos;
	*out = rec;
	return 0;
}

int store_get_version(struct store *s, const void *key, size_t key_len,
		      struct store_record **rec, struct err *err)
{
	struct meta m;
	char *raw;
	int rv;

	if (s == NULL || rec == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_get_version: NULL argument");
	rv = get_meta(s, key, key_len, 0, &m, &raw, err);
	if (rv != 0)
		return rv;
	rv = record_build(s, key, key_len, &m, m.value, m.value_len, rec, err);
	leveldb_free(raw);
	return rv;
}

void store_record_free(struct store_record *rec)
{
	free(rec);
}

int store_scan_after(struct store *s, const void *prefix, size_t prefix_len,
		     const void *after, size_t after_len, store_scan_cb cb,
		     void *arg, struct err *err)
{
	leveldb_iterator_t *it;
	char start[1 + RUMOR_KEY_MAX];
	const char *k, *v;
	size_t klen, vlen, slen;
	struct meta m;
	char *lerr = NULL;
	char hex[41];
	int rv = 0, skip_after = 0;

	if (s == NULL || cb == NULL || (prefix == NULL && prefix_len > 0) ||
	    (after == NULL && after_len > 0))
		return err_set(err, RUMOR_EINVAL, "store_scan: NULL argument");
	if (after_len > RUMOR_KEY_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "store_scan_after: a position of %zu bytes (keys have at most %u)",
			       after_len, RUMOR_KEY_MAX);
	if (prefix_len > RUMOR_KEY_MAX)
		return 0;       /* no key is that long */
	/* Seek to the larger of prefix and after: every key with the prefix
	 * is at or past the one, every key wanted past the other. */
	start[0] = PFX_META;
	if (after != NULL &&
	    bytes_cmp(after, after_len, prefix, prefix_len) >= 0) {
		memcpy(start + 1, after, after_len);
		slen = 1 + after_len;
		skip_after = 1;
	} else {
		if (prefix_len > 0)
			memcpy(start + 1, prefix, prefix_len);
		slen = 1 + prefix_len;
	}
	it = leveldb_create_iterator(s->db, s->ropts);
	for (leveldb_iter_seek(it, start, slen); leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen < 1 + prefix_len || k[0] != PFX_META ||
		    (prefix_len > 0 && memcmp(k + 1, prefix, prefix_len) != 0))
			break;
		/* Strictly after: the position itself is skipped. */
		if (skip_after) {
			skip_after = 0;
			if (klen == slen && memcmp(k, start, slen) == 0)
				continue;
		}
		v = leveldb_iter_value(it, &vlen);
		if (format_meta_decode(v, vlen, &m) != 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable meta for key %s",
				     s->dir, format_key_hex(k + 1, klen - 1, hex));
			break;
		}
		if (m.deleted)
			continue;
		if (cb(arg, k + 1, klen - 1, m.value, m.value_len) != 0)
			break;
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL)
		return store__db_error(s, lerr, "scanning", err);
	return rv;
}

int store_scan(struct store *s, const void *prefix, size_t prefix_len,
	       store_scan_cb cb, void *arg, struct err *err)
{
	return store_scan_after(s, prefix, prefix_len, NULL, 0, cb, arg, err);
}
static const leveldb_readoptions_t *snap_ropts(struct store *s,
					       const struct store_snapshot *snap)
{
	return snap != NULL ? snap->ropts : s->ropts;
}

int store_hwms(struct store *s, const struct store_snapshot *snap,
	       store_hwm_cb cb, void *arg, struct err *err)
{
	leveldb_iterator_t *it;
	const char *k, *v;
	size_t klen, vlen, oi = 0;
	char *lerr = NULL;
	int rv = 0, stop = 0;

	if (s == NULL || cb == NULL)
		return err_set(err, RUMOR_EINVAL, "store_hwms: NULL argument");
	/* Origins with log entries but no HWM are listed too, with seq 0: a
	 * cut stream leaves applied entries whose HWM was never raised, and a
	 * node must still pass them on (its peers' digests decide what it
	 * sends). They are merged in, in origin order, from the in-memory
	 * table, which is sorted. */
	it = leveldb_create_iterator(s->db, snap_ropts(s, snap));
	for (leveldb_iter_seek(it, "h", 1); leveldb_iter_valid(it) && !stop;
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (k[0] != PFX_HWM)
			break;
		v = leveldb_iter_value(it, &vlen);
		if (klen != HWM_KEY_BYTES || vlen != 8) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable HWM entry", s->dir);
			break;
		}
		for (; oi < s->n_origins && !stop; oi++) {
			int c = memcmp(s->origins[oi].origin, k + 1,
				       STORE_ORIGIN_BYTES);
			if (c > 0)
				break;
			if (c < 0 && s->origins[oi].log_max > 0)
				stop = cb(arg, s->origins[oi].origin, 0) != 0;
		}
		if (!stop)
			stop = cb(arg, (const uint8_t *)k + 1,
				  endian_get_be64((const uint8_t *)v)) != 0;
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL)
		return store__db_error(s, lerr, "scanning HWMs", err);
	for (; rv == 0 && oi < s->n_origins && !stop; oi++)
		if (s->origins[oi].log_max > 0)
			stop = cb(arg, s->origins[oi].origin, 0) != 0;
	return rv;
}

/* The version of the log entry of origin under the iterator, read
 * through ro: its key points into the entry, its origin is origin, its
 * value (NULL for a deletion) into *raw, the meta the value is read from
 * (which must name this very entry), for the caller to leveldb_free()
 * (NULL when none, also on error). RUMOR_ECORRUPT, RUMOR_EIO. */
static int log_entry_read(struct store *s, const leveldb_readoptions_t *ro,
			  leveldb_iterator_t *it, const uint8_t *origin,
			  struct rumor_version *v, char **raw, struct err *err)
{
	char mkey[1 + RUMOR_KEY_MAX];
	struct log_value lv;
	struct meta m;
	const char *k, *val;
	size_t klen, vlen, rlen;
	char *lerr = NULL;
	char hex[41];

	*raw = NULL;
	k = leveldb_iter_key(it, &klen);
	val = leveldb_iter_value(it, &vlen);
	if (format_log_decode(val, vlen, &lv) != 0)
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: unreadable log entry", s->dir);
	v->key = lv.key;
	v->key_len = lv.key_len;
	v->deleted = lv.deleted;
	v->clock = lv.clock;
	v->wall_ms = lv.wall_ms;
	v->origin = origin;
	v->origin_len = STORE_ORIGIN_BYTES;
	v->seq = endian_get_be64((const uint8_t *)k + 1 + STORE_ORIGIN_BYTES);
	v->value = NULL;
	v->value_len = 0;
	if (lv.deleted)
		return 0;
	mkey[0] = PFX_META;
	memcpy(mkey + 1, lv.key, lv.key_len);
	*raw = leveldb_get(s->db, ro, mkey, 1 + lv.key_len, &rlen, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "scanning the log", err);
	if (*raw == NULL || format_meta_decode(*raw, rlen, &m) != 0 ||
	    m.deleted || m.seq != v->seq ||
	    memcmp(m.origin, origin, STORE_ORIGIN_BYTES) != 0)
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: log entry of key %s without its meta",
			       s->dir, format_key_hex(lv.key, lv.key_len, hex));
	v->value = m.value;
	v->value_len = m.value_len;
	return 0;
}

/* Destroys a log iterator; a LevelDB error it met is the result if rv
 * is 0. */
static int log_iter_end(struct store *s, leveldb_iterator_t *it, int rv,
			struct err *err)
{
	char *lerr = NULL;

	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL && rv == 0)
		return store__db_error(s, lerr, "scanning the log", err);
	leveldb_free(lerr);
	return rv;
}

int store_log_scan(struct store *s, const struct store_snapshot *snap,
		   const uint8_t origin[STORE_ORIGIN_BYTES], uint64_t after_seq,
		   size_t max, store_log_cb cb, void *arg, uint64_t *last_seq,
		   struct err *err)
{
	struct store_snapshot *own_snap = NULL;
	leveldb_iterator_t *it;
	struct rumor_version v;
	char start[LOG_KEY_BYTES];
	uint8_t origin_copy[STORE_ORIGIN_BYTES];
	const char *k;
	char *raw;
	size_t klen, given = 0;
	uint64_t last = after_seq;
	int rv = 0, stop;

	if (s == NULL || origin == NULL || cb == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_log_scan: NULL argument");
	if (last_seq != NULL)
		*last_seq = after_seq;
	if (after_seq == UINT64_MAX)
		return 0;
	/* The callback may write to the store; keep our own copy. */
	memcpy(origin_copy, origin, sizeof origin_copy);
	/* The values are point reads beside the iterator: without a snapshot
	 * of the caller's, they would see the callback's writes, so take one
	 * (the scan "sees the state when it began"). */
	if (snap == NULL) {
		own_snap = store_snapshot_new(s);
		if (own_snap == NULL)
			return err_set(err, RUMOR_ENOMEM,
				       "store %s: out of memory", s->dir);
		snap = own_snap;
	}
	format_log_key(start, origin_copy, after_seq + 1);
	it = leveldb_create_iterator(s->db, snap->ropts);
	for (leveldb_iter_seek(it, start, sizeof start);
	     leveldb_iter_valid(it) && (max == 0 || given < max);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen != LOG_KEY_BYTES ||
		    memcmp(k, start, 1 + STORE_ORIGIN_BYTES) != 0)
			break;
		rv = log_entry_read(s, snap->ropts, it, origin_copy, &v, &raw,
				    err);
		if (rv != 0) {
			leveldb_free(raw);
			break;
		}
		given++;
		last = v.seq;
		stop = cb(arg, &v);
		leveldb_free(raw);
		if (stop)
			break;
	}
	rv = log_iter_end(s, it, rv, err);
	store_snapshot_free(s, own_snap);
	if (last_seq != NULL)
		*last_seq = last;
	return rv;
}

/* Whether the iterator is on the key k (LOG_KEY_BYTES). */
static int log_iter_at(leveldb_iterator_t *it, const char *k)
{
	const char *at;
	size_t len;

	if (!leveldb_iter_valid(it))
		return 0;
	at = leveldb_iter_key(it, &len);
	return len == LOG_KEY_BYTES && memcmp(at, k, LOG_KEY_BYTES) == 0;
}

/* From the newest entry of origin (it has one at or after the
 * iterator), backwards, up to max entries (0: all) to cb, sizes only.
 * *stop when cb stopped. */
static int log_newest_of(struct store *s, const leveldb_readoptions_t *ro,
			 leveldb_iterator_t *it, const uint8_t *origin,
			 size_t max, store_log_cb cb, void *arg, int *stop,
			 struct err *err)
{
	char end[LOG_KEY_BYTES];
	struct rumor_version v;
	const char *k;
	char *raw;
	size_t klen, given = 0;
	int rv;

	/* The origin's entries run up to l|origin|2^64-1: its newest is that
	 * key, or the last one before it (the end of the log when no key
	 * follows it). */
	format_log_key(end, origin, UINT64_MAX);
	leveldb_iter_seek(it, end, sizeof end);
	if (!leveldb_iter_valid(it))
		leveldb_iter_seek_to_last(it);
	else if (!log_iter_at(it, end))
		leveldb_iter_prev(it);
	for (; leveldb_iter_valid(it) && (max == 0 || given < max);
	     leveldb_iter_prev(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen != LOG_KEY_BYTES ||
		    memcmp(k, end, 1 + STORE_ORIGIN_BYTES) != 0)
			break;
		rv = log_entry_read(s, ro, it, origin, &v, &raw, err);
		/* Sizes only: the value, all that points into raw, goes. */
		leveldb_free(raw);
		if (rv != 0)
			return rv;
		v.value = NULL;
		given++;
		*stop = cb(arg, &v) != 0;
		if (*stop)
			break;
	}
	return 0;
}

int store_log_newest(struct store *s, const uint8_t *origin, size_t max,
		     store_log_cb cb, void *arg, struct err *err)
{
	struct store_snapshot *snap;
	leveldb_iterator_t *it;
	uint8_t cur[STORE_ORIGIN_BYTES];
	char at[LOG_KEY_BYTES];
	const char *k;
	size_t klen;
	int rv = 0, stop = 0;

	if (s == NULL || cb == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_log_newest: NULL argument");
	/* One view for every origin, the metas' point reads included. */
	snap = store_snapshot_new(s);
	if (snap == NULL)
		return err_set(err, RUMOR_ENOMEM, "store %s: out of memory",
			       s->dir);
	it = leveldb_create_iterator(s->db, snap->ropts);
	at[0] = PFX_LOG;
	if (origin != NULL)
		memcpy(at + 1, origin, STORE_ORIGIN_BYTES);
	leveldb_iter_seek(it, at, origin != NULL ? 1 + STORE_ORIGIN_BYTES : 1);
	/* At the first entry of an origin: its newest entries, then on to
	 * the first entry after its last, the next origin's first. */
	while (rv == 0 && !stop && leveldb_iter_valid(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen < 1 || k[0] != PFX_LOG ||
		    (origin != NULL &&
		     (klen < 1 + STORE_ORIGIN_BYTES ||
		      memcmp(k + 1, origin, STORE_ORIGIN_BYTES) != 0)))
			break;
		if (klen != LOG_KEY_BYTES) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable log key", s->dir);
			break;
		}
		memcpy(cur, k + 1, sizeof cur);
		rv = log_newest_of(s, snap->ropts, it, cur, max, cb, arg,
				   &stop, err);
		if (rv != 0 || stop || origin != NULL)
			break;
		format_log_key(at, cur, UINT64_MAX);
		leveldb_iter_seek(it, at, sizeof at);
		if (log_iter_at(it, at))
			leveldb_iter_next(it);
	}
	rv = log_iter_end(s, it, rv, err);
	store_snapshot_free(s, snap);
	return rv;
}

int store_meta_scan(struct store *s, const struct store_snapshot *snap,
		    const void *after, size_t after_len, size_t max,
		    store_log_cb cb, void *arg, size_t *given,
		    struct err *err)
{
	leveldb_iterator_t *it;
	struct rumor_version v;
	struct meta m;
	char start[1 + RUMOR_KEY_MAX];
	const char *k, *val;
	char *lerr = NULL;
	size_t klen, vlen, n = 0;
	int rv = 0;
	char hex[41];

	if (given != NULL)
		*given = 0;
	if (s == NULL || cb == NULL || (after == NULL && after_len > 0))
		return err_set(err, RUMOR_EINVAL,
			       "store_meta_scan: NULL argument");
	if (after != NULL && (after_len < 1 || after_len > RUMOR_KEY_MAX))
		return err_set(err, RUMOR_EINVAL,
			       "store_meta_scan: resume key of %zu bytes",
			       after_len);
	start[0] = PFX_META;
	if (after != NULL)
		memcpy(start + 1, after, after_len);
	/* The iterator reads one implicit snapshot (or the caller's), so
	 * the callback's writes are not seen. */
	it = leveldb_create_iterator(s->db, snap_ropts(s, snap));
	leveldb_iter_seek(it, start, 1 + (after != NULL ? after_len : 0));
	/* Seek lands on the resume key itself when it is still there. */
	if (after != NULL && leveldb_iter_valid(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen == 1 + after_len && memcmp(k, start, klen) == 0)
			leveldb_iter_next(it);
	}
	for (; leveldb_iter_valid(it) && (max == 0 || n < max);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen < 2 || k[0] != PFX_META)
			break;
		val = leveldb_iter_value(it, &vlen);
		if (klen - 1 > RUMOR_KEY_MAX ||
		    format_meta_decode(val, vlen, &m) != 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable meta for key %s",
				     s->dir, format_key_hex(k + 1, klen - 1, hex));
			break;
		}
		store__version_of_meta(&v, k + 1, klen - 1, &m);
		n++;
		if (cb(arg, &v) != 0)
			break;
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (given != NULL)
		*given = n;
	if (lerr != NULL)
		return store__db_error(s, lerr, "scanning metas", err);
	return rv;
}

struct store_snapshot *store_snapshot_new(struct store *s)
{
	struct store_snapshot *snap = malloc(sizeof *snap);

	if (snap == NULL)
		return NULL;
	snap->snap = leveldb_create_snapshot(s->db);
	snap->ropts = leveldb_readoptions_create();
	leveldb_readoptions_set_snapshot(snap->ropts, snap->snap);
	return snap;
}

void store_snapshot_free(struct store *s, struct store_snapshot *snap)
{
	if (snap == NULL)
		return;
	leveldb_readoptions_destroy(snap->ropts);
	leveldb_release_snapshot(s->db, snap->snap);
	free(snap);
}
