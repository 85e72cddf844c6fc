/* SPDX-License-Identifier: MIT */
/* A node's data dir, as an embedding program or rumord meets it (issue
 * 11, part 5): made 0700 when missing; refused, with the problem and the
 * fix in the message and nothing changed, when another user owns it or
 * others may write it; everything the node writes in it private to the
 * owner (node.key, the control socket, the store's files), and the
 * process umask never changed by rumor_open or rumor_close. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "rumor.h"
#include "tests/lib/testutil.h"

#define OTHER_UID 65534

struct fixture {
	char *base;
	char *dir;          /* base/data: the data dir */
	mode_t umask_before;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->base = tu_tmpdir("datadir");
	f->dir = tu_join(f->base, "data");
	f->umask_before = umask(022);
	*state = f;
	return 0;
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

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static int open_node(const char *dir, struct rumor **n, char *msg,
		     size_t len)
{
	struct rumor_options o;

	rumor_options_init(&o);
	o.data_dir = dir;
	o.control_socket = 1;
	o.no_multicast = 1;
	return rumor_open(n, &o, msg, len);
}

/* Walks dir: no entry may give anything to group or others; returns the
 * number of entries (directories included). */
static int walk_private(const char *dir)
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
		if (st.st_mode & 077)
			fail_msg("%s is mode %04o: open to group or others", p,
				 (unsigned)(st.st_mode & 07777));
		if (S_ISDIR(st.st_mode))
			n += walk_private(p);
		free(p);
		n++;
	}
	closedir(d);
	return n;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_missing_data_dir_is_made_0700_and_all_in_it_is_private(void **state)
{
	struct fixture *f = *state;
	char msg[RUMOR_ERRMSG_MAX];
	char *nested = tu_join(f->dir, "a/b");
	char *sock = tu_join(nested, "control.sock");
	struct rumor *n;
	char key[16];
	int i;

	/* The loosest umask: rumor must not rely on it, nor change it. */
	umask(0);
	if (open_node(nested, &n, msg, sizeof msg) != 0)
		fail_msg("open: %s", msg);
	assert_int_equal(current_umask(), 0);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(nested), 0700);
	assert_int_equal(mode_of(sock) & 0777, 0600);
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(rumor_put(n, key, strlen(key), "v", 1), 0);
	}
	rumor_close(n, NULL, NULL);
	assert_int_equal(current_umask(), 0);
	if (open_node(nested, &n, msg, sizeof msg) != 0)
		fail_msg("reopen: %s", msg);
	assert_true(walk_private(nested) >= 6);   /* key, socket, db, files */
	rumor_close(n, NULL, NULL);
	assert_true(walk_private(nested) >= 5);
	assert_int_equal(current_umask(), 0);
	free(sock);
	free(nested);
}

/* Refused with code and a message holding what and fix; the data dir
 * keeps its mode and its number of entries (no node.key nor store made). */
