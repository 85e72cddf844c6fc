/* SPDX-License-Identifier: MIT */
/*
 * peer: the lifetime of a node's connections: made (dialed to seeds,
 * announced nodes and members, or accepted), opened (one connection per
 * pair of nodes, the member table told), closed and freed. What goes
 * over an open connection (sends, the sync session's glue, HELLO,
 * MEMBERS, PING, BYE) is in peer_msg.c.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "discovery/seeds.h"
#include "node/net_int.h"

struct peer *peer_find_open(struct node_net *net, const uint8_t *id,
				   const struct peer *except)
{
	struct peer *p;

	for (p = net->peers; p != NULL; p = p->next)
		if (p != except && !p->closed && p->open &&
		    memcmp(p->id, id, RUMOR_NODE_ID_BYTES) == 0)
			return p;
	return NULL;
}

int peer_exists(struct node_net *net, const uint8_t *id)
{
	struct peer *p;

	for (p = net->peers; p != NULL; p = p->next)
		if (!p->closed && memcmp(p->id, id, RUMOR_NODE_ID_BYTES) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ peers */

static void peer_on_closed(struct io_conn *c, int reason, const char *detail);
static void peer_on_open(struct io_conn *c);

static struct peer *peer_new(struct node_net *net, struct io_conn *c,
			     int outbound, long seed)
{
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
	err_clear(&err);
	if (peer_sync_new(p, &err) != 0) {
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
	prefixes_free(&p->repl);
	free(p);
	node_net_handle_closed(net);
}

void peer_close(struct peer *p, int reason, const char *detail)
{
	struct node_net *net = p->net;
	const struct sync_round_stats *st;

	if (p->closed)
		return;
	p->closed = 1;
	if (p->outbound && !p->open)
		net_dials_kick(net);    /* a dial ended: its slot is free */
	if (p->sync != NULL) {
		/* A round cut short still moved what it moved. */
		if (sync_session_busy(p->sync)) {
			st = sync_session_stats(p->sync);
			net->entries_sent += st->entries_sent;
			net->entries_received += st->entries_received;
		}
		live_stats_add(&net->live_closed, sync_live_stats(p->sync));
		sync_session_free(p->sync);
		p->sync = NULL;
	}
	if (p->open) {
		if (peer_find_open(net, p->id, p) == NULL) {
			members_set_connected(&net->members, p->id, false);
			/* Strong writes waiting on it fail now. */
			strong_peer_closed(p);
		}
		request_peer_ended(net, p->id, NULL);
		why_peer_closed(p);
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

/* Enters an open peer in the member table, connected. A peer the table
 * cannot take (full of members that are not gone) is refused and
 * closed: one outside the table would be left out of what tombstone
 * collection waits for. 0, or -1 with p closing. */
static int peer_admit_member(struct peer *p, uint64_t now)
{
	struct node_net *net = p->net;
	struct err err;
	int rv = -1;

	err_clear(&err);
	if (p->via_multicast)
		rv = members_upsert(&net->members, p->id, p->ann_host,
				    p->ann_port, MEMBER_VIA_MULTICAST, now,
				    &err);
	/* A bad announced address still leaves the member itself. */
	if (rv < 0) {
		err_clear(&err);
		rv = members_upsert(&net->members, p->id, NULL, 0,
				    MEMBER_VIA_PEER, now, &err);
	}
	if (rv >= 0) {
		members_set_connected(&net->members, p->id, true);
		return 0;
	}
	net->members_refused++;
	net_refuse(net, REFUSE_MEMBERS_FULL, "peer %.8s: %s", p->id_str,
		   err.msg);
	peer_close(p, rv, "the member table cannot take it");
	return -1;
}

int peer_readmit_member(struct peer *p, uint64_t now)
{
	/* A frame is direct contact (discovery/members.h): a node the table
	 * forgot while its connection lived on, silent across a long
	 * partition that reset nothing, comes back as it first came. */
	if (peer_admit_member(p, now) != 0)
		return -1;
	node_log(p->net->n, RUMOR_LOG_INFO, "peer %.8s: heard again after "
		 "the member table forgot it", p->id_str);
	return 0;
}

static void peer_became_open(struct peer *p)
{
	struct node_net *net = p->net;
	uint64_t now = net_now_ms(net);

	p->open = 1;
	if (p->outbound)
		net_dials_kick(net);    /* its dial slot is free */
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
	/* A node's origin is its id: its DIGEST speaks for its own seq. */
	sync_session_set_peer_origin(p->sync, p->id);
	/* Only now, with its identity proven, does it enter the table (an
	 * announcement alone proves at most the network key). */
	if (peer_admit_member(p, now) != 0)
		return;
	if (p->seed >= 0 && net->seeds != NULL)
		seeds_report_success(net->seeds, (size_t)p->seed);
	node_log(net->n, RUMOR_LOG_INFO, "peer %.8s: connected (%s)",
		 p->id_str, p->outbound ? "dialed" : "accepted");
	peer_send_hello(p);
}

static void peer_on_open(struct io_conn *c)
{
	peer_became_open(c->data);
}


static void peer_on_closed(struct io_conn *c, int reason, const char *detail)
{
	peer_close(c->data, reason ? reason : RUMOR_ECLOSED, detail);
}

/* ------------------------------------------------------------ dialing */

struct peer *peer_dial_now(struct node_net *net, const struct sockaddr *addr,
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

int peer_dial_member(struct node_net *net, const struct member *m,
		     size_t addr)
{
	struct sockaddr_storage ss;
	char buf[MEMBER_HOST_MAX + 16];
	struct err err;

	if (m->n_addrs == 0 || peer_exists(net, m->id))
		return -1;
	if (addr >= m->n_addrs)
		addr = 0;
	net_format_addr(buf, sizeof buf, m->addrs[addr].host,
			m->addrs[addr].port);
	err_clear(&err);
	if (hostport_parse_addr(buf, &ss, &err) != 0)
		return -1;
	net_dial(net, (struct sockaddr *)&ss, m->id, -1, NULL, 0);
	return 0;
}

void peer_on_seed_resolved(void *arg, size_t index, const char *seed,
			     const struct sockaddr *addr)
{
	struct node_net *net = arg;

	(void)seed;
	net_dial(net, addr, NULL, (long)index, NULL, 0);
}

void peer_on_accept(struct io_listener *l, struct io_conn *c)
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

void peer_on_reject(struct io_listener *l, int reason, const char *detail)
{
	struct node_net *net = io_listener_data(l);

	node_log(net->n, RUMOR_LOG_DEBUG, "refused a connection: %s (%s)",
		 detail, rumor_strerror(reason));
}
