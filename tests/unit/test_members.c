/* SPDX-License-Identifier: MIT */
/* Tests of discovery/members: the member table, on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "discovery/members.h"
#include "tests/unit/test_members_fixture.h"

static void test_member_moves_alive_suspect_gone_forgotten(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES];

	add(f, 1, MEMBER_VIA_MULTICAST, T0);
	assert_int_equal(state_of(f, 1), MEMBER_ALIVE);
	assert_int_equal(members_tick(&f->t, T0 + SUSPECT - 1), 0);
	assert_int_equal(state_of(f, 1), MEMBER_ALIVE);
	assert_int_equal(members_tick(&f->t, T0 + SUSPECT), 1);
	assert_int_equal(state_of(f, 1), MEMBER_SUSPECT);
	assert_int_equal(members_tick(&f->t, T0 + GONE - 1), 0);
	assert_int_equal(members_tick(&f->t, T0 + GONE), 1);
	assert_int_equal(state_of(f, 1), MEMBER_GONE);
	assert_int_equal(members_count_state(&f->t, MEMBER_GONE), 1);
	assert_int_equal(members_tick(&f->t, T0 + FORGET - 1), 0);
	assert_int_equal(members_tick(&f->t, T0 + FORGET), 1);
	id_of(id, 1);
	assert_null(members_find(&f->t, id));
	assert_int_equal(members_count(&f->t), 0);
	assert_int_equal(f->changes, 3);
	assert_int_equal(f->forgotten, 1);
}

static void test_a_long_silence_skips_straight_to_gone(void **state)
{
	struct fixture *f = *state;

	add(f, 1, MEMBER_VIA_SEED, T0);
	assert_int_equal(members_tick(&f->t, T0 + GONE + 5), 1);
	assert_int_equal(state_of(f, 1), MEMBER_GONE);
}

static void test_contact_brings_any_state_back_alive(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES];

	id_of(id, 1);
	add(f, 1, MEMBER_VIA_MULTICAST, T0);
	members_tick(&f->t, T0 + SUSPECT);
	assert_int_equal(members_mark_contact(&f->t, id, T0 + SUSPECT + 1), 0);
	assert_int_equal(state_of(f, 1), MEMBER_ALIVE);
	/* The timers restart from the contact. */
	assert_int_equal(members_tick(&f->t, T0 + 2 * SUSPECT), 0);
	members_tick(&f->t, T0 + SUSPECT + 1 + GONE);
	assert_int_equal(state_of(f, 1), MEMBER_GONE);
	add(f, 1, MEMBER_VIA_MULTICAST, T0 + 9000);
	assert_int_equal(state_of(f, 1), MEMBER_ALIVE);
	assert_int_equal(members_find(&f->t, id)->last_contact_ms, T0 + 9000);
	assert_int_equal(members_mark_contact(&f->t, (uint8_t[32]){ 9 }, T0),
			 RUMOR_ENOTFOUND);
}

static void test_sync_records_time_and_counts_as_contact(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES];
	const struct member *m;

	id_of(id, 1);
	add(f, 1, MEMBER_VIA_MULTICAST, T0);
	members_tick(&f->t, T0 + SUSPECT);
	assert_int_equal(members_mark_sync(&f->t, id, T0 + 1500), 0);
	assert_int_equal(members_set_lag(&f->t, id, 42), 0);
	assert_int_equal(members_set_connected(&f->t, id, true), 0);
	m = members_find(&f->t, id);
	assert_int_equal(m->state, MEMBER_ALIVE);
	assert_int_equal(m->last_sync_ms, T0 + 1500);
	assert_int_equal(m->lag, 42);
	assert_true(m->connected);
	/* Gone also means not connected any more. */
	members_tick(&f->t, T0 + 1500 + GONE);
	assert_false(members_find(&f->t, id)->connected);
}

