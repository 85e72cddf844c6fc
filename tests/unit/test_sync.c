/* SPDX-License-Identifier: MIT */
/* test_sync: reconciliation between real stores over the in-memory
 * transport (tests/lib/simnet): convergence, conflicts, catch-up,
 * compaction, binary data, protocol errors, flow control, cut streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolver/resolver.h"
#include "tests/lib/simnet.h"
#include "store/store.h"
#include "sync/sync.h"
#include "tests/lib/testutil.h"
#include "wire/wire.h"

#define NODES_MAX 8

struct node {
	char *dir;
	struct store *store;
	struct resolver *res;
	uint8_t origin[STORE_ORIGIN_BYTES];
};

struct cluster {
	char *base;
	int n;
	uint64_t wall;                 /* the fake wall clock of every node */
	int tick;                      /* advance wall on every read */
	rumor_resolve_fn fn;
	struct node nodes[NODES_MAX];
	struct simnet_version *all;    /* every version ever written */
	size_t n_all, cap_all;
};

static uint64_t fake_wall(void *arg)
{
	struct cluster *c = arg;

	if (c->tick)
		c->wall++;
	return c->wall;
}

static void node_open(struct cluster *c, int i)
{
	struct node *nd = &c->nodes[i];
	struct store_options opt;
	struct err err = { 0 };

	memset(&opt, 0, sizeof(opt));
	opt.origin = nd->origin;
	opt.resolver = nd->res;
	opt.hooks.now_ms = fake_wall;
	opt.hooks.arg = c;
	if (store_open(&nd->store, nd->dir, &opt, &err) != 0)
		fail_msg("store_open: %s", err.msg);
}

static struct cluster *cluster_new(int n, rumor_resolve_fn fn)
{
	struct cluster *c = calloc(1, sizeof(*c));
	char name[16];
	int i;

	assert_non_null(c);
	assert_true(n <= NODES_MAX);
	c->base = tu_tmpdir("sync");
	c->n = n;
	c->wall = 1000000;
	c->tick = 1;
	c->fn = fn;
	for (i = 0; i < n; i++) {
		struct node *nd = &c->nodes[i];

		snprintf(name, sizeof(name), "n%d", i);
		nd->dir = tu_join(c->base, name);
		/* Distinct origins; node i's sorts above node i-1's. */
		memset(nd->origin, 0x10 * (i + 1), STORE_ORIGIN_BYTES);
		nd->origin[STORE_ORIGIN_BYTES - 1] = (uint8_t)i;
		assert_int_equal(resolver_new_fn(&nd->res, fn, "test", NULL),
				 0);
		node_open(c, i);
	}
	return c;
}

static void cluster_free(struct cluster *c)
{
	size_t k;
	int i;

	for (i = 0; i < c->n; i++) {
		store_close(c->nodes[i].store);
		resolver_free(c->nodes[i].res);
		free(c->nodes[i].dir);
	}
	for (k = 0; k < c->n_all; k++)
		simnet_version_free(&c->all[k]);
	free(c->all);
	tu_rmrf(c->base);
	free(c->base);
	free(c);
}

static void remember(struct cluster *c, int i, const void *key,
		     size_t key_len)
{
	if (c->n_all == c->cap_all) {
		c->cap_all = c->cap_all ? 2 * c->cap_all : 256;
		c->all = realloc(c->all, c->cap_all * sizeof(*c->all));
		assert_non_null(c->all);
	}
	assert_int_equal(simnet_version_of(c->nodes[i].store, key, key_len,
					   &c->all[c->n_all]), 0);
	c->n_all++;
}

static void put_bin(struct cluster *c, int i, const void *key, size_t kl,
		    const void *val, size_t vl)
{
	struct err err = { 0 };

	if (store_put(c->nodes[i].store, key, kl, val, vl, NULL, &err) != 0)
		fail_msg("store_put: %s", err.msg);
	remember(c, i, key, kl);
}

static void put(struct cluster *c, int i, const char *key, const char *val)
{
	put_bin(c, i, key, strlen(key), val, strlen(val));
}

static void del(struct cluster *c, int i, const char *key)
{
	struct err err = { 0 };

	if (store_del(c->nodes[i].store, key, strlen(key), NULL, &err) != 0)
		fail_msg("store_del: %s", err.msg);
	remember(c, i, key, strlen(key));
}

static void exchange_cfg(struct cluster *c, int a, int b,
			 const struct sync_config *cfg)
{
	struct err err = { 0 };

	if (simnet_exchange(c->nodes[a].store, c->nodes[b].store, cfg,
			    &err) != 0)
		fail_msg("exchange %d-%d: %s", a, b, err.msg);
	if (simnet_check_hwm_invariant(c->nodes[a].store, c->nodes[a].res,
				       c->all, c->n_all, &err) != 0 ||
	    simnet_check_hwm_invariant(c->nodes[b].store, c->nodes[b].res,
				       c->all, c->n_all, &err) != 0)
		fail_msg("after exchange %d-%d: %s", a, b, err.msg);
}

static void exchange(struct cluster *c, int a, int b)
{
	exchange_cfg(c, a, b, NULL);
}

/* Node 0 with everyone, twice: node 0 gathers all, then gives all. */
static void exchange_all(struct cluster *c)
{
	int pass, i;

	for (pass = 0; pass < 2; pass++)
		for (i = 1; i < c->n; i++)
			exchange(c, 0, i);
}

static void assert_converged(struct cluster *c)
{
	struct err err = { 0 };
	int i;

	for (i = 0; i < c->n; i++) {
		if (store_check(c->nodes[i].store, &err) != 0)
			fail_msg("store_check node %d: %s", i, err.msg);
		if (simnet_check_hwm_invariant(c->nodes[i].store,
					       c->nodes[i].res, c->all,
					       c->n_all, &err) != 0)
			fail_msg("node %d: %s", i, err.msg);
		if (i > 0 && !simnet_same_state(c->nodes[0].store,
						c->nodes[i].store))
			fail_msg("node %d differs from node 0", i);
	}
}

