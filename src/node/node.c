/* SPDX-License-Identifier: MIT */
/*
 * node: the librumor data API over one store, one resolver, one identity,
 * and what the control socket reads of a node (node_ctl.h). Opening and
 * closing are in node_open.c, the loop owner in run_uv.c.
 */
#include "node/node.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

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
int node_fail(struct rumor *n, const struct err *e)
{
	n->last_err = *e;
	return e->code;
}

uint64_t node_wall_ms(struct rumor *n)
{
	if (n->opt.wall_clock_ms != NULL)
		return n->opt.wall_clock_ms(n->opt.clock_arg);
	return io_wall_ms(n->io);
}

void node_on_change(void *arg, const struct rumor_version *v, int local,
		    uint64_t pos)
{
	struct rumor *n = arg;

	node_net_on_change(n, v);
	if (n->opt.on_change != NULL)
		n->opt.on_change(n->opt.change_arg, v, local);
	node_tails_on_change(n, v, pos);
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

const char *rumor_library_version(void)
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
	if (n->opt.consistency == RUMOR_CONSISTENCY_STRONG)
		return err_set(err, RUMOR_EREFUSED,
			       "this node is in strong consistency: write with rumor_write_strong");
	return node_net_refuses_writes(n, err);
}

/* A gossip write to a key a strong write holds fails: it would slip
 * between the prepare and the commit. Free when no intent is held. */
static int node_check_unlocked(struct rumor *n, const void *key,
			       size_t key_len, struct err *err)
{
	if (key != NULL && node_key_locked(n, key, key_len))
		return err_set(err, RUMOR_ELOCKED,
			       "the key is locked by a strong write in flight");
	return 0;
}

/* The namespace and the replicate set confine local writes: a key
 * outside either is RUMOR_EOUTSIDE (what names the op in a batch). A
 * NULL, empty or too long key is left to the store's own checks. */
int node_check_key(struct rumor *n, const void *key, size_t key_len,
		   const char *what, struct err *err)
{
	char shown[64], pfx[64];

	if (key == NULL || key_len == 0 || key_len > RUMOR_KEY_MAX ||
	    (prefixes_match(&n->ns, key, key_len) &&
			    prefixes_match(&n->repl, key, key_len)))
		return 0;
	prefix_escape(key, key_len < 40 ? key_len : 40, shown, sizeof shown);
	if (!prefixes_match(&n->ns, key, key_len)) {
		prefix_escape(n->ns.v[0].bytes, n->ns.v[0].len, pfx, sizeof pfx);
		return err_set(err, RUMOR_EOUTSIDE,
			       "%skey \"%s%s\" is outside this node's namespace "
			       "\"%s\"", what, shown, key_len > 40 ? "..." : "",
			       pfx);
	}
	return err_set(err, RUMOR_EOUTSIDE,
		       "%skey \"%s%s\" is outside the prefixes this node "
		       "replicates (%zu)", what, shown,
		       key_len > 40 ? "..." : "", n->repl.n);
}

/* What a one-key local write must pass, in order: the node takes local
 * writes, the key is inside its namespace and replicate set, no strong
 * write holds it. 0, or the first check's code. */
static int node_check_one_write(struct rumor *n, const void *key,
				size_t key_len, struct err *err)
{
	int rv;

	rv = node_check_writable(n, err);
	if (rv == 0)
		rv = node_check_key(n, key, key_len, "", err);
	if (rv == 0)
		rv = node_check_unlocked(n, key, key_len, err);
	return rv;
}

