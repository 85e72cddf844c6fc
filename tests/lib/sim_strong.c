/* SPDX-License-Identifier: MIT */
/* sim_strong: strong-write clients on simulated nodes, their recorded
 * history, and the end checks (tests/lib/sim_strong.h). */
#include "tests/lib/sim_strong.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "store/store.h"
#include "tests/lib/testutil.h"

const char *const sims_step_names[SIMS_STEPS] = {
	"coord-prepared", "coord-voted", "coord-committed",
	"coord-commit-sent-one", "part-prepared", "part-committed",
};

struct sims_write {
	struct sims *s;
	struct sims_write *next;
	int node;
	int returned;               /* rumor_write_strong has returned */
	int fired;                  /* cb calls */
	int detached;               /* its node died: indeterminate */
	size_t first, n;            /* its ops in s->h */
};

/* Times of the history: virtual ms scaled, plus a tick, so that ops one
 * after another within one ms are ordered as they happened. */
static int64_t now_t(struct sims *s)
{
	int64_t t = (int64_t)sim_now(s->c->sim) * 1000000;

	if (t <= s->last_t)
		t = s->last_t + 1;
	s->last_t = t;
	return t;
}

void sims_init(struct sims *s, struct simc *c)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	lincheck_init(&s->h);
}

void sims_free(struct sims *s)
{
	while (s->writes != NULL) {
		struct sims_write *w = s->writes;

		s->writes = w->next;
		free(w);
	}
	lincheck_free(&s->h);
}

static size_t record(struct sims *s, enum lc_kind kind, unsigned k,
		     const void *val, size_t vl, int absent, int64_t t)
{
	uint8_t key[SIMC_KEY_LEN];
	struct lc_op o;

	simc_key(k, key);
	memset(&o, 0, sizeof(o));
	o.invoke = t;
	o.complete = t;
	o.kind = kind;
	o.outcome = LC_INFO;
	o.key = key;
	o.key_len = sizeof(key);
	o.absent = absent;
	o.value = val;
	o.value_len = vl;
	if (lincheck_add(&s->h, &o) != 0)
		simc_fail(s->c, "out of memory");
	return s->h.n - 1;
}

static void settle_write(struct sims_write *w, enum lc_outcome out)
{
	struct sims *s = w->s;
	int64_t t = out == LC_OK ? now_t(s) : 0;
	size_t k;

	for (k = 0; k < w->n; k++) {
		s->h.ops[w->first + k].outcome = out;
		if (out == LC_OK)
			s->h.ops[w->first + k].complete = t;
		else
			s->h.ops[w->first + k].complete =
				s->h.ops[w->first + k].invoke;
	}
	if (out == LC_OK)
		s->w_ok++;
	else if (out == LC_FAIL)
		s->w_failed++;
	else
		s->w_info++;
}

static void on_strong(void *arg, int result, const char *errmsg)
{
	struct sims_write *w = arg;
	struct sims *s = w->s;
	struct simc *c = s->c;
	enum lc_outcome out;

	if (!w->returned)
		simc_fail(c, "node %d: a strong write's cb fired before "
			  "rumor_write_strong returned", w->node);
	if (++w->fired > 1) {
		s->w_twice++;
		simc_fail(c, "node %d: a strong write's cb fired twice (now "
			  "%s: %s)", w->node, rumor_strerror(result),
			  errmsg ? errmsg : "");
	}
	if (s->done || w->detached)
		return;
	if (s->pend[w->node] == w)
		s->pend[w->node] = NULL;
	s->last_result[w->node] = result;
	SIMC_TRACE(c, "node %d: strong write: %s%s%s", w->node,
		   result == 0 ? "ok" : rumor_strerror(result),
		   errmsg ? ": " : "", errmsg ? errmsg : "");
	if (c->nodes[w->node].state == SIMC_CRASHED)
		out = LC_INFO;   /* whatever it says, the process is dead */
	else if (result == 0)
		out = LC_OK;
	else if (result == RUMOR_EABORTED || result == RUMOR_ENOTREADY ||
		 result == RUMOR_ELOCKED)
		out = LC_FAIL;
	else
		out = LC_INFO;
	s->w_aborted += result == RUMOR_EABORTED;
	s->w_notready += result == RUMOR_ENOTREADY;
	s->w_locked += result == RUMOR_ELOCKED;
	s->w_timedout += result == RUMOR_ETIMEDOUT;
	settle_write(w, out);
}

