/* SPDX-License-Identifier: MIT */
/*
 * test_control_catchup: what a person or a script meets while a node
 * catches up, through the built tools/rumorctl (issue 15, parts 4 to 6):
 * writes wait for catch-up to end (--wait MS, --no-wait), status shows
 * the catch-up progress and says the node is open without warning a
 * script on every call, and sync shows a progress line on a terminal
 * and none into a pipe or in JSON; writes to a node older than the wait
 * go again without it (put, del, and load once for the whole load).
 *
 * The node's only seed is a port nothing listens on, so it catches up
 * for its whole bound (CATCHUP_MS) and then accepts writes. What a node
 * will not do on demand (answer SYNC only after some STATUS requests, be
 * older than the wait) a stand-in control socket does (ctl_fake.h).
 * The same waits on virtual time, to the millisecond:
 * test_control_wait_sim.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/integration/ctl_fake.h"
#include "tests/integration/test_control_fixture.h"

#define CATCHUP_MS 4000u

static const char *const unreachable_seed[] = {"127.0.0.1:9"};

static void tune_catching_up(struct rumor_options *o)
{
	o->catchup_wait_ms = CATCHUP_MS;
	o->peers = unreachable_seed;
	o->n_peers = 1;
}

static int setup_catching_up(void **state)
{
	return setup_tuned(state, tune_catching_up);
}

static int catching_up(struct fixture *f)
{
	struct rumor_stats st = RUMOR_STATS_INIT;

	assert_int_equal(rumor_stats(f->node, &st), 0);
	return st.catching_up;
}

/* While catching up, status tells the progress (nothing received, no
 * digest yet, the bound); writes wait by default and are done once
 * catch-up ends; --no-wait is refused at once and a short --wait after
 * it, saying so; after catch-up the progress is gone. */
