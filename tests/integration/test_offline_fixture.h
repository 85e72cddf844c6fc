/* SPDX-License-Identifier: MIT */
/* The fixture of the --offline tests (test_offline*.c): a data dir built
 * by a real node (local writes and deletes, a binary key, a second origin
 * applied as replication applies it), closed and copied; rumorctl run as
 * an operator runs it, with its output kept; snapshots of a directory
 * (every file's bytes, size and mtime, and the listing). */
#ifndef RUMOR_TEST_OFFLINE_FIXTURE_H
#define RUMOR_TEST_OFFLINE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"

#define OUT_MAX (1u << 20)
#define RUN_MAX_S 60        /* a rumorctl run killed after this */

struct fixture {
	char *base;
	char *node_dir;     /* base/node: the closed node's data dir */
	char *dir;          /* base/copy: the copy the tests inspect */
	char *tmp;          /* base/tmp: rumorctl's TMPDIR */
	char *out, *err;    /* the last run's standard output and error */
	uint8_t origin[STORE_ORIGIN_BYTES];
	/* Nonzero: rumorctl runs in a mount namespace of its own with a
	 * tmpfs of this many KiB as its TMPDIR (exit 77: none could be
	 * made). */
	unsigned tmpfs_kib;
};


/* The second origin's bytes (its two versions: user/remote, user/2). */
extern const uint8_t other_origin[STORE_ORIGIN_BYTES];

/* Runs rumorctl with the NULL-terminated arguments, TMPDIR = f->tmp;
 * f->out and f->err get its output. Returns its exit code. */
int ctl(struct fixture *f, ...);
/* Every entry under dir, as text: equal snapshots, an unchanged dir. */
char *snapshot(const char *dir);
/* Fails the test when anything is left in f->tmp. */
void assert_tmp_empty(const struct fixture *f);
/* 1 while a private copy (rumorctl-offline.*) is in f->tmp. */
int tmp_has_copy(void *arg);
/* Opens the store of data dir dir directly (tests only), as its node
 * does, with replicate set rep (NULL: every key). */
struct store *open_store_with(struct fixture *f, const char *dir,
			      const char *rep);
struct store *open_store(struct fixture *f, const char *dir);
/* A data dir of a node that wrote (replicate: its set, NULL: every key)
 * and then took two versions of other_origin. */
void node_writes(const char *dir, const char *const *replicate);
void remote_writes(struct fixture *f, const char *dir, const char *rep);
void read_origin(struct fixture *f, const char *dir);
int setup(void **state);
int teardown(void **state);

#endif
