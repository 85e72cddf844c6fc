/* SPDX-License-Identifier: MIT */
/* seeds: resolve seed peers and retry them with backoff (see seeds.h). */
#include "discovery/seeds.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

enum seed_state {
	SEED_IDLE,        /* not started */
	SEED_RESOLVING,   /* a getaddrinfo is in flight */
	SEED_DIALING,     /* handed to the node, waiting for its report */
	SEED_CONNECTED,   /* the node says it is connected */
	SEED_WAITING,     /* backoff timer running */
};

struct seed {
	struct seeds *owner;
	size_t index;
	char *str;                      /* as given */
	char host[HOSTPORT_HOST_MAX];
	char port[6];                   /* decimal, for getaddrinfo */
	enum seed_state state;
	struct io_resolve *req;         /* in flight, or NULL */
	struct io_timer *timer;
	uint32_t next_delay_ms;         /* delay of the next retry */
	size_t addr_cursor;             /* which resolved address to try */
};

struct seeds {
	struct io *io;
	struct seeds_config cfg;
	struct seeds_stats stats;
	/* Calls the close callback from the loop, after seeds_close. */
	struct io_timer *anchor;
	bool closing;
	void (*close_cb)(void *arg);
	void *close_arg;
	size_t n;
	struct seed seeds[];
};

static void resolve(struct seed *sd);
static void on_retry_timer(struct io_timer *t);

int seeds_create(struct seeds **out, struct io *io,
		 const char *const *list, size_t n,
		 const struct seeds_config *cfg, struct err *err)
{
	struct seeds *s;
	size_t i;
	int rv;

	assert(cfg != NULL && cfg->on_resolved != NULL);
	if (n > SEEDS_MAX)
		return err_set(err, RUMOR_EINVAL, "too many seeds (%zu > %d)",
			       n, SEEDS_MAX);
	if (cfg->backoff_min_ms != 0 && cfg->backoff_max_ms != 0 &&
	    cfg->backoff_min_ms > cfg->backoff_max_ms)
		return err_set(err, RUMOR_EINVAL,
			       "seed backoff minimum above its maximum");
	s = calloc(1, sizeof *s + n * sizeof s->seeds[0]);
	if (s == NULL)
		return err_set(err, RUMOR_ENOMEM, "seed list: out of memory");
	s->io = io;
	s->cfg = *cfg;
	if (s->cfg.backoff_min_ms == 0)
		s->cfg.backoff_min_ms = SEEDS_BACKOFF_MIN_MS_DEFAULT;
	if (s->cfg.backoff_max_ms == 0)
		s->cfg.backoff_max_ms = SEEDS_BACKOFF_MAX_MS_DEFAULT;
	if (s->cfg.backoff_max_ms < s->cfg.backoff_min_ms)
		s->cfg.backoff_max_ms = s->cfg.backoff_min_ms;
	for (i = 0; i < n; i++) {
		struct seed *sd = &s->seeds[i];
		uint16_t port;

		rv = hostport_parse(list[i], 0, sd->host, &port, err);
		if (rv != 0) {
			err_wrap(err, "seed %zu", i + 1);
			goto err_after_alloc;
		}
		sd->str = strdup(list[i]);
		if (sd->str == NULL) {
			rv = err_set(err, RUMOR_ENOMEM,
				     "seed list: out of memory");
			goto err_after_alloc;
		}
		snprintf(sd->port, sizeof sd->port, "%u", (unsigned)port);
		sd->owner = s;
		sd->index = i;
		sd->next_delay_ms = s->cfg.backoff_min_ms;
	}
	/* Timers last: nothing above can fail after one exists. */
	s->n = n;
	for (i = 0; i < n; i++) {
		s->seeds[i].timer = io_timer_new(io, on_retry_timer,
						 &s->seeds[i]);
		if (s->seeds[i].timer == NULL) {
			rv = err_set(err, RUMOR_ENOMEM,
				     "seed list: out of memory");
			goto err_after_alloc;
		}
	}
	*out = s;
	return 0;

err_after_alloc:
	for (size_t j = 0; j < n; j++) {
		free(s->seeds[j].str);
		io_timer_free(s->seeds[j].timer);
	}
	free(s);
	return rv;
}

size_t seeds_count(const struct seeds *s)
{
	return s->n;
}

const char *seeds_string(const struct seeds *s, size_t index)
{
	assert(index < s->n);
	return s->seeds[index].str;
}

