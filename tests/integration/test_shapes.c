/* SPDX-License-Identifier: MIT */
/*
 * test_shapes: the master/slave shapes of the README ("Shapes") with
 * whole nodes in one process on one loop (nodes_fixture's cluster),
 * joined over TCP on 127.0.0.1 by seed lists: a writer with replicas, a
 * replica fed only by a replica, prefixed writers aggregated into one
 * partial replica beside a full peer; binary keys and values throughout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "rumor.h"
#include "node/node_ctl.h"
#include "tests/integration/nodes_fixture.h"
#include "tests/lib/testutil.h"

/* ------------------------------------------------------------ nodes */

/* What a node of a shape is. */
struct shape {
	int replica;                 /* --mode replica */
	const char *ns;              /* --namespace (ns_len bytes) or NULL */
	size_t ns_len;
	const void *repl[4];         /* --replicate */
	size_t repl_len[4];
	size_t n_repl;
};

static uv_timer_t ticker;
static void tick(uv_timer_t *t)
{
	(void)t;
}

static void shapes_start(struct cluster *c, int n)
{
	memset(c, 0, sizeof *c);
	assert_int_equal(uv_loop_init(&c->loop), 0);
	/* Keeps UV_RUN_ONCE from blocking while the test polls. */
	uv_timer_init(&c->loop, &ticker);
	uv_timer_start(&ticker, tick, 5, 5);
	c->n = n;
	for (int i = 0; i < n; i++)
		c->dirs[i] = tu_tmpdir("shapes");
}

static void shapes_stop(struct cluster *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->nodes[i] != NULL)
			rumor_close(c->nodes[i], NULL, NULL);
	uv_close((uv_handle_t *)&ticker, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	for (int i = 0; i < c->n; i++) {
		tu_rmrf(c->dirs[i]);
		free(c->dirs[i]);
	}
}

/* Opens node i as shape s with seeds (the addresses of nodes seed[0..n)
 * of c, -1 ends the list early). Fails the test on error. */
static void shape_open(struct cluster *c, int i, const struct shape *s,
		       const int *seed, size_t n_seed)
{
	const char *peers[MAX_NODES];
	struct rumor_options o;
	size_t k;

	for (k = 0; k < n_seed; k++)
		peers[k] = c->addrs[seed[k]];
	node_options(c, i, peers, n_seed, &o);
	o.mode = s->replica ? RUMOR_MODE_REPLICA : RUMOR_MODE_PEER;
	if (s->ns != NULL) {
		o.namespace_prefix = s->ns;
		o.namespace_len = s->ns_len;
	}
	o.replicate = s->repl;
	o.replicate_len = s->repl_len;
	o.n_replicate = s->n_repl;
	if (open_node_with(c, i, &o) != 0)
		fail_msg("open node %d", i);
}

/* ------------------------------------------------------------ data */

/* Binary data: a key and a value given with their lengths. */
struct kv {
	const char *key;
	size_t key_len;
	const char *value;          /* NULL: absent */
	size_t value_len;
};
#define KV(k, v) {(k), sizeof(k) - 1, (v), sizeof(v) - 1}

static int node_holds(struct rumor *n, const struct kv *kv)
{
	void *v = NULL;
	size_t len;
	int rv = rumor_get(n, kv->key, kv->key_len, &v, &len);
	int ok = kv->value == NULL ? rv == RUMOR_ENOTFOUND
				   : rv == 0 && len == kv->value_len &&
					     memcmp(v, kv->value, len) == 0;

	rumor_free(v);
	return ok;
}

struct holds {
	struct cluster *c;
	const int *nodes;            /* which nodes, -1 ends */
	const struct kv *kv;
	size_t n_kv;
};

static void holds_step(void *arg)
{
	struct holds *h = arg;

	run_once(h->c);
}

static int holds_all(void *arg)
{
	struct holds *h = arg;

	for (const int *i = h->nodes; *i >= 0; i++)
		for (size_t k = 0; k < h->n_kv; k++)
			if (!node_holds(h->c->nodes[*i], &h->kv[k]))
				return 0;
	return 1;
}

static void hex(const void *p, size_t len, char *out, size_t cap)
{
	const unsigned char *b = p;
	size_t o = 0;

	for (size_t i = 0; i < len && o + 3 <= cap; i++, o += 2)
		snprintf(out + o, 3, "%02x", b[i]);
	out[o] = '\0';
}

/* Polls until every listed node holds every kv (as given; absent for a
 * NULL value), or fails after DEADLINE_MS naming the first miss. */
static void wait_hold(struct cluster *c, const int *nodes,
		      const struct kv *kv, size_t n_kv)
{
	struct holds h = {c, nodes, kv, n_kv};
	char key[64];

	if (tu_wait_for(holds_all, holds_step, &h, DEADLINE_MS))
		return;
	for (const int *i = nodes; *i >= 0; i++)
		for (size_t k = 0; k < n_kv; k++)
			if (!node_holds(c->nodes[*i], &kv[k])) {
				hex(kv[k].key, kv[k].key_len, key,
				    sizeof key);
				fail_msg("node %d does not hold key %s as "
					 "expected", *i, key);
			}
}

