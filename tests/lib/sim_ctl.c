/* SPDX-License-Identifier: MIT */
/*
 * sim_ctl: the test side of a node's control socket in the simulated
 * world: one request, its reply, over a sim stream (sim_cluster.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "node/node.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/testutil.h"
#include "wire/wire_ctl.h"

struct ctl_client {
	struct simc *c;
	uint8_t *buf;
	size_t len, cap;
	int closed;
};

static void client_read(struct io_stream *st, const uint8_t *buf, size_t len)
{
	struct ctl_client *cl = st->data;
	uint8_t *b;

	if (cl->len + len > cl->cap) {
		b = array_grow(cl->buf, &cl->cap, cl->len + len, 1, 1024);
		if (b == NULL)
			simc_fail(cl->c, "out of memory");
		cl->buf = b;
	}
	memcpy(cl->buf + cl->len, buf, len);
	cl->len += len;
}

static void client_closed(struct io_stream *st, int reason,
			  const char *detail)
{
	(void)reason;
	(void)detail;
	((struct ctl_client *)st->data)->closed = 1;
}

static const struct io_stream_handlers client_handlers = {
	.read = client_read,
	.closed = client_closed,
};

static int have_frame(void *arg)
{
	struct ctl_client *cl = arg;

	if (cl->closed)
		return 1;
	return cl->len >= CTL_FRAME_HEADER &&
	       cl->len - CTL_FRAME_HEADER >= ctl_frame_length(cl->buf);
}

struct simc_ctl_call {
	struct ctl_client cl;
	struct io_stream *st;
	int node;
};

struct simc_ctl_call *simc_ctl_start(struct simc *c, int i,
				     const struct ctl_request *rq)
{
	struct simc_ctl_call *call = calloc(1, sizeof(*call));
	struct wire_buf b;
	struct err err = { 0 };
	char *path;
	int rv;

	if (call == NULL)
		simc_fail(c, "out of memory");
	call->cl.c = c;
	call->node = i;
	path = tu_join(c->nodes[i].dir, CTL_SOCKET_NAME);
	rv = sim_stream_connect(c->sim, path, &client_handlers, &call->cl,
				&call->st, &err);
	free(path);
	if (rv != 0)
		simc_fail(c, "control socket of node %d: %s", i, err.msg);
	wire_buf_init(&b);
	if (ctl_encode_request(&b, rq, &err) != 0 ||
	    io_stream_write(call->st, b.data, b.len, &err) != 0)
		simc_fail(c, "control request: %s", err.msg);
	wire_buf_free(&b);
	return call;
}

int simc_ctl_answered(void *call)
{
	return have_frame(&((struct simc_ctl_call *)call)->cl);
}

int simc_ctl_finish(struct simc_ctl_call *call, struct ctl_reply *r)
{
	struct ctl_client *cl = &call->cl;
	struct simc *c = cl->c;
	struct err err = { 0 };
	int rv = -1;

	if (have_frame(cl) && !(cl->closed && cl->len < CTL_FRAME_HEADER)) {
		if (cl->len >= CTL_FRAME_HEADER &&
		    cl->len - CTL_FRAME_HEADER >= ctl_frame_length(cl->buf)) {
			if (ctl_decode_reply(cl->buf + CTL_FRAME_HEADER,
					     ctl_frame_length(cl->buf), r,
					     &err) != 0)
				simc_fail(c, "control reply of node %d: %s",
					  call->node, err.msg);
			rv = 0;
		}
	}
	io_stream_close(call->st, NULL);
	/* r's keys and values point into the buffer: copy what is needed
	 * before it goes (the callers use only scalars, the message and
	 * VALUE). */
	if (rv == 0 && r->type == CTL_R_VALUE) {
		uint8_t *v = malloc(r->rec.value_len + 1);

		if (v == NULL)
			simc_fail(c, "out of memory");
		memcpy(v, r->rec.value, r->rec.value_len);
		r->rec.value = v;
	}
	free(cl->buf);
	free(call);
	return rv;
}

