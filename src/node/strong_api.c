/* SPDX-License-Identifier: MIT */
/*
 * strong_api: the public calls of strong writes (rumor_write_strong and
 * its put/del forms), a transaction's creation and timer, and the node's
 * glue: open (the RUMOR_TEST_FAULT step, intents recovered), close
 * (every pending callback once), the dispatch of PREPARE..ANSWER and a
 * peer closing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rumor.h"
#include "node/node.h"
#include "node/strong_int.h"

/* ------------------------------------------------------------ the API */

/* Checks a strong write's ops as rumor_write would: nothing starts when
 * one is bad. */
static int check_ops(struct rumor *n, const struct rumor_op *ops,
		     size_t n_ops, struct err *err)
{
	size_t i, bytes = 0;
	char what[32];
	int rv;

	if (n_ops == 0 || ops == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "a strong write needs at least one op");
	if (n_ops > RUMOR_WRITE_MAX)
		return err_set(err, RUMOR_ETOOBIG,
			       "strong write: %zu ops (at most %u)", n_ops,
			       RUMOR_WRITE_MAX);
	for (i = 0; i < n_ops; i++) {
		what[0] = '\0';
		if (n_ops > 1)
			snprintf(what, sizeof what, "op %zu: ", i);
		if (ops[i].key == NULL || ops[i].key_len == 0)
			return err_set(err, RUMOR_EINVAL, "%san empty key", what);
		if (ops[i].key_len > RUMOR_KEY_MAX)
			return err_set(err, RUMOR_ETOOBIG, "%sa key of %zu bytes",
				       what, ops[i].key_len);
		if (ops[i].del && (ops[i].value != NULL || ops[i].value_len))
			return err_set(err, RUMOR_EINVAL, "%sa delete with a value",
				       what);
		if (!ops[i].del && ops[i].value == NULL && ops[i].value_len > 0)
			return err_set(err, RUMOR_EINVAL, "%sa NULL value", what);
		if (!ops[i].del && ops[i].value_len > RUMOR_VALUE_MAX)
			return err_set(err, RUMOR_ETOOBIG,
				       "%sa value of %zu bytes", what,
				       ops[i].value_len);
		rv = node_check_key(n, ops[i].key, ops[i].key_len, what, err);
		if (rv != 0)
			return rv;
		bytes += ops[i].key_len + ops[i].value_len;
		if (bytes > RUMOR_WRITE_BYTES)
			return err_set(err, RUMOR_ETOOBIG,
				       "strong write: more than %u key and value bytes",
				       RUMOR_WRITE_BYTES);
	}
	return 0;
}

static void strong_tx_timer_cb(struct io_timer *t)
{
	struct strong_tx *tx = t->data;

	if (tx->n->strong->dead && tx->state != TX_DONE)
		return;
	if (tx->role == STRONG_COORD)
		strong_coord_timer(tx);
	else
		strong_part_timer(tx);
}

struct strong_tx *strong_tx_new(struct strong *s, int role,
				const uint8_t *txid, const struct wire_op *ops,
				size_t n_ops, const int *keep)
{
	struct strong_tx *tx = calloc(1, sizeof *tx);
	struct strong_op *o;
	size_t i;

	if (tx == NULL)
		return NULL;
	tx->n = s->n;
	tx->role = role;
	memcpy(tx->txid, txid, WIRE_TXID_BYTES);
	tx->n_ops_total = n_ops;
	tx->ops = calloc(n_ops > 0 ? n_ops : 1, sizeof *tx->ops);
	tx->timer = io_timer_new(s->n->io, strong_tx_timer_cb, tx);
	if (tx->ops == NULL || tx->timer == NULL)
		goto nomem;
	for (i = 0; i < n_ops; i++) {
		if (keep != NULL && !keep[i])
			continue;
		o = &tx->ops[tx->n_ops];
		o->index = (uint32_t)i;
		o->del = ops[i].deleted;
		o->key_len = ops[i].key_len;
		o->value_len = o->del ? 0 : ops[i].value_len;
		o->key = malloc(o->key_len + o->value_len + 1);
		if (o->key == NULL)
			goto nomem;
		tx->n_ops++;
		memcpy(o->key, ops[i].key, o->key_len);
		if (!o->del) {
			o->value = o->key + o->key_len;
			if (o->value_len > 0)
				memcpy(o->value, ops[i].value, o->value_len);
		}
		tx->bytes += o->key_len + o->value_len;
	}
	tx->next = s->txs;
	s->txs = tx;
	return tx;
nomem:
	for (i = 0; i < tx->n_ops; i++)
		free(tx->ops[i].key);
	free(tx->ops);
	io_timer_free(tx->timer);
	free(tx);
	return NULL;
}

