/* SPDX-License-Identifier: MIT */
/*
 * sim_cluster: whole rumor nodes on the hosts of a simulated world
 * (tests/lib/sim.h), with the faults a process can meet (crashes at a
 * store commit, kills, restarts on the same data dir or on a stale copy
 * of it, silences) and a model of what the cluster must hold: every
 * change a node committed locally (seen through on_change), the winner of
 * each key under the resolver order. Used by
 * tests/integration/test_cluster.c; failures print the one command line
 * that replays the schedule and exit.
 */
#ifndef RUMOR_TESTS_SIM_CLUSTER_H
#define RUMOR_TESTS_SIM_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "rumor.h"
#include "resolver/resolver.h"
#include "tests/lib/sim.h"
#include "tests/lib/simnet.h"

#define SIMC_NODES_MAX 7
#define SIMC_KEYS 8
#define SIMC_KEY_LEN 3
#define SIMC_PORT 7000
/* Tombstone collection is checked this often (virtual ms). */
#define SIMC_CHECK_MS 100u
#define SIMC_VERIFIED_MAX 256
/* A partial node's replicate set: at most this many prefixes. */
#define SIMC_SET_MAX 3

struct simc;

enum simc_state {
	SIMC_DOWN = 0,     /* closed; its data dir is on disk */
	SIMC_UP,
	SIMC_CRASHED,      /* host dead, node still to be discarded */
};

struct simc_node {
	struct simc *c;
	int idx;
	char *dir;                  /* data dir */
	char *stale;                /* a copy taken while closed, or NULL */
	struct rumor *r;            /* open node (UP, CRASHED) */
	enum simc_state state;
	int closing;                /* rumor_close in progress */
	uint8_t pk[RUMOR_NODE_ID_BYTES];
	uint64_t commits;           /* store commits attempted */
	uint64_t crash_at;          /* commit number that dies; 0: none */
	/* The highest HWM for each node's origin it ever had (a stale
	 * restart lowers the HWMs; collections decided before it relied on
	 * the old ones). */
	uint64_t hwm_max[SIMC_NODES_MAX];
	/* Tombstone collections already checked: (origin node, seq). */
	struct {
		int origin;
		uint64_t seq;
	} verified[SIMC_VERIFIED_MAX];
	size_t n_verified;
	/* After a stale restart: writes wait until the local seq counter
	 * reaches this (the node relearned its own writes). */
	uint64_t gate_seq;
	uint64_t started_ms;        /* virtual time of the last start */
	int catchup_pending;        /* its catch-up has not been seen to end */
	uint64_t restarts, crashes, stale_restarts;
	/* A crash armed at a strong-write step (node_env.strong_step): the
	 * crash_step_nth-th time step crash_step is reached. */
	char crash_step[32];
	uint64_t crash_step_nth;
	uint64_t step_crashes;
	/* One commit named fail_what fails, the process lives on
	 * (simc_arm_fail); fail_what[0] == 0: none armed. */
	char fail_what[32];
	uint64_t fails;
	/* Stale restarts on a copy behind its own seqs held elsewhere: the
	 * heal rule's case (src/sync/claims.c; SIM.md, found 8). */
	uint64_t restored;
};

/* A node's replicate set (rumor_options.replicate) and namespace: prefixes
 * of the schedule's keys ("k", or a whole key "k\0" digit). n == 0: a full
 * node (every key). ns_len == 0: no namespace. */
struct simc_set {
	uint8_t pfx[SIMC_SET_MAX][SIMC_KEY_LEN];
	size_t len[SIMC_SET_MAX];
	size_t n;
	uint8_t ns[SIMC_KEY_LEN];
	size_t ns_len;
};

struct simc_params {
	int n;                      /* nodes, 3..SIMC_NODES_MAX */
	int multicast;              /* discovery by multicast, else seeds */
	int fsync;                  /* enum rumor_fsync */
	rumor_resolve_fn resolve;
	uint32_t interval_min_ms, interval_max_ms, catchup_wait_ms;
	uint32_t suspect_after_ms, gone_after_ms;
	/* Hosts beyond the nodes' (hosts n, n+1, ...): for adversaries
	 * (tests/lib/sim_evil.h). */
	int extra_hosts;
	/* Nodes (bit i: node i) that run rounds only (rumor_options
	 * no_live): schedules mix live streams with a node that has none. */
	unsigned no_live_mask;
	/* Nodes (bit i: node i) whose HELLO lacks WIRE_HELLO_WHY
	 * (node_env.no_why), as a node older than `rumorctl why`. */
	unsigned no_why_mask;
	/* Replicate sets (tests/lib/sim_partial.c): node i is partial when
	 * sets[i].n > 0. */
	struct simc_set sets[SIMC_NODES_MAX];
	/* Strong writes (tests/lib/sim_strong.h): rumor_options consistency,
	 * quorum and strong_timeout_ms of every node. */
	int consistency;
	uint32_t quorum, strong_timeout_ms;
};

