/* SPDX-License-Identifier: MIT */
/*
 * histogram: a small fixed-bucket histogram of observations (sync round
 * times, apply batch sizes) in the shape Prometheus exposes: a count per
 * bucket of "at most this bound", a running sum and a total count. Pure
 * memory, no allocation; the node keeps a few and src/node/metrics*.c
 * renders them.
 */
#ifndef RUMOR_LIB_HISTOGRAM_H
#define RUMOR_LIB_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_BOUNDS_MAX 16u

struct histogram {
	const double *bounds;   /* n_bounds upper bounds, strictly ascending
				   (static storage: never copied) */
	size_t n_bounds;
	/* counts[i]: observations v with bounds[i-1] < v <= bounds[i];
	 * counts[n_bounds]: those above every bound (the +Inf bucket's
	 * own share). Not cumulative: the renderer sums them. */
	uint64_t counts[HISTOGRAM_BOUNDS_MAX + 1];
	uint64_t count;
	double sum;
};

/* Bucket layouts the node uses: sync round durations in seconds, and
 * apply batch sizes in entries. */
extern const double histogram_seconds_bounds[];
extern const size_t histogram_seconds_n;
extern const double histogram_entries_bounds[];
extern const size_t histogram_entries_n;

/* Empties h and gives it bounds (n of them, at most
 * HISTOGRAM_BOUNDS_MAX, strictly ascending, finite; asserted). bounds
 * must outlive h. */
void histogram_init(struct histogram *h, const double *bounds, size_t n);

/* Counts one observation v (NaN is ignored: it belongs to no bucket).
 * A histogram never initialised (zeroed) counts everything in +Inf. */
void histogram_observe(struct histogram *h, double v);

#endif
