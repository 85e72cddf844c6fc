/* SPDX-License-Identifier: MIT */
/*
 * sim_check: what a simulated cluster must satisfy (sim_cluster.h): the
 * model, the HWM invariant, tombstone collection, settled member tables
 * and catch-up; and what the model forgets at a stale restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "node/node.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/testutil.h"

static const uint8_t probe_key[] = "probe";

/* The keys the model may hold: the key space and the push probe's. */
static size_t key_at(unsigned k, uint8_t buf[8])
{
	if (k < SIMC_KEYS) {
		simc_key(k, buf);
		return SIMC_KEY_LEN;
	}
	memcpy(buf, probe_key, sizeof(probe_key) - 1);
	return sizeof(probe_key) - 1;
}

static struct store *store_of(struct simc *c, int i)
{
	return c->nodes[i].r->store;
}

/* ------------------------------------------------------------ the model */

static int same_version(const struct rumor_version *v,
			const struct simnet_version *w)
{
	return v->seq == w->seq && v->clock == w->clock &&
	       memcmp(v->origin, w->origin, STORE_ORIGIN_BYTES) == 0 &&
	       !v->deleted == !w->deleted &&
	       (w->deleted || (v->value_len == w->value_len &&
			       memcmp(v->value, w->value, w->value_len) == 0));
}

/* 1 when the node holds the winner (nothing or the tombstone for a
 * deletion); else 0 with what it holds in why. */
static int holds_winner(struct simc *c, int i, const uint8_t *key,
			size_t key_len, char *why, size_t len)
{
	const struct simnet_version *w = simc_winner(c, key, key_len);
	struct store_record *rec;
	int rv, ok;

	/* A partial node holds nothing of the keys outside its set. */
	if (!simc_in_set(c, i, key, key_len))
		w = NULL;

	rv = store_get_version(store_of(c, i), key, key_len, &rec, NULL);
	if (rv == RUMOR_ENOTFOUND) {
		if (w == NULL || w->deleted)
			return 1;
		snprintf(why, len, "node %d lacks key %.*s (model: origin "
			 "node %d seq %llu)", i, (int)key_len, key,
			 simc_origin_index(c, w->origin),
			 (unsigned long long)w->seq);
		return 0;
	}
	if (rv != 0)
		simc_fail(c, "store_get_version on node %d: %s", i,
			  rumor_strerror(rv));
	ok = w != NULL && same_version(&rec->v, w);
	if (!ok)
		snprintf(why, len, "node %d key %c%s: holds (node %d, seq "
			 "%llu, clock %llu%s), model (node %d, seq %llu, "
			 "clock %llu%s)", i, key[key_len - 1],
			 key_len == SIMC_KEY_LEN ? "" : " (probe)",
			 simc_origin_index(c, rec->v.origin),
			 (unsigned long long)rec->v.seq,
			 (unsigned long long)rec->v.clock,
			 rec->v.deleted ? ", deleted" : "",
			 w ? simc_origin_index(c, w->origin) : -1,
			 w ? (unsigned long long)w->seq : 0,
			 w ? (unsigned long long)w->clock : 0,
			 w && w->deleted ? ", deleted" : "");
	store_record_free(rec);
	return ok;
}

int simc_holds_winner(struct simc *c, int i, const uint8_t *key,
		      size_t key_len)
{
	char why[256];

	return holds_winner(c, i, key, key_len, why, sizeof(why));
}

void simc_check_model(struct simc *c, int i)
{
	uint8_t key[8];
	char why[256];
	struct err err = { 0 };
	unsigned k;
	size_t kl;

	for (k = 0; k <= SIMC_KEYS; k++) {
		kl = key_at(k, key);
		if (!holds_winner(c, i, key, kl, why, sizeof(why)))
			simc_fail(c, "%s", why);
	}
	if (store_check(store_of(c, i), &err) != 0)
		simc_fail(c, "store_check node %d: %s", i, err.msg);
}

/* ------------------------------------------------------------ HWMs */

