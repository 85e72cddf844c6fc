/* SPDX-License-Identifier: MIT */
/*
 * store: one LevelDB per node (layout and contracts in store.h).
 *
 * Encodings (all integers big-endian, fixed width):
 *   m value:  format(1) flags(1) clock(8) seq(8) wall_ms(8) origin(32)
 *             value(0..RUMOR_VALUE_MAX; none when deleted)
 *   l value:  format(1) flags(1) clock(8) wall_ms(8) key(1..RUMOR_KEY_MAX)
 *   h value:  seq(8)
 *   s|schema: version(4)          s|seq: seq counter(8), see below
 * The format bytes let a later schema read older entries. The value lives
 * in its meta entry (schema 2; schema 1 had a separate d entry): a change
 * writes two entries instead of three, and a read is one lookup.
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
 *
 * Cost of a change (rumor-bench store, 100-byte values, 2 cores): two
 * LevelDB entries (m, l) plus h per batch; new keys read nothing. A remote
 * apply costs about what raw LevelDB takes for those two entries (~1.3 us
 * against ~0.8 us for one raw entry); an overwrite adds a point read
 * (several us once the data outgrows the block cache). A local write
 * alone is one WriteBatch and LevelDB's per-write overhead (~3.5 us); in
 * store_write_batch of 256 new keys it costs ~1.8 us (one HWM entry per
 * batch; raw batched LevelDB: ~0.8 us a key).
 */
#include "store/store.h"
#include "lib/array.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <leveldb/c.h>

#include "resolver/resolver.h"

#define PFX_HWM 'h'
#define PFX_LOG 'l'
#define PFX_META 'm'
#define PFX_SINGLE 's'

#define META_FORMAT 2
#define LOG_FORMAT 1
#define FLAG_DELETED 0x01u
#define FLAGS_KNOWN FLAG_DELETED

#define META_HEAD_BYTES (2 + 8 + 8 + 8 + STORE_ORIGIN_BYTES)
#define LOG_HEAD_BYTES (2 + 8 + 8)
#define LOG_KEY_BYTES (1 + STORE_ORIGIN_BYTES + 8)
#define HWM_KEY_BYTES (1 + STORE_ORIGIN_BYTES)

#define SINGLE_SCHEMA "sschema"
#define SINGLE_SEQ "sseq"


struct meta {
	uint64_t clock;
	uint64_t seq;
	uint64_t wall_ms;
	uint8_t origin[STORE_ORIGIN_BYTES];
	int deleted;
	/* The live value: points into the buffer the meta was decoded from
	 * (valid as long as it is); NULL and 0 for a tombstone. */
	const char *value;
	size_t value_len;
};

struct origin_state {
	uint8_t origin[STORE_ORIGIN_BYTES];
	uint64_t hwm;           /* committed */
	uint64_t log_max;       /* highest seq ever logged (an upper bound) */
	uint64_t gen;           /* batch generation of the pend_* fields */
	uint64_t pend_hwm;      /* values inside the batch being built */
	uint64_t pend_log_max;
};

/* Flags of the versions of an apply batch (store.vflags). */
#define VF_SHARED_SEQ 0x01u     /* another version has its (origin, seq) */
#define VF_LOGGED 0x02u         /* the last winner of its key: logged */

/* A version of an apply batch, for sorting the batch by key. */
struct batch_ref {
	const struct rumor_version *v;
	size_t idx;             /* its place in the caller's array */
	uint64_t hash;          /* kf_hash of its key */
	uint64_t lhash;         /* lf_hash of its (origin, seq) */
	int kf_add;             /* a new key: add it to the filter once the
				   batch is durable */
};

/* What a local write batch knows of op i (store.wb[i]). */
#define WB_WAS_NONE 0           /* the key had no version: a new key */
#define WB_WAS_LIVE 1
#define WB_WAS_TOMB 2

struct wb_slot {
	uint64_t hash;          /* kf_hash of its key */
	uint64_t clock;         /* the clock it gets */
	uint32_t prev;          /* 1 + the earlier op of the same key, or 0 */
	uint8_t was;            /* WB_WAS_*: the version it replaces */
};

/* The key being decided in an apply batch: its stored meta and the batch's
 * winner so far. */
struct batch_key {
	const struct rumor_version *winner;     /* NULL: the stored version */
	int found;
	struct meta stored;
	char *raw;              /* what stored.value points into, or NULL */
};

/* The key filter: a Bloom filter over every user key with an m entry
 * (tombstones included), so that a write of a key the store cannot hold
 * skips the meta read. It only ever says "maybe" or "certainly not";
 * keys are never removed (a collected tombstone only costs a read).
 * Blocked: the probes of a key fall into one 512-bit block (one cache
 * line), so a lookup is one cache miss per layer. Scalable: when the newest
 * layer holds the keys it was sized for, a layer KF_GROWTH times larger is
 * added (bounded work: no rescan of the store on the loop); store_open
 * builds a single layer sized for twice the keys it finds, so layers pile
 * up only within one run. */
struct kf_layer {
	uint64_t *words;
	uint64_t block_mask;    /* blocks - 1; blocks is a power of two */
	uint64_t cap;           /* keys it was sized for */
	uint64_t n;             /* keys added */
};

struct keyfilter {
	struct kf_layer *layers;
	size_t n_layers;
};

struct store_snapshot {
	const leveldb_snapshot_t *snap;
	leveldb_readoptions_t *ropts;
};

struct store {
	leveldb_t *db;
	leveldb_options_t *options;
	leveldb_cache_t *cache;
	leveldb_filterpolicy_t *filter;
	leveldb_readoptions_t *ropts;
	leveldb_writeoptions_t *wopts;
	leveldb_writebatch_t *batch;
	char *dir;
	uint8_t origin[STORE_ORIGIN_BYTES];
	struct resolver *resolver;
	struct store_hooks hooks;
	int in_hook;

	uint64_t local_seq;
	struct origin_state *origins;   /* sorted by origin */
	size_t n_origins;
	size_t cap_origins;
	uint64_t gen;

	struct store_stats stats;
	struct keyfilter kf;
	struct keyfilter lf;            /* (origin, seq) of log entries */

	char *collect_cursor;           /* m key to resume collection at */
	size_t collect_cursor_len;

	/* Scratch reused by every call so that hot paths do not allocate. */
	char kbuf[1 + RUMOR_KEY_MAX];           /* prefix + user key */
	char lbuf[LOG_HEAD_BYTES + RUMOR_KEY_MAX]; /* a log value */
	char *mbuf;                     /* an m value: head and value */
	size_t cap_mbuf;
	struct batch_ref *refs;         /* apply: the batch in key order */
	int *outs;
	unsigned char *vflags;          /* apply: VF_* per version */
	size_t cap_batch;
	uint32_t *seqtab;               /* apply: hash table for seqdup;
					   local batch: for repeated keys */
	size_t cap_seqtab;
	size_t seqtab_size;         /* slots the current batch uses */
	struct wb_slot *wb;             /* local batch: one per op */
	size_t cap_wb;
};

/* ------------------------------------------------------------ encodings */

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void meta_encode(uint8_t out[META_HEAD_BYTES], const struct meta *m)
{
	out[0] = META_FORMAT;
	out[1] = m->deleted ? FLAG_DELETED : 0;
	put_be64(out + 2, m->clock);
	put_be64(out + 10, m->seq);
	put_be64(out + 18, m->wall_ms);
	memcpy(out + 26, m->origin, STORE_ORIGIN_BYTES);
}

/* 0, or -1 when buf is not a meta this build can read (a tombstone with
 * value bytes included). m->value points into buf. */
static int meta_decode(const void *buf, size_t len, struct meta *m)
{
	const uint8_t *p = buf;

	if (len < META_HEAD_BYTES || len - META_HEAD_BYTES > RUMOR_VALUE_MAX ||
	    p[0] != META_FORMAT || (p[1] & ~FLAGS_KNOWN) != 0)
		return -1;
	m->deleted = (p[1] & FLAG_DELETED) != 0;
	m->clock = get_be64(p + 2);
	m->seq = get_be64(p + 10);
	m->wall_ms = get_be64(p + 18);
	memcpy(m->origin, p + 26, STORE_ORIGIN_BYTES);
	if (m->clock == 0 || m->seq == 0)
		return -1;
	if (m->deleted) {
		if (len != META_HEAD_BYTES)
			return -1;
		m->value = NULL;
		m->value_len = 0;
	} else {
		m->value = (const char *)p + META_HEAD_BYTES;
		m->value_len = len - META_HEAD_BYTES;
	}
	return 0;
}

