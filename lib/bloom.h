/* SPDX-License-Identifier: MIT */
/*
 * bloom: a blocked, scalable Bloom filter over 64-bit hashes, in memory.
 *
 * It only ever says "maybe" or "certainly not"; nothing is ever removed.
 * Blocked: the probes of a hash fall into one 512-bit block (one cache
 * line), so a lookup is one cache miss per layer. Scalable: when the
 * newest layer holds the hashes it was sized for, a layer BLOOM_GROWTH
 * times larger is added (bounded work, no rehash of what is in), so
 * layers pile up only as the set grows past its first size. The caller
 * owns a struct bloom (zeroed, then bloom_add_layer) and frees it with
 * bloom_free. Not thread-safe.
 */
#ifndef RUMOR_LIB_BLOOM_H
#define RUMOR_LIB_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#define BLOOM_BLOCK_WORDS 8u    /* 512 bits: one cache line */
#define BLOOM_BITS_PER_KEY 10u  /* ~1% false positives at capacity */
#define BLOOM_PROBES 7u         /* 7 x 9 bits of the second hash */
#define BLOOM_GROWTH 4u

struct bloom_layer {
	uint64_t *words;
	uint64_t block_mask;    /* blocks - 1; blocks is a power of two */
	uint64_t cap;           /* hashes it was sized for */
	uint64_t n;             /* hashes added */
};

struct bloom {
	struct bloom_layer *layers;
	size_t n_layers;
};

/* A 64-bit finalizer (murmur3's): every input bit reaches every output
 * bit. For hash tables and filters, never for anything adversarial. */
uint64_t bloom_mix(uint64_t h);
/* A 64-bit hash of len bytes (memory only: the result depends on the
 * machine's byte order, so it must never be stored or sent). */
uint64_t bloom_hash(const void *key, size_t len);

/* Adds a layer sized for cap hashes. 0, or -1 when out of memory (the
 * filter is unchanged and still usable). */
int bloom_add_layer(struct bloom *b, uint64_t cap);
/* Frees the layers; b is empty (zeroed) afterwards. */
void bloom_free(struct bloom *b);
/* Whether hash h may have been added (0: certainly not). */
int bloom_maybe(const struct bloom *b, uint64_t h);
/* Asks the CPU to fetch the blocks h maps to (in every layer, or in the
 * newest only, where adds go), so that a lookup or add a little later
 * does not wait for memory. No effect on the contents. */
void bloom_prefetch(const struct bloom *b, uint64_t h, int newest_only);
/* Adds hash h. Requires at least one layer. Never fails: when the newest
 * layer is full and a larger one cannot be had, it takes more hashes than
 * it was sized for (more false positives, never a wrong "certainly
 * not"). */
void bloom_add(struct bloom *b, uint64_t h);

#endif
