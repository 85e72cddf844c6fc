/* SPDX-License-Identifier: MIT */
/*
 * sync: scuttlebutt reconciliation over one connection (DESIGN 4).
 * Transport-agnostic: includes neither uv.h nor leveldb; a session talks
 * to its connection through struct sync_transport, so tests run whole
 * clusters in one process over an in-memory transport.
 *
 * One exchange ("round"), symmetric over one connection:
 *   1. Each side sends DIGEST(exchange_id, its HWM for every origin).
 *      sync_session_start() sends ours; a peer's DIGEST arriving while we
 *      have not sent ours makes us send it (so one side may start alone).
 *   2. On the peer's DIGEST we take a store snapshot and stream every log
 *      entry with seq above the peer's HWM for its origin (from 0 for
 *      origins it lacks), either origin by origin in seq order as BATCH
 *      frames, or, for a peer far behind (sync_push_key_order() says
 *      which), in key order over the m keyspace as MBATCH frames (entries
 *      of any origin; the same set of entries, see sync.c). Frames are at
 *      most
 *      cfg.batch_bytes (a single entry of maximum size always fits), under
 *      a credit window of cfg.credit_bytes payload bytes that the peer's
 *      ACKs replenish, and only while transport.writable() says so. Then
 *      DONE(exchange_id, the snapshot's HWMs, each lowered to the one our
 *      DIGEST of the round said: the peer refuses more, see claims.c).
 *   3. We apply each peer BATCH with one store_apply_batch() (atomic)
 *      without raising HWMs, then ACK its payload bytes. On DONE we raise
 *      our HWMs to its values (what claims.c allows: a DONE may claim
 *      no more than the peer's DIGEST, no own seq we did not write, no
 *      entry refused in the pull). A stream cut before DONE leaves HWMs as
 *      they were; the next exchange sends the same entries again.
 *   4. When our DONE is sent and fully ACKed and the peer's DONE is
 *      applied, the round is complete: cb.on_complete() gets its figures
 *      and the session is idle; either side may start the next round.
 *
 * The live stream (live.c; sync_live_* below): after the first complete
 * round, every version the node applies is pushed at once in a LIVE frame
 * (an MBATCH with exchange id 0, ACKed with an ACK of exchange id 0). Its
 * entries raise HWM[O] only when they continue O's seqs without a gap.
 * IHAVE, PRUNE and GRAFT (exchange id 0) suppress duplicate copies per
 * origin, Plumtree-style.
 *
 * Partial nodes (filter.c; sync_session_set_filters): each side may have
 * a replicate set. Rounds and the live stream send only entries of the
 * receiver's set (a SKIP marker in LIVE frames for the others), entries
 * outside our set are not stored, and a DONE raises every HWM only when
 * our set is within the sender's (else only the sender's own origin,
 * when it is self-complete); a per-session cover keeps a narrower peer
 * from sending the same entries every round.
 *
 * Protocol rules enforced on the peer (violation: RUMOR_EPROTO): BATCH,
 * MBATCH, DONE only for our open exchange id (an MBATCH of exchange 0 is
 * a LIVE frame: any order, not empty); entries of a BATCH in strictly
 * increasing seq, of an MBATCH in strictly increasing key order (a
 * key-order stream), seq >= 1, clock >= 1, neither batch empty; ACK only
 * for our stream and never for more bytes than were sent (a live ACK:
 * than live frames carried); IHAVE, PRUNE, GRAFT only with exchange id 0;
 * no new DIGEST while we still stream or wait for ACKs for the previous
 * one; no duplicate origins in a DIGEST or
 * DONE; only DIGEST, BATCH, MBATCH, ACK, DONE, IHAVE, PRUNE and GRAFT
 * reach a session; a SKIP entry only in a LIVE frame (the decoder checks)
 * and only to a node with a replicate set.
 *
 * Claims refused without failing the session (claims.c; each one to
 * cb.on_refuse): entries above the claim bound (sync_claim_limit) or of
 * our own origin above our local seq are not stored and not covered by
 * the DONE; DONE HWMs are clamped to the bound, to the peer's DIGEST of
 * the round and, for our own origin, to our local seq; our HWM for the
 * peer's own origin (sync_session_set_peer_origin) is lowered when the
 * peer keeps a lower word after our DONE told it ours.
 *
 * Conventions:
 *  1. Every entry point returns 0 or a negative RUMOR_E* code with err
 *     filled. After an error the session is failed: every later call
 *     returns the same code. The caller then drops the connection and
 *     frees the session. Nothing from a frame that fails is applied.
 *  2. Work per call is bounded (cfg.pump_frames frames, cfg.scan_max log
 *     entries per store scan). When a call stops with more to send and
 *     nothing blocking it, sync_session_pending() is nonzero: the caller
 *     schedules sync_session_pump() (e.g. on the next loop turn). When the
 *     transport drains below its high watermark, the caller calls
 *     sync_session_pump() too. ACKs resume the stream inside
 *     sync_session_receive().
 *  3. transport.send() must take (copy or queue) the frame before it
 *     returns; a nonzero return fails the session with that code.
 *  4. Callbacks run inside session calls; they may read accessors but
 *     must not call other session functions or free the session.
 *  5. A session holds a store snapshot while it streams: free every
 *     session before store_close(). The store must outlive the session.
 *  6. Not thread-safe; no global state.
 *  7. What sync needs of the store: store_hwms() lists every origin that
 *     has an HWM or log entries (the latter with hwm 0), because a cut
 *     stream leaves applied log entries above (or without) their
 *     origin's HWM until a DONE covers them; such entries are streamed
 *     onwards like any other (see the top of sync.c).
 *  8. sync_session_receive_msg() is told the frame's size, so that the
 *     wire_bytes_received figure is the same whichever entry point the
 *     caller uses.
 */
