/* SPDX-License-Identifier: MIT */
/*
 * channel: sealed, length-prefixed frames (see channel.h and the "Frames"
 * section of crypto/README.md).
 *
 * Why crypto_aead_xchacha20poly1305_ietf with a counter nonce rather than
 * crypto_secretstream: the handshake gives every connection fresh keys,
 * one per direction, so the frame number alone is a nonce that never
 * repeats under a key, and an implicit nonce makes replayed, dropped or
 * reordered frames fail authentication just as secretstream's internal
 * counter does. Unlike secretstream it needs no 24-byte stream header
 * from each side before the first frame (a frame can follow the last
 * handshake message in the same segment), and each frame is sealed with
 * one plain AEAD call whose additional data is the length prefix.
 */
#include "crypto/channel.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* The receive buffer starts this small and doubles as frames need it, so
 * a declared length alone never makes the channel allocate that much. */
#define CHANNEL_BUF_MIN 4096u

struct channel {
	uint8_t tx_key[SESSION_KEY_BYTES];
	uint8_t rx_key[SESSION_KEY_BYTES];
	uint64_t tx_seq;                /* number of the next frame sealed */
	uint64_t rx_seq;                /* number of the next frame opened */
	struct err failure;             /* code != 0: the channel is dead */

	/* The frame being received: its length prefix, then its sealed
	 * bytes when they arrive in pieces. */
	uint8_t prefix[CHANNEL_LENGTH_BYTES];
	size_t prefix_have;
	uint32_t frame_len;             /* valid once prefix_have == 4 */
	size_t sealed_have;

	uint8_t *buf;                   /* sealed bytes, opened in place */
	size_t buf_cap;
	uint8_t empty[1];               /* what an empty frame points at */
};

size_t channel_size(void)
{
	return sizeof(struct channel);
}

void channel_init(struct channel *ch, const struct handshake_result *res)
{
	assert(ch != NULL && res != NULL);
	memset(ch, 0, sizeof *ch);
	memcpy(ch->tx_key, res->tx_key, sizeof ch->tx_key);
	memcpy(ch->rx_key, res->rx_key, sizeof ch->rx_key);
}

void channel_wipe(struct channel *ch)
{
	if (ch->buf != NULL) {
		sodium_memzero(ch->buf, ch->buf_cap);
		free(ch->buf);
	}
	sodium_memzero(ch, sizeof *ch);
}

int channel_error(const struct channel *ch)
{
	return ch->failure.code;
}

size_t channel_pending(const struct channel *ch)
{
	return ch->prefix_have + ch->sealed_have;
}

size_t channel_memory(const struct channel *ch)
{
	return ch->buf_cap;
}

/* The nonce of frame number seq: seq little-endian, then zeros. */
static void channel_nonce(uint64_t seq,
			  uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES])
{
	int i;

	memset(nonce, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	for (i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(seq >> (8 * i));
}

/* Marks the channel dead with code and message; returns code. Later calls
 * report the same failure. */
static int channel_fail(struct channel *ch, struct err *err, int code,
			const char *what)
{
	assert(code < 0);
	err_set(&ch->failure, code, "channel: %s", what);
	/* Nothing of a dead channel may be read again. */
	if (ch->buf != NULL)
		sodium_memzero(ch->buf, ch->buf_cap);
	ch->prefix_have = 0;
	ch->sealed_have = 0;
	if (err != NULL)
		*err = ch->failure;
	return code;
}

static int channel_dead(const struct channel *ch, struct err *err)
{
	if (err != NULL)
		*err = ch->failure;
	return ch->failure.code;
}

int channel_seal(struct channel *ch, const uint8_t *msg, size_t len,
		 uint8_t *out, struct err *err)
{
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	int rv;

	assert(ch != NULL && out != NULL && (msg != NULL || len == 0));
	if (ch->failure.code != 0)
		return channel_dead(ch, err);
	if (len > CHANNEL_FRAME_MAX)
		return err_set(err, RUMOR_ETOOBIG,
			       "channel: message of %zu bytes exceeds the frame bound of %u",
			       len, CHANNEL_FRAME_MAX);
	/* A counter at its end would repeat a nonce; 2^64 frames is not a
	 * real connection, so fail rather than wrap. */
	if (ch->tx_seq == UINT64_MAX)
		return channel_fail(ch, err, RUMOR_EPROTO,
				    "frame counter exhausted");
	assert(len == 0 || (uintptr_t)(msg + len) <= (uintptr_t)out ||
	       (uintptr_t)msg >= (uintptr_t)(out + channel_sealed_size(len)));

	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	channel_nonce(ch->tx_seq, nonce);
	rv = crypto_aead_xchacha20poly1305_ietf_encrypt(
		out + CHANNEL_LENGTH_BYTES, NULL, len ? msg : ch->empty, len,
		out, CHANNEL_LENGTH_BYTES, NULL, nonce, ch->tx_key);
	assert(rv == 0);
	(void)rv;
	ch->tx_seq++;
	return 0;
}

/* Makes room for want bytes in the receive buffer, keeping the bytes it
 * holds. want never exceeds one sealed frame of the bound. */
static int channel_reserve(struct channel *ch, size_t want, struct err *err)
{
	size_t cap;
	uint8_t *p;

	assert(want <= CHANNEL_FRAME_MAX + CHANNEL_TAG_BYTES);
	if (want <= ch->buf_cap)
		return 0;
	cap = ch->buf_cap ? ch->buf_cap * 2 : CHANNEL_BUF_MIN;
	if (cap < want)
		cap = want;
	if (cap > CHANNEL_FRAME_MAX + CHANNEL_TAG_BYTES)
		cap = CHANNEL_FRAME_MAX + CHANNEL_TAG_BYTES;
	/* Not realloc: the old block may hold plaintext, which is wiped
	 * before it goes back to the allocator. */
	p = malloc(cap);
	if (p == NULL)
		return channel_fail(ch, err, RUMOR_ENOMEM,
				    "out of memory for the receive buffer");
	if (ch->buf != NULL) {
		memcpy(p, ch->buf, ch->sealed_have);
		sodium_memzero(ch->buf, ch->buf_cap);
		free(ch->buf);
	}
	ch->buf = p;
	ch->buf_cap = cap;
	return 0;
}

/* Opens the frame in sealed (frame_len + tag bytes) into ch->buf; sealed
 * may be ch->buf itself (in place). */
static int channel_open(struct channel *ch, const uint8_t *sealed,
			struct err *err)
{
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t *plain = ch->buf != NULL ? ch->buf : ch->empty;

	channel_nonce(ch->rx_seq, nonce);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    plain, NULL, NULL, sealed,
		    (unsigned long long)ch->frame_len + CHANNEL_TAG_BYTES,
		    ch->prefix, CHANNEL_LENGTH_BYTES, nonce, ch->rx_key) != 0)
		return channel_fail(ch, err, RUMOR_EAUTH,
				    "frame failed authentication (forged, corrupted, replayed or reordered)");
	if (ch->rx_seq == UINT64_MAX)
		return channel_fail(ch, err, RUMOR_EPROTO,
				    "frame counter exhausted");
	ch->rx_seq++;
	return 0;
}