/* Sends rq to node i's control socket and waits (virtual time) for one
 * reply. 0 with *r decoded (free it with ctl_reply_free), or -1 when the
 * stream ended first (the node crashed or went down). */
static int ctl_call(struct simc *c, int i, const struct ctl_request *rq,
		    struct ctl_reply *r)
{
	struct simc_ctl_call *call = simc_ctl_start(c, i, rq);

	if (!simc_run_cond(c, simc_ctl_answered, call,
			   sim_now(c->sim) + 30000))
		simc_fail(c, "node %d's control socket did not answer in 30 s",
			  i);
	return simc_ctl_finish(call, r);
}

static void reply_done(struct ctl_reply *r)
{
	if (r->type == CTL_R_VALUE)
		free((void *)r->rec.value);
	ctl_reply_free(r);
}

void simc_ctl_write(struct simc *c, int i)
{
	struct ctl_request rq;
	struct ctl_reply r;
	uint8_t key[SIMC_KEY_LEN], val[8];

	/* Not while gated after a stale restart: the node must refuse
	 * then only because it is catching up, and the request reaches it
	 * some milliseconds later, when it may have stopped (seed 868 with
	 * partial nodes: a reused seq). */
	if (!simc_may_write(c, i) || c->nodes[i].gate_seq != 0)
		return;
	memset(&rq, 0, sizeof(rq));
	simc_pick_key(c, i, key);
	if (simc_rewrite_risky(c, i, key, sizeof(key)))
		return;
	rq.key = key;
	rq.key_len = sizeof(key);
	if (sim_below(c->sim, 3) == 0) {
		rq.cmd = CTL_CMD_DEL;
	} else {
		rq.cmd = CTL_CMD_PUT;
		memset(val, 'A' + (int)sim_below(c->sim, 26), sizeof(val));
		rq.value = val;
		rq.value_len = 1 + sim_below(c->sim, sizeof(val));
	}
	SIMC_TRACE(c, "node %d: control %s key %c", i,
		   rq.cmd == CTL_CMD_PUT ? "put" : "del", key[2]);
	if (ctl_call(c, i, &rq, &r) != 0)
		return;   /* gone before it answered */
	if (r.type == CTL_R_OK)
		c->ctl_writes++;
	else if (r.type != CTL_R_ERROR ||
		 (r.code != RUMOR_EREFUSED && r.code != RUMOR_EIO))
		simc_fail(c, "control write on node %d: reply %s %d %s", i,
			  ctl_reply_name(r.type), r.code, r.message);
	reply_done(&r);
}

void simc_ctl_check(struct simc *c, int i)
{
	const struct simnet_version *w;
	struct ctl_request rq;
	struct ctl_reply r;
	uint8_t key[SIMC_KEY_LEN];
	unsigned k;

	for (k = 0; k < SIMC_KEYS; k++) {
		memset(&rq, 0, sizeof(rq));
		simc_key(k, key);
		rq.cmd = CTL_CMD_GET;
		rq.key = key;
		rq.key_len = sizeof(key);
		if (ctl_call(c, i, &rq, &r) != 0)
			simc_fail(c, "node %d's control socket closed", i);
		w = simc_winner(c, key, sizeof(key));
		if (!simc_in_set(c, i, key, sizeof(key)))
			w = NULL;   /* a partial node has none of it */
		if (w == NULL || w->deleted) {
			if (r.type != CTL_R_ERROR || r.code != RUMOR_ENOTFOUND)
				simc_fail(c, "control GET of key %u on node %d: "
					  "%s, the model has none", k, i,
					  ctl_reply_name(r.type));
		} else if (r.type != CTL_R_VALUE ||
			   r.rec.value_len != w->value_len ||
			   memcmp(r.rec.value, w->value, w->value_len) != 0) {
			simc_fail(c, "control GET of key %u on node %d: %s "
				  "differs from the model", k, i,
				  ctl_reply_name(r.type));
		}
		reply_done(&r);
	}
}
