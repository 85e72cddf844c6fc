/* SPDX-License-Identifier: MIT */
/*
 * node_net: the network side of a node. Connections (src/io), one sync
 * session per connection (src/sync), the reconciliation rounds paced by
 * write velocity (src/pace), the member table, multicast announcements and
 * seeds (discovery/), and catch-up before local writes.
 */
#include "node/node_net.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discovery/hostport.h"
#include "discovery/members.h"
#include "discovery/multicast.h"
#include "discovery/seeds.h"
#include "io/io.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "sync/pace.h"
#include "sync/sync.h"
#include "wire/wire.h"

#define NET_TICK_MS 500u              /* member states, catch-up, tombstones */
#define NET_GC_PER_TICK 256u          /* tombstones collected per tick */
#define NET_MEMBERS_GOSSIP_MAX 256u   /* members sent in one MEMBERS */
#define NET_HIGH_WATERMARK (1u << 20) /* pause streaming above this queue */
#define NET_PING_EVERY_MS 3000u       /* keepalive on a quiet connection */
#define NET_SKEW_WARN_MS 5000u        /* warn of a peer clock this far off */

struct peer;

/* A `rumorctl sync` in progress: peers still to finish, and the sums. */
struct sync_request {
	struct node_sync_report report;
	uint8_t (*pending)[RUMOR_NODE_ID_BYTES];
	size_t n_pending;
	node_sync_done_cb done;
	void *arg;
	uv_timer_t timer;
	struct node_net *net;
	struct sync_request *next;
	int finished;
};

struct peer {
	struct node_net *net;
	struct io_conn *conn;
	struct sync_session *sync;
	uint8_t id[RUMOR_NODE_ID_BYTES];
	char id_str[RUMOR_NODE_ID_STRLEN];
	long seed;                    /* seed index, or -1 */
	/* Dialed because of an announcement: where it said it listens. */
	int via_multicast;
	char ann_host[MEMBER_HOST_MAX];
	uint16_t ann_port;
	int outbound;
	int open;                     /* handshake done */
	int closed;                   /* io_conn_close called */
	int hello;                    /* its HELLO arrived */
	int in_pump_list;
	int want_round;               /* local writes arrived mid-round */
	uint64_t last_heard_ms;       /* last message from it */
	uint64_t last_ping_ms;
	struct peer *next;            /* all peers */
	struct peer *next_pump;       /* peers with pending sync work */
};

struct node_net {
	struct rumor *n;
	struct io_peer_config io;
	struct trusted_keys trusted;
	int have_trusted;

	struct io_listener *listener;
	char listen_host[HOSTPORT_HOST_MAX];
	int listen_port;

	struct multicast *mc;
	struct seeds *seeds;
	struct members members;
	struct pace pace;

	uv_timer_t round_timer;
	uv_timer_t tick_timer;
	/* Local writes are pushed to every connected peer on their own
	 * timer, limited only by the previous push (not by paced rounds,
	 * which remote applies also trigger). */
	uv_timer_t push_timer;
	uint64_t last_push_ms;
	int push_pending;
	uv_idle_t pump_idle;
	struct peer *peers;
	struct peer *pump_list;
	struct sync_request *requests;

	struct wire_decoder dec;
	struct wire_buf out;

	int catching_up;
	uint64_t catchup_deadline_ms;

	/* Totals of closed connections; live ones are added on demand. */
	uint64_t bytes_in, bytes_out;
	uint64_t entries_sent, entries_received;

	/* Closing: handles still to close before done(n). */
	int closing;
	unsigned open_handles;
	void (*on_closed)(struct rumor *n);
};

/* ------------------------------------------------------------ helpers */

static uint64_t mono_ms(struct node_net *net)
{
	return uv_now(net->n->loop);
}

static void peer_close(struct peer *p, int reason, const char *detail);

static struct peer *peer_find_open(struct node_net *net, const uint8_t *id,
				   const struct peer *except)
{
	struct peer *p;

	for (p = net->peers; p != NULL; p = p->next)
		if (p != except && !p->closed && p->open &&
		    memcmp(p->id, id, RUMOR_NODE_ID_BYTES) == 0)
			return p;
	return NULL;
}

/* A dial to id is already under way or done. */
static int peer_exists(struct node_net *net, const uint8_t *id)
{
	struct peer *p;

	for (p = net->peers; p != NULL; p = p->next)
		if (!p->closed && memcmp(p->id, id, RUMOR_NODE_ID_BYTES) == 0)
			return 1;
	return 0;
}

static int send_msg(struct peer *p, struct wire_buf *b)
{
	struct err err;
	int rv;

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

	return mono_ms(p->net);
}

static void pump_cb(uv_idle_t *h);
static void start_round(struct peer *p);

static void schedule_pump(struct peer *p)
{
	struct node_net *net = p->net;

	if (p->in_pump_list || p->closed)
		return;
	p->in_pump_list = 1;
	p->next_pump = net->pump_list;
	net->pump_list = p;
	if (!uv_is_active((uv_handle_t *)&net->pump_idle))
		uv_idle_start(&net->pump_idle, pump_cb);
}

static void after_sync_call(struct peer *p, int rv, struct err *err)
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