void seeds_stats(const struct seeds *s, struct seeds_stats *out)
{
	*out = s->stats;
}

uint32_t seeds_backoff_ms(const struct seeds *s, size_t index)
{
	assert(index < s->n);
	return s->seeds[index].next_delay_ms;
}

static void on_retry_timer(struct io_timer *t)
{
	struct seed *sd = t->data;

	if (sd->owner->closing)
		return;
	resolve(sd);
}

/* Schedules the next try after the current delay +-25% (so that nodes
 * started together do not retry in lockstep), then doubles the delay. */
static void schedule_retry(struct seed *sd)
{
	struct seeds *s = sd->owner;
	uint32_t d = sd->next_delay_ms;
	uint64_t delay = d - d / 4 + io_random(s->io, d / 2 + 1);

	sd->state = SEED_WAITING;
	io_timer_start(sd->timer, delay, 0);
	sd->next_delay_ms = d > s->cfg.backoff_max_ms / 2
				    ? s->cfg.backoff_max_ms
				    : d * 2;
}

static void on_resolved(struct io_resolve *r, int status,
			const struct sockaddr *const *addrs, size_t n)
{
	struct seed *sd = io_resolve_data(r);
	struct seeds *s = sd->owner;

	/* A cancelled request never calls back, so s is not closing. */
	assert(!s->closing);
	sd->req = NULL;
	s->stats.resolutions++;
	if (status != 0 || n == 0) {
		s->stats.resolve_failures++;
		schedule_retry(sd);
		return;
	}
	sd->state = SEED_DIALING;
	s->stats.dials++;
	/* The callback may report back, or close s, before it returns:
	 * either is fine, s stays allocated until the close completes. */
	s->cfg.on_resolved(s->cfg.arg, sd->index, sd->str,
			   addrs[sd->addr_cursor % n]);
}

static void resolve(struct seed *sd)
{
	struct seeds *s = sd->owner;
	int rv;

	rv = s->io->ops->resolve(s->io, sd->host, sd->port, on_resolved, sd,
				 &sd->req, NULL);
	if (rv != 0) {
		sd->req = NULL;
		s->stats.resolve_failures++;
		schedule_retry(sd);
		return;
	}
	sd->state = SEED_RESOLVING;
}

int seeds_start(struct seeds *s)
{
	int rv = 0;

	assert(!s->closing);
	for (size_t i = 0; i < s->n; i++) {
		if (s->seeds[i].state != SEED_IDLE)
			continue;
		resolve(&s->seeds[i]);
		if (s->seeds[i].state == SEED_WAITING)
			rv = RUMOR_ENET;
	}
	return rv;
}

void seeds_report_success(struct seeds *s, size_t index)
{
	struct seed *sd;

	assert(index < s->n);
	sd = &s->seeds[index];
	if (s->closing || sd->state != SEED_DIALING)
		return;
	sd->state = SEED_CONNECTED;
	sd->next_delay_ms = s->cfg.backoff_min_ms;
}

void seeds_report_failure(struct seeds *s, size_t index)
{
	struct seed *sd;

	assert(index < s->n);
	sd = &s->seeds[index];
	if (s->closing ||
	    (sd->state != SEED_DIALING && sd->state != SEED_CONNECTED))
		return;
	s->stats.failures++;
	sd->addr_cursor++;
	schedule_retry(sd);
}

static void on_anchor(struct io_timer *t)
{
	struct seeds *s = t->data;
	void (*cb)(void *) = s->close_cb;
	void *arg = s->close_arg;

	io_timer_free(t);
	free(s);
	if (cb != NULL)
		cb(arg);
}

void seeds_close(struct seeds *s, void (*cb)(void *arg), void *arg)
{
	assert(!s->closing);
	s->closing = true;
	s->close_cb = cb;
	s->close_arg = arg;
	/* Nothing calls back after a cancel or a timer free, so only the
	 * close callback is left; it must come from the loop. */
	for (size_t i = 0; i < s->n; i++) {
		struct seed *sd = &s->seeds[i];

		io_timer_free(sd->timer);
		if (sd->req != NULL)
			s->io->ops->resolve_cancel(sd->req);
		free(sd->str);
	}
	s->anchor = io_timer_new(s->io, on_anchor, s);
	/* Out of memory here leaves only the callback undone: s leaks. */
	if (s->anchor != NULL)
		io_timer_start(s->anchor, 0, 0);
}
