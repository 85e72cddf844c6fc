/* SPDX-License-Identifier: MIT */
/* Tests of discovery/members: its persisted form (members_encode,
 * members_load) and what counts as a change of it. */
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

/* ------------------------------------------------------------ persisted form */

static struct members *fresh_table(struct fixture *f)
{
	static struct members t;
	struct members_config c = {
		.suspect_after_ms = SUSPECT,
		.gone_after_ms = GONE,
		.forget_after_ms = FORGET,
		.max_members = 4,
	};

	assert_int_equal(members_init(&t, f->self, &c, NULL), 0);
	return &t;
}

static void test_the_table_survives_encode_and_load(void **state)
{
	struct fixture *f = *state;
	struct members *t = fresh_table(f);
	uint8_t id[MEMBER_ID_BYTES], out[4][MEMBER_ID_BYTES];
	char *buf;
	size_t len;

	add(f, 1, MEMBER_VIA_SEED, T0);
	id_of(id, 1);
	assert_int_equal(members_upsert(&f->t, id, "fe80::1", 7001,
					MEMBER_VIA_GOSSIP, T0, NULL),
			 MEMBERS_UPDATED);
	add(f, 2, MEMBER_VIA_MULTICAST, T0);
	id_of(id, 3);
	assert_int_equal(members_upsert(&f->t, id, NULL, 0, MEMBER_VIA_PEER, T0,
					NULL), MEMBERS_ADDED);
	assert_int_equal(members_encode(&f->t, &buf, &len, NULL), 0);
	assert_int_equal(members_load(t, buf, len, 5, NULL), 3);
	free(buf);
	for (int n = 1; n <= 3; n++) {
		const struct member *a = member_of(f, n), *b;

		b = members_find(t, a->id);
		assert_non_null(b);
		/* Remembered: gone, never contacted, due for a redial. */
		assert_int_equal(b->state, MEMBER_GONE);
		assert_int_equal(b->last_contact_ms, 0);
		assert_int_equal(b->first_heard_ms, 5);
		assert_false(b->connected);
		assert_int_equal(b->n_addrs, a->n_addrs);
		for (size_t i = 0; i < a->n_addrs; i++) {
			assert_string_equal(b->addrs[i].host, a->addrs[i].host);
			assert_int_equal(b->addrs[i].port, a->addrs[i].port);
			assert_int_equal(b->addrs[i].source, a->addrs[i].source);
		}
	}
	assert_int_equal(members_redial(t, 5, 1, 4, out), 2);
	/* Remembered members are gossiped (those with an address). */
	{
		struct member_gossip g[4];

		assert_int_equal(members_export(t, g, 4), 2);
	}
	/* Forgotten after forget_after from the load, like any gone member. */
	assert_int_equal(members_tick(t, 5 + FORGET), 3);
	assert_int_equal(members_count(t), 0);
	members_free(t);
}

static void test_changes_count_only_what_is_persisted(void **state)
{
	struct fixture *f = *state;
	uint64_t c;

	c = f->t.changes;
	add(f, 1, MEMBER_VIA_SEED, T0);
	assert_true(f->t.changes > c);
	/* The same address stated again, contact, states: no rewrite. */
	c = f->t.changes;
	add(f, 1, MEMBER_VIA_SEED, T0 + 10);
	members_mark_contact(&f->t, member_of(f, 1)->id, T0 + 20);
	members_tick(&f->t, T0 + 20 + GONE);
	assert_int_equal(f->t.changes, c);
	/* A new address is a change, from gossip (even about a gone
	 * member) or from the member itself. */
	assert_int_equal(members_upsert(&f->t, member_of(f, 1)->id, "10.8.8.8",
					7000, MEMBER_VIA_GOSSIP, T0 + 30, NULL),
			 MEMBERS_UPDATED);
	assert_true(f->t.changes > c);
	c = f->t.changes;
	members_mark_contact(&f->t, member_of(f, 1)->id, T0 + 40);
	assert_int_equal(f->t.changes, c);
	assert_int_equal(members_upsert(&f->t, member_of(f, 1)->id, "10.9.9.9",
					7000, MEMBER_VIA_PEER, T0 + 40, NULL),
			 MEMBERS_UPDATED);
	assert_true(f->t.changes > c);
	/* Forgetting is one. */
	c = f->t.changes;
	members_tick(&f->t, T0 + 40 + FORGET);
	assert_int_equal(members_count(&f->t), 0);
	assert_true(f->t.changes > c);
}