static void test_gossip_cannot_resurrect_a_gone_member(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES];

	id_of(id, 1);
	add(f, 1, MEMBER_VIA_MULTICAST, T0);
	members_tick(&f->t, T0 + GONE);
	assert_int_equal(members_upsert(&f->t, id, NULL, 0, MEMBER_VIA_GOSSIP,
					T0 + GONE + 1, NULL),
			 MEMBERS_IGNORED);
	/* A new address is kept for the redials, nothing else changes. */
	assert_int_equal(members_upsert(&f->t, id, "10.9.9.9", 7001,
					MEMBER_VIA_GOSSIP, T0 + GONE + 1, NULL),
			 MEMBERS_UPDATED);
	assert_int_equal(state_of(f, 1), MEMBER_GONE);
	assert_int_equal(members_find(&f->t, id)->last_contact_ms, T0);
	assert_int_equal(members_find(&f->t, id)->n_addrs, 2);
	assert_int_equal(members_tick(&f->t, T0 + FORGET), 1);
	assert_null(members_find(&f->t, id));
}

static void test_redials_take_each_address_in_turn(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES], out[1][MEMBER_ID_BYTES];
	uint64_t now = T0 + GONE;
	int seen[2] = {0, 0};

	id_of(id, 1);
	add(f, 1, MEMBER_VIA_SEED, T0);
	members_tick(&f->t, now);
	assert_int_equal(members_upsert(&f->t, id, "10.9.9.9", 7001,
					MEMBER_VIA_GOSSIP, now, NULL),
			 MEMBERS_UPDATED);
	for (int i = 0; i < 4; i++) {
		const struct member *m;

		assert_int_equal(members_redial(&f->t, now, 5, 1, out), 1);
		m = members_find(&f->t, id);
		assert_true(m->redial_addr < m->n_addrs);
		seen[m->redial_addr]++;
		now = m->next_dial_ms;
	}
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 2);
}

/* A gone member gossiped at an address it did not have (it came back on
 * another port) is redialed there at once, not after its backoff; an
 * address it had already does not cut the backoff short. */
static void test_a_new_address_makes_a_gone_member_due_at_once(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES], out[1][MEMBER_ID_BYTES];
	const struct member *m;
	uint64_t now = T0 + GONE;

	id_of(id, 1);
	add(f, 1, MEMBER_VIA_SEED, T0);
	members_tick(&f->t, now);
	assert_int_equal(members_redial(&f->t, now, 5, 1, out), 1);
	m = members_find(&f->t, id);
	assert_true(m->next_dial_ms > now + 1);
	/* The address it has: still waiting. */
	assert_int_equal(members_upsert(&f->t, id, m->addrs[0].host,
					m->addrs[0].port, MEMBER_VIA_GOSSIP,
					now + 1, NULL),
			 MEMBERS_UPDATED);
	assert_int_equal(members_redial(&f->t, now + 1, 5, 1, out), 0);
	/* A new one: due now, and dialed there. */
	assert_int_equal(members_upsert(&f->t, id, "10.9.9.9", 7001,
					MEMBER_VIA_GOSSIP, now + 1, NULL),
			 MEMBERS_UPDATED);
	assert_int_equal(members_redial(&f->t, now + 1, 5, 1, out), 1);
	m = members_find(&f->t, id);
	assert_string_equal(m->addrs[m->redial_addr].host, "10.9.9.9");
	assert_int_equal(m->addrs[m->redial_addr].port, 7001);
	assert_int_equal(m->state, MEMBER_GONE);
}

static void test_gossip_does_not_refresh_timers(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES];

	id_of(id, 1);
	add(f, 1, MEMBER_VIA_MULTICAST, T0);
	members_tick(&f->t, T0 + SUSPECT);
	/* Another node says it is alive, over and over: still suspect,
	 * then gone on our own clock. */
	for (uint64_t t = T0 + SUSPECT; t < T0 + GONE; t += 100)
		assert_int_equal(members_upsert(&f->t, id, "10.0.0.1", 7000,
						MEMBER_VIA_GOSSIP, t, NULL),
				 MEMBERS_UPDATED);
	assert_int_equal(state_of(f, 1), MEMBER_SUSPECT);
	assert_int_equal(members_find(&f->t, id)->last_contact_ms, T0);
	members_tick(&f->t, T0 + GONE);
	assert_int_equal(state_of(f, 1), MEMBER_GONE);
}

