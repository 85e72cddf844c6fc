/* SPDX-License-Identifier: MIT */
/*
 * store filter: the replicate set a store holds (store_options.filter,
 * kept as s|filter), and what opening with another set does to the
 * store (store.h, store_open): a narrower set drops the keys outside it,
 * a wider or different one resets the HWMs of other origins so that the
 * next exchanges pull the keys it adds.
 *
 * Crash safety of a narrowing: its first batch raises the feed floor to
 * the head (a reader from below may have missed the drops), and, when a
 * dropped key is of this node's own origin, sets s|selfincomplete; then
 * the keys outside go in batches (meta, log and feed entries); the new
 * s|filter is written last. A crash midway leaves the old s|filter: the
 * next open narrows again, and finds the floor (so the head) where the
 * first run left it, never lower. The tombstone index, counts and
 * filters are built by the scan at open, after this.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

/* Keys one batch of a narrowing drops. */
#define FILTER_DROP_BATCH 4096u

static int put_u64_single(struct store *s, const char *name, uint64_t v)
{
	uint8_t b[8];

	format_u64_encode(b, v);
	leveldb_writebatch_put(s->batch, name, strlen(name), (const char *)b,
			       sizeof b);
	return 0;
}

/* Reads singleton name (a be64); *v untouched when absent. */
static int get_u64_single(struct store *s, const char *name, uint64_t *v,
			  struct err *err)
{
	char *lerr = NULL, *val;
	size_t vlen;
	int rv = 0;

	val = leveldb_get(s->db, s->ropts, name, strlen(name), &vlen, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "reading a singleton", err);
	if (val != NULL && format_u64_decode(val, vlen, v) != 0)
		rv = err_set(err, RUMOR_ECORRUPT, "store %s: unreadable %s",
			     s->dir, name + 1);
	leveldb_free(val);
	return rv;
}

/* The feed head as the scan at open will find it: the last f entry, or
 * the floor. */
static int feed_head_now(struct store *s, uint64_t *head, struct err *err)
{
	leveldb_iterator_t *it;
	const char *k;
	size_t klen;
	uint64_t floor = 0, pos = 0;
	int rv;

	rv = get_u64_single(s, SINGLE_FEED_FLOOR, &floor, err);
	if (rv != 0)
		return rv;
	it = leveldb_create_iterator(s->db, s->ropts);
	/* The first key after the f keyspace, then one back. */
	leveldb_iter_seek(it, "g", 1);
	if (leveldb_iter_valid(it))
		leveldb_iter_prev(it);
	else
		leveldb_iter_seek_to_last(it);
	if (leveldb_iter_valid(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen > 0 && k[0] == PFX_FEED &&
		    format_feed_key_decode(k, klen, &pos) != 0)
			pos = 0;
	}
	leveldb_iter_destroy(it);
	*head = pos > floor ? pos : floor;
	return 0;
}

/* Drops every key outside s->repl: meta, log and feed entries. */
static int filter_drop(struct store *s, struct err *err)
{
	leveldb_iterator_t *it;
	char lk[LOG_KEY_BYTES];
	const char *k, *v;
	size_t klen, vlen, in_batch = 0;
	uint64_t head;
	struct meta m;
	char *lerr = NULL;
	int rv, own_flagged = 0;

	rv = feed_head_now(s, &head, err);
	if (rv != 0)
		return rv;
	leveldb_writebatch_clear(s->batch);
	put_u64_single(s, SINGLE_FEED_FLOOR, head);
	it = leveldb_create_iterator(s->db, s->ropts);
	for (leveldb_iter_seek(it, "m", 1); leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen == 0 || k[0] != PFX_META)
			break;
		if (klen < 2 || prefixes_match(&s->repl, k + 1, klen - 1))
			continue;
		v = leveldb_iter_value(it, &vlen);
		if (format_meta_decode(v, vlen, &m) != 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: narrowing the filter: an unreadable meta",
				     s->dir);
			break;
		}
		leveldb_writebatch_delete(s->batch, k, klen);
		format_log_key(lk, m.origin, m.seq);
		leveldb_writebatch_delete(s->batch, lk, sizeof lk);
		store__feed_del(s, m.pos);
		/* Our own write dropped: this store no longer holds every
		 * write it made (sync's HELLO says so to peers). */
		if (!own_flagged &&
		    memcmp(m.origin, s->origin, STORE_ORIGIN_BYTES) == 0) {
			put_u64_single(s, SINGLE_SELF_INCOMPLETE, 1);
			own_flagged = 1;
		}
		s->filter_dropped++;
		if (++in_batch == FILTER_DROP_BATCH) {
			rv = store__commit(s, "narrowing the filter", err);
			if (rv != 0)
				break;
			in_batch = 0;
		}
	}
	if (rv == 0) {
		leveldb_iter_get_error(it, &lerr);
		if (lerr != NULL)
			rv = store__db_error(s, lerr, "narrowing the filter", err);
	}
	leveldb_iter_destroy(it);
	if (rv != 0)
		leveldb_writebatch_clear(s->batch);
	return rv;
}

