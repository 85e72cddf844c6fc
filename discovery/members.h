/* SPDX-License-Identifier: MIT */
/*
 * members: the member table. Who is in the cluster, where each member
 * can be dialed, how we learned of it, whether it is alive, when we last
 * heard from it and last reconciled with it. Pure: no I/O, no clock (the
 * caller passes now in milliseconds on a monotonic clock).
 *
 * Rules the table keeps:
 *  - Only direct contact (an accepted announcement, a handshake, a frame
 *    from the member) makes a member alive or refreshes its timers.
 *  - Gossip may add a member we have never heard of, and addresses of a
 *    member, but never refreshes timers, never changes a state, never
 *    outranks an address learned directly, never adds our own id, and
 *    only adds addresses to a member that is gone. So gossip cannot keep a
 *    dead node alive by echo between nodes, nor bring a gone node back. Gone
 *    members are gossiped only by nodes that knew them first hand.
 *  - States move alive -> suspect -> gone -> forgotten (removed) as time
 *    passes without contact; contact brings any state back to alive.
 *  - Gone members are not chosen for rounds, but are still redialed with
 *    a backoff (members_redial), so two nodes that lost each other at
 *    once find each other again within about gone_after of healing.
 *  - The identities and addresses survive a restart (members_encode,
 *    members_load): remembered members come back gone, never contacted,
 *    so that they block tombstone collection until heard from or
 *    forgotten.
 *  - Gossip is bounded (issue 11: one MEMBERS message filled the table):
 *    a gossiped host must be a numeric IPv4 or IPv6 address (a name would
 *    aim our dials and resolver wherever the sender likes); news from one
 *    sender (a member or an address new to us) is limited per message
 *    and by a token bucket kept on the sender's entry (members_gossip);
 *    and members known only by gossip ("gossip-only": never contacted,
 *    not remembered first hand, see member_is_gossip_only) fill at most
 *    cfg.gossip_max slots. The other slots are reserved for members seen
 *    directly: a directly seen member arriving at a full table evicts a
 *    gone member, else a gossip-only one, never the reverse.
 *  - A gossip-only member is not passed on (members_export) until we have
 *    contacted it: a node repeats only what it has checked itself, so a
 *    forged member dies out at the first node it reached.
 *  - A gossip-only member still holds back tombstone collection until
 *    contacted or forgotten (see member_is_gossip_only for why, and what
 *    that leaves a hostile member).
 */
#ifndef RUMOR_DISCOVERY_MEMBERS_H
#define RUMOR_DISCOVERY_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rumor.h"
#include "lib/err.h"

#define MEMBER_ID_BYTES RUMOR_NODE_ID_BYTES
#define MEMBER_HOST_MAX 64      /* a numeric IPv4/IPv6 address, or a name */
#define MEMBER_ADDRS_MAX 4      /* addresses kept per member */

#define MEMBERS_SUSPECT_AFTER_MS_DEFAULT 15000u
#define MEMBERS_GONE_AFTER_MS_DEFAULT 60000u
#define MEMBERS_FORGET_AFTER_MS_DEFAULT 600000u
#define MEMBERS_MAX_DEFAULT 1024u
/* Gossip bounds (members_gossip). News (a member, or an address of one,
 * new to us) taken from one MEMBERS message: */
#define MEMBERS_GOSSIP_PER_MSG_DEFAULT 32u
/* ... and from one sender over time: a bucket of this many, refilled by
 * one every MEMBERS_GOSSIP_REFILL_MS_DEFAULT. A node joining a cluster of
 * a few hundred learns it from several members at once, each of which
 * it then contacts and hears from directly; a forger gets 2 a second. */
#define MEMBERS_GOSSIP_BURST_DEFAULT 64u
#define MEMBERS_GOSSIP_REFILL_MS_DEFAULT 500u

enum member_state {
	MEMBER_ALIVE = 0,
	MEMBER_SUSPECT = 1,
	MEMBER_GONE = 2,
};

/* How an address or a member was learned. Direct sources outrank
 * gossip. */
enum member_source {
	MEMBER_VIA_MULTICAST = 0,  /* an accepted announcement */
	MEMBER_VIA_SEED = 1,       /* dialed from the seed list */
	MEMBER_VIA_PEER = 2,       /* it connected to us / we to it */
	MEMBER_VIA_GOSSIP = 3,     /* another member's MEMBERS list */
};

