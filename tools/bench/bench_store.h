/* SPDX-License-Identifier: MIT */
/* bench_store: what the store benchmark's files share (store.c: puts and
 * applies against raw LevelDB; store_upkeep.c: gc and fsync; store_layout.c: entry layouts in raw
 * LevelDB; store_log.c: listing the log). */
#ifndef RUMOR_BENCH_STORE_H
#define RUMOR_BENCH_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Key i, scrambled into hex and padded to key_bytes. */
void bstore_make_key(char *buf, size_t key_bytes, size_t i);
/* n incompressible bytes from seed. */
void bstore_fill_random(char *buf, size_t n, uint64_t seed);
/* Opens a store in dir with origin (32 bytes); -1 with a message. */
int bstore_open(struct store **s, const char *dir, const uint8_t *origin);

int bench_store_gc(int argc, char **argv);
int bench_store_fsync(int argc, char **argv);
int bench_store_layout(int argc, char **argv);
int bench_store_log(int argc, char **argv);

#endif
