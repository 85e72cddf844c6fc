/* SPDX-License-Identifier: MIT */
/* node: the librumor API over one store, one resolver, one identity. */
#include "node/node.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "config.h"
#include "lib/array.h"
#include "node/control.h"

/* ------------------------------------------------------------ helpers */

void node_log(struct rumor *n, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (n->opt.log == NULL || level > n->opt.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n->opt.log(n->opt.log_arg, level, msg);
}

/* Records the failure of a public call so rumor_errmsg() can tell it. */
static int node_fail(struct rumor *n, const struct err *e)
{
	n->last_err = *e;
	return e->code;
}

static int mkdir_p(const char *path, struct err *err)
{
	char buf[4096];
	size_t len = strlen(path);
	size_t i;

	if (len == 0 || len >= sizeof buf)
		return err_set(err, RUMOR_EINVAL, "data dir path is empty or too long");
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return err_set(err, RUMOR_EIO, "cannot create %s: %s",
				       buf, strerror(errno));
		buf[i] = path[i];
	}
	return 0;
}

uint64_t node_wall_ms(struct rumor *n)
{
	struct timespec ts;

	if (n->opt.wall_clock_ms != NULL)
		return n->opt.wall_clock_ms(n->opt.clock_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct node_watch {
	rumor_change_cb cb;
	void *arg;
	struct node_watch *next;
};

static uint64_t node_store_now_ms(void *arg)
{
	return node_wall_ms(arg);
}

static void node_on_change(void *arg, const struct rumor_version *v, int local)
{
	struct rumor *n = arg;
	struct node_watch *w, *next;

	if (n->opt.on_change != NULL)
		n->opt.on_change(n->opt.change_arg, v, local);
	/* A watcher may remove itself from its callback. */
	for (w = n->watches; w != NULL; w = next) {
		next = w->next;
		w->cb(w->arg, v, local);
	}
}

struct node_watch *node_watch_add(struct rumor *n, rumor_change_cb cb,
				  void *arg)
{
	struct node_watch *w = calloc(1, sizeof *w);

	if (w == NULL)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	w->next = n->watches;
	n->watches = w;
	return w;
}

void node_watch_remove(struct rumor *n, struct node_watch *w)
{
	struct node_watch **pp;

	for (pp = &n->watches; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			free(w);
			return;
		}
	}
}

/* ------------------------------------------------------------ durability */

static uint64_t node_changes(struct rumor *n)
{
	struct store_stats ss;

	store_get_stats(n->store, &ss);
	return ss.local_writes + ss.applied;
}

static void node_sync_work(uv_work_t *w)
{
	struct rumor *n = w->data;
	struct err err;

	/* On a pool thread: only the store, which allows this. */
	err_clear(&err);
	n->sync_failed = store_sync(n->store, &err) != 0;
}

static void node_part_closed(struct rumor *n);

static void node_sync_done(uv_work_t *w, int status)
{
	struct rumor *n = w->data;

	n->sync_busy = 0;
	if (status == 0 && !n->sync_failed)
		n->synced_changes = n->sync_target;
	else
		node_log(n, RUMOR_LOG_ERROR,
			 "background fsync failed: recent writes may not survive a power loss");
	if (n->closing)
		node_part_closed(n);
}

static void node_sync_tick(uv_timer_t *t)
{
	struct rumor *n = t->data;
	uint64_t changes = node_changes(n);

	if (n->sync_busy || changes == n->synced_changes)
		return;
	n->sync_busy = 1;
	n->sync_target = changes;
	n->sync_work.data = n;
	if (uv_queue_work(n->loop, &n->sync_work, node_sync_work,
			  node_sync_done) != 0)
		n->sync_busy = 0;
}

static void node_sync_timer_closed(uv_handle_t *h)
{
	node_part_closed(h->data);
}

/* ------------------------------------------------------------ lifecycle */

static void node_free(struct rumor *n);
static void node_free_after_net(struct rumor *n);
static void node_sync_tick(uv_timer_t *t);
static void node_close_parts(struct rumor *n);

void rumor_options_init(struct rumor_options *o)
{
	memset(o, 0, sizeof *o);
	o->mode = RUMOR_MODE_PEER;
	o->log_level = RUMOR_LOG_INFO;
	o->interval_min_ms = 100;
	o->interval_max_ms = 10000;
	o->catchup_wait_ms = 3000;
}

static int node_open_resolver(struct rumor *n, struct err *err)
{
	if (n->opt.resolve != NULL && n->opt.resolver_path != NULL)
		return err_set(err, RUMOR_EINVAL,
			       "give either a resolver function or a resolver path, not both");
	if (n->opt.resolver_path != NULL)
		return resolver_load(&n->resolver, n->opt.resolver_path, err);
	return resolver_new_fn(&n->resolver, n->opt.resolve, NULL, err);
}

static int node_load_network_key(struct rumor *n, struct err *err)
{
	if (n->opt.network_key_path == NULL) {
		memcpy(n->network_key, identity_default_network_key,
		       NETWORK_KEY_BYTES);
		n->open_network = 1;
		return 0;
	}
	n->open_network = 0;
	return network_key_load(n->opt.network_key_path, n->network_key, err);
}

int rumor_open(struct rumor **out, const struct rumor_options *o,
	       char *errmsg, size_t errlen)
{
	struct store_options so;
	struct err err;
	struct rumor *n;
	char *db;
	int rv;

	err_clear(&err);
	if (out == NULL || o == NULL || o->data_dir == NULL ||
	    o->data_dir[0] == '\0') {
		rv = err_set(&err, RUMOR_EINVAL, "a data dir is required");
		goto err;
	}
	if (o->fsync < RUMOR_FSYNC_EVERYSEC || o->fsync > RUMOR_FSYNC_NEVER) {
		rv = err_set(&err, RUMOR_EINVAL, "unknown fsync policy %d", o->fsync);
		goto err;
	}
	if (o->mode != RUMOR_MODE_PEER && o->mode != RUMOR_MODE_REPLICA) {
		rv = err_set(&err, RUMOR_EINVAL, "unknown mode %d", o->mode);
		goto err;
	}
	n = calloc(1, sizeof *n);
	if (n == NULL) {
		rv = err_set(&err, RUMOR_ENOMEM, "out of memory");
		goto err;
	}
	n->opt = *o;
	n->data_dir = strdup(o->data_dir);
	if (n->data_dir == NULL) {
		rv = err_set(&err, RUMOR_ENOMEM, "out of memory");
		goto err_after_alloc;
	}
	/* Borrowed strings are not kept: the caller may free its options. */
	n->opt.data_dir = n->data_dir;
	n->opt.resolver_path = NULL;
	n->opt.network_key_path = NULL;
	n->opt.trusted_keys_path = NULL;
	n->opt.listen = NULL;
	n->opt.multicast = NULL;
	n->opt.peers = NULL;
	n->opt.n_peers = 0;

	rv = mkdir_p(n->data_dir, &err);
	if (rv != 0)
		goto err_after_alloc;
	rv = identity_load_or_create(&n->id, n->data_dir, &err);
	if (rv != 0)
		goto err_after_alloc;
	identity_id_string(n->id.public_key, n->id_str);

	n->opt.network_key_path = o->network_key_path;
	rv = node_load_network_key(n, &err);
	n->opt.network_key_path = NULL;
	if (rv != 0)
		goto err_after_identity;

	n->opt.resolver_path = o->resolver_path;
	rv = node_open_resolver(n, &err);
	n->opt.resolver_path = NULL;
	if (rv != 0)
		goto err_after_identity;

	db = malloc(strlen(n->data_dir) + sizeof "/" NODE_DB_DIR);
	if (db == NULL) {
		rv = err_set(&err, RUMOR_ENOMEM, "out of memory");
		goto err_after_resolver;
	}
	sprintf(db, "%s/%s", n->data_dir, NODE_DB_DIR);
	memset(&so, 0, sizeof so);
	so.origin = n->id.public_key;
	so.resolver = n->resolver;
	so.hooks.now_ms = node_store_now_ms;
	so.hooks.on_change = node_on_change;
	so.hooks.arg = n;
	so.sync_writes = o->fsync == RUMOR_FSYNC_ALWAYS;
	rv = store_open(&n->store, db, &so, &err);
	free(db);
	if (rv != 0)
		goto err_after_resolver;

	if (o->loop != NULL) {
		n->loop = o->loop;
	} else {
		if (uv_loop_init(&n->own_loop) != 0) {
			rv = err_set(&err, RUMOR_ENOMEM, "cannot make a loop");
			goto err_after_store;
		}
		n->loop = &n->own_loop;
		n->owns_loop = 1;
	}

	rv = node_net_start(n, o, &err);
	if (rv != 0) {
		if (n->net != NULL)
			goto err_after_net;
		goto err_after_loop;
	}

	if (o->control_socket) {
		char *path = malloc(strlen(n->data_dir) + sizeof "/" NODE_CTL_SOCKET);
		if (path == NULL) {
			rv = err_set(&err, RUMOR_ENOMEM, "out of memory");
			goto err_after_net;
		}
		sprintf(path, "%s/%s", n->data_dir, NODE_CTL_SOCKET);
		rv = control_start(&n->control, n->loop, n, path, &err);
		free(path);
		if (rv != 0)
			goto err_after_net;
	}

	if (o->fsync == RUMOR_FSYNC_EVERYSEC) {
		uv_timer_init(n->loop, &n->sync_timer);
		n->sync_timer.data = n;
		uv_timer_start(&n->sync_timer, node_sync_tick, 1000, 1000);
		/* Best effort: it must not keep an otherwise idle loop alive. */
		uv_unref((uv_handle_t *)&n->sync_timer);
		n->sync_timer_on = 1;
	}

	node_log(n, RUMOR_LOG_INFO, "node %s open on %s (resolver: %s)",
		 n->id_str, n->data_dir, resolver_name(n->resolver));
	if (n->open_network)
		node_log(n, RUMOR_LOG_WARN,
			 "using the built-in network key: this cluster is OPEN to anyone on the network; give --network-key to close it");
	*out = n;
	return 0;

err_after_net:
	/* Half-started parts close through the loop; the node is freed when
	 * they have. */
	n->closing = 1;
	node_close_parts(n);
	if (n->owns_loop) {
		uv_run(n->loop, UV_RUN_DEFAULT);
		uv_loop_close(n->loop);
		node_free(n);
	}
	goto err;
err_after_loop:
	if (n->owns_loop)
		uv_loop_close(n->loop);
err_after_store:
	store_close(n->store);
err_after_resolver:
	resolver_free(n->resolver);
err_after_identity:
	identity_wipe(&n->id);
	sodium_memzero(n->network_key, sizeof n->network_key);
err_after_alloc:
	free(n->data_dir);
	free(n);
err:
	if (errmsg != NULL && errlen > 0)
		snprintf(errmsg, errlen, "%s", err.msg[0] ? err.msg
					      : rumor_strerror(rv));
	return rv;
}

int rumor_run(struct rumor *n)
{
	if (!n->owns_loop)
		return RUMOR_EINVAL;
	return uv_run(n->loop, UV_RUN_DEFAULT) < 0 ? RUMOR_EIO : 0;
}

void rumor_stop(struct rumor *n)
{
	uv_stop(n->loop);
}

static void node_free(struct rumor *n)
{
	assert(n->net == NULL);
	void (*cb)(void *) = n->close_cb;
	void *arg = n->close_arg;

	while (n->watches != NULL)
		node_watch_remove(n, n->watches);
	/* A clean close leaves every acknowledged write on the disk. */
	if (n->opt.fsync != RUMOR_FSYNC_ALWAYS && store_sync(n->store, NULL) != 0)
		node_log(n, RUMOR_LOG_ERROR, "final fsync failed");
	store_close(n->store);
	resolver_free(n->resolver);
	identity_wipe(&n->id);
	sodium_memzero(n->network_key, sizeof n->network_key);
	free(n->data_dir);
	free(n);
	if (cb != NULL)
		cb(arg);
}

/* One part (network, control socket) finished closing. */
static void node_part_closed(struct rumor *n)
{
	assert(n->pending_closes > 0);
	/* A node that owns its loop is freed by rumor_close() once the
	 * loop has run dry. */
	if (--n->pending_closes == 0 && !n->owns_loop)
		node_free(n);
}

static void node_free_after_net(struct rumor *n)
{
	node_part_closed(n);
}

static void node_control_closed(void *arg)
{
	struct rumor *n = arg;

	n->control = NULL;
	node_part_closed(n);
}

/* Starts closing every part; node_free() runs when the last is closed. */
static void node_close_parts(struct rumor *n)
{
	/* Counts itself, so no part can finish the node half-way. */
	n->pending_closes = 1;
	if (n->sync_timer_on) {
		n->sync_timer_on = 0;
		n->pending_closes++;
		uv_close((uv_handle_t *)&n->sync_timer, node_sync_timer_closed);
	}
	if (n->sync_busy)
		n->pending_closes++;  /* node_sync_done() counts it down */
	if (n->control != NULL) {
		n->pending_closes++;
		control_close(n->control, node_control_closed, n);
	}
	if (n->net != NULL) {
		n->pending_closes++;
		node_net_close(n, node_free_after_net);
	}
	node_part_closed(n);
}

void rumor_close(struct rumor *n, void (*cb)(void *arg), void *arg)
{
	if (n == NULL) {
		if (cb != NULL)
			cb(arg);
		return;
	}
	assert(!n->closing);
	n->closing = 1;
	n->close_cb = cb;
	n->close_arg = arg;
	node_close_parts(n);
	if (n->owns_loop) {
		/* Let every closing handle's callback run, then the loop is
		 * empty and can be closed. */
		uv_run(n->loop, UV_RUN_DEFAULT);
		uv_loop_close(n->loop);
		node_free(n);
	}
}

int rumor_reload(struct rumor *n, const struct rumor_options *o)
{
	struct err err;
	int rv;

	err_clear(&err);
	if (n == NULL || o == NULL)
		return RUMOR_EINVAL;
	if (o->log_level < RUMOR_LOG_ERROR || o->log_level > RUMOR_LOG_DEBUG)
		return node_fail(n, &(struct err){RUMOR_EINVAL, "unknown log level"});
	rv = node_net_reload(n, o, &err);
	if (rv != 0)
		return node_fail(n, &err);
	n->opt.log = o->log;
	n->opt.log_arg = o->log_arg;
	n->opt.log_level = o->log_level;
	return 0;
}

const char *rumor_errmsg(const struct rumor *n)
{
	if (n == NULL)
		return "no node";
	return n->last_err.msg[0] ? n->last_err.msg
				  : rumor_strerror(n->last_err.code);
}

void rumor_node_id(const struct rumor *n, char out[RUMOR_NODE_ID_STRLEN])
{
	memcpy(out, n->id_str, RUMOR_NODE_ID_STRLEN);
}

const char *rumor_version(void)
{
	return PACKAGE_VERSION;
}

void rumor_free(void *p)
{
	free(p);
}

/* ------------------------------------------------------------ data */

static int node_check_writable(struct rumor *n, struct err *err)
{
	if (n->opt.mode == RUMOR_MODE_REPLICA)
		return err_set(err, RUMOR_EREFUSED,
			       "this node is a replica: it never originates writes");
	return node_net_refuses_writes(n, err);
}

int rumor_put(struct rumor *n, const void *key, size_t key_len,
	      const void *value, size_t value_len)
{
	struct err err;
	int rv;

	err_clear(&err);
	rv = node_check_writable(n, &err);
	if (rv == 0)
		rv = store_put(n->store, key, key_len, value, value_len, NULL,
			       &err);
	if (rv != 0)
		return node_fail(n, &err);
	node_net_note_writes(n, 1, 1);
	return 0;
}

int rumor_del(struct rumor *n, const void *key, size_t key_len)
{
	struct err err;
	int rv;

	err_clear(&err);
	rv = node_check_writable(n, &err);
	if (rv == 0)
		rv = store_del(n->store, key, key_len, NULL, &err);
	if (rv != 0)
		return node_fail(n, &err);
	node_net_note_writes(n, 1, 1);
	return 0;
}

_Static_assert(RUMOR_WRITE_MAX == STORE_WRITE_BATCH_MAX &&
	       RUMOR_WRITE_BYTES == STORE_WRITE_BATCH_BYTES,
	       "rumor_write limits differ from the store's");

/* Ops of a rumor_write copied on the stack; larger batches get the heap
 * (the copy costs far less than the WriteBatch it feeds). */
#define NODE_WRITE_STACK_OPS 32

int rumor_write(struct rumor *n, const struct rumor_op *ops, size_t n_ops)
{
	struct store_op stack_ops[NODE_WRITE_STACK_OPS], *sops = stack_ops;
	struct err err;
	size_t i;
	int rv;

	err_clear(&err);
	rv = node_check_writable(n, &err);
	if (rv != 0)
		return node_fail(n, &err);
	if (ops == NULL && n_ops > 0)
		return node_fail(n, &(struct err){RUMOR_EINVAL, "ops is NULL"});
	/* The store refuses it too, but only after the copy below. */
	if (n_ops > RUMOR_WRITE_MAX) {
		err_set(&err, RUMOR_ETOOBIG, "rumor_write: %zu ops (at most %u)",
			n_ops, RUMOR_WRITE_MAX);
		return node_fail(n, &err);
	}
	/* A struct store_op per op rather than a cast: the types are twins,
	 * but distinct types may not alias. */
	if (n_ops > NODE_WRITE_STACK_OPS) {
		sops = malloc(n_ops * sizeof *sops);
		if (sops == NULL)
			return node_fail(n, &(struct err){RUMOR_ENOMEM,
							  "out of memory"});
	}
	for (i = 0; i < n_ops; i++) {
		sops[i].key = ops[i].key;
		sops[i].key_len = ops[i].key_len;
		sops[i].value = ops[i].value;
		sops[i].value_len = ops[i].value_len;
		sops[i].del = ops[i].del;
	}
	rv = store_write_batch(n->store, sops, n_ops, NULL, &err);
	if (sops != stack_ops)
		free(sops);
	if (rv != 0)
		return node_fail(n, &err);
	if (n_ops > 0)
		node_net_note_writes(n, n_ops, 1);
	return 0;
}

int rumor_get(struct rumor *n, const void *key, size_t key_len, void **value,
	      size_t *value_len)
{
	struct err err;
	int rv;

	err_clear(&err);
	if (value == NULL || value_len == NULL)
		return node_fail(n, &(struct err){RUMOR_EINVAL,
						  "value and value_len are required"});
	rv = store_get(n->store, key, key_len, value, value_len, &err);
	return rv == 0 ? 0 : node_fail(n, &err);
}

int rumor_get_version(struct rumor *n, const void *key, size_t key_len,
		      struct rumor_record **out)
{
	struct store_record *sr;
	struct rumor_record *rec;
	struct err err;
	uint8_t *p;
	int rv;

	err_clear(&err);
	if (out == NULL)
		return node_fail(n, &(struct err){RUMOR_EINVAL, "rec is required"});
	rv = store_get_version(n->store, key, key_len, &sr, &err);
	if (rv != 0)
		return node_fail(n, &err);
	rec = malloc(sizeof *rec + sr->v.key_len + sr->v.origin_len +
		     sr->v.value_len);
	if (rec == NULL) {
		store_record_free(sr);
		return node_fail(n, &(struct err){RUMOR_ENOMEM, "out of memory"});
	}
	rec->v = sr->v;
	p = (uint8_t *)(rec + 1);
	memcpy(p, sr->v.key, sr->v.key_len);
	rec->v.key = p;
	p += sr->v.key_len;
	memcpy(p, sr->v.origin, sr->v.origin_len);
	rec->v.origin = p;
	p += sr->v.origin_len;
	if (sr->v.value != NULL) {
		memcpy(p, sr->v.value, sr->v.value_len);
		rec->v.value = p;
	}
	store_record_free(sr);
	*out = rec;
	return 0;
}

void rumor_record_free(struct rumor_record *rec)
{
	free(rec);
}

int rumor_scan(struct rumor *n, const void *prefix, size_t prefix_len,
	       rumor_scan_cb cb, void *arg)
{
	struct err err;
	int rv;

	err_clear(&err);
	if (cb == NULL)
		return node_fail(n, &(struct err){RUMOR_EINVAL, "a callback is required"});
	rv = store_scan(n->store, prefix, prefix_len, cb, arg, &err);
	return rv == 0 ? 0 : node_fail(n, &err);
}

int rumor_scan_after(struct rumor *n, const void *prefix, size_t prefix_len,
		     const void *after, size_t after_len, rumor_scan_cb cb,
		     void *arg)
{
	struct err err;
	int rv;

	err_clear(&err);
	if (cb == NULL)
		return node_fail(n, &(struct err){RUMOR_EINVAL, "a callback is required"});
	rv = store_scan_after(n->store, prefix, prefix_len, after, after_len,
			      cb, arg, &err);
	return rv == 0 ? 0 : node_fail(n, &err);
}

/* ------------------------------------------------------------ stats */

int rumor_stats(struct rumor *n, struct rumor_stats *st)
{
	struct store_stats ss;
	struct resolver_stats rs;

	if (n == NULL || st == NULL)
		return RUMOR_EINVAL;
	memset(st, 0, sizeof *st);
	store_get_stats(n->store, &ss);
	resolver_get_stats(n->resolver, &rs);
	st->local_writes = ss.local_writes;
	st->remote_applied = ss.applied;
	st->remote_stale = ss.stale;
	st->remote_identical = ss.identical;
	st->keys = ss.keys;
	st->tombstones = ss.tombstones;
	st->conflicts_default = rs.decided_default;
	st->conflicts_resolver = rs.decided_user;
	st->symmetry_violations = rs.symmetry_violations;
	st->open_network = n->open_network;
	node_net_stats(n, st);
	return 0;
}

/* ------------------------------------------------------------ control */

int node_get_status(struct rumor *n, struct node_status *st)
{
	memset(st, 0, sizeof *st);
	memcpy(st->id, n->id_str, sizeof st->id);
	st->mode = n->opt.mode;
	snprintf(st->data_dir, sizeof st->data_dir, "%s", n->data_dir);
	st->open_network = n->open_network;
	snprintf(st->resolver, sizeof st->resolver, "%s",
		 resolver_name(n->resolver));
	st->local_seq = store_local_seq(n->store);
	st->unsynced_changes = n->opt.fsync == RUMOR_FSYNC_EVERYSEC
				       ? node_changes(n) - n->synced_changes
				       : 0;
	rumor_stats(n, &st->stats);
	st->velocity = st->stats.velocity;
	st->interval_ms = st->stats.interval_ms;
	st->catching_up = st->stats.catching_up;
	node_net_status(n, st);
	return 0;
}

struct hwm_forward {
	node_hwm_cb cb;
	void *arg;
};

static int hwm_forward(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct hwm_forward *f = arg;

	return f->cb(f->arg, origin, seq);
}

int node_hwms(struct rumor *n, node_hwm_cb cb, void *arg)
{
	struct hwm_forward f = {cb, arg};
	struct err err;
	int rv;

	err_clear(&err);
	rv = store_hwms(n->store, NULL, hwm_forward, &f, &err);
	return rv == 0 ? 0 : node_fail(n, &err);
}

/* The last max entries of one origin's log, kept in a ring while the
 * log is scanned forward (the store has no reverse scan). */
struct log_ring {
	struct rumor_version *v;   /* max slots; key bytes copied */
	uint8_t **keys;
	size_t max, count, next;
};

static int log_ring_add(void *arg, const struct rumor_version *v)
{
	struct log_ring *r = arg;
	size_t i = r->next;
	uint8_t *key = realloc(r->keys[i], v->key_len);

	if (key == NULL)
		return 1;
	memcpy(key, v->key, v->key_len);
	r->keys[i] = key;
	r->v[i] = *v;
	r->v[i].key = key;
	r->v[i].value = NULL;      /* sizes only: values are not kept */
	r->next = (i + 1) % r->max;
	if (r->count < r->max)
		r->count++;
	return 0;
}

struct log_origins {
	uint8_t (*origins)[STORE_ORIGIN_BYTES];
	size_t n, cap;
};

static int log_collect_origin(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct log_origins *o = arg;

	(void)seq;
	if (o->n == o->cap) {
		void *p = array_grow(o->origins, &o->cap, o->n + 1,
				     sizeof *o->origins, 16);
		if (p == NULL)
			return 1;
		o->origins = p;
	}
	memcpy(o->origins[o->n++], origin, STORE_ORIGIN_BYTES);
	return 0;
}

int node_log_entries(struct rumor *n, size_t max_per_origin, node_log_cb cb,
		     void *arg)
{
	struct log_origins origins = {0};
	struct log_ring ring = {0};
	struct err err;
	size_t i, k;
	int rv = 0;

	err_clear(&err);
	if (max_per_origin == 0)
		return 0;
	ring.max = max_per_origin;
	ring.v = calloc(ring.max, sizeof *ring.v);
	ring.keys = calloc(ring.max, sizeof *ring.keys);
	if (ring.v == NULL || ring.keys == NULL) {
		rv = err_set(&err, RUMOR_ENOMEM, "out of memory");
		goto out;
	}
	rv = store_hwms(n->store, NULL, log_collect_origin, &origins, &err);
	if (rv != 0)
		goto out;
	for (i = 0; i < origins.n && rv == 0; i++) {
		ring.count = ring.next = 0;
		rv = store_log_scan(n->store, NULL, origins.origins[i], 0, 0,
				    log_ring_add, &ring, NULL, &err);
		for (k = 0; k < ring.count && rv == 0; k++) {
			size_t at = (ring.next + ring.max - 1 - k) % ring.max;
			/* The scan's origin pointer died with its iterator;
			 * every entry of this pass has this origin. */
			ring.v[at].origin = origins.origins[i];
			ring.v[at].origin_len = STORE_ORIGIN_BYTES;
			if (cb(arg, &ring.v[at]) != 0)
				goto out;
		}
	}
out:
	for (i = 0; ring.keys != NULL && i < ring.max; i++)
		free(ring.keys[i]);
	free(ring.keys);
	free(ring.v);
	free(origins.origins);
	return rv == 0 ? 0 : node_fail(n, &err);
}
