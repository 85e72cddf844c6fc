/* SPDX-License-Identifier: MIT */
/*
 * strong: strong writes (two-phase commit with a quorum), the
 * coordinator's side, the public calls, readiness, the fault steps and
 * the dispatch of PREPARE..ANSWER; strong_part.c is the participant's
 * side (intents, locks, recovery). The protocol: README "Strong writes"
 * and the summary at each function.
 *
 * The blocking window two-phase commit cannot avoid: a participant that
 * voted yes holds its intent (its keys locked: reads RUMOR_ELOCKED in
 * strong consistency, gossip writes RUMOR_ELOCKED) until it hears COMMIT
 * or ABORT. If the coordinator dies in between, the participant waits
 * out the PREPARE's ttl (capped at its own strong timeout T) and one T
 * more, ASKs the other participants, and decides within one further T:
 * commit if anyone answers COMMITTED, give up otherwise. So a key stays
 * locked at most about 3 T after the PREPARE (T at open for an intent
 * found after a restart, plus what was left of its ttl). Giving up on
 * silence is a guess: the coordinator may have committed (its COMMIT
 * lost or slow, every participant that received one unreachable). So the
 * participant drops its intent without recording an outcome: an ASK about
 * it is answered "unknown", never "aborted" (only a coordinator's ABORT,
 * or an answer that passes one on, is final). A COMMIT that comes after
 * that is late (strong_late): its versions are not applied from it (the
 * ops went with the intent, and by then the key may hold something
 * newer, which the old version must not overwrite once a tombstone is
 * collected); the participant starts a round with the coordinator at
 * once, so gossip brings the version within a round trip, and nodes
 * converge; a read on that node in between may see the old value (with
 * quorum all such a write never returned 0, since this node never
 * confirmed it: its writer got RUMOR_ETIMEDOUT or no answer, and an
 * indeterminate write may take effect late).
 * With a quorum below all, the coordinator decides on the first Q yes
 * votes; a yes vote that comes after the decision gets it at once
 * (strong_late.c: COMMIT or ABORT from the commit in memory or the kept
 * outcome, nothing when this node does not know it), so that voter does
 * not hold its keys locked until it asks.
 * A tombstone of a key an intent holds is not collected until the intent
 * ends (sched.c): a yes vote that came after the quorum, or an intent
 * resolved by ASK, applies the write's version late, and it must still
 * lose to a newer tombstone the node got meanwhile.
 * Intents are made durable in groups (strong_sync.c): one synced batch
 * at the end of the loop turn for every intent queued in it; a yes vote
 * and a coordinator's PREPAREs leave only after their intent is stored.
 * With quorum Q below the member count, a write returns once Q nodes
 * committed; the others may miss it until gossip brings it (a read there
 * may be stale meanwhile).
 *
 * Racing coordinators: each locks the key here first, so each one's
 * PREPARE meets the other's lock and both attempts abort. An attempt
 * that lost a lock race (or whose votes went missing: a connection
 * replaced with messages in flight) aborts everywhere, releases its
 * locks and starts again with a new txid after a random backoff, until
 * the write's strong timeout from the call has passed: then the write
 * fails, RUMOR_ELOCKED when it was a lock. The backoffs differ, so one
 * write prepares everywhere first and the other, finding the key locked
 * on its own node, backs off again until the first committed: both go
 * through, one after the other. Each attempt is a whole two-phase
 * commit of its own (at most one commits: the next starts only after
 * the last aborted), and the cb fires once, with the last outcome.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "rumor.h"
#include "node/node.h"
#include "node/strong_int.h"

/* ------------------------------------------------------------ common */

int strong_step(struct strong *s, const char *step)
{
	if (s->dead)
		return 1;
	if (s->fault_step[0] != '\0' && strcmp(step, s->fault_step) == 0 &&
	    ++s->fault_seen == s->fault_at) {
		node_log(s->n, RUMOR_LOG_ERROR, "test fault: %s", step);
		fprintf(stderr, "test fault: %s\n", step);
		_exit(70);
	}
	if (s->step != NULL && s->step(s->step_arg, step) != 0) {
		node_log(s->n, RUMOR_LOG_ERROR, "test fault: %s (stopped)",
			 step);
		s->dead = 1;
		return 1;
	}
	return 0;
}

