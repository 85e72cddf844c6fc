/* SPDX-License-Identifier: MIT */
/*
 * request: `rumorctl sync`: reconcile now with every connected peer and
 * report, once each exchange ended or the wait is over, what moved.
 */
#include <stdlib.h>
#include <string.h>

#include "node/net_int.h"

/* A `rumorctl sync` in progress: peers still to finish, and the sums. */
struct sync_request {
	struct ctl_sync_report report;
	uint8_t (*pending)[RUMOR_NODE_ID_BYTES];
	size_t n_pending;
	node_sync_done_cb done;
	void *arg;
	struct io_timer *timer;         /* the wait */
	struct node_net *net;
	struct sync_request *next;
	/* node_sync_now is starting rounds: a peer that ends meanwhile must
	 * not free r under it. */
	int starting;
};

/* ------------------------------------------------------------ sync now */

/* Unlinks r, reports to its caller and frees it. */
static void request_finish(struct sync_request *r)
{
	struct node_net *net = r->net;
	struct sync_request **pp;

	for (pp = &net->requests; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	/* May be the timer's own callback: allowed (io.h convention 2). */
	io_timer_free(r->timer);
	if (r->done != NULL)
		r->done(r->arg, &r->report);
	free(r->pending);
	free(r);
}

void request_peer_ended(struct node_net *net, const uint8_t *id,
			       const struct sync_round_stats *st)
{
	struct sync_request *r, *next;
	size_t i;

	for (r = net->requests; r != NULL; r = next) {
		next = r->next;
		for (i = 0; i < r->n_pending; i++) {
			if (memcmp(r->pending[i], id, RUMOR_NODE_ID_BYTES) != 0)
				continue;
			memmove(r->pending[i], r->pending[i + 1],
				(r->n_pending - i - 1) * sizeof *r->pending);
			r->n_pending--;
			if (st != NULL) {
				r->report.peers_completed++;
				r->report.entries_sent += st->entries_sent;
				r->report.entries_received += st->entries_received;
				r->report.entries_applied += st->entries_applied;
				r->report.bytes_in += st->wire_bytes_received;
				r->report.bytes_out += st->wire_bytes_sent;
			}
			break;
		}
		if (r->n_pending == 0 && !r->starting)
			request_finish(r);
	}
}

static void request_timeout(struct io_timer *t)
{
	request_finish(t->data);
}

int node_sync_now(struct rumor *n, uint32_t timeout_ms, node_sync_done_cb done,
		  void *arg)
{
	struct node_net *net = n->net;
	struct sync_request *r;
	struct peer *p;
	size_t count = 0;

	if (net == NULL || net->closing)
		return RUMOR_EINVAL;
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return RUMOR_ENOMEM;
	for (p = net->peers; p != NULL; p = p->next)
		count++;
	r->pending = calloc(count ? count : 1, sizeof *r->pending);
	if (r->pending == NULL) {
		free(r);
		return RUMOR_ENOMEM;
	}
	r->net = net;
	r->done = done;
	r->arg = arg;
	r->timer = io_timer_new(n->io, request_timeout, r);
	if (r->timer == NULL) {
		free(r->pending);
		free(r);
		return RUMOR_ENOMEM;
	}
	r->next = net->requests;
	net->requests = r;
	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || !p->hello || p->sync == NULL)
			continue;
		memcpy(r->pending[r->n_pending++], p->id, RUMOR_NODE_ID_BYTES);
		r->report.peers_tried++;
	}
	r->starting = 1;
	for (p = net->peers; p != NULL; p = p->next)
		if (p->open && !p->closed && p->hello && p->sync != NULL &&
		    !sync_session_busy(p->sync))
			peer_start_round(p);
	r->starting = 0;
	if (r->n_pending == 0) {
		request_finish(r);
		return 0;
	}
	io_timer_start(r->timer, timeout_ms ? timeout_ms : 10000, 0);
	return 0;
}

void request_finish_all(struct node_net *net)
{
	while (net->requests != NULL)
		request_finish(net->requests);
}
