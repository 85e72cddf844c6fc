/* SPDX-License-Identifier: MIT */
/* seeds: resolve seed peers and retry them with backoff (see seeds.h). */
#include "discovery/seeds.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

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
	uv_getaddrinfo_t req;
	bool req_pending;
	uv_timer_t timer;
	uint32_t next_delay_ms;         /* delay of the next retry */
	size_t addr_cursor;             /* which resolved address to try */
};

struct seeds {
	uv_loop_t *loop;
	struct seeds_config cfg;
	struct seeds_stats stats;
	/* Gives close a handle to wait for even with no seeds. */
	uv_timer_t anchor;
	bool closing;
	size_t pending;                 /* handles + requests still open */
	void (*close_cb)(void *arg);
	void *close_arg;
	size_t n;
	struct seed seeds[];
};

static void resolve(struct seed *sd);
static void maybe_finish(struct seeds *s);

int seeds_create(struct seeds **out, uv_loop_t *loop,
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
	s->loop = loop;
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
	/* Handles last: nothing above can fail after one is on the loop. */
	uv_timer_init(loop, &s->anchor);
	s->anchor.data = s;
	for (i = 0; i < n; i++) {
		uv_timer_init(loop, &s->seeds[i].timer);
		s->seeds[i].timer.data = &s->seeds[i];
	}
	s->n = n;
	*out = s;
	return 0;

err_after_alloc:
	for (size_t j = 0; j < n; j++)
		free(s->seeds[j].str);
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

static void on_retry_timer(uv_timer_t *t)
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
	uint64_t delay = d - d / 4 + randombytes_uniform(d / 2 + 1);

	sd->state = SEED_WAITING;
	uv_timer_start(&sd->timer, on_retry_timer, delay, 0);
	sd->next_delay_ms = d > s->cfg.backoff_max_ms / 2
				    ? s->cfg.backoff_max_ms
				    : d * 2;
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
			struct addrinfo *res)
{
	struct seed *sd = req->data;
	struct seeds *s = sd->owner;
	const struct addrinfo *ai;
	size_t count = 0, pick;

	sd->req_pending = false;
	s->pending--;
	if (s->closing) {
		uv_freeaddrinfo(res);
		maybe_finish(s);
		return;
	}
	s->stats.resolutions++;
	for (ai = res; status == 0 && ai != NULL; ai = ai->ai_next)
		count += ai->ai_family == AF_INET || ai->ai_family == AF_INET6;
	if (count == 0) {
		s->stats.resolve_failures++;
		uv_freeaddrinfo(res);
		schedule_retry(sd);
		return;
	}
	pick = sd->addr_cursor % count;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (pick-- == 0)
			break;
	}
	assert(ai != NULL);
	sd->state = SEED_DIALING;
	s->stats.dials++;
	/* The callback may report back, or close s, before it returns:
	 * either is fine, s stays allocated until the close completes. */
	s->cfg.on_resolved(s->cfg.arg, sd->index, sd->str, ai->ai_addr);
	uv_freeaddrinfo(res);
}

static void resolve(struct seed *sd)
{
	struct seeds *s = sd->owner;
	struct addrinfo hints;
	int rv;

	/* No AI_ADDRCONFIG: it hides 127.0.0.1 on a host (or namespace)
	 * whose only interface is loopback. */
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	sd->req.data = sd;
	rv = uv_getaddrinfo(s->loop, &sd->req, on_resolved, sd->host, sd->port,
			    &hints);
	if (rv != 0) {
		s->stats.resolve_failures++;
		schedule_retry(sd);
		return;
	}
	sd->state = SEED_RESOLVING;
	sd->req_pending = true;
	s->pending++;
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

/* Frees s once every handle and request is done (s->pending == 0). */
static void maybe_finish(struct seeds *s)
{
	void (*cb)(void *);
	void *arg;

	if (s->pending != 0)
		return;
	cb = s->close_cb;
	arg = s->close_arg;
	for (size_t i = 0; i < s->n; i++)
		free(s->seeds[i].str);
	free(s);
	if (cb != NULL)
		cb(arg);
}

static void on_seed_timer_closed(uv_handle_t *h)
{
	struct seeds *s = ((struct seed *)h->data)->owner;

	s->pending--;
	maybe_finish(s);
}

static void on_anchor_closed(uv_handle_t *h)
{
	struct seeds *s = h->data;

	s->pending--;
	maybe_finish(s);
}

void seeds_close(struct seeds *s, void (*cb)(void *arg), void *arg)
{
	assert(!s->closing);
	s->closing = true;
	s->close_cb = cb;
	s->close_arg = arg;
	/* Every handle is counted in pending, so memory is freed only
	 * after the last close callback, never while libuv still holds a
	 * handle; the anchor makes that true with no seeds too. */
	s->pending += 1 + s->n;
	uv_close((uv_handle_t *)&s->anchor, on_anchor_closed);
	for (size_t i = 0; i < s->n; i++) {
		struct seed *sd = &s->seeds[i];

		uv_close((uv_handle_t *)&sd->timer, on_seed_timer_closed);
		/* A request already running in the pool cannot be
		 * cancelled; its callback then sees `closing`. */
		if (sd->req_pending)
			uv_cancel((uv_req_t *)&sd->req);
	}
}
