/* SPDX-License-Identifier: MIT */
/* bloom: a blocked, scalable Bloom filter (contracts in bloom.h). */
#include "lib/bloom.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

uint64_t bloom_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* A 64-bit hash of a user key (memory only: byte order does not matter). */
uint64_t bloom_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h ^= bloom_mix(w);
		h = (h << 27 | h >> 37) * 5 + 0x52dce729u;
	}
	w = 0;
	memcpy(&w, p, len);
	return bloom_mix(h ^ bloom_mix(w ^ 0x2545f4914f6cdd1dull));
}

/* Adds a layer for cap keys; -1 when out of memory. */
int bloom_add_layer(struct bloom *b, uint64_t cap)
{
	struct bloom_layer *layers, *l;
	uint64_t blocks = 1, want;

	want = (cap * BLOOM_BITS_PER_KEY + BLOOM_BLOCK_WORDS * 64 - 1) /
	       (BLOOM_BLOCK_WORDS * 64);
	while (blocks < want)
		blocks <<= 1;
	layers = realloc(b->layers, (b->n_layers + 1) * sizeof *layers);
	if (layers == NULL)
		return -1;
	b->layers = layers;
	l = &layers[b->n_layers];
	l->words = calloc(blocks * BLOOM_BLOCK_WORDS, sizeof *l->words);
	if (l->words == NULL)
		return -1;
	l->block_mask = blocks - 1;
	l->cap = cap;
	l->n = 0;
	b->n_layers++;
	return 0;
}

void bloom_free(struct bloom *b)
{
	size_t i;

	for (i = 0; i < b->n_layers; i++)
		free(b->layers[i].words);
	free(b->layers);
	b->layers = NULL;
	b->n_layers = 0;
}

/* Whether key hash h may have been added (0: certainly not). */
int bloom_maybe(const struct bloom *b, uint64_t h)
{
	uint64_t g = bloom_mix(h ^ 0x6a09e667f3bcc909ull), pos;
	const uint64_t *block;
	size_t i;
	unsigned j;

	for (i = 0; i < b->n_layers; i++) {
		block = b->layers[i].words +
			(h & b->layers[i].block_mask) * BLOOM_BLOCK_WORDS;
		for (j = 0; j < BLOOM_PROBES; j++) {
			pos = (g >> (9 * j)) & 511u;
			if ((block[pos >> 6] & (1ull << (pos & 63))) == 0)
				break;
		}
		if (j == BLOOM_PROBES)
			return 1;
	}
	return 0;
}

/* Asks the CPU to fetch the blocks key hash h maps to (in every layer, or
 * in the newest only, where adds go), so that a lookup or add a few
 * versions later does not wait for memory: the filters of a large store
 * are far bigger than the caches, and every lookup of a new key touches
 * one block per layer. */
void bloom_prefetch(const struct bloom *b, uint64_t h,
			int newest_only)
{
	size_t i = newest_only && b->n_layers > 0 ? b->n_layers - 1 : 0;

	const uint64_t *block;

	for (; i < b->n_layers; i++) {
		block = b->layers[i].words +
			(h & b->layers[i].block_mask) * BLOOM_BLOCK_WORDS;
		/* The second argument must be a constant: the newest layer
		 * is about to be written. */
		if (newest_only)
			__builtin_prefetch(block, 1);
		else
			__builtin_prefetch(block, 0);
	}
}

/* Adds key hash h. Never fails: when the newest layer is full and a
 * larger one cannot be had, it takes more keys than it was sized for
 * (more false positives, never a wrong "certainly not"). */
void bloom_add(struct bloom *b, uint64_t h)
{
	uint64_t g = bloom_mix(h ^ 0x6a09e667f3bcc909ull), pos, *block;
	struct bloom_layer *l;
	unsigned j;

	assert(b->n_layers > 0);
	l = &b->layers[b->n_layers - 1];
	if (l->n >= l->cap && l->cap <= UINT64_MAX / BLOOM_GROWTH) {
		(void)bloom_add_layer(b, l->cap * BLOOM_GROWTH);
		/* b->layers may have moved, failure or not. */
		l = &b->layers[b->n_layers - 1];
	}
	block = l->words + (h & l->block_mask) * BLOOM_BLOCK_WORDS;
	for (j = 0; j < BLOOM_PROBES; j++) {
		pos = (g >> (9 * j)) & 511u;
		block[pos >> 6] |= 1ull << (pos & 63);
	}
	l->n++;
}
