/* SPDX-License-Identifier: MIT */
/*
 * why: `rumorctl why KEY`. The node asks every connected member whose
 * HELLO has WIRE_HELLO_WHY for its stored version of KEY (WHY_ASK), waits
 * at most a bound for the answers (WHY_ANSWER), and then says which node
 * holds which version, which version wins under this node's order (the
 * store's own comparison, resolver_explain, which counts nothing), which
 * nodes are behind, and a verdict: converged, converging or diverged
 * (why_verdict.c). It also answers other nodes' WHY_ASKs from its store.
 *
 * "Seen" is what separates diverged from behind: each answer carries the
 * answering node's HWM for every origin this node knows (at most
 * WHY_ORIGINS_ASKED), so node i has seen version V when its HWM for
 * V's origin reaches V's seq (an HWM claims only what the node holds or
 * decided against, README "Design notes"). Two nodes that hold
 * different same-clock versions, each having seen the other's, each
 * chose its own: the resolvers disagree across nodes (they are checked
 * for symmetry within a node, not across nodes), and no exchange will
 * ever settle it.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/net_int.h"
#include "node/node.h"
#include "node/why_int.h"

/* Queries in flight on one node; more are refused. */
#define WHY_QUERIES_MAX 4u
#define WHY_TIMEOUT_DEFAULT_MS 2000u
/* Members listed (asked or not) beyond the node itself, connected
 * nodes the member table forgot included. */
#define WHY_MEMBERS_MAX 4096u

/* The per-node state: queries in flight and the next id. */
struct why_state {
	struct why_query *queries;
	size_t n_queries;
	uint64_t next_id;
};

static struct why_state *why_state(struct rumor *n)
{
	return n->net != NULL ? n->net->why : NULL;
}

/* ------------------------------------------------------------ answering */

/* This node's version of key into m (a WHY_ANSWER without id, hwms);
 * *rec holds what m points to (free with store_record_free). *outside:
 * the key is outside this node's replicate set (then found 0). */
static int why_local(struct rumor *n, const uint8_t *key, size_t len,
		     struct store_record **rec, uint8_t *hash,
		     int *outside, struct wire_why *m)
{
	struct resolver_stats rs;
	const struct rumor_version *v;
	struct err err;
	int rv;

	*rec = NULL;
	*outside = !prefixes_match(&n->repl, key, len);
	resolver_get_stats(n->resolver, &rs);
	m->symmetry_violations = rs.symmetry_violations;
	m->resolver = resolver_name(n->resolver);
	m->resolver_len = strlen(m->resolver);
	if (m->resolver_len > WIRE_WHY_RESOLVER_MAX)
		m->resolver_len = WIRE_WHY_RESOLVER_MAX;
	if (m->resolver_len == 0) {
		m->resolver = "?";
		m->resolver_len = 1;
	}
	if (*outside)
		return 0;
	err_clear(&err);
	rv = store_get_version(n->store, key, len, rec, &err);
	if (rv == RUMOR_ENOTFOUND)
		return 0;
	if (rv != 0)
		return rv;
	v = &(*rec)->v;
	m->found = 1;
	m->clock = v->clock;
	m->origin = v->origin;
	m->seq = v->seq;
	m->wall_ms = v->wall_ms;
	m->deleted = v->deleted != 0;
	m->value_len = v->deleted ? 0 : v->value_len;
	crypto_generichash(hash, WIRE_WHY_HASH_BYTES,
			   v->deleted ? NULL : v->value,
			   v->deleted ? 0 : v->value_len, NULL, 0);
	m->hash = hash;
	if (!v->deleted && v->value_len <= WIRE_WHY_VALUE_MAX)
		m->value = v->value != NULL ? v->value : (const uint8_t *)"";
	return 0;
}

