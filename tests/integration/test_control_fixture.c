/* SPDX-License-Identifier: MIT */
/* The fixture of the control socket tests (contracts in
 * test_control_fixture.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include <cmocka.h>

#include "tests/integration/test_control_fixture.h"

void step_loop(void *arg)
{
	struct fixture *f = arg;
	struct timespec pause = {0, 200 * 1000};

	if (uv_run(&f->loop, UV_RUN_NOWAIT) == 0)
		nanosleep(&pause, NULL);
	if (f->also_step != NULL)
		f->also_step(f->also_arg);
}

int setup(void **state)
{
	return setup_tuned(state, NULL);
}

int setup_tuned(void **state, void (*tune)(struct rumor_options *o))
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct rumor_options o;
	struct err err;
	char msg[RUMOR_ERRMSG_MAX];

	assert_non_null(f);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->dir = tu_tmpdir("control");
	f->data = tu_join(f->dir, "node");
	f->sock = tu_join(f->dir, "ctl.sock");
	f->rumorctl = tu_builddir_path("tools/rumorctl");
	rumor_options_init(&o);
	o.data_dir = f->data;
	o.loop = &f->loop;
	o.catchup_wait_ms = 0;
	o.no_multicast = 1;
	if (tune != NULL)
		tune(&o);
	if (rumor_open(&f->node, &o, msg, sizeof(msg)) != 0)
		fail_msg("rumor_open: %s", msg);
	err_clear(&err);
	if (io_uv_new(&f->io, &f->loop, &err) != 0)
		fail_msg("io_uv_new: %s", err.msg);
	if (control_start(&f->ctl, f->io, f->node, f->sock, &err) != 0)
		fail_msg("control_start: %s", err.msg);
	*state = f;
	return 0;
}

void on_ctl_closed(void *arg)
{
	*(int *)arg = 1;
}

static int both_closed(void *arg)
{
	struct fixture *f = arg;

	return f->ctl_closed && f->node_closed;
}

int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->ctl != NULL)
		control_close(f->ctl, on_ctl_closed, &f->ctl_closed);
	else
		f->ctl_closed = 1;
	rumor_close(f->node, on_ctl_closed, &f->node_closed);
	assert_true(tu_wait_for(both_closed, step_loop, f, DEADLINE_MS));
	/* Handles closed: the socket file is gone with them. */
	assert_int_equal(access(f->sock, F_OK), -1);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	io_uv_free(f->io);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f->data);
	free(f->sock);
	free(f->rumorctl);
	free(f);
	return 0;
}

/* ------------------------------------------------------------ rumorctl */


static void drain(int fd, char *buf, size_t *len, size_t cap)
{
	ssize_t r;

	while (fd >= 0 && *len + 1 < cap &&
	       (r = read(fd, buf + *len, cap - 1 - *len)) > 0)
		*len += (size_t)r;
	buf[*len] = '\0';
}

void proc_step(void *arg)
{
	struct proc *p = arg;
	int st;

	step_loop(p->f);
	drain(p->out_fd, p->out, &p->out_len, sizeof(p->out));
	drain(p->err_fd, p->err, &p->err_len, sizeof(p->err));
	if (!p->exited && waitpid(p->pid, &st, WNOHANG) == p->pid) {
		p->exited = 1;
		p->status = WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
	}
}

static int proc_exited(void *arg)
{
	return ((struct proc *)arg)->exited;
}

void proc_start(struct proc *p, struct fixture *f, int socket_too,
		       const char *const *args)
{
	const char *argv[32];
	int out[2], err[2];
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	p->f = f;
	argv[n++] = f->rumorctl;
	if (socket_too) {
		argv[n++] = "--socket";
		argv[n++] = f->sock;
	}
	while (*args != NULL && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		if (f->ctl_stdin != NULL) {
			int in = open(f->ctl_stdin, O_RDONLY);

			if (in < 0 || dup2(in, 0) < 0)
				_exit(126);
		}
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	p->out_fd = out[0];
	p->err_fd = err[0];
	fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
}

void proc_finish(struct proc *p)
{
	if (!tu_wait_for(proc_exited, proc_step, p, DEADLINE_MS)) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		fail_msg("rumorctl did not finish in time; output: %s %s",
			 p->out, p->err);
	}
	/* Whatever is still in the pipes. */
	drain(p->out_fd, p->out, &p->out_len, sizeof(p->out));
	drain(p->err_fd, p->err, &p->err_len, sizeof(p->err));
	close(p->out_fd);
	close(p->err_fd);
}
int run_ctl(struct proc *p, struct fixture *f, int socket_too,
		   const char *const *args)
{
	proc_start(p, f, socket_too, args);
	proc_finish(p);
	return p->status;
}

