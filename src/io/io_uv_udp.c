/* SPDX-License-Identifier: MIT */
/*
 * io_uv_udp: multicast group membership (the udp_* ops of io/io.h), IPv4
 * or IPv6. libuv's uv_udp does not tell the destination address of a
 * datagram, so the socket is ours: made and set up here, read with
 * recvmsg and IP_PKTINFO / IPV6_PKTINFO, and driven by a uv_poll. Each
 * datagram reaches the owner with whether it was sent to the group and
 * whether its source is on-link for the interface it came in on; the
 * owner (discovery) drops and counts.
 *
 * On-link: the source lies within the prefix of an address of the
 * arrival interface (from getifaddrs, cached and refreshed at most once
 * per UDP_IFCACHE_MS, so a flood of strange sources costs at most one
 * refresh a second); a loopback source on a loopback interface and an
 * IPv6 link-local source (fe80::/10) are on-link by definition.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* struct in6_pktinfo */
#endif
#include "io/io_uv_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Big enough for any datagram the node sends; a longer one is handed
 * over cut to this size (MSG_TRUNC: its length stays wrong). */
#define UDP_RECV_BUF 512
/* Datagrams read per wake-up before yielding to the loop. */
#define UDP_READS_PER_WAKE 64
/* Interfaces an IPv6 membership joins at most. */
#define UDP_MAX_IFS 16
/* Interface addresses cached for the on-link check. */
#define UDP_IFCACHE_MAX 64
#define UDP_IFCACHE_MS 1000u

struct udp_ifaddr {
	unsigned ifindex;
	int family;
	int loopback;                   /* IFF_LOOPBACK */
	uint8_t addr[16];
	uint8_t mask[16];
};

struct udp_impl {
	struct io_udp base;             /* first: the io that made it */
	uv_poll_t poll;
	int fd;
	int family;
	io_udp_recv_cb recv;
	void *data;
	struct sockaddr_storage group;
	socklen_t group_len;
	struct in_addr iface4;          /* INADDR_ANY: the system's choice */
	unsigned ifs[UDP_MAX_IFS];      /* IPv6: joined interfaces */
	size_t n_ifs;
	int joined;
	int polling;
	int closing;
	void (*close_cb)(void *arg);
	void *close_arg;
	struct udp_ifaddr cache[UDP_IFCACHE_MAX];
	size_t n_cache;
	uint64_t cache_ms;              /* loop time of the last refresh */
	int cache_valid;
	uint8_t buf[UDP_RECV_BUF + 1];  /* + 1: a longer one shows */
};

/* ------------------------------------------------------------ on-link */

/* Reloads the cache from getifaddrs. On failure the cache is emptied:
 * nothing is on-link but what is so by definition. */
