/* SPDX-License-Identifier: MIT */
/* rumorctl --offline DATA, its safety: a data dir a process holds is
 * refused; only regular files are read in DATA (a link, a FIFO, a
 * directory in DATA/db refused before anything is copied); the copy
 * must fit in TMPDIR; the private copy never outlives rumorctl, however
 * it ends. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rumor.h"
#include "tests/integration/test_offline_fixture.h"
#include "tests/lib/testutil.h"

/* ------------------------------------------------------------ tests */

/* A process with a librumor node open on the data dir makes every
 * offline command refuse, changing nothing. */
static void test_offline_refuses_a_held_data_dir(void **state)
{
	struct fixture *f = *state;
	char *before = snapshot(f->dir), *after, c;
	int ready[2], release[2], status;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rumor_options o;
		struct rumor *n;
		char msg[256];

		rumor_options_init(&o);
		o.data_dir = f->dir;
		o.no_multicast = 1;
		close(ready[0]);
		close(release[1]);
		if (rumor_open(&n, &o, msg, sizeof msg) != 0 ||
		    write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(release[0], &c, 1) < 0)
			_exit(1);
		rumor_close(n, NULL, NULL);
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	free(before);
	before = snapshot(f->dir);    /* with the holder's own files */
	assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 3);
	assert_non_null(strstr(f->err, "is in use"));
	assert_int_equal(ctl(f, "--offline", f->dir, "check", NULL), 3);
	assert_int_equal(ctl(f, "--offline", f->dir, "get", "user/1", NULL), 3);
	after = snapshot(f->dir);
	assert_string_equal(before, after);
	free(after);
	close(release[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready[0]);
	/* Released: it opens. */
	assert_int_equal(ctl(f, "--offline", f->dir, "get", "user/1", NULL), 0);
	free(before);
	assert_tmp_empty(f);
}