static void test_gossip_never_outranks_a_direct_address(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES];
	const struct member *m;

	id_of(id, 1);
	assert_int_equal(members_upsert(&f->t, id, "192.0.2.1", 7000,
					MEMBER_VIA_MULTICAST, T0, NULL),
			 MEMBERS_ADDED);
	for (int i = 0; i < 2 * MEMBER_ADDRS_MAX; i++) {
		char host[32];

		snprintf(host, sizeof host, "198.51.100.%d", i);
		members_upsert(&f->t, id, host, 7000, MEMBER_VIA_GOSSIP,
			       T0 + 100 + (uint64_t)i, NULL);
	}
	/* Gossip restating the direct address does not freshen it either. */
	members_upsert(&f->t, id, "192.0.2.1", 7000, MEMBER_VIA_GOSSIP,
		       T0 + 500, NULL);
	m = members_find(&f->t, id);
	assert_int_equal(m->n_addrs, MEMBER_ADDRS_MAX);
	assert_string_equal(m->addrs[0].host, "192.0.2.1");
	assert_int_equal(m->addrs[0].source, MEMBER_VIA_MULTICAST);
	assert_int_equal(m->addrs[0].learned_ms, T0);
	/* The freshest gossip came next. */
	assert_string_equal(m->addrs[1].host, "198.51.100.7");
	/* A newer direct address goes first. */
	members_upsert(&f->t, id, "192.0.2.2", 7000, MEMBER_VIA_PEER,
		       T0 + 600, NULL);
	assert_string_equal(m->addrs[0].host, "192.0.2.2");
	assert_string_equal(m->addrs[1].host, "192.0.2.1");
}

static void test_gossip_never_adds_our_own_id(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(members_upsert(&f->t, f->self, "10.0.0.1", 7000,
					MEMBER_VIA_GOSSIP, T0, NULL),
			 MEMBERS_IGNORED);
	assert_int_equal(members_upsert(&f->t, f->self, "10.0.0.1", 7000,
					MEMBER_VIA_MULTICAST, T0, NULL),
			 MEMBERS_IGNORED);
	assert_int_equal(members_count(&f->t), 0);
}

static void test_gossip_learned_member_times_out_unless_contacted(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES];
	const struct member *m;

	id_of(id, 7);
	assert_int_equal(members_upsert(&f->t, id, "10.0.0.7", 7000,
					MEMBER_VIA_GOSSIP, T0, NULL),
			 MEMBERS_ADDED);
	m = members_find(&f->t, id);
	assert_int_equal(m->learned_via, MEMBER_VIA_GOSSIP);
	assert_int_equal(m->last_contact_ms, 0);
	members_tick(&f->t, T0 + GONE);
	assert_int_equal(state_of(f, 7), MEMBER_GONE);
}

static void test_bad_addresses_are_refused_and_change_nothing(void **state)
{
	struct fixture *f = *state;
	uint8_t id[MEMBER_ID_BYTES];
	char longhost[MEMBER_HOST_MAX + 1];
	struct err e;

	id_of(id, 1);
	memset(longhost, 'a', sizeof longhost - 1);
	longhost[sizeof longhost - 1] = '\0';
	assert_int_equal(members_upsert(&f->t, id, longhost, 7000,
					MEMBER_VIA_SEED, T0, &e),
			 RUMOR_EINVAL);
	assert_int_equal(members_upsert(&f->t, id, "", 7000, MEMBER_VIA_SEED,
					T0, &e),
			 RUMOR_EINVAL);
	assert_int_equal(members_upsert(&f->t, id, "10.0.0.1", 0,
					MEMBER_VIA_SEED, T0, &e),
			 RUMOR_EINVAL);
	/* A host with a space or a newline (it would also break the
	 * member file). */
	assert_int_equal(members_upsert(&f->t, id, "a b", 7000,
					MEMBER_VIA_GOSSIP, T0, &e),
			 RUMOR_EINVAL);
	assert_int_equal(members_upsert(&f->t, id, "a\n", 7000,
					MEMBER_VIA_GOSSIP, T0, &e),
			 RUMOR_EINVAL);
	assert_int_equal(members_count(&f->t), 0);
}