static void pump_cb(uv_idle_t *h)
{
	struct node_net *net = h->data;
	struct peer *list = net->pump_list, *p;
	struct err err;

	net->pump_list = NULL;
	while ((p = list) != NULL) {
		list = p->next_pump;
		p->in_pump_list = 0;
		if (p->closed || p->sync == NULL)
			continue;
		err_clear(&err);
		after_sync_call(p, sync_session_pump(p->sync, &err), &err);
		if (!p->closed && p->want_round && !sync_session_busy(p->sync)) {
			p->want_round = 0;
			start_round(p);
		}
	}
	if (net->pump_list == NULL)
		uv_idle_stop(&net->pump_idle);
}

static void request_peer_ended(struct node_net *net, const uint8_t *id,
			       const struct sync_round_stats *st);
static void catchup_check(struct node_net *net);

static void on_sync_complete(void *arg, const struct sync_round_stats *st)
{
	struct peer *p = arg;
	struct node_net *net = p->net;

	/* Round figures are per round: the totals take each as it ends. */
	net->entries_sent += st->entries_sent;
	net->entries_received += st->entries_received;
	members_mark_sync(&net->members, p->id, mono_ms(net));
	node_log(net->n, RUMOR_LOG_DEBUG,
		 "peer %.8s: round done: %llu sent, %llu received, %llu applied",
		 p->id_str, (unsigned long long)st->entries_sent,
		 (unsigned long long)st->entries_received,
		 (unsigned long long)st->entries_applied);
	request_peer_ended(net, p->id, st);
	catchup_check(net);
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
}

static void on_sync_applied(void *arg, uint64_t n)
{
	struct peer *p = arg;

	if (n > 0)
		node_net_note_writes(p->net->n, n, 0);
}

/* ------------------------------------------------------------ peers */

static void send_hello(struct peer *p)
{
	struct node_net *net = p->net;
	struct wire_hello h;
	struct err err;

	memset(&h, 0, sizeof h);
	h.proto_version = WIRE_PROTO_VERSION;
	h.listen_port = net->listen_port > 0 ? (uint16_t)net->listen_port : 0;
	h.mode = net->n->opt.mode == RUMOR_MODE_REPLICA ? WIRE_MODE_REPLICA
							 : WIRE_MODE_PEER;
	h.wall_ms = node_wall_ms(net->n);
	if (wire_encode_hello(&net->out, &h, &err) == 0)
		send_msg(p, &net->out);
}

static void send_members(struct peer *p)
{
	struct node_net *net = p->net;
	struct member_gossip g[NET_MEMBERS_GOSSIP_MAX];
	struct wire_member m[NET_MEMBERS_GOSSIP_MAX];
	size_t i, k, n;
	struct err err;

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
		send_msg(p, &net->out);
}

static void start_round(struct peer *p)
{
	struct err err;

	if (p->closed || !p->open || !p->hello || p->sync == NULL)
		return;
	send_members(p);
	err_clear(&err);
	after_sync_call(p, sync_session_start(p->sync, &err), &err);
}

static void peer_on_message(struct io_conn *c, const uint8_t *msg, size_t len);
static void peer_on_drained(struct io_conn *c);
static void peer_on_closed(struct io_conn *c, int reason, const char *detail);
static void peer_on_open(struct io_conn *c);

static struct peer *peer_new(struct node_net *net, struct io_conn *c,
			     int outbound, long seed)
{
	struct sync_transport t;
	struct sync_callbacks cb;
	struct peer *p = calloc(1, sizeof *p);
	struct err err;

	if (p == NULL)
		return NULL;
	p->net = net;
	p->conn = c;
	p->outbound = outbound;
	p->seed = seed;
	c->data = p;
	c->handlers.open = peer_on_open;
	c->handlers.message = peer_on_message;
	c->handlers.drained = peer_on_drained;
	c->handlers.closed = peer_on_closed;
	t.send = sync_send;
	t.writable = sync_writable;
	t.now_ms = sync_now;
	t.arg = p;
	cb.on_peer_digest = on_peer_digest;
	cb.on_complete = on_sync_complete;
	cb.on_applied = on_sync_applied;
	cb.arg = p;
	err_clear(&err);
	if (sync_session_new(&p->sync, net->n->store, &t, NULL, &cb, &err) != 0) {
		c->data = NULL;
		c->handlers = (struct io_conn_handlers){0};
		free(p);
		return NULL;
	}
	p->next = net->peers;
	net->peers = p;
	net->open_handles++;
	return p;
}

