/* SPDX-License-Identifier: MIT */
/*
 * store: open, close, the memory view, and the helpers every path shares
 * (layout and contracts in store.h, encodings in format.h, the other
 * files of this folder in store_int.h; store_sync is in fsync.c).
 *
 * The local seq counter is max(s|seq, h|own origin, own log entries): a
 * local write moves the counter and the own HWM together, so it writes
 * only h|own (one entry fewer on the hottest path); s|seq is written only
 * when a remote batch moves the counter past the own HWM (own-origin
 * versions, see store_apply_batch).
 *
 * Memory beside LevelDB: the local seq counter and, per origin, its HWM
 * and the highest seq of its log entries ever written (log_max). log_max
 * tells a remote apply when a (origin, seq) might already be taken by
 * another key, so that the common case (a seq above everything held)
 * needs no extra read. And the key filter (a Bloom filter over the user
 * keys, below): a write of a key the store cannot hold skips the meta
 * read, so a fresh node catching up, or a put of a new key, reads nothing.
 * A second filter of the same kind over the (origin, seq) of every log
 * entry ever written (the log filter) lets a remote apply whose seq is not
 * above its origin's log_max skip the read of l|origin|seq that checks for
 * a reused seq: a key-order catch-up (sync.c) brings each origin's seqs
 * in random order, and without it every entry would cost a point read.
 * Last, the tombstone index (gc.c): the (origin, seq) of every
 * tombstone, so that collection costs nothing when there is none.
 *
 * Cost of a change (rumor-bench store, 100-byte values, 2 cores): three
 * LevelDB entries (m, l, f) plus h per batch; new keys read nothing.
 * The f entry (schema 3) is the price of change positions: measured
 * against schema 2 in the same session, store_apply_batch of new keys
 * went from ~410k to ~275k versions/s and store_put from ~141k to ~115k
 * ops/s (a shared machine: the figures below are from before it). A remote
 * apply costs about what raw LevelDB takes for those two entries (~1.3 us
 * against ~0.8 us for one raw entry); an overwrite adds a point read
 * (several us once the data outgrows the block cache). A local write
 * alone is one WriteBatch and LevelDB's per-write overhead (~3.5 us); in
 * store_write_batch of 256 new keys it costs ~1.8 us (one HWM entry per
 * batch; raw batched LevelDB: ~0.8 us a key).
 */
#include "store/store_int.h"
#include "lib/array.h"
#include "lib/endian.h"
#include "lib/perm.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* Puts prefix + key into s->kbuf; returns the length. */
size_t store__kbuf_set(struct store *s, char prefix, const void *key,
		       size_t key_len)
{
	assert(key_len <= RUMOR_KEY_MAX);
	s->kbuf[0] = prefix;
	memcpy(s->kbuf + 1, key, key_len);
	return 1 + key_len;
}
/* ------------------------------------------------------------ origins */