static void test_writes_wait_for_catch_up_and_status_shows_it(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	void *v = NULL;
	size_t len = 0;

	assert_true(catching_up(f));
	assert_int_equal(RUN(&p, f, "status", "--json"), 0);
	assert_json(p.out);
	assert_non_null(strstr(p.out, "\"catching_up\":true"));
	assert_non_null(strstr(p.out, "\"catchup_wait_ms\":4000"));
	assert_non_null(strstr(p.out, "\"catchup_progress\":{\"received\":0,"
				      "\"expected\":null,"));
	assert_int_equal(RUN(&p, f, "status"), 0);
	assert_non_null(strstr(p.out, "catch-up:    in progress"));
	assert_non_null(strstr(p.out, "progress:    0 entries received, "
				      "expected unknown"));

	assert_int_equal(RUN(&p, f, "put", "--no-wait", "k", "early"), 1);
	assert_non_null(strstr(p.err, "catching up"));
	assert_null(strstr(p.err, "after waiting"));

	assert_int_equal(RUN(&p, f, "put", "--wait", "200", "k", "soon"), 1);
	assert_non_null(strstr(p.err, "still catching up with peers after "
				      "waiting"));
	assert_true(catching_up(f));    /* refused by the wait, not late */
	assert_int_equal(RUN(&p, f, "del", "--wait", "100", "k"), 1);
	assert_non_null(strstr(p.err, "after waiting"));

	/* The default: up to the node's bound, which ends catch-up. */
	assert_int_equal(RUN(&p, f, "put", "k", "later"), 0);
	assert_false(catching_up(f));
	assert_int_equal(rumor_get(f->node, "k", 1, &v, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(v, "later", 5);
	rumor_free(v);

	assert_int_equal(RUN(&p, f, "status", "--json"), 0);
	assert_non_null(strstr(p.out, "\"catching_up\":false"));
	assert_non_null(strstr(p.out, "\"catchup_progress\":null"));
	assert_int_equal(RUN(&p, f, "status"), 0);
	assert_non_null(strstr(p.out, "catch-up:    done\n"));
	assert_null(strstr(p.out, "progress:"));
	assert_int_equal(RUN(&p, f, "del", "--no-wait", "k"), 0);
}

/* Pipelined requests behind a waiting write (what load sends): each
 * gets its reply in order once catch-up ends, the writes all done; a
 * request without a wait behind them is not answered before them. */
static void test_pipelined_writes_wait_in_order(void **state)
{
	struct fixture *f = *state;
	struct ctl_request rq;
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	const char *keys[3] = {"p1", "p2", "p3"};
	int i;

	assert_true(catching_up(f));
	raw_init(&c, f);
	for (i = 0; i < 3; i++) {
		rq = (struct ctl_request){.cmd = CTL_CMD_PUT,
					  .key = (const uint8_t *)keys[i],
					  .key_len = 2,
					  .value = (const uint8_t *)"v",
					  .value_len = 1, .has_wait = 1,
					  .wait_ms = CTL_WAIT_DEFAULT};
		raw_request(c.fd, &rq);
	}
	rq = (struct ctl_request){.cmd = CTL_CMD_GET,
				  .key = (const uint8_t *)"p3", .key_len = 2};
	raw_request(c.fd, &rq);
	for (i = 0; i < 3; i++) {
		assert_int_equal(raw_reply(&c, &r, &body), 0);
		assert_int_equal(r.type, CTL_R_OK);
		assert_false(catching_up(f));
	}
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_VALUE);
	assert_int_equal(r.rec.value_len, 1);
	free(body);
	raw_free(&c);
}

/* rumorctl run by a script (stdout and stderr are pipes here): status
 * says the node is open on its own line and in JSON, and nothing warns
 * on stderr, neither there nor for other commands; sync writes no
 * progress line. */
static void test_scripts_get_no_warning_and_no_progress(void **state)
{
	struct fixture *f = *state;
	struct proc p;

	put(f, "x", "1");
	assert_int_equal(RUN(&p, f, "status"), 0);
	assert_non_null(strstr(p.out, "network:     OPEN"));
	assert_string_equal(p.err, "");
	assert_int_equal(RUN(&p, f, "status", "--json"), 0);
	assert_non_null(strstr(p.out, "\"open_network\":true"));
	assert_string_equal(p.err, "");
	assert_int_equal(RUN(&p, f, "get", "x"), 0);
	assert_string_equal(p.err, "");
	assert_int_equal(RUN(&p, f, "--quiet", "status"), 0);
	assert_string_equal(p.err, "");

	(void)RUN(&p, f, "sync", "--timeout", "300");
	assert_null(strchr(p.err, '\r'));
	assert_null(strstr(p.err, "entries received"));
	assert_null(strchr(p.out, '\r'));
}

/* ------------------------------------------------------------ terminal */

/* One terminal session: a child that makes a new session on a new pty
 * (its controlling terminal, stdout and stderr of everything it runs)
 * and runs rumorctl status there once per entry of quiet (1: with
 * --quiet), one after the other, a "--NEXT--" line between. The test
 * pumps the node's loop meanwhile and returns what the terminal showed
 * (malloc'd). */
static char *terminal_session(struct fixture *f, const char *runtime,
			      const int *quiet, int runs)
{
	size_t cap = 1 << 16, len = 0;
	char *out = calloc(1, cap);
	uint64_t waited = 0;
	pid_t pid;
	int m, st, done = 0;

	assert_non_null(out);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int s, i;

		setsid();
		s = open(ptsname(m), O_RDWR);
		if (s < 0)
			_exit(126);
		dup2(s, 1);
		dup2(s, 2);
		setenv("XDG_RUNTIME_DIR", runtime, 1);
		for (i = 0; i < runs; i++) {
			pid_t c = fork();

			if (c == 0) {
				execl(f->rumorctl, f->rumorctl, "--socket",
				      f->sock, quiet[i] ? "--quiet" : "status",
				      quiet[i] ? "status" : NULL, (char *)NULL);
				_exit(127);
			}
			waitpid(c, NULL, 0);
			if (write(1, "--NEXT--\n", 9) != 9)
				_exit(125);
		}
		_exit(0);
	}
	fcntl(m, F_SETFL, O_NONBLOCK);
	while (!done || waited < 50) {
		ssize_t r;

		step_loop(f);
		r = read(m, out + len, cap - 1 - len);
		if (r > 0)
			len += (size_t)r;
		if (!done && waitpid(pid, &st, WNOHANG) == pid) {
			done = 1;
			assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
		/* After the exit, a few more turns for what the pty holds. */
		if (done)
			waited++;
	}
	close(m);
	out[len] = '\0';
	return out;
}

/* On a terminal, status warns once per terminal session: the second
 * status in one session does not; another session (another terminal)
 * is told again; --quiet tells nothing and leaves the next status to
 * tell. The network: line is there every time. */
static void test_a_terminal_is_warned_once_per_session(void **state)
{
	static const char warning[] = "warning: this node uses the built-in";
	struct fixture *f = *state;
	const int plain[2] = {0, 0}, quiet_first[2] = {1, 0};
	char *runtime = tu_join(f->dir, "run");
	char *out, *next;

	assert_int_equal(mkdir(runtime, 0700), 0);
	out = terminal_session(f, runtime, plain, 2);
	next = strstr(out, "--NEXT--");
	assert_non_null(next);
	*next = '\0';
	assert_non_null(strstr(out, warning));
	assert_non_null(strstr(out, "network:     OPEN"));
	assert_null(strstr(next + 1, warning));
	assert_non_null(strstr(next + 1, "network:     OPEN"));
	free(out);

	out = terminal_session(f, runtime, quiet_first, 2);
	next = strstr(out, "--NEXT--");
	assert_non_null(next);
	*next = '\0';
	assert_null(strstr(out, warning));
	assert_non_null(strstr(out, "network:     OPEN"));
	assert_non_null(strstr(next + 1, warning));
	free(out);
	free(runtime);
}

/* ------------------------------------------------------------ sync */

/* Runs rumorctl with args (NULL-terminated) with its standard error on
 * a new pty (the controlling terminal of a new session) and its
 * standard output on the pty too, or on a pipe with out_pipe; turns
 * step_loop (and so f->also_step) meanwhile. Returns what the terminal
 * showed (malloc'd); *piped gets what the pipe had (malloc'd, "" when
 * not out_pipe); the exit code in *code. */
static char *pty_run(struct fixture *f, int out_pipe, char **piped, int *code,
		     const char *const *args)
{
	const char *argv[16];
	size_t cap = 1 << 16, len = 0, plen = 0, n = 0;
	char *out = calloc(1, cap), *pout = calloc(1, cap);
	uint64_t deadline = tu_now_ms() + DEADLINE_MS;
	pid_t pid;
	int m, p[2] = {-1, -1}, st, done = 0, pty_end = 0, pipe_end = !out_pipe;

	assert_non_null(out);
	assert_non_null(pout);
	argv[n++] = f->rumorctl;
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	if (out_pipe)
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int s;

		setsid();
		s = open(ptsname(m), O_RDWR);
		if (s < 0)
			_exit(126);
		dup2(out_pipe ? p[1] : s, 1);
		dup2(s, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (out_pipe) {
		close(p[1]);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
	}
	fcntl(m, F_SETFL, O_NONBLOCK);
	/* To the end of both: the pty reads EIO once rumorctl, its only
	 * holder, has exited and what it wrote has been read; the pipe
	 * reads 0. */
	while (!done || !pty_end || !pipe_end) {
		ssize_t r;

		assert_true(tu_now_ms() < deadline);
		step_loop(f);
		r = read(m, out + len, cap - 1 - len);
		if (r > 0)
			len += (size_t)r;
		else if (done && (r == 0 || (r < 0 && errno == EIO)))
			pty_end = 1;
		if (!pipe_end) {
			r = read(p[0], pout + plen, cap - 1 - plen);
			if (r > 0)
				plen += (size_t)r;
			else if (r == 0)
				pipe_end = 1;
		}
		if (!done && waitpid(pid, &st, WNOHANG) == pid) {
			done = 1;
			assert_true(WIFEXITED(st));
			*code = WEXITSTATUS(st);
		}
	}
	close(m);
	if (out_pipe)
		close(p[0]);
	out[len] = '\0';
	pout[plen] = '\0';
	*piped = pout;
	return out;
}

/* What a terminal shows after out: \r goes back to the start of the
 * line, \n to the next line, any other byte takes the next column.
 * Lines (trailing spaces cut) joined by \n into screen. */
static void render(const char *out, char *screen, size_t size)
{
	char lines[16][160];
	size_t row = 0, col = 0, i, w;

	memset(lines, 0, sizeof(lines));
	for (; *out; out++) {
		if (*out == '\r') {
			col = 0;
		} else if (*out == '\n') {
			row++;
			col = 0;
			assert_true(row < 16);
		} else {
			assert_true(col < sizeof(lines[0]) - 1);
			lines[row][col++] = *out;
		}
	}
	screen[0] = '\0';
	for (i = 0; i <= row; i++) {
		w = strlen(lines[i]);
		while (w > 0 && lines[i][w - 1] == ' ')
			lines[i][--w] = '\0';
		snprintf(screen + strlen(screen), size - strlen(screen), "%s%s",
			 i ? "\n" : "", lines[i]);
	}
}

/* A node that answers SYNC only after rumorctl asked for STATUS
 * release_after times (when hold is set): STATUS says it received
 * received[k] entries the k-th time. */
struct sync_node {
	int hold, release_after;
	int statuses, syncs, held;
	uint64_t received[4];
};

static void sync_report(struct wire_buf *b)
{
	struct ctl_sync_report rep = {.peers_tried = 1, .peers_completed = 1,
				      .entries_received = 3100,
				      .entries_applied = 3100,
				      .bytes_in = 99000};

	assert_int_equal(ctl_encode_sync(b, &rep), 0);
}

static enum ctl_fake_next answer_sync(struct ctl_fake *fk, int i,
				      const struct ctl_request *rq,
				      struct wire_buf *out)
{
	struct sync_node *s = fk->arg;
	struct ctl_status st;
	struct wire_buf b;

	if (rq->cmd == CTL_CMD_SYNC) {
		s->syncs++;
		if (s->hold) {
			s->held = i;
			return CTL_FAKE_HOLD;
		}
		sync_report(out);
		return CTL_FAKE_KEEP;
	}
	assert_int_equal(rq->cmd, CTL_CMD_STATUS);
	memset(&st, 0, sizeof(st));
	st.stats.entries_received = s->received[s->statuses < 4 ?
						s->statuses : 3];
	assert_int_equal(ctl_encode_status(out, &st, 0, NULL, 0), 0);
	if (++s->statuses == s->release_after && s->hold) {
		wire_buf_init(&b);
		sync_report(&b);
		ctl_fake_reply(fk, s->held, &b);
		wire_buf_free(&b);
	}
	return CTL_FAKE_KEEP;
}

static void fake_on(struct fixture *f, struct ctl_fake *fk, const char *name,
		    ctl_fake_answer answer, void *arg)
{
	char *path = tu_join(f->dir, name);

	ctl_fake_start(fk, path, answer, arg);
	free(path);
	f->also_step = ctl_fake_step;
	f->also_arg = fk;
}

static void fake_off(struct fixture *f, struct ctl_fake *fk)
{
	f->also_step = NULL;
	ctl_fake_stop(fk);
}

/* On a terminal, sync shows a progress line on stderr while the node
 * reconciles: rewritten in place with \r (each tick one STATUS), padded
 * over a longer one before it, ended with a newline when the report
 * comes, with no terminal escape; what stays on the screen is the last
 * figures and the report. Into a pipe, or with --json, there is none:
 * no STATUS is even asked for. */
static void test_sync_shows_progress_on_a_terminal_only(void **state)
{
	static const char last[] = "sync: 3100 entries received, 4133/s "
				   "(0.7s)";
	struct fixture *f = *state;
	struct ctl_fake *fk = calloc(1, sizeof(*fk));
	struct sync_node s = {.hold = 1, .release_after = 4,
			      .received = {500, 3500, 3500, 3600}};
	char *path = tu_join(f->dir, "fake.sock");
	char screen[4096], *out, *piped;
	const char *end;
	int code = -1;

	assert_non_null(fk);
	fake_on(f, fk, "fake.sock", answer_sync, &s);
	out = pty_run(f, 0, &piped, &code, (const char *const[]){"--socket",
		      path, "sync", NULL});
	assert_int_equal(code, 0);
	assert_int_equal(s.syncs, 1);
	assert_int_equal(s.statuses, 4);    /* the base, then three ticks */
	/* Three updates, each from the start of the line: the rate falls
	 * (12000/s, 6000/s), so the third is padded over the first. */
	assert_non_null(strstr(out, "\rsync: 3000 entries received, 12000/s "
				    "(0.2s)"));
	assert_non_null(strstr(out, "\rsync: 3000 entries received, 6000/s "
				    "(0.5s) \r"));
	/* The last one ends with its newline (the pty shows \r\n), and
	 * the report follows it. */
	end = strstr(out, "\rsync: 3100 entries received, 4133/s (0.7s) "
			  "\r\n");
	assert_non_null(end);
	assert_string_equal(strchr(end, '\n') + 1,
			    "reconciled with 1 of 1 peers\r\n"
			    "entries:  0 sent, 3100 received, 3100 applied\r\n"
			    "bytes:    99000 in, 0 out\r\n");
	assert_null(strchr(out, '\033'));
	render(out, screen, sizeof(screen));
	assert_non_null(strstr(screen, last));
	assert_int_equal(strncmp(screen, last, strlen(last)), 0);
	assert_int_equal(screen[strlen(last)], '\n');
	free(out);
	free(piped);

	/* Standard output into a pipe, standard error on the terminal. */
	s = (struct sync_node){.hold = 0};
	out = pty_run(f, 1, &piped, &code, (const char *const[]){"--socket",
		      path, "sync", NULL});
	assert_int_equal(code, 0);
	assert_int_equal(s.syncs, 1);
	assert_int_equal(s.statuses, 0);
	assert_string_equal(out, "");
	assert_non_null(strstr(piped, "reconciled with 1 of 1 peers\n"));
	assert_null(strchr(piped, '\r'));
	free(out);
	free(piped);

	/* --json on a terminal. */
	s = (struct sync_node){.hold = 0};
	out = pty_run(f, 0, &piped, &code, (const char *const[]){"--socket",
		      path, "--json", "sync", NULL});
	assert_int_equal(code, 0);
	assert_int_equal(s.syncs, 1);
	assert_int_equal(s.statuses, 0);
	assert_null(strstr(out, "entries received"));
	assert_int_equal(out[0], '{');
	assert_json(out);
	assert_non_null(strstr(out, "\"entries_received\":3100"));
	free(out);
	free(piped);

	fake_off(f, fk);
	free(fk);
	free(path);
}

/* ------------------------------------------------------------ old nodes */

/* A node older than the wait: a write that carries one is a protocol
 * error (ERROR, then it hangs up, nothing written); the short form is
 * written, or refused as catching up when refuse is set. */
struct old_node {
	struct fixture *f;
	int refuse;
	int extended, writes;
};

static enum ctl_fake_next answer_old(struct ctl_fake *fk, int i,
				     const struct ctl_request *rq,
				     struct wire_buf *out)
{
	struct old_node *o = fk->arg;
	int rv;

	(void)i;
	if (rq->has_wait) {
		o->extended++;
		assert_int_equal(ctl_encode_error(out, RUMOR_EPROTO,
						  "control frame: 4 items, "
						  "expected 3"), 0);
		return CTL_FAKE_HANGUP;
	}
	assert_true(rq->cmd == CTL_CMD_PUT || rq->cmd == CTL_CMD_DEL);
	o->writes++;
	if (o->refuse) {
		assert_int_equal(ctl_encode_error(out, RUMOR_EREFUSED,
						  "write refused: catching "
						  "up with peers"), 0);
		return CTL_FAKE_KEEP;
	}
	rv = rq->cmd == CTL_CMD_PUT
		? rumor_put(o->f->node, rq->key, rq->key_len, rq->value,
			    rq->value_len)
		: rumor_del(o->f->node, rq->key, rq->key_len);
	assert_int_equal(rv, 0);
	assert_int_equal(ctl_encode_ok(out), 0);
	return CTL_FAKE_KEEP;
}

static void assert_value(struct fixture *f, const char *k, const char *want)
{
	void *v = NULL;
	size_t len = 0;

	if (want == NULL) {
		assert_int_equal(rumor_get(f->node, k, strlen(k), &v, &len),
				 RUMOR_ENOTFOUND);
		return;
	}
	assert_int_equal(rumor_get(f->node, k, strlen(k), &v, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
	rumor_free(v);
}

/* put and del try the wait, and on the protocol error write again
 * without it; load does the same once for the whole load: its first
 * line alone, then every line in the short form on one connection. On
 * such a node catching up, load stops at its first line, refused, with
 * the node's reason; --no-wait never sends the wait. */
static void test_an_older_node_gets_writes_without_the_wait(void **state)
{
	struct fixture *f = *state;
	struct ctl_fake *fk = calloc(1, sizeof(*fk));
	struct old_node o = {.f = f};
	char *path = tu_join(f->dir, "old.sock");
	char *lines = tu_join(f->dir, "lines");
	FILE *in = fopen(lines, "w");
	struct proc p;

	assert_non_null(fk);
	assert_non_null(in);
	fputs("a 1\nb 2\n\nc 3\nd 4\n", in);
	fclose(in);
	fake_on(f, fk, "old.sock", answer_old, &o);

	assert_int_equal(RUN_NOSOCK(&p, f, "--socket", path, "put", "k", "v"),
			 0);
	assert_string_equal(p.err, "");
	assert_int_equal(o.extended, 1);
	assert_int_equal(o.writes, 1);
	assert_value(f, "k", "v");
	assert_int_equal(RUN_NOSOCK(&p, f, "--socket", path, "del", "k"), 0);
	assert_int_equal(o.extended, 2);
	assert_int_equal(o.writes, 2);
	assert_value(f, "k", NULL);

	f->ctl_stdin = lines;
	o.extended = o.writes = 0;
	fk->connections = 0;
	assert_int_equal(RUN_NOSOCK(&p, f, "--socket", path, "--json", "load"),
			 0);
	assert_string_equal(p.out, "{\"ok\":true,\"written\":4}\n");
	assert_string_equal(p.err, "");
	assert_int_equal(o.extended, 1);     /* once for the whole load */
	assert_int_equal(o.writes, 4);
	assert_int_equal(fk->connections, 2);
	assert_value(f, "a", "1");
	assert_value(f, "d", "4");

	o.extended = o.writes = 0;
	assert_int_equal(RUN_NOSOCK(&p, f, "--socket", path, "load",
				    "--no-wait"), 0);
	assert_int_equal(o.extended, 0);
	assert_int_equal(o.writes, 4);

	/* Catching up: refused at the first line, nothing sent after. */
	o.extended = o.writes = 0;
	o.refuse = 1;
	assert_int_equal(RUN_NOSOCK(&p, f, "--socket", path, "load"), 1);
	assert_non_null(strstr(p.err, "catching up with peers"));
	assert_non_null(strstr(p.err, "load: line 1 not written (0 lines "
				      "before it were)"));
	assert_int_equal(o.extended, 1);
	assert_int_equal(o.writes, 1);
	f->ctl_stdin = NULL;

	fake_off(f, fk);
	free(fk);
	free(lines);
	free(path);
}

/* On a node of today, load sends its first line with the wait and the
 * rest after it, pipelined, with the wait too: all written. */
static void test_load_writes_every_line_with_the_wait(void **state)
{
	struct fixture *f = *state;
	char *lines = tu_join(f->dir, "lines");
	FILE *in = fopen(lines, "w");
	struct proc p;
	int i;

	assert_non_null(in);
	for (i = 0; i < 200; i++)
		fprintf(in, "l%03d %d\n", i, i);
	fclose(in);
	f->ctl_stdin = lines;
	assert_int_equal(RUN(&p, f, "--json", "load", "--wait", "5000"), 0);
	assert_string_equal(p.out, "{\"ok\":true,\"written\":200}\n");
	f->ctl_stdin = NULL;
	assert_value(f, "l000", "0");
	assert_value(f, "l199", "199");
	free(lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_writes_wait_for_catch_up_and_status_shows_it,
			setup_catching_up, teardown),
		cmocka_unit_test_setup_teardown(
			test_pipelined_writes_wait_in_order, setup_catching_up,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_scripts_get_no_warning_and_no_progress, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_a_terminal_is_warned_once_per_session, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_sync_shows_progress_on_a_terminal_only, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_an_older_node_gets_writes_without_the_wait, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_load_writes_every_line_with_the_wait, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
