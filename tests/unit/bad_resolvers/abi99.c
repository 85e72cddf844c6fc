/* SPDX-License-Identifier: MIT */
/* Test fixture: a resolver built for an ABI this node does not speak.
 * Loading it must fail with a message naming ABI 99. */
#include <rumor/resolver.h>

extern const unsigned rumor_resolver_abi;
int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b);

const unsigned rumor_resolver_abi = 99;

int rumor_resolve(const struct rumor_version *a,
		  const struct rumor_version *b)
{
	return 0;
}
