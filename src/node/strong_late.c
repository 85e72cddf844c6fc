/* SPDX-License-Identifier: MIT */
/*
 * strong_late: what a coordinator answers to messages about one of its
 * transactions after it decided: a yes vote that came after the quorum
 * (or after the attempt aborted) gets the decision at once, from the
 * commit in memory or the kept outcome, instead of leaving the voter's
 * keys locked until its recovery asks; a COMMITTED after the result is
 * not a refusal. Only a decision this node knows is ever sent.
 */
#include <stdlib.h>
#include <string.h>

#include "rumor.h"
#include "node/node.h"
#include "node/strong_int.h"

int strong_coord_committed(const struct strong_tx *tx)
{
	return tx->role == STRONG_COORD && tx->clocks != NULL &&
	       tx->first_seq != 0 &&
	       (tx->state == TX_COMMITTING || tx->state == TX_DONE);
}

/* A vote for a transaction this node coordinated that is no longer
 * preparing: with a quorum below all the coordinator commits on the
 * first Q yes votes, and an attempt ends at its first decisive no, so a
 * yes voter may be left holding its intent (its keys locked) until its
 * own recovery ASKs (about 2 T). It gets the decision now, but only one
 * this node knows: the commit in memory (TX_COMMITTING: the voter is
 * then counted as a COMMIT sent, so its COMMITTED counts toward the
 * quorum) or after it (TX_DONE), else the kept outcome: committed ->
 * COMMIT with the same versions, aborted (this attempt, or an earlier
 * attempt of a retried write, whose txid is no longer in memory) ->
 * ABORT. Nothing kept (an outcome dropped from the ring, a commit that
 * failed here with nothing recorded): no answer, the voter's ASK stays
 * the path. A late no vote holds nothing there: nothing to send.
 * A VOTE goes to the sender of the PREPARE, the coordinator, so an
 * outcome kept here is this node's decision; one this node kept as a
 * participant would only answer a peer that votes to the wrong node,
 * and a participant takes COMMIT and ABORT from its coordinator only.
 * Returns 0 when txid is known here, -1 when not (a refusal). */
int strong_late_vote(struct peer *p, const struct wire_strong *m)
{
	struct rumor *n = p->net->n;
	struct strong_tx *tx = strong_find(n->strong, m->txid, STRONG_COORD);
	struct wire_strong c = {.txid = m->txid};
	struct store_tx_outcome oc = {0};
	struct err err;
	size_t i;
	int rv;

	i = tx != NULL ? strong_part_index(tx, p->id) : 0;
	if (tx != NULL && i == 0)
		return -1;   /* not asked: tx has no such participant */
	if (tx != NULL && strong_coord_committed(tx)) {
		if (!m->yes)
			return 0;
		c.first_seq = tx->first_seq;
		c.wall_ms = tx->wall_ms;
		c.clocks = tx->clocks;
		c.n_clocks = tx->n_ops;
		if (strong_send(n, p, WIRE_COMMIT, &c) == 0 &&
		    tx->state == TX_COMMITTING && tx->marks[i] == MARK_SENT)
			tx->marks[i] = MARK_COMMIT_SENT;
		node_log(n, RUMOR_LOG_DEBUG,
			 "strong: a yes vote from %.8s after the commit: COMMIT sent",
			 p->id_str);
		return 0;
	}
	err_clear(&err);
	rv = store_outcome_get(n->store, m->txid, &oc, &err);
	if (rv != 0) {
		if (rv != RUMOR_ENOTFOUND)
			node_log(n, RUMOR_LOG_WARN,
				 "strong: a late vote: reading the outcome: %s",
				 err.msg);
		return tx != NULL ? 0 : -1;
	}
	if (m->yes && oc.state == STORE_TX_COMMITTED && oc.first_seq != 0 &&
	    oc.clocks != NULL) {
		c.first_seq = oc.first_seq;
		c.wall_ms = oc.wall_ms;
		c.clocks = oc.clocks;
		c.n_clocks = oc.n_clocks;
		(void)strong_send(n, p, WIRE_COMMIT, &c);
		node_log(n, RUMOR_LOG_DEBUG,
			 "strong: a yes vote from %.8s after the commit: COMMIT sent (kept outcome)",
			 p->id_str);
	} else if (m->yes && oc.state == STORE_TX_ABORTED) {
		(void)strong_send(n, p, WIRE_ABORT, &c);
		node_log(n, RUMOR_LOG_DEBUG,
			 "strong: a yes vote from %.8s after the abort: ABORT sent",
			 p->id_str);
	}
	free((void *)oc.clocks);
	return 0;
}

/* Whether this node keeps the outcome "committed" for txid. */
int strong_late_committed(struct rumor *n, const uint8_t *txid)
{
	struct store_tx_outcome oc = {0};
	struct err err;
	int committed;

	err_clear(&err);
	if (store_outcome_get(n->store, txid, &oc, &err) != 0)
		return 0;
	committed = oc.state == STORE_TX_COMMITTED;
	free((void *)oc.clocks);
	return committed;
}
