/* SPDX-License-Identifier: MIT */
/*
 * endian: fixed-width big-endian integers, the byte order of every
 * integer rumor stores or sends (big-endian keys sort by value).
 */
#ifndef RUMOR_LIB_ENDIAN_H
#define RUMOR_LIB_ENDIAN_H

#include <stdint.h>

/* Writes v into p[0..7], most significant byte first. */
static inline void endian_put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* The value endian_put_be64 wrote into p[0..7]. */
static inline uint64_t endian_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Writes v into p[0..3], most significant byte first. */
static inline void endian_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The value endian_put_be32 wrote into p[0..3]. */
static inline uint32_t endian_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

#endif
