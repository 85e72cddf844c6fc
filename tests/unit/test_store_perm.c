/* SPDX-License-Identifier: MIT */
/* The store's directory and files (issue 11, part 5): LevelDB's files
 * come out 0600 whatever the umask, and the process umask is never
 * changed; where the filesystem has no POSIX ACLs, the directory is 0700
 * instead; a store dir another user owns or others may write is refused,
 * and the refusal changes nothing. Run both on tmpfs (when the tests
 * prefer it) and on the disk that holds the build tree. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/perm.h"
#include "store/store.h"
#include "tests/lib/testutil.h"

#define OTHER_UID 65534

struct fixture {
	char *base;         /* a fresh dir: tmpfs, or the build tree's disk */
	char *dir;          /* base/db: the store */
	mode_t umask_before;
};

static uint8_t origin[STORE_ORIGIN_BYTES] = {0x0a, 1, 2, 3};

static int setup_at(void **state, int on_disk)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	if (on_disk) {
		/* The tests run in the build tree, on the disk. */
		char tmpl[] = "store-perm-XXXXXX";
		char cwd[4096];

		assert_non_null(mkdtemp(tmpl));
		assert_non_null(getcwd(cwd, sizeof cwd));
		f->base = tu_join(cwd, tmpl);
	} else {
		f->base = tu_tmpdir("storeperm");
	}
	f->dir = tu_join(f->base, "db");
	/* The least private umask: without the ACL, LevelDB's files would
	 * come out 0644. */
	f->umask_before = umask(0);
	*state = f;
	return 0;
}

static int setup_tmp(void **state)
{
	return setup_at(state, 0);
}

static int setup_disk(void **state)
{
	return setup_at(state, 1);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	umask(f->umask_before);
	tu_rmrf(f->base);
	free(f->base);
	free(f->dir);
	free(f);
	return 0;
}

static int open_store(const char *dir, struct store **s, struct err *e)
{
	struct store_options so;

	memset(&so, 0, sizeof so);
	so.origin = origin;
	so.write_buffer_bytes = 64 * 1024;   /* flush to tables soon */
	return store_open(s, dir, &so, e);
}

static void write_many(struct store *s, int from, int n)
{
	char key[32], val[200];
	int i;

	memset(val, 'v', sizeof val);
	for (i = from; i < from + n; i++) {
		snprintf(key, sizeof key, "key-%06d", i);
		assert_int_equal(store_put(s, key, strlen(key), val, sizeof val,
					   NULL, NULL), 0);
	}
}

/* The process umask, read without changing it for longer than the
 * read. */
static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* Every entry of dir: regular files exactly 0600 (when want_files) or
 * anything; counts the files. */
static int files_private(const char *dir, int want_files)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = tu_join(dir, de->d_name);
		assert_int_equal(lstat(p, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		if (want_files && (st.st_mode & 07777) != 0600)
			fail_msg("%s is mode %04o, not 0600", p,
				 (unsigned)(st.st_mode & 07777));
		free(p);
		n++;
	}
	closedir(d);
	return n;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Whether the filesystem of dir takes a default ACL (probed on a scratch
 * directory beside it). */
static int fs_has_acls(const char *base)
{
	char *probe = tu_join(base, "acl-probe");
	int acl = 0;

	assert_int_equal(mkdir(probe, 0700), 0);
	assert_int_equal(perm_private_dir(probe, 1, &acl, NULL), 0);
	assert_int_equal(rmdir(probe), 0);
	free(probe);
	return acl;
}

static void test_files_are_0600_after_writes_compaction_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct err e;
	int n;

	err_clear(&e);
	if (open_store(f->dir, &s, &e) != 0)
		fail_msg("open: %s", e.msg);
	assert_int_equal(current_umask(), 0);
	assert_int_equal(mode_of(f->dir), 0700);
	write_many(s, 0, 2000);
	store_compact(s);
	write_many(s, 2000, 500);
	store_close(s);
	assert_int_equal(open_store(f->dir, &s, &e), 0);
	write_many(s, 2500, 500);
	store_compact(s);
	/* Live: the open log, the LOCK, the tables. */
	n = files_private(f->dir, 1);
	assert_true(n >= 5);
	store_close(s);
	files_private(f->dir, 1);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(current_umask(), 0);
	/* The ACL is what did it wherever the filesystem has them. */
	if (fs_has_acls(f->base))
		assert_int_equal(getxattr(f->dir, "system.posix_acl_default",
					  NULL, 0), 28);
}

