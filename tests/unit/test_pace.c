/* SPDX-License-Identifier: MIT */
/* test_pace: write velocity, interval bounds, kicks and peers per round,
 * all on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/pace.h"

static struct pace_config config(void)
{
	struct pace_config c;

	pace_config_default(&c);
	c.min_interval_ms = 100;
	c.max_interval_ms = 10000;
	c.kick_delay_ms = 10;
	c.half_life_ms = 1000;
	c.ref_velocity = 1.0;
	c.peers_min = 1;
	c.peers_max = 3;
	return c;
}

/* Writes at a steady rate for a while: rate per second, every step ms. */
static uint64_t write_steadily(struct pace *p, uint64_t now, double rate,
			       uint64_t step_ms, uint64_t duration_ms)
{
	uint64_t end = now + duration_ms;
	double owed = 0;

	while (now < end) {
		now += step_ms;
		owed += rate * (double)step_ms / 1000.0;
		pace_writes(p, now, (uint64_t)owed);
		owed -= (double)(uint64_t)owed;
	}
	return now;
}

static void test_idle_node_uses_the_max_interval(void **state)
{
	struct pace_config c = config();
	struct pace p;

	(void)state;
	assert_int_equal(pace_init(&p, &c, 5000, NULL), 0);
	assert_true(pace_round_due(&p, 5000));
	assert_true(pace_velocity(&p, 5000) == 0.0);
	assert_int_equal(pace_interval_ms(&p, 5000), 10000);
	assert_int_equal(pace_peers_per_round(&p, 5000), 1);
	pace_round_started(&p, 5000);
	assert_int_equal(pace_next_round_ms(&p), 15000);
	assert_false(pace_round_due(&p, 14999));
	assert_true(pace_round_due(&p, 15000));
}

static void test_velocity_tracks_a_steady_write_rate(void **state)
{
	struct pace_config c = config();
	struct pace p;
	uint64_t now;
	double v;

	(void)state;
	assert_int_equal(pace_init(&p, &c, 0, NULL), 0);
	now = write_steadily(&p, 0, 200.0, 10, 20000);
	v = pace_velocity(&p, now);
	assert_true(v > 180.0 && v < 220.0);
	/* One half-life later with no writes: about half. */
	v = pace_velocity(&p, now + 1000);
	assert_true(v > 90.0 && v < 110.0);
	/* Long idle: back to (nearly) zero and the max interval. */
	assert_true(pace_velocity(&p, now + 60000) < 0.001);
	assert_int_equal(pace_interval_ms(&p, now + 60000), 10000);
}

static void test_interval_shrinks_as_velocity_rises(void **state)
{
	struct pace_config c = config();
	struct pace slow, medium, fast;
	uint64_t t1, t2, t3, i1, i2, i3;

	(void)state;
	assert_int_equal(pace_init(&slow, &c, 0, NULL), 0);
	assert_int_equal(pace_init(&medium, &c, 0, NULL), 0);
	assert_int_equal(pace_init(&fast, &c, 0, NULL), 0);
	t1 = write_steadily(&slow, 0, 0.5, 100, 10000);
	t2 = write_steadily(&medium, 0, 5.0, 100, 10000);
	t3 = write_steadily(&fast, 0, 5000.0, 10, 10000);
	i1 = pace_interval_ms(&slow, t1);
	i2 = pace_interval_ms(&medium, t2);
	i3 = pace_interval_ms(&fast, t3);
	assert_true(i1 < 10000);
	assert_true(i2 < i1);
	assert_true(i3 < i2);
	/* Clamped at the fast bound, never below. */
	assert_int_equal(i3, 100);
}

static void test_peers_per_round_grow_with_velocity(void **state)
{
	struct pace_config c = config();
	struct pace p;
	uint64_t now;

	(void)state;
	assert_int_equal(pace_init(&p, &c, 0, NULL), 0);
	assert_int_equal(pace_peers_per_round(&p, 0), 1);
	now = write_steadily(&p, 0, 50.0, 10, 10000);
	assert_int_equal(pace_peers_per_round(&p, now), 2);
	now = write_steadily(&p, now, 5000.0, 10, 10000);
	assert_int_equal(pace_peers_per_round(&p, now), 3);
	now = write_steadily(&p, now, 500000.0, 10, 10000);
	assert_int_equal(pace_peers_per_round(&p, now), 3);
}

