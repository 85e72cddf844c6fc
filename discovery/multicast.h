/* SPDX-License-Identifier: MIT */
/*
 * multicast: LAN discovery over UDP multicast (through io/io.h), IPv4 and
 * IPv6 side by side. Joins a group of each family, announces this node
 * every interval (with jitter) on both, and calls back for every
 * announcement that passes, in this order: sent to the group, not to
 * one of our addresses (NOT_GROUP); from an on-link source (OFF_LINK);
 * within its source address's budget (SOURCE_BUDGET); announce_verify
 * (which also limits new ids: NEW_ID_RATE). Each drop is counted by
 * reason.
 *
 * Default IPv4 group 239.193.7.42 port 7947: organization-local scope
 * (239.192.0.0/14, RFC 2365), so routers at the site boundary drop it;
 * TTL 1 keeps it on the local link anyway. Default IPv6 group
 * ff12::7947 port 7947: transient, link-local scope (ff12::/16), joined
 * on every interface that is up and multicast-capable (a link-local
 * group is per link), so a LAN with only IPv6 link-local addresses
 * needs no configuration. Either family may be missing (no IPv4 route,
 * IPv6 disabled): multicast runs on what works, and fails only when
 * neither does.
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
#define MULTICAST6_GROUP_DEFAULT "ff12::7947"
#define MULTICAST6_DEFAULT "[" MULTICAST6_GROUP_DEFAULT "]:7947"
/* Datagrams a second (and burst) from one source address: above this
 * the rest are dropped unread. A genuine node sends one per interval
 * per family (0.5/s), and a host may run several. Kept below the new-id
 * rate (announce.h) so that one source alone cannot use up the new ids
 * and keep a genuine new node out. */
#define MULTICAST_SOURCE_PER_S_DEFAULT 8u
#define MULTICAST_SOURCE_BURST_DEFAULT 16u
#define MULTICAST_SOURCES 64      /* source addresses budgeted at once */

/* A verified announcement from another member of our cluster. from is
 * the sender's source IP (an on-link one, never unspecified; an IPv6
 * link-local one with its scope id) with the port it announced (its TCP
 * listening port), ready to dial. Both pointers are valid only during
 * the call. */
typedef void (*multicast_peer_cb)(void *arg, const struct announce *a,
				  const struct sockaddr *from);

struct multicast_config {
	const char *group;        /* "GROUP:PORT"; NULL: MULTICAST_DEFAULT */
	const char *interface;    /* IPv4 address of the interface to send
				   * and join on; NULL: the system's choice */
	const char *group6;       /* "[GROUP]:PORT"; NULL: MULTICAST6_DEFAULT */
	const char *interface6;   /* IPv6: interface name; NULL: every one
				   * up and multicast-capable */
	bool no_ipv4, no_ipv6;    /* leave that family out */
	uint32_t source_per_s;    /* 0: MULTICAST_SOURCE_PER_S_DEFAULT */
	uint32_t source_burst;    /* 0: MULTICAST_SOURCE_BURST_DEFAULT */
	uint32_t new_ids_per_s;   /* 0: ANNOUNCE_NEW_IDS_PER_S_DEFAULT */
	uint32_t new_ids_burst;   /* 0: ANNOUNCE_NEW_IDS_BURST_DEFAULT */
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
	/* The same packet again through the other family (we send each
	 * announcement on both): neither accepted nor dropped. */
	uint64_t duplicates;
	bool ipv4, ipv6;          /* the families that run */
};

struct multicast;
struct io;

/* Parses and checks c (RUMOR_EINVAL with a message for a bad group, an
 * IPv4 group outside 224.0.0.0/4, an IPv6 one outside ff00::/8, a bad
 * interface, TTL or interval), binds each group's port with
 * SO_REUSEADDR (several nodes on one host share it), joins the groups,
 * and schedules the first announcement at once (timestamps from
 * io_wall_ms, jitter from io_random). A family whose socket fails is
 * left out; when both fail (or the one asked for), RUMOR_ENET naming
 * the steps. On error nothing is left running (memory still held is
 * released from the loop; no callback fires). */
int multicast_start(struct multicast **out, struct io *io,
		    const struct multicast_config *c, struct err *err);

void multicast_stats(const struct multicast *m, struct multicast_stats *out);

/* Leaves the group and closes the socket and timer. No on_peer call
 * happens after this. When the socket is closed the memory is freed,
 * then cb(arg) is called exactly once, from the loop. */
void multicast_close(struct multicast *m, void (*cb)(void *arg), void *arg);

#endif