static void test_full_table_evicts_gone_members_only(void **state)
{
	struct fixture *f = *state;
	struct members t;
	struct members_config c = { .max_members = 3,
				    .suspect_after_ms = SUSPECT,
				    .gone_after_ms = GONE,
				    .forget_after_ms = FORGET };
	uint8_t id[MEMBER_ID_BYTES];

	assert_int_equal(members_init(&t, f->self, &c, NULL), 0);
	for (int i = 1; i <= 3; i++) {
		id_of(id, i);
		assert_int_equal(members_upsert(&t, id, "10.0.0.1", 7000,
						MEMBER_VIA_MULTICAST, T0, NULL),
				 MEMBERS_ADDED);
	}
	id_of(id, 4);
	assert_int_equal(members_upsert(&t, id, "10.0.0.1", 7000,
					MEMBER_VIA_MULTICAST, T0, NULL),
			 RUMOR_ENOMEM);
	assert_int_equal(members_count(&t), 3);
	id_of(id, 2);
	assert_int_equal(members_mark_contact(&t, id, T0 + GONE - 1), 0);
	members_tick(&t, T0 + GONE);    /* 1 and 3 gone */
	/* Gossip never pushes out a member known first hand, gone or not. */
	id_of(id, 5);
	assert_int_equal(members_upsert(&t, id, "10.0.0.5", 7000,
					MEMBER_VIA_GOSSIP, T0 + GONE, NULL),
			 RUMOR_ENOMEM);
	id_of(id, 4);
	assert_int_equal(members_upsert(&t, id, "10.0.0.1", 7000,
					MEMBER_VIA_MULTICAST, T0 + GONE, NULL),
			 MEMBERS_ADDED);
	assert_int_equal(members_count(&t), 3);
	id_of(id, 2);
	assert_non_null(members_find(&t, id));
	members_free(&t);
}

static void test_timeouts_must_increase(void **state)
{
	struct fixture *f = *state;
	struct members t;
	struct members_config c = { .suspect_after_ms = 5000,
				    .gone_after_ms = 5000 };
	struct err e;

	assert_int_equal(members_init(&t, f->self, &c, &e), RUMOR_EINVAL);
	assert_non_null(strstr(e.msg, "increase"));
}

static void test_choice_covers_every_alive_member_within_n_rounds(void **state)
{
	struct fixture *f = *state;
	enum { N = 10, K = 3, ROUNDS = (N + K - 1) / K };
	uint8_t out[K][MEMBER_ID_BYTES];

	for (int i = 1; i <= N; i++)
		add(f, i, MEMBER_VIA_MULTICAST, T0);
	/* One more, gone: never chosen. */
	add(f, 99, MEMBER_VIA_MULTICAST, T0 - GONE);
	members_tick(&f->t, T0);
	assert_int_equal(state_of(f, 99), MEMBER_GONE);

	for (int pass = 0; pass < 5; pass++) {
		int seen[N + 1] = { 0 };

		for (int r = 0; r < ROUNDS; r++) {
			size_t n = members_choose(&f->t, K, out);

			assert_true(n == K || (r == ROUNDS - 1 && n > 0));
			for (size_t j = 0; j < n; j++) {
				int who = out[j][0] << 8 | out[j][1];

				assert_true(who >= 1 && who <= N);
				seen[who]++;
			}
		}
		/* Rounds 1..ROUNDS pick K each; the last one may wrap into
		 * the next cycle, so check coverage, not exact counts. */
		for (int i = 1; i <= N; i++)
			if (seen[i] == 0)
				fail_msg("pass %d: member %d not chosen in %d "
					 "rounds", pass, i, ROUNDS);
	}
}

static void test_choice_never_repeats_within_a_round(void **state)
{
	struct fixture *f = *state;
	uint8_t out[8][MEMBER_ID_BYTES];

	add(f, 1, MEMBER_VIA_MULTICAST, T0);
	add(f, 2, MEMBER_VIA_MULTICAST, T0);
	assert_int_equal(members_choose(&f->t, 8, out), 2);
	assert_memory_not_equal(out[0], out[1], MEMBER_ID_BYTES);
	assert_int_equal(members_choose(&f->t, 0, out), 0);
}