static void why_on_ask(struct peer *p, const struct wire_why *ask)
{
	struct node_net *net = p->net;
	struct rumor *n = net->n;
	struct store_record *rec = NULL;
	uint8_t hash[WIRE_WHY_HASH_BYTES];
	uint64_t *hwms = NULL;
	struct wire_why m;
	struct err err;
	size_t i;
	int outside, rv;

	/* A peer that does not read its answers gets no more of them (each
	 * may carry a value of up to WIRE_WHY_VALUE_MAX). */
	if (io_conn_queued(p->conn) > NET_HIGH_WATERMARK)
		return;
	memset(&m, 0, sizeof m);
	m.id = ask->id;
	if (why_local(n, ask->key, ask->key_len, &rec, hash, &outside,
		      &m) != 0) {
		node_log(n, RUMOR_LOG_WARN, "why: cannot read a key for "
			 "peer %.8s", p->id_str);
		return;
	}
	if (outside)
		m.outside = 1;
	if (ask->n_origins > 0) {
		hwms = calloc(ask->n_origins, sizeof *hwms);
		if (hwms == NULL)
			goto out;
		for (i = 0; i < ask->n_origins; i++)
			hwms[i] = store_hwm(n->store, ask->origins[i]);
	}
	m.hwms = hwms;
	m.n_hwms = ask->n_origins;
	err_clear(&err);
	rv = wire_encode_why(&net->out, WIRE_WHY_ANSWER, &m, &err);
	if (rv != 0)
		node_log(n, RUMOR_LOG_WARN, "why: cannot encode: %s", err.msg);
	else
		(void)peer_send(p, &net->out);
out:
	free(hwms);
	store_record_free(rec);
}


/* ------------------------------------------------------------ queries */

static void why_query_free(struct why_query *q)
{
	size_t i;

	for (i = 0; i < q->n_rows; i++)
		free(q->rows[i].hwms);
	for (i = 0; i < q->n_vers; i++)
		free(q->vers[i].value);
	io_timer_free(q->timer);
	free(q->rows);
	free(q->origins);
	free(q->key);
	free(q);
}

/* Unlinks q, decides, reports and frees it. */
static void why_finish(struct why_query *q)
{
	struct why_state *ws = why_state(q->n);
	struct why_query **pp;
	struct ctl_why_summary s;
	struct ctl_why_row *rows;
	size_t i;

	if (ws != NULL) {
		for (pp = &ws->queries; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == q) {
				*pp = q->next;
				ws->n_queries--;
				break;
			}
		}
	}
	for (i = 0; i < q->n_rows; i++) {
		if (q->rows[i].pending) {
			q->rows[i].pending = 0;
			q->rows[i].out.status = CTL_WHY_NO_ANSWER;
		}
	}
	why_decide(q, &s);
	rows = calloc(q->n_rows ? q->n_rows : 1, sizeof *rows);
	if (rows != NULL) {
		for (i = 0; i < q->n_rows; i++)
			rows[i] = q->rows[i].out;
	}
	if (q->done != NULL)
		q->done(q->arg, rows != NULL ? 0 : RUMOR_ENOMEM, &s, rows,
			rows != NULL ? q->n_rows : 0);
	free(rows);
	why_query_free(q);
}

static void why_timeout(struct io_timer *t)
{
	why_finish(t->data);
}


static void why_on_answer(struct peer *p, const struct wire_why *m)
{
	struct why_state *ws = why_state(p->net->n);
	struct why_query *q;
	struct why_row *r;
	size_t i;

	if (ws == NULL)
		return;
	for (q = ws->queries; q != NULL; q = q->next)
		if (q->id == m->id)
			break;
	if (q == NULL)
		return;     /* late: its query ended */
	for (i = 0; i < q->n_rows; i++) {
		r = &q->rows[i];
		if (!r->pending ||
		    memcmp(r->out.id, p->id, RUMOR_NODE_ID_BYTES) != 0)
			continue;
		r->pending = 0;
		q->n_pending--;
		r->out.status = CTL_WHY_ANSWERED;
		if (why_fill_row(q, r, m, m->hwms, m->n_hwms) != 0) {
			free(r->hwms);
			r->hwms = NULL;
			r->version = SIZE_MAX;
			memset(&r->out.found, 0,
			       sizeof r->out - offsetof(struct ctl_why_row,
							found));
			r->out.status = CTL_WHY_BAD_ANSWER;
			node_log(q->n, RUMOR_LOG_WARN, "why: peer %.8s "
				 "answered something unusable", p->id_str);
		}
		break;
	}
	if (q->n_pending == 0 && !q->starting)
		why_finish(q);
}

void why_on_message(struct peer *p, const struct wire_msg *m)
{
	if (m->type == WIRE_WHY_ASK)
		why_on_ask(p, &m->u.why);
	else
		why_on_answer(p, &m->u.why);
}

void why_peer_closed(struct peer *p)
{
	struct why_state *ws = why_state(p->net->n);
	struct why_query *q, *next;
	size_t i;

	if (ws == NULL)
		return;
	for (q = ws->queries; q != NULL; q = next) {
		next = q->next;
		for (i = 0; i < q->n_rows; i++) {
			if (q->rows[i].pending &&
			    memcmp(q->rows[i].out.id, p->id,
				   RUMOR_NODE_ID_BYTES) == 0) {
				q->rows[i].pending = 0;
				q->rows[i].out.status = CTL_WHY_NO_ANSWER;
				q->n_pending--;
			}
		}
		if (q->n_pending == 0 && !q->starting)
			why_finish(q);
	}
}

