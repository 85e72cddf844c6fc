/* SPDX-License-Identifier: MIT */
/* Tests of discovery/announce: the announcement codec and its verifier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "discovery/announce.h"
#include "tests/lib/testutil.h"

#define NOW 1700000000000ull    /* a fixed wall clock, in ms */
#define MAC_OFFSET (ANNOUNCE_BYTES - ANNOUNCE_MAC_BYTES)
#define NONCE_OFFSET 16
#define SEALED_OFFSET (NONCE_OFFSET + ANNOUNCE_NONCE_BYTES)
#define SEALED_LEN (MAC_OFFSET - SEALED_OFFSET)

struct fixture {
	uint8_t netkey[ANNOUNCE_NETKEY_BYTES];
	uint8_t self[ANNOUNCE_ID_BYTES];
	uint8_t peer[ANNOUNCE_ID_BYTES];
	struct announce_keys keys;
	struct announce_verifier v;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	for (int i = 0; i < ANNOUNCE_NETKEY_BYTES; i++)
		f->netkey[i] = (uint8_t)(i * 7 + 1);
	memset(f->self, 0x11, sizeof f->self);
	memset(f->peer, 0x22, sizeof f->peer);
	announce_keys_derive(&f->keys, f->netkey);
	announce_verifier_init(&f->v, f->netkey, f->self, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void make(const struct fixture *f, const uint8_t id[ANNOUNCE_ID_BYTES],
		 uint64_t ts, uint8_t nonce_byte, uint8_t out[ANNOUNCE_BYTES])
{
	struct announce a;

	memcpy(a.node_id, id, ANNOUNCE_ID_BYTES);
	a.port = 7000;
	a.timestamp_ms = ts;
	memset(a.nonce, nonce_byte, sizeof a.nonce);
	announce_encode(&f->keys, &a, out);
}

/* Opens pkt's sealed part into plain (SEALED_LEN bytes); 0 or -1. */
static int unseal(const struct announce_keys *k, const uint8_t *pkt,
		  uint8_t *plain)
{
	return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		plain, NULL, pkt + SEALED_OFFSET, SEALED_LEN, pkt + MAC_OFFSET,
		pkt, NONCE_OFFSET, pkt + NONCE_OFFSET, k->seal_key);
}

/* Seals plain into pkt under pkt's header, as a key holder could. */
static void reseal(const struct announce_keys *k, uint8_t *pkt,
		   const uint8_t *plain)
{
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
		pkt + SEALED_OFFSET, pkt + MAC_OFFSET, NULL, plain, SEALED_LEN,
		pkt, NONCE_OFFSET, NULL, pkt + NONCE_OFFSET, k->seal_key);
}

/* Changes byte i of pkt (in the header, or at i >= SEALED_OFFSET in the
 * plaintext) to b and seals again, as a key holder could: so the test
 * reaches the checks after the seal. */
static void patch_and_sign(const struct fixture *f, uint8_t *pkt, size_t i,
			   uint8_t b)
{
	uint8_t plain[SEALED_LEN];

	assert_int_equal(unseal(&f->keys, pkt, plain), 0);
	if (i < SEALED_OFFSET)
		pkt[i] = b;
	else
		plain[i - SEALED_OFFSET] = b;
	reseal(&f->keys, pkt, plain);
}

static void test_round_trip_gives_back_every_field(void **state)
{
	struct fixture *f = *state;
	struct announce a, b;
	uint8_t pkt[ANNOUNCE_BYTES];

	memcpy(a.node_id, f->peer, sizeof a.node_id);
	a.port = 65535;
	a.timestamp_ms = NOW - 5;
	randombytes_buf(a.nonce, sizeof a.nonce);
	announce_encode(&f->keys, &a, pkt);
	assert_memory_equal(pkt, ANNOUNCE_MAGIC, 4);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, &b),
			 ANNOUNCE_OK);
	assert_memory_equal(b.node_id, a.node_id, sizeof a.node_id);
	assert_int_equal(b.port, a.port);
	assert_true(b.timestamp_ms == a.timestamp_ms);
	assert_memory_equal(b.nonce, a.nonce, sizeof a.nonce);
}

