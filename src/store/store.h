/* SPDX-License-Identifier: MIT */
/*
 * store: one LevelDB holding a node's data, the index of versions, the
 * compacted write log, the high-water marks and node singletons
 * (DESIGN section 2). src/store/ is the only folder that includes
 * leveldb/c.h; its files are listed in store_int.h, the encodings are in
 * format.h.
 *
 *   m | key                    -> meta: clock, origin, seq, wall_ms, flags,
 *                                 then the value (none when deleted)
 *   l | origin(32) | seq(8 BE) -> log entry: clock, wall_ms, flags, key
 *   h | origin(32)             -> HWM: highest seq of origin seen (8 BE)
 *   f | pos(8 BE)              -> change feed: the user key whose latest
 *                                 change has position pos
 *   i | txid(16)               -> a strong write's pending intent
 *                                 (intent.c)
 *   o | n(8 BE)                -> the outcome of the nth strong write
 *                                 this store saw end (the last
 *                                 STORE_OUTCOMES_MAX kept)
 *   s | name                   -> singletons: "schema", "seq" (local counter;
 *                                 the counter is max(s|seq, own HWM), see
 *                                 store.c), "clockfloor" (highest clock
 *                                 collected, see gc.c; absent: 0),
 *                                 "feedfloor" (highest position the feed
 *                                 forgot; absent: 0)
 *
 * Contracts:
 *  - Every change, local or remote, is one LevelDB WriteBatch: the meta
 *    (with the value), the new log entry, the deletion of the key's previous log entry, and
 *    the HWM (local writes) or the HWMs the caller asks to raise (remote
 *    batches). A crash at any instant leaves a consistent store
 *    (store_check() proves it).
 *  - The log holds exactly one entry per key: the entry of its stored
 *    version.
 *  - Change positions: every applied change (local or remote; not a stale
 *    or identical version) gets pos = head + 1, in the order on_change
 *    reports them, kept in its meta and as the f entry pos -> key, in the
 *    change's WriteBatch, which also deletes the key's previous f entry:
 *    the feed holds exactly one entry per stored key, at its latest
 *    position. Collection deletes a tombstone's f entry and raises the
 *    feed floor to its position (same batch). head = max(last f entry,
 *    floor), found at open.
 *  - Versions are struct rumor_version (include/rumor/resolver.h); origin
 *    is always STORE_ORIGIN_BYTES long.
 *  - Crashes: every call that writes commits one WriteBatch, so a crash
 *    (of the process or the machine) leaves each call's writes wholly
 *    there or wholly absent, and the memory view (rebuilt by store_open)
 *    matches. A process crash loses nothing a call reported as written
 *    (LevelDB hands each batch to the kernel before it returns); a
 *    machine crash may lose the writes since the last store_sync unless
 *    sync_writes is set.
 *  - Ownership: the caller keeps what it passes in (keys, values,
 *    versions: copied or written before the call returns); what a call
 *    hands out is either valid during a callback only, or malloc'd for the
 *    caller, as each function says.
 *  - Errors: 0 or a negative RUMOR_E* code, with err (may be NULL) set.
 *  - Not thread-safe, but for store_sync; one store per node; no global
 *    state.
 */
#ifndef RUMOR_STORE_H
#define RUMOR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rumor/resolver.h"
#include "lib/err.h"
#include "lib/histogram.h"
#include "lib/prefixes.h"

#define STORE_ORIGIN_BYTES 32
#define STORE_SCHEMA_VERSION 3   /* 1: values in a d keyspace; refused.
				    2: no change positions; upgraded at
				    open (store_open) */
/* Metas one batch of the schema 2 -> 3 migration rewrites. */
#define STORE_MIGRATE_BATCH 4096u
/* Most versions store_apply_batch takes in one call (RUMOR_ETOOBIG above). */
#define STORE_APPLY_MAX (1u << 20)
/* Most tombstones store_collect_tombstones asks covered() about in one
 * call (bounded work on the loop). */
#define STORE_COLLECT_SCAN_MAX 16384u
/* LevelDB tuning (tools/bench/store.c gives raw LevelDB the same). Each
 * write is two entries or more, so the memtable is larger than LevelDB's
 * 4 MiB default: fewer level-0 tables for the read an overwrite does. */
