/* SPDX-License-Identifier: MIT */
/*
 * control_wait: a PUT or DEL (strong or not) that arrives while the node
 * catches up waits, when its request says so (wait_ms), for catch-up to
 * end instead of being refused at once. The request stays at the head
 * of the client's input while it waits, and the client reads nothing
 * else; the node wakes it (node_catchup_wait) when catch-up ends, or its
 * timer when the wait is over, and the request is then handled as if it
 * had just come: written, or refused because the node is still catching
 * up. No copy of the key or value is made, and no polling.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/control_int.h"

/* The wait is "the node's bound" (CTL_WAIT_DEFAULT): catch-up ends by
 * itself at its deadline, checked on the node's tick (500 ms), so the
 * wait goes a little past the deadline. */
#define CONTROL_WAIT_SLACK_MS 1500u

/* Catch-up ended, or the wait is over: handle the request. */
static void wait_over(struct client *c)
{
	assert(c->stream == STREAM_WRITEWAIT);
	node_catchup_wait_cancel(c->ctl->node, &c->catchup_wait);
	if (c->wait_timer != NULL)
		io_timer_stop(c->wait_timer);
	c->wait_expired = 1;
	control_stream_finished(c);
}

static void on_catchup_ended(struct node_catchup_wait *w)
{
	struct client *c = (struct client *)((char *)w -
					     offsetof(struct client,
						      catchup_wait));

	if (c->closing || c->stream != STREAM_WRITEWAIT)
		return;
	/* From the loop's next turn: catch-up may end inside a sync
	 * session's callback, where a write (offered live to that very
	 * session) must not run. */
	io_timer_start(c->wait_timer, 0, 0);
}

static void on_wait_timer(struct io_timer *t)
{
	struct client *c = t->data;

	if (c->closing || c->stream != STREAM_WRITEWAIT)
		return;
	wait_over(c);
}

int control_write_waits(struct client *c, const struct ctl_request *rq)
{
	struct rumor *n = c->ctl->node;
	uint64_t left, wait;

	if (c->wait_expired) {
		/* This request waited already: it is answered now, whatever
		 * the node's state. */
		c->wait_expired = 0;
		c->wait_refuse_ms = io_now_ms(c->ctl->io) - c->wait_started_ms;
		c->wait_done = 1;
		return 0;
	}
	c->wait_done = 0;
	if (rq->cmd != CTL_CMD_PUT && rq->cmd != CTL_CMD_DEL &&
	    rq->cmd != CTL_CMD_SPUT && rq->cmd != CTL_CMD_SDEL)
		return 0;
	if (!rq->has_wait || rq->wait_ms == 0 || !node_catchup_left(n, &left))
		return 0;
	wait = rq->wait_ms == CTL_WAIT_DEFAULT ? left + CONTROL_WAIT_SLACK_MS
					       : rq->wait_ms;
	if (c->wait_timer == NULL)
		c->wait_timer = io_timer_new(c->ctl->io, on_wait_timer, c);
	if (c->wait_timer == NULL)
		return 0;     /* out of memory: answered at once */
	c->catchup_wait.done = on_catchup_ended;
	if (!node_catchup_wait(n, &c->catchup_wait))
		return 0;
	c->wait_started_ms = io_now_ms(c->ctl->io);
	c->stream = STREAM_WRITEWAIT;
	io_timer_start(c->wait_timer, wait, 0);
	return 1;
}

void control_write_wait_refused(struct client *c, int rv)
{
	char msg[CTL_MESSAGE_MAX + 1];

	if (rv != RUMOR_EREFUSED || !c->wait_done) {
		control_reply_node_error(c, rv);
		return;
	}
	snprintf(msg, sizeof(msg), "%s: still catching up with peers after "
		 "waiting %llu ms (rumorctl --wait MS waits longer)",
		 rumor_strerror(rv), (unsigned long long)c->wait_refuse_ms);
	control_reply_error(c, rv, msg);
}

void control_write_wait_cancel(struct client *c)
{
	node_catchup_wait_cancel(c->ctl->node, &c->catchup_wait);
}

void control_write_wait_free(struct client *c)
{
	assert(!c->catchup_wait.linked);
	if (c->wait_timer != NULL)
		io_timer_free(c->wait_timer);
	c->wait_timer = NULL;
}
