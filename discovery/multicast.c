/* SPDX-License-Identifier: MIT */
/* multicast: announce and listen on IPv4 and IPv6 multicast groups (io). */
#include "discovery/multicast.h"

#include <arpa/inet.h>
#include <assert.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "discovery/hostport.h"
#include "io/io.h"

/* The budget of one source address. */
struct source {
	int family;                     /* 0: a free slot */
	uint8_t addr[16];
	struct announce_bucket bucket;
	uint64_t last_ms;
};

struct multicast {
	struct io *io;
	struct io_udp *udp4, *udp6;     /* NULL: that family is not running */
	int open_udps;                  /* closing: sockets not yet freed */
	struct io_timer *timer;
	struct multicast_config cfg;    /* strings and network_key cleared */
	char iface[INET_ADDRSTRLEN];    /* "" when none */
	char iface6[IF_NAMESIZE];       /* "" when none */
	struct sockaddr_in group_addr;
	struct sockaddr_in6 group6_addr;
	struct source sources[MULTICAST_SOURCES];
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
	/* A full socket buffer just costs one announcement (counted). The
	 * same packet goes to both groups: a node hearing both counts the
	 * second as a duplicate. */
	if (m->udp4 != NULL) {
		if (m->io->ops->udp_send(m->udp4, pkt, sizeof pkt) == 0)
			m->stats.sent++;
		else
			m->stats.send_errors++;
	}
	if (m->udp6 != NULL) {
		if (m->io->ops->udp_send(m->udp6, pkt, sizeof pkt) == 0)
			m->stats.sent++;
		else
			m->stats.send_errors++;
	}
}

static void on_timer(struct io_timer *t)
{
	struct multicast *m = t->data;

	send_announcement(m);
	io_timer_start(m->timer, next_interval_ms(m), 0);
}

/* The source address of from (4 or 16 bytes); 0 when it is unspecified
 * (dialing it would mean "this host"). */
static size_t source_bytes(const struct sockaddr *from, uint8_t out[16])
{
	static const uint8_t zero[16];
	size_t n;

	if (from->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)from)->sin_addr, 4);
		n = 4;
	} else {
		memcpy(out, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
		n = 16;
	}
	return memcmp(out, zero, n) == 0 ? 0 : n;
}

/* Takes one datagram from the budget of its source address: 1, or 0
 * when that source spent it. The table keeps MULTICAST_SOURCES
 * addresses; a new one takes the slot heard from longest ago (a flood
 * from many addresses is then bounded by the new-id limit and the
 * verifier, behind). */
static int source_take(struct multicast *m, int family, const uint8_t *addr,
		       size_t n, uint64_t now)
{
	struct source *s = NULL, *victim = &m->sources[0];

	for (size_t i = 0; i < MULTICAST_SOURCES; i++) {
		struct source *c = &m->sources[i];

		if (c->family == family && memcmp(c->addr, addr, n) == 0) {
			s = c;
			break;
		}
		if (victim->family != 0 &&
		    (c->family == 0 || c->last_ms < victim->last_ms))
			victim = c;
	}
	if (s == NULL) {
		s = victim;
		memset(s, 0, sizeof *s);
		s->family = family;
		memcpy(s->addr, addr, n);
	}
	s->last_ms = now;
	return announce_bucket_take(&s->bucket, now, m->cfg.source_per_s,
				    m->cfg.source_burst);
}

/* The checks before the packet is looked at (see multicast.h). */
static enum announce_reason check_arrival(struct multicast *m,
					  const struct io_udp_meta *meta)
{
	uint8_t addr[16];
	size_t n;

	if (meta->from == NULL || (meta->from->sa_family != AF_INET &&
				   meta->from->sa_family != AF_INET6))
		return ANNOUNCE_NO_ADDRESS;
	if (!meta->to_group)
		return ANNOUNCE_NOT_GROUP;
	if (!meta->on_link)
		return ANNOUNCE_OFF_LINK;
	n = source_bytes(meta->from, addr);
	if (n == 0)
		return ANNOUNCE_NO_ADDRESS;
	if (!source_take(m, meta->from->sa_family, addr, n,
			 io_now_ms(m->io)))
		return ANNOUNCE_SOURCE_BUDGET;
	return ANNOUNCE_OK;
}