int strong_send(struct rumor *n, struct peer *p, enum wire_type type,
		const struct wire_strong *m)
{
	struct node_net *net = n->net;
	struct err err;
	int rv;

	if (net == NULL || p == NULL || p->closed)
		return RUMOR_ECLOSED;
	err_clear(&err);
	rv = wire_encode_strong(&net->out, type, m, &err);
	if (rv != 0) {
		node_log(n, RUMOR_LOG_WARN, "strong: cannot encode: %s",
			 err.msg);
		return rv;
	}
	return peer_send(p, &net->out);
}

struct peer *strong_peer(struct rumor *n, const uint8_t *id)
{
	struct peer *p;

	if (n->net == NULL)
		return NULL;
	p = peer_find_open(n->net, id, NULL);
	return p != NULL && p->hello && p->strong && !p->closed ? p : NULL;
}

struct strong_tx *strong_find(struct strong *s, const uint8_t *txid,
			      int role)
{
	struct strong_tx *tx;

	for (tx = s->txs; tx != NULL; tx = tx->next)
		if (memcmp(tx->txid, txid, WIRE_TXID_BYTES) == 0 &&
		    (role == 0 || tx->role == role))
			return tx;
	return NULL;
}

void strong_release(struct strong *s, struct strong_tx *tx)
{
	if (!tx->held)
		return;
	tx->held = 0;
	s->n_intents--;
	s->intent_bytes -= tx->bytes;
}

void strong_tx_free(struct strong *s, struct strong_tx *tx)
{
	struct strong_tx **pp;
	size_t i;

	for (pp = &s->txs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == tx) {
			*pp = tx->next;
			break;
		}
	strong_release(s, tx);
	strong_sync_unlink(s, tx);
	io_timer_free(tx->timer);
	for (i = 0; i < tx->n_ops; i++)
		free(tx->ops[i].key);
	free(tx->ops);
	free(tx->parts);
	free(tx->marks);
	free(tx->clock_max);
	free(tx->clocks);
	free(tx->vote_clocks);
	free(tx);
}

/* The members a strong write of this node asks: first-hand members of
 * the table (count only when out is NULL). */
static size_t strong_members(struct rumor *n, uint8_t *out)
{
	const struct member *m;
	size_t i, k = 0;

	if (n->net == NULL)
		return 0;
	for (i = 0; i < members_count(&n->net->members); i++) {
		m = members_at(&n->net->members, i);
		if (member_is_gossip_only(m) ||
		    memcmp(m->id, n->id.public_key, RUMOR_NODE_ID_BYTES) == 0)
			continue;
		if (out != NULL)
			memcpy(out + k * RUMOR_NODE_ID_BYTES, m->id,
			       RUMOR_NODE_ID_BYTES);
		k++;
	}
	return k;
}

size_t strong_member_count(struct rumor *n)
{
	return strong_members(n, NULL);
}

/* The quorum now: --quorum, or every participant (self included). */
static size_t strong_quorum(struct rumor *n)
{
	return n->opt.quorum > 0 ? n->opt.quorum : 1 + strong_members(n, NULL);
}

/* Participants reachable now, self included. */
static size_t strong_reachable(struct rumor *n)
{
	const struct member *m;
	size_t i, k = 1;

	if (n->net == NULL)
		return 1;
	for (i = 0; i < members_count(&n->net->members); i++) {
		m = members_at(&n->net->members, i);
		if (!member_is_gossip_only(m) && strong_peer(n, m->id) != NULL)
			k++;
	}
	return k;
}

static int strong_catching_up(struct rumor *n)
{
	return n->net != NULL && n->net->catching_up;
}

int node_catching_up(struct rumor *n)
{
	return strong_catching_up(n);
}

int rumor_ready(struct rumor *n)
{
	if (n == NULL || n->strong == NULL || n->closing)
		return 0;
	if (strong_catching_up(n))
		return 0;
	if (n->opt.consistency != RUMOR_CONSISTENCY_STRONG)
		return 1;
	return strong_reachable(n) >= strong_quorum(n);
}