int sims_write(struct sims *s, int i, const unsigned *keys, size_t n,
	       int del)
{
	struct simc *c = s->c;
	struct rumor_op ops[SIMC_KEYS];
	char vals[SIMC_KEYS][32];
	struct sims_write *w;
	int64_t t = now_t(s);
	size_t k;
	int rv;

	if (n == 0 || n > SIMC_KEYS || s->pend[i] != NULL)
		simc_fail(c, "sims_write: bad call");
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		simc_fail(c, "out of memory");
	w->s = s;
	w->node = i;
	w->next = s->writes;
	s->writes = w;
	w->first = s->h.n;
	w->n = n;
	for (k = 0; k < n; k++) {
		static uint8_t key[SIMC_KEYS][SIMC_KEY_LEN];
		int len = snprintf(vals[k], sizeof(vals[k]), "n%d.%llu", i,
				   (unsigned long long)++s->counter);

		simc_key(keys[k], key[k]);
		ops[k].key = key[k];
		ops[k].key_len = SIMC_KEY_LEN;
		ops[k].del = del;
		ops[k].value = del ? NULL : vals[k];
		ops[k].value_len = del ? 0 : (size_t)len;
		record(s, LC_WRITE, keys[k], ops[k].value, ops[k].value_len,
		       del, t);
	}
	s->pend[i] = w;
	rv = rumor_write_strong(c->nodes[i].r, ops, n, on_strong, w);
	w->returned = 1;
	SIMC_TRACE(c, "node %d: strong %s of %zu key(s) from key %u (%s)%s%s",
		   i, del ? "delete" : "put", n, keys[0], vals[0],
		   rv == 0 ? "" : ": ", rv == 0 ? "" : rumor_strerror(rv));
	if (rv != 0) {
		s->pend[i] = NULL;
		w->detached = 1;
		s->w_refused++;
		settle_write(w, LC_FAIL);
	}
	return rv;
}

void sims_read(struct sims *s, int i, unsigned k)
{
	struct simc *c = s->c;
	uint8_t key[SIMC_KEY_LEN];
	void *val = NULL;
	size_t vl = 0, idx;
	int rv;

	simc_key(k, key);
	rv = rumor_get(c->nodes[i].r, key, sizeof(key), &val, &vl);
	if (rv == 0 || rv == RUMOR_ENOTFOUND) {
		idx = record(s, LC_READ, k, val, vl, rv != 0, now_t(s));
		/* below quorum all a read may be stale by design: only the
		 * reads of the quiet end are checked */
		s->h.ops[idx].outcome = s->stale_reads && !s->final ? LC_FAIL
								    : LC_OK;
		s->r_ok++;
	} else if (rv == RUMOR_ELOCKED || rv == RUMOR_ENOTREADY) {
		idx = record(s, LC_READ, k, NULL, 0, 1, now_t(s));
		s->h.ops[idx].outcome = LC_FAIL;
		s->r_locked += rv == RUMOR_ELOCKED;
		s->r_notready += rv == RUMOR_ENOTREADY;
	} else {
		simc_fail(c, "node %d: rumor_get of key %u: %s", i, k,
			  rumor_strerror(rv));
	}
	SIMC_TRACE(c, "node %d: read key %u: %s%.*s", i, k,
		   rv == 0 ? "" : rumor_strerror(rv), (int)vl,
		   rv == 0 ? (const char *)val : "");
	rumor_free(val);
}

void sims_client(struct sims *s, int i)
{
	struct simc *c = s->c;
	unsigned keys[3];
	size_t n = 1, k, j;

	if (s->pend[i] != NULL || sim_below(c->sim, 3) == 0) {
		sims_read(s, i, sim_below(c->sim, SIMC_KEYS));
		return;
	}
	/* keys: mostly few of them, so that writes meet on a key */
	if (sim_below(c->sim, 5) == 0)
		n = 2 + sim_below(c->sim, 2);
	for (k = 0; k < n; k++) {
		unsigned key;

		do {
			key = sim_below(c->sim, 4) ? sim_below(c->sim, 3)
						   : sim_below(c->sim,
							       SIMC_KEYS);
			for (j = 0; j < k && keys[j] != key; j++)
				;
		} while (j < k);
		keys[k] = key;
	}
	(void)sims_write(s, i, keys, n, sim_below(c->sim, 4) == 0);
}

void sims_note_down(struct sims *s)
{
	int i;

	for (i = 0; i < s->c->p.n; i++) {
		struct sims_write *w = s->pend[i];

		if (w == NULL || simc_up(s->c, i))
			continue;
		SIMC_TRACE(s->c, "node %d went down with a strong write in "
			   "flight: indeterminate", i);
		w->detached = 1;
		s->pend[i] = NULL;
		settle_write(w, LC_INFO);
	}
}

int sims_idle(const struct sims *s)
{
	int i;

	for (i = 0; i < s->c->p.n; i++)
		if (s->pend[i] != NULL)
			return 0;
	return 1;
}

