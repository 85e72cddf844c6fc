/* SPDX-License-Identifier: MIT */
/* multicast: announce and listen on an IPv4 multicast group (io). */
#include "discovery/multicast.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "discovery/hostport.h"
#include "io/io.h"

struct multicast {
	struct io *io;
	struct io_udp *udp;
	struct io_timer *timer;
	struct multicast_config cfg;    /* network_key pointer cleared */
	char iface[INET_ADDRSTRLEN];    /* "" when none */
	struct sockaddr_in group_addr;
	struct announce_keys keys;
	struct announce_verifier verifier;
	struct multicast_stats stats;
	bool closing;
	void (*close_cb)(void *arg);
	void *close_arg;
};

void multicast_config_init(struct multicast_config *c)
{
	memset(c, 0, sizeof *c);
	c->group = NULL;
	c->ttl = MULTICAST_TTL_DEFAULT;
	c->loopback = true;
	c->interval_ms = MULTICAST_INTERVAL_MS_DEFAULT;
	c->jitter_pct = MULTICAST_JITTER_PCT_DEFAULT;
}


/* The next interval: interval +- jitter_pct percent, uniformly, so that
 * nodes started together spread their announcements out. */
static uint64_t next_interval_ms(const struct multicast *m)
{
	uint64_t base = m->cfg.interval_ms;
	uint64_t spread = base * m->cfg.jitter_pct / 100u;

	if (spread == 0)
		return base;
	return base - spread + io_random(m->io, (uint32_t)(2 * spread + 1));
}

static void send_announcement(struct multicast *m)
{
	struct announce a;
	uint8_t pkt[ANNOUNCE_BYTES];

	memcpy(a.node_id, m->cfg.node_id, ANNOUNCE_ID_BYTES);
	a.port = m->cfg.listen_port;
	a.timestamp_ms = io_wall_ms(m->io);
	randombytes_buf(a.nonce, sizeof a.nonce);
	announce_encode(&m->keys, &a, pkt);
	/* A full socket buffer just costs one announcement (counted). */
	if (m->io->ops->udp_send(m->udp, pkt, sizeof pkt) == 0)
		m->stats.sent++;
	else
		m->stats.send_errors++;
}

static void on_timer(struct io_timer *t)
{
	struct multicast *m = t->data;

	send_announcement(m);
	io_timer_start(m->timer, next_interval_ms(m), 0);
}

static void on_recv(struct io_udp *u, const uint8_t *buf, size_t len,
		    const struct sockaddr *addr)
{
	struct multicast *m = io_udp_data(u);
	struct sockaddr_in from;
	struct announce a;
	enum announce_reason r;

	m->stats.received++;
	r = announce_verify(&m->verifier, buf, len, io_wall_ms(m->io), &a);
	if (r == ANNOUNCE_OK && (addr == NULL || addr->sa_family != AF_INET))
		r = ANNOUNCE_MALFORMED; /* cannot happen on an IPv4 socket */
	m->stats.dropped[r]++;
	if (r != ANNOUNCE_OK)
		return;
	m->stats.accepted++;
	memcpy(&from, addr, sizeof from);
	from.sin_port = htons(a.port);
	m->cfg.on_peer(m->cfg.arg, &a, (const struct sockaddr *)&from);
}

void multicast_stats(const struct multicast *m, struct multicast_stats *out)
{
	*out = m->stats;
}

/* The socket is gone (the timer went at once): nothing calls back now. */
static void on_udp_closed(void *arg)
{
	struct multicast *m = arg;
	void (*cb)(void *) = m->close_cb;
	void *cb_arg = m->close_arg;

	announce_verifier_wipe(&m->verifier);
	announce_keys_wipe(&m->keys);
	free(m);
	if (cb != NULL)
		cb(cb_arg);
}

