/* SPDX-License-Identifier: MIT */
/*
 * test_control: a node's control socket, driven in-process by raw
 * clients and through the built tools/rumorctl (fork/exec with a
 * deadline) while the test pumps the node's loop.
 */
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

#include "rumor.h"
#include "node/control.h"
#include "io/io_uv.h"
#include "crypto/identity.h"
#include "wire/wire_ctl.h"
#include "tests/lib/testutil.h"

#define DEADLINE_MS 10000

struct fixture {
	uv_loop_t loop;
	struct io *io;             /* the test's control socket runs on it */
	char *dir;
	char *data;
	char *sock;
	char *rumorctl;
	struct rumor *node;
	struct control *ctl;
	int ctl_closed;
	int node_closed;
};

static void step_loop(void *arg)
{
	struct fixture *f = arg;
	struct timespec pause = {0, 200 * 1000};

	if (uv_run(&f->loop, UV_RUN_NOWAIT) == 0)
		nanosleep(&pause, NULL);
}

static int setup(void **state)
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

static void on_ctl_closed(void *arg)
{
	*(int *)arg = 1;
}

static int both_closed(void *arg)
{
	struct fixture *f = arg;

	return f->ctl_closed && f->node_closed;
}

static int teardown(void **state)
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

struct proc {
	pid_t pid;
	int out_fd, err_fd;
	char out[1 << 16];
	size_t out_len;
	char err[8192];
	size_t err_len;
	int exited;
	int status;                  /* exit code, or 128 + signal */
	struct fixture *f;
};

static void drain(int fd, char *buf, size_t *len, size_t cap)
{
	ssize_t r;

	while (fd >= 0 && *len + 1 < cap &&
	       (r = read(fd, buf + *len, cap - 1 - *len)) > 0)
		*len += (size_t)r;
	buf[*len] = '\0';
}

static void proc_step(void *arg)
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

/* Starts rumorctl with args (NULL-terminated), after `--socket SOCK`
 * unless socket_too is 0. */