/* V needs no holder on node i when i holds nothing for its key and a
 * model tombstone of that key that wins over V is covered by i's HWM:
 * i collected it. */
static int collected_over(struct simc *c, int i,
			  const struct simnet_version *v)
{
	struct rumor_version a, b;
	size_t k;

	simnet_version_view(v, &b);
	for (k = 0; k < c->n_all; k++) {
		const struct simnet_version *t = &c->all[k];

		if (!t->deleted || t->key_len != v->key_len ||
		    memcmp(t->key, v->key, v->key_len) != 0)
			continue;
		if (store_hwm(store_of(c, i), t->origin) < t->seq)
			continue;
		simnet_version_view(t, &a);
		if (resolver_order(c->res, &a, &b, NULL) <= 0)
			return 1;
	}
	return 0;
}

void simc_check_hwm(struct simc *c, int i)
{
	struct simnet_version *keep;
	struct store_record *rec;
	struct err err = { 0 };
	size_t k, n = 0;
	int rv;

	keep = malloc((c->n_all + 1) * sizeof(*keep));
	if (keep == NULL)
		simc_fail(c, "out of memory");
	for (k = 0; k < c->n_all; k++) {
		/* A partial node's HWM[O] claims only the entries of O in its
		 * set (it never received the others). */
		if (!simc_in_set(c, i, c->all[k].key, c->all[k].key_len))
			continue;
		rv = store_get_version(store_of(c, i), c->all[k].key,
				       c->all[k].key_len, &rec, NULL);
		if (rv == 0)
			store_record_free(rec);
		if (rv == RUMOR_ENOTFOUND && collected_over(c, i, &c->all[k]))
			continue;
		keep[n++] = c->all[k];   /* a view: shares the buffers */
	}
	rv = simnet_check_hwm_invariant(store_of(c, i), c->res, keep, n,
					&err);
	free(keep);
	if (rv != 0)
		simc_fail(c, "HWM invariant on node %d: %s", i, err.msg);
}

/* ------------------------------------------------------------ tombstones */

void simc_note_hwms(struct simc *c, int j)
{
	struct simc_node *m = &c->nodes[j];
	uint64_t h;
	int o;

	if (m->r == NULL)
		return;
	for (o = 0; o < c->p.n; o++) {
		h = store_hwm(m->r->store, c->nodes[o].pk);
		if (h > m->hwm_max[o])
			m->hwm_max[o] = h;
	}
}

/* What member j has seen of origin o: the highest HWM it ever had (its
 * store when open, else what it held when it went down). */
static uint64_t member_hwm(struct simc *c, int j, int o)
{
	simc_note_hwms(c, j);
	return c->nodes[j].hwm_max[o];
}

/* What member j holds of key, for a message: "(node o, seq s)", "none"
 * or "nothing: down". */
static void member_holds(struct simc *c, int j, const uint8_t *key,
			 size_t key_len, char *buf, size_t len)
{
	struct store_record *rec;

	if (c->nodes[j].r == NULL) {
		snprintf(buf, len, "nothing: down");
		return;
	}
	if (store_get_version(c->nodes[j].r->store, key, key_len, &rec,
			      NULL) != 0) {
		snprintf(buf, len, "none");
		return;
	}
	snprintf(buf, len, "(node %d, seq %llu%s)",
		 simc_origin_index(c, rec->v.origin),
		 (unsigned long long)rec->v.seq,
		 rec->v.deleted ? ", deleted" : "");
	store_record_free(rec);
}

/* Member j (open) holds t itself or a version of its key that wins over
 * t: it has seen t, or needs it no more. Its DIGEST to a partial peer may
 * say so above its store HWMs (src/sync/filter.c, the cover: what that
 * peer's DONE claimed within its set, which j holds). */
