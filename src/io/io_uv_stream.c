/* SPDX-License-Identifier: MIT */
/*
 * io_uv_stream: local unix stream sockets over libuv pipes (the stream_*
 * ops of io/io.h and struct io_stream): a listener made mode 0600 that
 * refuses to steal a live node's socket, and the streams it accepts.
 */
#include "io/io_uv_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* One read lands here; control requests are small. */
#define STREAM_READ_BUF (64u * 1024u)

struct stream_impl {
	struct io_stream base;          /* first: what the owner sees */
	struct io *io;
	uv_pipe_t pipe;
	uv_shutdown_t shutdown_req;
	size_t queued;                  /* bytes in write requests */
	int paused;
	int reading;
	int failed;                     /* ended by the peer or a fault */
	int closing;                    /* released by its owner */
	void (*close_cb)(struct io_stream *s);
	uint8_t rbuf[STREAM_READ_BUF];
};

/* One write, its bytes inline. */
struct stream_write {
	uv_write_t req;
	struct stream_impl *s;
	size_t len;
	uint8_t data[];
};

struct stream_listener_impl {
	struct io_stream_listener base; /* first: the io that made it */
	uv_pipe_t pipe;
	io_stream_accept_cb accept;
	void *data;
	char *path;
	int closing;
	void (*close_cb)(void *arg);
	void *close_arg;
};

static const struct io_stream_ops stream_ops;

/* ------------------------------------------------------------ streams */

static void stream_closed(uv_handle_t *h)
{
	struct stream_impl *s = h->data;

	if (s->close_cb != NULL)
		s->close_cb(&s->base);
	io_uv_release(s->io);
	free(s);
}

/* The stream ended on its own: nothing is read after this; the owner
 * hears it once and still releases the stream with its close. */
static void stream_fail(struct stream_impl *s, int code, const char *detail)
{
	if (s->failed || s->closing)
		return;
	s->failed = 1;
	if (s->reading) {
		uv_read_stop((uv_stream_t *)&s->pipe);
		s->reading = 0;
	}
	if (s->base.handlers.closed != NULL)
		s->base.handlers.closed(&s->base, code, detail);
}

static void stream_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct stream_impl *s = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)s->rbuf, sizeof s->rbuf);
}

static void stream_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
	struct stream_impl *s = h->data;

	(void)buf;
	if (nread == 0 || s->closing)
		return;
	if (nread == UV_EOF) {
		stream_fail(s, RUMOR_ECLOSED, "stream: peer closed");
		return;
	}
	if (nread < 0) {
		stream_fail(s, RUMOR_ENET, uv_strerror((int)nread));
		return;
	}
	if (s->base.handlers.read != NULL)
		s->base.handlers.read(&s->base, s->rbuf, (size_t)nread);
}

static void stream_start_reading(struct stream_impl *s)
{
	int rv;

	if (s->reading || s->paused || s->failed || s->closing)
		return;
	rv = uv_read_start((uv_stream_t *)&s->pipe, stream_alloc,
			   stream_read);
	if (rv != 0) {
		stream_fail(s, RUMOR_ENET, uv_strerror(rv));
		return;
	}
	s->reading = 1;
}

static void stream_write_done(uv_write_t *req, int status)
{
	struct stream_write *w = (struct stream_write *)req;
	struct stream_impl *s = w->s;

	assert(s->queued >= w->len);
	s->queued -= w->len;
	free(w);
	if (s->closing || status == UV_ECANCELED)
		return;
	if (status < 0) {
		stream_fail(s, RUMOR_ENET, uv_strerror(status));
		return;
	}
	if (s->queued == 0 && !s->failed &&
	    s->base.handlers.drained != NULL)
		s->base.handlers.drained(&s->base);
}

