/* SPDX-License-Identifier: MIT */
/*
 * sim_evil: an adversarial peer on one host of a simulated world
 * (tests/lib/sim.h). It holds the cluster's network key and a key pair
 * of its own, so the node takes it for an authenticated member, and then
 * sends whatever raw messages a test hands it: forged DONEs and HWMs,
 * versions at the clock limit, PING floods while it never reads, MEMBERS
 * floods. It records what the node sends back (counts by type, the last
 * DIGEST) so a test can drive an exchange by hand. Issue 11's attacks
 * are written with it in tests/integration/test_hostile.c.
 *
 * Everything runs on the world's loop: call sim_run_until() (or the
 * cluster's run calls) between sends to let messages travel.
 */
#ifndef RUMOR_TESTS_SIM_EVIL_H
#define RUMOR_TESTS_SIM_EVIL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "io/io.h"
#include "tests/lib/sim.h"
#include "wire/wire.h"

#define EVIL_DIGEST_MAX 64
#define EVIL_REASONS 8

struct evil {
	struct sim *sim;
	int host;
	struct identity id;             /* id.public_key: its id and origin */
	uint8_t network_key[NETWORK_KEY_BYTES];
	struct io_conn *conn;
	int open;
	int closed;                     /* the node closed it (or it failed) */
	int close_reason;
	char close_detail[128];
	int paused;                     /* not reading: the node's sends pile up */
	int auto_ack;                   /* ACK each BATCH/MBATCH at once (so
					   the node's stream and round end) */
	uint64_t received[WIRE_TYPE_MAX + 1];
	/* HELLO's flags (set before evil_wait_open; WIRE_HELLO_STRONG: it
	 * takes part in strong writes). */
	uint64_t hello_flags;
	/* The VOTEs the node sent: yes, no by reason (reasons past the
	 * array count in its last slot), and the last one's txid and first
	 * clock (0 for a no). */
	uint64_t votes_yes;
	uint64_t votes_no[EVIL_REASONS];
	uint8_t vote_txid[WIRE_TXID_BYTES];
	uint64_t vote_clock;
	/* The last DIGEST and DONE the node sent (HWMs by origin). */
	uint64_t digest_id;
	size_t n_digest;
	uint8_t digest_origin[EVIL_DIGEST_MAX][WIRE_ORIGIN_BYTES];
	uint64_t digest_hwm[EVIL_DIGEST_MAX];
	uint64_t done_id;
	size_t n_done;
	uint8_t done_origin[EVIL_DIGEST_MAX][WIRE_ORIGIN_BYTES];
	uint64_t done_hwm[EVIL_DIGEST_MAX];
	/* The last WHY_ASK the node sent: its id and the origins whose
	 * HWMs it asks for (the first EVIL_DIGEST_MAX). */
	uint64_t why_id;
	size_t n_why_origins;
	uint8_t why_origins[EVIL_DIGEST_MAX][WIRE_ORIGIN_BYTES];
	/* Versions the node streamed to it (BATCH and MBATCH entries). */
	uint64_t entries_in;
	struct wire_decoder dec;
	struct wire_buf out;
	int target_host;
	struct io_peer_config cfg;      /* points at id and network_key */
};

/* Dials host target_host at port from host (a host of its own: the
 * world needs one more host than nodes), as a member holding
 * network_key, with a key pair derived from key_seed. Returns 0 or a
 * negative RUMOR_E* code; the handshake completes on the loop
 * (evil_wait_open). */
int evil_dial(struct evil **out, struct sim *s, int host, int target_host,
	      int port, const uint8_t network_key[32], uint64_t key_seed);
/* Runs the world until the connection is open (then sends HELLO) or
 * closed, or deadline (virtual ms). 1 when open. */
int evil_wait_open(struct evil *e, uint64_t deadline);

/* Encodes m and queues it. RUMOR_E* on failure (a closed connection:
 * RUMOR_ECLOSED). */
int evil_send(struct evil *e, const struct wire_msg *m);
/* HELLO (mode peer, listen port 0, its host's wall clock, hello_flags). */
int evil_hello(struct evil *e);
/* An hwm-shaped message (type: DIGEST, DONE, IHAVE, PRUNE, GRAFT) with n
 * HWMs (at most WIRE_DIGEST_MAX): origins[i] (32 bytes each), hwm[i]. */
int evil_send_hwms(struct evil *e, enum wire_type type, uint64_t exchange_id,
		   const uint8_t (*origins)[WIRE_ORIGIN_BYTES],
		   const uint64_t *hwms, size_t n);
/* One BATCH of one entry of origin. */
int evil_send_entry(struct evil *e, uint64_t exchange_id,
		    const uint8_t *origin, const uint8_t *key, size_t key_len,
		    const uint8_t *value, size_t value_len, uint64_t seq,
		    uint64_t clock, int deleted);
/* Stops reading (the node's sends back up) or reads again. */
void evil_pause(struct evil *e);
void evil_resume(struct evil *e);
/* The node's last DIGEST HWM for origin, or -1 when it listed none. */
int64_t evil_digest_hwm(const struct evil *e, const uint8_t *origin);
/* Bytes the node queued to it and not yet delivered. */
size_t evil_backlog(const struct evil *e);
/* Closes (if open) and frees; the world keeps running. */
void evil_free(struct evil *e);

#endif