#define STORE_DEFAULT_CACHE_BYTES (8u << 20)
#define STORE_DEFAULT_WRITE_BUFFER_BYTES (16u << 20)
#define STORE_BLOOM_BITS_PER_KEY 10

struct store;
struct resolver;
struct store_snapshot;

struct store_hooks {
	/* Wall clock in ms since the epoch; NULL: the system clock. */
	uint64_t (*now_ms)(void *arg);
	/* Called after each applied change is durable, in apply order, with
	 * its change position (positions increase from call to call). */
	void (*on_change)(void *arg, const struct rumor_version *v, int local,
			  uint64_t pos);
	/* Fault injection for tests: called just before a WriteBatch is
	 * written, after it is complete. A nonzero return makes the store drop
	 * the batch and fail with RUMOR_EIO (as if the write failed). Tests also
	 * _exit() here to simulate a crash. */
	int (*before_commit)(void *arg, const char *what);
	void *arg;
};

struct store_options {
	const uint8_t *origin;           /* this node's origin, 32 bytes */
	struct resolver *resolver;       /* conflict order; not owned */
	struct store_hooks hooks;
	int sync_writes;                 /* fsync each WriteBatch (default 0:
					    LevelDB's log write without fsync) */
	size_t cache_bytes;              /* LevelDB block cache; 0: default */
	size_t write_buffer_bytes;       /* LevelDB memtable; 0: default */
	/* The replicate set: only keys under these prefixes are stored
	 * (NULL or empty: every key); copied. Kept as s|filter: see
	 * store_open for what opening with another set does. */
	const struct prefixes *filter;
	/* Outcomes of strong writes kept (0: STORE_OUTCOMES_MAX); tests
	 * make it small. */
	size_t outcomes_max;
	/* Inspection (rumorctl --offline, on a private copy of a stopped
	 * node's store): open the store as it is. Never creates one (a
	 * directory without a LevelDB is RUMOR_ENOTFOUND, an empty LevelDB
	 * RUMOR_ECORRUPT: not a rumor store) and keeps the replicate set it
	 * holds (filter is ignored: nothing is dropped, no HWM reset). A
	 * schema 2 store is still upgraded (store_schema_found() tells). */
	int inspect;
};

/* What store_open did to bring the store to opt->filter. */
enum store_filter_event {
	STORE_FILTER_SAME = 0,       /* the set it had (or a new store) */
	STORE_FILTER_NARROWED = 1,   /* keys outside the new set dropped */
	STORE_FILTER_WIDENED = 2,    /* a wider or different set: every HWM
					but the own origin's reset to 0 */
};

/* Opens or creates the store in dir (a directory; created mode 0700 if
 * missing; RUMOR_ECONFIG, naming the fix, and nothing changed when
 * another user owns it or others may write to it; its files are kept
 * 0600 without touching the process umask, see lib/perm.h) and scans it
 * once to build the memory view (HWMs, counts, the key and log
 * filters, the tombstone index): O(entries) at open, none later.
 * On success *out is a store the caller closes with store_close(); dir,
 * the origin and the hooks are copied; opt->resolver (NULL: the default
 * order) is not owned and must outlive the store. RUMOR_EBUSY if another
 * store (of this or another process) holds dir, RUMOR_ECORRUPT when the
 * schema is unknown or an entry unreadable, RUMOR_EIO, RUMOR_ENOMEM; on
 * error *out is untouched and nothing stays open. A store left by a crash
 * opens like any other (see the crash contract above).
 * The replicate set (opt->filter): opened with the set it has, nothing
 * happens. With a narrower one, every key outside it goes (meta, log and
 * feed entries; batched and crash-safe: an open after a crash midway
 * finishes the job), the feed floor rises to the head, and if any key
 * dropped was last written by this node, store_self_complete() is 0 from
 * then on, for good. With a wider or different one, keys outside it go
 * too, and every HWM but this node's own is reset to 0, so that the next
 * exchanges pull what the set gained. store_filter_opened() says which.
 * A schema 2 store is upgraded to schema 3 first: every meta gets a
 * position (1, 2, ... in key order) and its f entry, in batches of
 * STORE_MIGRATE_BATCH, the schema entry last, so that a crash midway
 * leaves a schema 2 store that the next open upgrades again.
 * The hooks must not write to the store (put, del, apply, collect return
 * RUMOR_EINVAL when called from inside a hook); reading is fine. */
