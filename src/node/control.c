/* SPDX-License-Identifier: MIT */
/*
 * control: the unix control socket of a node (see control.h).
 *
 * Each client is a uv_pipe_t with a frame accumulator. Requests are
 * handled one at a time in arrival order; a streaming reply (SCAN, SYNC)
 * stops reading until it ends, so a client cannot pile up work. Replies
 * are encoded into the client's scratch buffer and handed to uv_write in
 * chunks; `queued` counts bytes libuv has not written yet, and streams
 * pause (SCAN) or drop changes (WATCH) above a high-water mark, so a
 * slow reader costs bounded memory.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "node/control.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "wire/wire_ctl.h"

/* Replies are handed to libuv in chunks of about this size. */
#define CONTROL_FLUSH_BYTES (64u << 10)
/* LOG is not resumable: it stops (END truncated) past this many bytes. */
#define CONTROL_LOG_BYTES_MAX (16u << 20)
#define CONTROL_PEERS_MAX 4096u
#define CONTROL_READ_CHUNK (16u << 10)

enum stream_kind {
	STREAM_NONE = 0,
	STREAM_SCAN,
	STREAM_WATCH,
	STREAM_SYNC,
};

struct client;

/* A pending node_sync_now: outlives its client if the client leaves
 * first (c is then NULL and the report is dropped). */
struct sync_ticket {
	struct client *c;
};

struct client {
	struct control *ctl;
	struct client *prev, *next;
	uv_pipe_t pipe;
	char inbuf[CONTROL_READ_CHUNK];

	uint8_t *rbuf;               /* received, not yet handled */
	size_t rlen, rcap;

	struct ctl_buf out;          /* encoded, not yet handed to libuv */
	size_t queued;               /* handed to libuv, not yet written */

	int reading;
	int closing;                 /* uv_close called */
	int close_after_write;       /* a protocol error reply is in flight */
	int in_process;              /* inside process_input() */

	enum stream_kind stream;
	/* SCAN: resumes after the last key sent */
	uint8_t *prefix;
	size_t prefix_len;
	uint8_t *last;
	size_t last_len;
	int have_last;
	uint64_t count, limit;
	int scan_paused, scan_truncated, scan_failed;
	/* WATCH */
	struct node_watch *watch;
	uint64_t dropped;
	/* SYNC */
	struct sync_ticket *ticket;
};

struct control {
	uv_loop_t *loop;
	struct rumor *node;
	char *path;
	uv_pipe_t listener;
	struct client *clients;
	size_t n_clients;
	unsigned open_handles;       /* listener + client pipes not closed */
	int closing;
	void (*close_cb)(void *arg);
	void *close_arg;
};

struct wreq {
	uv_write_t req;
	struct client *c;
	uv_buf_t buf;
};

static void client_close(struct client *c);
static void process_input(struct client *c);
static void on_write(uv_write_t *req, int status);
static void scan_continue(struct client *c);

/* ------------------------------------------------------------ writing */

/* Hands the encoded replies to libuv. On failure the client is closed
 * (from the loop: the handle close is deferred) and 0 is still safe to
 * ignore, since every later step checks c->closing. */
static void client_flush(struct client *c)
{
	struct wreq *w;
	int rv;

	if (c->out.len == 0 || c->closing)
		return;
	w = malloc(sizeof(*w));
	if (w == NULL)
		goto err;
	w->c = c;
	w->buf = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
	rv = uv_write(&w->req, (uv_stream_t *)&c->pipe, &w->buf, 1, on_write);
	if (rv != 0) {
		free(w);
		goto err;
	}
	/* libuv owns the bytes until the write callback. */
	c->queued += c->out.len;
	ctl_buf_init(&c->out);
	return;
err:
	client_close(c);
}

static size_t client_backlog(const struct client *c)
{
	return c->queued + c->out.len;
}

/* An encoder failed (out of memory, or a value the encoder refuses):
 * nothing sane can follow on this connection. */
