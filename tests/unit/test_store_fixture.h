/* SPDX-License-Identifier: MIT */
/* The fixture of the store's unit tests (test_store*.c): a store of
 * origin a in a temporary directory, with hooks that record changes and
 * inject commit failures and crashes, and the helpers every file uses. */
#ifndef RUMOR_TEST_STORE_FIXTURE_H
#define RUMOR_TEST_STORE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"
#include "resolver/resolver.h"

#define MAX_CHANGES 64

struct change {
	char key[32];
	uint64_t seq;
	uint64_t clock;
	int local;
	int deleted;
	uint64_t pos;                    /* change position */
};

struct fx {
	char *dir;
	struct store *s;
	struct resolver *r;
	uint8_t a[STORE_ORIGIN_BYTES];   /* this node */
	uint8_t b[STORE_ORIGIN_BYTES];
	uint8_t c[STORE_ORIGIN_BYTES];
	uint64_t now;
	int commits;
	int fail_at;                     /* refuse the n-th commit (0: never) */
	int exit_at;                     /* _exit at the n-th commit (0: never) */
	int write_in_hook_rv;
	struct change changes[MAX_CHANGES];
	int n_changes;
	size_t write_buffer_bytes;       /* LevelDB memtable (0: default) */
	const struct prefixes *filter;   /* store_options.filter */
	size_t outcomes_max;             /* store_options.outcomes_max */
	const char *exit_what;           /* exit_at counts only these */
};

struct log_list {
	int n;
	char keys[16][32];
	uint64_t seqs[16];
	int value_null[16];
};

int fx_open_with(struct fx *f, struct resolver *r, struct err *e);
void fx_open(struct fx *f);
void fx_reopen(struct fx *f);
int setup(void **state);
int teardown(void **state);
struct rumor_version ver(const char *key, const char *val,
			 uint64_t clock, const uint8_t *origin,
			 uint64_t seq, uint64_t wall);
void put(struct fx *f, const char *key, const char *val);
int apply_n(struct fx *f, const struct rumor_version *vs, size_t n,
	    int *out);
void apply1(struct fx *f, struct rumor_version v, int want_outcome);
void want_value(struct store *s, const char *key, const char *want);
struct store_record *version_of(struct store *s, const char *key);
void expect_check_ok(struct store *s);
int log_collect(void *arg, const struct rumor_version *v);
struct log_list log_of(struct store *s, const uint8_t *origin);
/* A put and a delete of a local batch (the strings must outlive it). */
struct store_op op_put(const char *key, const char *val);
struct store_op op_del(const char *key);

#endif