static void test_export_lists_gone_members_known_first_hand_last(
	void **state)
{
	struct fixture *f = *state;
	struct member_gossip g[8];
	uint8_t id[MEMBER_ID_BYTES];
	size_t n;

	add(f, 3, MEMBER_VIA_MULTICAST, T0 - GONE);     /* gone, contacted */
	add(f, 4, MEMBER_VIA_GOSSIP, T0 - GONE);        /* gone, by gossip */
	add(f, 1, MEMBER_VIA_MULTICAST, T0);            /* alive */
	add(f, 2, MEMBER_VIA_MULTICAST, T0 - SUSPECT);  /* suspect */
	members_tick(&f->t, T0);
	id_of(id, 4);
	assert_int_equal(members_find(&f->t, id)->state, MEMBER_GONE);
	n = members_export(&f->t, g, 8);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		int who = g[i].id[0] << 8 | g[i].id[1];

		/* Not gone first; the gone one we contacted last; the gone
		 * one we only heard of is not relayed. */
		assert_true(i < 2 ? who == 1 || who == 2 : who == 3);
		assert_int_equal(g[i].port, 7000);
	}
	assert_int_equal(members_export(&f->t, g, 2), 2);
	assert_true(g[0].id[1] != 3 && g[1].id[1] != 3);
	id_of(id, 3);
	assert_int_equal(members_find(&f->t, id)->state, MEMBER_GONE);
}

static void test_simultaneous_dial_rule_is_symmetric(void **state)
{
	uint8_t a[MEMBER_ID_BYTES], b[MEMBER_ID_BYTES];

	(void)state;
	for (int i = 0; i < 64; i++) {
		/* b differs from a in one byte, above or below it. */
		for (int j = 0; j < MEMBER_ID_BYTES; j++)
			a[j] = b[j] = (uint8_t)(i * 31 + j * 7);
		b[i % MEMBER_ID_BYTES] = (uint8_t)(a[i % MEMBER_ID_BYTES] +
						   1 + i % 200);
		/* Connection dialed by a: seen by a as dialed, by b as
		 * accepted. Both ends must agree, for both connections. */
		bool keep_ab_at_a = members_keep_connection(a, b, true);
		bool keep_ab_at_b = members_keep_connection(b, a, false);
		bool keep_ba_at_a = members_keep_connection(a, b, false);
		bool keep_ba_at_b = members_keep_connection(b, a, true);

		assert_true(keep_ab_at_a == keep_ab_at_b);
		assert_true(keep_ba_at_a == keep_ba_at_b);
		/* Exactly one of the two survives: the smaller id's dial. */
		assert_true(keep_ab_at_a != keep_ba_at_a);
		assert_true(keep_ab_at_a ==
			    (memcmp(a, b, MEMBER_ID_BYTES) < 0));
	}
}

/* ------------------------------------------------------------ redial */

static void test_gone_members_are_redialed_not_chosen(void **state)
{
	struct fixture *f = *state;
	uint8_t out[4][MEMBER_ID_BYTES], id[MEMBER_ID_BYTES];

	add(f, 1, MEMBER_VIA_SEED, T0);
	add(f, 2, MEMBER_VIA_SEED, T0);
	/* Nothing to redial while they are alive. */
	assert_int_equal(members_redial(&f->t, T0, 1, 4, out), 0);
	members_mark_contact(&f->t, member_of(f, 2)->id, T0 + GONE - 1);
	members_tick(&f->t, T0 + GONE);
	assert_int_equal(state_of(f, 1), MEMBER_GONE);
	/* Rounds keep to members that are not gone ... */
	assert_int_equal(members_choose(&f->t, 4, out), 1);
	id_of(id, 2);
	assert_memory_equal(out[0], id, MEMBER_ID_BYTES);
	/* ... but the gone one is dialed, once, right away. */
	assert_int_equal(members_redial(&f->t, T0 + GONE, 7, 4, out), 1);
	id_of(id, 1);
	assert_memory_equal(out[0], id, MEMBER_ID_BYTES);
	assert_int_equal(members_redial(&f->t, T0 + GONE, 7, 4, out), 0);
}