static void expect_refused_with(struct fixture *f, int code, const char *what,
				const char *fix, mode_t mode, int entries)
{
	char msg[RUMOR_ERRMSG_MAX];
	struct rumor *n = NULL;

	assert_int_equal(open_node(f->dir, &n, msg, sizeof msg), code);
	assert_null(n);
	if (strstr(msg, what) == NULL || strstr(msg, fix) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", msg, what, fix);
	assert_int_equal(mode_of(f->dir), mode);
	assert_int_equal(count_entries(f->dir), entries);
}

static void expect_refused(struct fixture *f, const char *what,
			   const char *fix, mode_t mode, int entries)
{
	expect_refused_with(f, RUMOR_ECONFIG, what, fix, mode, entries);
}

static void test_data_dir_writable_by_others_is_refused_and_left_as_is(void **state)
{
	struct fixture *f = *state;
	char fix[4200];

	snprintf(fix, sizeof fix, ": chmod 700 %s", f->dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chmod(f->dir, 0775), 0);
	expect_refused(f, "data dir", "is group-writable (mode 0775)", 0775, 0);
	expect_refused(f, "data dir", fix, 0775, 0);
	assert_int_equal(chmod(f->dir, 0757), 0);
	expect_refused(f, "world-writable (mode 0757)", fix, 0757, 0);
	/* Sticky does not make a shared dir private. */
	assert_int_equal(chmod(f->dir, 01777), 0);
	expect_refused(f, "group- and world-writable", fix, 01777, 0);
	/* Not writable by others: accepted, readable or not. */
	assert_int_equal(chmod(f->dir, 0755), 0);
	{
		char msg[RUMOR_ERRMSG_MAX];
		struct rumor *n;

		if (open_node(f->dir, &n, msg, sizeof msg) != 0)
			fail_msg("open of a 0755 data dir: %s", msg);
		rumor_close(n, NULL, NULL);
	}
}

/* The store's dir is checked before node.key is made: a refusal of it
 * leaves a fresh data dir without a key. */
static void test_store_dir_open_to_others_is_refused_before_the_key_is_made(void **state)
{
	struct fixture *f = *state;
	char *db = tu_join(f->dir, "db");
	char fix[4200];

	snprintf(fix, sizeof fix, "chmod 700 %s", db);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(mkdir(db, 0700), 0);
	assert_int_equal(chmod(db, 0770), 0);
	expect_refused(f, "store dir", fix, 0700, 1);
	assert_int_equal(mode_of(db), 0770);
	assert_int_equal(count_entries(db), 0);
	free(db);
}

/* A node.key others may read, or one reached through a link, stops the
 * open before the store is made, and is left as it was. */
static void test_unsafe_node_key_is_refused_before_the_store_is_made(void **state)
{
	struct fixture *f = *state;
	char *key = tu_join(f->dir, "node.key");
	char *real = tu_join(f->base, "real.key");
	char msg[RUMOR_ERRMSG_MAX];
	char fix[4200];
	struct rumor *n = NULL;

	/* The key is checked before it is parsed: any bytes will do. */
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(tu_write_file(key, "x", 1, 0640), 0);
	snprintf(fix, sizeof fix, "chmod 600 %s", key);
	expect_refused_with(f, RUMOR_EKEYFILE, "group-readable (mode 0640)",
			    fix, 0700, 1);
	assert_int_equal(mode_of(key), 0640);
	assert_int_equal(unlink(key), 0);
	assert_int_equal(tu_write_file(real, "x", 1, 0600), 0);
	assert_int_equal(symlink(real, key), 0);
	assert_int_equal(open_node(f->dir, &n, msg, sizeof msg), RUMOR_EKEYFILE);
	assert_null(n);
	assert_non_null(strstr(msg, "symbolic link"));
	assert_int_equal(count_entries(f->dir), 1);
	free(real);
	free(key);
}

static void test_data_dir_that_is_a_file_is_refused(void **state)
{
	struct fixture *f = *state;
	char msg[RUMOR_ERRMSG_MAX];
	struct rumor *n = NULL;

	assert_int_equal(tu_write_file(f->dir, "x", 1, 0600), 0);
	assert_int_not_equal(open_node(f->dir, &n, msg, sizeof msg), 0);
	assert_null(n);
	assert_non_null(strstr(msg, "not a directory"));
}

static void test_data_dir_of_another_user_is_refused(void **state)
{
	struct fixture *f = *state;
	char fix[64];

	if (geteuid() != 0) {
		print_message("skipped: only root can give a file to another "
			      "user (uid %u here)\n", (unsigned)geteuid());
		skip();
	}
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chown(f->dir, OTHER_UID, (gid_t)-1), 0);
	snprintf(fix, sizeof fix, "chown %u", (unsigned)geteuid());
	expect_refused(f, "owned by uid 65534", fix, 0700, 0);
	expect_refused(f, ": run as uid 65534, or chown", fix, 0700, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_missing_data_dir_is_made_0700_and_all_in_it_is_private),
		T(test_data_dir_writable_by_others_is_refused_and_left_as_is),
		T(test_store_dir_open_to_others_is_refused_before_the_key_is_made),
		T(test_unsafe_node_key_is_refused_before_the_store_is_made),
		T(test_data_dir_that_is_a_file_is_refused),
		T(test_data_dir_of_another_user_is_refused),
	};
#undef T

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
