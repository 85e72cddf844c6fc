/* SPDX-License-Identifier: MIT */
/*
 * strong_sync: intents are made durable in groups. A PREPARE (and a
 * coordinator's own attempt) locks its keys and queues its intent at
 * once; at the end of the loop turn (a 0 ms timer, so after every
 * message read in this turn) one synced WriteBatch stores every intent
 * queued, and only then does each one go on: a participant sends its
 * yes vote, a coordinator its PREPAREs. So the promise of a yes vote
 * (its intent survives a crash of this machine) holds for each vote,
 * and concurrent strong writes share an fsync instead of one each.
 * A transaction that ends while queued (an ABORT in the same turn, the
 * node closing) leaves the queue and is never written.
 */
#include <stdlib.h>
#include <string.h>

#include "rumor.h"
#include "node/node.h"
#include "node/strong_int.h"

/* The stored form of tx's intent (ops: n_ops entries, the caller's). */
static void intent_of(const struct strong_tx *tx, struct store_intent *in,
		      struct store_intent_op *ops)
{
	size_t i;

	for (i = 0; i < tx->n_ops; i++) {
		ops[i].index = tx->ops[i].index;
		ops[i].del = tx->ops[i].del;
		ops[i].key = tx->ops[i].key;
		ops[i].key_len = tx->ops[i].key_len;
		ops[i].value = tx->ops[i].value;
		ops[i].value_len = tx->ops[i].value_len;
	}
	memcpy(in->txid, tx->txid, WIRE_TXID_BYTES);
	memcpy(in->coordinator, tx->coordinator, RUMOR_NODE_ID_BYTES);
	in->deadline_ms = tx->intent_deadline_ms;
	in->participants = tx->parts;
	in->n_participants = tx->n_parts;
	in->ops = ops;
	in->n_ops = tx->n_ops;
}

void strong_queue_intent(struct strong *s, struct strong_tx *tx,
			 uint64_t deadline_ms)
{
	struct strong_tx **pp;

	tx->intent_deadline_ms = deadline_ms;
	tx->held = 1;
	s->n_intents++;
	s->intent_bytes += tx->bytes;
	tx->syncing = 1;
	tx->sync_next = NULL;
	for (pp = &s->sync_head; *pp != NULL; pp = &(*pp)->sync_next)
		;
	*pp = tx;
	io_timer_start(s->sync_timer, 0, 0);
}

void strong_sync_unlink(struct strong *s, struct strong_tx *tx)
{
	struct strong_tx **pp;

	if (!tx->syncing)
		return;
	for (pp = &s->sync_head; *pp != NULL; pp = &(*pp)->sync_next)
		if (*pp == tx) {
			*pp = tx->sync_next;
			break;
		}
	tx->syncing = 0;
	tx->sync_next = NULL;
}

/* Writes the first n queued intents in one synced batch; they are
 * marked 2 (this group) first, whatever the outcome. */
static int write_group(struct strong *s, size_t n, struct err *err)
{
	struct store_intent *ins;
	struct store_intent_op **ops;
	struct strong_tx *tx;
	size_t i;
	int rv = 0;

	for (tx = s->sync_head, i = 0; i < n; tx = tx->sync_next, i++)
		tx->syncing = 2;
	ins = calloc(n, sizeof *ins);
	ops = calloc(n, sizeof *ops);
	if (ins == NULL || ops == NULL)
		rv = err_set(err, RUMOR_ENOMEM, "out of memory");
	for (tx = s->sync_head, i = 0; rv == 0 && i < n;
	     tx = tx->sync_next, i++) {
		ops[i] = calloc(tx->n_ops > 0 ? tx->n_ops : 1, sizeof **ops);
		if (ops[i] == NULL)
			rv = err_set(err, RUMOR_ENOMEM, "out of memory");
		else
			intent_of(tx, &ins[i], ops[i]);
	}
	if (rv == 0)
		rv = store_intents_put(s->n->store, ins, n, err);
	for (i = 0; ops != NULL && i < n; i++)
		free(ops[i]);
	free(ops);
	free(ins);
	return rv;
}

/* The end of the turn: every queued intent durable in one batch, then
 * each goes on (strong_part_synced, strong_coord_synced) in the order
 * queued. A group refused for a reason one intent may carry (not the
 * store's I/O) is written one intent per turn instead, so that one bad
 * intent does not fail the others. */
static void sync_cb(struct io_timer *t)
{
	struct strong *s = t->data;
	struct strong_tx *tx;
	struct err err;
	size_t n = 0;
	int rv;

	if (s->dead)
		return;
	for (tx = s->sync_head; tx != NULL; tx = tx->sync_next)
		n++;
	if (n == 0)
		return;
	err_clear(&err);
	rv = write_group(s, n, &err);
	if (rv != 0 && rv != RUMOR_EIO && n > 1) {
		for (tx = s->sync_head; tx != NULL; tx = tx->sync_next)
			tx->syncing = 1;
		err_clear(&err);
		rv = write_group(s, 1, &err);
		io_timer_start(s->sync_timer, 0, 0);   /* the rest next */
	}
	while ((tx = s->sync_head) != NULL && tx->syncing == 2) {
		s->sync_head = tx->sync_next;
		tx->sync_next = NULL;
		tx->syncing = 0;
		if (rv != 0 && tx->role == STRONG_COORD) {
			strong_coord_sync_failed(tx, &err);
			continue;
		}
		if (rv != 0) {
			strong_part_sync_failed(tx, &err);
			continue;
		}
		s->prepared++;
		if (tx->role == STRONG_COORD)
			strong_coord_synced(tx);
		else
			strong_part_synced(tx);
		if (s->dead)
			return;
	}
}

int strong_sync_open(struct strong *s)
{
	s->sync_timer = io_timer_new(s->n->io, sync_cb, s);
	return s->sync_timer != NULL ? 0 : -1;
}

void strong_sync_close(struct strong *s)
{
	io_timer_free(s->sync_timer);
	s->sync_timer = NULL;
}
