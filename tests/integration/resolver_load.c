/* SPDX-License-Identifier: MIT */
/*
 * resolver_load: loads a resolver object that should behave as
 * examples/resolvers/larger_value.c and checks that the node obeys it.
 * Used by resolver_outoftree.sh on an object built against the installed
 * header only.
 *
 *   resolver_load PATH.so
 *
 * Exits 0 when the object loads and its choice beats the default order,
 * 1 otherwise (with the reason on stderr), 2 on usage errors.
 */
#include <stdio.h>
#include <string.h>

#include "resolver/resolver.h"

static struct rumor_version version(const uint8_t *origin, uint64_t wall_ms,
				    const char *value)
{
	struct rumor_version v = {
		.key = "k",
		.key_len = 1,
		.value = value,
		.value_len = strlen(value),
		.clock = 5,
		.wall_ms = wall_ms,
		.origin = origin,
		.origin_len = RUMOR_NODE_ID_BYTES,
		.seq = 1,
	};
	return v;
}

int main(int argc, char **argv)
{
	static const uint8_t origin_a[RUMOR_NODE_ID_BYTES] = {0x0a};
	static const uint8_t origin_b[RUMOR_NODE_ID_BYTES] = {0x0b};
	/* Same clock, different origins: a conflict. The default order keeps
	 * b (later wall time); a larger-value resolver keeps a. */
	struct rumor_version a = version(origin_a, 1000, "the longer value");
	struct rumor_version b = version(origin_b, 2000, "short");
	struct resolver *r;
	struct err e = {0};
	enum resolver_via via_ab, via_ba;
	int ab, ba, ok;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH.so\n", argv[0]);
		return 2;
	}
	if (resolver_load(&r, argv[1], &e) != 0) {
		fprintf(stderr, "resolver_load: %s\n", e.msg);
		return 1;
	}
	if (resolver_default_order(&a, &b) <= 0) {
		fprintf(stderr, "resolver_load: test versions are wrong: the "
			"default order must keep b\n");
		resolver_free(r);
		return 1;
	}
	ab = resolver_order(r, &a, &b, &via_ab);
	ba = resolver_order(r, &b, &a, &via_ba);
	ok = ab < 0 && ba > 0 && via_ab == RESOLVER_VIA_USER &&
	     via_ba == RESOLVER_VIA_USER;
	if (!ok)
		fprintf(stderr, "resolver_load: %s (%s) not obeyed: "
			"order(a,b)=%d via %d, order(b,a)=%d via %d\n",
			argv[1], resolver_name(r), ab, (int)via_ab, ba,
			(int)via_ba);
	else
		printf("resolver_load: %s (%s) obeyed\n", argv[1],
		       resolver_name(r));
	resolver_free(r);
	return ok ? 0 : 1;
}
