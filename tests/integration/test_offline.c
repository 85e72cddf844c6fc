/* SPDX-License-Identifier: MIT */
/* rumorctl --offline DATA (issue 15): a data dir built by a real node
 * (local writes and deletes, a second origin applied as replication
 * applies it), closed, copied; every offline command run on the copy
 * (the rumorctl binary, as an operator runs it) answers from it and
 * changes nothing in it (each file's bytes, size and mtime, and the
 * listing); check finds each invariant broken on purpose; a data dir
 * held by a process is refused; bad DATA paths get clear errors; the
 * private copy never outlives rumorctl. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "rumor.h"
#include "crypto/identity.h"
#include "lib/endian.h"
#include "store/store.h"
#include "tests/lib/testutil.h"

#define OUT_MAX (1u << 20)

struct fixture {
	char *base;
	char *node_dir;     /* base/node: the closed node's data dir */
	char *dir;          /* base/copy: the copy the tests inspect */
	char *tmp;          /* base/tmp: rumorctl's TMPDIR */
	char *out, *err;    /* the last run's standard output and error */
	uint8_t origin[STORE_ORIGIN_BYTES];
};

static const uint8_t other_origin[STORE_ORIGIN_BYTES] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};

/* ------------------------------------------------------------ helpers */

static char *read_file(const char *path)
{
	char *buf = calloc(1, OUT_MAX + 1);
	ssize_t n = 0, got;
	int fd = open(path, O_RDONLY);

	assert_non_null(buf);
	if (fd < 0)
		return buf;
	while ((size_t)n < OUT_MAX &&
	       (got = read(fd, buf + n, OUT_MAX - (size_t)n)) > 0)
		n += got;
	close(fd);
	return buf;
}

/* Runs rumorctl with the NULL-terminated arguments, TMPDIR = f->tmp;
 * f->out and f->err get its output. Returns its exit code. */