int channel_feed(struct channel *ch, const uint8_t *data, size_t len,
		 size_t *consumed, channel_frame_cb cb, void *arg,
		 struct err *err)
{
	size_t pos = 0;
	int stop = 0;
	int rv = 0;

	assert(ch != NULL && cb != NULL && (data != NULL || len == 0));
	if (consumed != NULL)
		*consumed = 0;
	if (ch->failure.code != 0)
		return channel_dead(ch, err);

	while (pos < len && !stop) {
		size_t sealed_len, n;

		if (ch->prefix_have < CHANNEL_LENGTH_BYTES) {
			n = CHANNEL_LENGTH_BYTES - ch->prefix_have;
			if (n > len - pos)
				n = len - pos;
			memcpy(ch->prefix + ch->prefix_have, data + pos, n);
			ch->prefix_have += n;
			pos += n;
			if (ch->prefix_have < CHANNEL_LENGTH_BYTES)
				break;
			ch->frame_len = (uint32_t)ch->prefix[0] << 24 |
					(uint32_t)ch->prefix[1] << 16 |
					(uint32_t)ch->prefix[2] << 8 |
					(uint32_t)ch->prefix[3];
			/* Checked before anything is sized by it. */
			if (ch->frame_len > CHANNEL_FRAME_MAX) {
				rv = channel_fail(ch, err, RUMOR_EPROTO,
						  "frame length exceeds the bound");
				goto out;
			}
			ch->sealed_have = 0;
			if (pos == len)
				break;
		}

		sealed_len = (size_t)ch->frame_len + CHANNEL_TAG_BYTES;
		if (ch->sealed_have == 0 && len - pos >= sealed_len) {
			/* The whole frame is in the caller's bytes: open it
			 * straight from there, no copy. */
			if (ch->frame_len > 0) {
				rv = channel_reserve(ch, ch->frame_len, err);
				if (rv != 0)
					goto out;
			}
			rv = channel_open(ch, data + pos, err);
			if (rv != 0)
				goto out;
			pos += sealed_len;
		} else {
			/* A frame in pieces gathers in the buffer and is
			 * opened in place once complete. */
			n = sealed_len - ch->sealed_have;
			if (n > len - pos)
				n = len - pos;
			rv = channel_reserve(ch, ch->sealed_have + n, err);
			if (rv != 0)
				goto out;
			memcpy(ch->buf + ch->sealed_have, data + pos, n);
			ch->sealed_have += n;
			pos += n;
			if (ch->sealed_have < sealed_len)
				break;
			rv = channel_open(ch, ch->buf, err);
			if (rv != 0)
				goto out;
		}
		ch->prefix_have = 0;
		ch->sealed_have = 0;
		stop = cb(arg, ch->buf != NULL ? ch->buf : ch->empty,
			  ch->frame_len);
	}
out:
	if (consumed != NULL)
		*consumed = pos;
	return rv;
}
