/* SPDX-License-Identifier: MIT */
/* The fixture of the control socket tests (test_control*.c): a node
 * (rumor_open) on the test's own loop with its control socket in a
 * temporary directory, the built tools/rumorctl run as a child process
 * while the test pumps the loop, raw clients that speak the control
 * protocol, and a check that output is one JSON value. Every helper
 * fails the test on an error. */
#ifndef RUMOR_TEST_CONTROL_FIXTURE_H
#define RUMOR_TEST_CONTROL_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/types.h>
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
	/* Called by step_loop after each turn of the loop when set: what
	 * else the test serves while rumorctl runs (a fake control
	 * socket). */
	void (*also_step)(void *arg);
	void *also_arg;
	/* When set, the file the next rumorctl reads as standard input
	 * (else it inherits the test's). */
	const char *ctl_stdin;
};

/* cmocka setup: *state is a struct fixture whose node and control
 * socket run on f->loop; teardown closes both, checks the socket file is
 * gone and the loop has no handle left, and deletes the directory. */
int setup(void **state);
/* The same, with tune (if not NULL) changing the node's options before
 * rumor_open (e.g. strong consistency). */
int setup_tuned(void **state, void (*tune)(struct rumor_options *o));
int teardown(void **state);
/* One non-blocking turn of the loop (a short pause when it is idle). */
void step_loop(void *arg);
/* A close callback: sets the int at arg to 1. */
void on_ctl_closed(void *arg);
/* rumor_put of two strings on the node. */
void put(struct fixture *f, const char *k, const char *v);

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

/* Starts rumorctl with args (NULL-terminated), after `--socket SOCK`
 * unless socket_too is 0; proc_step turns the loop and reads its output,
 * proc_finish waits (at most DEADLINE_MS, then kills it and fails) and
 * reads the rest. */
void proc_start(struct proc *p, struct fixture *f, int socket_too,
		const char *const *args);
void proc_step(void *arg);
void proc_finish(struct proc *p);

/* Runs rumorctl to the end; returns its exit code. */
#define RUN(p, f, ...)                                                 \
	run_ctl((p), (f), 1, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_NOSOCK(p, f, ...)                                          \
	run_ctl((p), (f), 0, (const char *const[]){__VA_ARGS__, NULL})
int run_ctl(struct proc *p, struct fixture *f, int socket_too,
	    const char *const *args);

/* Fails unless s is exactly one JSON value (and a newline). */
void assert_json(const char *s);

/* A raw client of the control socket: raw_init connects, raw_free
 * closes; raw_step turns the loop and reads what is there. */
struct raw {
	struct fixture *f;
	int fd;
	uint8_t *buf;
	size_t len, cap;
	int eof;
};

void raw_init(struct raw *r, struct fixture *f);
void raw_free(struct raw *r);
void raw_step(void *arg);
/* Sends n bytes, or one encoded request, on fd whole. */
void raw_send(int fd, const void *p, size_t n);
void raw_request(int fd, const struct ctl_request *rq);
/* Next reply; returns 0, or 1 at EOF. The reply points into *body (freed
 * and replaced by each call; the caller frees the last). */
int raw_reply(struct raw *r, struct ctl_reply *rp, uint8_t **body);

#endif
