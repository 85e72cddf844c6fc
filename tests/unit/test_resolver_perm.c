/* SPDX-License-Identifier: MIT */
/* A resolver object runs with the node's rights, so it is refused before
 * dlopen when someone other than the effective uid or root could replace
 * it: a group- or world-writable file, a file in a directory others may
 * write, a file of another user (issue 11, part 5). The refusal names the
 * problem and the fix, and nothing is loaded. */
#include <dlfcn.h>
#include <fcntl.h>
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

#include "resolver/resolver.h"
#include "tests/lib/testutil.h"

#define OTHER_UID 65534

/* The example resolver as libtool builds a module on Linux (dlname
 * "larger_value.so" in its .la). */
#define MODULE "examples/resolvers/.libs/larger_value.so"

struct fixture {
	char *dir;          /* private: 0700, ours */
	char *so;           /* dir/r.so, a copy of MODULE */
};

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	FILE *in = fopen(from, "rb");
	FILE *out;
	size_t n;

	if (in == NULL)
		fail_msg("cannot open %s (built by make check)", from);
	out = fopen(to, "wb");
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(to, mode), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *module = tu_builddir_path(MODULE);

	assert_non_null(f);
	f->dir = tu_tmpdir("resolverperm");
	assert_int_equal(chmod(f->dir, 0700), 0);
	f->so = tu_join(f->dir, "r.so");
	copy_file(module, f->so, 0755);
	free(module);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmrf(f->dir);
	free(f->dir);
	free(f->so);
	free(f);
	return 0;
}

static void expect_loads(const char *path)
{
	struct resolver *r = NULL;
	struct err e = {0};

	if (resolver_load(&r, path, &e) != 0)
		fail_msg("loading %s: %s", path, e.msg);
	assert_string_equal(resolver_name(r), "larger_value");
	resolver_free(r);
}

/* Refused with RUMOR_ERESOLVER, a message holding each of want[], and
 * the object not mapped. */
static void expect_refused(const char *path, const char *const *want)
{
	struct resolver *r = NULL;
	struct err e = {0};
	void *still;

	assert_int_equal(resolver_load(&r, path, &e), RUMOR_ERESOLVER);
	assert_null(r);
	for (; *want != NULL; want++)
		if (strstr(e.msg, *want) == NULL)
			fail_msg("message \"%s\" does not say \"%s\"", e.msg,
				 *want);
	still = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	if (still != NULL) {
		dlclose(still);
		fail_msg("%s is loaded after a refused load", path);
	}
}

static void test_private_resolver_loads(void **state)
{
	struct fixture *f = *state;

	expect_loads(f->so);
	assert_int_equal(chmod(f->dir, 0755), 0);
	expect_loads(f->so);
}

static void test_group_or_world_writable_resolver_is_refused(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(chmod(f->so, 0775), 0);
	expect_refused(f->so, (const char *const[]){
		"group-writable (mode 0775)", "chmod go-w", f->so, NULL});
	assert_int_equal(chmod(f->so, 0757), 0);
	expect_refused(f->so, (const char *const[]){
		"world-writable (mode 0757)", "chmod go-w", f->so, NULL});
	/* Refused, not changed. */
	assert_int_equal(stat(f->so, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0757);
	assert_int_equal(chmod(f->so, 0755), 0);
	expect_loads(f->so);
}

static void test_resolver_in_a_directory_others_may_write_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(chmod(f->dir, 0770), 0);
	expect_refused(f->so, (const char *const[]){
		"resolver directory", "group-writable (mode 0770)",
		"move the resolver", f->dir, NULL});
	/* Sticky (as /tmp) does not help: others may still put a file
	 * of theirs in its place before the node first starts. */
	assert_int_equal(chmod(f->dir, 01777), 0);
	expect_refused(f->so, (const char *const[]){
		"group- and world-writable (mode 1777)", "move the resolver",
		NULL});
}

/* A link is resolved: what is checked (and loaded) is the file it leads
 * to, in the directory that holds that file. */
static void test_link_to_a_resolver_in_an_open_directory_is_refused(void **state)
{
	struct fixture *f = *state;
	char *open_dir = tu_join(f->dir, "open");
	char *target = tu_join(open_dir, "r.so");
	char *link = tu_join(f->dir, "link.so");

	assert_int_equal(mkdir(open_dir, 0700), 0);
	assert_int_equal(rename(f->so, target), 0);
	assert_int_equal(symlink(target, link), 0);
	expect_loads(link);
	assert_int_equal(chmod(open_dir, 0777), 0);
	expect_refused(link, (const char *const[]){
		"world-writable", open_dir, "move the resolver", NULL});
	free(link);
	free(target);
	free(open_dir);
}

static void test_resolver_of_another_user_is_refused(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0) {
		print_message("skipped: only root can give a file to another "
			      "user (uid %u here)\n", (unsigned)geteuid());
		skip();
	}
	assert_int_equal(chown(f->so, OTHER_UID, (gid_t)-1), 0);
	expect_refused(f->so, (const char *const[]){
		"owned by uid 65534", "nor root: chown 0", NULL});
	assert_int_equal(chown(f->so, 0, (gid_t)-1), 0);
	assert_int_equal(chown(f->dir, OTHER_UID, (gid_t)-1), 0);
	expect_refused(f->so, (const char *const[]){
		"resolver directory", "owned by uid 65534", NULL});
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_private_resolver_loads),
		T(test_group_or_world_writable_resolver_is_refused),
		T(test_resolver_in_a_directory_others_may_write_is_refused),
		T(test_link_to_a_resolver_in_an_open_directory_is_refused),
		T(test_resolver_of_another_user_is_refused),
	};
#undef T

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
