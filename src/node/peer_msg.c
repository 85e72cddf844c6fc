/* SPDX-License-Identifier: MIT */
/*
 * peer_msg: what goes over a peer connection once it exists. Sends under
 * the queue cap; the glue between a connection and its sync session
 * (transport, callbacks, the pump); and messages received: HELLO,
 * MEMBERS, PING and BYE here, the sync stream to the session, strong
 * writes to strong.c, why queries to why.c. Connection lifetime (new,
 * close, one per pair, dials, accepts) is in peer.c.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "node/net_int.h"

/* Whether len more bytes fit in p's queue under NET_QUEUE_CAP. When they
 * do not, the refusal is counted and logged; the caller closes p. */
static int peer_queue_admits(struct peer *p, size_t len)
{
	size_t queued = io_conn_queued(p->conn);

	if (queued <= NET_QUEUE_CAP && len <= NET_QUEUE_CAP - queued)
		return 1;
	net_refuse(p->net, REFUSE_QUEUE_FULL,
		   "peer %.8s: %zu bytes queued to it and %zu more would pass "
		   "the cap of %u: it does not read; closing",
		   p->id_str, queued, len, NET_QUEUE_CAP);
	return 0;
}

int peer_send(struct peer *p, struct wire_buf *b)
{
	struct err err;
	int rv;

	if (p->closed) {
		wire_buf_reset(b);
		return RUMOR_ECLOSED;
	}
	if (!peer_queue_admits(p, b->len)) {
		wire_buf_reset(b);
		peer_close(p, RUMOR_EPROTO,
			   "its outgoing queue reached the hard cap");
		return RUMOR_ECLOSED;
	}
	err_clear(&err);
	rv = io_conn_send(p->conn, b->data, b->len, &err);
	wire_buf_reset(b);
	if (rv != 0 && rv != RUMOR_ECLOSED)
		node_log(p->net->n, RUMOR_LOG_DEBUG, "peer %.8s: send: %s",
			 p->id_str, err.msg);
	return rv;
}

/* ------------------------------------------------------------ sync glue */

static int sync_send(void *arg, const uint8_t *frame, size_t len)
{
	struct peer *p = arg;
	struct err err;

	/* Not closed here (the session is inside this call): the failed
	 * session makes peer_after_sync_call close the peer. */
	if (!peer_queue_admits(p, len))
		return RUMOR_EPROTO;
	err_clear(&err);
	return io_conn_send(p->conn, frame, len, &err);
}

static int sync_writable(void *arg)
{
	struct peer *p = arg;

	return io_conn_queued(p->conn) < NET_HIGH_WATERMARK;
}

static uint64_t sync_now(void *arg)
{
	struct peer *p = arg;

	return net_now_ms(p->net);
}

static void schedule_pump(struct peer *p)
{
	struct node_net *net = p->net;

	if (p->in_pump_list || p->closed)
		return;
	p->in_pump_list = 1;
	p->next_pump = net->pump_list;
	net->pump_list = p;
	if (!io_timer_active(net->pump_timer))
		io_timer_start(net->pump_timer, 0, 0);
}

void peer_after_sync_call(struct peer *p, int rv, struct err *err)
{
	if (rv != 0) {
		node_log(p->net->n, RUMOR_LOG_WARN,
			 "peer %.8s: dropped: %s", p->id_str, err->msg);
		peer_close(p, rv, err->msg);
		return;
	}
	if (sync_session_pending(p->sync))
		schedule_pump(p);
}

void peer_pump_cb(struct io_timer *t)
{
	struct node_net *net = t->data;
	struct peer *list = net->pump_list, *p;
	struct err err;

	net->pump_list = NULL;
	while ((p = list) != NULL) {
		list = p->next_pump;
		p->in_pump_list = 0;
		if (p->closed || p->sync == NULL)
			continue;
		err_clear(&err);
		peer_after_sync_call(p, sync_session_pump(p->sync, &err), &err);
		if (!p->closed && p->want_round && !sync_session_busy(p->sync)) {
			p->want_round = 0;
			peer_start_round(p);
		}
	}
}

