/* SPDX-License-Identifier: MIT */
/* The handshake state machines, driven against each other in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "crypto/handshake.h"
#include "crypto/identity.h"

/* ------------------------------------------------------------------ */
/* Fixtures: fixed identities and keys, so failures are reproducible. */

struct keys {
	struct identity alice;          /* client */
	struct identity bob;            /* server */
	struct identity mallory;        /* knows K, not alice's or bob's keys */
	uint8_t k1[NETWORK_KEY_BYTES];
	uint8_t k2[NETWORK_KEY_BYTES];
};

static void identity_from_byte(struct identity *id, uint8_t b)
{
	uint8_t seed[32];

	memset(seed, b, sizeof seed);
	crypto_sign_seed_keypair(id->public_key, id->secret_key, seed);
}

static int setup(void **state)
{
	struct keys *k = calloc(1, sizeof *k);

	assert_non_null(k);
	assert_true(sodium_init() >= 0);
	identity_from_byte(&k->alice, 0xa1);
	identity_from_byte(&k->bob, 0xb0);
	identity_from_byte(&k->mallory, 0x66);
	memset(k->k1, 0x11, sizeof k->k1);
	memset(k->k2, 0x22, sizeof k->k2);
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static struct handshake *hs_new(void)
{
	/* Exactly handshake_size() bytes: ASan catches any overrun. */
	struct handshake *hs = malloc(handshake_size());

	assert_non_null(hs);
	return hs;
}

static struct handshake_config cfg(const struct identity *id,
				   const uint8_t *k)
{
	struct handshake_config c = {
		.identity = id,
		.network_key = k,
		.trusted = NULL,
		.expected_server_key = NULL,
	};
	return c;
}

/* One in-memory session. tamper (may be NULL) may rewrite message i
 * (0..3) in transit. Records every message and where it stopped. */
struct session {
	struct handshake *c, *s;
	uint8_t msg[4][HANDSHAKE_MSG_MAX];
	size_t len[4];
	int nmsgs;                      /* messages produced */
	int client_rv, server_rv;
	struct err client_err, server_err;
};

typedef void (*tamper_fn)(int i, uint8_t *msg, size_t *len, void *arg);

static void run(struct session *ss, const struct handshake_config *cc,
		const struct handshake_config *sc, tamper_fn tamper, void *arg)
{
	uint8_t in[HANDSHAKE_MSG_MAX], none[HANDSHAKE_MSG_MAX];
	size_t in_len, none_len = 99;
	int i;

	memset(ss, 0, sizeof *ss);
	ss->c = hs_new();
	ss->s = hs_new();
	handshake_client_init(ss->c, cc);
	handshake_server_init(ss->s, sc);
	ss->client_rv = handshake_client_start(ss->c, ss->msg[0], &ss->len[0],
					       &ss->client_err);
	assert_int_equal(ss->client_rv, 0);
	ss->nmsgs = 1;
	for (i = 0; i < 4; i++) {
		/* Message i goes client->server when i is even. */
		struct handshake *to = i % 2 == 0 ? ss->s : ss->c;
		int *rv = i % 2 == 0 ? &ss->server_rv : &ss->client_rv;
		struct err *e = i % 2 == 0 ? &ss->server_err : &ss->client_err;

		memcpy(in, ss->msg[i], ss->len[i]);
		in_len = ss->len[i];
		if (tamper != NULL)
			tamper(i, in, &in_len, arg);
		if (i < 3)
			ss->len[i + 1] = 99; /* must be reset to 0 on error */
		*rv = handshake_recv(to, in, in_len,
				     i < 3 ? ss->msg[i + 1] : none,
				     i < 3 ? &ss->len[i + 1] : &none_len, e);
		if (*rv != 0) {
			if (i < 3)
				assert_int_equal(ss->len[i + 1], 0);
			return;
		}
		if (i < 3) {
			assert_true(ss->len[i + 1] > 0);
			ss->nmsgs++;
		} else {
			assert_int_equal(none_len, 0);
		}
	}
}

static void session_free(struct session *ss)
{
	handshake_wipe(ss->c);
	handshake_wipe(ss->s);
	free(ss->c);
	free(ss->s);
}

static struct trusted_keys trust_one(uint8_t (*store)[IDENTITY_PUBLIC_BYTES],
				     const struct identity *id)
{
	struct trusted_keys tk = { .n = 1, .keys = store };

	memcpy(store[0], id->public_key, IDENTITY_PUBLIC_BYTES);
	return tk;
}

/* ------------------------------------------------------------------ */
/* Success */

static void test_handshake_succeeds_and_both_sides_agree(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct handshake_result cr, sr;
	struct session ss;

	run(&ss, &cc, &sc, NULL, NULL);
	assert_int_equal(ss.client_rv, 0);
	assert_int_equal(ss.server_rv, 0);
	assert_int_equal(ss.nmsgs, 4);
	assert_int_equal(ss.len[0], HANDSHAKE_MSG1_BYTES);
	assert_int_equal(ss.len[1], HANDSHAKE_MSG2_BYTES);
	assert_int_equal(ss.len[2], HANDSHAKE_MSG3_BYTES);
	assert_int_equal(ss.len[3], HANDSHAKE_MSG4_BYTES);
	assert_true(handshake_done(ss.c));
	assert_true(handshake_done(ss.s));
	assert_int_equal(handshake_expect(ss.c), 0);
	assert_int_equal(handshake_expect(ss.s), 0);

	handshake_get_result(ss.c, &cr);
	handshake_get_result(ss.s, &sr);
	assert_memory_equal(cr.peer_public_key, k->bob.public_key, 32);
	assert_memory_equal(sr.peer_public_key, k->alice.public_key, 32);
	assert_memory_equal(cr.tx_key, sr.rx_key, SESSION_KEY_BYTES);
	assert_memory_equal(cr.rx_key, sr.tx_key, SESSION_KEY_BYTES);
	assert_memory_not_equal(cr.tx_key, cr.rx_key, SESSION_KEY_BYTES);
	session_free(&ss);
}

static void test_two_sessions_have_different_keys(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct handshake_result r1, r2;
	struct session ss;

	run(&ss, &cc, &sc, NULL, NULL);
	assert_true(handshake_done(ss.c));
	handshake_get_result(ss.c, &r1);
	session_free(&ss);
	run(&ss, &cc, &sc, NULL, NULL);
	assert_true(handshake_done(ss.c));
	handshake_get_result(ss.c, &r2);
	session_free(&ss);
	assert_memory_not_equal(r1.tx_key, r2.tx_key, SESSION_KEY_BYTES);
}

static void test_fixed_ephemerals_replay_byte_for_byte(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	uint8_t a_seed[32], b_seed[32];
	uint8_t m[2][4][HANDSHAKE_MSG_MAX], none[HANDSHAKE_MSG_MAX];
	int run_i, i;

	memset(a_seed, 1, sizeof a_seed);
	memset(b_seed, 2, sizeof b_seed);
	for (run_i = 0; run_i < 2; run_i++) {
		struct handshake *c = hs_new(), *s = hs_new();
		size_t len;

		handshake_client_init(c, &cc);
		handshake_server_init(s, &sc);
		handshake_test_set_ephemeral(c, a_seed);
		handshake_test_set_ephemeral(s, b_seed);
		assert_int_equal(handshake_client_start(c, m[run_i][0], &len,
							NULL), 0);
		assert_int_equal(handshake_recv(s, m[run_i][0], 64, m[run_i][1],
						&len, NULL), 0);
		assert_int_equal(handshake_recv(c, m[run_i][1], 64, m[run_i][2],
						&len, NULL), 0);
		assert_int_equal(handshake_recv(s, m[run_i][2], 112,
						m[run_i][3], &len, NULL), 0);
		assert_int_equal(handshake_recv(c, m[run_i][3], 112,
						none, &len, NULL),
				 0);
		assert_true(handshake_done(c) && handshake_done(s));
		free(c);
		free(s);
	}
	for (i = 0; i < 4; i++)
		assert_memory_equal(m[0][i], m[1][i], i < 2 ? 64 : 112);
}

static void test_trusted_identities_are_accepted(void **state)
{
	struct keys *k = *state;
	uint8_t ck[1][32], sk[1][32];
	struct trusted_keys ctk = trust_one(ck, &k->bob);
	struct trusted_keys stk = trust_one(sk, &k->alice);
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct session ss;

	cc.trusted = &ctk;
	cc.expected_server_key = k->bob.public_key;
	sc.trusted = &stk;
	run(&ss, &cc, &sc, NULL, NULL);
	assert_true(handshake_done(ss.c));
	assert_true(handshake_done(ss.s));
	session_free(&ss);
}

/* ------------------------------------------------------------------ */
/* Refusals */

static void test_client_with_other_network_key_is_refused_silently(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k2);
	struct session ss;

	run(&ss, &cc, &sc, NULL, NULL);
	/* The server fails on message 1 and sends nothing at all. */
	assert_int_equal(ss.server_rv, RUMOR_EAUTH);
	assert_non_null(strstr(ss.server_err.msg, "network key"));
	assert_int_equal(ss.nmsgs, 1);
	assert_false(handshake_done(ss.c));
	assert_false(handshake_done(ss.s));
	assert_int_equal(handshake_expect(ss.s), 0);
	session_free(&ss);

	/* And the other way round. */
	cc = cfg(&k->alice, k->k2);
	sc = cfg(&k->bob, k->k1);
	run(&ss, &cc, &sc, NULL, NULL);
	assert_int_equal(ss.server_rv, RUMOR_EAUTH);
	assert_int_equal(ss.nmsgs, 1);
	session_free(&ss);
}

