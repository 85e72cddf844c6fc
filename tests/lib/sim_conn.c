/* SPDX-License-Identifier: MIT */
/*
 * sim_conn: simulated peer connections and listeners (see sim.h). A link
 * joins a client end (the dialer, side 0) and a server end (side 1, made
 * when the listener accepts). Each direction is a FIFO of whole messages
 * with delivery times; an end of stream ("fin") after the last message
 * tells the receiver that the connection ended and why.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/channel.h"
#include "crypto/identity.h"
#include "tests/lib/sim_int.h"

struct sim_msg {
	struct sim_msg *next;
	uint64_t time;          /* due */
	uint64_t end_off;       /* offset of its last byte + 1 */
	size_t len;
	uint8_t buf[];
};

struct sim_link;

/* Bytes from end[from] to end[!from]. */
struct sim_dir {
	struct sim_link *link;
	int from;
	struct sim_msg *head, *tail;
	size_t queued;          /* wire bytes not yet delivered */
	uint64_t sent;          /* wire bytes sent so far */
	uint64_t cut_at;        /* UINT64_MAX: no cut planned */
	int fin;                /* ends after the last queued message */
	int fin_reason;
	const char *fin_detail;
	uint64_t fin_time;
	int was_high;           /* queued reached the low watermark */
	struct sim_event ev;    /* the receiver's */
};

struct sim_end {
	struct io_conn base;    /* first */
	struct sim_link *link;
	struct sim_node node;   /* in sim->conns until its owner closes it */
	int side;
	int host;
	int owner_closed;
	int ended;              /* handlers.closed fired or is due */
	int paused;
	int fail_reason;
	const char *fail_detail;
	io_close_cb close_cb;
	struct sim_event ev_open, ev_timeout, ev_closed, ev_drained,
		ev_close_cb;
};

struct sim_link {
	struct sim *sim;
	struct sim_node node;
	struct sim_end *end[2];
	struct sim_dir dir[2];  /* dir[i]: sent by end[i] */
	int ends_live;
	int client_host, server_host, port;
	struct io_peer_config cfg;      /* the client's */
	int has_expected;
	uint8_t expected[IDENTITY_PUBLIC_BYTES];
	uint8_t server_key[IDENTITY_PUBLIC_BYTES];
	uint32_t hold;
	struct sim_event ev_connect;    /* the server's host */
};

/* Starts with its io, as io.h's struct io_listener does. */
struct sim_listener {
	struct io *io;
	struct sim_host *host;
	struct sim_node node;
	struct io_peer_config cfg;
	int port;
	int closed;
	io_accept_cb accept;
	io_reject_cb reject;
	void *data;
	struct io_listener_stats stats;
	io_listener_close_cb close_cb;
	struct sim_event ev_close;
};

static struct io_listener *listener_base(struct sim_listener *l)
{
	return (struct io_listener *)(void *)l;
}

static struct sim_listener *listener_of(const struct io_listener *l)
{
	return (struct sim_listener *)(uintptr_t)l;
}

static struct sim_end *end_of(const struct io_conn *c)
{
	return (struct sim_end *)(uintptr_t)c;
}

/* ------------------------------------------------------------ directions */

static void dir_arm(struct sim *s, struct sim_dir *d)
{
	if (d->head != NULL)
		sim_event_at(s, &d->ev, d->head->time);
	else if (d->fin)
		sim_event_at(s, &d->ev, d->fin_time);
	else
		sim_event_cancel(s, &d->ev);
}

