/* SPDX-License-Identifier: MIT */
/* Test fixture: a resolver that forgot rumor_resolver_abi. Loading it must
 * fail with a message naming the missing symbol. */
#include <rumor/resolver.h>

int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b);

int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b)
{
	return 0;
}