static void test_client_refuses_server_with_other_network_key(void **state)
{
	struct keys *k = *state;
	struct handshake_config c1 = cfg(&k->alice, k->k1);
	struct handshake_config c2 = cfg(&k->mallory, k->k2);
	struct handshake_config s2 = cfg(&k->bob, k->k2);
	uint8_t m1[HANDSHAKE_MSG_MAX], m2[HANDSHAKE_MSG_MAX], x[256];
	struct handshake *c = hs_new(), *other = hs_new(), *s = hs_new();
	struct err e;
	size_t len;

	/* A K2 server answers a K2 client; the K1 client gets that
	 * answer. Its tag is under K2 and for another ephemeral. */
	handshake_client_init(c, &c1);
	handshake_client_init(other, &c2);
	handshake_server_init(s, &s2);
	assert_int_equal(handshake_client_start(c, m1, &len, NULL), 0);
	assert_int_equal(handshake_client_start(other, m1, &len, NULL), 0);
	assert_int_equal(handshake_recv(s, m1, len, m2, &len, NULL), 0);
	assert_int_equal(handshake_recv(c, m2, len, x, &len, &e), RUMOR_EAUTH);
	assert_int_equal(len, 0);
	assert_false(handshake_done(c));
	free(c);
	free(other);
	free(s);
}

