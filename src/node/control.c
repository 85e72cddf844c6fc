/* SPDX-License-Identifier: MIT */
/*
 * control: the unix control socket of a node (see control.h).
 *
 * Each client is an io_stream with a frame accumulator. Requests are
 * handled one at a time in arrival order; a streaming reply (SCAN, SYNC)
 * stops reading until it ends, so a client cannot pile up work. Replies
 * are encoded into the client's scratch buffer and written to the stream
 * in chunks; the stream's queue counts bytes not yet written, and streams
 * pause (SCAN, WATCH) above a high-water mark, so a slow reader costs
 * bounded memory; a paused watch reads on from its position in the change
 * feed (src/node/tail.c).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/control_int.h"

static void client_close(struct client *c);
static void process_input(struct client *c);

/* ------------------------------------------------------------ writing */

/* Hands the encoded replies to the stream, which copies them. On
 * failure the client is closed; every later step checks c->closing. */
void control_flush(struct client *c)
{
	struct err err;

	if (c->out.len == 0 || c->closing)
		return;
	err_clear(&err);
	if (io_stream_write(c->s, c->out.data, c->out.len, &err) != 0) {
		client_close(c);
		return;
	}
	wire_buf_free(&c->out);
	wire_buf_init(&c->out);
}

size_t control_backlog(const struct client *c)
{
	return io_stream_queued(c->s) + c->out.len;
}

/* An encoder failed (out of memory, or a value the encoder refuses):
 * nothing sane can follow on this connection. */
void control_encode_failed(struct client *c, int rv)
{
	node_log(c->ctl->node, RUMOR_LOG_WARN,
		 "control: cannot encode a reply (%s); dropping the client",
		 rumor_strerror(rv));
	client_close(c);
}

void control_reply_error(struct client *c, int code, const char *msg)
{
	int rv = ctl_encode_error(&c->out, code < 0 ? code : RUMOR_EIO,
				  msg != NULL && msg[0] ? msg :
				  rumor_strerror(code));

	if (rv != 0)
		control_encode_failed(c, rv);
}

/* The code's name and the node's detail for the failed call: "not
 * found: store: no such key". */
void control_reply_node_error(struct client *c, int code)
{
	const char *detail = rumor_errmsg(c->ctl->node);
	char msg[CTL_MESSAGE_MAX + 1];

	if (detail != NULL && detail[0])
		snprintf(msg, sizeof(msg), "%s: %s", rumor_strerror(code),
			 detail);
	else
		snprintf(msg, sizeof(msg), "%s", rumor_strerror(code));
	control_reply_error(c, code, msg);
}

/* A request broke the protocol: say why, then hang up once it is sent.
 * Nothing in the request was acted on. */
static void reply_protocol_error(struct client *c, const char *msg)
{
	node_log(c->ctl->node, RUMOR_LOG_DEBUG, "control: %s", msg);
	control_reply_error(c, RUMOR_EPROTO, msg);
	c->close_after_write = 1;
	c->rlen = 0;
	control_flush(c);
}

/* Everything written: a paused scan or watch goes on, a client being
 * hung up on goes. */
static void on_drained(struct io_stream *s)
{
	struct client *c = s->data;
	if (c->closing)
		return;
	if (c->close_after_write) {
		client_close(c);
		return;
	}
	if (c->stream == STREAM_NONE && !c->in_process) {
		/* Requests held back by the high-water mark go on. */
		process_input(c);
	} else if (c->stream == STREAM_SCAN && c->scan_paused) {
		control_scan_continue(c);
	} else if (c->stream == STREAM_WATCH && c->watch_paused) {
		/* The stream reads on from its position in the feed. */
		c->watch_paused = 0;
		rumor_tail_resume(c->tail);
	}
}

/* ------------------------------------------------------------ reading */

static void start_reading(struct client *c);

/* A stream ended: handle requests that arrived meanwhile, then read on. */
void control_stream_finished(struct client *c)
{
	c->stream = STREAM_NONE;
	if (c->in_process || c->closing)
		return;
	control_flush(c);
	process_input(c);
}

static int append_input(struct client *c, const uint8_t *p, size_t n)
{
	size_t need = c->rlen + n, cap;
	uint8_t *q;

	if (need > c->rcap) {
		cap = c->rcap != 0 ? c->rcap : 4096;
		while (cap < need)
			cap *= 2;
		q = realloc(c->rbuf, cap);
		if (q == NULL)
			return RUMOR_ENOMEM;
		c->rbuf = q;
		c->rcap = cap;
	}
	memcpy(c->rbuf + c->rlen, p, n);
	c->rlen = need;
	return 0;
}

static void on_read(struct io_stream *s, const uint8_t *buf, size_t len)
{
	struct client *c = s->data;

	if (c->closing || len == 0)
		return;
	/* A watcher only ever closes; a client being hung up on has said
	 * enough. */
	if (c->stream == STREAM_WATCH || c->close_after_write)
		return;
	if (append_input(c, buf, len) != 0) {
		control_encode_failed(c, RUMOR_ENOMEM);
		return;
	}
	process_input(c);
}

