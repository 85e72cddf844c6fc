/* SPDX-License-Identifier: MIT */
/* Integration tests of src/io/io_uv_stream.c through the io vtable: the
 * unix stream listener (mode 0600, a live listener is not stolen, a stale
 * file is replaced, bad paths refused) and accepted streams (echo both
 * ways, pause/resume, flush on close, close callbacks once). The client
 * is a plain non-blocking socket of the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "io/io_uv.h"
#include "tests/lib/testutil.h"

#define WAIT_MS 5000u
#define BIG (1024u * 1024u)

struct fix {
	uv_loop_t loop;
	struct io *io;
	char *dir;
	char *path;
	struct io_stream_listener *l;
	int listener_closed;
	struct io_stream *s;    /* the accepted stream */
	int accepted;
	int echo;               /* write back what is read */
	uint8_t in[BIG];        /* what the server read */
	size_t in_len;
	int drained;
	int closed;             /* handlers.closed calls */
	int closed_reason;
	int close_cbs;
	int fd;                 /* the client */
	uint8_t got[BIG];       /* what the client read */
	size_t got_len;
	int got_eof;
};

static void on_read(struct io_stream *s, const uint8_t *buf, size_t len)
{
	struct fix *f = s->data;

	assert_true(f->in_len + len <= sizeof f->in);
	memcpy(f->in + f->in_len, buf, len);
	f->in_len += len;
	if (f->echo)
		assert_int_equal(io_stream_write(s, buf, len, NULL), 0);
}

static void on_drained(struct io_stream *s)
{
	((struct fix *)s->data)->drained++;
}

static void on_closed(struct io_stream *s, int reason, const char *detail)
{
	struct fix *f = s->data;

	(void)detail;
	f->closed++;
	f->closed_reason = reason;
}

static void on_close_cb(struct io_stream *s)
{
	struct fix *f = s->data;

	f->close_cbs++;
}

static void on_accept(struct io_stream_listener *l, struct io_stream *s)
{
	struct fix *f = io_stream_listener_data(l);

	/* Keeps the latest: a probe by a second listen is accepted too
	 * (and ends at once). */
	if (f->s != NULL)
		io_stream_close(f->s, NULL);
	f->accepted++;
	f->s = s;
	s->data = f;
	s->handlers.read = on_read;
	s->handlers.drained = on_drained;
	s->handlers.closed = on_closed;
}

static void on_listener_closed(void *arg)
{
	((struct fix *)arg)->listener_closed++;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(io_uv_new(&f->io, &f->loop, NULL), 0);
	f->dir = tu_tmpdir("stream");
	f->path = tu_join(f->dir, "ctl.sock");
	f->fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	if (f->fd >= 0)
		close(f->fd);
	if (f->s != NULL && f->close_cbs == 0)
		io_stream_close(f->s, on_close_cb);
	if (f->l != NULL && f->listener_closed == 0)
		f->io->ops->stream_listener_close(f->l, on_listener_closed, f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	io_uv_free(f->io);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static int do_listen(struct fix *f, struct io_stream_listener **out,
		     struct err *err)
{
	return f->io->ops->stream_listen(f->io, f->path, on_accept, f, out,
					 err);
}

/* A connected non-blocking client (connect on a unix socket completes
 * at once when the listener's backlog has room). */
static int client_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void client_send(struct fix *f, const void *buf, size_t len)
{
	assert_int_equal(write(f->fd, buf, len), (ssize_t)len);
}

/* One loop turn, then whatever the client can read. */
static void step(void *arg)
{
	struct fix *f = arg;
	ssize_t n;

	uv_run(&f->loop, UV_RUN_NOWAIT);
	if (f->fd < 0 || f->got_eof)
		return;
	while ((n = read(f->fd, f->got + f->got_len,
			 sizeof f->got - f->got_len)) > 0)
		f->got_len += (size_t)n;
	if (n == 0)
		f->got_eof = 1;
}

static int cond_accepted(void *arg)
{
	return ((struct fix *)arg)->accepted > 0;
}

static int cond_accepted_2(void *arg)
{
	return ((struct fix *)arg)->accepted == 2;
}

static int cond_close_cb(void *arg)
{
	return ((struct fix *)arg)->close_cbs > 0;
}

static int cond_echoed(void *arg)
{
	struct fix *f = arg;

	return f->got_len == 10 && f->drained > 0;
}

static int cond_in_3(void *arg)
{
	return ((struct fix *)arg)->in_len == 3;
}

static int cond_closed(void *arg)
{
	return ((struct fix *)arg)->closed > 0;
}

static int cond_got_all(void *arg)
{
	struct fix *f = arg;

	return f->got_eof && f->close_cbs == 1;
}

/* ------------------------------------------------------------ listener */

static void test_listener_is_0600_and_its_close_removes_the_file(void **state)
{
	struct fix *f = *state;
	struct stat st;
	struct err err;

	assert_int_equal(do_listen(f, &f->l, &err), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_ptr_equal(io_stream_listener_data(f->l), f);
	f->io->ops->stream_listener_close(f->l, on_listener_closed, f);
	assert_int_equal(f->listener_closed, 0);        /* from the loop */
	assert_int_equal(lstat(f->path, &st), -1);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->listener_closed, 1);
}

static void test_a_live_listener_is_not_stolen(void **state)
{
	struct fix *f = *state;
	struct io_stream_listener *second = NULL;
	struct err err;

	assert_int_equal(do_listen(f, &f->l, &err), 0);
	assert_int_equal(do_listen(f, &second, &err), RUMOR_EBUSY);
	assert_null(second);
	assert_non_null(strstr(err.msg, f->path));
	/* The first still answers: the probe, then this client. */
	f->fd = client_connect(f->path);
	assert_true(tu_wait_for(cond_accepted_2, step, f, WAIT_MS));
}

static void test_a_stale_socket_file_is_replaced(void **state)
{
	struct fix *f = *state;
	struct sockaddr_un sa;
	struct err err;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	/* A socket file nobody listens on: what a killed node leaves. */
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	assert_int_equal(do_listen(f, &f->l, &err), 0);
	f->fd = client_connect(f->path);
	assert_true(tu_wait_for(cond_accepted, step, f, WAIT_MS));
}

static void test_bad_paths_are_refused(void **state)
{
	struct fix *f = *state;
	struct io_stream_listener *l = NULL;
	char longpath[200];
	struct stat st;
	struct err err;

	assert_int_equal(tu_write_file(f->path, "x", 1, 0600), 0);
	assert_int_equal(do_listen(f, &l, &err), RUMOR_ECONFIG);
	assert_non_null(strstr(err.msg, "not a socket"));
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));       /* untouched */
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	assert_int_equal(f->io->ops->stream_listen(f->io, longpath, on_accept,
						   f, &l, &err),
			 RUMOR_ECONFIG);
	assert_int_equal(f->io->ops->stream_listen(f->io, "", on_accept, f,
						   &l, &err),
			 RUMOR_ECONFIG);
	assert_null(l);
}

