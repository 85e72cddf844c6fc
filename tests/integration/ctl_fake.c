/* SPDX-License-Identifier: MIT */
/* A stand-in control socket for the tests (contracts in ctl_fake.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/integration/ctl_fake.h"

void ctl_fake_start(struct ctl_fake *fk, const char *path,
		    ctl_fake_answer answer, void *arg)
{
	struct sockaddr_un sa;
	int i;

	memset(fk, 0, sizeof(*fk));
	for (i = 0; i < CTL_FAKE_CLIENTS; i++)
		fk->cl[i].fd = -1;
	fk->answer = answer;
	fk->arg = arg;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	snprintf(fk->path, sizeof(fk->path), "%s", path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	fk->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 0);
	assert_true(fk->lfd >= 0);
	assert_int_equal(bind(fk->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fk->lfd, CTL_FAKE_CLIENTS), 0);
}

static void send_whole(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			(void)poll(&pfd, 1, 100);
			continue;
		}
		if (w < 0)
			return;    /* the client left: nothing to tell it */
		p += w;
		n -= (size_t)w;
	}
}

static void drop(struct ctl_fake_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->held = 0;
	c->len = 0;
}

/* Answers the whole frames client i holds, in order, until it is held
 * or hung up on. */
static void answer_frames(struct ctl_fake *fk, int i)
{
	struct ctl_fake_client *c = &fk->cl[i];

	while (c->fd >= 0 && !c->held && c->len >= CTL_FRAME_HEADER) {
		uint32_t len = ctl_frame_length(c->in);
		struct ctl_request rq;
		struct wire_buf out;
		struct err err;
		enum ctl_fake_next next;

		assert_true(len > 0 && len <= CTL_FAKE_INPUT - CTL_FRAME_HEADER);
		if (c->len - CTL_FRAME_HEADER < len)
			return;
		err_clear(&err);
		if (ctl_decode_request(c->in + CTL_FRAME_HEADER, len, &rq,
				       &err) != 0)
			fail_msg("fake control socket: rumorctl sent a bad "
				 "request: %s", err.msg);
		wire_buf_init(&out);
		next = fk->answer(fk, i, &rq, &out);
		/* rq points into the input: drop it only now. */
		memmove(c->in, c->in + CTL_FRAME_HEADER + len,
			c->len - CTL_FRAME_HEADER - len);
		c->len -= CTL_FRAME_HEADER + len;
		send_whole(c->fd, out.data, out.len);
		wire_buf_free(&out);
		if (next == CTL_FAKE_HANGUP)
			drop(c);
		else if (next == CTL_FAKE_HOLD)
			c->held = 1;
	}
}

void ctl_fake_step(void *arg)
{
	struct ctl_fake *fk = arg;
	int i, fd;

	while ((fd = accept4(fk->lfd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		for (i = 0; i < CTL_FAKE_CLIENTS && fk->cl[i].fd >= 0; i++)
			;
		assert_true(i < CTL_FAKE_CLIENTS);
		fk->cl[i].fd = fd;
		fk->cl[i].len = 0;
		fk->cl[i].held = 0;
		fk->connections++;
	}
	for (i = 0; i < CTL_FAKE_CLIENTS; i++) {
		struct ctl_fake_client *c = &fk->cl[i];
		ssize_t r = -1;

		if (c->fd < 0)
			continue;
		while (c->len < sizeof(c->in) &&
		       (r = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len,
				 0)) > 0)
			c->len += (size_t)r;
		/* Read to the end: a client that left is closed (its frames
		 * read before are still answered, into nothing). */
		answer_frames(fk, i);
		if (c->fd >= 0 && r == 0)
			drop(c);
	}
}

void ctl_fake_reply(struct ctl_fake *fk, int i, const struct wire_buf *b)
{
	struct ctl_fake_client *c = &fk->cl[i];

	if (c->fd < 0)
		return;     /* the client left while held */
	assert_true(c->held);
	c->held = 0;
	send_whole(c->fd, b->data, b->len);
	answer_frames(fk, i);
}

void ctl_fake_stop(struct ctl_fake *fk)
{
	int i;

	for (i = 0; i < CTL_FAKE_CLIENTS; i++)
		if (fk->cl[i].fd >= 0)
			drop(&fk->cl[i]);
	close(fk->lfd);
	unlink(fk->path);
}
