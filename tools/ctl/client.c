/* SPDX-License-Identifier: MIT */
/*
 * rumorctl's control client: one unix-socket connection to the node per
 * run, a request framed and encoded by src/wire/wire_ctl.h, and replies
 * read frame by frame with a deadline, decoded strictly. A reply that
 * makes no sense is CTL_EXIT_UNREACHABLE, like a broken connection: the
 * program talked to something that is not a working node.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tools/ctl/ctl.h"

/* Set by the signal handler: the one piece of state a handler may
 * touch, so it cannot live in struct ctx. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

void client_catch_interrupts(void)
{
	struct sigaction sa;

	/* No SA_RESTART: an interrupt must break the blocking read. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int client_interrupted(void)
{
	return interrupted;
}

static const char *socket_path(struct ctx *x)
{
	if (x->socket != NULL)
		return x->socket;
	snprintf(x->socket_buf, sizeof(x->socket_buf), "%s/%s", x->data,
		 CTL_SOCKET_NAME);
	return x->socket_buf;
}

static int client_connect(struct ctx *x)
{
	const char *path = socket_path(x);
	struct sockaddr_un sa;
	int fd;

	/* Connected already: requests follow each other on it (load). */
	if (x->fd >= 0)
		return 0;
	if (strlen(path) >= sizeof(sa.sun_path))
		return fmt_fail(CTL_EXIT_USAGE, "socket path too long: %s",
				path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fmt_fail(CTL_EXIT_UNREACHABLE, "socket: %s",
				strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		return fmt_fail(CTL_EXIT_UNREACHABLE, "cannot reach the node "
				"at %s: %s%s", path, strerror(e),
				e == ENOENT || e == ECONNREFUSED ?
				" (is rumord running with this data dir?)" :
				"");
	}
	x->fd = fd;
	return 0;
}

