/* SPDX-License-Identifier: MIT */
/*
 * bytes: comparisons of byte strings that every layer shares.
 */
#ifndef RUMOR_LIB_BYTES_H
#define RUMOR_LIB_BYTES_H

#include <stddef.h>
#include <string.h>

/* Bytewise order, a shorter string first on a common start: LevelDB's
 * default comparator, so the order of every scan. Negative, 0 or
 * positive. */
static inline int bytes_cmp(const void *a, size_t alen, const void *b,
			    size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

#endif
