/* SPDX-License-Identifier: MIT */
/*
 * members_int: what the member table's files share (private to
 * discovery/): members.c (the table and its rules) and members_file.c
 * (its persisted form).
 */
#ifndef RUMOR_DISCOVERY_MEMBERS_INT_H
#define RUMOR_DISCOVERY_MEMBERS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "discovery/members.h"

/* Multicast, seed and peer: everything but gossip. */
bool members__source_is_direct(enum member_source s);
/* The member id, or NULL. */
struct member *members__find_mut(const struct members *t,
				 const uint8_t id[MEMBER_ID_BYTES]);
/* Orders m's addresses: direct before gossip, then most recently
 * stated. */
void members__addrs_sort(struct member *m);
/* A slot for a new member learned from source (t->n counts it; the
 * caller fills it), or NULL with *why set: no slot by the rules of
 * members.h (gossip share, eviction), or no memory. */
struct member *members__slot_new(struct members *t, enum member_source source,
				 const char **why);
/* Whether host's len bytes are all visible ASCII. */
bool members__host_is_visible(const char *host, size_t len);

#endif
