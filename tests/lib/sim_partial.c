/* SPDX-License-Identifier: MIT */
/*
 * sim_partial: partial nodes in the cluster simulator (sim_cluster.h):
 * their replicate sets and namespaces, drawn from the schedule's seed,
 * the keys they may write, and what they must (not) hold.
 */
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "tests/lib/sim_cluster.h"

/* The push probe's key (sim_check.c): outside every set. */
static const uint8_t probe_key[] = "probe";

static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int set_has(const struct simc_set *s, const uint8_t *p, size_t len)
{
	size_t k;

	for (k = 0; k < s->n; k++)
		if (s->len[k] == len && memcmp(s->pfx[k], p, len) == 0)
			return 1;
	return 0;
}

static void set_add(struct simc_set *s, const uint8_t *p, size_t len)
{
	if (s->n >= SIMC_SET_MAX || set_has(s, p, len))
		return;
	memcpy(s->pfx[s->n], p, len);
	s->len[s->n] = len;
	s->n++;
}

/* One set: one time in eight "k\0" (every key of the schedule, but not
 * the probe's: a non-empty set that is not within any other), else 1 to
 * 3 whole keys; with from (not NULL), half of the time a subset of it
 * instead (a partial sender the receiver's set is within). */
static void draw_set(uint64_t *x, struct simc_set *s,
		     const struct simc_set *from)
{
	uint8_t key[SIMC_KEY_LEN];
	size_t want, k;

	memset(s, 0, sizeof(*s));
	if (from != NULL && mix(x) % 2 == 0) {
		for (k = 0; k < from->n; k++)
			if (k == 0 || mix(x) % 2 == 0)
				set_add(s, from->pfx[k], from->len[k]);
		if (from->ns_len > 0 && mix(x) % 2 == 0 &&
		    set_has(s, from->ns, from->ns_len)) {
			memcpy(s->ns, from->ns, from->ns_len);
			s->ns_len = from->ns_len;
		}
		return;
	}
	if (mix(x) % 8 == 0) {
		simc_key(0, key);
		set_add(s, key, 2);
	} else {
		want = 1 + (size_t)(mix(x) % SIMC_SET_MAX);
		while (s->n < want) {
			simc_key((unsigned)(mix(x) % SIMC_KEYS), key);
			set_add(s, key, SIMC_KEY_LEN);
		}
	}
	if (mix(x) % 2 == 0) {
		/* A namespace within the set: one of its prefixes, or a
		 * whole key under "k\0". */
		k = (size_t)(mix(x) % s->n);
		memcpy(s->ns, s->pfx[k], s->len[k]);
		s->ns_len = s->len[k];
		if (s->ns_len < SIMC_KEY_LEN) {
			simc_key((unsigned)(mix(x) % SIMC_KEYS), s->ns);
			s->ns_len = SIMC_KEY_LEN;
		}
	}
}

void simc_draw_sets(uint64_t seed, struct simc_params *p)
{
	uint64_t x = seed ^ 0x9a471a1ULL;
	int a, b;

	memset(p->sets, 0, sizeof(p->sets));
	if (mix(&x) % 3 != 0)
		return;
	a = (int)(mix(&x) % (uint64_t)p->n);
	draw_set(&x, &p->sets[a], NULL);
	if (mix(&x) % 2 == 0)
		return;
	b = (a + 1 + (int)(mix(&x) % (uint64_t)(p->n - 1))) % p->n;
	draw_set(&x, &p->sets[b], &p->sets[a]);
}

int simc_partial(const struct simc *c, int i)
{
	return c->p.sets[i].n > 0;
}

int simc_partial_count(const struct simc *c)
{
	int i, n = 0;

	for (i = 0; i < c->p.n; i++)
		n += simc_partial(c, i);
	return n;
}

static int matches(const uint8_t *p, size_t plen, const uint8_t *key,
		   size_t key_len)
{
	return key_len >= plen && memcmp(key, p, plen) == 0;
}

/* In the set, whether or not the checks hold the node to it. */
static int set_matches(const struct simc_set *s, const uint8_t *key,
		       size_t key_len)
{
	size_t k;

	if (s->n == 0)
		return 1;
	for (k = 0; k < s->n; k++)
		if (matches(s->pfx[k], s->len[k], key, key_len))
			return 1;
	return 0;
}

static int writable(const struct simc *c, int i, const uint8_t *key,
		    size_t key_len)
{
	const struct simc_set *s = &c->p.sets[i];

	return set_matches(s, key, key_len) &&
	       (s->ns_len == 0 || matches(s->ns, s->ns_len, key, key_len));
}

int simc_in_set(const struct simc *c, int i, const uint8_t *key,
		size_t key_len)
{
	return !c->sets_checked || set_matches(&c->p.sets[i], key, key_len);
}

