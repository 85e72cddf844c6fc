/* SPDX-License-Identifier: MIT */
/*
 * metrics: a node's figures as Prometheus text (exposition format
 * 0.0.4): metrics_text.c renders a snapshot (pure, unit-tested),
 * metrics.c takes the snapshot of a node (rumor_metrics). The README's
 * "Metrics" section and rumord(8) list the names.
 */
#ifndef RUMOR_NODE_METRICS_H
#define RUMOR_NODE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/histogram.h"
#include "wire/ctl_types.h"

/* The longest text rendered: far above what a full member table makes
 * (MEMBERS_MAX_DEFAULT peers at about 120 bytes each), so reaching it
 * means a bug, reported as RUMOR_ETOOBIG. */
#define METRICS_TEXT_MAX (4u << 20)

/* An announcement drop reason and its count (every reason, zeros
 * included, so that a series exists before its first drop). */
struct metrics_count {
	const char *name;
	uint64_t count;
};

struct metrics_snapshot {
	const struct ctl_status *status;     /* stats, refusals, members */
	const struct ctl_peer_info *peers;   /* the member table */
	size_t n_peers;
	const struct metrics_count *dropped; /* announcement drops */
	size_t n_dropped;
	const struct histogram *round_seconds;
	const struct histogram *apply_batch;
	const char *version;                 /* the library's */
};

/* Renders s as Prometheus text into *text (NUL-terminated, malloc'd:
 * the caller frees it) and its length (without the NUL) into *len. Every
 * family has its # HELP and # TYPE lines; label values are escaped (\\,
 * \", \n); histogram buckets are cumulative and end with le="+Inf".
 * RUMOR_ENOMEM, RUMOR_ETOOBIG past METRICS_TEXT_MAX; on error *text and
 * *len are untouched. */
int metrics_render(const struct metrics_snapshot *s, char **text,
		   size_t *len, struct err *err);

#endif