static int member_has_over(struct simc *c, int j,
			   const struct simnet_version *t)
{
	struct store_record *rec;
	struct rumor_version v;
	int over;

	if (c->nodes[j].r == NULL ||
	    store_get_version(c->nodes[j].r->store, t->key, t->key_len, &rec,
			      NULL) != 0)
		return 0;
	simnet_version_view(t, &v);
	over = resolver_order(c->res, &rec->v, &v, NULL) <= 0;
	store_record_free(rec);
	return over;
}

/* Node a holds nothing for key k although its HWMs cover versions of k:
 * it collected the greatest of those it has seen, which is right only if
 * that is a tombstone every member in its table had seen (DESIGN 2).
 * Checked once per (node, tombstone): a member restarted on a stale
 * copy later may legitimately fall behind it again. */
static void check_collected(struct simc *c, int a, const uint8_t *key,
			    size_t key_len)
{
	struct simc_node *nd = &c->nodes[a];
	struct ctl_peer_info peers[2 * SIMC_NODES_MAX];
	const struct simnet_version *t = NULL;
	struct rumor_version x, y;
	char holds[64];
	size_t k, n, p;
	uint64_t h;
	int j, o;

	for (k = 0; k < c->n_all; k++) {
		const struct simnet_version *v = &c->all[k];

		if (v->key_len != key_len || memcmp(v->key, key, key_len) != 0 ||
		    store_hwm(nd->r->store, v->origin) < v->seq)
			continue;
		if (t != NULL) {
			simnet_version_view(v, &x);
			simnet_version_view(t, &y);
			if (resolver_order(c->res, &x, &y, NULL) >= 0)
				continue;
		}
		t = v;
	}
	if (t == NULL)
		return;   /* never seen here */
	o = simc_origin_index(c, t->origin);
	for (k = 0; k < nd->n_verified; k++)
		if (nd->verified[k].origin == o && nd->verified[k].seq == t->seq)
			return;
	if (!t->deleted)
		simc_fail(c, "node %d holds nothing for key %c but its HWM "
			  "covers a live version (node %d, seq %llu)", a,
			  key[key_len - 1], o, (unsigned long long)t->seq);
	c->tombstones_seen_collected++;
	n = node_peers(nd->r, peers, 2 * SIMC_NODES_MAX);
	if (n > 2 * SIMC_NODES_MAX)
		n = 2 * SIMC_NODES_MAX;
	/* Every node of the cluster is a member, whether or not the
	 * collector's table knows it. */
	for (j = 0; j < c->p.n; j++) {
		const char *state = NULL;
		int synced = 0;

		/* A partial member that does not replicate the key never
		 * sees its tombstone, and must not hold collection back. */
		if (j == a || !simc_in_set(c, j, key, key_len) ||
		    (h = member_hwm(c, j, o)) >= t->seq ||
		    member_has_over(c, j, t))
			continue;
		for (p = 0; p < n; p++) {
			if (simc_origin_index(c, peers[p].id) != j)
				continue;
			state = peers[p].state;
			synced = peers[p].last_sync_ago_ms != UINT64_MAX;
		}
		if ((state == NULL || !synced) && !c->known_bugs) {
			/* Known (SIM.md, "found"): a restarted node's table
			 * forgets members, and it collects without them (a
			 * member it never synced with joined its table after
			 * the collection, or it could not have counted). */
			SIMC_TRACE(c, "known bug: node %d collected (node %d, "
				   "seq %llu) unknown to node %d; schedule "
				   "stopped", a, o, (unsigned long long)t->seq,
				   j);
			c->hit_known = 1;
			return;
		}
		member_holds(c, j, key, key_len, holds, sizeof(holds));
		simc_fail(c, "node %d collected the tombstone of key %c "
			  "(origin node %d, seq %llu) while member node %d "
			  "(%s) had seen that origin only to seq %llu (it "
			  "holds %s)", a, key[key_len - 1], o,
			  (unsigned long long)t->seq, j,
			  state != NULL ? state : "not in its member table",
			  (unsigned long long)h, holds);
	}
	if (nd->n_verified < SIMC_VERIFIED_MAX) {
		nd->verified[nd->n_verified].origin = o;
		nd->verified[nd->n_verified].seq = t->seq;
		nd->n_verified++;
	}
}

