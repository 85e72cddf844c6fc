/* SPDX-License-Identifier: MIT */
/*
 * rumor.h: librumor, a peer-to-peer gossip replicator for LevelDB.
 *
 * Conventions:
 *  1. Functions that can fail return 0 or a negative RUMOR_E* code;
 *     rumor_strerror() names a code, rumor_errmsg() gives the detail of the
 *     last failure on a node (valid until the next call on that node).
 *  2. Memory returned through a void ** or a struct rumor_record * is the
 *     caller's, freed with rumor_free() / rumor_record_free().
 *  3. Pointers passed in (keys, values, options) are only read during the
 *     call; the library keeps copies of what it needs.
 *  4. A node lives on one libuv loop and is not thread-safe: call it from
 *     the thread that runs its loop. There is no global state: several
 *     nodes may live in one process, on one loop or on several.
 *  5. Keys and values are arbitrary bytes (NUL included). A key is 1 to
 *     RUMOR_KEY_MAX bytes, a value 0 to RUMOR_VALUE_MAX bytes.
 *  6. struct rumor_options and struct rumor_stats can grow without
 *     breaking programs built against an older header: each starts with a
 *     size field, fields are only ever added at the end, and the library
 *     reads or writes only `size` bytes. Always start from
 *     rumor_options_init() / RUMOR_STATS_INIT (or rumor_stats_init()),
 *     which set size to the struct as this header knows it.
 *  7. A node that listens or dials sets SIGPIPE to SIG_IGN when it is at
 *     its default (a peer closing mid-write would otherwise end the
 *     process); a handler the program installed is left alone.
 *  8. Calls that can fail are marked RUMOR_MUST_CHECK: the compiler warns
 *     when a result is ignored.
 */
#ifndef RUMOR_H
#define RUMOR_H

#include <stddef.h>
#include <stdint.h>

#include <rumor/resolver.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(RUMOR_BUILDING)
#define RUMOR_API __attribute__((visibility("default")))
#else
#define RUMOR_API
#endif
#if defined(__GNUC__)
#define RUMOR_MUST_CHECK __attribute__((warn_unused_result))
#else
#define RUMOR_MUST_CHECK
#endif

/* ------------------------------------------------------------ limits */

#define RUMOR_KEY_MAX 4096u            /* bytes in a key */
#define RUMOR_VALUE_MAX (1u << 20)      /* bytes in a value: 1 MiB */
#define RUMOR_NODE_ID_BYTES 32          /* an Ed25519 public key */
#define RUMOR_NODE_ID_STRLEN 44         /* printable id (base64url) + NUL */
#define RUMOR_NETWORK_KEY_BYTES 32
#define RUMOR_ERRMSG_MAX 256
#define RUMOR_PREFIXES_MAX 16u          /* prefixes in a --replicate set */
#define RUMOR_PREFIX_MAX 1024u          /* bytes in one such prefix */

/* ------------------------------------------------------------ errors */

#define RUMOR_ERRORS(X)                                                  \
	X(RUMOR_EINVAL, -1, "invalid argument")                          \
	X(RUMOR_ENOMEM, -2, "out of memory")                             \
	X(RUMOR_EIO, -3, "input/output error")                           \
	X(RUMOR_ECORRUPT, -4, "stored data is corrupt")                  \
	X(RUMOR_ENOTFOUND, -5, "not found")                              \
	X(RUMOR_ETOOBIG, -6, "key or value too large")                   \
	X(RUMOR_EBUSY, -7, "data directory in use")                      \
	X(RUMOR_EKEYFILE, -8, "key file unusable")                       \
	X(RUMOR_ERESOLVER, -9, "resolver object unusable")               \
	X(RUMOR_EPROTO, -10, "peer broke the protocol")                  \
	X(RUMOR_EAUTH, -11, "authentication failed")                     \
	X(RUMOR_ECLOSED, -12, "connection closed")                       \
	X(RUMOR_EREFUSED, -13, "write refused")                          \
	X(RUMOR_ETIMEDOUT, -14, "timed out")                             \
	X(RUMOR_ENET, -15, "network error")                              \
	X(RUMOR_ECONFIG, -16, "bad configuration")                      \
	X(RUMOR_EOUTSIDE, -17, "key outside the node's prefixes")        \
	X(RUMOR_ETOOOLD, -18, "position older than the node keeps")      \
	X(RUMOR_EABORTED, -19, "strong write aborted")                  \
	X(RUMOR_ELOCKED, -20, "key locked by a strong write in flight") \
	X(RUMOR_ENOTREADY, -21, "fewer than a quorum of members reachable")