static void test_layout_is_fixed_big_endian(void **state)
{
	struct fixture *f = *state;
	uint8_t pkt[ANNOUNCE_BYTES], plain[SEALED_LEN];

	make(f, f->peer, 0x0102030405060708ull, 0xab, pkt);
	assert_int_equal(ANNOUNCE_BYTES, 98);
	assert_int_equal(pkt[4], ANNOUNCE_VERSION);
	assert_int_equal(pkt[4], 2);
	assert_int_equal(pkt[5], 0);
	assert_int_equal(pkt[6], 0);
	assert_int_equal(pkt[7], 0);
	assert_memory_equal(pkt + 8, f->keys.tag, ANNOUNCE_TAG_BYTES);
	assert_int_equal(pkt[NONCE_OFFSET], 0xab);
	assert_int_equal(pkt[SEALED_OFFSET - 1], 0xab);
	/* Sealed: id, port, time, big-endian. */
	assert_int_equal(unseal(&f->keys, pkt, plain), 0);
	assert_memory_equal(plain, f->peer, ANNOUNCE_ID_BYTES);
	assert_int_equal(plain[32], 7000 >> 8);
	assert_int_equal(plain[33], 7000 & 0xff);
	for (int i = 0; i < 8; i++)
		assert_int_equal(plain[34 + i], i + 1);
}

/* A listener without the key learns no id: the id's bytes appear
 * nowhere in the packet, and two announcements of one node share
 * nothing past the header but what chance gives. */
static void test_the_node_id_is_not_in_clear(void **state)
{
	struct fixture *f = *state;
	uint8_t p1[ANNOUNCE_BYTES], p2[ANNOUNCE_BYTES];
	int same = 0;

	make(f, f->peer, NOW, 1, p1);
	make(f, f->peer, NOW, 2, p2);
	for (size_t i = 0; i + 8 <= ANNOUNCE_BYTES; i++)
		for (size_t j = 0; j + 8 <= ANNOUNCE_ID_BYTES; j++)
			assert_memory_not_equal(p1 + i, f->peer + j, 8);
	for (size_t i = SEALED_OFFSET; i < ANNOUNCE_BYTES; i++)
		same += p1[i] == p2[i];
	/* 58 random-looking bytes: about 0.2 equal by chance. */
	assert_true(same < 8);
}

static void test_the_old_format_is_dropped_with_its_reason(void **state)
{
	struct fixture *f = *state;
	uint8_t v1[104];

	/* Version 1: 104 bytes, the id in clear at 16. */
	memset(v1, 0, sizeof v1);
	memcpy(v1, ANNOUNCE_MAGIC, 4);
	v1[4] = 1;
	v1[7] = 1;
	memcpy(v1 + 8, f->keys.tag, ANNOUNCE_TAG_BYTES);
	memcpy(v1 + 16, f->peer, ANNOUNCE_ID_BYTES);
	assert_int_equal(announce_verify(&f->v, v1, sizeof v1, NOW, NULL),
			 ANNOUNCE_OLD_VERSION);
	assert_int_equal(announce_verify(&f->v, v1, ANNOUNCE_BYTES, NOW, NULL),
			 ANNOUNCE_OLD_VERSION);
	assert_string_equal(announce_reason_name(ANNOUNCE_OLD_VERSION),
			    "old_version");
}

static void test_seal_key_and_tag_are_derived_not_the_network_key(void **state)
{
	struct fixture *f = *state;
	struct announce_keys again, other;
	uint8_t key2[ANNOUNCE_NETKEY_BYTES];

	assert_memory_not_equal(f->keys.seal_key, f->netkey,
				sizeof f->keys.seal_key);
	assert_memory_not_equal(f->keys.tag, f->netkey, ANNOUNCE_TAG_BYTES);
	assert_memory_not_equal(f->keys.tag, f->keys.seal_key,
				ANNOUNCE_TAG_BYTES);
	announce_keys_derive(&again, f->netkey);
	assert_memory_equal(&again, &f->keys, sizeof again);
	memcpy(key2, f->netkey, sizeof key2);
	key2[31] ^= 1;
	announce_keys_derive(&other, key2);
	assert_memory_not_equal(other.seal_key, f->keys.seal_key,
				sizeof other.seal_key);
	assert_memory_not_equal(other.tag, f->keys.tag, ANNOUNCE_TAG_BYTES);
}

