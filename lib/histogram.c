/* SPDX-License-Identifier: MIT */
/*
 * histogram: fixed-bucket histograms (lib/histogram.h).
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "lib/histogram.h"

/* A sync round on a LAN takes a millisecond or a few; a catch-up over a
 * slow link, seconds to minutes. */
const double histogram_seconds_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30, 60,
};
const size_t histogram_seconds_n =
	sizeof histogram_seconds_bounds / sizeof histogram_seconds_bounds[0];

/* A live frame carries one entry or a few; a round's BATCH up to
 * thousands. */
const double histogram_entries_bounds[] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 16384,
};
const size_t histogram_entries_n =
	sizeof histogram_entries_bounds / sizeof histogram_entries_bounds[0];

void histogram_init(struct histogram *h, const double *bounds, size_t n)
{
	size_t i;

	assert(n <= HISTOGRAM_BOUNDS_MAX);
	assert(n == 0 || bounds != NULL);
	for (i = 0; i < n; i++) {
		assert(isfinite(bounds[i]));
		assert(i == 0 || bounds[i - 1] < bounds[i]);
	}
	memset(h, 0, sizeof *h);
	h->bounds = bounds;
	h->n_bounds = n;
}

void histogram_observe(struct histogram *h, double v)
{
	size_t lo = 0, hi = h->n_bounds;

	if (isnan(v))
		return;
	/* The first bound >= v (binary search; bounds ascend). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->bounds[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	h->counts[lo]++;
	h->count++;
	h->sum += v;
}