void multicast_close(struct multicast *m, void (*cb)(void *arg), void *arg)
{
	assert(!m->closing);
	m->closing = true;
	m->close_cb = cb;
	m->close_arg = arg;
	io_timer_free(m->timer);
	m->timer = NULL;
	m->io->ops->udp_close(m->udp, on_udp_closed, m);
}

/* Checks c and fills the parsed fields of m. */
static int parse_config(struct multicast *m, const struct multicast_config *c,
			struct err *err)
{
	char host[HOSTPORT_HOST_MAX];
	struct in_addr ia;
	uint16_t port;
	int rv;

	if (c->network_key == NULL || c->on_peer == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "multicast: network key and callback required");
	if (c->listen_port == 0)
		return err_set(err, RUMOR_EINVAL,
			       "multicast: cannot announce listening port 0");
	if (c->ttl < 0 || c->ttl > 255)
		return err_set(err, RUMOR_EINVAL,
			       "multicast: TTL %d outside 0..255", c->ttl);
	if (c->interval_ms == 0 || c->jitter_pct >= 100)
		return err_set(err, RUMOR_EINVAL,
			       "multicast: interval must be > 0 ms and jitter "
			       "< 100%%");
	rv = hostport_parse(c->group != NULL ? c->group : MULTICAST_DEFAULT, 0,
			    host, &port, err);
	if (rv != 0) {
		err_wrap(err, "multicast group");
		return rv;
	}
	if (inet_pton(AF_INET, host, &ia) != 1)
		return err_set(err, RUMOR_EINVAL,
			       "multicast group \"%s\": not an IPv4 address "
			       "(only IPv4 multicast is supported)", host);
	if ((ntohl(ia.s_addr) >> 28) != 0xe)
		return err_set(err, RUMOR_EINVAL,
			       "multicast group %s: not in 224.0.0.0/4", host);
	memset(&m->group_addr, 0, sizeof m->group_addr);
	m->group_addr.sin_family = AF_INET;
	m->group_addr.sin_addr = ia;
	m->group_addr.sin_port = htons(port);
	m->iface[0] = '\0';
	if (c->interface != NULL) {
		if (inet_pton(AF_INET, c->interface, &ia) != 1)
			return err_set(err, RUMOR_EINVAL,
				       "multicast interface \"%s\": not an IPv4 "
				       "address", c->interface);
		strcpy(m->iface, c->interface);
	}
	return 0;
}

int multicast_start(struct multicast **out, struct io *io,
		    const struct multicast_config *c, struct err *err)
{
	struct io_udp_config uc;
	struct multicast *m;
	int rv;

	m = calloc(1, sizeof *m);
	if (m == NULL)
		return err_set(err, RUMOR_ENOMEM, "multicast: out of memory");
	rv = parse_config(m, c, err);
	if (rv != 0)
		goto err_after_alloc;
	m->io = io;
	m->cfg = *c;
	m->cfg.network_key = NULL; /* only the derived keys are kept */
	m->timer = io_timer_new(io, on_timer, m);
	if (m->timer == NULL) {
		rv = err_set(err, RUMOR_ENOMEM, "multicast: out of memory");
		goto err_after_alloc;
	}
	memset(&uc, 0, sizeof uc);
	uc.group = (const struct sockaddr *)&m->group_addr;
	uc.interface = m->iface[0] != '\0' ? m->iface : NULL;
	uc.ttl = c->ttl;
	uc.loopback = c->loopback;
	rv = io->ops->udp_open(io, &uc, on_recv, m, &m->udp, err);
	if (rv != 0) {
		err_wrap(err, "multicast");
		io_timer_free(m->timer);
		goto err_after_alloc;
	}
	announce_keys_derive(&m->keys, c->network_key);
	announce_verifier_init(&m->verifier, c->network_key, c->node_id,
			       c->window_ms);
	/* First announcement at once, on the loop's next turn. */
	io_timer_start(m->timer, 0, 0);
	*out = m;
	return 0;

err_after_alloc:
	free(m);
	return rv;
}