/* Drops every queued message that ends after offset keep. */
static void dir_truncate(struct sim_dir *d, uint64_t keep)
{
	struct sim_msg **pp = &d->head, *m;

	d->tail = NULL;
	while ((m = *pp) != NULL) {
		if (m->end_off <= keep) {
			d->tail = m;
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		d->queued -= m->len + CHANNEL_OVERHEAD;
		free(m);
	}
}

/* The direction ends after the messages up to offset keep: its receiver
 * then sees handlers.closed(reason). */
static void dir_fin(struct sim *s, struct sim_dir *d, uint64_t keep,
		    int reason, const char *detail)
{
	uint64_t t = s->now + sim_latency(s);

	dir_truncate(d, keep);
	if (d->fin)
		return;
	d->fin = 1;
	d->fin_reason = reason;
	d->fin_detail = detail;
	if (d->tail != NULL && d->tail->time > t)
		t = d->tail->time;
	d->fin_time = t;
	dir_arm(s, d);
}

static void end_fire_closed(struct sim_end *e, int reason, const char *detail)
{
	if (e->ended || e->owner_closed)
		return;
	e->ended = 1;
	if (e->base.handlers.closed != NULL)
		e->base.handlers.closed(&e->base, reason, detail);
}

static void dir_deliver(struct sim *s, struct sim_event *ev)
{
	struct sim_dir *d = SIM_CONTAINER(ev, struct sim_dir, ev);
	struct sim_link *l = d->link;
	struct sim_end *to = l->end[!d->from];
	struct sim_end *from = l->end[d->from];
	struct sim_msg *m = d->head;

	if (to == NULL || to->owner_closed || !to->base.is_open || to->paused)
		return;   /* armed again by open or resume */
	if (m == NULL) {
		if (d->fin)
			end_fire_closed(to, d->fin_reason, d->fin_detail);
		return;
	}
	d->head = m->next;
	if (d->head == NULL)
		d->tail = NULL;
	d->queued -= m->len + CHANNEL_OVERHEAD;
	dir_arm(s, d);
	to->base.stats.bytes_in += m->len + CHANNEL_OVERHEAD;
	to->base.stats.messages_in++;
	if (!to->ended && to->base.handlers.message != NULL)
		to->base.handlers.message(&to->base, m->buf, m->len);
	free(m);
	if (from != NULL && d->was_high &&
	    d->queued < from->base.low_watermark) {
		d->was_high = 0;
		sim_event_at(s, &from->ev_drained, s->now);
	}
}

/* ------------------------------------------------------------ ends */

static void end_drained(struct sim *s, struct sim_event *ev)
{
	struct sim_end *e = SIM_CONTAINER(ev, struct sim_end, ev_drained);

	(void)s;
	if (!e->ended && !e->owner_closed && e->base.handlers.drained != NULL)
		e->base.handlers.drained(&e->base);
}

static void end_closed_ev(struct sim *s, struct sim_event *ev)
{
	struct sim_end *e = SIM_CONTAINER(ev, struct sim_end, ev_closed);

	(void)s;
	/* end_fail() marked it ended early so that sends fail at once;
	 * the handler itself fires now. */
	e->ended = 0;
	end_fire_closed(e, e->fail_reason, e->fail_detail);
}

/* Fails an end that has not opened: closed fires after delay. */
static void end_fail(struct sim *s, struct sim_end *e, uint64_t delay,
		     int reason, const char *detail)
{
	if (e->ended || e->owner_closed)
		return;
	e->ended = 1;   /* sends fail from now on */
	e->fail_reason = reason;
	e->fail_detail = detail;
	sim_event_cancel(s, &e->ev_open);
	sim_event_cancel(s, &e->ev_timeout);
	sim_event_at(s, &e->ev_closed, s->now + delay);
}

static void link_free(struct sim *s, struct sim_link *l)
{
	int i;

	for (i = 0; i < 2; i++) {
		dir_truncate(&l->dir[i], 0);
		sim_event_cancel(s, &l->dir[i].ev);
	}
	sim_event_cancel(s, &l->ev_connect);
	sim_list_del(&l->node);
	free(l);
}

static void end_free(struct sim *s, struct sim_end *e)
{
	struct sim_link *l = e->link;

	sim_event_cancel(s, &e->ev_open);
	sim_event_cancel(s, &e->ev_timeout);
	sim_event_cancel(s, &e->ev_closed);
	sim_event_cancel(s, &e->ev_drained);
	sim_event_cancel(s, &e->ev_close_cb);
	sim_list_del(&e->node);
	l->end[e->side] = NULL;
	/* Nothing more is delivered to it. */
	dir_truncate(&l->dir[!e->side], 0);
	sim_event_cancel(s, &l->dir[!e->side].ev);
	free(e);
	if (--l->ends_live == 0 && !sim_event_queued(&l->ev_connect))
		link_free(s, l);
}

static void end_close_cb(struct sim *s, struct sim_event *ev)
{
	struct sim_end *e = SIM_CONTAINER(ev, struct sim_end, ev_close_cb);

	if (e->close_cb != NULL)
		e->close_cb(&e->base);
	end_free(s, e);
}

static struct sim_end *end_new(struct sim *s, struct sim_link *l, int side,
			       int host, size_t low_watermark);

/* ------------------------------------------------------------ ops */

static int conn_send(struct io_conn *c, const uint8_t *msg, size_t len,
		     struct err *err)
{
	struct sim_end *e = end_of(c);
	struct sim_link *l = e->link;
	struct sim *s = l->sim;
	struct sim_dir *d = &l->dir[e->side];
	uint64_t wire = len + CHANNEL_OVERHEAD, t;
	struct sim_msg *m;

	if (len > CHANNEL_FRAME_MAX)
		return err_set(err, RUMOR_ETOOBIG, "message of %zu bytes over "
			       "the frame bound", len);
	if (!c->is_open || e->ended || e->owner_closed)
		return err_set(err, RUMOR_ECLOSED, "connection closed");
	c->stats.messages_out++;
	c->stats.bytes_out += wire;
	if (d->fin) {
		d->sent += wire;
		return 0;   /* broken, and the end has not heard yet */
	}
	if (d->sent + wire > d->cut_at) {
		d->sent += wire;
		dir_fin(s, d, d->cut_at, RUMOR_ENET, "connection cut");
		dir_fin(s, &l->dir[!e->side], 0, RUMOR_ENET,
			"connection cut");
		return 0;
	}
	m = malloc(sizeof(*m) + len);
	if (m == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	t = s->now + sim_latency(s);
	if (l->hold > 0)
		t += sim_below(s, l->hold);
	if (d->tail != NULL && d->tail->time > t)
		t = d->tail->time;
	m->next = NULL;
	m->time = t;
	m->len = len;
	if (len > 0)
		memcpy(m->buf, msg, len);
	d->sent += wire;
	m->end_off = d->sent;
	d->queued += wire;
	if (d->queued > s->peak_queued)
		s->peak_queued = d->queued;
	if (d->queued >= c->low_watermark)
		d->was_high = 1;
	if (d->tail == NULL) {
		d->head = d->tail = m;
		dir_arm(s, d);
	} else {
		d->tail->next = m;
		d->tail = m;
	}
	return 0;
}

static size_t conn_queued(const struct io_conn *c)
{
	const struct sim_end *e = end_of(c);

	return e->link->dir[e->side].queued;
}

static void conn_pause(struct io_conn *c)
{
	end_of(c)->paused = 1;
}

static void conn_resume(struct io_conn *c)
{
	struct sim_end *e = end_of(c);

	if (!e->paused)
		return;
	e->paused = 0;
	dir_arm(e->link->sim, &e->link->dir[!e->side]);
}

static int conn_peer_host(const struct io_conn *c, char *host, size_t len)
{
	const struct sim_end *e = end_of(c);
	const struct sim_link *l = e->link;

	if (e->ended || e->owner_closed || !c->is_open)
		return RUMOR_ENET;
	sim_host_addr(e->side == 0 ? l->server_host : l->client_host, host,
		      len);
	return 0;
}

static void conn_close(struct io_conn *c, io_close_cb cb)
{
	struct sim_end *e = end_of(c);
	struct sim_link *l = e->link;
	struct sim *s = l->sim;
	struct sim_dir *in = &l->dir[!e->side];

	if (e->owner_closed)
		return;
	e->owner_closed = 1;
	e->close_cb = cb;
	sim_list_del(&e->node);
	sim_event_cancel(s, &e->ev_open);
	sim_event_cancel(s, &e->ev_timeout);
	sim_event_cancel(s, &e->ev_closed);
	sim_event_cancel(s, &e->ev_drained);
	/* What is in flight to the peer still arrives, then it hears the
	 * close; what was coming here is lost. */
	if (l->end[!e->side] != NULL)
		dir_fin(s, &l->dir[e->side], UINT64_MAX, RUMOR_ECLOSED,
			"closed by peer");
	dir_truncate(in, 0);
	in->fin = 1;
	sim_event_cancel(s, &in->ev);
	sim_event_at(s, &e->ev_close_cb, s->now);
}

const struct io_conn_ops sim_conn_ops = {
	.send = conn_send,
	.queued = conn_queued,
	.pause = conn_pause,
	.resume = conn_resume,
	.peer_host = conn_peer_host,
	.close = conn_close,
};

static struct sim_end *end_new(struct sim *s, struct sim_link *l, int side,
			       int host, size_t low_watermark)
{
	struct sim_end *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->base.ops = &sim_conn_ops;
	e->base.inbound = side == 1;
	e->base.low_watermark = low_watermark ? low_watermark :
		IO_LOW_WATERMARK;
	e->link = l;
	e->side = side;
	e->host = host;
	sim_event_init(&e->ev_open, SIM_EV_CONN_OPEN, host, 0, NULL);
	sim_event_init(&e->ev_timeout, SIM_EV_CONN_TIMEOUT, host, 0, NULL);
	sim_event_init(&e->ev_closed, SIM_EV_CONN_CLOSED, host, 0,
		       end_closed_ev);
	sim_event_init(&e->ev_drained, SIM_EV_CONN_DELIVER, host, 0,
		       end_drained);
	sim_event_init(&e->ev_close_cb, SIM_EV_CONN_CLOSE_CB, host, 1,
		       end_close_cb);
	sim_list_add(&s->conns, &e->node);
	l->end[side] = e;
	l->ends_live++;
	/* The receiver's deliveries run on its host. */
	sim_event_init(&l->dir[!side].ev, SIM_EV_CONN_DELIVER, host, 0,
		       dir_deliver);
	return e;
}

/* ------------------------------------------------------------ dialing */

static void client_open(struct sim *s, struct sim_event *ev)
{
	struct sim_end *e = SIM_CONTAINER(ev, struct sim_end, ev_open);
	struct sim_link *l = e->link;

	if (e->ended || e->owner_closed)
		return;
	if (l->dir[1].fin && l->dir[1].head == NULL) {
		/* Broken before the last handshake message arrived. */
		end_fail(s, e, 0, RUMOR_ENET, "connection lost in handshake");
		return;
	}
	sim_event_cancel(s, &e->ev_timeout);
	memcpy(e->base.peer_key, l->server_key, sizeof(l->server_key));
	e->base.is_open = 1;
	if (e->base.handlers.open != NULL)
		e->base.handlers.open(&e->base);
	dir_arm(s, &l->dir[1]);
}

static void client_timeout(struct sim *s, struct sim_event *ev)
{
	struct sim_end *e = SIM_CONTAINER(ev, struct sim_end, ev_timeout);
	struct sim_link *l = e->link;

	if (e->base.is_open)
		return;
	if (l->end[1] != NULL) {
		dir_fin(s, &l->dir[0], 0, RUMOR_ETIMEDOUT, "handshake timed out");
		dir_fin(s, &l->dir[1], 0, RUMOR_ETIMEDOUT, "handshake timed out");
	}
	end_fail(s, e, 0, RUMOR_ETIMEDOUT, "handshake timed out");
}

static struct sim_listener *listener_find(struct sim *s, int host, int port)
{
	struct sim_node *n;
	struct sim_listener *l;

	for (n = s->listeners.next; n != &s->listeners; n = n->next) {
		l = SIM_CONTAINER(n, struct sim_listener, node);
		if (!l->closed && l->host->index == host && l->port == port)
			return l;
	}
	return NULL;
}

/* The handshake's verdict, from the configs of both ends: what the
 * real one would decide. NULL when both ends accept. */
static const char *auth_verdict(const struct sim_link *l,
				const struct sim_listener *ls)
{
	const struct io_peer_config *c = &l->cfg, *sv = &ls->cfg;

	if (memcmp(c->network_key, sv->network_key, NETWORK_KEY_BYTES) != 0)
		return "network key differs";
	if (sv->trusted != NULL &&
	    !trusted_keys_contains(sv->trusted, c->identity->public_key))
		return "client identity not trusted";
	if (c->trusted != NULL &&
	    !trusted_keys_contains(c->trusted, sv->identity->public_key))
		return "server identity not trusted";
	if (l->has_expected &&
	    memcmp(l->expected, sv->identity->public_key,
		   IDENTITY_PUBLIC_BYTES) != 0)
		return "server is not the expected identity";
	return NULL;
}

static void link_connect(struct sim *s, struct sim_event *ev)
{
	struct sim_link *l = SIM_CONTAINER(ev, struct sim_link, ev_connect);
	struct sim_end *c = l->end[0], *sv;
	struct sim_listener *ls;
	const char *why;

	if (c == NULL) {
		if (l->ends_live == 0)
			link_free(s, l);
		return;
	}
	if (c->ended || c->owner_closed ||
	    s->hosts[l->client_host].state == SIM_HOST_DEAD)
		return;
	ls = listener_find(s, l->server_host, l->port);
	if (ls == NULL || !sim_reachable(s, l->client_host, l->server_host)) {
		end_fail(s, c, sim_latency(s), RUMOR_ENET,
			 "connection refused or unreachable");
		return;
	}
	why = auth_verdict(l, ls);
	if (why != NULL) {
		ls->stats.rejected++;
		end_fail(s, c, sim_latency(s), RUMOR_EAUTH, why);
		if (ls->reject != NULL)
			ls->reject(listener_base(ls), RUMOR_EAUTH, why);
		return;
	}
	sv = end_new(s, l, 1, l->server_host, ls->cfg.low_watermark);
	if (sv == NULL) {
		end_fail(s, c, sim_latency(s), RUMOR_ENET, "out of memory");
		return;
	}
	memcpy(l->server_key, ls->cfg.identity->public_key,
	       IDENTITY_PUBLIC_BYTES);
	memcpy(sv->base.peer_key, l->cfg.identity->public_key,
	       IDENTITY_PUBLIC_BYTES);
	sv->base.is_open = 1;
	ls->stats.accepted++;
	sim_event_at(s, &c->ev_open, s->now + sim_latency(s));
	ls->accept(listener_base(ls), &sv->base);
}

int sim_io_dial(struct io *io, const struct io_peer_config *cfg,
		const struct sockaddr *addr, const uint8_t *expected_server_key,
		struct io_conn **out, struct err *err)
{
	struct sim_host *h = sim_host_of(io);
	struct sim *s = h->sim;
	struct sim_link *l;
	struct sim_end *e;
	unsigned timeout;
	int port = 0, to;

	if (addr == NULL || cfg == NULL || cfg->identity == NULL ||
	    cfg->network_key == NULL)
		return err_set(err, RUMOR_EINVAL, "dial: bad arguments");
	to = sim_addr_host(addr, &port);
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return err_set(err, RUMOR_ENOMEM, "dial: out of memory");
	l->sim = s;
	l->cfg = *cfg;
	l->client_host = h->index;
	l->server_host = to;
	l->port = port;
	l->hold = s->hold_max ? sim_below(s, s->hold_max + 1) : 0;
	if (expected_server_key != NULL) {
		l->has_expected = 1;
		memcpy(l->expected, expected_server_key, IDENTITY_PUBLIC_BYTES);
	}
	for (int i = 0; i < 2; i++) {
		l->dir[i].link = l;
		l->dir[i].from = i;
		l->dir[i].cut_at = UINT64_MAX;
	}
	sim_list_add(&s->links, &l->node);
	e = end_new(s, l, 0, h->index, cfg->low_watermark);
	if (e == NULL) {
		link_free(s, l);
		return err_set(err, RUMOR_ENOMEM, "dial: out of memory");
	}
	e->ev_open.fn = client_open;
	e->ev_timeout.fn = client_timeout;
	timeout = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms :
		IO_HANDSHAKE_TIMEOUT_MS;
	sim_event_at(s, &e->ev_timeout, s->now + timeout);
	/* The server side of the handshake runs on the server's host (a
	 * paused server leaves the client to time out). */
	sim_event_init(&l->ev_connect, SIM_EV_CONN_CONNECT,
		       to >= 0 && to < s->n_hosts ? to : h->index, 1,
		       link_connect);
	sim_event_at(s, &l->ev_connect, s->now + sim_latency(s));
	*out = &e->base;
	return 0;
}

/* ------------------------------------------------------------ listeners */

static void listener_close_fire(struct sim *s, struct sim_event *ev)
{
	struct sim_listener *l = SIM_CONTAINER(ev, struct sim_listener,
					       ev_close);

	(void)s;
	if (l->close_cb != NULL)
		l->close_cb(listener_base(l));
	sim_list_del(&l->node);
	free(l);
}

int sim_io_listen(struct io *io, const struct io_peer_config *cfg,
		  const char *host, int port, io_accept_cb accept,
		  io_reject_cb reject, void *data, struct io_listener **out,
		  struct err *err)
{
	struct sim_host *h = sim_host_of(io);
	struct sim *s = h->sim;
	struct sim_listener *l;
	struct in_addr a;
	char mine[16];

	if (host == NULL || accept == NULL || cfg == NULL ||
	    cfg->identity == NULL || cfg->network_key == NULL ||
	    port < 0 || port > 65535)
		return err_set(err, RUMOR_EINVAL, "listen: bad arguments");
	if (inet_pton(AF_INET, host, &a) != 1)
		return err_set(err, RUMOR_EINVAL, "listen: bad address %s",
			       host);
	sim_host_addr(h->index, mine, sizeof(mine));
	if (strcmp(host, mine) != 0 && strcmp(host, "0.0.0.0") != 0)
		return err_set(err, RUMOR_ENET, "listen: cannot bind %s on "
			       "host %s", host, mine);
	if (port == 0)
		port = s->next_port++;
	if (listener_find(s, h->index, port) != NULL)
		return err_set(err, RUMOR_ENET, "listen: %s:%d in use", mine,
			       port);
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return err_set(err, RUMOR_ENOMEM, "listen: out of memory");
	l->io = io;
	l->host = h;
	l->cfg = *cfg;
	l->port = port;
	l->accept = accept;
	l->reject = reject;
	l->data = data;
	sim_event_init(&l->ev_close, SIM_EV_LISTENER_CLOSE_CB, h->index, 1,
		       listener_close_fire);
	sim_list_add(&s->listeners, &l->node);
	*out = listener_base(l);
	return 0;
}

int sim_io_listener_port(const struct io_listener *l)
{
	return listener_of(l)->port;
}

void *sim_io_listener_data(const struct io_listener *l)
{
	return listener_of(l)->data;
}

struct io_listener_stats sim_io_listener_stats(const struct io_listener *l)
{
	return listener_of(l)->stats;
}

void sim_io_listener_close(struct io_listener *base, io_listener_close_cb cb)
{
	struct sim_listener *l = listener_of(base);

	if (l->closed)
		return;
	l->closed = 1;
	l->close_cb = cb;
	sim_event_at(l->host->sim, &l->ev_close, l->host->sim->now);
}

/* ------------------------------------------------------------ faults */

size_t sim_conn_count(const struct sim *s)
{
	const struct sim_node *n;
	size_t k = 0;

	for (n = s->conns.next; n != &s->conns; n = n->next)
		k++;
	return k;
}

struct io_conn *sim_conn_at(const struct sim *s, size_t i)
{
	const struct sim_node *n;

	for (n = s->conns.next; n != &s->conns; n = n->next)
		if (i-- == 0)
			return &SIM_CONTAINER(n, struct sim_end, node)->base;
	return NULL;
}

int sim_conn_host(const struct io_conn *c)
{
	if (c == NULL || c->ops != &sim_conn_ops)
		return -1;
	return end_of(c)->host;
}

uint64_t sim_conn_sent(const struct io_conn *c)
{
	const struct sim_end *e = end_of(c);

	return e->link->dir[e->side].sent;
}

static void link_break(struct sim *s, struct sim_link *l, const char *why)
{
	dir_fin(s, &l->dir[0], 0, RUMOR_ENET, why);
	dir_fin(s, &l->dir[1], 0, RUMOR_ENET, why);
}

void sim_conn_cut(struct io_conn *c, uint64_t at)
{
	struct sim_end *e = end_of(c);
	struct sim_link *l = e->link;
	struct sim_dir *d = &l->dir[e->side];

	if (l->end[1] == NULL || d->fin)
		return;   /* not connected, or already broken */
	d->cut_at = at;
	if (at <= d->sent) {
		dir_fin(l->sim, d, at, RUMOR_ENET, "connection cut");
		dir_fin(l->sim, &l->dir[!e->side], 0, RUMOR_ENET,
			"connection cut");
	}
}

void sim_conn_hold(struct io_conn *c, uint32_t extra_ms)
{
	end_of(c)->link->hold += extra_ms;
}

void sim_calm(struct sim *s)
{
	struct sim_node *n;

	s->hold_max = 0;
	for (n = s->links.next; n != &s->links; n = n->next) {
		struct sim_link *l = SIM_CONTAINER(n, struct sim_link, node);

		l->hold = 0;
		l->dir[0].cut_at = l->dir[1].cut_at = UINT64_MAX;
	}
}

void sim_conns_kill_host(struct sim *s, int host)
{
	struct sim_node *n;
	struct sim_link *l;

	for (n = s->links.next; n != &s->links; n = n->next) {
		l = SIM_CONTAINER(n, struct sim_link, node);
		if (l->end[1] == NULL)
			continue;   /* the connect step checks liveness */
		if (l->client_host == host || l->server_host == host)
			link_break(s, l, "peer process died");
	}
}

void sim_conns_partition(struct sim *s)
{
	struct sim_node *n;
	struct sim_link *l;

	for (n = s->links.next; n != &s->links; n = n->next) {
		l = SIM_CONTAINER(n, struct sim_link, node);
		if (l->end[1] == NULL)
			continue;
		if (s->hosts[l->client_host].group !=
		    s->hosts[l->server_host].group)
			link_break(s, l, "partitioned");
	}
}

void sim_conns_free_all(struct sim *s)
{
	struct sim_node *n;
	struct sim_link *l;

	while ((n = s->links.next) != &s->links) {
		l = SIM_CONTAINER(n, struct sim_link, node);
		for (int i = 0; i < 2; i++) {
			struct sim_end *e = l->end[i];

			if (e == NULL)
				continue;
			sim_list_del(&e->node);
			l->end[i] = NULL;
			free(e);
		}
		link_free(s, l);
	}
	while ((n = s->listeners.next) != &s->listeners) {
		sim_list_del(n);
		free(SIM_CONTAINER(n, struct sim_listener, node));
	}
}