static void peer_freed(struct io_conn *c)
{
	struct peer *p = c->data;
	struct node_net *net = p->net;
	struct peer **pp;

	for (pp = &net->peers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	for (pp = &net->pump_list; *pp != NULL; pp = &(*pp)->next_pump) {
		if (*pp == p) {
			*pp = p->next_pump;
			break;
		}
	}
	net->bytes_in += c->stats.bytes_in;
	net->bytes_out += c->stats.bytes_out;
	free(p);
	node_net_handle_closed(net);
}

static void peer_close(struct peer *p, int reason, const char *detail)
{
	struct node_net *net = p->net;
	const struct sync_round_stats *st;

	if (p->closed)
		return;
	p->closed = 1;
	if (p->sync != NULL) {
		/* A round cut short still moved what it moved. */
		if (sync_session_busy(p->sync)) {
			st = sync_session_stats(p->sync);
			net->entries_sent += st->entries_sent;
			net->entries_received += st->entries_received;
		}
		sync_session_free(p->sync);
		p->sync = NULL;
	}
	if (p->open) {
		if (peer_find_open(net, p->id, p) == NULL)
			members_set_connected(&net->members, p->id, false);
		request_peer_ended(net, p->id, NULL);
	}
	if (p->seed >= 0 && net->seeds != NULL && reason != 0)
		seeds_report_failure(net->seeds, (size_t)p->seed);
	if (detail != NULL && reason != 0)
		node_log(net->n, p->open ? RUMOR_LOG_INFO : RUMOR_LOG_DEBUG,
			 "peer %.8s: closed: %s", p->open ? p->id_str : "?",
			 detail);
	io_conn_close(p->conn, peer_freed);
}

/* Both ends of a pair keep the same one connection (members.h). */
static int peer_settle_duplicate(struct peer *p)
{
	struct node_net *net = p->net;
	struct peer *other = peer_find_open(net, p->id, p);
	int keep_p, keep_other;

	if (other == NULL)
		return 0;
	keep_p = members_keep_connection(net->n->id.public_key, p->id,
					 p->outbound);
	keep_other = members_keep_connection(net->n->id.public_key, p->id,
					     other->outbound);
	/* Same direction twice (two dials, or two accepts): keep the older. */
	if (keep_p == keep_other)
		keep_p = 0;
	/* A seed reached through the connection that goes is reached all the
	 * same: the kept one reports for it from now on. */
	if (keep_p) {
		if (p->seed < 0)
			p->seed = other->seed;
		other->seed = -1;
		peer_close(other, 0, NULL);
		return 0;
	}
	if (other->seed < 0)
		other->seed = p->seed;
	else if (p->seed >= 0 && net->seeds != NULL)
		seeds_report_success(net->seeds, (size_t)p->seed);
	p->seed = -1;
	peer_close(p, 0, NULL);
	return 1;
}

static void peer_became_open(struct peer *p)
{
	struct node_net *net = p->net;
	uint64_t now = mono_ms(net);
	struct err err;

	p->open = 1;
	identity_id_string(p->conn->peer_key, p->id_str);
	memcpy(p->id, p->conn->peer_key, RUMOR_NODE_ID_BYTES);
	if (memcmp(p->id, net->n->id.public_key, RUMOR_NODE_ID_BYTES) == 0) {
		node_log(net->n, RUMOR_LOG_DEBUG,
			 "dropping a connection to myself");
		peer_close(p, 0, NULL);
		return;
	}
	if (peer_settle_duplicate(p))
		return;
	/* Only now, with its identity proven, does it enter the table (an
	 * announcement alone proves at most the network key). */
	err_clear(&err);
	if (p->via_multicast)
		members_upsert(&net->members, p->id, p->ann_host, p->ann_port,
			       MEMBER_VIA_MULTICAST, now, &err);
	else
		members_upsert(&net->members, p->id, NULL, 0, MEMBER_VIA_PEER,
			       now, &err);
	members_set_connected(&net->members, p->id, true);
	if (p->seed >= 0 && net->seeds != NULL)
		seeds_report_success(net->seeds, (size_t)p->seed);
	node_log(net->n, RUMOR_LOG_INFO, "peer %.8s: connected (%s)",
		 p->id_str, p->outbound ? "dialed" : "accepted");
	send_hello(p);
}

static void peer_on_open(struct io_conn *c)
{
	peer_became_open(c->data);
}

static void peer_on_drained(struct io_conn *c)
{
	struct peer *p = c->data;

	if (!p->closed && p->sync != NULL)
		schedule_pump(p);
}

static void peer_on_closed(struct io_conn *c, int reason, const char *detail)
{
	peer_close(c->data, reason ? reason : RUMOR_ECLOSED, detail);
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
			send_msg(p, &net->out);
		node_log(net->n, RUMOR_LOG_WARN,
			 "peer %.8s speaks protocol %llu, this node %d: closing",
			 p->id_str, (unsigned long long)h->proto_version,
			 WIRE_PROTO_VERSION);
		peer_close(p, RUMOR_EPROTO, "protocol version mismatch");
		return;
	}
	if (p->hello)
		return;
	p->hello = 1;
	if (h->listen_port != 0 &&
	    io_conn_peer_host(p->conn, host, sizeof host) == 0) {
		err_clear(&err);
		members_upsert(&net->members, p->id, host, h->listen_port,
			       MEMBER_VIA_PEER, mono_ms(net), &err);
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
	start_round(p);
}

static void handle_members(struct peer *p, const struct wire_members *m)
{
	struct node_net *net = p->net;
	char host[MEMBER_HOST_MAX];
	struct err err;
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct wire_member *w = &m->members[i];
		if (w->state != WIRE_MEMBER_ALIVE || w->port == 0 ||
		    w->host_len >= sizeof host)
			continue;
		memcpy(host, w->host, w->host_len);
		host[w->host_len] = '\0';
		err_clear(&err);
		members_upsert(&net->members, w->node_id, host, w->port,
			       MEMBER_VIA_GOSSIP, mono_ms(net), &err);
	}
}

static void peer_on_message(struct io_conn *c, const uint8_t *msg, size_t len)
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
	p->last_heard_ms = mono_ms(net);
	members_mark_contact(&net->members, p->id, p->last_heard_ms);
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
		if (wire_encode_pong(&net->out, m.u.nonce, &err) == 0)
			send_msg(p, &net->out);
		break;
	case WIRE_PONG:
		break;
	case WIRE_BYE:
		peer_close(p, 0, NULL);
		break;
	default:
		assert(sync_is_sync_type(m.type));
		rv = sync_session_receive_msg(p->sync, &m, len, &err);
		after_sync_call(p, rv, &err);
		break;
	}
}