static void on_recv(struct io_udp *u, const uint8_t *buf, size_t len,
		    const struct io_udp_meta *meta)
{
	struct multicast *m = io_udp_data(u);
	struct sockaddr_storage from;
	struct announce a;
	enum announce_reason r;

	if (m->closing)
		return;
	m->stats.received++;
	r = check_arrival(m, meta);
	if (r == ANNOUNCE_OK)
		r = announce_verify(&m->verifier, buf, len, io_wall_ms(m->io),
				    &a);
	if (r == ANNOUNCE_DUPLICATE) {
		m->stats.duplicates++;
		return;
	}
	m->stats.dropped[r]++;
	if (r != ANNOUNCE_OK)
		return;
	m->stats.accepted++;
	memset(&from, 0, sizeof from);
	if (meta->from->sa_family == AF_INET) {
		memcpy(&from, meta->from, sizeof(struct sockaddr_in));
		((struct sockaddr_in *)&from)->sin_port = htons(a.port);
	} else {
		memcpy(&from, meta->from, sizeof(struct sockaddr_in6));
		((struct sockaddr_in6 *)&from)->sin6_port = htons(a.port);
	}
	m->cfg.on_peer(m->cfg.arg, &a, (const struct sockaddr *)&from);
}

void multicast_stats(const struct multicast *m, struct multicast_stats *out)
{
	*out = m->stats;
	out->ipv4 = m->udp4 != NULL;
	out->ipv6 = m->udp6 != NULL;
}

/* A socket is gone; after the last (the timer went at once) nothing
 * calls back. */
static void on_udp_closed(void *arg)
{
	struct multicast *m = arg;
	void (*cb)(void *) = m->close_cb;
	void *cb_arg = m->close_arg;

	assert(m->open_udps > 0);
	if (--m->open_udps > 0)
		return;
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
	m->open_udps = (m->udp4 != NULL) + (m->udp6 != NULL);
	if (m->udp4 != NULL)
		m->io->ops->udp_close(m->udp4, on_udp_closed, m);
	if (m->udp6 != NULL)
		m->io->ops->udp_close(m->udp6, on_udp_closed, m);
}

/* Parses the IPv4 group and interface of c into m. */
static int parse_group4(struct multicast *m, const struct multicast_config *c,
			struct err *err)
{
	char host[HOSTPORT_HOST_MAX];
	struct in_addr ia;
	uint16_t port;
	int rv;

	rv = hostport_parse(c->group != NULL ? c->group : MULTICAST_DEFAULT, 0,
			    host, &port, err);
	if (rv != 0) {
		err_wrap(err, "multicast group");
		return rv;
	}
	if (inet_pton(AF_INET, host, &ia) != 1)
		return err_set(err, RUMOR_EINVAL,
			       "multicast group \"%s\": not an IPv4 address "
			       "(an IPv6 group goes in multicast6)", host);
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

/* Parses the IPv6 group and interface of c into m. */
static int parse_group6(struct multicast *m, const struct multicast_config *c,
			struct err *err)
{
	char host[HOSTPORT_HOST_MAX];
	uint16_t port;
	int rv;

