/* SPDX-License-Identifier: MIT */
/*
 * handshake: the four-message, network-keyed mutual handshake. The
 * messages, key derivations and the reason for every check are in
 * crypto/README.md; the names here (M1..M4, h1..h3, k3, k4, ab, Ab, aB)
 * are the ones used there.
 */
#include "crypto/handshake.h"

#include <assert.h>
#include <string.h>

#include <sodium.h>

/* ------------------------------------------------------------------ */
/* Labels: every hash, tag and signature has its own, so that no value
 * made for one purpose is ever accepted for another (a server's tag as a
 * client's, a client's proof as a server's). */

#define LABEL_TAG1 "rumor-hs1 tag1"
#define LABEL_TAG2 "rumor-hs1 tag2"
#define LABEL_H1 "rumor-hs1 h1"
#define LABEL_H2 "rumor-hs1 h2"
#define LABEL_H3 "rumor-hs1 h3"
#define LABEL_K3 "rumor-hs1 k3"
#define LABEL_K4 "rumor-hs1 k4"
#define LABEL_SESSION "rumor-hs1 session"
#define LABEL_PROOF_CLIENT "rumor-hs1 client proof"
#define LABEL_PROOF_SERVER "rumor-hs1 server proof"
#define KDF_CONTEXT "rumor-hs"          /* crypto_kdf: exactly 8 bytes */
#define KDF_ID_C2S 1
#define KDF_ID_S2C 2

#define KEY_BYTES 32
#define SIG_BYTES crypto_sign_BYTES
#define SEALED_PLAIN_BYTES (IDENTITY_PUBLIC_BYTES + SIG_BYTES)

_Static_assert(HANDSHAKE_MSG1_BYTES == KEY_BYTES + crypto_auth_BYTES,
	       "M1 is an ephemeral key and a tag");
_Static_assert(HANDSHAKE_MSG2_BYTES == KEY_BYTES + crypto_auth_BYTES,
	       "M2 is an ephemeral key and a tag");
_Static_assert(HANDSHAKE_MSG3_BYTES ==
		       crypto_secretbox_MACBYTES + SEALED_PLAIN_BYTES,
	       "M3 is a sealed identity and signature");
_Static_assert(HANDSHAKE_MSG4_BYTES == HANDSHAKE_MSG3_BYTES,
	       "M4 has the shape of M3");
_Static_assert(HANDSHAKE_MSG3_BYTES <= HANDSHAKE_MSG_MAX, "bound");
_Static_assert(crypto_auth_KEYBYTES == NETWORK_KEY_BYTES, "HMAC key");
_Static_assert(crypto_kdf_KEYBYTES == KEY_BYTES, "kdf key");
_Static_assert(crypto_secretbox_KEYBYTES == KEY_BYTES, "secretbox key");
_Static_assert(crypto_scalarmult_BYTES == KEY_BYTES, "x25519 size");
_Static_assert(sizeof KDF_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES, "ctx");

enum hs_state {
	HS_CLIENT_START,        /* client: nothing sent yet */
	HS_CLIENT_WAIT_M2,
	HS_CLIENT_WAIT_M4,
	HS_SERVER_WAIT_M1,
	HS_SERVER_WAIT_M3,
	HS_DONE,
	HS_FAILED,
};

struct handshake {
	enum hs_state state;
	int is_client;
	int fail_code;                  /* once HS_FAILED: the first error */
	const struct identity *identity;
	const struct trusted_keys *trusted;
	int has_expected_server;
	uint8_t expected_server[IDENTITY_PUBLIC_BYTES];
	uint8_t network_key[NETWORK_KEY_BYTES];
	uint8_t eph_pk[KEY_BYTES];      /* ours */
	uint8_t eph_sk[KEY_BYTES];
	uint8_t peer_eph_pk[KEY_BYTES];
	uint8_t ab[KEY_BYTES];          /* X25519 of the two ephemerals */
	uint8_t h[KEY_BYTES];           /* transcript hash so far */
	struct handshake_result result; /* peer key, then session keys */
};