static void client_encode_failed(struct client *c, int rv)
{
	node_log(c->ctl->node, RUMOR_LOG_WARN,
		 "control: cannot encode a reply (%s); dropping the client",
		 rumor_strerror(rv));
	client_close(c);
}

static void reply_error(struct client *c, int code, const char *msg)
{
	int rv = ctl_encode_error(&c->out, code < 0 ? code : RUMOR_EIO,
				  msg != NULL && msg[0] ? msg :
				  rumor_strerror(code));

	if (rv != 0)
		client_encode_failed(c, rv);
}

/* The code's name and the node's detail for the failed call: "not
 * found: store: no such key". */
static void reply_node_error(struct client *c, int code)
{
	const char *detail = rumor_errmsg(c->ctl->node);
	char msg[CTL_MESSAGE_MAX + 1];

	if (detail != NULL && detail[0])
		snprintf(msg, sizeof(msg), "%s: %s", rumor_strerror(code),
			 detail);
	else
		snprintf(msg, sizeof(msg), "%s", rumor_strerror(code));
	reply_error(c, code, msg);
}

/* A request broke the protocol: say why, then hang up once it is sent.
 * Nothing in the request was acted on. */
static void reply_protocol_error(struct client *c, const char *msg)
{
	node_log(c->ctl->node, RUMOR_LOG_DEBUG, "control: %s", msg);
	reply_error(c, RUMOR_EPROTO, msg);
	c->close_after_write = 1;
	c->rlen = 0;
	client_flush(c);
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct client *c = w->c;

	assert(c->queued >= w->buf.len);
	c->queued -= w->buf.len;
	free(w->buf.base);
	free(w);
	if (c->closing)
		return;
	if (status < 0) {
		client_close(c);
		return;
	}
	if (c->close_after_write) {
		if (c->queued == 0)
			client_close(c);
		return;
	}
	if (client_backlog(c) > CONTROL_HIGH_WATER / 2)
		return;
	if (c->stream == STREAM_SCAN && c->scan_paused) {
		scan_continue(c);
	} else if (c->stream == STREAM_WATCH && c->dropped > 0) {
		int rv = ctl_encode_gap(&c->out, c->dropped);

		if (rv != 0) {
			client_encode_failed(c, rv);
			return;
		}
		c->dropped = 0;
		client_flush(c);
	}
}

/* ------------------------------------------------------------ reading */

static void start_reading(struct client *c);

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct client *c = h->data;

	buf->base = c->inbuf;
	buf->len = sizeof(c->inbuf);
}

/* A stream ended: handle requests that arrived meanwhile, then read on. */
static void stream_finished(struct client *c)
{
	c->stream = STREAM_NONE;
	if (c->in_process || c->closing)
		return;
	client_flush(c);
	process_input(c);
}

static int append_input(struct client *c, const char *p, size_t n)
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

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = s->data;

	if (c->closing)
		return;
	if (nread < 0) {
		/* EOF or error: nothing more will come; drop the client
		 * (a watch ends here). */
		client_close(c);
		return;
	}
	if (nread == 0)
		return;
	/* A watcher only ever closes; a client being hung up on has said
	 * enough. */
	if (c->stream == STREAM_WATCH || c->close_after_write)
		return;
	if (append_input(c, buf->base, (size_t)nread) != 0) {
		client_encode_failed(c, RUMOR_ENOMEM);
		return;
	}
	process_input(c);
}

static void start_reading(struct client *c)
{
	if (c->reading || c->closing)
		return;
	if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) != 0) {
		client_close(c);
		return;
	}
	c->reading = 1;
}

static void stop_reading(struct client *c)
{
	if (!c->reading)
		return;
	uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = 0;
}

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

