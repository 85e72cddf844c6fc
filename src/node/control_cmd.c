/* SPDX-License-Identifier: MIT */
/*
 * control_cmd: the commands of the control socket: status, peers, get,
 * put, del, version, and the streams scan, log, watch, sync and why.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bytes.h"
#include "lib/err.h"
#include "node/control_int.h"

/* ------------------------------------------------------------ commands */

struct hwm_collect {
	uint8_t (*origins)[RUMOR_NODE_ID_BYTES];
	struct ctl_hwm *hwm;
	size_t n;
	uint64_t total;
};

static int collect_hwm(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct hwm_collect *h = arg;

	if (h->n < CTL_HWM_MAX) {
		memcpy(h->origins[h->n], origin, RUMOR_NODE_ID_BYTES);
		h->hwm[h->n].origin = h->origins[h->n];
		h->hwm[h->n].origin_len = RUMOR_NODE_ID_BYTES;
		h->hwm[h->n].seq = seq;
		h->n++;
	}
	h->total++;
	return 0;
}

static void cmd_status(struct client *c, const struct ctl_request *rq)
{
	struct ctl_status *st;
	struct hwm_collect h = {0};
	int rv;

	st = calloc(1, sizeof(*st));
	h.origins = calloc(CTL_HWM_MAX, sizeof(*h.origins));
	h.hwm = calloc(CTL_HWM_MAX, sizeof(*h.hwm));
	if (st == NULL || h.origins == NULL || h.hwm == NULL) {
		control_reply_error(c, RUMOR_ENOMEM, NULL);
		goto out;
	}
	rv = node_get_status(c->ctl->node, st);
	/* The catch-up progress only for a client that asked: an older one
	 * reads only the short form. */
	st->extended = rq->status_version == CTL_STATUS_EXT;
	if (rv == 0)
		rv = node_hwms(c->ctl->node, collect_hwm, &h);
	if (rv != 0) {
		control_reply_node_error(c, rv);
		goto out;
	}
	rv = ctl_encode_status(&c->out, st, h.total, h.hwm, h.n);
	if (rv != 0)
		control_encode_failed(c, rv);
out:
	free(st);
	free(h.origins);
	free(h.hwm);
}

static void cmd_peers(struct client *c)
{
	struct ctl_peer_info *peers;
	size_t cap = 64, n, total, i;
	int rv;

	for (;;) {
		peers = calloc(cap, sizeof(*peers));
		if (peers == NULL) {
			control_reply_error(c, RUMOR_ENOMEM, NULL);
			return;
		}
		total = node_peers(c->ctl->node, peers, cap);
		if (total <= cap || cap == CONTROL_PEERS_MAX)
			break;
		free(peers);
		cap = total < CONTROL_PEERS_MAX ? total : CONTROL_PEERS_MAX;
	}
	n = total < cap ? total : cap;
	for (i = 0; i < n; i++) {
		rv = ctl_encode_peer(&c->out, &peers[i]);
		if (rv != 0)
			goto err;
	}
	rv = ctl_encode_end(&c->out, n, total > n);
	if (rv != 0)
		goto err;
	free(peers);
	return;
err:
	free(peers);
	control_encode_failed(c, rv);
}

/* A GET of a key a strong write holds waits: retried every this many
 * ms, for at most the node's strong timeout. */
#define CONTROL_GETWAIT_RETRY_MS 2u

/* The reply of a GET: 0 when encoded (or the client dropped), else the
 * node's error code, not yet replied. */
static int get_reply(struct client *c, const void *key, size_t key_len)
{
	void *value = NULL;
	size_t len = 0;
	int rv;

	rv = rumor_get(c->ctl->node, key, key_len, &value, &len);
	if (rv != 0)
		return rv;
	rv = ctl_encode_value(&c->out, value, len);
	rumor_free(value);
	if (rv != 0)
		control_encode_failed(c, rv);
	return 0;
}

static void on_getwait_timer(struct io_timer *t)
{
	struct client *c = t->data;
	int rv;

	if (c->closing)
		return;
	rv = get_reply(c, c->get_key, c->get_key_len);
	if (rv == RUMOR_ELOCKED &&
	    io_now_ms(c->ctl->io) < c->get_deadline) {
		io_timer_start(t, CONTROL_GETWAIT_RETRY_MS, 0);
		return;
	}
	if (rv != 0)
		control_reply_node_error(c, rv);
	free(c->get_key);
	c->get_key = NULL;
	control_flush(c);
	control_stream_finished(c);
}