static void test_untrusted_client_is_refused_when_accepting(void **state)
{
	struct keys *k = *state;
	uint8_t store[1][32];
	struct trusted_keys tk = trust_one(store, &k->mallory);
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct session ss;

	sc.trusted = &tk;
	run(&ss, &cc, &sc, NULL, NULL);
	/* The server refuses at message 3 and never reveals bob. */
	assert_int_equal(ss.server_rv, RUMOR_EAUTH);
	assert_non_null(strstr(ss.server_err.msg, "trusted"));
	assert_int_equal(ss.nmsgs, 3);
	assert_false(handshake_done(ss.c));
	session_free(&ss);
}

static void test_untrusted_server_is_refused_when_dialling(void **state)
{
	struct keys *k = *state;
	uint8_t store[1][32];
	struct trusted_keys tk = trust_one(store, &k->mallory);
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct session ss;

	cc.trusted = &tk;
	run(&ss, &cc, &sc, NULL, NULL);
	assert_int_equal(ss.client_rv, RUMOR_EAUTH);
	assert_non_null(strstr(ss.client_err.msg, "trusted"));
	assert_false(handshake_done(ss.c));
	session_free(&ss);
}

static void test_unexpected_server_identity_is_refused(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct session ss;

	cc.expected_server_key = k->mallory.public_key;
	run(&ss, &cc, &sc, NULL, NULL);
	assert_int_equal(ss.client_rv, RUMOR_EAUTH);
	assert_non_null(strstr(ss.client_err.msg, "expected"));
	assert_false(handshake_done(ss.c));
	session_free(&ss);
}

/* Mallory knows K and claims an identity whose secret she lacks: her
 * sealed message names alice (or bob) but carries her own signature. */
