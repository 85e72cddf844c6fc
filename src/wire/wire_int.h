/* SPDX-License-Identifier: MIT */
/*
 * wire_int: what the peer-message files of src/wire/ share (wire.c:
 * encoders, wire_batch.c: batch builders, wire_decode.c: the decoder,
 * wire_strong.c: the strong-write messages, wire_why.c: `why`).
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

/* A list head: a count within min..max and within what the rest of the
 * input could hold if each element took at least min_bytes, then room
 * for that many elem-sized elements in *arr (capacity *cap, in
 * elements, grown with realloc). Nothing is allocated before both
 * checks pass (wire.h, convention 4). */
int wire_read_list(struct wire_reader *r, const char *field, uint64_t min,
		   uint64_t max, size_t min_bytes, void **arr, size_t *cap,
		   size_t elem, size_t *n);
/* The fields of PREPARE .. ANSWER (type) after the type, into *m; lists
 * into d (wire_strong.c). */
int wire_decode_strong(struct wire_reader *r, struct wire_decoder *d,
		       enum wire_type type, struct wire_strong *m);
/* The fields of WHY_ASK or WHY_ANSWER after the type (wire_why.c). */
int wire_decode_why(struct wire_reader *r, struct wire_decoder *d,
		    enum wire_type type, struct wire_why *m);

#endif