static void cmd_get(struct client *c, const struct ctl_request *rq)
{
	struct rumor *n = c->ctl->node;
	int rv;

	rv = get_reply(c, rq->key, rq->key_len);
	if (rv != RUMOR_ELOCKED) {
		if (rv != 0)
			control_reply_node_error(c, rv);
		return;
	}
	/* Wait for the strong write that holds the key, on a timer. */
	if (c->get_timer == NULL)
		c->get_timer = io_timer_new(c->ctl->io, on_getwait_timer, c);
	c->get_key = malloc(rq->key_len);
	if (c->get_timer == NULL || c->get_key == NULL) {
		free(c->get_key);
		c->get_key = NULL;
		control_reply_error(c, RUMOR_ENOMEM, NULL);
		return;
	}
	memcpy(c->get_key, rq->key, rq->key_len);
	c->get_key_len = rq->key_len;
	c->get_deadline = io_now_ms(c->ctl->io) + node_strong_timeout_ms(n);
	c->stream = STREAM_GETWAIT;
	io_timer_start(c->get_timer, CONTROL_GETWAIT_RETRY_MS, 0);
}

/* A reply that waits on the node (SYNC, a strong write): the client
 * holds a ticket and reads nothing more until the reply is sent. NULL
 * (ENOMEM replied) when none could be made. */
static struct sync_ticket *ticket_open(struct client *c,
				       enum stream_kind stream)
{
	struct sync_ticket *t = malloc(sizeof(*t));

	if (t == NULL) {
		control_reply_error(c, RUMOR_ENOMEM, NULL);
		return NULL;
	}
	t->c = c;
	c->ticket = t;
	c->stream = stream;
	return t;
}

/* The node refused at once (rv): its callback will not fire. */
static void ticket_refused(struct client *c, struct sync_ticket *t, int rv)
{
	c->ticket = NULL;
	free(t);
	c->stream = STREAM_NONE;
	control_write_wait_refused(c, rv);
}

/* In the node's callback: frees the ticket; the client to answer, or
 * NULL when it left or is closing meanwhile. */
static struct client *ticket_redeem(struct sync_ticket *t)
{
	struct client *c = t->c;

	free(t);
	if (c == NULL)
		return NULL;
	c->ticket = NULL;
	return c->closing ? NULL : c;
}