static void test_forged_mac_is_rejected(void **state)
{
	struct fixture *f = *state;
	struct announce_keys forger = f->keys;
	struct announce a = { .port = 7000, .timestamp_ms = NOW };
	uint8_t pkt[ANNOUNCE_BYTES];

	/* Knows the public tag, guesses the key. */
	memset(forger.seal_key, 0x5a, sizeof forger.seal_key);
	memcpy(a.node_id, f->peer, sizeof a.node_id);
	announce_encode(&forger, &a, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_FORGED);
	/* Sealed with the network key itself is a forgery too. */
	memcpy(forger.seal_key, f->netkey, sizeof forger.seal_key);
	announce_encode(&forger, &a, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_FORGED);
}

static void test_other_cluster_is_foreign(void **state)
{
	struct fixture *f = *state;
	uint8_t key2[ANNOUNCE_NETKEY_BYTES];
	struct announce_keys k2;
	struct announce a = { .port = 7000, .timestamp_ms = NOW };
	uint8_t pkt[ANNOUNCE_BYTES];

	memset(key2, 0x99, sizeof key2);
	announce_keys_derive(&k2, key2);
	memcpy(a.node_id, f->peer, sizeof a.node_id);
	announce_encode(&k2, &a, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_FOREIGN);
}

static void test_stale_and_future_timestamps_are_rejected(void **state)
{
	struct fixture *f = *state;
	uint64_t w = ANNOUNCE_WINDOW_MS_DEFAULT;
	uint8_t pkt[ANNOUNCE_BYTES];

	make(f, f->peer, NOW - w - 1, 1, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_STALE);
	make(f, f->peer, NOW + w + 1, 2, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_FUTURE);
	make(f, f->peer, UINT64_MAX, 3, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_FUTURE);
	make(f, f->peer, 0, 3, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_STALE);
	/* The window's edges are inside. */
	make(f, f->peer, NOW - w, 4, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_OK);
	make(f, f->peer, NOW + w, 5, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_OK);
}

static void test_window_is_configurable(void **state)
{
	struct fixture *f = *state;
	struct announce_verifier *v = malloc(sizeof *v);
	uint8_t pkt[ANNOUNCE_BYTES];

	assert_non_null(v);
	announce_verifier_init(v, f->netkey, f->self, 1000);
	make(f, f->peer, NOW - 1001, 1, pkt);
	assert_int_equal(announce_verify(v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_STALE);
	make(f, f->peer, NOW - 999, 1, pkt);
	assert_int_equal(announce_verify(v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_OK);
	announce_verifier_wipe(v);
	free(v);
}

static void test_replay_within_window_is_dropped(void **state)
{
	struct fixture *f = *state;
	uint8_t p1[ANNOUNCE_BYTES], p2[ANNOUNCE_BYTES], p0[ANNOUNCE_BYTES];

	make(f, f->peer, NOW, 1, p1);
	make(f, f->peer, NOW + 2000, 2, p2);
	make(f, f->peer, NOW - 10, 3, p0);
	assert_int_equal(announce_verify(&f->v, p1, sizeof p1, NOW, NULL),
			 ANNOUNCE_OK);
	/* The very same packet (as through the other family) is a
	 * duplicate; the same time under another nonce a replay. */
	assert_int_equal(announce_verify(&f->v, p1, sizeof p1, NOW + 1, NULL),
			 ANNOUNCE_DUPLICATE);
	make(f, f->peer, NOW, 9, p2);
	assert_int_equal(announce_verify(&f->v, p2, sizeof p2, NOW + 1, NULL),
			 ANNOUNCE_REPLAY);
	make(f, f->peer, NOW + 2000, 2, p2);
	/* An older one recorded earlier and sent late is a replay too. */
	assert_int_equal(announce_verify(&f->v, p0, sizeof p0, NOW + 1, NULL),
			 ANNOUNCE_REPLAY);
	assert_int_equal(announce_verify(&f->v, p2, sizeof p2, NOW + 2000,
					 NULL),
			 ANNOUNCE_OK);
	assert_int_equal(announce_verify(&f->v, p1, sizeof p1, NOW + 2000,
					 NULL),
			 ANNOUNCE_REPLAY);
	assert_int_equal(announce_verify(&f->v, p2, sizeof p2, NOW + 2001,
					 NULL),
			 ANNOUNCE_DUPLICATE);
	/* Out of the window the replay is stale, whatever the cache. */
	assert_int_equal(announce_verify(&f->v, p1, sizeof p1, NOW + 60000,
					 NULL),
			 ANNOUNCE_STALE);
}

static void test_full_replay_cache_never_accepts_a_replay(void **state)
{
	struct fixture *f = *state;
	uint8_t first[ANNOUNCE_BYTES], pkt[ANNOUNCE_BYTES];
	uint8_t id[ANNOUNCE_ID_BYTES];

	announce_verifier_set_new_ids(&f->v, 0, 0);
	memset(id, 0x40, sizeof id);
	make(f, id, NOW, 0, first);
	assert_int_equal(announce_verify(&f->v, first, sizeof first, NOW, NULL),
			 ANNOUNCE_OK);
	for (uint32_t i = 1; i <= ANNOUNCE_REPLAY_SLOTS + 5; i++) {
		memcpy(id, &i, sizeof i);
		make(f, id, NOW + i, 0, pkt);
		assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt,
						 NOW + i, NULL),
				 ANNOUNCE_OK);
	}
	assert_int_equal(f->v.n_seen, ANNOUNCE_REPLAY_SLOTS);
	assert_int_equal(announce_verify(&f->v, first, sizeof first, NOW + 10,
					 NULL),
			 ANNOUNCE_REPLAY);
}