void simc_pick_key(struct simc *c, int i, uint8_t key[SIMC_KEY_LEN])
{
	unsigned ok[SIMC_KEYS], n = 0, k;

	if (!simc_partial(c, i)) {
		simc_key(sim_below(c->sim, SIMC_KEYS), key);
		return;
	}
	for (k = 0; k < SIMC_KEYS; k++) {
		simc_key(k, key);
		if (writable(c, i, key, SIMC_KEY_LEN))
			ok[n++] = k;
	}
	if (n == 0)
		simc_fail(c, "node %d has no key to write", i);
	simc_key(ok[sim_below(c->sim, n)], key);
}

void simc_try_outside(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];
	uint8_t keys[SIMC_KEYS + 1][8];
	size_t lens[SIMC_KEYS + 1], n = 0, k;
	uint64_t before = c->local_changes;
	int rv;

	if (!simc_partial(c, i) || sim_below(c->sim, 10) != 0)
		return;
	for (k = 0; k < SIMC_KEYS; k++) {
		simc_key((unsigned)k, keys[n]);
		lens[n] = SIMC_KEY_LEN;
		if (!writable(c, i, keys[n], SIMC_KEY_LEN))
			n++;
	}
	memcpy(keys[n], probe_key, sizeof(probe_key) - 1);
	lens[n++] = sizeof(probe_key) - 1;
	k = sim_below(c->sim, (uint32_t)n);
	if (sim_below(c->sim, 2) == 0)
		rv = rumor_del(nd->r, keys[k], lens[k]);
	else
		rv = rumor_put(nd->r, keys[k], lens[k], "out", 3);
	SIMC_TRACE(c, "node %d: write outside its set (key %c): %s", i,
		   keys[k][lens[k] - 1], rumor_strerror(rv));
	if (rv != RUMOR_EOUTSIDE && rv != RUMOR_EREFUSED)
		simc_fail(c, "node %d took a write outside its set or "
			  "namespace: %s", i, rumor_strerror(rv));
	if (c->local_changes != before)
		simc_fail(c, "node %d refused a write outside its set but "
			  "reported a change", i);
	if (rv == RUMOR_EOUTSIDE)
		c->outside_refused++;
}

void simc_check_outside(struct simc *c, int i)
{
	struct store_record *rec;
	uint8_t key[8];
	size_t kl;
	unsigned k;
	int rv;

	if (!c->sets_checked || !simc_partial(c, i))
		return;
	for (k = 0; k <= SIMC_KEYS; k++) {
		if (k < SIMC_KEYS) {
			simc_key(k, key);
			kl = SIMC_KEY_LEN;
		} else {
			memcpy(key, probe_key, sizeof(probe_key) - 1);
			kl = sizeof(probe_key) - 1;
		}
		if (simc_in_set(c, i, key, kl))
			continue;
		rv = store_get_version(c->nodes[i].r->store, key, kl, &rec,
				       NULL);
		if (rv == RUMOR_ENOTFOUND)
			continue;
		if (rv != 0)
			simc_fail(c, "store_get_version on node %d: %s", i,
				  rumor_strerror(rv));
		simc_fail(c, "partial node %d stores key %c outside its set "
			  "(node %d, seq %llu%s)", i, key[kl - 1],
			  simc_origin_index(c, rec->v.origin),
			  (unsigned long long)rec->v.seq,
			  rec->v.deleted ? ", deleted" : "");
	}
}

void simc_describe_set(const struct simc *c, int i, char *buf, size_t len)
{
	const struct simc_set *s = &c->p.sets[i];
	size_t k, at = 0;

	if (s->n == 0) {
		snprintf(buf, len, "full");
		return;
	}
	buf[0] = '\0';
	for (k = 0; k < s->n && at < len; k++)
		at += s->len[k] < SIMC_KEY_LEN ?
			(size_t)snprintf(buf + at, len - at, "%sk*",
					 k ? "," : "replicate ") :
			(size_t)snprintf(buf + at, len - at, "%sk%c",
					 k ? "," : "replicate ",
					 s->pfx[k][SIMC_KEY_LEN - 1]);
	if (s->ns_len > 0 && at < len)
		snprintf(buf + at, len - at, " namespace k%c",
			 s->ns[SIMC_KEY_LEN - 1]);
}

/* Every open node holds nothing for a key whose model winner is a
 * tombstone (of the keys it replicates). */
static int all_collected(void *arg)
{
	struct simc *c = arg;
	struct store_record *rec;
	const struct simnet_version *w;
	uint8_t key[SIMC_KEY_LEN];
	unsigned k;
	int i;

	for (k = 0; k < SIMC_KEYS; k++) {
		simc_key(k, key);
		w = simc_winner(c, key, sizeof(key));
		if (w == NULL || !w->deleted)
			continue;
		for (i = 0; i < c->p.n; i++) {
			if (c->nodes[i].r == NULL ||
			    !simc_in_set(c, i, key, sizeof(key)))
				continue;
			if (store_get_version(c->nodes[i].r->store, key,
					      sizeof(key), &rec, NULL) != 0)
				continue;
			store_record_free(rec);
			return 0;
		}
	}
	return 1;
}

