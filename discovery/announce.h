/* SPDX-License-Identifier: MIT */
/*
 * announce: the multicast announcement packet, encoded and verified.
 * Pure: no sockets, no clock, no allocation. The caller passes the time
 * and the nonce, so that tests are deterministic. The byte layout is in
 * discovery/README.md.
 */
#ifndef RUMOR_DISCOVERY_ANNOUNCE_H
#define RUMOR_DISCOVERY_ANNOUNCE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "rumor.h"

#define ANNOUNCE_MAGIC "RMRA"           /* 4 bytes, no NUL on the wire */
#define ANNOUNCE_VERSION 2              /* 2: the id, port and time sealed */
#define ANNOUNCE_VERSION_OLD 1          /* 1: the id in clear; dropped */
#define ANNOUNCE_ID_BYTES RUMOR_NODE_ID_BYTES
#define ANNOUNCE_TAG_BYTES 8
#define ANNOUNCE_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define ANNOUNCE_MAC_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define ANNOUNCE_BYTES 98                           /* the whole packet */
#define ANNOUNCE_NETKEY_BYTES RUMOR_NETWORK_KEY_BYTES

#define ANNOUNCE_WINDOW_MS_DEFAULT 30000u
#define ANNOUNCE_REPLAY_SLOTS 256
/* Ids never seen before that the verifier takes, over all senders: a
 * token bucket of this rate and burst (announce_verifier_set_new_ids). */
#define ANNOUNCE_NEW_IDS_PER_S_DEFAULT 16u
#define ANNOUNCE_NEW_IDS_BURST_DEFAULT 32u

/* Why a packet was dropped (or ANNOUNCE_OK). Callers keep one counter per
 * reason; announce_reason_name() gives a stable name for stats. Reasons
 * are only appended (their names are what status carries). NOT_GROUP,
 * OFF_LINK, SOURCE_BUDGET and NO_ADDRESS are decided by
 * discovery/multicast.c, not here. DUPLICATE is the packet last accepted
 * from that id, again (the same announcement through the other address
 * family): multicast counts it apart, not as a drop. */
#define ANNOUNCE_REASONS(X)                                              \
	X(ANNOUNCE_OK, "accepted")                                       \
	X(ANNOUNCE_BAD_LENGTH, "bad_length")                             \
	X(ANNOUNCE_BAD_MAGIC, "bad_magic")                               \
	X(ANNOUNCE_BAD_VERSION, "bad_version")                           \
	X(ANNOUNCE_MALFORMED, "malformed")                               \
	X(ANNOUNCE_FOREIGN, "foreign_cluster")                           \
	X(ANNOUNCE_FORGED, "forged")                                     \
	X(ANNOUNCE_SELF, "self")                                         \
	X(ANNOUNCE_STALE, "stale")                                       \
	X(ANNOUNCE_FUTURE, "future")                                     \
	X(ANNOUNCE_REPLAY, "replay")                                     \
	X(ANNOUNCE_OLD_VERSION, "old_version")                           \
	X(ANNOUNCE_NEW_ID_RATE, "new_id_rate")                           \
	X(ANNOUNCE_NOT_GROUP, "not_to_group")                            \
	X(ANNOUNCE_OFF_LINK, "off_link")                                 \
	X(ANNOUNCE_SOURCE_BUDGET, "source_budget")                       \
	X(ANNOUNCE_NO_ADDRESS, "no_address")                             \
	X(ANNOUNCE_DUPLICATE, "duplicate")

enum announce_reason {
#define ANNOUNCE__ENUM(name, text) name,
	ANNOUNCE_REASONS(ANNOUNCE__ENUM)
#undef ANNOUNCE__ENUM
	ANNOUNCE_REASON_COUNT
};

/* A static name for r ("forged", ...); "unknown" when out of range. */
const char *announce_reason_name(enum announce_reason r);

/* What an announcement says. */
struct announce {
	uint8_t node_id[ANNOUNCE_ID_BYTES];     /* Ed25519 public key */
	uint16_t port;                          /* TCP listening port, != 0 */
	uint64_t timestamp_ms;                  /* sender's wall clock */
	uint8_t nonce[ANNOUNCE_NONCE_BYTES];    /* random per packet */
};

/* Material derived from the network key. The network key itself never
 * keys a cipher and is never kept here. */
struct announce_keys {
	uint8_t seal_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t tag[ANNOUNCE_TAG_BYTES];
};

/* Derives the sealing key and the cluster tag from the network key with
 * crypto_kdf (context "rmr-anno", subkeys 3 and 2). Deterministic. */
void announce_keys_derive(struct announce_keys *k,
			  const uint8_t netkey[static ANNOUNCE_NETKEY_BYTES]);