static int ctl(struct fixture *f, ...)
{
	char *argv[32], *bin = tu_builddir_path("tools/rumorctl");
	char *outp = tu_join(f->base, "ctl.out"), *errp = tu_join(f->base, "ctl.err");
	int status, n = 1;
	va_list ap;
	pid_t pid;

	argv[0] = bin;
	va_start(ap, f);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		setenv("TMPDIR", f->tmp, 1);
		execv(bin, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(f->out);
	free(f->err);
	f->out = read_file(outp);
	f->err = read_file(errp);
	free(outp);
	free(errp);
	free(bin);
	assert_true(WIFEXITED(status));
	/* RUMOR_TEST_VERBOSE=1: every run's output, to see a failure. */
	if (getenv("RUMOR_TEST_VERBOSE") != NULL)
		fprintf(stderr, "# rumorctl %s %s %s: exit %d\n%s%s", argv[1],
			argv[2], n > 3 ? argv[3] : "", WEXITSTATUS(status),
			f->out, f->err);
	return WEXITSTATUS(status);
}

/* Every entry under dir: path, type, size, mtime (ns) and an FNV-1a
 * hash of the bytes of each file, appended to *buf. */
static void snap_walk(const char *dir, const char *rel, char **buf,
		      size_t *len)
{
	struct dirent **names;
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		char *path, *sub, line[1024];
		uint64_t h = 1469598103934665603ull;
		struct stat st;

		if (strcmp(names[i]->d_name, ".") == 0 ||
		    strcmp(names[i]->d_name, "..") == 0) {
			free(names[i]);
			continue;
		}
		path = tu_join(dir, names[i]->d_name);
		sub = tu_join(rel, names[i]->d_name);
		assert_int_equal(lstat(path, &st), 0);
		if (S_ISREG(st.st_mode)) {
			char *bytes = read_file(path);

			for (off_t k = 0; k < st.st_size && k < OUT_MAX; k++)
				h = (h ^ (uint8_t)bytes[k]) * 1099511628211ull;
			free(bytes);
		}
		snprintf(line, sizeof line, "%s %o %lld %lld.%09ld %016llx\n",
			 sub, (unsigned)st.st_mode, (long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			 (unsigned long long)h);
		*buf = realloc(*buf, *len + strlen(line) + 1);
		assert_non_null(*buf);
		memcpy(*buf + *len, line, strlen(line) + 1);
		*len += strlen(line);
		if (S_ISDIR(st.st_mode))
			snap_walk(path, sub, buf, len);
		free(path);
		free(sub);
		free(names[i]);
	}
	free(names);
}

static char *snapshot(const char *dir)
{
	char *buf = calloc(1, 1);
	size_t len = 0;

	assert_non_null(buf);
	snap_walk(dir, ".", &buf, &len);
	return buf;
}

static void assert_tmp_empty(const struct fixture *f)
{
	DIR *d = opendir(f->tmp);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			fail_msg("a private copy was left in TMPDIR: %s",
				 e->d_name);
	closedir(d);
}

static void copy_tree(const char *from, const char *to)
{
	char cmd[4096];

	snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

/* Opens the store of data dir dir directly (tests only), as its node
 * does, with replicate set rep (NULL: every key). */
static struct store *open_store_with(struct fixture *f, const char *dir,
				     const char *rep)
{
	struct store_options so;
	struct prefixes p;
	struct store *s;
	struct err err;
	char *db = tu_join(dir, "db");
	const void *bytes[1] = {rep};
	size_t len = rep != NULL ? strlen(rep) : 0;

	memset(&so, 0, sizeof so);
	memset(&p, 0, sizeof p);
	err_clear(&err);
	assert_int_equal(prefixes_set(&p, bytes, &len, rep != NULL ? 1 : 0,
				      "replicate", &err), 0);
	so.origin = f->origin;
	so.filter = &p;
	assert_int_equal(store_open(&s, db, &so, &err), 0);
	assert_int_equal(store_filter_opened(s, NULL), STORE_FILTER_SAME);
	prefixes_free(&p);
	free(db);
	return s;
}

static struct store *open_store(struct fixture *f, const char *dir)
{
	return open_store_with(f, dir, NULL);
}

/* ------------------------------------------------------------ the data */

static void node_writes(const char *dir, const char *const *replicate)
{
	size_t rlen = replicate != NULL ? strlen(replicate[0]) : 0;
	const void *rep[1] = {replicate != NULL ? replicate[0] : NULL};
	struct rumor_options o;
	struct rumor *n;
	char msg[256];

	rumor_options_init(&o);
	o.data_dir = dir;
	o.no_multicast = 1;
	if (replicate != NULL) {
		o.replicate = rep;
		o.replicate_len = &rlen;
		o.n_replicate = 1;
	}
	assert_int_equal(rumor_open(&n, &o, msg, sizeof msg), 0);
	assert_int_equal(rumor_put(n, "user/1", 6, "alice", 5), 0);
	assert_int_equal(rumor_put(n, "user/2", 6, "bob", 3), 0);
	assert_int_equal(rumor_put(n, "user/3", 6, "carol", 5), 0);
	assert_int_equal(rumor_put(n, "user/gone", 9, "soon", 4), 0);
	assert_int_equal(rumor_del(n, "user/gone", 9), 0);
	if (replicate == NULL)
		assert_int_equal(rumor_put(n, "\x01\xff", 2, "\x00\x02", 2), 0);
	rumor_close(n, NULL, NULL);
}

/* Two versions of another origin, as a completed stream applies them. */
static void remote_writes(struct fixture *f, const char *dir, const char *rep)
{
	struct rumor_version v[2];
	struct store_hwm raise;
	struct store *s = open_store_with(f, dir, rep);
	struct err err;

	memset(v, 0, sizeof v);
	v[0].key = "user/remote";
	v[0].key_len = 11;
	v[0].value = "far";
	v[0].value_len = 3;
	v[0].clock = 1;
	v[0].wall_ms = 1700000000000ull;
	v[0].origin = other_origin;
	v[0].origin_len = STORE_ORIGIN_BYTES;
	v[0].seq = 1;
	v[1] = v[0];
	v[1].key = "user/2";
	v[1].key_len = 6;
	v[1].value = "bob-remote";
	v[1].value_len = 10;
	v[1].clock = 100;     /* beats the local version */
	v[1].seq = 2;
	memcpy(raise.origin, other_origin, STORE_ORIGIN_BYTES);
	raise.seq = 2;
	err_clear(&err);
	assert_int_equal(store_apply_batch(s, v, 2, &raise, 1, NULL, &err), 0);
	store_close(s);
}

static void read_origin(struct fixture *f, const char *dir)
{
	struct identity id;
	struct err err;

	err_clear(&err);
	assert_int_equal(identity_load_or_create(&id, dir, &err), 0);
	memcpy(f->origin, id.public_key, STORE_ORIGIN_BYTES);
	identity_wipe(&id);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->base = tu_tmpdir("offline");
	f->node_dir = tu_join(f->base, "node");
	f->dir = tu_join(f->base, "copy");
	f->tmp = tu_join(f->base, "tmp");
	assert_int_equal(mkdir(f->tmp, 0700), 0);
	node_writes(f->node_dir, NULL);
	read_origin(f, f->node_dir);
	remote_writes(f, f->node_dir, NULL);
	copy_tree(f->node_dir, f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	chmod(f->dir, 0700);
	tu_rmrf(f->base);
	free(f->base);
	free(f->node_dir);
	free(f->dir);
	free(f->tmp);
	free(f->out);
	free(f->err);
	free(f);
	return 0;
}

/* ------------------------------------------------------------ tests */

/* Each command: its output, and the data dir exactly as it was. */
static void test_offline_commands_answer_and_change_nothing(void **state)
{
	struct fixture *f = *state;
	char id[IDENTITY_ID_STRLEN], *before = snapshot(f->dir), *after;

	identity_id_string(f->origin, id);
	assert_int_equal(ctl(f, "--offline", f->dir, "get", "user/1", NULL), 0);
	assert_string_equal(f->out, "alice\n");
	assert_int_equal(ctl(f, "--offline", f->dir, "get", "user/2", NULL), 0);
	assert_string_equal(f->out, "bob-remote\n");
	assert_int_equal(ctl(f, "--offline", f->dir, "--hex", "get", "01ff",
			     NULL), 0);
	assert_string_equal(f->out, "0002\n");
	assert_int_equal(ctl(f, "--offline", f->dir, "get", "user/gone", NULL), 1);
	assert_non_null(strstr(f->err, "not found"));
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "get", "user/3",
			     NULL), 0);
	assert_string_equal(f->out, "{\"key\":\"user/3\",\"value\":\"carol\"}\n");

	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "scan", "user/",
			     NULL), 0);
	assert_string_equal(f->out,
			    "[\n{\"key\":\"user/1\",\"value\":\"alice\"},\n"
			    "{\"key\":\"user/2\",\"value\":\"bob-remote\"},\n"
			    "{\"key\":\"user/3\",\"value\":\"carol\"},\n"
			    "{\"key\":\"user/remote\",\"value\":\"far\"}\n]\n");
	assert_int_equal(ctl(f, "--offline", f->dir, "scan", "--limit", "1",
			     NULL), 0);
	assert_string_equal(f->out, "0x01ff  0x0002\n");
	assert_non_null(strstr(f->err, "limit of 1"));

	assert_int_equal(ctl(f, "--offline", f->dir, "version", "user/2", NULL), 0);
	assert_non_null(strstr(f->out, "clock:     100\n"));
	assert_non_null(strstr(f->out, "seq:       2\n"));
	assert_int_equal(ctl(f, "--offline", f->dir, "version", "user/gone",
			     NULL), 0);
	assert_non_null(strstr(f->out, "deleted:   yes\n"));
	assert_int_equal(ctl(f, "--offline", f->dir, "version", "never", NULL), 1);

	/* log: per origin, newest first; the own origin's last seq is 6
	 * (its seq 2, user/2, was replaced by the remote version). */
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "log", NULL), 0);
	assert_non_null(strstr(f->out, "\"seq\":6"));
	assert_null(strstr(f->out, "\"seq\":7"));
	assert_int_equal(ctl(f, "--offline", f->dir, "log", "--limit", "1", NULL), 0);
	assert_non_null(strstr(f->out, "put  0x01ff"));
	assert_non_null(strstr(f->out, "put  user/2"));
	assert_null(strstr(f->out, "user/1"));
	/* log --since: the feed after a position, in position order. */
	assert_int_equal(ctl(f, "--offline", f->dir, "log", "--since", "0", NULL), 0);
	assert_non_null(strstr(f->out, "user/remote = far"));
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "log", "--since",
			     "6", NULL), 0);
	assert_non_null(strstr(f->out, "{\"pos\":7,"));
	assert_null(strstr(f->out, "{\"pos\":6,"));

	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "status", NULL), 0);
	assert_non_null(strstr(f->out, "\"offline\":true"));
	assert_non_null(strstr(f->out, id));
	assert_non_null(strstr(f->out, "\"schema\":3,\"local_seq\":6"));
	assert_non_null(strstr(f->out, "\"counters\":{\"keys\":5,"
			       "\"tombstones\":1,\"log_entries\":6}"));
	assert_non_null(strstr(f->out, "\"seq\":2}"));
	assert_non_null(strstr(f->out, "\"hwm_total\":2"));
	assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 0);
	assert_non_null(strstr(f->out, "keys:        5 live, 1 tombstones\n"));
	assert_non_null(strstr(f->out, "(this node)"));

	assert_int_equal(ctl(f, "--offline", f->dir, "check", NULL), 0);
	assert_non_null(strstr(f->out, "ok: every invariant holds"));
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "check", NULL), 0);
	assert_non_null(strstr(f->out, "{\"broken\":[],\"ok\":true"));

	after = snapshot(f->dir);
	assert_string_equal(before, after);
	assert_tmp_empty(f);
	free(after);
	/* The snapshot does see what opening the store in place does
	 * (LOCK, LOG, a new MANIFEST): the comparison above can fail. */
	store_close(open_store(f, f->dir));
	after = snapshot(f->dir);
	assert_string_not_equal(before, after);
	free(before);
	free(after);
}

