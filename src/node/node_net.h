/* SPDX-License-Identifier: MIT */
/*
 * node_net: the network side of a node (connections, reconciliation
 * rounds, discovery, catch-up), all on the node's io. Internal to
 * src/node/; implemented by net.c, peer.c, peer_msg.c, sched.c,
 * request.c and status.c (net_int.h).
 */
#ifndef RUMOR_NODE_NET_H
#define RUMOR_NODE_NET_H

#include <stdint.h>

#include "rumor.h"
#include "lib/err.h"

struct node_net;
struct ctl_status;

/* Starts listening (o->listen), multicast (when listening and not
 * o->no_multicast), seeds (o->peers) and the round and tick timers. On
 * failure with n->net set, the caller closes it with node_net_close(). */
int node_net_start(struct rumor *n, const struct rumor_options *o,
		   struct err *err);
/* Closes everything on the io; done(n) fires once every connection,
 * listener and discovery part has closed (from the io's loop, or before
 * this returns when none was open), after n->net is freed and set to
 * NULL. */
void node_net_close(struct rumor *n, void (*done)(struct rumor *n));
void node_net_handle_closed(struct node_net *net);

/* count writes happened (local: this node's own), for the velocity and
 * the fast path. */
void node_net_note_writes(struct rumor *n, uint64_t count, int local);
/* Every version the store applied (local or remote, after the commit):
 * offered to the live stream of every peer but its sender. */
void node_net_on_change(struct rumor *n, const struct rumor_version *v);
/* RUMOR_EREFUSED while catching up. */
int node_net_refuses_writes(struct rumor *n, struct err *err);

/* See rumor_reload(). */
int node_net_reload(struct rumor *n, const struct rumor_options *o,
		    struct err *err);

void node_net_stats(struct rumor *n, struct rumor_stats *st);
void node_net_status(struct rumor *n, struct ctl_status *st);

#endif
