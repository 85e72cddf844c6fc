/* SPDX-License-Identifier: MIT */
/* hostile_fixture: see hostile_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/integration/hostile_fixture.h"
#include "tests/lib/testutil.h"

void hostile_params(struct simc_params *p, int n, int extra_hosts)
{
	memset(p, 0, sizeof *p);
	p->n = n;
	p->extra_hosts = extra_hosts;
	p->interval_min_ms = 50;
	p->interval_max_ms = 1000;
	p->suspect_after_ms = 5000;
	p->gone_after_ms = 30000;
}

void hostile_start(struct simc *c, uint8_t netkey[NETWORK_KEY_BYTES],
		   const struct simc_params *p, int started, uint64_t seed,
		   const char *prog)
{
	struct err err;
	char *base;
	int i;

	base = tu_tmpdir(prog);
	tu_rmrf(base);
	simc_begin(c, seed, base, prog, p);
	free(base);
	for (i = 0; i < started; i++)
		simc_start(c, i);
	simc_run_until(c, sim_now(c->sim) + 5000);
	err_clear(&err);
	assert_int_equal(network_key_load(c->netkey_path, netkey, &err), 0);
}

/* A world of n nodes found by seeds, the first started of them all
 * started and connected, and an adversary on the host after the nodes
 * dialed to node 0 (HELLO sent), with a key pair from key_seed. */
struct hostile *hostile_begin(struct hostile *h, int n, int started,
			      uint64_t seed, uint64_t key_seed)
{
	struct simc_params p;

	memset(h, 0, sizeof *h);
	hostile_params(&p, n, 1);
	hostile_start(&h->c, h->netkey, &p, started, seed, "test_hostile");
	assert_int_equal(evil_dial(&h->e, h->c.sim, n, 0, SIMC_PORT,
				   h->netkey, key_seed), 0);
	assert_true(evil_wait_open(h->e, sim_now(h->c.sim) + 5000));
	return h;
}

/* NODES nodes, all started, and the adversary dialed to node 0. */
int hostile_setup(void **state)
{
	static struct hostile h;

	*state = hostile_begin(&h, NODES, NODES, 11, 1);
	return 0;
}

int hostile_teardown(void **state)
{
	struct hostile *h = *state;

	evil_free(h->e);
	simc_end(&h->c);
	return 0;
}

