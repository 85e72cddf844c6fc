/* SPDX-License-Identifier: MIT */
/*
 * test_members_fixture: the member table on a fake clock, shared by
 * test_members (states, gossip, choice, redials) and test_members_file
 * (the persisted form).
 */
#ifndef RUMOR_TEST_MEMBERS_FIXTURE_H
#define RUMOR_TEST_MEMBERS_FIXTURE_H

#include <stdint.h>

#include "discovery/members.h"

#define T0 1000000ull
#define SUSPECT 1000u
#define GONE 3000u
#define FORGET 10000u

struct fixture {
	struct members t;
	uint8_t self[MEMBER_ID_BYTES];
	int changes;      /* on_change calls */
	int forgotten;    /* of which forgotten */
};

/* cmocka setup and teardown: a table with the timeouts above, our id
 * that of member 500. */
int setup(void **state);
int teardown(void **state);

/* The id of member n (distinct for n < 65536). */
void id_of(uint8_t id[MEMBER_ID_BYTES], int n);
/* Adds or updates member n at 10.0.x.y:7000, learned from src. */
void add(struct fixture *f, int n, enum member_source src, uint64_t now);
/* Member n, or NULL. */
const struct member *member_of(struct fixture *f, int n);
/* Member n's state; it must exist. */
enum member_state state_of(struct fixture *f, int n);

#endif