enum rumor_error {
#define RUMOR__ENUM(name, value, text) name = value,
	RUMOR_ERRORS(RUMOR__ENUM)
#undef RUMOR__ENUM
};

/* A static string naming the code; never NULL. */
RUMOR_API const char *rumor_strerror(int code);

/* ------------------------------------------------------------ node */

struct rumor;
struct uv_loop_s;

enum rumor_log_level {
	RUMOR_LOG_ERROR = 0,
	RUMOR_LOG_WARN = 1,
	RUMOR_LOG_INFO = 2,
	RUMOR_LOG_DEBUG = 3,
};

/* When writes reach the disk (fsync). Every write is in the OS at once,
 * so a crash of the process loses nothing acknowledged; these say what a
 * power loss may take. */
enum rumor_fsync {
	RUMOR_FSYNC_EVERYSEC = 0, /* in the background, once a second when
				     anything changed (the default) */
	RUMOR_FSYNC_ALWAYS = 1,   /* before every write returns */
	RUMOR_FSYNC_NEVER = 2,    /* when the OS decides; and at close */
};

enum rumor_mode {
	RUMOR_MODE_PEER = 0,    /* accepts writes */
	RUMOR_MODE_REPLICA = 1, /* serves and forwards, never originates */
};

/* How the node's writes reach the others (README, "Strong writes"). */
enum rumor_consistency {
	RUMOR_CONSISTENCY_GOSSIP = 0, /* a write returns once durable here;
					 gossip spreads it (the default) */
	RUMOR_CONSISTENCY_STRONG = 1, /* every write is a strong write:
					 two-phase commit with a quorum */
};

/* Called for every change applied to the store, local or remote, in
 * apply order, after it is durable. v's pointers are valid only during
 * the call. */
typedef void (*rumor_change_cb)(void *arg, const struct rumor_version *v,
				int local);

typedef void (*rumor_log_cb)(void *arg, int level, const char *msg);

struct rumor_options {
	size_t size;                 /* sizeof(struct rumor_options) as the
					caller's header knows it; set by
					rumor_options_init() */
	/* ---- version 1 */
	const char *data_dir;        /* required; created if missing */
	struct uv_loop_s *loop;      /* NULL: the node owns a loop (rumor_run) */
	int mode;                    /* enum rumor_mode */

	rumor_resolve_fn resolve;    /* in-process resolver, or NULL */
	const char *resolver_path;   /* resolver .so to dlopen, or NULL */

	rumor_change_cb on_change;
	void *change_arg;
	rumor_log_cb log;            /* NULL: no logs */
	void *log_arg;
	int log_level;               /* enum rumor_log_level */

	/* Network (see rumord(8)). A node with neither listen nor peers is
	 * storage-only: it opens no socket. */
	const char *listen;          /* numeric "HOST:PORT" to accept peers on
					(port 0: any, see rumorctl status) and,
					with multicast, to announce; NULL: none */
	const char *const *peers;    /* seed "HOST:PORT" list */
	size_t n_peers;
	const char *multicast;       /* "GROUP:PORT"; NULL: the default group */
	int no_multicast;            /* no announcements even when listening */
	const char *network_key_path;/* NULL: built-in open key (warned) */
	const char *trusted_keys_path;
	uint32_t interval_min_ms;    /* fastest reconciliation interval */
	uint32_t interval_max_ms;    /* slowest (idle) interval */
	uint32_t catchup_wait_ms;    /* bound on catch-up before writes */

	/* Tests: a wall clock in milliseconds since the epoch. */
	uint64_t (*wall_clock_ms)(void *arg);
	void *clock_arg;