static void assert_value(struct cluster *c, int i, const char *key,
			 const char *want)
{
	void *v = NULL;
	size_t vl = 0;
	int rv;

	rv = store_get(c->nodes[i].store, key, strlen(key), &v, &vl, NULL);
	if (want == NULL) {
		assert_int_equal(rv, RUMOR_ENOTFOUND);
		return;
	}
	assert_int_equal(rv, 0);
	assert_int_equal(vl, strlen(want));
	assert_memory_equal(v, want, vl);
	free(v);
}

/* ------------------------------------------------------------ convergence */

static void write_mix(struct cluster *c, int i, int keys)
{
	char key[32], val[32];
	int k;

	for (k = 0; k < keys; k++) {
		/* Half the keys are shared by every node: conflicts. */
		if (k % 2 == 0)
			snprintf(key, sizeof(key), "shared/%d", k);
		else
			snprintf(key, sizeof(key), "own/%d/%d", i, k);
		snprintf(val, sizeof(val), "v%d.%d", i, k);
		put(c, i, key, val);
		if (k % 5 == 0)
			del(c, i, key);
	}
}

static void test_two_nodes_converge_after_writes_and_deletes(void **state)
{
	struct cluster *c = cluster_new(2, NULL);

	(void)state;
	write_mix(c, 0, 300);
	write_mix(c, 1, 200);
	exchange(c, 0, 1);
	assert_converged(c);
	assert_value(c, 1, "own/0/1", "v0.1");
	assert_value(c, 0, "own/1/3", "v1.3");
	assert_value(c, 1, "own/0/5", NULL);
	cluster_free(c);
}

static void test_five_nodes_converge_after_writes_and_deletes(void **state)
{
	struct cluster *c = cluster_new(5, NULL);
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		write_mix(c, i, 100 + 20 * i);
	/* A ring first (partial knowledge everywhere), then more writes. */
	for (i = 0; i < 5; i++)
		exchange(c, i, (i + 1) % 5);
	for (i = 0; i < 5; i++) {
		put(c, i, "shared/0", "late");
		del(c, (i + 2) % 5, "shared/2");
	}
	exchange_all(c);
	assert_converged(c);
	cluster_free(c);
}

static void test_a_session_runs_further_rounds(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;

	(void)state;
	put(c, 0, "a", "1");
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	/* Starting again during a round counts as the same round. */
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[1].rounds, 1);
	assert_int_equal(l->end[0].last.entries_sent, 1);
	assert_value(c, 1, "a", "1");
	put(c, 1, "b", "2");
	/* The other side starts this time. */
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(sync_session_rounds(l->end[0].ss), 2);
	assert_int_equal(sync_session_rounds(l->end[1].ss), 2);
	assert_int_equal(l->end[1].last.entries_sent, 1);
	assert_int_equal(l->end[0].last.entries_applied, 1);
	assert_false(sync_session_busy(l->end[0].ss));
	simnet_link_free(l);
	assert_converged(c);
	cluster_free(c);
}

static void test_both_sides_may_start_at_once(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;
	const struct store_hwm *h;
	size_t n;

	(void)state;
	put(c, 0, "a", "1");
	put(c, 1, "b", "2");
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[1].rounds, 1);
	/* The peer's digest is recorded: node 1 knew only itself. */
	h = sync_session_peer_hwms(l->end[0].ss, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(h[0].origin, c->nodes[1].origin,
			    STORE_ORIGIN_BYTES);
	assert_int_equal(h[0].seq, 1);
	simnet_link_free(l);
	assert_converged(c);
	cluster_free(c);
}

/* ------------------------------------------------------------ conflicts */

static void test_same_clock_conflict_uses_default_order(void **state)
{
	struct cluster *c = cluster_new(3, NULL);

	(void)state;
	/* Same clock (1), same wall time: the greatest origin wins. */
	c->tick = 0;
	put(c, 0, "k", "from0");
	put(c, 2, "k", "from2");
	put(c, 1, "k", "from1");
	/* Same clock, later wall time wins over a greater origin. */
	put(c, 2, "w", "early2");
	c->wall += 5;
	put(c, 0, "w", "late0");
	exchange_all(c);
	assert_converged(c);
	assert_value(c, 0, "k", "from2");
	assert_value(c, 1, "k", "from2");
	assert_value(c, 1, "w", "late0");
	assert_value(c, 2, "w", "late0");
	cluster_free(c);
}

/* A user resolver: the longer value wins; ties: no opinion. */
static int longer_wins(const struct rumor_version *a,
		       const struct rumor_version *b)
{
	if (a->value_len != b->value_len)
		return a->value_len > b->value_len ? -1 : 1;
	return 0;
}

static void test_same_clock_conflict_uses_resolver_fn(void **state)
{
	struct cluster *c = cluster_new(3, longer_wins);

	(void)state;
	c->tick = 0;
	put(c, 0, "k", "the longest value");
	put(c, 1, "k", "short");
	put(c, 2, "k", "medium value");
	put(c, 0, "t", "aa");
	put(c, 1, "t", "bb");
	exchange_all(c);
	assert_converged(c);
	assert_value(c, 2, "k", "the longest value");
	assert_value(c, 1, "k", "the longest value");
	/* The tie falls back to the default order: greater origin. */
	assert_value(c, 0, "t", "bb");
	cluster_free(c);
}

static void test_higher_clock_wins_over_resolver(void **state)
{
	struct cluster *c = cluster_new(2, longer_wins);

	(void)state;
	put(c, 0, "k", "a long first value");
	exchange(c, 0, 1);
	put(c, 1, "k", "x");   /* clock 2 */
	exchange(c, 0, 1);
	assert_value(c, 0, "k", "x");
	assert_converged(c);
	cluster_free(c);
}

