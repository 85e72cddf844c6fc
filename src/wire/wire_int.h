/* SPDX-License-Identifier: MIT */
/*
 * wire_int: what the peer-message files of src/wire/ share (wire.c:
 * encoders, wire_batch.c: batch builders, wire_decode.c: the decoder).
 * Private to src/wire/.
 */
#ifndef RUMOR_WIRE_INT_H
#define RUMOR_WIRE_INT_H

#include "wire/wire.h"
#include "wire/wire_cbor.h"

/* Makes room for extra more bytes after out->len (wire_cbor.h, 1);
 * RUMOR_ENOMEM with a message. */
int wire_reserve(struct wire_buf *out, size_t extra, struct err *err);
/* Encodes a whole MBATCH message (wire_encode_msg's case). */
int wire_encode_mbatch_msg(struct wire_buf *out, const struct wire_mbatch *m,
			   struct err *err);

#endif