int node_strong_status(struct rumor *n, struct node_strong_status *st)
{
	struct strong *s = n->strong;

	memset(st, 0, sizeof *st);
	st->consistency = n->opt.consistency;
	st->quorum = (uint32_t)strong_quorum(n);
	st->reachable = (uint32_t)strong_reachable(n);
	st->ready = rumor_ready(n);
	if (s != NULL) {
		st->committed = s->committed;
		st->aborted = s->aborted;
		st->prepared = s->prepared;
		st->pending = s->n_intents;
		st->recovered = s->recovered;
		st->late = s->late;
	}
	return 0;
}

void strong_fill_stats(struct rumor *n, struct rumor_stats *st)
{
	struct node_strong_status ss;

	node_strong_status(n, &ss);
	st->strong_committed = ss.committed;
	st->strong_aborted = ss.aborted;
	st->strong_prepared = ss.prepared;
	st->strong_pending = ss.pending;
	st->strong_recovered = ss.recovered;
	st->strong_late = ss.late;
	st->strong_quorum = n->opt.consistency == RUMOR_CONSISTENCY_STRONG ?
			    ss.quorum : 0;
	st->strong_reachable = ss.reachable;
}

int node_key_locked(struct rumor *n, const void *key, size_t len)
{
	return n->strong != NULL && n->strong->n_intents > 0 &&
	       strong_locked(n->strong, key, len, NULL);
}

/* ------------------------------------------------------------ coordinator */

/* The result is known: cb fires from the tx's timer on the next loop
 * turn, never from inside a handler that goes on using the node. */
static void coord_finish(struct strong_tx *tx, int result, const char *fmt,
			 ...) __attribute__((format(printf, 3, 4)));
static void coord_finish(struct strong_tx *tx, int result, const char *fmt,
			 ...)
{
	struct strong *s = tx->n->strong;
	va_list ap;

	strong_release(s, tx);
	tx->state = TX_DONE;
	tx->result = result;
	va_start(ap, fmt);
	vsnprintf(tx->msg, sizeof tx->msg, fmt, ap);
	va_end(ap);
	if (result != 0)
		s->aborted++;
	io_timer_start(tx->timer, 0, 0);
}

static void coord_deliver(struct strong_tx *tx)
{
	struct strong *s = tx->n->strong;
	rumor_strong_cb cb = tx->cb;
	void *arg = tx->cb_arg;
	int result = tx->result;
	char msg[STRONG_MSG_MAX];

	memcpy(msg, tx->msg, sizeof msg);
	strong_tx_free(s, tx);
	/* Last: the callback may close the node. */
	cb(arg, result, result == 0 ? NULL : msg);
}

/* Sends ABORT to every participant that got a PREPARE and drops the
 * own intent: nothing of this attempt is applied anywhere. */
static void coord_drop(struct strong_tx *tx)
{
	struct rumor *n = tx->n;
	struct wire_strong m = {.txid = tx->txid};
	struct err err;
	size_t i;

	for (i = 1; i < tx->n_parts; i++)
		if (tx->marks[i] != MARK_DOWN)
			(void)strong_send(n, strong_peer(n, tx->parts +
							 i * RUMOR_NODE_ID_BYTES),
					  WIRE_ABORT, &m);
	err_clear(&err);
	if (store_intent_abort(n->store, tx->txid, &err) != 0)
		node_log(n, RUMOR_LOG_ERROR,
			 "strong: dropping an aborted intent: %s (it is resolved at the next open)",
			 err.msg);
	strong_release(n->strong, tx);
}

/* Aborts the attempt (coord_drop) and fails the write with
 * RUMOR_EABORTED. */
static void coord_abort(struct strong_tx *tx, const char *why)
{
	coord_drop(tx);
	coord_finish(tx, RUMOR_EABORTED, "strong write aborted: %s", why);
}

/* The commit here failed (a store error): the batch is taken as not
 * written, so the participants are told to abort, but a store that
 * failed may still hold it after a restart (a sync that failed after the
 * write), which would then reach everyone by gossip: the outcome is not
 * known, and the cb never says RUMOR_EABORTED. */
