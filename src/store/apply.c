/* SPDX-License-Identifier: MIT */
/*
 * store apply: remote versions (store_apply_batch), decided against the
 * stored ones by clock and resolver, and written with the HWMs they raise
 * in one WriteBatch.
 */
#include "store/store_int.h"
#include "lib/bytes.h"
#include "lib/endian.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/resolver.h"

/* ------------------------------------------------------------ remote writes */

/* The batch-local view of os (pend_* valid for this generation). */
static void origin_touch(struct store *s, struct origin_state *os)
{
	if (os->gen != s->gen) {
		os->gen = s->gen;
		os->pend_hwm = os->hwm;
		os->pend_log_max = os->log_max;
	}
}

/* Key order, then batch order: versions of one key stay in the order the
 * caller gave them. */
static int batch_ref_cmp(const void *pa, const void *pb)
{
	const struct batch_ref *a = pa, *b = pb;
	int c = bytes_cmp(a->v->key, a->v->key_len, b->v->key, b->v->key_len);

	return c != 0 ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

static int batch_scratch(struct store *s, size_t n, struct err *err)
{
	void *p;

	if (n > s->cap_batch) {
		p = realloc(s->refs, n * sizeof *s->refs);
		if (p == NULL)
			goto nomem;
		s->refs = p;
		p = realloc(s->outs, n * sizeof *s->outs);
		if (p == NULL)
			goto nomem;
		s->outs = p;
		p = realloc(s->vflags, n);
		if (p == NULL)
			goto nomem;
		s->vflags = p;
		p = realloc(s->vpos, n * sizeof *s->vpos);
		if (p == NULL)
			goto nomem;
		s->vpos = p;
		p = realloc(s->tdel, n * sizeof *s->tdel);
		if (p == NULL)
			goto nomem;
		s->tdel = p;
		s->cap_batch = n;
	}
	if (store__seqtab_reserve(s, n) != 0)
		goto nomem;
	return 0;
nomem:
	return err_set(err, RUMOR_ENOMEM, "store %s: out of memory", s->dir);
}

static int validate_version(const struct rumor_version *v, size_t i,
			    struct err *err)
{
	int rv = store__check_key(v->key, v->key_len, err);

	if (rv == 0)
		rv = store__check_value(v->value, v->value_len, err);
	if (rv == 0 && (v->origin == NULL ||
			v->origin_len != STORE_ORIGIN_BYTES))
		rv = err_set(err, RUMOR_EINVAL, "store: origin of %zu bytes",
			     v->origin == NULL ? 0 : v->origin_len);
	if (rv == 0 && v->deleted && (v->value != NULL || v->value_len != 0))
		rv = err_set(err, RUMOR_EINVAL, "store: a deletion with a value");
	if (rv == 0 && (v->clock == 0 || v->seq == 0))
		rv = err_set(err, RUMOR_EINVAL, "store: clock and seq start at 1");
	if (rv != 0)
		err_wrap(err, "store_apply_batch: version %zu", i);
	return rv;
}

/* Asks for the filter blocks of the version STORE_PREFETCH_AHEAD after
 * r in key order (for an add when for_add): the filters of a large store
 * are far bigger than the caches. */
static void prefetch_ahead(const struct store *s, size_t r, size_t n,
			   int for_add)
{
	const struct batch_ref *ahead;

	if (r + STORE_PREFETCH_AHEAD >= n)
		return;
	ahead = &s->refs[r + STORE_PREFETCH_AHEAD];
	bloom_prefetch(&s->kf, ahead->hash, for_add);
	bloom_prefetch(&s->lf, ahead->lhash, for_add);
}

/* Marks (VF_SHARED_SEQ) in s->vflags the versions whose (origin, seq)
 * another version of the batch carries too: only those need seq_taken's look at the batch.
 * One pass over a hash table of at least 2n slots (n <= STORE_APPLY_MAX
 * fits the uint32_t slots). */
static void mark_shared_seqs(struct store *s, const struct rumor_version *vs,
			     size_t n)
{
	size_t mask, slot, i, j;
	uint64_t o;

	assert(2 * n <= s->seqtab_size && s->seqtab_size <= s->cap_seqtab);
	mask = s->seqtab_size - 1;
	memset(s->seqtab, 0, s->seqtab_size * sizeof *s->seqtab);
	memset(s->vflags, 0, n);
	for (i = 0; i < n; i++) {
		memcpy(&o, vs[i].origin, sizeof o);
		slot = bloom_mix(vs[i].seq ^ o) & mask;
		for (;; slot = (slot + 1) & mask) {
			if (s->seqtab[slot] == 0) {
				s->seqtab[slot] = (uint32_t)i + 1;
				break;
			}
			j = s->seqtab[slot] - 1;
			if (vs[j].seq == vs[i].seq &&
			    memcmp(vs[j].origin, vs[i].origin,
				   STORE_ORIGIN_BYTES) == 0) {
				s->vflags[i] |= VF_SHARED_SEQ;
				s->vflags[j] |= VF_SHARED_SEQ;
				break;
			}
		}
	}
}

/* Whether (v->origin, v->seq) already names the write of another key, in
 * the store or among the winners of this batch so far. Only asked when
 * v->seq is not above every seq logged for the origin or decided in this
 * batch (the batch is decided in key order, so that is common); the batch
 * is looked at only when another version shares the (origin, seq) (rare:
 * a buggy or restored peer), the store only when the seq is not above
 * every one logged. */
static int seq_taken(struct store *s, const struct rumor_version *vs,
		     size_t n, const struct rumor_version *v,
		     const struct origin_state *os, int *taken, struct err *err)
{
	struct log_value lv;
	char lk[LOG_KEY_BYTES];
	char *lerr = NULL, *val;
	size_t vlen, j;

	*taken = 0;
	for (j = 0; (s->vflags[v - vs] & VF_SHARED_SEQ) && j < n; j++) {
		if (s->outs[j] == STORE_APPLIED && vs[j].seq == v->seq &&
		    memcmp(vs[j].origin, v->origin, STORE_ORIGIN_BYTES) == 0 &&
		    (vs[j].key_len != v->key_len ||
		     memcmp(vs[j].key, v->key, v->key_len) != 0)) {
			*taken = 1;
			return 0;
		}
	}
	if (v->seq > os->log_max ||
	    !bloom_maybe(&s->lf, store__log_hash(v->origin, v->seq)))
		return 0;
	format_log_key(lk, v->origin, v->seq);
	val = leveldb_get(s->db, s->ropts, lk, sizeof lk, &vlen, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "reading a log entry", err);
	if (val == NULL)
		return 0;
	if (format_log_decode(val, vlen, &lv) != 0) {
		leveldb_free(val);
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: unreadable log entry", s->dir);
	}
	*taken = lv.key_len != v->key_len ||
		 memcmp(lv.key, v->key, v->key_len) != 0;
	leveldb_free(val);
	return 0;
}

/* Decides vs[i] against the current version of its key (bk: the stored
 * one, or an earlier winner of this batch) and, when it wins, adds to
 * s->batch the deletions of the stored version's log and feed entries
 * (the meta and entries of the winner come once the positions are known:
 * apply_add_writes). d_* get the changes of the counts. */
static int apply_one(struct store *s, const struct rumor_version *vs,
		     size_t n, size_t i, struct batch_key *bk, int64_t *d_keys,
		     int64_t *d_tombs, int64_t *d_log, struct err *err)
{
	const struct rumor_version *v = &vs[i];
	struct rumor_version cur;
	struct origin_state *os;
	char lk[LOG_KEY_BYTES];
	int have_cur, c, rv, taken;

	/* Not ours to hold (the sync layer should not have sent it). */
	if (!prefixes_match(&s->repl, v->key, v->key_len)) {
		s->outs[i] = STORE_OUTSIDE;
		return 0;
	}
	if (bk->winner != NULL) {
		cur = *bk->winner;
		have_cur = 1;
	} else {
		have_cur = bk->found;
		if (have_cur) {
			/* The resolver may look at the value (in a
			 * same-clock conflict); it came with the meta. A live
			 * value is never NULL (resolver ABI). */
			assert(bk->stored.deleted || bk->stored.value != NULL);
			store__version_of_meta(&cur, v->key, v->key_len,
					       &bk->stored);
		}
	}
	if (have_cur) {
		c = resolver_order(s->resolver, v, &cur, NULL);
		if (c == 0) {
			s->outs[i] = STORE_IDENTICAL;
			return 0;
		}
		if (c > 0) {
			s->outs[i] = STORE_STALE;
			return 0;
		}
	}

	os = store__origin_find(s, v->origin);
	assert(os != NULL);
	origin_touch(s, os);
	if (v->seq <= os->pend_log_max) {
		rv = seq_taken(s, vs, n, v, os, &taken, err);
		if (rv != 0)
			return rv;
		if (taken) {
			s->outs[i] = STORE_STALE;
			s->stats.seq_conflicts++;
			return 0;
		}
	} else {
		os->pend_log_max = v->seq;
	}

	/* The stored version's log entry goes. An earlier winner of this
	 * batch has none to delete: log entries are added after the decisions,
	 * for the last winner of each key only (see store_apply_batch). The
	 * deletion comes before that put, which may take the very slot (same
	 * origin and seq, another clock). */
	if (have_cur && bk->winner == NULL) {
		format_log_key(lk, cur.origin, cur.seq);
		leveldb_writebatch_delete(s->batch, lk, sizeof lk);
		/* So does its feed entry (the position is in the meta). */
		store__feed_del(s, bk->stored.pos);
		/* A stored tombstone replaced: the index forgets it once the
		 * batch is durable. */
		if (cur.deleted) {
			memcpy(s->tdel[s->n_tdel].origin, cur.origin,
			       STORE_ORIGIN_BYTES);
			s->tdel[s->n_tdel++].seq = cur.seq;
		}
	}
	if (!have_cur)
		(*d_log)++;
	else if (cur.deleted)
		(*d_tombs)--;
	else
		(*d_keys)--;
	if (v->deleted)
		(*d_tombs)++;
	else
		(*d_keys)++;
	bk->winner = v;
	s->outs[i] = STORE_APPLIED;
	return 0;
}

/* The checks and the scratch of an apply batch, before anything is
 * decided: every version valid, every origin with its entry (so that the
 * pointers of the decision pass stay put), the batch in key order in
 * s->refs with its hashes, the shared seqs marked. */
static int apply_prepare(struct store *s, const struct rumor_version *vs,
			 size_t n, const struct store_hwm *raise,
			 size_t n_raise, struct err *err)
{
	size_t i, r, dels;
	int rv;

	if (n > STORE_APPLY_MAX)
		return err_set(err, RUMOR_ETOOBIG,
			       "store_apply_batch: %zu versions (at most %u)",
			       n, STORE_APPLY_MAX);
	for (i = 0; i < n; i++) {
		rv = validate_version(&vs[i], i, err);
		if (rv != 0)
			return rv;
	}
	if (s->feed_head > UINT64_MAX - n)
		return err_set(err, RUMOR_EINVAL, "store: positions exhausted");
	for (i = 0; i < n; i++)
		if (store__origin_get(s, vs[i].origin) == NULL)
			goto nomem;
	for (i = 0; i < n_raise; i++)
		if (store__origin_get(s, raise[i].origin) == NULL)
			goto nomem;
	rv = batch_scratch(s, n, err);
	if (rv != 0)
		return rv;
	/* Room in the tombstone index for the deletions: after the commit
	 * nothing may fail. */
	for (i = 0, dels = 0; i < n; i++) {
		if (!vs[i].deleted)
			continue;
		dels++;
		if (store__tomb_origin(s, vs[i].origin) != 0)
			goto nomem;
	}
	if (dels > 0 && store__tomb_reserve(s, dels) != 0)
		goto nomem;

	/* Deciding in key order keeps the reads and the memtable inserts of
	 * one batch near each other in LevelDB (warm caches), and puts the
	 * versions of one key side by side. Versions of different keys are
	 * independent, so the order between them changes no outcome (but for
	 * which of two keys claiming one (origin, seq) is refused). */
	for (i = 0; i < n; i++) {
		s->refs[i].v = &vs[i];
		s->refs[i].idx = i;
		s->refs[i].kf_add = 0;
		s->outs[i] = 0;
	}
	/* A key-order stream (sync.c) sends batches sorted already: one
	 * pass finds out, and the sort is skipped. */
	for (r = 1; r < n && batch_ref_cmp(&s->refs[r - 1], &s->refs[r]) < 0;
	     r++)
		;
	if (r < n)
		qsort(s->refs, n, sizeof *s->refs, batch_ref_cmp);
	if (n > 0)
		mark_shared_seqs(s, vs, n);
	for (r = 0; r < n; r++) {
		s->refs[r].hash = bloom_hash(s->refs[r].v->key,
					     s->refs[r].v->key_len);
		s->refs[r].lhash = store__log_hash(s->refs[r].v->origin,
						   s->refs[r].v->seq);
	}
	return 0;
nomem:
	return err_set(err, RUMOR_ENOMEM, "store %s: out of memory", s->dir);
}

/* What the decision pass of an apply batch adds up. */
struct apply_sums {
	int64_t d_keys, d_tombs, d_log;
	size_t applied, stale, identical;
	uint64_t local_seq;     /* the counter the batch moves to */
	uint64_t head;          /* the feed head the batch moves to */
};

/* Decides every version of the batch in key order (s->refs), adding the
 * deletions of replaced log and feed entries to s->batch; s->outs gets the outcomes, s->vflags marks the last winner of
 * each key (VF_LOGGED). */
static int apply_decide(struct store *s, const struct rumor_version *vs,
			size_t n, struct apply_sums *sum, struct err *err)
{
	struct batch_key bk;
	uint64_t hash = 0;
	size_t i, r;
	int rv = 0, key_pending = 0;

	bk.winner = NULL;
	bk.raw = NULL;
	s->n_tdel = 0;
	for (r = 0; r < n; r++) {
		i = s->refs[r].idx;
		prefetch_ahead(s, r, n, 0);
		if (r == 0 || bytes_cmp(vs[i].key, vs[i].key_len,
					s->refs[r - 1].v->key,
					s->refs[r - 1].v->key_len) != 0) {
			if (r > 0 && bk.winner != NULL)
				s->vflags[bk.winner - vs] |= VF_LOGGED;
			bk.winner = NULL;
			bk.found = 0;
			key_pending = 0;
			leveldb_free(bk.raw);
			bk.raw = NULL;
			hash = s->refs[r].hash;
			if (bloom_maybe(&s->kf, hash)) {
				store__kbuf_set(s, PFX_META, vs[i].key,
						vs[i].key_len);
				rv = store__meta_read(s, s->ropts,
						      1 + vs[i].key_len,
						      &bk.stored, &bk.found,
						      &bk.raw, err);
				if (rv != 0)
					break;
			}
		}
		rv = apply_one(s, vs, n, i, &bk, &sum->d_keys, &sum->d_tombs,
			       &sum->d_log, err);
		if (rv != 0)
			break;
		/* The first winner of a key not stored yet adds it. */
		if (!bk.found && s->outs[i] == STORE_APPLIED &&
		    bk.winner == &vs[i] && !key_pending) {
			s->refs[r].hash = hash;
			s->refs[r].kf_add = 1;
			key_pending = 1;
		}
		if (s->outs[i] == STORE_APPLIED)
			sum->applied++;
		else if (s->outs[i] == STORE_STALE)
			sum->stale++;
		else if (s->outs[i] == STORE_IDENTICAL)
			sum->identical++;
		/* Even a losing version of ours proves that seq was used. */
		if (memcmp(vs[i].origin, s->origin, STORE_ORIGIN_BYTES) == 0 &&
		    vs[i].seq > sum->local_seq)
			sum->local_seq = vs[i].seq;
	}
	leveldb_free(bk.raw);
	if (rv == 0 && n > 0 && bk.winner != NULL)
		s->vflags[bk.winner - vs] |= VF_LOGGED;
	return rv;
}

/* Adds to s->batch the metas, log and feed entries of the last winners,
 * the HWMs the batch raises and the seq counter when it moves past the
 * own HWM. Every applied version gets the next position in the caller's
 * order (s->vpos; on_change reports them in that order), so that the last
 * winner of a key has the highest of its key's. Returns whether anything
 * was added (an apply with no winner may still raise HWMs); RUMOR_ENOMEM
 * through *rv. */
static int apply_add_writes(struct store *s, const struct rumor_version *vs,
			    size_t n, const struct store_hwm *raise,
			    size_t n_raise, struct apply_sums *sum, int *rv,
			    struct err *err)
{
	struct origin_state *os;
	struct meta m;
	uint8_t seqbuf[8];
	char hk[HWM_KEY_BYTES], lk[LOG_KEY_BYTES];
	size_t i, llen, klen;
	int dirty = 0;

	*rv = 0;
	/* The log entries, in the caller's order: a stream gives each
	 * origin's entries in seq order, so they go into LevelDB's memtable
	 * as appends rather than at random places (measured: ~10% of an
	 * apply at 100-byte values). */
	sum->head = s->feed_head;
	for (i = 0; i < n; i++) {
		if (s->outs[i] != STORE_APPLIED)
			continue;
		s->vpos[i] = ++sum->head;
		if (!(s->vflags[i] & VF_LOGGED))
			continue;
		dirty = 1;
		m.clock = vs[i].clock;
		m.seq = vs[i].seq;
		m.wall_ms = vs[i].wall_ms;
		m.deleted = vs[i].deleted != 0;
		m.pos = s->vpos[i];
		memcpy(m.origin, vs[i].origin, STORE_ORIGIN_BYTES);
		klen = store__kbuf_set(s, PFX_META, vs[i].key, vs[i].key_len);
		*rv = store__meta_put(s, klen, &m, vs[i].value,
				      vs[i].value_len, err);
		if (*rv != 0)
			return dirty;
		store__feed_put(s, m.pos, vs[i].key, vs[i].key_len);
		format_log_key(lk, vs[i].origin, vs[i].seq);
		llen = format_log_encode(s->lbuf, vs[i].clock, vs[i].wall_ms,
					 vs[i].deleted != 0, vs[i].key,
					 vs[i].key_len);
		leveldb_writebatch_put(s->batch, lk, sizeof lk, s->lbuf, llen);
	}
	for (i = 0; i < n_raise; i++) {
		os = store__origin_find(s, raise[i].origin);
		assert(os != NULL);
		origin_touch(s, os);
		if (raise[i].seq > os->pend_hwm)
			os->pend_hwm = raise[i].seq;
		if (memcmp(raise[i].origin, s->origin,
			   STORE_ORIGIN_BYTES) == 0 &&
		    raise[i].seq > sum->local_seq)
			sum->local_seq = raise[i].seq;
	}
	for (i = 0; i < s->n_origins; i++) {
		os = &s->origins[i];
		if (os->gen != s->gen || os->pend_hwm <= os->hwm)
			continue;
		format_hwm_key(hk, os->origin);
		format_u64_encode(seqbuf, os->pend_hwm);
		leveldb_writebatch_put(s->batch, hk, sizeof hk,
				       (const char *)seqbuf, sizeof seqbuf);
		dirty = 1;
	}
	os = store__origin_find(s, s->origin);
	assert(os != NULL);
	if (sum->local_seq > s->local_seq &&
	    (os->gen != s->gen || sum->local_seq > os->pend_hwm)) {
		format_u64_encode(seqbuf, sum->local_seq);
		leveldb_writebatch_put(s->batch, SINGLE_SEQ, strlen(SINGLE_SEQ),
				       (const char *)seqbuf, sizeof seqbuf);
		dirty = 1;
	}
	return dirty;
}

/* After the commit of an apply batch: the memory view follows what is
 * now durable (filters, HWMs, log_max, counter, counts). */
static void apply_after_commit(struct store *s,
			       const struct rumor_version *vs, size_t n,
			       const struct apply_sums *sum)
{
	struct origin_state *os;
	size_t i, r;

	for (r = 0; r < n; r++) {
		prefetch_ahead(s, r, n, 1);
		if (s->refs[r].kf_add)
			bloom_add(&s->kf, s->refs[r].hash);
		if (s->vflags[s->refs[r].idx] & VF_LOGGED)
			bloom_add(&s->lf, s->refs[r].lhash);
	}
	for (i = 0; i < s->n_origins; i++) {
		os = &s->origins[i];
		if (os->gen != s->gen)
			continue;
		if (os->pend_hwm > os->hwm)
			os->hwm = os->pend_hwm;
		if (os->pend_log_max > os->log_max)
			os->log_max = os->pend_log_max;
	}
	s->local_seq = sum->local_seq;
	s->feed_head = sum->head;
	s->stats.applied += sum->applied;
	s->stats.stale += sum->stale;
	s->stats.identical += sum->identical;
	s->stats.keys = (uint64_t)((int64_t)s->stats.keys + sum->d_keys);
	s->stats.tombstones = (uint64_t)((int64_t)s->stats.tombstones +
					 sum->d_tombs);
	s->stats.log_entries = (uint64_t)((int64_t)s->stats.log_entries +
					  sum->d_log);
	/* The tombstone index: replaced ones go first (a winner may take
	 * the very (origin, seq) of the tombstone it replaces). */
	for (i = 0; i < s->n_tdel; i++)
		store__tomb_del(s, s->tdel[i].origin, s->tdel[i].seq);
	for (i = 0; i < n; i++)
		if ((s->vflags[i] & VF_LOGGED) && vs[i].deleted)
			store__tomb_add(s, vs[i].origin, vs[i].seq);
}

int store_apply_batch(struct store *s, const struct rumor_version *vs,
		      size_t n, const struct store_hwm *raise, size_t n_raise,
		      int *outcomes, struct err *err)
{
	struct apply_sums sum;
	uint64_t conflicts0;
	size_t i;
	int rv, dirty;

	if (s == NULL || (vs == NULL && n > 0) ||
	    (raise == NULL && n_raise > 0))
		return err_set(err, RUMOR_EINVAL,
			       "store_apply_batch: NULL argument");
	rv = store__check_writable(s, "store_apply_batch", err);
	if (rv == 0)
		rv = apply_prepare(s, vs, n, raise, n_raise, err);
	if (rv != 0)
		return rv;

	s->gen++;
	memset(&sum, 0, sizeof sum);
	sum.local_seq = s->local_seq;
	conflicts0 = s->stats.seq_conflicts;
	leveldb_writebatch_clear(s->batch);
	rv = apply_decide(s, vs, n, &sum, err);
	if (rv != 0)
		goto err_after_batch;
	dirty = apply_add_writes(s, vs, n, raise, n_raise, &sum, &rv, err);
	if (rv != 0)
		goto err_after_batch;
	if (sum.applied > 0 || dirty || s->extra != NULL) {
		rv = store__commit(s, "remote apply", err);
		if (rv != 0)
			goto err_after_batch;
	}

	/* Durable: the memory view follows. */
	apply_after_commit(s, vs, n, &sum);
	if (n > 0)
		histogram_observe(&s->stats.apply_batch, (double)n);
	if (outcomes != NULL && n > 0)
		memcpy(outcomes, s->outs, n * sizeof *outcomes);
	for (i = 0; i < n; i++)
		if (s->outs[i] == STORE_APPLIED)
			store__notify(s, &vs[i], 0, s->vpos[i]);
	return 0;

err_after_batch:
	leveldb_writebatch_clear(s->batch);
	s->stats.seq_conflicts = conflicts0;
	/* A later generation makes the pend_* values of this one void. */
	return rv;
}
