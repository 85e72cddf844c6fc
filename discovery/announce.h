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
#define ANNOUNCE_VERSION 1
#define ANNOUNCE_ID_BYTES RUMOR_NODE_ID_BYTES
#define ANNOUNCE_TAG_BYTES 8
#define ANNOUNCE_NONCE_BYTES 16
#define ANNOUNCE_MAC_BYTES crypto_auth_BYTES       /* 32 */
#define ANNOUNCE_BYTES 104                          /* the whole packet */
#define ANNOUNCE_NETKEY_BYTES RUMOR_NETWORK_KEY_BYTES

#define ANNOUNCE_WINDOW_MS_DEFAULT 30000u
#define ANNOUNCE_REPLAY_SLOTS 256

/* Why a packet was dropped (or ANNOUNCE_OK). Callers keep one counter per
 * reason; announce_reason_name() gives a stable name for stats. */
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
	X(ANNOUNCE_REPLAY, "replay")

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

/* Material derived from the network key. The network key itself is never
 * used as a MAC key and never kept here. */
struct announce_keys {
	uint8_t mac_key[crypto_auth_KEYBYTES];
	uint8_t tag[ANNOUNCE_TAG_BYTES];
};

/* Derives the MAC key and the cluster tag from the network key with
 * crypto_kdf (context "rmr-anno", subkeys 1 and 2). Deterministic. */
void announce_keys_derive(struct announce_keys *k,
			  const uint8_t netkey[static ANNOUNCE_NETKEY_BYTES]);
/* Zeroes k. */
void announce_keys_wipe(struct announce_keys *k);

/* Writes the ANNOUNCE_BYTES-byte packet for a into out. Requires
 * a->port != 0. */
void announce_encode(const struct announce_keys *k, const struct announce *a,
		     uint8_t out[static ANNOUNCE_BYTES]);

/* Stateless checks, in this order: length, magic, version, reserved bits
 * and port (MALFORMED), cluster tag (FOREIGN), MAC (FORGED). Returns
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
};

struct announce_verifier {
	struct announce_keys keys;
	uint8_t self_id[ANNOUNCE_ID_BYTES];
	uint64_t window_ms;     /* accepted: |timestamp - now| <= window */
	uint64_t floor_ms;
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

/* announce_decode, then: own id (SELF), timestamp older than
 * now - window (STALE) or newer than now + window (FUTURE), timestamp not
 * above the sender's high-water mark (REPLAY). On ANNOUNCE_OK the
 * high-water mark is raised and *out (may be NULL) filled; on any other
 * reason v and *out are unchanged. */
enum announce_reason announce_verify(struct announce_verifier *v,
				     const uint8_t *buf, size_t len,
				     uint64_t now_ms, struct announce *out);

#endif
