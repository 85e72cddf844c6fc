/* SPDX-License-Identifier: MIT */
/* The fixture of the --offline tests: see test_offline_fixture.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rumor.h"
#include "crypto/identity.h"
#include "tests/integration/test_offline_fixture.h"
#include "tests/lib/testutil.h"

const uint8_t other_origin[STORE_ORIGIN_BYTES] = {
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

/* In a mount namespace of this process's own: a tmpfs of kib KiB on
 * dir. */
static int tmpfs_over(const char *dir, unsigned kib)
{
	char opt[32];

	snprintf(opt, sizeof opt, "size=%uk,mode=0700", kib);
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	return mount("tmpfs", dir, "tmpfs", 0, opt);
}

/* Runs rumorctl with the NULL-terminated arguments, TMPDIR = f->tmp;
 * f->out and f->err get its output. Returns its exit code. */
int ctl(struct fixture *f, ...)
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
		if (f->tmpfs_kib != 0 && tmpfs_over(f->tmp, f->tmpfs_kib) != 0)
			_exit(77);
		setenv("TMPDIR", f->tmp, 1);
		/* A run that blocks (on a FIFO, say) fails, never hangs. */
		alarm(RUN_MAX_S);
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

char *snapshot(const char *dir)
{
	char *buf = calloc(1, 1);
	size_t len = 0;

	assert_non_null(buf);
	snap_walk(dir, ".", &buf, &len);
	return buf;
}

void assert_tmp_empty(const struct fixture *f)
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
struct store *open_store_with(struct fixture *f, const char *dir,
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

struct store *open_store(struct fixture *f, const char *dir)
{
	return open_store_with(f, dir, NULL);
}

/* ------------------------------------------------------------ the data */

void node_writes(const char *dir, const char *const *replicate)
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
void remote_writes(struct fixture *f, const char *dir, const char *rep)
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

void read_origin(struct fixture *f, const char *dir)
{
	struct identity id;
	struct err err;

	err_clear(&err);
	assert_int_equal(identity_load_or_create(&id, dir, &err), 0);
	memcpy(f->origin, id.public_key, STORE_ORIGIN_BYTES);
	identity_wipe(&id);
}

int setup(void **state)
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

int teardown(void **state)
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

int tmp_has_copy(void *arg)
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

