/* SPDX-License-Identifier: MIT */
/* multicast: announce and listen on an IPv4 multicast group (libuv). */
#include "discovery/multicast.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "discovery/hostport.h"

/* Big enough that an oversized datagram shows up as a bad length rather
 * than being cut to a plausible size. */
#define RECV_BUF_BYTES 512

struct multicast {
	uv_loop_t *loop;
	uv_udp_t udp;
	uv_timer_t timer;
	struct multicast_config cfg;    /* network_key pointer cleared */
	char group[INET_ADDRSTRLEN];
	char iface[INET_ADDRSTRLEN];    /* "" when none */
	struct sockaddr_in group_addr;
	struct announce_keys keys;
	struct announce_verifier verifier;
	struct multicast_stats stats;
	int open_handles;               /* freed when it drops to 0 */
	bool joined;
	bool closing;
	void (*close_cb)(void *arg);
	void *close_arg;
	uint8_t recv_buf[RECV_BUF_BYTES];
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

static uint64_t wall_now_ms(const struct multicast *m)
{
	uv_timeval64_t tv;

	if (m->cfg.wall_clock_ms != NULL)
		return m->cfg.wall_clock_ms(m->cfg.clock_arg);
	if (uv_gettimeofday(&tv) != 0)
		return 0;
	return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/* The next interval: interval +- jitter_pct percent, uniformly, so that
 * nodes started together spread their announcements out. */
static uint64_t next_interval_ms(const struct multicast *m)
{
	uint64_t base = m->cfg.interval_ms;
	uint64_t spread = base * m->cfg.jitter_pct / 100u;

	if (spread == 0)
		return base;
	return base - spread +
	       randombytes_uniform((uint32_t)(2 * spread + 1));
}

static void send_announcement(struct multicast *m)
{
	struct announce a;
	uint8_t pkt[ANNOUNCE_BYTES];
	uv_buf_t buf;
	int rv;

	memcpy(a.node_id, m->cfg.node_id, ANNOUNCE_ID_BYTES);
	a.port = m->cfg.listen_port;
	a.timestamp_ms = wall_now_ms(m);
	randombytes_buf(a.nonce, sizeof a.nonce);
	announce_encode(&m->keys, &a, pkt);
	buf = uv_buf_init((char *)pkt, sizeof pkt);
	/* try_send copies nothing and needs no request to keep alive; a
	 * full socket buffer just costs one announcement (counted). */
	rv = uv_udp_try_send(&m->udp, &buf, 1,
			     (const struct sockaddr *)&m->group_addr);
	if (rv == (int)sizeof pkt)
		m->stats.sent++;
	else
		m->stats.send_errors++;
}

static void on_timer(uv_timer_t *t)
{
	struct multicast *m = t->data;

	if (m->closing)
		return;
	send_announcement(m);
	uv_timer_start(&m->timer, on_timer, next_interval_ms(m), 0);
}

void multicast_announce_now(struct multicast *m)
{
	assert(!m->closing);
	send_announcement(m);
	uv_timer_start(&m->timer, on_timer, next_interval_ms(m), 0);
}

void multicast_set_listen_port(struct multicast *m, uint16_t port)
{
	assert(port != 0);
	m->cfg.listen_port = port;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct multicast *m = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)m->recv_buf, sizeof m->recv_buf);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
		    const struct sockaddr *addr, unsigned flags)
{
	struct multicast *m = h->data;
	struct sockaddr_in from;
	struct announce a;
	enum announce_reason r;

	if (m->closing)
		return;
	if (nread < 0) {
		m->stats.recv_errors++;
		return;
	}
	if (nread == 0 && addr == NULL)
		return; /* nothing more to read now */
	m->stats.received++;
	if ((flags & UV_UDP_PARTIAL) != 0)
		r = ANNOUNCE_BAD_LENGTH;
	else
		r = announce_verify(&m->verifier, (const uint8_t *)buf->base,
				    (size_t)nread, wall_now_ms(m), &a);
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

static void on_handle_closed(uv_handle_t *h)
{
	struct multicast *m = h->data;
	void (*cb)(void *);
	void *arg;

	assert(m->open_handles > 0);
	if (--m->open_handles > 0)
		return;
	cb = m->close_cb;
	arg = m->close_arg;
	announce_verifier_wipe(&m->verifier);
	announce_keys_wipe(&m->keys);
	free(m);
	if (cb != NULL)
		cb(arg);
}

static void close_handles(struct multicast *m)
{
	m->closing = true;
	if (m->joined) {
		/* Leaving explicitly tells the switches (IGMP) at once
		 * instead of at the next query; closing would too. */
		uv_udp_set_membership(&m->udp, m->group,
				      m->iface[0] != '\0' ? m->iface : NULL,
				      UV_LEAVE_GROUP);
		m->joined = false;
	}
	uv_udp_recv_stop(&m->udp);
	uv_timer_stop(&m->timer);
	uv_close((uv_handle_t *)&m->udp, on_handle_closed);
	uv_close((uv_handle_t *)&m->timer, on_handle_closed);
}

void multicast_close(struct multicast *m, void (*cb)(void *arg), void *arg)
{
	assert(!m->closing);
	m->close_cb = cb;
	m->close_arg = arg;
	close_handles(m);
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
	strcpy(m->group, host);
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

int multicast_start(struct multicast **out, uv_loop_t *loop,
		    const struct multicast_config *c, struct err *err)
{
	const char *iface;
	struct sockaddr_in any;
	struct multicast *m;
	int rv;

	m = calloc(1, sizeof *m);
	if (m == NULL)
		return err_set(err, RUMOR_ENOMEM, "multicast: out of memory");
	rv = parse_config(m, c, err);
	if (rv != 0)
		goto err_after_alloc;
	m->loop = loop;
	m->cfg = *c;
	m->cfg.network_key = NULL; /* only the derived keys are kept */
	announce_keys_derive(&m->keys, c->network_key);
	announce_verifier_init(&m->verifier, c->network_key, c->node_id,
			       c->window_ms);
	iface = m->iface[0] != '\0' ? m->iface : NULL;

	uv_timer_init(loop, &m->timer);
	m->timer.data = m;
	m->open_handles++;
	rv = uv_udp_init_ex(loop, &m->udp, AF_INET);
	if (rv != 0) {
		err_set(err, RUMOR_ENET, "multicast: udp socket: %s",
			uv_strerror(rv));
		m->closing = true;
		uv_close((uv_handle_t *)&m->timer, on_handle_closed);
		return RUMOR_ENET;
	}
	m->udp.data = m;
	m->open_handles++;

	/* Bound to the wildcard address on the group's port: binding the
	 * group address would also work on Linux but not elsewhere. */
	uv_ip4_addr("0.0.0.0", ntohs(m->group_addr.sin_port), &any);
	rv = uv_udp_bind(&m->udp, (const struct sockaddr *)&any,
			 UV_UDP_REUSEADDR);
	if (rv != 0) {
		err_set(err, RUMOR_ENET, "multicast: bind port %u: %s",
			(unsigned)ntohs(m->group_addr.sin_port),
			uv_strerror(rv));
		goto err_after_handles;
	}
	rv = uv_udp_set_membership(&m->udp, m->group, iface, UV_JOIN_GROUP);
	if (rv != 0) {
		err_set(err, RUMOR_ENET, "multicast: join %s on %s: %s",
			m->group, iface != NULL ? iface : "default interface",
			uv_strerror(rv));
		goto err_after_handles;
	}
	m->joined = true;
	if (iface != NULL) {
		rv = uv_udp_set_multicast_interface(&m->udp, iface);
		if (rv != 0) {
			err_set(err, RUMOR_ENET,
				"multicast: send interface %s: %s", iface,
				uv_strerror(rv));
			goto err_after_handles;
		}
	}
	rv = uv_udp_set_multicast_ttl(&m->udp, c->ttl);
	if (rv == 0)
		rv = uv_udp_set_multicast_loop(&m->udp, c->loopback ? 1 : 0);
	if (rv != 0) {
		err_set(err, RUMOR_ENET, "multicast: socket options: %s",
			uv_strerror(rv));
		goto err_after_handles;
	}
	rv = uv_udp_recv_start(&m->udp, on_alloc, on_recv);
	if (rv != 0) {
		err_set(err, RUMOR_ENET, "multicast: receive: %s",
			uv_strerror(rv));
		goto err_after_handles;
	}
	/* First announcement at once, on the loop's next turn. */
	uv_timer_start(&m->timer, on_timer, 0, 0);
	*out = m;
	return 0;

err_after_handles:
	/* No callback: the caller sees the error now; memory goes once
	 * libuv is done with the handles. */
	close_handles(m);
	return RUMOR_ENET;
err_after_alloc:
	free(m);
	return rv;
}
