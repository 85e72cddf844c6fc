/* SPDX-License-Identifier: MIT */
/*
 * refuse: what a node refused from its peers and from the network, by
 * reason (issue 11: every refusal is counted by reason in `status` and
 * logged with rate limiting). The node owns one struct refusals; each
 * layer that refuses something reports it there (the sync layer through
 * its callbacks, io and discovery through their stats).
 *
 * Reasons are only ever appended: their names are what `rumorctl status`
 * and the control protocol carry, so a name never changes meaning.
 */
#ifndef RUMOR_LIB_REFUSE_H
#define RUMOR_LIB_REFUSE_H

#include <stdint.h>

/* X(enum, "name", "what was refused") */
#define REFUSE_REASONS(X)                                                    \
	/* Claims (src/sync/): versions and HWMs a peer asserted. */         \
	X(REFUSE_OWN_SEQ, "own_seq",                                         \
	  "an entry of this node's own origin above its local seq")           \
	X(REFUSE_CLOCK_LIMIT, "clock_limit",                                 \
	  "a version whose clock leaves no room for later writes")            \
	X(REFUSE_SEQ_LIMIT, "seq_limit",                                     \
	  "a version whose seq leaves no room for later writes")              \
	X(REFUSE_HWM_OWN, "hwm_own",                                         \
	  "an HWM for this node's own origin above its local seq")            \
	X(REFUSE_HWM_LIMIT, "hwm_limit",                                     \
	  "an HWM above the seq bound")                                      \
	X(REFUSE_HWM_DIGEST, "hwm_digest",                                   \
	  "a DONE HWM above what the sender's digest allowed")                \
	X(REFUSE_HWM_HEALED, "hwm_healed",                                   \
	  "an HWM above its origin's own digest, lowered")                    \
	/* Resources (src/io/, src/node/). */                                \
	X(REFUSE_QUEUE_FULL, "queue_full",                                   \
	  "a peer closed: its outgoing queue reached the hard cap")           \
	X(REFUSE_PONG_SKIPPED, "pong_skipped",                               \
	  "a PONG not sent: the peer's queue was above the low-water mark")   \
	X(REFUSE_HANDSHAKES_TOTAL, "handshakes_total",                       \
	  "a connection closed: too many handshakes in progress")             \
	X(REFUSE_HANDSHAKES_SOURCE, "handshakes_source",                     \
	  "a connection closed: too many handshakes from its address")        \
	X(REFUSE_CONNECTIONS, "connections",                                 \
	  "a connection closed: the connection cap was reached")              \
	X(REFUSE_DIALS_DEFERRED, "dials_deferred",                           \
	  "a dial deferred: the cap on concurrent dials was reached")         \
	/* Member gossip (src/node/, discovery/). */                         \
	X(REFUSE_MEMBERS_QUOTA, "members_quota",                             \
	  "a gossiped member over the sending peer's quota")                  \
	X(REFUSE_MEMBERS_HOST, "members_host",                               \
	  "a gossiped member whose host is not a numeric address")            \
	X(REFUSE_MEMBERS_FULL, "members_full",                               \
	  "a member the table had no slot for")                               \
	/* Resources (src/io/), appended. */                                 \
	X(REFUSE_DESCRIPTORS, "descriptors",                                 \
	  "a connection closed: file descriptors near the process limit")     \
	/* Strong writes (src/node/strong*.c), appended. */                  \
	X(REFUSE_STRONG_UNKNOWN, "strong_unknown",                           \
	  "a strong-write message for a transaction not in progress here")    \
	X(REFUSE_STRONG_SENDER, "strong_sender",                             \
	  "a strong-write message from a node that may not send it")          \
	X(REFUSE_STRONG_BUSY, "strong_busy",                                 \
	  "a PREPARE refused: too many intents or intent bytes held")         \
	X(REFUSE_STRONG_BAD, "strong_bad",                                   \
	  "a PREPARE refused: participants or ops it may not carry")

#define REFUSE__ENUM(e, name, what) e,
enum refuse_reason {
	REFUSE_REASONS(REFUSE__ENUM)
	REFUSE_COUNT
};
#undef REFUSE__ENUM

/* Log at most once per reason in this many ms. */
#define REFUSE_LOG_INTERVAL_MS 10000u

struct refusals {
	uint64_t n[REFUSE_COUNT];          /* counted since the node started */
	uint64_t logged_ms[REFUSE_COUNT];  /* when each reason last logged */
	uint64_t unlogged[REFUSE_COUNT];   /* counted since then, not logged */
	int ever_logged[REFUSE_COUNT];
};

/* The reason's name ("own_seq") and description; NULL out of range. */
const char *refuse_name(int why);
const char *refuse_what(int why);
/* The reason named name, or -1. */
int refuse_by_name(const char *name);

/* Counts one refusal at now_ms. Returns 1 when the caller should log it
 * now (the first of its reason, then at most once per
 * REFUSE_LOG_INTERVAL_MS), with *quiet the refusals of that reason
 * counted and not logged since the last log; 0 otherwise. */
int refuse_note(struct refusals *r, enum refuse_reason why, uint64_t now_ms,
		uint64_t *quiet);

#endif