	rv = hostport_parse(c->group6 != NULL ? c->group6 : MULTICAST6_DEFAULT,
			    0, host, &port, err);
	if (rv != 0) {
		err_wrap(err, "multicast6 group");
		return rv;
	}
	memset(&m->group6_addr, 0, sizeof m->group6_addr);
	m->group6_addr.sin6_family = AF_INET6;
	m->group6_addr.sin6_port = htons(port);
	if (inet_pton(AF_INET6, host, &m->group6_addr.sin6_addr) != 1)
		return err_set(err, RUMOR_EINVAL,
			       "multicast6 group \"%s\": not an IPv6 address",
			       host);
	if (!IN6_IS_ADDR_MULTICAST(&m->group6_addr.sin6_addr))
		return err_set(err, RUMOR_EINVAL,
			       "multicast6 group %s: not in ff00::/8", host);
	m->iface6[0] = '\0';
	if (c->interface6 != NULL) {
		if (strlen(c->interface6) >= sizeof m->iface6 ||
		    c->interface6[0] == '\0')
			return err_set(err, RUMOR_EINVAL,
				       "multicast6 interface \"%s\": not an "
				       "interface name", c->interface6);
		strcpy(m->iface6, c->interface6);
	}
	return 0;
}

/* Checks c and fills the parsed fields of m. */
static int parse_config(struct multicast *m, const struct multicast_config *c,
			struct err *err)
{
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
	if (c->no_ipv4 && c->no_ipv6)
		return err_set(err, RUMOR_EINVAL,
			       "multicast: neither IPv4 nor IPv6");
	rv = c->no_ipv4 ? 0 : parse_group4(m, c, err);
	if (rv == 0 && !c->no_ipv6)
		rv = parse_group6(m, c, err);
	return rv;
}

/* Opens the sockets of the families asked for; fails only when none
 * opens (or the one asked for alone), with both messages. */
static int open_sockets(struct multicast *m, const struct multicast_config *c,
			struct err *err)
{
	struct io_udp_config uc;
	struct err e4, e6;
	int rv4 = 0, rv6 = 0;

	err_clear(&e4);
	err_clear(&e6);
	memset(&uc, 0, sizeof uc);
	uc.ttl = c->ttl;
	uc.loopback = c->loopback;
	if (!c->no_ipv4) {
		uc.group = (const struct sockaddr *)&m->group_addr;
		uc.interface = m->iface[0] != '\0' ? m->iface : NULL;
		rv4 = m->io->ops->udp_open(m->io, &uc, on_recv, m, &m->udp4,
					   &e4);
		if (rv4 != 0)
			m->udp4 = NULL;
	}
	if (!c->no_ipv6) {
		uc.group = (const struct sockaddr *)&m->group6_addr;
		uc.interface = m->iface6[0] != '\0' ? m->iface6 : NULL;
		rv6 = m->io->ops->udp_open(m->io, &uc, on_recv, m, &m->udp6,
					   &e6);
		if (rv6 != 0)
			m->udp6 = NULL;
	}
	if (m->udp4 != NULL || m->udp6 != NULL)
		return 0;
	if (c->no_ipv6)
		return err_set(err, rv4, "%s", e4.msg);
	if (c->no_ipv4)
		return err_set(err, rv6, "%s", e6.msg);
	/* An invalid argument is the more telling code. */
	return err_set(err, rv4 == RUMOR_EINVAL ? rv4 : rv6,
		       "IPv4: %s; IPv6: %s", e4.msg, e6.msg);
}

int multicast_start(struct multicast **out, struct io *io,
		    const struct multicast_config *c, struct err *err)
{
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
	/* Only the derived keys and parsed copies are kept. */
	m->cfg.network_key = NULL;
	m->cfg.group = m->cfg.group6 = NULL;
	m->cfg.interface = m->cfg.interface6 = NULL;
	if (m->cfg.source_per_s == 0)
		m->cfg.source_per_s = MULTICAST_SOURCE_PER_S_DEFAULT;
	if (m->cfg.source_burst == 0)
		m->cfg.source_burst = MULTICAST_SOURCE_BURST_DEFAULT;
	m->timer = io_timer_new(io, on_timer, m);
	if (m->timer == NULL) {
		rv = err_set(err, RUMOR_ENOMEM, "multicast: out of memory");
		goto err_after_alloc;
	}
	rv = open_sockets(m, c, err);
	if (rv != 0) {
		err_wrap(err, "multicast");
		io_timer_free(m->timer);
		goto err_after_alloc;
	}
	announce_keys_derive(&m->keys, c->network_key);
	announce_verifier_init(&m->verifier, c->network_key, c->node_id,
			       c->window_ms);
	announce_verifier_set_new_ids(
		&m->verifier,
		c->new_ids_per_s != 0 ? c->new_ids_per_s
				      : ANNOUNCE_NEW_IDS_PER_S_DEFAULT,
		c->new_ids_burst != 0 ? c->new_ids_burst
				      : ANNOUNCE_NEW_IDS_BURST_DEFAULT);
	/* First announcement at once, on the loop's next turn. */
	io_timer_start(m->timer, 0, 0);
	*out = m;
	return 0;

err_after_alloc:
	free(m);
	return rv;
}
