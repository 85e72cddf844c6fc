/* SPDX-License-Identifier: MIT */
/*
 * sync_int: what the files of src/sync/ share: the session (sync.c: the
 * round, receiving, the public calls), the push stream (push.c: log and
 * key order) and the HWM lists (hwm.c). Private to src/sync/.
 */
#ifndef RUMOR_SYNC_INT_H
#define RUMOR_SYNC_INT_H

#include "sync/sync.h"
#include "lib/array.h"
#include "lib/bytes.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* A single entry of maximum size must always fit in one frame. */
_Static_assert(WIRE_BATCH_HEAD_MAX + WIRE_ENTRY_OVERHEAD_MAX +
	       WIRE_KEY_MAX + WIRE_VALUE_MAX <= SYNC_FRAME_MAX,
	       "a maximal entry must fit in a frame");
_Static_assert(WIRE_MBATCH_HEAD_MAX + WIRE_MBATCH_ORIGIN_BYTES +
	       WIRE_ENTRY_OVERHEAD_MAX + WIRE_MBATCH_INDEX_MAX +
	       WIRE_KEY_MAX + WIRE_VALUE_MAX <= SYNC_FRAME_MAX,
	       "a maximal MBATCH entry must fit in a frame");
_Static_assert(WIRE_ORIGIN_BYTES == STORE_ORIGIN_BYTES,
	       "wire and store origins differ in size");

enum push_state {
	PUSH_IDLE = 0,       /* no peer DIGEST to serve */
	PUSH_STREAMING,      /* sending BATCHes, then DONE */
	PUSH_DRAINING,       /* DONE sent, waiting for the last ACKs */
};

/* An origin whose entries the peer lacks: stream (cursor, snap_hwm]. */
struct push_origin {
	uint8_t origin[STORE_ORIGIN_BYTES];
	uint64_t cursor;     /* last seq sent; starts at the peer's HWM */
};

/* A growable array of HWMs. */
struct hwm_list {
	struct store_hwm *v;
	size_t n;
	size_t cap;
};

struct sync_session {
	struct store *store;
	struct sync_transport t;
	struct sync_callbacks cb;
	struct sync_config cfg;
	struct wire_decoder dec;
	struct wire_buf out;

	int failed;                  /* 0 or the sticky error code */
	struct err failure;

	/* The round. */
	int round_open;
	int pull_done;
	int push_done;
	uint64_t next_exchange_id;
	uint64_t rounds;
	struct sync_round_stats st;

	/* Pull: our DIGEST and the peer's stream to us. */
	int pull_open;
	uint64_t pull_id;
	struct rumor_version *vs;
	int *outcomes;
	unsigned char *accepted;     /* live.c: per entry, not refused */
	size_t vs_cap;
	struct hwm_list raise;       /* a DONE's HWMs, sorted */
	struct hwm_list self;        /* our HWMs for our DIGEST */
	int peer_digested;           /* the peer's DIGEST of this round came */
	struct hwm_list refused;     /* per origin, the first seq refused in
					this pull (claims.c), unsorted */
	int refused_overflow;        /* too many origins refused to list:
					this pull's DONE raises nothing */
	uint8_t peer_origin[STORE_ORIGIN_BYTES]; /* the peer's own origin */
	int have_peer_origin;
	uint64_t told_peer_origin;   /* our last DONE's HWM for it */
	struct wire_hwm *whwms;      /* wire view of self or snap */
	size_t whwms_cap;

	/* Push: our stream to the peer. */
	enum push_state push;
	uint64_t push_id;
	struct store_snapshot *snap;
	struct hwm_list snap_hwms;   /* the snapshot's HWMs, for DONE */
	struct push_origin *po;      /* origins to stream, in origin order */
	size_t po_n;
	size_t po_cap;
	size_t po_next;              /* origin being streamed */
	uint64_t sent;               /* payload bytes sent this exchange */
	uint64_t acked;
	struct hwm_list peer;        /* the peer's last DIGEST, sorted */
	int have_peer;