static const char *const bad_files[] = {
	"",
	"rumor-members v2\n",
	"rumor-members v1",
	/* No newline at the end: truncated. */
	"rumor-members v1\n"
	"0001000000000000000000000000000000000000000000000000000000000000",
	/* Short id, bad hex. */
	"rumor-members v1\n0001\n",
	"rumor-members v1\n"
	"0g01000000000000000000000000000000000000000000000000000000000000\n",
	/* Incomplete address, port 0, port too big, bad source. */
	"rumor-members v1\n"
	"0001000000000000000000000000000000000000000000000000000000000000 h\n",
	"rumor-members v1\n"
	"0001000000000000000000000000000000000000000000000000000000000000"
	" h 0 seed\n",
	"rumor-members v1\n"
	"0001000000000000000000000000000000000000000000000000000000000000"
	" h 65536 seed\n",
	"rumor-members v1\n"
	"0001000000000000000000000000000000000000000000000000000000000000"
	" h 7000 carrier-pigeon\n",
	/* Five addresses (at most four). */
	"rumor-members v1\n"
	"0001000000000000000000000000000000000000000000000000000000000000"
	" a 1 seed b 1 seed c 1 seed d 1 seed e 1 seed\n",
	/* A host of 64 characters. */
	"rumor-members v1\n"
	"0001000000000000000000000000000000000000000000000000000000000000"
	" hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
	" 1 seed\n",
	/* Two spaces: an empty host. */
	"rumor-members v1\n"
	"0001000000000000000000000000000000000000000000000000000000000000"
	"  1 seed\n",
};

static void test_a_malformed_file_loads_nothing(void **state)
{
	struct fixture *f = *state;
	struct members *t = fresh_table(f);
	char buf[512];
	size_t len;
	struct err err;

	for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
		err_clear(&err);
		assert_int_equal(members_load(t, bad_files[i],
					      strlen(bad_files[i]), T0, &err),
				 RUMOR_ECORRUPT);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(members_count(t), 0);
	}
	/* A NUL inside a line, after a good line. */
	len = (size_t)snprintf(buf, sizeof buf, "rumor-members v1\n%s\n%s\n",
			       "0001000000000000000000000000000000000000000000"
			       "000000000000000000",
			       "0002000000000000000000000000000000000000000000"
			       "000000000000000000 h 1 seed");
	buf[len - 4] = '\0';
	assert_int_equal(members_load(t, buf, len, T0, NULL), RUMOR_ECORRUPT);
	assert_int_equal(members_count(t), 0);
	members_free(t);
}

static void test_load_drops_our_id_and_caps_the_count(void **state)
{
	struct fixture *f = *state;
	struct members *t = fresh_table(f);   /* max_members 4 */
	char buf[2048], hex[2 * MEMBER_ID_BYTES + 1];
	size_t len = 0;
	uint8_t id[MEMBER_ID_BYTES];

	len += (size_t)snprintf(buf, sizeof buf, "rumor-members v1\n");
	/* Ourselves, then 1, 2, 1 again, 3, 4: four members. */
	for (int k = 0; k < 6; k++) {
		static const int who[] = { 500, 1, 2, 1, 3, 4 };

		id_of(id, who[k]);
		for (int j = 0; j < MEMBER_ID_BYTES; j++)
			snprintf(hex + 2 * j, 3, "%02x", id[j]);
		len += (size_t)snprintf(buf + len, sizeof buf - len,
					"%s 10.0.0.%d 7000 peer\n", hex, k + 1);
	}
	assert_int_equal(members_load(t, buf, len, T0, NULL), 4);
	assert_null(members_find(t, f->self));
	id_of(id, 1);
	assert_string_equal(members_find(t, id)->addrs[0].host, "10.0.0.2");
	members_free(t);
	/* One more member than the table takes: the file is refused. */
	t = fresh_table(f);
	id_of(id, 5);
	for (int j = 0; j < MEMBER_ID_BYTES; j++)
		snprintf(hex + 2 * j, 3, "%02x", id[j]);
	len += (size_t)snprintf(buf + len, sizeof buf - len, "%s\n", hex);
	assert_int_equal(members_load(t, buf, len, T0, NULL), RUMOR_ECORRUPT);
	assert_int_equal(members_count(t), 0);
	members_free(t);
}

