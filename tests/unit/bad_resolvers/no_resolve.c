/* SPDX-License-Identifier: MIT */
/* Test fixture: a resolver with the right ABI but no rumor_resolve
 * function. Loading it must fail with a message naming rumor_resolve. */
#include <rumor/resolver.h>

extern const unsigned rumor_resolver_abi;
extern const char *rumor_resolver_name;

const unsigned rumor_resolver_abi = RUMOR_RESOLVER_ABI;
const char *rumor_resolver_name = "no_resolve";