/* DESIGN 4.6: a started node reconciles with reachable peers before it
 * accepts local writes; only the bounded wait may end that without an
 * exchange. So a catch-up that ended before its wait ran out must have
 * completed a round with some peer since the start. */
static void check_catchup(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];
	struct ctl_peer_info peers[2 * SIMC_NODES_MAX];
	struct ctl_status st;
	uint64_t since = sim_now(c->sim) - nd->started_ms;
	size_t n, p;

	if (!nd->catchup_pending)
		return;
	if (node_get_status(nd->r, &st) != 0)
		simc_fail(c, "node_get_status %d", i);
	if (st.catching_up)
		return;
	nd->catchup_pending = 0;
	SIMC_TRACE(c, "node %d: catch-up over after %llu ms, local seq %llu "
		   "(its own seqs elsewhere reach %llu)", i,
		   (unsigned long long)since,
		   (unsigned long long)store_local_seq(nd->r->store),
		   (unsigned long long)nd->gate_seq);
	if (since >= c->p.catchup_wait_ms)
		return;
	n = node_peers(nd->r, peers, 2 * SIMC_NODES_MAX);
	if (n > 2 * SIMC_NODES_MAX)
		n = 2 * SIMC_NODES_MAX;
	for (p = 0; p < n; p++)
		if (peers[p].last_sync_ago_ms <= since)
			return;
	simc_fail(c, "node %d ended its catch-up %llu ms after its start "
		  "(wait %u ms) without a completed exchange", i,
		  (unsigned long long)since, c->p.catchup_wait_ms);
}

void simc_check_tombstones(struct simc *c)
{
	struct store_record *rec;
	uint8_t key[SIMC_KEY_LEN];
	unsigned k;
	int i, rv;

	c->checks++;
	for (i = 0; i < c->p.n && !c->hit_known; i++) {
		struct simc_node *nd = &c->nodes[i];

		if (nd->state != SIMC_UP || nd->closing)
			continue;
		simc_note_hwms(c, i);
		if (sim_host_state(c->sim, i) != SIM_HOST_PAUSED)
			check_catchup(c, i);
		simc_check_outside(c, i);
		for (k = 0; k < SIMC_KEYS && !c->hit_known; k++) {
			simc_key(k, key);
			if (!simc_in_set(c, i, key, sizeof(key)))
				continue;   /* its HWMs say nothing of it */
			rv = store_get_version(nd->r->store, key, sizeof(key),
					       &rec, NULL);
			if (rv == 0) {
				store_record_free(rec);
				continue;
			}
			if (rv != RUMOR_ENOTFOUND)
				simc_fail(c, "store_get_version: %s",
					  rumor_strerror(rv));
			check_collected(c, i, key, sizeof(key));
		}
		/* Every 100 ms, not only at the end: a live entry raising
		 * an HWM over a gap is gone by the time rounds settle. */
		simc_check_hwm(c, i);
	}
}

/* ------------------------------------------------------------ settling */

int simc_settled(struct simc *c, char *why, size_t len)
{
	struct ctl_peer_info peers[2 * SIMC_NODES_MAX];
	struct ctl_status st;
	uint8_t key[8];
	const char *state;
	size_t n, p, kl;
	unsigned k;
	int i, j, alive;

	simc_resolve_limbo(c);
	for (i = 0; i < c->p.n; i++) {
		if (!simc_up(c, i) ||
		    sim_host_state(c->sim, i) != SIM_HOST_UP) {
			snprintf(why, len, "node %d is not up", i);
			return 0;
		}
		if (node_get_status(c->nodes[i].r, &st) != 0)
			simc_fail(c, "node_get_status %d", i);
		if (st.catching_up) {
			snprintf(why, len, "node %d is still catching up", i);
			return 0;
		}
		for (k = 0; k <= SIMC_KEYS; k++) {
			kl = key_at(k, key);
			if (!holds_winner(c, i, key, kl, why, len))
				return 0;
		}
		n = node_peers(c->nodes[i].r, peers, 2 * SIMC_NODES_MAX);
		if (n > 2 * SIMC_NODES_MAX)
			n = 2 * SIMC_NODES_MAX;
		for (j = 0; j < c->p.n; j++) {
			if (j == i)
				continue;
			alive = 0;
			state = "not in its member table";
			for (p = 0; p < n; p++) {
				if (memcmp(peers[p].id, c->nodes[j].pk,
					   RUMOR_NODE_ID_BYTES) != 0)
					continue;
				state = peers[p].state;
				alive = strcmp(state, "alive") == 0;
			}
			if (!alive) {
				snprintf(why, len, "node %d does not see node "
					 "%d alive (%s)", i, j, state);
				return 0;
			}
		}
	}
	return 1;
}