const char *member_state_name(enum member_state s);
const char *member_source_name(enum member_source s);

struct member_addr {
	char host[MEMBER_HOST_MAX];
	uint16_t port;
	enum member_source source;
	uint64_t learned_ms;       /* last time this address was stated */
};

struct member {
	uint8_t id[MEMBER_ID_BYTES];
	enum member_state state;
	enum member_source learned_via;  /* how we first heard of it */
	/* Best first: direct before gossip, then most recently stated. */
	struct member_addr addrs[MEMBER_ADDRS_MAX];
	size_t n_addrs;
	uint64_t first_heard_ms;
	uint64_t last_contact_ms;  /* last direct contact; 0: never */
	uint64_t last_sync_ms;     /* last complete reconciliation; 0: never */
	uint64_t state_since_ms;   /* when the current state began */
	uint64_t lag;              /* entries it is behind us (from digests) */
	uint64_t chosen_round;     /* round it was last chosen; 0: never */
	/* Gone only: when to redial next (0: now) and the last backoff
	 * (0: none yet). Both reset by contact. */
	uint64_t next_dial_ms;
	uint64_t dial_backoff_ms;
	uint64_t redials;          /* redials since the last contact */
	size_t redial_addr;        /* address the last redial is to use */
	/* loaded by members_load with an address learned directly (known
	 * first hand before the restart) */
	bool remembered;
	bool connected;
	/* As a sender of gossip: its token bucket (members_quota_begin). */
	bool gossip_started;       /* bucket set up (full) */
	size_t gossip_tokens;
	uint64_t gossip_refill_ms; /* tokens counted up to this time */
};

/* Known only by gossip: never contacted, not remembered first hand.
 * Such a member is only another member's word: it is not passed on and
 * holds at most cfg.gossip_max slots.
 *
 * It still holds back tombstone collection (src/node/sched.c asks every
 * member in the table), as a member known first hand does. Collection
 * that skips it is not safe: the simulator (test_cluster, 3,000
 * schedules) counts 371 collections a member had not seen when
 * gossip-only members are skipped, 124 when they are skipped once gone,
 * and 6 when they count. Such a collection loses the delete for good on
 * that member: our next DONE raises its HWM past the tombstone we no
 * longer hold. So a member holding the network key can still delay
 * collection on the nodes it gossips to with invented members: at most
 * its quota of them (MEMBERS_GOSSIP_BURST_DEFAULT, then 2 a second),
 * each until forgotten (forget_after after we first heard of it, since
 * gossip never refreshes its timers), on those nodes only (they are not
 * passed on). Ending that needs membership claims signed by the member
 * they name, or a configured membership. */
static inline bool member_is_gossip_only(const struct member *m)
{
	return m->last_contact_ms == 0 && !m->remembered;
}

/* Called on every state change (old -> m->state), and with
 * forgotten=true just before m is removed. m is valid only during the
 * call; the callback must not modify the table. */
typedef void (*members_change_cb)(void *arg, const struct member *m,
				  enum member_state old, bool forgotten);

struct members_config {
	uint64_t suspect_after_ms; /* 0: default; without contact */
	uint64_t gone_after_ms;    /* 0: default; > suspect_after */
	uint64_t forget_after_ms;  /* 0: default; > gone_after */
	size_t max_members;        /* 0: default */
	/* Slots gossip-only members may take: 0: max_members / 2 (at least
	 * 1); above max_members: max_members. */
	size_t gossip_max;
	size_t gossip_per_msg;     /* 0: default */
	size_t gossip_burst;       /* 0: default */
	uint64_t gossip_refill_ms; /* 0: default */
	members_change_cb on_change;
	void *change_arg;
};

struct members {
	uint8_t self_id[MEMBER_ID_BYTES];
	struct members_config cfg;
	struct member *v;          /* array of n, capacity cap */
	size_t n, cap;
	uint64_t round;            /* members_choose calls so far */
	/* Bumped whenever what members_encode writes changes: a member
	 * added or removed, an address added, replaced or reordered. A
	 * caller that persists the table compares it with the value it last
	 * wrote. */
	uint64_t changes;
};

