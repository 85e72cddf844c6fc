/* SPDX-License-Identifier: MIT */
/* lincheck: the search (per key, Wing & Gong with a configuration cache)
 * and the explanation of a failure. The file format: lincheck_io.c. */
#include "tests/lib/lincheck.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define LC_INF INT64_MAX
/* The cache holds at most this many 32-bit words (64 MiB): past it the
 * key is too hard, whatever the step budget says. */
#define LC_ARENA_MAX (16u * 1024u * 1024u)

/* One op of one key, as the search sees it. */
struct kop {
	int64_t inv, ret;           /* ret LC_INF: indeterminate */
	int write;
	uint32_t val;               /* 0: absent; else a value id */
	const struct lc_op *src;
};

struct ev {
	int64_t t;
	int ret;                    /* 0 call, 1 return, 2 retire */
	uint32_t op;
};

struct slot {
	uint64_t hash;
	uint32_t off, len;          /* words at arena[off], preceded by len;
				       len 0: empty slot */
};

/* A set of configurations (state, ids...): a hash table over an arena
 * that lists them in insertion order, each preceded by its length. */
struct cache {
	struct slot *slots;
	size_t cap, used;
	size_t *occ;                /* occupied slots, to reset in O(used) */
	uint32_t *arena;
	size_t alen, acap;
};