static void put_all(struct rumor *n, const struct kv *kv, size_t n_kv)
{
	for (size_t k = 0; k < n_kv; k++)
		if (kv[k].value != NULL)
			assert_int_equal(rumor_put(n, kv[k].key, kv[k].key_len,
						   kv[k].value,
						   kv[k].value_len), 0);
}

/* Every key of a node, each checked against the allowed prefixes. */
struct scan_check {
	const struct kv *allowed;    /* prefixes as keys */
	size_t n_allowed;
	size_t keys, outside;
};

static int scan_check_cb(void *arg, const void *key, size_t key_len,
			 const void *value, size_t value_len)
{
	struct scan_check *s = arg;
	size_t i;

	(void)value;
	(void)value_len;
	s->keys++;
	for (i = 0; i < s->n_allowed; i++)
		if (key_len >= s->allowed[i].key_len &&
		    memcmp(key, s->allowed[i].key, s->allowed[i].key_len) == 0)
			return 0;
	s->outside++;
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NODES(...) ((const int[]){__VA_ARGS__, -1})

/* Binary keys and values every shape carries: 0x00 and 0xff inside,
 * at the start and at the end. */
static const struct kv binary[] = {
	KV("\x00", "\x00"),
	KV("\xff\xff", "\xff\x00\xff"),
	KV("k\x00mid", "v\x00\x01\xfe\xff"),
	KV("plain", ""),
};

/* ------------------------------------------------------------ tests */

/* Master in the middle: writes go to the writer, reads are balanced
 * over replicas that refuse writes. */
static void test_a_writer_with_three_replicas(void **state)
{
	static const struct shape writer = {0}, replica = {.replica = 1};
	struct cluster c;
	const int seed_w[] = {0};

	(void)state;
	shapes_start(&c, 4);
	shape_open(&c, 0, &writer, NULL, 0);
	for (int i = 1; i <= 3; i++)
		shape_open(&c, i, &replica, seed_w, 1);
	put_all(c.nodes[0], binary, N(binary));
	wait_hold(&c, NODES(0, 1, 2, 3), binary, N(binary));
	/* A change and a delete reach them too. */
	{
		const struct kv later[] = {KV("\x00", "again"),
					   {"plain", 5, NULL, 0}};

		assert_int_equal(rumor_put(c.nodes[0], "\x00", 1, "again", 5),
				 0);
		assert_int_equal(rumor_del(c.nodes[0], "plain", 5), 0);
		wait_hold(&c, NODES(0, 1, 2, 3), later, N(later));
	}
	for (int i = 1; i <= 3; i++) {
		const struct rumor_op op = {"r", 1, "x", 1, 0};

		assert_int_equal(rumor_put(c.nodes[i], "r", 1, "x", 1),
				 RUMOR_EREFUSED);
		assert_non_null(strstr(rumor_errmsg(c.nodes[i]), "replica"));
		assert_int_equal(rumor_del(c.nodes[i], "\x00", 1),
				 RUMOR_EREFUSED);
		assert_int_equal(rumor_write(c.nodes[i], &op, 1),
				 RUMOR_EREFUSED);
	}
	/* The refused writes went nowhere: a last write on the writer
	 * arrives, and the replicas still hold no "r" and the old "\0". */
	{
		const struct kv after[] = {KV("last", "1"), {"r", 1, NULL, 0},
					   KV("\x00", "again")};

		assert_int_equal(rumor_put(c.nodes[0], "last", 4, "1", 1), 0);
		wait_hold(&c, NODES(0, 1, 2, 3), after, N(after));
	}
	shapes_stop(&c);
}

/* writer -> R1 -> R2: R2 knows only R1, and the writer is closed before
 * R2 opens, so everything R2 gets, it gets from a replica. */
static void test_a_replica_fed_only_by_a_replica(void **state)
{
	static const struct shape writer = {0}, replica = {.replica = 1};
	struct cluster c;
	const int seed_w[] = {0}, seed_r1[] = {1};

	(void)state;
	shapes_start(&c, 3);
	shape_open(&c, 0, &writer, NULL, 0);
	shape_open(&c, 1, &replica, seed_w, 1);
	put_all(c.nodes[0], binary, N(binary));
	wait_hold(&c, NODES(1), binary, N(binary));
	close_node(&c, 0);
	shape_open(&c, 2, &replica, seed_r1, 1);
	wait_hold(&c, NODES(2), binary, N(binary));
	/* The writer back: a new write flows writer -> R1 -> R2 (R2 may
	 * now learn of the writer by gossip; the chain is proven above). */
	shape_open(&c, 0, &writer, seed_r1, 1);
	{
		const struct kv more[] = {KV("\xff", "tail\x00")};

		put_all(c.nodes[0], more, 1);
		wait_hold(&c, NODES(1, 2), more, 1);
	}
	assert_int_equal(rumor_put(c.nodes[2], "x", 1, "y", 1),
			 RUMOR_EREFUSED);
	shapes_stop(&c);
}

/* Many masters, one slave: W1 under "a/", W2 under the binary prefix
 * 0x00 0xff, W3 under "c/"; A replicates "a/" and 0x00 0xff only; F is
 * a full peer. A holds exactly the union, F everything. */
enum { W1, W2, W3, F, A };

static void test_prefixed_writers_aggregate_into_one_replica(void **state)
{
	static const struct shape w1 = {.ns = "a/", .ns_len = 2},
				  w2 = {.ns = "\x00\xff", .ns_len = 2},
				  w3 = {.ns = "c/", .ns_len = 2},
				  full = {0},
				  agg = {.replica = 1,
					 .repl = {"a/", "\x00\xff"},
					 .repl_len = {2, 2}, .n_repl = 2};
	static const struct kv a_keys[] = {
		KV("a/", "the prefix itself"), KV("a/1", "\x00\xff"),
		KV("a/\x00", "x"), KV("a/\xff", ""),
	};
	static const struct kv b_keys[] = {
		KV("\x00\xff", "prefix"), KV("\x00\xff\x00", "\xff"),
		KV("\x00\xff/k", "v\x00"),
	};
	static const struct kv c_keys[] = {
		KV("c/1", "one"), KV("c/\x00", "\x00"), KV("c/", "c"),
	};
	static const struct kv allowed[] = {KV("a/", ""), KV("\x00\xff", "")};
	struct cluster c;
	struct scan_check sc = {allowed, N(allowed), 0, 0};
	const int seed_f[] = {F};
	size_t k;

	(void)state;
	shapes_start(&c, 5);
	shape_open(&c, F, &full, NULL, 0);
	shape_open(&c, W1, &w1, seed_f, 1);
	shape_open(&c, W2, &w2, seed_f, 1);
	shape_open(&c, W3, &w3, seed_f, 1);
	/* The namespaces confine their writers. */
	assert_int_equal(rumor_put(c.nodes[W1], "c/x", 3, "1", 1),
			 RUMOR_EOUTSIDE);
	assert_int_equal(rumor_put(c.nodes[W2], "\x00", 1, "1", 1),
			 RUMOR_EOUTSIDE);
	/* c/ is on F before A exists: A's first exchange with F would bring
	 * it if nothing filtered. */
	put_all(c.nodes[W3], c_keys, N(c_keys));
	wait_hold(&c, NODES(F), c_keys, N(c_keys));
	shape_open(&c, A, &agg, seed_f, 1);
	put_all(c.nodes[W1], a_keys, N(a_keys));
	put_all(c.nodes[W2], b_keys, N(b_keys));
	wait_hold(&c, NODES(A, F, W1, W2, W3), a_keys, N(a_keys));
	wait_hold(&c, NODES(A, F, W1, W2, W3), b_keys, N(b_keys));
	wait_hold(&c, NODES(F, W1, W2, W3), c_keys, N(c_keys));
	/* A write on the full peer reaches the full ones, not A. */
	assert_int_equal(rumor_put(c.nodes[F], "f/1", 3, "from F", 6), 0);
	{
		const struct kv f_key[] = {KV("f/1", "from F")};

		wait_hold(&c, NODES(W1, W2, W3), f_key, 1);
	}
	/* One more a/ change after F's write: once A has it, A has had
	 * every chance to take c/ and f/ keys too. */
	assert_int_equal(rumor_put(c.nodes[W1], "a/last", 6, "1", 1), 0);
	{
		const struct kv last[] = {KV("a/last", "1")};

		wait_hold(&c, NODES(A), last, 1);
	}
	assert_int_equal(rumor_scan(c.nodes[A], NULL, 0, scan_check_cb, &sc),
			 0);
	assert_int_equal(sc.outside, 0);
	assert_int_equal(sc.keys, N(a_keys) + N(b_keys) + 1);
	for (k = 0; k < N(c_keys); k++) {
		const struct kv gone = {c_keys[k].key, c_keys[k].key_len, NULL,
					0};

		assert_true(node_holds(c.nodes[A], &gone));
	}
	/* The aggregate is a replica: no writes, inside its prefixes or
	 * not. */
	assert_int_equal(rumor_put(c.nodes[A], "a/2", 3, "x", 1),
			 RUMOR_EREFUSED);
	shapes_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_writer_with_three_replicas),
		cmocka_unit_test(test_a_replica_fed_only_by_a_replica),
		cmocka_unit_test(test_prefixed_writers_aggregate_into_one_replica),
	};

	return cmocka_run_group_tests_name("shapes", tests, NULL, NULL);
}
