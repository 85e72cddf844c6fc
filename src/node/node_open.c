/* SPDX-License-Identifier: MIT */
/*
 * node_open: a node's life over a given io: open (identity, keys,
 * resolver, store, network, control socket, background fsync), reload,
 * close. Owning a loop is run_uv.c's business, not this file's.
 */
#include "node/node.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "lib/perm.h"
#include "node/control.h"

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

static uint64_t node_store_now_ms(void *arg)
{
	return node_wall_ms(arg);
}

static int node_before_commit(void *arg, const char *what)
{
	struct rumor *n = arg;

	return n->before_commit != NULL ? n->before_commit(n->hook_arg, what)
					: 0;
}

/* ------------------------------------------------------------ durability */

static uint64_t node_changes(struct rumor *n)
{
	struct store_stats ss;

	store_get_stats(n->store, &ss);
	return ss.local_writes + ss.applied;
}

uint64_t node_unsynced_changes(struct rumor *n)
{
	return n->opt.fsync == RUMOR_FSYNC_EVERYSEC
		       ? node_changes(n) - n->synced_changes
		       : 0;
}

static void node_sync_work(void *arg)
{
	struct rumor *n = arg;
	struct err err;

	/* Off the loop: only the store, which allows this. */
	err_clear(&err);
	n->sync_failed = store_sync(n->store, &err) != 0;
}

static void node_part_closed(struct rumor *n);

static void node_sync_done(void *arg, int status)
{
	struct rumor *n = arg;

	n->sync_busy = 0;
	if (status == 0 && !n->sync_failed)
		n->synced_changes = n->sync_target;
	else if (status == 0)
		node_log(n, RUMOR_LOG_ERROR,
			 "background fsync failed: recent writes may not survive a power loss");
	if (n->closing)
		node_part_closed(n);
}

static void node_sync_tick(struct io_timer *t)
{
	struct rumor *n = t->data;
	uint64_t changes = node_changes(n);

	if (n->sync_busy || changes == n->synced_changes)
		return;
	n->sync_busy = 1;
	n->sync_target = changes;
	if (n->io->ops->work(n->io, node_sync_work, node_sync_done, n) != 0)
		n->sync_busy = 0;
}

/* RUMOR_FSYNC_EVERYSEC: once a second, best effort: a weak timer, so
 * that it does not keep an otherwise idle loop alive. */
