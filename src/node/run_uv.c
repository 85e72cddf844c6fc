/* SPDX-License-Identifier: MIT */
/*
 * run_uv: a node on libuv, the only file of src/node/ that owns a loop.
 * rumor_open() makes the node's io over the caller's loop (or over a loop
 * of its own, which rumor_run() runs) and opens the node on it with
 * node_open_ex(); the io is freed once the node is gone.
 */
#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "io/io_uv.h"
#include "node/node.h"

/* What a node opened by rumor_open() owns besides itself. */
struct node_uv {
	uv_loop_t own_loop;          /* used when the caller gave no loop */
	uv_loop_t *loop;
	int owns_loop;
	struct io *io;
	int node_freed;
	void (*cb)(void *arg);       /* rumor_close()'s */
	void *arg;
};

static void node_uv_free(struct node_uv *u)
{
	void (*cb)(void *) = u->cb;
	void *arg = u->arg;

	io_uv_free(u->io);
	if (u->owns_loop)
		(void)uv_loop_close(&u->own_loop);
	free(u);
	if (cb != NULL)
		cb(arg);
}

/* The node is freed (node_close's or a failed open's callback). */
static void node_uv_node_freed(void *arg)
{
	struct node_uv *u = arg;

	u->node_freed = 1;
	/* An owned loop is run dry by rumor_close() itself. With the
	 * caller's loop, the io goes now: io_uv_free() waits for the close
	 * callbacks still under way on that loop. */
	if (!u->owns_loop)
		node_uv_free(u);
}

/* A peer that closes while we write raises SIGPIPE (libuv writes
 * without MSG_NOSIGNAL), whose default action ends the process. A
 * networked node needs it ignored; a program that installed its own
 * handler keeps it. */
static void node_uv_ignore_sigpipe(const struct rumor_options *o)
{
	struct sigaction sa;

	if (o->listen == NULL && o->n_peers == 0)
		return;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

int rumor_open(struct rumor **out, const struct rumor_options *o,
	       char *errmsg, size_t errlen)
{
	struct node_open_ext ext;
	struct node_env env;
	struct node_uv *u;
	struct err err;
	int rv, owns_loop;

	err_clear(&err);
	if (out == NULL || o == NULL)
		return node_open_ex(out, o, NULL, NULL, errmsg, errlen);
	u = calloc(1, sizeof *u);
	if (u == NULL) {
		rv = err_set(&err, RUMOR_ENOMEM, "out of memory");
		goto err;
	}
	if (o->loop != NULL) {
		u->loop = o->loop;
	} else {
		if (uv_loop_init(&u->own_loop) != 0) {
			rv = err_set(&err, RUMOR_ENOMEM, "cannot make a loop");
			free(u);
			goto err;
		}
		u->loop = &u->own_loop;
		u->owns_loop = 1;
	}
	rv = io_uv_new(&u->io, u->loop, &err);
	if (rv != 0) {
		u->io = NULL;
		node_uv_free(u);
		goto err;
	}
	node_uv_ignore_sigpipe(o);
	env = (struct node_env){.io = u->io};
	ext = (struct node_open_ext){.closed = node_uv_node_freed, .arg = u};
	owns_loop = u->owns_loop;
	rv = node_open_ex(out, o, &env, &ext, errmsg, errlen);
	if (rv == 0) {
		(*out)->uv = u;
		return 0;
	}
	/* The message is written. What started closes on the loop; with
	 * the caller's loop, node_uv_node_freed() frees u when the node is
	 * freed (maybe already: u must not be touched). */
	if (!ext.closing) {
		node_uv_free(u);
	} else if (owns_loop) {
		uv_run(u->loop, UV_RUN_DEFAULT);
		assert(u->node_freed);
		node_uv_free(u);
	}
	return rv;
err:
	if (errmsg != NULL && errlen > 0)
		snprintf(errmsg, errlen, "%s", err.msg);
	return rv;
}

int rumor_run(struct rumor *n)
{
	if (n == NULL || n->uv == NULL || !n->uv->owns_loop)
		return RUMOR_EINVAL;
	return uv_run(n->uv->loop, UV_RUN_DEFAULT) < 0 ? RUMOR_EIO : 0;
}

void rumor_stop(struct rumor *n)
{
	if (n != NULL && n->uv != NULL)
		uv_stop(n->uv->loop);
}

void rumor_close(struct rumor *n, void (*cb)(void *arg), void *arg)
{
	struct node_uv *u;

	if (n == NULL) {
		if (cb != NULL)
			cb(arg);
		return;
	}
	u = n->uv;
	if (u == NULL) {
		/* A node on another io (node_open): its owner runs the loop. */
		node_close(n, cb, arg);
		return;
	}
	u->cb = cb;
	u->arg = arg;
	/* With the caller's loop, u may be gone when node_close returns. */
	if (!u->owns_loop) {
		node_close(n, node_uv_node_freed, u);
		return;
	}
	node_close(n, node_uv_node_freed, u);
	/* Let every closing handle's callback run: then the loop is empty
	 * and can be closed. */
	uv_run(u->loop, UV_RUN_DEFAULT);
	assert(u->node_freed);
	node_uv_free(u);
}