/* Known (SIM.md, found 8): a node o restarted on a copy behind the seqs
 * of its own that others held, and an open node's HWM for o is below a
 * version of o that node holds (the heal rule of src/sync/claims.c
 * lowered it, and nothing raises it again): that entry goes to and fro
 * every round, and its tombstone is never collected. */
static int stuck_origin(struct simc *c, char *why, size_t len)
{
	struct store_record *rec;
	uint8_t key[SIMC_KEY_LEN];
	uint64_t h;
	unsigned k;
	int i, o, stuck = 0;

	for (i = 0; i < c->p.n && !stuck; i++) {
		if (c->nodes[i].r == NULL)
			continue;
		for (k = 0; k < SIMC_KEYS && !stuck; k++) {
			simc_key(k, key);
			if (store_get_version(c->nodes[i].r->store, key,
					      sizeof(key), &rec, NULL) != 0)
				continue;
			o = simc_origin_index(c, rec->v.origin);
			h = store_hwm(c->nodes[i].r->store, rec->v.origin);
			stuck = o >= 0 && o != i && c->nodes[o].restored > 0 &&
				h < rec->v.seq;
			if (stuck)
				snprintf(why, len, "node %d holds (node %d, "
					 "seq %llu) of key %u under an HWM of "
					 "%llu for node %d, restored from a "
					 "copy behind its seqs", i, o,
					 (unsigned long long)rec->v.seq, k,
					 (unsigned long long)h, o);
			store_record_free(rec);
		}
	}
	return stuck;
}

/* A liveness check failed: stops the schedule as "known" when it is
 * found 8 (and RUMOR_SIM_KNOWN_BUGS is not set); else 0. */
static int known_stuck(struct simc *c)
{
	char why[256];

	if (c->known_bugs || !stuck_origin(c, why, sizeof(why)))
		return 0;
	SIMC_TRACE(c, "known bug (found 8): %s; schedule stopped", why);
	c->hit_known = 1;
	return 1;
}

/* Remote versions node i received and did not store: already held, or
 * beaten by what it holds (rumor_stats). */
static uint64_t received(struct simc *c, int i)
{
	struct rumor_stats st;

	rumor_stats_init(&st);
	if (c->nodes[i].r == NULL || rumor_stats(c->nodes[i].r, &st) != 0)
		return 0;
	return st.remote_identical + st.remote_stale;
}

/* A settled, collected, quiet cluster sends no node a version it holds
 * already: a digest that asks again for what a partial peer already gave
 * (its DONE not believed, and not kept as the cover) would have it sent
 * every round. */
static void check_quiet(struct simc *c, uint64_t ms)
{
	uint64_t before[SIMC_NODES_MAX];
	int i;

	for (i = 0; i < c->p.n; i++)
		before[i] = received(c, i);
	simc_run_until(c, sim_now(c->sim) + ms);
	for (i = 0; i < c->p.n; i++)
		if (received(c, i) != before[i]) {
			if (known_stuck(c))
				return;
			simc_explain(c);
			simc_fail(c, "node %d received %llu versions it held "
				  "in %llu ms of a settled cluster",
				  i, (unsigned long long)(received(c, i) -
							  before[i]),
				  (unsigned long long)ms);
		}
}

void simc_check_end_collection(struct simc *c, uint64_t bound_ms)
{
	const struct simnet_version *w;
	uint8_t key[SIMC_KEY_LEN];
	uint64_t t0 = sim_now(c->sim);
	unsigned k;
	int i, j, outside;

	if (!simc_run_cond(c, all_collected, c, t0 + bound_ms)) {
		if (known_stuck(c))
			return;
		simc_explain(c);
		simc_fail(c, "tombstones not collected within %llu ms of "
			  "the settled cluster", (unsigned long long)bound_ms);
	}
	c->end_collect_ms = sim_now(c->sim) - t0;
	SIMC_TRACE(c, "every tombstone collected %llu ms after the settle",
		   (unsigned long long)c->end_collect_ms);
	check_quiet(c, 3u * c->p.interval_max_ms);
	if (c->hit_known)
		return;
	for (k = 0; k < SIMC_KEYS; k++) {
		simc_key(k, key);
		w = simc_winner(c, key, sizeof(key));
		if (w == NULL || !w->deleted)
			continue;
		outside = 0;
		for (j = 0; j < c->p.n; j++)
			outside |= simc_partial(c, j) &&
				   !set_matches(&c->p.sets[j], key,
						sizeof(key));
		for (i = 0; i < c->p.n && outside; i++)
			if (!simc_partial(c, i))
				c->end_collected++;
	}
}