static void coord_abort_unknown(struct strong_tx *tx, int code,
				const char *why)
{
	coord_abort(tx, why);
	tx->result = code == RUMOR_EABORTED ? RUMOR_EIO : code;
	snprintf(tx->msg, sizeof tx->msg,
		 "strong write: outcome unknown: the commit failed here: %.140s",
		 why);
}

/* The backoff before a write's next attempt after a lost lock race:
 * uniform in [1, w] ms, w = T/32 (4 to 64 ms) doubled with each attempt
 * up to T/2. Random (io_random: the simulator replays it), so that two
 * coordinators that met on a key come back at different times: the
 * first then prepares everywhere, the second finds the key locked and
 * waits again, and goes through once the first has committed. */
static uint64_t coord_backoff_ms(struct strong_tx *tx)
{
	uint64_t t = tx->n->opt.strong_timeout_ms;
	uint64_t w = t / 32;
	unsigned k;

	if (w < 4)
		w = 4;
	if (w > 64)
		w = 64;
	for (k = 1; k < tx->attempts && w < t / 2; k++)
		w *= 2;
	if (w > UINT32_MAX - 1)
		w = UINT32_MAX - 1;
	return 1 + io_random(tx->n->io, (uint32_t)w);
}

/* The attempt failed in a way the next one may not (a lost lock race:
 * a key locked here or a participant's no vote for a lock; votes
 * missing, as when a connection was replaced with messages in flight)
 * and holds nothing any more: the next attempt starts after a backoff,
 * no later than the write's deadline (its strong timeout after the
 * call). Past it, the write fails: RUMOR_ELOCKED after a lock race,
 * else RUMOR_EABORTED. Only the last attempt's outcome reaches the cb. */
static void coord_retry(struct strong_tx *tx, const char *why)
{
	uint64_t now = io_now_ms(tx->n->io), wait;

	strong_release(tx->n->strong, tx);
	if (now >= tx->deadline_ms && tx->conflict) {
		coord_finish(tx, RUMOR_ELOCKED,
			     "the key stayed locked by other strong writes for %u ms (%u attempts): %s",
			     tx->n->opt.strong_timeout_ms, tx->attempts, why);
		return;
	}
	if (now >= tx->deadline_ms) {
		coord_finish(tx, RUMOR_EABORTED,
			     "strong write aborted: %s (%u attempts)", why,
			     tx->attempts);
		return;
	}
	wait = coord_backoff_ms(tx);
	if (wait > tx->deadline_ms - now)
		wait = tx->deadline_ms - now;
	tx->state = TX_BACKOFF;
	io_timer_start(tx->timer, wait, 0);
}

static size_t count_marks(const struct strong_tx *tx, int mark)
{
	size_t i, k = 0;

	for (i = 0; i < tx->n_parts; i++)
		k += tx->marks[i] == mark;
	return k;
}

static void coord_check_committed(struct strong_tx *tx)
{
	size_t done = count_marks(tx, MARK_COMMITTED);
	size_t waiting = count_marks(tx, MARK_COMMIT_SENT);

	if (done >= tx->quorum)
		coord_finish(tx, 0, "committed");
	else if (done + waiting < tx->quorum)
		coord_finish(tx, RUMOR_ETIMEDOUT,
			     "committed here, but only %zu of the quorum of %zu confirmed; the others get it by gossip",
			     done, tx->quorum);
}

/* Half the strong timeout (at least 1 ms): an attempt's wait for its
 * votes, and each of the two waits for COMMITTED. */
static uint64_t coord_half(const struct strong_tx *tx)
{
	uint64_t h = tx->n->opt.strong_timeout_ms / 2;

	return h > 0 ? h : 1;
}

/* Half the commit phase passed without a quorum of COMMITTED: COMMIT
 * again to every participant not confirmed, on the connection open now
 * (a COMMIT is idempotent: a participant that applied it answers
 * COMMITTED again). Covers a COMMIT or COMMITTED lost with a replaced
 * connection. */
static void coord_resend_commit(struct strong_tx *tx)
{
	struct rumor *n = tx->n;
	struct wire_strong m = {.txid = tx->txid, .first_seq = tx->first_seq,
				.wall_ms = tx->wall_ms, .clocks = tx->clocks,
				.n_clocks = tx->n_ops};
	size_t i;

	tx->resent = 1;
	for (i = 1; i < tx->n_parts; i++)
		if (tx->marks[i] == MARK_COMMIT_SENT)
			(void)strong_send(n, strong_peer(n, tx->parts +
						     i * RUMOR_NODE_ID_BYTES),
					  WIRE_COMMIT, &m);
	io_timer_start(tx->timer, tx->n->opt.strong_timeout_ms -
		       coord_half(tx), 0);
}

