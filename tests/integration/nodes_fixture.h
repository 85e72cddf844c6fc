/* SPDX-License-Identifier: MIT */
/*
 * nodes_fixture: whole nodes (the public API) in one process on one libuv
 * loop, joined over TCP on 127.0.0.1 by seed lists, for test_nodes and
 * test_live. Every helper fails the test on an error.
 */
#ifndef RUMOR_NODES_FIXTURE_H
#define RUMOR_NODES_FIXTURE_H

#include <uv.h>

#include "rumor.h"

#define MAX_NODES 5
#define DEADLINE_MS 15000

struct cluster {
	uv_loop_t loop;
	char *dirs[MAX_NODES];
	struct rumor *nodes[MAX_NODES];
	char addrs[MAX_NODES][64];
	int n;
};

/* One turn of the loop (a 5 ms ticker keeps it from blocking). */
void run_once(struct cluster *c);
/* Opens node i (on c->dirs[i]) with the seeds given; 0 or an error. */
/* The options open_node uses for node i (loopback, no multicast, fast
 * intervals, no catch-up wait), for a test to add to before
 * open_node_with(), which opens node i with o and records its address. */
void node_options(struct cluster *c, int i, const char *const *peers,
		  size_t n_peers, struct rumor_options *o);
int open_node_with(struct cluster *c, int i, const struct rumor_options *o);
int open_node(struct cluster *c, int i, const char *const *peers,
	      size_t n_peers);
void close_node(struct cluster *c, int i);
/* n nodes: node 0 first, every other node with node 0 as seed. */
void cluster_start(struct cluster *c, int n);
void cluster_stop(struct cluster *c);

struct want {
	struct cluster *c;
	const char *key;
	const char *value;     /* NULL: absent */
};

/* tu_wait_for's step and condition: a loop turn; every node holds
 * w->key as w->value (absent for NULL). */
void step(void *arg);
int everyone_has(void *arg);
/* Polls until every node holds key as value, or fails the test after
 * DEADLINE_MS. */
void wait_everyone_has(struct cluster *c, const char *key,
		       const char *value);

#endif
