/* SPDX-License-Identifier: MIT */
/*
 * store_int: what the files of src/store/ share and nothing else sees:
 * struct store, the in-memory view beside LevelDB, and the helpers every
 * write path uses. Names shared between the files start with store__
 * (libuv's convention for internals).
 *
 * The files, one concern each:
 *   format.c  on-disk encodings (pure)      store.c  open, close, the
 *   write.c   local writes                             shared helpers
 *   apply.c   remote applies                scan.c   reads, scans, the log
 *   gc.c      tombstone index, collection   check.c  the integrity check
 *   fsync.c   store_sync                    feed.c   the change feed, the
 *   filter.c  the replicate set                        schema 2 upgrade
 */
#ifndef RUMOR_STORE_INT_H
#define RUMOR_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <leveldb/c.h>

#include "lib/bloom.h"
#include "lib/err.h"
#include "store/format.h"
#include "store/store.h"

struct origin_state {
	uint8_t origin[STORE_ORIGIN_BYTES];
	uint64_t hwm;           /* committed */
	uint64_t log_max;       /* highest seq ever logged (an upper bound) */
	uint64_t gen;           /* batch generation of the pend_* fields */
	uint64_t pend_hwm;      /* values inside the batch being built */
	uint64_t pend_log_max;
	uint32_t tomb_oid;      /* 1 + its index in tombs.origins, or 0 */
};

/* An entry of the tombstone index (gc.c); seq 0: an empty slot. */
struct tomb_slot {
	uint64_t seq;
	uint32_t oid;           /* 1 + index in tombs.origins */
	uint32_t pad;
};

/* The tombstone index (gc.c): the (origin, seq) of every tombstone the
 * store holds, exactly, once store_open returns. */
struct tombs {
	struct tomb_slot *slots;        /* mask + 1 slots, at most half full */
	size_t mask;
	size_t n;                       /* entries: == stats.tombstones */
	size_t cursor;                  /* slot the next collection starts at */
	uint8_t (*origins)[STORE_ORIGIN_BYTES];  /* by oid - 1; only grows */
	size_t n_origins, cap_origins;
	struct tomb_slot *gone;         /* collection scratch */
	size_t cap_gone;
};

/* Flags of the versions of an apply batch (store.vflags). */
#define VF_SHARED_SEQ 0x01u     /* another version has its (origin, seq) */
#define VF_LOGGED 0x02u         /* the last winner of its key: logged */

/* A version of an apply batch, for sorting the batch by key. */
struct batch_ref {
	const struct rumor_version *v;
	size_t idx;             /* its place in the caller's array */
	uint64_t hash;          /* bloom_hash of its key */
	uint64_t lhash;         /* store__log_hash of its (origin, seq) */
	int kf_add;             /* a new key: add it to the filter once the
				   batch is durable */
};

/* What a local write batch knows of op i (store.wb[i]). */
#define WB_WAS_NONE 0           /* the key had no version: a new key */
#define WB_WAS_LIVE 1
#define WB_WAS_TOMB 2

struct wb_slot {
	uint64_t hash;          /* bloom_hash of its key */
	uint64_t clock;         /* the clock it gets */
	uint32_t prev;          /* 1 + the earlier op of the same key, or 0 */
	uint8_t was;            /* WB_WAS_*: the version it replaces */
	uint8_t superseded;     /* a later op of the batch has its key */
	uint64_t old_seq;       /* was == WB_WAS_TOMB, prev == 0: the */
	uint8_t old_origin[STORE_ORIGIN_BYTES]; /* stored tombstone */
};

/* The key being decided in an apply batch: its stored meta and the batch's
 * winner so far. */
struct batch_key {
	const struct rumor_version *winner;     /* NULL: the stored version */
	int found;
	struct meta stored;
	char *raw;              /* what stored.value points into, or NULL */
};

/* The key filter (struct store.kf, lib/bloom.h): every user key with an
 * m entry (tombstones included), so that a write of a key the store cannot
 * hold skips the meta read; a collected tombstone only costs a read.
 * store_open builds a single layer sized for twice the keys it finds, so
 * layers pile up only within one run. The log filter (lf) holds the
 * (origin, seq) of every log entry ever written, hashed by
 * store__log_hash. */
#define STORE_FILTER_MIN_KEYS 65536u
#define STORE_PREFETCH_AHEAD 16u   /* versions between a prefetch and its use */

/* Entries a strong write adds to the WriteBatch of a local write or a
 * remote apply (intent.c), so that the versions and the intent's end
 * commit as one: store__commit calls add() last, names the batch what
 * for before_commit, and writes it synced. */
struct store_extra {
	int (*add)(struct store *s, void *arg, struct err *err);
	void *arg;
	const char *what;
};