/* Prepares an empty table for the node self_id. cfg may be NULL (all
 * defaults). RUMOR_EINVAL if the timeouts are not increasing. Nothing
 * to free on error. */
int members_init(struct members *t,
		 const uint8_t self_id[static MEMBER_ID_BYTES],
		 const struct members_config *cfg, struct err *err);
void members_free(struct members *t);

/* Result of an upsert. */
enum members_upsert_result {
	MEMBERS_ADDED = 1,       /* a new member */
	MEMBERS_UPDATED = 2,     /* known: contact and/or address recorded */
	MEMBERS_IGNORED = 3,     /* our own id, or gossip about a gone node
				  * without an address */
};

/* Records that id was learned from source at host:port (host NULL: no
 * address, e.g. contact only). A direct source also counts as contact
 * (see members_mark_contact). Gossip follows the rules at the top of
 * this file. Returns a members_upsert_result, or RUMOR_EINVAL (host empty,
 * too long or with a character that is not visible ASCII, port 0 with a
 * host; for gossip, a host that is not a numeric address) or
 * RUMOR_ENOMEM (no slot: for a direct source, max_members reached and no
 * gone nor gossip-only member to evict; for gossip, gossip_max gossip-only
 * members already, or max_members reached and no gone gossip-only member
 * to evict; or allocation failed); on error the table is unchanged.
 * No quota here: gossip from a peer goes through members_gossip. */
int members_upsert(struct members *t,
		   const uint8_t id[static MEMBER_ID_BYTES], const char *host,
		   uint16_t port, enum member_source source, uint64_t now_ms,
		   struct err *err);

/* Direct contact with a known member: alive, last_contact = now. Returns
 * 0, or RUMOR_ENOTFOUND when id is not in the table. */
int members_mark_contact(struct members *t,
			 const uint8_t id[static MEMBER_ID_BYTES],
			 uint64_t now_ms);
/* A complete reconciliation with id finished at now (also a contact). */
int members_mark_sync(struct members *t,
		      const uint8_t id[static MEMBER_ID_BYTES], uint64_t now_ms);
int members_set_connected(struct members *t,
			  const uint8_t id[static MEMBER_ID_BYTES],
			  bool connected);
int members_set_lag(struct members *t,
		    const uint8_t id[static MEMBER_ID_BYTES], uint64_t lag);

/* Advances states by elapsed time since the last contact (or since we
 * first heard, for a member never contacted): suspect after
 * suspect_after, gone after gone_after, removed after forget_after.
 * Returns how many members changed state or were removed. */
size_t members_tick(struct members *t, uint64_t now_ms);

/* Lookup and iteration. Pointers and indexes stay valid until the next
 * call that modifies the table (upsert, tick). */
const struct member *members_find(const struct members *t,
				  const uint8_t id[static MEMBER_ID_BYTES]);
static inline size_t members_count(const struct members *t)
{
	return t->n;
}
static inline const struct member *members_at(const struct members *t,
					      size_t i)
{
	return i < t->n ? &t->v[i] : NULL;
}
/* How many members are in state s. */
size_t members_count_state(const struct members *t, enum member_state s);

/* Chooses up to k members (alive or suspect, with an address or a live
 * connection) to reconcile with this round and writes their ids to out.
 * Picks those chosen longest ago (never chosen first; ties by id), so
 * with n eligible members each is chosen at least once in every
 * ceil(n / k) consecutive rounds. Returns how many were written. */
size_t members_choose(struct members *t, size_t k,
		      uint8_t (*out)[MEMBER_ID_BYTES]);

/* Chooses up to k gone members with an address and no connection whose
 * redial is due at now_ms (the longest due first), writes their ids to
 * out and schedules their next redial (each redial sets redial_addr to
 * the next of its addresses, in turn): the first after suspect_after,
 * then doubling up to gone_after, each shortened by up to a quarter at
 * random (from seed; pass io_random bits so that a simulated cluster
 * replays). Contact resets the backoff. Returns how many were written.
 * Rounds stay on alive and suspect members (members_choose). */
size_t members_redial(struct members *t, uint64_t now_ms, uint64_t seed,
		      size_t k, uint8_t (*out)[MEMBER_ID_BYTES]);