static void ifcache_refresh(struct udp_impl *u)
{
	struct ifaddrs *ifs, *i;

	u->n_cache = 0;
	u->cache_valid = 1;
	u->cache_ms = uv_now(io_uv_loop(u->base.io));
	if (getifaddrs(&ifs) != 0)
		return;
	for (i = ifs; i != NULL && u->n_cache < UDP_IFCACHE_MAX;
	     i = i->ifa_next) {
		struct udp_ifaddr *c = &u->cache[u->n_cache];

		if (i->ifa_addr == NULL || i->ifa_netmask == NULL ||
		    i->ifa_addr->sa_family != u->family)
			continue;
		memset(c, 0, sizeof *c);
		c->ifindex = if_nametoindex(i->ifa_name);
		c->family = u->family;
		c->loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
		if (u->family == AF_INET) {
			memcpy(c->addr,
			       &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			memcpy(c->mask,
			       &((struct sockaddr_in *)i->ifa_netmask)->sin_addr,
			       4);
		} else {
			memcpy(c->addr,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
			memcpy(c->mask,
			       &((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr,
			       16);
		}
		if (c->ifindex != 0)
			u->n_cache++;
	}
	freeifaddrs(ifs);
}

/* src (4 or 16 bytes) within some cached prefix of interface ifindex;
 * also whether that interface is a loopback one. */
static int ifcache_match(const struct udp_impl *u, const uint8_t *src,
			 unsigned ifindex, int *is_lo)
{
	size_t len = u->family == AF_INET ? 4 : 16;

	*is_lo = 0;
	for (size_t k = 0; k < u->n_cache; k++) {
		const struct udp_ifaddr *c = &u->cache[k];
		size_t b;

		if (c->ifindex != ifindex)
			continue;
		*is_lo |= c->loopback;
		for (b = 0; b < len; b++)
			if ((src[b] & c->mask[b]) != (c->addr[b] & c->mask[b]))
				break;
		if (b == len)
			return 1;
	}
	return 0;
}

static int udp_on_link(struct udp_impl *u, const struct sockaddr *from,
		       unsigned ifindex)
{
	const uint8_t *src;
	int loopback_src, is_lo;
	uint64_t now = uv_now(io_uv_loop(u->base.io));

	if (from->sa_family == AF_INET) {
		src = (const uint8_t *)&((const struct sockaddr_in *)from)->sin_addr;
		loopback_src = src[0] == 127;
	} else {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)from)->sin6_addr;

		src = a->s6_addr;
		if (IN6_IS_ADDR_LINKLOCAL(a))
			return 1;
		loopback_src = IN6_IS_ADDR_LOOPBACK(a);
	}
	if (ifindex == 0)
		return 0;
	if (!u->cache_valid)
		ifcache_refresh(u);
	if (ifcache_match(u, src, ifindex, &is_lo))
		return 1;
	if (loopback_src && is_lo)
		return 1;
	/* Perhaps an address came up since: look again, at most once per
	 * UDP_IFCACHE_MS whatever the sources. */
	if (now - u->cache_ms < UDP_IFCACHE_MS)
		return 0;
	ifcache_refresh(u);
	return ifcache_match(u, src, ifindex, &is_lo) || (loopback_src && is_lo);
}

/* ------------------------------------------------------------ receiving */

/* Reads the destination and interface from the control messages. */
static void udp_pktinfo(const struct udp_impl *u, struct msghdr *mh,
			int *to_group, unsigned *ifindex)
{
	struct cmsghdr *c;

	*to_group = 0;
	*ifindex = 0;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    u->family == AF_INET) {
			struct in_pktinfo pi;
			const struct sockaddr_in *g =
				(const struct sockaddr_in *)&u->group;

			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			*ifindex = (unsigned)pi.ipi_ifindex;
			*to_group = pi.ipi_addr.s_addr == g->sin_addr.s_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO &&
			   u->family == AF_INET6) {
			struct in6_pktinfo pi;
			const struct sockaddr_in6 *g =
				(const struct sockaddr_in6 *)&u->group;

			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			*ifindex = pi.ipi6_ifindex;
			*to_group = memcmp(&pi.ipi6_addr, &g->sin6_addr,
					   sizeof pi.ipi6_addr) == 0;
		}
	}
}

