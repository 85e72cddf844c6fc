/* SPDX-License-Identifier: MIT */
/*
 * store write: local writes (store_write_batch, store_put, store_del), one
 * WriteBatch a call: metas with values, log entries, the own HWM.
 */
#include "store/store_int.h"
#include "lib/array.h"
#include "lib/bytes.h"
#include "lib/endian.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ local writes */

/* Checks every op of a local batch before anything is written, and gets
 * the scratch for it. "what" names the caller in messages. */
/* The open-addressing table of the batch paths: s->seqtab_size, the
 * smallest power of two of at least 2n slots (so probes stay short), is
 * what this batch uses of the table, which only grows; a small batch after
 * a large one clears only its own slots. 0, or -1 out of memory. */
int store__seqtab_reserve(struct store *s, size_t n)
{
	size_t size = 16;
	void *p;

	while (size < 2 * n)
		size <<= 1;
	if (size > s->cap_seqtab) {
		p = array_grow(s->seqtab, &s->cap_seqtab, size,
			       sizeof *s->seqtab, 16);
		if (p == NULL)
			return -1;
		s->seqtab = p;
	}
	s->seqtab_size = size;
	return 0;
}

static int wb_validate(struct store *s, const struct store_op *ops, size_t n,
		       const char *what, struct err *err)
{
	size_t i, bytes = 0;
	void *p;
	int rv;

	if (n > STORE_WRITE_BATCH_MAX)
		return err_set(err, RUMOR_ETOOBIG, "%s: %zu ops (at most %u)",
			       what, n, STORE_WRITE_BATCH_MAX);
	for (i = 0; i < n; i++) {
		rv = store__check_key(ops[i].key, ops[i].key_len, err);
		if (rv == 0 && !ops[i].del)
			rv = store__check_value(ops[i].value, ops[i].value_len, err);
		if (rv == 0 && ops[i].del &&
		    (ops[i].value != NULL || ops[i].value_len != 0))
			rv = err_set(err, RUMOR_EINVAL,
				     "store: a delete with a value");
		if (rv != 0) {
			if (n > 1)
				err_wrap(err, "%s: op %zu", what, i);
			return rv;
		}
		/* Each term is at most RUMOR_KEY_MAX + RUMOR_VALUE_MAX and
		 * the sum stops at the bound: no overflow. */
		bytes += ops[i].key_len + (ops[i].del ? 0 : ops[i].value_len);
		if (bytes > STORE_WRITE_BATCH_BYTES)
			return err_set(err, RUMOR_ETOOBIG,
				       "%s: more than %u key and value bytes (at op %zu)",
				       what, STORE_WRITE_BATCH_BYTES, i);
	}
	if (s->local_seq > UINT64_MAX - n)
		return err_set(err, RUMOR_EINVAL, "store: seq exhausted");
	if (n > s->cap_wb) {
		p = realloc(s->wb, n * sizeof *s->wb);
		if (p == NULL)
			goto nomem;
		s->wb = p;
		s->cap_wb = n;
	}
	if (n > 1 && store__seqtab_reserve(s, n) != 0)
		goto nomem;
	return 0;
nomem:
	return err_set(err, RUMOR_ENOMEM, "store %s: out of memory", s->dir);
}

/* Fills s->wb: each op's key hash, and the earlier op of the same key
 * (prev), found with a hash table of at least 2n slots in s->seqtab
 * (n <= STORE_WRITE_BATCH_MAX fits the uint32_t slots). */
static void wb_link_repeats(struct store *s, const struct store_op *ops,
			    size_t n)
{
	size_t mask, slot, i, j;

	for (i = 0; i < n; i++) {
		s->wb[i].hash = bloom_hash(ops[i].key, ops[i].key_len);
		s->wb[i].prev = 0;
		s->wb[i].superseded = 0;
	}
	if (n < 2)
		return;
	assert(2 * n <= s->seqtab_size && s->seqtab_size <= s->cap_seqtab);
	mask = s->seqtab_size - 1;
	memset(s->seqtab, 0, s->seqtab_size * sizeof *s->seqtab);
	for (i = 0; i < n; i++) {
		for (slot = s->wb[i].hash & mask;; slot = (slot + 1) & mask) {
			if (s->seqtab[slot] == 0)
				break;
			j = s->seqtab[slot] - 1;
			if (s->wb[j].hash == s->wb[i].hash &&
			    bytes_cmp(ops[j].key, ops[j].key_len, ops[i].key,
				    ops[i].key_len) == 0) {
				s->wb[i].prev = (uint32_t)j + 1;
				s->wb[j].superseded = 1;
				break;
			}
		}
		/* The slot now names the latest op of the key. */
		s->seqtab[slot] = (uint32_t)i + 1;
	}
}