/* A quorum voted yes: one WriteBatch commits the versions (each clock
 * above every vote's) with the intent's end, then COMMIT goes to every
 * yes voter. */
static void coord_commit(struct strong_tx *tx)
{
	struct rumor *n = tx->n;
	struct strong *s = n->strong;
	struct wire_strong m = {.txid = tx->txid};
	struct store_op *ops;
	uint64_t *cmin;
	struct err err;
	size_t i, sent = 0;
	int rv;

	if (strong_step(s, "coord-voted"))
		return;
	ops = calloc(tx->n_ops, sizeof *ops);
	cmin = calloc(tx->n_ops, sizeof *cmin);
	tx->clocks = calloc(tx->n_ops, sizeof *tx->clocks);
	if (ops == NULL || cmin == NULL || tx->clocks == NULL) {
		free(ops);
		free(cmin);
		coord_abort(tx, "out of memory");
		return;
	}
	for (i = 0; i < tx->n_ops; i++) {
		ops[i].key = tx->ops[i].key;
		ops[i].key_len = tx->ops[i].key_len;
		ops[i].value = tx->ops[i].value;
		ops[i].value_len = tx->ops[i].value_len;
		ops[i].del = tx->ops[i].del;
		cmin[i] = tx->clock_max[i] + 1;
	}
	err_clear(&err);
	rv = store_intent_commit_local(n->store, tx->txid, ops, tx->n_ops,
				       cmin, tx->clocks, &tx->first_seq,
				       &tx->wall_ms, &err);
	free(ops);
	free(cmin);
	if (rv != 0) {
		coord_abort_unknown(tx, rv, err.msg);
		return;
	}
	strong_release(s, tx);
	s->committed++;
	node_net_note_writes(n, tx->n_ops, 1);
	if (strong_step(s, "coord-committed"))
		return;
	tx->state = TX_COMMITTING;
	tx->marks[0] = MARK_COMMITTED;
	m.first_seq = tx->first_seq;
	m.wall_ms = tx->wall_ms;
	m.clocks = tx->clocks;
	m.n_clocks = tx->n_ops;
	for (i = 1; i < tx->n_parts; i++) {
		if (tx->marks[i] != MARK_YES)
			continue;
		if (strong_send(n, strong_peer(n, tx->parts +
					     i * RUMOR_NODE_ID_BYTES),
				WIRE_COMMIT, &m) != 0) {
			tx->marks[i] = MARK_DOWN;
			continue;
		}
		tx->marks[i] = MARK_COMMIT_SENT;
		if (sent++ == 0 && strong_step(s, "coord-commit-sent-one"))
			return;
	}
	io_timer_start(tx->timer, coord_half(tx), 0);
	coord_check_committed(tx);
}

static void coord_check_votes(struct strong_tx *tx)
{
	size_t yes = count_marks(tx, MARK_YES);
	size_t waiting = count_marks(tx, MARK_SENT);

	if (yes >= tx->quorum) {
		coord_commit(tx);
	} else if (yes + waiting < tx->quorum && tx->conflict) {
		coord_drop(tx);
		coord_retry(tx, "a participant held a key for another write");
	} else if (yes + waiting < tx->quorum) {
		coord_abort(tx, "fewer than a quorum prepared");
	}
}

/* A new attempt: a fresh txid (the last one's ABORTED outcome stays as
 * the answer to ASKs about it), no participants or votes yet. */
static void coord_renew(struct strong_tx *tx)
{
	if (tx->attempts++ == 0) {
		tx->deadline_ms = io_now_ms(tx->n->io) +
				  tx->n->opt.strong_timeout_ms;
		return;
	}
	randombytes_buf(tx->txid, sizeof tx->txid);
	free(tx->parts);
	free(tx->marks);
	tx->parts = NULL;
	tx->marks = NULL;
	tx->n_parts = 0;
	tx->conflict = 0;
	tx->resent = 0;
	memset(tx->clock_max, 0, tx->n_ops * sizeof *tx->clock_max);
}