/* A node that replicates only user/ keeps its set and HWMs offline: an
 * open with another set would have dropped keys or reset HWMs. */
static void test_offline_keeps_the_replicate_set(void **state)
{
	struct fixture *f = *state;
	const char *const rep[] = {"user/"};
	char *dir = tu_join(f->base, "partial");

	node_writes(dir, rep);
	read_origin(f, dir);
	remote_writes(f, dir, rep[0]);
	assert_int_equal(ctl(f, "--offline", dir, "--json", "status", NULL), 0);
	assert_non_null(strstr(f->out, "\"replicate\":[\"user/\"]"));
	assert_non_null(strstr(f->out, "\"hwm_total\":2"));
	assert_non_null(strstr(f->out, "\"seq\":2}"));
	assert_int_equal(ctl(f, "--offline", dir, "check", NULL), 0);
	free(dir);
}

/* Broken on purpose, through the raw test hooks: every invariant
 * broken is listed, one a line, and check exits 1. */
static void test_offline_check_lists_each_broken_invariant(void **state)
{
	struct fixture *f = *state;
	struct store_record *rec;
	struct store *s = open_store(f, f->dir);
	char lk[1 + STORE_ORIGIN_BYTES + 8], fk[9];
	struct err err;
	char *before;

	/* user/1's log entry goes: a meta without its log entry. */
	err_clear(&err);
	assert_int_equal(store_get_version(s, "user/1", 6, &rec, &err), 0);
	lk[0] = 'l';
	memcpy(lk + 1, rec->v.origin, STORE_ORIGIN_BYTES);
	endian_put_be64((uint8_t *)lk + 1 + STORE_ORIGIN_BYTES, rec->v.seq);
	store_record_free(rec);
	assert_int_equal(store_debug_raw_del(s, lk, sizeof lk, &err), 0);
	/* A feed entry naming a key that has no meta. */
	fk[0] = 'f';
	endian_put_be64((uint8_t *)fk + 1, 3);
	assert_int_equal(store_debug_raw_put(s, fk, sizeof fk, "ghost", 5,
					     &err), 0);
	store_close(s);

	before = snapshot(f->dir);
	assert_int_equal(ctl(f, "--offline", f->dir, "check", NULL), 1);
	assert_non_null(strstr(f->out, "meta without its log entry (key "));
	assert_non_null(strstr(f->out, "feed entry of a key without meta"));
	assert_non_null(strstr(f->out, "log entries are not one per key\n"));
	assert_null(strstr(f->out, "ok:"));
	assert_non_null(strstr(f->err, "broken invariants"));
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "check", NULL), 1);
	assert_non_null(strstr(f->out, "\"ok\":false"));
	assert_non_null(strstr(f->out, "\"meta without its log entry"));
	{
		char *after = snapshot(f->dir);

		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	assert_tmp_empty(f);
}