/* Room in the tombstone index for the deletes of a batch, before
 * anything is written: after the commit nothing may fail. */
static int wb_reserve_tombs(struct store *s, const struct store_op *ops,
			    size_t n, struct err *err)
{
	size_t i, dels = 0;

	for (i = 0; i < n; i++)
		dels += ops[i].del != 0;
	if (dels > 0 && (store__tomb_origin(s, s->origin) != 0 ||
			 store__tomb_reserve(s, dels) != 0))
		return err_set(err, RUMOR_ENOMEM, "store %s: out of memory",
			       s->dir);
	return 0;
}

/* After the commit of a local batch of n ops from seq first: the memory
 * view follows what is now durable (counter, own HWM, filters, counts,
 * feed head), then on_change hears of each op in op order. */
static void wb_after_commit(struct store *s, const struct store_op *ops,
			    size_t n, uint64_t first, uint64_t wall_ms)
{
	uint64_t pos0 = s->feed_head + 1;

	struct origin_state *own = store__origin_find(s, s->origin);
	struct rumor_version v;
	struct wb_slot *w;
	size_t i;

	s->local_seq = first + n - 1;
	own->hwm = s->local_seq;
	own->log_max = s->local_seq;
	for (i = 0; i < n; i++) {
		w = &s->wb[i];
		if (w->was == WB_WAS_NONE)
			bloom_add(&s->kf, w->hash);
		bloom_add(&s->lf, store__log_hash(s->origin, first + i));
		if (w->was == WB_WAS_NONE)
			s->stats.log_entries++;
		else if (w->was == WB_WAS_TOMB)
			s->stats.tombstones--;
		else
			s->stats.keys--;
		if (ops[i].del)
			s->stats.tombstones++;
		else
			s->stats.keys++;
	}
	s->stats.local_writes += n;
	s->feed_head += n;
	/* The tombstone index: replaced ones go first (all older seqs),
	 * then the batch's own that no later op of their key replaced. */
	for (i = 0; i < n; i++)
		if (s->wb[i].was == WB_WAS_TOMB && s->wb[i].prev == 0)
			store__tomb_del(s, s->wb[i].old_origin,
					s->wb[i].old_seq);
	for (i = 0; i < n; i++)
		if (ops[i].del && !s->wb[i].superseded)
			store__tomb_add(s, s->origin, first + i);
	if (s->hooks.on_change == NULL)
		return;
	for (i = 0; i < n; i++) {
		v.key = ops[i].key;
		v.key_len = ops[i].key_len;
		v.deleted = ops[i].del != 0;
		v.value = v.deleted ? NULL : ops[i].value;
		v.value_len = v.deleted ? 0 : ops[i].value_len;
		/* The resolver ABI: a live value is never NULL. */
		if (!v.deleted && v.value == NULL)
			v.value = "";
		v.clock = s->wb[i].clock;
		v.wall_ms = wall_ms;
		v.origin = s->origin;
		v.origin_len = STORE_ORIGIN_BYTES;
		v.seq = first + i;
		store__notify(s, &v, 1, pos0 + i);
	}
}

static int local_write_batch(struct store *s, const struct store_op *ops,
			     size_t n, const char *what, uint64_t *first_seq,
			     struct err *err)
{
	struct origin_state *own;
	struct meta old, m;
	struct wb_slot *w;
	uint8_t seqbuf[8];
	char lk[LOG_KEY_BYTES], hk[HWM_KEY_BYTES];
	uint64_t first, wall_ms, base, pos0;
	size_t i, klen, llen;
	int found, rv;

	if (s == NULL || (ops == NULL && n > 0))
		return err_set(err, RUMOR_EINVAL, "%s: NULL argument", what);
	rv = store__check_writable(s, what, err);
	if (rv == 0)
		rv = wb_validate(s, ops, n, what, err);
	if (rv != 0)
		return rv;
	if (n == 0) {
		if (first_seq != NULL)
			*first_seq = 0;
		return 0;
	}
	rv = wb_reserve_tombs(s, ops, n, err);
	if (rv != 0)
		return rv;
	own = store__origin_find(s, s->origin);
	assert(own != NULL && own->hwm <= s->local_seq &&
	       own->log_max <= s->local_seq);
	(void)own;      /* read by the assertion only */
	wb_link_repeats(s, ops, n);

