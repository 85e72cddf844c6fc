/* SPDX-License-Identifier: MIT */
/* The fixture of the sync unit tests (test_sync*.c): a cluster of real
 * stores in a temporary directory, with distinct origins and one fake wall
 * clock, exchanging over the in-memory transport (tests/lib/simnet); it
 * remembers every version written so that every exchange checks the hwm
 * invariant. Every helper fails the test on an error. */
#ifndef RUMOR_TEST_SYNC_FIXTURE_H
#define RUMOR_TEST_SYNC_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "resolver/resolver.h"
#include "store/store.h"
#include "sync/sync.h"
#include "tests/lib/simnet.h"
#include "tests/lib/testutil.h"
#include "wire/wire.h"

#define NODES_MAX 8

struct node {
	char *dir;
	struct store *store;
	struct resolver *res;
	uint8_t origin[STORE_ORIGIN_BYTES];
};

struct cluster {
	char *base;
	int n;
	uint64_t wall;                 /* the fake wall clock of every node */
	int tick;                      /* advance wall on every read */
	rumor_resolve_fn fn;
	struct node nodes[NODES_MAX];
	struct simnet_version *all;    /* every version ever written */
	size_t n_all, cap_all;
};

/* n nodes (at most NODES_MAX), each store opened with a resolver of fn
 * (NULL: the default order); cluster_free closes and deletes them all. */
struct cluster *cluster_new(int n, rumor_resolve_fn fn);
void cluster_free(struct cluster *c);
/* (Re)opens node i's store on its directory. */
void node_open(struct cluster *c, int i);

/* Writes on node i, remembered for the invariant checks. */
void put_bin(struct cluster *c, int i, const void *key, size_t kl,
	     const void *val, size_t vl);
void put(struct cluster *c, int i, const char *key, const char *val);
void del(struct cluster *c, int i, const char *key);
/* keys writes on node i, half of them shared by every node (conflicts),
 * every fifth deleted. */
void write_mix(struct cluster *c, int i, int keys);
/* keys keys "bulk/NNNNNN" on node i, each with vlen bytes of 'v'. */
void fill_node(struct cluster *c, int i, int keys, size_t vlen);

/* One complete exchange between nodes a and b (cfg NULL: defaults), then
 * the hwm invariant on both. */
void exchange_cfg(struct cluster *c, int a, int b,
		  const struct sync_config *cfg);
void exchange(struct cluster *c, int a, int b);
/* Node 0 with everyone, twice: node 0 gathers all, then gives all. */
void exchange_all(struct cluster *c);

/* A session on one store whose transport keeps every frame (the peer is
 * the test, feeding frames by hand), with a clock, the refusals and the
 * rounds the session asked for. tap_free frees the frames and the
 * decoder (a tap is set up again by tap_session). */
#define TAP_MAX 64
struct tap {
	struct wire_buf frames[TAP_MAX];
	int n;
	uint64_t now;                  /* transport.now_ms; starts at 1000 */
	int want_round;                /* cb.on_want_round calls */
	uint64_t refused[REFUSE_COUNT];
	struct wire_decoder dec;       /* for tap_msg */
};

struct sync_session *tap_session(struct store *s, struct tap *t);
void tap_free(struct tap *t);
/* Frame i decoded with dec; its type must be type. */
void tap_decode(struct tap *t, int i, struct wire_decoder *dec,
		struct wire_msg *m, int type);
/* The same with the tap's own decoder. */
void tap_msg(struct tap *t, int i, struct wire_msg *m, int type);
/* Feeds ss an hwm-shaped message (DIGEST, DONE, IHAVE, PRUNE, GRAFT) of
 * exchange xid with n (0 or 1) HWMs: (origin, hwm). Returns what
 * sync_session_receive returned. */
int feed_hwms(struct sync_session *ss, int type, uint64_t xid,
	      const uint8_t *origin, uint64_t hwm, size_t n);

/* Every store checks, keeps the invariant and equals node 0's. */
void assert_converged(struct cluster *c);
/* key's value on node i is want (NULL: absent). */
void assert_value(struct cluster *c, int i, const char *key,
		  const char *want);

#endif
