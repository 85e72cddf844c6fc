/* SPDX-License-Identifier: MIT */
/* announce: encode and verify multicast announcements (layout in README). */
#include "discovery/announce.h"

#include <assert.h>
#include <string.h>

/* Offsets of the fields; see discovery/README.md. The first OFF_NONCE
 * bytes are in clear and authenticated; the sealed part follows the
 * nonce. */
#define OFF_MAGIC 0
#define OFF_VERSION 4
#define OFF_FLAGS 5
#define OFF_RESERVED 6
#define OFF_TAG 8
#define OFF_NONCE 16
#define OFF_SEALED 40
#define OFF_MAC 82
/* Within the sealed part. */
#define SEALED_ID 0
#define SEALED_PORT 32
#define SEALED_TIME 34
#define SEALED_BYTES 42

_Static_assert(OFF_MAC + ANNOUNCE_MAC_BYTES == ANNOUNCE_BYTES,
	       "announcement layout adds up");
_Static_assert(OFF_NONCE + ANNOUNCE_NONCE_BYTES == OFF_SEALED,
	       "nonce before the sealed part");
_Static_assert(OFF_SEALED + SEALED_BYTES == OFF_MAC, "sealed part, then mac");
_Static_assert(SEALED_ID + ANNOUNCE_ID_BYTES == SEALED_PORT, "id, port");
_Static_assert(SEALED_TIME + 8 == SEALED_BYTES, "time last");
_Static_assert(ANNOUNCE_NETKEY_BYTES == crypto_kdf_KEYBYTES,
	       "the network key is a kdf master key");

/* crypto_kdf needs exactly crypto_kdf_CONTEXTBYTES (8) of context. */
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = { 'r', 'm', 'r', '-',
							   'a', 'n', 'n', 'o' };
/* Subkey 1 was version 1's MAC key: not reused for another purpose. */
enum { KDF_SUBKEY_TAG = 2, KDF_SUBKEY_SEAL = 3 };

const char *announce_reason_name(enum announce_reason r)
{
	switch (r) {
#define ANNOUNCE__CASE(name, text) \
	case name:                 \
		return text;
		ANNOUNCE_REASONS(ANNOUNCE__CASE)
#undef ANNOUNCE__CASE
	case ANNOUNCE_REASON_COUNT:
		break;
	}
	return "unknown";
}

void announce_keys_derive(struct announce_keys *k,
			  const uint8_t netkey[static ANNOUNCE_NETKEY_BYTES])
{
	/* kdf output is at least crypto_kdf_BYTES_MIN (16); the tag keeps
	 * the first 8 bytes, enough to tell clusters apart cheaply (the seal
	 * is what keeps strangers out). */
	uint8_t tag[crypto_kdf_BYTES_MIN];
	int rv;

	rv = crypto_kdf_derive_from_key(k->seal_key, sizeof k->seal_key,
					KDF_SUBKEY_SEAL, kdf_context, netkey);
	assert(rv == 0);
	rv = crypto_kdf_derive_from_key(tag, sizeof tag, KDF_SUBKEY_TAG,
					kdf_context, netkey);
	assert(rv == 0);
	(void)rv;
	memcpy(k->tag, tag, sizeof k->tag);
	sodium_memzero(tag, sizeof tag);
}

void announce_keys_wipe(struct announce_keys *k)
{
	sodium_memzero(k, sizeof *k);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void announce_encode(const struct announce_keys *k, const struct announce *a,
		     uint8_t out[static ANNOUNCE_BYTES])
{
	uint8_t plain[SEALED_BYTES];
	unsigned long long maclen;
	int rv;

	assert(a->port != 0);
	memcpy(out + OFF_MAGIC, ANNOUNCE_MAGIC, 4);
	out[OFF_VERSION] = ANNOUNCE_VERSION;
	out[OFF_FLAGS] = 0;
	put_be16(out + OFF_RESERVED, 0);
	memcpy(out + OFF_TAG, k->tag, ANNOUNCE_TAG_BYTES);
	memcpy(out + OFF_NONCE, a->nonce, ANNOUNCE_NONCE_BYTES);
	memcpy(plain + SEALED_ID, a->node_id, ANNOUNCE_ID_BYTES);
	put_be16(plain + SEALED_PORT, a->port);
	put_be64(plain + SEALED_TIME, a->timestamp_ms);
	rv = crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
		out + OFF_SEALED, out + OFF_MAC, &maclen, plain, sizeof plain,
		out, OFF_NONCE, NULL, a->nonce, k->seal_key);
	assert(rv == 0 && maclen == ANNOUNCE_MAC_BYTES);
	(void)rv;
	sodium_memzero(plain, sizeof plain);
}

