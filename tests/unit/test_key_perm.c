/* SPDX-License-Identifier: MIT */
/* Key files and who may touch them (issue 11, part 5): node.key is never
 * reached through a symbolic link and is the effective uid's alone; the
 * network key may be shared with a group but not written by it; the
 * trusted-keys file is nobody else's to write. Every refusal names the
 * problem and the fix, and changes nothing. */
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

#include <sodium.h>

#include "crypto/identity.h"
#include "tests/lib/testutil.h"

/* A uid nobody runs the tests as ("nobody" on most systems). */
#define OTHER_UID 65534

struct fixture {
	char *dir;
	char *key;          /* dir/node.key */
	char *elsewhere;    /* dir/elsewhere: a key file outside its place */
	char *net;          /* dir/net.key */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	f->dir = tu_tmpdir("keyperm");
	f->key = tu_join(f->dir, IDENTITY_FILE);
	f->elsewhere = tu_join(f->dir, "elsewhere");
	f->net = tu_join(f->dir, "net.key");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmrf(f->dir);
	free(f->dir);
	free(f->key);
	free(f->elsewhere);
	free(f->net);
	free(f);
	return 0;
}

static void expect_in(const struct err *e, const char *a, const char *b)
{
	if (strstr(e->msg, a) == NULL || (b != NULL && strstr(e->msg, b) == NULL))
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", e->msg, a,
			 b != NULL ? b : "");
}

static void expect_node_key_refused(struct fixture *f, const char *what,
				    const char *fix)
{
	struct identity id;
	struct err e;

	err_clear(&e);
	assert_int_equal(identity_load_or_create(&id, f->dir, &e),
			 RUMOR_EKEYFILE);
	expect_in(&e, f->key, what);
	expect_in(&e, fix, NULL);
}

/* A node key made by the library at path (via a scratch dir), so that a
 * test can plant it anywhere. Returns its public key in pk. */
static void make_key_file(struct fixture *f, const char *path, uint8_t pk[32])
{
	struct identity id;
	char *scratch = tu_join(f->dir, "scratch");
	char *made;

	assert_int_equal(mkdir(scratch, 0700), 0);
	assert_int_equal(identity_load_or_create(&id, scratch, NULL), 0);
	memcpy(pk, id.public_key, 32);
	identity_wipe(&id);
	made = tu_join(scratch, IDENTITY_FILE);
	assert_int_equal(rename(made, path), 0);
	assert_int_equal(rmdir(scratch), 0);
	free(made);
	free(scratch);
}

