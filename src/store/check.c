/* SPDX-License-Identifier: MIT */
/* store check: the integrity walk (store_check). */
#include "store/store_int.h"
#include "lib/array.h"
#include "lib/endian.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ check */

/* A sorted list of the HWMs found by the check walk. */
struct check_hwm {
	uint8_t origin[STORE_ORIGIN_BYTES];
	uint64_t seq;
};

static const struct check_hwm *check_hwm_find(const struct check_hwm *h,
					      size_t n, const uint8_t *origin)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(h[mid].origin, origin, STORE_ORIGIN_BYTES);

		if (c == 0)
			return &h[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct check {
	struct store *s;
	leveldb_readoptions_t *ro;
	struct check_hwm *hwms;
	size_t n_hwms, cap_hwms;
	uint64_t keys, tombstones, log_entries;
	int have_schema, have_seq;
	uint64_t stored_seq;
	uint64_t stored_floor;  /* s|clockfloor, 0 when absent */
	uint64_t stored_feed_floor; /* s|feedfloor, 0 when absent */
	uint64_t feed_entries, feed_last;
	char hex[41];
	/* store_check_all: each violation goes to report and the walk goes
	 * on; NULL: the first one ends it (store_check). */
	store_check_report_cb report;
	void *report_arg;
	size_t found;
};

/* The hex of a key, for a message of corrupt() (one a message). */
static const char *hex_of(struct check *c, const void *key, size_t len)
{
	return format_key_hex(key, len, c->hex);
}

/* A violation: RUMOR_ECORRUPT with a message naming the store; with a
 * report callback, the message goes to it (err keeps the first) and the
 * walk goes on (0). */
__attribute__((format(printf, 3, 4)))
static int corrupt(struct check *c, struct err *err, const char *fmt, ...)
{
	char what[200];
	struct err one;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (c->report == NULL)
		return err_set(err, RUMOR_ECORRUPT, "store %s: check: %s",
			       c->s->dir, what);
	err_set(&one, RUMOR_ECORRUPT, "store %s: check: %s", c->s->dir, what);
	if (c->found++ == 0 && err != NULL)
		*err = one;
	c->report(c->report_arg, what);
	return 0;
}

/* Reads raw key k (of the check's read options); *val NULL when absent. */
static int check_get(struct check *c, const char *k, size_t klen,
		     char **val, size_t *vlen, struct err *err)
{
	char *lerr = NULL;

	*val = leveldb_get(c->s->db, c->ro, k, klen, vlen, &lerr);
	if (lerr != NULL)
		return store__db_error(c->s, lerr, "check read", err);
	return 0;
}

static int check_hwm_entry(struct check *c, const char *k, size_t klen,
			   const char *v, size_t vlen, struct err *err)
{
	const struct origin_state *os;
	struct check_hwm *h;
	uint64_t seq;

	if (klen != HWM_KEY_BYTES || vlen != 8)
		return corrupt(c, err, "HWM entry of bad size (%s)",
			       hex_of(c, k, klen));
	seq = endian_get_be64((const uint8_t *)v);
	os = store__origin_find(c->s, (const uint8_t *)k + 1);
	if (os == NULL || os->hwm != seq)
		return corrupt(c, err, "stored HWM differs from memory (%s)",
			       hex_of(c, k + 1, STORE_ORIGIN_BYTES));
	h = array_grow(c->hwms, &c->cap_hwms, c->n_hwms + 1, sizeof *h, 16);
	if (h == NULL)
		return err_set(err, RUMOR_ENOMEM, "store: out of memory");
	c->hwms = h;
	/* The walk gives origins in order: the list stays sorted. */
	h = &c->hwms[c->n_hwms++];
	memcpy(h->origin, k + 1, STORE_ORIGIN_BYTES);
	h->seq = seq;
	return 0;
}

static int check_log(struct check *c, const char *k, size_t klen,
		     const char *v, size_t vlen, struct err *err)
{
	const uint8_t *origin = (const uint8_t *)k + 1;
	const struct origin_state *os;
	struct log_value lv;
	struct meta m;
	uint64_t seq;
	char *val;
	size_t mlen;
	int rv;

	if (klen != LOG_KEY_BYTES)
		return corrupt(c, err, "log key of bad length (%s)",
			       hex_of(c, k, klen));
	seq = endian_get_be64(origin + STORE_ORIGIN_BYTES);
	if (seq == 0)
		return corrupt(c, err, "log entry with seq 0 (origin %s)",
			       hex_of(c, origin, STORE_ORIGIN_BYTES));
	if (format_log_decode(v, vlen, &lv) != 0)
		return corrupt(c, err, "unreadable log entry (origin %s)",
			       hex_of(c, origin, STORE_ORIGIN_BYTES));
	c->log_entries++;
	/* No rule ties a log entry to its origin's HWM: the sync layer
	 * applies a stream's versions without raising HWMs and raises them
	 * when the stream completes (README, design notes), so after a cut
	 * stream a node holds entries above HWM[O] -- of its own origin too,
	 * when a restored node relearns its writes. What must hold is that
	 * the local counter never hands out a seq already logged. */
	if (memcmp(origin, c->s->origin, STORE_ORIGIN_BYTES) == 0 &&
	    c->s->local_seq < seq)
		return corrupt(c, err, "local seq below an own log entry (%s)",
			       hex_of(c, origin, STORE_ORIGIN_BYTES));
	os = store__origin_find(c->s, origin);
	if (os == NULL || os->log_max < seq)
		return corrupt(c, err, "log entry above the known log_max (%s)",
			       hex_of(c, origin, STORE_ORIGIN_BYTES));
	if (!bloom_maybe(&c->s->lf, store__log_hash(origin, seq)))
		return corrupt(c, err, "log entry missing from the log filter "
			       "(%s)", hex_of(c, origin, STORE_ORIGIN_BYTES));
	store__kbuf_set(c->s, PFX_META, lv.key, lv.key_len);
	rv = check_get(c, c->s->kbuf, 1 + lv.key_len, &val, &mlen, err);
	if (rv != 0)
		return rv;
	if (val == NULL)
		return corrupt(c, err, "log entry of a key without meta (%s)",
			       hex_of(c, lv.key, lv.key_len));
	rv = format_meta_decode(val, mlen, &m);
	leveldb_free(val);
	/* check_meta reports an unreadable meta when the walk reaches it,
	 * with the precise reason. */
	if (rv != 0)
		return 0;
	if (m.seq != seq || memcmp(m.origin, origin, STORE_ORIGIN_BYTES) != 0)
		return corrupt(c, err, "log entry not the one its meta names (key %s)",
			       hex_of(c, lv.key, lv.key_len));
	if (m.clock != lv.clock || m.wall_ms != lv.wall_ms ||
	    m.deleted != lv.deleted)
		return corrupt(c, err, "log entry and meta disagree (key %s)",
			       hex_of(c, lv.key, lv.key_len));
	return 0;
}

/* An f entry: a position no later than the head, naming a key whose
 * meta has that very position. */
static int check_feed(struct check *c, const char *k, size_t klen,
		      const char *v, size_t vlen, struct err *err)
{
	struct meta m;
	uint64_t pos;
	char *val;
	size_t mlen;
	int rv;

	if (format_feed_key_decode(k, klen, &pos) != 0 || vlen == 0 ||
	    vlen > RUMOR_KEY_MAX)
		return corrupt(c, err, "unreadable feed entry (%s)",
			       hex_of(c, k, klen));
	c->feed_entries++;
	c->feed_last = pos;
	if (pos > c->s->feed_head)
		return corrupt(c, err, "feed entry %llu above the head %llu",
			       (unsigned long long)pos,
			       (unsigned long long)c->s->feed_head);
	store__kbuf_set(c->s, PFX_META, v, vlen);
	rv = check_get(c, c->s->kbuf, 1 + vlen, &val, &mlen, err);
	if (rv != 0)
		return rv;
	if (val == NULL)
		return corrupt(c, err, "feed entry of a key without meta (%s)",
			       hex_of(c, v, vlen));
	rv = format_meta_decode(val, mlen, &m);
	leveldb_free(val);
	/* check_meta reports an unreadable meta. */
	if (rv == 0 && m.pos != pos)
		return corrupt(c, err, "feed entry %llu of a key whose meta has position %llu (%s)",
			       (unsigned long long)pos,
			       (unsigned long long)m.pos, hex_of(c, v, vlen));
	return 0;
}

static int check_meta(struct check *c, const char *k, size_t klen,
		      const char *v, size_t vlen, struct err *err)
{
	char lk[LOG_KEY_BYTES];
	struct log_value lv;
	struct meta m;
	char *val;
	size_t len;
	int rv;

	if (klen < 2 || klen > 1 + RUMOR_KEY_MAX)
		return corrupt(c, err, "meta key of bad length (%s)",
			       hex_of(c, k, klen));
	if (vlen > META_HEAD_BYTES && (v[1] & FLAG_DELETED) != 0)
		return corrupt(c, err, "tombstone with a value (key %s)",
			       hex_of(c, k + 1, klen - 1));
	if (vlen > META_HEAD_BYTES + RUMOR_VALUE_MAX)
		return corrupt(c, err, "value too large for key %s",
			       hex_of(c, k + 1, klen - 1));
	if (format_meta_decode(v, vlen, &m) != 0)
		return corrupt(c, err, "unreadable meta for key %s",
			       hex_of(c, k + 1, klen - 1));
	if (!bloom_maybe(&c->s->kf, bloom_hash(k + 1, klen - 1)))
		return corrupt(c, err, "key %s missing from the key filter",
			       hex_of(c, k + 1, klen - 1));
	if (m.deleted)
		c->tombstones++;
	else
		c->keys++;
	format_log_key(lk, m.origin, m.seq);
	rv = check_get(c, lk, sizeof lk, &val, &len, err);
	if (rv != 0)
		return rv;
	if (val == NULL)
		return corrupt(c, err, "meta without its log entry (key %s)",
			       hex_of(c, k + 1, klen - 1));
	rv = format_log_decode(val, len, &lv);
	if (rv == 0 && (lv.key_len != klen - 1 ||
			memcmp(lv.key, k + 1, klen - 1) != 0))
		rv = 1;
	leveldb_free(val);
	if (rv < 0)
		return corrupt(c, err, "unreadable log entry of key %s",
			       hex_of(c, k + 1, klen - 1));
	if (rv > 0)
		return corrupt(c, err, "meta names another key's log entry (key %s)",
			       hex_of(c, k + 1, klen - 1));
	if (m.pos > c->s->feed_head)
		return corrupt(c, err, "meta position above the feed head (key %s)",
			       hex_of(c, k + 1, klen - 1));
	if (m.deleted && !store__tomb_has(c->s, m.origin, m.seq))
		return corrupt(c, err, "tombstone missing from the tombstone index (key %s)",
			       hex_of(c, k + 1, klen - 1));
	return 0;
}

static int check_single(struct check *c, const char *k, size_t klen,
			const char *v, size_t vlen, struct err *err)
{
	const uint8_t *p = (const uint8_t *)v;

	if (klen == strlen(SINGLE_SCHEMA) &&
	    memcmp(k, SINGLE_SCHEMA, klen) == 0) {
		if (vlen != 4 || p[0] || p[1] || p[2] ||
		    p[3] != STORE_SCHEMA_VERSION)
			return corrupt(c, err, "bad schema entry");
		c->have_schema = 1;
	} else if (klen == strlen(SINGLE_SEQ) &&
		   memcmp(k, SINGLE_SEQ, klen) == 0) {
		if (vlen != 8)
			return corrupt(c, err, "bad seq entry");
		c->stored_seq = endian_get_be64(p);
		c->have_seq = 1;
	} else if (klen == strlen(SINGLE_CLOCK_FLOOR) &&
		   memcmp(k, SINGLE_CLOCK_FLOOR, klen) == 0) {
		/* Any value is sound (a floor only raises clocks); it must
		 * decode and be the one the writes use. */
		if (vlen != 8)
			return corrupt(c, err, "bad clock floor entry");
		c->stored_floor = endian_get_be64(p);
	} else if ((klen == strlen(SINGLE_FILTER) &&
		    memcmp(k, SINGLE_FILTER, klen) == 0) ||
		   (klen == strlen(SINGLE_SELF_INCOMPLETE) &&
		    memcmp(k, SINGLE_SELF_INCOMPLETE, klen) == 0)) {
		/* Read and judged at open (filter.c). */
	} else if (klen == strlen(SINGLE_FEED_FLOOR) &&
		   memcmp(k, SINGLE_FEED_FLOOR, klen) == 0) {
		if (vlen != 8)
			return corrupt(c, err, "bad feed floor entry");
		c->stored_feed_floor = endian_get_be64(p);
	} else {
		return corrupt(c, err, "unknown singleton %s",
			       hex_of(c, k + 1, klen - 1));
	}
	return 0;
}

/* The walk and the comparisons after it; 0 when it ran to its end (in
 * report mode, whatever it found). */
static int check_walk(struct check *c, struct err *err)
{
	struct store *s = c->s;
	leveldb_iterator_t *it;
	const struct origin_state *own;
	const struct check_hwm *h;
	const char *k, *v;
	size_t klen, vlen, i;
	char *lerr = NULL;
	int rv = 0;

	it = leveldb_create_iterator(s->db, c->ro);
	/* One walk in key order: f, h, l, m, s (a d entry of schema 1 is an
	 * unknown prefix now). */
	for (leveldb_iter_seek_to_first(it); rv == 0 && leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		v = leveldb_iter_value(it, &vlen);
		switch (klen > 0 ? k[0] : 0) {
		case PFX_FEED:
			rv = check_feed(c, k, klen, v, vlen, err);
			break;
		case PFX_HWM:
			rv = check_hwm_entry(c, k, klen, v, vlen, err);
			break;
		case PFX_LOG:
			rv = check_log(c, k, klen, v, vlen, err);
			break;
		case PFX_META:
			rv = check_meta(c, k, klen, v, vlen, err);
			break;
		case PFX_SINGLE:
			rv = check_single(c, k, klen, v, vlen, err);
			break;
		case PFX_INTENT:
		case PFX_OUTCOME:
			break;  /* store__intent_check, below */
		default:
			rv = corrupt(c, err, "entry with unknown prefix (%s)",
				     hex_of(c, k, klen));
			break;
		}
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL) {
		/* A bad checksum or an unreadable table: the walk stopped. */
		if (rv == 0)
			rv = corrupt(c, err, "LevelDB: %s", lerr);
		leveldb_free(lerr);
	}
	if (rv != 0)
		goto done;

	if (!c->have_schema || !c->have_seq) {
		rv = corrupt(c, err, "missing singleton");
		if (rv != 0)
			goto done;
	}
	own = store__origin_find(s, s->origin);
	h = check_hwm_find(c->hwms, c->n_hwms, s->origin);
	if (own == NULL || (h != NULL && h->seq > s->local_seq)) {
		rv = corrupt(c, err, "own HWM above the local seq counter");
		if (rv != 0)
			goto done;
	}
	/* The counter is max(s|seq, own HWM). */
	if (c->stored_seq > s->local_seq ||
	    (c->stored_seq < s->local_seq && (h == NULL || h->seq != s->local_seq))) {
		rv = corrupt(c, err, "stored seq counter differs from memory");
		if (rv != 0)
			goto done;
	}
	if (c->stored_floor != s->clock_floor) {
		rv = corrupt(c, err, "stored clock floor differs from memory");
		if (rv != 0)
			goto done;
	}
	/* The feed: one entry per stored key (with check_feed's and
	 * check_meta's position checks, a one-to-one map); the head is
	 * the last entry or the floor, whichever is higher (a collected
	 * tombstone may have held the highest position). Entries at or
	 * below the floor are fine: the floor bounds collected ones. */
	if (c->stored_feed_floor != s->feed_floor) {
		rv = corrupt(c, err, "stored feed floor differs from memory");
		if (rv != 0)
			goto done;
	}
	if (c->feed_entries != c->keys + c->tombstones) {
		rv = corrupt(c, err, "feed entries are not one per key (%llu entries, %llu keys)",
			     (unsigned long long)c->feed_entries,
			     (unsigned long long)(c->keys + c->tombstones));
		if (rv != 0)
			goto done;
	}
	if (s->feed_head != (c->feed_last > s->feed_floor ? c->feed_last :
			     s->feed_floor)) {
		rv = corrupt(c, err, "feed head %llu is neither the last entry nor the floor",
			     (unsigned long long)s->feed_head);
		if (rv != 0)
			goto done;
	}
	for (i = 0; i < s->n_origins; i++) {
		h = check_hwm_find(c->hwms, c->n_hwms, s->origins[i].origin);
		if (s->origins[i].hwm != (h != NULL ? h->seq : 0)) {
			rv = corrupt(c, err, "HWM in memory not stored (%s)",
				     hex_of(c, s->origins[i].origin, STORE_ORIGIN_BYTES));
			if (rv != 0)
				goto done;
		}
	}
	if (c->log_entries != c->keys + c->tombstones) {
		rv = corrupt(c, err, "log entries are not one per key");
		if (rv != 0)
			goto done;
	}
	if (c->keys != s->stats.keys || c->tombstones != s->stats.tombstones ||
	    c->log_entries != s->stats.log_entries)
		rv = corrupt(c, err, "counts differ from the kept stats");
	else if (s->tombs.n != c->tombstones)
		rv = corrupt(c, err, "the tombstone index names tombstones the store lacks");
	if (rv == 0) {
		struct err ierr;

		err_clear(&ierr);
		rv = store__intent_check(s, &ierr);
		if (rv == RUMOR_ECORRUPT && c->report != NULL) {
			/* Without intent.c's "store DIR: check: ". */
			const char *what = strstr(ierr.msg, ": check: ");

			rv = corrupt(c, err, "%s", what != NULL ? what + 9
							      : ierr.msg);
		} else if (rv != 0 && err != NULL) {
			*err = ierr;
		}
	}
done:
	return rv;
}

int store_check(struct store *s, struct err *err)
{
	return store_check_all(s, NULL, NULL, NULL, err);
}

int store_check_all(struct store *s, store_check_report_cb report, void *arg,
		    size_t *found, struct err *err)
{
	struct check c;
	int rv;

	if (found != NULL)
		*found = 0;
	if (s == NULL)
		return err_set(err, RUMOR_EINVAL, "store_check: no store");
	memset(&c, 0, sizeof c);
	c.s = s;
	c.report = report;
	c.report_arg = arg;
	c.ro = leveldb_readoptions_create();
	leveldb_readoptions_set_verify_checksums(c.ro, 1);
	leveldb_readoptions_set_fill_cache(c.ro, 0);
	rv = check_walk(&c, err);
	free(c.hwms);
	leveldb_readoptions_destroy(c.ro);
	if (found != NULL)
		*found = c.found;
	if (rv == 0 && c.found > 0)
		rv = RUMOR_ECORRUPT;     /* err holds the first (corrupt()) */
	return rv;
}
