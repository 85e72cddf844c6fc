/* SPDX-License-Identifier: MIT */
/*
 * fuzz_keyfile: libFuzzer target for the key file parsers of
 * crypto/identity.h: node.key (identity_parse), the network key file
 * (network_key_parse) and the trusted-keys file (trusted_keys_parse).
 * Every input is given to all three as a whole file. Checks: no crash,
 * leak or read past the input; a refusal is RUMOR_EKEYFILE with a
 * message, leaves no secret behind and an empty trusted list; and what
 * is accepted says the same thing when written again:
 *   - a node key re-encodes to the very file (its final newline may be
 *     missing) and its public half is its seed's;
 *   - a network key is the 32 raw bytes, or the 64 hex digits read in
 *     either case;
 *   - the trusted ids, written one a line, parse to the same list, and
 *     each id is spelled in the file as it is printed.
 * Seeds (tests/fuzz/corpus/keyfile) are written by the target itself:
 *   FUZZ_KEYFILE_WRITE_SEEDS=tests/fuzz/corpus/keyfile \
 *       tests/fuzz/fuzz_keyfile -runs=0
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NODE_KEY_HEADER "rumor-node-key v1\n"

/* A failed property names itself before the crash report. */
#define check(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n",   \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

/* The node.key file of id, as identity.c writes it; returns its size. */
static size_t node_key_text(const struct identity *id, char *out, size_t cap)
{
	size_t hl = strlen(NODE_KEY_HEADER), b64;

	b64 = sodium_base64_ENCODED_LEN(IDENTITY_SECRET_BYTES,
					sodium_base64_VARIANT_ORIGINAL);
	check(cap >= hl + b64 + 1);
	memcpy(out, NODE_KEY_HEADER, hl);
	sodium_bin2base64(out + hl, b64, id->secret_key, IDENTITY_SECRET_BYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	out[hl + b64 - 1] = '\n';
	return hl + b64;
}

static void fuzz_node_key(const uint8_t *data, size_t size)
{
	struct identity id;
	char text[256];
	struct err err;
	size_t n;

	memset(&id, 0, sizeof id);
	if (identity_parse(&id, data, size, "node.key", &err) != 0) {
		check(err.code == RUMOR_EKEYFILE && err.msg[0] != '\0');
		check(all_zero(id.secret_key, sizeof id.secret_key));
		return;
	}
	check(memcmp(id.public_key, id.secret_key + 32, 32) == 0);
	n = node_key_text(&id, text, sizeof text);
	check(size == n || size == n - 1);
	check(memcmp(text, data, size) == 0);
	identity_wipe(&id);
}

static void fuzz_network_key(const uint8_t *data, size_t size)
{
	uint8_t key[NETWORK_KEY_BYTES];
	char hex[2 * NETWORK_KEY_BYTES + 1];
	struct err err;
	size_t i;

	memset(key, 0xee, sizeof key);
	if (network_key_parse(data, size, key, "network.key", &err) != 0) {
		check(err.code == RUMOR_EKEYFILE && err.msg[0] != '\0');
		check(all_zero(key, sizeof key));
		return;
	}
	if (size == NETWORK_KEY_BYTES) {
		check(memcmp(key, data, size) == 0);
		return;
	}
	check(size == 64 || (size == 65 && data[64] == '\n'));
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	for (i = 0; i < 64; i++)
		check(hex[i] == tolower(data[i]));
}

/* Whether the id string s appears in the input. */
static int input_has(const uint8_t *data, size_t size, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i + n <= size; i++)
		if (memcmp(data + i, s, n) == 0)
			return 1;
	return 0;
}

static void fuzz_trusted_keys(const uint8_t *data, size_t size)
{
	struct trusted_keys tk, again;
	char id[IDENTITY_ID_STRLEN], *file;
	struct err err;
	size_t i, lines = 1;

	if (trusted_keys_parse(&tk, data, size, "trusted", &err) != 0) {
		check(err.code == RUMOR_EKEYFILE && err.msg[0] != '\0');
		check(tk.n == 0 && tk.keys == NULL);
		return;
	}
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	check(tk.n <= lines);
	file = malloc(tk.n * IDENTITY_ID_STRLEN + 1);
	check(file != NULL);
	for (i = 0; i < tk.n; i++) {
		identity_id_string(tk.keys[i], id);
		check(input_has(data, size, id));
		check(trusted_keys_contains(&tk, tk.keys[i]));
		memcpy(file + i * IDENTITY_ID_STRLEN, id,
		       IDENTITY_ID_STRLEN - 1);
		file[i * IDENTITY_ID_STRLEN + IDENTITY_ID_STRLEN - 1] = '\n';
	}
	check(trusted_keys_parse(&again, (const uint8_t *)file,
				 tk.n * IDENTITY_ID_STRLEN, "again",
				 &err) == 0);
	check(again.n == tk.n);
	check(tk.n == 0 || memcmp(again.keys, tk.keys,
				  tk.n * IDENTITY_PUBLIC_BYTES) == 0);
	trusted_keys_free(&again);
	trusted_keys_free(&tk);
	free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_node_key(data, size);
	fuzz_network_key(data, size);
	fuzz_trusted_keys(data, size);
	return 0;
}

/* ------------------------------------------------------------ seeds */

static void write_seed(const char *dir, const char *name, const void *p,
		       size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	check(f != NULL && fwrite(p, 1, n, f) == n && fclose(f) == 0);
}

static void write_seeds(const char *dir)
{
	struct identity id, id2;
	uint8_t seed[32], key[NETWORK_KEY_BYTES];
	char text[256], hex[2 * NETWORK_KEY_BYTES + 2];
	char id_a[IDENTITY_ID_STRLEN], id_b[IDENTITY_ID_STRLEN];
	char trusted[512];
	size_t n, i;

	memset(seed, 0x42, sizeof seed);
	crypto_sign_seed_keypair(id.public_key, id.secret_key, seed);
	memset(seed, 0x43, sizeof seed);
	crypto_sign_seed_keypair(id2.public_key, id2.secret_key, seed);
	n = node_key_text(&id, text, sizeof text);
	write_seed(dir, "node-key", text, n);
	write_seed(dir, "node-key-no-newline", text, n - 1);
	/* A public half that is not the seed's. */
	memcpy(id.secret_key + 32, id2.public_key, 32);
	n = node_key_text(&id, text, sizeof text);
	write_seed(dir, "node-key-wrong-public-half", text, n);

	for (i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	write_seed(dir, "network-key-raw", key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	hex[64] = '\n';
	write_seed(dir, "network-key-hex", hex, 65);
	write_seed(dir, "network-key-hex-no-newline", hex, 64);
	for (i = 0; i < 64; i++)
		hex[i] = (char)toupper(hex[i]);
	write_seed(dir, "network-key-hex-upper", hex, 65);

	identity_id_string(id.public_key, id_a);
	identity_id_string(id2.public_key, id_b);
	n = (size_t)snprintf(trusted, sizeof trusted,
			     "# the cluster\n%s\n\n  %s  # node b\r\n#%s\n",
			     id_a, id_b, id_a);
	write_seed(dir, "trusted-keys", trusted, n);
	n = (size_t)snprintf(trusted, sizeof trusted, "%s", id_b);
	write_seed(dir, "trusted-keys-one-no-newline", trusted, n);
	write_seed(dir, "trusted-keys-empty", "", 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_KEYFILE_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	if (dir != NULL)
		write_seeds(dir);
	return 0;
}