static void test_node_key_through_a_symlink_is_refused(void **state)
{
	struct fixture *f = *state;
	struct identity id;
	struct stat st;
	uint8_t pk[32];
	char target[4096];
	ssize_t n;

	make_key_file(f, f->elsewhere, pk);
	assert_int_equal(symlink(f->elsewhere, f->key), 0);
	expect_node_key_refused(f, "symbolic link", "put the file itself");
	/* Nothing changed: the link still points where it did. */
	assert_int_equal(lstat(f->key, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(f->key, target, sizeof target - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, f->elsewhere);
	/* The file itself in its place loads, and is the same key. */
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(rename(f->elsewhere, f->key), 0);
	assert_int_equal(identity_load_or_create(&id, f->dir, NULL), 0);
	assert_memory_equal(id.public_key, pk, 32);
	identity_wipe(&id);
}

/* A dangling link must not make the node create a key where it points. */
static void test_node_key_dangling_symlink_is_refused_not_followed(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(symlink(f->elsewhere, f->key), 0);
	expect_node_key_refused(f, "symbolic link", "put the file itself");
	assert_int_equal(stat(f->elsewhere, &st), -1);
	assert_int_equal(lstat(f->key, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static void test_node_key_of_another_user_is_refused(void **state)
{
	struct fixture *f = *state;
	struct identity id;
	char uid[32];

	if (geteuid() != 0) {
		print_message("skipped: only root can give a file to another "
			      "user (uid %u here)\n", (unsigned)geteuid());
		skip();
	}
	assert_int_equal(identity_load_or_create(&id, f->dir, NULL), 0);
	identity_wipe(&id);
	assert_int_equal(chown(f->key, OTHER_UID, (gid_t)-1), 0);
	snprintf(uid, sizeof uid, "chown %u", (unsigned)geteuid());
	expect_node_key_refused(f, "owned by uid 65534", uid);
	/* Refused, not replaced. */
	{
		struct stat st;

		assert_int_equal(stat(f->key, &st), 0);
		assert_int_equal(st.st_uid, OTHER_UID);
	}
}

static void test_node_key_open_to_the_group_names_chmod_600(void **state)
{
	struct fixture *f = *state;
	struct identity id;

	assert_int_equal(identity_load_or_create(&id, f->dir, NULL), 0);
	identity_wipe(&id);
	assert_int_equal(chmod(f->key, 0620), 0);
	expect_node_key_refused(f, "group-writable (mode 0620)", "chmod 600");
	assert_int_equal(chmod(f->key, 0601), 0);
	expect_node_key_refused(f, "world-executable", "chmod 600");
}

/* ------------------------------------------------------------------ */
/* Network key */

static void write_net_key(const char *path, int mode)
{
	char hex[65];

	memset(hex, 'c', 64);
	hex[64] = '\n';
	unlink(path);
	assert_int_equal(tu_write_file(path, hex, sizeof hex, mode), 0);
	/* tu_write_file sets the exact mode (fchmod), whatever the umask. */
}

static void expect_net_key(const char *path, int want, const char *what,
			   const char *fix)
{
	uint8_t key[32];
	struct err e;

	err_clear(&e);
	assert_int_equal(network_key_load(path, key, &e), want);
	if (want != 0) {
		expect_in(&e, path, what);
		expect_in(&e, fix, NULL);
	} else {
		assert_int_equal(key[0], 0xcc);
	}
}

static void test_network_key_may_be_shared_with_a_group(void **state)
{
	struct fixture *f = *state;

	write_net_key(f->net, 0600);
	expect_net_key(f->net, 0, NULL, NULL);
	write_net_key(f->net, 0640);
	expect_net_key(f->net, 0, NULL, NULL);
	write_net_key(f->net, 0440);
	expect_net_key(f->net, 0, NULL, NULL);
}

static void test_network_key_writable_by_group_or_open_to_others_is_refused(void **state)
{
	struct fixture *f = *state;

	write_net_key(f->net, 0660);
	expect_net_key(f->net, RUMOR_EKEYFILE, "group-writable (mode 0660)",
		       "chmod 640");
	write_net_key(f->net, 0604);
	expect_net_key(f->net, RUMOR_EKEYFILE, "world-readable (mode 0604)",
		       "chmod 640");
	write_net_key(f->net, 0666);
	expect_net_key(f->net, RUMOR_EKEYFILE, "group- and world-writable",
		       "chmod 640");
}

/* An operator's path may be a link (to a secrets mount, say): it is
 * followed, and the file it leads to is what is checked. */
static void test_network_key_link_is_followed_and_its_target_checked(void **state)
{
	struct fixture *f = *state;

	write_net_key(f->elsewhere, 0600);
	assert_int_equal(symlink(f->elsewhere, f->net), 0);
	expect_net_key(f->net, 0, NULL, NULL);
	assert_int_equal(chmod(f->elsewhere, 0644), 0);
	expect_net_key(f->net, RUMOR_EKEYFILE, "world-readable", "chmod 640");
}

static void test_network_key_of_another_user_is_refused(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0) {
		print_message("skipped: only root can give a file to another "
			      "user (uid %u here)\n", (unsigned)geteuid());
		skip();
	}
	write_net_key(f->net, 0600);
	assert_int_equal(chown(f->net, OTHER_UID, (gid_t)-1), 0);
	expect_net_key(f->net, RUMOR_EKEYFILE, "owned by uid 65534",
		       "nor root: chown 0");
}

/* ------------------------------------------------------------------ */
/* Trusted keys */

static void test_trusted_keys_writable_by_others_are_refused(void **state)
{
	struct fixture *f = *state;
	char *path = tu_join(f->dir, "trusted");
	struct trusted_keys tk = { 0, NULL };
	struct err e;

	assert_int_equal(tu_write_file(path, "# none\n", 7, 0644), 0);
	assert_int_equal(trusted_keys_load(&tk, path, &e), 0);
	trusted_keys_free(&tk);
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(trusted_keys_load(&tk, path, &e), RUMOR_EKEYFILE);
	expect_in(&e, path, "group-writable");
	expect_in(&e, "chmod 644", NULL);
	assert_int_equal(tk.n, 0);
	assert_int_equal(chmod(path, 0646), 0);
	assert_int_equal(trusted_keys_load(&tk, path, &e), RUMOR_EKEYFILE);
	expect_in(&e, path, "world-writable");
	free(path);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_node_key_through_a_symlink_is_refused),
		T(test_node_key_dangling_symlink_is_refused_not_followed),
		T(test_node_key_of_another_user_is_refused),
		T(test_node_key_open_to_the_group_names_chmod_600),
		T(test_network_key_may_be_shared_with_a_group),
		T(test_network_key_writable_by_group_or_open_to_others_is_refused),
		T(test_network_key_link_is_followed_and_its_target_checked),
		T(test_network_key_of_another_user_is_refused),
		T(test_trusted_keys_writable_by_others_are_refused),
	};
#undef T

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