	int control_socket;          /* serve DATA/control.sock (rumorctl) */
	uint32_t suspect_after_ms;   /* member suspect after this silence; 0: 15 s */
	uint32_t gone_after_ms;      /* member gone after this silence; 0: 60 s */
	int fsync;                   /* enum rumor_fsync */
	/* Fields of later versions go here, at the end, each with a default
	 * that keeps version 1 behaviour. */
	/* IPv6 announcements (beside IPv4's, with multicast on): the group
	 * "[GROUP]:PORT" (NULL: [ff12::7947]:7947, link-local scope), the
	 * interface name (NULL: every interface up and multicast-capable),
	 * and a switch to leave IPv6 out. */
	const char *multicast6;
	const char *multicast6_interface;
	int no_multicast6;
	/* Rounds only: no live stream to or from this node (DESIGN 4.5),
	 * as a node of an older version. Changes then reach peers by the
	 * push round after local writes and by paced rounds. For
	 * comparisons and tests; 0 (live) is what users want. */
	int no_live;
	/* ---- version 3: the master/slave shapes (README, "Shapes") */
	/* Namespace: local writes only of keys under this prefix (1 to
	 * RUMOR_PREFIX_MAX bytes); a write of any other key fails with
	 * RUMOR_EOUTSIDE and writes nothing. NULL: anywhere. Remote changes
	 * are not concerned: a namespace confines what this node originates,
	 * not what it replicates. */
	const void *namespace_prefix;
	size_t namespace_len;
	/* Partial replication: only keys under these prefixes (at most
	 * RUMOR_PREFIXES_MAX, each 1 to RUMOR_PREFIX_MAX bytes) are pulled,
	 * stored and served; local writes of other keys fail with
	 * RUMOR_EOUTSIDE. n_replicate 0: every key (a full node). The set is
	 * kept in the store: opening with a narrower set drops the keys
	 * outside it, a wider one pulls the new keys from peers. */
	const void *const *replicate;
	const size_t *replicate_len;
	size_t n_replicate;
	/* ---- version 4: strong writes (README, "Strong writes") */
	/* enum rumor_consistency. RUMOR_CONSISTENCY_STRONG: rumor_put,
	 * rumor_del and rumor_write fail with RUMOR_EREFUSED (a strong write
	 * needs the loop: use rumor_write_strong), and rumor_get fails with
	 * RUMOR_ELOCKED on a key a strong write holds, with RUMOR_ENOTREADY
	 * while the node catches up. */
	int consistency;
	/* Nodes (this one included) that must prepare a strong write for it
	 * to commit; 0: every member (this node and every member of its
	 * table it has contacted first hand). */
	uint32_t quorum;
	/* Bound of each phase of a strong write (prepare, commit) and of a
	 * participant's wait before it asks what became of an intent;
	 * 0: 2000 ms. */
	uint32_t strong_timeout_ms;
};

/* The size of version 1 of struct rumor_options: the smallest size the
 * library accepts. */
#define RUMOR_OPTIONS_SIZE_V1 \
	(offsetof(struct rumor_options, fsync) + sizeof(int))

/* Fills o with defaults and sets o->size = sizeof *o; always call before
 * setting fields. */
RUMOR_API void rumor_options_init(struct rumor_options *o);

/* Opens (creating on first use) the node whose state lives in
 * o->data_dir. Reads only the first o->size bytes of o: fields past them
 * (added after the caller's header) take their defaults. RUMOR_EINVAL
 * when o->size is smaller than RUMOR_OPTIONS_SIZE_V1 (o was not set up
 * with rumor_options_init()) or larger than the library's struct (the
 * program was built against a newer header than the library it runs
 * with). On failure returns a negative code, writes a message into
 * errmsg (if not NULL) and leaves *out untouched. */
RUMOR_API RUMOR_MUST_CHECK int rumor_open(struct rumor **out,
					  const struct rumor_options *o,
					  char *errmsg, size_t errlen);

/* Runs the node's own loop until rumor_stop(); only for nodes opened
 * without o->loop (RUMOR_EINVAL otherwise). Returns 0 once stopped; the
 * node stays open and usable: call rumor_run again, or rumor_close. */
RUMOR_API RUMOR_MUST_CHECK int rumor_run(struct rumor *n);