/* The persisted form: a text file, "rumor-members v1\n" then one line
 * per member: its id in hex and up to MEMBER_ADDRS_MAX triples
 * " host port source" (source a member_source_name), best first. */
#define MEMBERS_FILE_MAGIC "rumor-members v1\n"
/* Longest line: id, a space, and per address a host, a port, a source. */
#define MEMBERS_LINE_MAX \
	(2 * MEMBER_ID_BYTES + MEMBER_ADDRS_MAX * (MEMBER_HOST_MAX + 20) + 2)

/* Encodes every member (identities and addresses only) into a new
 * buffer *out of *len bytes (caller frees with free()). 0, or
 * RUMOR_ENOMEM (*out NULL). */
int members_encode(const struct members *t, char **out, size_t *len,
		   struct err *err);

/* Loads an encoded table (buf of len bytes, untrusted: any bytes) into
 * an empty table t: each member is added gone, never contacted, first
 * heard at now_ms, due for a redial. Entries with our own id are
 * dropped, a repeated id keeps its first line. RUMOR_ECORRUPT (naming
 * the line) when the text is not a valid encoding or holds more than
 * max_members entries, RUMOR_EINVAL when t is not empty, RUMOR_ENOMEM;
 * on error t is left empty. Returns the number of members loaded. */
int members_load(struct members *t, const char *buf, size_t len,
		 uint64_t now_ms, struct err *err);

/* One entry of a MEMBERS gossip message. */
struct member_gossip {
	uint8_t id[MEMBER_ID_BYTES];
	char host[MEMBER_HOST_MAX];
	uint16_t port;
};

/* Writes up to max entries for members that have an address (their
 * best one) to out; returns how many. Only members we know first hand
 * (contacted, or remembered from before a restart; never gossip-only
 * ones): alive and suspect members first, then gone members, so that a
 * node that joins while a member is away learns of it. A gossip-only
 * member is never exported: a forged or dead member is not echoed. */
size_t members_export(const struct members *t, struct member_gossip *out,
		      size_t max);

/* Whether host is a numeric IPv4 or IPv6 address (no name, no scope,
 * no brackets). */
bool members_host_is_numeric(const char *host);

/* The gossip quota of one MEMBERS message from one sender. */
struct members_quota {
	uint8_t from[MEMBER_ID_BYTES];
	size_t allowed;            /* news this message may bring */
	size_t used;               /* news taken so far */
};

/* Result of members_gossip beyond members_upsert_result: news refused
 * because the sender's quota is spent (the table is unchanged). */
#define MEMBERS_OVER_QUOTA 4

/* Opens the quota of one MEMBERS message from member from (an unknown
 * sender gets none): at most cfg.gossip_per_msg news, and no more than
 * its bucket holds at now_ms. Close it with members_quota_end. */
void members_quota_begin(struct members *t,
			 const uint8_t from[static MEMBER_ID_BYTES],
			 uint64_t now_ms, struct members_quota *q);
/* Takes the tokens q used from the sender's bucket. Call it before
 * anything else changes the table's membership (a removal may take the
 * sender away: then nothing happens). */
void members_quota_end(struct members *t, const struct members_quota *q);
/* One gossiped member from q's sender: members_upsert with source
 * gossip, when it brings no news (a member and address we know: no
 * quota needed) or q has news left (then it uses one). Returns what
 * members_upsert returns (RUMOR_EINVAL for a host that is not a numeric
 * address, checked first), or MEMBERS_OVER_QUOTA. */
int members_gossip(struct members *t, struct members_quota *q,
		   const uint8_t id[static MEMBER_ID_BYTES], const char *host,
		   uint16_t port, uint64_t now_ms, struct err *err);

/* Simultaneous dials: when two nodes dial each other, both must keep the
 * same one connection. Rule: keep the connection dialed by the node with
 * the smaller id (memcmp order). Returns true if the connection between
 * self and peer that `we_dialed` describes is the one to keep. Symmetric:
 * both ends reach the same answer for the same connection. */
bool members_keep_connection(const uint8_t self[static MEMBER_ID_BYTES],
			     const uint8_t peer[static MEMBER_ID_BYTES],
			     bool we_dialed);

#endif