int store_open(struct store **out, const char *dir,
	       const struct store_options *opt, struct err *err);
/* Closes s and frees all it holds (NULL: nothing). Requires every
 * snapshot freed and no store_sync running. Whatever was written stays;
 * unsynced writes are flushed to the kernel, not to the disk. */
void store_close(struct store *s);

/* ------------------------------------------------------------ local writes */

/* Most ops store_write_batch takes in one call, and most key and value
 * bytes of all its ops together (RUMOR_ETOOBIG above either): the whole
 * batch is built in memory before it is written. */
#define STORE_WRITE_BATCH_MAX 65536u
#define STORE_WRITE_BATCH_BYTES (64u << 20)

/* One local write of a batch: a put of value, or (del != 0) a delete,
 * whose value must be NULL with value_len 0. */
struct store_op {
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	int del;
};

/* n local writes in ONE WriteBatch: all are written or none. Each op is
 * what store_put / store_del make of it, in op order: clock = the
 * greater of the key's current clock and the clock floor (the highest
 * clock of any tombstone this store collected), + 1 (an earlier op of the
 * same key in the batch counts as current: its log entry, added by this
 * batch, is deleted again), seq =
 * the next local seq (the ops get consecutive seqs, op i has *first_seq +
 * i), origin = this node; one wall_ms (now) for the whole batch. The own
 * HWM moves to the last seq. on_change is called after the commit, once
 * per op, in op order. On success *first_seq (if not NULL) is the first
 * op's seq (0 when n == 0: nothing is written). Every op is checked
 * before anything is written (key 1..RUMOR_KEY_MAX bytes, value <=
 * RUMOR_VALUE_MAX and not NULL when value_len > 0, a delete without a
 * value, n <= STORE_WRITE_BATCH_MAX, key and value bytes <=
 * STORE_WRITE_BATCH_BYTES): RUMOR_EINVAL / RUMOR_ETOOBIG naming the op.
 * On any error nothing is written and the store's memory view is
 * unchanged; RUMOR_EIO when LevelDB or the before_commit hook refuses,
 * RUMOR_ENOMEM. A crash leaves the whole batch or none of it. The ops'
 * memory stays the caller's. */
int store_write_batch(struct store *s, const struct store_op *ops, size_t n,
		      uint64_t *first_seq, struct err *err);

/* A local put: a batch of one (see store_write_batch, errors and crash
 * included). On success *out_seq (if not NULL) is the new seq. */
int store_put(struct store *s, const void *key, size_t key_len,
	      const void *value, size_t value_len, uint64_t *out_seq,
	      struct err *err);
/* A local delete: a tombstone version (deleted = 1, no value), a batch of
 * one as store_put. The tombstone stays until store_collect_tombstones
 * removes it; deleting a key the store never held writes one too (its
 * delete must still reach the other nodes). */
int store_del(struct store *s, const void *key, size_t key_len,
	      uint64_t *out_seq, struct err *err);

/* ------------------------------------------------------------ reads */

/* The live value of key: *value is malloc'd (never NULL, even for an
 * empty value) and the caller free()s it. RUMOR_ENOTFOUND when absent or
 * deleted, RUMOR_EINVAL / RUMOR_ETOOBIG for a bad key, RUMOR_ECORRUPT,
 * RUMOR_EIO; on error *value is untouched. */
int store_get(struct store *s, const void *key, size_t key_len,
	      void **value, size_t *value_len, struct err *err);

/* The stored version of key (a tombstone too) with its value: *rec is
 * malloc'd, freed with store_record_free(); the pointers in rec->v point
 * into it. RUMOR_ENOTFOUND when the key has no version (never written, or
 * its tombstone collected); other errors as store_get. */
struct store_record {
	struct rumor_version v;
	uint64_t pos;           /* its change position */
	/* followed by key, origin and value bytes */
};
int store_get_version(struct store *s, const void *key, size_t key_len,
		      struct store_record **rec, struct err *err);
/* Frees a record of store_get_version (NULL: nothing). */
void store_record_free(struct store_record *rec);

/* Calls cb for each live key beginning with prefix in key order until cb
 * returns nonzero. The key and value given are valid during the call only.
 * The scan reads one implicit snapshot: the callback may write, and the
 * scan does not see those writes. 0 when the keys ran out or cb stopped
 * it; RUMOR_ECORRUPT (an unreadable meta), RUMOR_EIO. */