/* Makes rumor_run return after the loop iteration that is running; it
 * closes nothing and drops nothing (a write already acknowledged stays
 * acknowledged; a connection stays open until rumor_close). Call it from
 * the thread that runs the node's loop only, e.g. from a callback the
 * node makes (on_change, log): it is neither thread-safe nor
 * async-signal-safe. A program that must stop a node from another thread
 * or a signal handler opens it on a loop of its own (o->loop), wakes that
 * loop with a uv_async_t or uv_signal_t, and stops it there. Called while
 * rumor_run is not running, the next rumor_run returns at once (after at
 * most one loop iteration). With an external loop (o->loop) it calls
 * uv_stop() on that loop. */
RUMOR_API void rumor_stop(struct rumor *n);

/* Closes the node. Every handle is closed and memory freed once cb (if
 * not NULL) fires. A node that owns its loop is closed before this
 * returns; with an external loop the caller keeps running that loop. */
RUMOR_API void rumor_close(struct rumor *n, void (*cb)(void *arg), void *arg);

/* Applies what can change while running, from o: log_level, log and
 * log_arg, the seed list (peers, n_peers: replaces the old one) and the
 * trusted-keys file (re-read; only when the node was opened with one).
 * Other fields are ignored. o->size is checked as by rumor_open
 * (RUMOR_EINVAL). On error nothing changes. Connections to identities no
 * longer trusted are closed. */
RUMOR_API RUMOR_MUST_CHECK int rumor_reload(struct rumor *n,
					    const struct rumor_options *o);

/* Detail of the last failed call on n. */
RUMOR_API const char *rumor_errmsg(const struct rumor *n);

/* The printable node id (base64url, no padding), NUL-terminated. */
RUMOR_API void rumor_node_id(const struct rumor *n,
			     char out[RUMOR_NODE_ID_STRLEN]);

/* ------------------------------------------------------------ data */

/* Writes a key: one durable, logged change. RUMOR_EREFUSED on a replica
 * or while the node is still catching up. */
RUMOR_API RUMOR_MUST_CHECK int rumor_put(struct rumor *n, const void *key,
					 size_t key_len, const void *value,
					 size_t value_len);

/* Deletes a key (a tombstone is kept until every member has seen it).
 * Deleting an absent key still logs the deletion. */
RUMOR_API RUMOR_MUST_CHECK int rumor_del(struct rumor *n, const void *key,
					 size_t key_len);

/* One write of a rumor_write batch: a put of value, or (del != 0) a
 * delete, whose value must be NULL with value_len 0. */
struct rumor_op {
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	int del;
};

#define RUMOR_WRITE_MAX 65536u             /* ops in one rumor_write */
#define RUMOR_WRITE_BYTES (64u << 20)       /* key + value bytes in one */

/* Writes n_ops puts and deletes atomically: one durable change of the
 * store, all of it or nothing (a crash leaves either). Each op is logged
 * as rumor_put / rumor_del would log it, in op order, with consecutive
 * seqs; a later op on the same key overwrites an earlier one (its clock
 * one higher). Far cheaper per key than one call per key: write in
 * batches when writing much. Every op is checked first; one bad op
 * (RUMOR_EINVAL, RUMOR_ETOOBIG, naming the op in rumor_errmsg), more than
 * RUMOR_WRITE_MAX ops or RUMOR_WRITE_BYTES bytes fail the whole call with
 * nothing written. RUMOR_EREFUSED on a replica or while the node is
 * still catching up. n_ops 0 writes nothing and returns 0. */
RUMOR_API RUMOR_MUST_CHECK int rumor_write(struct rumor *n,
					   const struct rumor_op *ops,
					   size_t n_ops);

/* ------------------------------------------------------------ strong writes */

/* Called exactly once with the result of a strong write: 0 when a
 * quorum prepared and committed it; else a negative code and a message
 * (valid during the call) saying what failed and what was applied:
 * RUMOR_EABORTED (fewer than a quorum prepared: nothing was applied on
 * any node), RUMOR_ENOTREADY (fewer than a quorum reachable: nothing
 * was applied), RUMOR_ELOCKED (a key stayed held by other strong writes
 * for the whole strong timeout, through the retries: nothing applied),
 * RUMOR_ETIMEDOUT (committed here, but fewer than a quorum confirmed
 * the commit within the bound: the others get it by gossip),
 * RUMOR_ECLOSED (the node closed first: the outcome is not known here;
 * the participants resolve it), RUMOR_EIO and other store errors (the
 * commit failed on this node: the outcome is not known either). Only
 * RUMOR_EABORTED, RUMOR_ENOTREADY and RUMOR_ELOCKED promise that nothing
 * was applied. */