	first = s->local_seq + 1;
	if (s->feed_head > UINT64_MAX - n)
		return err_set(err, RUMOR_EINVAL, "store: positions exhausted");
	pos0 = s->feed_head + 1;
	/* One instant for the batch: it commits as one. */
	wall_ms = store__now_ms(s);
	s->last_wall_ms = wall_ms;
	memcpy(m.origin, s->origin, STORE_ORIGIN_BYTES);
	m.wall_ms = wall_ms;
	leveldb_writebatch_clear(s->batch);
	for (i = 0; i < n; i++) {
		w = &s->wb[i];
		if (i + STORE_PREFETCH_AHEAD < n)
			bloom_prefetch(&s->kf, s->wb[i + STORE_PREFETCH_AHEAD].hash, 0);
		klen = store__kbuf_set(s, PFX_META, ops[i].key, ops[i].key_len);
		found = 0;
		if (w->prev != 0) {
			/* The current version is the earlier op's, whose log
			 * entry this batch put: it goes again. */
			found = 1;
			old.clock = s->wb[w->prev - 1].clock;
			old.seq = first + (w->prev - 1);
			old.deleted = ops[w->prev - 1].del != 0;
			old.pos = pos0 + (w->prev - 1);
			memcpy(old.origin, s->origin, STORE_ORIGIN_BYTES);
		} else if (bloom_maybe(&s->kf, w->hash)) {
			rv = store__meta_read(s, s->ropts, klen, &old, &found, NULL,
				       err);
			if (rv != 0)
				goto err_after_batch;
		}
		/* Above the stored clock and above every clock this node
		 * collected (the clock floor, gc.c): a key rewritten after
		 * its tombstone went must beat that tombstone where it
		 * remains. */
		base = found && old.clock > s->clock_floor ? old.clock :
		       s->clock_floor;
		/* A strong commit (intent.c): above every vote's clock. */
		if (s->clock_min != NULL && s->clock_min[i] > 0 &&
		    s->clock_min[i] - 1 > base)
			base = s->clock_min[i] - 1;
		if (base == UINT64_MAX) {
			rv = err_set(err, RUMOR_EINVAL, "store: clock exhausted");
			goto err_after_batch;
		}
		m.clock = base + 1;
		m.seq = first + i;
		m.pos = pos0 + i;
		m.deleted = ops[i].del != 0;
		if (found) {
			format_log_key(lk, old.origin, old.seq);
			leveldb_writebatch_delete(s->batch, lk, sizeof lk);
			store__feed_del(s, old.pos);
		}
		store__feed_put(s, m.pos, ops[i].key, ops[i].key_len);
		rv = store__meta_put(s, klen, &m, ops[i].value, ops[i].value_len, err);
		if (rv != 0)
			goto err_after_batch;
		format_log_key(lk, s->origin, m.seq);
		llen = format_log_encode(s->lbuf, m.clock, wall_ms, m.deleted,
				  ops[i].key, ops[i].key_len);
		leveldb_writebatch_put(s->batch, lk, sizeof lk, s->lbuf, llen);
		w->clock = m.clock;
		w->was = !found ? WB_WAS_NONE :
			 old.deleted ? WB_WAS_TOMB : WB_WAS_LIVE;
		if (w->was == WB_WAS_TOMB && w->prev == 0) {
			/* A stored tombstone goes: the index forgets it. */
			memcpy(w->old_origin, old.origin, STORE_ORIGIN_BYTES);
			w->old_seq = old.seq;
		}
	}
	/* The HWM carries the seq counter too (see the top of the file). */
	endian_put_be64(seqbuf, first + n - 1);
	format_hwm_key(hk, s->origin);
	leveldb_writebatch_put(s->batch, hk, sizeof hk, (const char *)seqbuf,
			       sizeof seqbuf);
	rv = store__commit(s, n > 1 ? "local batch" :
		       ops[0].del ? "local delete" : "local put", err);
	if (rv != 0)
		return rv;

	/* Durable: the memory view follows. */
	wb_after_commit(s, ops, n, first, wall_ms);
	if (first_seq != NULL)
		*first_seq = first;
	return 0;

err_after_batch:
	leveldb_writebatch_clear(s->batch);
	return rv;
}

int store_write_batch(struct store *s, const struct store_op *ops, size_t n,
		      uint64_t *first_seq, struct err *err)
{
	return local_write_batch(s, ops, n, "store_write_batch", first_seq,
				 err);
}

int store_put(struct store *s, const void *key, size_t key_len,
	      const void *value, size_t value_len, uint64_t *out_seq,
	      struct err *err)
{
	struct store_op op = {key, key_len, value, value_len, 0};

	return local_write_batch(s, &op, 1, "store_put", out_seq, err);
}

int store_del(struct store *s, const void *key, size_t key_len,
	      uint64_t *out_seq, struct err *err)
{
	struct store_op op = {key, key_len, NULL, 0, 1};

	return local_write_batch(s, &op, 1, "store_del", out_seq, err);
}