static void test_client_claiming_an_identity_it_lacks_is_refused(void **state)
{
	struct keys *k = *state;
	struct identity fake = k->mallory;
	struct handshake_config cc = cfg(&fake, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct session ss;

	memcpy(fake.public_key, k->alice.public_key, 32);
	run(&ss, &cc, &sc, NULL, NULL);
	assert_int_equal(ss.server_rv, RUMOR_EAUTH);
	assert_non_null(strstr(ss.server_err.msg, "signature"));
	assert_int_equal(ss.nmsgs, 3);
	session_free(&ss);
}

static void test_server_claiming_an_identity_it_lacks_is_refused(void **state)
{
	struct keys *k = *state;
	struct identity fake = k->mallory;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&fake, k->k1);
	struct session ss;

	memcpy(fake.public_key, k->bob.public_key, 32);
	run(&ss, &cc, &sc, NULL, NULL);
	assert_int_equal(ss.server_rv, 0);
	assert_int_equal(ss.client_rv, RUMOR_EAUTH);
	assert_non_null(strstr(ss.client_err.msg, "signature"));
	assert_false(handshake_done(ss.c));
	session_free(&ss);
}

/* Mallory knows K and sits between alice and bob. She answers alice with
 * her own ephemeral key (correctly tagged: she has K) and dials bob with
 * another, then relays alice's sealed identity to bob. */
static void test_relay_substituting_ephemerals_fails(void **state)
{
	struct keys *k = *state;
	struct handshake_config ac = cfg(&k->alice, k->k1);
	struct handshake_config bc = cfg(&k->bob, k->k1);
	struct handshake_config mc = cfg(&k->mallory, k->k1);
	struct handshake *a = hs_new(), *b = hs_new();
	struct handshake *m_srv = hs_new(), *m_cli = hs_new();
	uint8_t am1[256], mm2[256], am3[256], mm1[256], bm2[256], x[256];
	size_t len, xlen;
	struct err e;

	handshake_client_init(a, &ac);
	handshake_server_init(b, &bc);
	handshake_server_init(m_srv, &mc);
	handshake_client_init(m_cli, &mc);

	assert_int_equal(handshake_client_start(a, am1, &len, NULL), 0);
	/* Mallory answers alice herself. */
	assert_int_equal(handshake_recv(m_srv, am1, len, mm2, &len, NULL), 0);
	assert_int_equal(handshake_recv(a, mm2, len, am3, &len, NULL), 0);
	/* ...and dials bob with her own ephemeral key. */
	assert_int_equal(handshake_client_start(m_cli, mm1, &len, NULL), 0);
	assert_int_equal(handshake_recv(b, mm1, len, bm2, &len, NULL), 0);
	/* Alice's sealed identity, relayed to bob, does not open. */
	assert_int_equal(handshake_recv(b, am3, HANDSHAKE_MSG3_BYTES, x, &xlen,
					&e), RUMOR_EAUTH);
	assert_int_equal(xlen, 0);
	assert_false(handshake_done(b));
	assert_false(handshake_done(a));

	free(a);
	free(b);
	free(m_srv);
	free(m_cli);
}

/* Mallory relays message 1 and 2 unchanged, so the ephemerals agree, but
 * then substitutes her own sealed identity for alice's: she cannot build
 * k3 without an ephemeral secret. */
static void set_garbage(int i, uint8_t *msg, size_t *len, void *arg)
{
	if (i == *(int *)arg)
		randombytes_buf(msg, *len);
}

static void test_relay_cannot_forge_sealed_messages(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct session ss;
	int which;

	which = 2;
	run(&ss, &cc, &sc, set_garbage, &which);
	assert_int_equal(ss.server_rv, RUMOR_EAUTH);
	assert_int_equal(ss.nmsgs, 3);
	session_free(&ss);
	which = 3;
	run(&ss, &cc, &sc, set_garbage, &which);
	assert_int_equal(ss.server_rv, 0);
	assert_int_equal(ss.client_rv, RUMOR_EAUTH);
	assert_false(handshake_done(ss.c));
	session_free(&ss);
}

static void test_replayed_client_messages_fail_at_message_3(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct handshake *s = hs_new();
	uint8_t out[HANDSHAKE_MSG_MAX];
	struct session ss;
	struct err e;
	size_t len;

	run(&ss, &cc, &sc, NULL, NULL);
	assert_true(handshake_done(ss.s));

	handshake_server_init(s, &sc);
	/* Message 1 is accepted (it carries no proof of freshness)... */
	assert_int_equal(handshake_recv(s, ss.msg[0], ss.len[0], out, &len,
					NULL), 0);
	/* ...but message 3 is sealed under the old session's ephemerals. */
	assert_int_equal(handshake_recv(s, ss.msg[2], ss.len[2], out, &len, &e),
			 RUMOR_EAUTH);
	assert_int_equal(len, 0);
	assert_false(handshake_done(s));
	free(s);
	session_free(&ss);
}

