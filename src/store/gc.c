/* SPDX-License-Identifier: MIT */
/*
 * store gc: the tombstone index and tombstone collection
 * (store_collect_tombstones).
 *
 * The index holds the (origin, seq) of every tombstone in the store,
 * exactly: store_open fills it from the scan it does anyway, and every
 * write, apply and collection keeps it, after its batch commits. So a
 * collection with no tombstone returns at once, and one with a few looks
 * at those few, reading nothing from LevelDB but the tombstones it
 * removes (each meta and log entry once, without filling the block cache
 * that the hot paths use). Before it, collection walked up to 16,384
 * metas through the cache on every call (twice a second on a node), even
 * in a store without a single tombstone.
 *
 * An open-addressing table (linear probing, backward-shift deletion) of
 * 16-byte slots: the seq (0: an empty slot; seqs start at 1) and a small
 * id for the origin (struct tombs.origins), so that an entry does not
 * carry 32 bytes of origin. Collection walks the slots from where the last
 * call stopped (tombs.cursor), so each call goes on with the next
 * tombstones rather than looking at the same ones again.
 *
 * The clock floor (s|clockfloor, store.clock_floor). A key's clock is a
 * Lamport counter kept in its stored version: a local write takes the
 * stored clock + 1, so it beats every version this node held for the key.
 * Collection forgets that clock, and other nodes may still hold the
 * tombstone (a member that has seen it has not necessarily collected it).
 * A rewrite that started again at clock 1 would lose to the tombstone
 * there, their HWMs would move past it, and once they collect the
 * tombstone too the key is gone on them and live here, for good (the
 * simulator found it). So a collection raises the floor to the highest
 * clock it removes, in the same WriteBatch as the removals (a crash
 * leaves both or neither), and a local write takes max(stored clock,
 * floor) + 1: above every clock this node ever held for the key, so it
 * wins by clock wherever the tombstone, or any older version, remains.
 *  - Remote applies need not raise it: an apply never forgets a clock.
 *    A version it replaces has a clock no higher than its winner's (a
 *    higher clock wins, a tie goes to the resolver), and the winner stays
 *    stored. Only collection removes a key's last version.
 *  - A per-key floor cannot be kept: the point of collection is that
 *    nothing of the key stays. A node-wide floor is sound because clocks
 *    order versions of one key only: a write of another key that gets a
 *    higher clock than it would have is still a Lamport clock (above
 *    everything this node held for that key); it only wins against
 *    concurrent writes of the key with lower clocks, which the clock
 *    order allows anyway.
 *  - A node that never collects keeps floor 0 and behaves as before.
 *  - A store written before the floor existed reads as floor 0: the
 *    tombstones it collected then are not covered.
 */
#include "store/store_int.h"
#include "lib/array.h"
#include "lib/bytes.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define TOMBS_MIN_SLOTS 64u
/* Most slots one collection walks: a table may be sparse (it shrinks only
 * below an eighth full), and an empty slot costs a little too. */
#define TOMBS_WALK_MAX (4u * STORE_COLLECT_SCAN_MAX)

static size_t tomb_home(const struct tombs *t, uint32_t oid, uint64_t seq)
{
	return (size_t)bloom_mix(seq ^ ((uint64_t)oid << 40) ^
				 0x9e3779b97f4a7c15ull) & t->mask;
}

/* Moves every entry into a table of size slots (a power of two, more than
 * the entries). -1 when out of memory (the table is unchanged). */
static int tomb_rehash(struct tombs *t, size_t size)
{
	struct tomb_slot *old = t->slots, *slots;
	size_t old_size = t->slots != NULL ? t->mask + 1 : 0, i, j;

	assert(size > t->n && (size & (size - 1)) == 0);
	slots = calloc(size, sizeof *slots);
	if (slots == NULL)
		return -1;
	t->slots = slots;
	t->mask = size - 1;
	for (i = 0; i < old_size; i++) {
		if (old[i].seq == 0)
			continue;
		for (j = tomb_home(t, old[i].oid, old[i].seq);
		     slots[j].seq != 0; j = (j + 1) & t->mask)
			;
		slots[j] = old[i];
	}
	free(old);
	t->cursor = 0;
	return 0;
}