/* ------------------------------------------------------------ dialing */

static struct peer *dial(struct node_net *net, const struct sockaddr *addr,
			 const uint8_t *expected, long seed)
{
	struct io_conn *c;
	struct peer *p;
	struct err err;

	if (net->closing)
		return NULL;
	err_clear(&err);
	if (net->n->io->ops->dial(net->n->io, &net->io, addr, expected, &c,
				  &err) != 0) {
		node_log(net->n, RUMOR_LOG_DEBUG, "dial: %s", err.msg);
		if (seed >= 0)
			seeds_report_failure(net->seeds, (size_t)seed);
		return NULL;
	}
	p = peer_new(net, c, 1, seed);
	if (p == NULL) {
		io_conn_close(c, NULL);
		if (seed >= 0)
			seeds_report_failure(net->seeds, (size_t)seed);
		return NULL;
	}
	if (expected != NULL)
		memcpy(p->id, expected, RUMOR_NODE_ID_BYTES);
	return p;
}

static int dial_member(struct node_net *net, const struct member *m)
{
	struct sockaddr_storage ss;
	char buf[MEMBER_HOST_MAX + 16];
	struct err err;

	if (m->n_addrs == 0 || peer_exists(net, m->id))
		return -1;
	if (strchr(m->addrs[0].host, ':') != NULL)
		snprintf(buf, sizeof buf, "[%s]:%u", m->addrs[0].host,
			 m->addrs[0].port);
	else
		snprintf(buf, sizeof buf, "%s:%u", m->addrs[0].host,
			 m->addrs[0].port);
	err_clear(&err);
	if (hostport_parse_addr(buf, &ss, &err) != 0)
		return -1;
	dial(net, (struct sockaddr *)&ss, m->id, -1);
	return 0;
}

static void on_multicast_peer(void *arg, const struct announce *a,
			      const struct sockaddr *from)
{
	struct node_net *net = arg;
	char host[MEMBER_HOST_MAX] = "";
	struct peer *p;

	if (from->sa_family == AF_INET) {
		/* An unspecified source (no address on the route) would mean
		 * "this host" to whoever dials it. */
		if (((const struct sockaddr_in *)from)->sin_addr.s_addr == 0)
			return;
		uv_ip4_name((const struct sockaddr_in *)from, host, sizeof host);
	} else {
		return;     /* announcements are IPv4 only */
	}
	/* The announcement proves the network key, not the identity: dial
	 * it, expecting that identity, and let the handshake decide. The
	 * member enters the table when the connection opens. */
	if (peer_exists(net, a->node_id))
		return;
	p = dial(net, from, a->node_id, -1);
	if (p != NULL) {
		p->via_multicast = 1;
		snprintf(p->ann_host, sizeof p->ann_host, "%s", host);
		p->ann_port = a->port;
	}
}

static void on_seed_resolved(void *arg, size_t index, const char *seed,
			     const struct sockaddr *addr)
{
	struct node_net *net = arg;

	(void)seed;
	dial(net, addr, NULL, (long)index);
}

static void on_accept(struct io_listener *l, struct io_conn *c)
{
	struct node_net *net = io_listener_data(l);
	struct peer *p;

	if (net->closing) {
		io_conn_close(c, NULL);
		return;
	}
	p = peer_new(net, c, 0, -1);
	if (p == NULL) {
		io_conn_close(c, NULL);
		return;
	}
	peer_became_open(p);
}

static void on_reject(struct io_listener *l, int reason, const char *detail)
{
	struct node_net *net = io_listener_data(l);

	node_log(net->n, RUMOR_LOG_DEBUG, "refused a connection: %s (%s)",
		 detail, rumor_strerror(reason));
}

/* ------------------------------------------------------------ rounds */

static void round_cb(uv_timer_t *t);

static void schedule_round(struct node_net *net)
{
	uint64_t now = mono_ms(net);
	uint64_t next = pace_next_round_ms(&net->pace);

	if (net->closing)
		return;
	uv_timer_start(&net->round_timer, round_cb, next > now ? next - now : 0,
		       0);
}

static void round_cb(uv_timer_t *t)
{
	struct node_net *net = t->data;
	uint8_t ids[PACE_PEERS_MAX * 4][RUMOR_NODE_ID_BYTES];
	uint64_t now = mono_ms(net);
	unsigned k;
	size_t i, n;
	struct peer *p;

	if (!pace_round_due(&net->pace, now)) {
		schedule_round(net);
		return;
	}
	pace_round_started(&net->pace, now);
	k = pace_peers_per_round(&net->pace, now);
	if (k > sizeof ids / sizeof ids[0])
		k = sizeof ids / sizeof ids[0];
	n = members_choose(&net->members, k, ids);
	for (i = 0; i < n; i++) {
		p = peer_find_open(net, ids[i], NULL);
		if (p != NULL)
			start_round(p);
		else
			dial_member(net, members_find(&net->members, ids[i]));
	}
	schedule_round(net);
}

/* After local writes, every connected peer hears of them now rather
 * than when its turn comes: one hop for a connected cluster. */