enum announce_reason announce_decode(const struct announce_keys *k,
				     const uint8_t *buf, size_t len,
				     struct announce *out)
{
	uint8_t plain[SEALED_BYTES];

	if (buf == NULL || len < OFF_VERSION + 1)
		return ANNOUNCE_BAD_LENGTH;
	if (memcmp(buf + OFF_MAGIC, ANNOUNCE_MAGIC, 4) != 0)
		return ANNOUNCE_BAD_MAGIC;
	if (buf[OFF_VERSION] == ANNOUNCE_VERSION_OLD)
		return ANNOUNCE_OLD_VERSION;
	if (buf[OFF_VERSION] != ANNOUNCE_VERSION)
		return ANNOUNCE_BAD_VERSION;
	if (len != ANNOUNCE_BYTES)
		return ANNOUNCE_BAD_LENGTH;
	if (buf[OFF_FLAGS] != 0 || get_be16(buf + OFF_RESERVED) != 0)
		return ANNOUNCE_MALFORMED;
	/* The tag is public (it is sent in clear), so a plain comparison
	 * leaks nothing; it only spares the decryption for other
	 * clusters. */
	if (memcmp(buf + OFF_TAG, k->tag, ANNOUNCE_TAG_BYTES) != 0)
		return ANNOUNCE_FOREIGN;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		    plain, NULL, buf + OFF_SEALED, SEALED_BYTES, buf + OFF_MAC,
		    buf, OFF_NONCE, buf + OFF_NONCE, k->seal_key) != 0)
		return ANNOUNCE_FORGED;
	if (get_be16(plain + SEALED_PORT) == 0) {
		sodium_memzero(plain, sizeof plain);
		return ANNOUNCE_MALFORMED;
	}
	if (out != NULL) {
		memcpy(out->node_id, plain + SEALED_ID, ANNOUNCE_ID_BYTES);
		out->port = get_be16(plain + SEALED_PORT);
		out->timestamp_ms = get_be64(plain + SEALED_TIME);
		memcpy(out->nonce, buf + OFF_NONCE, ANNOUNCE_NONCE_BYTES);
	}
	sodium_memzero(plain, sizeof plain);
	return ANNOUNCE_OK;
}

int announce_bucket_take(struct announce_bucket *b, uint64_t now_ms,
			 uint32_t rate, uint32_t burst)
{
	uint64_t cap = (uint64_t)burst * 1000u;

	if (rate == 0)
		return 1;
	if (!b->started) {
		b->started = 1;
		b->milli = cap;
		b->last_ms = now_ms;
	} else if (now_ms > b->last_ms) {
		uint64_t dt = now_ms - b->last_ms;

		/* dt * rate cannot overflow: a dt that long refills all. */
		b->milli = dt > cap / rate ? cap : b->milli + dt * rate;
		if (b->milli > cap)
			b->milli = cap;
		b->last_ms = now_ms;
	} else {
		b->last_ms = now_ms;    /* the clock went back: no refill */
	}
	if (b->milli < 1000u)
		return 0;
	b->milli -= 1000u;
	return 1;
}