/* A kept outcome (intent.c): its txid and number (its o key). */
struct outcome_ref {
	uint8_t txid[STORE_TXID_BYTES];
	uint64_t n;
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
	/* The highest clock of any tombstone this store ever collected
	 * (s|clockfloor, 0 when none): a local write's clock is above it
	 * (gc.c says why). */
	uint64_t clock_floor;
	/* The change feed: the position of the latest change, and the floor
	 * (s|feedfloor: the highest position the feed forgot). */
	uint64_t feed_head;
	uint64_t feed_floor;
	/* The replicate set (filter.c): keys outside it are not stored. */
	struct prefixes repl;
	int self_incomplete;            /* s|selfincomplete */
	enum store_filter_event filter_event;   /* what store_open did */
	int inspect;                    /* store_options.inspect */
	uint32_t schema_found;          /* the schema at open */
	uint64_t filter_dropped;
	struct origin_state *origins;   /* sorted by origin */
	size_t n_origins;
	size_t cap_origins;
	uint64_t gen;

	/* Strong writes (intent.c): intents held, the kept outcomes (a ring
	 * of STORE_OUTCOMES_MAX, oldest at outq_head; allocated on first
	 * use), the next outcome number; a batch's extra entries and the
	 * local write's per-op clock minimum (NULL outside a strong commit);
	 * the wall time of the last local batch; synced write options. */
	size_t n_intents;
	struct outcome_ref *outq;
	size_t outq_head, outq_n, outq_cap;
	uint64_t outcome_next;
	const struct store_extra *extra;
	const uint64_t *clock_min;
	uint64_t last_wall_ms;
	leveldb_writeoptions_t *wopts_sync;
	int sync_next;                  /* store__commit_sync is writing */

	struct store_stats stats;
	struct bloom kf;
	struct bloom lf;                /* (origin, seq) of log entries */

	struct tombs tombs;
	/* store_sync (fsync.c), from any thread: the lock orders callers;
	 * logs numbered below sync_floor were closed and synced already. */
	pthread_mutex_t sync_lock;
	uint64_t sync_floor;
	/* Reads of cold data (collection): no block cache filling. */
	leveldb_readoptions_t *ropts_cold;

	/* Scratch reused by every call so that hot paths do not allocate. */
	char kbuf[1 + RUMOR_KEY_MAX];           /* prefix + user key */
	char lbuf[LOG_HEAD_BYTES + RUMOR_KEY_MAX]; /* a log value */
	char *mbuf;                     /* an m value: head and value */
	size_t cap_mbuf;
	struct batch_ref *refs;         /* apply: the batch in key order */
	int *outs;
	uint64_t *vpos;                 /* apply: position per version */
	unsigned char *vflags;          /* apply: VF_* per version */
	struct store_hwm *tdel;         /* apply: stored tombstones replaced */
	size_t n_tdel;
	size_t cap_batch;
	uint32_t *seqtab;               /* apply: hash table for seqdup;
					   local batch: for repeated keys */
	size_t cap_seqtab;
	size_t seqtab_size;             /* slots the current batch uses */
	struct wb_slot *wb;             /* local batch: one per op */
	size_t cap_wb;
};

/* A 64-bit hash of a log entry's (origin, seq), for the log filter. */
static inline uint64_t store__log_hash(const uint8_t *origin, uint64_t seq)
{
	return bloom_mix(bloom_hash(origin, STORE_ORIGIN_BYTES) ^
			 bloom_mix(seq ^ 0x3c6ef372fe94f82bull));
}

/* The version a decoded meta of key describes; v points into key and m
 * (valid as long as they are). A live value is never NULL (resolver
 * ABI): m->value points into its buffer even when empty. */
static inline void store__version_of_meta(struct rumor_version *v,
					  const void *key, size_t key_len,
					  const struct meta *m)
{
	v->key = key;
	v->key_len = key_len;
	v->value = m->value;
	v->value_len = m->value_len;
	v->deleted = m->deleted;
	v->clock = m->clock;
	v->wall_ms = m->wall_ms;
	v->origin = m->origin;
	v->origin_len = STORE_ORIGIN_BYTES;
	v->seq = m->seq;
}

/* ------------------------------------------------------------ store.c */

/* The wall clock of the store: the now_ms hook, or the system clock. */
uint64_t store__now_ms(struct store *s);
/* Sets err to RUMOR_EIO naming what and LevelDB's message lerr, which it
 * frees; returns RUMOR_EIO. */
int store__db_error(struct store *s, char *lerr, const char *what,
		    struct err *err);
/* Puts prefix + key into s->kbuf (key_len <= RUMOR_KEY_MAX); returns the
 * length. */
size_t store__kbuf_set(struct store *s, char prefix, const void *key,
		       size_t key_len);
/* The state of origin, or NULL when the store knows nothing of it. */
struct origin_state *store__origin_find(const struct store *s,
					const uint8_t *origin);
/* The entry of origin, inserted (zeroed) if missing; NULL when out of
 * memory. Moves other entries: pointers from store__origin_find() go
 * stale. */
struct origin_state *store__origin_get(struct store *s, const uint8_t *origin);