static void push_cb(uv_timer_t *t)
{
	struct node_net *net = t->data;
	struct peer *p;

	net->push_pending = 0;
	net->last_push_ms = mono_ms(net);
	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || !p->hello || p->sync == NULL)
			continue;
		if (sync_session_busy(p->sync))
			p->want_round = 1;
		else
			start_round(p);
	}
}

void node_net_note_writes(struct rumor *n, uint64_t count, int local)
{
	struct node_net *net = n->net;
	uint64_t now, due;

	if (net == NULL || net->closing)
		return;
	now = mono_ms(net);
	pace_writes(&net->pace, now, count);
	schedule_round(net);
	if (local && !net->push_pending) {
		due = now + net->pace.cfg.kick_delay_ms;
		if (due < net->last_push_ms + net->pace.cfg.min_interval_ms)
			due = net->last_push_ms + net->pace.cfg.min_interval_ms;
		net->push_pending = 1;
		uv_timer_start(&net->push_timer, push_cb, due - now, 0);
	}
}

/* ------------------------------------------------------------ tick */

/* A tombstone (origin, seq) may go once every member in the table has
 * told us (in its last digest) that it holds seq of origin. */
static int tombstone_covered(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct node_net *net = arg;
	size_t i, k, n;

	if (members_count(&net->members) == 0)
		return 0;
	for (i = 0; i < members_count(&net->members); i++) {
		const struct member *m = members_at(&net->members, i);
		const struct store_hwm *h = NULL;
		struct peer *p = peer_find_open(net, m->id, NULL);
		int seen = 0;

		if (p == NULL || p->sync == NULL)
			return 0;
		h = sync_session_peer_hwms(p->sync, &n);
		for (k = 0; k < n; k++) {
			if (memcmp(h[k].origin, origin, STORE_ORIGIN_BYTES) == 0) {
				seen = h[k].seq >= seq;
				break;
			}
		}
		if (!seen)
			return 0;
	}
	return 1;
}

static void catchup_end(struct node_net *net, const char *why)
{
	if (!net->catching_up)
		return;
	net->catching_up = 0;
	node_log(net->n, RUMOR_LOG_INFO, "accepting local writes: %s", why);
}

static void catchup_check(struct node_net *net)
{
	struct peer *p;
	int busy = 0, open = 0;

	if (!net->catching_up)
		return;
	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || p->sync == NULL)
			continue;
		open++;
		if (sync_session_rounds(p->sync) == 0 || sync_session_busy(p->sync))
			busy++;
	}
	if (open > 0 && busy == 0)
		catchup_end(net, "caught up with every connected peer");
	else if (mono_ms(net) >= net->catchup_deadline_ms)
		catchup_end(net, open == 0
			? "no peer answered within the catch-up wait"
			: "the catch-up wait is over before every peer completed an exchange");
}

/* A quiet connection is pinged, so that the member stays alive while
 * it answers and turns suspect when it does not. */
static void ping_quiet_peers(struct node_net *net, uint64_t now)
{
	struct peer *p;
	struct err err;

	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || !p->hello)
			continue;
		if (now - p->last_heard_ms < NET_PING_EVERY_MS ||
		    now - p->last_ping_ms < NET_PING_EVERY_MS)
			continue;
		p->last_ping_ms = now;
		err_clear(&err);
		if (wire_encode_ping(&net->out, now, &err) == 0)
			send_msg(p, &net->out);
	}
}

static void tick_cb(uv_timer_t *t)
{
	struct node_net *net = t->data;
	size_t removed = 0;
	struct err err;

	ping_quiet_peers(net, mono_ms(net));
	members_tick(&net->members, mono_ms(net));
	catchup_check(net);
	err_clear(&err);
	if (!net->catching_up)
		store_collect_tombstones(net->n->store, tombstone_covered, net,
					 NET_GC_PER_TICK, &removed, &err);
	if (removed > 0)
		node_log(net->n, RUMOR_LOG_DEBUG, "collected %zu tombstones",
			 removed);
}

/* ------------------------------------------------------------ sync now */

static void request_finish(struct sync_request *r);

static void request_timer_closed(uv_handle_t *h)
{
	struct sync_request *r = h->data;
	struct node_net *net = r->net;

	free(r->pending);
	free(r);
	node_net_handle_closed(net);
}