	/* Push in key order (push_key): the m keyspace after kcur. */
	int push_key;
	int key_done;                /* the scan ran past the last key */
	int kcur_set;                /* 0: from the first key */
	size_t kcur_len;
	struct wire_mbatch_builder *mb;
	uint8_t peer_last_origin[STORE_ORIGIN_BYTES]; /* a lookup cache */
	uint64_t peer_last_hwm;
	int peer_last_set;
	uint8_t kcur[RUMOR_KEY_MAX]; /* last key examined */

	/* Partial replication (filter.c). */
	struct prefixes ours;        /* our R (empty: every key) */
	struct prefixes peers;       /* the peer's R */
	int peer_filters;
	int peer_self_complete;
	int self_complete;
	int we_within;               /* ours within peers: its DONE may
					raise every HWM */
	int peer_within;             /* peers within ours: our DONE need
					not be clamped */
	struct hwm_list cover;       /* a narrower peer's DONEs (filter.c) */
	struct hwm_list digest_out;  /* our DIGEST: self raised to cover */
	size_t kprefix;              /* key order: the peer's prefix being
					streamed */

	/* The live stream (live.c). */
	int live_peer;               /* the peer accepts live frames */
	int live_missed;             /* offers came before live was ready */
	struct wire_buf live_out;    /* the pending LIVE frame */
	struct wire_mbatch_builder *lmb;
	uint64_t live_sent;          /* live payload bytes sent */
	uint64_t live_acked;
	uint64_t live_frames_out;    /* LIVE frames not yet ACKed (a frame of
					SKIPs only carries no payload) */
	struct hwm_list lazy;        /* origins the peer pruned: IHAVE only */
	struct hwm_list ihave;       /* IHAVEs to send: origin, highest seq */
	struct hwm_list pruned;      /* origins we pruned at the peer */
	struct hwm_list missing;     /* the peer's IHAVEs we lack: origin,
					seq (graft deadlines in miss_ms) */
	uint64_t *miss_ms;
	size_t miss_cap;
	struct sync_live_stats ls;
};

/* sync.c */
uint64_t sync_now(const struct sync_session *ss);
int sync_writable(const struct sync_session *ss);
/* Records the first error; the session stays failed (sync.h, 1). */
int sync_fail(struct sync_session *ss, int rv, struct err *err);
int sync_failed(const struct sync_session *ss, struct err *err);
int sync_proto(struct err *err, const char *what);
/* A wire view of l (pointers into l) in ss->whwms. */
int sync_wire_view(struct sync_session *ss, const struct hwm_list *l,
		   struct err *err);
/* Room for n versions in ss->vs, ss->outcomes and ss->accepted. */
int sync_reserve_versions(struct sync_session *ss, size_t n,
			  struct err *err);
/* Sends the frame in ss->out and forgets it. */
int sync_send_out(struct sync_session *ss, struct err *err);
void sync_round_maybe_complete(struct sync_session *ss);

/* push.c */
void sync_push_release(struct sync_session *ss);
/* The peer's DIGEST: snapshot, and list what it lacks. */
int sync_push_begin(struct sync_session *ss, uint64_t exchange_id,
		    struct err *err);
/* Streams up to cfg.pump_frames frames; completes the round when done. */
int sync_pump(struct sync_session *ss, struct err *err);
/* Nothing of the stream is left to send but DONE. */
int sync_push_exhausted(const struct sync_session *ss);
/* The peer's HWM for origin (cached for runs of one origin). */
uint64_t sync_peer_hwm(struct sync_session *ss, const uint8_t *origin);

/* live.c */
/* A LIVE frame (an MBATCH with exchange id 0) and the live stream's ACK,
 * IHAVE, PRUNE and GRAFT. */
int live_on_frame(struct sync_session *ss, const struct wire_mbatch *b,
		  struct err *err);
int live_on_ack(struct sync_session *ss, const struct wire_ack *a,
		struct err *err);
int live_on_lazy(struct sync_session *ss, const struct wire_msg *m,
		 struct err *err);
void live_release(struct sync_session *ss);

/* filter.c: partial replication. */
/* Whether the peer's R takes key (its R empty: every key). */
int filter_peer_takes(const struct sync_session *ss, const void *key,
		      size_t len);