int store__tomb_reserve(struct store *s, size_t more)
{
	struct tombs *t = &s->tombs;
	size_t size = t->slots != NULL ? t->mask + 1 : TOMBS_MIN_SLOTS;

	if (more > SIZE_MAX / 2 - t->n)
		return -1;
	/* At most half full: probes stay short. */
	while (size < 2 * (t->n + more)) {
		if (size > SIZE_MAX / 2 / sizeof *t->slots)
			return -1;
		size *= 2;
	}
	if (t->slots != NULL && size == t->mask + 1)
		return 0;
	return tomb_rehash(t, size);
}

int store__tomb_origin(struct store *s, const uint8_t *origin)
{
	struct tombs *t = &s->tombs;
	struct origin_state *os = store__origin_get(s, origin);
	uint8_t (*grown)[STORE_ORIGIN_BYTES];

	if (os == NULL)
		return -1;
	if (os->tomb_oid != 0)
		return 0;
	if (t->n_origins == UINT32_MAX - 1)
		return -1;
	if (t->n_origins == t->cap_origins) {
		grown = array_grow(t->origins, &t->cap_origins,
				   t->n_origins + 1, sizeof *grown, 8);
		if (grown == NULL)
			return -1;
		t->origins = grown;
	}
	memcpy(t->origins[t->n_origins], origin, STORE_ORIGIN_BYTES);
	os->tomb_oid = (uint32_t)++t->n_origins;
	return 0;
}

/* The id of origin in the index, 0 when it has none. */
static uint32_t tomb_oid(const struct store *s, const uint8_t *origin)
{
	const struct origin_state *os = store__origin_find(s, origin);

	return os != NULL ? os->tomb_oid : 0;
}

/* The slot of (oid, seq), or SIZE_MAX when it is not in the index. */
static size_t tomb_find(const struct tombs *t, uint32_t oid, uint64_t seq)
{
	size_t i;

	if (t->slots == NULL || oid == 0)
		return SIZE_MAX;
	for (i = tomb_home(t, oid, seq); t->slots[i].seq != 0;
	     i = (i + 1) & t->mask)
		if (t->slots[i].seq == seq && t->slots[i].oid == oid)
			return i;
	return SIZE_MAX;
}

void store__tomb_add(struct store *s, const uint8_t *origin, uint64_t seq)
{
	struct tombs *t = &s->tombs;
	uint32_t oid = tomb_oid(s, origin);
	size_t i;

	assert(oid != 0 && seq != 0 && t->slots != NULL &&
	       2 * (t->n + 1) <= t->mask + 1);
	for (i = tomb_home(t, oid, seq); t->slots[i].seq != 0;
	     i = (i + 1) & t->mask)
		if (t->slots[i].seq == seq && t->slots[i].oid == oid)
			return;
	t->slots[i].seq = seq;
	t->slots[i].oid = oid;
	t->n++;
}

/* Empties slot i and moves up the entries after it that probed past it
 * (backward-shift deletion: no markers, probes stay short). */