/* Writes a log value into out (LOG_HEAD_BYTES + key_len); returns its size. */
static size_t log_encode(char *out, uint64_t clock, uint64_t wall_ms,
			 int deleted, const void *key, size_t key_len)
{
	uint8_t *p = (uint8_t *)out;

	p[0] = LOG_FORMAT;
	p[1] = deleted ? FLAG_DELETED : 0;
	put_be64(p + 2, clock);
	put_be64(p + 10, wall_ms);
	memcpy(p + LOG_HEAD_BYTES, key, key_len);
	return LOG_HEAD_BYTES + key_len;
}

struct log_value {
	uint64_t clock;
	uint64_t wall_ms;
	int deleted;
	const void *key;
	size_t key_len;
};

static int log_decode(const void *buf, size_t len, struct log_value *lv)
{
	const uint8_t *p = buf;

	if (len < LOG_HEAD_BYTES + 1 || len > LOG_HEAD_BYTES + RUMOR_KEY_MAX ||
	    p[0] != LOG_FORMAT || (p[1] & ~FLAGS_KNOWN) != 0)
		return -1;
	lv->deleted = (p[1] & FLAG_DELETED) != 0;
	lv->clock = get_be64(p + 2);
	lv->wall_ms = get_be64(p + 10);
	lv->key = p + LOG_HEAD_BYTES;
	lv->key_len = len - LOG_HEAD_BYTES;
	return lv->clock == 0 ? -1 : 0;
}

static void log_key(char out[LOG_KEY_BYTES], const uint8_t *origin,
		    uint64_t seq)
{
	out[0] = PFX_LOG;
	memcpy(out + 1, origin, STORE_ORIGIN_BYTES);
	put_be64((uint8_t *)out + 1 + STORE_ORIGIN_BYTES, seq);
}

static void hwm_key(char out[HWM_KEY_BYTES], const uint8_t *origin)
{
	out[0] = PFX_HWM;
	memcpy(out + 1, origin, STORE_ORIGIN_BYTES);
}

/* Puts prefix + key into s->kbuf; returns the length. */
static size_t kbuf_set(struct store *s, char prefix, const void *key,
		       size_t key_len)
{
	assert(key_len <= RUMOR_KEY_MAX);
	s->kbuf[0] = prefix;
	memcpy(s->kbuf + 1, key, key_len);
	return 1 + key_len;
}

/* A printable start of a key for messages (hex, truncated). */
static const char *key_hex(const void *key, size_t len, char out[41])
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = key;
	size_t i, n = len < 20 ? len : 20;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
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

static struct origin_state *origin_find(const struct store *s,
					const uint8_t *origin)
{
	size_t i = origin_lower_bound(s, origin);

	if (i < s->n_origins &&
	    memcmp(s->origins[i].origin, origin, STORE_ORIGIN_BYTES) == 0)
		return &s->origins[i];
	return NULL;
}

/* The entry of origin, inserted (zeroed) if missing; NULL when out of
 * memory. Moves other entries: pointers from origin_find() go stale. */
static struct origin_state *origin_get(struct store *s, const uint8_t *origin)
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

/* The batch-local view of os (pend_* valid for this generation). */
static void origin_touch(struct store *s, struct origin_state *os)
{
	if (os->gen != s->gen) {
		os->gen = s->gen;
		os->pend_hwm = os->hwm;
		os->pend_log_max = os->log_max;
	}
}

/* ------------------------------------------------------------ key filter */

#define KF_BLOCK_WORDS 8u       /* 512 bits: one cache line */
#define KF_BITS_PER_KEY 10u     /* ~1% false positives at capacity */
#define KF_PROBES 7u            /* 7 x 9 bits of the second hash */
#define KF_MIN_KEYS 65536u
#define KF_GROWTH 4u
#define KF_PREFETCH_AHEAD 16u   /* versions between a prefetch and its use */

static uint64_t kf_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* A 64-bit hash of a user key (memory only: byte order does not matter). */
static uint64_t kf_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h ^= kf_mix(w);
		h = (h << 27 | h >> 37) * 5 + 0x52dce729u;
	}
	w = 0;
	memcpy(&w, p, len);
	return kf_mix(h ^ kf_mix(w ^ 0x2545f4914f6cdd1dull));
}

/* A 64-bit hash of a log entry's (origin, seq), for the log filter. */
static uint64_t lf_hash(const uint8_t *origin, uint64_t seq)
{
	return kf_mix(kf_hash(origin, STORE_ORIGIN_BYTES) ^
		      kf_mix(seq ^ 0x3c6ef372fe94f82bull));
}

/* Adds a layer for cap keys; -1 when out of memory. */
static int kf_add_layer(struct keyfilter *kf, uint64_t cap)
{
	struct kf_layer *layers, *l;
	uint64_t blocks = 1, want;

	want = (cap * KF_BITS_PER_KEY + KF_BLOCK_WORDS * 64 - 1) /
	       (KF_BLOCK_WORDS * 64);
	while (blocks < want)
		blocks <<= 1;
	layers = realloc(kf->layers, (kf->n_layers + 1) * sizeof *layers);
	if (layers == NULL)
		return -1;
	kf->layers = layers;
	l = &layers[kf->n_layers];
	l->words = calloc(blocks * KF_BLOCK_WORDS, sizeof *l->words);
	if (l->words == NULL)
		return -1;
	l->block_mask = blocks - 1;
	l->cap = cap;
	l->n = 0;
	kf->n_layers++;
	return 0;
}

static void kf_free(struct keyfilter *kf)
{
	size_t i;

	for (i = 0; i < kf->n_layers; i++)
		free(kf->layers[i].words);
	free(kf->layers);
	kf->layers = NULL;
	kf->n_layers = 0;
}

/* Whether key hash h may have been added (0: certainly not). */
static int kf_maybe(const struct keyfilter *kf, uint64_t h)
{
	uint64_t g = kf_mix(h ^ 0x6a09e667f3bcc909ull), pos;
	const uint64_t *block;
	size_t i;
	unsigned j;

	for (i = 0; i < kf->n_layers; i++) {
		block = kf->layers[i].words +
			(h & kf->layers[i].block_mask) * KF_BLOCK_WORDS;
		for (j = 0; j < KF_PROBES; j++) {
			pos = (g >> (9 * j)) & 511u;
			if ((block[pos >> 6] & (1ull << (pos & 63))) == 0)
				break;
		}
		if (j == KF_PROBES)
			return 1;
	}
	return 0;
}

/* Asks the CPU to fetch the blocks key hash h maps to (in every layer, or
 * in the newest only, where adds go), so that a lookup or add a few
 * versions later does not wait for memory: the filters of a large store
 * are far bigger than the caches, and every lookup of a new key touches
 * one block per layer. */
static void kf_prefetch(const struct keyfilter *kf, uint64_t h,
			int newest_only)
{
	size_t i = newest_only && kf->n_layers > 0 ? kf->n_layers - 1 : 0;

	const uint64_t *block;

	for (; i < kf->n_layers; i++) {
		block = kf->layers[i].words +
			(h & kf->layers[i].block_mask) * KF_BLOCK_WORDS;
		/* The second argument must be a constant: the newest layer
		 * is about to be written. */
		if (newest_only)
			__builtin_prefetch(block, 1);
		else
			__builtin_prefetch(block, 0);
	}
}

/* Adds key hash h. Never fails: when the newest layer is full and a
 * larger one cannot be had, it takes more keys than it was sized for
 * (more false positives, never a wrong "certainly not"). */
static void kf_add(struct keyfilter *kf, uint64_t h)
{
	uint64_t g = kf_mix(h ^ 0x6a09e667f3bcc909ull), pos, *block;
	struct kf_layer *l;
	unsigned j;

	assert(kf->n_layers > 0);
	l = &kf->layers[kf->n_layers - 1];
	if (l->n >= l->cap && l->cap <= UINT64_MAX / KF_GROWTH) {
		(void)kf_add_layer(kf, l->cap * KF_GROWTH);
		/* kf->layers may have moved, failure or not. */
		l = &kf->layers[kf->n_layers - 1];
	}
	block = l->words + (h & l->block_mask) * KF_BLOCK_WORDS;
	for (j = 0; j < KF_PROBES; j++) {
		pos = (g >> (9 * j)) & 511u;
		block[pos >> 6] |= 1ull << (pos & 63);
	}
	l->n++;
}