static void on_sync_complete(void *arg, const struct sync_round_stats *st)
{
	struct peer *p = arg;
	struct node_net *net = p->net;

	/* Round figures are per round: the totals take each as it ends. */
	net->entries_sent += st->entries_sent;
	net->entries_received += st->entries_received;
	if (st->finished_ms >= st->started_ms)
		histogram_observe(&net->round_seconds,
				  (double)(st->finished_ms - st->started_ms) /
					  1000.0);
	members_mark_sync(&net->members, p->id, net_now_ms(net));
	node_log(net->n, RUMOR_LOG_DEBUG,
		 "peer %.8s: round done: %llu sent, %llu received, %llu applied",
		 p->id_str, (unsigned long long)st->entries_sent,
		 (unsigned long long)st->entries_received,
		 (unsigned long long)st->entries_applied);
	request_peer_ended(net, p->id, st);
	sched_catchup_check(net);
	/* Writes made while this round streamed from its snapshot go now,
	 * not at the next paced round: from the pump, since a session
	 * callback must not start a round itself (sync.h convention 4). */
	if (p->want_round)
		schedule_pump(p);
}

struct lag_ctx {
	const struct store_hwm *peer;
	size_t n;
	uint64_t lag;
};

static int sum_lag(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct lag_ctx *l = arg;
	size_t lo = 0, hi = l->n;

	/* Peer HWMs are sorted by origin: binary search. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(l->peer[mid].origin, origin, STORE_ORIGIN_BYTES);
		if (c == 0) {
			if (seq > l->peer[mid].seq)
				l->lag += seq - l->peer[mid].seq;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	l->lag += seq;
	return 0;
}

static void on_peer_digest(void *arg, const struct store_hwm *hwms, size_t n)
{
	struct peer *p = arg;
	struct lag_ctx l = {hwms, n, 0};
	struct err err;

	err_clear(&err);
	/* Lag in seqs: an upper bound on the entries it lacks from us. */
	if (store_hwms(p->net->n->store, NULL, sum_lag, &l, &err) == 0)
		members_set_lag(&p->net->members, p->id, l.lag);
	sched_catchup_digest(p->net, hwms, n);
}

static void on_sync_applied(void *arg, uint64_t n)
{
	struct peer *p = arg;

	if (n > 0)
		node_net_note_writes(p->net->n, n, 0);
}

/* A claim the sync layer refused (src/sync/claims.c): counted by reason
 * and logged rate-limited. A healed HWM is pulled in another round, run
 * once this one completes (on_sync_complete schedules it). */
static void on_sync_refuse(void *arg, enum refuse_reason why,
			   const uint8_t *origin, uint64_t claimed,
			   uint64_t allowed)
{
	struct peer *p = arg;
	char o[IDENTITY_ID_STRLEN];

	identity_id_string(origin, o);
	net_refuse(p->net, why, "peer %.8s: origin %.8s: %llu claimed, "
		   "%llu kept", p->id_str, o, (unsigned long long)claimed,
		   (unsigned long long)allowed);
	if (why == REFUSE_HWM_HEALED)
		p->want_round = 1;
}

/* The live stream lost entries to this peer, or an entry announced by
 * IHAVE never came: a round with it repairs (from the pump, once the
 * current round completes). */
static void on_sync_want_round(void *arg)
{
	struct peer *p = arg;

	p->want_round = 1;
	schedule_pump(p);
}

int peer_sync_new(struct peer *p, struct err *err)
{
	struct sync_transport t;
	struct sync_callbacks cb;

	memset(&t, 0, sizeof t);
	memset(&cb, 0, sizeof cb);
	t.send = sync_send;
	t.writable = sync_writable;
	t.now_ms = sync_now;
	t.arg = p;
	cb.on_peer_digest = on_peer_digest;
	cb.on_complete = on_sync_complete;
	cb.on_applied = on_sync_applied;
	cb.on_refuse = on_sync_refuse;
	cb.on_want_round = on_sync_want_round;
	cb.arg = p;
	return sync_session_new(&p->sync, p->net->n->store, &t, NULL, &cb, err);
}

void peer_on_drained(struct io_conn *c)
{
	struct peer *p = c->data;

	if (!p->closed && p->sync != NULL)
		schedule_pump(p);
}

/* ------------------------------------------------------------ messages */

