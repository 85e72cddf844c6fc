/* SPDX-License-Identifier: MIT */
/*
 * multicast: LAN discovery over IPv4 UDP multicast (through io/io.h). Joins a
 * group, announces this node every interval (with jitter), and calls
 * back for every announcement that passes announce_verify. IPv4 only.
 *
 * Default group 239.193.7.42 port 7947: organization-local scope
 * (239.192.0.0/14, RFC 2365), so routers at the site boundary drop it;
 * TTL 1 keeps it on the local link anyway.
 */
#ifndef RUMOR_DISCOVERY_MULTICAST_H
#define RUMOR_DISCOVERY_MULTICAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "lib/err.h"
#include "discovery/announce.h"

#define MULTICAST_GROUP_DEFAULT "239.193.7.42"
#define MULTICAST_PORT_DEFAULT 7947
#define MULTICAST_DEFAULT MULTICAST_GROUP_DEFAULT ":7947"
#define MULTICAST_INTERVAL_MS_DEFAULT 2000u
#define MULTICAST_JITTER_PCT_DEFAULT 25u
#define MULTICAST_TTL_DEFAULT 1

/* A verified announcement from another member of our cluster. from is
 * the sender's source IP with the port it announced (its TCP listening
 * port), ready to dial. Both pointers are valid only during the call. */
typedef void (*multicast_peer_cb)(void *arg, const struct announce *a,
				  const struct sockaddr *from);

struct multicast_config {
	const char *group;        /* "GROUP:PORT"; NULL: MULTICAST_DEFAULT */
	const char *interface;    /* IPv4 address of the interface to send
				   * and join on; NULL: the system's choice */
	int ttl;                  /* 0..255; 0 never leaves the host */
	bool loopback;            /* hear ourselves and others on this host */
	uint32_t interval_ms;     /* between announcements */
	uint32_t jitter_pct;      /* each interval +- this percent (< 100) */
	uint64_t window_ms;       /* timestamp window; 0: announce default */

	uint8_t node_id[ANNOUNCE_ID_BYTES];
	uint16_t listen_port;     /* announced; != 0 */
	const uint8_t *network_key; /* ANNOUNCE_NETKEY_BYTES, copied */

	multicast_peer_cb on_peer;
	void *arg;
};

/* Fills c with the defaults above (group, TTL 1, loopback on, 2 s +-25%).
 * The caller still sets node_id, listen_port, network_key, on_peer. */
void multicast_config_init(struct multicast_config *c);

struct multicast_stats {
	uint64_t sent;
	uint64_t send_errors;
	uint64_t received;        /* datagrams read */
	uint64_t recv_errors;     /* kept for status output; io drops them */
	uint64_t accepted;        /* == dropped[ANNOUNCE_OK] */
	uint64_t dropped[ANNOUNCE_REASON_COUNT]; /* by announce_reason */
};

struct multicast;
struct io;

/* Parses and checks c (RUMOR_EINVAL with a message for a bad group, a
 * group outside 224.0.0.0/4, an IPv6 group, a bad interface, TTL or
 * interval), binds the group's port with SO_REUSEADDR (several nodes on
 * one host share it), joins the group, and schedules the first
 * announcement at once (timestamps from io_wall_ms, jitter from
 * io_random). Socket failures give RUMOR_ENET naming the step. On error
 * nothing is left running (memory still held is released from the loop;
 * no callback fires). */
int multicast_start(struct multicast **out, struct io *io,
		    const struct multicast_config *c, struct err *err);

void multicast_stats(const struct multicast *m, struct multicast_stats *out);

/* Leaves the group and closes the socket and timer. No on_peer call
 * happens after this. When the socket is closed the memory is freed,
 * then cb(arg) is called exactly once, from the loop. */
void multicast_close(struct multicast *m, void (*cb)(void *arg), void *arg);

#endif
