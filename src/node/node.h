/* SPDX-License-Identifier: MIT */
/*
 * node: one rumor node over one io (io/io.h): the store, the resolver, the
 * identity, the network side (node_net.h) and the control socket.
 * Implements include/rumor.h with node.c (data), node_open.c (open,
 * reload, close) and run_uv.c (the libuv loop owner). node_open() is the
 * entry point for a node on any io (the cluster simulator's).
 */
#ifndef RUMOR_NODE_H
#define RUMOR_NODE_H

#include "rumor.h"
#include "crypto/identity.h"
#include "io/io.h"
#include "lib/err.h"
#include "lib/prefixes.h"
#include "resolver/resolver.h"
#include "store/store.h"
#include "node/node_ctl.h"
#include "node/node_net.h"

#define NODE_DB_DIR "db"
/* Strong writes: the default bound of each phase, the largest quorum. */
#define STRONG_TIMEOUT_DEFAULT_MS 2000u
#define STRONG_QUORUM_MAX 1024u

struct node_env {
	struct io *io;    /* the node's io; not owned, outlives the node */
	/* Test fault hook, passed to store_hooks.before_commit
	 * (src/store/store.h); NULL: none. */
	int (*before_commit)(void *arg, const char *what);
	void *hook_arg;
	/* Test fault hook of strong writes, called with hook_arg at each
	 * step named in src/node/strong.c (the RUMOR_TEST_FAULT steps);
	 * nonzero: the process died there, the node stops at once. NULL:
	 * none. */
	int (*strong_step)(void *arg, const char *step);
	/* Test option: leave WIRE_HELLO_WHY out of HELLO, as a node older
	 * than `rumorctl why` would (peers list it as unsupported). */
	int no_why;
};
/* rumor_open over a given io. errmsg as in rumor_open. o->loop is
 * ignored; everything timed or networked goes through env->io. A failure
 * after the network started (e.g. the control socket) leaves those parts
 * closing on the io: run its loop until they are done. Close the node
 * with rumor_close() (or node_close()): its callback fires from the io's
 * loop, or before the call returns when nothing was left to wait for. */
int node_open(struct rumor **out, const struct rumor_options *o,
	      const struct node_env *env, char *errmsg, size_t errlen);

struct node_uv;
struct strong;

struct rumor {
	/* Time, timers, background work and the network; not owned. */
	struct io *io;
	/* Set by run_uv.c for a node it made (its loop and io); NULL for
	 * one opened with node_open(). */
	struct node_uv *uv;
	/* Test fault hook of struct node_env. */
	int (*before_commit)(void *arg, const char *what);
	void *hook_arg;
	int no_why;                  /* node_env.no_why */

	char *data_dir;
	struct rumor_options opt;    /* copy; string fields point into strs */
	struct identity id;
	char id_str[IDENTITY_ID_STRLEN];
	uint8_t network_key[NETWORK_KEY_BYTES];
	int open_network;

	/* opt.namespace_prefix and opt.replicate, copied (lib/prefixes.h):
	 * ns holds zero or one prefix. */
	struct prefixes ns;
	struct prefixes repl;

	struct resolver *resolver;
	struct store *store;
	struct node_net *net;        /* NULL while closed */
	struct control *control;     /* the control socket, or NULL */

	/* RUMOR_FSYNC_EVERYSEC: a weak timer hands store_sync() to the
	 * io's background work once a second when anything changed. */
	struct io_timer *sync_timer;
	int sync_busy;               /* a store_sync() is running */
	int sync_failed;             /* its result, read after it ran */
	uint64_t synced_changes;     /* change count the last sync covered */
	uint64_t sync_target;        /* change count the running one covers */
	int pending_closes;          /* parts still closing in node_close */

	/* Change streams (tail.c; rumorctl watch is one), besides
	 * opt.on_change. */
	struct rumor_tail *tails;

	/* Strong writes (strong.c, strong_part.c): transactions, locks,
	 * counters; NULL once closed. */
	struct strong *strong;

	struct err last_err;
	int closing;
	void (*close_cb)(void *arg);
	void *close_arg;
};

/* Copies caller options src into dst: the library's defaults, then the
 * first src->size bytes of src, so fields an older caller's header lacks
 * keep their defaults. oldest is the smallest size accepted
 * (RUMOR_OPTIONS_SIZE_V1; a test passes a smaller one to play a caller of
 * an older version). RUMOR_EINVAL, with a message, when src->size is
 * below oldest or above sizeof *dst; dst is then unspecified. Borrowed
 * pointers in src are copied as pointers. */
int node_options_import(struct rumor_options *dst,
			const struct rumor_options *src, size_t oldest,
			struct err *err);

/* What run_uv.c adds to node_open. */
struct node_open_ext {
	/* A failure after parts started leaves them closing on the io:
	 * then closing is set, and closed(arg) fires once the node is
	 * freed (maybe before node_open_ex returns). */
	void (*closed)(void *arg);
	void *arg;
	int closing;
};
int node_open_ex(struct rumor **out, const struct rumor_options *o,
		 const struct node_env *env, struct node_open_ext *ext,
		 char *errmsg, size_t errlen);

/* Closes every part of n on its io, then frees n and calls cb(arg) (if
 * not NULL): from the io's loop, or before this returns when nothing
 * was left to wait for. Never blocks. */
void node_close(struct rumor *n, void (*cb)(void *arg), void *arg);

/* Records the failure of a public call for rumor_errmsg(); returns its
 * code. */
int node_fail(struct rumor *n, const struct err *e);
/* The store's change hook: the live stream, the user's callback, then
 * the change streams. */
void node_on_change(void *arg, const struct rumor_version *v, int local,
		    uint64_t pos);
/* tail.c: gives a change, just durable at pos, to the live streams. */
void node_tails_on_change(struct rumor *n, const struct rumor_version *v,
			  uint64_t pos);
/* tail.c: at node close, the streams the caller left open stop for good
 * (rumor_tail_close still frees them). */
void node_tails_detach(struct rumor *n);
/* Changes not yet known fsynced (RUMOR_FSYNC_EVERYSEC; else 0). */
uint64_t node_unsynced_changes(struct rumor *n);

/* Whether the node is catching up with its peers (strong.c). */
int node_catching_up(struct rumor *n);
/* strong.c: the strong-write state, its intents recovered from the
 * store (their keys locked, each resolving after the strong timeout).
 * RUMOR_ENOMEM, RUMOR_ECORRUPT, RUMOR_EIO. */
int strong_open(struct rumor *n, const struct node_env *env,
		struct err *err);
/* Frees it; every pending strong write's cb fires once, with
 * RUMOR_ECLOSED (or its result when it had one). Nothing when closed. */
void strong_close(struct rumor *n);
/* The strong_* counters of rumor_stats. */
void strong_fill_stats(struct rumor *n, struct rumor_stats *st);
/* node.c: RUMOR_EOUTSIDE unless key is inside the namespace and the
 * replicate set (what prefixes the message). */
int node_check_key(struct rumor *n, const void *key, size_t key_len,
		   const char *what, struct err *err);

/* Wall clock in ms since the epoch: the rumor_options hook when given,
 * else the io's. */
uint64_t node_wall_ms(struct rumor *n);

#endif
