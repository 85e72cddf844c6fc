/* SPDX-License-Identifier: MIT */
/*
 * handshake: a mutual, network-keyed handshake modelled on
 * secret-handshake. Both sides prove their Ed25519 identity and knowledge
 * of the 32-byte network key, and derive forward-secret session keys from
 * ephemeral X25519 keys. A party without the network key learns nothing,
 * not even the server's identity. Pure state machine: no I/O, no clock.
 * The messages are described byte by byte in crypto/README.md.
 *
 * Use: the client calls handshake_client_start() and sends what it
 * produces; each side then reads exactly handshake_expect() bytes, passes
 * them to handshake_recv() and sends what that produced (if anything),
 * until handshake_done(). Any error is final: the connection must be
 * closed and nothing further read from it.
 */
#ifndef RUMOR_CRYPTO_HANDSHAKE_H
#define RUMOR_CRYPTO_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"

#define HANDSHAKE_MSG_MAX 256           /* no message is longer */
#define SESSION_KEY_BYTES 32

struct handshake_result {
	uint8_t peer_public_key[IDENTITY_PUBLIC_BYTES];
	uint8_t tx_key[SESSION_KEY_BYTES];   /* this side -> peer */
	uint8_t rx_key[SESSION_KEY_BYTES];   /* peer -> this side */
};

struct handshake_config {
	const struct identity *identity;
	const uint8_t *network_key;             /* NETWORK_KEY_BYTES */
	const struct trusted_keys *trusted;     /* NULL: any identity */
	/* Client only: the server identity expected (e.g. from an
	 * announcement), or NULL to accept any (trusted) identity. */
	const uint8_t *expected_server_key;
};

struct handshake;   /* opaque; handshake_size() bytes, no allocation */

/* The storage must be aligned like malloc's result. *_init() copies the
 * network key and the expected server key; cfg->identity and cfg->trusted
 * are used by pointer and must outlive the handshake. */

size_t handshake_size(void);
void handshake_client_init(struct handshake *hs,
			   const struct handshake_config *cfg);
void handshake_server_init(struct handshake *hs,
			   const struct handshake_config *cfg);

/* Client: writes the first message into out (HANDSHAKE_MSG_MAX bytes);
 * *out_len gets its length. */
int handshake_client_start(struct handshake *hs, uint8_t *out,
			   size_t *out_len, struct err *err);
/* Bytes of the next message to read (0 when done or failed). */
size_t handshake_expect(const struct handshake *hs);
/* Consumes one whole message of handshake_expect() bytes; *out_len gets
 * the length of the reply to send (0: none). RUMOR_EAUTH when the peer
 * fails a proof (wrong network key, bad signature, untrusted identity,
 * unexpected server), RUMOR_EPROTO on a malformed message. */
int handshake_recv(struct handshake *hs, const uint8_t *msg, size_t len,
		   uint8_t *out, size_t *out_len, struct err *err);
int handshake_done(const struct handshake *hs);
/* Valid once handshake_done(). */
void handshake_get_result(const struct handshake *hs,
			  struct handshake_result *res);
/* Zeroes every secret in hs. */
void handshake_wipe(struct handshake *hs);

/* Fixed lengths of the four messages (see crypto/README.md). */
#define HANDSHAKE_MSG1_BYTES 64         /* client ephemeral + tag */
#define HANDSHAKE_MSG2_BYTES 64         /* server ephemeral + tag */
#define HANDSHAKE_MSG3_BYTES 112        /* sealed client identity + proof */
#define HANDSHAKE_MSG4_BYTES 112        /* sealed server identity + proof */

/* Tests and fuzzing only: derive this side's ephemeral key from seed
 * instead of fresh randomness, so a session can be recorded and replayed
 * byte for byte. Call right after *_init(), before any message. Never in
 * production: a repeated ephemeral key loses forward secrecy. */
void handshake_test_set_ephemeral(struct handshake *hs,
				  const uint8_t seed[static 32]);

#endif