static int stream_write(struct io_stream *base, const uint8_t *buf,
			size_t len, struct err *err)
{
	struct stream_impl *s = (struct stream_impl *)base;
	struct stream_write *w;
	uv_buf_t b;
	int rv;

	if (s->failed || s->closing)
		return err_set(err, RUMOR_ECLOSED, "stream: closed");
	if (len == 0)
		return 0;
	w = malloc(sizeof *w + len);
	if (w == NULL)
		return err_set(err, RUMOR_ENOMEM,
			       "stream: out of memory for %zu bytes", len);
	w->s = s;
	w->len = len;
	memcpy(w->data, buf, len);
	b = uv_buf_init((char *)w->data, (unsigned)len);
	rv = uv_write(&w->req, (uv_stream_t *)&s->pipe, &b, 1,
		      stream_write_done);
	if (rv != 0) {
		free(w);
		return err_set(err, RUMOR_ENET, "stream: write: %s",
			       uv_strerror(rv));
	}
	s->queued += len;
	return 0;
}

static size_t stream_queued(const struct io_stream *base)
{
	return ((const struct stream_impl *)base)->queued;
}

static void stream_pause(struct io_stream *base)
{
	struct stream_impl *s = (struct stream_impl *)base;

	s->paused = 1;
	if (s->reading) {
		uv_read_stop((uv_stream_t *)&s->pipe);
		s->reading = 0;
	}
}

static void stream_resume(struct io_stream *base)
{
	struct stream_impl *s = (struct stream_impl *)base;

	s->paused = 0;
	stream_start_reading(s);
}

static void stream_shutdown_done(uv_shutdown_t *req, int status)
{
	struct stream_impl *s = req->data;

	(void)status;
	uv_close((uv_handle_t *)&s->pipe, stream_closed);
}

/* Queued writes go out first when the socket still takes them: a
 * shutdown completes after them, then the handle closes. */
static void stream_close(struct io_stream *base,
			 void (*cb)(struct io_stream *s))
{
	struct stream_impl *s = (struct stream_impl *)base;

	assert(!s->closing);
	s->closing = 1;
	s->close_cb = cb;
	if (s->reading) {
		uv_read_stop((uv_stream_t *)&s->pipe);
		s->reading = 0;
	}
	if (!s->failed && s->queued > 0) {
		s->shutdown_req.data = s;
		if (uv_shutdown(&s->shutdown_req, (uv_stream_t *)&s->pipe,
				stream_shutdown_done) == 0)
			return;
	}
	uv_close((uv_handle_t *)&s->pipe, stream_closed);
}

static const struct io_stream_ops stream_ops = {
	.write = stream_write,
	.queued = stream_queued,
	.pause = stream_pause,
	.resume = stream_resume,
	.close = stream_close,
};

/* ------------------------------------------------------------ listener */

static void listener_connection(uv_stream_t *h, int status)
{
	struct stream_listener_impl *l = h->data;
	struct stream_impl *s;

	if (status < 0 || l->closing)
		return;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return; /* the client waits in the backlog */
	s->base.ops = &stream_ops;
	s->io = l->base.io;
	if (uv_pipe_init(io_uv_loop(s->io), &s->pipe, 0) != 0) {
		free(s);
		return;
	}
	s->pipe.data = s;
	io_uv_of(s->io)->live++;
	if (uv_accept(h, (uv_stream_t *)&s->pipe) != 0) {
		s->closing = 1;
		uv_close((uv_handle_t *)&s->pipe, stream_closed);
		return;
	}
	l->accept(&l->base, &s->base);
	/* Reads begin once the owner has set its handlers. */
	stream_start_reading(s);
}