typedef int (*store_scan_cb)(void *arg, const void *key, size_t key_len,
			     const void *value, size_t value_len);
int store_scan(struct store *s, const void *prefix, size_t prefix_len,
	       store_scan_cb cb, void *arg, struct err *err);
/* store_scan from a position: only the keys strictly after (after,
 * after_len) in key order (bytewise, shorter first on a common start), so
 * that a paused scan resumes where it stopped without walking what it
 * gave. after NULL (after_len 0): from the first key, as store_scan.
 * after need not begin with prefix nor exist (RUMOR_EINVAL when longer
 * than RUMOR_KEY_MAX). Callback and errors as store_scan. */
int store_scan_after(struct store *s, const void *prefix, size_t prefix_len,
		     const void *after, size_t after_len, store_scan_cb cb,
		     void *arg, struct err *err);

/* ------------------------------------------------------------ remote writes */

enum store_outcome {
	STORE_APPLIED = 1,      /* the remote version won and is stored */
	STORE_STALE = 2,        /* the stored version wins; nothing written */
	STORE_IDENTICAL = 3,    /* the same version is stored already */
	STORE_OUTSIDE = 4,      /* its key is outside the store's filter:
				   not stored */
};

struct store_hwm {
	uint8_t origin[STORE_ORIGIN_BYTES];
	uint64_t seq;
};

/* Applies remote versions (value present unless deleted) and raises the
 * listed HWMs (never lowers them), all in ONE WriteBatch. Versions are
 * applied in order; a later version of the same key in the batch is
 * judged against the earlier one. outcomes (if not NULL) gets one
 * enum store_outcome per version. On error nothing is written.
 * Versions with an origin equal to this node's own are accepted (a node
 * restored from an old copy relearns its own writes) and raise its local
 * seq counter past them; so does a listed HWM of the node's own origin.
 * A version whose (origin, seq) already names a write of ANOTHER key (a
 * reused seq: a buggy peer, or a node restored from an old copy that
 * wrote before catching up) cannot be logged without breaking the log;
 * it is refused as STORE_STALE and counted in stats.seq_conflicts.
 * RUMOR_EINVAL / RUMOR_ETOOBIG for any invalid version (key 1..
 * RUMOR_KEY_MAX bytes, value <= RUMOR_VALUE_MAX, origin_len ==
 * STORE_ORIGIN_BYTES, clock >= 1, seq >= 1, a deletion has value NULL and
 * value_len 0) or n > STORE_APPLY_MAX, checked before anything is
 * written; RUMOR_EIO (LevelDB or the before_commit hook), RUMOR_ECORRUPT
 * (an unreadable stored entry), RUMOR_ENOMEM. A crash leaves the whole
 * batch (versions and HWMs) or none of it: an HWM never moves without the
 * versions of its batch. on_change hears of each applied version after the
 * commit, in the caller's order. The versions stay the caller's. */
int store_apply_batch(struct store *s, const struct rumor_version *vs,
		      size_t n, const struct store_hwm *raise, size_t n_raise,
		      int *outcomes, struct err *err);

/* ------------------------------------------------------------ HWMs and log */

/* HWM of origin (0 when never seen), from memory: no LevelDB read. */
uint64_t store_hwm(struct store *s, const uint8_t origin[STORE_ORIGIN_BYTES]);
/* The local seq counter: the highest seq this node wrote (or learned it
 * had written, from a remote apply of its own versions). From memory. */
uint64_t store_local_seq(struct store *s);
/* This node's origin (STORE_ORIGIN_BYTES), valid while s is open. */
const uint8_t *store_origin(const struct store *s);
/* The store's wall clock in ms since the epoch (the now_ms hook, or the
 * system clock): what sync's claim bound grows with. */
uint64_t store_wall_ms(struct store *s);

/* Lowers the HWM of origin to seq (nothing when it is not above seq), in
 * one WriteBatch: the sync layer's heal of a forged HWM (src/sync/
 * claims.c). Lowering is always safe for the invariant of DESIGN 4.4 (an
 * HWM claims less, and the next exchange sends the entries again); it
 * costs a pull. RUMOR_EINVAL for this node's own origin (its HWM floors
 * the local seq counter) or from inside a hook, RUMOR_EIO (LevelDB or
 * the before_commit hook; then nothing changed). */