/* ------------------------------------------------------------ stale */

struct max_seq {
	uint64_t seq;
};

static int max_seq_cb(void *arg, const struct rumor_version *v)
{
	struct max_seq *m = arg;

	if (v->seq > m->seq)
		m->seq = v->seq;
	return 0;
}

static struct store *open_closed_store(struct simc *c, const char *dir,
				       int owner)
{
	struct store_options opt;
	struct store *s;
	struct err err = { 0 };
	char *db = tu_join(dir, NODE_DB_DIR);

	memset(&opt, 0, sizeof(opt));
	opt.origin = c->nodes[owner].pk;
	opt.resolver = c->res;
	if (store_open(&s, db, &opt, &err) != 0)
		simc_fail(c, "store_open %s: %s", db, err.msg);
	free(db);
	return s;
}

/* s holds exactly v (a version that an HWM only covers may have been
 * superseded, or its successor collected: it stays out). Exactly: after
 * a stale restart a node may write the same key again under a seq it
 * reused, and that other version does not bring v back from limbo. */
static int store_holds(struct store *s, const struct simnet_version *v)
{
	struct store_record *rec;
	int held;

	if (store_get_version(s, v->key, v->key_len, &rec, NULL) != 0)
		return 0;
	held = same_version(&rec->v, v);
	store_record_free(rec);
	return held;
}

/* Store s of node j covers v: holds it, or its HWM does (a partial
 * node's HWM claims only the keys of its set). */
static int store_covers(struct simc *c, int j, struct store *s,
			const struct simnet_version *v)
{
	return (store_hwm(s, v->origin) >= v->seq &&
		simc_in_set(c, j, v->key, v->key_len)) || store_holds(s, v);
}

static void limbo_add(struct simc *c, const struct simnet_version *v)
{
	struct simnet_version *a;

	if (c->n_limbo == c->cap_limbo) {
		a = array_grow(c->limbo, &c->cap_limbo, c->n_limbo + 1,
			       sizeof(*a), 16);
		if (a == NULL)
			simc_fail(c, "out of memory");
		c->limbo = a;
	}
	c->limbo[c->n_limbo++] = *v;
}

void simc_resolve_limbo(struct simc *c)
{
	struct simnet_version *a;
	size_t k;
	int j, covered;

	for (k = 0; k < c->n_limbo; k++) {
		covered = 0;
		for (j = 0; j < c->p.n && !covered; j++)
			covered = c->nodes[j].r != NULL &&
				  store_holds(c->nodes[j].r->store,
					      &c->limbo[k]);
		if (!covered)
			continue;
		SIMC_TRACE(c, "model: (node %d, seq %llu) was not lost after "
			   "all (it was in flight to a silent node)",
			   simc_origin_index(c, c->limbo[k].origin),
			   (unsigned long long)c->limbo[k].seq);
		if (c->n_all == c->cap_all) {
			a = array_grow(c->all, &c->cap_all, c->n_all + 1,
				       sizeof(*a), 64);
			if (a == NULL)
				simc_fail(c, "out of memory");
			c->all = a;
		}
		c->all[c->n_all++] = c->limbo[k];
		c->limbo[k--] = c->limbo[--c->n_limbo];
	}
}