/* ------------------------------------------------------------ catch-up */

static void test_offline_node_catches_up(void **state)
{
	struct cluster *c = cluster_new(3, NULL);
	struct simnet_link *l;
	char key[32];
	int k;

	(void)state;
	for (k = 0; k < 3000; k++) {
		snprintf(key, sizeof(key), "key/%d", k % 1500);
		put(c, k % 2, key, k % 3 ? "value" : "other");
		if (k % 300 == 0)
			exchange(c, 0, 1);
	}
	exchange(c, 0, 1);
	/* Node 2 was away for all of it; small batches: many frames. */
	assert_int_equal(simnet_link_new(&l, c->nodes[2].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 1000000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[0].last.entries_received, 1500);
	assert_int_equal(l->end[0].last.entries_applied, 1500);
	assert_int_equal(l->end[1].last.entries_sent, 1500);
	simnet_link_free(l);
	exchange(c, 2, 0);
	assert_converged(c);
	cluster_free(c);
}

static void test_overwritten_key_is_sent_once(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;
	char val[32];
	int k;

	(void)state;
	for (k = 0; k < 1000; k++) {
		snprintf(val, sizeof(val), "value %d", k);
		put(c, 0, "hot", val);
	}
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(l->end[0].last.entries_sent, 1);
	assert_int_equal(l->end[1].last.entries_applied, 1);
	simnet_link_free(l);
	assert_value(c, 1, "hot", "value 999");
	assert_int_equal(store_hwm(c->nodes[1].store, c->nodes[0].origin),
			 1000);
	assert_converged(c);
	cluster_free(c);
}

static void test_identical_versions_are_cheap_noops(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;

	(void)state;
	put(c, 0, "a", "1");
	exchange(c, 0, 1);
	/* A second round sends nothing: the HWMs cover it all. */
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(l->end[0].last.entries_sent, 0);
	assert_int_equal(l->end[1].last.entries_sent, 0);
	assert_int_equal(l->end[0].rounds, 1);
	simnet_link_free(l);
	cluster_free(c);
}

/* ------------------------------------------------------------ binary */

static void test_binary_keys_and_values_cross_unchanged(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	static const uint8_t k1[] = { 0, 0xff, 0, 'a', 0 };
	static const uint8_t v1[] = { 0, 1, 2, 0, 0xfe, 0 };
	static const uint8_t k2[] = { 0 };
	uint8_t *bigk, *bigv;
	void *got;
	size_t gl;

	(void)state;
	bigk = malloc(RUMOR_KEY_MAX);
	bigv = malloc(RUMOR_VALUE_MAX);
	assert_non_null(bigk);
	assert_non_null(bigv);
	memset(bigk, 0, RUMOR_KEY_MAX);
	bigk[RUMOR_KEY_MAX - 1] = 0x7f;
	for (gl = 0; gl < RUMOR_VALUE_MAX; gl++)
		bigv[gl] = (uint8_t)(gl * 7);
	put_bin(c, 0, k1, sizeof(k1), v1, sizeof(v1));
	put_bin(c, 0, k2, sizeof(k2), "", 0);
	/* Two maximal entries: each needs a frame of its own. */
	put_bin(c, 0, bigk, RUMOR_KEY_MAX, bigv, RUMOR_VALUE_MAX);
	bigk[0] = 1;
	put_bin(c, 0, bigk, RUMOR_KEY_MAX, bigv, RUMOR_VALUE_MAX);
	exchange(c, 0, 1);
	assert_int_equal(store_get(c->nodes[1].store, k1, sizeof(k1), &got,
				   &gl, NULL), 0);
	assert_int_equal(gl, sizeof(v1));
	assert_memory_equal(got, v1, gl);
	free(got);
	assert_int_equal(store_get(c->nodes[1].store, k2, sizeof(k2), &got,
				   &gl, NULL), 0);
	assert_int_equal(gl, 0);
	free(got);
	assert_int_equal(store_get(c->nodes[1].store, bigk, RUMOR_KEY_MAX,
				   &got, &gl, NULL), 0);
	assert_int_equal(gl, RUMOR_VALUE_MAX);
	assert_memory_equal(got, bigv, gl);
	free(got);
	assert_converged(c);
	free(bigk);
	free(bigv);
	cluster_free(c);
}

/* ------------------------------------------------------------ bad peers */

/* A transport that keeps the last frame sent. */
struct capture {
	struct wire_buf last;
	int frames;
};

static int capture_send(void *arg, const uint8_t *frame, size_t len)
{
	struct capture *cp = arg;

	wire_buf_reset(&cp->last);
	cp->last.data = realloc(cp->last.data, len);
	assert_non_null(cp->last.data);
	memcpy(cp->last.data, frame, len);
	cp->last.len = cp->last.cap = len;
	cp->frames++;
	return 0;
}

static struct sync_session *capture_session(struct store *s,
					    struct capture *cp)
{
	struct sync_transport t = { 0 };
	struct sync_session *ss;

	wire_buf_init(&cp->last);
	cp->frames = 0;
	t.send = capture_send;
	t.arg = cp;
	assert_int_equal(sync_session_new(&ss, s, &t, NULL, NULL, NULL), 0);
	return ss;
}

static const uint8_t bad_origin[WIRE_ORIGIN_BYTES] = { 0x77 };

/* A BATCH of entries with the given seqs, for exchange id xid. */
static void batch_frame(struct wire_buf *out, uint64_t xid,
			const uint64_t *seqs, size_t n)
{
	struct wire_batch_builder b;
	struct wire_entry e;
	size_t i;

	wire_buf_reset(out);
	assert_int_equal(wire_batch_begin(&b, out, xid, bad_origin, NULL), 0);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.seq = seqs[i];
		e.clock = 1;
		e.wall_ms = 5;
		e.key = i % 2 ? "bad1" : "bad0";
		e.key_len = 4;
		e.value = "x";
		e.value_len = 1;
		assert_int_equal(wire_batch_add(&b, &e, NULL), 0);
	}
	wire_batch_end(&b);
}