/* ------------------------------------------------------------------ */
/* Helpers */

struct part {
	const void *p;
	size_t n;
};

/* out = BLAKE2b-256 keyed with the network key over label || parts.
 * Keying every hash with K binds every derived value to the network. */
static void keyed_hash(const struct handshake *hs, uint8_t out[KEY_BYTES],
		       const char *label, const struct part *parts,
		       size_t nparts)
{
	crypto_generichash_state st;
	size_t i;

	crypto_generichash_init(&st, hs->network_key, NETWORK_KEY_BYTES,
				KEY_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	for (i = 0; i < nparts; i++)
		crypto_generichash_update(&st, parts[i].p, parts[i].n);
	crypto_generichash_final(&st, out, KEY_BYTES);
	sodium_memzero(&st, sizeof st);
}

/* Tag of an ephemeral key: HMAC-SHA-512-256 under the network key over
 * label || eph || other (other may be NULL). */
static void eph_tag(const struct handshake *hs, uint8_t out[crypto_auth_BYTES],
		    const char *label, const uint8_t eph[KEY_BYTES],
		    const uint8_t *other)
{
	crypto_auth_hmacsha512256_state st;

	crypto_auth_hmacsha512256_init(&st, hs->network_key,
				       NETWORK_KEY_BYTES);
	crypto_auth_hmacsha512256_update(&st, (const uint8_t *)label,
					 strlen(label));
	crypto_auth_hmacsha512256_update(&st, eph, KEY_BYTES);
	if (other != NULL)
		crypto_auth_hmacsha512256_update(&st, other, KEY_BYTES);
	crypto_auth_hmacsha512256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

/* The bytes a side signs: label || transcript hash [|| extra key]. */
static size_t proof_message(uint8_t *buf, size_t cap, const char *label,
			    const uint8_t h[KEY_BYTES], const uint8_t *extra)
{
	size_t ll = strlen(label);
	size_t n = ll + KEY_BYTES + (extra != NULL ? KEY_BYTES : 0);

	assert(n <= cap);
	(void)cap;
	memcpy(buf, label, ll);
	memcpy(buf + ll, h, KEY_BYTES);
	if (extra != NULL)
		memcpy(buf + ll + KEY_BYTES, extra, KEY_BYTES);
	return n;
}

#define PROOF_MSG_MAX 96

/* X25519 of one of our Ed25519 secret keys (as a curve key) with a peer's
 * X25519 public key. -1 on a low-order result. */
static int dh_static_secret(uint8_t out[KEY_BYTES],
			    const uint8_t ed_sk[IDENTITY_SECRET_BYTES],
			    const uint8_t peer[KEY_BYTES])
{
	uint8_t curve_sk[KEY_BYTES];
	int rv;

	crypto_sign_ed25519_sk_to_curve25519(curve_sk, ed_sk);
	rv = crypto_scalarmult(out, curve_sk, peer);
	sodium_memzero(curve_sk, sizeof curve_sk);
	return rv;
}

/* X25519 of an ephemeral secret with a peer's Ed25519 public key (as a
 * curve key). -1 when the key has no curve form or the result is low
 * order. */
static int dh_static_public(uint8_t out[KEY_BYTES],
			    const uint8_t eph_sk[KEY_BYTES],
			    const uint8_t ed_pk[IDENTITY_PUBLIC_BYTES])
{
	uint8_t curve_pk[KEY_BYTES];

	if (crypto_sign_ed25519_pk_to_curve25519(curve_pk, ed_pk) != 0)
		return -1;
	return crypto_scalarmult(out, eph_sk, curve_pk);
}

static int peer_is_trusted(const struct handshake *hs,
			   const uint8_t pk[IDENTITY_PUBLIC_BYTES])
{
	return hs->trusted == NULL || trusted_keys_contains(hs->trusted, pk);
}

/* Session keys from all three DH results and the whole transcript, so
 * they are fresh (ab), bound to both identities (Ab, aB) and to every
 * byte exchanged (h3). */
static void derive_session(struct handshake *hs, const uint8_t Ab[KEY_BYTES],
			   const uint8_t aB[KEY_BYTES])
{
	uint8_t master[KEY_BYTES];
	uint8_t c2s[SESSION_KEY_BYTES], s2c[SESSION_KEY_BYTES];
	struct part parts[] = {
		{ hs->ab, KEY_BYTES },
		{ Ab, KEY_BYTES },
		{ aB, KEY_BYTES },
		{ hs->h, KEY_BYTES },
	};

	keyed_hash(hs, master, LABEL_SESSION, parts, 4);
	crypto_kdf_derive_from_key(c2s, sizeof c2s, KDF_ID_C2S, KDF_CONTEXT,
				   master);
	crypto_kdf_derive_from_key(s2c, sizeof s2c, KDF_ID_S2C, KDF_CONTEXT,
				   master);
	memcpy(hs->result.tx_key, hs->is_client ? c2s : s2c, SESSION_KEY_BYTES);
	memcpy(hs->result.rx_key, hs->is_client ? s2c : c2s, SESSION_KEY_BYTES);
	sodium_memzero(master, sizeof master);
	sodium_memzero(c2s, sizeof c2s);
	sodium_memzero(s2c, sizeof s2c);
}

/* Wipes every secret that is no longer needed once the session keys
 * exist (or once the handshake has failed). */
static void wipe_ephemeral(struct handshake *hs)
{
	sodium_memzero(hs->eph_sk, sizeof hs->eph_sk);
	sodium_memzero(hs->ab, sizeof hs->ab);
}

/* Moves hs to the final failed state and records the error. */
static int fail(struct handshake *hs, struct err *err, int code,
		const char *what)
{
	wipe_ephemeral(hs);
	sodium_memzero(&hs->result, sizeof hs->result);
	hs->state = HS_FAILED;
	hs->fail_code = code;
	return err_set(err, code, "handshake: %s", what);
}

/* Both ends finish alike once message 4 is made or checked: it goes into
 * the transcript, the peer's identity is recorded, the session keys are
 * derived and the ephemeral secrets wiped. */
static void finish(struct handshake *hs, const uint8_t *msg4,
		   const uint8_t peer[IDENTITY_PUBLIC_BYTES],
		   const uint8_t Ab[KEY_BYTES], const uint8_t aB[KEY_BYTES])
{
	struct part p[] = { { hs->h, KEY_BYTES },
			    { msg4, HANDSHAKE_MSG4_BYTES } };

	keyed_hash(hs, hs->h, LABEL_H3, p, 2);
	memcpy(hs->result.peer_public_key, peer, IDENTITY_PUBLIC_BYTES);
	derive_session(hs, Ab, aB);
	wipe_ephemeral(hs);
	hs->state = HS_DONE;
}

/* ------------------------------------------------------------------ */
/* Setup */

size_t handshake_size(void)
{
	return sizeof(struct handshake);
}

static void init_common(struct handshake *hs,
			const struct handshake_config *cfg, int is_client)
{
	assert(cfg != NULL && cfg->identity != NULL);
	assert(cfg->network_key != NULL);
	/* sodium_init is idempotent and thread-safe; -1 only when the
	 * system has no usable randomness, which randombytes would abort on
	 * anyway. */
	if (sodium_init() < 0)
		assert(!"sodium_init failed");

	memset(hs, 0, sizeof *hs);
	hs->is_client = is_client;
	hs->identity = cfg->identity;
	hs->trusted = cfg->trusted;
	memcpy(hs->network_key, cfg->network_key, NETWORK_KEY_BYTES);
	if (is_client && cfg->expected_server_key != NULL) {
		hs->has_expected_server = 1;
		memcpy(hs->expected_server, cfg->expected_server_key,
		       IDENTITY_PUBLIC_BYTES);
	}
	crypto_box_keypair(hs->eph_pk, hs->eph_sk);
	hs->state = is_client ? HS_CLIENT_START : HS_SERVER_WAIT_M1;
}

void handshake_client_init(struct handshake *hs,
			   const struct handshake_config *cfg)
{
	init_common(hs, cfg, 1);
}

void handshake_server_init(struct handshake *hs,
			   const struct handshake_config *cfg)
{
	init_common(hs, cfg, 0);
}

void handshake_test_set_ephemeral(struct handshake *hs,
				  const uint8_t seed[static 32])
{
	assert(hs->state == HS_CLIENT_START || hs->state == HS_SERVER_WAIT_M1);
	crypto_box_seed_keypair(hs->eph_pk, hs->eph_sk, seed);
}

/* ------------------------------------------------------------------ */
/* Client */

int handshake_client_start(struct handshake *hs, uint8_t *out,
			   size_t *out_len, struct err *err)
{
	assert(out != NULL && out_len != NULL);
	*out_len = 0;
	if (hs->state == HS_FAILED)
		return err_set(err, hs->fail_code,
			       "handshake: already failed");
	if (!hs->is_client || hs->state != HS_CLIENT_START)
		return fail(hs, err, RUMOR_EINVAL,
			    "client_start on a server or a started handshake");

	/* M1 = a_pub || HMAC(K, tag1 || a_pub) */
	memcpy(out, hs->eph_pk, KEY_BYTES);
	eph_tag(hs, out + KEY_BYTES, LABEL_TAG1, hs->eph_pk, NULL);
	*out_len = HANDSHAKE_MSG1_BYTES;
	hs->state = HS_CLIENT_WAIT_M2;
	return 0;
}

/* M2 = b_pub || HMAC(K, tag2 || b_pub || a_pub). Replies M3. */
static int client_recv_m2(struct handshake *hs, const uint8_t *msg,
			  uint8_t *out, size_t *out_len, struct err *err)
{
	const struct identity *id = hs->identity;
	uint8_t m1[HANDSHAKE_MSG1_BYTES];
	uint8_t tag[crypto_auth_BYTES];
	uint8_t k3[KEY_BYTES];
	uint8_t plain[SEALED_PLAIN_BYTES];
	uint8_t proof[PROOF_MSG_MAX];
	size_t proof_len;

	eph_tag(hs, tag, LABEL_TAG2, msg, hs->eph_pk);
	if (sodium_memcmp(tag, msg + KEY_BYTES, sizeof tag) != 0)
		return fail(hs, err, RUMOR_EAUTH,
			    "server does not know the network key "
			    "(or message 2 was altered or replayed)");
	memcpy(hs->peer_eph_pk, msg, KEY_BYTES);
	if (crypto_scalarmult(hs->ab, hs->eph_sk, hs->peer_eph_pk) != 0)
		return fail(hs, err, RUMOR_EAUTH,
			    "server ephemeral key is of low order");

	/* h1 = H_K(label || M1 || M2); M1 is rebuilt from our own key (its
	 * tag is deterministic), so the struct need not keep it. */
	memcpy(m1, hs->eph_pk, KEY_BYTES);
	eph_tag(hs, m1 + KEY_BYTES, LABEL_TAG1, hs->eph_pk, NULL);
	{
		struct part p[] = { { m1, sizeof m1 },
				    { msg, HANDSHAKE_MSG2_BYTES } };
		keyed_hash(hs, hs->h, LABEL_H1, p, 2);
	}
	{
		struct part p[] = { { hs->ab, KEY_BYTES },
				    { hs->h, KEY_BYTES } };
		keyed_hash(hs, k3, LABEL_K3, p, 2);
	}

	/* M3 = secretbox_k3(A || sign_A(proof label || h1)) */
	proof_len = proof_message(proof, sizeof proof, LABEL_PROOF_CLIENT,
				  hs->h, NULL);
	memcpy(plain, id->public_key, IDENTITY_PUBLIC_BYTES);
	crypto_sign_detached(plain + IDENTITY_PUBLIC_BYTES, NULL, proof,
			     proof_len, id->secret_key);
	{
		/* Each k3 seals exactly one message, so a zero nonce is
		 * never reused under one key. */
		static const uint8_t zero_nonce[crypto_secretbox_NONCEBYTES];

		crypto_secretbox_easy(out, plain, sizeof plain, zero_nonce,
				      k3);
	}
	sodium_memzero(k3, sizeof k3);
	sodium_memzero(plain, sizeof plain);
	*out_len = HANDSHAKE_MSG3_BYTES;

	{
		struct part p[] = { { hs->h, KEY_BYTES },
				    { out, HANDSHAKE_MSG3_BYTES } };
		keyed_hash(hs, hs->h, LABEL_H2, p, 2);
	}
	hs->state = HS_CLIENT_WAIT_M4;
	return 0;
}

/* M4 = secretbox_k4(B || sign_B(proof label || h2 || A)). Ends. */
static int client_recv_m4(struct handshake *hs, const uint8_t *msg,
			  struct err *err)
{
	static const uint8_t zero_nonce[crypto_secretbox_NONCEBYTES];
	const struct identity *id = hs->identity;
	uint8_t Ab[KEY_BYTES], aB[KEY_BYTES], k4[KEY_BYTES];
	uint8_t plain[SEALED_PLAIN_BYTES];
	uint8_t proof[PROOF_MSG_MAX];
	const uint8_t *B = plain;
	size_t proof_len;
	int rv;

	if (dh_static_secret(Ab, id->secret_key, hs->peer_eph_pk) != 0) {
		rv = fail(hs, err, RUMOR_EAUTH, "low-order key agreement");
		goto out;
	}
	{
		struct part p[] = { { hs->ab, KEY_BYTES }, { Ab, KEY_BYTES },
				    { hs->h, KEY_BYTES } };
		keyed_hash(hs, k4, LABEL_K4, p, 3);
	}
	if (crypto_secretbox_open_easy(plain, msg, HANDSHAKE_MSG4_BYTES,
				       zero_nonce, k4) != 0) {
		rv = fail(hs, err, RUMOR_EAUTH,
			  "message 4 does not authenticate (server did not "
			  "see our identity, or a relay is in the middle)");
		goto out;
	}
	proof_len = proof_message(proof, sizeof proof, LABEL_PROOF_SERVER,
				  hs->h, id->public_key);
	if (crypto_sign_verify_detached(plain + IDENTITY_PUBLIC_BYTES, proof,
					proof_len, B) != 0) {
		rv = fail(hs, err, RUMOR_EAUTH, "server signature is invalid");
		goto out;
	}
	if (hs->has_expected_server &&
	    sodium_memcmp(B, hs->expected_server, IDENTITY_PUBLIC_BYTES) != 0) {
		rv = fail(hs, err, RUMOR_EAUTH,
			  "server is not the expected identity");
		goto out;
	}
	if (!peer_is_trusted(hs, B)) {
		rv = fail(hs, err, RUMOR_EAUTH,
			  "server identity is not in the trusted keys");
		goto out;
	}
	if (dh_static_public(aB, hs->eph_sk, B) != 0) {
		rv = fail(hs, err, RUMOR_EAUTH,
			  "server identity key has no usable curve form");
		goto out;
	}

	finish(hs, msg, B, Ab, aB);
	rv = 0;
out:
	sodium_memzero(Ab, sizeof Ab);
	sodium_memzero(aB, sizeof aB);
	sodium_memzero(k4, sizeof k4);
	sodium_memzero(plain, sizeof plain);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Server */

/* M1 = a_pub || HMAC(K, tag1 || a_pub). Replies M2. */
static int server_recv_m1(struct handshake *hs, const uint8_t *msg,
			  uint8_t *out, size_t *out_len, struct err *err)
{
	uint8_t tag[crypto_auth_BYTES];

	/* Without K a peer fails here, before we send anything: it learns
	 * nothing, not even that a rumor node listens. */
	eph_tag(hs, tag, LABEL_TAG1, msg, NULL);
	if (sodium_memcmp(tag, msg + KEY_BYTES, sizeof tag) != 0)
		return fail(hs, err, RUMOR_EAUTH,
			    "client does not know the network key "
			    "(or message 1 was altered)");
	memcpy(hs->peer_eph_pk, msg, KEY_BYTES);
	if (crypto_scalarmult(hs->ab, hs->eph_sk, hs->peer_eph_pk) != 0)
		return fail(hs, err, RUMOR_EAUTH,
			    "client ephemeral key is of low order");

	memcpy(out, hs->eph_pk, KEY_BYTES);
	eph_tag(hs, out + KEY_BYTES, LABEL_TAG2, hs->eph_pk, hs->peer_eph_pk);
	*out_len = HANDSHAKE_MSG2_BYTES;
	{
		struct part p[] = { { msg, HANDSHAKE_MSG1_BYTES },
				    { out, HANDSHAKE_MSG2_BYTES } };
		keyed_hash(hs, hs->h, LABEL_H1, p, 2);
	}
	hs->state = HS_SERVER_WAIT_M3;
	return 0;
}

/* M3 = secretbox_k3(A || sign_A(proof label || h1)). Replies M4, ends. */
static int server_recv_m3(struct handshake *hs, const uint8_t *msg,
			  uint8_t *out, size_t *out_len, struct err *err)
{
	static const uint8_t zero_nonce[crypto_secretbox_NONCEBYTES];
	const struct identity *id = hs->identity;
	uint8_t k3[KEY_BYTES], k4[KEY_BYTES], Ab[KEY_BYTES], aB[KEY_BYTES];
	uint8_t plain[SEALED_PLAIN_BYTES];
	uint8_t reply[SEALED_PLAIN_BYTES];
	uint8_t proof[PROOF_MSG_MAX];
	uint8_t A[IDENTITY_PUBLIC_BYTES];
	size_t proof_len;
	int rv;

	{
		struct part p[] = { { hs->ab, KEY_BYTES },
				    { hs->h, KEY_BYTES } };
		keyed_hash(hs, k3, LABEL_K3, p, 2);
	}
	if (crypto_secretbox_open_easy(plain, msg, HANDSHAKE_MSG3_BYTES,
				       zero_nonce, k3) != 0) {
		rv = fail(hs, err, RUMOR_EAUTH,
			  "message 3 does not authenticate (replayed, "
			  "altered, or a relay is in the middle)");
		goto out;
	}
	memcpy(A, plain, sizeof A);
	proof_len = proof_message(proof, sizeof proof, LABEL_PROOF_CLIENT,
				  hs->h, NULL);
	if (crypto_sign_verify_detached(plain + IDENTITY_PUBLIC_BYTES, proof,
					proof_len, A) != 0) {
		rv = fail(hs, err, RUMOR_EAUTH, "client signature is invalid");
		goto out;
	}
	if (!peer_is_trusted(hs, A)) {
		rv = fail(hs, err, RUMOR_EAUTH,
			  "client identity is not in the trusted keys");
		goto out;
	}
	/* Ab = X25519(b, curve(A)), aB = X25519(curve(b_static), a). */
	if (dh_static_public(Ab, hs->eph_sk, A) != 0 ||
	    dh_static_secret(aB, id->secret_key, hs->peer_eph_pk) != 0) {
		rv = fail(hs, err, RUMOR_EAUTH,
			  "client identity key has no usable curve form");
		goto out;
	}

	{
		struct part p[] = { { hs->h, KEY_BYTES },
				    { msg, HANDSHAKE_MSG3_BYTES } };
		keyed_hash(hs, hs->h, LABEL_H2, p, 2);
	}
	{
		struct part p[] = { { hs->ab, KEY_BYTES }, { Ab, KEY_BYTES },
				    { hs->h, KEY_BYTES } };
		keyed_hash(hs, k4, LABEL_K4, p, 3);
	}
	proof_len = proof_message(proof, sizeof proof, LABEL_PROOF_SERVER,
				  hs->h, A);
	memcpy(reply, id->public_key, IDENTITY_PUBLIC_BYTES);
	crypto_sign_detached(reply + IDENTITY_PUBLIC_BYTES, NULL, proof,
			     proof_len, id->secret_key);
	crypto_secretbox_easy(out, reply, sizeof reply, zero_nonce, k4);
	*out_len = HANDSHAKE_MSG4_BYTES;

	finish(hs, out, A, Ab, aB);
	rv = 0;
out:
	sodium_memzero(k3, sizeof k3);
	sodium_memzero(k4, sizeof k4);
	sodium_memzero(Ab, sizeof Ab);
	sodium_memzero(aB, sizeof aB);
	sodium_memzero(plain, sizeof plain);
	sodium_memzero(reply, sizeof reply);
	return rv;
}

/* ------------------------------------------------------------------ */
/* The state machine */

size_t handshake_expect(const struct handshake *hs)
{
	switch (hs->state) {
	case HS_CLIENT_WAIT_M2:
		return HANDSHAKE_MSG2_BYTES;
	case HS_CLIENT_WAIT_M4:
		return HANDSHAKE_MSG4_BYTES;
	case HS_SERVER_WAIT_M1:
		return HANDSHAKE_MSG1_BYTES;
	case HS_SERVER_WAIT_M3:
		return HANDSHAKE_MSG3_BYTES;
	case HS_CLIENT_START:
	case HS_DONE:
	case HS_FAILED:
		break;
	}
	return 0;
}

int handshake_recv(struct handshake *hs, const uint8_t *msg, size_t len,
		   uint8_t *out, size_t *out_len, struct err *err)
{
	size_t want = handshake_expect(hs);

	assert(out != NULL && out_len != NULL);
	*out_len = 0;
	if (hs->state == HS_FAILED)
		return err_set(err, hs->fail_code,
			       "handshake: already failed");
	if (want == 0)
		return fail(hs, err, RUMOR_EINVAL,
			    hs->state == HS_DONE ?
				    "message after the handshake ended" :
				    "message before client_start");
	if (msg == NULL || len != want) {
		fail(hs, err, RUMOR_EPROTO, "");
		return err_set(err, RUMOR_EPROTO,
			       "handshake: message of %zu bytes, expected %zu",
			       len, want);
	}

	switch (hs->state) {
	case HS_CLIENT_WAIT_M2:
		return client_recv_m2(hs, msg, out, out_len, err);
	case HS_CLIENT_WAIT_M4:
		return client_recv_m4(hs, msg, err);
	case HS_SERVER_WAIT_M1:
		return server_recv_m1(hs, msg, out, out_len, err);
	case HS_SERVER_WAIT_M3:
		return server_recv_m3(hs, msg, out, out_len, err);
	default:
		assert(!"unreachable: expect() was nonzero");
		return fail(hs, err, RUMOR_EINVAL, "bad state");
	}
}

int handshake_done(const struct handshake *hs)
{
	return hs->state == HS_DONE;
}

void handshake_get_result(const struct handshake *hs,
			  struct handshake_result *res)
{
	assert(hs->state == HS_DONE);
	*res = hs->result;
}

void handshake_wipe(struct handshake *hs)
{
	sodium_memzero(hs, sizeof *hs);
	hs->state = HS_FAILED;
	hs->fail_code = RUMOR_EINVAL;
}