static void test_single_write_on_idle_node_kicks_a_round_soon(void **state)
{
	struct pace_config c = config();
	struct pace p;

	(void)state;
	assert_int_equal(pace_init(&p, &c, 0, NULL), 0);
	pace_round_started(&p, 0);
	assert_int_equal(pace_next_round_ms(&p), 10000);
	/* Long after the last round: kick_delay after the write. */
	pace_writes(&p, 3000, 1);
	assert_int_equal(pace_next_round_ms(&p), 3010);
	assert_false(pace_round_due(&p, 3009));
	assert_true(pace_round_due(&p, 3010));
}

static void test_kick_never_beats_the_fast_interval(void **state)
{
	struct pace_config c = config();
	struct pace p;
	uint64_t t;

	(void)state;
	assert_int_equal(pace_init(&p, &c, 0, NULL), 0);
	pace_round_started(&p, 1000);
	/* Writes right after a round: the next waits for min_interval. */
	pace_writes(&p, 1001, 1);
	assert_int_equal(pace_next_round_ms(&p), 1100);
	/* A burst: still one round per min_interval at most. */
	for (t = 1002; t < 1099; t++)
		pace_writes(&p, t, 3);
	assert_int_equal(pace_next_round_ms(&p), 1100);
	pace_round_started(&p, 1100);
	assert_true(pace_next_round_ms(&p) >= 1200);
}

static void test_a_kick_never_delays_a_due_round(void **state)
{
	struct pace_config c = config();
	struct pace p;

	(void)state;
	assert_int_equal(pace_init(&p, &c, 0, NULL), 0);
	/* Before the first round the round is due at once; a write keeps it
	 * due. */
	pace_writes(&p, 5, 1);
	assert_true(pace_round_due(&p, 5));
	assert_int_equal(pace_next_round_ms(&p), 0);
}

static void test_clock_going_backwards_changes_nothing(void **state)
{
	struct pace_config c = config();
	struct pace p;
	double v;

	(void)state;
	assert_int_equal(pace_init(&p, &c, 10000, NULL), 0);
	pace_writes(&p, 10000, 10);
	v = pace_velocity(&p, 10000);
	assert_true(pace_velocity(&p, 9000) == v);
	pace_writes(&p, 9000, 0);
	assert_true(pace_velocity(&p, 10000) == v);
}

static void test_bad_config_is_refused(void **state)
{
	struct pace_config c;
	struct pace p;
	struct err err = { 0 };

	(void)state;
	c = config();
	c.min_interval_ms = 0;
	assert_int_equal(pace_init(&p, &c, 0, &err), RUMOR_EINVAL);
	assert_true(err.msg[0] != '\0');
	c = config();
	c.max_interval_ms = 50;
	assert_int_equal(pace_init(&p, &c, 0, NULL), RUMOR_EINVAL);
	c = config();
	c.half_life_ms = 0;
	assert_int_equal(pace_init(&p, &c, 0, NULL), RUMOR_EINVAL);
	c = config();
	c.ref_velocity = 0;
	assert_int_equal(pace_init(&p, &c, 0, NULL), RUMOR_EINVAL);
	c = config();
	c.peers_max = 0;
	assert_int_equal(pace_init(&p, &c, 0, NULL), RUMOR_EINVAL);
	c = config();
	c.kick_delay_ms = 20000;
	assert_int_equal(pace_init(&p, &c, 0, NULL), RUMOR_EINVAL);
	assert_int_equal(pace_init(&p, NULL, 0, NULL), 0);
	assert_int_equal(pace_interval_ms(&p, 0), PACE_MAX_INTERVAL_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_node_uses_the_max_interval),
		cmocka_unit_test(test_velocity_tracks_a_steady_write_rate),
		cmocka_unit_test(test_interval_shrinks_as_velocity_rises),
		cmocka_unit_test(test_peers_per_round_grow_with_velocity),
		cmocka_unit_test(test_single_write_on_idle_node_kicks_a_round_soon),
		cmocka_unit_test(test_kick_never_beats_the_fast_interval),
		cmocka_unit_test(test_a_kick_never_delays_a_due_round),
		cmocka_unit_test(test_clock_going_backwards_changes_nothing),
		cmocka_unit_test(test_bad_config_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
