/* SPDX-License-Identifier: MIT */
/*
 * why_verdict: from the answers of a `rumorctl why` query (why.c) to
 * what it says: each answer's version kept once among the query's
 * distinct versions (its value checked against its hash), the winner
 * under this node's order (the store's own comparison,
 * resolver_explain, which counts nothing), each row's role (current,
 * behind with its lag, diverged, outside) and the verdict: converged,
 * converging or diverged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/why_int.h"

/* ------------------------------------------------------------ answers */

/* Keeps v (hash given; value NULL when not carried) among q's distinct
 * versions: its index, or SIZE_MAX when q holds WHY_VERSIONS_MAX others
 * or memory ran out. */
static size_t why_keep(struct why_query *q, const struct wire_why *m,
		       const uint8_t *value)
{
	struct why_version *wv;
	size_t i;

	for (i = 0; i < q->n_vers; i++) {
		wv = &q->vers[i];
		if (wv->v.clock == m->clock && wv->v.seq == m->seq &&
		    memcmp(wv->origin, m->origin, RUMOR_NODE_ID_BYTES) == 0 &&
		    memcmp(wv->hash, m->hash, WIRE_WHY_HASH_BYTES) == 0) {
			if (!wv->have_value && value != NULL) {
				wv->value = malloc(m->value_len ? m->value_len : 1);
				if (wv->value == NULL)
					return SIZE_MAX;
				memcpy(wv->value, value, m->value_len);
				wv->have_value = 1;
				wv->v.value = wv->value;
				wv->v.value_len = (size_t)m->value_len;
			}
			return i;
		}
	}
	if (q->n_vers == WHY_VERSIONS_MAX)
		return SIZE_MAX;
	wv = &q->vers[q->n_vers];
	memset(wv, 0, sizeof *wv);
	if (value != NULL) {
		wv->value = malloc(m->value_len ? m->value_len : 1);
		if (wv->value == NULL)
			return SIZE_MAX;
		memcpy(wv->value, value, m->value_len);
		wv->have_value = 1;
	}
	memcpy(wv->origin, m->origin, RUMOR_NODE_ID_BYTES);
	memcpy(wv->hash, m->hash, WIRE_WHY_HASH_BYTES);
	wv->v.key = q->key;
	wv->v.key_len = q->key_len;
	/* A value too large to carry reaches the resolver as empty bytes:
	 * why's answer may then differ from the store's for a resolver that
	 * looks at values over WIRE_WHY_VALUE_MAX (rumorctl(1) says so). */
	wv->v.value = m->deleted ? NULL : wv->value != NULL ? wv->value :
		(const void *)"";
	wv->v.value_len = m->deleted ? 0 : wv->have_value ?
		(size_t)m->value_len : 0;
	wv->v.deleted = m->deleted;
	wv->v.clock = m->clock;
	wv->v.wall_ms = m->wall_ms;
	wv->v.origin = wv->origin;
	wv->v.origin_len = RUMOR_NODE_ID_BYTES;
	wv->v.seq = m->seq;
	return q->n_vers++;
}

/* Fills row r from answer m (hwms: n_origins of them). 0, or -1 when
 * the answer cannot be used (a bad answer). */
int why_fill_row(struct why_query *q, struct why_row *r,
		 const struct wire_why *m, const uint64_t *hwms, size_t n_hwms)
{
	struct ctl_why_row *o = &r->out;
	uint8_t hash[WIRE_WHY_HASH_BYTES];

	if (n_hwms != q->n_origins)
		return -1;
	if (m->found && m->value != NULL) {
		crypto_generichash(hash, sizeof hash, m->value,
				   (size_t)m->value_len, NULL, 0);
		if (memcmp(hash, m->hash, sizeof hash) != 0)
			return -1;
	}
	o->symmetry_violations = m->symmetry_violations;
	snprintf(o->resolver, sizeof o->resolver, "%.*s",
		 (int)m->resolver_len, m->resolver);
	if (q->n_origins > 0) {
		r->hwms = malloc(q->n_origins * sizeof *r->hwms);
		if (r->hwms == NULL)
			return -1;
		memcpy(r->hwms, hwms, q->n_origins * sizeof *r->hwms);
	}
	if (m->outside) {
		o->role = CTL_WHY_OUTSIDE;
		return 0;
	}
	if (!m->found)
		return 0;
	r->version = why_keep(q, m, m->value);
	if (r->version == SIZE_MAX)
		return -1;
	o->found = 1;
	o->clock = m->clock;
	memcpy(o->origin, m->origin, RUMOR_NODE_ID_BYTES);
	o->seq = m->seq;
	o->wall_ms = m->wall_ms;
	o->deleted = m->deleted;
	o->value_len = m->value_len;
	memcpy(o->hash, m->hash, WIRE_WHY_HASH_BYTES);
	return 0;
}

/* ------------------------------------------------------------ verdict */

/* The version a row holds as a struct rumor_version (key: the query's). */
static const struct rumor_version *row_version(const struct why_query *q,
					       const struct why_row *r)
{
	return r->version != SIZE_MAX ? &q->vers[r->version].v : NULL;
}

/* Whether row r has seen v: its HWM for v's origin reaches v's seq. */
static int row_has_seen(const struct why_query *q, const struct why_row *r,
			const struct rumor_version *v)
{
	size_t i;

	if (r->hwms == NULL)
		return 0;
	for (i = 0; i < q->n_origins; i++)
		if (memcmp(q->origins[i], v->origin, RUMOR_NODE_ID_BYTES) == 0)
			return r->hwms[i] >= v->seq;
	return 0;
}

