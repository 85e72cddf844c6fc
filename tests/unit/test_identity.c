/* SPDX-License-Identifier: MIT */
/* Key files: node identity, network key, trusted keys, printable ids. */
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

#define HEADER "rumor-node-key v1\n"

struct fixture {
	char *dir;
	char *key;          /* dir/node.key */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	f->dir = tu_tmpdir("identity");
	f->key = tu_join(f->dir, IDENTITY_FILE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmrf(f->dir);
	free(f->dir);
	free(f->key);
	free(f);
	return 0;
}

/* Reads a small file whole; returns its length. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

/* A node key file holding sk (64 bytes), in the documented format. */
static void write_node_key(const char *path, const uint8_t sk[64], int mode)
{
	char text[200];
	size_t hl = strlen(HEADER);

	memcpy(text, HEADER, hl);
	sodium_bin2base64(text + hl, sizeof text - hl, sk, 64,
			  sodium_base64_VARIANT_ORIGINAL);
	strcat(text, "\n");
	unlink(path);
	assert_int_equal(tu_write_file(path, text, strlen(text), mode), 0);
}

static void expect_key_refused(const char *dir, const char *path,
			       const char *what)
{
	struct identity id;
	struct err e;

	err_clear(&e);
	assert_int_equal(identity_load_or_create(&id, dir, &e),
			 RUMOR_EKEYFILE);
	assert_int_equal(e.code, RUMOR_EKEYFILE);
	if (strstr(e.msg, path) == NULL || strstr(e.msg, what) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", e.msg, path,
			 what);
}

/* ------------------------------------------------------------------ */
/* Node identity */

static void test_first_start_creates_a_private_key(void **state)
{
	struct fixture *f = *state;
	struct identity id;
	struct err e;
	struct stat st;
	char buf[256], *tmp;
	size_t n;

	assert_int_equal(identity_load_or_create(&id, f->dir, &e), 0);
	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	n = slurp(f->key, buf, sizeof buf);
	assert_int_equal(n, strlen(HEADER) + 88 + 1);
	assert_memory_equal(buf, HEADER, strlen(HEADER));
	assert_int_equal(buf[n - 1], '\n');
	/* The public half is the one derived from the seed. */
	assert_memory_equal(id.public_key, id.secret_key + 32, 32);
	/* No temp file is left behind. */
	tmp = tu_join(f->dir, "node.key.tmp");
	assert_int_not_equal(access(tmp, F_OK), 0);
	free(tmp);
	identity_wipe(&id);
}

static void test_second_start_loads_the_same_key(void **state)
{
	struct fixture *f = *state;
	struct identity a, b;
	struct err e;

	assert_int_equal(identity_load_or_create(&a, f->dir, &e), 0);
	assert_int_equal(identity_load_or_create(&b, f->dir, &e), 0);
	assert_memory_equal(a.public_key, b.public_key, 32);
	assert_memory_equal(a.secret_key, b.secret_key, 64);
	identity_wipe(&a);
	identity_wipe(&b);
}

static void test_key_that_signs_verifies_with_its_public_half(void **state)
{
	struct fixture *f = *state;
	struct identity id;
	uint8_t sig[64];

	assert_int_equal(identity_load_or_create(&id, f->dir, NULL), 0);
	crypto_sign_detached(sig, NULL, (const uint8_t *)"x", 1,
			     id.secret_key);
	assert_int_equal(crypto_sign_verify_detached(
				 sig, (const uint8_t *)"x", 1, id.public_key),
			 0);
	identity_wipe(&id);
	assert_true(sodium_is_zero(id.secret_key, 64));
}

static void test_readable_key_file_is_refused(void **state)
{
	struct fixture *f = *state;
	struct identity id;

	assert_int_equal(identity_load_or_create(&id, f->dir, NULL), 0);
	assert_int_equal(chmod(f->key, 0644), 0);
	expect_key_refused(f->dir, f->key, "group- and world-readable");
	expect_key_refused(f->dir, f->key, "chmod 600");
	assert_int_equal(chmod(f->key, 0640), 0);
	expect_key_refused(f->dir, f->key, "group-readable (mode 0640)");
	/* Refused, not replaced. */
	assert_int_equal(chmod(f->key, 0600), 0);
	{
		struct identity again;

		assert_int_equal(identity_load_or_create(&again, f->dir, NULL),
				 0);
		assert_memory_equal(again.public_key, id.public_key, 32);
	}
}

static void test_key_file_of_wrong_size_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(tu_write_file(f->key, "short", 5, 0600), 0);
	expect_key_refused(f->dir, f->key, "wrong size");
	unlink(f->key);
	assert_int_equal(tu_write_file(f->key, "", 0, 0600), 0);
	expect_key_refused(f->dir, f->key, "wrong size");
}

