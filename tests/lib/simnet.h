/* SPDX-License-Identifier: MIT */
/*
 * simnet: an in-memory connection between two sync sessions, driven one
 * step at a time by the test (deterministic, or seeded random order).
 * Each end queues the frames its session sends; a step delivers one
 * queued frame to the other end or pumps a session that has more to send.
 * A filter sees every frame before delivery and may hold, drop or cut.
 */
#ifndef RUMOR_SIMNET_H
#define RUMOR_SIMNET_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "sync/sync.h"

enum simnet_verdict {
	SIMNET_DELIVER = 0,  /* deliver the frame */
	SIMNET_HOLD,         /* leave it (and what follows) queued for now */
	SIMNET_DROP,         /* lose the frame silently */
	SIMNET_CUT,          /* the connection breaks: this and every queued
				frame is lost, nothing more is delivered */
};

struct simnet_frame;
struct simnet_link;

struct simnet_end {
	struct simnet_link *link;
	int side;                     /* 0 or 1 */
	struct store *store;
	struct sync_session *ss;
	struct simnet_frame *head, *tail;
	size_t queued_bytes;          /* frames sent and not yet delivered */
	size_t peak_queued_bytes;
	size_t high_water;            /* writable() below this; 0: always */
	size_t max_frame;             /* largest frame sent */
	uint64_t frames_sent;
	uint64_t rounds;              /* rounds completed (callback) */
	struct sync_round_stats last; /* figures of the last round */
	uint64_t applied;             /* on_applied total */
	int error;                    /* first error of this end's session */
	struct err err;
};

/* Sees a frame from end `from` before delivery (arg: filter_arg). */
typedef enum simnet_verdict (*simnet_filter)(void *arg,
					     struct simnet_link *l, int from,
					     const uint8_t *frame,
					     size_t len);

struct simnet_link {
	struct simnet_end end[2];
	simnet_filter filter;
	void *filter_arg;
	uint64_t delivered;           /* frames delivered so far */
	uint64_t rng;                 /* 0: alternate sides; else xorshift */
	int turn;
	int cut;
};

/* A link between stores a (end 0) and b (end 1), sessions made with cfg
 * (may be NULL). rng_seed 0: deterministic alternation. */
int simnet_link_new(struct simnet_link **out, struct store *a,
		    struct store *b, const struct sync_config *cfg,
		    uint64_t rng_seed, struct err *err);
/* Frees both sessions (and their snapshots) and every queued frame. */
void simnet_link_free(struct simnet_link *l);

/* One step. 1: something happened; 0: nothing left to do (quiescent,
 * held or cut); negative: a session failed (recorded in its end, the link
 * is cut). */
int simnet_step(struct simnet_link *l);
/* Steps until quiescent: 0, a session's error, or RUMOR_ETIMEDOUT after
 * max_steps steps. */
int simnet_run(struct simnet_link *l, uint64_t max_steps);
/* Frames queued at end side. */
size_t simnet_queued(const struct simnet_link *l, int side);
/* The frame at the head of side's queue (NULL when none). */
const uint8_t *simnet_peek(const struct simnet_link *l, int side,
			   size_t *len);
/* Breaks the connection: every queued frame is lost. */
void simnet_cut(struct simnet_link *l);

/* One whole round between a and b over a fresh link: start on a, run to
 * quiescence, require a completed round on both ends. 0 or an error. */
int simnet_exchange(struct store *a, struct store *b,
		    const struct sync_config *cfg, struct err *err);

/* ------------------------------------------------------------ checks */

/* An owned copy of a version, for models and invariant checks. */
struct simnet_version {
	uint8_t origin[STORE_ORIGIN_BYTES];
	uint64_t seq;
	uint64_t clock;
	uint64_t wall_ms;
	int deleted;
	uint8_t *key;
	size_t key_len;
	uint8_t *value;
	size_t value_len;
};

/* Copies v (malloc'd fields); 0 or RUMOR_ENOMEM. */
int simnet_version_copy(struct simnet_version *dst,
			const struct rumor_version *v);
void simnet_version_free(struct simnet_version *v);
/* A view of an owned copy (pointers into it). */
void simnet_version_view(const struct simnet_version *sv,
			 struct rumor_version *v);
/* Records the stored version of key in dst (after a local write). */
int simnet_version_of(struct store *s, const void *key, size_t key_len,
		      struct simnet_version *dst);

/* A canonical dump of a store: every HWM and every log entry (versions,
 * tombstones included, with values), malloc'd into *buf. Two stores hold
 * the same state when their dumps are equal. */
int simnet_dump(struct store *s, uint8_t **buf, size_t *len);
/* Whether a and b hold the same state (by their dumps). */
int simnet_same_state(struct store *a, struct store *b);

/* The HWM invariant (DESIGN 4.4): for every version in all[0..n), if the
 * store's HWM for its origin covers its seq, the store holds that version
 * or one that wins over it under r. 0, or RUMOR_ECORRUPT with the first
 * violation in err. */
int simnet_check_hwm_invariant(struct store *s, struct resolver *r,
			       const struct simnet_version *all, size_t n,
			       struct err *err);

#endif
