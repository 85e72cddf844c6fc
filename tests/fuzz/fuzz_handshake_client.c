/* SPDX-License-Identifier: MIT */
/*
 * fuzz_handshake_client: libFuzzer target for the client side of the
 * handshake (crypto/handshake.h): what a node does with messages 2 and 4
 * when it dials someone who may be hostile. The client has a fixed
 * identity, network key and ephemeral key, so a recorded session replays
 * byte for byte. The first input byte picks how the rest is used:
 *
 *   even: the bytes the server sends, cut into messages of
 *         handshake_expect() bytes (a short tail is a truncated message).
 *         Bit 1 and 2 pick the client's checks: the expected server key
 *         (0), a trusted-keys list holding it (2), or none (4, 6).
 *   odd:  a server that knows something plays it out with a real server
 *         state machine: bytes 1..32 seed its identity, 33..64 its
 *         ephemeral key, byte 65 bit 0 gives it another network key (bits
 *         1 and 2 pick the client's checks as above), and the rest is XORed
 *         over messages 2 and 4 on their way.
 *
 * Checks: no crash or read past a message; an error is final (nothing
 * produced, nothing more accepted); message 3 has its fixed size; the
 * client finishes only with the server identity its checks allow; and in
 * the played-out mode it finishes exactly when nothing was altered, the
 * network keys agree and the identity passes, with session keys that
 * mirror the server's.
 *
 * Seeds (tests/fuzz/corpus/handshake_client) are written by the target:
 *   FUZZ_HANDSHAKE_CLIENT_WRITE_SEEDS=tests/fuzz/corpus/handshake_client \
 *       tests/fuzz/fuzz_handshake_client -runs=0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/handshake.h"
#include "crypto/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A failed property names itself before the crash report. */
#define check(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n",   \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

#define CHECKS_EXPECTED 0       /* the client expects the server's key */
#define CHECKS_TRUSTED 1        /* the client trusts a list holding it */
#define CHECKS_NONE 2           /* any identity */

#define PLAY_HEAD 66            /* mode, two seeds, flags */
#define SERVER_SENDS (HANDSHAKE_MSG2_BYTES + HANDSHAKE_MSG4_BYTES)

struct keys {
	struct identity client, server;
	uint8_t network_key[NETWORK_KEY_BYTES];
	uint8_t client_eph_seed[32];
	uint8_t server_id_seed[32], server_eph_seed[32];
	uint8_t trusted_store[1][IDENTITY_PUBLIC_BYTES];
	struct trusted_keys trusted;
};

static struct keys k;      /* set once, by LLVMFuzzerInitialize */
static _Alignas(max_align_t) uint8_t client_storage[1024];
static _Alignas(max_align_t) uint8_t server_storage[1024];

static void keys_init(void)
{
	if (sodium_init() < 0)
		abort();
	check(handshake_size() <= sizeof client_storage);
	memset(k.client_eph_seed, 0x01, 32);
	memset(k.server_eph_seed, 0x02, 32);
	memset(k.server_id_seed, 0xb0, 32);
	crypto_sign_seed_keypair(k.server.public_key, k.server.secret_key,
				 k.server_id_seed);
	{
		uint8_t seed[32];

		memset(seed, 0xa1, sizeof seed);
		crypto_sign_seed_keypair(k.client.public_key,
					 k.client.secret_key, seed);
	}
	memset(k.network_key, 0x11, sizeof k.network_key);
	memcpy(k.trusted_store[0], k.server.public_key, IDENTITY_PUBLIC_BYTES);
	k.trusted.n = 1;
	k.trusted.keys = k.trusted_store;
}

/* A client with the fixed keys and the given checks, message 1 sent. */
static struct handshake *client_start(int checks, uint8_t m1[HANDSHAKE_MSG_MAX])
{
	struct handshake *c = (struct handshake *)client_storage;
	struct handshake_config cfg;
	size_t len;

	memset(&cfg, 0, sizeof cfg);
	cfg.identity = &k.client;
	cfg.network_key = k.network_key;
	if (checks == CHECKS_EXPECTED)
		cfg.expected_server_key = k.server.public_key;
	if (checks == CHECKS_TRUSTED)
		cfg.trusted = &k.trusted;
	handshake_client_init(c, &cfg);
	handshake_test_set_ephemeral(c, k.client_eph_seed);
	check(handshake_client_start(c, m1, &len, NULL) == 0);
	check(len == HANDSHAKE_MSG1_BYTES);
	return c;
}

static int checks_of(uint8_t bits)
{
	return (bits & 6) == 0 ? CHECKS_EXPECTED :
	       (bits & 6) == 2 ? CHECKS_TRUSTED : CHECKS_NONE;
}