/* An MBATCH of entries with the given keys and seqs, of bad_origin. */
static void mbatch_frame(struct wire_buf *out, uint64_t xid,
			 const char *const *keys, const uint64_t *seqs,
			 uint64_t clock, size_t n)
{
	struct wire_mbatch_builder *b = malloc(sizeof(*b));
	struct wire_entry e;
	size_t i;

	assert_non_null(b);
	wire_buf_reset(out);
	assert_int_equal(wire_mbatch_begin(b, out, xid, NULL), 0);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.seq = seqs[i];
		e.clock = clock;
		e.wall_ms = 5;
		e.key = keys[i];
		e.key_len = strlen(keys[i]);
		e.value = "x";
		e.value_len = 1;
		assert_int_equal(wire_mbatch_add(b, bad_origin, &e, NULL), 0);
	}
	wire_mbatch_end(b);
	free(b);
}

static int absent(struct store *s, const char *key)
{
	struct store_record *rec;
	int rv = store_get_version(s, key, strlen(key), &rec, NULL);

	if (rv == 0)
		store_record_free(rec);
	return rv == RUMOR_ENOTFOUND;
}

static void assert_nothing_from_bad_peer(struct store *s)
{
	assert_true(absent(s, "bad0"));
	assert_int_equal(store_hwm(s, bad_origin), 0);
}

/* Feeds one frame to a fresh session that has sent its DIGEST (id 1);
 * expects an error and a store unchanged. */
static void expect_refused(struct cluster *c, const uint8_t *frame,
			   size_t len)
{
	struct store *s = c->nodes[1].store;
	struct capture cp;
	struct sync_session *ss = capture_session(s, &cp);
	struct store_stats before, after;
	struct err err = { 0 };
	int rv;

	assert_int_equal(sync_session_start(ss, NULL), 0);
	store_get_stats(s, &before);
	rv = sync_session_receive(ss, frame, len, &err);
	assert_int_equal(rv, RUMOR_EPROTO);
	assert_true(err.msg[0] != '\0');
	store_get_stats(s, &after);
	assert_int_equal(before.applied, after.applied);
	assert_int_equal(before.stale, after.stale);
	assert_int_equal(store_hwm(s, bad_origin), 0);
	assert_true(absent(s, "bad0"));
	/* The session stays failed. */
	assert_int_equal(sync_session_pump(ss, NULL), RUMOR_EPROTO);
	assert_int_equal(sync_session_start(ss, NULL), RUMOR_EPROTO);
	sync_session_free(ss);
	wire_buf_free(&cp.last);
}

static void test_malformed_frames_are_refused_and_apply_nothing(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	static const uint8_t garbage[] = { 0xff, 0x00, 0x13, 0x37 };
	static const uint64_t in_order[] = { 1, 2 };
	static const uint64_t out_of_order[] = { 2, 1 };
	static const uint64_t zero_seq[] = { 0 };
	struct wire_buf f;
	size_t cut;

	(void)state;
	wire_buf_init(&f);
	expect_refused(c, garbage, sizeof(garbage));
	expect_refused(c, garbage, 0);
	/* A good BATCH cut at every byte offset: never applied. */
	batch_frame(&f, 1, in_order, 2);
	for (cut = 0; cut < f.len; cut++)
		expect_refused(c, f.data, cut);
	/* Well formed but against the rules. */
	batch_frame(&f, 1, out_of_order, 2);
	expect_refused(c, f.data, f.len);
	batch_frame(&f, 1, zero_seq, 1);
	expect_refused(c, f.data, f.len);
	batch_frame(&f, 2, in_order, 2);     /* not our exchange */
	expect_refused(c, f.data, f.len);
	wire_buf_reset(&f);
	assert_int_equal(wire_encode_ack(&f, 1, 10, NULL), 0);
	expect_refused(c, f.data, f.len);    /* ACK for nothing sent */
	wire_buf_reset(&f);
	assert_int_equal(wire_encode_ping(&f, 1, NULL), 0);
	expect_refused(c, f.data, f.len);    /* not a sync message */
	wire_buf_free(&f);
	assert_nothing_from_bad_peer(c->nodes[1].store);
	cluster_free(c);
}

static void test_malformed_mbatches_are_refused_and_apply_nothing(
	void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	static const char *const in_order[] = { "bad0", "bad1" };
	static const char *const out_of_order[] = { "bad1", "bad0" };
	static const char *const twice[] = { "bad0", "bad0" };
	static const uint64_t seqs[] = { 2, 1 };
	static const uint64_t zero_seq[] = { 1, 0 };
	struct wire_buf f;
	size_t cut;

	(void)state;
	wire_buf_init(&f);
	/* A good MBATCH cut at every byte offset: never applied. */
	mbatch_frame(&f, 1, in_order, seqs, 1, 2);
	for (cut = 0; cut < f.len; cut++)
		expect_refused(c, f.data, cut);
	/* Well formed but against the rules. */
	mbatch_frame(&f, 1, out_of_order, seqs, 1, 2);
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 1, twice, seqs, 1, 2);
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 1, in_order, zero_seq, 1, 2);
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 1, in_order, seqs, 0, 2);       /* clock 0 */
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 2, in_order, seqs, 1, 2);       /* not our exchange */
	expect_refused(c, f.data, f.len);
	mbatch_frame(&f, 1, in_order, seqs, 1, 0);       /* empty */
	expect_refused(c, f.data, f.len);
	wire_buf_free(&f);
	assert_nothing_from_bad_peer(c->nodes[1].store);
	cluster_free(c);
}