int store_lower_hwm(struct store *s, const uint8_t origin[STORE_ORIGIN_BYTES],
		    uint64_t seq, struct err *err);

/* Calls cb for every HWM in origin order (reads snap if not NULL), and
 * with seq 0 for every origin that has log entries but no HWM (entries
 * applied from a stream that was cut before its DONE), merged in origin
 * order, until cb returns nonzero. origin is valid during the call only.
 * RUMOR_ECORRUPT (an unreadable HWM), RUMOR_EIO. */
typedef int (*store_hwm_cb)(void *arg, const uint8_t *origin, uint64_t seq);
int store_hwms(struct store *s, const struct store_snapshot *snap,
	       store_hwm_cb cb, void *arg, struct err *err);

/* Calls cb for each log entry of origin with seq > after_seq, in seq
 * order, with its value (NULL for a deletion), until cb returns nonzero or
 * max entries were given (0: no bound). *last_seq (if not NULL) gets
 * the seq of the last entry given (after_seq when none was). Reads snap if
 * not NULL. The callback may write to the store; a scan without snap sees
 * the state when it began. */
typedef int (*store_log_cb)(void *arg, const struct rumor_version *v);
int store_log_scan(struct store *s, const struct store_snapshot *snap,
		   const uint8_t origin[STORE_ORIGIN_BYTES], uint64_t after_seq,
		   size_t max, store_log_cb cb, void *arg, uint64_t *last_seq,
		   struct err *err);

/* The newest entries of the log, for listing it (rumorctl's log, online
 * and offline): for origin (NULL: every origin that has log entries, in
 * origin order), its newest max entries (0: all), newest first, until cb
 * returns nonzero. Sizes only: v->value is NULL and v->value_len the
 * live value's size (0 for a deletion). The log is read backwards from
 * each origin's end, so the cost is the entries given, not the log's
 * length. The version cb gets is valid during the call only. One
 * snapshot for the whole walk: the callback may write, the walk does not
 * see it. 0 when the entries ran out or cb stopped; RUMOR_ECORRUPT (an
 * unreadable log entry, or a live one whose key's meta does not name
 * it), RUMOR_EIO, RUMOR_ENOMEM. */
int store_log_newest(struct store *s, const uint8_t *origin, size_t max,
		     store_log_cb cb, void *arg, struct err *err);

/* Calls cb for each stored version (tombstones included) in key order,
 * with its value (NULL for a deletion), starting after the key (after,
 * after_len) or at the first key when after is NULL, until cb returns
 * nonzero or max versions were given (0: no bound). Sequential: the
 * values are inline in the m keyspace, so no point reads. The version
 * cb gets (key, origin, value) is valid during the call only.
 * *given (if not NULL) gets the number of calls of cb. Reads snap if
 * not NULL; the callback may write to the store (a scan without snap
 * sees the state when it began). By the one-entry-per-key invariant the
 * versions given are exactly the log's entries, in another order. */
int store_meta_scan(struct store *s, const struct store_snapshot *snap,
		    const void *after, size_t after_len, size_t max,
		    store_log_cb cb, void *arg, size_t *given,
		    struct err *err);

/* A consistent read view for streaming while writes go on: it pins
 * LevelDB's versions (compaction keeps what it sees), so hold it no longer
 * than a stream. NULL when out of memory. The caller frees it with
 * store_snapshot_free() before store_close(). */
struct store_snapshot *store_snapshot_new(struct store *s);
/* Frees snap (NULL: nothing). */
void store_snapshot_free(struct store *s, struct store_snapshot *snap);

/* ------------------------------------------------------------ filter */

/* The store's replicate set (empty: every key), valid while s is open. */
const struct prefixes *store_filter(const struct store *s);
/* 1 while the store holds every write this node made (nothing of its
 * own origin was dropped by a narrower filter), else 0 for good. */
int store_self_complete(const struct store *s);
/* What store_open did with the filter; *dropped (if not NULL) gets the
 * number of keys it dropped. */
enum store_filter_event store_filter_opened(const struct store *s,
					    uint64_t *dropped);

/* The schema the store had when opened (before an upgrade at open; a
 * new store: STORE_SCHEMA_VERSION). */
uint32_t store_schema_found(const struct store *s);

/* ------------------------------------------------------------ change feed */

