/* SPDX-License-Identifier: MIT */
/*
 * rumord_metrics: rumord's --metrics HTTP endpoint. libmicrohttpd in its
 * external-event mode, driven from rumord's libuv loop (no threads):
 * GET or HEAD /metrics answers rumor_metrics() of the node as Prometheus
 * text; anything else gets a 4xx and changes nothing.
 */
#ifndef RUMORD_METRICS_H
#define RUMORD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "rumor.h"

/* Bounds on what HTTP clients may hold (README, "Metrics"). */
#define RUMORD_METRICS_CONNECTIONS 16u     /* open at once, in all */
#define RUMORD_METRICS_PER_IP 4u           /* open at once, per address */
#define RUMORD_METRICS_TIMEOUT_S 10u       /* idle connection closed
						(rumord's; see _start) */
#define RUMORD_METRICS_CONN_MEMORY (32u << 10) /* request headers, per
						 connection */

struct rumord_metrics;

/* Binds and listens on addr (a numeric "HOST:PORT" or "[V6]:PORT";
 * port 0: any) and serves on loop from now on. A connection that sends
 * nothing for idle_timeout_s seconds (at least 1; rumord gives
 * RUMORD_METRICS_TIMEOUT_S) is closed, with or without part of a
 * request. Until rumord_metrics_set_node() names a node, /metrics
 * answers 503. log (may be NULL) gets libmicrohttpd's messages and ours.
 * Returns 0 with *out set, or -1 with a message naming addr and the
 * reason (a bad address, the port in use...) in errmsg. */
int rumord_metrics_start(struct rumord_metrics **out, uv_loop_t *loop,
			 const char *addr, unsigned idle_timeout_s,
			 void (*log)(void *arg, int level, const char *msg),
			 void *log_arg, char *errmsg, size_t errlen);

/* The node whose metrics are served (NULL: none, 503 from now on). */
void rumord_metrics_set_node(struct rumord_metrics *m, struct rumor *node);

/* The port it listens on (the one the system chose for port 0). */
uint16_t rumord_metrics_port(const struct rumord_metrics *m);

/* Stops serving: open HTTP connections are closed, the listening
 * socket too; the memory is freed once the loop has closed its handles
 * (run the loop on). NULL: no-op. */
void rumord_metrics_close(struct rumord_metrics *m);

#endif