static void cmd_status(struct client *c)
{
	struct node_status *st;
	struct hwm_collect h = {0};
	int rv;

	st = calloc(1, sizeof(*st));
	h.origins = calloc(CTL_HWM_MAX, sizeof(*h.origins));
	h.hwm = calloc(CTL_HWM_MAX, sizeof(*h.hwm));
	if (st == NULL || h.origins == NULL || h.hwm == NULL) {
		reply_error(c, RUMOR_ENOMEM, NULL);
		goto out;
	}
	rv = node_get_status(c->ctl->node, st);
	if (rv == 0)
		rv = node_hwms(c->ctl->node, collect_hwm, &h);
	if (rv != 0) {
		reply_node_error(c, rv);
		goto out;
	}
	rv = ctl_encode_status(&c->out, st, h.total, h.hwm, h.n);
	if (rv != 0)
		client_encode_failed(c, rv);
out:
	free(st);
	free(h.origins);
	free(h.hwm);
}

static void cmd_peers(struct client *c)
{
	struct node_peer_info *peers;
	size_t cap = 64, n, total, i;
	int rv;

	for (;;) {
		peers = calloc(cap, sizeof(*peers));
		if (peers == NULL) {
			reply_error(c, RUMOR_ENOMEM, NULL);
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
	client_encode_failed(c, rv);
}

static void cmd_get(struct client *c, const struct ctl_request *rq)
{
	void *value = NULL;
	size_t len = 0;
	int rv;

	rv = rumor_get(c->ctl->node, rq->key, rq->key_len, &value, &len);
	if (rv != 0) {
		reply_node_error(c, rv);
		return;
	}
	rv = ctl_encode_value(&c->out, value, len);
	rumor_free(value);
	if (rv != 0)
		client_encode_failed(c, rv);
}

static void reply_done(struct client *c, int rv)
{
	if (rv != 0) {
		reply_node_error(c, rv);
		return;
	}
	rv = ctl_encode_ok(&c->out);
	if (rv != 0)
		client_encode_failed(c, rv);
}

static void cmd_version(struct client *c, const struct ctl_request *rq)
{
	struct rumor_record *rec = NULL;
	int rv;

	rv = rumor_get_version(c->ctl->node, rq->key, rq->key_len, &rec);
	if (rv != 0) {
		reply_node_error(c, rv);
		return;
	}
	rv = ctl_encode_record(&c->out, &rec->v, 0);
	rumor_record_free(rec);
	if (rv != 0)
		client_encode_failed(c, rv);
}

/* Bytewise key order, as LevelDB's default comparator. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
		   size_t blen)
{
	int d = memcmp(a, b, alen < blen ? alen : blen);

	if (d != 0)
		return d;
	return alen < blen ? -1 : alen > blen;
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
	       key_cmp(key, key_len, c->last, c->last_len) > 0);
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
		client_flush(c);
	if (c->closing)
		return 1;
	if (client_backlog(c) >= CONTROL_HIGH_WATER) {
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
	stream_finished(c);
}

/* Runs the scan until it ends or the client's backlog is too large. */
static void scan_continue(struct client *c)
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
		client_encode_failed(c, c->scan_failed);
		return;
	}
	if (rv != 0) {
		/* Mid-stream: the ERROR takes the place of END. */
		reply_node_error(c, rv);
		client_flush(c);
		scan_end(c);
		return;
	}
	if (c->scan_paused) {
		client_flush(c);
		return;
	}
	rv = ctl_encode_end(&c->out, c->count, c->scan_truncated);
	if (rv != 0) {
		client_encode_failed(c, rv);
		return;
	}
	client_flush(c);
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
		reply_error(c, RUMOR_ENOMEM, NULL);
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
	scan_continue(c);
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

	if (client_backlog(c) >= CONTROL_LOG_BYTES_MAX) {
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
		client_flush(c);
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
		client_encode_failed(c, lw.failed);
		return;
	}
	if (rv < 0) {
		reply_node_error(c, rv);
		return;
	}
	rv = ctl_encode_end(&c->out, lw.count, lw.truncated);
	if (rv != 0)
		client_encode_failed(c, rv);
}