static size_t origin_lower_bound(const struct store *s, const uint8_t *origin)
{
	size_t lo = 0, hi = s->n_origins;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(s->origins[mid].origin, origin,
			   STORE_ORIGIN_BYTES) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct origin_state *store__origin_find(const struct store *s,
					const uint8_t *origin)
{
	size_t i = origin_lower_bound(s, origin);

	if (i < s->n_origins &&
	    memcmp(s->origins[i].origin, origin, STORE_ORIGIN_BYTES) == 0)
		return &s->origins[i];
	return NULL;
}

/* The entry of origin, inserted (zeroed) if missing; NULL when out of
 * memory. Moves other entries: pointers from store__origin_find() go stale. */
struct origin_state *store__origin_get(struct store *s, const uint8_t *origin)
{
	size_t i = origin_lower_bound(s, origin);
	struct origin_state *os;

	if (i < s->n_origins &&
	    memcmp(s->origins[i].origin, origin, STORE_ORIGIN_BYTES) == 0)
		return &s->origins[i];
	os = array_grow(s->origins, &s->cap_origins, s->n_origins + 1,
			sizeof *os, 8);
	if (os == NULL)
		return NULL;
	s->origins = os;
	os = &s->origins[i];
	memmove(os + 1, os, (s->n_origins - i) * sizeof *os);
	s->n_origins++;
	memset(os, 0, sizeof *os);
	memcpy(os->origin, origin, STORE_ORIGIN_BYTES);
	return os;
}

/* ------------------------------------------------------------ small helpers */
uint64_t store__now_ms(struct store *s)
{
	struct timespec ts;

	if (s->hooks.now_ms != NULL)
		return s->hooks.now_ms(s->hooks.arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int store__db_error(struct store *s, char *lerr, const char *what,
		    struct err *err)
{
	int rv = err_set(err, RUMOR_EIO, "store %s: %s: %s", s->dir, what,
			 lerr);

	leveldb_free(lerr);
	return rv;
}

/* Reads the meta of key (in s->kbuf as 'm' + key, length klen). *found = 0
 * when there is none. With raw not NULL, *raw gets the buffer m->value
 * points into (the caller leveldb_free()s it; NULL when not found);
 * without, m->value must not be used. */
int store__meta_read(struct store *s, const leveldb_readoptions_t *ro,
		     size_t klen, struct meta *m, int *found, char **raw,
		     struct err *err)
{
	char *lerr = NULL, *val;
	size_t vlen;
	char hex[41];

	assert(s->kbuf[0] == PFX_META);
	if (raw != NULL)
		*raw = NULL;
	val = leveldb_get(s->db, ro, s->kbuf, klen, &vlen, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "reading a meta entry", err);
	if (val == NULL) {
		*found = 0;
		return 0;
	}
	*found = 1;
	if (format_meta_decode(val, vlen, m) != 0) {
		leveldb_free(val);
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: unreadable meta for key %s", s->dir,
			       format_key_hex(s->kbuf + 1, klen - 1, hex));
	}
	if (raw != NULL) {
		*raw = val;
	} else {
		leveldb_free(val);
		m->value = NULL;
		m->value_len = 0;
	}
	return 0;
}

/* Adds the m entry of the key in s->kbuf (length klen) to s->batch: the
 * head of m, then value (ignored for a tombstone). */
int store__meta_put(struct store *s, size_t klen, const struct meta *m,
		    const void *value, size_t value_len, struct err *err)
{
	size_t len;
	char *p;

	assert(s->kbuf[0] == PFX_META);
	if (m->deleted)
		value_len = 0;
	len = META_HEAD_BYTES + value_len;
	if (len > s->cap_mbuf) {
		p = realloc(s->mbuf, len);
		if (p == NULL)
			return err_set(err, RUMOR_ENOMEM,
				       "store %s: out of memory", s->dir);
		s->mbuf = p;
		s->cap_mbuf = len;
	}
	format_meta_encode((uint8_t *)s->mbuf, m);
	if (value_len > 0)
		memcpy(s->mbuf + META_HEAD_BYTES, value, value_len);
	leveldb_writebatch_put(s->batch, s->kbuf, klen, s->mbuf, len);
	return 0;
}

/* Writes s->batch (then empties it). The before_commit hook may refuse. */
int store__commit(struct store *s, const char *what, struct err *err)
{
	char *lerr = NULL;
	int refused, rv;

	/* A strong write's entries join the batch (store_extra). */
	if (s->extra != NULL) {
		rv = s->extra->add(s, s->extra->arg, err);
		if (rv != 0) {
			leveldb_writebatch_clear(s->batch);
			return rv;
		}
		what = s->extra->what;
	}
	if (s->hooks.before_commit != NULL) {
		s->in_hook++;
		refused = s->hooks.before_commit(s->hooks.arg, what);
		s->in_hook--;
		if (refused) {
			leveldb_writebatch_clear(s->batch);
			return err_set(err, RUMOR_EIO,
				       "store %s: %s: the before_commit hook refused the write",
				       s->dir, what);
		}
	}
	leveldb_write(s->db, s->extra != NULL || s->sync_next ?
		      s->wopts_sync : s->wopts, s->batch, &lerr);
	leveldb_writebatch_clear(s->batch);
	if (lerr != NULL)
		return store__db_error(s, lerr, what, err);
	return 0;
}

int store__commit_sync(struct store *s, const char *what, struct err *err)
{
	int rv;

	s->sync_next = 1;
	rv = store__commit(s, what, err);
	s->sync_next = 0;
	return rv;
}

void store__notify(struct store *s, const struct rumor_version *v, int local,
		   uint64_t pos)
{
	if (s->hooks.on_change == NULL)
		return;
	s->in_hook++;
	s->hooks.on_change(s->hooks.arg, v, local, pos);
	s->in_hook--;
}

int store__check_writable(struct store *s, const char *what, struct err *err)
{
	if (s->in_hook)
		return err_set(err, RUMOR_EINVAL,
			       "store: %s called from inside a store hook", what);
	return 0;
}

int store__check_key(const void *key, size_t key_len, struct err *err)
{
	if (key == NULL || key_len == 0)
		return err_set(err, RUMOR_EINVAL, "store: empty key");
	if (key_len > RUMOR_KEY_MAX)
		return err_set(err, RUMOR_ETOOBIG,
			       "store: key of %zu bytes (at most %u)", key_len,
			       RUMOR_KEY_MAX);
	return 0;
}

int store__check_value(const void *value, size_t value_len, struct err *err)
{
	if (value_len > RUMOR_VALUE_MAX)
		return err_set(err, RUMOR_ETOOBIG,
			       "store: value of %zu bytes (at most %u)",
			       value_len, RUMOR_VALUE_MAX);
	if (value == NULL && value_len > 0)
		return err_set(err, RUMOR_EINVAL, "store: value is NULL");
	return 0;
}

/* ------------------------------------------------------------ open, close */

/* Frees all that s holds once its LevelDB options exist (the database
 * itself is the caller's to close first), and s. */
static void store_free_parts(struct store *s)
{
	leveldb_writebatch_destroy(s->batch);
	leveldb_writeoptions_destroy(s->wopts);
	if (s->wopts_sync != NULL)
		leveldb_writeoptions_destroy(s->wopts_sync);
	free(s->outq);
	leveldb_readoptions_destroy(s->ropts);
	leveldb_options_destroy(s->options);
	leveldb_filterpolicy_destroy(s->filter);
	leveldb_cache_destroy(s->cache);
	bloom_free(&s->kf);
	bloom_free(&s->lf);
	free(s->origins);
	leveldb_readoptions_destroy(s->ropts_cold);
	pthread_mutex_destroy(&s->sync_lock);
	store__tombs_free(&s->tombs);
	prefixes_free(&s->repl);
	free(s->refs);
	free(s->outs);
	free(s->vpos);
	free(s->vflags);
	free(s->tdel);
	free(s->seqtab);
	free(s->wb);
	free(s->mbuf);
	free(s->dir);
	free(s);
}

/* The store's directory is made 0700 when missing and refused
 * (RUMOR_ECONFIG, nothing changed) when another user owns it or others
 * may write to it; LevelDB's files in it come out 0600 whatever the
 * process umask (lib/perm.h: a default ACL, or where the filesystem has
 * none, a 0700 directory), and files from before are made 0600. */
static int store_private_dir(const char *dir, struct err *err)
{
	int created, acl;
	int rv;

	rv = perm_state_dir("store dir", dir, &created, RUMOR_ECONFIG, err);
	if (rv == 0)
		rv = perm_private_dir(dir, 1, &acl, err);
	return rv;
}

int store_open(struct store **out, const char *dir,
	       const struct store_options *opt, struct err *err)
{
	struct origin_state *own;
	struct store *s;
	char *lerr = NULL;
	int rv;

	if (out == NULL || dir == NULL || dir[0] == '\0' || opt == NULL ||
	    opt->origin == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_open: missing directory, options or origin");
	rv = store_private_dir(dir, err);
	if (rv != 0)
		return rv;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return err_set(err, RUMOR_ENOMEM, "store %s: out of memory", dir);
	s->dir = strdup(dir);
	if (s->dir == NULL) {
		rv = err_set(err, RUMOR_ENOMEM, "store %s: out of memory", dir);
		goto err_after_alloc;
	}
	memcpy(s->origin, opt->origin, STORE_ORIGIN_BYTES);
	histogram_init(&s->stats.apply_batch, histogram_entries_bounds,
		       histogram_entries_n);
	s->resolver = opt->resolver;
	s->hooks = opt->hooks;
	s->inspect = opt->inspect != 0;
	s->schema_found = STORE_SCHEMA_VERSION;

	/* leveldb_*_create abort on allocation failure (C++ new). */
	s->options = leveldb_options_create();
	leveldb_options_set_create_if_missing(s->options, !s->inspect);
	leveldb_options_set_write_buffer_size(s->options,
		opt->write_buffer_bytes ? opt->write_buffer_bytes
					: STORE_DEFAULT_WRITE_BUFFER_BYTES);
	s->cache = leveldb_cache_create_lru(opt->cache_bytes ? opt->cache_bytes
							     : STORE_DEFAULT_CACHE_BYTES);
	leveldb_options_set_cache(s->options, s->cache);
	/* Most reads of a put are misses on new keys: a Bloom filter spares
	 * them a block read per table. */
	s->filter = leveldb_filterpolicy_create_bloom(STORE_BLOOM_BITS_PER_KEY);
	leveldb_options_set_filter_policy(s->options, s->filter);
	s->ropts = leveldb_readoptions_create();
	s->ropts_cold = leveldb_readoptions_create();
	pthread_mutex_init(&s->sync_lock, NULL);
	leveldb_readoptions_set_fill_cache(s->ropts_cold, 0);
	s->wopts = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(s->wopts, opt->sync_writes ? 1 : 0);
	s->outq_cap = opt->outcomes_max > 0 ? opt->outcomes_max :
		      STORE_OUTCOMES_MAX;
	s->wopts_sync = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(s->wopts_sync, 1);
	s->batch = leveldb_writebatch_create();

	s->db = leveldb_open(s->options, dir, &lerr);
	if (lerr != NULL) {
		/* LevelDB's posix env says "lock <dir>/LOCK: ..." when the
		 * file lock is held (by this or another process). */
		if (strstr(lerr, "IO error: lock ") != NULL)
			rv = err_set(err, RUMOR_EBUSY,
				     "store %s: the directory is in use by another store (%s)",
				     dir, lerr);
		else if (s->inspect && strstr(lerr, "does not exist") != NULL)
			rv = err_set(err, RUMOR_ENOTFOUND,
				     "store %s: no store here (%s)", dir, lerr);
		else
			rv = err_set(err, RUMOR_EIO, "store %s: cannot open: %s",
				     dir, lerr);
		leveldb_free(lerr);
		goto err_after_options;
	}
	rv = store__load(s, opt->filter, err);
	if (rv != 0)
		goto err_after_db;
	own = store__origin_get(s, s->origin);
	if (own == NULL) {
		rv = err_set(err, RUMOR_ENOMEM, "store %s: out of memory", dir);
		goto err_after_db;
	}
	if (own->hwm > s->local_seq)
		s->local_seq = own->hwm;
	/* Never behind our own log (store_check would call that corrupt):
	 * a counter that were would hand out a seq a second time. */
	if (own->log_max > s->local_seq)
		s->local_seq = own->log_max;
	*out = s;
	return 0;

err_after_db:
	leveldb_close(s->db);
err_after_options:
	store_free_parts(s);
	return rv;
err_after_alloc:
	free(s->dir);
	free(s);
	return rv;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	leveldb_close(s->db);
	store_free_parts(s);
}
/* ------------------------------------------------------------ HWMs and log */

uint64_t store_hwm(struct store *s, const uint8_t origin[STORE_ORIGIN_BYTES])
{
	const struct origin_state *os = store__origin_find(s, origin);

	return os != NULL ? os->hwm : 0;
}

uint64_t store_local_seq(struct store *s)
{
	return s->local_seq;
}

const uint8_t *store_origin(const struct store *s)
{
	return s->origin;
}

uint64_t store_wall_ms(struct store *s)
{
	return store__now_ms(s);
}

int store_lower_hwm(struct store *s, const uint8_t origin[STORE_ORIGIN_BYTES],
		    uint64_t seq, struct err *err)
{
	struct origin_state *os;
	char hk[HWM_KEY_BYTES];
	uint8_t seqbuf[8];
	int rv;

	if (s == NULL || origin == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_lower_hwm: NULL argument");
	rv = store__check_writable(s, "store_lower_hwm", err);
	if (rv != 0)
		return rv;
	/* The own HWM is the local seq counter's floor: lowering it could
	 * hand out a seq again. */
	if (memcmp(origin, s->origin, STORE_ORIGIN_BYTES) == 0)
		return err_set(err, RUMOR_EINVAL,
			       "store_lower_hwm: not this node's own origin");
	os = store__origin_find(s, origin);
	if (os == NULL || os->hwm <= seq)
		return 0;
	leveldb_writebatch_clear(s->batch);
	format_hwm_key(hk, origin);
	if (seq == 0) {
		/* No entry reads as 0: what store_open expects of an origin
		 * never raised. */
		leveldb_writebatch_delete(s->batch, hk, sizeof hk);
	} else {
		format_u64_encode(seqbuf, seq);
		leveldb_writebatch_put(s->batch, hk, sizeof hk,
				       (const char *)seqbuf, sizeof seqbuf);
	}
	rv = store__commit(s, "lower an HWM", err);
	if (rv != 0)
		return rv;
	os->hwm = seq;
	/* A batch being built sees the new value (none is: apply is not
	 * reentrant, but a stale pend_hwm must never win). */
	os->pend_hwm = seq;
	return 0;
}

/* ------------------------------------------------------------ stats, debug */

void store_get_stats(const struct store *s, struct store_stats *st)
{
	*st = s->stats;
}

int store_debug_raw_put(struct store *s, const void *key, size_t key_len,
			const void *value, size_t value_len, struct err *err)
{
	char *lerr = NULL;

	leveldb_put(s->db, s->wopts, key, key_len, value, value_len, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "raw put", err);
	/* A planted meta must not hide behind the key filter. */
	if (key_len > 1 && ((const char *)key)[0] == PFX_META)
		bloom_add(&s->kf, bloom_hash((const char *)key + 1, key_len - 1));
	/* Nor a planted log entry behind the log filter. */
	if (key_len == LOG_KEY_BYTES && ((const char *)key)[0] == PFX_LOG)
		bloom_add(&s->lf, store__log_hash((const uint8_t *)key + 1,
				       endian_get_be64((const uint8_t *)key + 1 +
						STORE_ORIGIN_BYTES)));
	return 0;
}

int store_debug_raw_del(struct store *s, const void *key, size_t key_len,
			struct err *err)
{
	char *lerr = NULL;

	leveldb_delete(s->db, s->wopts, key, key_len, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "raw delete", err);
	return 0;
}

void store_compact(struct store *s)
{
	/* The whole key range: LevelDB merges every level down, and returns
	 * when no compaction is left to do. */
	leveldb_compact_range(s->db, NULL, 0, NULL, 0);
}