#ifndef RUMOR_SYNC_H
#define RUMOR_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/prefixes.h"
#include "lib/refuse.h"
#include "store/store.h"
#include "wire/wire.h"

#define SYNC_BATCH_BYTES (256u * 1024u)         /* default frame bound */
#define SYNC_FRAME_MAX (2u * 1024u * 1024u)     /* == CHANNEL_FRAME_MAX */
#define SYNC_CREDIT_BYTES (4u * 1024u * 1024u)  /* default credit window */
#define SYNC_SCAN_MAX 1024u                     /* log entries per scan */
#define SYNC_PUMP_FRAMES 4u                     /* BATCH frames per call */
/* Key order: metas examined and skipped (the peer has them) per frame
 * before the call yields, so a peer that lacks little costs bounded work
 * per call. */
#define SYNC_SKIP_MAX (16u * 1024u)

struct sync_transport {
	/* Takes one frame; 0 or a negative RUMOR_E* code. */
	int (*send)(void *arg, const uint8_t *frame, size_t len);
	/* Nonzero while the write queue is below its high watermark. NULL:
	 * always writable. */
	int (*writable)(void *arg);
	/* Monotonic ms, for the figures only. NULL: 0. */
	uint64_t (*now_ms)(void *arg);
	void *arg;
};

/* Figures of one complete round, as seen by this side. Payload bytes
 * count key + value bytes (wire convention 5); wire bytes whole frames. */
struct sync_round_stats {
	uint64_t exchange_id;         /* our DIGEST's id */
	uint64_t started_ms;
	uint64_t finished_ms;
	uint64_t entries_sent;
	uint64_t payload_sent;
	uint64_t frames_sent;         /* every frame, DIGEST to ACKs */
	uint64_t wire_bytes_sent;
	uint64_t entries_received;
	uint64_t entries_applied;     /* STORE_APPLIED */
	uint64_t entries_stale;       /* STORE_STALE */
	uint64_t entries_identical;   /* STORE_IDENTICAL */
	uint64_t payload_received;
	uint64_t frames_received;
	uint64_t wire_bytes_received;
	uint64_t claims_refused;      /* entries and HWMs refused (claims.c) */
	uint64_t entries_outside;     /* received outside our replicate set:
					 not stored (an old sender) */
	int key_order;                /* our stream went in key order */
};

struct sync_callbacks {
	/* The peer's DIGEST arrived (its HWMs, sorted by origin). */
	void (*on_peer_digest)(void *arg, const struct store_hwm *hwms,
			       size_t n);
	/* A round completed in both directions. */
	void (*on_complete)(void *arg, const struct sync_round_stats *st);
	/* After each applied BATCH: how many versions were STORE_APPLIED
	 * (for the write velocity). */
	void (*on_applied)(void *arg, uint64_t n);
	/* A claim of the peer was refused (src/sync/claims.c): an entry not
	 * stored (REFUSE_OWN_SEQ, _CLOCK_LIMIT, _SEQ_LIMIT), an HWM clamped
	 * (REFUSE_HWM_OWN, _LIMIT, _DIGEST), or our HWM for the peer's own
	 * origin lowered (REFUSE_HWM_HEALED: the caller should run another
	 * round with this peer once this one completes, so that the pull
	 * starts from the lowered HWM). origin (32 bytes) is valid during the
	 * call; claimed is the peer's value, allowed the one kept (0 for an
	 * entry: none). NULL: not told. The session goes on either way. */
	void (*on_refuse)(void *arg, enum refuse_reason why,
			  const uint8_t *origin, uint64_t claimed,
			  uint64_t allowed);
	/* The live stream lost entries to this peer (its frame would not
	 * fit the credit, or offers came before live was ready), or an
	 * IHAVE's entry never came (GRAFT sent): run a round with this peer
	 * once the current one completes. NULL: not told. */
	void (*on_want_round)(void *arg);
	void *arg;
};

