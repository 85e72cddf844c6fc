/* SPDX-License-Identifier: MIT */
/* nodes_fixture: see nodes_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/node_ctl.h"
#include "tests/integration/nodes_fixture.h"
#include "tests/lib/testutil.h"

void run_once(struct cluster *c)
{
	uv_run(&c->loop, UV_RUN_ONCE);
}

/* Keeps the loop from blocking forever in UV_RUN_ONCE while we poll. */
static uv_timer_t ticker;
static void tick(uv_timer_t *t)
{
	(void)t;
}

void node_options(struct cluster *c, int i, const char *const *peers,
		  size_t n_peers, struct rumor_options *o)
{
	rumor_options_init(o);
	o->data_dir = c->dirs[i];
	o->loop = &c->loop;
	o->listen = "127.0.0.1:0";
	o->no_multicast = 1;
	o->peers = peers;
	o->n_peers = n_peers;
	o->interval_min_ms = 20;
	o->interval_max_ms = 200;
	o->catchup_wait_ms = 0;
}

int open_node_with(struct cluster *c, int i, const struct rumor_options *o)
{
	struct ctl_status st;
	char msg[RUMOR_ERRMSG_MAX];
	int rv;

	rv = rumor_open(&c->nodes[i], o, msg, sizeof msg);
	if (rv != 0) {
		print_error("open node %d: %s\n", i, msg);
		return rv;
	}
	node_get_status(c->nodes[i], &st);
	snprintf(c->addrs[i], sizeof c->addrs[i], "%.63s", st.listen);
	return 0;
}

int open_node(struct cluster *c, int i, const char *const *peers,
		     size_t n_peers)
{
	struct rumor_options o;

	node_options(c, i, peers, n_peers, &o);
	return open_node_with(c, i, &o);
}

void close_node(struct cluster *c, int i)
{
	rumor_close(c->nodes[i], NULL, NULL);
	c->nodes[i] = NULL;
	/* Let the handles close. */
	uv_run(&c->loop, UV_RUN_NOWAIT);
	uv_run(&c->loop, UV_RUN_NOWAIT);
}

/* Node 0 first; every other node has node 0 (and, for a chain, its
 * predecessor) as seed. */
void cluster_start(struct cluster *c, int n)
{
	const char *seed[1];
	int i;

	memset(c, 0, sizeof *c);
	assert_int_equal(uv_loop_init(&c->loop), 0);
	uv_timer_init(&c->loop, &ticker);
	uv_timer_start(&ticker, tick, 5, 5);
	c->n = n;
	for (i = 0; i < n; i++)
		c->dirs[i] = tu_tmpdir("nodes");
	assert_int_equal(open_node(c, 0, NULL, 0), 0);
	for (i = 1; i < n; i++) {
		seed[0] = c->addrs[0];
		assert_int_equal(open_node(c, i, seed, 1), 0);
	}
}

void cluster_stop(struct cluster *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->nodes[i] != NULL)
			rumor_close(c->nodes[i], NULL, NULL);
	uv_close((uv_handle_t *)&ticker, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	for (i = 0; i < c->n; i++) {
		tu_rmrf(c->dirs[i]);
		free(c->dirs[i]);
	}
}


void step(void *arg)
{
	struct want *w = arg;

	run_once(w->c);
}

int everyone_has(void *arg)
{
	struct want *w = arg;
	int i;

	for (i = 0; i < w->c->n; i++) {
		void *v = NULL;
		size_t len;
		int rv = rumor_get(w->c->nodes[i], w->key, strlen(w->key), &v,
				   &len);
		int ok = w->value == NULL
				 ? rv == RUMOR_ENOTFOUND
				 : rv == 0 && len == strlen(w->value) &&
					   memcmp(v, w->value, len) == 0;
		rumor_free(v);
		if (!ok)
			return 0;
	}
	return 1;
}

void wait_everyone_has(struct cluster *c, const char *key,
			      const char *value)
{
	struct want w = {c, key, value};

	if (!tu_wait_for(everyone_has, step, &w, DEADLINE_MS))
		fail_msg("key %s did not reach every node as %s", key,
			 value ? value : "(absent)");
}

