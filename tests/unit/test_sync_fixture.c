/* SPDX-License-Identifier: MIT */
/* The fixture of the sync unit tests (contracts in test_sync_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/test_sync_fixture.h"

static uint64_t fake_wall(void *arg)
{
	struct cluster *c = arg;

	if (c->tick)
		c->wall++;
	return c->wall;
}

void node_open(struct cluster *c, int i)
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

struct cluster *cluster_new(int n, rumor_resolve_fn fn)
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

void cluster_free(struct cluster *c)
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

void put_bin(struct cluster *c, int i, const void *key, size_t kl,
		    const void *val, size_t vl)
{
	struct err err = { 0 };

	if (store_put(c->nodes[i].store, key, kl, val, vl, NULL, &err) != 0)
		fail_msg("store_put: %s", err.msg);
	remember(c, i, key, kl);
}

void put(struct cluster *c, int i, const char *key, const char *val)
{
	put_bin(c, i, key, strlen(key), val, strlen(val));
}

void del(struct cluster *c, int i, const char *key)
{
	struct err err = { 0 };

	if (store_del(c->nodes[i].store, key, strlen(key), NULL, &err) != 0)
		fail_msg("store_del: %s", err.msg);
	remember(c, i, key, strlen(key));
}

void exchange_cfg(struct cluster *c, int a, int b,
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

void exchange(struct cluster *c, int a, int b)
{
	exchange_cfg(c, a, b, NULL);
}

void exchange_all(struct cluster *c)
{
	int pass, i;

	for (pass = 0; pass < 2; pass++)
		for (i = 1; i < c->n; i++)
			exchange(c, 0, i);
}

void assert_converged(struct cluster *c)
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

void assert_value(struct cluster *c, int i, const char *key,
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

void write_mix(struct cluster *c, int i, int keys)
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

void fill_node(struct cluster *c, int i, int keys, size_t vlen)
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

/* ------------------------------------------------------------ tap */

static int tap_send(void *arg, const uint8_t *frame, size_t len)
{
	struct tap *t = arg;
	struct wire_buf *b;

	assert_true(t->n < TAP_MAX);
	b = &t->frames[t->n++];
	wire_buf_init(b);
	b->data = malloc(len);
	assert_non_null(b->data);
	memcpy(b->data, frame, len);
	b->len = b->cap = len;
	return 0;
}

static uint64_t tap_now(void *arg)
{
	return ((struct tap *)arg)->now;
}

static void tap_refuse(void *arg, enum refuse_reason why,
		       const uint8_t *origin, uint64_t claimed,
		       uint64_t allowed)
{
	struct tap *t = arg;

	(void)origin;
	(void)claimed;
	(void)allowed;
	t->refused[why]++;
}

static void tap_want_round(void *arg)
{
	((struct tap *)arg)->want_round++;
}

struct sync_session *tap_session(struct store *s, struct tap *t)
{
	struct sync_transport tr = { 0 };
	struct sync_callbacks cb = { 0 };
	struct sync_session *ss;

	memset(t, 0, sizeof(*t));
	wire_decoder_init(&t->dec);
	t->now = 1000;
	tr.send = tap_send;
	tr.now_ms = tap_now;
	tr.arg = t;
	cb.on_refuse = tap_refuse;
	cb.on_want_round = tap_want_round;
	cb.arg = t;
	assert_int_equal(sync_session_new(&ss, s, &tr, NULL, &cb, NULL), 0);
	return ss;
}

void tap_free(struct tap *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		wire_buf_free(&t->frames[i]);
	t->n = 0;
	wire_decoder_free(&t->dec);
}

void tap_decode(struct tap *t, int i, struct wire_decoder *dec,
		struct wire_msg *m, int type)
{
	assert_true(i < t->n);
	assert_int_equal(wire_decode(dec, t->frames[i].data,
				     t->frames[i].len, m, NULL), 0);
	assert_int_equal(m->type, type);
}

void tap_msg(struct tap *t, int i, struct wire_msg *m, int type)
{
	tap_decode(t, i, &t->dec, m, type);
}

int feed_hwms(struct sync_session *ss, int type, uint64_t xid,
	      const uint8_t *origin, uint64_t hwm, size_t n)
{
	struct wire_msg m;
	struct wire_hwm h = { origin, hwm };
	struct wire_buf f;
	int rv;

	memset(&m, 0, sizeof m);
	m.type = (enum wire_type)type;
	m.u.digest.exchange_id = xid;
	m.u.digest.hwms = &h;
	m.u.digest.n = n;
	wire_buf_init(&f);
	assert_int_equal(wire_encode_msg(&f, &m, NULL), 0);
	rv = sync_session_receive(ss, f.data, f.len, NULL);
	wire_buf_free(&f);
	return rv;
}