/* Live stream figures of one session (live.c). */
struct sync_live_stats {
	uint64_t entries_sent;        /* entries pushed in LIVE frames */
	uint64_t frames_sent;
	uint64_t lazy_sent;           /* origins announced in IHAVEs */
	uint64_t entries_received;    /* entries of LIVE frames received */
	uint64_t entries_applied;     /* of those, STORE_APPLIED */
	uint64_t duplicates;          /* of those, STORE_IDENTICAL */
	uint64_t raised;              /* HWM raises they made (gap-free) */
	uint64_t lost;                /* entries dropped: a round repairs */
	uint64_t prunes_sent, grafts_sent;
	uint64_t skips_sent;          /* SKIP entries (outside the peer's
					 replicate set) in LIVE frames */
	uint64_t skips_received;
	uint64_t outside;             /* LIVE entries outside our replicate
					 set: held for the HWM, not stored */
};

/* The order of our stream. AUTO: key order when the peer is far behind
 * (sync_push_key_order()), else log order. */
enum sync_order {
	SYNC_ORDER_AUTO = 0,
	SYNC_ORDER_LOG,
	SYNC_ORDER_KEY,
};

struct sync_config {
	size_t batch_bytes;       /* BATCH frame bound; 0: SYNC_BATCH_BYTES;
				     at most SYNC_FRAME_MAX */
	uint64_t credit_bytes;    /* payload in flight; 0: SYNC_CREDIT_BYTES */
	size_t scan_max;          /* entries per store scan; 0: SYNC_SCAN_MAX */
	unsigned pump_frames;     /* BATCH frames per call; 0: default */
	uint64_t first_exchange_id; /* ids count up from here; 0: 1 */
	enum sync_order order;    /* 0: SYNC_ORDER_AUTO */
};

struct sync_session;

/* A session for one connection over store s. cfg and cb may be NULL.
 * RUMOR_EINVAL for a bad config, RUMOR_ENOMEM. */
int sync_session_new(struct sync_session **out, struct store *s,
		     const struct sync_transport *t,
		     const struct sync_config *cfg,
		     const struct sync_callbacks *cb, struct err *err);
/* Releases the snapshot and all memory. NULL is fine. */
void sync_session_free(struct sync_session *ss);

/* Begins a round by sending our DIGEST. A round already in progress
 * counts: 0 and nothing sent. */
int sync_session_start(struct sync_session *ss, struct err *err);

/* Handles one frame from the peer (decoded here with wire_decode). */
int sync_session_receive(struct sync_session *ss, const uint8_t *frame,
			 size_t len, struct err *err);
/* The same for a message the caller decoded already from a frame of
 * frame_len bytes (its pointers into the frame must stay valid during
 * the call): lets the node decode once and pass sync messages here. */
int sync_session_receive_msg(struct sync_session *ss,
			     const struct wire_msg *m, size_t frame_len,
			     struct err *err);
/* Whether a message type belongs to sync (DIGEST, BATCH, MBATCH, ACK,
 * DONE, IHAVE, PRUNE, GRAFT). */
int sync_is_sync_type(int type);

/* Continues streaming: up to cfg.pump_frames BATCH frames (and DONE),
 * stopping early when credit runs out or the transport is not writable. */
int sync_session_pump(struct sync_session *ss, struct err *err);
/* Nonzero when there is more to send and neither credit nor writable()
 * blocks it: call sync_session_pump() soon. */
int sync_session_pending(const struct sync_session *ss);

/* The AUTO rule: nonzero (key order) when the peer's DIGEST is empty
 * (a fresh or wiped node), or when the entries it lacks by our HWMs,
 * sum over origins of max(0, ours - theirs) (an upper bound: the log is
 * compacted), reach half of log_entries (our live log entries). A key-
 * order stream reads every meta once, sequentially; a log-order stream
 * does one point read per entry sent. Both hwm lists sorted by origin. */
int sync_push_key_order(const struct store_hwm *ours, size_t n_ours,
			const struct store_hwm *theirs, size_t n_theirs,
			uint64_t log_entries);

