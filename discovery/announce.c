/* SPDX-License-Identifier: MIT */
/* announce: encode and verify multicast announcements (layout in README). */
#include "discovery/announce.h"

#include <assert.h>
#include <string.h>

/* Offsets of the fields; see discovery/README.md. */
#define OFF_MAGIC 0
#define OFF_VERSION 4
#define OFF_FLAGS 5
#define OFF_PORT 6
#define OFF_TAG 8
#define OFF_ID 16
#define OFF_TIME 48
#define OFF_NONCE 56
#define OFF_MAC 72

_Static_assert(OFF_MAC + ANNOUNCE_MAC_BYTES == ANNOUNCE_BYTES,
	       "announcement layout adds up");
_Static_assert(OFF_NONCE + ANNOUNCE_NONCE_BYTES == OFF_MAC, "nonce before mac");
_Static_assert(OFF_ID + ANNOUNCE_ID_BYTES == OFF_TIME, "id before time");
_Static_assert(ANNOUNCE_NETKEY_BYTES == crypto_kdf_KEYBYTES,
	       "the network key is a kdf master key");

/* crypto_kdf needs exactly crypto_kdf_CONTEXTBYTES (8) of context. */
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = { 'r', 'm', 'r', '-',
							   'a', 'n', 'n', 'o' };
enum { KDF_SUBKEY_MAC = 1, KDF_SUBKEY_TAG = 2 };

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
	 * the first 8 bytes, enough to tell clusters apart cheaply (the MAC
	 * is what keeps strangers out). */
	uint8_t tag[crypto_kdf_BYTES_MIN];
	int rv;

	rv = crypto_kdf_derive_from_key(k->mac_key, sizeof k->mac_key,
					KDF_SUBKEY_MAC, kdf_context, netkey);
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
	assert(a->port != 0);
	memcpy(out + OFF_MAGIC, ANNOUNCE_MAGIC, 4);
	out[OFF_VERSION] = ANNOUNCE_VERSION;
	out[OFF_FLAGS] = 0;
	put_be16(out + OFF_PORT, a->port);
	memcpy(out + OFF_TAG, k->tag, ANNOUNCE_TAG_BYTES);
	memcpy(out + OFF_ID, a->node_id, ANNOUNCE_ID_BYTES);
	put_be64(out + OFF_TIME, a->timestamp_ms);
	memcpy(out + OFF_NONCE, a->nonce, ANNOUNCE_NONCE_BYTES);
	crypto_auth(out + OFF_MAC, out, OFF_MAC, k->mac_key);
}

enum announce_reason announce_decode(const struct announce_keys *k,
				     const uint8_t *buf, size_t len,
				     struct announce *out)
{
	if (buf == NULL || len != ANNOUNCE_BYTES)
		return ANNOUNCE_BAD_LENGTH;
	if (memcmp(buf + OFF_MAGIC, ANNOUNCE_MAGIC, 4) != 0)
		return ANNOUNCE_BAD_MAGIC;
	if (buf[OFF_VERSION] != ANNOUNCE_VERSION)
		return ANNOUNCE_BAD_VERSION;
	if (buf[OFF_FLAGS] != 0 || get_be16(buf + OFF_PORT) == 0)
		return ANNOUNCE_MALFORMED;
	/* The tag is public (it is sent in clear), so a plain comparison
	 * leaks nothing; it only spares the MAC for other clusters. */
	if (memcmp(buf + OFF_TAG, k->tag, ANNOUNCE_TAG_BYTES) != 0)
		return ANNOUNCE_FOREIGN;
	if (crypto_auth_verify(buf + OFF_MAC, buf, OFF_MAC, k->mac_key) != 0)
		return ANNOUNCE_FORGED;
	if (out != NULL) {
		memcpy(out->node_id, buf + OFF_ID, ANNOUNCE_ID_BYTES);
		out->port = get_be16(buf + OFF_PORT);
		out->timestamp_ms = get_be64(buf + OFF_TIME);
		memcpy(out->nonce, buf + OFF_NONCE, ANNOUNCE_NONCE_BYTES);
	}
	return ANNOUNCE_OK;
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
 * raises the floor to its high-water mark (see announce.h). */
static struct announce_seen *seen_add(struct announce_verifier *v)
{
	size_t oldest = 0;

	if (v->n_seen < ANNOUNCE_REPLAY_SLOTS)
		return &v->seen[v->n_seen++];
	for (size_t i = 1; i < v->n_seen; i++)
		if (v->seen[i].hwm_ms < v->seen[oldest].hwm_ms)
			oldest = i;
	if (v->seen[oldest].hwm_ms > v->floor_ms)
		v->floor_ms = v->seen[oldest].hwm_ms;
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
	if (s != NULL ? a.timestamp_ms <= s->hwm_ms
		      : a.timestamp_ms <= v->floor_ms)
		return ANNOUNCE_REPLAY;
	if (s == NULL) {
		s = seen_add(v);
		memcpy(s->node_id, a.node_id, ANNOUNCE_ID_BYTES);
	}
	s->hwm_ms = a.timestamp_ms;
	if (out != NULL)
		*out = a;
	return ANNOUNCE_OK;
}