static void on_watch_change(void *arg, const struct rumor_version *v,
			    int local)
{
	struct client *c = arg;
	int rv;

	if (c->closing || c->stream != STREAM_WATCH)
		return;
	if (v->key_len < c->prefix_len ||
	    (c->prefix_len > 0 && memcmp(v->key, c->prefix, c->prefix_len)))
		return;
	if (client_backlog(c) >= CONTROL_WATCH_HIGH_WATER) {
		c->dropped++;
		return;
	}
	if (c->dropped > 0) {
		rv = ctl_encode_gap(&c->out, c->dropped);
		if (rv != 0)
			goto err;
		c->dropped = 0;
	}
	rv = ctl_encode_record(&c->out, v, local);
	if (rv != 0)
		goto err;
	client_flush(c);
	return;
err:
	client_encode_failed(c, rv);
}

static void cmd_watch(struct client *c, const struct ctl_request *rq)
{
	int rv;

	c->prefix = malloc(rq->key_len > 0 ? rq->key_len : 1);
	if (c->prefix == NULL) {
		reply_error(c, RUMOR_ENOMEM, NULL);
		return;
	}
	if (rq->key_len > 0)
		memcpy(c->prefix, rq->key, rq->key_len);
	c->prefix_len = rq->key_len;
	c->watch = node_watch_add(c->ctl->node, on_watch_change, c);
	if (c->watch == NULL) {
		free(c->prefix);
		c->prefix = NULL;
		reply_error(c, RUMOR_ENOMEM, "cannot add a watch");
		return;
	}
	/* OK first: once the client reads it, every later change reaches
	 * it. */
	rv = ctl_encode_ok(&c->out);
	if (rv != 0) {
		client_encode_failed(c, rv);
		return;
	}
	c->stream = STREAM_WATCH;
	c->dropped = 0;
}

static void on_sync_done(void *arg, const struct node_sync_report *r)
{
	struct sync_ticket *t = arg;
	struct client *c = t->c;
	int rv;

	free(t);
	if (c == NULL)
		return;     /* the client left meanwhile */
	c->ticket = NULL;
	if (c->closing)
		return;
	rv = ctl_encode_sync(&c->out, r);
	if (rv != 0) {
		client_encode_failed(c, rv);
		return;
	}
	client_flush(c);
	stream_finished(c);
}

static void cmd_sync(struct client *c, const struct ctl_request *rq)
{
	struct sync_ticket *t = malloc(sizeof(*t));
	int rv;

	if (t == NULL) {
		reply_error(c, RUMOR_ENOMEM, NULL);
		return;
	}
	t->c = c;
	c->ticket = t;
	c->stream = STREAM_SYNC;
	rv = node_sync_now(c->ctl->node, (uint32_t)rq->timeout_ms,
			   on_sync_done, t);
	if (rv != 0) {
		/* The node refused: done will not fire. */
		c->ticket = NULL;
		free(t);
		c->stream = STREAM_NONE;
		reply_node_error(c, rv);
	}
}

static void handle_request(struct client *c, const struct ctl_request *rq)
{
	struct rumor *n = c->ctl->node;

	switch (rq->cmd) {
	case CTL_CMD_STATUS:
		cmd_status(c);
		break;
	case CTL_CMD_PEERS:
		cmd_peers(c);
		break;
	case CTL_CMD_GET:
		cmd_get(c, rq);
		break;
	case CTL_CMD_PUT:
		reply_done(c, rumor_put(n, rq->key, rq->key_len, rq->value,
					rq->value_len));
		break;
	case CTL_CMD_DEL:
		reply_done(c, rumor_del(n, rq->key, rq->key_len));
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
	}
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
	while (!c->closing && !c->close_after_write &&
	       c->stream == STREAM_NONE && c->rlen >= CTL_FRAME_HEADER) {
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
		/* rq points into rbuf: handle it before moving the rest. */
		handle_request(c, &rq);
		used = CTL_FRAME_HEADER + (size_t)len;
		if (c->closing)
			break;
		memmove(c->rbuf, c->rbuf + used, c->rlen - used);
		c->rlen -= used;
	}
	c->in_process = 0;
	if (c->closing)
		return;
	client_flush(c);
	if (c->closing)
		return;
	/* Read on while idle (for the next request) or watching (for EOF);
	 * a running SCAN or SYNC must end before more is read. */
	if (c->close_after_write ||
	    c->stream == STREAM_SCAN || c->stream == STREAM_SYNC)
		stop_reading(c);
	else
		start_reading(c);
}