int rumor_write_strong(struct rumor *n, const struct rumor_op *ops,
		       size_t n_ops, rumor_strong_cb cb, void *arg)
{
	struct strong *s;
	struct strong_tx *tx;
	struct wire_op *wops;
	struct err err;
	size_t i;
	int rv;

	if (n == NULL)
		return RUMOR_EINVAL;
	err_clear(&err);
	s = n->strong;
	if (cb == NULL)
		return node_fail(n, &(struct err){RUMOR_EINVAL,
						  "a strong write needs a callback"});
	if (s == NULL || n->closing)
		return node_fail(n, &(struct err){RUMOR_ECLOSED,
						  "the node is closing"});
	if (n->opt.mode == RUMOR_MODE_REPLICA)
		return node_fail(n, &(struct err){RUMOR_EREFUSED,
			"this node is a replica: it never originates writes"});
	rv = check_ops(n, ops, n_ops, &err);
	if (rv != 0)
		return node_fail(n, &err);
	wops = calloc(n_ops, sizeof *wops);
	if (wops == NULL)
		return node_fail(n, &(struct err){RUMOR_ENOMEM, "out of memory"});
	for (i = 0; i < n_ops; i++) {
		wops[i].deleted = ops[i].del != 0;
		wops[i].key = ops[i].key;
		wops[i].key_len = ops[i].key_len;
		wops[i].value = ops[i].del ? NULL : ops[i].value;
		wops[i].value_len = ops[i].del ? 0 : ops[i].value_len;
	}
	/* A PREPARE is one frame: a write that cannot fit one is refused
	 * now (counted with every member the table holds now). */
	{
		struct wire_strong m = {.ttl_ms = n->opt.strong_timeout_ms,
					.n_participants = 1 + strong_member_count(n),
					.ops = wops, .n_ops = n_ops};

		if (wire_prepare_size(&m) > WIRE_PREPARE_MAX) {
			free(wops);
			err_set(&err, RUMOR_ETOOBIG,
				"strong write: its PREPARE would be %zu bytes (at most %u)",
				wire_prepare_size(&m), WIRE_PREPARE_MAX);
			return node_fail(n, &err);
		}
	}
	{
		uint8_t txid[WIRE_TXID_BYTES];

		randombytes_buf(txid, sizeof txid);
		tx = strong_tx_new(s, STRONG_COORD, txid, wops, n_ops, NULL);
	}
	free(wops);
	if (tx == NULL)
		return node_fail(n, &(struct err){RUMOR_ENOMEM, "out of memory"});
	tx->clock_max = calloc(n_ops, sizeof *tx->clock_max);
	if (tx->clock_max == NULL) {
		strong_tx_free(s, tx);
		return node_fail(n, &(struct err){RUMOR_ENOMEM, "out of memory"});
	}
	memcpy(tx->coordinator, n->id.public_key, RUMOR_NODE_ID_BYTES);
	tx->cb = cb;
	tx->cb_arg = arg;
	tx->state = TX_STARTING;
	io_timer_start(tx->timer, 0, 0);
	return 0;
}

int rumor_put_strong(struct rumor *n, const void *key, size_t key_len,
		     const void *value, size_t value_len, rumor_strong_cb cb,
		     void *arg)
{
	struct rumor_op op = {key, key_len, value, value_len, 0};

	return rumor_write_strong(n, &op, 1, cb, arg);
}