/* ------------------------------------------------------------ streams */

static void connect_one(struct fix *f)
{
	struct err err;

	assert_int_equal(do_listen(f, &f->l, &err), 0);
	f->fd = client_connect(f->path);
	assert_true(tu_wait_for(cond_accepted, step, f, WAIT_MS));
}

static void test_bytes_echo_both_ways(void **state)
{
	struct fix *f = *state;

	f->echo = 1;
	connect_one(f);
	client_send(f, "0123456789", 10);
	assert_true(tu_wait_for(cond_echoed, step, f, WAIT_MS));
	assert_memory_equal(f->in, "0123456789", 10);
	assert_memory_equal(f->got, "0123456789", 10);
	assert_int_equal(io_stream_queued(f->s), 0);
}

static void test_pause_holds_reads_until_resume(void **state)
{
	struct fix *f = *state;

	connect_one(f);
	f->s->ops->pause(f->s);
	client_send(f, "abc", 3);
	/* The bytes wait in the socket, readable on every turn. */
	for (int i = 0; i < 20; i++)
		step(f);
	assert_int_equal(f->in_len, 0);
	f->s->ops->resume(f->s);
	assert_int_equal(f->in_len, 0);         /* not inside the call */
	assert_true(tu_wait_for(cond_in_3, step, f, WAIT_MS));
	assert_memory_equal(f->in, "abc", 3);
}

static void test_peer_close_is_reported_once_then_close_cb_once(void **state)
{
	struct fix *f = *state;
	struct err err;

	connect_one(f);
	close(f->fd);
	f->fd = -1;
	assert_true(tu_wait_for(cond_closed, step, f, WAIT_MS));
	assert_int_equal(f->closed_reason, RUMOR_ECLOSED);
	assert_int_equal(io_stream_write(f->s, (const uint8_t *)"x", 1, &err),
			 RUMOR_ECLOSED);
	io_stream_close(f->s, on_close_cb);
	assert_int_equal(f->close_cbs, 0);      /* from the loop */
	assert_true(tu_wait_for(cond_close_cb, step, f, WAIT_MS));
	for (int i = 0; i < 5; i++)
		step(f);
	assert_int_equal(f->close_cbs, 1);
	assert_int_equal(f->closed, 1);
	f->s = NULL;
}

/* A close right after a large write still delivers every byte, then
 * the client sees the end. */
static void test_close_flushes_queued_writes(void **state)
{
	struct fix *f = *state;
	uint8_t *big = malloc(BIG);

	assert_non_null(big);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 7);
	connect_one(f);
	assert_int_equal(io_stream_write(f->s, big, BIG, NULL), 0);
	assert_true(io_stream_queued(f->s) > 0);
	io_stream_close(f->s, on_close_cb);
	assert_true(tu_wait_for(cond_got_all, step, f, WAIT_MS));
	assert_int_equal(f->got_len, BIG);
	assert_memory_equal(f->got, big, BIG);
	assert_int_equal(f->closed, 0);         /* the owner's close */
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_listener_is_0600_and_its_close_removes_the_file),
		T(test_a_live_listener_is_not_stolen),
		T(test_a_stale_socket_file_is_replaced),
		T(test_bad_paths_are_refused),
		T(test_bytes_echo_both_ways),
		T(test_pause_holds_reads_until_resume),
		T(test_peer_close_is_reported_once_then_close_cb_once),
		T(test_close_flushes_queued_writes),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
