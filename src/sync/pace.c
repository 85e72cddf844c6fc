/* SPDX-License-Identifier: MIT */
/* pace: write velocity and the reconciliation interval (see pace.h). */
#include "sync/pace.h"

#include <assert.h>
#include <stddef.h>

#define LN2 0.69314718055994530942
#define EXP_MINUS_1 0.36787944117144232160

/* e^-x for x >= 0, without libm (the library does not link it): whole
 * units by repeated multiplication, the rest by its Taylor series, which
 * for a remainder in [0, 1) is accurate to ~1e-12 with 14 terms. Beyond
 * x = 60 the weight is below 1e-26 of a write: 0. */
static double exp_neg(double x)
{
	double whole = 1.0, term = 1.0, sum = 1.0;
	int i;

	assert(x >= 0);
	if (x > 60.0)
		return 0.0;
	while (x >= 1.0) {
		whole *= EXP_MINUS_1;
		x -= 1.0;
	}
	for (i = 1; i < 15; i++) {
		term *= -x / i;
		sum += term;
	}
	return whole * sum;
}

void pace_config_default(struct pace_config *c)
{
	c->min_interval_ms = PACE_MIN_INTERVAL_MS;
	c->max_interval_ms = PACE_MAX_INTERVAL_MS;
	c->kick_delay_ms = PACE_KICK_DELAY_MS;
	c->half_life_ms = PACE_HALF_LIFE_MS;
	c->ref_velocity = PACE_REF_VELOCITY;
	c->peers_min = PACE_PEERS_MIN;
	c->peers_max = PACE_PEERS_MAX;
}

int pace_init(struct pace *p, const struct pace_config *c, uint64_t now_ms,
	      struct err *err)
{
	struct pace_config def;

	if (c == NULL) {
		pace_config_default(&def);
		c = &def;
	}
	if (c->min_interval_ms < 1 || c->max_interval_ms < c->min_interval_ms)
		return err_set(err, RUMOR_EINVAL,
			       "pace: need 1 <= min_interval_ms (%llu) <= "
			       "max_interval_ms (%llu)",
			       (unsigned long long)c->min_interval_ms,
			       (unsigned long long)c->max_interval_ms);
	if (c->kick_delay_ms > c->max_interval_ms)
		return err_set(err, RUMOR_EINVAL,
			       "pace: kick_delay_ms above max_interval_ms");
	if (c->half_life_ms < 1)
		return err_set(err, RUMOR_EINVAL, "pace: half_life_ms is 0");
	if (!(c->ref_velocity > 0))
		return err_set(err, RUMOR_EINVAL,
			       "pace: ref_velocity must be > 0");
	if (c->peers_min < 1 || c->peers_max < c->peers_min)
		return err_set(err, RUMOR_EINVAL,
			       "pace: need 1 <= peers_min <= peers_max");
	p->cfg = *c;
	p->weight = 0;
	p->last_ms = now_ms;
	p->round_ms = now_ms;
	p->next_ms = now_ms;
	p->writes = 0;
	p->rounds = 0;
	return 0;
}

/* The write weight decayed from last_ms to now_ms. With a constant rate
 * r (writes/ms) the weight settles at r * half_life / ln 2, which is why
 * pace_velocity() scales by ln 2 / half_life. */
static double decayed_weight(const struct pace *p, uint64_t now_ms)
{
	double dt;

	if (now_ms <= p->last_ms)
		return p->weight;
	dt = (double)(now_ms - p->last_ms);
	return p->weight * exp_neg(dt * LN2 / (double)p->cfg.half_life_ms);
}

void pace_writes(struct pace *p, uint64_t now_ms, uint64_t n)
{
	uint64_t soonest;

	p->weight = decayed_weight(p, now_ms);
	if (now_ms > p->last_ms)
		p->last_ms = now_ms;
	if (n == 0)
		return;
	p->weight += (double)n;
	p->writes += n;
	/* Kick: soon, but a burst must not beat the fast interval. Before the
	 * first round the round is due already (next_ms <= now). */
	soonest = now_ms + p->cfg.kick_delay_ms;
	if (p->rounds > 0 && soonest < p->round_ms + p->cfg.min_interval_ms)
		soonest = p->round_ms + p->cfg.min_interval_ms;
	if (soonest < p->next_ms)
		p->next_ms = soonest;
}

double pace_velocity(const struct pace *p, uint64_t now_ms)
{
	return decayed_weight(p, now_ms) * LN2 * 1000.0 /
	       (double)p->cfg.half_life_ms;
}

uint64_t pace_interval_ms(const struct pace *p, uint64_t now_ms)
{
	double v = pace_velocity(p, now_ms);
	double ref = p->cfg.ref_velocity;
	double ms = (double)p->cfg.max_interval_ms * ref / (ref + v);

	if (ms < (double)p->cfg.min_interval_ms)
		return p->cfg.min_interval_ms;
	if (ms > (double)p->cfg.max_interval_ms)
		return p->cfg.max_interval_ms;
	return (uint64_t)(ms + 0.5);   /* an all but idle node: the max */
}

unsigned pace_peers_per_round(const struct pace *p, uint64_t now_ms)
{
	double v = pace_velocity(p, now_ms);
	double step = p->cfg.ref_velocity * 10.0;
	unsigned n = p->cfg.peers_min;

	while (n < p->cfg.peers_max && v >= step) {
		n++;
		step *= 10.0;
	}
	return n;
}

uint64_t pace_next_round_ms(const struct pace *p)
{
	return p->next_ms;
}

int pace_round_due(const struct pace *p, uint64_t now_ms)
{
	return now_ms >= p->next_ms;
}

void pace_round_started(struct pace *p, uint64_t now_ms)
{
	p->round_ms = now_ms;
	p->next_ms = now_ms + pace_interval_ms(p, now_ms);
	p->rounds++;
}