/* The position of the latest change (0: none yet), from memory. */
uint64_t store_feed_head(const struct store *s);
/* The feed floor: the highest position of a change the feed no longer
 * holds (a collected tombstone); 0 when none. Every position above it
 * that is not in the feed was superseded by a later change of its key. */
uint64_t store_feed_floor(const struct store *s);

/* Calls cb with each entry of the feed after position after, in position
 * order, with the key's stored version (value NULL for a deletion), until
 * cb returns nonzero or max entries were given (0: no bound). *last (if
 * not NULL) gets the position of the last entry read (given or not;
 * after when none), *at_end whether the feed ran out. The feed is read
 * through an implicit snapshot and each meta at its current state: a
 * version the callback (or anything) replaced meanwhile is skipped (it
 * comes again at its new position). v is valid during the call only.
 * RUMOR_ECORRUPT (a feed entry without its meta), RUMOR_EIO. */
typedef int (*store_feed_cb)(void *arg, uint64_t pos,
			     const struct rumor_version *v);
int store_feed_scan(struct store *s, uint64_t after, size_t max,
		    store_feed_cb cb, void *arg, uint64_t *last, int *at_end,
		    struct err *err);

/* ------------------------------------------------------------ tombstones */

/* Removes tombstones (meta, log entry) whose (origin, seq) every member
 * has seen: covered(arg, origin, seq) returns nonzero when that is so; it
 * must not write to the store (RUMOR_EINVAL), and origin is valid during
 * the call only. Never removes anything else: a live key, or a tombstone
 * covered() refused, stays.
 * The store keeps an exact in-memory index of its tombstones (built at
 * open, kept by every write), so a call with no tombstone returns at once
 * and a call reads from LevelDB only the tombstones it removes (their log
 * entry and meta, without filling the block cache; stats.gc_reads counts
 * them). At most max removals per call (0: no bound), and at most
 * STORE_COLLECT_SCAN_MAX tombstones asked about (bounded work on the
 * loop): the next call goes on after the last one asked, round the index.
 * *removed (if not NULL) gets the count. All removals of one call are one
 * WriteBatch, with the clock floor raised to the highest clock removed
 * (so that a later local write of such a key beats the tombstone other
 * nodes may still hold): a crash leaves all or none. RUMOR_ECORRUPT when the store
 * disagrees with the index (nothing is removed), RUMOR_EIO, RUMOR_ENOMEM;
 * on error nothing is removed. */
typedef int (*store_covered_cb)(void *arg, const uint8_t *origin,
				uint64_t seq);
int store_collect_tombstones(struct store *s, store_covered_cb covered,
			     void *arg, size_t max, size_t *removed,
			     struct err *err);
/* The same with a second stage, for members that hold only some keys (a
 * partial node's replicate set): covered() may answer STORE_COVERED_KEY,
 * "depends on the key"; then the tombstone's key is read from its log
 * entry (the read its removal needs anyway, counted in stats.gc_reads)
 * and covered_key(arg, origin, seq, key, key_len) decides (nonzero:
 * covered). Same rules as covered(): no writes, arguments valid during
 * the call. An answer of 0 or 1 reads nothing more, so a cluster of full
 * nodes keeps the no-read path. store_collect_tombstones() is this with
 * covered_key NULL: STORE_COVERED_KEY then counts as not covered. */
#define STORE_COVERED_KEY 2
typedef int (*store_covered_key_cb)(void *arg, const uint8_t *origin,
				    uint64_t seq, const void *key,
				    size_t key_len);
int store_collect_tombstones_keyed(struct store *s, store_covered_cb covered,
				   store_covered_key_cb covered_key,
				   void *arg, size_t max, size_t *removed,
				   struct err *err);

/* ------------------------------------------------------------ strong writes */

/* Intents and outcomes of strong writes (intent.c). Every write of this
 * section commits with LevelDB's sync option whatever sync_writes says:
 * a participant's yes vote and a coordinator's commit are promises to
 * other nodes, which must survive a machine crash, where a gossip write
 * only promises what the fsync policy says. */
#define STORE_TXID_BYTES 16
/* Outcomes kept (the oldest dropped first, in the batch that adds one):
 * enough to answer every ASK of the participants of the last writes. */
#define STORE_OUTCOMES_MAX 4096u
/* Most participants of one intent. */
#define STORE_INTENT_PARTICIPANTS_MAX 1024u