/* One datagram: 1 when one was read, 0 when none waits. */
static int udp_read_one(struct udp_impl *u)
{
	struct sockaddr_storage from;
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
			  CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl;
	struct iovec iov = { u->buf, sizeof u->buf };
	struct msghdr mh;
	struct io_udp_meta meta;
	ssize_t n;

	memset(&mh, 0, sizeof mh);
	mh.msg_name = &from;
	mh.msg_namelen = sizeof from;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof ctl.b;
	n = recvmsg(u->fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return errno == EINTR;
	if (mh.msg_namelen == 0 || from.ss_family != u->family)
		return 1;
	memset(&meta, 0, sizeof meta);
	meta.from = (const struct sockaddr *)&from;
	udp_pktinfo(u, &mh, &meta.to_group, &meta.ifindex);
	meta.on_link = udp_on_link(u, meta.from, meta.ifindex);
	/* A datagram longer than the buffer is handed over cut to the
	 * buffer, which is one byte longer than any datagram the node
	 * sends: its length is still wrong. */
	u->recv(&u->base, u->buf,
		(size_t)n > sizeof u->buf ? sizeof u->buf : (size_t)n, &meta);
	return 1;
}

static void udp_readable(uv_poll_t *h, int status, int events)
{
	struct udp_impl *u = h->data;

	(void)events;
	if (status < 0)
		return;
	for (int i = 0; i < UDP_READS_PER_WAKE && !u->closing; i++)
		if (!udp_read_one(u))
			break;
}

/* ------------------------------------------------------------ lifecycle */

static void udp_closed(uv_handle_t *h)
{
	struct udp_impl *u = h->data;
	void (*cb)(void *) = u->close_cb;
	void *arg = u->close_arg;

	close(u->fd);
	io_uv_release(u->base.io);
	free(u);
	if (cb != NULL)
		cb(arg);
}

/* Leaves the group (telling the switches at once, through IGMP / MLD,
 * instead of at their next query) and closes from the loop. */
static void udp_shut(struct udp_impl *u)
{
	u->closing = 1;
	if (u->joined && u->family == AF_INET) {
		struct ip_mreqn mr;

		memset(&mr, 0, sizeof mr);
		mr.imr_multiaddr = ((struct sockaddr_in *)&u->group)->sin_addr;
		mr.imr_address = u->iface4;
		(void)setsockopt(u->fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr,
				 sizeof mr);
	}
	for (size_t i = 0; u->joined && u->family == AF_INET6 && i < u->n_ifs;
	     i++) {
		struct ipv6_mreq mr;

		mr.ipv6mr_multiaddr =
			((struct sockaddr_in6 *)&u->group)->sin6_addr;
		mr.ipv6mr_interface = u->ifs[i];
		(void)setsockopt(u->fd, IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP,
				 &mr, sizeof mr);
	}
	u->joined = 0;
	if (u->polling)
		uv_poll_stop(&u->poll);
	uv_close((uv_handle_t *)&u->poll, udp_closed);
}

static int sockopt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof value);
}

/* IPv4: destination info, loop, TTL, join on the one interface. */
static int udp_setup4(struct udp_impl *u, const struct io_udp_config *cfg,
		      struct err *err)
{
	const struct sockaddr_in *g = (const struct sockaddr_in *)&u->group;
	char name[INET_ADDRSTRLEN];
	struct ip_mreqn mr;

	inet_ntop(AF_INET, &g->sin_addr, name, sizeof name);
	if (sockopt(u->fd, IPPROTO_IP, IP_PKTINFO, 1) != 0 ||
	    sockopt(u->fd, IPPROTO_IP, IP_MULTICAST_TTL, cfg->ttl) != 0 ||
	    sockopt(u->fd, IPPROTO_IP, IP_MULTICAST_LOOP,
		    cfg->loopback ? 1 : 0) != 0)
		return err_set(err, RUMOR_ENET, "udp: socket options: %s",
			       strerror(errno));
#ifdef IP_MULTICAST_ALL
	/* Only this group, not every group some socket of the host joined
	 * on this port. */
	(void)sockopt(u->fd, IPPROTO_IP, IP_MULTICAST_ALL, 0);
#endif
	memset(&mr, 0, sizeof mr);
	mr.imr_multiaddr = g->sin_addr;
	mr.imr_address = u->iface4;
	if (setsockopt(u->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
		       sizeof mr) != 0)
		return err_set(err, RUMOR_ENET, "udp: join %s on %s: %s", name,
			       cfg->interface != NULL ? cfg->interface
						      : "default interface",
			       strerror(errno));
	u->joined = 1;
	if (u->iface4.s_addr != htonl(INADDR_ANY) &&
	    setsockopt(u->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
		       sizeof mr) != 0)
		return err_set(err, RUMOR_ENET, "udp: send interface %s: %s",
			       cfg->interface, strerror(errno));
	return 0;
}

/* The interfaces an IPv6 membership joins: the named one, or every one
 * up and multicast-capable. */