/* A poisoned floor: the table full of forged ids dated 29 s ahead (within
 * the window), evicted by more of them, must not turn a genuine new node
 * into a "replay". */
static void test_future_dated_flood_cannot_raise_the_floor_past_now(void **state)
{
	struct fixture *f = *state;
	uint8_t pkt[ANNOUNCE_BYTES], id[ANNOUNCE_ID_BYTES];

	announce_verifier_set_new_ids(&f->v, 0, 0);
	memset(id, 0x50, sizeof id);
	for (uint32_t i = 0; i < ANNOUNCE_REPLAY_SLOTS + 44; i++) {
		memcpy(id, &i, sizeof i);
		make(f, id, NOW + 29000, 0, pkt);
		assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW,
						 NULL),
				 ANNOUNCE_OK);
	}
	assert_true(f->v.floor_ms <= NOW);
	/* A genuine node, one ms later, is heard at once. */
	make(f, f->peer, NOW + 1, 1, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW + 1, NULL),
			 ANNOUNCE_OK);
	/* The floor still refuses what is older than the eviction time. */
	memset(id, 0x77, sizeof id);
	make(f, id, NOW - 1, 1, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW + 1, NULL),
			 ANNOUNCE_REPLAY);
}

static void test_new_ids_are_rate_limited_known_ones_are_not(void **state)
{
	struct fixture *f = *state;
	uint8_t pkt[ANNOUNCE_BYTES], id[ANNOUNCE_ID_BYTES];
	uint32_t i;

	announce_verifier_set_new_ids(&f->v, 10, 5);
	make(f, f->peer, NOW, 1, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_OK);
	memset(id, 0x60, sizeof id);
	for (i = 0; i < 4; i++) {
		memcpy(id, &i, sizeof i);
		make(f, id, NOW, 1, pkt);
		assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW,
						 NULL),
				 ANNOUNCE_OK);
	}
	memcpy(id, &i, sizeof i);
	make(f, id, NOW, 1, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_NEW_ID_RATE);
	/* Dropped, it left no trace: tried again after 100 ms (one token
	 * at 10/s), it passes. */
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW + 99,
					 NULL),
			 ANNOUNCE_NEW_ID_RATE);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW + 100,
					 NULL),
			 ANNOUNCE_OK);
	/* A known node is heard with the bucket empty. */
	make(f, f->peer, NOW + 50, 2, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW + 100,
					 NULL),
			 ANNOUNCE_OK);
}

static void test_bucket_refills_at_its_rate_up_to_its_burst(void **state)
{
	struct announce_bucket b;
	int got = 0;

	(void)state;
	memset(&b, 0, sizeof b);
	for (int i = 0; i < 10; i++)
		got += announce_bucket_take(&b, 1000, 2, 3);
	assert_int_equal(got, 3);           /* starts full: the burst */
	assert_int_equal(announce_bucket_take(&b, 1499, 2, 3), 0);
	assert_int_equal(announce_bucket_take(&b, 1500, 2, 3), 1);
	/* A long silence refills to the burst, not beyond. */
	got = 0;
	for (int i = 0; i < 10; i++)
		got += announce_bucket_take(&b, UINT64_MAX / 2, 2, 3);
	assert_int_equal(got, 3);
	/* The clock going back refills nothing. */
	assert_int_equal(announce_bucket_take(&b, 5, 2, 3), 0);
	/* Rate 0: no limit. */
	assert_int_equal(announce_bucket_take(&b, 5, 0, 3), 1);
}