struct simc {
	uint64_t seed;
	const char *prog;
	char *base;                 /* schedule dir (removed at the end) */
	char *netkey_path;
	struct sim *sim;
	struct simc_params p;
	struct resolver *res;       /* the model's order */
	struct simc_node nodes[SIMC_NODES_MAX];
	/* The model: every change committed locally and not lost. */
	struct simnet_version *all;
	size_t n_all, cap_all;
	/* Versions a later local write superseded (by its node's having
	 * seen them), with that write: back into the model if a stale
	 * restart loses the write while they are still held somewhere. */
	struct simc_shadow {
		struct simnet_version v;
		int sup_origin;
		uint64_t sup_seq;
	} *shadow;
	size_t n_shadow, cap_shadow;
	/* Versions a stale restart took out of the model: held by no store
	 * then, but maybe still in flight to one (a message to a silent
	 * node); back in the model if a store comes to hold them. */
	struct simnet_version *limbo;
	size_t n_limbo, cap_limbo;
	int trace;
	int known_bugs;             /* RUMOR_SIM_KNOWN_BUGS: fail on them */
	int hit_known;              /* a known bug struck: stop */
	int rewrite_collected;      /* RUMOR_SIM_KNOWN_BUGS too */
	/* Whether the checks hold partial nodes to their sets (else they
	 * only confine their writes, and are checked as full nodes). */
	int sets_checked;
	uint64_t next_check;        /* virtual time of the next check */
	uint64_t local_changes;     /* on_change calls for local writes */
	/* figures */
	uint64_t writes, refused, ctl_writes, cuts, partitions, pauses;
	uint64_t tombstones_seen_collected, checks;
	uint64_t outside_refused;   /* writes outside a set, refused */
	uint64_t end_collected;     /* tombstones collected after the heal */
	uint64_t end_collect_ms;    /* virtual ms that took, after settling */
};