static void proc_start(struct proc *p, struct fixture *f, int socket_too,
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

static void proc_finish(struct proc *p)
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

/* Runs rumorctl to the end; returns its exit code. */
#define RUN(p, f, ...)                                                 \
	run_ctl((p), (f), 1, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_NOSOCK(p, f, ...)                                          \
	run_ctl((p), (f), 0, (const char *const[]){__VA_ARGS__, NULL})

static int run_ctl(struct proc *p, struct fixture *f, int socket_too,
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

static void assert_json(const char *s)
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

static void raw_send(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void raw_request(int fd, const struct ctl_request *rq)
{
	struct ctl_buf b;
	struct err err;

	ctl_buf_init(&b);
	assert_int_equal(ctl_encode_request(&b, rq, &err), 0);
	raw_send(fd, b.data, b.len);
	ctl_buf_free(&b);
}

struct raw {
	struct fixture *f;
	int fd;
	uint8_t *buf;
	size_t len, cap;
	int eof;
};

static void raw_init(struct raw *r, struct fixture *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->fd = raw_connect(f);
}

static void raw_free(struct raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
}

static void raw_step(void *arg)
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

/* Next reply; returns 0, or 1 at EOF. The reply points into r->buf until
 * the next call. */
static int raw_reply(struct raw *r, struct ctl_reply *rp, uint8_t **body)
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

/* ------------------------------------------------------------ tests */

static void put(struct fixture *f, const char *k, const char *v)
{
	assert_int_equal(rumor_put(f->node, k, strlen(k), v, strlen(v)), 0);
}

static void test_put_get_del_version_through_rumorctl(void **state)
{
	struct fixture *f = *state;
	struct proc p;

	assert_int_equal(RUN(&p, f, "put", "colour", "blue"), 0);
	assert_string_equal(p.out, "");
	assert_int_equal(RUN(&p, f, "get", "colour"), 0);
	assert_string_equal(p.out, "blue\n");
	assert_int_equal(RUN(&p, f, "version", "colour"), 0);
	assert_non_null(strstr(p.out, "clock:     1\n"));
	assert_non_null(strstr(p.out, "deleted:   no\n"));
	assert_non_null(strstr(p.out, "seq:       1\n"));
	assert_int_equal(RUN(&p, f, "put", "colour", "green"), 0);
	assert_int_equal(RUN(&p, f, "version", "colour"), 0);
	assert_non_null(strstr(p.out, "clock:     2\n"));
	assert_int_equal(RUN(&p, f, "del", "colour"), 0);
	assert_int_equal(RUN(&p, f, "get", "colour"), 1);
	assert_non_null(strstr(p.err, "not found"));
	assert_int_equal(RUN(&p, f, "version", "colour"), 0);
	assert_non_null(strstr(p.out, "deleted:   yes\n"));
	assert_int_equal(RUN(&p, f, "version", "never-written"), 1);
}

static void test_json_output_is_stable_and_hex_marks_binary(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	char id[RUMOR_NODE_ID_STRLEN], want[256];

	put(f, "a1", "one");
	put(f, "a2", "two \"quoted\"");
	put(f, "b", "other");
	assert_int_equal(RUN(&p, f, "--json", "scan", "a"), 0);
	assert_string_equal(p.out,
			    "[\n{\"key\":\"a1\",\"value\":\"one\"},\n"
			    "{\"key\":\"a2\",\"value\":\"two \\\"quoted\\\"\"}\n]\n");
	assert_int_equal(RUN(&p, f, "scan", "--json", "--limit", "1"), 0);
	assert_string_equal(p.out, "[\n{\"key\":\"a1\",\"value\":\"one\"}\n]\n");
	assert_int_equal(RUN(&p, f, "scan", "zzz", "--json"), 0);
	assert_string_equal(p.out, "[]\n");

	assert_int_equal(RUN(&p, f, "--hex", "put", "00ff", "0a0b"), 0);
	assert_int_equal(RUN(&p, f, "get", "--hex", "--json", "00ff"), 0);
	assert_string_equal(p.out, "{\"key\":{\"hex\":\"00ff\"},"
			    "\"value\":{\"hex\":\"0a0b\"}}\n");
	assert_int_equal(RUN(&p, f, "get", "--hex", "00FF"), 0);
	assert_string_equal(p.out, "0a0b\n");
	assert_int_equal(RUN(&p, f, "--json", "get", "a1"), 0);
	assert_string_equal(p.out, "{\"key\":\"a1\",\"value\":\"one\"}\n");
	assert_int_equal(RUN(&p, f, "--json", "put", "k", "v"), 0);
	assert_string_equal(p.out, "{\"ok\":true}\n");

	rumor_node_id(f->node, id);
	assert_int_equal(RUN(&p, f, "--json", "version", "a1"), 0);
	assert_json(p.out);
	snprintf(want, sizeof(want), "{\"key\":\"a1\",\"value\":\"one\","
		 "\"value_len\":3,\"deleted\":false,\"clock\":1,"
		 "\"origin\":\"%s\",\"seq\":1,\"wall_ms\":", id);
	assert_true(strncmp(p.out, want, strlen(want)) == 0);
	/* Text scan: keys aligned, binary shown as 0x... */
	assert_int_equal(RUN(&p, f, "scan"), 0);
	assert_non_null(strstr(p.out, "0x00ff  0x0a0b\n"));
	assert_non_null(strstr(p.out, "a1      one\n"));
}

static void test_status_and_peers_report_the_node_in_json(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	char id[RUMOR_NODE_ID_STRLEN], want[128];

	put(f, "x", "1");
	put(f, "y", "2");
	rumor_node_id(f->node, id);
	assert_int_equal(RUN(&p, f, "status", "--json"), 0);
	assert_json(p.out);
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"mode\":\"peer\"", id);
	assert_true(strncmp(p.out, want, strlen(want)) == 0);
	assert_non_null(strstr(p.out, "\"local_writes\":2"));
	assert_non_null(strstr(p.out, "\"local_seq\":2"));
	assert_non_null(strstr(p.out, "\"catching_up\":false"));
	assert_non_null(strstr(p.out, "\"velocity\":"));
	assert_non_null(strstr(p.out, "\"interval_ms\":"));
	assert_non_null(strstr(p.out, "\"conflicts_default\":0"));
	assert_non_null(strstr(p.out, "\"symmetry_violations\":0"));
	assert_non_null(strstr(p.out, "\"bytes_in\":"));
	assert_non_null(strstr(p.out, "\"announcements_dropped\":"));
	snprintf(want, sizeof(want), "\"hwm\":[{\"origin\":\"%s\",\"seq\":2}]",
		 id);
	assert_non_null(strstr(p.out, want));

	assert_int_equal(RUN(&p, f, "status"), 0);
	assert_non_null(strstr(p.out, "id:          "));
	assert_non_null(strstr(p.out, id));
	assert_non_null(strstr(p.out, "(this node)"));

	assert_int_equal(RUN(&p, f, "peers", "--json"), 0);
	assert_json(p.out);
	assert_string_equal(p.out, "[]\n");
	assert_int_equal(RUN(&p, f, "peers"), 0);
	assert_non_null(strstr(p.out, "ID"));
	assert_non_null(strstr(p.out, "LAST CONTACT"));
}

static void test_log_lists_each_origin_newest_first(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	const char *a, *b, *c;

	put(f, "first", "1");
	put(f, "second", "22");
	assert_int_equal(rumor_del(f->node, "first", 5), 0);
	put(f, "third", "333");
	assert_int_equal(RUN(&p, f, "log", "--json"), 0);
	assert_json(p.out);
	/* One live entry per key: first's put was replaced by its del. */
	c = strstr(p.out, "\"key\":\"third\"");
	a = strstr(p.out, "\"key\":\"first\"");
	b = strstr(p.out, "\"key\":\"second\"");
	assert_true(c != NULL && a != NULL && b != NULL);
	assert_true(c < a && a < b);
	assert_non_null(strstr(p.out, "\"value\":null,\"value_len\":3,"
			       "\"deleted\":false"));
	/* Every entry names its origin: this node. */
	{
		char id[RUMOR_NODE_ID_STRLEN], want[96];
		const char *at = p.out;
		int n = 0;

		rumor_node_id(f->node, id);
		snprintf(want, sizeof(want), "\"origin\":\"%s\"", id);
		while ((at = strstr(at, want)) != NULL) {
			n++;
			at++;
		}
		assert_int_equal(n, 3);
	}
	assert_int_equal(RUN(&p, f, "log", "--limit", "1", "--json"), 0);
	assert_null(strstr(p.out, "\"key\":\"second\""));
	assert_non_null(strstr(p.out, "\"key\":\"third\""));
	assert_int_equal(RUN(&p, f, "log"), 0);
	assert_non_null(strstr(p.out, "origin "));
	assert_non_null(strstr(p.out, "del  first"));
}

static int has_watching(void *arg)
{
	return strstr(((struct proc *)arg)->err, "# watching") != NULL;
}

static int has_change(void *arg)
{
	return strstr(((struct proc *)arg)->out, "w1 = hello") != NULL;
}

static void test_watch_prints_changes_until_interrupted(void **state)
{
	struct fixture *f = *state;
	struct proc p;

	proc_start(&p, f, 1, (const char *const[]){"watch", "w", NULL});
	assert_true(tu_wait_for(has_watching, proc_step, &p, DEADLINE_MS));
	put(f, "other", "not shown");
	put(f, "w1", "hello");
	assert_true(tu_wait_for(has_change, proc_step, &p, DEADLINE_MS));
	assert_null(strstr(p.out, "other"));
	assert_non_null(strstr(p.out, "local"));
	assert_non_null(strstr(p.out, "clock 1"));
	kill(p.pid, SIGINT);
	proc_finish(&p);
	assert_int_equal(p.status, 0);
}

static void test_watch_sends_changes_with_origin_and_clock(void **state)
{
	struct fixture *f = *state;
	struct ctl_request rq = {.cmd = CTL_CMD_WATCH,
				 .key = (const uint8_t *)"p", .key_len = 1};
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	char id[RUMOR_NODE_ID_STRLEN];

	raw_init(&c, f);
	raw_request(c.fd, &rq);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	put(f, "q", "no");
	put(f, "p1", "yes");
	assert_int_equal(rumor_del(f->node, "p1", 2), 0);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_RECORD);
	assert_int_equal(r.rec.key_len, 2);
	assert_memory_equal(r.rec.key, "p1", 2);
	assert_memory_equal(r.rec.value, "yes", 3);
	assert_int_equal(r.rec.clock, 1);
	assert_int_equal(r.local, 1);
	assert_int_equal(r.rec.origin_len, RUMOR_NODE_ID_BYTES);
	{
		char origin[IDENTITY_ID_STRLEN];

		rumor_node_id(f->node, id);
		identity_id_string(r.rec.origin, origin);
		assert_string_equal(origin, id);
	}
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.rec.deleted, 1);
	assert_int_equal(r.rec.clock, 2);
	raw_free(&c);
	free(body);
}

/* A watcher that does not read: the node keeps a bounded backlog, drops
 * the rest, and says how many it dropped once the reader catches up. */
static void test_watch_drops_changes_for_a_slow_reader_and_says_so(
	void **state)
{
	struct fixture *f = *state;
	enum { BIG = RUMOR_VALUE_MAX, PUTS = 24 };
	struct ctl_request rq = {.cmd = CTL_CMD_WATCH};
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	char *value = malloc(BIG), key[16];
	uint64_t records = 0, dropped = 0;
	int i;

	memset(value, 'w', BIG);
	raw_init(&c, f);
	raw_request(c.fd, &rq);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	for (i = 0; i < PUTS; i++) {
		snprintf(key, sizeof(key), "big%02d", i);
		assert_int_equal(rumor_put(f->node, key, strlen(key), value,
					   BIG), 0);
		step_loop(f);
	}
	/* Read until every big change is either shown or counted as
	 * dropped: the GAP comes once the backlog drains. */
	while (records + dropped < PUTS) {
		assert_int_equal(raw_reply(&c, &r, &body), 0);
		if (r.type == CTL_R_GAP) {
			dropped += r.count;
			continue;
		}
		assert_int_equal(r.type, CTL_R_RECORD);
		assert_int_equal(r.rec.value_len, BIG);
		records++;
	}
	assert_int_equal(records + dropped, PUTS);
	assert_true(dropped > 0);
	assert_true(records > 0);
	/* Caught up: the next change is shown again. */
	put(f, "last", "x");
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_RECORD);
	assert_int_equal(r.rec.key_len, 4);
	assert_memory_equal(r.rec.key, "last", 4);
	raw_free(&c);
	free(body);
	free(value);
}