static int row_asked(const struct why_row *r)
{
	return r->out.status == CTL_WHY_SELF ||
	       r->out.status == CTL_WHY_ANSWERED;
}

/* The index of the winner among q's versions under this node's order
 * (SIZE_MAX: none), and in *reason what made it beat the best other. */
static size_t why_winner(struct why_query *q, int *reason)
{
	enum resolver_reason why = RESOLVER_SAME;
	size_t i, best = SIZE_MAX, second = SIZE_MAX;

	for (i = 0; i < q->n_vers; i++) {
		if (best == SIZE_MAX) {
			best = i;
			continue;
		}
		if (resolver_explain(q->n->resolver, &q->vers[i].v,
				     &q->vers[best].v, NULL) < 0) {
			second = best;
			best = i;
		} else if (second == SIZE_MAX ||
			   resolver_explain(q->n->resolver, &q->vers[i].v,
					    &q->vers[second].v, NULL) < 0) {
			second = i;
		}
	}
	if (best == SIZE_MAX) {
		*reason = CTL_WHY_BY_NONE;
		return SIZE_MAX;
	}
	if (second == SIZE_MAX) {
		*reason = CTL_WHY_BY_ONLY;
		return best;
	}
	(void)resolver_explain(q->n->resolver, &q->vers[best].v,
			       &q->vers[second].v, &why);
	switch (why) {
	case RESOLVER_BY_CLOCK: *reason = CTL_WHY_BY_CLOCK; break;
	case RESOLVER_BY_SEQ: *reason = CTL_WHY_BY_SEQ; break;
	case RESOLVER_BY_USER: *reason = CTL_WHY_BY_RESOLVER; break;
	case RESOLVER_BY_WALL: *reason = CTL_WHY_BY_WALL; break;
	default: *reason = CTL_WHY_BY_ORIGIN; break;
	}
	return best;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* Fills every row's role and lags and the summary. */
void why_decide(struct why_query *q, struct ctl_why_summary *s)
{
	const struct rumor_version *w, *x, *y;
	struct why_row *r, *o;
	size_t win, i, j;

	memset(s, 0, sizeof *s);
	snprintf(s->resolver, sizeof s->resolver, "%s",
		 resolver_name(q->n->resolver));
	win = why_winner(q, &s->reason);
	w = win != SIZE_MAX ? &q->vers[win].v : NULL;
	s->rows = q->n_rows;
	s->winner_row = q->n_rows;
	if (w != NULL)
		s->winner_age_ms = sub0(node_wall_ms(q->n), w->wall_ms);
	for (i = 0; i < q->n_rows; i++) {
		r = &q->rows[i];
		x = row_version(q, r);
		if (!row_asked(r)) {
			s->not_asked++;
			continue;
		}
		if (r->out.role == CTL_WHY_OUTSIDE)
			continue;
		if (r->version == win) {
			r->out.role = CTL_WHY_CURRENT;
			if (s->winner_row == q->n_rows && w != NULL)
				s->winner_row = i;
			continue;
		}
		r->out.role = CTL_WHY_BEHIND;
		r->out.lag_clock = x != NULL ? sub0(w->clock, x->clock) :
			w->clock;
		if (x != NULL && x->origin_len == w->origin_len &&
		    memcmp(x->origin, w->origin, w->origin_len) == 0)
			r->out.lag_seq = sub0(w->seq, x->seq);
		r->out.lag_ms = x != NULL ? sub0(w->wall_ms, x->wall_ms) : 0;
	}
	/* Diverged: a pair holding different same-clock versions of
	 * different origins, each having seen the other's. */
	for (i = 0; i < q->n_rows; i++) {
		r = &q->rows[i];
		x = row_version(q, r);
		if (!row_asked(r) || x == NULL)
			continue;
		for (j = i + 1; j < q->n_rows; j++) {
			o = &q->rows[j];
			y = row_version(q, o);
			if (!row_asked(o) || y == NULL || r->version == o->version ||
			    x->clock != y->clock ||
			    memcmp(x->origin, y->origin, x->origin_len) == 0)
				continue;
			if (row_has_seen(q, r, y) && row_has_seen(q, o, x)) {
				r->out.role = CTL_WHY_DIVERGED;
				o->out.role = CTL_WHY_DIVERGED;
				s->verdict = CTL_WHY_DIVERGENT;
			}
		}
	}
	for (i = 0; i < q->n_rows; i++) {
		r = &q->rows[i];
		if (r->out.role != CTL_WHY_BEHIND)
			continue;
		if (s->verdict == CTL_WHY_CONVERGED)
			s->verdict = CTL_WHY_CONVERGING;
		if (r->out.lag_clock > s->max_lag_clock)
			s->max_lag_clock = r->out.lag_clock;
		if (r->out.lag_seq > s->max_lag_seq)
			s->max_lag_seq = r->out.lag_seq;
		if (r->out.lag_ms > s->max_lag_ms)
			s->max_lag_ms = r->out.lag_ms;
	}
	/* A member that could not be asked has yet to be shown to hold the
	 * winner: the cluster is not known converged. */
	if (s->verdict == CTL_WHY_CONVERGED && s->not_asked > 0)
		s->verdict = CTL_WHY_CONVERGING;
}