typedef void (*rumor_strong_cb)(void *arg, int result, const char *errmsg);

/* A strong write of n_ops puts and deletes (as rumor_write): this node
 * coordinates a two-phase commit with the members, and cb fires once
 * from the node's loop, never before this returns. Returns 0 when the
 * write started, or a negative code (RUMOR_EINVAL, RUMOR_ETOOBIG,
 * RUMOR_EOUTSIDE, RUMOR_EREFUSED on a replica) with nothing started and
 * cb never called. Works in either consistency mode. */
RUMOR_API RUMOR_MUST_CHECK int rumor_write_strong(struct rumor *n,
						 const struct rumor_op *ops,
						 size_t n_ops,
						 rumor_strong_cb cb,
						 void *arg);
RUMOR_API RUMOR_MUST_CHECK int rumor_put_strong(struct rumor *n,
					       const void *key, size_t key_len,
					       const void *value,
					       size_t value_len,
					       rumor_strong_cb cb, void *arg);
RUMOR_API RUMOR_MUST_CHECK int rumor_del_strong(struct rumor *n,
					       const void *key, size_t key_len,
					       rumor_strong_cb cb, void *arg);

/* Whether a strong write could reach its quorum now: 1 when at least a
 * quorum of nodes (this one included) is connected and the node is not
 * catching up, else 0 (a gossip-mode node that does not catch up: 1).
 * A strong write started while not ready fails with RUMOR_ENOTREADY. */
RUMOR_API int rumor_ready(struct rumor *n);

/* Reads a live value into a buffer the caller frees with rumor_free().
 * RUMOR_ENOTFOUND for an absent or deleted key. */
RUMOR_API RUMOR_MUST_CHECK int rumor_get(struct rumor *n, const void *key,
					 size_t key_len, void **value,
					 size_t *value_len);

/* A stored version, tombstones included. */
struct rumor_record {
	struct rumor_version v;      /* pointers into this record */
};
/* RUMOR_ENOTFOUND if the key was never written (or its tombstone was
 * collected). Free *rec with rumor_record_free(). */
RUMOR_API RUMOR_MUST_CHECK int rumor_get_version(struct rumor *n,
						 const void *key,
						 size_t key_len,
						 struct rumor_record **rec);
RUMOR_API void rumor_record_free(struct rumor_record *rec);

/* Calls cb for each live key starting with prefix, in key order; cb
 * returns nonzero to stop (rumor_scan then returns 0). key and value
 * point into the library's buffers and are valid only during that call
 * of cb: copy what must outlive it. cb must not close the node. */
typedef int (*rumor_scan_cb)(void *arg, const void *key, size_t key_len,
			     const void *value, size_t value_len);
RUMOR_API RUMOR_MUST_CHECK int rumor_scan(struct rumor *n, const void *prefix,
			 size_t prefix_len, rumor_scan_cb cb, void *arg);
/* rumor_scan resumed: only the keys strictly after the key (after,
 * after_len) in key order (bytewise, a shorter key first), e.g. the last
 * key a paused scan gave; after NULL: from the start, as rumor_scan.
 * after need not exist nor begin with prefix. RUMOR_EINVAL when after is
 * longer than RUMOR_KEY_MAX. */
RUMOR_API RUMOR_MUST_CHECK int rumor_scan_after(struct rumor *n, const void *prefix,
			       size_t prefix_len, const void *after,
			       size_t after_len, rumor_scan_cb cb, void *arg);

/* Frees memory the library handed over through a void ** (the value of
 * rumor_get) or a char ** (the text of rumor_metrics). Nothing else: a
 * record goes to rumor_record_free(), a
 * node to rumor_close(). NULL is a no-op. */
RUMOR_API void rumor_free(void *p);

/* ------------------------------------------------------------ changes */