static void test_replayed_server_messages_fail(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct handshake *c = hs_new();
	uint8_t out[HANDSHAKE_MSG_MAX];
	struct session ss;
	struct err e;
	size_t len;

	run(&ss, &cc, &sc, NULL, NULL);
	assert_true(handshake_done(ss.c));

	handshake_client_init(c, &cc);
	assert_int_equal(handshake_client_start(c, out, &len, NULL), 0);
	/* Message 2's tag covers the client's ephemeral key. */
	assert_int_equal(handshake_recv(c, ss.msg[1], ss.len[1], out, &len, &e),
			 RUMOR_EAUTH);
	assert_int_equal(len, 0);
	assert_int_equal(handshake_recv(c, ss.msg[3], ss.len[3], out, &len, &e),
			 RUMOR_EAUTH);
	assert_false(handshake_done(c));
	free(c);
	session_free(&ss);
}

struct flip {
	int msg;
	size_t bit;
};

static void flip_bit(int i, uint8_t *msg, size_t *len, void *arg)
{
	struct flip *f = arg;

	if (i == f->msg)
		msg[f->bit / 8] ^= (uint8_t)(1u << (f->bit % 8));
}

static void test_every_single_bit_flip_fails(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	static const size_t lens[4] = {
		HANDSHAKE_MSG1_BYTES, HANDSHAKE_MSG2_BYTES,
		HANDSHAKE_MSG3_BYTES, HANDSHAKE_MSG4_BYTES,
	};
	struct session ss;
	struct flip f;

	for (f.msg = 0; f.msg < 4; f.msg++) {
		for (f.bit = 0; f.bit < lens[f.msg] * 8; f.bit++) {
			int rv;

			run(&ss, &cc, &sc, flip_bit, &f);
			/* The receiver of the flipped message fails. */
			rv = f.msg % 2 == 0 ? ss.server_rv : ss.client_rv;
			if (rv != RUMOR_EAUTH)
				fail_msg("flip of bit %zu of message %d "
					 "accepted (rv %d)",
					 f.bit, f.msg + 1, rv);
			assert_false(handshake_done(ss.c));
			assert_int_equal(ss.nmsgs, f.msg + 1);
			session_free(&ss);
		}
	}
}

static void test_low_order_ephemeral_is_refused(void **state)
{
	struct keys *k = *state;
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct handshake *s = hs_new();
	crypto_auth_hmacsha512256_state st;
	uint8_t m1[HANDSHAKE_MSG1_BYTES], out[HANDSHAKE_MSG_MAX];
	struct err e;
	size_t len;

	/* The all-zero point, tagged correctly per crypto/README.md: an
	 * insider with K tries to force a known shared secret. */
	memset(m1, 0, 32);
	crypto_auth_hmacsha512256_init(&st, k->k1, 32);
	crypto_auth_hmacsha512256_update(&st, (const uint8_t *)"rumor-hs1 tag1",
					 14);
	crypto_auth_hmacsha512256_update(&st, m1, 32);
	crypto_auth_hmacsha512256_final(&st, m1 + 32);

	handshake_server_init(s, &sc);
	assert_int_equal(handshake_recv(s, m1, sizeof m1, out, &len, &e),
			 RUMOR_EAUTH);
	assert_non_null(strstr(e.msg, "low order"));
	assert_int_equal(len, 0);
	free(s);
}

/* ------------------------------------------------------------------ */
/* Lengths and misuse */

static void test_wrong_lengths_are_refused_and_final(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	static const size_t bad[] = { 0, 1, 63, 65, 112, HANDSHAKE_MSG_MAX };
	uint8_t m1[HANDSHAKE_MSG_MAX], out[HANDSHAKE_MSG_MAX];
	struct handshake *c = hs_new(), *s = hs_new();
	struct err e;
	size_t i, len, m1_len;

	handshake_client_init(c, &cc);
	assert_int_equal(handshake_client_start(c, m1, &m1_len, NULL), 0);
	memset(m1 + m1_len, 0, sizeof m1 - m1_len);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		handshake_server_init(s, &sc);
		assert_int_equal(handshake_recv(s, m1, bad[i], out, &len, &e),
				 RUMOR_EPROTO);
		assert_non_null(strstr(e.msg, "expected 64"));
		assert_int_equal(len, 0);
		/* Final: even the right message is refused now. */
		assert_int_equal(handshake_expect(s), 0);
		assert_int_equal(handshake_recv(s, m1, m1_len, out, &len, &e),
				 RUMOR_EPROTO);
		assert_non_null(strstr(e.msg, "already failed"));
		assert_int_equal(len, 0);
	}

	/* A truncated message 3 after a good message 1. */
	handshake_server_init(s, &sc);
	assert_int_equal(handshake_recv(s, m1, m1_len, out, &len, NULL), 0);
	assert_int_equal(handshake_expect(s), HANDSHAKE_MSG3_BYTES);
	assert_int_equal(handshake_recv(s, m1, 111, out, &len, &e),
			 RUMOR_EPROTO);
	assert_int_equal(handshake_recv(s, NULL, 112, out, &len, &e),
			 RUMOR_EPROTO);
	free(c);
	free(s);
}