static void udp_pick_ifs6(struct udp_impl *u, const char *iface)
{
	struct if_nameindex *ni, *i;
	struct ifaddrs *ifs, *a;

	u->n_ifs = 0;
	if (iface != NULL) {
		unsigned idx = if_nametoindex(iface);

		if (idx != 0)
			u->ifs[u->n_ifs++] = idx;
		return;
	}
	if (getifaddrs(&ifs) != 0)
		return;
	ni = if_nameindex();
	for (i = ni; i != NULL && i->if_index != 0 && u->n_ifs < UDP_MAX_IFS;
	     i++) {
		for (a = ifs; a != NULL; a = a->ifa_next)
			if (strcmp(a->ifa_name, i->if_name) == 0)
				break;
		if (a != NULL && (a->ifa_flags & IFF_UP) &&
		    (a->ifa_flags & IFF_MULTICAST))
			u->ifs[u->n_ifs++] = i->if_index;
	}
	if (ni != NULL)
		if_freenameindex(ni);
	freeifaddrs(ifs);
}

/* IPv6: destination info, loop, hops, join on each interface (those
 * that refuse are left out). */
static int udp_setup6(struct udp_impl *u, const struct io_udp_config *cfg,
		      struct err *err)
{
	const struct sockaddr_in6 *g = (const struct sockaddr_in6 *)&u->group;
	size_t kept = 0;
	int last = 0;

	if (sockopt(u->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) != 0 ||
	    sockopt(u->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, cfg->ttl) != 0 ||
	    sockopt(u->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP,
		    cfg->loopback ? 1 : 0) != 0)
		return err_set(err, RUMOR_ENET, "udp: socket options: %s",
			       strerror(errno));
#ifdef IPV6_MULTICAST_ALL
	(void)sockopt(u->fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
#endif
	udp_pick_ifs6(u, cfg->interface);
	for (size_t i = 0; i < u->n_ifs; i++) {
		struct ipv6_mreq mr;

		mr.ipv6mr_multiaddr = g->sin6_addr;
		mr.ipv6mr_interface = u->ifs[i];
		if (setsockopt(u->fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mr,
			       sizeof mr) == 0)
			u->ifs[kept++] = u->ifs[i];
		else
			last = errno;
	}
	u->n_ifs = kept;
	u->joined = kept > 0;
	if (kept == 0)
		return err_set(err, RUMOR_ENOTFOUND,
			       "udp: join the IPv6 group: %s",
			       last != 0 ? strerror(last)
					 : cfg->interface != NULL
						   ? "no such interface"
						   : "no multicast interface up");
	return 0;
}

/* Socket, options, bind, join, poll; a message names the failed step. */
static int udp_setup(struct udp_impl *u, const struct io_udp_config *cfg,
		     struct err *err)
{
	struct sockaddr_storage any;
	socklen_t any_len;
	unsigned port;
	int rv;

	memset(&any, 0, sizeof any);
	if (u->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&any;

		a->sin_family = AF_INET;
		a->sin_port = ((struct sockaddr_in *)&u->group)->sin_port;
		any_len = sizeof *a;
		port = ntohs(a->sin_port);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&any;

		a->sin6_family = AF_INET6;
		a->sin6_port = ((struct sockaddr_in6 *)&u->group)->sin6_port;
		any_len = sizeof *a;
		port = ntohs(a->sin6_port);
		if (sockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) != 0)
			return err_set(err, RUMOR_ENET, "udp: IPV6_V6ONLY: %s",
				       strerror(errno));
	}
	/* The wildcard address on the group's port (binding the group
	 * address works on Linux only); several nodes of a host share it. */
	if (sockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0 ||
	    bind(u->fd, (struct sockaddr *)&any, any_len) != 0)
		return err_set(err, RUMOR_ENET, "udp: bind port %u: %s", port,
			       strerror(errno));
	rv = u->family == AF_INET ? udp_setup4(u, cfg, err)
				  : udp_setup6(u, cfg, err);
	if (rv != 0)
		return rv;
	rv = uv_poll_start(&u->poll, UV_READABLE, udp_readable);
	if (rv != 0)
		return err_set(err, RUMOR_ENET, "udp: receive: %s",
			       uv_strerror(rv));
	u->polling = 1;
	return 0;
}