/* Whether our R takes key. */
int filter_ours_takes(const struct sync_session *ss, const void *key,
		      size_t len);
/* Our DIGEST's HWMs into ss->whwms: ss->self raised to the cover. */
int filter_digest_view(struct sync_session *ss, size_t *n,
		       struct err *err);
/* The peer's DONE in ss->raise (claims applied): remembered as cover
 * and narrowed to what it may raise here (DONE rules). */
int filter_done_in(struct sync_session *ss, struct err *err);
/* Our DONE in ss->snap_hwms (claims applied): clamped for a receiver
 * whose R is not within ours. */
void filter_done_out(struct sync_session *ss);
/* Key order: positions the scan at the next of the peer's prefixes
 * after the current key (kcur); sets key_done when none is left. */
void filter_key_seek(struct sync_session *ss);
void filter_release(struct sync_session *ss);

/* claims.c: what the peer may claim (see the top of claims.c). */
/* Most origins listed with a refused entry in one pull; past it the
 * pull's DONE raises nothing (always safe). */
#define SYNC_REFUSED_ORIGINS_MAX 1024u
void claims_refuse(struct sync_session *ss, enum refuse_reason why,
		   const uint8_t *origin, uint64_t claimed, uint64_t allowed);
/* A new pull: nothing refused yet. */
void claims_pull_begin(struct sync_session *ss);
/* The bounds for the entries of one frame. */
struct claims_bounds {
	uint64_t limit;         /* sync_claim_limit(now) */
	uint64_t own_max;       /* highest own seq we accept (UINT64_MAX:
				   any, while this node has not written) */
};
void claims_bounds_get(struct sync_session *ss, struct claims_bounds *b);
/* Whether the version v is refused (counted, and noted so that DONE does
 * not cover it): 1 refused, 0 fine. */
int claims_entry_refused(struct sync_session *ss,
			 const struct claims_bounds *b,
			 const struct rumor_version *v);
/* The peer's DIGEST in ss->peer: HWMs above the bound clamped to it;
 * our HWM for the peer's own origin lowered when above the peer's word. */
int claims_digest(struct sync_session *ss, struct err *err);
/* The peer's DONE in ss->raise, clamped to what may be raised; entries
 * of 0 dropped. */
void claims_done(struct sync_session *ss);
/* Our DONE: the snapshot's HWMs (ss->snap_hwms) lowered to our last
 * DIGEST's (ss->self), so that an honest DONE never exceeds its sender's
 * DIGEST. */
void claims_done_out(struct sync_session *ss);

/* hwm.c */
int hwm_list_reserve(struct hwm_list *l, size_t n, struct err *err);
/* Fills l with the store's HWMs (of snap if not NULL), in origin order. */
int hwm_list_load(struct sync_session *ss, struct hwm_list *l,
		  const struct store_snapshot *snap, struct err *err);
int hwm_cmp(const void *a, const void *b);
/* Copies a DIGEST's or DONE's HWMs into l, sorted by origin; duplicate
 * origins are a protocol error. O(n log n). */
int hwm_list_from_wire(struct hwm_list *l, const struct wire_digest *d,
		       struct err *err);
/* The HWM of origin in a sorted list (0 when absent). */
uint64_t hwm_list_find(const struct hwm_list *l, const uint8_t *origin);
/* Keeps a sorted list as a set: origin's entry raised to seq (never
 * lowered), inserted when absent and the list holds fewer than max.
 * 1 inserted, 0 raised or kept, -1 full (or out of memory): unchanged. */
int hwm_list_raise(struct hwm_list *l, const uint8_t *origin, uint64_t seq,
		   size_t max);
/* dst = a with each origin raised to b's (origins of b alone added);
 * a and b sorted, dst sorted. RUMOR_ENOMEM. */
int hwm_list_merge_max(struct hwm_list *dst, const struct hwm_list *a,
		       const struct hwm_list *b, struct err *err);
/* 1 when origin was in the list and is removed, else 0. */
int hwm_list_remove(struct hwm_list *l, const uint8_t *origin);
int hwm_list_has(const struct hwm_list *l, const uint8_t *origin);

#endif
