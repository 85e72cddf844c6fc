/* SPDX-License-Identifier: MIT */
/*
 * hostport: parse "HOST:PORT" strings (seeds, --listen, --multicast).
 * Pure: no resolution, no allocation, no libuv.
 */
#ifndef RUMOR_DISCOVERY_HOSTPORT_H
#define RUMOR_DISCOVERY_HOSTPORT_H

#include <stdint.h>
#include <sys/socket.h>

#include "lib/err.h"

/* Longest host accepted: a DNS name (253) plus NUL, with room to spare. */
#define HOSTPORT_HOST_MAX 256

/* Splits s into host and port. Accepted forms: "name:7000",
 * "192.0.2.1:7000", "[2001:db8::1]:7000" (IPv6 in brackets; the brackets
 * are not copied into host). The port is decimal 1..65535, or 0 too when
 * allow_port0. On error returns RUMOR_EINVAL with a message quoting s
 * and saying what is wrong, and leaves host and *port untouched. */
int hostport_parse(const char *s, int allow_port0,
		   char host[static HOSTPORT_HOST_MAX], uint16_t *port,
		   struct err *err);

/* Parses "HOST:PORT" or "[HOST]:PORT" whose host is a numeric IPv4 or
 * IPv6 address, port 0..65535, into addr (zeroed first). RUMOR_EINVAL
 * with a message quoting s on anything else (names included: they need
 * resolving). */
int hostport_parse_addr(const char *s, struct sockaddr_storage *addr,
			struct err *err);

#endif
