/* SPDX-License-Identifier: MIT */
/*
 * ctl_types: the data the control protocol carries (wire_ctl.h encodes
 * it; the node fills it, src/node/node_ctl.h). Plain structs, so that the
 * wire layer needs nothing from the node layer above it.
 */
#ifndef RUMOR_WIRE_CTL_TYPES_H
#define RUMOR_WIRE_CTL_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "rumor.h"
#include "lib/refuse.h"

#define CTL_DROPPED_MAX 32u          /* announcement drop reasons */
#define CTL_SOCKET_NAME "control.sock"   /* in the data dir, mode 0600 */

struct ctl_status {
	char id[RUMOR_NODE_ID_STRLEN];
	int mode;                      /* enum rumor_mode */
	char listen[300];              /* "HOST:PORT" or "" when not listening */
	char data_dir[1024];
	int open_network;              /* built-in network key in use */
	int catching_up;
	uint64_t catchup_left_ms;      /* while catching up */
	double velocity;               /* writes/s */
	uint32_t interval_ms;          /* current reconciliation interval */
	char resolver[128];            /* resolver name */
	struct rumor_stats stats;      /* every counter */
	uint64_t local_seq;
	uint64_t unsynced_changes;     /* changes not yet known fsynced
					  (RUMOR_FSYNC_EVERYSEC) */
	uint64_t peers_known, peers_alive, peers_suspect, peers_connected;
	/* Members the table could not take (full): peers refused and
	 * gossiped members dropped. */
	uint64_t members_refused;
	/* Refusals by reason (lib/refuse.h). */
	uint64_t refused[REFUSE_COUNT];
	/* Announcements dropped, by discovery's reason names (the node
	 * fills the reasons that happened; at most CTL_DROPPED_MAX). */
	struct ctl_dropped {
		char name[32];
		uint64_t count;
	} dropped[CTL_DROPPED_MAX];
	size_t n_dropped;
	/* The node's shape: its namespace (namespace_len 0: none) and its
	 * replicate set (n_replicate 0: every key). The bytes point into the
	 * node's own copies (encoding) or into the frame (decoded). */
	const uint8_t *namespace_prefix;
	size_t namespace_len;
	struct ctl_prefix {
		const uint8_t *bytes;    /* 1..RUMOR_PREFIX_MAX bytes */
		size_t len;
	} replicate[RUMOR_PREFIXES_MAX];
	size_t n_replicate;
	/* Strong writes: enum rumor_consistency, and whether a quorum is
	 * reachable (rumor_ready); the quorum and the reachable count are
	 * stats.strong_quorum and stats.strong_reachable. */
	int consistency;
	int ready;
	/* The extended form (STATUS [1, CTL_STATUS_EXT]): catch-up
	 * progress, all 0 when not catching up. extended says whether it is
	 * encoded (encoder) or was received (decoder). */
	int extended;
	uint64_t catchup_received;     /* entries received so far */
	uint64_t catchup_expected;     /* at most, from the peers' digests;
					  CTL_UNKNOWN (UINT64_MAX): none yet */
	double catchup_rate;           /* entries/s, last few seconds */
	uint64_t catchup_eta_ms;       /* UINT64_MAX: unknown */
	uint64_t catchup_wait_ms;      /* the node's catch-up bound */
};

struct ctl_peer_info {
	uint8_t id[RUMOR_NODE_ID_BYTES];
	char id_str[RUMOR_NODE_ID_STRLEN];
	char address[96];              /* "HOST:PORT" best known, or "" */
	const char *learned;           /* "multicast", "seed", "peer", "gossip" */
	/* "alive", "suspect", "gone"; for a member never contacted (known
	 * only from another member's word): "never-contacted", or
	 * "unreachable" once it went gone without ever answering. */
	const char *state;
	int connected;
	uint64_t last_contact_ago_ms;  /* UINT64_MAX: never */
	uint64_t last_sync_ago_ms;     /* UINT64_MAX: never */
	uint64_t lag;                  /* entries behind us, from digests */
};

struct ctl_sync_report {
	uint32_t peers_tried;
	uint32_t peers_completed;
	uint64_t entries_sent;
	uint64_t entries_received;
	uint64_t entries_applied;
	uint64_t bytes_in;
	uint64_t bytes_out;
};