/* ------------------------------------------------------------ JSON */

/* A small recursive-descent check that s is exactly one JSON value
 * (and a newline): enough to prove --json output well-formed. */
static const char *json_value(const char *s, int depth);

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static const char *json_str(const char *s)
{
	if (*s++ != '"')
		return NULL;
	while (*s != '"') {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						    s[i]) || s[i] == '\0')
						return NULL;
				s += 4;
			} else if (!strchr("\"\\/bfnrt", *s) || *s == '\0') {
				return NULL;
			}
		}
		s++;
	}
	return s + 1;
}

static const char *json_value(const char *s, int depth)
{
	s = json_ws(s);
	if (depth > 16)
		return NULL;
	if (*s == '{' || *s == '[') {
		char close = *s == '{' ? '}' : ']';
		int first = 1;

		s = json_ws(s + 1);
		while (*s != close) {
			if (!first) {
				if (*s != ',')
					return NULL;
				s = json_ws(s + 1);
			}
			first = 0;
			if (close == '}') {
				s = json_str(s);
				if (s == NULL)
					return NULL;
				s = json_ws(s);
				if (*s != ':')
					return NULL;
				s++;
			}
			s = json_value(s, depth + 1);
			if (s == NULL)
				return NULL;
			s = json_ws(s);
		}
		return s + 1;
	}
	if (*s == '"')
		return json_str(s);
	if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	if (*s == '-' || (*s >= '0' && *s <= '9')) {
		char *end;

		strtod(s, &end);
		return end;
	}
	return NULL;
}

void assert_json(const char *s)
{
	const char *end = json_value(s, 0);

	if (end == NULL || strcmp(json_ws(end), "") != 0)
		fail_msg("not one JSON value: %s", s);
}

/* ------------------------------------------------------------ raw clients */

static int raw_connect(struct fixture *f)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, f->sock);
	/* The kernel completes a unix connect before the loop accepts. */
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

void raw_send(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

void raw_request(int fd, const struct ctl_request *rq)
{
	struct wire_buf b;
	struct err err;

	wire_buf_init(&b);
	assert_int_equal(ctl_encode_request(&b, rq, &err), 0);
	raw_send(fd, b.data, b.len);
	wire_buf_free(&b);
}

void raw_init(struct raw *r, struct fixture *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->fd = raw_connect(f);
}

void raw_free(struct raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
}

void raw_step(void *arg)
{
	struct raw *r = arg;
	ssize_t n;

	step_loop(r->f);
	for (;;) {
		if (r->cap - r->len < 65536) {
			r->cap = r->cap ? 2 * r->cap : 65536;
			r->buf = realloc(r->buf, r->cap);
			assert_non_null(r->buf);
		}
		n = recv(r->fd, r->buf + r->len, r->cap - r->len, 0);
		if (n > 0) {
			r->len += (size_t)n;
			continue;
		}
		if (n == 0)
			r->eof = 1;
		break;
	}
}

static int raw_has_frame(void *arg)
{
	struct raw *r = arg;

	return r->eof || (r->len >= 4 &&
			  r->len - 4 >= ctl_frame_length(r->buf));
}

int raw_reply(struct raw *r, struct ctl_reply *rp, uint8_t **body)
{
	struct err err;
	uint32_t len;

	assert_true(tu_wait_for(raw_has_frame, raw_step, r, DEADLINE_MS));
	if (r->len < 4 || r->len - 4 < ctl_frame_length(r->buf)) {
		assert_true(r->eof);
		return 1;
	}
	len = ctl_frame_length(r->buf);
	free(*body);
	*body = malloc(len ? len : 1);
	memcpy(*body, r->buf + 4, len);
	memmove(r->buf, r->buf + 4 + len, r->len - 4 - len);
	r->len -= 4 + len;
	if (ctl_decode_reply(*body, len, rp, &err) != 0)
		fail_msg("bad reply: %s", err.msg);
	return 0;
}

void put(struct fixture *f, const char *k, const char *v)
{
	assert_int_equal(rumor_put(f->node, k, strlen(k), v, strlen(v)), 0);
}