static void test_exit_codes_follow_the_contract(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	char *keyfile = tu_join(f->dir, "net.key");
	char id[RUMOR_NODE_ID_STRLEN], want[64];
	struct stat st;

	assert_int_equal(RUN(&p, f, "get", "missing"), 1);
	assert_int_equal(RUN(&p, f, "del", "missing"), 0);
	/* Usage. */
	assert_int_equal(RUN(&p, f, "get"), 2);
	assert_int_equal(RUN(&p, f, "put", "k"), 2);
	assert_int_equal(RUN(&p, f, "frobnicate"), 2);
	assert_int_equal(RUN(&p, f, "get", "--limit", "3", "k"), 2);
	assert_int_equal(RUN(&p, f, "--hex", "get", "zz"), 2);
	assert_int_equal(RUN(&p, f, "get", ""), 2);
	assert_int_equal(RUN(&p, f, "log", "--limit", "0"), 2);
	assert_int_equal(RUN(&p, f, "--bogus", "status"), 2);
	assert_int_equal(run_ctl(&p, f, 0, (const char *const[]){NULL}), 2);
	assert_int_equal(RUN(&p, f, "get", "--help"), 0);
	assert_non_null(strstr(p.out, "usage: rumorctl"));
	assert_int_equal(RUN_NOSOCK(&p, f, "--help"), 0);
	/* Cannot reach. */
	assert_int_equal(RUN_NOSOCK(&p, f, "--socket", "/nonexistent/sock",
				    "status"), 3);
	assert_non_null(strstr(p.err, "cannot reach"));
	assert_int_equal(RUN_NOSOCK(&p, f, "--data", f->dir, "status"), 3);
	/* keygen works without a node, and never creates a node key. */
	assert_int_equal(RUN_NOSOCK(&p, f, "keygen", "--network-key",
				    keyfile), 0);
	assert_int_equal(stat(keyfile, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(RUN_NOSOCK(&p, f, "keygen", "--network-key",
				    keyfile), 1);
	assert_int_equal(RUN_NOSOCK(&p, f, "--data", f->dir, "keygen",
				    "--id"), 1);
	assert_int_equal(access(f->dir, F_OK), 0);
	free(keyfile);
	keyfile = tu_join(f->dir, "node.key");
	assert_int_equal(access(keyfile, F_OK), -1);
	assert_int_equal(RUN_NOSOCK(&p, f, "keygen"), 2);
	rumor_node_id(f->node, id);
	assert_int_equal(RUN_NOSOCK(&p, f, "--data", f->data, "keygen",
				    "--id"), 0);
	snprintf(want, sizeof(want), "%s\n", id);
	assert_string_equal(p.out, want);
	free(keyfile);
}

static size_t count_keys(struct fixture *f);

static void expect_error_then_close(struct fixture *f, const void *bytes,
				    size_t len)
{
	struct raw c;
	struct ctl_reply r;
	uint8_t *body = NULL;
	int rv;

	raw_init(&c, f);
	raw_send(c.fd, bytes, len);
	rv = raw_reply(&c, &r, &body);
	if (rv == 0) {
		assert_int_equal(r.type, CTL_R_ERROR);
		assert_int_equal(r.code, RUMOR_EPROTO);
		/* And then the node hangs up. */
		assert_int_equal(raw_reply(&c, &r, &body), 1);
	}
	raw_free(&c);
	free(body);
}

static void test_garbage_gets_an_error_or_a_hangup_and_changes_nothing(
	void **state)
{
	struct fixture *f = *state;
	static const uint8_t oversize[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
	static const uint8_t zero[] = {0, 0, 0, 0};
	/* [4, "k" as text, h'76'] : a PUT with a text key. */
	static const uint8_t wrong_shape[] = {0, 0, 0, 5, 0x83, 0x04, 0x61,
					      'k', 0x41};
	static const uint8_t wrong_shape_full[] = {0, 0, 0, 6, 0x83, 0x04,
						   0x61, 'k', 0x41, 'v'};
	static const uint8_t unknown_cmd[] = {0, 0, 0, 2, 0x81, 0x0b};
	uint8_t random_bytes[4096];
	unsigned seed = 7;
	struct proc p;
	size_t i, before;

	put(f, "keep", "me");
	before = count_keys(f);
	for (i = 0; i < sizeof(random_bytes); i++)
		random_bytes[i] = (uint8_t)rand_r(&seed);
	/* Framed right, garbage inside. */
	random_bytes[0] = 0;
	random_bytes[1] = 0;
	random_bytes[2] = (sizeof(random_bytes) - 4) >> 8;
	random_bytes[3] = (sizeof(random_bytes) - 4) & 0xff;
	expect_error_then_close(f, random_bytes, sizeof(random_bytes));
	expect_error_then_close(f, oversize, sizeof(oversize));
	expect_error_then_close(f, zero, sizeof(zero));
	expect_error_then_close(f, wrong_shape_full, sizeof(wrong_shape_full));
	expect_error_then_close(f, unknown_cmd, sizeof(unknown_cmd));
	/* A truncated frame then EOF: nothing to answer, nothing done. */
	{
		struct raw c;

		raw_init(&c, f);
		raw_send(c.fd, wrong_shape, 6);
		shutdown(c.fd, SHUT_WR);
		while (!c.eof)
			raw_step(&c);
		raw_free(&c);
	}
	assert_int_equal(count_keys(f), before);
	assert_int_equal(RUN(&p, f, "get", "keep"), 0);
	assert_string_equal(p.out, "me\n");
	assert_int_equal(RUN(&p, f, "status", "--json"), 0);
	assert_non_null(strstr(p.out, "\"local_writes\":1,"));
}

static int count_one(void *arg, const void *k, size_t kl, const void *v,
		     size_t vl)
{
	(*(size_t *)arg)++;
	return 0;
}

static size_t count_keys(struct fixture *f)
{
	size_t n = 0;

	assert_int_equal(rumor_scan(f->node, "", 0, count_one, &n), 0);
	return n;
}

static void test_socket_is_private_and_single(void **state)
{
	struct fixture *f = *state;
	struct control *other = NULL;
	struct err err;
	struct stat st;
	struct sockaddr_un sa;
	char *stale = tu_join(f->dir, "stale.sock");
	char *plain = tu_join(f->dir, "plain");
	int fd;

	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A live node answers there: refused. */
	assert_int_equal(control_start(&other, f->io, f->node, f->sock,
				       &err), RUMOR_EBUSY);
	assert_null(other);
	/* A socket file nobody listens on (a crashed node): replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, stale);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(control_start(&other, f->io, f->node, stale, &err),
			 0);
	assert_int_equal(lstat(stale, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	{
		int closed = 0;

		control_close(other, on_ctl_closed, &closed);
		while (!closed)
			step_loop(f);
	}
	assert_int_equal(access(stale, F_OK), -1);
	/* Not a socket: left alone, refused. */
	assert_int_equal(tu_write_file(plain, "x", 1, 0600), 0);
	other = NULL;
	assert_int_equal(control_start(&other, f->io, f->node, plain, &err),
			 RUMOR_ECONFIG);
	assert_int_equal(access(plain, F_OK), 0);
	free(stale);
	free(plain);
}

static void test_many_clients_at_once_each_get_their_answer(void **state)
{
	struct fixture *f = *state;
	struct raw c[24];
	struct ctl_reply r;
	uint8_t *body = NULL;
	char key[16];
	int i;

	for (i = 0; i < 24; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put(f, key, key);
	}
	for (i = 0; i < 24; i++) {
		struct ctl_request rq = {.cmd = CTL_CMD_GET};

		raw_init(&c[i], f);
		snprintf(key, sizeof(key), "k%d", i);
		rq.key = (const uint8_t *)key;
		rq.key_len = strlen(key);
		raw_request(c[i].fd, &rq);
	}
	for (i = 23; i >= 0; i--) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(raw_reply(&c[i], &r, &body), 0);
		assert_int_equal(r.type, CTL_R_VALUE);
		assert_int_equal(r.rec.value_len, strlen(key));
		assert_memory_equal(r.rec.value, key, strlen(key));
		raw_free(&c[i]);
	}
	free(body);
}

static void test_pipelined_requests_are_answered_in_order(void **state)
{
	struct fixture *f = *state;
	struct ctl_request rqs[] = {
		{.cmd = CTL_CMD_PUT, .key = (const uint8_t *)"pk", .key_len = 2,
		 .value = (const uint8_t *)"pv", .value_len = 2},
		{.cmd = CTL_CMD_GET, .key = (const uint8_t *)"pk", .key_len = 2},
		{.cmd = CTL_CMD_SCAN, .key = (const uint8_t *)"p", .key_len = 1},
		{.cmd = CTL_CMD_DEL, .key = (const uint8_t *)"pk", .key_len = 2},
		{.cmd = CTL_CMD_GET, .key = (const uint8_t *)"pk", .key_len = 2},
	};
	struct ctl_buf b;
	struct err err;
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	size_t i;

	ctl_buf_init(&b);
	for (i = 0; i < sizeof(rqs) / sizeof(rqs[0]); i++)
		assert_int_equal(ctl_encode_request(&b, &rqs[i], &err), 0);
	raw_init(&c, f);
	raw_send(c.fd, b.data, b.len);
	ctl_buf_free(&b);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_VALUE);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_ITEM);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_END);
	assert_int_equal(r.count, 1);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_ERROR);
	assert_int_equal(r.code, RUMOR_ENOTFOUND);
	raw_free(&c);
	free(body);
}