/* ------------------------------------------------------------ small helpers */

/* Bytewise order, a shorter key first on a common start: LevelDB's
 * default comparator, so the order of every scan. */
static int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

static uint64_t store_now_ms(struct store *s)
{
	struct timespec ts;

	if (s->hooks.now_ms != NULL)
		return s->hooks.now_ms(s->hooks.arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int db_error(struct store *s, char *lerr, const char *what,
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
static int meta_read(struct store *s, const leveldb_readoptions_t *ro,
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
		return db_error(s, lerr, "reading a meta entry", err);
	if (val == NULL) {
		*found = 0;
		return 0;
	}
	*found = 1;
	if (meta_decode(val, vlen, m) != 0) {
		leveldb_free(val);
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: unreadable meta for key %s", s->dir,
			       key_hex(s->kbuf + 1, klen - 1, hex));
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
static int meta_put(struct store *s, size_t klen, const struct meta *m,
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
	meta_encode((uint8_t *)s->mbuf, m);
	if (value_len > 0)
		memcpy(s->mbuf + META_HEAD_BYTES, value, value_len);
	leveldb_writebatch_put(s->batch, s->kbuf, klen, s->mbuf, len);
	return 0;
}

/* Writes s->batch (then empties it). The before_commit hook may refuse. */
static int commit(struct store *s, const char *what, struct err *err)
{
	char *lerr = NULL;
	int refused;

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
	leveldb_write(s->db, s->wopts, s->batch, &lerr);
	leveldb_writebatch_clear(s->batch);
	if (lerr != NULL)
		return db_error(s, lerr, what, err);
	return 0;
}

static void notify(struct store *s, const struct rumor_version *v, int local)
{
	if (s->hooks.on_change == NULL)
		return;
	s->in_hook++;
	s->hooks.on_change(s->hooks.arg, v, local);
	s->in_hook--;
}

static int check_writable(struct store *s, const char *what, struct err *err)
{
	if (s->in_hook)
		return err_set(err, RUMOR_EINVAL,
			       "store: %s called from inside a store hook", what);
	return 0;
}

static int check_key(const void *key, size_t key_len, struct err *err)
{
	if (key == NULL || key_len == 0)
		return err_set(err, RUMOR_EINVAL, "store: empty key");
	if (key_len > RUMOR_KEY_MAX)
		return err_set(err, RUMOR_ETOOBIG,
			       "store: key of %zu bytes (at most %u)", key_len,
			       RUMOR_KEY_MAX);
	return 0;
}

static int check_value(const void *value, size_t value_len, struct err *err)
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

static int write_u64_single(struct store *s, const char *name, uint64_t v)
{
	uint8_t buf[8];

	put_be64(buf, v);
	leveldb_writebatch_put(s->batch, name, strlen(name), (const char *)buf,
			       sizeof buf);
	return 0;
}

/* A fresh store: the singletons, in one batch. */
static int store_init_fresh(struct store *s, struct err *err)
{
	uint8_t schema[4] = {0, 0, 0, STORE_SCHEMA_VERSION};
	char *lerr = NULL;

	leveldb_writebatch_clear(s->batch);
	leveldb_writebatch_put(s->batch, SINGLE_SCHEMA, strlen(SINGLE_SCHEMA),
			       (const char *)schema, sizeof schema);
	write_u64_single(s, SINGLE_SEQ, 0);
	leveldb_write(s->db, s->wopts, s->batch, &lerr);
	leveldb_writebatch_clear(s->batch);
	if (lerr != NULL)
		return db_error(s, lerr, "writing the schema", err);
	return 0;
}

static int load_single(struct store *s, const char *k, size_t klen,
		       const uint8_t *v, size_t vlen, int *have_schema,
		       int *have_seq, struct err *err)
{
	uint32_t schema;

	if (klen == strlen(SINGLE_SCHEMA) &&
	    memcmp(k, SINGLE_SCHEMA, klen) == 0) {
		if (vlen != 4)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable schema entry",
				       s->dir);
		schema = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
			 (uint32_t)v[2] << 8 | v[3];
		if (schema != STORE_SCHEMA_VERSION)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: schema %u, this build reads schema %u",
				       s->dir, (unsigned)schema,
				       (unsigned)STORE_SCHEMA_VERSION);
		*have_schema = 1;
	} else if (klen == strlen(SINGLE_SEQ) &&
		   memcmp(k, SINGLE_SEQ, klen) == 0) {
		if (vlen != 8)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable seq counter",
				       s->dir);
		s->local_seq = get_be64(v);
		*have_seq = 1;
	} else {
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: unknown singleton '%.*s'", s->dir,
			       (int)(klen > 32 ? 32 : klen - 1), k + 1);
	}
	return 0;
}

/* At open: the schema first (an older layout must be refused by name, not
 * stumbled over), then one scan of everything: singletons, HWMs,
 * per-origin log_max, counts. */
static int store_load(struct store *s, struct err *err)
{
	leveldb_iterator_t *it;
	const char *k, *v;
	size_t klen, vlen;
	int have_schema = 0, have_seq = 0, empty, rv = 0;
	struct origin_state *os;
	struct meta m;
	char *lerr = NULL;
	char hex[41];
	/* The key filter is sized once the keys are counted: their hashes
	 * wait here (8 bytes a key, for the time of the open). */
	uint64_t *hashes = NULL, *grown;
	size_t n_hashes = 0, cap_hashes = 0, i;
	/* The same for the log filter. */
	uint64_t *lhashes = NULL;
	size_t n_lhashes = 0, cap_lhashes = 0;

	it = leveldb_create_iterator(s->db, s->ropts);
	leveldb_iter_seek_to_first(it);
	empty = !leveldb_iter_valid(it);
	if (!empty) {
		leveldb_iter_seek(it, SINGLE_SCHEMA, strlen(SINGLE_SCHEMA));
		if (leveldb_iter_valid(it)) {
			k = leveldb_iter_key(it, &klen);
			v = leveldb_iter_value(it, &vlen);
			if (klen == strlen(SINGLE_SCHEMA) &&
			    memcmp(k, SINGLE_SCHEMA, klen) == 0) {
				rv = load_single(s, k, klen, (const uint8_t *)v,
						 vlen, &have_schema, &have_seq,
						 err);
				if (rv != 0)
					goto done;
			}
		}
		if (!have_schema) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: not a rumor store (no schema entry)",
				     s->dir);
			goto done;
		}
		leveldb_iter_seek_to_first(it);
	}
	for (; leveldb_iter_valid(it); leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		v = leveldb_iter_value(it, &vlen);
		switch (k[0]) {
		case PFX_HWM:
			if (klen != HWM_KEY_BYTES || vlen != 8) {
				rv = err_set(err, RUMOR_ECORRUPT,
					     "store %s: unreadable HWM entry",
					     s->dir);
				goto done;
			}
			os = origin_get(s, (const uint8_t *)k + 1);
			if (os == NULL)
				goto nomem;
			os->hwm = get_be64((const uint8_t *)v);
			break;
		case PFX_LOG:
			if (klen != LOG_KEY_BYTES) {
				rv = err_set(err, RUMOR_ECORRUPT,
					     "store %s: unreadable log key",
					     s->dir);
				goto done;
			}
			os = origin_get(s, (const uint8_t *)k + 1);
			if (os == NULL)
				goto nomem;
			/* Entries of one origin come in seq order. */
			os->log_max = get_be64((const uint8_t *)k + 1 +
					       STORE_ORIGIN_BYTES);
			s->stats.log_entries++;
			if (n_lhashes == cap_lhashes) {
				grown = array_grow(lhashes, &cap_lhashes,
						   n_lhashes + 1,
						   sizeof *lhashes, 1024);
				if (grown == NULL)
					goto nomem;
				lhashes = grown;
			}
			lhashes[n_lhashes++] = lf_hash(os->origin,
						       os->log_max);
			break;
		case PFX_META:
			if (meta_decode(v, vlen, &m) != 0) {
				rv = err_set(err, RUMOR_ECORRUPT,
					     "store %s: unreadable meta for key %s",
					     s->dir, key_hex(k + 1, klen - 1, hex));
				goto done;
			}
			if (m.deleted)
				s->stats.tombstones++;
			else
				s->stats.keys++;
			if (n_hashes == cap_hashes) {
				grown = array_grow(hashes, &cap_hashes,
						   n_hashes + 1, sizeof *hashes,
						   1024);
				if (grown == NULL)
					goto nomem;
				hashes = grown;
			}
			hashes[n_hashes++] = kf_hash(k + 1, klen - 1);
			break;
		case PFX_SINGLE:
			rv = load_single(s, k, klen, (const uint8_t *)v, vlen,
					 &have_schema, &have_seq, err);
			if (rv != 0)
				goto done;
			break;
		default:
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: entry with unknown prefix 0x%02x",
				     s->dir, (unsigned)(uint8_t)k[0]);
			goto done;
		}
	}
	leveldb_iter_get_error(it, &lerr);
	if (lerr != NULL) {
		rv = db_error(s, lerr, "scanning at open", err);
		goto done;
	}
	if (empty) {
		rv = store_init_fresh(s, err);
	} else if (!have_schema || !have_seq) {
		rv = err_set(err, RUMOR_ECORRUPT,
			     "store %s: not a rumor store (no %s entry)",
			     s->dir, have_schema ? "seq" : "schema");
	}
	if (rv != 0)
		goto done;
	if (kf_add_layer(&s->kf, n_hashes > KF_MIN_KEYS / 2 ? 2 * n_hashes
							    : KF_MIN_KEYS) != 0)
		goto nomem;
	for (i = 0; i < n_hashes; i++)
		kf_add(&s->kf, hashes[i]);
	if (kf_add_layer(&s->lf, n_lhashes > KF_MIN_KEYS / 2 ? 2 * n_lhashes
							     : KF_MIN_KEYS) != 0)
		goto nomem;
	for (i = 0; i < n_lhashes; i++)
		kf_add(&s->lf, lhashes[i]);
	goto done;