/* Zeroes k. */
void announce_keys_wipe(struct announce_keys *k);

/* Writes the ANNOUNCE_BYTES-byte packet for a into out: the node id,
 * port and timestamp sealed (XChaCha20-Poly1305, a->nonce as the nonce:
 * the caller draws it at random for each packet), so that a listener
 * without the network key learns none of them. Requires a->port != 0. */
void announce_encode(const struct announce_keys *k, const struct announce *a,
		     uint8_t out[static ANNOUNCE_BYTES]);

/* Stateless checks, in this order: at least the header's first 6 bytes
 * (BAD_LENGTH), magic, version (OLD_VERSION for version 1, BAD_VERSION
 * for any other), length, flags and reserved bytes (MALFORMED), cluster
 * tag (FOREIGN), seal (FORGED), port (MALFORMED). Returns
 * ANNOUNCE_OK and fills *out (out may be NULL) only when all pass;
 * otherwise *out is untouched. Never reads past buf[len - 1]. */
enum announce_reason announce_decode(const struct announce_keys *k,
				     const uint8_t *buf, size_t len,
				     struct announce *out);

/* Replay protection: the highest timestamp accepted from each node, in a
 * bounded table. A packet is accepted only if its timestamp is above its
 * sender's high-water mark. When the table is full the entry with the
 * oldest timestamp is evicted and its timestamp raises `floor_ms`, below
 * which packets from nodes without an entry are refused: so an eviction
 * can make us drop a genuine packet, never accept a replay. */
struct announce_seen {
	uint8_t node_id[ANNOUNCE_ID_BYTES];
	uint64_t hwm_ms;
	uint8_t nonce[ANNOUNCE_NONCE_BYTES];    /* of the packet at hwm_ms */
};

/* A token bucket: at most burst at once, refilled at rate per second.
 * Pure; the time is passed in (a clock going back refills nothing). */
struct announce_bucket {
	uint64_t milli;         /* tokens * 1000 */
	uint64_t last_ms;
	int started;
};

/* Takes one token at now_ms: 1, or 0 when the bucket is empty. rate 0
 * means no limit (always 1). A new bucket starts full. */
int announce_bucket_take(struct announce_bucket *b, uint64_t now_ms,
			 uint32_t rate, uint32_t burst);

struct announce_verifier {
	struct announce_keys keys;
	uint8_t self_id[ANNOUNCE_ID_BYTES];
	uint64_t window_ms;     /* accepted: |timestamp - now| <= window */
	/* Never above the receiver's clock when it was raised, so that
	 * forged ids dated in the future cannot push it past genuine
	 * announcements (see announce_verify). */
	uint64_t floor_ms;
	uint32_t new_ids_per_s; /* 0: no limit */
	uint32_t new_ids_burst;
	struct announce_bucket new_ids;
	size_t n_seen;
	struct announce_seen seen[ANNOUNCE_REPLAY_SLOTS];
};

/* Prepares v for a node whose id is self_id in the cluster of netkey.
 * window_ms 0 means ANNOUNCE_WINDOW_MS_DEFAULT. */
void announce_verifier_init(struct announce_verifier *v,
			    const uint8_t netkey[static ANNOUNCE_NETKEY_BYTES],
			    const uint8_t self_id[static ANNOUNCE_ID_BYTES],
			    uint64_t window_ms);
/* Zeroes v (its keys included). */
void announce_verifier_wipe(struct announce_verifier *v);

/* Limits ids not in the replay table (new ones) to per_s a second with
 * bursts of burst, over all senders; per_s 0 lifts the limit. */
void announce_verifier_set_new_ids(struct announce_verifier *v,
				   uint32_t per_s, uint32_t burst);

/* announce_decode, then: own id (SELF), timestamp older than
 * now - window (STALE) or newer than now + window (FUTURE), timestamp not
 * above the sender's high-water mark (DUPLICATE when it is the very
 * packet that set the mark, REPLAY otherwise), or for an id without an
 * entry not above the floor (REPLAY), and for such a new id a token from the
 * new-id bucket (NEW_ID_RATE). On ANNOUNCE_OK the high-water mark is
 * raised and *out (may be NULL) filled; on any other reason *out and the
 * replay state are unchanged.
 *
 * The floor is raised when a full table evicts its oldest entry, to
 * that entry's mark but never above now_ms: a flood of forged ids dated
 * up to a window ahead cannot make a genuine node's next announcement
 * look like a replay. The price: a replay of a packet from an evicted
 * node dated between now and its mark is accepted once (it names a
 * genuine node that the key holder could announce anyway). */
enum announce_reason announce_verify(struct announce_verifier *v,
				     const uint8_t *buf, size_t len,
				     uint64_t now_ms, struct announce *out);

#endif