static int model_has(const struct simc *c, int o, uint64_t seq)
{
	size_t k;

	for (k = 0; k < c->n_all; k++)
		if (c->all[k].seq == seq &&
		    simc_origin_index(c, c->all[k].origin) == o)
			return 1;
	for (k = 0; k < c->n_shadow; k++)
		if (c->shadow[k].v.seq == seq &&
		    simc_origin_index(c, c->shadow[k].v.origin) == o)
			return 1;
	return 0;
}

/* Superseded versions whose superseding write was just lost come back
 * into the model when some store still covers them, else go too. */
static void restore_shadow(struct simc *c, struct store **s, const int *who,
			   int n)
{
	struct simnet_version *a;
	int changed = 1, j, covered;
	size_t k;

	while (changed) {
		changed = 0;
		for (k = 0; k < c->n_shadow; k++) {
			struct simc_shadow *sh = &c->shadow[k];

			if (model_has(c, sh->sup_origin, sh->sup_seq))
				continue;
			covered = 0;
			for (j = 0; j < n && !covered; j++)
				covered = store_covers(c, who[j], s[j],
						       &sh->v);
			if (covered) {
				if (c->n_all == c->cap_all) {
					a = array_grow(c->all, &c->cap_all,
						       c->n_all + 1,
						       sizeof(*a), 64);
					if (a == NULL)
						simc_fail(c, "out of memory");
					c->all = a;
				}
				c->all[c->n_all++] = sh->v;
			} else {
				/* Like a forgotten version: it may still be
				 * in flight to a silent node (a live frame
				 * queued before the silence). */
				SIMC_TRACE(c, "model forgets (node %d, seq "
					   "%llu): superseded by a lost write",
					   simc_origin_index(c, sh->v.origin),
					   (unsigned long long)sh->v.seq);
				limbo_add(c, &sh->v);
			}
			c->shadow[k] = c->shadow[--c->n_shadow];
			changed = 1;
			break;
		}
	}
}

void simc_forget_lost(struct simc *c, int i)
{
	struct store *s[SIMC_NODES_MAX + 1];
	int opened[SIMC_NODES_MAX + 1], who[SIMC_NODES_MAX + 1];
	struct max_seq m = { 0 };
	uint64_t stale_seq, h;
	size_t k, w;
	int j, n = 0, covered;

	for (j = 0; j < c->p.n; j++) {
		if (j == i)
			continue;
		opened[n] = c->nodes[j].r == NULL;
		who[n] = j;
		s[n] = opened[n] ? open_closed_store(c, c->nodes[j].dir, j)
				 : c->nodes[j].r->store;
		h = store_hwm(s[n], c->nodes[i].pk);
		if (h > m.seq)
			m.seq = h;
		if (store_log_scan(s[n], NULL, c->nodes[i].pk, m.seq, 0,
				   max_seq_cb, &m, NULL, NULL) != 0)
			simc_fail(c, "store_log_scan");
		n++;
	}
	opened[n] = 1;
	who[n] = i;
	s[n] = open_closed_store(c, c->nodes[i].stale, i);
	stale_seq = store_local_seq(s[n]);
	n++;
	for (k = 0, w = 0; k < c->n_all; k++) {
		covered = 0;
		for (j = 0; j < n && !covered; j++)
			covered = store_covers(c, who[j], s[j], &c->all[k]);
		if (covered) {
			c->all[w++] = c->all[k];
			continue;
		}
		SIMC_TRACE(c, "model forgets (node %d, seq %llu): only node "
			   "%d's newer state held it",
			   simc_origin_index(c, c->all[k].origin),
			   (unsigned long long)c->all[k].seq, i);
		limbo_add(c, &c->all[k]);
	}
	c->n_all = w;
	restore_shadow(c, s, who, n);
	/* A version of its own in limbo may still be in flight to a silent
	 * node: a write under its seq would be a second version of it. */
	for (k = 0; k < c->n_limbo; k++)
		if (memcmp(c->limbo[k].origin, c->nodes[i].pk,
			   STORE_ORIGIN_BYTES) == 0 && c->limbo[k].seq > m.seq)
			m.seq = c->limbo[k].seq;
	c->nodes[i].gate_seq = m.seq > stale_seq ? m.seq : 0;
	if (c->nodes[i].gate_seq > 0)
		c->nodes[i].restored++;
	for (j = 0; j < n; j++)
		if (opened[j])
			store_close(s[j]);
}