/* A store that does not even open (an unreadable meta): that is the
 * fault check reports; other commands fail with the reason. */
static void test_offline_check_reports_a_store_that_does_not_open(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_store(f, f->dir);
	struct err err;

	err_clear(&err);
	assert_int_equal(store_debug_raw_put(s, "mbroken", 7, "x", 1, &err), 0);
	store_close(s);
	assert_int_equal(ctl(f, "--offline", f->dir, "check", NULL), 1);
	assert_non_null(strstr(f->out, "unreadable meta"));
	assert_non_null(strstr(f->out, f->dir));      /* DATA, not the copy */
	assert_null(strstr(f->out, f->tmp));
	assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 3);
	assert_non_null(strstr(f->err, "unreadable meta"));
	assert_non_null(strstr(f->err, "check lists what is wrong"));
	assert_tmp_empty(f);
}

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

static int tmp_has_copy(void *arg)
{
	const struct fixture *f = arg;
	DIR *d = opendir(f->tmp);
	struct dirent *e;
	int found = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		found |= strncmp(e->d_name, "rumorctl-offline.", 17) == 0;
	closedir(d);
	return found;
}

/* Interrupted while it answers (its output blocked on a full pipe):
 * rumorctl ends with 128 + the signal, and the private copy goes. */
static void test_offline_interrupted_leaves_no_copy(void **state)
{
	struct fixture *f = *state;
	char *bin = tu_builddir_path("tools/rumorctl"), value[1000];
	struct rumor_options o;
	struct rumor *n;
	char msg[256], key[32];
	int out[2], status, i;
	pid_t pid;

	rumor_options_init(&o);
	o.data_dir = f->dir;
	o.no_multicast = 1;
	assert_int_equal(rumor_open(&n, &o, msg, sizeof msg), 0);
	memset(value, 'v', sizeof value);
	for (i = 0; i < 400; i++) {      /* 400 KB of scan: > a pipe */
		snprintf(key, sizeof key, "big/%04d", i);
		assert_int_equal(rumor_put(n, key, strlen(key), value,
					   sizeof value), 0);
	}
	rumor_close(n, NULL, NULL);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		setenv("TMPDIR", f->tmp, 1);
		execl(bin, bin, "--offline", f->dir, "scan", "big/", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	assert_true(tu_wait_for(tmp_has_copy, NULL, f, 10000));
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(out[0]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
	assert_tmp_empty(f);
	free(bin);
}

static void test_offline_bad_data_paths(void **state)
{
	struct fixture *f = *state;
	char *missing = tu_join(f->base, "missing");
	char *file = tu_join(f->base, "file");
	char *empty = tu_join(f->base, "empty");
	char *current = tu_join(f->dir, "db/CURRENT");

	assert_int_equal(ctl(f, "--offline", missing, "status", NULL), 3);
	assert_non_null(strstr(f->err, "No such file or directory"));
	assert_int_equal(tu_write_file(file, "x", 1, 0600), 0);
	assert_int_equal(ctl(f, "--offline", file, "status", NULL), 3);
	assert_non_null(strstr(f->err, "is not a directory"));
	assert_int_equal(mkdir(empty, 0700), 0);
	assert_int_equal(ctl(f, "--offline", empty, "check", NULL), 3);
	assert_non_null(strstr(f->err, "is not a rumor data dir"));
	assert_int_equal(ctl(f, "--offline", f->dir, "frobnicate", NULL), 2);
	assert_int_equal(ctl(f, "--offline", f->dir, "put", "k", "v", NULL), 2);
	assert_non_null(strstr(f->err, "with --offline"));
	assert_int_equal(ctl(f, "--data", f->dir, "check", NULL), 2);
	assert_non_null(strstr(f->err, "rumorctl --offline DATA check"));
	if (geteuid() != 0) {
		/* root reads anything: no refusal to see. */
		char *db = tu_join(f->dir, "db");

		assert_int_equal(chmod(db, 0), 0);
		assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 3);
		assert_non_null(strstr(f->err, "Permission denied"));
		assert_int_equal(chmod(db, 0700), 0);
		free(db);
	}
	/* A torn LevelDB: LevelDB's reason, naming DATA. */
	assert_int_equal(tu_write_file(current, "garbage\n", 8, 0600), 0);
	assert_int_not_equal(ctl(f, "--offline", f->dir, "status", NULL), 0);
	assert_non_null(strstr(f->err, f->dir));
	assert_null(strstr(f->err, f->tmp));
	assert_tmp_empty(f);
	free(missing);
	free(file);
	free(empty);
	free(current);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_offline_commands_answer_and_change_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_keeps_the_replicate_set, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_check_lists_each_broken_invariant, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_check_reports_a_store_that_does_not_open,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_refuses_a_held_data_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_interrupted_leaves_no_copy, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_offline_bad_data_paths,
						setup, teardown),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
