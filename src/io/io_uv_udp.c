/* SPDX-License-Identifier: MIT */
/*
 * io_uv_udp: IPv4 multicast group membership over libuv UDP (the udp_*
 * ops of io/io.h): bound to the group's port with SO_REUSEADDR (several
 * nodes of one host share it), joined, sending to the group.
 */
#include "io/io_uv_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Big enough for any datagram the node sends; a longer one is handed
 * over cut to this size, so its length is still wrong. */
#define UDP_RECV_BUF 512

struct udp_impl {
	struct io_udp base;             /* first: the io that made it */
	uv_udp_t handle;
	io_udp_recv_cb recv;
	void *data;
	struct sockaddr_in group;
	char group_name[INET_ADDRSTRLEN];
	char iface[INET_ADDRSTRLEN];    /* "" when none */
	int joined;
	int closing;
	void (*close_cb)(void *arg);
	void *close_arg;
	uint8_t buf[UDP_RECV_BUF];
};

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct udp_impl *u = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)u->buf, sizeof u->buf);
}

/* Read errors and empty reads carry nothing for the owner. */
static void udp_read(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
		     const struct sockaddr *addr, unsigned flags)
{
	struct udp_impl *u = h->data;

	(void)buf;
	(void)flags;
	if (u->closing || nread < 0 || addr == NULL)
		return;
	u->recv(&u->base, u->buf, (size_t)nread, addr);
}

static void udp_closed(uv_handle_t *h)
{
	struct udp_impl *u = h->data;
	void (*cb)(void *) = u->close_cb;
	void *arg = u->close_arg;

	io_uv_release(u->base.io);
	free(u);
	if (cb != NULL)
		cb(arg);
}

static void udp_shut(struct udp_impl *u)
{
	u->closing = 1;
	if (u->joined) {
		/* Leaving explicitly tells the switches (IGMP) at once
		 * instead of at the next query. */
		uv_udp_set_membership(&u->handle, u->group_name,
				      u->iface[0] != '\0' ? u->iface : NULL,
				      UV_LEAVE_GROUP);
		u->joined = 0;
	}
	uv_udp_recv_stop(&u->handle);
	uv_close((uv_handle_t *)&u->handle, udp_closed);
}

/* Binds, joins and sets the options; a message names the failed step. */
static int udp_setup(struct udp_impl *u, const struct io_udp_config *cfg,
		     struct err *err)
{
	const char *iface = u->iface[0] != '\0' ? u->iface : NULL;
	unsigned port = ntohs(u->group.sin_port);
	struct sockaddr_in any;
	int rv;

	/* The wildcard address on the group's port: binding the group
	 * address works on Linux only. */
	memset(&any, 0, sizeof any);
	any.sin_family = AF_INET;
	any.sin_port = u->group.sin_port;
	rv = uv_udp_bind(&u->handle, (const struct sockaddr *)&any,
			 UV_UDP_REUSEADDR);
	if (rv != 0)
		return err_set(err, RUMOR_ENET, "udp: bind port %u: %s", port,
			       uv_strerror(rv));
	rv = uv_udp_set_membership(&u->handle, u->group_name, iface,
				   UV_JOIN_GROUP);
	if (rv != 0)
		return err_set(err, RUMOR_ENET, "udp: join %s on %s: %s",
			       u->group_name,
			       iface != NULL ? iface : "default interface",
			       uv_strerror(rv));
	u->joined = 1;
	if (iface != NULL) {
		rv = uv_udp_set_multicast_interface(&u->handle, iface);
		if (rv != 0)
			return err_set(err, RUMOR_ENET,
				       "udp: send interface %s: %s", iface,
				       uv_strerror(rv));
	}
	rv = uv_udp_set_multicast_ttl(&u->handle, cfg->ttl);
	if (rv == 0)
		rv = uv_udp_set_multicast_loop(&u->handle, cfg->loopback ? 1 : 0);
	if (rv != 0)
		return err_set(err, RUMOR_ENET, "udp: socket options: %s",
			       uv_strerror(rv));
	rv = uv_udp_recv_start(&u->handle, udp_alloc, udp_read);
	if (rv != 0)
		return err_set(err, RUMOR_ENET, "udp: receive: %s",
			       uv_strerror(rv));
	return 0;
}

int io_uv_udp_open(struct io *io, const struct io_udp_config *cfg,
		   io_udp_recv_cb recv, void *data, struct io_udp **out,
		   struct err *err)
{
	struct udp_impl *u;
	int rv;

	assert(cfg != NULL && recv != NULL && out != NULL);
	if (cfg->group == NULL || cfg->group->sa_family != AF_INET)
		return err_set(err, RUMOR_EINVAL,
			       "udp: the group must be an IPv4 address");
	u = calloc(1, sizeof *u);
	if (u == NULL)
		return err_set(err, RUMOR_ENOMEM, "udp: out of memory");
	u->base.io = io;
	u->recv = recv;
	u->data = data;
	memcpy(&u->group, cfg->group, sizeof u->group);
	inet_ntop(AF_INET, &u->group.sin_addr, u->group_name,
		  sizeof u->group_name);
	if (cfg->interface != NULL) {
		struct in_addr ia;

		if (inet_pton(AF_INET, cfg->interface, &ia) != 1) {
			free(u);
			return err_set(err, RUMOR_EINVAL,
				       "udp: interface \"%s\": not an IPv4 "
				       "address", cfg->interface);
		}
		strcpy(u->iface, cfg->interface);
	}
	rv = uv_udp_init_ex(io_uv_loop(io), &u->handle, AF_INET);
	if (rv != 0) {
		free(u);
		return err_set(err, RUMOR_ENET, "udp: socket: %s",
			       uv_strerror(rv));
	}
	u->handle.data = u;
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

/* try_send needs no request kept alive; a full socket buffer costs one
 * datagram. */
int io_uv_udp_send(struct io_udp *base, const uint8_t *buf, size_t len)
{
	struct udp_impl *u = (struct udp_impl *)base;
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	int rv;

	if (u->closing)
		return RUMOR_ECLOSED;
	rv = uv_udp_try_send(&u->handle, &b, 1,
			     (const struct sockaddr *)&u->group);
	return rv == (int)len ? 0 : RUMOR_ENET;
}

void io_uv_udp_close(struct io_udp *base, void (*cb)(void *arg), void *arg)
{
	struct udp_impl *u = (struct udp_impl *)base;

	assert(!u->closing);
	u->close_cb = cb;
	u->close_arg = arg;
	udp_shut(u);
}