/* Every HWM but the own origin's goes back to 0 (its entry deleted), in
 * s->batch: the next exchanges send the keys the set gained. */
static int filter_reset_hwms(struct store *s, struct err *err)
{
	leveldb_iterator_t *it;
	const char *k;
	size_t klen;
	char *lerr = NULL;

	it = leveldb_create_iterator(s->db, s->ropts);
	for (leveldb_iter_seek(it, "h", 1); leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen == 0 || k[0] != PFX_HWM)
			break;
		if (klen == HWM_KEY_BYTES &&
		    memcmp(k + 1, s->origin, STORE_ORIGIN_BYTES) == 0)
			continue;
		leveldb_writebatch_delete(s->batch, k, klen);
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL)
		return store__db_error(s, lerr, "resetting the HWMs", err);
	return 0;
}

int store__filter_open(struct store *s, const struct prefixes *want,
		       int fresh, struct err *err)
{
	struct prefixes stored;
	char *lerr = NULL, *val;
	uint8_t *enc;
	size_t vlen, elen;
	uint64_t flag = 0;
	int rv = 0, narrower, wider;

	memset(&stored, 0, sizeof stored);
	if (want != NULL && want->n > 0) {
		rv = prefixes_copy(&s->repl, want, err);
		if (rv != 0)
			return rv;
	}
	val = leveldb_get(s->db, s->ropts, SINGLE_FILTER, strlen(SINGLE_FILTER),
			  &vlen, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "reading the filter", err);
	if (val != NULL)
		rv = prefixes_decode(&stored, val, vlen, "store filter", err);
	leveldb_free(val);
	if (rv == 0)
		rv = get_u64_single(s, SINGLE_SELF_INCOMPLETE, &flag, err);
	if (rv != 0)
		goto done;
	s->self_incomplete = flag != 0;
	if (s->inspect) {
		/* As it is: the set it holds, nothing written. */
		prefixes_free(&s->repl);
		rv = prefixes_copy(&s->repl, &stored, err);
		goto done;
	}
	if (prefixes_equal(&stored, &s->repl))
		goto done;
	narrower = prefixes_within(&s->repl, &stored);
	wider = !narrower;
	s->filter_event = narrower ? STORE_FILTER_NARROWED
				   : STORE_FILTER_WIDENED;
	if (!fresh && !prefixes_within(&stored, &s->repl)) {
		/* Some stored keys may be outside the new set. */
		rv = filter_drop(s, err);
		if (rv != 0)
			goto done;
	}
	if (!fresh && wider) {
		rv = filter_reset_hwms(s, err);
		if (rv != 0)
			goto done;
	}
	/* The new set, last (in the batch the drops left open). */
	if (s->repl.n == 0) {
		leveldb_writebatch_delete(s->batch, SINGLE_FILTER,
					  strlen(SINGLE_FILTER));
	} else {
		elen = prefixes_encoded_len(&s->repl);
		enc = malloc(elen);
		if (enc == NULL) {
			leveldb_writebatch_clear(s->batch);
			rv = err_set(err, RUMOR_ENOMEM, "store %s: out of memory",
				     s->dir);
			goto done;
		}
		prefixes_encode(&s->repl, enc);
		leveldb_writebatch_put(s->batch, SINGLE_FILTER,
				       strlen(SINGLE_FILTER), (const char *)enc,
				       elen);
		free(enc);
	}
	rv = store__commit(s, "the filter", err);
	if (rv == 0 && s->filter_dropped > 0 && !s->self_incomplete)
		rv = get_u64_single(s, SINGLE_SELF_INCOMPLETE, &flag, err);
	if (rv == 0)
		s->self_incomplete = flag != 0;
	if (fresh)
		s->filter_event = STORE_FILTER_SAME;
done:
	prefixes_free(&stored);
	return rv;
}

const struct prefixes *store_filter(const struct store *s)
{
	return &s->repl;
}

int store_self_complete(const struct store *s)
{
	return !s->self_incomplete;
}

enum store_filter_event store_filter_opened(const struct store *s,
					    uint64_t *dropped)
{
	if (dropped != NULL)
		*dropped = s->filter_dropped;
	return s->filter_event;
}
