/* SPDX-License-Identifier: MIT */
/*
 * node_ctl: what the control socket (src/node/control.c) asks of a node beyond
 * the public API: the gossip state for `status` and `peers`, the log, a
 * forced sync, change subscriptions for `watch`, and logging. Implemented
 * in src/node/node.c and the net files. All calls on the node's loop
 * thread. The order is downward: control.c includes this header and the
 * public API, never node.h.
 */
#ifndef RUMOR_NODE_CTL_H
#define RUMOR_NODE_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "rumor.h"
#include "wire/ctl_types.h"

/* Logs through the user's callback when level <= the node's level. */
void node_log(struct rumor *n, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int node_get_status(struct rumor *n, struct ctl_status *st);

/* Whether the node runs in strong consistency (every write strong), and
 * the bound of a strong write's phases in ms (the default filled in). */
int node_is_strong(struct rumor *n);
uint32_t node_strong_timeout_ms(struct rumor *n);

/* The HWM vector: cb per origin (origin is 32 bytes). */
typedef int (*node_hwm_cb)(void *arg, const uint8_t *origin, uint64_t seq);
int node_hwms(struct rumor *n, node_hwm_cb cb, void *arg);

/* Writes up to max peers; returns how many there are in all. */
size_t node_peers(struct rumor *n, struct ctl_peer_info *out, size_t max);

/* Log entries, per origin, newest first, at most max_per_origin each.
 * cb gets each entry as a version (value NULL for deletions and omitted
 * for live keys: value_len tells the size; value pointer NULL). */
typedef int (*node_log_cb)(void *arg, const struct rumor_version *v);
int node_log_entries(struct rumor *n, size_t max_per_origin, node_log_cb cb,
		     void *arg);

/* Reconcile now with every alive peer; done fires once when every
 * exchange ended (or failed / timed out), with what moved. */
typedef void (*node_sync_done_cb)(void *arg, const struct ctl_sync_report *r);
int node_sync_now(struct rumor *n, uint32_t timeout_ms, node_sync_done_cb done,
		  void *arg);

/* Change streams are rumor_tail_* (tail.c). The number of positions the
 * stream passed over since the last call because the feed no longer held
 * them (superseded, or collected, while the stream was behind); resets
 * it. */
uint64_t node_tail_take_skipped(struct rumor_tail *t);
/* Strong writes, for `status`: the consistency, the quorum now, the
 * nodes reachable (self included), readiness (rumor_ready) and the
 * strong_* counters. */
struct node_strong_status {
	int consistency;             /* enum rumor_consistency */
	uint32_t quorum;
	uint32_t reachable;
	int ready;
	uint64_t committed, aborted, prepared, pending, recovered, late;
};
int node_strong_status(struct rumor *n, struct node_strong_status *st);
/* 1 when a strong write in flight holds key here, else 0. */
int node_key_locked(struct rumor *n, const void *key, size_t len);

/* `rumorctl why KEY` (why.c): asks every connected member for its
 * version of key, waits at most timeout_ms (0: 2 s) for the answers,
 * then done fires once (maybe before node_why returns) with rc 0 (or
 * RUMOR_ENOMEM: no rows), the summary and n rows (the node's own first;
 * valid during the call). RUMOR_EINVAL (key), RUMOR_EREFUSED (too many
 * queries in flight), RUMOR_ECLOSED, RUMOR_ENOMEM, RUMOR_EIO with err
 * set: then done never fires. */
typedef void (*node_why_done_cb)(void *arg, int rc,
				 const struct ctl_why_summary *s,
				 const struct ctl_why_row *rows, size_t n);
struct err;
int node_why(struct rumor *n, const void *key, size_t key_len,
	     uint32_t timeout_ms, node_why_done_cb done, void *arg,
	     struct err *err);
/* Waiting for catch-up to end (a write held by the control socket).
 * done is called once, from the loop, when catch-up ends or the node's
 * network closes; never from inside node_catchup_wait. */
struct node_catchup_wait {
	void (*done)(struct node_catchup_wait *w);
	struct node_catchup_wait *prev, *next;
	int linked;
};
/* 1: w waits (done will be called, unless cancelled first); 0: the node
 * is not catching up (nothing registered). */
int node_catchup_wait(struct rumor *n, struct node_catchup_wait *w);
/* Unregisters w (nothing when it is not waiting). */
void node_catchup_wait_cancel(struct rumor *n, struct node_catchup_wait *w);
/* Whether the node is catching up, and for how long at most (ms). */
int node_catchup_left(struct rumor *n, uint64_t *left_ms);

/* Whether origin is this node's own (a change it wrote). */
int node_is_own_origin(struct rumor *n, const uint8_t *origin, size_t len);

#endif