static void test_own_announcement_is_self(void **state)
{
	struct fixture *f = *state;
	uint8_t pkt[ANNOUNCE_BYTES];

	make(f, f->self, NOW, 1, pkt);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_SELF);
}

static void test_header_faults_have_their_own_reasons(void **state)
{
	struct fixture *f = *state;
	uint8_t good[ANNOUNCE_BYTES], pkt[ANNOUNCE_BYTES];

	make(f, f->peer, NOW, 1, good);
	memcpy(pkt, good, sizeof pkt);
	patch_and_sign(f, pkt, 0, 'X');
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_BAD_MAGIC);
	memcpy(pkt, good, sizeof pkt);
	patch_and_sign(f, pkt, 4, ANNOUNCE_VERSION + 1);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_BAD_VERSION);
	memcpy(pkt, good, sizeof pkt);
	patch_and_sign(f, pkt, 5, 0x80);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_MALFORMED);
	memcpy(pkt, good, sizeof pkt);
	patch_and_sign(f, pkt, 7, 1);   /* reserved */
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_MALFORMED);
	memcpy(pkt, good, sizeof pkt);  /* port 0, sealed */
	patch_and_sign(f, pkt, SEALED_OFFSET + 32, 0);
	patch_and_sign(f, pkt, SEALED_OFFSET + 33, 0);
	assert_int_equal(announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL),
			 ANNOUNCE_MALFORMED);
	assert_int_equal(announce_verify(&f->v, NULL, 0, NOW, NULL),
			 ANNOUNCE_BAD_LENGTH);
	/* None of that touched the replay state: the good one passes. */
	assert_int_equal(announce_verify(&f->v, good, sizeof good, NOW, NULL),
			 ANNOUNCE_OK);
}

static void test_every_truncation_and_extension_is_rejected(void **state)
{
	struct fixture *f = *state;
	uint8_t pkt[ANNOUNCE_BYTES + 1];
	struct announce out;

	make(f, f->peer, NOW, 1, pkt);
	pkt[ANNOUNCE_BYTES] = 0;
	memset(&out, 0xee, sizeof out);
	for (size_t len = 0; len <= sizeof pkt; len++) {
		if (len == ANNOUNCE_BYTES)
			continue;
		/* A heap copy of exactly len bytes, so ASan catches any
		 * read past the end. */
		uint8_t *copy = malloc(len + (len == 0));

		assert_non_null(copy);
		memcpy(copy, pkt, len);
		assert_int_equal(announce_verify(&f->v, copy, len, NOW, &out),
				 ANNOUNCE_BAD_LENGTH);
		free(copy);
	}
	assert_int_equal(out.port, 0xeeee);
	assert_int_equal(announce_verify(&f->v, pkt, ANNOUNCE_BYTES, NOW, NULL),
			 ANNOUNCE_OK);
}

static void test_every_bit_flip_is_rejected(void **state)
{
	struct fixture *f = *state;
	uint8_t good[ANNOUNCE_BYTES], pkt[ANNOUNCE_BYTES];

	make(f, f->peer, NOW, 1, good);
	for (size_t bit = 0; bit < 8 * ANNOUNCE_BYTES; bit++) {
		enum announce_reason r;

		memcpy(pkt, good, sizeof pkt);
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = announce_verify(&f->v, pkt, sizeof pkt, NOW, NULL);
		if (r == ANNOUNCE_OK || r == ANNOUNCE_REPLAY)
			fail_msg("bit %zu: flipped packet gave %s", bit,
				 announce_reason_name(r));
	}
	/* Every check happened before the replay cache: still fresh. */
	assert_int_equal(announce_verify(&f->v, good, sizeof good, NOW, NULL),
			 ANNOUNCE_OK);
}

static void test_reason_names_are_distinct(void **state)
{
	(void)state;
	for (int i = 0; i < ANNOUNCE_REASON_COUNT; i++)
		for (int j = i + 1; j < ANNOUNCE_REASON_COUNT; j++)
			assert_string_not_equal(announce_reason_name(i),
						announce_reason_name(j));
	assert_string_equal(announce_reason_name(ANNOUNCE_REASON_COUNT),
			    "unknown");
}

/* ------------------------------------------------ fuzz seeds */

