/* SPDX-License-Identifier: MIT */
/*
 * strong_part: a participant of strong writes: PREPARE stores a durable
 * intent and locks its keys, COMMIT applies it as ordinary versions,
 * ABORT drops it; an intent left undecided asks the other participants
 * (ASK/ANSWER) and resolves; every node answers ASKs from its
 * transactions in flight and its kept outcomes. Also the lock table and
 * the intents recovered at open.
 */
#include <stdlib.h>
#include <string.h>

#include "rumor.h"
#include "node/node.h"
#include "node/strong_int.h"

/* ------------------------------------------------------------ locks */

/* Linear in the keys held: a node holds at most STRONG_INTENTS_MAX
 * intents, and a node with none pays one comparison (node_key_locked). */
int strong_locked(struct strong *s, const void *key, size_t len,
		  const struct strong_tx *except)
{
	const struct strong_tx *tx;
	size_t i;

	for (tx = s->txs; tx != NULL; tx = tx->next) {
		if (!tx->held || tx == except)
			continue;
		for (i = 0; i < tx->n_ops; i++)
			if (tx->ops[i].key_len == len &&
			    memcmp(tx->ops[i].key, key, len) == 0)
				return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ resolution */

static void part_vote_no(struct peer *p, const uint8_t *txid, int reason)
{
	struct wire_strong v = {.txid = txid, .yes = 0,
				.reason = (uint64_t)reason};

	(void)strong_send(p->net->n, p, WIRE_VOTE, &v);
}

/* Applies the committed versions of tx (fields of COMMIT or of a
 * COMMITTED answer) with the intent's end in one batch, then frees tx.
 * 0, or the store's error (tx kept: recovery tries again). */
static int part_apply(struct strong_tx *tx, uint64_t first_seq,
		      uint64_t wall_ms, const uint64_t *clocks,
		      size_t n_clocks)
{
	struct rumor *n = tx->n;
	struct strong *s = n->strong;
	struct store_tx_outcome oc = {STORE_TX_COMMITTED, first_seq, wall_ms,
				      clocks, n_clocks};
	struct rumor_version *vs;
	struct err err;
	size_t i;
	int rv;

	vs = calloc(tx->n_ops > 0 ? tx->n_ops : 1, sizeof *vs);
	if (vs == NULL)
		return RUMOR_ENOMEM;
	for (i = 0; i < tx->n_ops; i++) {
		const struct strong_op *o = &tx->ops[i];

		vs[i].key = o->key;
		vs[i].key_len = o->key_len;
		vs[i].deleted = o->del;
		vs[i].value = o->del ? NULL : (o->value != NULL ? o->value :
					       (const void *)"");
		vs[i].value_len = o->value_len;
		vs[i].clock = clocks[o->index];
		vs[i].wall_ms = wall_ms;
		vs[i].origin = tx->coordinator;
		vs[i].origin_len = RUMOR_NODE_ID_BYTES;
		vs[i].seq = first_seq + o->index;
	}
	err_clear(&err);
	rv = store_intent_commit_remote(n->store, tx->txid, vs, tx->n_ops, &oc,
					NULL, &err);
	free(vs);
	if (rv != 0) {
		node_log(n, RUMOR_LOG_ERROR, "strong: applying a commit: %s",
			 err.msg);
		return rv;
	}
	strong_tx_free(s, tx);
	return 0;
}

static void part_drop(struct strong_tx *tx)
{
	struct rumor *n = tx->n;
	struct err err;

	err_clear(&err);
	if (store_intent_abort(n->store, tx->txid, &err) != 0) {
		node_log(n, RUMOR_LOG_ERROR, "strong: dropping an intent: %s",
			 err.msg);
		return;
	}
	strong_tx_free(n->strong, tx);
}

/* The participant gave up waiting (no participant knew of a commit):
 * the intent goes but no outcome is recorded, since the coordinator may
 * have committed (its COMMIT lost, every node that got one silent). An
 * ASK about it is then answered "unknown", never "aborted" (which the
 * asker would take as final), and its COMMIT, if it comes late, is
 * recognised (part_gave_up). */
static void part_give_up(struct strong_tx *tx)
{
	struct rumor *n = tx->n;
	struct strong *s = n->strong;
	struct err err;

	err_clear(&err);
	if (store_intent_drop(n->store, tx->txid, &err) != 0) {
		node_log(n, RUMOR_LOG_ERROR, "strong: dropping an intent: %s",
			 err.msg);
		return;
	}
	memcpy(s->gave_up[s->gave_up_next], tx->txid, WIRE_TXID_BYTES);
	s->gave_up_next = (s->gave_up_next + 1) % STRONG_GAVE_UP_MAX;
	if (s->gave_up_n < STRONG_GAVE_UP_MAX)
		s->gave_up_n++;
	strong_tx_free(s, tx);
}

static int part_gave_up(const struct strong *s, const uint8_t *txid)
{
	size_t i;

	for (i = 0; i < s->gave_up_n; i++)
		if (memcmp(s->gave_up[i], txid, WIRE_TXID_BYTES) == 0)
			return 1;
	return 0;
}

/* A COMMIT for a transaction this node no longer holds (it gave up, or
 * was told to abort): its versions are not applied from the COMMIT (the
 * intent and its ops are gone, and a version applied now could be older
 * than what the key holds since), they come by gossip; a round with the
 * coordinator starts now, so that the window in which this node reads
 * the old value closes within a round trip rather than at the next
 * scheduled round. */
static void part_pull(struct peer *p)
{
	if (p->sync != NULL && sync_session_busy(p->sync))
		p->want_round = 1;
	else
		peer_start_round(p);
}

static void part_late_commit(struct peer *p)
{
	struct strong *s = p->net->n->strong;

	s->late++;
	node_log(p->net->n, RUMOR_LOG_WARN,
		 "strong: a COMMIT from %.8s after this node dropped the intent; pulling its versions from it now",
		 p->id_str);
	part_pull(p);
}

/* ------------------------------------------------------------ handlers */

static int has_id(const uint8_t *ids, size_t n, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(ids + i * RUMOR_NODE_ID_BYTES, id,
			   RUMOR_NODE_ID_BYTES) == 0)
			return 1;
	return 0;
}

/* Whether txid ended here (an outcome kept). */
static int part_ended(struct rumor *n, const uint8_t *txid,
		      struct store_tx_outcome *oc)
{
	struct err err;

	err_clear(&err);
	oc->clocks = NULL;
	return store_outcome_get(n->store, txid, oc, &err) == 0;
}

/* The per-op clocks a yes vote carries: the clock of each key held
 * here (0: none, or outside this node's replicate set). */
static int part_clocks(struct rumor *n, const struct wire_strong *m,
		       const int *keep, uint64_t *clocks)
{
	struct store_record *rec;
	struct err err;
	size_t i;
	int rv;

	for (i = 0; i < m->n_ops; i++) {
		clocks[i] = 0;
		if (!keep[i])
			continue;
		err_clear(&err);
		rv = store_get_version(n->store, m->ops[i].key,
				       m->ops[i].key_len, &rec, &err);
		if (rv == RUMOR_ENOTFOUND)
			continue;
		if (rv != 0)
			return rv;
		clocks[i] = rec->v.clock;
		store_record_free(rec);
	}
	return 0;
}

/* PREPARE: bounded, checked, then its keys are locked and its intent
 * queued for this turn's group sync; the yes vote leaves only once the
 * intent is durable (strong_part_synced). */
void strong_on_prepare(struct peer *p, const struct wire_strong *m)
{
	struct rumor *n = p->net->n;
	struct strong *s = n->strong;
	struct store_tx_outcome oc;
	struct strong_tx *tx;
	uint64_t *clocks = NULL;
	int *keep = NULL;
	size_t i, bytes = 0;
	/* The sender's ttl, but never beyond this node's own bound: a
	 * PREPARE cannot hold a key here longer than our timeouts say. */
	uint64_t ttl = m->ttl_ms < n->opt.strong_timeout_ms ? m->ttl_ms :
		       n->opt.strong_timeout_ms;

	if (!has_id(m->participants, m->n_participants, n->id.public_key) ||
	    !has_id(m->participants, m->n_participants, p->id) ||
	    m->n_ops == 0) {
		net_refuse(p->net, REFUSE_STRONG_BAD,
			   "peer %.8s: a PREPARE whose participants lack it or us",
			   p->id_str);
		part_vote_no(p, m->txid, WIRE_REFUSE_MODE);
		return;
	}
	if (part_gave_up(s, m->txid)) {
		part_vote_no(p, m->txid, WIRE_REFUSE_LATE);
		return;
	}
	if (strong_find(s, m->txid, 0) != NULL || part_ended(n, m->txid, &oc)) {
		if (strong_find(s, m->txid, 0) == NULL)
			free((void *)oc.clocks);
		part_vote_no(p, m->txid, WIRE_REFUSE_LATE);
		return;
	}
	for (i = 0; i < m->n_ops; i++)
		bytes += m->ops[i].key_len + m->ops[i].value_len;
	if (s->n_intents >= STRONG_INTENTS_MAX ||
	    s->intent_bytes + bytes > STRONG_INTENT_BYTES_MAX) {
		net_refuse(p->net, REFUSE_STRONG_BUSY,
			   "peer %.8s: a PREPARE over the intent bounds (%zu held)",
			   p->id_str, s->n_intents);
		part_vote_no(p, m->txid, WIRE_REFUSE_BUSY);
		return;
	}
	keep = calloc(m->n_ops, sizeof *keep);
	clocks = calloc(m->n_ops, sizeof *clocks);
	if (keep == NULL || clocks == NULL)
		goto refuse_store;
	/* A partial node holds (stores, locks) only its replicate set. */
	for (i = 0; i < m->n_ops; i++) {
		keep[i] = prefixes_match(&n->repl, m->ops[i].key,
					 m->ops[i].key_len);
		if (keep[i] && strong_locked(s, m->ops[i].key,
					     m->ops[i].key_len, NULL)) {
			free(keep);
			free(clocks);
			part_vote_no(p, m->txid, WIRE_REFUSE_LOCKED);
			return;
		}
	}
	if (part_clocks(n, m, keep, clocks) != 0)
		goto refuse_store;
	tx = strong_tx_new(s, STRONG_PART, m->txid, m->ops, m->n_ops, keep);
	if (tx == NULL)
		goto refuse_store;
	memcpy(tx->coordinator, p->id, RUMOR_NODE_ID_BYTES);
	tx->parts = malloc(m->n_participants * RUMOR_NODE_ID_BYTES);
	if (tx->parts == NULL) {
		strong_tx_free(s, tx);
		goto refuse_store;
	}
	memcpy(tx->parts, m->participants,
	       m->n_participants * RUMOR_NODE_ID_BYTES);
	tx->n_parts = m->n_participants;
	tx->state = TX_PREPARED;
	tx->vote_clocks = clocks;
	free(keep);
	/* Undecided after its ttl and one more timeout: ask. */
	io_timer_start(tx->timer, ttl + n->opt.strong_timeout_ms, 0);
	/* The yes vote leaves once the intent is durable (this turn's
	 * group sync: strong_part_synced). */
	strong_queue_intent(s, tx, node_wall_ms(n) + ttl);
	return;

refuse_store:
	free(keep);
	free(clocks);
	part_vote_no(p, m->txid, WIRE_REFUSE_STORE);
}

void strong_part_synced(struct strong_tx *tx)
{
	struct rumor *n = tx->n;
	struct wire_strong v = {.txid = tx->txid, .yes = 1,
				.clocks = tx->vote_clocks,
				.n_clocks = tx->n_ops_total};

	if (strong_step(n->strong, "part-prepared"))
		return;
	(void)strong_send(n, strong_peer(n, tx->coordinator), WIRE_VOTE, &v);
}

void strong_part_sync_failed(struct strong_tx *tx, const struct err *err)
{
	struct rumor *n = tx->n;
	struct peer *p = strong_peer(n, tx->coordinator);
	uint8_t txid[WIRE_TXID_BYTES];

	node_log(n, RUMOR_LOG_ERROR, "strong: storing an intent: %s",
		 err->msg);
	memcpy(txid, tx->txid, sizeof txid);
	strong_tx_free(n->strong, tx);
	if (p != NULL)
		part_vote_no(p, txid, WIRE_REFUSE_STORE);
}

static void part_send_committed(struct rumor *n, struct peer *p,
				const uint8_t *txid)
{
	struct wire_strong c = {.txid = txid};

	(void)strong_send(n, p, WIRE_COMMITTED, &c);
}

/* COMMIT from the transaction's coordinator only. One for an intent
 * aborted here already is late: its versions come by gossip. */
void strong_on_commit(struct peer *p, const struct wire_strong *m)
{
	struct rumor *n = p->net->n;
	struct strong *s = n->strong;
	struct strong_tx *tx = strong_find(s, m->txid, STRONG_PART);
	struct store_tx_outcome oc;

	if (tx == NULL) {
		if (part_gave_up(s, m->txid)) {
			part_late_commit(p);
			return;
		}
		if (!part_ended(n, m->txid, &oc)) {
			net_refuse(p->net, REFUSE_STRONG_UNKNOWN,
				   "peer %.8s: a COMMIT for an unknown transaction",
				   p->id_str);
			return;
		}
		free((void *)oc.clocks);
		if (oc.state == STORE_TX_ABORTED) {
			part_late_commit(p);
			return;
		}
		part_send_committed(n, p, m->txid);
		return;
	}
	if (memcmp(tx->coordinator, p->id, RUMOR_NODE_ID_BYTES) != 0) {
		net_refuse(p->net, REFUSE_STRONG_SENDER,
			   "peer %.8s: a COMMIT from a node that is not the coordinator",
			   p->id_str);
		return;
	}
	if (m->n_clocks < tx->n_ops_total || m->first_seq == 0) {
		net_refuse(p->net, REFUSE_STRONG_BAD,
			   "peer %.8s: a COMMIT whose clocks do not match its ops",
			   p->id_str);
		return;
	}
	if (part_apply(tx, m->first_seq, m->wall_ms, m->clocks,
		       m->n_clocks) != 0)
		return;
	if (strong_step(s, "part-committed"))
		return;
	part_send_committed(n, p, m->txid);
}

void strong_on_abort(struct peer *p, const struct wire_strong *m)
{
	struct rumor *n = p->net->n;
	struct strong_tx *tx = strong_find(n->strong, m->txid, STRONG_PART);
	struct store_tx_outcome oc;

	if (tx == NULL) {
		if (part_ended(n, m->txid, &oc)) {
			free((void *)oc.clocks);
			return;
		}
		/* An ABORT after a no vote, or before the PREPARE was
		 * stored: nothing held. */
		return;
	}
	if (memcmp(tx->coordinator, p->id, RUMOR_NODE_ID_BYTES) != 0) {
		net_refuse(p->net, REFUSE_STRONG_SENDER,
			   "peer %.8s: an ABORT from a node that is not the coordinator",
			   p->id_str);
		return;
	}
	part_drop(tx);
}

/* ASK: what this node knows of txid, from memory first, then from the
 * kept outcomes. */
void strong_on_ask(struct peer *p, const struct wire_strong *m)
{
	struct rumor *n = p->net->n;
	struct strong_tx *tx = strong_find(n->strong, m->txid, 0);
	struct wire_strong a = {.txid = m->txid, .state = WIRE_TX_UNKNOWN};
	struct store_tx_outcome oc = {0};

	if (tx != NULL && strong_coord_committed(tx)) {
		a.state = WIRE_TX_COMMITTED;
		a.first_seq = tx->first_seq;
		a.wall_ms = tx->wall_ms;
		a.clocks = tx->clocks;
		a.n_clocks = tx->n_ops;
	} else if (tx != NULL && tx->held) {
		a.state = WIRE_TX_PREPARED;
	} else if (part_ended(n, m->txid, &oc)) {
		a.state = (uint64_t)oc.state;
		a.first_seq = oc.first_seq;
		a.wall_ms = oc.wall_ms;
		a.clocks = oc.clocks;
		a.n_clocks = oc.n_clocks;
	}
	(void)strong_send(n, p, WIRE_ANSWER, &a);
	free((void *)oc.clocks);
}

void strong_on_answer(struct peer *p, const struct wire_strong *m)
{
	struct rumor *n = p->net->n;
	struct strong *s = n->strong;
	struct strong_tx *tx = strong_find(s, m->txid, STRONG_PART);
	struct store_tx_outcome oc;

	if (tx == NULL && part_gave_up(s, m->txid)) {
		/* An answer after this node gave up: a commit it reports
		 * comes by gossip, from the sender now. */
		if (m->state == WIRE_TX_COMMITTED)
			part_pull(p);
		return;
	}
	if (tx == NULL && part_ended(n, m->txid, &oc)) {
		/* The others' answers after one resolved it: normal. */
		free((void *)oc.clocks);
		return;
	}
	if (tx == NULL || tx->state != TX_ASKING ||
	    !has_id(tx->parts, tx->n_parts, p->id)) {
		net_refuse(p->net, REFUSE_STRONG_UNKNOWN,
			   "peer %.8s: an ANSWER this node did not ask for",
			   p->id_str);
		return;
	}
	if (m->state == WIRE_TX_COMMITTED && m->n_clocks >= tx->n_ops_total &&
	    m->first_seq > 0) {
		if (part_apply(tx, m->first_seq, m->wall_ms, m->clocks,
			       m->n_clocks) == 0)
			s->recovered++;
	} else if (m->state == WIRE_TX_ABORTED) {
		part_drop(tx);
		s->recovered++;
	}
}

/* The participant's timer: undecided after ttl + timeout -> ASK every
 * other participant; no COMMITTED answer within one more timeout ->
 * abort. */
void strong_part_timer(struct strong_tx *tx)
{
	struct rumor *n = tx->n;
	struct strong *s = n->strong;
	struct wire_strong a = {.txid = tx->txid,
				.coordinator = tx->coordinator};
	size_t i;

	if (tx->state == TX_ASKING) {
		node_log(n, RUMOR_LOG_WARN,
			 "strong: no participant knew of a commit; the intent is given up (a late commit comes by gossip)");
		part_give_up(tx);
		s->recovered++;
		return;
	}
	tx->state = TX_ASKING;
	for (i = 0; i < tx->n_parts; i++) {
		const uint8_t *id = tx->parts + i * RUMOR_NODE_ID_BYTES;

		if (memcmp(id, n->id.public_key, RUMOR_NODE_ID_BYTES) == 0)
			continue;
		(void)strong_send(n, strong_peer(n, id), WIRE_ASK, &a);
	}
	io_timer_start(tx->timer, n->opt.strong_timeout_ms, 0);
}

/* ------------------------------------------------------------ at open */

static int recover_one(void *arg, const struct store_intent *in)
{
	struct strong *s = arg;
	struct rumor *n = s->n;
	struct strong_tx *tx;
	struct wire_op *wops;
	uint64_t now, wait;
	size_t i, total = 0;

	for (i = 0; i < in->n_ops; i++)
		if (in->ops[i].index + 1 > total)
			total = in->ops[i].index + 1;
	wops = calloc(in->n_ops > 0 ? in->n_ops : 1, sizeof *wops);
	if (wops == NULL)
		return -1;
	for (i = 0; i < in->n_ops; i++) {
		wops[i].deleted = in->ops[i].del;
		wops[i].key = in->ops[i].key;
		wops[i].key_len = in->ops[i].key_len;
		wops[i].value = in->ops[i].value;
		wops[i].value_len = in->ops[i].value_len;
	}
	tx = strong_tx_new(s, STRONG_PART, in->txid, wops, in->n_ops, NULL);
	free(wops);
	if (tx == NULL)
		return -1;
	for (i = 0; i < in->n_ops; i++)
		tx->ops[i].index = in->ops[i].index;
	tx->parts = malloc(in->n_participants * RUMOR_NODE_ID_BYTES);
	if (tx->parts == NULL) {
		strong_tx_free(s, tx);
		return -1;
	}
	memcpy(tx->parts, in->participants,
	       in->n_participants * RUMOR_NODE_ID_BYTES);
	tx->n_parts = in->n_participants;
	memcpy(tx->coordinator, in->coordinator, RUMOR_NODE_ID_BYTES);
	/* The whole write's op count: a COMMIT carries one clock per op;
	 * a partial intent may not hold the last op, so the answer's count
	 * is only checked to cover the ops held. */
	tx->n_ops_total = total;
	tx->state = TX_PREPARED;
	tx->held = 1;
	s->n_intents++;
	s->intent_bytes += tx->bytes;
	now = node_wall_ms(n);
	wait = (in->deadline_ms > now ? in->deadline_ms - now : 0) +
	       n->opt.strong_timeout_ms;
	io_timer_start(tx->timer, wait, 0);
	node_log(n, RUMOR_LOG_INFO,
		 "strong: an intent of %zu ops is pending since before the restart; resolving it in %llu ms",
		 in->n_ops, (unsigned long long)wait);
	return 0;
}

int strong_recover_open(struct strong *s, struct err *err)
{
	int rv = store_intents_scan(s->n->store, recover_one, s, err);

	if (rv == 0 && s->n_intents != store_intents_count(s->n->store))
		return err_set(err, RUMOR_ENOMEM,
			       "out of memory recovering strong intents");
	return rv;
}
