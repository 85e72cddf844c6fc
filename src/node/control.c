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

#include "node/control_int.h"

static void client_close(struct client *c);
static void process_input(struct client *c);
static void on_write(uv_write_t *req, int status);

/* ------------------------------------------------------------ writing */

/* Hands the encoded replies to libuv. On failure the client is closed
 * (from the loop: the handle close is deferred) and 0 is still safe to
 * ignore, since every later step checks c->closing. */
void control_flush(struct client *c)
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

size_t control_backlog(const struct client *c)
{
	return c->queued + c->out.len;
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
	if (control_backlog(c) > CONTROL_HIGH_WATER / 2)
		return;
	if (c->stream == STREAM_SCAN && c->scan_paused) {
		control_scan_continue(c);
	} else if (c->stream == STREAM_WATCH && c->dropped > 0) {
		int rv = ctl_encode_gap(&c->out, c->dropped);

		if (rv != 0) {
			control_encode_failed(c, rv);
			return;
		}
		c->dropped = 0;
		control_flush(c);
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
void control_stream_finished(struct client *c)
{
	c->stream = STREAM_NONE;
	if (c->in_process || c->closing)
		return;
	control_flush(c);
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
		control_encode_failed(c, RUMOR_ENOMEM);
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
		control_handle_request(c, &rq);
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