nomem:
	rv = err_set(err, RUMOR_ENOMEM, "store %s: out of memory", s->dir);
done:
	free(hashes);
	free(lhashes);
	leveldb_iter_destroy(it);
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
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return err_set(err, RUMOR_ENOMEM, "store %s: out of memory", dir);
	s->dir = strdup(dir);
	if (s->dir == NULL) {
		rv = err_set(err, RUMOR_ENOMEM, "store %s: out of memory", dir);
		goto err_after_alloc;
	}
	memcpy(s->origin, opt->origin, STORE_ORIGIN_BYTES);
	s->resolver = opt->resolver;
	s->hooks = opt->hooks;

	/* leveldb_*_create abort on allocation failure (C++ new). */
	s->options = leveldb_options_create();
	leveldb_options_set_create_if_missing(s->options, 1);
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
	s->wopts = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(s->wopts, opt->sync_writes ? 1 : 0);
	s->batch = leveldb_writebatch_create();

	s->db = leveldb_open(s->options, dir, &lerr);
	if (lerr != NULL) {
		/* LevelDB's posix env says "lock <dir>/LOCK: ..." when the
		 * file lock is held (by this or another process). */
		if (strstr(lerr, "IO error: lock ") != NULL)
			rv = err_set(err, RUMOR_EBUSY,
				     "store %s: the directory is in use by another store (%s)",
				     dir, lerr);
		else
			rv = err_set(err, RUMOR_EIO, "store %s: cannot open: %s",
				     dir, lerr);
		leveldb_free(lerr);
		goto err_after_options;
	}
	rv = store_load(s, err);
	if (rv != 0)
		goto err_after_db;
	own = origin_get(s, s->origin);
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
	leveldb_writebatch_destroy(s->batch);
	leveldb_writeoptions_destroy(s->wopts);
	leveldb_readoptions_destroy(s->ropts);
	leveldb_options_destroy(s->options);
	leveldb_filterpolicy_destroy(s->filter);
	leveldb_cache_destroy(s->cache);
	kf_free(&s->kf);
	kf_free(&s->lf);
	free(s->origins);
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
	leveldb_writebatch_destroy(s->batch);
	leveldb_writeoptions_destroy(s->wopts);
	leveldb_readoptions_destroy(s->ropts);
	leveldb_options_destroy(s->options);
	leveldb_filterpolicy_destroy(s->filter);
	leveldb_cache_destroy(s->cache);
	kf_free(&s->kf);
	kf_free(&s->lf);
	free(s->origins);
	free(s->collect_cursor);
	free(s->refs);
	free(s->outs);
	free(s->vflags);
	free(s->seqtab);
	free(s->wb);
	free(s->mbuf);
	free(s->dir);
	free(s);
}

/* ------------------------------------------------------------ local writes */

/* Checks every op of a local batch before anything is written, and gets
 * the scratch for it. "what" names the caller in messages. */
/* The open-addressing table of the batch paths: s->seqtab_size, the
 * smallest power of two of at least 2n slots (so probes stay short), is
 * what this batch uses of the table, which only grows; a small batch after
 * a large one clears only its own slots. 0, or -1 out of memory. */
static int seqtab_reserve(struct store *s, size_t n)
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
		rv = check_key(ops[i].key, ops[i].key_len, err);
		if (rv == 0 && !ops[i].del)
			rv = check_value(ops[i].value, ops[i].value_len, err);
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
	if (n > 1 && seqtab_reserve(s, n) != 0)
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
		s->wb[i].hash = kf_hash(ops[i].key, ops[i].key_len);
		s->wb[i].prev = 0;
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
			    key_cmp(ops[j].key, ops[j].key_len, ops[i].key,
				    ops[i].key_len) == 0) {
				s->wb[i].prev = (uint32_t)j + 1;
				break;
			}
		}
		/* The slot now names the latest op of the key. */
		s->seqtab[slot] = (uint32_t)i + 1;
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
	struct rumor_version v;
	uint64_t first, wall_ms;
	size_t i, klen, llen;
	int found, rv;

	if (s == NULL || (ops == NULL && n > 0))
		return err_set(err, RUMOR_EINVAL, "%s: NULL argument", what);
	rv = check_writable(s, what, err);
	if (rv == 0)
		rv = wb_validate(s, ops, n, what, err);
	if (rv != 0)
		return rv;
	if (n == 0) {
		if (first_seq != NULL)
			*first_seq = 0;
		return 0;
	}
	own = origin_find(s, s->origin);
	assert(own != NULL && own->hwm <= s->local_seq &&
	       own->log_max <= s->local_seq);
	wb_link_repeats(s, ops, n);

	first = s->local_seq + 1;
	/* One instant for the batch: it commits as one. */
	wall_ms = store_now_ms(s);
	memcpy(m.origin, s->origin, STORE_ORIGIN_BYTES);
	m.wall_ms = wall_ms;
	leveldb_writebatch_clear(s->batch);
	for (i = 0; i < n; i++) {
		w = &s->wb[i];
		if (i + KF_PREFETCH_AHEAD < n)
			kf_prefetch(&s->kf, s->wb[i + KF_PREFETCH_AHEAD].hash, 0);
		klen = kbuf_set(s, PFX_META, ops[i].key, ops[i].key_len);
		found = 0;
		if (w->prev != 0) {
			/* The current version is the earlier op's, whose log
			 * entry this batch put: it goes again. */
			found = 1;
			old.clock = s->wb[w->prev - 1].clock;
			old.seq = first + (w->prev - 1);
			old.deleted = ops[w->prev - 1].del != 0;
			memcpy(old.origin, s->origin, STORE_ORIGIN_BYTES);
		} else if (kf_maybe(&s->kf, w->hash)) {
			rv = meta_read(s, s->ropts, klen, &old, &found, NULL,
				       err);
			if (rv != 0)
				goto err_after_batch;
		}
		if (found && old.clock == UINT64_MAX) {
			rv = err_set(err, RUMOR_EINVAL, "store: clock exhausted");
			goto err_after_batch;
		}
		m.clock = found ? old.clock + 1 : 1;
		m.seq = first + i;
		m.deleted = ops[i].del != 0;
		if (found) {
			log_key(lk, old.origin, old.seq);
			leveldb_writebatch_delete(s->batch, lk, sizeof lk);
		}
		rv = meta_put(s, klen, &m, ops[i].value, ops[i].value_len, err);
		if (rv != 0)
			goto err_after_batch;
		log_key(lk, s->origin, m.seq);
		llen = log_encode(s->lbuf, m.clock, wall_ms, m.deleted,
				  ops[i].key, ops[i].key_len);
		leveldb_writebatch_put(s->batch, lk, sizeof lk, s->lbuf, llen);
		w->clock = m.clock;
		w->was = !found ? WB_WAS_NONE :
			 old.deleted ? WB_WAS_TOMB : WB_WAS_LIVE;
	}
	/* The HWM carries the seq counter too (see the top of the file). */
	put_be64(seqbuf, first + n - 1);
	hwm_key(hk, s->origin);
	leveldb_writebatch_put(s->batch, hk, sizeof hk, (const char *)seqbuf,
			       sizeof seqbuf);
	rv = commit(s, n > 1 ? "local batch" :
		       ops[0].del ? "local delete" : "local put", err);
	if (rv != 0)
		return rv;

	/* Durable: the memory view follows. */
	s->local_seq = first + n - 1;
	own->hwm = s->local_seq;
	own->log_max = s->local_seq;
	for (i = 0; i < n; i++) {
		w = &s->wb[i];
		if (w->was == WB_WAS_NONE)
			kf_add(&s->kf, w->hash);
		kf_add(&s->lf, lf_hash(s->origin, first + i));
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
	if (first_seq != NULL)
		*first_seq = first;

	if (s->hooks.on_change != NULL) {
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
			notify(s, &v, 1);
		}
	}
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