static void test_key_file_of_wrong_format_is_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t sk[64] = { 0 };
	char buf[256];
	size_t n;

	write_node_key(f->key, sk, 0600);
	n = slurp(f->key, buf, sizeof buf);

	/* Another header. */
	buf[0] = 'R';
	unlink(f->key);
	assert_int_equal(tu_write_file(f->key, buf, n, 0600), 0);
	expect_key_refused(f->dir, f->key, "not a rumor node key");
	/* A character outside base64. */
	buf[0] = 'r';
	buf[strlen(HEADER) + 5] = '*';
	unlink(f->key);
	assert_int_equal(tu_write_file(f->key, buf, n, 0600), 0);
	expect_key_refused(f->dir, f->key, "base64");
}

static void test_key_file_with_mismatched_halves_is_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t pk[32], sk[64], other_pk[32], other_sk[64];

	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(other_pk, other_sk);
	memcpy(sk + 32, other_pk, 32);
	write_node_key(f->key, sk, 0600);
	expect_key_refused(f->dir, f->key, "does not match");
}

/* Found by fuzz_keyfile: libsodium reads a byte with its top bit set as
 * the ASCII character below it, so 0xaf stood for '/' and a key file
 * with a byte that is not base64 loaded. */
static void test_key_file_with_a_non_ascii_base64_byte_is_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t pk[32], sk[64], seed[32];
	char buf[256], *slash;
	size_t n;

	memset(seed, 0x42, sizeof seed);   /* its base64 holds a '/' */
	crypto_sign_seed_keypair(pk, sk, seed);
	write_node_key(f->key, sk, 0600);
	n = slurp(f->key, buf, sizeof buf);
	buf[n] = '\0';
	slash = strchr(buf + strlen(HEADER), '/');
	assert_non_null(slash);
	/* The file as written loads... */
	assert_int_equal(identity_parse(&(struct identity){0},
					(const uint8_t *)buf, n, "k", NULL), 0);
	/* ...and with 0xaf in place of its '/' it does not. */
	*slash = (char)0xaf;
	unlink(f->key);
	assert_int_equal(tu_write_file(f->key, buf, n, 0600), 0);
	expect_key_refused(f->dir, f->key, "base64");
}

static void test_key_file_without_final_newline_loads(void **state)
{
	struct fixture *f = *state;
	struct identity id;
	uint8_t pk[32], sk[64];
	char buf[256];
	size_t n;

	crypto_sign_keypair(pk, sk);
	write_node_key(f->key, sk, 0600);
	n = slurp(f->key, buf, sizeof buf);
	unlink(f->key);
	assert_int_equal(tu_write_file(f->key, buf, n - 1, 0600), 0);
	assert_int_equal(identity_load_or_create(&id, f->dir, NULL), 0);
	assert_memory_equal(id.public_key, pk, 32);
	/* But not with something else in its place. */
	buf[n - 1] = ' ';
	unlink(f->key);
	assert_int_equal(tu_write_file(f->key, buf, n, 0600), 0);
	expect_key_refused(f->dir, f->key, "trailing");
}