static void request_finish(struct sync_request *r)
{
	struct node_net *net = r->net;
	struct sync_request **pp;

	if (r->finished)
		return;
	r->finished = 1;
	for (pp = &net->requests; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	uv_timer_stop(&r->timer);
	if (r->done != NULL)
		r->done(r->arg, &r->report);
	uv_close((uv_handle_t *)&r->timer, request_timer_closed);
}

static void request_peer_ended(struct node_net *net, const uint8_t *id,
			       const struct sync_round_stats *st)
{
	struct sync_request *r, *next;
	size_t i;

	for (r = net->requests; r != NULL; r = next) {
		next = r->next;
		for (i = 0; i < r->n_pending; i++) {
			if (memcmp(r->pending[i], id, RUMOR_NODE_ID_BYTES) != 0)
				continue;
			memmove(r->pending[i], r->pending[i + 1],
				(r->n_pending - i - 1) * sizeof *r->pending);
			r->n_pending--;
			if (st != NULL) {
				r->report.peers_completed++;
				r->report.entries_sent += st->entries_sent;
				r->report.entries_received += st->entries_received;
				r->report.entries_applied += st->entries_applied;
				r->report.bytes_in += st->wire_bytes_received;
				r->report.bytes_out += st->wire_bytes_sent;
			}
			break;
		}
		if (r->n_pending == 0)
			request_finish(r);
	}
}

static void request_timeout(uv_timer_t *t)
{
	request_finish(t->data);
}

int node_sync_now(struct rumor *n, uint32_t timeout_ms, node_sync_done_cb done,
		  void *arg)
{
	struct node_net *net = n->net;
	struct sync_request *r;
	struct peer *p;
	size_t count = 0;

	if (net == NULL || net->closing)
		return RUMOR_EINVAL;
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return RUMOR_ENOMEM;
	for (p = net->peers; p != NULL; p = p->next)
		count++;
	r->pending = calloc(count ? count : 1, sizeof *r->pending);
	if (r->pending == NULL) {
		free(r);
		return RUMOR_ENOMEM;
	}
	r->net = net;
	r->done = done;
	r->arg = arg;
	uv_timer_init(n->loop, &r->timer);
	r->timer.data = r;
	net->open_handles++;
	r->next = net->requests;
	net->requests = r;
	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || !p->hello || p->sync == NULL)
			continue;
		memcpy(r->pending[r->n_pending++], p->id, RUMOR_NODE_ID_BYTES);
		r->report.peers_tried++;
	}
	for (p = net->peers; p != NULL; p = p->next)
		if (p->open && !p->closed && p->hello && p->sync != NULL &&
		    !sync_session_busy(p->sync))
			start_round(p);
	if (r->n_pending == 0) {
		request_finish(r);
		return 0;
	}
	uv_timer_start(&r->timer, request_timeout, timeout_ms ? timeout_ms : 10000, 0);
	return 0;
}

/* ------------------------------------------------------------ status */

void node_net_status(struct rumor *n, struct node_status *st)
{
	struct node_net *net = n->net;

	if (net == NULL)
		return;
	if (net->listener != NULL) {
		if (strchr(net->listen_host, ':') != NULL)
			snprintf(st->listen, sizeof st->listen, "[%s]:%d",
				 net->listen_host, net->listen_port);
		else
			snprintf(st->listen, sizeof st->listen, "%s:%d",
				 net->listen_host, net->listen_port);
	}
	st->catchup_left_ms = net->catching_up && net->catchup_deadline_ms > mono_ms(net)
				      ? net->catchup_deadline_ms - mono_ms(net)
				      : 0;
	st->peers_known = members_count(&net->members);
	st->peers_alive = members_count_state(&net->members, MEMBER_ALIVE);
	st->peers_suspect = members_count_state(&net->members, MEMBER_SUSPECT);
	for (struct peer *p = net->peers; p != NULL; p = p->next)
		if (p->open && !p->closed)
			st->peers_connected++;
}

void node_net_stats(struct rumor *n, struct rumor_stats *st)
{
	struct node_net *net = n->net;
	struct multicast_stats ms;
	uint64_t now;
	struct peer *p;
	int r;

	if (net == NULL)
		return;
	now = mono_ms(net);
	st->velocity = pace_velocity(&net->pace, now);
	st->interval_ms = (uint32_t)pace_interval_ms(&net->pace, now);
	st->peers_alive = (uint32_t)members_count_state(&net->members,
							MEMBER_ALIVE);
	st->catching_up = net->catching_up;
	st->bytes_in = net->bytes_in;
	st->bytes_out = net->bytes_out;
	st->entries_sent = net->entries_sent;
	st->entries_received = net->entries_received;
	for (p = net->peers; p != NULL; p = p->next) {
		st->bytes_in += p->conn->stats.bytes_in;
		st->bytes_out += p->conn->stats.bytes_out;
		if (p->sync != NULL && sync_session_busy(p->sync)) {
			const struct sync_round_stats *rs =
				sync_session_stats(p->sync);
			st->entries_sent += rs->entries_sent;
			st->entries_received += rs->entries_received;
		}
	}
	if (net->mc != NULL) {
		multicast_stats(net->mc, &ms);
		for (r = 0; r < ANNOUNCE_REASON_COUNT; r++)
			if (r != ANNOUNCE_OK)
				st->announcements_dropped += ms.dropped[r];
	}
}

size_t node_peers(struct rumor *n, struct node_peer_info *out, size_t max)
{
	struct node_net *net = n->net;
	uint64_t now;
	size_t i, total;

	if (net == NULL)
		return 0;
	now = mono_ms(net);
	total = members_count(&net->members);
	for (i = 0; i < total && i < max; i++) {
		const struct member *m = members_at(&net->members, i);
		struct node_peer_info *o = &out[i];

		if (m == NULL)
			break;
		memset(o, 0, sizeof *o);
		memcpy(o->id, m->id, RUMOR_NODE_ID_BYTES);
		identity_id_string(m->id, o->id_str);
		if (m->n_addrs > 0) {
			if (strchr(m->addrs[0].host, ':') != NULL)
				snprintf(o->address, sizeof o->address, "[%s]:%u",
					 m->addrs[0].host, m->addrs[0].port);
			else
				snprintf(o->address, sizeof o->address, "%s:%u",
					 m->addrs[0].host, m->addrs[0].port);
		}
		o->learned = member_source_name(m->learned_via);
		o->state = member_state_name(m->state);
		o->connected = m->connected;
		o->last_contact_ago_ms = m->last_contact_ms ? now - m->last_contact_ms
							    : UINT64_MAX;
		o->last_sync_ago_ms = m->last_sync_ms ? now - m->last_sync_ms
						      : UINT64_MAX;
		o->lag = m->lag;
	}
	return total;
}

