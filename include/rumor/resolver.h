/* SPDX-License-Identifier: MIT */
/*
 * rumor/resolver.h: the ABI of a conflict resolver loaded as a shared object.
 *
 * When two versions of one key carry the same logical clock and come from
 * different origins, the node asks the resolver which one wins.
 *
 * Conventions:
 *  1. A resolver .so exports
 *       const unsigned rumor_resolver_abi;      (must equal RUMOR_RESOLVER_ABI)
 *       int rumor_resolve(const struct rumor_version *a,
 *                         const struct rumor_version *b);
 *     and may export
 *       const char *rumor_resolver_name;
 *  2. rumor_resolve returns a negative number to keep a, a positive number
 *     to keep b. Zero means "no opinion": the node then uses its default
 *     order (wall_ms, then origin bytes).
 *  3. It must be deterministic and symmetric: every node must pick the same
 *     winner whatever the argument order. The node calls it both ways; when
 *     resolve(a,b) and resolve(b,a) pick different versions it counts a
 *     symmetry violation and uses the default order.
 *     It must also be transitive, a total order on versions: if a beats b
 *     and b beats c, then a beats c. Why: nodes see concurrent versions in
 *     different orders (one compares a with b and keeps the winner for c,
 *     another meets c first), and only a total order makes every node end
 *     with the same winner whatever the arrival order; a cycle (a beats b,
 *     b beats c, c beats a) leaves nodes holding different values forever.
 *     The node cannot detect a violation: it only ever holds one stored
 *     version and compares it with one incoming version, so no two of its
 *     decisions expose the cycle. Returning 0 ("no opinion") for some pairs
 *     is allowed only if the resolver's answers together with the default
 *     order still form one total order.
 *  4. All pointers are valid only during the call. value is NULL and
 *     value_len 0 for a deletion (deleted != 0). The resolver must not
 *     keep them, must not block, and must be safe to call from any thread.
 *
 * Build one with:  cc -shared -fPIC -o my.so my.c $(pkg-config --cflags librumor)
 */
#ifndef RUMOR_RESOLVER_H
#define RUMOR_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUMOR_RESOLVER_ABI 1

struct rumor_version {
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
	int deleted;
	uint64_t clock;
	uint64_t wall_ms;
	const uint8_t *origin;
	size_t origin_len;
	uint64_t seq;
};

/* The signature of rumor_resolve, also used for in-process resolvers. */
typedef int (*rumor_resolve_fn)(const struct rumor_version *a,
				const struct rumor_version *b);

/* What a resolver .so defines (declared here so that the compiler checks
 * a resolver's definitions against the ABI). */
extern const unsigned rumor_resolver_abi;
extern const char *rumor_resolver_name;
int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b);

#ifdef __cplusplus
}
#endif

#endif /* RUMOR_RESOLVER_H */