static void test_batch_before_digest_is_refused(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	static const uint64_t seqs[] = { 1 };
	struct capture cp;
	struct sync_session *ss = capture_session(c->nodes[0].store, &cp);
	struct wire_buf f;

	(void)state;
	wire_buf_init(&f);
	batch_frame(&f, 1, seqs, 1);
	assert_int_equal(sync_session_receive(ss, f.data, f.len, NULL),
			 RUMOR_EPROTO);
	assert_int_equal(cp.frames, 0);
	sync_session_free(ss);
	wire_buf_free(&cp.last);
	wire_buf_free(&f);
	assert_true(absent(c->nodes[0].store, "bad0"));
	cluster_free(c);
}

static void test_duplicate_origins_in_digest_are_refused(void **state)
{
	struct cluster *c = cluster_new(1, NULL);
	struct capture cp;
	struct sync_session *ss = capture_session(c->nodes[0].store, &cp);
	struct wire_hwm h[2] = { { bad_origin, 1 }, { bad_origin, 2 } };
	struct wire_buf f;

	(void)state;
	wire_buf_init(&f);
	assert_int_equal(wire_encode_digest(&f, 9, h, 2, NULL), 0);
	assert_int_equal(sync_session_receive(ss, f.data, f.len, NULL),
			 RUMOR_EPROTO);
	sync_session_free(ss);
	wire_buf_free(&cp.last);
	wire_buf_free(&f);
	cluster_free(c);
}

static void test_second_digest_during_a_stream_is_refused(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;
	struct sync_config cfg = { 0 };
	struct wire_buf f;
	int k;
	char key[16];

	(void)state;
	for (k = 0; k < 50; k++) {
		snprintf(key, sizeof(key), "k%d", k);
		put(c, 0, key, "some value bytes");
	}
	cfg.batch_bytes = 256;
	cfg.pump_frames = 1;
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, &cfg, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	/* Deliver node 1's DIGEST: node 0 now streams (one frame a call). */
	assert_int_equal(simnet_step(l), 1);
	assert_true(simnet_queued(l, 0) >= 2);
	/* A new DIGEST before node 0 finished answering the first one. */
	wire_buf_init(&f);
	assert_int_equal(wire_encode_digest(&f, 2, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_receive(l->end[0].ss, f.data, f.len,
					      NULL), RUMOR_EPROTO);
	wire_buf_free(&f);
	simnet_link_free(l);
	cluster_free(c);
}

/* ------------------------------------------------------------ key order */

static void fill_node(struct cluster *c, int i, int keys, size_t vlen);

/* The entries a node holds (its live log entries). */
static uint64_t log_entries(struct cluster *c, int i)
{
	struct store_stats st;

	store_get_stats(c->nodes[i].store, &st);
	return st.log_entries;
}

/* One exchange started by node `to` pulling from `from`; returns the
 * sender's figures. */
static struct sync_round_stats pull(struct cluster *c, int to, int from,
				    const struct sync_config *cfg)
{
	struct simnet_link *l;
	struct sync_round_stats st;
	struct err err = { 0 };

	assert_int_equal(simnet_link_new(&l, c->nodes[to].store,
					 c->nodes[from].store, cfg, 0, NULL),
			 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	if (simnet_run(l, 10000000) != 0)
		fail_msg("pull %d <- %d: %s", to, from,
			 l->end[0].error ? l->end[0].err.msg :
			 l->end[1].err.msg);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[1].rounds, 1);
	st = l->end[1].last;
	simnet_link_free(l);
	if (simnet_check_hwm_invariant(c->nodes[to].store, c->nodes[to].res,
				       c->all, c->n_all, &err) != 0)
		fail_msg("after pull %d <- %d: %s", to, from, err.msg);
	return st;
}

static void test_far_behind_peer_is_served_in_key_order(void **state)
{
	struct cluster *c = cluster_new(3, NULL);
	struct sync_round_stats st;
	struct sync_config cfg = { 0 };

	(void)state;
	/* Node 0 holds entries of two origins, tombstones, overwrites. */
	write_mix(c, 0, 300);
	write_mix(c, 1, 300);
	exchange(c, 0, 1);
	/* Node 2 is empty: its DIGEST is empty, so key order. Small frames
	 * so that many MBATCHes go. */
	cfg.batch_bytes = 512;
	st = pull(c, 2, 0, &cfg);
	assert_int_equal(st.key_order, 1);
	assert_int_equal(st.entries_sent, log_entries(c, 0));
	assert_true(st.frames_sent > 10);
	/* The way back had nothing to send, in log order. */
	assert_true(simnet_same_state(c->nodes[0].store, c->nodes[2].store));
	assert_converged(c);
	cluster_free(c);
}

static void test_partially_behind_peer_chooses_by_the_rule(void **state)
{
	struct cluster *c = cluster_new(3, NULL);
	struct sync_round_stats st;
	char key[32];
	int k;

	(void)state;
	for (k = 0; k < 100; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		put(c, 0, key, "v");
	}
	exchange(c, 1, 0);
	exchange(c, 2, 0);
	/* Node 1 lacks 40 of 140: log order. */
	for (k = 100; k < 140; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		put(c, 0, key, "v");
	}
	st = pull(c, 1, 0, NULL);
	assert_int_equal(st.key_order, 0);
	assert_int_equal(st.entries_sent, 40);
	/* Node 2 lacks 40 + 100 of 240: key order, the same entries. */
	for (k = 140; k < 240; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		put(c, 0, key, "v");
	}
	st = pull(c, 2, 0, NULL);
	assert_int_equal(st.key_order, 1);
	assert_int_equal(st.entries_sent, 140);
	exchange(c, 1, 0);
	assert_converged(c);
	cluster_free(c);
}

static void test_key_order_rule_counts_what_the_peer_lacks(void **state)
{
	struct store_hwm ours[3], theirs[2];
	int i;

	(void)state;
	memset(ours, 0, sizeof(ours));
	memset(theirs, 0, sizeof(theirs));
	for (i = 0; i < 3; i++)
		ours[i].origin[0] = (uint8_t)(0x10 * (i + 1));
	ours[0].seq = 100;
	ours[1].seq = 50;
	ours[2].seq = 10;
	theirs[0].origin[0] = 0x10;      /* has all of origin 0x10 */
	theirs[0].seq = 100;
	theirs[1].origin[0] = 0x20;      /* lacks 20 of 0x20 */
	theirs[1].seq = 30;
	/* Lacks 20 + 10 = 30. */
	assert_false(sync_push_key_order(ours, 3, theirs, 2, 61));
	assert_true(sync_push_key_order(ours, 3, theirs, 2, 60));
	assert_true(sync_push_key_order(ours, 3, theirs, 2, 59));
	/* An empty digest is far behind; an empty log never is. */
	assert_true(sync_push_key_order(ours, 3, NULL, 0, 1000000));
	assert_false(sync_push_key_order(ours, 3, NULL, 0, 0));
	/* A peer ahead of us lacks nothing. */
	theirs[1].seq = 500;
	ours[2].seq = 0;
	assert_false(sync_push_key_order(ours, 3, theirs, 2, 1));
}

/* A peer that lacks a few of many keys, served in key order anyway: the
 * sender skips what the peer has in bounded steps and sends only the
 * entries above its HWMs. */
static void test_key_order_sends_only_what_the_peer_lacks(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct sync_config cfg = { 0 };
	struct sync_round_stats st;
	int keys = SYNC_SKIP_MAX + 2000;

	(void)state;
	fill_node(c, 0, keys, 8);
	exchange(c, 1, 0);
	put(c, 0, "aaa first", "new");
	put(c, 0, "zzz last", "new");
	put(c, 0, "bulk/000777", "newer");
	cfg.order = SYNC_ORDER_KEY;
	st = pull(c, 1, 0, &cfg);
	assert_int_equal(st.key_order, 1);
	assert_int_equal(st.entries_sent, 3);
	assert_value(c, 1, "zzz last", "new");
	assert_value(c, 1, "bulk/000777", "newer");
	assert_converged(c);
	cluster_free(c);
}

/* ------------------------------------------------------------ flow control */

static enum simnet_verdict hold_acks(void *arg, struct simnet_link *l,
				     int from, const uint8_t *frame,
				     size_t len)
{
	struct wire_decoder d;
	struct wire_msg m;
	int is_ack;

	(void)arg;
	(void)l;
	wire_decoder_init(&d);
	is_ack = wire_decode(&d, frame, len, &m, NULL) == 0 &&
		 m.type == WIRE_ACK && from == 1;
	wire_decoder_free(&d);
	return is_ack ? SIMNET_HOLD : SIMNET_DELIVER;
}

static void fill_node(struct cluster *c, int i, int keys, size_t vlen)
{
	char key[32];
	uint8_t *val = malloc(vlen);
	int k;

	assert_non_null(val);
	memset(val, 'v', vlen);
	for (k = 0; k < keys; k++) {
		snprintf(key, sizeof(key), "bulk/%06d", k);
		put_bin(c, i, key, strlen(key), val, vlen);
	}
	free(val);
}

static void test_sender_stops_at_credit_window_until_acked(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct sync_config cfg = { 0 };
	struct simnet_link *l;
	uint64_t unacked;

	(void)state;
	fill_node(c, 0, 2000, 1000);       /* ~2 MB of payload */
	cfg.credit_bytes = 64 * 1024;
	cfg.batch_bytes = 8 * 1024;
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, &cfg, 0, NULL), 0);
	l->filter = hold_acks;
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 1000000), 0);
	/* Quiescent with node 1 never ACKing: node 0 stopped at the
	 * window (plus at most one batch). */
	unacked = sync_session_unacked(l->end[0].ss);
	assert_true(unacked >= cfg.credit_bytes);
	assert_true(unacked <= cfg.credit_bytes + cfg.batch_bytes);
	assert_true(l->end[0].last.entries_sent == 0 ||
		    l->end[0].rounds == 0);
	assert_int_equal(l->end[0].rounds, 0);
	assert_true(sync_session_stats(l->end[0].ss)->payload_sent <=
		    cfg.credit_bytes + cfg.batch_bytes);
	assert_false(sync_session_pending(l->end[0].ss));
	/* ACKs flow again: the stream resumes and completes. */
	l->filter = NULL;
	assert_int_equal(simnet_run(l, 1000000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[1].rounds, 1);
	assert_int_equal(l->end[0].last.entries_sent, 2000);
	assert_int_equal(sync_session_unacked(l->end[0].ss), 0);
	simnet_link_free(l);
	assert_converged(c);
	cluster_free(c);
}