int rumor_del_strong(struct rumor *n, const void *key, size_t key_len,
		     rumor_strong_cb cb, void *arg)
{
	struct rumor_op op = {key, key_len, NULL, 0, 1};

	return rumor_write_strong(n, &op, 1, cb, arg);
}

/* ------------------------------------------------------------ node glue */

/* RUMOR_TEST_FAULT=STEP or STEP@N. */
static void strong_parse_fault(struct strong *s)
{
	const char *env = getenv("RUMOR_TEST_FAULT");
	const char *at;
	size_t len;

	if (env == NULL || env[0] == '\0')
		return;
	at = strchr(env, '@');
	len = at != NULL ? (size_t)(at - env) : strlen(env);
	if (len >= sizeof s->fault_step)
		return;
	memcpy(s->fault_step, env, len);
	s->fault_step[len] = '\0';
	s->fault_at = at != NULL ? strtoul(at + 1, NULL, 10) : 1;
	if (s->fault_at == 0)
		s->fault_at = 1;
}

int strong_open(struct rumor *n, const struct node_env *env,
		struct err *err)
{
	struct strong *s = calloc(1, sizeof *s);
	int rv;

	if (s == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	s->n = n;
	s->step = env->strong_step;
	s->step_arg = env->hook_arg;
	strong_parse_fault(s);
	n->strong = s;
	if (strong_sync_open(s) != 0) {
		strong_close(n);
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	}
	rv = strong_recover_open(s, err);
	if (rv != 0) {
		strong_close(n);
		return rv;
	}
	return 0;
}

void strong_close(struct rumor *n)
{
	struct strong *s = n->strong;
	struct strong_tx *tx;
	rumor_strong_cb cb;
	void *arg;
	int result;
	char msg[STRONG_MSG_MAX];

	if (s == NULL)
		return;
	/* Callbacks may call into the node (it is closing: writes fail
	 * with RUMOR_ECLOSED); each tx leaves the list before its cb. A
	 * result already decided (TX_DONE) is delivered as it is; any
	 * other write is RUMOR_ECLOSED, never RUMOR_EABORTED: past its
	 * start its PREPAREs are out and its intent is stored, so the
	 * participants (and this node, reopened) resolve it, or it
	 * committed here already. */
	while ((tx = s->txs) != NULL) {
		cb = tx->role == STRONG_COORD ? tx->cb : NULL;
		arg = tx->cb_arg;
		result = tx->state == TX_DONE ? tx->result : RUMOR_ECLOSED;
		if (tx->state == TX_DONE)
			snprintf(msg, sizeof msg, "%s", tx->msg);
		else if (tx->state == TX_COMMITTING)
			snprintf(msg, sizeof msg,
				 "the node closed after the strong write committed here, before a quorum confirmed it: the others get it by recovery or gossip");
		else
			snprintf(msg, sizeof msg,
				 "the node closed during the strong write: its outcome is not known here (the participants resolve it)");
		strong_tx_free(s, tx);
		if (cb != NULL)
			cb(arg, result, result == 0 ? NULL : msg);
	}
	strong_sync_close(s);
	n->strong = NULL;
	free(s);
}

void strong_on_message(struct peer *p, const struct wire_msg *m)
{
	struct strong *s = p->net->n->strong;

	if (s == NULL || s->dead)
		return;
	switch (m->type) {
	case WIRE_PREPARE:
		strong_on_prepare(p, &m->u.strong);
		break;
	case WIRE_VOTE:
		strong_on_vote(p, &m->u.strong);
		break;
	case WIRE_COMMIT:
		strong_on_commit(p, &m->u.strong);
		break;
	case WIRE_COMMITTED:
		strong_on_committed(p, &m->u.strong);
		break;
	case WIRE_ABORT:
		strong_on_abort(p, &m->u.strong);
		break;
	case WIRE_ASK:
		strong_on_ask(p, &m->u.strong);
		break;
	case WIRE_ANSWER:
		strong_on_answer(p, &m->u.strong);
		break;
	default:
		break;
	}
}

void strong_peer_closed(struct peer *p)
{
	struct strong *s = p->net->n->strong;

	if (s == NULL || s->dead || !p->strong)
		return;
	strong_coord_peer_closed(s, p->id);
}
