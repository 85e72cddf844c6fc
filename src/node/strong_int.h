/* SPDX-License-Identifier: MIT */
/*
 * strong_int: what strong.c (the coordinator, the API, readiness) and
 * strong_part.c (the participant, recovery, locks) share; private to
 * src/node/.
 */
#ifndef RUMOR_NODE_STRONG_INT_H
#define RUMOR_NODE_STRONG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "node/net_int.h"

/* Bounds of what peers' PREPAREs may hold here (beyond: a no vote,
 * WIRE_REFUSE_BUSY); the node's own writes count too. */
#define STRONG_INTENTS_MAX 1024u
#define STRONG_INTENT_BYTES_MAX ((size_t)64u << 20)
#define STRONG_MSG_MAX 200
/* Transactions a participant gave up on (aborted on silence) that it
 * still recognises when their COMMIT comes late. */
#define STRONG_GAVE_UP_MAX 64u

enum strong_role { STRONG_COORD = 1, STRONG_PART = 2 };

/* What a transaction waits for; its one timer acts by state. */
enum strong_state {
	TX_STARTING = 1,     /* coordinator: its first loop turn */
	TX_PREPARING,        /* coordinator: PREPAREs out, votes coming */
	TX_COMMITTING,       /* coordinator: committed here, COMMITTEDs coming */
	TX_PREPARED,         /* participant: intent held, undecided */
	TX_ASKING,           /* participant: ASKed the others */
	TX_DONE,             /* coordinator: result known, cb on the next turn */
	TX_BACKOFF,          /* coordinator: an attempt lost a lock race or its
			      * votes, nothing held; the next starts from the
			      * timer */
	TX_SYNCING,          /* coordinator: keys locked, its intent waits for
			      * the turn's group sync (strong_sync.c) */
};

/* The coordinator's view of one participant. */
enum strong_mark {
	MARK_DOWN = 0,       /* not reachable, or gone: counts as no */
	MARK_SENT,           /* PREPARE sent, no vote yet */
	MARK_YES,
	MARK_NO,
	MARK_COMMIT_SENT,    /* COMMIT sent, not confirmed */
	MARK_COMMITTED,
};

struct strong_op {
	uint32_t index;      /* in the whole write */
	int del;
	uint8_t *key;        /* malloc'd, key and value in one block */
	size_t key_len;
	uint8_t *value;      /* NULL when deleted */
	size_t value_len;
};

struct strong_tx {
	struct rumor *n;
	uint8_t txid[WIRE_TXID_BYTES];
	int role;
	int state;
	uint8_t coordinator[RUMOR_NODE_ID_BYTES];
	uint8_t *parts;              /* n_parts x RUMOR_NODE_ID_BYTES */
	size_t n_parts;
	struct strong_op *ops;       /* the ops held here */
	size_t n_ops;
	size_t n_ops_total;          /* ops of the whole write */
	size_t bytes;                /* key and value bytes held */
	int held;                    /* counted in n_intents, keys locked */
	struct io_timer *timer;
	/* strong_sync.c: queued for the group sync (1), in the group being
	 * written (2), else 0; the intent's deadline (wall ms) */
	int syncing;
	struct strong_tx *sync_next;
	uint64_t intent_deadline_ms;
	/* participant: the clocks its yes vote carries (n_ops_total) */
	uint64_t *vote_clocks;
	/* coordinator */
	uint8_t *marks;              /* enum strong_mark per participant */
	uint64_t *clock_max;         /* per op: highest clock voted */
	size_t quorum;
	uint64_t deadline_ms;        /* io_now_ms: no attempt starts after */
	unsigned attempts;           /* attempts started */
	int conflict;                /* this attempt met a lock (a no vote) */
	int resent;                  /* COMMIT sent again (half the bound) */
	rumor_strong_cb cb;
	void *cb_arg;
	int result;
	char msg[STRONG_MSG_MAX];
	/* committed (coordinator: its commit; answers to ASK) */
	uint64_t first_seq, wall_ms;
	uint64_t *clocks;
	struct strong_tx *next;
};

struct strong {
	struct rumor *n;
	int (*step)(void *arg, const char *step);
	void *step_arg;
	char fault_step[48];         /* RUMOR_TEST_FAULT */
	unsigned long fault_at, fault_seen;
	int dead;                    /* a fault step stopped it */
	struct strong_tx *txs;
	size_t n_intents;
	size_t intent_bytes;
	uint64_t committed, aborted, prepared, recovered, late;
	/* ring of the last txids given up on (strong_part.c) */
	uint8_t gave_up[STRONG_GAVE_UP_MAX][WIRE_TXID_BYTES];
	size_t gave_up_next, gave_up_n;
	/* intents queued for the group sync (strong_sync.c) */
	struct strong_tx *sync_head;
	struct io_timer *sync_timer;
};