static enum simnet_verdict hold_from_0(void *arg, struct simnet_link *l,
				       int from, const uint8_t *frame,
				       size_t len)
{
	(void)arg;
	(void)l;
	(void)frame;
	(void)len;
	return from == 0 ? SIMNET_HOLD : SIMNET_DELIVER;
}

static void test_sender_respects_transport_backpressure(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct sync_config cfg = { 0 };
	struct simnet_link *l;

	(void)state;
	fill_node(c, 0, 2000, 1000);
	cfg.batch_bytes = 16 * 1024;
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, &cfg, 0, NULL), 0);
	l->end[0].high_water = 40 * 1024;
	l->filter = hold_from_0;
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 1000000), 0);
	/* Nothing drains: the queue stops one frame past the mark. */
	assert_true(l->end[0].queued_bytes >= 40 * 1024);
	assert_true(l->end[0].peak_queued_bytes <=
		    40 * 1024 + cfg.batch_bytes);
	assert_false(sync_session_pending(l->end[0].ss));
	l->filter = NULL;
	assert_int_equal(simnet_run(l, 1000000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_true(l->end[0].peak_queued_bytes <=
		    40 * 1024 + cfg.batch_bytes);
	assert_true(l->end[0].max_frame <= cfg.batch_bytes);
	simnet_link_free(l);
	assert_converged(c);
	cluster_free(c);
}

/* ------------------------------------------------------------ cut streams */

struct cutter {
	uint64_t at;             /* cut when this many frames were delivered */
	int truncate;            /* feed a truncated frame first */
	uint64_t rng;
	int truncated_refused;
	int fired;
};

static enum simnet_verdict cut_filter(void *arg, struct simnet_link *l,
				      int from, const uint8_t *frame,
				      size_t len)
{
	struct cutter *ct = arg;
	struct store *dst = l->end[!from].store;
	uint8_t *before, *after;
	size_t lb, la, off;
	int rv;

	if (l->delivered < ct->at)
		return SIMNET_DELIVER;
	ct->fired = 1;
	if (!ct->truncate)
		return SIMNET_CUT;
	/* The frame is lost part way: its receiver sees a prefix. */
	ct->rng = ct->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	off = (size_t)(ct->rng >> 33) % len;
	assert_int_equal(simnet_dump(dst, &before, &lb), 0);
	rv = sync_session_receive(l->end[!from].ss, frame, off, NULL);
	assert_int_equal(simnet_dump(dst, &after, &la), 0);
	if (rv != 0 && la == lb &&
	    (la == 0 || memcmp(before, after, la) == 0))
		ct->truncated_refused = 1;
	free(before);
	free(after);
	return SIMNET_CUT;
}

/* Node 0 (A), 1 (B), 2 (C) build a log with several origins and
 * superseded entries on B; 3 (E) is a full copy of B; 4 (R) is the
 * receiver, reset for every cut point. */
static void build_superseding_scenario(struct cluster *c)
{
	char key[32], val[32];
	int k;

	for (k = 0; k < 30; k++) {
		snprintf(key, sizeof(key), "k%02d", k);
		snprintf(val, sizeof(val), "A%d", k);
		put(c, 0, key, val);
	}
	for (k = 0; k < 10; k++) {
		snprintf(key, sizeof(key), "c%02d", k);
		put(c, 2, key, "C");
	}
	exchange(c, 1, 0);
	/* B supersedes some of A's keys (and one of A's is deleted):
	 * A's log entries on B now have gaps. */
	for (k = 0; k < 30; k += 3) {
		snprintf(key, sizeof(key), "k%02d", k);
		put(c, 1, key, "B");
	}
	del(c, 1, "k01");
	/* C supersedes others; B learns them: B's log has C's entries
	 * for A's keys, after A's in origin order. */
	exchange(c, 2, 0);
	for (k = 1; k < 30; k += 4) {
		snprintf(key, sizeof(key), "k%02d", k);
		put(c, 2, key, "C2");
	}
	exchange(c, 1, 2);
	for (k = 0; k < 30; k += 2) {
		snprintf(key, sizeof(key), "k%02d", k);
		snprintf(val, sizeof(val), "A2.%d", k);
		put(c, 0, key, val);
	}
	exchange(c, 1, 0);
	exchange(c, 3, 1);
	/* E holds exactly what B holds. */
	assert_true(simnet_same_state(c->nodes[1].store, c->nodes[3].store));
}

static void reset_node(struct cluster *c, int i)
{
	store_close(c->nodes[i].store);
	assert_int_equal(tu_rmrf(c->nodes[i].dir), 0);
	node_open(c, i);
}

/* Frames of a whole exchange between R (node 4, reset; with C's state
 * if with_c) and B (node 1). */
static uint64_t frames_of_exchange(struct cluster *c, int with_c,
				   const struct sync_config *cfg)
{
	struct simnet_link *l;
	uint64_t n;

	reset_node(c, 4);
	if (with_c)
		exchange_cfg(c, 4, 2, cfg);
	assert_int_equal(simnet_link_new(&l, c->nodes[4].store,
					 c->nodes[1].store, cfg, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 100000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	n = l->delivered;
	simnet_link_free(l);
	return n;
}

static void run_cut_points(int truncate, enum sync_order order)
{
	struct cluster *c = cluster_new(5, NULL);
	struct sync_config cfg = { 0 };
	struct cutter ct;
	struct simnet_link *l;
	struct err err = { 0 };
	uint64_t at, total[2];
	int repair_peer, with_c;

	cfg.batch_bytes = 120;   /* a few entries a frame: many cut points */
	cfg.credit_bytes = 200;  /* ACKs interleave with BATCHes */
	build_superseding_scenario(c);
	/* The scenario's own exchanges in the default order; the cut ones
	 * (and their repairs) in the order under test. */
	cfg.order = order;
	/* How many frames a whole exchange B -> R takes, R empty (more) or
	 * with C's state (fewer). */
	total[0] = frames_of_exchange(c, 0, &cfg);
	total[1] = frames_of_exchange(c, 1, &cfg);
	assert_true(total[1] > 10 && total[0] >= total[1]);
	for (at = 0; at <= total[0]; at++) {
		/* R starts empty (then any eager HWM is a lie it cannot
		 * cover) or with C's state (a partial overlap). */
		with_c = at % 4 >= 2;
		reset_node(c, 4);
		if (with_c)
			exchange_cfg(c, 4, 2, &cfg);
		memset(&ct, 0, sizeof(ct));
		ct.at = at;
		ct.truncate = truncate;
		ct.rng = at + 1;
		assert_int_equal(simnet_link_new(&l, c->nodes[4].store,
						 c->nodes[1].store, &cfg,
						 0, NULL), 0);
		l->filter = cut_filter;
		l->filter_arg = &ct;
		assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
		assert_int_equal(simnet_run(l, 100000), 0);
		if (at < total[with_c]) {
			assert_true(ct.fired);
			if (truncate)
				assert_true(ct.truncated_refused);
		}
		simnet_link_free(l);
		/* Whatever was cut where, no HWM claims too much. */
		if (simnet_check_hwm_invariant(c->nodes[4].store,
					       c->nodes[4].res, c->all,
					       c->n_all, &err) != 0)
			fail_msg("cut after %llu frames: %s",
				 (unsigned long long)at, err.msg);
		/* A fresh exchange, with B or with its copy E, repairs. */
		repair_peer = at % 2 ? 3 : 1;
		exchange_cfg(c, 4, repair_peer, &cfg);
		if (simnet_check_hwm_invariant(c->nodes[4].store,
					       c->nodes[4].res, c->all,
					       c->n_all, &err) != 0)
			fail_msg("after repair (cut %llu): %s",
				 (unsigned long long)at, err.msg);
		if (store_check(c->nodes[4].store, &err) != 0)
			fail_msg("after repair (cut %llu): %s",
				 (unsigned long long)at, err.msg);
		/* R began empty or with C's state, which B holds: now
		 * R == B. */
		if (!simnet_same_state(c->nodes[4].store, c->nodes[1].store))
			fail_msg("cut after %llu: not repaired",
				 (unsigned long long)at);
	}
	cluster_free(c);
}

static enum simnet_verdict cut_at_done(void *arg, struct simnet_link *l,
				       int from, const uint8_t *frame,
				       size_t len)
{
	struct wire_decoder d;
	struct wire_msg m;
	int done;

	(void)arg;
	(void)l;
	(void)from;
	wire_decoder_init(&d);
	done = wire_decode(&d, frame, len, &m, NULL) == 0 &&
	       m.type == WIRE_DONE;
	wire_decoder_free(&d);
	return done ? SIMNET_CUT : SIMNET_DELIVER;
}

/* A cut stream leaves R with a log entry of an origin it has no HWM for;
 * that entry supersedes a version R's HWMs do cover. When R serves S, it
 * must send that entry, or S would claim a version it lacks. */
static void test_entries_left_by_a_cut_stream_are_passed_on(void **state)
{
	struct cluster *c = cluster_new(4, NULL);
	struct simnet_link *l;
	struct err err = { 0 };
	int i;

	(void)state;
	put(c, 0, "k", "from X");
	exchange(c, 1, 0);
	put(c, 1, "k", "from O");        /* (O, 1) supersedes (X, 1) */
	exchange(c, 2, 0);               /* R covers (X, 1) */
	assert_int_equal(simnet_link_new(&l, c->nodes[2].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	l->filter = cut_at_done;
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_true(l->cut);
	simnet_link_free(l);
	assert_value(c, 2, "k", "from O");
	assert_int_equal(store_hwm(c->nodes[2].store, c->nodes[1].origin), 0);
	/* R serves S: S must end up with (O, 1). */
	exchange(c, 3, 2);
	assert_value(c, 3, "k", "from O");
	for (i = 0; i < 4; i++)
		if (simnet_check_hwm_invariant(c->nodes[i].store,
					       c->nodes[i].res, c->all,
					       c->n_all, &err) != 0)
			fail_msg("node %d: %s", i, err.msg);
	cluster_free(c);
}

static void test_cut_streams_keep_the_hwm_invariant(void **state)
{
	(void)state;
	run_cut_points(0, SYNC_ORDER_LOG);
}

static void test_lost_partial_frames_keep_the_hwm_invariant(void **state)
{
	(void)state;
	run_cut_points(1, SYNC_ORDER_LOG);
}

static void test_cut_key_order_streams_keep_the_hwm_invariant(void **state)
{
	(void)state;
	run_cut_points(0, SYNC_ORDER_KEY);
}

static void test_lost_partial_key_order_frames_keep_the_hwm_invariant(
	void **state)
{
	(void)state;
	run_cut_points(1, SYNC_ORDER_KEY);
}

int main(void)
{
	/* Many small stores: tmpfs when there is one (TMPDIR wins). */
	if (getenv("TMPDIR") == NULL && access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_nodes_converge_after_writes_and_deletes),
		cmocka_unit_test(test_five_nodes_converge_after_writes_and_deletes),
		cmocka_unit_test(test_a_session_runs_further_rounds),
		cmocka_unit_test(test_both_sides_may_start_at_once),
		cmocka_unit_test(test_same_clock_conflict_uses_default_order),
		cmocka_unit_test(test_same_clock_conflict_uses_resolver_fn),
		cmocka_unit_test(test_higher_clock_wins_over_resolver),
		cmocka_unit_test(test_offline_node_catches_up),
		cmocka_unit_test(test_overwritten_key_is_sent_once),
		cmocka_unit_test(test_identical_versions_are_cheap_noops),
		cmocka_unit_test(test_binary_keys_and_values_cross_unchanged),
		cmocka_unit_test(test_malformed_frames_are_refused_and_apply_nothing),
		cmocka_unit_test(test_malformed_mbatches_are_refused_and_apply_nothing),
		cmocka_unit_test(test_batch_before_digest_is_refused),
		cmocka_unit_test(test_duplicate_origins_in_digest_are_refused),
		cmocka_unit_test(test_second_digest_during_a_stream_is_refused),
		cmocka_unit_test(test_far_behind_peer_is_served_in_key_order),
		cmocka_unit_test(test_partially_behind_peer_chooses_by_the_rule),
		cmocka_unit_test(test_key_order_rule_counts_what_the_peer_lacks),
		cmocka_unit_test(test_key_order_sends_only_what_the_peer_lacks),
		cmocka_unit_test(test_sender_stops_at_credit_window_until_acked),
		cmocka_unit_test(test_sender_respects_transport_backpressure),
		cmocka_unit_test(test_entries_left_by_a_cut_stream_are_passed_on),
		cmocka_unit_test(test_cut_streams_keep_the_hwm_invariant),
		cmocka_unit_test(test_lost_partial_frames_keep_the_hwm_invariant),
		cmocka_unit_test(test_cut_key_order_streams_keep_the_hwm_invariant),
		cmocka_unit_test(test_lost_partial_key_order_frames_keep_the_hwm_invariant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