/* An attempt of a write (the first from the call's first loop turn, the
 * others after a backoff): readiness, locks (a key locked here: retry),
 * the own intent queued for this turn's group sync; once it is durable,
 * strong_coord_synced sends PREPARE to every reachable participant. */
static void coord_start(struct strong_tx *tx)
{
	struct rumor *n = tx->n;
	struct strong *s = n->strong;
	size_t i, k, reach;

	coord_renew(tx);
	if (strong_catching_up(n)) {
		coord_finish(tx, RUMOR_ENOTREADY,
			     "not ready: this node is catching up");
		return;
	}
	k = strong_members(n, NULL);
	tx->parts = malloc((1 + k) * RUMOR_NODE_ID_BYTES);
	tx->marks = calloc(1 + k, 1);
	if (tx->parts == NULL || tx->marks == NULL) {
		coord_finish(tx, RUMOR_ENOMEM, "out of memory");
		return;
	}
	memcpy(tx->parts, n->id.public_key, RUMOR_NODE_ID_BYTES);
	tx->n_parts = 1 + strong_members(n, tx->parts + RUMOR_NODE_ID_BYTES);
	tx->quorum = strong_quorum(n);
	reach = strong_reachable(n);
	if (tx->quorum > tx->n_parts || reach < tx->quorum) {
		coord_finish(tx, RUMOR_ENOTREADY,
			     "not ready: %zu of %zu nodes reachable, quorum %zu",
			     reach, tx->n_parts, tx->quorum);
		return;
	}
	for (i = 0; i < tx->n_ops; i++)
		if (strong_locked(s, tx->ops[i].key, tx->ops[i].key_len, tx)) {
			tx->conflict = 1;
			coord_retry(tx, "a key is locked here by another strong write");
			return;
		}
	if (s->n_intents >= STRONG_INTENTS_MAX ||
	    s->intent_bytes + tx->bytes > STRONG_INTENT_BYTES_MAX) {
		coord_finish(tx, RUMOR_EABORTED,
			     "strong write aborted: too many strong writes in flight");
		return;
	}
	tx->state = TX_SYNCING;
	strong_queue_intent(s, tx, node_wall_ms(n) + n->opt.strong_timeout_ms);
}

void strong_coord_sync_failed(struct strong_tx *tx, const struct err *err)
{
	coord_finish(tx, err->code, "%s", err->msg);
}

/* The attempt's intent is durable (strong_sync.c): PREPARE to every
 * reachable participant. */
void strong_coord_synced(struct strong_tx *tx)
{
	struct rumor *n = tx->n;
	struct wire_strong m = {.txid = tx->txid};
	struct wire_op *wops;
	size_t i;

	if (strong_step(n->strong, "coord-prepared"))
		return;
	wops = calloc(tx->n_ops, sizeof *wops);
	if (wops == NULL) {
		coord_abort(tx, "out of memory");
		return;
	}
	for (i = 0; i < tx->n_ops; i++) {
		wops[i].deleted = tx->ops[i].del;
		wops[i].key = tx->ops[i].key;
		wops[i].key_len = tx->ops[i].key_len;
		wops[i].value = tx->ops[i].value;
		wops[i].value_len = tx->ops[i].value_len;
	}
	m.ttl_ms = n->opt.strong_timeout_ms;
	m.participants = tx->parts;
	m.n_participants = tx->n_parts;
	m.ops = wops;
	m.n_ops = tx->n_ops;
	tx->marks[0] = MARK_YES;
	tx->state = TX_PREPARING;
	for (i = 1; i < tx->n_parts; i++)
		if (strong_send(n, strong_peer(n, tx->parts +
					     i * RUMOR_NODE_ID_BYTES),
				WIRE_PREPARE, &m) == 0)
			tx->marks[i] = MARK_SENT;
	free(wops);
	io_timer_start(tx->timer, coord_half(tx), 0);
	coord_check_votes(tx);
}

