/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the input is what a client sends to the responder
 * side of the handshake, cut into messages of handshake_expect() bytes
 * (a short tail is fed as a truncated message). The server has a fixed
 * identity, network key and ephemeral key, so a recorded session (the
 * seeds in tests/fuzz/corpus/handshake) replays byte for byte and drives
 * the whole state machine to its end.
 *
 * Seeds are regenerated with:
 *   cc -DFUZZ_HANDSHAKE_MAKE_SEEDS -I include -I src -I . \
 *      tests/fuzz/fuzz_handshake.c crypto/handshake.c crypto/identity.c \
 *      lib/err.c -lsodium -o /tmp/mkseeds && \
 *   /tmp/mkseeds tests/fuzz/corpus/handshake
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/handshake.h"
#include "crypto/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_keys {
	struct identity client, server;
	uint8_t network_key[NETWORK_KEY_BYTES];
	uint8_t client_eph_seed[32], server_eph_seed[32];
	uint8_t trusted_store[1][IDENTITY_PUBLIC_BYTES];
	struct trusted_keys trusted;
};

static void fuzz_keys_init(struct fuzz_keys *k)
{
	uint8_t seed[32];

	if (sodium_init() < 0)
		abort();
	memset(seed, 0xa1, sizeof seed);
	crypto_sign_seed_keypair(k->client.public_key, k->client.secret_key,
				 seed);
	memset(seed, 0xb0, sizeof seed);
	crypto_sign_seed_keypair(k->server.public_key, k->server.secret_key,
				 seed);
	memset(k->network_key, 0x11, sizeof k->network_key);
	memset(k->client_eph_seed, 0x01, 32);
	memset(k->server_eph_seed, 0x02, 32);
	memcpy(k->trusted_store[0], k->client.public_key, IDENTITY_PUBLIC_BYTES);
	k->trusted.n = 1;
	k->trusted.keys = k->trusted_store;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_keys k;
	static int ready;
	static _Alignas(max_align_t) uint8_t storage[1024];
	struct handshake *hs = (struct handshake *)storage;
	struct handshake_config cfg;
	uint8_t out[HANDSHAKE_MSG_MAX];
	size_t out_len, want;
	struct err err;
	int rv = 0;

	if (!ready) {
		fuzz_keys_init(&k);
		assert(handshake_size() <= sizeof storage);
		ready = 1;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.identity = &k.server;
	cfg.network_key = k.network_key;
	cfg.trusted = &k.trusted;
	handshake_server_init(hs, &cfg);
	handshake_test_set_ephemeral(hs, k.server_eph_seed);

	while ((want = handshake_expect(hs)) != 0 && size > 0) {
		size_t n = size < want ? size : want;

		rv = handshake_recv(hs, data, n, out, &out_len, &err);
		if (rv != 0) {
			/* Errors are final and produce nothing. */
			if (out_len != 0 || handshake_expect(hs) != 0 ||
			    handshake_done(hs))
				abort();
			rv = handshake_recv(hs, data, n, out, &out_len, &err);
			if (rv == 0 || out_len != 0)
				abort();
			break;
		}
		if (out_len > HANDSHAKE_MSG_MAX)
			abort();
		data += n;
		size -= n;
	}
	if (handshake_done(hs)) {
		struct handshake_result res;

		handshake_get_result(hs, &res);
		/* Only the trusted client can ever finish. */
		if (memcmp(res.peer_public_key, k.client.public_key,
			   IDENTITY_PUBLIC_BYTES) != 0)
			abort();
	}
	handshake_wipe(hs);
	return 0;
}

#ifdef FUZZ_HANDSHAKE_MAKE_SEEDS
static void write_seed(const char *dir, const char *name, const uint8_t *p,
		       size_t n)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (fp == NULL || fwrite(p, 1, n, fp) != n || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

/* Records one real session between the fuzz identities and writes what
 * the client sent, whole and cut in useful places. */
int main(int argc, char **argv)
{
	struct fuzz_keys k;
	struct handshake_config cc, sc;
	struct handshake *c = malloc(handshake_size());
	struct handshake *s = malloc(handshake_size());
	uint8_t m[4][HANDSHAKE_MSG_MAX], none[HANDSHAKE_MSG_MAX];
	uint8_t all[HANDSHAKE_MSG1_BYTES + HANDSHAKE_MSG3_BYTES];
	size_t len[4], nlen;

	if (argc != 2 || c == NULL || s == NULL) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	fuzz_keys_init(&k);
	memset(&cc, 0, sizeof cc);
	cc.identity = &k.client;
	cc.network_key = k.network_key;
	sc = cc;
	sc.identity = &k.server;
	sc.trusted = &k.trusted;
	handshake_client_init(c, &cc);
	handshake_server_init(s, &sc);
	handshake_test_set_ephemeral(c, k.client_eph_seed);
	handshake_test_set_ephemeral(s, k.server_eph_seed);
	if (handshake_client_start(c, m[0], &len[0], NULL) != 0 ||
	    handshake_recv(s, m[0], len[0], m[1], &len[1], NULL) != 0 ||
	    handshake_recv(c, m[1], len[1], m[2], &len[2], NULL) != 0 ||
	    handshake_recv(s, m[2], len[2], m[3], &len[3], NULL) != 0 ||
	    handshake_recv(c, m[3], len[3], none, &nlen, NULL) != 0 ||
	    !handshake_done(c) || !handshake_done(s)) {
		fprintf(stderr, "recording the session failed\n");
		return 1;
	}
	memcpy(all, m[0], len[0]);
	memcpy(all + len[0], m[2], len[2]);
	write_seed(argv[1], "msg1", m[0], len[0]);
	write_seed(argv[1], "msg1-msg3", all, sizeof all);
	write_seed(argv[1], "msg1-truncated", m[0], len[0] - 1);
	write_seed(argv[1], "msg1-msg3-truncated", all, sizeof all - 1);
	{
		uint8_t extra[sizeof all + 1];

		memcpy(extra, all, sizeof all);
		extra[sizeof all] = 0;
		write_seed(argv[1], "msg1-msg3-extra", extra, sizeof extra);
	}
	/* Message 1 of a client of another network. */
	memset(k.network_key, 0x22, sizeof k.network_key);
	handshake_client_init(c, &cc);
	if (handshake_client_start(c, m[0], &len[0], NULL) != 0)
		return 1;
	write_seed(argv[1], "msg1-other-network", m[0], len[0]);
	free(c);
	free(s);
	return 0;
}
#endif