/* ------------------------------------------------------------ reads */

int store_get(struct store *s, const void *key, size_t key_len,
	      void **value, size_t *value_len, struct err *err)
{
	struct meta m;
	char *raw;
	size_t klen;
	int rv, found;

	if (s == NULL || value == NULL || value_len == NULL)
		return err_set(err, RUMOR_EINVAL, "store_get: NULL argument");
	rv = check_key(key, key_len, err);
	if (rv != 0)
		return rv;
	klen = kbuf_set(s, PFX_META, key, key_len);
	rv = meta_read(s, s->ropts, klen, &m, &found, &raw, err);
	if (rv != 0)
		return rv;
	if (!found || m.deleted) {
		leveldb_free(raw);
		return err_set(err, RUMOR_ENOTFOUND, "store: no such key");
	}
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
	*out = rec;
	return 0;
}

int store_get_version(struct store *s, const void *key, size_t key_len,
		      struct store_record **rec, struct err *err)
{
	struct meta m;
	char *raw;
	size_t klen;
	int rv, found;

	if (s == NULL || rec == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_get_version: NULL argument");
	rv = check_key(key, key_len, err);
	if (rv != 0)
		return rv;
	klen = kbuf_set(s, PFX_META, key, key_len);
	rv = meta_read(s, s->ropts, klen, &m, &found, &raw, err);
	if (rv != 0)
		return rv;
	if (!found)
		return err_set(err, RUMOR_ENOTFOUND, "store: no such key");
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
	    key_cmp(after, after_len, prefix, prefix_len) >= 0) {
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
		if (meta_decode(v, vlen, &m) != 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable meta for key %s",
				     s->dir, key_hex(k + 1, klen - 1, hex));
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
		return db_error(s, lerr, "scanning", err);
	return rv;
}

int store_scan(struct store *s, const void *prefix, size_t prefix_len,
	       store_scan_cb cb, void *arg, struct err *err)
{
	return store_scan_after(s, prefix, prefix_len, NULL, 0, cb, arg, err);
}

/* ------------------------------------------------------------ remote writes */

/* Key order, then batch order: versions of one key stay in the order the
 * caller gave them. */
static int batch_ref_cmp(const void *pa, const void *pb)
{
	const struct batch_ref *a = pa, *b = pb;
	int c = key_cmp(a->v->key, a->v->key_len, b->v->key, b->v->key_len);

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
		s->cap_batch = n;
	}
	if (seqtab_reserve(s, n) != 0)
		goto nomem;
	return 0;
nomem:
	return err_set(err, RUMOR_ENOMEM, "store %s: out of memory", s->dir);
}

static int validate_version(const struct rumor_version *v, size_t i,
			    struct err *err)
{
	int rv = check_key(v->key, v->key_len, err);

