/* SPDX-License-Identifier: MIT */
/*
 * live: a node's side of the live stream (src/sync/live.c has the
 * protocol): every applied version offered to every peer but its
 * sender, the offers flushed once the write or the peer's frame is done,
 * and the two timers, IHAVEs (lazy) and grafts.
 */
#include "node/net_int.h"

/* The live stream: every version this node applies goes to every
 * connected peer but the one it came from (sync_live_offer skips what
 * the peer holds, and sends lazily what it pruned); the offers go out in
 * net_live_flush(), once the write or the peer's frame is done. */
void node_net_on_change(struct rumor *n, const struct rumor_version *v)
{
	struct node_net *net = n->net;
	struct peer *p;
	struct err err;

	if (net == NULL || net->closing)
		return;
	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || !p->hello || p->sync == NULL ||
		    p == net->applying_from)
			continue;
		err_clear(&err);
		/* A failure fails the session: the flush closes the peer. */
		(void)sync_live_offer(p->sync, v, &err);
		net->live_dirty = 1;
	}
}

void sched_live_arm(struct node_net *net)
{
	if (!net->closing && !io_timer_active(net->live_timer))
		io_timer_start(net->live_timer, SYNC_LIVE_GRAFT_MS, 0);
}

void sched_live_cb(struct io_timer *t)
{
	struct node_net *net = t->data;
	uint64_t now = net_now_ms(net), next = 0, d;
	struct peer *p;

	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || p->sync == NULL)
			continue;
		d = sync_live_tick(p->sync, now);
		if (d != 0 && (next == 0 || d < next))
			next = d;
	}
	/* A graft failed a session, or asked for rounds: the flush closes
	 * the failed and the pump runs the rounds. */
	net->live_dirty = 1;
	net_live_flush(net);
	if (next != 0 && !net->closing)
		io_timer_start(net->live_timer, next > now ? next - now : 0, 0);
}

void net_live_flush(struct node_net *net)
{
	struct peer *p;
	struct err err;
	int lazy = 0;

	if (!net->live_dirty)
		return;
	net->live_dirty = 0;
	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || p->sync == NULL)
			continue;
		err_clear(&err);
		peer_after_sync_call(p, sync_live_flush(p->sync, &err), &err);
		if (!p->closed && sync_live_lazy_pending(p->sync))
			lazy = 1;
	}
	if (lazy && !net->closing && !io_timer_active(net->lazy_timer))
		io_timer_start(net->lazy_timer, SYNC_LIVE_LAZY_MS, 0);
}

void net_lazy_cb(struct io_timer *t)
{
	struct node_net *net = t->data;
	struct peer *p;
	struct err err;

	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || p->sync == NULL ||
		    !sync_live_lazy_pending(p->sync))
			continue;
		err_clear(&err);
		peer_after_sync_call(p, sync_live_flush_lazy(p->sync, &err), &err);
	}
}