static uint64_t hash_words(const uint32_t *w, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t i;

	for (i = 0; i < n; i++) {
		h ^= w[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

static int cache_grow(struct cache *c)
{
	size_t cap = c->cap ? c->cap * 2 : 256, i;
	struct slot *s = calloc(cap, sizeof(*s));
	size_t *occ = calloc(cap / 2 + 1, sizeof(*occ));

	if (s == NULL || occ == NULL) {
		free(s);
		free(occ);
		return -1;
	}
	for (i = 0; i < c->used; i++) {
		const struct slot *o = &c->slots[c->occ[i]];
		size_t j = (size_t)o->hash & (cap - 1);

		while (s[j].len != 0)
			j = (j + 1) & (cap - 1);
		s[j] = *o;
		occ[i] = j;
	}
	free(c->slots);
	free(c->occ);
	c->slots = s;
	c->occ = occ;
	c->cap = cap;
	return 0;
}

/* The slot of w[0..n) (n >= 1): where it is, or the empty slot where it
 * would go. */
static size_t cache_find(const struct cache *c, const uint32_t *w,
			 uint32_t n, uint64_t h)
{
	size_t j = (size_t)h & (c->cap - 1);

	for (; c->slots[j].len != 0; j = (j + 1) & (c->cap - 1)) {
		if (c->slots[j].hash == h && c->slots[j].len == n &&
		    memcmp(c->arena + c->slots[j].off, w,
			   n * sizeof(*w)) == 0)
			break;
	}
	return j;
}

static int cache_has(const struct cache *c, const uint32_t *w, uint32_t n)
{
	if (c->used == 0)
		return 0;
	return c->slots[cache_find(c, w, n, hash_words(w, n))].len != 0;
}

/* Adds w[0..n) (n >= 1). Returns 1 added, 0 already there, -1 out of
 * room (too hard). */
static int cache_add(struct cache *c, const uint32_t *w, uint32_t n)
{
	uint64_t h = hash_words(w, n);
	size_t j;

	if ((c->used + 1) * 2 > c->cap && cache_grow(c) < 0)
		return -1;
	j = cache_find(c, w, n, h);
	if (c->slots[j].len != 0)
		return 0;
	if (c->alen + n + 1 > c->acap) {
		size_t cap = c->acap ? c->acap * 2 : 4096;
		uint32_t *a;

		while (cap < c->alen + n + 1)
			cap *= 2;
		if (cap > LC_ARENA_MAX)
			return -1;
		a = realloc(c->arena, cap * sizeof(*a));
		if (a == NULL)
			return -1;
		c->arena = a;
		c->acap = cap;
	}
	c->arena[c->alen] = n;
	memcpy(c->arena + c->alen + 1, w, n * sizeof(*w));
	c->slots[j].hash = h;
	c->slots[j].off = (uint32_t)(c->alen + 1);
	c->slots[j].len = n;
	c->occ[c->used++] = j;
	c->alen += n + 1;
	return 1;
}

/* Empties c, keeping its memory. */
static void cache_reset(struct cache *c)
{
	size_t i;

	for (i = 0; i < c->used; i++)
		c->slots[c->occ[i]].len = 0;
	c->used = 0;
	c->alen = 0;
}

static void cache_free(struct cache *c)
{
	free(c->slots);
	free(c->occ);
	free(c->arena);
	memset(c, 0, sizeof(*c));
}

/* The search of one key: Lowe's just-in-time linearization, breadth
 * first. A configuration is the register's state and the set of pending
 * ops (invoked, not returned) already linearized; the frontier holds
 * every configuration reachable by the events so far. At an op's return
 * the frontier is closed under linearizing pending ops, and only the
 * configurations that linearized it survive. Two dominance rules keep it
 * small: a pending read whose value is the state is linearized at once
 * (a read leaves the state as it is, so doing it now loses nothing), and
 * a configuration is dropped when the same one without some
 * indeterminate write linearized is also there (that write could still
 * come later); of indeterminate writes of one value, only the first not
 * yet linearized is tried (they are interchangeable). An indeterminate write never returns; it is retired once
 * the last read of its value has returned (whether it took effect, or
 * will, no longer matters to any op): its id leaves every configuration,
 * which lets them merge. The frontier empty: the prefix up to this
 * return cannot be linearized. */
struct lin {
	const struct kop *ops;
	uint32_t n;
	uint32_t *pend;             /* pending op ids, ascending */
	uint32_t n_pend;
	struct cache front, next, seen;
	uint32_t *stack;            /* configurations to expand: len, words */
	size_t sp, scap;
	uint32_t *tmp, *tmp2;       /* scratch, n + 2 words */
	uint64_t steps, budget;
	uint32_t fail_op;           /* the op whose return emptied it */
};

static int cfg_has(const uint32_t *c, uint32_t len, uint32_t id)
{
	uint32_t i;

	for (i = 1; i < len; i++)
		if (c[i] == id)
			return 1;
	return 0;
}

/* Inserts id (absent) into c's sorted ids; returns the new length. */
static uint32_t cfg_insert(uint32_t *c, uint32_t len, uint32_t id)
{
	uint32_t i = len;

	while (i > 1 && c[i - 1] > id) {
		c[i] = c[i - 1];
		i--;
	}
	c[i] = id;
	return len + 1;
}

/* Copies c without id into out; returns the new length. */
static uint32_t cfg_remove(const uint32_t *c, uint32_t len, uint32_t id,
			   uint32_t *out)
{
	uint32_t i, n = 0;

	for (i = 0; i < len; i++)
		if (i == 0 || c[i] != id)
			out[n++] = c[i];
	return n;
}

static int push(struct lin *s, const uint32_t *c, uint32_t len)
{
	if (s->sp + len + 1 > s->scap) {
		size_t cap = s->scap ? s->scap * 2 : 4096;
		uint32_t *p;

		while (cap < s->sp + len + 1)
			cap *= 2;
		if (cap > LC_ARENA_MAX)
			return -1;
		p = realloc(s->stack, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		s->stack = p;
		s->scap = cap;
	}
	memcpy(s->stack + s->sp, c, len * sizeof(*c));
	s->stack[s->sp + len] = len;
	s->sp += len + 1;
	return 0;
}

/* Whether pending op pend[i], indeterminate, has an indeterminate twin
 * (same value) earlier in pend that c has not linearized: the twins are
 * interchangeable, so only the first is tried. */
static int twin_first(const struct lin *s, const uint32_t *c, uint32_t len,
		      uint32_t i)
{
	const struct kop *o = &s->ops[s->pend[i]];
	uint32_t j;

	if (o->ret != LC_INF)
		return 0;
	for (j = 0; j < i; j++) {
		const struct kop *t = &s->ops[s->pend[j]];

		if (t->write && t->ret == LC_INF && t->val == o->val &&
		    !cfg_has(c, len, s->pend[j]))
			return 1;
	}
	return 0;
}

/* Expands one configuration (in s->tmp, len words) at the return of r. */
static int expand(struct lin *s, uint32_t len, uint32_t r)
{
	uint32_t *c = s->tmp, i;
	int added;

	/* pending reads of the current state: linearized now */
	for (i = 0; i < s->n_pend; i++) {
		const struct kop *o = &s->ops[s->pend[i]];

		if (!o->write && o->val == c[0] && !cfg_has(c, len, s->pend[i]))
			len = cfg_insert(c, len, s->pend[i]);
	}
	added = cache_add(&s->seen, c, len);
	if (added <= 0)
		return added;
	if (cfg_has(c, len, r)) {
		uint32_t l2 = cfg_remove(c, len, r, s->tmp2);

		if (cache_add(&s->next, s->tmp2, l2) < 0)
			return -1;
	}
	for (i = 0; i < s->n_pend; i++) {
		uint32_t id = s->pend[i], l2;

		if (!s->ops[id].write || cfg_has(c, len, id) ||
		    twin_first(s, c, len, i))
			continue;
		memcpy(s->tmp2, c, len * sizeof(*c));
		l2 = cfg_insert(s->tmp2, len, id);
		s->tmp2[0] = s->ops[id].val;
		if (push(s, s->tmp2, l2) < 0)
			return -1;
	}
	return 0;
}

/* The return of op r: the new frontier. */
static enum lc_verdict on_return(struct lin *s, uint32_t r)
{
	size_t off;

	cache_reset(&s->seen);
	cache_reset(&s->next);
	s->sp = 0;
	for (off = 0; off < s->front.alen; off += s->front.arena[off] + 1)
		if (push(s, s->front.arena + off + 1, s->front.arena[off]) < 0)
			return LC_TOO_HARD;
	while (s->sp > 0) {
		uint32_t len = s->stack[s->sp - 1];

		s->sp -= len + 1;
		memcpy(s->tmp, s->stack + s->sp, len * sizeof(*s->tmp));
		if (++s->steps > s->budget || expand(s, len, r) < 0)
			return LC_TOO_HARD;
	}
	/* the new frontier, minus the dominated configurations */
	cache_reset(&s->front);
	for (off = 0; off < s->next.alen; off += s->next.arena[off] + 1) {
		const uint32_t *c = s->next.arena + off + 1;
		uint32_t len = s->next.arena[off], i;
		int dominated = 0;

		for (i = 1; i < len && !dominated; i++) {
			if (s->ops[c[i]].ret != LC_INF)
				continue;
			dominated = cache_has(&s->next, s->tmp2,
					      cfg_remove(c, len, c[i],
							 s->tmp2));
		}
		if (!dominated && cache_add(&s->front, c, len) < 0)
			return LC_TOO_HARD;
	}
	return s->front.used > 0 ? LC_LINEARIZABLE : LC_NOT_LINEARIZABLE;
}

/* Indeterminate write id is retired: out of the pending ops and every
 * configuration. */
static enum lc_verdict on_retire(struct lin *s, uint32_t id)
{
	size_t off;
	uint32_t j;

	cache_reset(&s->next);
	for (off = 0; off < s->front.alen; off += s->front.arena[off] + 1) {
		uint32_t l2 = cfg_remove(s->front.arena + off + 1,
					 s->front.arena[off], id, s->tmp2);

		if (cache_add(&s->next, s->tmp2, l2) < 0)
			return LC_TOO_HARD;
	}
	cache_reset(&s->front);
	for (off = 0; off < s->next.alen; off += s->next.arena[off] + 1)
		if (cache_add(&s->front, s->next.arena + off + 1,
			      s->next.arena[off]) < 0)
			return LC_TOO_HARD;
	for (j = 0; j < s->n_pend && s->pend[j] != id; j++)
		;
	if (j < s->n_pend) {
		memmove(s->pend + j, s->pend + j + 1,
			(s->n_pend - j - 1) * sizeof(*s->pend));
		s->n_pend--;
	}
	return LC_LINEARIZABLE;
}

static int ev_cmp(const void *pa, const void *pb)
{
	const struct ev *a = pa, *b = pb;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	if (a->ret != b->ret)
		return a->ret - b->ret;       /* calls first: touching = concurrent */
	return a->op < b->op ? -1 : a->op > b->op;
}

/* Checks ops[0..n) (sorted by invoke); adds the steps taken to *steps.
 * NOT_LINEARIZABLE: *fail_op is the op whose return left no
 * configuration. */
static enum lc_verdict search_ops(const struct kop *ops, uint32_t n,
				  uint64_t budget, uint64_t *steps,
				  uint32_t *fail_op)
{
	struct lin s;
	struct ev *ev = calloc(2 * (size_t)n + 1, sizeof(*ev));
	enum lc_verdict v = LC_TOO_HARD;
	uint32_t i, j, n_ev = 0, zero = 0;

	memset(&s, 0, sizeof(s));
	s.ops = ops;
	s.n = n;
	s.budget = budget;
	s.pend = calloc((size_t)n + 1, sizeof(*s.pend));
	s.tmp = calloc((size_t)n + 2, sizeof(*s.tmp));
	s.tmp2 = calloc((size_t)n + 2, sizeof(*s.tmp2));
	if (ev == NULL || s.pend == NULL || s.tmp == NULL || s.tmp2 == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		ev[n_ev].t = ops[i].inv;
		ev[n_ev++].op = i;
		ev[n_ev].t = ops[i].ret;
		ev[n_ev].ret = 1;
		ev[n_ev++].op = i;
		if (ops[i].ret != LC_INF)
			continue;
		/* indeterminate: retired after the last read of its value */
		ev[n_ev - 1].ret = 2;
		ev[n_ev - 1].t = ops[i].inv;
		for (j = 0; j < n; j++)
			if (!ops[j].write && ops[j].val == ops[i].val &&
			    ops[j].ret > ev[n_ev - 1].t)
				ev[n_ev - 1].t = ops[j].ret;
	}
	qsort(ev, n_ev, sizeof(*ev), ev_cmp);
	if (cache_add(&s.front, &zero, 1) < 0)   /* state absent, none */
		goto out;
	v = LC_LINEARIZABLE;
	for (i = 0; i < n_ev && v == LC_LINEARIZABLE; i++) {
		uint32_t op = ev[i].op;

		if (ev[i].ret == 0) {
			s.pend[s.n_pend++] = op;   /* ids come ascending */
			continue;
		}
		if (ev[i].ret == 2) {
			v = on_retire(&s, op);
			continue;
		}
		v = on_return(&s, op);
		if (v == LC_NOT_LINEARIZABLE)
			*fail_op = op;
		for (j = 0; j < s.n_pend && s.pend[j] != op; j++)
			;
		memmove(s.pend + j, s.pend + j + 1,
			(s.n_pend - j - 1) * sizeof(*s.pend));
		s.n_pend--;
	}
out:
	*steps += s.steps;
	free(ev);
	free(s.pend);
	free(s.tmp);
	free(s.tmp2);
	free(s.stack);
	cache_free(&s.front);
	cache_free(&s.next);
	cache_free(&s.seen);
	return v;
}

/* The ops to search: indeterminate writes of a value no read returned
 * are left out (leaving one out of a linearization that has it keeps it
 * valid: no read sat between it and the next write). Value ids are below
 * n_val. Returns how many ops went to out. */
static uint32_t prune(const struct kop *all, uint32_t n, uint32_t n_val,
		      uint8_t *seen, struct kop *out)
{
	uint32_t i, m = 0;

	memset(seen, 0, n_val);
	for (i = 0; i < n; i++)
		if (!all[i].write)
			seen[all[i].val] = 1;
	for (i = 0; i < n; i++)
		if (all[i].ret != LC_INF || seen[all[i].val])
			out[m++] = all[i];
	return m;
}

static void appendf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void append_bytes(char *buf, size_t len, const uint8_t *b, size_t n)
{
	size_t i, lim = n > 24 ? 24 : n;

	appendf(buf, len, "'");
	for (i = 0; i < lim; i++) {
		if (b[i] >= 0x21 && b[i] < 0x7f && b[i] != '%' &&
		    b[i] != '\'')
			appendf(buf, len, "%c", b[i]);
		else
			appendf(buf, len, "%%%02X", b[i]);
	}
	appendf(buf, len, n > lim ? "'...(%zu bytes)" : "'", n);
}

static void append_op(char *buf, size_t len, const struct kop *k)
{
	const struct lc_op *o = k->src;

	if (k->ret == LC_INF)
		appendf(buf, len, "  [%" PRId64 ", -] %s", k->inv,
			o->outcome == LC_INFO ? "info" : "pending");
	else
		appendf(buf, len, "  [%" PRId64 ", %" PRId64 "] ok", k->inv,
			k->ret);
	if (o->kind == LC_WRITE) {
		appendf(buf, len, " write ");
		if (o->absent)
			appendf(buf, len, "(delete)");
		else
			append_bytes(buf, len, o->value, o->value_len);
	} else {
		appendf(buf, len, " read -> ");
		if (o->absent)
			appendf(buf, len, "absent");
		else
			append_bytes(buf, len, o->value, o->value_len);
	}
	appendf(buf, len, "\n");
}

/* k[0..n) is not linearizable: k[f]'s return left no configuration.
 * Explains the smallest prefix that fails (the ops invoked by then) into
 * r->why: that op, the ops concurrent with it, and the last ops that
 * completed before it began. */
static void explain(const struct kop *k, uint32_t n, uint32_t f,
		    struct lc_result *r)
{
	const struct kop *x = &k[f];
	int64_t t = x->ret, bound = x->inv;
	uint32_t i, m = 0, shown = 0;

	for (i = 0; i < n; i++)
		m += k[i].inv <= t;
	appendf(r->why, sizeof(r->why),
		"the ops invoked by t=%" PRId64 " (%u ops) cannot be "
		"linearized; completing at t=%" PRId64 ":\n", t, m, t);
	append_op(r->why, sizeof(r->why), x);
	appendf(r->why, sizeof(r->why), "concurrent with it:\n");
	for (i = 0; i < n && k[i].inv <= t && shown < 12; i++) {
		if (i == f || k[i].ret < x->inv)
			continue;
		append_op(r->why, sizeof(r->why), &k[i]);
		shown++;
	}
	appendf(r->why, sizeof(r->why), "the last ops before it:\n");
	for (shown = 0; shown < 4; shown++) {
		uint32_t best = n;

		for (i = 0; i < n && k[i].inv < x->inv; i++) {
			if (k[i].ret >= bound)
				continue;
			if (best == n || k[i].ret > k[best].ret)
				best = i;
		}
		if (best == n)
			break;
		append_op(r->why, sizeof(r->why), &k[best]);
		bound = k[best].ret;
	}
}

static int cmp_value(const struct lc_op *a, const struct lc_op *b)
{
	if (a->absent != b->absent)
		return a->absent ? -1 : 1;
	if (a->absent)
		return 0;
	if (a->value_len != b->value_len)
		return a->value_len < b->value_len ? -1 : 1;
	return memcmp(a->value, b->value, a->value_len);
}

static int cmp_val_ptr(const void *pa, const void *pb)
{
	const struct kop *a = *(const struct kop *const *)pa;
	const struct kop *b = *(const struct kop *const *)pb;

	return cmp_value(a->src, b->src);
}

/* Value ids: 0 for absent, then one per distinct value. Returns the
 * number of ids (>= 1), or 0 out of memory. */
static uint32_t intern(struct kop *k, uint32_t n)
{
	struct kop **p = calloc(n ? n : 1, sizeof(*p));
	uint32_t i, id = 0;

	if (p == NULL)
		return 0;
	for (i = 0; i < n; i++)
		p[i] = &k[i];
	qsort(p, n, sizeof(*p), cmp_val_ptr);
	for (i = 0; i < n; i++) {
		if (i > 0 && cmp_value(p[i - 1]->src, p[i]->src) != 0)
			id++;
		if (i == 0 && !p[i]->src->absent)
			id = 1;
		p[i]->val = p[i]->src->absent ? 0 : id;
	}
	free(p);
	return id + 1;
}

static int cmp_key_inv(const void *pa, const void *pb)
{
	const struct lc_op *a = *(const struct lc_op *const *)pa;
	const struct lc_op *b = *(const struct lc_op *const *)pb;
	size_t l = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, l);

	if (c != 0)
		return c;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	if (a->invoke != b->invoke)
		return a->invoke < b->invoke ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* One key: ops p[0..n) (sorted by invoke). */
static enum lc_verdict check_key(const struct lc_op *const *p, size_t n,
				 uint64_t budget, struct lc_result *r)
{
	struct kop *k = calloc(n ? n : 1, sizeof(*k));
	uint32_t m = 0, n_val;
	size_t i;
	enum lc_verdict v;

	if (k == NULL)
		return LC_TOO_HARD;
	for (i = 0; i < n; i++) {
		const struct lc_op *o = p[i];

		if (o->outcome == LC_FAIL ||
		    (o->outcome == LC_INFO && o->kind == LC_READ))
			continue;
		k[m].inv = o->invoke;
		k[m].ret = o->outcome == LC_OK ? o->complete : LC_INF;
		k[m].write = o->kind == LC_WRITE;
		k[m].src = o;
		m++;
	}
	if (m > r->max_ops)
		r->max_ops = m;
	n_val = intern(k, m);
	if (n_val == 0) {
		free(k);
		return LC_TOO_HARD;
	}
	{
		struct kop *buf = calloc(m ? m : 1, sizeof(*buf));
		uint8_t *seen = calloc(n_val, 1);
		uint32_t mm, f = 0;

		if (buf == NULL || seen == NULL) {
			v = LC_TOO_HARD;
		} else {
			mm = prune(k, m, n_val, seen, buf);
			v = search_ops(buf, mm, budget, &r->steps, &f);
			if (v == LC_NOT_LINEARIZABLE)
				explain(buf, mm, f, r);
		}
		free(buf);
		free(seen);
	}
	free(k);
	return v;
}

static void note_key(struct lc_result *r, const struct lc_op *o)
{
	r->key_len = o->key_len < sizeof(r->key) ? o->key_len
						 : sizeof(r->key);
	memcpy(r->key, o->key, r->key_len);
}

enum lc_verdict lincheck_check(const struct lincheck *h, uint64_t budget,
			       struct lc_result *r)
{
	const struct lc_op **p;
	size_t i, start;
	int hard = 0;

	memset(r, 0, sizeof(*r));
	r->verdict = LC_LINEARIZABLE;
	if (budget == 0)
		budget = LC_BUDGET_DEFAULT;
	if (h->n == 0)
		return r->verdict;
	p = calloc(h->n, sizeof(*p));
	if (p == NULL) {
		snprintf(r->why, sizeof(r->why), "out of memory\n");
		return r->verdict = LC_TOO_HARD;
	}
	for (i = 0; i < h->n; i++)
		p[i] = &h->ops[i];
	qsort(p, h->n, sizeof(*p), cmp_key_inv);
	for (start = 0; start < h->n; start = i) {
		enum lc_verdict v;
		char why[sizeof(r->why)];

		for (i = start + 1; i < h->n; i++)
			if (p[i]->key_len != p[start]->key_len ||
			    memcmp(p[i]->key, p[start]->key,
				   p[i]->key_len) != 0)
				break;
		r->keys++;
		memcpy(why, r->why, sizeof(why));
		r->why[0] = '\0';
		v = check_key(p + start, i - start, budget, r);
		if (v == LC_NOT_LINEARIZABLE) {
			note_key(r, p[start]);
			r->verdict = v;
			break;
		}
		memcpy(r->why, why, sizeof(why));
		if (v == LC_TOO_HARD && !hard) {
			hard = 1;
			note_key(r, p[start]);
			snprintf(r->why, sizeof(r->why),
				 "too hard: %zu ops, the search budget "
				 "(%" PRIu64 " steps) ran out\n",
				 i - start, budget);
		}
	}
	if (r->verdict != LC_NOT_LINEARIZABLE && hard)
		r->verdict = LC_TOO_HARD;
	free(p);
	return r->verdict;
}