	if (rv == 0)
		rv = check_value(v->value, v->value_len, err);
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

/* Marks (VF_SHARED_SEQ) in s->vflags the versions whose (origin, seq) another version of
 * the batch carries too: only those need seq_taken's look at the batch.
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
		slot = kf_mix(vs[i].seq ^ o) & mask;
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
	    !kf_maybe(&s->lf, lf_hash(v->origin, v->seq)))
		return 0;
	log_key(lk, v->origin, v->seq);
	val = leveldb_get(s->db, s->ropts, lk, sizeof lk, &vlen, &lerr);
	if (lerr != NULL)
		return db_error(s, lerr, "reading a log entry", err);
	if (val == NULL)
		return 0;
	if (log_decode(val, vlen, &lv) != 0) {
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
 * one, or an earlier winner of this batch) and, when it wins, adds its
 * writes to s->batch. d_* get the changes of the counts. */
static int apply_one(struct store *s, const struct rumor_version *vs,
		     size_t n, size_t i, struct batch_key *bk, int64_t *d_keys,
		     int64_t *d_tombs, int64_t *d_log, struct err *err)
{
	const struct rumor_version *v = &vs[i];
	struct rumor_version cur;
	struct origin_state *os;
	struct meta m;
	char lk[LOG_KEY_BYTES];
	size_t klen;
	int have_cur, c, rv, taken;

	klen = kbuf_set(s, PFX_META, v->key, v->key_len);
	if (bk->winner != NULL) {
		cur = *bk->winner;
		have_cur = 1;
	} else {
		have_cur = bk->found;
		if (have_cur) {
			memset(&cur, 0, sizeof cur);
			cur.key = v->key;
			cur.key_len = v->key_len;
			cur.deleted = bk->stored.deleted;
			cur.clock = bk->stored.clock;
			cur.wall_ms = bk->stored.wall_ms;
			cur.origin = bk->stored.origin;
			cur.origin_len = STORE_ORIGIN_BYTES;
			cur.seq = bk->stored.seq;
			/* The resolver may look at the value (in a
			 * same-clock conflict); it came with the meta. A live
			 * value is never NULL (resolver ABI). */
			if (!cur.deleted) {
				assert(bk->stored.value != NULL);
				cur.value = bk->stored.value;
				cur.value_len = bk->stored.value_len;
			}
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

	os = origin_find(s, v->origin);
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
		log_key(lk, cur.origin, cur.seq);
		leveldb_writebatch_delete(s->batch, lk, sizeof lk);
	}
	m.clock = v->clock;
	m.seq = v->seq;
	m.wall_ms = v->wall_ms;
	m.deleted = v->deleted != 0;
	memcpy(m.origin, v->origin, STORE_ORIGIN_BYTES);
	rv = meta_put(s, klen, &m, v->value, v->value_len, err);
	if (rv != 0)
		return rv;

	if (!have_cur)
		(*d_log)++;
	else if (cur.deleted)
		(*d_tombs)--;
	else
		(*d_keys)--;
	if (m.deleted)
		(*d_tombs)++;
	else
		(*d_keys)++;
	bk->winner = v;
	s->outs[i] = STORE_APPLIED;
	return 0;
}

int store_apply_batch(struct store *s, const struct rumor_version *vs,
		      size_t n, const struct store_hwm *raise, size_t n_raise,
		      int *outcomes, struct err *err)
{
	int64_t d_keys = 0, d_tombs = 0, d_log = 0;
	uint64_t local_seq, conflicts0;
	struct origin_state *os;
	uint8_t seqbuf[8];
	char hk[HWM_KEY_BYTES];
	struct batch_key bk;
	uint64_t hash = 0;
	char lk[LOG_KEY_BYTES];
	size_t i, r, llen, applied = 0, stale = 0, identical = 0;
	int rv, dirty = 0, key_pending = 0;

	if (s == NULL || (vs == NULL && n > 0) ||
	    (raise == NULL && n_raise > 0))
		return err_set(err, RUMOR_EINVAL,
			       "store_apply_batch: NULL argument");
	rv = check_writable(s, "store_apply_batch", err);
	if (rv != 0)
		return rv;
	if (n > STORE_APPLY_MAX)
		return err_set(err, RUMOR_ETOOBIG,
			       "store_apply_batch: %zu versions (at most %u)",
			       n, STORE_APPLY_MAX);
	for (i = 0; i < n; i++) {
		rv = validate_version(&vs[i], i, err);
		if (rv != 0)
			return rv;
	}
	/* Every origin gets its entry now, so that the pointers of the
	 * decision pass stay put. */
	for (i = 0; i < n; i++)
		if (origin_get(s, vs[i].origin) == NULL)
			goto nomem;
	for (i = 0; i < n_raise; i++)
		if (origin_get(s, raise[i].origin) == NULL)
			goto nomem;
	rv = batch_scratch(s, n, err);
	if (rv != 0)
		return rv;

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
		s->refs[r].hash = kf_hash(s->refs[r].v->key,
					  s->refs[r].v->key_len);
		s->refs[r].lhash = lf_hash(s->refs[r].v->origin,
					   s->refs[r].v->seq);
	}

	s->gen++;
	bk.winner = NULL;
	bk.raw = NULL;
	conflicts0 = s->stats.seq_conflicts;
	local_seq = s->local_seq;
	leveldb_writebatch_clear(s->batch);
	for (r = 0; r < n; r++) {
		i = s->refs[r].idx;
		if (r + KF_PREFETCH_AHEAD < n) {
			kf_prefetch(&s->kf, s->refs[r + KF_PREFETCH_AHEAD].hash,
				    0);
			kf_prefetch(&s->lf,
				    s->refs[r + KF_PREFETCH_AHEAD].lhash, 0);
		}
		if (r == 0 || key_cmp(vs[i].key, vs[i].key_len,
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
			if (kf_maybe(&s->kf, hash)) {
				kbuf_set(s, PFX_META, vs[i].key,
					 vs[i].key_len);
				rv = meta_read(s, s->ropts, 1 + vs[i].key_len,
					       &bk.stored, &bk.found, &bk.raw,
					       err);
				if (rv != 0)
					goto err_after_batch;
			}
		}
		rv = apply_one(s, vs, n, i, &bk, &d_keys, &d_tombs, &d_log,
			       err);
		if (rv != 0)
			goto err_after_batch;
		/* The first winner of a key not stored yet adds it. */
		if (!bk.found && s->outs[i] == STORE_APPLIED &&
		    bk.winner == &vs[i] && !key_pending) {
			s->refs[r].hash = hash;
			s->refs[r].kf_add = 1;
			key_pending = 1;
		}
		if (s->outs[i] == STORE_APPLIED)
			applied++;
		else if (s->outs[i] == STORE_STALE)
			stale++;
		else
			identical++;
		/* Even a losing version of ours proves that seq was used. */
		if (memcmp(vs[i].origin, s->origin, STORE_ORIGIN_BYTES) == 0 &&
		    vs[i].seq > local_seq)
			local_seq = vs[i].seq;
	}
	leveldb_free(bk.raw);
	bk.raw = NULL;
	if (n > 0 && bk.winner != NULL)
		s->vflags[bk.winner - vs] |= VF_LOGGED;
	/* The log entries, in the caller's order: a stream gives each
	 * origin's entries in seq order, so they go into LevelDB's memtable
	 * as appends rather than at random places (measured: ~10% of an
	 * apply at 100-byte values). */
	for (i = 0; i < n; i++) {
		if (!(s->vflags[i] & VF_LOGGED))
			continue;
		log_key(lk, vs[i].origin, vs[i].seq);
		llen = log_encode(s->lbuf, vs[i].clock, vs[i].wall_ms,
				  vs[i].deleted != 0, vs[i].key, vs[i].key_len);
		leveldb_writebatch_put(s->batch, lk, sizeof lk, s->lbuf, llen);
	}
	for (i = 0; i < n_raise; i++) {
		os = origin_find(s, raise[i].origin);
		assert(os != NULL);
		origin_touch(s, os);
		if (raise[i].seq > os->pend_hwm)
			os->pend_hwm = raise[i].seq;
		if (memcmp(raise[i].origin, s->origin, STORE_ORIGIN_BYTES) == 0 &&
		    raise[i].seq > local_seq)
			local_seq = raise[i].seq;
	}
	for (i = 0; i < s->n_origins; i++) {
		os = &s->origins[i];
		if (os->gen != s->gen || os->pend_hwm <= os->hwm)
			continue;
		hwm_key(hk, os->origin);
		put_be64(seqbuf, os->pend_hwm);
		leveldb_writebatch_put(s->batch, hk, sizeof hk,
				       (const char *)seqbuf, sizeof seqbuf);
		dirty = 1;
	}
	os = origin_find(s, s->origin);
	assert(os != NULL);
	if (local_seq > s->local_seq &&
	    (os->gen != s->gen || local_seq > os->pend_hwm)) {
		put_be64(seqbuf, local_seq);
		leveldb_writebatch_put(s->batch, SINGLE_SEQ, strlen(SINGLE_SEQ),
				       (const char *)seqbuf, sizeof seqbuf);
		dirty = 1;
	}
	if (applied > 0 || dirty) {
		rv = commit(s, "remote apply", err);
		if (rv != 0)
			goto err_after_batch;
	}

	/* Durable: the memory view follows. */
	for (r = 0; r < n; r++) {
		if (r + KF_PREFETCH_AHEAD < n) {
			kf_prefetch(&s->kf, s->refs[r + KF_PREFETCH_AHEAD].hash,
				    1);
			kf_prefetch(&s->lf,
				    s->refs[r + KF_PREFETCH_AHEAD].lhash, 1);
		}
		if (s->refs[r].kf_add)
			kf_add(&s->kf, s->refs[r].hash);
		if (s->vflags[s->refs[r].idx] & VF_LOGGED)
			kf_add(&s->lf, s->refs[r].lhash);
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
	s->local_seq = local_seq;
	s->stats.applied += applied;
	s->stats.stale += stale;
	s->stats.identical += identical;
	s->stats.keys = (uint64_t)((int64_t)s->stats.keys + d_keys);
	s->stats.tombstones = (uint64_t)((int64_t)s->stats.tombstones + d_tombs);
	s->stats.log_entries = (uint64_t)((int64_t)s->stats.log_entries + d_log);
	if (outcomes != NULL && n > 0)
		memcpy(outcomes, s->outs, n * sizeof *outcomes);
	for (i = 0; i < n; i++)
		if (s->outs[i] == STORE_APPLIED)
			notify(s, &vs[i], 0);
	return 0;

err_after_batch:
	leveldb_free(bk.raw);
	leveldb_writebatch_clear(s->batch);
	s->stats.seq_conflicts = conflicts0;
	/* A later generation makes the pend_* values of this one void. */
	return rv;
nomem:
	return err_set(err, RUMOR_ENOMEM, "store %s: out of memory", s->dir);
}

/* ------------------------------------------------------------ HWMs and log */

uint64_t store_hwm(struct store *s, const uint8_t origin[STORE_ORIGIN_BYTES])
{
	const struct origin_state *os = origin_find(s, origin);

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
				  get_be64((const uint8_t *)v)) != 0;
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL)
		return db_error(s, lerr, "scanning HWMs", err);
	for (; rv == 0 && oi < s->n_origins && !stop; oi++)
		if (s->origins[oi].log_max > 0)
			stop = cb(arg, s->origins[oi].origin, 0) != 0;
	return rv;
}

int store_log_scan(struct store *s, const struct store_snapshot *snap,
		   const uint8_t origin[STORE_ORIGIN_BYTES], uint64_t after_seq,
		   size_t max, store_log_cb cb, void *arg, uint64_t *last_seq,
		   struct err *err)
{
	struct store_snapshot *own_snap = NULL;
	const leveldb_readoptions_t *ro;
	leveldb_iterator_t *it;
	struct rumor_version v;
	struct log_value lv;
	struct meta m;
	char start[LOG_KEY_BYTES];
	char mkey[1 + RUMOR_KEY_MAX];
	uint8_t origin_copy[STORE_ORIGIN_BYTES];
	const char *k, *val;
	char *lerr = NULL, *raw = NULL;
	size_t klen, vlen, rlen, given = 0;
	uint64_t last = after_seq;
	int rv = 0, stop;
	char hex[41];

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
	ro = snap->ropts;
	log_key(start, origin_copy, after_seq + 1);
	it = leveldb_create_iterator(s->db, ro);
	for (leveldb_iter_seek(it, start, sizeof start);
	     leveldb_iter_valid(it) && (max == 0 || given < max);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen != LOG_KEY_BYTES ||
		    memcmp(k, start, 1 + STORE_ORIGIN_BYTES) != 0)
			break;
		val = leveldb_iter_value(it, &vlen);
		if (log_decode(val, vlen, &lv) != 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable log entry", s->dir);
			break;
		}
		v.key = lv.key;
		v.key_len = lv.key_len;
		v.deleted = lv.deleted;
		v.clock = lv.clock;
		v.wall_ms = lv.wall_ms;
		v.origin = origin_copy;
		v.origin_len = STORE_ORIGIN_BYTES;
		v.seq = get_be64((const uint8_t *)k + 1 + STORE_ORIGIN_BYTES);
		v.value = NULL;
		v.value_len = 0;
		if (!lv.deleted) {
			/* The value is in the key's meta, which must name
			 * this very entry. */
			mkey[0] = PFX_META;
			memcpy(mkey + 1, lv.key, lv.key_len);
			raw = leveldb_get(s->db, ro, mkey, 1 + lv.key_len,
					  &rlen, &lerr);
			if (lerr != NULL)
				break;
			if (raw == NULL || meta_decode(raw, rlen, &m) != 0 ||
			    m.deleted || m.seq != v.seq ||
			    memcmp(m.origin, origin_copy,
				   STORE_ORIGIN_BYTES) != 0) {
				rv = err_set(err, RUMOR_ECORRUPT,
					     "store %s: log entry of key %s without its meta",
					     s->dir, key_hex(lv.key, lv.key_len,
							     hex));
				break;
			}
			v.value = m.value;
			v.value_len = m.value_len;
		}
		given++;
		last = v.seq;
		stop = cb(arg, &v);
		leveldb_free(raw);
		raw = NULL;
		if (stop)
			break;
	}
	leveldb_free(raw);
	if (lerr == NULL)
		leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	store_snapshot_free(s, own_snap);
	if (last_seq != NULL)
		*last_seq = last;
	if (lerr != NULL)
		return db_error(s, lerr, "scanning the log", err);
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
		    meta_decode(val, vlen, &m) != 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable meta for key %s",
				     s->dir, key_hex(k + 1, klen - 1, hex));
			break;
		}
		v.key = k + 1;
		v.key_len = klen - 1;
		v.value = m.value;
		v.value_len = m.value_len;
		v.deleted = m.deleted;
		v.clock = m.clock;
		v.wall_ms = m.wall_ms;
		v.origin = m.origin;
		v.origin_len = STORE_ORIGIN_BYTES;
		v.seq = m.seq;
		n++;
		if (cb(arg, &v) != 0)
			break;
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (given != NULL)
		*given = n;
	if (lerr != NULL)
		return db_error(s, lerr, "scanning metas", err);
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