static void test_redial_backs_off_up_to_gone_after(void **state)
{
	struct fixture *f = *state;
	uint8_t out[1][MEMBER_ID_BYTES];
	uint64_t now = T0 + GONE, prev = 0;

	add(f, 1, MEMBER_VIA_SEED, T0);
	members_tick(&f->t, now);
	for (int i = 0; i < 8; i++) {
		const struct member *m;
		uint64_t wait;

		assert_int_equal(members_redial(&f->t, now, (uint64_t)i * 977,
						1, out), 1);
		m = member_of(f, 1);
		wait = m->next_dial_ms - now;
		/* Backoff doubles from suspect_after, capped at gone_after,
		 * minus up to a quarter of jitter. */
		assert_true(m->dial_backoff_ms >= SUSPECT);
		assert_true(m->dial_backoff_ms <= GONE);
		assert_true(m->dial_backoff_ms >= prev);
		assert_true(wait <= m->dial_backoff_ms);
		assert_true(wait >= m->dial_backoff_ms - m->dial_backoff_ms / 4);
		if (i == 0)
			assert_int_equal(m->dial_backoff_ms, SUSPECT);
		if (i >= 2)
			assert_int_equal(m->dial_backoff_ms, GONE);
		prev = m->dial_backoff_ms;
		/* Not due one ms early, due on time. */
		assert_int_equal(members_redial(&f->t, m->next_dial_ms - 1, 1, 1,
						out), 0);
		now = m->next_dial_ms;
	}
	/* A healed partition: contact resets the backoff. */
	members_mark_contact(&f->t, member_of(f, 1)->id, now);
	assert_int_equal(member_of(f, 1)->dial_backoff_ms, 0);
	members_tick(&f->t, now + GONE);
	assert_int_equal(members_redial(&f->t, now + GONE, 3, 1, out), 1);
	assert_int_equal(member_of(f, 1)->dial_backoff_ms, SUSPECT);
}

static void test_a_connected_or_addressless_gone_member_is_not_redialed(
	void **state)
{
	struct fixture *f = *state;
	uint8_t out[2][MEMBER_ID_BYTES], id[MEMBER_ID_BYTES];

	id_of(id, 3);
	assert_int_equal(members_upsert(&f->t, id, NULL, 0, MEMBER_VIA_PEER, T0,
					NULL), MEMBERS_ADDED);
	add(f, 1, MEMBER_VIA_SEED, T0);
	members_tick(&f->t, T0 + GONE);
	members_set_connected(&f->t, member_of(f, 1)->id, true);
	assert_int_equal(members_redial(&f->t, T0 + GONE, 1, 2, out), 0);
}

/* ------------------------------------------------------------ gossip bounds */

static void test_gossiped_hosts_must_be_numeric(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {
		"node1.example", "localhost", "fe80::1%eth0", "[::1]",
		"10.0.0.1.", "0x0a000001", "10.1",
	};
	uint8_t id[MEMBER_ID_BYTES];
	struct err e;

	id_of(id, 1);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		err_clear(&e);
		assert_int_equal(members_upsert(&f->t, id, names[i], 7000,
						MEMBER_VIA_GOSSIP, T0, &e),
				 RUMOR_EINVAL);
		assert_non_null(strstr(e.msg, "numeric"));
	}
	assert_int_equal(members_count(&f->t), 0);
	assert_int_equal(members_upsert(&f->t, id, "192.0.2.7", 7000,
					MEMBER_VIA_GOSSIP, T0, NULL),
			 MEMBERS_ADDED);
	assert_int_equal(members_upsert(&f->t, id, "2001:db8::7", 7000,
					MEMBER_VIA_GOSSIP, T0, NULL),
			 MEMBERS_UPDATED);
	assert_int_equal(member_of(f, 1)->n_addrs, 2);
	/* A seed the user wrote may be a name: only gossip is held to it. */
	id_of(id, 2);
	assert_int_equal(members_upsert(&f->t, id, "node2.example", 7000,
					MEMBER_VIA_SEED, T0, NULL),
			 MEMBERS_ADDED);
	assert_false(members_host_is_numeric("node2.example"));
	assert_true(members_host_is_numeric("::ffff:10.0.0.1"));
}

/* Gossip-only members take at most gossip_max slots; the rest are kept
 * for members seen directly, which at a full table push out a gossip-only
 * member (the one heard of first) when no member is gone. */