static void test_stale_temp_file_does_not_block_creation(void **state)
{
	struct fixture *f = *state;
	char *tmp = tu_join(f->dir, "node.key.tmp");
	struct identity id;

	/* What a crash between create and link leaves. */
	assert_int_equal(tu_write_file(tmp, "half", 4, 0600), 0);
	assert_int_equal(identity_load_or_create(&id, f->dir, NULL), 0);
	assert_int_not_equal(access(tmp, F_OK), 0);
	free(tmp);
}

static void test_missing_data_dir_is_an_error(void **state)
{
	struct fixture *f = *state;
	char *dir = tu_join(f->dir, "absent");
	struct identity id;
	struct err e;

	assert_true(identity_load_or_create(&id, dir, &e) < 0);
	assert_non_null(strstr(e.msg, dir));
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Printable ids */

static void test_id_string_round_trips(void **state)
{
	uint8_t pk[32], sk[64], back[32];
	char s[IDENTITY_ID_STRLEN];
	int i;

	(void)state;
	for (i = 0; i < 50; i++) {
		crypto_sign_keypair(pk, sk);
		identity_id_string(pk, s);
		assert_int_equal(strlen(s), 43);
		assert_null(strpbrk(s, "+/="));
		assert_int_equal(identity_id_parse(s, back), 0);
		assert_memory_equal(pk, back, 32);
	}
}

static void test_malformed_ids_are_refused(void **state)
{
	uint8_t pk[32] = { 0 }, out[32];
	char s[IDENTITY_ID_STRLEN], bad[64];

	(void)state;
	identity_id_string(pk, s);
	assert_string_equal(s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(identity_id_parse("", out), RUMOR_EINVAL);
	assert_int_equal(identity_id_parse(NULL, out), RUMOR_EINVAL);
	/* Too short, too long, padded. */
	snprintf(bad, sizeof bad, "%.42s", s);
	assert_int_equal(identity_id_parse(bad, out), RUMOR_EINVAL);
	snprintf(bad, sizeof bad, "%sA", s);
	assert_int_equal(identity_id_parse(bad, out), RUMOR_EINVAL);
	snprintf(bad, sizeof bad, "%s=", s);
	assert_int_equal(identity_id_parse(bad, out), RUMOR_EINVAL);
	/* The standard alphabet's characters. */
	snprintf(bad, sizeof bad, "+%.42s", s + 1);
	assert_int_equal(identity_id_parse(bad, out), RUMOR_EINVAL);
	snprintf(bad, sizeof bad, "/%.42s", s + 1);
	assert_int_equal(identity_id_parse(bad, out), RUMOR_EINVAL);
	/* Nonzero unused bits in the last character: not canonical. */
	snprintf(bad, sizeof bad, "%.42sB", s);
	assert_int_equal(identity_id_parse(bad, out), RUMOR_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Network key */

static void test_generated_network_key_loads(void **state)
{
	struct fixture *f = *state;
	char *path = tu_join(f->dir, "net.key");
	uint8_t key[32], again[32];
	char buf[128];
	struct stat st;
	struct err e;
	size_t n;

	assert_int_equal(network_key_generate(path, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	n = slurp(path, buf, sizeof buf);
	assert_int_equal(n, 65);
	assert_int_equal(buf[64], '\n');
	assert_int_equal(network_key_load(path, key, &e), 0);
	assert_false(sodium_is_zero(key, 32));

	/* Never overwritten. */
	assert_int_equal(network_key_generate(path, &e), RUMOR_EKEYFILE);
	assert_non_null(strstr(e.msg, "already exists"));
	assert_int_equal(network_key_load(path, again, NULL), 0);
	assert_memory_equal(key, again, 32);
	free(path);
}

static void test_network_key_loads_raw_and_hex_forms(void **state)
{
	struct fixture *f = *state;
	char *raw = tu_join(f->dir, "raw.key");
	char *hex = tu_join(f->dir, "hex.key");
	char *hexnl = tu_join(f->dir, "hexnl.key");
	uint8_t want[32], got[32];
	char text[66];
	int i;

	for (i = 0; i < 32; i++)
		want[i] = (uint8_t)(i * 7 + 1);
	sodium_bin2hex(text, sizeof text - 1, want, 32);
	strcat(text, "\n");
	assert_int_equal(tu_write_file(raw, want, 32, 0600), 0);
	assert_int_equal(tu_write_file(hex, text, 64, 0600), 0);
	assert_int_equal(tu_write_file(hexnl, text, 65, 0600), 0);
	memset(got, 0, 32);
	assert_int_equal(network_key_load(raw, got, NULL), 0);
	assert_memory_equal(got, want, 32);
	memset(got, 0, 32);
	assert_int_equal(network_key_load(hex, got, NULL), 0);
	assert_memory_equal(got, want, 32);
	memset(got, 0, 32);
	assert_int_equal(network_key_load(hexnl, got, NULL), 0);
	assert_memory_equal(got, want, 32);
	free(raw);
	free(hex);
	free(hexnl);
}

static void expect_network_key_refused(const char *path, const void *buf,
				       size_t len, int mode, const char *what)
{
	uint8_t key[32];
	struct err e;

	unlink(path);
	assert_int_equal(tu_write_file(path, buf, len, mode), 0);
	assert_int_equal(network_key_load(path, key, &e), RUMOR_EKEYFILE);
	if (strstr(e.msg, path) == NULL || strstr(e.msg, what) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, what);
}

static void test_bad_network_key_files_are_refused(void **state)
{
	struct fixture *f = *state;
	char *path = tu_join(f->dir, "net.key");
	char hex[80];
	uint8_t key[32];
	struct err e;

	memset(hex, 'a', sizeof hex);
	expect_network_key_refused(path, hex, 32, 0644, "world-readable");
	expect_network_key_refused(path, hex, 31, 0600, "malformed");
	expect_network_key_refused(path, hex, 33, 0600, "malformed");
	expect_network_key_refused(path, hex, 66, 0600, "too large");
	hex[64] = '\n';
	hex[65] = '\n';
	expect_network_key_refused(path, hex, 66, 0600, "too large");
	hex[10] = 'g';
	expect_network_key_refused(path, hex, 65, 0600, "malformed");
	hex[10] = 'a';
	hex[64] = ' ';
	expect_network_key_refused(path, hex, 65, 0600, "malformed");
	unlink(path);
	assert_int_equal(network_key_load(path, key, &e), RUMOR_EKEYFILE);
	assert_non_null(strstr(e.msg, "no such file"));
	free(path);
}

static void test_default_network_key_is_the_documented_hash(void **state)
{
	uint8_t h[32];
	const char *s = "rumor open network v1";

	(void)state;
	crypto_generichash(h, sizeof h, (const uint8_t *)s, strlen(s), NULL, 0);
	assert_memory_equal(h, identity_default_network_key, 32);
}

/* ------------------------------------------------------------------ */
/* Trusted keys */

static void test_trusted_keys_parse_comments_and_blanks(void **state)
{
	struct fixture *f = *state;
	char *path = tu_join(f->dir, "trusted");
	uint8_t pk[3][32], sk[64], other[32];
	char ids[3][IDENTITY_ID_STRLEN], text[512];
	struct trusted_keys tk;
	struct err e;
	int i;

	for (i = 0; i < 3; i++) {
		crypto_sign_keypair(pk[i], sk);
		identity_id_string(pk[i], ids[i]);
	}
	crypto_sign_keypair(other, sk);
	snprintf(text, sizeof text,
		 "# the cluster\n"
		 "\n"
		 "%s\n"
		 "   %s   # laptop\r\n"
		 "\t\n"
		 "%s", /* no final newline */
		 ids[0], ids[1], ids[2]);
	assert_int_equal(tu_write_file(path, text, strlen(text), 0644), 0);
	assert_int_equal(trusted_keys_load(&tk, path, &e), 0);
	assert_int_equal(tk.n, 3);
	for (i = 0; i < 3; i++)
		assert_true(trusted_keys_contains(&tk, pk[i]));
	assert_false(trusted_keys_contains(&tk, other));
	trusted_keys_free(&tk);
	assert_int_equal(tk.n, 0);
	free(path);
}

static void test_empty_trusted_keys_file_trusts_nobody(void **state)
{
	struct fixture *f = *state;
	char *path = tu_join(f->dir, "trusted");
	uint8_t pk[32] = { 0 };
	struct trusted_keys tk;

	assert_int_equal(tu_write_file(path, "# nobody\n", 9, 0644), 0);
	assert_int_equal(trusted_keys_load(&tk, path, NULL), 0);
	assert_int_equal(tk.n, 0);
	assert_false(trusted_keys_contains(&tk, pk));
	trusted_keys_free(&tk);
	free(path);
}

static void expect_trusted_refused(const char *path, const char *text,
				   const char *what)
{
	struct trusted_keys tk = { 0, NULL };
	struct err e;

	unlink(path);
	assert_int_equal(tu_write_file(path, text, strlen(text), 0644), 0);
	assert_int_equal(trusted_keys_load(&tk, path, &e), RUMOR_EKEYFILE);
	if (strstr(e.msg, path) == NULL || strstr(e.msg, what) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, what);
	assert_int_equal(tk.n, 0);
	assert_null(tk.keys);
}

static void test_bad_trusted_keys_line_names_its_number(void **state)
{
	struct fixture *f = *state;
	char *path = tu_join(f->dir, "trusted");
	uint8_t pk[32] = { 1 };
	char id[IDENTITY_ID_STRLEN], text[512];
	struct trusted_keys tk;
	struct err e;

	identity_id_string(pk, id);
	snprintf(text, sizeof text, "%s\n# ok\nnot-a-key\n", id);
	expect_trusted_refused(path, text, "line 3");
	snprintf(text, sizeof text, "%s %s\n", id, id);
	expect_trusted_refused(path, text, "line 1");
	snprintf(text, sizeof text, "\n\n%.42s\n", id);
	expect_trusted_refused(path, text, "line 3");
	snprintf(text, sizeof text, "%s\n%sA\n", id, id);
	expect_trusted_refused(path, text, "line 2");
	unlink(path);
	assert_int_equal(trusted_keys_load(&tk, path, &e), RUMOR_EKEYFILE);
	assert_non_null(strstr(e.msg, "no such file"));
	free(path);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_first_start_creates_a_private_key),
		T(test_second_start_loads_the_same_key),
		T(test_key_that_signs_verifies_with_its_public_half),
		T(test_readable_key_file_is_refused),
		T(test_key_file_of_wrong_size_is_refused),
		T(test_key_file_of_wrong_format_is_refused),
		T(test_key_file_with_mismatched_halves_is_refused),
		T(test_key_file_with_a_non_ascii_base64_byte_is_refused),
		T(test_key_file_without_final_newline_loads),
		T(test_stale_temp_file_does_not_block_creation),
		T(test_missing_data_dir_is_an_error),
		T(test_id_string_round_trips),
		T(test_malformed_ids_are_refused),
		T(test_generated_network_key_loads),
		T(test_network_key_loads_raw_and_hex_forms),
		T(test_bad_network_key_files_are_refused),
		T(test_default_network_key_is_the_documented_hash),
		T(test_trusted_keys_parse_comments_and_blanks),
		T(test_empty_trusted_keys_file_trusts_nobody),
		T(test_bad_trusted_keys_line_names_its_number),
	};
#undef T
	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