/* This node's own row (rows[0]). */
static int why_self_row(struct why_query *q)
{
	struct rumor *n = q->n;
	struct why_row *r = &q->rows[0];
	struct store_record *rec = NULL;
	uint8_t hash[WIRE_WHY_HASH_BYTES];
	uint64_t *hwms = NULL;
	struct wire_why m;
	size_t i;
	int outside, rv;

	memset(&m, 0, sizeof m);
	memcpy(r->out.id, n->id.public_key, RUMOR_NODE_ID_BYTES);
	r->out.status = CTL_WHY_SELF;
	rv = why_local(n, q->key, q->key_len, &rec, hash, &outside, &m);
	if (rv != 0)
		return rv;
	m.outside = outside;
	/* Its own value whatever its size: the resolver sees it whole. */
	if (m.found && !m.deleted)
		m.value = rec->v.value != NULL ? rec->v.value :
			(const uint8_t *)"";
	if (q->n_origins > 0) {
		hwms = calloc(q->n_origins, sizeof *hwms);
		if (hwms == NULL) {
			store_record_free(rec);
			return RUMOR_ENOMEM;
		}
		for (i = 0; i < q->n_origins; i++)
			hwms[i] = store_hwm(n->store, q->origins[i]);
	}
	rv = why_fill_row(q, r, &m, hwms, q->n_origins) != 0 ? RUMOR_ENOMEM : 0;
	free(hwms);
	store_record_free(rec);
	return rv;
}

static int collect_origin(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct why_query *q = arg;

	(void)seq;
	if (q->n_origins < WHY_ORIGINS_ASKED)
		memcpy(q->origins[q->n_origins++], origin,
		       RUMOR_NODE_ID_BYTES);
	return 0;
}

/* Asks p for q's key (row r). 0, or -1 when it could not be sent. */
static int why_send_ask(struct why_query *q, struct peer *p)
{
	const uint8_t *origins[WHY_ORIGINS_ASKED];
	struct node_net *net = q->n->net;
	struct wire_why m;
	struct err err;
	size_t i;

	memset(&m, 0, sizeof m);
	m.id = q->id;
	m.key = q->key;
	m.key_len = q->key_len;
	for (i = 0; i < q->n_origins; i++)
		origins[i] = q->origins[i];
	m.origins = origins;
	m.n_origins = q->n_origins;
	err_clear(&err);
	if (wire_encode_why(&net->out, WIRE_WHY_ASK, &m, &err) != 0) {
		node_log(q->n, RUMOR_LOG_WARN, "why: cannot encode: %s",
			 err.msg);
		return -1;
	}
	return peer_send(p, &net->out) == 0 ? 0 : -1;
}

/* Row r for peer p (NULL: not connected): asked when p is connected
 * with the WHY bit, else unsupported or unreachable. */
static void why_ask_row(struct why_query *q, struct why_row *r,
			struct peer *p)
{
	if (p == NULL || !p->hello || p->closed) {
		r->out.status = CTL_WHY_UNREACHABLE;
		return;
	}
	if (!p->why) {
		r->out.status = CTL_WHY_UNSUPPORTED;
		return;
	}
	r->pending = 1;
	q->n_pending++;
	if (why_send_ask(q, p) != 0) {
		/* p may be closing now: its row is not waited for */
		if (r->pending) {
			r->pending = 0;
			q->n_pending--;
		}
		r->out.status = CTL_WHY_NO_ANSWER;
	}
}

/* Whether p is a connection (HELLO done) to a node that is not in the
 * member table: one forgotten while its connection stayed open (a
 * partition that outlasts the forget time on a connection nothing
 * resets). */
static int why_stranger(const struct node_net *net, const struct peer *p)
{
	return p->open && p->hello && !p->closed &&
	       members_find(&net->members, p->id) == NULL &&
	       memcmp(p->id, net->n->id.public_key, RUMOR_NODE_ID_BYTES) != 0;
}

/* Whether q has a row for id from row from on. */
static int why_has_row(const struct why_query *q, size_t from,
		       const uint8_t *id)
{
	size_t i;

	for (i = from; i < q->n_rows; i++)
		if (memcmp(q->rows[i].out.id, id, RUMOR_NODE_ID_BYTES) == 0)
			return 1;
	return 0;
}