static void send_members(struct peer *p)
{
	struct node_net *net = p->net;
	struct member_gossip g[NET_MEMBERS_GOSSIP_MAX];
	struct wire_member m[NET_MEMBERS_GOSSIP_MAX];
	size_t i, k, n;
	struct err err;

	/* Gossip is sent every round; a peer that does not read would
	 * otherwise collect a copy per round. It goes in a later round. */
	if (io_conn_queued(p->conn) >= p->conn->low_watermark)
		return;
	n = members_export(&net->members, g, NET_MEMBERS_GOSSIP_MAX);
	for (i = 0, k = 0; i < n; i++) {
		/* Telling a member about itself is useless. */
		if (memcmp(g[i].id, p->id, RUMOR_NODE_ID_BYTES) == 0)
			continue;
		m[k].node_id = g[i].id;
		m[k].host = g[i].host;
		m[k].host_len = strlen(g[i].host);
		m[k].port = g[i].port;
		m[k].state = WIRE_MEMBER_ALIVE;
		m[k].age_ms = 0;
		if (m[k].host_len > 0)
			k++;
	}
	if (k == 0)
		return;
	err_clear(&err);
	if (wire_encode_members(&net->out, m, k, &err) == 0)
		peer_send(p, &net->out);
}

void peer_start_round(struct peer *p)
{
	struct err err;

	if (p->closed || !p->open || !p->hello || p->sync == NULL)
		return;
	send_members(p);
	if (p->closed)      /* its queue was at the cap */
		return;
	err_clear(&err);
	peer_after_sync_call(p, sync_session_start(p->sync, &err), &err);
}

static void handle_hello(struct peer *p, const struct wire_hello *h)
{
	struct node_net *net = p->net;
	char host[MEMBER_HOST_MAX];
	uint64_t now, skew;
	struct err err;

	if (h->proto_version != WIRE_PROTO_VERSION) {
		err_clear(&err);
		if (wire_encode_bye(&net->out, WIRE_BYE_VERSION, &err) == 0)
			peer_send(p, &net->out);
		node_log(net->n, RUMOR_LOG_WARN,
			 "peer %.8s speaks protocol %llu, this node %d: closing",
			 p->id_str, (unsigned long long)h->proto_version,
			 WIRE_PROTO_VERSION);
		peer_close(p, RUMOR_EPROTO, "protocol version mismatch");
		return;
	}
	if (p->hello)
		return;
	/* Its replicate set first: a bad one drops the connection with
	 * nothing changed. */
	err_clear(&err);
	if (peer_hello_filters(p, h, &err) != 0) {
		node_log(net->n, RUMOR_LOG_WARN, "peer %.8s: %s", p->id_str,
			 err.msg);
		peer_close(p, err.code, err.msg);
		return;
	}
	p->hello = 1;
	p->strong = (h->flags & WIRE_HELLO_STRONG) != 0;
	p->why = (h->flags & WIRE_HELLO_WHY) != 0;
	if ((h->flags & WIRE_HELLO_LIVE) != 0 && !net->n->opt.no_live) {
		err_clear(&err);
		if (sync_live_enable(p->sync, &err) != 0) {
			peer_close(p, RUMOR_ENOMEM, err.msg);
			return;
		}
	}
	if (h->listen_port != 0 &&
	    io_conn_peer_host(p->conn, host, sizeof host) == 0) {
		err_clear(&err);
		/* The member is in the table already (peer_admit_member):
		 * a failure only loses this address. */
		if (members_upsert(&net->members, p->id, host, h->listen_port,
				   MEMBER_VIA_PEER, net_now_ms(net), &err) < 0) {
			net->members_refused++;
			node_log(net->n, RUMOR_LOG_DEBUG,
				 "peer %.8s: its address %s:%u not kept: %s",
				 p->id_str, host, h->listen_port, err.msg);
		}
	}
	/* Same-clock conflicts fall back on wall time: a peer whose clock
	 * is far off wins or loses them unfairly. Say so. */
	now = node_wall_ms(net->n);
	skew = h->wall_ms > now ? h->wall_ms - now : now - h->wall_ms;
	if (h->wall_ms != 0 && skew > NET_SKEW_WARN_MS)
		node_log(net->n, RUMOR_LOG_WARN,
			 "peer %.8s: its wall clock is %llu ms %s ours; same-clock conflicts are settled by wall time",
			 p->id_str, (unsigned long long)skew,
			 h->wall_ms > now ? "ahead of" : "behind");
	/* Reconcile as soon as a connection is up: that is what a new or
	 * restarted node needs first, and what a new peer brings. */
	peer_start_round(p);
}

/* One gossiped member refused, for why (lib/refuse.h). */
static void refuse_gossip(struct peer *p, enum refuse_reason why,
			  const char *detail)
{
	p->net->members_refused++;
	net_refuse(p->net, why, "peer %.8s: a gossiped member: %s", p->id_str,
		   detail);
}

/* A MEMBERS list: each member is only the sender's word. The table
 * takes news (a member or an address new to us) within the sender's
 * quota, numeric hosts only, and gossip-only members within their share
 * of the slots (discovery/members.h); the rest is refused and counted. A
 * member refused now is heard of again in later gossip. */