/* Every change applied to the store, local or remote, gets a position:
 * 1, 2, 3... in the node's own apply order, durable with the change and
 * never reused. A key's latest change is kept at its position until a
 * later change of the key replaces it (the change feed is compacted like
 * the log: one entry per key), and a deletion until its tombstone is
 * collected. So reading from a position gives every key changed after
 * it, once, at its latest change, in position order.
 *
 * The floor: the highest position of a collected tombstone (or of keys
 * dropped by a narrower replicate set). A reader that last saw a
 * position below it may have missed a deletion, so since must be 0 (the
 * whole store, from the beginning) or at least the floor; see the
 * README for how far back that reaches. */
struct rumor_change {
	uint64_t pos;
	struct rumor_version v;      /* value NULL when v.deleted */
};

/* The position of the latest change (0: none yet) and the floor. */
RUMOR_API RUMOR_MUST_CHECK int rumor_position(struct rumor *n,
					      uint64_t *head, uint64_t *floor);

/* Called with each change of a stream; c's pointers are valid only
 * during the call. It may call rumor_tail_pause or rumor_tail_close on
 * its own stream, and read the node, but not close the node. */
typedef void (*rumor_change_pos_cb)(void *arg, const struct rumor_change *c);

/* Reads the changes after position since of keys under prefix
 * (prefix_len 0: every key), in position order, at most max of them
 * (0: no bound), and sets *next to the position to pass as since to go
 * on (the last one read, or since when none). Synchronous: it reads the
 * store, nothing waits for the network. RUMOR_ETOOOLD when since is
 * below the floor (and not 0): rumor_errmsg names the floor. */
RUMOR_API RUMOR_MUST_CHECK int rumor_changes(struct rumor *n,
					     const void *prefix,
					     size_t prefix_len, uint64_t since,
					     uint64_t max,
					     rumor_change_pos_cb cb, void *arg,
					     uint64_t *next);

/* A change stream that stays on the live tail: the level-master
 * createStream({tail: true}) shape. */
struct rumor_tail;

/* Opens a stream that calls cb with every change after since of keys
 * under prefix, as rumor_changes would read them, then with each later
 * change as it is applied (after it is durable), until
 * rumor_tail_close(). The changes already stored are read on the node's
 * loop, a bounded number per loop turn, so a long history neither blocks
 * the node nor fills memory. A consumer that records each c->pos and
 * reopens with the last one it recorded misses nothing and sees nothing
 * twice, across restarts of either side. RUMOR_ETOOOLD as
 * rumor_changes; RUMOR_ENOMEM. *out is the caller's, closed with
 * rumor_tail_close() (before the node is closed). */
RUMOR_API RUMOR_MUST_CHECK int rumor_tail_open(struct rumor *n,
					       const void *prefix,
					       size_t prefix_len,
					       uint64_t since,
					       rumor_change_pos_cb cb,
					       void *arg,
					       struct rumor_tail **out);
/* Stops calls to cb until rumor_tail_resume(); nothing is buffered
 * meanwhile (the stream reads on from its position when resumed), so a
 * paused consumer costs the node no memory. */
RUMOR_API void rumor_tail_pause(struct rumor_tail *t);
RUMOR_API void rumor_tail_resume(struct rumor_tail *t);
/* The position the stream has read to: the last change it gave to cb,
 * or a later one it passed over (a key outside its prefix, a change a
 * later one superseded); its since before the first. Reopening a stream
 * from it misses nothing and gives nothing twice. */
RUMOR_API uint64_t rumor_tail_position(const struct rumor_tail *t);
/* Closes the stream: no call to cb after it. NULL: no-op. */
RUMOR_API void rumor_tail_close(struct rumor_tail *t);

/* ------------------------------------------------------------ stats */