/* EOF or an error: nothing more will come; drop the client (a watch
 * ends here). */
static void on_stream_closed(struct io_stream *s, int reason,
			     const char *detail)
{
	(void)reason;
	(void)detail;
	client_close(s->data);
}

static void start_reading(struct client *c)
{
	if (c->reading || c->closing)
		return;
	c->s->ops->resume(c->s);
	c->reading = 1;
}

static void stop_reading(struct client *c)
{
	if (!c->reading)
		return;
	c->s->ops->pause(c->s);
	c->reading = 0;
}

/* Group commit: a run of pipelined PUT and DEL requests (whole frames at
 * the head of the input, at most CONTROL_GROUP_MAX of them and
 * CONTROL_GROUP_BYTES of keys and values) is written with ONE rumor_write,
 * one LevelDB write instead of one each, and each gets its reply as if
 * written alone: every acknowledged write reached the OS, in order, and
 * a request after the run sees them all. When the batch fails as a whole
 * for a reason that is not the same for every op (a bad op), the run is
 * done again one request at a time, so that each gets its own answer.
 * Returns the input bytes used (0: the head is no PUT or DEL, or the
 * run is a single request: handled the ordinary way). */
static size_t process_write_run(struct client *c)
{
	struct rumor_op ops[CONTROL_GROUP_MAX];
	size_t off = 0, bytes = 0, n = 0, i;
	struct ctl_request rq;
	struct err err;
	uint32_t len;
	int rv;

	while (n < CONTROL_GROUP_MAX && c->rlen - off >= CTL_FRAME_HEADER) {
		len = ctl_frame_length(c->rbuf + off);
		if (len == 0 || len > CTL_REQUEST_MAX ||
		    c->rlen - off - CTL_FRAME_HEADER < len)
			break;
		err_clear(&err);
		if (ctl_decode_request(c->rbuf + off + CTL_FRAME_HEADER, len,
				       &rq, &err) != 0 ||
		    (rq.cmd != CTL_CMD_PUT && rq.cmd != CTL_CMD_DEL) ||
		    (n > 0 && bytes + rq.key_len + rq.value_len >
		     CONTROL_GROUP_BYTES))
			break;
		/* rq points into rbuf, which stays put during the run. */
		ops[n].key = rq.key;
		ops[n].key_len = rq.key_len;
		ops[n].value = rq.cmd == CTL_CMD_PUT ? rq.value : NULL;
		ops[n].value_len = rq.cmd == CTL_CMD_PUT ? rq.value_len : 0;
		ops[n].del = rq.cmd == CTL_CMD_DEL;
		bytes += rq.key_len + rq.value_len;
		off += CTL_FRAME_HEADER + (size_t)len;
		n++;
	}
	if (n < 2 || node_is_strong(c->ctl->node))
		return 0;   /* strong writes go one at a time */
	rv = rumor_write(c->ctl->node, ops, n);
	if (rv == 0 || rv == RUMOR_EREFUSED) {
		for (i = 0; i < n; i++)
			control_reply_done(c, rv);
		return off;
	}
	for (i = 0; i < n; i++)
		control_reply_done(c, ops[i].del
			? rumor_del(c->ctl->node, ops[i].key, ops[i].key_len)
			: rumor_put(c->ctl->node, ops[i].key, ops[i].key_len,
				    ops[i].value, ops[i].value_len));
	return off;
}

/* Handles every whole frame received, in order, until a stream starts,
 * the input runs out, or the client is being hung up on. */
static void process_input(struct client *c)
{
	struct ctl_request rq;
	struct err err;
	uint32_t len;
	size_t used;

	assert(!c->in_process);
	c->in_process = 1;
	/* Replies wait above the high-water mark: a client that pipelines
	 * requests and never reads would otherwise make the node hold every
	 * reply (a GET of a 1 MiB value per 20-byte request). */
	while (!c->closing && !c->close_after_write &&
	       c->stream == STREAM_NONE && c->rlen >= CTL_FRAME_HEADER &&
	       control_backlog(c) < CONTROL_HIGH_WATER) {
		len = ctl_frame_length(c->rbuf);
		if (len == 0 || len > CTL_REQUEST_MAX) {
			char msg[96];

			snprintf(msg, sizeof(msg), "control: request frame of "
				 "%u bytes (1 to %u allowed)", len,
				 CTL_REQUEST_MAX);
			reply_protocol_error(c, msg);
			break;
		}
		if (c->rlen - CTL_FRAME_HEADER < len)
			break;
		err_clear(&err);
		if (ctl_decode_request(c->rbuf + CTL_FRAME_HEADER, len, &rq,
				       &err) != 0) {
			reply_protocol_error(c, err.msg);
			break;
		}
		/* A write that waits for catch-up stays at the head. */
		if (control_write_waits(c, &rq))
			break;
		/* One that waited is answered alone. */
		used = c->wait_done ? 0 : process_write_run(c);
		if (used > 0) {
			if (c->closing)
				break;
			memmove(c->rbuf, c->rbuf + used, c->rlen - used);
			c->rlen -= used;
			continue;
		}
		/* rq points into rbuf: handle it before moving the rest. */
		control_handle_request(c, &rq);
		c->wait_done = 0;
		used = CTL_FRAME_HEADER + (size_t)len;
		if (c->closing)
			break;
		memmove(c->rbuf, c->rbuf + used, c->rlen - used);
		c->rlen -= used;
	}
	c->in_process = 0;
	if (c->closing)
		return;
	control_flush(c);
	if (c->closing)
		return;
	/* Read on while idle (for the next request) or watching (for EOF);
	 * a running SCAN or SYNC must end before more is read. */
	if (c->close_after_write ||
	    c->stream == STREAM_SCAN || c->stream == STREAM_SYNC ||
	    c->stream == STREAM_STRONG || c->stream == STREAM_GETWAIT ||
	    c->stream == STREAM_WRITEWAIT ||
	    (c->stream == STREAM_NONE && control_backlog(c) >= CONTROL_HIGH_WATER))
		stop_reading(c);
	else
		start_reading(c);
}

