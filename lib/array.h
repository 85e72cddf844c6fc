/* SPDX-License-Identifier: MIT */
/* array: growing a heap array by doubling. */
#ifndef RUMOR_LIB_ARRAY_H
#define RUMOR_LIB_ARRAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Makes room for need > *cap elements of elem bytes in arr, whose
 * capacity is *cap: the capacity doubles from first (or from *cap) until
 * it holds need. Returns the array to use from now on, with *cap updated,
 * or NULL when memory or size_t runs out, with arr and *cap untouched (arr
 * is still valid and the caller still owns it). Call it only when the
 * array must grow: with need <= *cap it returns arr, which may be NULL. */
static inline void *array_grow(void *arr, size_t *cap, size_t need,
			       size_t elem, size_t first)
{
	size_t n = *cap ? *cap : first;
	void *p;

	if (need <= *cap)
		return arr;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return NULL;
		n *= 2;
	}
	if (elem != 0 && n > SIZE_MAX / elem)
		return NULL;
	p = realloc(arr, n * elem);
	if (p == NULL)
		return NULL;
	*cap = n;
	return p;
}

#endif
