/* SPDX-License-Identifier: MIT */
/*
 * resolver: the conflict order between two versions of one key
 * (DESIGN section 3): higher clock wins; same clock and same origin, higher
 * seq wins; same clock, different origins: the resolver decides (a user
 * function or a dlopen'd .so, checked for symmetry), else the default
 * order (wall_ms, then origin bytes; the greater wins).
 * Knows nothing of storage or the network.
 */
#ifndef RUMOR_RESOLVER_INTERNAL_H
#define RUMOR_RESOLVER_INTERNAL_H

#include <stdint.h>

#include "rumor/resolver.h"
#include "lib/err.h"

struct resolver;

enum resolver_via {
	RESOLVER_VIA_NONE = 0,    /* no conflict: clock, seq or identity decided */
	RESOLVER_VIA_DEFAULT,     /* same clock, the default order decided */
	RESOLVER_VIA_USER,        /* same clock, the user resolver decided */
};

struct resolver_stats {
	uint64_t decided_default;      /* same-clock conflicts, default order */
	uint64_t decided_user;         /* same-clock conflicts, user resolver */
	uint64_t symmetry_violations;  /* user resolver disagreed with itself */
	uint64_t no_opinion;           /* user resolver returned 0 */
};

/* A resolver with only the default order. */
int resolver_new_default(struct resolver **out, struct err *err);
/* A resolver that asks fn first (fn may be NULL: default only). */
int resolver_new_fn(struct resolver **out, rumor_resolve_fn fn,
		    const char *name, struct err *err);
/* Loads a resolver shared object: checks rumor_resolver_abi ==
 * RUMOR_RESOLVER_ABI and rumor_resolve; RUMOR_ERESOLVER with a message
 * naming the path and the problem otherwise. Nothing is left loaded on
 * failure. */
int resolver_load(struct resolver **out, const char *path, struct err *err);
void resolver_free(struct resolver *r);

/* "default", the .so's rumor_resolver_name, or its path. */
const char *resolver_name(const struct resolver *r);

/* The default order for two versions of one key: negative when a wins,
 * positive when b wins, 0 only when a and b are the same version
 * (same clock, origin and seq). */
int resolver_default_order(const struct rumor_version *a,
			   const struct rumor_version *b);

/* The full conflict order (see top of file): negative when a wins,
 * positive when b wins, 0 when a and b are the same version. Symmetric
 * and total whatever the user resolver does. *via (if not NULL) says what
 * decided; stats are counted in r. */
int resolver_order(struct resolver *r, const struct rumor_version *a,
		   const struct rumor_version *b, enum resolver_via *via);

/* What decided between two versions, in detail (resolver_explain). */
enum resolver_reason {
	RESOLVER_SAME = 0,        /* the same version */
	RESOLVER_BY_CLOCK,        /* the higher clock */
	RESOLVER_BY_SEQ,          /* same clock and origin: the higher seq */
	RESOLVER_BY_USER,         /* same clock: the user resolver chose */
	RESOLVER_BY_WALL,         /* same clock: default order, later wall */
	RESOLVER_BY_ORIGIN,       /* same clock and wall: the greater origin */
};

/* Exactly resolver_order's answer for a and b (the store's order, user
 * resolver and symmetry check included), without counting anything in
 * r's stats: for looking, not for applying. *why (if not NULL) says
 * what decided. */
int resolver_explain(struct resolver *r, const struct rumor_version *a,
		     const struct rumor_version *b,
		     enum resolver_reason *why);

void resolver_get_stats(const struct resolver *r, struct resolver_stats *st);

#endif
