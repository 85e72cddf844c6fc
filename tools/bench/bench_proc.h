/* SPDX-License-Identifier: MIT */
/* bench_proc.h: what the files of rumor-bench proc share (proc.c: the
 * options, the namespace and the driver; proc_node.c: rumord processes
 * and the control client; proc_latency.c: latency and copies;
 * proc_bulk.c: catch-up and steady; proc_redis.c: the Redis anchors). */
#ifndef RUMOR_BENCH_PROC_H
#define RUMOR_BENCH_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rumor.h"
#include "wire/wire_ctl.h"

#define PROC_DEFAULT_NODES 5
#define PROC_BIG_NODES 20
#define PROC_MAX_NODES 64
#define PROC_DEFAULT_WRITES 200
#define PROC_DEFAULT_KEYS 1000000
#define PROC_DEFAULT_SECONDS 3
#define PROC_DEFAULT_GAP_MS 5
#define PROC_LOAD_RATE 10000       /* background writes/s (latency) */
#define PROC_COPIES_WRITES 2000    /* writes of the copies phase */
#define PROC_PIPELINE 64           /* writes in flight, pipelined writers */
#define PROC_BASE_PORT 17000       /* rumord i listens on 127.0.0.1:BASE+i */
#define PROC_REDIS_PORT 16379
#define PROC_START_MS 10000        /* a process answers within this */
#define PROC_MESH_MS 30000         /* a cluster meshes within this */
#define PROC_SAMPLE_MS 10000       /* a write is visible within this */
#define PROC_LOAD_BATCH 10000      /* keys per rumor_write loading A */

/* Targets (issue 12, item 6 and 4, 5). */
#define TARGET_P50_MS 1.0
#define TARGET_P99_MS 5.0
#define TARGET_P99_BIG_MS 10.0
#define TARGET_P99_LOAD_MS 20.0
#define TARGET_COPIES 1.5
#define TARGET_CATCHUP_RAW 0.5      /* raw time / catch-up time */
#define TARGET_CATCHUP_REDIS 1.0    /* Redis diskless / catch-up time */
#define TARGET_STEADY_RAW 0.5       /* applied rate / raw batched rate */
#define TARGET_STEADY_REDIS 1.0     /* applied rate / Redis replica rate */

struct proc_opts {
	size_t nodes;                /* latency, copies: the small cluster */
	size_t big_nodes;            /* latency: the large cluster */
	size_t writes;               /* latency: probe writes per figure */
	size_t keys;                 /* catch-up */
	size_t seconds;              /* steady */
	int load_spread;             /* latency: background load on every node
					(else on node 0 alone) */
	size_t gap_ms;               /* latency: idle time before a probe, at
					least; at random up to twice that */
	const char *only;            /* NULL: every phase */
	const char *root;            /* the temp dir, removed at the end */
	char rumord[4096];
	char rumorctl[4096];
	int have_redis;
};

/* ------------------------------------------------ nodes (proc_node.c) */

struct proc_node {
	int index;
	pid_t pid;                   /* 0: not running */
	char dir[4200];
	char addr[32];               /* 127.0.0.1:PORT */
};

/* Starts rumord for n (dir and addr set by proc_node_init) with the given
 * seeds, and waits until its control socket answers STATUS. 0, or -1
 * (printed; the process is stopped). */
void proc_node_init(struct proc_node *n, const struct proc_opts *o,
		    int index, const char *name);
int proc_node_start(struct proc_node *n, const struct proc_opts *o,
		    const char *const *seeds, size_t n_seeds);
/* SIGTERM, then SIGKILL after a few seconds; reaps it. */
void proc_node_stop(struct proc_node *n);

/* Spawns argv (argv[0] a path, or a name looked up in PATH) with stdout and stderr to log (NULL:
 * /dev/null); the pid, or -1. */
pid_t proc_spawn(char *const argv[], const char *log);
/* SIGINT, SIGTERM, SIGHUP kill every process proc_spawn started and
 * not yet stopped, remove root (kept by pointer), then end the bench. */