/* Far more than the high-water mark: the scan must pause while the
 * reader does not read, then resume where it stopped. */
static void test_scan_larger_than_the_high_water_mark_resumes(void **state)
{
	struct fixture *f = *state;
	enum { KEYS = 600, VALUE = 8192 };
	struct ctl_request rq = {.cmd = CTL_CMD_SCAN};
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	char *value = malloc(VALUE), key[16], prev[16] = "";
	int i, items = 0;

	memset(value, 'v', VALUE);
	for (i = 0; i < KEYS; i++) {
		snprintf(key, sizeof(key), "s%05d", i);
		assert_int_equal(rumor_put(f->node, key, strlen(key), value,
					   VALUE), 0);
	}
	raw_init(&c, f);
	raw_request(c.fd, &rq);
	/* Let the node run without anyone reading. */
	for (i = 0; i < 200; i++)
		step_loop(f);
	for (;;) {
		assert_int_equal(raw_reply(&c, &r, &body), 0);
		if (r.type == CTL_R_END)
			break;
		assert_int_equal(r.type, CTL_R_ITEM);
		assert_int_equal(r.rec.value_len, VALUE);
		snprintf(key, sizeof(key), "%.*s", (int)r.rec.key_len,
			 (const char *)r.rec.key);
		assert_true(strcmp(prev, key) < 0);
		strcpy(prev, key);
		items++;
	}
	assert_int_equal(items, KEYS);
	assert_int_equal(r.count, KEYS);
	assert_int_equal(r.truncated, 0);
	raw_free(&c);
	free(body);
	free(value);
}

static void test_sync_answers_even_without_peers(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	int rv = RUN(&p, f, "sync", "--json", "--timeout", "500");

	/* A storage-only node has no one to reconcile with: either a report
	 * of nothing, or a refusal; never a hang or a crash. */
	assert_true(rv == 0 || rv == 1);
	if (rv == 0) {
		assert_json(p.out);
		assert_non_null(strstr(p.out, "\"peers_tried\":"));
	}
	assert_int_equal(RUN(&p, f, "get", "--json", "nothing"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_put_get_del_version_through_rumorctl, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_json_output_is_stable_and_hex_marks_binary, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_status_and_peers_report_the_node_in_json, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_log_lists_each_origin_newest_first, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_prints_changes_until_interrupted, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_sends_changes_with_origin_and_clock, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_drops_changes_for_a_slow_reader_and_says_so,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_exit_codes_follow_the_contract, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_garbage_gets_an_error_or_a_hangup_and_changes_nothing,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_socket_is_private_and_single, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_many_clients_at_once_each_get_their_answer, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_pipelined_requests_are_answered_in_order, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_scan_larger_than_the_high_water_mark_resumes,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_sync_answers_even_without_peers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