static void handle_members(struct peer *p, const struct wire_members *m)
{
	struct node_net *net = p->net;
	uint64_t now = net_now_ms(net);
	struct members_quota q;
	char host[MEMBER_HOST_MAX];
	char detail[ERR_MSG_MAX];
	struct err err;
	size_t i;
	int rv;

	members_quota_begin(&net->members, p->id, now, &q);
	for (i = 0; i < m->n; i++) {
		const struct wire_member *w = &m->members[i];

		if (w->state != WIRE_MEMBER_ALIVE || w->port == 0)
			continue;
		if (w->host_len == 0 || w->host_len >= sizeof host ||
		    memchr(w->host, '\0', w->host_len) != NULL) {
			snprintf(detail, sizeof detail,
				 "a host of %zu bytes is not a numeric address",
				 w->host_len);
			refuse_gossip(p, REFUSE_MEMBERS_HOST, detail);
			continue;
		}
		memcpy(host, w->host, w->host_len);
		host[w->host_len] = '\0';
		err_clear(&err);
		rv = members_gossip(&net->members, &q, w->node_id, host,
				    w->port, now, &err);
		if (rv == MEMBERS_OVER_QUOTA)
			refuse_gossip(p, REFUSE_MEMBERS_QUOTA,
				      "over the sender's quota of new members");
		else if (rv == RUMOR_EINVAL)
			refuse_gossip(p, REFUSE_MEMBERS_HOST, err.msg);
		else if (rv < 0)
			refuse_gossip(p, REFUSE_MEMBERS_FULL, err.msg);
	}
	members_quota_end(&net->members, &q);
}

void peer_on_message(struct io_conn *c, const uint8_t *msg, size_t len)
{
	struct peer *p = c->data;
	struct node_net *net = p->net;
	struct wire_msg m;
	struct err err;
	int rv;

	if (p->closed)
		return;
	err_clear(&err);
	rv = wire_decode(&net->dec, msg, len, &m, &err);
	if (rv != 0) {
		node_log(net->n, RUMOR_LOG_WARN, "peer %.8s: bad frame: %s",
			 p->id_str, err.msg);
		peer_close(p, rv, err.msg);
		return;
	}
	p->last_heard_ms = net_now_ms(net);
	if (members_mark_contact(&net->members, p->id, p->last_heard_ms) ==
		    RUMOR_ENOTFOUND && p->open &&
	    peer_readmit_member(p, p->last_heard_ms) != 0)
		return;
	if (!p->hello && m.type != WIRE_HELLO && m.type != WIRE_BYE) {
		peer_close(p, RUMOR_EPROTO, "a message before HELLO");
		return;
	}
	switch (m.type) {
	case WIRE_HELLO:
		handle_hello(p, &m.u.hello);
		break;
	case WIRE_MEMBERS:
		handle_members(p, &m.u.members);
		break;
	case WIRE_PING:
		/* A peer that sends PINGs and never reads would fill our
		 * queue with PONGs. Above the low-water mark the queue has
		 * plenty for it to read that shows we are here. */
		if (io_conn_queued(c) >= c->low_watermark) {
			net_refuse(net, REFUSE_PONG_SKIPPED,
				   "peer %.8s: %zu bytes queued to it",
				   p->id_str, io_conn_queued(c));
			break;
		}
		if (wire_encode_pong(&net->out, m.u.nonce, &err) == 0)
			peer_send(p, &net->out);
		break;
	case WIRE_PONG:
		break;
	case WIRE_BYE:
		peer_close(p, 0, NULL);
		break;
	case WIRE_PREPARE:
	case WIRE_VOTE:
	case WIRE_COMMIT:
	case WIRE_COMMITTED:
	case WIRE_ABORT:
	case WIRE_ASK:
	case WIRE_ANSWER:
		strong_on_message(p, &m);
		break;
	case WIRE_WHY_ASK:
	case WIRE_WHY_ANSWER:
		why_on_message(p, &m);
		break;
	default:
		assert(sync_is_sync_type(m.type));
		/* What this message applies is offered to every peer but p. */
		net->applying_from = p;
		rv = sync_session_receive_msg(p->sync, &m, len, &err);
		net->applying_from = NULL;
		peer_after_sync_call(p, rv, &err);
		if (m.type == WIRE_IHAVE)
			sched_live_arm(net);
		net_live_flush(net);
		break;
	}
}