/* The claim bound (see claims.c): no clock, seq or HWM a peer sends may
 * exceed SYNC_CLAIM_PER_MS * (wall_ms + SYNC_CLAIM_AHEAD_MS), wall_ms the
 * store's wall clock. About 2^54 in 2026: a key or origin at the bound
 * keeps ~2^63 writes of room, and the bound outgrows any honest counter
 * (8 M writes a second since 1970, a key or an origin). Saturates. */
#define SYNC_CLAIM_PER_MS 8192u
#define SYNC_CLAIM_AHEAD_MS (3600u * 1000u)
uint64_t sync_claim_limit(uint64_t wall_ms);

/* Tells the session that the peer is the node whose origin is origin
 * (32 bytes: a node's origin is its node id), so that its DIGEST's HWM
 * for that origin counts as the origin's own word: ours above it is
 * lowered (claims.c, REFUSE_HWM_HEALED). Before this call no HWM is
 * healed. */
void sync_session_set_peer_origin(struct sync_session *ss,
				  const uint8_t *origin);

/*
 * Partial replication (filter.c has the rules): each side has a
 * replicate set R (lib/prefixes.h; empty: every key). What a session
 * needs to know of both sides. Until sync_session_set_filters() is
 * called both sets are empty: the session behaves as between full nodes.
 */
struct sync_filters {
	const struct prefixes *ours;    /* our R (NULL: every key) */
	const struct prefixes *peers;   /* the peer's R from its HELLO */
	int peer_filters;               /* its HELLO set WIRE_HELLO_FILTERS */
	int peer_self_complete;         /* ... and WIRE_HELLO_SELF_COMPLETE */
	int self_complete;              /* this node is self-complete */
};
/* Copies the sets (the caller keeps its own). Call before the first
 * round. RUMOR_ENOMEM (the session is then failed). */
int sync_session_set_filters(struct sync_session *ss,
			     const struct sync_filters *f, struct err *err);

/*
 * The live stream (DESIGN 4.5; the top of live.c has the rules):
 * after a session's first complete round, every version the node applies
 * (a local write, or one received from ANOTHER peer) is offered with
 * sync_live_offer(); it goes to the peer at once in a LIVE frame, or
 * coalesces while a live frame is in flight (sent, not yet ACKed).
 */
/* The peer accepts live frames (its HELLO set WIRE_HELLO_LIVE). Until
 * this call nothing is sent live. RUMOR_ENOMEM. */
int sync_live_enable(struct sync_session *ss, struct err *err);
/* Offers one applied version. Skipped when the peer is its origin or
 * its last DIGEST covers it; sent lazily (IHAVE) for an origin the peer
 * pruned. Nothing is sent before sync_live_flush(). */
int sync_live_offer(struct sync_session *ss, const struct rumor_version *v,
		    struct err *err);
/* Sends the pending LIVE frame, unless a live frame is in flight or the
 * transport is not writable (then the ACK or the drain sends it:
 * sync_session_pump() flushes too). */
int sync_live_flush(struct sync_session *ss, struct err *err);
/* IHAVEs wait for the caller's lazy timer: nonzero when some are
 * pending; sync_live_flush_lazy() sends them in one frame (unless the
 * transport is not writable). */
#define SYNC_LIVE_LAZY_MS 50u
int sync_live_lazy_pending(const struct sync_session *ss);
int sync_live_flush_lazy(struct sync_session *ss, struct err *err);
/* Grafts the origins whose IHAVE has waited SYNC_LIVE_GRAFT_MS for an
 * entry that did not come (cb.on_want_round follows). now_ms as
 * transport.now_ms. Returns the earliest deadline still waiting, or 0. */
#define SYNC_LIVE_GRAFT_MS 40u
uint64_t sync_live_tick(struct sync_session *ss, uint64_t now_ms);
/* Nonzero once live frames may be sent to the peer. */
int sync_live_ready(const struct sync_session *ss);
const struct sync_live_stats *sync_live_stats(const struct sync_session *ss);

/* Nonzero while a round is in progress. */
int sync_session_busy(const struct sync_session *ss);
/* Rounds completed on this session. */
uint64_t sync_session_rounds(const struct sync_session *ss);
/* The peer's last DIGEST (sorted by origin); NULL and 0 before one. */
const struct store_hwm *sync_session_peer_hwms(const struct sync_session *ss,
					       size_t *n);
/* Payload bytes sent and not yet ACKed. */
uint64_t sync_session_unacked(const struct sync_session *ss);
/* The figures of the round in progress (or of the last one). */
const struct sync_round_stats *
sync_session_stats(const struct sync_session *ss);

#endif