int node_net_refuses_writes(struct rumor *n, struct err *err)
{
	struct node_net *net = n->net;

	if (net != NULL && net->catching_up)
		return err_set(err, RUMOR_EREFUSED,
			       "catching up with peers before accepting writes (%llu ms left at most)",
			       (unsigned long long)(net->catchup_deadline_ms > mono_ms(net)
						    ? net->catchup_deadline_ms - mono_ms(net)
						    : 0));
	return 0;
}

/* ------------------------------------------------------------ reload */

static void old_seeds_closed(void *arg)
{
	node_net_handle_closed(arg);
}

int node_net_reload(struct rumor *n, const struct rumor_options *o,
		    struct err *err)
{
	struct node_net *net = n->net;
	struct trusted_keys tk;
	struct seeds *seeds = NULL;
	struct peer *p;
	int have_tk = 0, rv;

	if (net == NULL)
		return 0;
	if ((o->trusted_keys_path != NULL) != net->have_trusted)
		return err_set(err, RUMOR_ECONFIG,
			       "turning trusted keys on or off needs a restart");
	if (o->trusted_keys_path != NULL) {
		rv = trusted_keys_load(&tk, o->trusted_keys_path, err);
		if (rv != 0)
			return rv;
		have_tk = 1;
	}
	if (o->n_peers > 0) {
		struct seeds_config sc;

		memset(&sc, 0, sizeof sc);
		sc.on_resolved = on_seed_resolved;
		sc.arg = net;
		rv = seeds_create(&seeds, n->io, o->peers, o->n_peers, &sc,
				  err);
		if (rv != 0) {
			err_wrap(err, "peers");
			if (have_tk)
				trusted_keys_free(&tk);
			return RUMOR_ECONFIG;
		}
	}
	/* Nothing can fail from here on. */
	if (have_tk) {
		/* Handshakes read the table through net->io.trusted, which
		 * points here: swap the contents in place. */
		trusted_keys_free(&net->trusted);
		net->trusted = tk;
		for (p = net->peers; p != NULL; p = p->next)
			if (p->open && !p->closed &&
			    !trusted_keys_contains(&net->trusted, p->id))
				peer_close(p, RUMOR_EAUTH,
					   "no longer in the trusted keys");
	}
	for (p = net->peers; p != NULL; p = p->next)
		p->seed = -1;       /* indexes of the old list */
	if (net->seeds != NULL)
		seeds_close(net->seeds, old_seeds_closed, net);
	net->seeds = seeds;
	if (seeds != NULL) {
		net->open_handles++;
		seeds_start(seeds);
	}
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

void node_net_handle_closed(struct node_net *net)
{
	assert(net->open_handles > 0);
	net->open_handles--;
	if (net->closing && net->open_handles == 0) {
		void (*done)(struct rumor *) = net->on_closed;
		struct rumor *n = net->n;

		members_free(&net->members);
		wire_decoder_free(&net->dec);
		wire_buf_free(&net->out);
		if (net->have_trusted)
			trusted_keys_free(&net->trusted);
		n->net = NULL;
		free(net);
		done(n);
	}
}

static void handle_closed_cb(uv_handle_t *h)
{
	node_net_handle_closed(h->data);
}

static void component_closed_cb(void *arg)
{
	node_net_handle_closed(arg);
}

static void listener_closed_cb(struct io_listener *l)
{
	node_net_handle_closed(io_listener_data(l));
}

int node_net_start(struct rumor *n, const struct rumor_options *o,
		   struct err *err)
{
	struct node_net *net = calloc(1, sizeof *net);
	struct pace_config pc;
	uint16_t port = 0;
	int rv;