/* `rumorctl why KEY` (src/node/why.c): one row per node (the asking
 * node first, then every member), and the verdict. */
enum ctl_why_status {
	CTL_WHY_SELF = 0,          /* the asking node */
	CTL_WHY_ANSWERED = 1,
	CTL_WHY_UNSUPPORTED = 2,   /* connected; its HELLO lacks the WHY bit */
	CTL_WHY_NO_ANSWER = 3,     /* asked; no answer within the bound */
	CTL_WHY_UNREACHABLE = 4,   /* a member not connected now */
	CTL_WHY_BAD_ANSWER = 5,    /* answered something inconsistent */
};
#define CTL_WHY_STATUS_MAX CTL_WHY_BAD_ANSWER

enum ctl_why_role {
	CTL_WHY_UNKNOWN = 0,       /* not asked, or no answer */
	CTL_WHY_CURRENT = 1,       /* holds the winner (or, with no version
				      anywhere, nothing) */
	CTL_WHY_BEHIND = 2,        /* holds an older version, or none */
	CTL_WHY_DIVERGED = 3,      /* holds a same-clock version against one
				      it has seen and that another node
				      holds having seen this one */
	CTL_WHY_OUTSIDE = 4,       /* the key is outside its replicate set */
};
#define CTL_WHY_ROLE_MAX CTL_WHY_OUTSIDE

enum ctl_why_verdict {
	CTL_WHY_CONVERGED = 0,     /* every member asked, each holds the winner */
	CTL_WHY_CONVERGING = 1,    /* some hold older versions, or could not
				      be asked */
	CTL_WHY_DIVERGENT = 2,     /* same clock, different winners */
};
#define CTL_WHY_VERDICT_MAX CTL_WHY_DIVERGENT

/* Why the winner wins over the best other version (resolver_reason's
 * values, and two more). */
enum ctl_why_reason {
	CTL_WHY_BY_CLOCK = 1,      /* a higher clock */
	CTL_WHY_BY_SEQ = 2,        /* same clock and origin, higher seq */
	CTL_WHY_BY_RESOLVER = 3,   /* same clock: the resolver chose */
	CTL_WHY_BY_WALL = 4,       /* same clock: default order, later wall */
	CTL_WHY_BY_ORIGIN = 5,     /* same clock and wall: greater origin */
	CTL_WHY_BY_ONLY = 6,       /* the only version held anywhere asked */
	CTL_WHY_BY_NONE = 7,       /* no node asked holds the key */
};
#define CTL_WHY_REASON_MAX CTL_WHY_BY_NONE

#define CTL_WHY_HASH_BYTES 16
#define CTL_WHY_RESOLVER_MAX 127u

struct ctl_why_row {
	uint8_t id[RUMOR_NODE_ID_BYTES];
	int status;                    /* enum ctl_why_status */
	int role;                      /* enum ctl_why_role */
	int found;
	uint64_t clock;
	uint8_t origin[RUMOR_NODE_ID_BYTES];
	uint64_t seq;
	uint64_t wall_ms;
	int deleted;
	uint64_t value_len;
	uint8_t hash[CTL_WHY_HASH_BYTES];
	uint64_t symmetry_violations;
	char resolver[CTL_WHY_RESOLVER_MAX + 1];   /* "" when unknown */
	/* BEHIND: how far: clocks below the winner's, seqs below it (same
	 * origin only), and ms of wall time older (0 when it holds none). */
	uint64_t lag_clock, lag_seq, lag_ms;
};

struct ctl_why_summary {
	int verdict;                   /* enum ctl_why_verdict */
	int reason;                    /* enum ctl_why_reason */
	uint64_t winner_row;           /* index of a row holding the winner;
					  rows when none */
	uint64_t rows;                 /* rows sent before it */
	char resolver[CTL_WHY_RESOLVER_MAX + 1];   /* the asking node's */
	uint64_t not_asked;            /* unsupported, unreachable, no answer */
	uint64_t max_lag_clock, max_lag_seq, max_lag_ms;
	uint64_t winner_age_ms;        /* wall ms since the winner's write */
};

#endif