/* A row per member (after the node's own), then one per connected node
 * the member table no longer holds (at most max_rows in all): while a
 * connection is open its node is in the cluster, and a verdict that
 * left it out could say converged while it holds something else. */
static void why_ask_members(struct why_query *q, size_t max_rows)
{
	struct node_net *net = q->n->net;
	const struct member *mb;
	struct why_row *r;
	struct peer *p;
	size_t i, first;

	for (i = 0; i < members_count(&net->members) &&
		    q->n_rows < max_rows; i++) {
		mb = members_at(&net->members, i);
		if (mb == NULL)
			break;
		r = &q->rows[q->n_rows++];
		r->version = SIZE_MAX;
		memcpy(r->out.id, mb->id, RUMOR_NODE_ID_BYTES);
		why_ask_row(q, r, peer_find_open(net, mb->id, NULL));
	}
	first = q->n_rows;
	for (p = net->peers; p != NULL && q->n_rows < max_rows; p = p->next) {
		if (!why_stranger(net, p) || why_has_row(q, first, p->id))
			continue;
		r = &q->rows[q->n_rows++];
		r->version = SIZE_MAX;
		memcpy(r->out.id, p->id, RUMOR_NODE_ID_BYTES);
		why_ask_row(q, r, p);
	}
}

int node_why(struct rumor *n, const void *key, size_t key_len,
	     uint32_t timeout_ms, node_why_done_cb done, void *arg,
	     struct err *err)
{
	struct why_state *ws = why_state(n);
	struct why_query *q;
	const struct peer *p;
	size_t members = 0;
	int rv;

	if (key == NULL || key_len < 1 || key_len > RUMOR_KEY_MAX)
		return err_set(err, RUMOR_EINVAL, "why: key of %zu bytes, "
			       "want 1..%u", key_len, RUMOR_KEY_MAX);
	if (n->net != NULL && (ws == NULL || n->net->closing))
		return err_set(err, RUMOR_ECLOSED, "why: node closing");
	if (ws != NULL && ws->n_queries >= WHY_QUERIES_MAX)
		return err_set(err, RUMOR_EREFUSED, "why: %u queries in "
			       "flight already", WHY_QUERIES_MAX);
	if (n->net != NULL) {
		/* a forgotten node is counted once per connection */
		members = members_count(&n->net->members);
		for (p = n->net->peers; p != NULL; p = p->next)
			members += (size_t)why_stranger(n->net, p);
	}
	if (members > WHY_MEMBERS_MAX)
		members = WHY_MEMBERS_MAX;
	q = calloc(1, sizeof *q);
	if (q == NULL)
		return err_set(err, RUMOR_ENOMEM, "why: out of memory");
	q->n = n;
	q->key = malloc(key_len);
	q->origins = calloc(WHY_ORIGINS_ASKED, sizeof *q->origins);
	q->rows = calloc(1 + members, sizeof *q->rows);
	q->timer = io_timer_new(n->io, why_timeout, q);
	if (q->key == NULL || q->origins == NULL || q->rows == NULL ||
	    q->timer == NULL) {
		why_query_free(q);
		return err_set(err, RUMOR_ENOMEM, "why: out of memory");
	}
	memcpy(q->key, key, key_len);
	q->key_len = key_len;
	q->done = done;
	q->arg = arg;
	q->rows[0].version = SIZE_MAX;
	q->n_rows = 1;
	rv = node_hwms(n, collect_origin, q);
	if (rv == 0)
		rv = why_self_row(q);
	if (rv != 0) {
		why_query_free(q);
		return err_set(err, rv, "why: cannot read the store");
	}
	if (ws == NULL) {
		/* No network: the node's own row is the whole answer. */
		why_finish(q);
		return 0;
	}
	q->id = ++ws->next_id;
	q->next = ws->queries;
	ws->queries = q;
	ws->n_queries++;
	q->starting = 1;
	why_ask_members(q, 1 + members);
	q->starting = 0;
	if (q->n_pending == 0) {
		why_finish(q);
		return 0;
	}
	io_timer_start(q->timer, timeout_ms ? timeout_ms :
		       WHY_TIMEOUT_DEFAULT_MS, 0);
	return 0;
}

int why_open(struct node_net *net)
{
	net->why = calloc(1, sizeof *net->why);
	return net->why != NULL ? 0 : RUMOR_ENOMEM;
}

void why_close(struct node_net *net)
{
	if (net->why == NULL)
		return;
	while (net->why->queries != NULL)
		why_finish(net->why->queries);
	free(net->why);
	net->why = NULL;
}
