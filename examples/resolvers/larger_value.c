/* SPDX-License-Identifier: MIT */
/*
 * larger_value: a conflict resolver where the larger value wins.
 *
 * "Larger" means longer, then greater bytes (memcmp). A deletion loses to
 * any value. Two equal values, or two deletions, give no opinion (0): the
 * node then falls back to its default order. The answer depends only on
 * the two values, never on argument order, so it is deterministic and
 * symmetric as include/rumor/resolver.h requires.
 *
 * Build outside the tree (see README.md):
 *   cc -shared -fPIC -o larger_value.so larger_value.c \
 *      $(pkg-config --cflags librumor)
 */
#include <string.h>

#include <rumor/resolver.h>

/* Declared first so that the compiler checks the definitions against the
 * ABI (and so that -Wmissing-prototypes stays quiet). */
extern const unsigned rumor_resolver_abi;
extern const char *rumor_resolver_name;
int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b);

const unsigned rumor_resolver_abi = RUMOR_RESOLVER_ABI;
const char *rumor_resolver_name = "larger_value";

/* Negative when a's value is larger, positive when b's is, 0 when equal. */
static int value_cmp(const struct rumor_version *a,
		     const struct rumor_version *b)
{
	int c;

	if (a->value_len != b->value_len)
		return a->value_len > b->value_len ? -1 : 1;
	if (a->value_len == 0)
		return 0;
	c = memcmp(a->value, b->value, a->value_len);
	return (c < 0) - (c > 0);
}

int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b)
{
	if (a->deleted && b->deleted)
		return 0;
	if (a->deleted)
		return 1;	/* b is a value, and any value beats a deletion */
	if (b->deleted)
		return -1;
	return value_cmp(a, b);
}
