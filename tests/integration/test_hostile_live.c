/* SPDX-License-Identifier: MIT */
/*
 * A hostile member against the live stream (src/sync/live.c), on the
 * simulator: IHAVEs for thousands of origins it never sends cost the node
 * a bounded set, one GRAFT frame per graft timeout and one round at a
 * time, and the honest nodes go on replicating live.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rumor.h"
#include "sync/sync.h"
#include "tests/integration/hostile_fixture.h"
#include "tests/lib/testutil.h"

#define FAKE_ORIGINS 3000u
#define FLOOD_MS 2000u
#define EVERY_MS 10u

static void fake_origin(uint8_t o[WIRE_ORIGIN_BYTES], uint32_t i)
{
	memset(o, 0xe7, WIRE_ORIGIN_BYTES);
	memcpy(o, &i, sizeof i);
}

struct holds {
	struct hostile *h;
	uint8_t key[SIMC_KEY_LEN];
};

static int others_hold(void *arg)
{
	struct holds *w = arg;

	return simc_holds_winner(&w->h->c, 1, w->key, sizeof w->key) &&
	       simc_holds_winner(&w->h->c, 2, w->key, sizeof w->key);
}

static void test_an_ihave_flood_is_bounded(void **state)
{
	static uint8_t origins[FAKE_ORIGINS][WIRE_ORIGIN_BYTES];
	static uint64_t seqs[FAKE_ORIGINS];
	struct hostile *h = *state;
	struct rumor *n0 = h->c.nodes[0].r;
	struct rumor_stats before, after;
	struct holds w = { h, { 0 } };
	uint64_t t0, digests0, sent = 0;
	uint32_t i;

	for (i = 0; i < FAKE_ORIGINS; i++) {
		fake_origin(origins[i], i);
		seqs[i] = 1000 + i;
	}
	rumor_stats_init(&before);
	assert_int_equal(rumor_stats(h->c.nodes[1].r, &before), 0);
	digests0 = h->e->received[WIRE_DIGEST];
	t0 = sim_now(h->c.sim);
	while (sim_now(h->c.sim) < t0 + FLOOD_MS) {
		assert_int_equal(evil_send_hwms(h->e, WIRE_IHAVE, 0,
			(const uint8_t (*)[WIRE_ORIGIN_BYTES])origins, seqs,
			FAKE_ORIGINS), 0);
		sent++;
		simc_run_until(&h->c, sim_now(h->c.sim) + EVERY_MS);
	}
	/* Honest replication goes on, live, in the flood. */
	simc_key(1, w.key);
	assert_int_equal(rumor_put(n0, w.key, sizeof w.key, "v", 1), 0);
	assert_true(simc_run_cond(&h->c, others_hold, &w,
				  sim_now(h->c.sim) + 1000));
	simc_run_until(&h->c, sim_now(h->c.sim) + 500);
	rumor_stats_init(&after);
	assert_int_equal(rumor_stats(h->c.nodes[1].r, &after), 0);
	assert_true(after.live_received > before.live_received);
	/* It stays a member: IHAVE is the protocol. */
	assert_false(h->e->closed);
	/* At most one GRAFT frame per graft timeout (each listing at most
	 * the tracked origins), however many IHAVE frames came. */
	assert_true(h->e->received[WIRE_GRAFT] <=
		    (FLOOD_MS + 1500) / SYNC_LIVE_GRAFT_MS + 1);
	/* Grafts ask for rounds, one at a time: the adversary answers none,
	 * so the node started at most one more. */
	assert_true(h->e->received[WIRE_DIGEST] - digests0 <= 2);
	rumor_stats_init(&after);
	assert_int_equal(rumor_stats(n0, &after), 0);
	print_message("IHAVE flood: %llu frames of %u origins, %llu GRAFT "
		      "frames back (%llu origins grafted)\n",
		      (unsigned long long)sent, FAKE_ORIGINS,
		      (unsigned long long)h->e->received[WIRE_GRAFT],
		      (unsigned long long)after.live_grafts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_an_ihave_flood_is_bounded,
						hostile_setup,
						hostile_teardown),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