/* ------------------------------------------------------------ tombstones */

int store_collect_tombstones(struct store *s, store_covered_cb covered,
			     void *arg, size_t max, size_t *removed,
			     struct err *err)
{
	leveldb_iterator_t *it;
	const char *k, *v;
	size_t klen, vlen, examined = 0, n = 0;
	char *lerr = NULL, *cursor = NULL;
	size_t cursor_len = 0;
	char lk[LOG_KEY_BYTES];
	struct meta m;
	int rv = 0, at_end = 0;
	char hex[41];

	if (removed != NULL)
		*removed = 0;
	if (s == NULL || covered == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_collect_tombstones: NULL argument");
	rv = check_writable(s, "store_collect_tombstones", err);
	if (rv != 0)
		return rv;

	leveldb_writebatch_clear(s->batch);
	it = leveldb_create_iterator(s->db, s->ropts);
	if (s->collect_cursor != NULL)
		leveldb_iter_seek(it, s->collect_cursor, s->collect_cursor_len);
	else
		leveldb_iter_seek(it, "m", 1);
	/* covered() must not write: the batch is being built. */
	s->in_hook++;
	for (;; leveldb_iter_next(it)) {
		if (!leveldb_iter_valid(it)) {
			at_end = 1;
			break;
		}
		k = leveldb_iter_key(it, &klen);
		if (k[0] != PFX_META) {
			at_end = 1;
			break;
		}
		if ((max != 0 && n >= max) || examined >= STORE_COLLECT_SCAN_MAX) {
			cursor = malloc(klen);
			if (cursor == NULL) {
				rv = err_set(err, RUMOR_ENOMEM,
					     "store %s: out of memory", s->dir);
				break;
			}
			memcpy(cursor, k, klen);
			cursor_len = klen;
			break;
		}
		examined++;
		v = leveldb_iter_value(it, &vlen);
		if (meta_decode(v, vlen, &m) != 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable meta for key %s",
				     s->dir, key_hex(k + 1, klen - 1, hex));
			break;
		}
		if (!m.deleted || !covered(arg, m.origin, m.seq))
			continue;
		leveldb_writebatch_delete(s->batch, k, klen);
		log_key(lk, m.origin, m.seq);
		leveldb_writebatch_delete(s->batch, lk, sizeof lk);
		n++;
	}
	s->in_hook--;
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL && rv == 0)
		rv = db_error(s, lerr, "scanning tombstones", err);
	else
		leveldb_free(lerr);
	if (rv == 0 && n > 0)
		rv = commit(s, "tombstone collection", err);
	leveldb_writebatch_clear(s->batch);
	if (rv != 0) {
		free(cursor);
		return rv;
	}
	free(s->collect_cursor);
	s->collect_cursor = at_end ? NULL : cursor;
	s->collect_cursor_len = at_end ? 0 : cursor_len;
	if (at_end)
		free(cursor);
	s->stats.tombstones -= n;
	s->stats.log_entries -= n;
	s->stats.collected += n;
	if (removed != NULL)
		*removed = n;
	return 0;
}

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
};

/* fmt holds one "%s", replaced by the key in hex. Spliced by hand rather
 * than handed to printf: a format that is not a literal is what
 * -Wformat-nonliteral forbids. */
static int corrupt(struct check *c, struct err *err, const char *fmt,
		   const void *key, size_t key_len)
{
	const char *at = strstr(fmt, "%s");
	char hex[41];
	char what[160];

	assert(at != NULL);
	snprintf(what, sizeof what, "%.*s%s%s", (int)(at - fmt), fmt,
		 key_hex(key, key_len, hex), at + 2);
	return err_set(err, RUMOR_ECORRUPT, "store %s: check: %s", c->s->dir,
		       what);
}

/* Reads raw key k (of the check's read options); *val NULL when absent. */
static int check_get(struct check *c, const char *k, size_t klen,
		     char **val, size_t *vlen, struct err *err)
{
	char *lerr = NULL;

	*val = leveldb_get(c->s->db, c->ro, k, klen, vlen, &lerr);
	if (lerr != NULL)
		return db_error(c->s, lerr, "check read", err);
	return 0;
}

