/* SPDX-License-Identifier: MIT */
/*
 * bytes: comparisons of byte strings, and the hex digits they are
 * written in, that every layer shares.
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

/* The value of one hex digit (either case), or -1 for any other char. */
static inline int bytes_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
