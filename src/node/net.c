/* SPDX-License-Identifier: MIT */
/*
 * net: the network side of a node: start (listener, multicast, seeds,
 * timers), reload (trusted keys, seeds) and close; announcements and the
 * cap on outbound dials they (and gossip, and seeds) trigger. Connections
 * are in peer.c and peer_msg.c, the schedule in sched.c, requests in
 * request.c, reports in status.c. The member table survives restarts in
 * DATA/members.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discovery/multicast.h"
#include "discovery/seeds.h"
#include "node/net_int.h"

/* ------------------------------------------------------------ member file */

/* DATA/members in buf; false when it does not fit. */
static bool members_path(const struct node_net *net, char *buf, size_t len,
			 const char *suffix)
{
	int w = snprintf(buf, len, "%s/%s%s", net->n->data_dir,
			 NET_MEMBERS_FILE, suffix);

	return w > 0 && (size_t)w < len;
}

/* Reads at most max bytes of path into a new buffer (caller frees).
 * RUMOR_ENOTFOUND when the file does not exist. */
static int read_small_file(const char *path, size_t max, char **out,
			   size_t *len, struct err *err)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT
			? RUMOR_ENOTFOUND
			: err_set(err, RUMOR_EIO, "open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max) {
		close(fd);
		return err_set(err, RUMOR_ECORRUPT,
			       "not a regular file of at most %zu bytes", max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

/* Loads DATA/members into the empty table. The file is input like any
 * other: unreadable or malformed, it is logged and ignored, and the node
 * starts with an empty table (as before the file existed). */
static void net_members_load(struct node_net *net)
{
	char path[4096];
	char *buf = NULL;
	size_t len = 0;
	struct err err;
	int rv;

	if (!members_path(net, path, sizeof path, ""))
		return;
	err_clear(&err);
	rv = read_small_file(path, sizeof MEMBERS_FILE_MAGIC +
				   net->members.cfg.max_members * MEMBERS_LINE_MAX,
			     &buf, &len, &err);
	if (rv == 0)
		rv = members_load(&net->members, buf, len, net_now_ms(net), &err);
	free(buf);
	if (rv > 0)
		node_log(net->n, RUMOR_LOG_INFO,
			 "remembered %d members from %s", rv, path);
	else if (rv != RUMOR_ENOTFOUND)
		node_log(net->n, RUMOR_LOG_WARN,
			 "ignoring the member list %s: %s; starting with an empty member table",
			 path, err.msg);
	net->members_saved = net->members.changes;
}

/* Writes buf to path atomically: a temporary file, fsync, rename, fsync
 * of the directory. */
static int write_atomic(const char *path, const char *tmp, const char *dir,
			const char *buf, size_t len, struct err *err)
{
	size_t done = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		      0600);

	if (fd < 0)
		return err_set(err, RUMOR_EIO, "%s: %s", tmp, strerror(errno));
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done < len || fsync(fd) != 0) {
		err_set(err, RUMOR_EIO, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return RUMOR_EIO;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		err_set(err, RUMOR_EIO, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return RUMOR_EIO;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

void net_members_save(struct node_net *net)
{
	char path[4096], tmp[4096];
	char *buf = NULL;
	size_t len = 0;
	struct err err;
	int rv;

	if (net->members.changes == net->members_saved)
		return;
	err_clear(&err);
	if (!members_path(net, path, sizeof path, "") ||
	    !members_path(net, tmp, sizeof tmp, ".tmp"))
		rv = err_set(&err, RUMOR_EINVAL, "data directory path too long");
	else
		rv = members_encode(&net->members, &buf, &len, &err);
	if (rv == 0)
		rv = write_atomic(path, tmp, net->n->data_dir, buf, len, &err);
	free(buf);
	if (rv == 0) {
		net->members_saved = net->members.changes;
		net->members_save_failed = 0;
	} else if (!net->members_save_failed) {
		/* Retried every tick; logged once until it works again. */
		net->members_save_failed = 1;
		node_log(net->n, RUMOR_LOG_WARN,
			 "cannot save the member list: %s", err.msg);
	}
}

/* ------------------------------------------------------------ dials */

/* Outbound connections whose handshake is not done. */
static unsigned dials_in_flight(const struct node_net *net)
{
	unsigned n = 0;

	for (const struct peer *p = net->peers; p != NULL; p = p->next)
		n += p->outbound && !p->open && !p->closed;
	return n;
}

static void dial_start(struct node_net *net, const struct net_dial *d)
{
	struct peer *p;

	if (d->has_id && peer_exists(net, d->id))
		return;
	p = peer_dial_now(net, (const struct sockaddr *)&d->addr,
			  d->has_id ? d->id : NULL, d->seed);
	if (p != NULL && d->via_multicast) {
		p->via_multicast = 1;
		snprintf(p->ann_host, sizeof p->ann_host, "%s", d->ann_host);
		p->ann_port = d->ann_port;
	}
}

/* The queued entry for the same target as d, or NULL. */
static struct net_dial *dialq_find(struct node_net *net,
				   const struct net_dial *d)
{
	for (size_t i = 0; i < net->n_dialq; i++) {
		struct net_dial *q = &net->dialq[i];

		if (d->has_id ? q->has_id && memcmp(q->id, d->id,
						    sizeof q->id) == 0
			      : !q->has_id && q->seed == d->seed)
			return q;
	}
	return NULL;
}

static void dialq_remove(struct node_net *net, size_t i)
{
	net->dialq[i] = net->dialq[--net->n_dialq];
}

/* The entry to run next: the most asked for, then the oldest. An
 * index; the queue is not empty. */
static size_t dialq_best(const struct node_net *net)
{
	size_t k = 0;

	for (size_t i = 1; i < net->n_dialq; i++) {
		const struct net_dial *a = &net->dialq[i], *b = &net->dialq[k];

		if (a->heard > b->heard ||
		    (a->heard == b->heard && a->queued_ms < b->queued_ms))
			k = i;
	}
	return k;
}

/* The entry to drop from a full queue: one of the least asked for, at
 * random, so that a flood of ids heard once cannot aim at a genuine
 * node's entry before its next announcement raises it. */
static size_t dialq_victim(const struct node_net *net)
{
	uint32_t least = UINT32_MAX, n = 0, pick;
	size_t i;

	for (i = 0; i < net->n_dialq; i++) {
		if (net->dialq[i].heard < least) {
			least = net->dialq[i].heard;
			n = 0;
		}
		n += net->dialq[i].heard == least;
	}
	pick = io_random(net->n->io, n);
	for (i = 0; i < net->n_dialq; i++)
		if (net->dialq[i].heard == least && pick-- == 0)
			break;
	return i;
}

/* Queues d, or counts it again when its target waits already: a node
 * that keeps announcing itself moves ahead of ids heard once (a flood
 * of random ids). */
static void dialq_add(struct node_net *net, const struct net_dial *d)
{
	struct net_dial *q = dialq_find(net, d);

	if (q != NULL) {
		uint32_t heard = q->heard;
		uint64_t since = q->queued_ms;

		*q = *d;    /* the newest address */
		q->heard = heard < UINT32_MAX ? heard + 1 : heard;
		q->queued_ms = since;
		return;
	}
	if (net->n_dialq == NET_DIAL_QUEUE_MAX)
		dialq_remove(net, dialq_victim(net));
	net->dialq[net->n_dialq++] = *d;
	net_refuse(net, REFUSE_DIALS_DEFERRED,
		   "%zu dials waiting, %u in flight", net->n_dialq,
		   NET_DIALS_MAX);
}

static void dial_timer_cb(struct io_timer *t)
{
	struct node_net *net = t->data;
	uint64_t now = net_now_ms(net);
	unsigned busy;
	size_t i;

	/* Expired entries go: their announcement is long stale. */
	for (i = 0; i < net->n_dialq;) {
		if (now - net->dialq[i].queued_ms > NET_DIAL_QUEUE_TTL_MS)
			dialq_remove(net, i);
		else
			i++;
	}
	busy = dials_in_flight(net);
	while (!net->closing && busy < NET_DIALS_MAX && net->n_dialq > 0) {
		struct net_dial d;

		i = dialq_best(net);
		d = net->dialq[i];
		dialq_remove(net, i);
		dial_start(net, &d);
		busy = dials_in_flight(net);
	}
}

void net_dials_kick(struct node_net *net)
{
	if (net->n_dialq > 0 && net->dial_timer != NULL && !net->closing)
		io_timer_start(net->dial_timer, 0, 0);
}

void net_dial(struct node_net *net, const struct sockaddr *addr,
	      const uint8_t *id, long seed, const char *ann_host,
	      uint16_t ann_port)
{
	struct net_dial d;

	if (net->closing || (id != NULL && peer_exists(net, id)))
		return;
	memset(&d, 0, sizeof d);
	memcpy(&d.addr, addr, addr->sa_family == AF_INET6
				      ? sizeof(struct sockaddr_in6)
				      : sizeof(struct sockaddr_in));
	if (id != NULL) {
		memcpy(d.id, id, sizeof d.id);
		d.has_id = 1;
	}
	d.seed = seed;
	if (ann_host != NULL) {
		d.via_multicast = 1;
		snprintf(d.ann_host, sizeof d.ann_host, "%s", ann_host);
		d.ann_port = ann_port;
	}
	d.heard = 1;
	d.queued_ms = net_now_ms(net);
	/* A queue that waits goes first: no overtaking it. */
	if (net->n_dialq == 0 && dials_in_flight(net) < NET_DIALS_MAX) {
		dial_start(net, &d);
		return;
	}
	dialq_add(net, &d);
}

void net_on_announcement(void *arg, const struct announce *a,
			 const struct sockaddr *from)
{
	struct node_net *net = arg;
	char host[MEMBER_HOST_MAX] = "";

	/* multicast passes on-link, specified sources only. The host kept
	 * for the member table has no scope: an IPv6 link-local one is
	 * reached through this dial (from carries the scope), not redialed
	 * from the table. */
	if (from->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)from)->sin_addr,
			  host, sizeof host);
	else if (from->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)from)->sin6_addr, host,
			  sizeof host);
	else
		return;
	/* The announcement proves the network key, not the identity: dial
	 * it, expecting that identity, and let the handshake decide. The
	 * member enters the table when the connection opens. */
	net_dial(net, from, a->node_id, -1, host, a->port);
}