struct rumor_stats {
	size_t size;                   /* set by the caller: sizeof(struct
					  rumor_stats) (RUMOR_STATS_INIT) */
	/* ---- version 1 */
	uint64_t local_writes;         /* puts and deletes on this node */
	uint64_t remote_applied;       /* remote versions that won and were stored */
	uint64_t remote_stale;         /* remote versions the stored one beat */
	uint64_t remote_identical;     /* remote versions already held */
	uint64_t conflicts_default;    /* same-clock conflicts, default order */
	uint64_t conflicts_resolver;   /* same-clock conflicts, user resolver */
	uint64_t symmetry_violations;  /* resolver answered differently by order */
	uint64_t keys;                 /* live keys (approximate) */
	uint64_t tombstones;           /* deletions still kept */
	uint64_t entries_sent;
	uint64_t entries_received;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t announcements_dropped;
	double velocity;               /* writes per second, moving average */
	uint32_t interval_ms;          /* current reconciliation interval */
	uint32_t peers_alive;
	int catching_up;               /* writes refused until catch-up ends */
	int open_network;              /* using the built-in network key */
	/* ---- version 2: the live stream (DESIGN 4.5) */
	uint64_t live_sent;            /* entries pushed live to peers */
	uint64_t live_received;        /* entries received live */
	uint64_t live_duplicates;      /* of those, already held (pruned) */
	uint64_t live_lost;            /* dropped over credit: a round repairs */
	uint64_t live_grafts;          /* lazy origins made eager again */
	/* ---- version 4: strong writes */
	uint64_t strong_committed;     /* strong writes this node coordinated
					  that committed */
	uint64_t strong_aborted;       /* ... that aborted or failed */
	uint64_t strong_prepared;      /* intents this node prepared */
	uint64_t strong_pending;       /* intents held now */
	uint64_t strong_recovered;     /* intents resolved by asking */
	uint64_t strong_late;          /* commits that came after this node
					  had aborted the intent */
	uint32_t strong_quorum;        /* the quorum now (0: gossip mode) */
	uint32_t strong_reachable;     /* nodes reachable now, self included */
	/* ---- version 5: catch-up progress. While catching_up: entries
	 * received since catch-up began; the entries the peers' digests say
	 * this node lacks, summed over the exchanges of the catch-up (at
	 * most: the peers' logs are compacted, so fewer may come;
	 * UINT64_MAX until a digest told); the receive rate over the last
	 * few seconds; the time left at that rate (UINT64_MAX: unknown).
	 * All 0 once catch-up ended. catchup_wait_ms is the node's bound
	 * (rumor_options.catchup_wait_ms), always set. */
	uint64_t catchup_received;
	uint64_t catchup_expected;
	double catchup_rate;           /* entries per second */
	uint64_t catchup_eta_ms;
	uint32_t catchup_wait_ms;
	/* Counters of later versions go here, at the end. */
};

/* An initializer that sets size and zeroes every counter:
 *     struct rumor_stats st = RUMOR_STATS_INIT; */
#define RUMOR_STATS_INIT {.size = sizeof(struct rumor_stats)}

/* The same for a struct that is not being defined: zeroes st and sets
 * st->size = sizeof *st. */
RUMOR_API void rumor_stats_init(struct rumor_stats *st);

/* Fills st with the node's counters as they are now. The caller sets
 * st->size first (RUMOR_STATS_INIT or rumor_stats_init()); the library
 * writes only the first st->size bytes, so a program built against an
 * older, smaller struct gets the counters it knows, and one built against
 * a newer header gets zeros (from its initializer) in the counters this
 * library does not have. RUMOR_EINVAL (st untouched) when st->size is
 * smaller than the size field itself. Cheap: it reads counters kept in
 * memory and walks the open connections once; no disk access. */
RUMOR_API RUMOR_MUST_CHECK int rumor_stats(struct rumor *n,
					   struct rumor_stats *st);

/* ------------------------------------------------------------ metrics */

/* ---- version 5: Prometheus metrics (README, "Metrics") */
/* The node's figures as Prometheus text, exposition format 0.0.4 (the
 * names are listed in rumord(8)): every counter of rumor_stats, the
 * refusals and announcement drops by reason, members by state, each
 * member's lag, and histograms of sync round time and apply batch size.
 * *text is NUL-terminated, *len its length without the NUL; free it
 * with rumor_free(). Built fresh on each call from memory (no disk
 * access), on the node's loop thread like every call. RUMOR_ENOMEM; on
 * failure *text and *len are untouched. rumord serves it over HTTP
 * (--metrics); an embedding program serves it as it likes. */
RUMOR_API RUMOR_MUST_CHECK int rumor_metrics(struct rumor *n, char **text,
					     size_t *len);

/* The library version, e.g. "0.1.0". */
RUMOR_API const char *rumor_library_version(void);

#ifdef __cplusplus
}
#endif

#endif /* RUMOR_H */