/* ---- strong.c */
/* Nonzero when the process is to die at step (RUMOR_TEST_FAULT exits
 * here; node_env.strong_step returning nonzero marks the node dead:
 * from then on it sends and stores nothing more for strong writes). */
int strong_step(struct strong *s, const char *step);
/* Sends a strong message of type to p; 0 or a negative code. */
int strong_send(struct rumor *n, struct peer *p, enum wire_type type,
		const struct wire_strong *m);
/* First-hand members of the table (participants but this node). */
size_t strong_member_count(struct rumor *n);
/* The open peer with id that takes part in strong writes, or NULL. */
struct peer *strong_peer(struct rumor *n, const uint8_t *id);
/* The transaction txid of role (0: any), or NULL. */
struct strong_tx *strong_find(struct strong *s, const uint8_t *txid,
			      int role);
/* Unlinks tx, releases what it holds and frees it (its cb is not
 * called). */
void strong_tx_free(struct strong *s, struct strong_tx *tx);
/* Releases tx's locks and its count of intents (once). */
void strong_release(struct strong *s, struct strong_tx *tx);
/* The participant index of id in tx, or 0 (self, never a sender). */
size_t strong_part_index(const struct strong_tx *tx, const uint8_t *id);
/* The coordinator's handlers. */
void strong_on_vote(struct peer *p, const struct wire_strong *m);
void strong_on_committed(struct peer *p, const struct wire_strong *m);
void strong_coord_timer(struct strong_tx *tx);
/* The coordinator's intent is durable: PREPAREs go out. */
void strong_coord_synced(struct strong_tx *tx);
/* Its intent could not be stored: the write fails with err. */
void strong_coord_sync_failed(struct strong_tx *tx, const struct err *err);
void strong_coord_peer_closed(struct strong *s, const uint8_t *id);

/* ---- strong_late.c */
/* Whether tx is a coordinator's transaction committed here (its
 * versions, first_seq and clocks, known). */
int strong_coord_committed(const struct strong_tx *tx);
/* A VOTE for a transaction of this node that is no longer preparing:
 * the decision, if this node knows it, goes to the voter. 0 when txid
 * is known here, -1 when not (the caller refuses it). */
int strong_late_vote(struct peer *p, const struct wire_strong *m);
/* Whether this node keeps the outcome "committed" for txid. */
int strong_late_committed(struct rumor *n, const uint8_t *txid);

/* ---- strong_part.c */
/* Nonzero when a key of tx's ops, or key, is held by another
 * transaction. */
int strong_locked(struct strong *s, const void *key, size_t len,
		  const struct strong_tx *except);
void strong_on_prepare(struct peer *p, const struct wire_strong *m);
void strong_on_commit(struct peer *p, const struct wire_strong *m);
void strong_on_abort(struct peer *p, const struct wire_strong *m);
void strong_on_ask(struct peer *p, const struct wire_strong *m);
void strong_on_answer(struct peer *p, const struct wire_strong *m);
void strong_part_timer(struct strong_tx *tx);
/* At open: every stored intent becomes a participant transaction that
 * recovers (asks) after the strong timeout. */
int strong_recover_open(struct strong *s, struct err *err);
/* A new transaction of role with its ops copied (ops of the whole
 * write; keep says which to hold, NULL: all). NULL when out of memory. */
struct strong_tx *strong_tx_new(struct strong *s, int role,
				const uint8_t *txid, const struct wire_op *ops,
				size_t n_ops, const int *keep);
/* The participant's intent is durable: its yes vote goes out. */
void strong_part_synced(struct strong_tx *tx);
/* Its intent could not be stored: a no vote, tx freed. */
void strong_part_sync_failed(struct strong_tx *tx, const struct err *err);

/* ---- strong_sync.c */
/* Locks tx's keys and counts its intent now, and queues the intent
 * (deadline_ms: wall ms) for the group sync at the end of this loop
 * turn, after which tx goes on (strong_*_synced). */
void strong_queue_intent(struct strong *s, struct strong_tx *tx,
			 uint64_t deadline_ms);
/* Takes tx out of the queue (it ends before its intent was written). */
void strong_sync_unlink(struct strong *s, struct strong_tx *tx);
int strong_sync_open(struct strong *s);
void strong_sync_close(struct strong *s);

/* ---- for node.c, node_open.c, peer.c (also declared in node.h) */
#endif