/* ------------------------------------------------------------ reload */

/* The seed list of o, not started, dialing through peer.c. A bad list
 * is RUMOR_ECONFIG, its message prefixed with what. */
static int net_seeds_create(struct node_net *net, const struct rumor_options *o,
			    struct seeds **out, const char *what,
			    struct err *err)
{
	struct seeds_config sc;

	memset(&sc, 0, sizeof sc);
	sc.on_resolved = peer_on_seed_resolved;
	sc.arg = net;
	if (seeds_create(out, net->n->io, o->peers, o->n_peers, &sc,
			 err) == 0)
		return 0;
	err_wrap(err, "%s", what);
	err->code = RUMOR_ECONFIG;
	return RUMOR_ECONFIG;
}

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
		rv = net_seeds_create(net, o, &seeds, "peers", err);
		if (rv != 0) {
			if (have_tk)
				trusted_keys_free(&tk);
			return rv;
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

static void component_closed_cb(void *arg)
{
	node_net_handle_closed(arg);
}

static void listener_closed_cb(struct io_listener *l)
{
	node_net_handle_closed(io_listener_data(l));
}

static void net_timers_free(struct node_net *net)
{
	io_timer_free(net->round_timer);
	io_timer_free(net->tick_timer);
	io_timer_free(net->push_timer);
	io_timer_free(net->pump_timer);
	io_timer_free(net->dial_timer);
	io_timer_free(net->live_timer);
	io_timer_free(net->lazy_timer);
	net->round_timer = net->tick_timer = NULL;
	net->push_timer = net->pump_timer = net->dial_timer = NULL;
	net->live_timer = net->lazy_timer = NULL;
}

/* The schedule's timers, stopped. On failure none is left. */
static int net_timers_new(struct node_net *net, struct err *err)
{
	struct io *io = net->n->io;

	net->round_timer = io_timer_new(io, sched_round_cb, net);
	net->tick_timer = io_timer_new(io, sched_tick_cb, net);
	net->push_timer = io_timer_new(io, sched_push_cb, net);
	net->pump_timer = io_timer_new(io, peer_pump_cb, net);
	net->dial_timer = io_timer_new(io, dial_timer_cb, net);
	net->live_timer = io_timer_new(io, sched_live_cb, net);
	net->lazy_timer = io_timer_new(io, net_lazy_cb, net);
	if (net->round_timer != NULL && net->tick_timer != NULL &&
	    net->push_timer != NULL && net->pump_timer != NULL &&
	    net->dial_timer != NULL && net->live_timer != NULL &&
	    net->lazy_timer != NULL)
		return 0;
	net_timers_free(net);
	return err_set(err, RUMOR_ENOMEM, "out of memory for timers");
}

/* The member table and the pace, from the options. On failure nothing
 * is left to free. */
static int net_init_tables(struct node_net *net, const struct rumor_options *o,
			   struct err *err)
{
	struct members_config mcfg;
	struct pace_config pc;
	int rv;

	memset(&mcfg, 0, sizeof mcfg);
	mcfg.suspect_after_ms = o->suspect_after_ms;
	mcfg.gone_after_ms = o->gone_after_ms;
	if (mcfg.gone_after_ms != 0 &&
	    mcfg.gone_after_ms < MEMBERS_FORGET_AFTER_MS_DEFAULT)
		mcfg.forget_after_ms = 10u * mcfg.gone_after_ms;
	rv = members_init(&net->members, net->n->id.public_key, &mcfg, err);
	if (rv != 0)
		return rv;
	pace_config_default(&pc);
	if (o->interval_min_ms != 0)
		pc.min_interval_ms = o->interval_min_ms;
	if (o->interval_max_ms != 0)
		pc.max_interval_ms = o->interval_max_ms;
	if (pc.kick_delay_ms > pc.max_interval_ms)
		pc.kick_delay_ms = pc.max_interval_ms;
	rv = pace_init(&net->pace, &pc, net_now_ms(net), err);
	if (rv != 0) {
		members_free(&net->members);
		err_wrap(err, "reconciliation interval");
		err->code = RUMOR_ECONFIG;
		return RUMOR_ECONFIG;
	}
	return 0;
}

/* Multicast (when listening and not turned off) and the seed list.
 * What started is closed by node_net_close() on failure. */
static int net_start_discovery(struct node_net *net,
			       const struct rumor_options *o, struct err *err)
{
	int rv;

	if (net->listener != NULL && !o->no_multicast) {
		struct multicast_config mc;

		multicast_config_init(&mc);
		mc.group = o->multicast;
		mc.group6 = o->multicast6;
		mc.interface6 = o->multicast6_interface;
		mc.no_ipv6 = o->no_multicast6 != 0;
		memcpy(mc.node_id, net->n->id.public_key, RUMOR_NODE_ID_BYTES);
		mc.listen_port = (uint16_t)net->listen_port;
		mc.network_key = net->n->network_key;
		mc.on_peer = net_on_announcement;
		mc.arg = net;
		rv = multicast_start(&net->mc, net->n->io, &mc, err);
		if (rv != 0) {
			err_wrap(err, "multicast");
			return rv;
		}
		net->open_handles++;
	}
	if (o->n_peers > 0) {
		rv = net_seeds_create(net, o, &net->seeds, "--peer", err);
		if (rv != 0)
			return rv;
		net->open_handles++;
		seeds_start(net->seeds);
	}
	return 0;
}

int node_net_start(struct rumor *n, const struct rumor_options *o,
		   struct err *err)
{
	struct node_net *net = calloc(1, sizeof *net);
	uint16_t port = 0;
	int rv;

	if (net == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	net->n = n;
	histogram_init(&net->round_seconds, histogram_seconds_bounds,
		       histogram_seconds_n);
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
	rv = net_init_tables(net, o, err);
	if (rv != 0)
		goto err_after_trusted;
	net_members_load(net);
	rv = net_timers_new(net, err);
	if (rv != 0)
		goto err_after_members;
	if (o->listen != NULL) {
		rv = hostport_parse(o->listen, 1, net->listen_host, &port, err);
		if (rv != 0) {
			err_wrap(err, "--listen");
			goto err_after_timers;
		}
		rv = n->io->ops->listen(n->io, &net->io, net->listen_host,
					port, peer_on_accept, peer_on_reject,
					net, &net->listener, err);
		if (rv != 0)
			goto err_after_timers;
		net->open_handles++;
		net->listen_port = n->io->ops->listener_port(net->listener);
	}
	/* From here on, failures close what was started through the normal
	 * close path; n->net is set so that it can. */
	n->net = net;
	if (why_open(net) != 0) {
		rv = err_set(err, RUMOR_ENOMEM, "out of memory");
		goto err_started;
	}
	rv = net_start_discovery(net, o, err);
	if (rv != 0)
		goto err_started;
	net->catchup_wait_ms = o->catchup_wait_ms;
	if (net->mc != NULL || net->seeds != NULL)
		sched_catchup_start(net, o->catchup_wait_ms);
	sched_start(net);
	if (net->listener != NULL) {
		struct multicast_stats ms = { 0 };

		if (net->mc != NULL)
			multicast_stats(net->mc, &ms);
		node_log(n, RUMOR_LOG_INFO, "listening on %s:%d%s%s%s",
			 net->listen_host, net->listen_port,
			 net->mc != NULL ? ", announcing by multicast over" : "",
			 ms.ipv4 ? " IPv4" : "",
			 ms.ipv6 ? (ms.ipv4 ? " and IPv6" : " IPv6") : "");
	}
	return 0;

err_started:
	/* The caller closes the node, which closes what started. */
	return rv;
err_after_timers:
	net_timers_free(net);
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
	net_members_save(net);
	/* The node itself counts as a handle until everything is started
	 * closing, so that done() cannot fire half-way through. */
	net->open_handles++;
	request_finish_all(net);
	why_close(net);
	/* Writes held for catch-up are answered (refused: still catching
	 * up) rather than left waiting on a network that is going. */
	sched_catchup_wake(net);
	for (p = net->peers; p != NULL; p = next) {
		next = p->next;
		if (p->open && !p->closed) {
			struct err err;
			err_clear(&err);
			if (wire_encode_bye(&net->out, WIRE_BYE_SHUTDOWN, &err) == 0)
				peer_send(p, &net->out);
		}
		peer_close(p, 0, NULL);
	}
	if (net->listener != NULL)
		n->io->ops->listener_close(net->listener, listener_closed_cb);
	if (net->mc != NULL)
		multicast_close(net->mc, component_closed_cb, net);
	if (net->seeds != NULL)
		seeds_close(net->seeds, component_closed_cb, net);
	net_timers_free(net);
	node_net_handle_closed(net);
}