/* An op of an intent: op index in the whole write (a partial node keeps
 * only the ops inside its replicate set), a put or a deletion. */
struct store_intent_op {
	uint32_t index;
	int del;
	const void *key;
	size_t key_len;
	const void *value;          /* NULL when deleted */
	size_t value_len;
};

struct store_intent {
	uint8_t txid[STORE_TXID_BYTES];
	uint8_t coordinator[STORE_ORIGIN_BYTES];
	uint64_t deadline_ms;       /* wall ms when the prepare bound ends */
	const uint8_t *participants; /* n x STORE_ORIGIN_BYTES */
	size_t n_participants;      /* 1..STORE_INTENT_PARTICIPANTS_MAX */
	const struct store_intent_op *ops;
	size_t n_ops;               /* 0..STORE_WRITE_BATCH_MAX */
};

/* What became of a transaction. */
#define STORE_TX_COMMITTED 2        /* == WIRE_TX_COMMITTED */
#define STORE_TX_ABORTED 3          /* == WIRE_TX_ABORTED */
struct store_tx_outcome {
	int state;                  /* STORE_TX_* */
	uint64_t first_seq;         /* committed: version fields of op i are */
	uint64_t wall_ms;           /* (clocks[i], coordinator, */
	const uint64_t *clocks;     /* first_seq + i, wall_ms) */
	size_t n_clocks;
};

/* Stores in durably (one synced WriteBatch). RUMOR_EINVAL when txid has
 * an intent or an outcome already (nothing written), RUMOR_EINVAL /
 * RUMOR_ETOOBIG for a bad op, count or participant list, RUMOR_EIO
 * (before_commit's what: "intent"), RUMOR_ENOMEM. */
int store_intent_put(struct store *s, const struct store_intent *in,
		     struct err *err);
/* Stores the n intents ins (distinct txids) durably in ONE synced
 * WriteBatch: all or none. Errors as store_intent_put, for the first
 * intent that fails its checks (nothing written). */
int store_intents_put(struct store *s, const struct store_intent *ins,
		      size_t n, struct err *err);
/* Ends txid as aborted: its intent (if any) goes and the outcome
 * "aborted" is recorded (unless one is already), one synced batch
 * ("intent abort"). RUMOR_EIO, RUMOR_ENOMEM. */
int store_intent_abort(struct store *s, const uint8_t *txid,
		       struct err *err);
/* Drops txid's intent (if any) WITHOUT recording an outcome, one synced
 * batch ("intent drop"): a participant that gave up waiting does not
 * know the outcome, and must not answer "aborted" for it later.
 * RUMOR_EIO, RUMOR_ENOMEM. */
int store_intent_drop(struct store *s, const uint8_t *txid,
		      struct err *err);
/* The coordinator's commit: store_write_batch of ops, with the clock of
 * op i at least clock_min[i] (NULL: no minimum), the intent of txid
 * deleted and the outcome "committed" recorded, in ONE synced
 * WriteBatch ("strong commit"). clocks (n entries) gets each op's
 * clock, *first_seq and *wall_ms the version fields. Errors as
 * store_write_batch; nothing written on error. */
int store_intent_commit_local(struct store *s, const uint8_t *txid,
			      const struct store_op *ops, size_t n,
			      const uint64_t *clock_min, uint64_t *clocks,
			      uint64_t *first_seq, uint64_t *wall_ms,
			      struct err *err);
/* A participant's commit: store_apply_batch of vs (no HWM raised), the
 * intent of txid deleted (if any) and the outcome oc recorded (unless
 * one is), in ONE synced WriteBatch ("strong apply"). Errors as
 * store_apply_batch. */
int store_intent_commit_remote(struct store *s, const uint8_t *txid,
			       const struct rumor_version *vs, size_t n,
			       const struct store_tx_outcome *oc, int *outcomes,
			       struct err *err);
/* Calls cb with each stored intent (in txid order; pointers valid
 * during the call) until cb returns nonzero. RUMOR_ECORRUPT, RUMOR_EIO,
 * RUMOR_ENOMEM. */
typedef int (*store_intent_cb)(void *arg, const struct store_intent *in);
int store_intents_scan(struct store *s, store_intent_cb cb, void *arg,
		       struct err *err);