static void test_slots_are_reserved_for_members_seen_directly(void **state)
{
	struct fixture *f = *state;
	struct members t;
	struct members_config c = { .max_members = 6, .gossip_max = 3,
				    .suspect_after_ms = SUSPECT,
				    .gone_after_ms = GONE,
				    .forget_after_ms = FORGET };
	uint8_t id[MEMBER_ID_BYTES];
	struct err e;

	assert_int_equal(members_init(&t, f->self, &c, NULL), 0);
	for (int i = 1; i <= 3; i++) {
		id_of(id, i);
		assert_int_equal(members_upsert(&t, id, "10.0.0.1", 7000,
						MEMBER_VIA_GOSSIP,
						T0 + (uint64_t)i, NULL),
				 MEMBERS_ADDED);
	}
	id_of(id, 4);
	err_clear(&e);
	assert_int_equal(members_upsert(&t, id, "10.0.0.1", 7000,
					MEMBER_VIA_GOSSIP, T0 + 4, &e),
			 RUMOR_ENOMEM);
	assert_non_null(strstr(e.msg, "gossip"));
	for (int i = 10; i <= 12; i++) {
		id_of(id, i);
		assert_int_equal(members_upsert(&t, id, "10.0.0.2", 7000,
						MEMBER_VIA_PEER, T0 + 5, NULL),
				 MEMBERS_ADDED);
	}
	assert_int_equal(members_count(&t), 6);
	/* Full, nobody gone: a member seen directly evicts gossip-only 1. */
	id_of(id, 13);
	assert_int_equal(members_upsert(&t, id, "10.0.0.3", 7000,
					MEMBER_VIA_MULTICAST, T0 + 6, NULL),
			 MEMBERS_ADDED);
	id_of(id, 1);
	assert_null(members_find(&t, id));
	id_of(id, 2);
	assert_non_null(members_find(&t, id));
	/* Contact with a gossip-only member makes it first hand: out of
	 * the gossip share, never evicted for a newcomer. */
	assert_int_equal(members_mark_contact(&t, id, T0 + 7), 0);
	assert_false(member_is_gossip_only(members_find(&t, id)));
	id_of(id, 14);
	assert_int_equal(members_upsert(&t, id, "10.0.0.4", 7000,
					MEMBER_VIA_PEER, T0 + 8, NULL),
			 MEMBERS_ADDED);
	id_of(id, 3);
	assert_null(members_find(&t, id));
	/* Now every slot holds a member known first hand, alive. */
	id_of(id, 15);
	assert_int_equal(members_upsert(&t, id, "10.0.0.5", 7000,
					MEMBER_VIA_PEER, T0 + 9, NULL),
			 RUMOR_ENOMEM);
	assert_int_equal(members_upsert(&t, id, "10.0.0.5", 7000,
					MEMBER_VIA_GOSSIP, T0 + 9, NULL),
			 RUMOR_ENOMEM);
	members_free(&t);
}

static void test_gossip_only_members_are_not_passed_on_until_contacted(
	void **state)
{
	struct fixture *f = *state;
	struct member_gossip g[4];
	uint8_t id[MEMBER_ID_BYTES];

	add(f, 1, MEMBER_VIA_MULTICAST, T0);
	add(f, 2, MEMBER_VIA_GOSSIP, T0);
	assert_true(member_is_gossip_only(member_of(f, 2)));
	assert_false(member_is_gossip_only(member_of(f, 1)));
	assert_int_equal(members_export(&f->t, g, 4), 1);
	assert_int_equal(g[0].id[1], 1);
	id_of(id, 2);
	assert_int_equal(members_mark_contact(&f->t, id, T0 + 1), 0);
	assert_int_equal(members_export(&f->t, g, 4), 2);
}

/* The quota of one sender: gossip_per_msg news a message, from a bucket
 * of gossip_burst refilled one per gossip_refill_ms; restating what we
 * know needs none; an unknown sender gets nothing. */
