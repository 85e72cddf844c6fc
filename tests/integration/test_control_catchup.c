/* SPDX-License-Identifier: MIT */
/*
 * test_control_catchup: what a person or a script meets while a node
 * catches up, through the built tools/rumorctl (issue 15, parts 4 to 6):
 * writes wait for catch-up to end (--wait MS, --no-wait), status shows
 * the catch-up progress and says the node is open without warning a
 * script on every call, and sync prints no progress line into a pipe.
 *
 * The node's only seed is a port nothing listens on, so it catches up
 * for its whole bound (CATCHUP_MS) and then accepts writes.
 */
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