/* What node i's store holds for key k: into buf (value bytes), 1 absent
 * (nothing or a tombstone), or -1 for a value too long. */
static int stored(struct simc *c, int i, unsigned k, char *buf, size_t *len)
{
	struct store_record *rec;
	uint8_t key[SIMC_KEY_LEN];
	const uint8_t *val;
	int rc = 1;

	simc_key(k, key);
	*len = 0;
	if (store_get_version(c->nodes[i].r->store, key, sizeof(key), &rec,
			      NULL) != 0)
		return 1;
	if (!rec->v.deleted) {
		val = rec->v.value;
		rc = rec->v.value_len <= 64 ? 0 : -1;
		if (rc == 0) {
			memcpy(buf, val, rec->v.value_len);
			*len = rec->v.value_len;
		}
	}
	store_record_free(rec);
	return rc;
}

int sims_quiet(struct sims *s, char *why, size_t len)
{
	struct simc *c = s->c;
	int i;
	unsigned k;

	for (i = 0; i < c->p.n; i++) {
		struct rumor_stats st = RUMOR_STATS_INIT;

		if (!simc_up(c, i)) {
			snprintf(why, len, "node %d is not up", i);
			return 0;
		}
		if (rumor_stats(c->nodes[i].r, &st) != 0)
			simc_fail(c, "rumor_stats %d", i);
		if (!rumor_ready(c->nodes[i].r)) {
			snprintf(why, len, "node %d is not ready", i);
			return 0;
		}
		if (st.strong_pending > 0) {
			snprintf(why, len, "node %d holds %llu intent(s)", i,
				 (unsigned long long)st.strong_pending);
			return 0;
		}
	}
	for (k = 0; k < SIMC_KEYS; k++) {
		char a[64], b[64];
		size_t la, lb;
		int ra = stored(c, 0, k, a, &la);

		for (i = 1; i < c->p.n; i++) {
			int rb = stored(c, i, k, b, &lb);

			if (ra != rb || la != lb || memcmp(a, b, la) != 0) {
				snprintf(why, len, "key %u: node 0 holds "
					 "%s%.*s, node %d %s%.*s", k,
					 ra ? "nothing" : "", (int)la, a, i,
					 rb ? "nothing" : "", (int)lb, b);
				return 0;
			}
		}
	}
	return 1;
}

void sims_final_reads(struct sims *s)
{
	uint64_t locked = s->r_locked + s->r_notready;
	unsigned k;
	int i;

	s->final = 1;
	for (i = 0; i < s->c->p.n; i++)
		for (k = 0; k < SIMC_KEYS; k++)
			sims_read(s, i, k);
	if (s->r_locked + s->r_notready != locked)
		simc_fail(s->c, "a read on the quiet cluster was refused "
			  "(locked or not ready)");
}

/* A failed write promised that nothing was applied anywhere: its value
 * (values are unique) is never read, on any node, at any time. Deletes
 * carry no value: the linearizability check covers them. */
static void check_failed_writes(struct sims *s)
{
	const struct lc_op *w, *r;
	size_t i, j;

	for (i = 0; i < s->h.n; i++) {
		w = &s->h.ops[i];
		if (w->kind != LC_WRITE || w->outcome != LC_FAIL || w->absent)
			continue;
		for (j = 0; j < s->h.n; j++) {
			r = &s->h.ops[j];
			if (r->kind == LC_READ && !r->absent &&
			    r->value_len == w->value_len &&
			    memcmp(r->value, w->value, w->value_len) == 0)
				simc_fail(s->c, "key %u: a read returned "
					  "%.*s, the value of a write whose cb "
					  "said nothing was applied",
					  w->key[2] - '0', (int)w->value_len,
					  (const char *)w->value);
		}
	}
}

void sims_check(struct sims *s)
{
	struct lc_result r;
	char path[256];
	const char *dir = getenv("TMPDIR");
	FILE *f;
	size_t i;

	s->done = 1;
	check_failed_writes(s);
	if (lincheck_check(&s->h, 0, &r) == LC_LINEARIZABLE)
		return;
	snprintf(path, sizeof(path), "%s/rumor-strong-%llu.hist",
		 dir != NULL && *dir != '\0' ? dir : "/tmp",
		 (unsigned long long)s->c->seed);
	f = fopen(path, "w");
	if (f != NULL) {
		for (i = 0; i < s->h.n; i++)
			lincheck_write_op(f, &s->h.ops[i]);
		fclose(f);
	}
	simc_fail(s->c, "the history (%zu ops, in %s) is %s: key %u:\n%s",
		  s->h.n, path,
		  r.verdict == LC_TOO_HARD ? "too hard to check"
					   : "not linearizable",
		  r.key_len == SIMC_KEY_LEN ? r.key[2] - '0' : 99, r.why);
}
