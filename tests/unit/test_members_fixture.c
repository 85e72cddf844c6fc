/* SPDX-License-Identifier: MIT */
/* test_members_fixture: see the header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/test_members_fixture.h"

static void on_change(void *arg, const struct member *m,
		      enum member_state old, bool forgotten)
{
	struct fixture *f = arg;

	(void)m;
	(void)old;
	f->changes++;
	f->forgotten += forgotten;
}

void id_of(uint8_t id[MEMBER_ID_BYTES], int n)
{
	memset(id, 0, MEMBER_ID_BYTES);
	id[0] = (uint8_t)(n >> 8);
	id[1] = (uint8_t)n;
	id[31] = 0x5a;
}

int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct members_config c = {
		.suspect_after_ms = SUSPECT,
		.gone_after_ms = GONE,
		.forget_after_ms = FORGET,
		.on_change = on_change,
	};

	assert_non_null(f);
	c.change_arg = f;
	id_of(f->self, 500);
	assert_int_equal(members_init(&f->t, f->self, &c, NULL), 0);
	*state = f;
	return 0;
}

int teardown(void **state)
{
	struct fixture *f = *state;

	members_free(&f->t);
	free(f);
	return 0;
}

enum member_state state_of(struct fixture *f, int n)
{
	uint8_t id[MEMBER_ID_BYTES];
	const struct member *m;

	id_of(id, n);
	m = members_find(&f->t, id);
	assert_non_null(m);
	return m->state;
}

void add(struct fixture *f, int n, enum member_source src,
		uint64_t now)
{
	uint8_t id[MEMBER_ID_BYTES];
	char host[32];
	int rv;

	id_of(id, n);
	snprintf(host, sizeof host, "10.0.%d.%d", n / 256, n % 256);
	rv = members_upsert(&f->t, id, host, 7000, src, now, NULL);
	assert_true(rv == MEMBERS_ADDED || rv == MEMBERS_UPDATED);
}

const struct member *member_of(struct fixture *f, int n)
{
	uint8_t id[MEMBER_ID_BYTES];

	id_of(id, n);
	return members_find(&f->t, id);
}