static int check_hwm_entry(struct check *c, const char *k, size_t klen,
			   const char *v, size_t vlen, struct err *err)
{
	const struct origin_state *os;
	struct check_hwm *h;
	uint64_t seq;

	if (klen != HWM_KEY_BYTES || vlen != 8)
		return corrupt(c, err, "HWM entry of bad size (%s)", k, klen);
	seq = get_be64((const uint8_t *)v);
	os = origin_find(c->s, (const uint8_t *)k + 1);
	if (os == NULL || os->hwm != seq)
		return corrupt(c, err, "stored HWM differs from memory (%s)",
			       k + 1, STORE_ORIGIN_BYTES);
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
		return corrupt(c, err, "log key of bad length (%s)", k, klen);
	seq = get_be64(origin + STORE_ORIGIN_BYTES);
	if (seq == 0)
		return corrupt(c, err, "log entry with seq 0 (origin %s)",
			       origin, STORE_ORIGIN_BYTES);
	if (log_decode(v, vlen, &lv) != 0)
		return corrupt(c, err, "unreadable log entry (origin %s)",
			       origin, STORE_ORIGIN_BYTES);
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
			       origin, STORE_ORIGIN_BYTES);
	os = origin_find(c->s, origin);
	if (os == NULL || os->log_max < seq)
		return corrupt(c, err, "log entry above the known log_max (%s)",
			       origin, STORE_ORIGIN_BYTES);
	if (!kf_maybe(&c->s->lf, lf_hash(origin, seq)))
		return corrupt(c, err, "log entry missing from the log filter "
			       "(%s)", origin, STORE_ORIGIN_BYTES);
	kbuf_set(c->s, PFX_META, lv.key, lv.key_len);
	rv = check_get(c, c->s->kbuf, 1 + lv.key_len, &val, &mlen, err);
	if (rv != 0)
		return rv;
	if (val == NULL)
		return corrupt(c, err, "log entry of a key without meta (%s)",
			       lv.key, lv.key_len);
	rv = meta_decode(val, mlen, &m);
	leveldb_free(val);
	/* check_meta reports an unreadable meta when the walk reaches it,
	 * with the precise reason. */
	if (rv != 0)
		return 0;
	if (m.seq != seq || memcmp(m.origin, origin, STORE_ORIGIN_BYTES) != 0)
		return corrupt(c, err, "log entry not the one its meta names (key %s)",
			       lv.key, lv.key_len);
	if (m.clock != lv.clock || m.wall_ms != lv.wall_ms ||
	    m.deleted != lv.deleted)
		return corrupt(c, err, "log entry and meta disagree (key %s)",
			       lv.key, lv.key_len);
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
		return corrupt(c, err, "meta key of bad length (%s)", k, klen);
	if (vlen > META_HEAD_BYTES && (v[1] & FLAG_DELETED) != 0)
		return corrupt(c, err, "tombstone with a value (key %s)", k + 1,
			       klen - 1);
	if (vlen > META_HEAD_BYTES + RUMOR_VALUE_MAX)
		return corrupt(c, err, "value too large for key %s", k + 1,
			       klen - 1);
	if (meta_decode(v, vlen, &m) != 0)
		return corrupt(c, err, "unreadable meta for key %s", k + 1,
			       klen - 1);
	if (!kf_maybe(&c->s->kf, kf_hash(k + 1, klen - 1)))
		return corrupt(c, err, "key %s missing from the key filter",
			       k + 1, klen - 1);
	if (m.deleted)
		c->tombstones++;
	else
		c->keys++;
	log_key(lk, m.origin, m.seq);
	rv = check_get(c, lk, sizeof lk, &val, &len, err);
	if (rv != 0)
		return rv;
	if (val == NULL)
		return corrupt(c, err, "meta without its log entry (key %s)",
			       k + 1, klen - 1);
	rv = log_decode(val, len, &lv);
	if (rv == 0 && (lv.key_len != klen - 1 ||
			memcmp(lv.key, k + 1, klen - 1) != 0))
		rv = 1;
	leveldb_free(val);
	if (rv < 0)
		return corrupt(c, err, "unreadable log entry of key %s", k + 1,
			       klen - 1);
	if (rv > 0)
		return corrupt(c, err, "meta names another key's log entry (key %s)",
			       k + 1, klen - 1);
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
			return corrupt(c, err, "bad schema entry%s", "", 0);
		c->have_schema = 1;
	} else if (klen == strlen(SINGLE_SEQ) &&
		   memcmp(k, SINGLE_SEQ, klen) == 0) {
		if (vlen != 8)
			return corrupt(c, err, "bad seq entry%s", "", 0);
		c->stored_seq = get_be64(p);
		c->have_seq = 1;
	} else {
		return corrupt(c, err, "unknown singleton %s", k + 1, klen - 1);
	}
	return 0;
}

int store_check(struct store *s, struct err *err)
{
	struct check c;
	leveldb_iterator_t *it;
	const struct origin_state *own;
	const struct check_hwm *h;
	const char *k, *v;
	size_t klen, vlen, i;
	char *lerr = NULL;
	int rv = 0;

	if (s == NULL)
		return err_set(err, RUMOR_EINVAL, "store_check: no store");
	memset(&c, 0, sizeof c);
	c.s = s;
	c.ro = leveldb_readoptions_create();
	leveldb_readoptions_set_verify_checksums(c.ro, 1);
	leveldb_readoptions_set_fill_cache(c.ro, 0);
	it = leveldb_create_iterator(s->db, c.ro);
	/* One walk in key order: h, l, m, s (a d entry of schema 1 is an
	 * unknown prefix now). */
	for (leveldb_iter_seek_to_first(it); rv == 0 && leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		v = leveldb_iter_value(it, &vlen);
		switch (klen > 0 ? k[0] : 0) {
		case PFX_HWM:
			rv = check_hwm_entry(&c, k, klen, v, vlen, err);
			break;
		case PFX_LOG:
			rv = check_log(&c, k, klen, v, vlen, err);
			break;
		case PFX_META:
			rv = check_meta(&c, k, klen, v, vlen, err);
			break;
		case PFX_SINGLE:
			rv = check_single(&c, k, klen, v, vlen, err);
			break;
		default:
			rv = corrupt(&c, err, "entry with unknown prefix (%s)",
				     k, klen);
			break;
		}
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL) {
		rv = err_set(err, RUMOR_ECORRUPT, "store %s: check: %s", s->dir,
			     lerr);
		leveldb_free(lerr);
	}
	if (rv != 0)
		goto done;

	if (!c.have_schema || !c.have_seq) {
		rv = corrupt(&c, err, "missing singleton%s", "", 0);
		goto done;
	}
	own = origin_find(s, s->origin);
	h = check_hwm_find(c.hwms, c.n_hwms, s->origin);
	if (own == NULL || (h != NULL && h->seq > s->local_seq)) {
		rv = corrupt(&c, err, "own HWM above the local seq counter%s",
			     "", 0);
		goto done;
	}
	/* The counter is max(s|seq, own HWM). */
	if (c.stored_seq > s->local_seq ||
	    (c.stored_seq < s->local_seq && (h == NULL || h->seq != s->local_seq))) {
		rv = corrupt(&c, err, "stored seq counter differs from memory%s",
			     "", 0);
		goto done;
	}
	for (i = 0; i < s->n_origins; i++) {
		h = check_hwm_find(c.hwms, c.n_hwms, s->origins[i].origin);
		if (s->origins[i].hwm != (h != NULL ? h->seq : 0)) {
			rv = corrupt(&c, err, "HWM in memory not stored (%s)",
				     s->origins[i].origin, STORE_ORIGIN_BYTES);
			goto done;
		}
	}
	if (c.log_entries != c.keys + c.tombstones) {
		rv = corrupt(&c, err, "log entries are not one per key%s", "", 0);
		goto done;
	}
	if (c.keys != s->stats.keys || c.tombstones != s->stats.tombstones ||
	    c.log_entries != s->stats.log_entries)
		rv = corrupt(&c, err, "counts differ from the kept stats%s", "",
			     0);
done:
	free(c.hwms);
	leveldb_readoptions_destroy(c.ro);
	return rv;
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
		return db_error(s, lerr, "raw put", err);
	/* A planted meta must not hide behind the key filter. */
	if (key_len > 1 && ((const char *)key)[0] == PFX_META)
		kf_add(&s->kf, kf_hash((const char *)key + 1, key_len - 1));
	/* Nor a planted log entry behind the log filter. */
	if (key_len == LOG_KEY_BYTES && ((const char *)key)[0] == PFX_LOG)
		kf_add(&s->lf, lf_hash((const uint8_t *)key + 1,
				       get_be64((const uint8_t *)key + 1 +
						STORE_ORIGIN_BYTES)));
	return 0;
}

int store_debug_raw_del(struct store *s, const void *key, size_t key_len,
			struct err *err)
{
	char *lerr = NULL;

	leveldb_delete(s->db, s->wopts, key, key_len, &lerr);
	if (lerr != NULL)
		return db_error(s, lerr, "raw delete", err);
	return 0;
}

int store_sync(struct store *s, struct err *err)
{
	leveldb_writeoptions_t *wo;
	leveldb_writebatch_t *b;
	char *lerr = NULL;

	/* Own options and batch: this may run on a worker thread while the
	 * loop thread writes with s->wopts and s->batch. LevelDB appends an
	 * empty record to its log and fsyncs the log file, which makes every
	 * earlier write durable too. */
	wo = leveldb_writeoptions_create();
	b = leveldb_writebatch_create();
	leveldb_writeoptions_set_sync(wo, 1);
	leveldb_write(s->db, wo, b, &lerr);
	leveldb_writebatch_destroy(b);
	leveldb_writeoptions_destroy(wo);
	if (lerr != NULL) {
		int rv = err_set(err, RUMOR_EIO, "store %s: sync: %s", s->dir,
				 lerr);
		leveldb_free(lerr);
		return rv;
	}
	return 0;
}

void store_compact(struct store *s)
{
	/* The whole key range: LevelDB merges every level down, and returns
	 * when no compaction is left to do. */
	leveldb_compact_range(s->db, NULL, 0, NULL, 0);
}