static void on_strong_done(void *arg, int result, const char *errmsg)
{
	struct client *c = ticket_redeem(arg);

	if (c == NULL)
		return;
	if (result == 0) {
		int rv = ctl_encode_ok(&c->out);

		if (rv != 0) {
			control_encode_failed(c, rv);
			return;
		}
	} else {
		/* The code's name first, as for any failed call: "strong
		 * write aborted: ..." tells a script what happened. */
		char msg[CTL_MESSAGE_MAX + 1];

		if (errmsg != NULL && errmsg[0] != '\0')
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

/* A strong put (del: a strong delete): the reply waits for the outcome;
 * the client's next request is read after it. */
static void cmd_strong(struct client *c, const struct ctl_request *rq,
		       int del)
{
	struct rumor_op op = {rq->key, rq->key_len, del ? NULL : rq->value,
			      del ? 0 : rq->value_len, del};
	struct sync_ticket *t = ticket_open(c, STREAM_STRONG);
	int rv;

	if (t == NULL)
		return;
	rv = rumor_write_strong(c->ctl->node, &op, 1, on_strong_done, t);
	if (rv != 0)
		ticket_refused(c, t, rv);
}

void control_reply_done(struct client *c, int rv)
{
	if (rv != 0) {
		control_write_wait_refused(c, rv);
		return;
	}
	rv = ctl_encode_ok(&c->out);
	if (rv != 0)
		control_encode_failed(c, rv);
}

static void cmd_version(struct client *c, const struct ctl_request *rq)
{
	struct rumor_record *rec = NULL;
	int rv;

	rv = rumor_get_version(c->ctl->node, rq->key, rq->key_len, &rec);
	if (rv != 0) {
		control_reply_node_error(c, rv);
		return;
	}
	rv = ctl_encode_record(&c->out, &rec->v, 0);
	rumor_record_free(rec);
	if (rv != 0)
		control_encode_failed(c, rv);
}

static int scan_item(void *arg, const void *key, size_t key_len,
		     const void *value, size_t value_len)
{
	struct client *c = arg;
	int rv;

	if (c->closing)
		return 1;
	/* A resumed scan starts after the last key sent. */
	assert(!c->have_last ||
	       bytes_cmp(key, key_len, c->last, c->last_len) > 0);
	if (c->limit != 0 && c->count >= c->limit) {
		c->scan_truncated = 1;
		return 1;
	}
	rv = ctl_encode_item(&c->out, key, key_len, value, value_len);
	if (rv != 0) {
		c->scan_failed = rv;
		return 1;
	}
	memcpy(c->last, key, key_len);
	c->last_len = key_len;
	c->have_last = 1;
	c->count++;
	if (c->out.len >= CONTROL_FLUSH_BYTES)
		control_flush(c);
	if (c->closing)
		return 1;
	if (control_backlog(c) >= CONTROL_HIGH_WATER) {
		c->scan_paused = 1;
		return 1;
	}
	return 0;
}

static void scan_end(struct client *c)
{
	free(c->prefix);
	free(c->last);
	c->prefix = c->last = NULL;
	c->have_last = 0;
	control_stream_finished(c);
}

/* Runs the scan until it ends or the client's backlog is too large. */
void control_scan_continue(struct client *c)
{
	int rv;

	c->scan_paused = 0;
	/* From the last key sent, not from the prefix: each resume costs
	 * what it sends, however far into a large scan it is. */
	rv = rumor_scan_after(c->ctl->node, c->prefix, c->prefix_len,
			      c->have_last ? c->last : NULL,
			      c->have_last ? c->last_len : 0, scan_item, c);
	if (c->closing)
		return;
	if (c->scan_failed) {
		control_encode_failed(c, c->scan_failed);
		return;
	}
	if (rv != 0) {
		/* Mid-stream: the ERROR takes the place of END. */
		control_reply_node_error(c, rv);
		control_flush(c);
		scan_end(c);
		return;
	}
	if (c->scan_paused) {
		control_flush(c);
		return;
	}
	rv = ctl_encode_end(&c->out, c->count, c->scan_truncated);
	if (rv != 0) {
		control_encode_failed(c, rv);
		return;
	}
	control_flush(c);
	scan_end(c);
}

static void cmd_scan(struct client *c, const struct ctl_request *rq)
{
	c->prefix = malloc(rq->key_len > 0 ? rq->key_len : 1);
	c->last = malloc(RUMOR_KEY_MAX);
	if (c->prefix == NULL || c->last == NULL) {
		free(c->prefix);
		free(c->last);
		c->prefix = c->last = NULL;
		control_reply_error(c, RUMOR_ENOMEM, NULL);
		return;
	}
	if (rq->key_len > 0)
		memcpy(c->prefix, rq->key, rq->key_len);
	c->prefix_len = rq->key_len;
	c->have_last = 0;
	c->count = 0;
	c->limit = rq->limit;
	c->scan_truncated = c->scan_failed = 0;
	c->stream = STREAM_SCAN;
	control_scan_continue(c);
}

struct log_walk {
	struct client *c;
	uint64_t count;
	int truncated;
	int failed;
};

static int log_entry(void *arg, const struct rumor_version *v)
{
	struct log_walk *lw = arg;
	struct client *c = lw->c;
	int rv;

	if (control_backlog(c) >= CONTROL_LOG_BYTES_MAX) {
		lw->truncated = 1;
		return 1;
	}
	rv = ctl_encode_record(&c->out, v, 0);
	if (rv != 0) {
		lw->failed = rv;
		return 1;
	}
	lw->count++;
	if (c->out.len >= CONTROL_FLUSH_BYTES)
		control_flush(c);
	return c->closing;
}

static void cmd_log(struct client *c, const struct ctl_request *rq)
{
	struct log_walk lw = {.c = c};
	int rv;

	rv = node_log_entries(c->ctl->node, (size_t)rq->limit, log_entry, &lw);
	if (c->closing)
		return;
	if (lw.failed) {
		control_encode_failed(c, lw.failed);
		return;
	}
	if (rv < 0) {
		control_reply_node_error(c, rv);
		return;
	}
	rv = ctl_encode_end(&c->out, lw.count, lw.truncated);
	if (rv != 0)
		control_encode_failed(c, rv);
}

/* A change of the client's stream: GAP first when the stream passed over
 * superseded changes after a pause, then the RECORD; the stream pauses
 * once the backlog is over the high-water mark (and goes on from its
 * position when it drained: control.c, on_drained). */
static void on_watch_change(void *arg, const struct rumor_change *ch)
{
	struct client *c = arg;
	uint64_t skipped;
	int rv;

	if (c->closing || c->stream != STREAM_WATCH) {
		rumor_tail_pause(c->tail);
		return;
	}
	skipped = node_tail_take_skipped(c->tail);
	if (c->watch_was_paused && skipped > 0) {
		rv = ctl_encode_gap(&c->out, skipped);
		if (rv != 0)
			goto err;
	}
	rv = ctl_encode_change(&c->out, &ch->v,
			       node_is_own_origin(c->ctl->node, ch->v.origin,
						  ch->v.origin_len), ch->pos);
	if (rv != 0)
		goto err;
	control_flush(c);
	if (!c->closing && control_backlog(c) >= CONTROL_WATCH_HIGH_WATER) {
		rumor_tail_pause(c->tail);
		c->watch_paused = 1;
		c->watch_was_paused = 1;
	}
	return;
err:
	rumor_tail_pause(c->tail);
	control_encode_failed(c, rv);
}

/* WATCH: a change stream from the head (later changes), or from the
 * position the client gives. */
static void cmd_watch(struct client *c, const struct ctl_request *rq)
{
	struct rumor *n = c->ctl->node;
	uint64_t since = rq->since;
	int rv;

	if (!rq->has_since && rumor_position(n, &since, NULL) != 0) {
		control_reply_error(c, RUMOR_EIO, NULL);
		return;
	}
	rv = rumor_tail_open(n, rq->key, rq->key_len, since, on_watch_change,
			     c, &c->tail);
	if (rv != 0) {
		c->tail = NULL;
		control_reply_node_error(c, rv);
		return;
	}
	/* OK first: the stream's first read is on a later loop turn. */
	rv = ctl_encode_ok(&c->out);
	if (rv != 0) {
		control_encode_failed(c, rv);
		return;
	}
	c->stream = STREAM_WATCH;
	c->watch_paused = 0;
	c->watch_was_paused = 0;
}

static void on_sync_done(void *arg, const struct ctl_sync_report *r)
{
	struct client *c = ticket_redeem(arg);
	int rv;

	if (c == NULL)
		return;
	rv = ctl_encode_sync(&c->out, r);
	if (rv != 0) {
		control_encode_failed(c, rv);
		return;
	}
	control_flush(c);
	control_stream_finished(c);
}

static void cmd_sync(struct client *c, const struct ctl_request *rq)
{
	struct sync_ticket *t = ticket_open(c, STREAM_SYNC);
	int rv;

	if (t == NULL)
		return;
	rv = node_sync_now(c->ctl->node, (uint32_t)rq->timeout_ms,
			   on_sync_done, t);
	if (rv != 0)
		ticket_refused(c, t, rv);
}

static void on_why_done(void *arg, int rc, const struct ctl_why_summary *s,
			const struct ctl_why_row *rows, size_t n)
{
	struct client *c = ticket_redeem(arg);
	size_t i;
	int rv = 0;

	if (c == NULL)
		return;
	if (rc != 0) {
		control_reply_error(c, rc, NULL);
	} else {
		for (i = 0; i < n && rv == 0; i++)
			rv = ctl_encode_why_row(&c->out, &rows[i]);
		if (rv == 0)
			rv = ctl_encode_why(&c->out, s);
		if (rv != 0) {
			control_encode_failed(c, rv);
			return;
		}
	}
	control_flush(c);
	if (c->closing)
		return;
	control_stream_finished(c);
}

/* WHY: every member's version of the key, the winner and a verdict; the
 * reply waits at most the request's timeout for the members' answers. */
static void cmd_why(struct client *c, const struct ctl_request *rq)
{
	struct sync_ticket *t = ticket_open(c, STREAM_SYNC);
	struct err err;
	int rv;

	if (t == NULL)
		return;
	err_clear(&err);
	rv = node_why(c->ctl->node, rq->key, rq->key_len,
		      (uint32_t)rq->timeout_ms, on_why_done, t, &err);
	if (rv != 0) {
		c->ticket = NULL;
		free(t);
		c->stream = STREAM_NONE;
		control_reply_error(c, rv, err.msg);
	}
}

void control_handle_request(struct client *c, const struct ctl_request *rq)
{
	struct rumor *n = c->ctl->node;

	switch (rq->cmd) {
	case CTL_CMD_STATUS:
		cmd_status(c, rq);
		break;
	case CTL_CMD_PEERS:
		cmd_peers(c);
		break;
	case CTL_CMD_GET:
		cmd_get(c, rq);
		break;
	case CTL_CMD_PUT:
		if (node_is_strong(n)) {
			cmd_strong(c, rq, 0);
			break;
		}
		control_reply_done(c, rumor_put(n, rq->key, rq->key_len, rq->value,
					rq->value_len));
		break;
	case CTL_CMD_DEL:
		if (node_is_strong(n)) {
			cmd_strong(c, rq, 1);
			break;
		}
		control_reply_done(c, rumor_del(n, rq->key, rq->key_len));
		break;
	case CTL_CMD_SPUT:
		cmd_strong(c, rq, 0);
		break;
	case CTL_CMD_SDEL:
		cmd_strong(c, rq, 1);
		break;
	case CTL_CMD_SCAN:
		cmd_scan(c, rq);
		break;
	case CTL_CMD_WATCH:
		cmd_watch(c, rq);
		break;
	case CTL_CMD_LOG:
		cmd_log(c, rq);
		break;
	case CTL_CMD_VERSION:
		cmd_version(c, rq);
		break;
	case CTL_CMD_SYNC:
		cmd_sync(c, rq);
		break;
	case CTL_CMD_WHY:
		cmd_why(c, rq);
		break;
	}
}