void simc_fail(struct simc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
#define SIMC_TRACE(c, ...) \
	do { if ((c)->trace) simc_trace(c, __VA_ARGS__); } while (0)
void simc_trace(struct simc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A world and n nodes' data dirs (identities from the seed) under base;
 * nothing started. */
void simc_begin(struct simc *c, uint64_t seed, const char *base,
		const char *prog, const struct simc_params *p);
/* Closes every node, frees the world, removes the dirs. */
void simc_end(struct simc *c);

void simc_key(unsigned k, uint8_t key[SIMC_KEY_LEN]);

/* Node life. start: a DOWN node opens on its host. stop: a clean close.
 * kill: the process dies between commits. arm_crash: the k-th next store
 * commit (k >= 1) of node i fails, and the process dies there. */
void simc_start(struct simc *c, int i);
void simc_stop(struct simc *c, int i);
void simc_kill(struct simc *c, int i);
void simc_arm_crash(struct simc *c, int i, uint64_t k);
/* The nth next time (n >= 1) node i reaches strong-write step `step`
 * (a RUMOR_TEST_FAULT name), its process dies there. */
void simc_arm_step(struct simc *c, int i, const char *step, uint64_t n);
/* The next store commit of node i named `what` (the store's name for
 * it: "strong commit", "strong apply", "intent", ...) fails with
 * RUMOR_EIO, and the process lives on (a disk error, not a crash). */
void simc_arm_fail(struct simc *c, int i, const char *what);
/* A DOWN node: copy its data dir aside (the stale copy). */
void simc_save_stale(struct simc *c, int i);
/* A DOWN node with a stale copy restarts on it: the writes that only its
 * newer state held leave the model. */
void simc_start_stale(struct simc *c, int i);
int simc_up(const struct simc *c, int i);

/* Runs virtual time to t, discarding nodes that crash on the way, and
 * checking tombstone collection every SIMC_CHECK_MS. */
void simc_run_until(struct simc *c, uint64_t t);
/* The same, until cond(arg) holds (1) or the deadline passes (0). */
int simc_run_cond(struct simc *c, int (*cond)(void *arg), void *arg,
		  uint64_t deadline);

/* A random put or delete on node i through the API; 0 acknowledged, 1
 * refused (catching up or gated), -1 the node crashed. */
int simc_write(struct simc *c, int i);
/* The same through node i's control socket; the reply is awaited. */
void simc_ctl_write(struct simc *c, int i);
/* GETs every key through node i's control socket and compares with the
 * model. */
void simc_ctl_check(struct simc *c, int i);
/* One control request to node i whose reply is awaited later:
 * simc_ctl_start sends it; simc_ctl_answered(call) says whether its reply
 * (or the end of the stream) came, a cond for simc_run_cond;
 * simc_ctl_finish decodes the reply into r (0; free it as ctl_reply_free
 * says, a VALUE's value with free too) or returns -1 when the stream
 * ended first, and frees the call. */
struct ctl_request;
struct ctl_reply;
struct simc_ctl_call;
struct simc_ctl_call *simc_ctl_start(struct simc *c, int i,
				     const struct ctl_request *rq);
int simc_ctl_answered(void *call);
int simc_ctl_finish(struct simc_ctl_call *call, struct ctl_reply *r);

/* Checks (fail on violation) */
void simc_check_tombstones(struct simc *c);
void simc_check_hwm(struct simc *c, int i);
void simc_check_model(struct simc *c, int i);
/* Whether every up node holds the model and knows every other as alive,
 * and none is catching up. */
int simc_settled(struct simc *c, char *why, size_t len);

/* Before a stale restart of node i: the model forgets the changes that
 * no other node and not the stale copy holds (lost with the newer state),
 * and the node's gate_seq is set to the highest seq of its own origin
 * any other node holds or the limbo keeps (it may be in flight to a
 * silent node). */
void simc_forget_lost(struct simc *c, int i);
/* Whether writing key on node i now would hit the known loss of a
 * rewrite after tombstone collection (see simc_write; never when
 * rewrite_collected is set). */
int simc_rewrite_risky(struct simc *c, int i, const uint8_t *key,
		       size_t key_len);
/* Limbo versions some open store now holds go back into the model. */
void simc_resolve_limbo(struct simc *c);
/* Whether restarting node i on its stale copy would resurrect a version
 * whose deletion every other node has collected (never when known_bugs
 * is set). */
int simc_stale_resurrects(struct simc *c, int i);
/* Whether node i may be given a write now (see simc_write). */
int simc_may_write(struct simc *c, int i);
/* Records node j's current HWMs into its highest ever (open nodes). */
void simc_note_hwms(struct simc *c, int j);
/* The node index of an origin (-1: none). */
int simc_origin_index(const struct simc *c, const uint8_t *origin);

/* Partial nodes (sim_partial.c) */
/* Draws, from seed alone (the world's PRNG is left as it was, so that
 * schedules without partial nodes stay as they were), whether the
 * schedule has partial nodes: one schedule in three gets one or two,
 * each with 1 to 3 prefixes and, half of the time, a namespace within
 * them. */
void simc_draw_sets(uint64_t seed, struct simc_params *p);
/* Whether node i is partial. */
int simc_partial(const struct simc *c, int i);
/* How many nodes of the schedule are partial (0, 1 or 2). */
int simc_partial_count(const struct simc *c);
/* Whether node i replicates key: its set matches it, or it is full (or
 * its set is not checked). */
int simc_in_set(const struct simc *c, int i, const uint8_t *key,
		size_t key_len);
/* Picks a random key of the schedule that node i may write (in its set
 * and namespace). Full nodes draw as they always did. */
void simc_pick_key(struct simc *c, int i, uint8_t key[SIMC_KEY_LEN]);
/* Sometimes (one write in ten on a partial node) tries a write outside
 * node i's set or namespace: it must be refused with RUMOR_EOUTSIDE
 * (or RUMOR_EREFUSED while catching up) and change nothing. */
void simc_try_outside(struct simc *c, int i);
/* Node i (open) stores nothing for any key outside its set. */
void simc_check_outside(struct simc *c, int i);
/* Describes node i's set into buf ("full" for a full node). */
void simc_describe_set(const struct simc *c, int i, char *buf, size_t len);
/* After the heal (schedules with partial nodes): every node collects
 * every tombstone that wins its key, within bound_ms of virtual time;
 * the full nodes' collections of keys outside some partial node's set
 * are counted in end_collected. */
void simc_check_end_collection(struct simc *c, uint64_t bound_ms);

/* Prints every key's model winner and what each node holds. */
void simc_explain(struct simc *c);

/* The model's winner of key (NULL: never written). */
const struct simnet_version *simc_winner(struct simc *c, const uint8_t *key,
					 size_t key_len);
/* Node i holds the model's winner of key (or nothing for a tombstone). */
int simc_holds_winner(struct simc *c, int i, const uint8_t *key,
		      size_t key_len);

#endif