/* The recorded outcome of txid: 0 with *oc filled and oc->clocks
 * malloc'd (the caller frees it; NULL when none), RUMOR_ENOTFOUND when
 * none is kept, RUMOR_ECORRUPT, RUMOR_EIO, RUMOR_ENOMEM. */
int store_outcome_get(struct store *s, const uint8_t *txid,
		      struct store_tx_outcome *oc, struct err *err);
/* Intents and outcomes held now (from memory). */
size_t store_intents_count(const struct store *s);
size_t store_outcomes_count(const struct store *s);

/* ------------------------------------------------------------ checks, stats */

/* Walks the whole store and verifies its invariants: every m entry is
 * readable (a tombstone has no value) and has its log entry; every l entry
 * is the one its key's meta names; one log entry per key; the local seq
 * counter covers the node's own log entries; the feed holds one entry
 * per stored key, at the position its meta names, none above the head,
 * and the head is the last entry or the floor (entries at or below the
 * floor are fine: it bounds collected changes only); the memory view (HWMs,
 * log_max, counts, the key and log filters, the tombstone index, the
 * clock floor) matches the stored one. A log entry above its origin's HWM is fine: the sync
 * layer raises HWMs only when a stream completes. RUMOR_ECORRUPT with the
 * first violation found, RUMOR_ENOMEM. Reads everything (without filling
 * the block cache): for tests, tools and offline checks, not the loop. */
int store_check(struct store *s, struct err *err);
/* store_check that goes on past a violation: report(arg, message) is
 * called for each one found (message: what is wrong, without the
 * store's directory; valid during the call only; an entry with several
 * faults reports its first), and the walk goes on. 0 when none was found; RUMOR_ECORRUPT with err holding the
 * first message when some were (*found, if not NULL, gets how many);
 * RUMOR_ENOMEM, RUMOR_EIO stop the walk. */
typedef void (*store_check_report_cb)(void *arg, const char *message);
int store_check_all(struct store *s, store_check_report_cb report, void *arg,
		    size_t *found, struct err *err);

struct store_stats {
	uint64_t local_writes;
	uint64_t applied;
	uint64_t stale;
	uint64_t identical;
	uint64_t keys;          /* live keys, counted at open and kept */
	uint64_t tombstones;    /* ditto */
	uint64_t log_entries;   /* ditto */
	uint64_t seq_conflicts; /* remote versions refused: their (origin,
				   seq) names a write of another key */
	uint64_t collected;     /* tombstones removed */
	uint64_t gc_reads;      /* LevelDB entries collection read */
	uint64_t gc_cache_reads; /* of those, read through (and filling) the
				    block cache: none since the tombstone
				    index (kept to compare builds) */
	/* Remote versions per store_apply_batch call that carried any
	 * (HWM-only calls are not counted), in entries. */
	struct histogram apply_batch;
};
/* Copies the counters into *st (from memory; never fails). */
void store_get_stats(const struct store *s, struct store_stats *st);

/* ------------------------------------------------------------ test only */

/* TEST ONLY: writes or deletes one raw LevelDB entry, bypassing every
 * rule of the store, so that tests can corrupt a store on purpose and see
 * store_check() find it. Never call this from rumor itself. The memory
 * view does not follow (but for the filters, so that a planted entry is
 * not hidden from reads): store_check reports the difference. */
int store_debug_raw_put(struct store *s, const void *key, size_t key_len,
			const void *value, size_t value_len, struct err *err);
int store_debug_raw_del(struct store *s, const void *key, size_t key_len,
			struct err *err);

/* Makes every write that returned before this call durable: an fdatasync
 * of LevelDB's write-ahead log files (those written since the last call)
 * and of the directory, from outside LevelDB, so that no write waits for
 * it (src/store/fsync.c says why that is enough). Writes that run during
 * the call may or may not be covered. Safe to call from any thread while
 * the store is used, calls from several threads are serialized; not while
 * the store is being opened or closed. RUMOR_EIO when the directory
 * cannot be listed or a sync fails (then nothing is promised of the writes
 * since the last successful call), RUMOR_ENOMEM. */
int store_sync(struct store *s, struct err *err);

/* Compacts the whole database now (blocking, long on a large store: for
 * benchmarks and maintenance, never the loop): afterwards no background
 * compaction is pending. Changes no content. */
void store_compact(struct store *s);

#endif