/* Reads the meta of key (in s->kbuf as 'm' + key, length klen) with read
 * options ro. *found = 0 when there is none. With raw not NULL, *raw gets
 * the buffer m->value points into (the caller leveldb_free()s it; NULL
 * when not found); without, m->value must not be used. RUMOR_EIO,
 * RUMOR_ECORRUPT (an unreadable meta). */
int store__meta_read(struct store *s, const leveldb_readoptions_t *ro,
		     size_t klen, struct meta *m, int *found, char **raw,
		     struct err *err);
/* Adds the m entry of the key in s->kbuf (length klen) to s->batch: the
 * head of m, then value (ignored for a tombstone). RUMOR_ENOMEM. */
int store__meta_put(struct store *s, size_t klen, const struct meta *m,
		    const void *value, size_t value_len, struct err *err);
/* Writes s->batch, then empties it, failed or not. The before_commit hook
 * may refuse (RUMOR_EIO, nothing written); RUMOR_EIO when LevelDB fails. */
int store__commit(struct store *s, const char *what, struct err *err);
/* load.c: at open, after LevelDB is open: a fresh store gets its
 * singletons, an existing one is read into memory in one walk (filter:
 * the replicate set asked for). RUMOR_ECORRUPT for an entry it cannot
 * read, RUMOR_EIO, RUMOR_ENOMEM. */
int store__load(struct store *s, const struct prefixes *filter,
		struct err *err);

/* store__commit with LevelDB's sync option (intent.c). */
int store__commit_sync(struct store *s, const char *what, struct err *err);
/* Calls the on_change hook (if any) with writes refused meanwhile. */
void store__notify(struct store *s, const struct rumor_version *v, int local,
		   uint64_t pos);
/* Adds to s->batch the f entry pos -> key. */
void store__feed_put(struct store *s, uint64_t pos, const void *key,
		     size_t key_len);
/* Adds to s->batch the deletion of the f entry at pos. */
void store__feed_del(struct store *s, uint64_t pos);
/* RUMOR_EINVAL when called from inside a hook (what names the caller). */
int store__check_writable(struct store *s, const char *what,
			  struct err *err);
/* RUMOR_EINVAL / RUMOR_ETOOBIG unless the key is 1..RUMOR_KEY_MAX bytes. */
int store__check_key(const void *key, size_t key_len, struct err *err);
/* RUMOR_ETOOBIG above RUMOR_VALUE_MAX, RUMOR_EINVAL for NULL with bytes. */
int store__check_value(const void *value, size_t value_len, struct err *err);
/* Makes s->seqtab hold at least 2n slots (a power of two, at least 16)
 * and sets s->seqtab_size to them; the table only grows. 0, or -1 when
 * out of memory. */
int store__seqtab_reserve(struct store *s, size_t n);

/* ------------------------------------------------------------ intent.c */

/* At open, for each i and o entry met by the load scan (in key order):
 * counts intents, fills the outcome ring. RUMOR_ECORRUPT, RUMOR_ENOMEM. */
int store__intent_load(struct store *s, const char *k, size_t klen,
		       const char *v, size_t vlen, struct err *err);
/* store_check's part: every i and o entry readable, the ring and the
 * intent count as stored. RUMOR_ECORRUPT naming the first fault. */
int store__intent_check(struct store *s, struct err *err);

/* ------------------------------------------------------------ feed.c */

/* Upgrades a schema 2 store to schema 3 (store.h, store_open), before
 * the scan at open. RUMOR_ECORRUPT, RUMOR_EIO, RUMOR_ENOMEM. */
int store__migrate2(struct store *s, struct err *err);

/* ------------------------------------------------------------ filter.c */

/* At open, before the scan: takes want (NULL or empty: every key) as the
 * store's filter and brings the store to it (store.h, store_open); fresh:
 * a new store, only the set is written. RUMOR_ECORRUPT, RUMOR_EIO,
 * RUMOR_ENOMEM. */
int store__filter_open(struct store *s, const struct prefixes *want,
		       int fresh, struct err *err);

/* ------------------------------------------------------------ gc.c */

/* Gives origin an id in the tombstone index (a no-op when it has one).
 * Call it before the commit of a batch that adds a tombstone of origin,
 * so that store__tomb_add cannot fail. 0, or -1 when out of memory. */
int store__tomb_origin(struct store *s, const uint8_t *origin);
/* Makes room in the index for more entries, before a commit, so that
 * store__tomb_add cannot fail. 0, or -1 when out of memory. */
int store__tomb_reserve(struct store *s, size_t more);
/* Adds the tombstone (origin, seq), just committed. Requires the room
 * and the origin's id (above). */
void store__tomb_add(struct store *s, const uint8_t *origin, uint64_t seq);
/* Removes the tombstone (origin, seq), just replaced or collected; it
 * must be in the index. */
void store__tomb_del(struct store *s, const uint8_t *origin, uint64_t seq);
/* Whether (origin, seq) is in the index. */
int store__tomb_has(const struct store *s, const uint8_t *origin,
		    uint64_t seq);
/* Frees the index; t is zeroed. */
void store__tombs_free(struct tombs *t);

#endif