/* ------------------------------------------------------------ clients */

static void control_handle_closed(struct control *ctl);

static void on_client_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct control *ctl = c->ctl;

	if (c->watch != NULL)
		node_watch_remove(ctl->node, c->watch);
	if (c->ticket != NULL)
		c->ticket->c = NULL;
	ctl_buf_free(&c->out);
	free(c->rbuf);
	free(c->prefix);
	free(c->last);
	free(c);
	control_handle_closed(ctl);
}

/* Unlinks the client and closes its pipe; memory goes in the close
 * callback, after libuv has cancelled (and called back) its writes. The
 * watch is removed there too, never from inside a watch callback. */
static void client_close(struct client *c)
{
	struct control *ctl = c->ctl;

	if (c->closing)
		return;
	c->closing = 1;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	ctl->n_clients--;
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

static void on_rejected_closed(uv_handle_t *h)
{
	struct control *ctl = h->data;

	free(h);
	control_handle_closed(ctl);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct control *ctl = server->data;
	struct client *c;
	uv_pipe_t *reject;

	if (ctl->closing)
		return;
	if (status < 0) {
		node_log(ctl->node, RUMOR_LOG_WARN, "control: accept: %s",
			 uv_strerror(status));
		return;
	}
	if (ctl->n_clients >= CONTROL_CLIENTS_MAX) {
		/* Accept and hang up at once, so the backlog drains. */
		reject = malloc(sizeof(*reject));
		if (reject == NULL || uv_pipe_init(ctl->loop, reject, 0) != 0) {
			free(reject);
			return;
		}
		reject->data = ctl;
		ctl->open_handles++;
		(void)uv_accept(server, (uv_stream_t *)reject);
		uv_close((uv_handle_t *)reject, on_rejected_closed);
		node_log(ctl->node, RUMOR_LOG_WARN, "control: %d clients "
			 "already; refusing one", CONTROL_CLIENTS_MAX);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->ctl = ctl;
	ctl_buf_init(&c->out);
	if (uv_pipe_init(ctl->loop, &c->pipe, 0) != 0) {
		free(c);
		return;
	}
	c->pipe.data = c;
	ctl->open_handles++;
	c->next = ctl->clients;
	if (ctl->clients != NULL)
		ctl->clients->prev = c;
	ctl->clients = c;
	ctl->n_clients++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
		client_close(c);
		return;
	}
	start_reading(c);
}

/* ------------------------------------------------------------ lifecycle */

/* Is a node answering at path? Removes a stale socket file. */
static int probe_socket(const char *path, struct err *err)
{
	struct sockaddr_un sa;
	struct stat stt;
	int fd, rv;

	if (lstat(path, &stt) != 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, RUMOR_EIO, "control: %s: %s", path,
			       strerror(errno));
	}
	if (!S_ISSOCK(stt.st_mode))
		return err_set(err, RUMOR_ECONFIG, "control: %s exists and is "
			       "not a socket; not touching it", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(err, RUMOR_EIO, "control: socket: %s",
			       strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rv = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rv == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		/* Someone listens (EAGAIN: with a full backlog). */
		close(fd);
		return err_set(err, RUMOR_EBUSY, "control: a node already "
			       "answers on %s", path);
	}
	rv = errno;
	close(fd);
	if (rv != ECONNREFUSED)
		return err_set(err, RUMOR_EIO, "control: probing %s: %s", path,
			       strerror(rv));
	/* Nobody listens: the socket of a node that died. */
	if (unlink(path) != 0 && errno != ENOENT)
		return err_set(err, RUMOR_EIO, "control: removing the stale "
			       "socket %s: %s", path, strerror(errno));
	return 0;
}

static void on_listener_failed_closed(uv_handle_t *h)
{
	struct control *ctl = h->data;

	free(ctl->path);
	free(ctl);
}

int control_start(struct control **out, uv_loop_t *loop, struct rumor *node,
		  const char *socket_path, struct err *err)
{
	struct sockaddr_un sa;
	struct control *ctl;
	mode_t old_mask;
	int rv;

	assert(out != NULL && loop != NULL && node != NULL);
	if (socket_path == NULL || socket_path[0] == '\0' ||
	    strlen(socket_path) >= sizeof(sa.sun_path))
		return err_set(err, RUMOR_ECONFIG, "control: socket path '%s' "
			       "is empty or longer than %zu bytes",
			       socket_path != NULL ? socket_path : "",
			       sizeof(sa.sun_path) - 1);
	rv = probe_socket(socket_path, err);
	if (rv != 0)
		return rv;

	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return err_set(err, RUMOR_ENOMEM, "control: out of memory");
	ctl->path = strdup(socket_path);
	if (ctl->path == NULL) {
		rv = err_set(err, RUMOR_ENOMEM, "control: out of memory");
		goto err_after_alloc;
	}
	ctl->loop = loop;
	ctl->node = node;
	rv = uv_pipe_init(loop, &ctl->listener, 0);
	if (rv != 0) {
		rv = err_set(err, RUMOR_EIO, "control: %s", uv_strerror(rv));
		goto err_after_alloc;
	}
	ctl->listener.data = ctl;

	/* The socket must never be reachable by others, not even between
	 * bind and chmod: create it under a umask that leaves 0600. */
	old_mask = umask(0177);
	rv = uv_pipe_bind(&ctl->listener, socket_path);
	umask(old_mask);
	if (rv != 0) {
		rv = err_set(err, RUMOR_EIO, "control: bind %s: %s",
			     socket_path, uv_strerror(rv));
		goto err_after_init;
	}
	if (chmod(socket_path, 0600) != 0) {
		rv = err_set(err, RUMOR_EIO, "control: chmod %s: %s",
			     socket_path, strerror(errno));
		goto err_after_bind;
	}
	rv = uv_listen((uv_stream_t *)&ctl->listener, 64, on_connection);
	if (rv != 0) {
		rv = err_set(err, RUMOR_EIO, "control: listen on %s: %s",
			     socket_path, uv_strerror(rv));
		goto err_after_bind;
	}
	ctl->open_handles = 1;
	*out = ctl;
	return 0;

err_after_bind:
	unlink(socket_path);
err_after_init:
	/* The handle is on the loop: its memory goes in the close cb. */
	uv_close((uv_handle_t *)&ctl->listener, on_listener_failed_closed);
	return rv;
err_after_alloc:
	free(ctl->path);
	free(ctl);
	return rv;
}

static void control_handle_closed(struct control *ctl)
{
	assert(ctl->open_handles > 0);
	ctl->open_handles--;
	if (!ctl->closing || ctl->open_handles > 0)
		return;
	if (ctl->close_cb != NULL)
		ctl->close_cb(ctl->close_arg);
	free(ctl->path);
	free(ctl);
}

static void on_listener_closed(uv_handle_t *h)
{
	control_handle_closed(h->data);
}

void control_close(struct control *c, void (*cb)(void *arg), void *arg)
{
	struct client *cl;

	assert(!c->closing);
	c->closing = 1;
	c->close_cb = cb;
	c->close_arg = arg;
	/* The file goes now, so that a new node may start at once. */
	unlink(c->path);
	while ((cl = c->clients) != NULL) {
		/* Watches go now: the node may be closed right after the
		 * callback, before the pipes' close callbacks ran. */
		if (cl->watch != NULL) {
			node_watch_remove(c->node, cl->watch);
			cl->watch = NULL;
		}
		client_close(cl);
	}
	uv_close((uv_handle_t *)&c->listener, on_listener_closed);
}
