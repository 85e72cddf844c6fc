/* SPDX-License-Identifier: MIT */
/*
 * why_prefer: a resolver for tests/cluster/why_diverged.sh that is
 * deterministic and symmetric within one node, but not across nodes: it
 * keeps the version whose value equals $RUMOR_TEST_PREFER, which each
 * node is started with differently. Two nodes that wrote the same key
 * at the same clock then each keep their own value for good: the
 * divergence `rumorctl why` must name.
 */
#include <stdlib.h>
#include <string.h>

#include <rumor/resolver.h>

const unsigned rumor_resolver_abi = RUMOR_RESOLVER_ABI;
const char *rumor_resolver_name = "prefer-env";

static int is_preferred(const struct rumor_version *v, const char *p)
{
	return !v->deleted && v->value_len == strlen(p) &&
	       memcmp(v->value, p, v->value_len) == 0;
}

int rumor_resolve(const struct rumor_version *a, const struct rumor_version *b)
{
	const char *p = getenv("RUMOR_TEST_PREFER");
	int pa, pb;

	if (p == NULL)
		return 0;
	pa = is_preferred(a, p);
	pb = is_preferred(b, p);
	return pa == pb ? 0 : pa ? -1 : 1;
}