static void tomb_remove_slot(struct tombs *t, size_t i)
{
	size_t j = i, home;

	for (;;) {
		j = (j + 1) & t->mask;
		if (t->slots[j].seq == 0)
			break;
		home = tomb_home(t, t->slots[j].oid, t->slots[j].seq);
		/* Entry j may fill the hole at i when its home is not in
		 * (i, j] (cyclically). */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	t->slots[i].seq = 0;
	t->slots[i].oid = 0;
	t->n--;
}

void store__tomb_del(struct store *s, const uint8_t *origin, uint64_t seq)
{
	size_t i = tomb_find(&s->tombs, tomb_oid(s, origin), seq);

	assert(i != SIZE_MAX);
	if (i != SIZE_MAX)
		tomb_remove_slot(&s->tombs, i);
}

int store__tomb_has(const struct store *s, const uint8_t *origin,
		    uint64_t seq)
{
	return tomb_find(&s->tombs, tomb_oid(s, origin), seq) != SIZE_MAX;
}

void store__tombs_free(struct tombs *t)
{
	free(t->slots);
	free(t->origins);
	free(t->gone);
	memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------ collection */

/* Adds to s->batch the removal of the tombstone (origin, seq): its log
 * entry names the key, whose meta must be that very tombstone. With
 * covered_key, that key goes to it first, and *kept is set (nothing
 * added) when it says the tombstone is not covered. Both are
 * read without filling the block cache (cold data, and the cache serves
 * the hot paths). The feed entry goes too. On 0, *clock and *pos are the
 * tombstone's clock and position. RUMOR_ECORRUPT when the store disagrees
 * with the index. */
static int collect_one(struct store *s, const uint8_t *origin, uint64_t seq,
		       store_covered_key_cb covered_key, void *arg,
		       uint64_t *clock, uint64_t *pos, int *kept,
		       struct err *err)
{
	char lk[LOG_KEY_BYTES];
	struct log_value lv;
	struct meta m;
	char *lerr = NULL, *val, *raw = NULL;
	size_t vlen, klen;
	int rv = 0, found = 0;
	char hex[41];

	format_log_key(lk, origin, seq);
	val = leveldb_get(s->db, s->ropts_cold, lk, sizeof lk, &vlen, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "reading a tombstone", err);
	s->stats.gc_reads++;
	if (val == NULL || format_log_decode(val, vlen, &lv) != 0 ||
	    !lv.deleted) {
		rv = err_set(err, RUMOR_ECORRUPT,
			     "store %s: the tombstone index names a log entry that is not a tombstone (origin %s)",
			     s->dir, format_key_hex(origin, STORE_ORIGIN_BYTES,
						    hex));
		goto done;
	}
	/* The second stage: covered or not depends on the key. */
	*kept = covered_key != NULL &&
		!covered_key(arg, origin, seq, lv.key, lv.key_len);
	if (*kept)
		goto done;
	klen = store__kbuf_set(s, PFX_META, lv.key, lv.key_len);
	rv = store__meta_read(s, s->ropts_cold, klen, &m, &found, &raw, err);
	if (rv != 0)
		goto done;
	s->stats.gc_reads++;
	if (!found || !m.deleted || m.seq != seq ||
	    memcmp(m.origin, origin, STORE_ORIGIN_BYTES) != 0) {
		rv = err_set(err, RUMOR_ECORRUPT,
			     "store %s: the tombstone index disagrees with the meta of key %s",
			     s->dir, format_key_hex(lv.key, lv.key_len, hex));
		goto done;
	}
	leveldb_writebatch_delete(s->batch, s->kbuf, klen);
	leveldb_writebatch_delete(s->batch, lk, sizeof lk);
	store__feed_del(s, m.pos);
	*clock = m.clock;
	*pos = m.pos;
done:
	leveldb_free(raw);
	leveldb_free(val);
	return rv;
}

/* Walks the index from the cursor, asking covered() of each tombstone
 * and adding the removal of the covered ones to s->batch, their entries
 * to s->tombs.gone; stops after max removals (0: no bound),
 * STORE_COLLECT_SCAN_MAX tombstones or TOMBS_WALK_MAX slots, or once
 * round the table. *max_clock and *max_pos are the highest clock and
 * position removed (0: none). */
static int collect_walk(struct store *s, store_covered_cb covered,
			store_covered_key_cb covered_key, void *arg,
			size_t max, size_t *n_gone, uint64_t *max_clock,
			uint64_t *max_pos, struct err *err)
{
	struct tombs *t = &s->tombs;
	const struct tomb_slot *e;
	size_t size = t->mask + 1, walked, examined = 0, i = t->cursor;
	const uint8_t *origin;
	uint64_t clock = 0, pos = 0;
	int rv = 0, answer, kept;

	*n_gone = 0;
	*max_clock = 0;
	*max_pos = 0;
	for (walked = 0; walked < size && walked < TOMBS_WALK_MAX &&
	     examined < STORE_COLLECT_SCAN_MAX && examined < t->n &&
	     (max == 0 || *n_gone < max); walked++, i = (i + 1) & t->mask) {
		e = &t->slots[i];
		if (e->seq == 0)
			continue;
		examined++;
		origin = t->origins[e->oid - 1];
		answer = covered(arg, origin, e->seq);
		if (answer == 0 ||
		    (answer == STORE_COVERED_KEY && covered_key == NULL))
			continue;
		kept = 0;
		rv = collect_one(s, origin, e->seq,
				 answer == STORE_COVERED_KEY ? covered_key :
				 NULL, arg, &clock, &pos, &kept, err);
		if (rv != 0)
			break;
		if (kept)
			continue;
		if (clock > *max_clock)
			*max_clock = clock;
		if (pos > *max_pos)
			*max_pos = pos;
		t->gone[(*n_gone)++] = *e;
	}
	t->cursor = i;
	return rv;
}

int store_collect_tombstones(struct store *s, store_covered_cb covered,
			     void *arg, size_t max, size_t *removed,
			     struct err *err)
{
	return store_collect_tombstones_keyed(s, covered, NULL, arg, max,
					      removed, err);
}

int store_collect_tombstones_keyed(struct store *s, store_covered_cb covered,
				   store_covered_key_cb covered_key,
				   void *arg, size_t max, size_t *removed,
				   struct err *err)
{
	struct tombs *t;
	size_t n_gone = 0, i, cap;
	struct tomb_slot *grown;
	uint64_t max_clock = 0, max_pos = 0;
	uint8_t floor[8];
	int rv;

	if (removed != NULL)
		*removed = 0;
	if (s == NULL || covered == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_collect_tombstones: NULL argument");
	rv = store__check_writable(s, "store_collect_tombstones", err);
	if (rv != 0)
		return rv;
	t = &s->tombs;
	assert(t->n == s->stats.tombstones);
	if (t->n == 0)
		return 0;
	cap = t->n < STORE_COLLECT_SCAN_MAX ? t->n : STORE_COLLECT_SCAN_MAX;
	if (cap > t->cap_gone) {
		grown = realloc(t->gone, cap * sizeof *t->gone);
		if (grown == NULL)
			return err_set(err, RUMOR_ENOMEM,
				       "store %s: out of memory", s->dir);
		t->gone = grown;
		t->cap_gone = cap;
	}

	leveldb_writebatch_clear(s->batch);
	/* covered() must not write: the batch is being built. */
	s->in_hook++;
	rv = collect_walk(s, covered, covered_key, arg, max, &n_gone,
			  &max_clock, &max_pos, err);
	s->in_hook--;
	/* So does the feed floor: a reader from below it would miss the
	 * deletions (store.h). */
	if (rv == 0 && max_pos > s->feed_floor) {
		format_u64_encode(floor, max_pos);
		leveldb_writebatch_put(s->batch, SINGLE_FEED_FLOOR,
				       strlen(SINGLE_FEED_FLOOR),
				       (const char *)floor, sizeof floor);
	}
	/* The floor rises with the removals, in their batch (top of file). */
	if (rv == 0 && max_clock > s->clock_floor) {
		format_u64_encode(floor, max_clock);
		leveldb_writebatch_put(s->batch, SINGLE_CLOCK_FLOOR,
				       strlen(SINGLE_CLOCK_FLOOR),
				       (const char *)floor, sizeof floor);
	}
	if (rv == 0 && n_gone > 0)
		rv = store__commit(s, "tombstone collection", err);
	leveldb_writebatch_clear(s->batch);
	if (rv != 0)
		return rv;
	if (max_clock > s->clock_floor)
		s->clock_floor = max_clock;
	if (max_pos > s->feed_floor)
		s->feed_floor = max_pos;

	/* Durable: the index follows (by entry, not by slot: a removal may
	 * shift the entries after it). */
	for (i = 0; i < n_gone; i++) {
		size_t slot = tomb_find(t, t->gone[i].oid, t->gone[i].seq);

		assert(slot != SIZE_MAX);
		if (slot != SIZE_MAX)
			tomb_remove_slot(t, slot);
	}
	s->stats.tombstones -= n_gone;
	s->stats.log_entries -= n_gone;
	s->stats.collected += n_gone;
	/* A table mostly empty after a wave of deletes is walked in vain:
	 * it shrinks (an allocation failure only keeps it large). */
	if (t->mask + 1 > TOMBS_MIN_SLOTS && 8 * t->n < t->mask + 1) {
		size_t size = TOMBS_MIN_SLOTS;

		while (size < 4 * t->n)
			size *= 2;
		(void)tomb_rehash(t, size);
	}
	if (removed != NULL)
		*removed = n_gone;
	return 0;
}