void proc_catch_signals(const char *root);
/* Waits for pid to end: its exit status, or -1 (killed, not ours). */
int proc_wait(pid_t pid);
/* Stops pid as proc_node_stop does. */
void proc_kill(pid_t pid);

/* A blocking control connection: frames of src/wire/wire_ctl.h. */
struct ctlc {
	int fd;
	uint8_t *body;             /* input: read in chunks, frames parsed */
	size_t cap;
	size_t len;                /* bytes held in body */
	size_t off;                /* the next frame starts here */
	struct wire_buf out;       /* requests queued, not yet written */
};

/* Connects to DIR/control.sock: 0, or -1 (errno kept). */
int ctlc_open(struct ctlc *c, const char *dir);
void ctlc_close(struct ctlc *c);
/* Sends one request (whole, blocking): 0 or -1. */
int ctlc_send(struct ctlc *c, const struct ctl_request *rq);
/* Queues a request (ctlc_flush writes every queued one in one go, as a
 * pipelining client does): 0 or -1. */
int ctlc_queue(struct ctlc *c, const struct ctl_request *rq);
int ctlc_flush(struct ctlc *c);
/* Reads one reply into r (ctl_reply_free it): 0, or -1 (closed, bad
 * frame). timeout_ms < 0: no bound. */
int ctlc_recv(struct ctlc *c, struct ctl_reply *r, int timeout_ms);
/* Nonzero when a whole reply is buffered: ctlc_recv returns it without
 * reading (poll does not see it: drain it before polling again). */
int ctlc_buffered(const struct ctlc *c);
/* PUT key value and wait for OK: 0 or -1. */
int ctlc_put(struct ctlc *c, const void *key, size_t klen,
	     const void *value, size_t vlen);
/* STATUS into st: 0 or -1. */
int ctlc_status(struct ctlc *c, struct ctl_status *st);
/* STATUS of the node at dir on a fresh connection: 0 or -1. */
int proc_status(const char *dir, struct ctl_status *st);

/* `rumorctl --json status` of the node at dir; the value of counter
 * name (its JSON key) into *v: 1 found, 0 absent, -1 rumorctl failed. */
int proc_ctl_counter(const struct proc_opts *o, const char *dir,
		     const char *name, uint64_t *v);

/* Starts n nodes named prefix-i, seeded to one another, and waits until
 * each has n - 1 peers connected. 0, or -1 with every node stopped. */
int proc_cluster_start(struct proc_node *nodes, size_t n,
		       const struct proc_opts *o, const char *prefix);
void proc_cluster_stop(struct proc_node *nodes, size_t n);

/* Sorted samples: the p-th percentile (0..100). */
double proc_percentile(const double *sorted, size_t n, double p);
void proc_sort(double *v, size_t n);

/* ---------------------------------------- phases (proc_*.c): 1 targets
 * met, 0 not met, -1 failed. */
/* The small cluster (o->nodes): latency idle and under load, and/or
 * copies per entry; the big one (o->big_nodes): latency idle. */
int proc_small_cluster(const struct proc_opts *o, int latency, int copies);
int proc_big_cluster(const struct proc_opts *o);
int proc_catchup(const struct proc_opts *o);
int proc_steady(const struct proc_opts *o);
/* Strong writes beside gossip writes on 3 nodes (proc_strong.c). */
int proc_strong(const struct proc_opts *o);

/* ---------------------------------------------- Redis (proc_redis.c) */

/* Full sync of keys [0, count) from a loaded master to a fresh replica,
 * from REPLICAOF until link up with every key: seconds into *diskless
 * and *disk. 0, or -1 (printed). */
int proc_redis_fullsync(const struct proc_opts *o, size_t count,
			double *diskless, double *disk);
/* A master and a replica; a pipelined writer on the master for ms:
 * writes/s acknowledged and applied on the replica. 0, or -1. */
int proc_redis_stream(const struct proc_opts *o, size_t ms, double *written,
		      double *applied);

#endif