void announce_verifier_init(struct announce_verifier *v,
			    const uint8_t netkey[static ANNOUNCE_NETKEY_BYTES],
			    const uint8_t self_id[static ANNOUNCE_ID_BYTES],
			    uint64_t window_ms)
{
	memset(v, 0, sizeof *v);
	announce_keys_derive(&v->keys, netkey);
	memcpy(v->self_id, self_id, ANNOUNCE_ID_BYTES);
	v->window_ms = window_ms != 0 ? window_ms : ANNOUNCE_WINDOW_MS_DEFAULT;
	v->new_ids_per_s = ANNOUNCE_NEW_IDS_PER_S_DEFAULT;
	v->new_ids_burst = ANNOUNCE_NEW_IDS_BURST_DEFAULT;
}

void announce_verifier_set_new_ids(struct announce_verifier *v,
				   uint32_t per_s, uint32_t burst)
{
	v->new_ids_per_s = per_s;
	v->new_ids_burst = burst != 0 ? burst : 1;
	memset(&v->new_ids, 0, sizeof v->new_ids);
}

void announce_verifier_wipe(struct announce_verifier *v)
{
	sodium_memzero(v, sizeof *v);
}

static struct announce_seen *seen_find(struct announce_verifier *v,
				       const uint8_t id[ANNOUNCE_ID_BYTES])
{
	for (size_t i = 0; i < v->n_seen; i++)
		if (memcmp(v->seen[i].node_id, id, ANNOUNCE_ID_BYTES) == 0)
			return &v->seen[i];
	return NULL;
}

/* A slot for a node not in the table; evicts the oldest when full and
 * raises the floor to its high-water mark, but not above now_ms (see
 * announce.h). */
static struct announce_seen *seen_add(struct announce_verifier *v,
				      uint64_t now_ms)
{
	size_t oldest = 0;
	uint64_t mark;

	if (v->n_seen < ANNOUNCE_REPLAY_SLOTS)
		return &v->seen[v->n_seen++];
	for (size_t i = 1; i < v->n_seen; i++)
		if (v->seen[i].hwm_ms < v->seen[oldest].hwm_ms)
			oldest = i;
	mark = v->seen[oldest].hwm_ms < now_ms ? v->seen[oldest].hwm_ms
						: now_ms;
	if (mark > v->floor_ms)
		v->floor_ms = mark;
	return &v->seen[oldest];
}

enum announce_reason announce_verify(struct announce_verifier *v,
				     const uint8_t *buf, size_t len,
				     uint64_t now_ms, struct announce *out)
{
	struct announce a;
	struct announce_seen *s;
	enum announce_reason r;

	r = announce_decode(&v->keys, buf, len, &a);
	if (r != ANNOUNCE_OK)
		return r;
	if (memcmp(a.node_id, v->self_id, ANNOUNCE_ID_BYTES) == 0)
		return ANNOUNCE_SELF;
	/* Written so that neither side can overflow. */
	if (a.timestamp_ms < now_ms && now_ms - a.timestamp_ms > v->window_ms)
		return ANNOUNCE_STALE;
	if (a.timestamp_ms > now_ms && a.timestamp_ms - now_ms > v->window_ms)
		return ANNOUNCE_FUTURE;
	s = seen_find(v, a.node_id);
	if (s != NULL && a.timestamp_ms == s->hwm_ms &&
	    memcmp(a.nonce, s->nonce, ANNOUNCE_NONCE_BYTES) == 0)
		return ANNOUNCE_DUPLICATE;
	if (s != NULL ? a.timestamp_ms <= s->hwm_ms
		      : a.timestamp_ms <= v->floor_ms)
		return ANNOUNCE_REPLAY;
	if (s == NULL && !announce_bucket_take(&v->new_ids, now_ms,
					       v->new_ids_per_s,
					       v->new_ids_burst))
		return ANNOUNCE_NEW_ID_RATE;
	if (s == NULL) {
		s = seen_add(v, now_ms);
		memcpy(s->node_id, a.node_id, ANNOUNCE_ID_BYTES);
	}
	s->hwm_ms = a.timestamp_ms;
	memcpy(s->nonce, a.nonce, ANNOUNCE_NONCE_BYTES);
	if (out != NULL)
		*out = a;
	return ANNOUNCE_OK;
}
