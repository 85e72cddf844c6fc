/* SPDX-License-Identifier: MIT */
/*
 * control_strong: the control socket's strong writes (SPUT, SDEL, and
 * PUT, DEL on a node in strong consistency) and GET's wait for a key a
 * strong write holds.
 *
 * A strong write replies from its callback, loop turns later. The
 * client's later requests wait meanwhile (the stream STREAM_STRONG stops
 * reading), so its replies stay in request order; clients in parallel
 * each have their own write in flight. A client that leaves first
 * detaches from its ticket, which the callback frees: the callback never
 * touches a freed client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/control_int.h"

/* How often a GET on a locked key looks again. */
#define CONTROL_GET_POLL_MS 2u

int control_is_strong(struct control *ctl)
{
	uint32_t timeout_ms;
	int consistency;

	node_strong_settings(ctl->node, &consistency, &timeout_ms);
	return consistency == RUMOR_CONSISTENCY_STRONG;
}

/* ------------------------------------------------------------ writes */

static void on_strong_done(void *arg, int result, const char *errmsg)
{
	struct strong_ticket *t = arg;
	struct client *c = t->c;
	char msg[CTL_MESSAGE_MAX + 1];

	free(t);
	if (c == NULL)
		return;         /* the client left meanwhile */
	c->strong = NULL;
	if (c->closing)
		return;
	if (result == 0) {
		control_reply_done(c, 0);
	} else {
		if (errmsg != NULL && errmsg[0])
			snprintf(msg, sizeof(msg), "%s: %s",
				 rumor_strerror(result), errmsg);
		else
			snprintf(msg, sizeof(msg), "%s",
				 rumor_strerror(result));
		control_reply_error(c, result, msg);
	}
	if (c->closing)
		return;
	control_flush(c);
	if (c->closing)
		return;
	control_stream_finished(c);
}

void control_strong_write(struct client *c, const struct ctl_request *rq)
{
	int del = rq->cmd == CTL_CMD_DEL || rq->cmd == CTL_CMD_SDEL;
	struct strong_ticket *t = malloc(sizeof(*t));
	struct rumor_op op = {
		.key = rq->key,
		.key_len = rq->key_len,
		.value = del ? NULL : rq->value,
		.value_len = del ? 0 : rq->value_len,
		.del = del,
	};
	int rv;

	if (t == NULL) {
		control_reply_error(c, RUMOR_ENOMEM, NULL);
		return;
	}
	t->c = c;
	/* The library copies the op before this returns; its cb fires
	 * later, from the loop, never inside the call. */
	rv = rumor_write_strong(c->ctl->node, &op, 1, on_strong_done, t);
	if (rv != 0) {
		free(t);
		control_reply_node_error(c, rv);
		return;
	}
	c->strong = t;
	c->stream = STREAM_STRONG;
}

/* ------------------------------------------------------------ reads */

/* Replies to a GET with the value or the error; 1 when the key is held
 * by a strong write and the wait may go on, 0 when answered. */
static int get_answer(struct client *c, const uint8_t *key, size_t key_len,
		      int may_wait)
{
	void *value = NULL;
	size_t len = 0;
	int rv;

	rv = rumor_get(c->ctl->node, key, key_len, &value, &len);
	if (rv == RUMOR_ELOCKED && may_wait)
		return 1;
	if (rv != 0) {
		control_reply_node_error(c, rv);
		return 0;
	}
	rv = ctl_encode_value(&c->out, value, len);
	rumor_free(value);
	if (rv != 0)
		control_encode_failed(c, rv);
	return 0;
}

static void get_wait_end(struct client *c)
{
	if (c->wait_timer != NULL)
		io_timer_free(c->wait_timer);
	c->wait_timer = NULL;
	free(c->wait_key);
	c->wait_key = NULL;
	c->wait_key_len = 0;
}

static void on_get_poll(struct io_timer *t)
{
	struct client *c = t->data;
	int may_wait;

	if (c->closing)
		return;
	may_wait = io_now_ms(c->ctl->io) < c->wait_deadline_ms;
	if (get_answer(c, c->wait_key, c->wait_key_len, may_wait)) {
		io_timer_start(t, CONTROL_GET_POLL_MS, 0);
		return;
	}
	get_wait_end(c);
	if (c->closing)
		return;
	control_flush(c);
	if (c->closing)
		return;
	control_stream_finished(c);
}

void control_get(struct client *c, const struct ctl_request *rq)
{
	uint32_t timeout_ms;
	int consistency;

	if (!get_answer(c, rq->key, rq->key_len, 1))
		return;
	/* Locked: a strong write holds the key. Wait on a timer, never on
	 * the loop, at most the strong timeout. */
	node_strong_settings(c->ctl->node, &consistency, &timeout_ms);
	c->wait_key = malloc(rq->key_len);
	c->wait_timer = c->wait_key != NULL
				? io_timer_new(c->ctl->io, on_get_poll, c)
				: NULL;
	if (c->wait_timer == NULL) {
		get_wait_end(c);
		control_reply_error(c, RUMOR_ENOMEM, NULL);
		return;
	}
	memcpy(c->wait_key, rq->key, rq->key_len);
	c->wait_key_len = rq->key_len;
	c->wait_deadline_ms = io_now_ms(c->ctl->io) + timeout_ms;
	c->stream = STREAM_GET_WAIT;
	io_timer_start(c->wait_timer, CONTROL_GET_POLL_MS, 0);
}

void control_strong_detach(struct client *c)
{
	if (c->strong != NULL) {
		c->strong->c = NULL;
		c->strong = NULL;
	}
	get_wait_end(c);
}
