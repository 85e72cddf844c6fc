/* SPDX-License-Identifier: MIT */
/*
 * pace: how often a node reconciles and with how many peers (DESIGN 4.5).
 * Pure: no I/O, no clocks of its own; every call is given the time (ms on
 * a monotonic clock), so tests drive it with a fake clock.
 *
 *  - Write velocity: an exponentially weighted moving average of writes
 *    per second (local writes and applied remote ones), with a
 *    configurable half-life; it decays towards 0 while nothing is written.
 *  - Interval: max_interval * ref / (ref + velocity), clamped to
 *    [min_interval, max_interval]. An idle node still reconciles every
 *    max_interval, so divergence is always repaired.
 *  - Kick: a write asks for a round kick_delay after it, but never sooner
 *    than min_interval after the previous round began, so a single write
 *    on an idle cluster spreads within about min_interval per hop while a
 *    burst of writes cannot make rounds run faster than min_interval.
 *  - Peers per round: peers_min at rest, one more per tenfold velocity
 *    above ref, at most peers_max. Which peers is the member table's job.
 *
 * Usage:
 *     pace_init(&p, &cfg, now, &err);
 *     on every write (local or applied):   pace_writes(&p, now, n);
 *     timer at pace_next_round_ms(&p):     if (pace_round_due(&p, now)) {
 *                                              pace_round_started(&p, now);
 *                                              reconcile with
 *                                              pace_peers_per_round(&p, now)
 *                                              peers; }
 *
 * Not thread-safe; no global state.
 */
#ifndef RUMOR_PACE_H
#define RUMOR_PACE_H

#include <stdint.h>

#include "lib/err.h"

#define PACE_MIN_INTERVAL_MS 100u     /* default fastest interval */
#define PACE_MAX_INTERVAL_MS 10000u   /* default idle interval */
#define PACE_KICK_DELAY_MS 10u        /* default delay after a write */
#define PACE_HALF_LIFE_MS 2000u       /* default velocity half-life */
#define PACE_REF_VELOCITY 1.0         /* writes/s: interval = max / 2 */
#define PACE_PEERS_MIN 1u
#define PACE_PEERS_MAX 3u

struct pace_config {
	uint64_t min_interval_ms;  /* >= 1 */
	uint64_t max_interval_ms;  /* >= min_interval_ms */
	uint64_t kick_delay_ms;    /* <= max_interval_ms */
	uint64_t half_life_ms;     /* >= 1 */
	double ref_velocity;       /* > 0 writes/s */
	unsigned peers_min;        /* >= 1 */
	unsigned peers_max;        /* >= peers_min */
};

struct pace {
	struct pace_config cfg;
	double weight;             /* decayed write count at last_ms */
	uint64_t last_ms;          /* time of the last velocity update */
	uint64_t round_ms;         /* start of the last round */
	uint64_t next_ms;          /* when the next round is due */
	uint64_t writes;           /* writes noted in total */
	uint64_t rounds;           /* rounds started in total */
};

/* Fills c with the defaults above. */
void pace_config_default(struct pace_config *c);

/* Starts a pacer at now_ms with velocity 0; the first round is due at
 * once (a new node reconciles before anything else). c NULL: defaults.
 * RUMOR_EINVAL (p untouched) when c breaks the bounds noted above. */
int pace_init(struct pace *p, const struct pace_config *c, uint64_t now_ms,
	      struct err *err);

/* Notes n writes (local or applied) at now_ms: raises the velocity and,
 * when n > 0, kicks (see the top of this file). Time that goes backwards
 * counts as no time passing. */
void pace_writes(struct pace *p, uint64_t now_ms, uint64_t n);

/* Writes per second at now_ms (decayed since the last write). */
double pace_velocity(const struct pace *p, uint64_t now_ms);
/* The round interval the velocity at now_ms asks for. */
uint64_t pace_interval_ms(const struct pace *p, uint64_t now_ms);
/* How many peers to reconcile with in a round begun at now_ms. */
unsigned pace_peers_per_round(const struct pace *p, uint64_t now_ms);

/* When the next round is due (absolute ms), and whether it is by now_ms. */
uint64_t pace_next_round_ms(const struct pace *p);
int pace_round_due(const struct pace *p, uint64_t now_ms);
/* A round begins at now_ms: the next is due one interval later (or
 * sooner, when a write kicks). */
void pace_round_started(struct pace *p, uint64_t now_ms);

#endif