/* ------------------------------------------------------------ clients */

static void control_handle_closed(struct control *ctl);

static void on_client_closed(struct io_stream *s)
{
	struct client *c = s->data;
	struct control *ctl = c->ctl;

	rumor_tail_close(c->tail);
	if (c->ticket != NULL)
		c->ticket->c = NULL;
	if (c->get_timer != NULL)
		io_timer_free(c->get_timer);
	control_write_wait_free(c);
	free(c->get_key);
	wire_buf_free(&c->out);
	free(c->rbuf);
	free(c->prefix);
	free(c->last);
	free(c);
	control_handle_closed(ctl);
}

/* Unlinks the client and closes its stream (what is queued is still
 * written); memory goes in the close callback. The watch is removed
 * there too, never from inside a watch callback. */
static void client_close(struct client *c)
{
	struct control *ctl = c->ctl;

	if (c->closing)
		return;
	c->closing = 1;
	/* Now, while the node is surely there: the stream's close callback
	 * may come after the node is freed. */
	control_write_wait_cancel(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	ctl->n_clients--;
	io_stream_close(c->s, on_client_closed);
}

static void on_rejected_closed(struct io_stream *s)
{
	control_handle_closed(s->data);
}

static void on_connection(struct io_stream_listener *l, struct io_stream *s)
{
	struct control *ctl = io_stream_listener_data(l);
	struct client *c;

	s->data = ctl;
	ctl->open_handles++;
	if (ctl->closing) {
		io_stream_close(s, on_rejected_closed);
		return;
	}
	if (ctl->n_clients >= CONTROL_CLIENTS_MAX) {
		/* Hang up at once, so the backlog drains. */
		io_stream_close(s, on_rejected_closed);
		node_log(ctl->node, RUMOR_LOG_WARN, "control: %d clients "
			 "already; refusing one", CONTROL_CLIENTS_MAX);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		io_stream_close(s, on_rejected_closed);
		return;
	}
	c->ctl = ctl;
	c->s = s;
	wire_buf_init(&c->out);
	s->data = c;
	s->handlers.read = on_read;
	s->handlers.drained = on_drained;
	s->handlers.closed = on_stream_closed;
	c->next = ctl->clients;
	if (ctl->clients != NULL)
		ctl->clients->prev = c;
	ctl->clients = c;
	ctl->n_clients++;
	/* The io reads once this returns. */
	c->reading = 1;
}

/* ------------------------------------------------------------ lifecycle */

int control_start(struct control **out, struct io *io, struct rumor *node,
		  const char *socket_path, struct err *err)
{
	struct control *ctl;
	int rv;

	assert(out != NULL && io != NULL && node != NULL);
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return err_set(err, RUMOR_ENOMEM, "control: out of memory");
	ctl->io = io;
	ctl->node = node;
	rv = io->ops->stream_listen(io, socket_path, on_connection, ctl,
				    &ctl->listener, err);
	if (rv != 0) {
		err_wrap(err, "control");
		free(ctl);
		return rv;
	}
	ctl->open_handles = 1;
	*out = ctl;
	return 0;
}

static void control_handle_closed(struct control *ctl)
{
	assert(ctl->open_handles > 0);
	ctl->open_handles--;
	if (!ctl->closing || ctl->open_handles > 0)
		return;
	if (ctl->close_cb != NULL)
		ctl->close_cb(ctl->close_arg);
	free(ctl);
}

static void on_listener_closed(void *arg)
{
	control_handle_closed(arg);
}

void control_close(struct control *c, void (*cb)(void *arg), void *arg)
{
	struct client *cl;

	assert(!c->closing);
	c->closing = 1;
	c->close_cb = cb;
	c->close_arg = arg;
	while ((cl = c->clients) != NULL) {
		/* Watches go now: the node may be closed right after the
		 * callback, before the streams' close callbacks ran. */
		rumor_tail_close(cl->tail);
		cl->tail = NULL;
		client_close(cl);
	}
	/* The socket file goes now, so that a new node may start at once. */
	c->io->ops->stream_listener_close(c->listener, on_listener_closed, c);
}