static void test_gossip_news_is_limited_per_message_and_over_time(
	void **state)
{
	struct fixture *f = *state;
	struct members_quota q;
	uint8_t from[MEMBER_ID_BYTES], id[MEMBER_ID_BYTES];
	uint64_t now = T0;
	int n = 1000, added = 0, over = 0;
	char host[32];

	add(f, 1, MEMBER_VIA_PEER, now);
	id_of(from, 1);
	members_quota_begin(&f->t, from, now, &q);
	assert_int_equal(q.allowed, MEMBERS_GOSSIP_PER_MSG_DEFAULT);
	for (int i = 0; i < 40; i++, n++) {
		int rv;

		id_of(id, n);
		snprintf(host, sizeof host, "10.1.%d.%d", n / 256, n % 256);
		rv = members_gossip(&f->t, &q, id, host, 7000, now, NULL);
		added += rv == MEMBERS_ADDED;
		over += rv == MEMBERS_OVER_QUOTA;
	}
	assert_int_equal(added, MEMBERS_GOSSIP_PER_MSG_DEFAULT);
	assert_int_equal(over, 40 - MEMBERS_GOSSIP_PER_MSG_DEFAULT);
	/* Restating a known member at a known address is no news. */
	id_of(id, 1000);
	assert_int_equal(members_gossip(&f->t, &q, id, "10.1.3.232", 7000, now,
					NULL),
			 MEMBERS_UPDATED);
	/* A new address of a known member is. */
	assert_int_equal(members_gossip(&f->t, &q, id, "10.9.9.9", 7000, now,
					NULL),
			 MEMBERS_OVER_QUOTA);
	assert_int_equal(member_of(f, 1000)->n_addrs, 1);
	members_quota_end(&f->t, &q);
	/* The bucket had 64: 32 left for the next message, then none. */
	members_quota_begin(&f->t, from, now, &q);
	assert_int_equal(q.allowed, MEMBERS_GOSSIP_BURST_DEFAULT -
					    MEMBERS_GOSSIP_PER_MSG_DEFAULT);
	q.used = q.allowed;
	members_quota_end(&f->t, &q);
	members_quota_begin(&f->t, from, now + 1, &q);
	assert_int_equal(q.allowed, 0);
	members_quota_end(&f->t, &q);
	/* One token per refill interval. */
	now += 5 * MEMBERS_GOSSIP_REFILL_MS_DEFAULT + 1;
	members_quota_begin(&f->t, from, now, &q);
	assert_int_equal(q.allowed, 5);
	members_quota_end(&f->t, &q);
	now += 1000 * MEMBERS_GOSSIP_REFILL_MS_DEFAULT;
	members_quota_begin(&f->t, from, now, &q);
	assert_int_equal(q.allowed, MEMBERS_GOSSIP_PER_MSG_DEFAULT);
	/* A sender not in the table brings nothing. */
	id_of(from, 77);
	members_quota_begin(&f->t, from, now, &q);
	assert_int_equal(q.allowed, 0);
	id_of(id, 2000);
	assert_int_equal(members_gossip(&f->t, &q, id, "10.2.0.1", 7000, now,
					NULL),
			 MEMBERS_OVER_QUOTA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_member_moves_alive_suspect_gone_forgotten),
		T(test_a_long_silence_skips_straight_to_gone),
		T(test_contact_brings_any_state_back_alive),
		T(test_sync_records_time_and_counts_as_contact),
		T(test_gossip_cannot_resurrect_a_gone_member),
		T(test_gossip_does_not_refresh_timers),
		T(test_redials_take_each_address_in_turn),
		T(test_a_new_address_makes_a_gone_member_due_at_once),
		T(test_gossip_never_outranks_a_direct_address),
		T(test_gossip_never_adds_our_own_id),
		T(test_gossip_learned_member_times_out_unless_contacted),
		T(test_bad_addresses_are_refused_and_change_nothing),
		T(test_full_table_evicts_gone_members_only),
		T(test_timeouts_must_increase),
		T(test_choice_covers_every_alive_member_within_n_rounds),
		T(test_choice_never_repeats_within_a_round),
		T(test_export_lists_gone_members_known_first_hand_last),
		T(test_simultaneous_dial_rule_is_symmetric),
		T(test_gone_members_are_redialed_not_chosen),
		T(test_redial_backs_off_up_to_gone_after),
		T(test_a_connected_or_addressless_gone_member_is_not_redialed),
		T(test_gossiped_hosts_must_be_numeric),
		T(test_slots_are_reserved_for_members_seen_directly),
		T(test_gossip_only_members_are_not_passed_on_until_contacted),
		T(test_gossip_news_is_limited_per_message_and_over_time),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
