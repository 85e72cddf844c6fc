/* SPDX-License-Identifier: MIT */
/*
 * why_int: what why.c (queries: asking, answering, waiting) and
 * why_verdict.c (from the answers to the verdict) share: one query and
 * its rows and versions. Private to those two files.
 */
#ifndef RUMOR_NODE_WHY_INT_H
#define RUMOR_NODE_WHY_INT_H

#include "node/net_int.h"
#include "node/node.h"

/* Origins whose HWMs an ask requests (the first this node knows). */
#define WHY_ORIGINS_ASKED 256u
/* Distinct versions one query keeps (with values up to
 * WIRE_WHY_VALUE_MAX each); an answer with one more is a bad answer. */
#define WHY_VERSIONS_MAX 16u

struct why_version {
	struct rumor_version v;        /* key: the query's; origin, value: below */
	uint8_t origin[RUMOR_NODE_ID_BYTES];
	uint8_t hash[WIRE_WHY_HASH_BYTES];
	uint8_t *value;                /* NULL: a deletion, or not carried */
	int have_value;
};

struct why_row {
	struct ctl_why_row out;
	int pending;                   /* asked, no answer yet */
	size_t version;                /* index in vers, or SIZE_MAX */
	uint64_t *hwms;                /* n_origins, once answered */
};

struct why_query {
	struct rumor *n;
	uint64_t id;
	uint8_t *key;
	size_t key_len;
	uint8_t (*origins)[RUMOR_NODE_ID_BYTES];
	size_t n_origins;
	struct why_row *rows;
	size_t n_rows, n_pending;
	struct why_version vers[WHY_VERSIONS_MAX];
	size_t n_vers;
	node_why_done_cb done;
	void *arg;
	struct io_timer *timer;
	int starting;                  /* node_why is still sending asks */
	struct why_query *next;
};

/* Fills row r from answer m (hwms: n_origins of them), keeping m's
 * version among q's distinct ones. 0, or -1 when the answer cannot be
 * used (a bad answer: hwms not one per origin asked, a value that does
 * not match its hash, one version too many, or memory ran out). */
int why_fill_row(struct why_query *q, struct why_row *r,
		 const struct wire_why *m, const uint64_t *hwms,
		 size_t n_hwms);

/* Fills every row's role and lags and the summary s: the winner under
 * this node's order and why, who is current, behind (with the lag),
 * diverged, and the verdict. Counts nothing. */
void why_decide(struct why_query *q, struct ctl_why_summary *s);

#endif
