/* SPDX-License-Identifier: MIT */
/*
 * hostile_fixture: a simulated cluster with an adversary (tests/lib/
 * sim_evil.h) dialed to node 0, for test_hostile and test_hostile_live;
 * the cluster alone (adversaries dialed by the test) for
 * test_hostile_strong and test_why.
 */
#ifndef RUMOR_HOSTILE_FIXTURE_H
#define RUMOR_HOSTILE_FIXTURE_H

#include <stdint.h>

#include "crypto/identity.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/sim_evil.h"

#define NODES 3

struct hostile {
	struct simc c;
	uint8_t netkey[NETWORK_KEY_BYTES];
	struct evil *e;
};

/* The timings of a hostile world: n nodes found by seeds and
 * extra_hosts hosts after them for adversaries; rounds every 50 ms to
 * 1 s, suspect after 5 s, gone after 30 s. */
void hostile_params(struct simc_params *p, int n, int extra_hosts);
/* Begins c as p says (seed; prog names the replay line and the temp
 * dir), starts its first started nodes, runs 5 s of virtual time and
 * loads the network key into netkey. Fails the test on error. */
void hostile_start(struct simc *c, uint8_t netkey[NETWORK_KEY_BYTES],
		   const struct simc_params *p, int started, uint64_t seed,
		   const char *prog);
/* A world of n nodes found by seeds, the first started of them all
 * started and connected, and an adversary on the host after the nodes
 * dialed to node 0 (HELLO sent), with a key pair from key_seed. */
struct hostile *hostile_begin(struct hostile *h, int n, int started,
			      uint64_t seed, uint64_t key_seed);
/* cmocka setup: NODES nodes, all started, and the adversary dialed to
 * node 0; teardown: frees both. */
int hostile_setup(void **state);
int hostile_teardown(void **state);

#endif