/* The pid of the worker of rumorctl pid (its one child), or 0. */
static pid_t worker_of(pid_t pid)
{
	char path[64], buf[64] = "";
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return 0;
	if (fgets(buf, sizeof buf, fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	return (pid_t)atoi(buf);
}

struct run {
	const struct fixture *f;
	pid_t pid;
};

static int worker_with_copy(void *arg)
{
	const struct run *r = arg;

	return tmp_has_copy((void *)r->f) && worker_of(r->pid) > 0;
}

/* The mask of process pid's status line name ("SigCgt:", "SigIgn:"), or
 * 0. */
static unsigned long long sig_mask(pid_t pid, const char *name)
{
	char path[64], line[256];
	unsigned long long m = 0;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL)
		if (strncmp(line, name, strlen(name)) == 0)
			m = strtoull(line + strlen(name), NULL, 16);
	fclose(fp);
	return m;
}

#define SIG_BIT(sig) (1ull << ((sig) - 1))

/* rumorctl's handlers are in place: SIGTERM's is the last it sets. */
static int catches_term(void *arg)
{
	const struct run *r = arg;

	return (sig_mask(r->pid, "SigCgt:") & SIG_BIT(SIGTERM)) != 0;
}

/* A scan of 400 KB (more than a pipe holds, its reader never reads):
 * sig to rumorctl (worker: to the process that answers) once its copy
 * is there; rumorctl ends with 128 + sig, and the copy goes. */
static void interrupt_scan(struct fixture *f, int sig, int worker,
			   int hup_ignored)
{
	char *bin = tu_builddir_path("tools/rumorctl");
	struct run r = {f, 0};
	int out[2], status;

	assert_int_equal(pipe(out), 0);
	r.pid = fork();
	assert_true(r.pid >= 0);
	if (r.pid == 0) {
		sigset_t none;

		/* As from a shell at a terminal, whatever ran this test
		 * (nohup ignores SIGHUP, and the ignoring is inherited). */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, hup_ignored ? SIG_IGN : SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		setenv("TMPDIR", f->tmp, 1);
		execl(bin, bin, "--offline", f->dir, "scan", "big/", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	assert_true(tu_wait_for(worker_with_copy, NULL, &r, 10000));
	if (hup_ignored) {
		/* Started under nohup: a hangup stays ignored (forwarded,
		 * it would end nothing, the worker ignoring it too, and
		 * the parent would wait on). */
		assert_true(tu_wait_for(catches_term, NULL, &r, 10000));
		assert_true(sig_mask(r.pid, "SigIgn:") & SIG_BIT(SIGHUP));
		assert_false(sig_mask(r.pid, "SigCgt:") & SIG_BIT(SIGHUP));
	}
	assert_int_equal(kill(worker ? worker_of(r.pid) : r.pid, sig), 0);
	assert_int_equal(waitpid(r.pid, &status, 0), r.pid);
	close(out[0]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 128 + sig);
	assert_tmp_empty(f);
	free(bin);
}

/* Interrupted while it answers (SIGINT, SIGTERM, SIGHUP), or its worker
 * killed outright: the private copy never stays. Under nohup, SIGHUP
 * stays ignored. */
static void test_offline_interrupted_leaves_no_copy(void **state)
{
	struct fixture *f = *state;
	struct rumor_options o;
	struct rumor *n;
	char msg[256], key[32], value[1000];
	int i;

	rumor_options_init(&o);
	o.data_dir = f->dir;
	o.no_multicast = 1;
	assert_int_equal(rumor_open(&n, &o, msg, sizeof msg), 0);
	memset(value, 'v', sizeof value);
	for (i = 0; i < 400; i++) {
		snprintf(key, sizeof key, "big/%04d", i);
		assert_int_equal(rumor_put(n, key, strlen(key), value,
					   sizeof value), 0);
	}
	rumor_close(n, NULL, NULL);
	interrupt_scan(f, SIGTERM, 0, 0);
	interrupt_scan(f, SIGINT, 0, 0);
	interrupt_scan(f, SIGHUP, 0, 0);
	interrupt_scan(f, SIGKILL, 1, 0);
	interrupt_scan(f, SIGTERM, 0, 1);
}

/* Only regular files are read in DATA: a symbolic link in db/ (it could
 * lead outside DATA), a FIFO (opening it would block), a directory are
 * refused before anything is copied, DATA unchanged; a node.key that is
 * not a regular file is a warning. */
static void test_offline_refuses_links_and_special_files(void **state)
{
	struct fixture *f = *state;
	char *outside = tu_join(f->base, "outside");
	char *table = tu_join(f->dir, "db/000999.ldb");
	char *lock = tu_join(f->dir, "db/LOCK");
	char *key = tu_join(f->dir, "node.key"), *key_real;
	char *before, *after;

	key_real = tu_join(f->dir, "node.key.real");
	assert_int_equal(tu_write_file(outside, "not a table", 11, 0600), 0);
	assert_int_equal(symlink(outside, table), 0);
	before = snapshot(f->dir);
	assert_int_equal(ctl(f, "--offline", f->dir, "get", "user/1", NULL), 3);
	assert_non_null(strstr(f->err, "000999.ldb: a symbolic link: refused"));
	after = snapshot(f->dir);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_tmp_empty(f);
	assert_int_equal(unlink(table), 0);

	assert_int_equal(mkfifo(table, 0600), 0);
	assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 3);
	assert_non_null(strstr(f->err, "not a regular file: refused"));
	assert_int_equal(unlink(table), 0);
	assert_int_equal(mkdir(table, 0700), 0);
	assert_int_equal(ctl(f, "--offline", f->dir, "check", NULL), 3);
	assert_non_null(strstr(f->err, "not a regular file: refused"));
	assert_int_equal(rmdir(table), 0);
	/* The lock: asked about only through a regular file. */
	unlink(lock);
	assert_int_equal(symlink(outside, lock), 0);
	assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 3);
	assert_non_null(strstr(f->err, "LOCK: cannot open it"));
	assert_non_null(strstr(f->err, "a symbolic link"));
	assert_int_equal(unlink(lock), 0);
	/* node.key a FIFO: read never, the store still answers. */
	assert_int_equal(rename(key, key_real), 0);
	assert_int_equal(mkfifo(key, 0600), 0);
	assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 0);
	assert_non_null(strstr(f->err, "node.key: not a regular file"));
	assert_non_null(strstr(f->out, "unknown (no readable node.key)"));
	assert_tmp_empty(f);
	free(outside);
	free(table);
	free(lock);
	free(key);
	free(key_real);
}

/* A store that does not fit in TMPDIR: refused before a byte is
 * copied, with what it needs; with room, the same command answers. */
static void test_offline_copy_must_fit_in_tmpdir(void **state)
{
	struct fixture *f = *state;
	int rv;

	f->tmpfs_kib = 256;     /* less than the store and its slack */
	rv = ctl(f, "--offline", f->dir, "status", NULL);
	if (rv == 77) {
		f->tmpfs_kib = 0;
		skip();         /* no mount namespace for this user */
	}
	assert_int_equal(rv, 3);
	assert_non_null(strstr(f->err, "the copy of "));
	assert_non_null(strstr(f->err, " bytes free (set TMPDIR"));
	f->tmpfs_kib = 16384;
	assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 0);
	f->tmpfs_kib = 0;
	assert_tmp_empty(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_offline_refuses_a_held_data_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_interrupted_leaves_no_copy, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_refuses_links_and_special_files, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_copy_must_fit_in_tmpdir, setup, teardown),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