static int send_all(struct ctx *x, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(x->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR && !interrupted)
			continue;
		if (w < 0)
			return fmt_fail(CTL_EXIT_UNREACHABLE, "sending to the "
					"node: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads exactly n bytes before the deadline (0: none). Returns 0 or an
 * exit code; an interrupt returns 0 with interrupted set. */
static int recv_all(struct ctx *x, uint8_t *p, size_t n, uint64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = {.fd = x->fd, .events = POLLIN};
		int wait = -1, rv;
		ssize_t r;

		if (interrupted)
			return 0;
		if (deadline != 0) {
			uint64_t now = now_ms();

			if (now >= deadline)
				return fmt_fail(CTL_EXIT_UNREACHABLE, "the node "
						"did not answer in time");
			wait = (int)(deadline - now);
		}
		rv = poll(&pfd, 1, wait);
		if (rv < 0 && errno == EINTR)
			continue;
		if (rv < 0)
			return fmt_fail(CTL_EXIT_UNREACHABLE, "poll: %s",
					strerror(errno));
		if (rv == 0)
			continue;
		r = recv(x->fd, p + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fmt_fail(CTL_EXIT_UNREACHABLE, "reading from "
					"the node: %s", strerror(errno));
		if (r == 0)
			return fmt_fail(CTL_EXIT_UNREACHABLE, "the node closed "
					"the connection");
		got += (size_t)r;
	}
	return 0;
}

int client_recv_reply(struct ctx *x, struct ctl_reply *r,
		      uint64_t timeout_ms)
{
	uint64_t deadline = timeout_ms != 0 ? now_ms() + timeout_ms : 0;
	uint8_t hdr[CTL_FRAME_HEADER];
	struct err err;
	uint32_t len;
	int rv;

	memset(r, 0, sizeof(*r));
	rv = recv_all(x, hdr, sizeof(hdr), deadline);
	if (rv != 0 || interrupted)
		return rv;
	len = ctl_frame_length(hdr);
	if (len == 0 || len > CTL_REPLY_MAX)
		return fmt_fail(CTL_EXIT_UNREACHABLE, "the node sent a frame "
				"of %u bytes", len);
	if (len > x->frame_cap) {
		uint8_t *p = realloc(x->frame, len);

		if (p == NULL)
			return fmt_fail(CTL_EXIT_FAIL, "out of memory");
		x->frame = p;
		x->frame_cap = len;
	}
	rv = recv_all(x, x->frame, len, deadline);
	if (rv != 0 || interrupted)
		return rv;
	err_clear(&err);
	if (ctl_decode_reply(x->frame, len, r, &err) != 0)
		return fmt_fail(CTL_EXIT_UNREACHABLE, "bad reply: %s",
				err.msg);
	if (r->type == CTL_R_ERROR && x->want_proto_error &&
	    r->code == RUMOR_EPROTO)
		return 0;
	if (r->type == CTL_R_ERROR) {
		/* The node's own words: fmt_fail escapes them. */
		rv = fmt_fail(CTL_EXIT_FAIL, "%s", r->message);
		ctl_reply_free(r);
		return rv;
	}
	return 0;
}

int client_request(struct ctx *x, const struct ctl_request *rq)
{
	struct wire_buf b;
	struct err err;
	int rv;

	wire_buf_init(&b);
	err_clear(&err);
	rv = ctl_encode_request(&b, rq, &err);
	if (rv != 0) {
		wire_buf_free(&b);
		return fmt_fail(rv == RUMOR_ENOMEM ? CTL_EXIT_FAIL :
				CTL_EXIT_USAGE, "%s", err.msg);
	}
	rv = client_connect(x);
	if (rv == 0)
		rv = send_all(x, b.data, b.len);
	wire_buf_free(&b);
	return rv;
}

int client_unexpected(const struct ctl_reply *r)
{
	return fmt_fail(CTL_EXIT_UNREACHABLE, "unexpected %s reply from the "
			"node", ctl_reply_name(r->type));
}

int client_call(struct ctx *x, const struct ctl_request *rq,
		enum ctl_reply_type want, struct ctl_reply *r,
		uint64_t timeout_ms)
{
	int rv = client_request(x, rq);

	if (rv != 0)
		return rv;
	rv = client_recv_reply(x, r, timeout_ms);
	if (rv != 0)
		return rv;
	if (r->type != want) {
		ctl_reply_free(r);
		return client_unexpected(r);
	}
	return 0;
}

int client_call_ext(struct ctx *x, struct ctl_request *rq,
		    void (*to_short)(struct ctl_request *rq),
		    enum ctl_reply_type want, struct ctl_reply *r,
		    uint64_t timeout_ms)
{
	int rv = client_request(x, rq);

	if (rv != 0)
		return rv;
	x->want_proto_error = 1;
	rv = client_recv_reply(x, r, timeout_ms);
	x->want_proto_error = 0;
	if (rv != 0)
		return rv;
	if (r->type == CTL_R_ERROR) {
		/* An older node: it hangs up after a protocol error. */
		ctl_reply_free(r);
		client_close(x);
		to_short(rq);
		return client_call(x, rq, want, r, timeout_ms);
	}
	if (r->type != want) {
		ctl_reply_free(r);
		return client_unexpected(r);
	}
	return 0;
}

int client_next(struct ctx *x, enum ctl_reply_type want,
		struct ctl_reply *r, int *done)
{
	int rv = client_recv_reply(x, r, CTL_REPLY_TIMEOUT_MS);

	*done = 0;
	if (rv != 0)
		return rv;
	if (r->type == CTL_R_END) {
		*done = 1;
		return 0;
	}
	if (r->type != want) {
		ctl_reply_free(r);
		return client_unexpected(r);
	}
	return 0;
}

int client_readable(struct ctx *x, int timeout_ms)
{
	struct pollfd pfd = {.fd = x->fd, .events = POLLIN};
	int rv;

	if (x->fd < 0)
		return 1;
	rv = poll(&pfd, 1, timeout_ms);
	/* An error or an interrupt: let the read find out. */
	return rv != 0;
}

void client_close(struct ctx *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	free(x->frame);
	x->frame = NULL;
	x->frame_cap = 0;
}