int rumor_put(struct rumor *n, const void *key, size_t key_len,
	      const void *value, size_t value_len)
{
	struct err err;
	int rv;

	err_clear(&err);
	rv = node_check_one_write(n, key, key_len, &err);
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
	rv = node_check_one_write(n, key, key_len, &err);
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
		char what[32];

		if (n->ns.n > 0 || n->repl.n > 0) {
			snprintf(what, sizeof what, "op %zu: ", i);
			rv = node_check_key(n, ops[i].key, ops[i].key_len, what,
					    &err);
			if (rv != 0) {
				if (sops != stack_ops)
					free(sops);
				return node_fail(n, &err);
			}
		}
		if (node_check_unlocked(n, ops[i].key, ops[i].key_len,
					&err) != 0) {
			if (sops != stack_ops)
				free(sops);
			return node_fail(n, &err);
		}
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
	if (n->opt.consistency == RUMOR_CONSISTENCY_STRONG) {
		if (node_catching_up(n))
			return node_fail(n, &(struct err){RUMOR_ENOTREADY,
				"not ready: this node is catching up"});
		if (key != NULL && node_key_locked(n, key, key_len))
			return node_fail(n, &(struct err){RUMOR_ELOCKED,
				"the key is locked by a strong write in flight"});
	}
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

static void node_fill_stats(struct rumor *n, struct rumor_stats *st);

void rumor_stats_init(struct rumor_stats *st)
{
	memset(st, 0, sizeof *st);
	st->size = sizeof *st;
}

int rumor_stats(struct rumor *n, struct rumor_stats *st)
{
	struct rumor_stats all;
	size_t size;

	if (n == NULL || st == NULL)
		return RUMOR_EINVAL;
	if (st->size < sizeof st->size)
		return node_fail(n, &(struct err){RUMOR_EINVAL,
			"stats size is unset: start from RUMOR_STATS_INIT "
			"or rumor_stats_init()"});
	node_fill_stats(n, &all);
	/* An older caller's struct is a prefix of ours; a newer caller's
	 * extra counters keep the zeros its initializer gave them. */
	size = st->size < sizeof all ? st->size : sizeof all;
	all.size = st->size;
	memcpy(st, &all, size);
	return 0;
}

/* Every counter of the library's struct rumor_stats. */
static void node_fill_stats(struct rumor *n, struct rumor_stats *st)
{
	struct store_stats ss;
	struct resolver_stats rs;

	rumor_stats_init(st);
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
	strong_fill_stats(n, st);
}

/* ------------------------------------------------------------ control */

int node_get_status(struct rumor *n, struct ctl_status *st)
{
	memset(st, 0, sizeof *st);
	memcpy(st->id, n->id_str, sizeof st->id);
	st->mode = n->opt.mode;
	snprintf(st->data_dir, sizeof st->data_dir, "%s", n->data_dir);
	st->open_network = n->open_network;
	snprintf(st->resolver, sizeof st->resolver, "%s",
		 resolver_name(n->resolver));
	st->local_seq = store_local_seq(n->store);
	st->unsynced_changes = node_unsynced_changes(n);
	node_fill_stats(n, &st->stats);
	st->velocity = st->stats.velocity;
	st->interval_ms = st->stats.interval_ms;
	st->catching_up = st->stats.catching_up;
	st->catchup_received = st->stats.catchup_received;
	st->catchup_expected = st->stats.catchup_expected;
	st->catchup_rate = st->stats.catchup_rate;
	st->catchup_eta_ms = st->stats.catchup_eta_ms;
	st->catchup_wait_ms = st->stats.catchup_wait_ms;
	/* The shape (normalised): st points into n->ns and the store's
	 * replicate set, which outlive the reply's encoding. */
	if (n->ns.n > 0) {
		st->namespace_prefix = n->ns.v[0].bytes;
		st->namespace_len = n->ns.v[0].len;
	}
	{
		const struct prefixes *r = store_filter(n->store);

		for (size_t i = 0; i < r->n; i++)
			st->replicate[i] = (struct ctl_prefix){r->v[i].bytes,
							       r->v[i].len};
		st->n_replicate = r->n;
	}
	st->consistency = n->opt.consistency;
	st->ready = rumor_ready(n);
	node_net_status(n, st);
	return 0;
}

int node_is_strong(struct rumor *n)
{
	return n->opt.consistency == RUMOR_CONSISTENCY_STRONG;
}

uint32_t node_strong_timeout_ms(struct rumor *n)
{
	return n->opt.strong_timeout_ms != 0 ? n->opt.strong_timeout_ms
					     : 2000u;
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

int node_log_entries(struct rumor *n, size_t max_per_origin, node_log_cb cb,
		     void *arg)
{
	struct err err;

	err_clear(&err);
	if (max_per_origin == 0)
		return 0;
	if (store_log_newest(n->store, NULL, max_per_origin, cb, arg,
			     &err) != 0)
		return node_fail(n, &err);
	return 0;
}
