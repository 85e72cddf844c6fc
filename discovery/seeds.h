/* SPDX-License-Identifier: MIT */
/*
 * seeds: the seed list ("HOST:PORT" strings from the command line or the
 * config). Each seed is resolved through the io (io/io.h) and handed to the
 * node to dial; while it cannot be resolved or reached it is retried
 * with exponential backoff (with jitter, up to a cap). The only I/O here
 * is name resolution and timers: the node dials and reports back with
 * seeds_report_success / seeds_report_failure.
 *
 * Life of one seed:
 *   resolving --ok--> dialing (on_resolved called) --success--> connected
 *       ^  |                    |                                  |
 *       |  +--fail--> waiting <-+------------ failure -------------+
 *       +------ backoff timer --+
 * After a failure the next try uses the next resolved address (if the
 * name had several); each failure in a row doubles the delay.
 */
#ifndef RUMOR_DISCOVERY_SEEDS_H
#define RUMOR_DISCOVERY_SEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "discovery/hostport.h"

#define SEEDS_MAX 256
#define SEEDS_BACKOFF_MIN_MS_DEFAULT 500u
#define SEEDS_BACKOFF_MAX_MS_DEFAULT 30000u

/* A seed resolved to addr (valid only during the call): dial it, then
 * call seeds_report_success or seeds_report_failure with index. */
typedef void (*seeds_resolved_cb)(void *arg, size_t index, const char *seed,
				  const struct sockaddr *addr);

struct seeds_config {
	uint32_t backoff_min_ms;   /* 0: default; first retry delay */
	uint32_t backoff_max_ms;   /* 0: default; cap */
	seeds_resolved_cb on_resolved;
	void *arg;
};

struct seeds;

/* Parses every entry of list (n entries, n <= SEEDS_MAX); on the first
 * bad one returns RUMOR_EINVAL with a message naming it and what is
 * wrong, and creates nothing. Otherwise allocates *out on io; no I/O
 * until seeds_start. */
struct io;

int seeds_create(struct seeds **out, struct io *io,
		 const char *const *list, size_t n,
		 const struct seeds_config *cfg, struct err *err);

/* Starts resolving every seed. Returns 0 or RUMOR_ENET if a resolution
 * could not even be queued (that seed is then retried by timer anyway). */
int seeds_start(struct seeds *s);

size_t seeds_count(const struct seeds *s);
/* The seed string as given; host and port as parsed. */
const char *seeds_string(const struct seeds *s, size_t index);

/* The node reports the outcome of a dial for seed index. A failure (or a
 * lost connection, later) schedules a retry after the backoff, which
 * doubles with each failure in a row; a success resets it. Reports for a
 * seed that is not dialing/connected are ignored. */
void seeds_report_success(struct seeds *s, size_t index);
void seeds_report_failure(struct seeds *s, size_t index);

/* Counters for status output. */
struct seeds_stats {
	uint64_t resolutions;      /* getaddrinfo calls completed */
	uint64_t resolve_failures;
	uint64_t dials;            /* on_resolved calls */
	uint64_t failures;         /* seeds_report_failure calls */
};
void seeds_stats(const struct seeds *s, struct seeds_stats *out);
/* Current retry delay of seed index in ms (0 after a success). */
uint32_t seeds_backoff_ms(const struct seeds *s, size_t index);

/* Stops everything: pending resolutions are cancelled, timers freed.
 * on_resolved is not called any more. On the next loop turn the memory
 * is freed and then cb(arg) is called, exactly once. */
void seeds_close(struct seeds *s, void (*cb)(void *arg), void *arg);

#endif