/* Checks cfg's group and interface into u. */
static int udp_check(struct udp_impl *u, const struct io_udp_config *cfg,
		     struct err *err)
{
	if (cfg->group == NULL || (cfg->group->sa_family != AF_INET &&
				   cfg->group->sa_family != AF_INET6))
		return err_set(err, RUMOR_EINVAL,
			       "udp: the group must be an IPv4 or IPv6 address");
	u->family = cfg->group->sa_family;
	u->group_len = u->family == AF_INET ? sizeof(struct sockaddr_in)
					    : sizeof(struct sockaddr_in6);
	memcpy(&u->group, cfg->group, u->group_len);
	if (u->family == AF_INET
		    ? !IN_MULTICAST(ntohl(((struct sockaddr_in *)&u->group)
						  ->sin_addr.s_addr))
		    : !IN6_IS_ADDR_MULTICAST(
			      &((struct sockaddr_in6 *)&u->group)->sin6_addr))
		return err_set(err, RUMOR_EINVAL,
			       "udp: the group is not a multicast address");
	u->iface4.s_addr = htonl(INADDR_ANY);
	if (cfg->interface != NULL && u->family == AF_INET &&
	    inet_pton(AF_INET, cfg->interface, &u->iface4) != 1)
		return err_set(err, RUMOR_EINVAL,
			       "udp: interface \"%s\": not an IPv4 address",
			       cfg->interface);
	return 0;
}

int io_uv_udp_open(struct io *io, const struct io_udp_config *cfg,
		   io_udp_recv_cb recv, void *data, struct io_udp **out,
		   struct err *err)
{
	struct udp_impl *u;
	int rv;

	assert(cfg != NULL && recv != NULL && out != NULL);
	u = calloc(1, sizeof *u);
	if (u == NULL)
		return err_set(err, RUMOR_ENOMEM, "udp: out of memory");
	rv = udp_check(u, cfg, err);
	if (rv != 0) {
		free(u);
		return rv;
	}
	u->base.io = io;
	u->recv = recv;
	u->data = data;
	u->fd = socket(u->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (u->fd < 0) {
		rv = err_set(err, RUMOR_ENET, "udp: socket: %s",
			     strerror(errno));
		free(u);
		return rv;
	}
	rv = uv_poll_init(io_uv_loop(io), &u->poll, u->fd);
	if (rv != 0) {
		close(u->fd);
		free(u);
		return err_set(err, RUMOR_ENET, "udp: poll: %s",
			       uv_strerror(rv));
	}
	u->poll.data = u;
	io_uv_of(io)->live++;
	rv = udp_setup(u, cfg, err);
	if (rv != 0) {
		/* Freed from the loop, reporting nothing. */
		udp_shut(u);
		return rv;
	}
	*out = &u->base;
	return 0;
}

void *io_uv_udp_data(const struct io_udp *base)
{
	return ((const struct udp_impl *)base)->data;
}

/* Never blocks: a full socket buffer costs the datagram. IPv6 sends one
 * copy per joined interface (the scope id picks it); it succeeds when
 * one went out. */
int io_uv_udp_send(struct io_udp *base, const uint8_t *buf, size_t len)
{
	struct udp_impl *u = (struct udp_impl *)base;
	int ok = 0;

	if (u->closing)
		return RUMOR_ECLOSED;
	if (u->family == AF_INET)
		return sendto(u->fd, buf, len, MSG_DONTWAIT,
			      (const struct sockaddr *)&u->group,
			      u->group_len) == (ssize_t)len
			? 0
			: RUMOR_ENET;
	for (size_t i = 0; i < u->n_ifs; i++) {
		struct sockaddr_in6 to;

		memcpy(&to, &u->group, sizeof to);
		to.sin6_scope_id = u->ifs[i];
		if (sendto(u->fd, buf, len, MSG_DONTWAIT,
			   (const struct sockaddr *)&to,
			   sizeof to) == (ssize_t)len)
			ok = 1;
	}
	return ok ? 0 : RUMOR_ENET;
}

void io_uv_udp_close(struct io_udp *base, void (*cb)(void *arg), void *arg)
{
	struct udp_impl *u = (struct udp_impl *)base;

	assert(!u->closing);
	u->close_cb = cb;
	u->close_arg = arg;
	udp_shut(u);
}
