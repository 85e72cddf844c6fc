/* SPDX-License-Identifier: MIT */
/*
 * node: one rumor node on one libuv loop: the store, the resolver, the
 * identity, and (as they land) the transport, discovery and the
 * reconciliation scheduler. Implements include/rumor.h.
 */
#ifndef RUMOR_NODE_H
#define RUMOR_NODE_H

#include <uv.h>

#include "rumor.h"
#include "crypto/identity.h"
#include "lib/err.h"
#include "resolver/resolver.h"
#include "store/store.h"
#include "node/node_ctl.h"
#include "node/node_net.h"

#define NODE_DB_DIR "db"

struct rumor {
	uv_loop_t *loop;
	uv_loop_t own_loop;          /* used when the caller gave no loop */
	int owns_loop;

	char *data_dir;
	struct rumor_options opt;    /* copy; string fields point into strs */
	struct identity id;
	char id_str[IDENTITY_ID_STRLEN];
	uint8_t network_key[NETWORK_KEY_BYTES];
	int open_network;

	struct resolver *resolver;
	struct store *store;
	struct node_net *net;        /* NULL while closed */
	struct control *control;     /* the control socket, or NULL */

	/* RUMOR_FSYNC_EVERYSEC: a timer hands store_sync() to the thread
	 * pool once a second when anything changed. */
	uv_timer_t sync_timer;
	uv_work_t sync_work;
	int sync_timer_on;
	int sync_busy;               /* a store_sync() is running */
	int sync_failed;             /* its result, read after it ran */
	uint64_t synced_changes;     /* change count the last sync covered */
	uint64_t sync_target;        /* change count the running one covers */
	int pending_closes;          /* parts still closing in rumor_close */

	/* Change subscribers (rumorctl watch), besides opt.on_change. */
	struct node_watch *watches;

	struct err last_err;
	int closing;
	void (*close_cb)(void *arg);
	void *close_arg;
};

/* Wall clock in ms since the epoch (the test hook, else the system's). */
uint64_t node_wall_ms(struct rumor *n);


#endif
