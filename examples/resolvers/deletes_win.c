/* SPDX-License-Identifier: MIT */
/*
 * deletes_win: a conflict resolver where a deletion beats a write.
 *
 * Useful when a removal must never be undone by a concurrent update made
 * elsewhere. Two values, or two deletions, give no opinion (0): the node
 * then falls back to its default order (wall time, then origin). The
 * answer depends only on the deleted flags, so it is deterministic and
 * symmetric as include/rumor/resolver.h requires.
 *
 * Build outside the tree (see README.md):
 *   cc -shared -fPIC -o deletes_win.so deletes_win.c \
 *      $(pkg-config --cflags librumor)
 */
#include <rumor/resolver.h>

/* Declared first so that the compiler checks the definitions against the
 * ABI (and so that -Wmissing-prototypes stays quiet). */
extern const unsigned rumor_resolver_abi;
extern const char *rumor_resolver_name;
int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b);

const unsigned rumor_resolver_abi = RUMOR_RESOLVER_ABI;
const char *rumor_resolver_name = "deletes_win";

int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b)
{
	/* deleted is any nonzero int: compare truth values, not numbers. */
	if (!a->deleted == !b->deleted)
		return 0;
	return a->deleted ? -1 : 1;
}