/* The fuzz target (tests/fuzz/fuzz_announce.c) verifies with network key
 * bytes 0..31, self id 0x11.., at FUZZ_NOW; these seeds are packets under
 * that key so that the fuzzer starts past the MAC. */
#define FUZZ_NOW 1700000000000ull

struct seed_file {
	const char *name;
	enum announce_reason expect;
};

static const struct seed_file seed_files[] = {
	{ "valid", ANNOUNCE_OK },
	{ "self", ANNOUNCE_SELF },
	{ "stale", ANNOUNCE_STALE },
	{ "foreign", ANNOUNCE_FOREIGN },
};

static void seed_packet(const char *name, uint8_t out[ANNOUNCE_BYTES])
{
	uint8_t netkey[ANNOUNCE_NETKEY_BYTES];
	struct announce_keys k;
	struct announce a = { .port = 7000, .timestamp_ms = FUZZ_NOW };

	for (int i = 0; i < ANNOUNCE_NETKEY_BYTES; i++)
		netkey[i] = (uint8_t)(strcmp(name, "foreign") == 0 ? 0xff : i);
	announce_keys_derive(&k, netkey);
	memset(a.node_id, strcmp(name, "self") == 0 ? 0x11 : 0x22,
	       sizeof a.node_id);
	memset(a.nonce, 0x33, sizeof a.nonce);
	if (strcmp(name, "stale") == 0)
		a.timestamp_ms -= 3600000;
	announce_encode(&k, &a, out);
}

static void test_fuzz_seeds_are_current(void **state)
{
	uint8_t netkey[ANNOUNCE_NETKEY_BYTES], self[ANNOUNCE_ID_BYTES];
	struct announce_verifier *v = malloc(sizeof *v);
	const char *write = getenv("RUMOR_WRITE_CORPUS");

	(void)state;
	assert_non_null(v);
	for (int i = 0; i < ANNOUNCE_NETKEY_BYTES; i++)
		netkey[i] = (uint8_t)i;
	memset(self, 0x11, sizeof self);
	for (size_t i = 0; i < sizeof seed_files / sizeof seed_files[0]; i++) {
		char rel[128];
		char *path;
		uint8_t want[ANNOUNCE_BYTES], got[ANNOUNCE_BYTES + 1];
		FILE *fp;
		size_t n;

		seed_packet(seed_files[i].name, want);
		snprintf(rel, sizeof rel, "tests/fuzz/corpus/announce/%s",
			 seed_files[i].name);
		path = tu_srcdir_path(rel);
		if (write != NULL && strcmp(write, "1") == 0)
			assert_int_equal(tu_write_file(path, want, sizeof want,
						       0644), 0);
		fp = fopen(path, "rb");
		if (fp == NULL)
			fail_msg("%s missing (RUMOR_WRITE_CORPUS=1 writes it)",
				 path);
		n = fread(got, 1, sizeof got, fp);
		fclose(fp);
		/* The seed is what this layout encodes, and gets the
		 * verdict it is there for. */
		assert_int_equal(n, ANNOUNCE_BYTES);
		assert_memory_equal(got, want, ANNOUNCE_BYTES);
		announce_verifier_init(v, netkey, self, 0);
		assert_int_equal(announce_verify(v, got, n, FUZZ_NOW, NULL),
				 seed_files[i].expect);
		free(path);
	}
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_round_trip_gives_back_every_field),
		T(test_layout_is_fixed_big_endian),
		T(test_seal_key_and_tag_are_derived_not_the_network_key),
		T(test_the_node_id_is_not_in_clear),
		T(test_the_old_format_is_dropped_with_its_reason),
		T(test_future_dated_flood_cannot_raise_the_floor_past_now),
		T(test_new_ids_are_rate_limited_known_ones_are_not),
		T(test_bucket_refills_at_its_rate_up_to_its_burst),
		T(test_forged_mac_is_rejected),
		T(test_other_cluster_is_foreign),
		T(test_stale_and_future_timestamps_are_rejected),
		T(test_window_is_configurable),
		T(test_replay_within_window_is_dropped),
		T(test_full_replay_cache_never_accepts_a_replay),
		T(test_own_announcement_is_self),
		T(test_header_faults_have_their_own_reasons),
		T(test_every_truncation_and_extension_is_rejected),
		T(test_every_bit_flip_is_rejected),
		T(test_reason_names_are_distinct),
#undef T
		cmocka_unit_test(test_fuzz_seeds_are_current),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