static int node_start_sync_timer(struct rumor *n, struct err *err)
{
	n->sync_timer = io_timer_new(n->io, node_sync_tick, n);
	if (n->sync_timer == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	io_timer_weak(n->sync_timer);
	io_timer_start(n->sync_timer, 1000, 1000);
	return 0;
}

/* What opening the store with the replicate set did, in the log. */
static void node_log_filter_change(struct rumor *n)
{
	uint64_t dropped = 0;

	switch (store_filter_opened(n->store, &dropped)) {
	case STORE_FILTER_NARROWED:
		node_log(n, RUMOR_LOG_WARN,
			 "replicate set narrowed: %llu keys outside it dropped%s",
			 (unsigned long long)dropped,
			 store_self_complete(n->store) ? "" :
			 "; this node no longer holds every write it made");
		break;
	case STORE_FILTER_WIDENED:
		node_log(n, RUMOR_LOG_WARN,
			 "replicate set changed: %llu keys outside it dropped, "
			 "every peer's HWM reset to 0: the next exchanges pull "
			 "the new prefixes", (unsigned long long)dropped);
		break;
	case STORE_FILTER_SAME:
		break;
	}
}

/* ------------------------------------------------------------ closing */

static void node_free(struct rumor *n)
{
	void (*cb)(void *) = n->close_cb;
	void *arg = n->close_arg;

	assert(n->net == NULL && n->control == NULL && !n->sync_busy);
	node_tails_detach(n);
	/* A clean close leaves every acknowledged write on the disk. */
	if (n->opt.fsync != RUMOR_FSYNC_ALWAYS && store_sync(n->store, NULL) != 0)
		node_log(n, RUMOR_LOG_ERROR, "final fsync failed");
	store_close(n->store);
	resolver_free(n->resolver);
	identity_wipe(&n->id);
	sodium_memzero(n->network_key, sizeof n->network_key);
	prefixes_free(&n->ns);
	prefixes_free(&n->repl);
	free(n->data_dir);
	free(n);
	if (cb != NULL)
		cb(arg);
}

/* One part (network, control socket, a running fsync) finished
 * closing; the last one frees the node. */
static void node_part_closed(struct rumor *n)
{
	assert(n->pending_closes > 0);
	if (--n->pending_closes == 0)
		node_free(n);
}

static void node_net_closed(struct rumor *n)
{
	node_part_closed(n);
}

static void node_control_closed(void *arg)
{
	struct rumor *n = arg;

	n->control = NULL;
	node_part_closed(n);
}

/* Starts closing every part; node_free() runs when the last is closed,
 * possibly before this returns. */
static void node_close_parts(struct rumor *n)
{
	/* Counts itself, so no part can finish the node half-way. */
	n->pending_closes = 1;
	io_timer_free(n->sync_timer);
	n->sync_timer = NULL;
	if (n->sync_busy)
		n->pending_closes++;  /* node_sync_done() counts it down */
	if (n->control != NULL) {
		n->pending_closes++;
		control_close(n->control, node_control_closed, n);
	}
	if (n->net != NULL) {
		n->pending_closes++;
		node_net_close(n, node_net_closed);
	}
	node_part_closed(n);
}

void node_close(struct rumor *n, void (*cb)(void *arg), void *arg)
{
	assert(!n->closing);
	n->closing = 1;
	n->close_cb = cb;
	n->close_arg = arg;
	/* Pending strong writes end first (cb: RUMOR_ECLOSED). */
	strong_close(n);
	node_close_parts(n);
}

/* ------------------------------------------------------------ opening */

void rumor_options_init(struct rumor_options *o)
{
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	o->mode = RUMOR_MODE_PEER;
	o->log_level = RUMOR_LOG_INFO;
	o->interval_min_ms = 100;
	o->interval_max_ms = 10000;
	o->catchup_wait_ms = 3000;
}

int node_options_import(struct rumor_options *dst,
			const struct rumor_options *src, size_t oldest,
			struct err *err)
{
	if (src->size < oldest)
		return err_set(err, RUMOR_EINVAL,
			       "options size %zu is smaller than the oldest "
			       "known (%zu): set up options with "
			       "rumor_options_init()",
			       src->size, oldest);
	if (src->size > sizeof *dst)
		return err_set(err, RUMOR_EINVAL,
			       "options size %zu is larger than this "
			       "library's (%zu): the program was built "
			       "against a newer rumor.h than librumor %s",
			       src->size, sizeof *dst, PACKAGE_VERSION);
	rumor_options_init(dst);
	memcpy(dst, src, src->size);
	dst->size = sizeof *dst;
	return 0;
}

static int node_open_resolver(struct rumor *n, const char *path,
			      struct err *err)
{
	if (n->opt.resolve != NULL && path != NULL)
		return err_set(err, RUMOR_EINVAL,
			       "give either a resolver function or a resolver path, not both");
	if (path != NULL)
		return resolver_load(&n->resolver, path, err);
	return resolver_new_fn(&n->resolver, n->opt.resolve, NULL, err);
}

static int node_load_network_key(struct rumor *n, const char *path,
				 struct err *err)
{
	if (path == NULL) {
		memcpy(n->network_key, identity_default_network_key,
		       NETWORK_KEY_BYTES);
		n->open_network = 1;
		return 0;
	}
	n->open_network = 0;
	return network_key_load(path, n->network_key, err);
}

static int node_check_options(const struct rumor_options *o,
			      const struct node_env *env, struct err *err)
{
	if (o == NULL || o->data_dir == NULL || o->data_dir[0] == '\0')
		return err_set(err, RUMOR_EINVAL, "a data dir is required");
	if (env == NULL || env->io == NULL)
		return err_set(err, RUMOR_EINVAL, "an io is required");
	if (o->fsync < RUMOR_FSYNC_EVERYSEC || o->fsync > RUMOR_FSYNC_NEVER)
		return err_set(err, RUMOR_EINVAL, "unknown fsync policy %d",
			       o->fsync);
	if (o->mode != RUMOR_MODE_PEER && o->mode != RUMOR_MODE_REPLICA)
		return err_set(err, RUMOR_EINVAL, "unknown mode %d", o->mode);
	if (o->namespace_prefix == NULL && o->namespace_len != 0)
		return err_set(err, RUMOR_EINVAL, "namespace: NULL prefix");
	if (o->consistency != RUMOR_CONSISTENCY_GOSSIP &&
	    o->consistency != RUMOR_CONSISTENCY_STRONG)
		return err_set(err, RUMOR_EINVAL,
			       "unknown consistency %d (0 gossip, 1 strong)",
			       o->consistency);
	if (o->quorum > STRONG_QUORUM_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "quorum %u is above %u nodes", o->quorum,
			       STRONG_QUORUM_MAX);
	return 0;
}

/* The node's copy of the options: borrowed strings are not kept (the
 * caller may free its options), the data dir is copied. */
static int node_copy_options(struct rumor *n, const struct rumor_options *o,
			     struct err *err)
{
	n->opt = *o;
	if (n->opt.strong_timeout_ms == 0)
		n->opt.strong_timeout_ms = STRONG_TIMEOUT_DEFAULT_MS;
	n->data_dir = strdup(o->data_dir);
	if (n->data_dir == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	n->opt.data_dir = n->data_dir;
	n->opt.resolver_path = NULL;
	n->opt.network_key_path = NULL;
	n->opt.trusted_keys_path = NULL;
	n->opt.listen = NULL;
	n->opt.multicast = NULL;
	n->opt.multicast6 = NULL;
	n->opt.multicast6_interface = NULL;
	n->opt.peers = NULL;
	n->opt.n_peers = 0;
	n->opt.loop = NULL;
	n->opt.namespace_prefix = NULL;
	n->opt.namespace_len = 0;
	n->opt.replicate = NULL;
	n->opt.replicate_len = NULL;
	n->opt.n_replicate = 0;
	if (o->namespace_prefix != NULL &&
	    prefixes_set(&n->ns, &o->namespace_prefix, &o->namespace_len, 1,
			 "namespace", err) != 0)
		return err->code;
	return prefixes_set(&n->repl, o->replicate, o->replicate_len,
			    o->n_replicate, "replicate", err);
}

/* "DATA_DIR/name", malloc'd (the caller frees it), or NULL with err
 * set. */
static char *node_path(struct rumor *n, const char *name, struct err *err)
{
	size_t len = strlen(n->data_dir) + 1 + strlen(name) + 1;
	char *path = malloc(len);

	if (path == NULL) {
		err_set(err, RUMOR_ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(path, len, "%s/%s", n->data_dir, name);
	return path;
}

/* The data dir: made (with its missing parents) 0700, or refused when
 * another user owns it or others may write to it, before anything is
 * read or written in it: someone else who can write there could plant
 * the key, the store or the control socket. The store's own dir inside
 * is checked here too (when it exists), so that a refusal of it comes
 * before node.key is made. RUMOR_ECONFIG names the problem and the fix;
 * nothing is changed by a refusal. */
static int node_check_data_dir(struct rumor *n, struct err *err)
{
	struct perm_rule rule = perm_rule_state_dir;
	struct stat st;
	char *db;
	int created, rv;

	rv = mkdir_p(n->data_dir, err);
	if (rv == 0)
		rv = perm_state_dir("data dir", n->data_dir, &created,
				    RUMOR_ECONFIG, err);
	if (rv != 0)
		return rv;
	db = node_path(n, NODE_DB_DIR, err);
	if (db == NULL)
		return err->code;
	rule.what = "store dir";
	if (stat(db, &st) != 0)
		rv = 0;                 /* not made yet: store_open makes it */
	else if (!S_ISDIR(st.st_mode))
		rv = err_set(err, RUMOR_ECONFIG, "store dir %s is not a "
			     "directory: move it away", db);
	else
		rv = perm_check(db, &st, &rule, RUMOR_ECONFIG, err);
	free(db);
	return rv;
}

static int node_open_store(struct rumor *n, const struct rumor_options *o,
			   struct err *err)
{
	struct store_options so;
	char *db;
	int rv;

	db = node_path(n, NODE_DB_DIR, err);
	if (db == NULL)
		return err->code;
	memset(&so, 0, sizeof so);
	so.origin = n->id.public_key;
	so.resolver = n->resolver;
	so.hooks.now_ms = node_store_now_ms;
	so.hooks.on_change = node_on_change;
	so.hooks.before_commit = n->before_commit != NULL ? node_before_commit
							  : NULL;
	so.hooks.arg = n;
	so.sync_writes = o->fsync == RUMOR_FSYNC_ALWAYS;
	so.filter = &n->repl;
	rv = store_open(&n->store, db, &so, err);
	free(db);
	if (rv == 0)
		node_log_filter_change(n);
	return rv;
}

static int node_start_control(struct rumor *n, struct err *err)
{
	char *path;
	int rv;

	path = node_path(n, CTL_SOCKET_NAME, err);
	if (path == NULL)
		return err->code;
	rv = control_start(&n->control, n->io, n, path, err);
	free(path);
	return rv;
}

/* Starts what runs on the io: network, control socket, fsync timer. On
 * failure with n->net set, something started: the node must be closed
 * (node_close); without, nothing did. */
static int node_start_parts(struct rumor *n, const struct rumor_options *o,
			    struct err *err)
{
	int rv;

	rv = node_net_start(n, o, err);
	if (rv == 0 && o->control_socket)
		rv = node_start_control(n, err);
	if (rv == 0 && o->fsync == RUMOR_FSYNC_EVERYSEC)
		rv = node_start_sync_timer(n, err);
	return rv;
}

int node_open_ex(struct rumor **out, const struct rumor_options *o,
		 const struct node_env *env, struct node_open_ext *ext,
		 char *errmsg, size_t errlen)
{
	struct rumor_options opt;
	struct err err;
	struct rumor *n;
	int rv;

	err_clear(&err);
	if (ext != NULL)
		ext->closing = 0;
	if (out == NULL || o == NULL) {
		rv = err_set(&err, RUMOR_EINVAL, "out and options are required");
		goto err;
	}
	/* From here on, only the library-sized copy is read. */
	rv = node_options_import(&opt, o, RUMOR_OPTIONS_SIZE_V1, &err);
	if (rv != 0)
		goto err;
	o = &opt;
	rv = node_check_options(o, env, &err);
	if (rv != 0)
		goto err;
	n = calloc(1, sizeof *n);
	if (n == NULL) {
		rv = err_set(&err, RUMOR_ENOMEM, "out of memory");
		goto err;
	}
	n->io = env->io;
	n->before_commit = env->before_commit;
	n->hook_arg = env->hook_arg;
	n->no_why = env->no_why;
	rv = node_copy_options(n, o, &err);
	if (rv != 0)
		goto err_after_alloc;
	rv = node_check_data_dir(n, &err);
	if (rv != 0)
		goto err_after_alloc;
	rv = identity_load_or_create(&n->id, n->data_dir, &err);
	if (rv != 0)
		goto err_after_alloc;
	identity_id_string(n->id.public_key, n->id_str);
	rv = node_load_network_key(n, o->network_key_path, &err);
	if (rv != 0)
		goto err_after_identity;
	rv = node_open_resolver(n, o->resolver_path, &err);
	if (rv != 0)
		goto err_after_identity;
	rv = node_open_store(n, o, &err);
	if (rv != 0)
		goto err_after_resolver;
	rv = strong_open(n, env, &err);
	if (rv != 0)
		goto err_after_store;

	rv = node_start_parts(n, o, &err);
	if (rv != 0 && n->net != NULL)
		goto err_after_start;
	if (rv != 0)
		goto err_after_store;

	node_log(n, RUMOR_LOG_INFO, "node %s open on %s (resolver: %s)",
		 n->id_str, n->data_dir, resolver_name(n->resolver));
	if (n->open_network)
		node_log(n, RUMOR_LOG_WARN,
			 "using the built-in network key: this cluster is OPEN to anyone on the network; give --network-key to close it");
	*out = n;
	return 0;

err_after_start:
	/* Half-started parts close through the io; the node is freed when
	 * they have, then ext->closed fires. */
	if (ext != NULL) {
		ext->closing = 1;
		node_close(n, ext->closed, ext->arg);
	} else {
		node_close(n, NULL, NULL);
	}
	goto err;
err_after_store:
	strong_close(n);
	store_close(n->store);
err_after_resolver:
	resolver_free(n->resolver);
err_after_identity:
	identity_wipe(&n->id);
	sodium_memzero(n->network_key, sizeof n->network_key);
err_after_alloc:
	prefixes_free(&n->ns);
	prefixes_free(&n->repl);
	free(n->data_dir);
	free(n);
err:
	if (errmsg != NULL && errlen > 0)
		snprintf(errmsg, errlen, "%s", err.msg[0] ? err.msg
					      : rumor_strerror(rv));
	return rv;
}

int node_open(struct rumor **out, const struct rumor_options *o,
	      const struct node_env *env, char *errmsg, size_t errlen)
{
	return node_open_ex(out, o, env, NULL, errmsg, errlen);
}

/* ------------------------------------------------------------ reload */

int rumor_reload(struct rumor *n, const struct rumor_options *o)
{
	struct rumor_options opt;
	struct err err;
	int rv;

	err_clear(&err);
	if (n == NULL || o == NULL)
		return RUMOR_EINVAL;
	rv = node_options_import(&opt, o, RUMOR_OPTIONS_SIZE_V1, &err);
	if (rv != 0)
		return node_fail(n, &err);
	o = &opt;
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