static void test_calls_after_an_error_keep_failing(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k2);
	uint8_t out[HANDSHAKE_MSG_MAX];
	struct session ss;
	struct err e;
	size_t len;

	run(&ss, &cc, &sc, NULL, NULL);
	assert_int_equal(ss.server_rv, RUMOR_EAUTH);
	/* Feeding the same (or any) message again keeps failing with the
	 * first error, and produces nothing. */
	assert_int_equal(handshake_recv(ss.s, ss.msg[0], ss.len[0], out, &len,
					&e), RUMOR_EAUTH);
	assert_int_equal(len, 0);
	assert_int_equal(handshake_recv(ss.s, ss.msg[0], 112, out, &len, &e),
			 RUMOR_EAUTH);
	assert_false(handshake_done(ss.s));
	session_free(&ss);
}

static void test_misuse_of_roles_fails(void **state)
{
	struct keys *k = *state;
	struct handshake_config c = cfg(&k->alice, k->k1);
	struct handshake *hs = hs_new();
	uint8_t out[HANDSHAKE_MSG_MAX], msg[64] = { 0 };
	struct err e;
	size_t len;

	/* A server never starts. */
	handshake_server_init(hs, &c);
	assert_int_equal(handshake_client_start(hs, out, &len, &e),
			 RUMOR_EINVAL);
	assert_int_equal(handshake_expect(hs), 0);

	/* A client neither reads before starting nor starts twice. */
	handshake_client_init(hs, &c);
	assert_int_equal(handshake_expect(hs), 0);
	assert_int_equal(handshake_recv(hs, msg, 64, out, &len, &e),
			 RUMOR_EINVAL);
	handshake_client_init(hs, &c);
	assert_int_equal(handshake_client_start(hs, out, &len, NULL), 0);
	assert_int_equal(handshake_client_start(hs, out, &len, &e),
			 RUMOR_EINVAL);
	assert_int_equal(len, 0);
	free(hs);
}

static void test_wipe_leaves_a_failed_handshake(void **state)
{
	struct keys *k = *state;
	struct handshake_config cc = cfg(&k->alice, k->k1);
	struct handshake_config sc = cfg(&k->bob, k->k1);
	struct session ss;

	run(&ss, &cc, &sc, NULL, NULL);
	assert_true(handshake_done(ss.c));
	handshake_wipe(ss.c);
	assert_false(handshake_done(ss.c));
	assert_int_equal(handshake_expect(ss.c), 0);
	session_free(&ss);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_handshake_succeeds_and_both_sides_agree),
		T(test_two_sessions_have_different_keys),
		T(test_fixed_ephemerals_replay_byte_for_byte),
		T(test_trusted_identities_are_accepted),
		T(test_client_with_other_network_key_is_refused_silently),
		T(test_client_refuses_server_with_other_network_key),
		T(test_untrusted_client_is_refused_when_accepting),
		T(test_untrusted_server_is_refused_when_dialling),
		T(test_unexpected_server_identity_is_refused),
		T(test_client_claiming_an_identity_it_lacks_is_refused),
		T(test_server_claiming_an_identity_it_lacks_is_refused),
		T(test_relay_substituting_ephemerals_fails),
		T(test_relay_cannot_forge_sealed_messages),
		T(test_replayed_client_messages_fail_at_message_3),
		T(test_replayed_server_messages_fail),
		T(test_every_single_bit_flip_fails),
		T(test_low_order_ephemeral_is_refused),
		T(test_wrong_lengths_are_refused_and_final),
		T(test_calls_after_an_error_keep_failing),
		T(test_misuse_of_roles_fails),
		T(test_wipe_leaves_a_failed_handshake),
	};
#undef T
	return cmocka_run_group_tests_name("handshake", tests, NULL, NULL);
}