/* Is a listener answering at path? Removes a stale socket file. */
static int stream_probe(const char *path, struct err *err)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rv;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, RUMOR_EIO, "stream: %s: %s", path,
			       strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return err_set(err, RUMOR_ECONFIG, "stream: %s exists and is "
			       "not a socket; not touching it", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(err, RUMOR_EIO, "stream: socket: %s",
			       strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rv = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	if (rv == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		/* Someone listens (EAGAIN: with a full backlog). */
		close(fd);
		return err_set(err, RUMOR_EBUSY, "stream: a node already "
			       "answers on %s", path);
	}
	rv = errno;
	close(fd);
	if (rv != ECONNREFUSED)
		return err_set(err, RUMOR_EIO, "stream: probing %s: %s", path,
			       strerror(rv));
	/* Nobody listens: the socket of a process that died. */
	if (unlink(path) != 0 && errno != ENOENT)
		return err_set(err, RUMOR_EIO, "stream: removing the stale "
			       "socket %s: %s", path, strerror(errno));
	return 0;
}

static void listener_closed(uv_handle_t *h)
{
	struct stream_listener_impl *l = h->data;
	void (*cb)(void *) = l->close_cb;
	void *arg = l->close_arg;

	io_uv_release(l->base.io);
	free(l->path);
	free(l);
	if (cb != NULL)
		cb(arg);
}

/* A unix socket bound with the mode its inode had, less the umask
 * (Linux: af_unix takes the file's mode from the socket inode, which
 * fchmod sets). So the socket is 0600 from the moment it has a name,
 * never reachable by others, and the process umask, which other threads
 * of an embedding program rely on, is never touched. The caller checked
 * that path fits in sun_path. Returns the bound descriptor or -errno. */
static int listener_socket(const char *path)
{
	struct sockaddr_un sa;
	int fd, e;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) != 0 ||
	    bind(fd, (const struct sockaddr *)&sa, sizeof sa) != 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int listener_bind(struct stream_listener_impl *l, struct err *err)
{
	int fd = listener_socket(l->path);
	int rv;

	if (fd < 0)
		return err_set(err, RUMOR_EIO, "stream: bind %s: %s", l->path,
			       strerror(-fd));
	rv = uv_pipe_open(&l->pipe, fd);
	if (rv != 0) {
		close(fd);
		rv = err_set(err, RUMOR_EIO, "stream: %s: %s", l->path,
			     uv_strerror(rv));
	} else if (chmod(l->path, 0600) != 0) {
		/* Exactly 0600, also when the umask took an owner bit. */
		rv = err_set(err, RUMOR_EIO, "stream: chmod %s: %s", l->path,
			     strerror(errno));
	} else if ((rv = uv_listen((uv_stream_t *)&l->pipe, 64,
				   listener_connection)) != 0) {
		rv = err_set(err, RUMOR_EIO, "stream: listen on %s: %s",
			     l->path, uv_strerror(rv));
	}
	if (rv != 0)
		unlink(l->path);
	return rv;
}

int io_uv_stream_listen(struct io *io, const char *path,
			io_stream_accept_cb accept, void *data,
			struct io_stream_listener **out, struct err *err)
{
	struct sockaddr_un sa;
	struct stream_listener_impl *l;
	int rv;

	assert(accept != NULL && out != NULL);
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof sa.sun_path)
		return err_set(err, RUMOR_ECONFIG, "stream: socket path '%s' "
			       "is empty or longer than %zu bytes",
			       path != NULL ? path : "",
			       sizeof sa.sun_path - 1);
	rv = stream_probe(path, err);
	if (rv != 0)
		return rv;
	l = calloc(1, sizeof *l);
	if (l == NULL || (l->path = strdup(path)) == NULL) {
		free(l);
		return err_set(err, RUMOR_ENOMEM, "stream: out of memory");
	}
	l->base.io = io;
	l->accept = accept;
	l->data = data;
	rv = uv_pipe_init(io_uv_loop(io), &l->pipe, 0);
	if (rv != 0) {
		free(l->path);
		free(l);
		return err_set(err, RUMOR_EIO, "stream: %s", uv_strerror(rv));
	}
	l->pipe.data = l;
	io_uv_of(io)->live++;
	rv = listener_bind(l, err);
	if (rv != 0) {
		/* The handle is on the loop: freed in its close callback. */
		l->closing = 1;
		uv_close((uv_handle_t *)&l->pipe, listener_closed);
		return rv;
	}
	*out = &l->base;
	return 0;
}

void *io_uv_stream_listener_data(const struct io_stream_listener *base)
{
	return ((const struct stream_listener_impl *)base)->data;
}

/* The file goes now, so that a new listener may start at once. */
void io_uv_stream_listener_close(struct io_stream_listener *base,
				 void (*cb)(void *arg), void *arg)
{
	struct stream_listener_impl *l = (struct stream_listener_impl *)base;

	assert(!l->closing);
	l->closing = 1;
	l->close_cb = cb;
	l->close_arg = arg;
	unlink(l->path);
	uv_close((uv_handle_t *)&l->pipe, listener_closed);
}
