/* SPDX-License-Identifier: MIT */
/*
 * sim_strong: clients of strong writes on the nodes of a simulated
 * cluster (tests/lib/sim_cluster.h), and the checks of issue 14. A
 * client on each node issues strong puts, deletes and batches
 * (rumor_write_strong, one in flight per node) and reads (rumor_get);
 * each op is recorded with its virtual invoke and complete times into a
 * history (tests/lib/lincheck.h): a write whose cb said 0 is ok; one that
 * said RUMOR_EABORTED, ENOTREADY or ELOCKED, or that did not start, is
 * failed (nothing applied anywhere: checked, no read anywhere may ever
 * return the value of a failed write); anything else (RUMOR_ETIMEDOUT,
 * RUMOR_ECLOSED, a cb on a node that crashed, or no cb because the node
 * crashed) is indeterminate. A read that returns RUMOR_ELOCKED or
 * RUMOR_ENOTREADY is a failed op. At the end: every node holds the same
 * value per key, no intent is pending, and the history per key is
 * linearizable.
 */
#ifndef RUMOR_TESTS_SIM_STRONG_H
#define RUMOR_TESTS_SIM_STRONG_H

#include <stddef.h>
#include <stdint.h>

#include "tests/lib/lincheck.h"
#include "tests/lib/sim_cluster.h"

/* The steps of node_env.strong_step (common to RUMOR_TEST_FAULT). */
#define SIMS_STEPS 6
extern const char *const sims_step_names[SIMS_STEPS];

struct sims_write;

struct sims {
	struct simc *c;
	struct lincheck h;
	struct sims_write *pend[SIMC_NODES_MAX]; /* in flight per node */
	struct sims_write *writes;               /* every one, to free */
	uint64_t counter;                        /* for unique values */
	int64_t last_t;                          /* last history time */
	int done;                                /* cbs from now on ignored */
	/* A quorum below all: reads before the quiet end may be stale (a
	 * member outside the quorum lags until gossip repairs it), so they
	 * are recorded as failed ops, not checked. */
	int stale_reads;
	int final;                               /* the end's reads */
	int last_result[SIMC_NODES_MAX];         /* node i's last cb */
	/* figures */
	uint64_t w_ok, w_failed, w_info, w_refused, w_twice;
	uint64_t w_aborted, w_locked, w_notready, w_timedout;
	uint64_t r_ok, r_locked, r_notready;
};

void sims_init(struct sims *s, struct simc *c);
/* Frees the history and the write records (after simc_end: a node's
 * close may still call a cb, which then only marks its record). */
void sims_free(struct sims *s);

/* A strong write on node i (up) of n keys (key numbers, distinct; del:
 * deletes them, else puts unique values). Returns 0 started, else the
 * code rumor_write_strong returned (recorded as failed). */
int sims_write(struct sims *s, int i, const unsigned *keys, size_t n,
	       int del);
/* A read of key k on node i (up), recorded. */
void sims_read(struct sims *s, int i, unsigned k);
/* One random client op on node i: a put, delete or batch when node i has
 * no write in flight (two times in three), else a read. */
void sims_client(struct sims *s, int i);
/* Writes in flight on nodes that are no longer up are indeterminate (no
 * cb will come from the process that died). Call after each step. */
void sims_note_down(struct sims *s);
/* Whether every write in flight has had its cb. */
int sims_idle(const struct sims *s);
/* Whether the cluster is quiet: every node up and ready, no intent
 * pending (rumor_stats strong_pending), every key the same on every node (in
 * the stores: value, or absent/tombstone). why says what is not. */
int sims_quiet(struct sims *s, char *why, size_t len);
/* Reads every key on every node (once quiet: they must all succeed). */
void sims_final_reads(struct sims *s);
/* Checks the history: no read returned the value of a failed write
 * (one whose cb promised nothing was applied), and the history is
 * linearizable; fails the schedule (simc_fail) with the checker's
 * explanation, and dumps the history to a file named in the message. */
void sims_check(struct sims *s);

#endif
