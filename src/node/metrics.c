/* SPDX-License-Identifier: MIT */
/*
 * metrics: rumor_metrics, a node's figures as Prometheus text: the
 * snapshot (status, the member table, announcement drops, histograms)
 * taken here, rendered by metrics_text.c.
 */
#include <stdlib.h>
#include <string.h>

#include "discovery/multicast.h"
#include "node/metrics.h"
#include "node/net_int.h"

/* Every announcement drop reason with its count (zeros when the node
 * has no multicast). Not ANNOUNCE_DUPLICATE: the same announcement
 * through the other address family is not a drop, and multicast never
 * counts it as one. out has room for ANNOUNCE_REASON_COUNT. */
static size_t metrics_dropped(struct rumor *n, struct metrics_count *out)
{
	struct multicast_stats ms;
	size_t k = 0;
	int r;

	memset(&ms, 0, sizeof ms);
	if (n->net != NULL && n->net->mc != NULL)
		multicast_stats(n->net->mc, &ms);
	for (r = 0; r < ANNOUNCE_REASON_COUNT; r++) {
		if (r == ANNOUNCE_OK || r == ANNOUNCE_DUPLICATE)
			continue;
		out[k].name = announce_reason_name((enum announce_reason)r);
		out[k].count = ms.dropped[r];
		k++;
	}
	return k;
}

int rumor_metrics(struct rumor *n, char **text, size_t *len)
{
	struct metrics_count dropped[ANNOUNCE_REASON_COUNT];
	struct metrics_snapshot snap;
	struct ctl_peer_info *peers = NULL;
	struct histogram rounds;
	struct store_stats ss;
	struct ctl_status *st;
	struct err err;
	size_t cap = 0;
	int rv;

	if (n == NULL || text == NULL || len == NULL)
		return RUMOR_EINVAL;
	err_clear(&err);
	/* ctl_status is a few KiB: off the stack. */
	st = malloc(sizeof *st);
	if (st == NULL)
		return node_fail(n, &(struct err){RUMOR_ENOMEM,
			"metrics: out of memory"});
	node_get_status(n, st);
	if (n->net != NULL)
		cap = members_count(&n->net->members);
	if (cap > 0) {
		peers = calloc(cap, sizeof *peers);
		if (peers == NULL) {
			free(st);
			return node_fail(n, &(struct err){RUMOR_ENOMEM,
				"metrics: out of memory"});
		}
	}
	memset(&snap, 0, sizeof snap);
	snap.status = st;
	snap.peers = peers;
	snap.n_peers = peers != NULL ? node_peers(n, peers, cap) : 0;
	if (snap.n_peers > cap)
		snap.n_peers = cap;
	snap.dropped = dropped;
	snap.n_dropped = metrics_dropped(n, dropped);
	if (n->net != NULL) {
		rounds = n->net->round_seconds;
	} else {
		histogram_init(&rounds, histogram_seconds_bounds,
			       histogram_seconds_n);
	}
	snap.round_seconds = &rounds;
	store_get_stats(n->store, &ss);
	snap.apply_batch = &ss.apply_batch;
	snap.version = rumor_library_version();
	rv = metrics_render(&snap, text, len, &err);
	free(peers);
	free(st);
	return rv == 0 ? 0 : node_fail(n, &err);
}
