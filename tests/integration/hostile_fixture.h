/* SPDX-License-Identifier: MIT */
/*
 * hostile_fixture: a simulated cluster with an adversary (tests/lib/
 * sim_evil.h) dialed to node 0, for test_hostile and test_hostile_live.
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