	if (net == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	net->n = n;
	/* A peer that closes while we write raises SIGPIPE (libuv writes
	 * without MSG_NOSIGNAL), whose default action ends the process. A
	 * networked node needs it ignored; a program that installed its own
	 * handler keeps it. */
	if (o->listen != NULL || o->n_peers > 0) {
		struct sigaction sa;

		if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
			sa.sa_handler = SIG_IGN;
			sigaction(SIGPIPE, &sa, NULL);
		}
	}
	wire_decoder_init(&net->dec);
	wire_buf_init(&net->out);
	if (o->trusted_keys_path != NULL) {
		rv = trusted_keys_load(&net->trusted, o->trusted_keys_path, err);
		if (rv != 0)
			goto err_after_alloc;
		net->have_trusted = 1;
	}
	net->io.identity = &n->id;
	net->io.network_key = n->network_key;
	net->io.trusted = net->have_trusted ? &net->trusted : NULL;
	{
		struct members_config mcfg;

		memset(&mcfg, 0, sizeof mcfg);
		mcfg.suspect_after_ms = o->suspect_after_ms;
		mcfg.gone_after_ms = o->gone_after_ms;
		if (mcfg.gone_after_ms != 0 &&
		    mcfg.gone_after_ms < MEMBERS_FORGET_AFTER_MS_DEFAULT)
			mcfg.forget_after_ms = 10u * mcfg.gone_after_ms;
		rv = members_init(&net->members, n->id.public_key, &mcfg, err);
	}
	if (rv != 0)
		goto err_after_trusted;
	pace_config_default(&pc);
	if (o->interval_min_ms != 0)
		pc.min_interval_ms = o->interval_min_ms;
	if (o->interval_max_ms != 0)
		pc.max_interval_ms = o->interval_max_ms;
	if (pc.kick_delay_ms > pc.max_interval_ms)
		pc.kick_delay_ms = pc.max_interval_ms;
	rv = pace_init(&net->pace, &pc, uv_now(n->loop), err);
	if (rv != 0) {
		err_wrap(err, "reconciliation interval");
		rv = RUMOR_ECONFIG;
		err->code = rv;
		goto err_after_members;
	}
	if (o->listen != NULL) {
		rv = hostport_parse(o->listen, 1, net->listen_host, &port, err);
		if (rv != 0) {
			err_wrap(err, "--listen");
			goto err_after_members;
		}
		rv = n->io->ops->listen(n->io, &net->io, net->listen_host,
					port, on_accept, on_reject, net,
					&net->listener, err);
		if (rv != 0)
			goto err_after_members;
		net->open_handles++;
		net->listen_port = n->io->ops->listener_port(net->listener);
	}
	/* From here on, failures close what was started through the normal
	 * close path; n->net is set so that it can. */
	n->net = net;
	uv_timer_init(n->loop, &net->round_timer);
	uv_timer_init(n->loop, &net->tick_timer);
	uv_timer_init(n->loop, &net->push_timer);
	uv_idle_init(n->loop, &net->pump_idle);
	net->round_timer.data = net->tick_timer.data = net->pump_idle.data = net;
	net->push_timer.data = net;
	net->open_handles += 4;

	if (net->listener != NULL && !o->no_multicast) {
		struct multicast_config mc;

		multicast_config_init(&mc);
		mc.group = o->multicast;
		memcpy(mc.node_id, n->id.public_key, RUMOR_NODE_ID_BYTES);
		mc.listen_port = (uint16_t)net->listen_port;
		mc.network_key = n->network_key;
		mc.on_peer = on_multicast_peer;
		mc.arg = net;
		rv = multicast_start(&net->mc, n->io, &mc, err);
		if (rv != 0) {
			err_wrap(err, "multicast");
			goto err_started;
		}
		net->open_handles++;
	}
	if (o->n_peers > 0) {
		struct seeds_config sc;

		memset(&sc, 0, sizeof sc);
		sc.on_resolved = on_seed_resolved;
		sc.arg = net;
		rv = seeds_create(&net->seeds, n->io, o->peers, o->n_peers,
				  &sc, err);
		if (rv != 0) {
			err_wrap(err, "--peer");
			rv = RUMOR_ECONFIG;
			err->code = rv;
			goto err_started;
		}
		net->open_handles++;
		seeds_start(net->seeds);
	}
	if (net->mc != NULL || net->seeds != NULL) {
		net->catching_up = o->catchup_wait_ms > 0;
		net->catchup_deadline_ms = uv_now(n->loop) + o->catchup_wait_ms;
		if (net->catching_up)
			node_log(n, RUMOR_LOG_INFO,
				 "catching up with peers for up to %u ms before accepting writes",
				 o->catchup_wait_ms);
	}
	uv_timer_start(&net->tick_timer, tick_cb, NET_TICK_MS, NET_TICK_MS);
	schedule_round(net);
	if (net->listener != NULL)
		node_log(n, RUMOR_LOG_INFO, "listening on %s:%d%s",
			 net->listen_host, net->listen_port,
			 net->mc != NULL ? ", announcing by multicast" : "");
	return 0;

err_started:
	/* The caller closes the node, which closes what started. */
	return rv;
err_after_members:
	members_free(&net->members);
err_after_trusted:
	if (net->have_trusted)
		trusted_keys_free(&net->trusted);
err_after_alloc:
	wire_decoder_free(&net->dec);
	wire_buf_free(&net->out);
	free(net);
	return rv;
}

void node_net_close(struct rumor *n, void (*done)(struct rumor *n))
{
	struct node_net *net = n->net;
	struct peer *p, *next;

	assert(net != NULL && !net->closing);
	net->closing = 1;
	net->on_closed = done;
	/* The node itself counts as a handle until everything is started
	 * closing, so that done() cannot fire half-way through. */
	net->open_handles++;
	while (net->requests != NULL)
		request_finish(net->requests);
	for (p = net->peers; p != NULL; p = next) {
		next = p->next;
		if (p->open && !p->closed) {
			struct err err;
			err_clear(&err);
			if (wire_encode_bye(&net->out, WIRE_BYE_SHUTDOWN, &err) == 0)
				send_msg(p, &net->out);
		}
		peer_close(p, 0, NULL);
	}
	if (net->listener != NULL)
		n->io->ops->listener_close(net->listener, listener_closed_cb);
	if (net->mc != NULL)
		multicast_close(net->mc, component_closed_cb, net);
	if (net->seeds != NULL)
		seeds_close(net->seeds, component_closed_cb, net);
	uv_close((uv_handle_t *)&net->round_timer, handle_closed_cb);
	uv_close((uv_handle_t *)&net->tick_timer, handle_closed_cb);
	uv_close((uv_handle_t *)&net->push_timer, handle_closed_cb);
	uv_close((uv_handle_t *)&net->pump_idle, handle_closed_cb);
	node_net_handle_closed(net);
}