/* One message to the client; checks what every reply must be. Its
 * reply (message 3) goes to out. */
static int client_recv(struct handshake *c, const uint8_t *msg, size_t n,
		       size_t want, uint8_t out[HANDSHAKE_MSG_MAX])
{
	size_t out_len = 7;
	struct err err;
	int rv;

	rv = handshake_recv(c, msg, n, out, &out_len, &err);
	if (rv != 0) {
		/* Errors are final and produce nothing. */
		check(rv == RUMOR_EAUTH || rv == RUMOR_EPROTO);
		check(err.code == rv && err.msg[0] != '\0');
		check(out_len == 0 && handshake_expect(c) == 0 &&
		      !handshake_done(c));
		out_len = 7;
		check(handshake_recv(c, msg, n, out, &out_len, NULL) != 0);
		check(out_len == 0);
		return rv;
	}
	check(n == want);
	if (want == HANDSHAKE_MSG2_BYTES)
		check(out_len == HANDSHAKE_MSG3_BYTES &&
		      handshake_expect(c) == HANDSHAKE_MSG4_BYTES);
	else
		check(out_len == 0 && handshake_done(c));
	return 0;
}

/* Even modes: the input is what the server sends. */
static void fuzz_wire(int checks, const uint8_t *data, size_t size)
{
	uint8_t m1[HANDSHAKE_MSG_MAX], m3[HANDSHAKE_MSG_MAX];
	struct handshake *c = client_start(checks, m1);
	size_t want;

	while ((want = handshake_expect(c)) != 0 && size > 0) {
		size_t n = size < want ? size : want;

		if (client_recv(c, data, n, want, m3) != 0)
			break;
		data += n;
		size -= n;
	}
	if (handshake_done(c)) {
		struct handshake_result res;

		/* Nobody but the holder of the server's key can sign M4. */
		handshake_get_result(c, &res);
		check(memcmp(res.peer_public_key, k.server.public_key,
			     IDENTITY_PUBLIC_BYTES) == 0);
	}
	handshake_wipe(c);
}

/* XORs the mask bytes for positions [at, at + n) of what the server
 * sends into msg; returns whether any was nonzero. */
static int apply_mask(uint8_t *msg, size_t n, size_t at, const uint8_t *mask,
		      size_t mask_len)
{
	int changed = 0;
	size_t i;

	for (i = 0; i < n && at + i < mask_len; i++) {
		msg[i] ^= mask[at + i];
		changed |= mask[at + i] != 0;
	}
	return changed;
}

/* Odd modes: a real server, maybe with another key, messages altered. */
static void fuzz_play(const uint8_t *data, size_t size)
{
	struct handshake *s = (struct handshake *)server_storage;
	struct handshake *c;
	struct handshake_config scfg;
	struct handshake_result cres, sres;
	struct identity server;
	uint8_t netkey[NETWORK_KEY_BYTES];
	uint8_t m1[HANDSHAKE_MSG_MAX], m2[HANDSHAKE_MSG_MAX];
	uint8_t m3[HANDSHAKE_MSG_MAX], m4[HANDSHAKE_MSG_MAX];
	size_t len2 = 0, len4 = 0;
	const uint8_t *mask = data + PLAY_HEAD;
	size_t mask_len = size - PLAY_HEAD;
	int checks = checks_of(data[65]), other_net = data[65] & 1;
	int altered, allowed;

	crypto_sign_seed_keypair(server.public_key, server.secret_key,
				 data + 1);
	memcpy(netkey, k.network_key, sizeof netkey);
	if (other_net)
		netkey[0] ^= 0x80;
	memset(&scfg, 0, sizeof scfg);
	scfg.identity = &server;
	scfg.network_key = netkey;
	handshake_server_init(s, &scfg);
	handshake_test_set_ephemeral(s, data + 33);
	allowed = !other_net &&
		  (checks == CHECKS_NONE ||
		   memcmp(server.public_key, k.server.public_key,
			  IDENTITY_PUBLIC_BYTES) == 0);

	c = client_start(checks, m1);
	if (handshake_recv(s, m1, HANDSHAKE_MSG1_BYTES, m2, &len2,
			   NULL) != 0) {
		/* A server of another network stays silent: the client
		 * gets zeros (then the mask) instead. */
		check(other_net);
		memset(m2, 0, sizeof m2);
		len2 = HANDSHAKE_MSG2_BYTES;
	}
	check(len2 == HANDSHAKE_MSG2_BYTES);
	altered = apply_mask(m2, len2, 0, mask, mask_len);
	if (client_recv(c, m2, len2, HANDSHAKE_MSG2_BYTES, m3) != 0) {
		check(other_net || altered);
		goto out;
	}
	check(!other_net && !altered);
	check(handshake_recv(s, m3, HANDSHAKE_MSG3_BYTES, m4, &len4,
			     NULL) == 0);
	check(len4 == HANDSHAKE_MSG4_BYTES && handshake_done(s));
	altered = apply_mask(m4, len4, HANDSHAKE_MSG2_BYTES, mask, mask_len);
	if (client_recv(c, m4, len4, HANDSHAKE_MSG4_BYTES, m3) != 0) {
		check(altered || !allowed);
		goto out;
	}
	/* Finished: only untouched, with an identity the checks allow, and
	 * with the server's keys mirrored. */
	check(!altered && allowed);
	handshake_get_result(c, &cres);
	handshake_get_result(s, &sres);
	check(memcmp(cres.peer_public_key, server.public_key,
		     IDENTITY_PUBLIC_BYTES) == 0);
	check(memcmp(sres.peer_public_key, k.client.public_key,
		     IDENTITY_PUBLIC_BYTES) == 0);
	check(memcmp(cres.tx_key, sres.rx_key, SESSION_KEY_BYTES) == 0);
	check(memcmp(cres.rx_key, sres.tx_key, SESSION_KEY_BYTES) == 0);
	check(memcmp(cres.tx_key, cres.rx_key, SESSION_KEY_BYTES) != 0);
out:
	handshake_wipe(c);
	handshake_wipe(s);
	sodium_memzero(&server, sizeof server);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_wire(checks_of(data[0]), data + 1, size - 1);
	else if (size >= PLAY_HEAD)
		fuzz_play(data, size);
	return 0;
}