void simc_explain(struct simc *c)
{
	struct store_record *rec;
	uint8_t key[8];
	size_t kl;
	unsigned k;
	int i;

	for (k = 0; k <= SIMC_KEYS; k++) {
		const struct simnet_version *w;

		kl = key_at(k, key);
		w = simc_winner(c, key, kl);
		fprintf(stderr, "  key %u: model (node %d, seq %llu, clock "
			"%llu%s);", k, w ? simc_origin_index(c, w->origin) : -1,
			w ? (unsigned long long)w->seq : 0,
			w ? (unsigned long long)w->clock : 0,
			w && w->deleted ? ", deleted" : "");
		for (i = 0; i < c->p.n; i++) {
			if (c->nodes[i].r == NULL) {
				fprintf(stderr, " %d: down;", i);
				continue;
			}
			if (store_get_version(c->nodes[i].r->store, key, kl,
					      &rec, NULL) != 0) {
				fprintf(stderr, " %d: none;", i);
				continue;
			}
			fprintf(stderr, " %d: (%d, %llu, %llu%s);", i,
				simc_origin_index(c, rec->v.origin),
				(unsigned long long)rec->v.seq,
				(unsigned long long)rec->v.clock,
				rec->v.deleted ? ", del" : "");
			store_record_free(rec);
		}
		fputc('\n', stderr);
	}
	for (i = 0; i < c->p.n; i++) {
		char set[64];
		int o;

		if (c->nodes[i].r == NULL)
			continue;
		simc_describe_set(c, i, set, sizeof(set));
		fprintf(stderr, "  node %d (%s) HWMs:", i, set);
		for (o = 0; o < c->p.n; o++)
			fprintf(stderr, " %llu", (unsigned long long)
				store_hwm(c->nodes[i].r->store,
					  c->nodes[o].pk));
		fputc('\n', stderr);
	}
}

/* Whether node i's stale copy holds a version that another node has
 * seen and dropped since: a live one whose deletion that node collected
 * (a catch-up with it raises the copy's HWM past the collected entry, and
 * the version stays on the restored node alone), or one that wins over
 * what that node holds now (a deletion collected before a rewrite that
 * started again at clock 1: the rewrite loses on the restored node, for
 * good). SIM.md, found 1 and 4. Down nodes are not asked. */
int simc_stale_resurrects(struct simc *c, int i)
{
	struct store_record *v, *w;
	struct store *copy, *s;
	uint8_t key[SIMC_KEY_LEN];
	unsigned k;
	int j, risky = 0;

	if (c->known_bugs)
		return 0;
	copy = open_closed_store(c, c->nodes[i].stale, i);
	for (k = 0; k < SIMC_KEYS && !risky; k++) {
		simc_key(k, key);
		if (store_get_version(copy, key, sizeof(key), &v, NULL) != 0)
			continue;
		for (j = 0; j < c->p.n && !risky; j++) {
			if (j == i || c->nodes[j].r == NULL ||
			    !simc_in_set(c, j, key, sizeof(key)))
				continue;
			s = c->nodes[j].r->store;
			if (store_hwm(s, v->v.origin) < v->v.seq)
				continue;   /* never saw it */
			if (store_get_version(s, key, sizeof(key), &w,
					      NULL) != 0) {
				risky = !v->v.deleted;
				continue;
			}
			risky = resolver_order(c->res, &v->v, &w->v, NULL) < 0;
			store_record_free(w);
		}
		store_record_free(v);
	}
	store_close(copy);
	return risky;
}