void strong_coord_timer(struct strong_tx *tx)
{
	switch (tx->state) {
	case TX_STARTING:
	case TX_BACKOFF:
		coord_start(tx);
		break;
	case TX_PREPARING:
		coord_drop(tx);
		coord_retry(tx, "the prepare phase timed out");
		break;
	case TX_COMMITTING:
		if (!tx->resent) {
			coord_resend_commit(tx);
			break;
		}
		coord_finish(tx, RUMOR_ETIMEDOUT,
			     "committed here, but fewer than a quorum confirmed within %u ms; the others get it by gossip",
			     tx->n->opt.strong_timeout_ms);
		break;
	case TX_DONE:
		coord_deliver(tx);
		break;
	default:
		break;
	}
}

size_t strong_part_index(const struct strong_tx *tx, const uint8_t *id)
{
	size_t i;

	for (i = 1; i < tx->n_parts; i++)
		if (memcmp(tx->parts + i * RUMOR_NODE_ID_BYTES, id,
			   RUMOR_NODE_ID_BYTES) == 0)
			return i;
	return 0;
}

void strong_on_vote(struct peer *p, const struct wire_strong *m)
{
	struct rumor *n = p->net->n;
	struct strong_tx *tx = strong_find(n->strong, m->txid, STRONG_COORD);
	size_t i, k;

	if (tx == NULL || tx->state != TX_PREPARING) {
		if (strong_late_vote(p, m) != 0)
			net_refuse(p->net, REFUSE_STRONG_UNKNOWN,
				   "peer %.8s: a VOTE for no prepare in progress",
				   p->id_str);
		return;
	}
	i = strong_part_index(tx, p->id);
	if (i == 0 || tx->marks[i] != MARK_SENT) {
		net_refuse(p->net, REFUSE_STRONG_SENDER,
			   "peer %.8s: a VOTE it was not asked for", p->id_str);
		return;
	}
	if (m->yes && m->n_clocks == tx->n_ops) {
		for (k = 0; k < tx->n_ops; k++)
			if (m->clocks[k] > tx->clock_max[k])
				tx->clock_max[k] = m->clocks[k];
		tx->marks[i] = MARK_YES;
	} else {
		tx->marks[i] = MARK_NO;
		if (!m->yes && m->reason == WIRE_REFUSE_LOCKED)
			tx->conflict = 1;
	}
	coord_check_votes(tx);
}

void strong_on_committed(struct peer *p, const struct wire_strong *m)
{
	struct rumor *n = p->net->n;
	struct strong_tx *tx = strong_find(n->strong, m->txid, STRONG_COORD);
	size_t i;

	if (tx == NULL || tx->state != TX_COMMITTING) {
		/* Late confirmations after the result are normal (the
		 * answer to a COMMIT sent again, or to a late vote). */
		if (tx == NULL && !strong_late_committed(n, m->txid))
			net_refuse(p->net, REFUSE_STRONG_UNKNOWN,
				   "peer %.8s: a COMMITTED for no commit in progress",
				   p->id_str);
		return;
	}
	i = strong_part_index(tx, p->id);
	if (i != 0 && tx->marks[i] == MARK_COMMITTED)
		return;      /* the answer to a COMMIT sent again */
	if (i == 0 || tx->marks[i] != MARK_COMMIT_SENT) {
		net_refuse(p->net, REFUSE_STRONG_SENDER,
			   "peer %.8s: a COMMITTED it was not asked for",
			   p->id_str);
		return;
	}
	tx->marks[i] = MARK_COMMITTED;
	coord_check_committed(tx);
}

void strong_coord_peer_closed(struct strong *s, const uint8_t *id)
{
	struct strong_tx *tx, *next;
	size_t i;

	for (tx = s->txs; tx != NULL; tx = next) {
		next = tx->next;
		if (tx->role != STRONG_COORD)
			continue;
		i = strong_part_index(tx, id);
		if (i == 0)
			continue;
		if (tx->state == TX_PREPARING && tx->marks[i] == MARK_SENT) {
			tx->marks[i] = MARK_DOWN;
			coord_check_votes(tx);
		} else if (tx->state == TX_COMMITTING &&
			   tx->marks[i] == MARK_COMMIT_SENT) {
			tx->marks[i] = MARK_DOWN;
			coord_check_committed(tx);
		}
	}
}