/* ------------------------------------------------------------ seeds */

static void write_seed(const char *dir, const char *name, const uint8_t *p,
		       size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	check(f != NULL && fwrite(p, 1, n, f) == n && fclose(f) == 0);
}

/* Records what the fixed server sends the fixed client. */
static void write_seeds(const char *dir)
{
	struct handshake *c = (struct handshake *)client_storage;
	struct handshake *s = (struct handshake *)server_storage;
	struct handshake_config scfg;
	uint8_t m1[HANDSHAKE_MSG_MAX], m3[HANDSHAKE_MSG_MAX];
	uint8_t in[1 + SERVER_SENDS], play[PLAY_HEAD + SERVER_SENDS];
	size_t len;

	memset(&scfg, 0, sizeof scfg);
	scfg.identity = &k.server;
	scfg.network_key = k.network_key;
	handshake_server_init(s, &scfg);
	handshake_test_set_ephemeral(s, k.server_eph_seed);
	c = client_start(CHECKS_EXPECTED, m1);
	in[0] = 0;
	check(handshake_recv(s, m1, HANDSHAKE_MSG1_BYTES, in + 1, &len,
			     NULL) == 0);
	check(handshake_recv(c, in + 1, len, m3, &len, NULL) == 0);
	check(handshake_recv(s, m3, len, in + 1 + HANDSHAKE_MSG2_BYTES,
			     &len, NULL) == 0);
	write_seed(dir, "m2-m4", in, sizeof in);
	in[0] = 2;
	write_seed(dir, "m2-m4-trusted", in, sizeof in);
	in[0] = 4;
	write_seed(dir, "m2-m4-anyone", in, sizeof in);
	in[0] = 0;
	write_seed(dir, "m2", in, 1 + HANDSHAKE_MSG2_BYTES);
	write_seed(dir, "m2-m4-truncated", in, sizeof in - 1);
	handshake_wipe(c);
	handshake_wipe(s);

	memset(play, 0, sizeof play);
	play[0] = 1;
	memcpy(play + 1, k.server_id_seed, 32);
	memcpy(play + 33, k.server_eph_seed, 32);
	write_seed(dir, "play", play, PLAY_HEAD);
	play[65] = 2;
	write_seed(dir, "play-trusted", play, PLAY_HEAD);
	play[65] = 1;
	write_seed(dir, "play-other-network", play, PLAY_HEAD);
	play[65] = 0;
	play[1] ^= 1;           /* another server identity */
	write_seed(dir, "play-unexpected-server", play, PLAY_HEAD);
	play[65] = 4;
	write_seed(dir, "play-any-server", play, PLAY_HEAD);
	play[1] ^= 1;
	play[65] = 0;
	play[PLAY_HEAD + HANDSHAKE_MSG2_BYTES + 5] = 0x40;
	write_seed(dir, "play-m4-altered", play, sizeof play);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_HANDSHAKE_CLIENT_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	keys_init();
	if (dir != NULL)
		write_seeds(dir);
	return 0;
}
