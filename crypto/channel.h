/* SPDX-License-Identifier: MIT */
/*
 * channel: sealed frames after the handshake. Each frame is
 * length-prefixed, encrypted and authenticated under the session keys,
 * with a hard bound on its size. Once a received frame fails to
 * authenticate or exceeds the bound, the channel is dead: every later
 * call fails, so nothing from that connection is applied after the
 * failure. Pure: no I/O.
 *
 * Wire format of one frame (crypto/README.md, "Frames"):
 *
 *     length   4 bytes, big-endian: plaintext bytes, 0..CHANNEL_FRAME_MAX
 *     sealed   length + 16 bytes: XChaCha20-Poly1305 (IETF) ciphertext
 *              and tag; the 4 length bytes are the additional data, the
 *              nonce is the frame's number in its direction (0, 1, ...)
 *
 * Use: channel_init() with the handshake result; channel_seal() each
 * outgoing message into channel_sealed_size(len) bytes and send them;
 * pass received bytes, however the network split or merged them, to
 * channel_feed(), which calls back once per whole authentic frame.
 */
#ifndef RUMOR_CRYPTO_CHANNEL_H
#define RUMOR_CRYPTO_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/handshake.h"
#include "lib/err.h"

/* Largest plaintext of one frame: a batch bound plus one maximal entry. */
#define CHANNEL_FRAME_MAX (2u * 1024u * 1024u)
#define CHANNEL_LENGTH_BYTES 4u         /* the length prefix */
#define CHANNEL_TAG_BYTES 16u           /* the Poly1305 tag */
#define CHANNEL_OVERHEAD (CHANNEL_LENGTH_BYTES + CHANNEL_TAG_BYTES)

struct channel;     /* defined in channel.c; see channel_size() */

/* Bytes to allocate for a struct channel (any malloc'd block will do). */
size_t channel_size(void);

/* Keys a channel with res->tx_key (what we seal) and res->rx_key (what we
 * open); both frame counters start at 0. Allocates nothing: the receive
 * buffer grows as frames arrive. Pair with channel_wipe(). */
void channel_init(struct channel *ch, const struct handshake_result *res);

/* Zeroes the keys and any buffered plaintext and frees the receive
 * buffer. The channel may be initialised again afterwards. */
void channel_wipe(struct channel *ch);

/* Bytes on the wire for a message of len bytes: len + CHANNEL_OVERHEAD. */
static inline size_t channel_sealed_size(size_t len)
{
	return len + CHANNEL_OVERHEAD;
}

/* Seals msg (len <= CHANNEL_FRAME_MAX) as the next frame into out, which
 * holds channel_sealed_size(len) bytes; out may not overlap msg. Returns
 * 0, RUMOR_ETOOBIG for an oversized message (channel unchanged) or the
 * channel's sticky error once it is dead. */
int channel_seal(struct channel *ch, const uint8_t *msg, size_t len,
		 uint8_t *out, struct err *err)
	__attribute__((warn_unused_result));

/* Called once per authentic frame, in order. msg (len bytes, never NULL)
 * lives in the channel's receive buffer and is valid only during the
 * call; the callee may modify it. Return 0 to go on with the next frame,
 * nonzero to make channel_feed() return right after this frame. */
typedef int (*channel_frame_cb)(void *arg, uint8_t *msg, size_t len);

/* Feeds len received bytes, cut anywhere. Calls cb for every frame that
 * completes, until the bytes run out or cb asks to stop; *consumed (may
 * be NULL) gets the bytes used, which is len unless cb stopped early (the
 * caller then feeds data + *consumed later). Bytes of an incomplete frame
 * are kept in the channel. Returns 0, or when a frame is oversized
 * (RUMOR_EPROTO, detected from its length prefix before anything of that
 * size is allocated) or fails authentication, which includes replayed,
 * reordered and truncated-then-continued frames (RUMOR_EAUTH): the
 * channel is then dead, no later frame is delivered, and every later
 * channel_feed() and channel_seal() returns the same error. */
int channel_feed(struct channel *ch, const uint8_t *data, size_t len,
		 size_t *consumed, channel_frame_cb cb, void *arg,
		 struct err *err)
	__attribute__((warn_unused_result));

/* 0 while the channel works, else its sticky negative error. */
int channel_error(const struct channel *ch);

/* Bytes of a partly received frame held in the channel (0 at a frame
 * boundary); lets a transport tell a clean end of stream from a cut one. */
size_t channel_pending(const struct channel *ch);

/* Heap bytes the channel holds (its receive buffer): grows with the bytes
 * that really arrive, never with a declared length alone. */
size_t channel_memory(const struct channel *ch);

#endif