/* A filesystem without ACLs: the fallback leaves a 0700 directory, and
 * files from before (or made since under a loose umask) are made 0600
 * at the next open. */
static void test_without_acls_the_dir_is_0700_and_old_files_are_tightened(void **state)
{
	struct fixture *f = *state;
	char *old = tu_join(f->dir, "OLD");
	char *later = tu_join(f->dir, "LATER");
	int acl = 1;

	assert_int_equal(mkdir(f->dir, 0755), 0);
	assert_int_equal(tu_write_file(old, "x", 1, 0644), 0);
	assert_int_equal(perm_private_dir(f->dir, 0, &acl, NULL), 0);
	assert_int_equal(acl, 0);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(old), 0600);
	assert_int_equal(getxattr(f->dir, "system.posix_acl_default", NULL, 0),
			 -1);
	/* A file made now keeps the umask's mode, but in a 0700 dir. */
	assert_int_equal(tu_write_file(later, "x", 1, 0666), 0);
	assert_int_equal(mode_of(later), 0666);
	assert_int_equal(perm_private_dir(f->dir, 0, &acl, NULL), 0);
	assert_int_equal(mode_of(later), 0600);
	free(old);
	free(later);
}

/* A store from before this check: LevelDB made its files 0644 under a
 * 022 umask; the next open makes them 0600. */
static void test_open_tightens_a_store_made_before(void **state)
{
	struct fixture *f = *state;
	char *log = tu_join(f->dir, "OLD-FILE");
	struct store *s;

	assert_int_equal(mkdir(f->dir, 0755), 0);
	assert_int_equal(tu_write_file(log, "x", 1, 0644), 0);
	assert_int_equal(open_store(f->dir, &s, NULL), 0);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(log), 0600);
	store_close(s);
	free(log);
}

static void expect_refused(struct fixture *f, mode_t mode, const char *what)
{
	char fix[4200];
	struct store *s = NULL;
	struct err e;

	err_clear(&e);
	assert_int_equal(open_store(f->dir, &s, &e), RUMOR_ECONFIG);
	assert_null(s);
	snprintf(fix, sizeof fix, "chmod 700 %s", f->dir);
	if (strstr(e.msg, what) == NULL || strstr(e.msg, fix) == NULL ||
	    strstr(e.msg, "store dir") == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", e.msg, what,
			 fix);
	/* Nothing changed: no file made, the mode as it was. */
	assert_int_equal(files_private(f->dir, 0), 0);
	assert_int_equal(mode_of(f->dir), mode);
}

static void test_dir_writable_by_others_is_refused_and_left_as_is(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->dir, 0775), 0);
	expect_refused(f, 0775, "group-writable (mode 0775)");
	assert_int_equal(chmod(f->dir, 0757), 0);
	expect_refused(f, 0757, "world-writable (mode 0757)");
	assert_int_equal(chmod(f->dir, 01777), 0);
	expect_refused(f, 01777, "group- and world-writable (mode 1777)");
}

static void test_dir_of_another_user_is_refused(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct err e;

	if (geteuid() != 0) {
		print_message("skipped: only root can give a file to another "
			      "user (uid %u here)\n", (unsigned)geteuid());
		skip();
	}
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chown(f->dir, OTHER_UID, (gid_t)-1), 0);
	assert_int_equal(open_store(f->dir, &s, &e), RUMOR_ECONFIG);
	assert_non_null(strstr(e.msg, "owned by uid 65534"));
	assert_non_null(strstr(e.msg, "chown 0"));
	assert_int_equal(files_private(f->dir, 0), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup_tmp, teardown)
#define D(name) cmocka_unit_test_setup_teardown(name, setup_disk, teardown)
	const struct CMUnitTest tests[] = {
		T(test_files_are_0600_after_writes_compaction_and_reopen),
		D(test_files_are_0600_after_writes_compaction_and_reopen),
		T(test_without_acls_the_dir_is_0700_and_old_files_are_tightened),
		T(test_open_tightens_a_store_made_before),
		T(test_dir_writable_by_others_is_refused_and_left_as_is),
		T(test_dir_of_another_user_is_refused),
	};
#undef T
#undef D

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
