/* SPDX-License-Identifier: MIT */
/* Test fixture: a resolver that loads fine but always keeps its first
 * argument, so resolve(a,b) and resolve(b,a) disagree. The node must count
 * a symmetry violation and fall back to its default order. */
#include <rumor/resolver.h>

extern const unsigned rumor_resolver_abi;
extern const char *rumor_resolver_name;
int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b);

const unsigned rumor_resolver_abi = RUMOR_RESOLVER_ABI;
const char *rumor_resolver_name = "asymmetric";

int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b)
{
	return -1;
}