/* A member known only by gossip before a restart is still gossip-only
 * after it: not passed on, within the gossip share (the rest of them
 * dropped), while the members seen directly are remembered. */
static void test_gossip_only_members_stay_gossip_only_across_a_restart(
	void **state)
{
	struct fixture *f = *state;
	struct members *t = fresh_table(f);   /* max 4: gossip share 2 */
	struct member_gossip g[4];
	uint8_t id[MEMBER_ID_BYTES];
	char *buf;
	size_t len;

	add(f, 1, MEMBER_VIA_MULTICAST, T0);
	for (int n = 2; n <= 4; n++)
		add(f, n, MEMBER_VIA_GOSSIP, T0);
	assert_int_equal(members_encode(&f->t, &buf, &len, NULL), 0);
	assert_int_equal(members_load(t, buf, len, 5, NULL), 3);
	free(buf);
	id_of(id, 1);
	assert_true(members_find(t, id)->remembered);
	assert_false(member_is_gossip_only(members_find(t, id)));
	id_of(id, 2);
	assert_true(member_is_gossip_only(members_find(t, id)));
	id_of(id, 4);
	assert_null(members_find(t, id));
	assert_int_equal(members_export(t, g, 4), 1);
	assert_int_equal(g[0].id[1], 1);
	members_free(t);
}

/* Mutations of a valid file (bytes changed, cut, repeated) either load
 * or are refused whole; they never crash nor leave a half table. */
static void test_mutated_files_load_whole_or_not_at_all(void **state)
{
	struct fixture *f = *state;
	char *good, *buf;
	size_t len;
	uint64_t x = 88172645463325252ull;

	for (int n = 1; n <= 4; n++)
		add(f, n, MEMBER_VIA_SEED, T0);
	assert_int_equal(members_encode(&f->t, &good, &len, NULL), 0);
	buf = malloc(2 * len);
	assert_non_null(buf);
	for (int i = 0; i < 5000; i++) {
		struct members *t = fresh_table(f);
		size_t blen = len;
		int rv;

		memcpy(buf, good, len);
		for (int k = 0; k < 1 + i % 4; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			switch (x % 3) {
			case 0:
				buf[(x >> 8) % blen] = (char)(x >> 24);
				break;
			case 1:
				blen = 1 + (x >> 8) % blen;
				break;
			default:
				memcpy(buf + blen, buf, blen < len ? blen : len);
				blen += blen < len ? blen : len;
				break;
			}
			if (blen > len)
				blen = len; /* keep within the buffer's use */
		}
		rv = members_load(t, buf, blen, T0, NULL);
		if (rv < 0)
			assert_int_equal(members_count(t), 0);
		else
			assert_int_equal(members_count(t), (size_t)rv);
		members_free(t);
	}
	free(buf);
	free(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_gossip_only_members_stay_gossip_only_across_a_restart),
		T(test_the_table_survives_encode_and_load),
		T(test_changes_count_only_what_is_persisted),
		T(test_a_malformed_file_loads_nothing),
		T(test_load_drops_our_id_and_caps_the_count),
		T(test_mutated_files_load_whole_or_not_at_all),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
