/* SPDX-License-Identifier: MIT */
/*
 * wire_cbor: the CBOR pieces both protocols share, the peer messages
 * (wire.c) and the control socket (wire_ctl.c): a growable output buffer
 * with encoders, and a strict zero-copy reader that takes the input one
 * item at a time. wire_cbor.c is the only file that includes cbor.h.
 *
 * Conventions:
 *  1. Encoding: the caller makes room with wire_buf_reserve() (at most
 *     WIRE_HEAD_MAX bytes per head, plus a string's contents), then the
 *     wire_put_* encoders write into that room, each item in its shortest
 *     form. Running out of room there is a bug in the caller's bound,
 *     hence an assert, not an error.
 *  2. Decoding: wire_read_item() reads the head of the next item (and a
 *     definite string's contents, in place) and refuses only truncated or
 *     malformed CBOR; which kinds and values may stand where is the
 *     caller's to say, with wire_want_kind() and the typed readers
 *     (wire_read_uint() ...), which refuse any other kind, indefinite
 *     lengths, maps, tags, floats and out-of-range values. Integers with a
 *     longer head than needed are accepted.
 *  3. Every refusal is RUMOR_EPROTO with the message
 *     "<who>: <msg> [<list> <idx>] <field> at byte <offset>: <detail>",
 *     e.g. "wire: BATCH entry 17 key at byte 80: byte string of 0 bytes,
 *     want 1..4096". The offset is that of the item refused.
 *  4. Nothing read is copied: strings point into the input. The reader
 *     never reads outside it and allocates nothing.
 */
#ifndef RUMOR_WIRE_CBOR_H
#define RUMOR_WIRE_CBOR_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/err.h"

/* ------------------------------------------------------------ buffers */

/* A growable byte buffer; frames are appended at data[len]. */
struct wire_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void wire_buf_init(struct wire_buf *b);
/* Forgets the contents (len = 0) but keeps the memory for reuse. */
void wire_buf_reset(struct wire_buf *b);
void wire_buf_free(struct wire_buf *b);

/* Makes room for extra more bytes after b->len (the buffer may move).
 * Returns 0, or RUMOR_ENOMEM (b unchanged) when the memory is not there
 * or the size would pass SIZE_MAX / 2. Callers word their own error. */
int wire_buf_reserve(struct wire_buf *b, size_t extra);

/* ------------------------------------------------------------ encoding */

#define WIRE_HEAD_MAX 9          /* longest CBOR head: initial byte + 8 */
#define WIRE_ARRAY32_HEAD 5      /* an array head with a 4-byte count */

/* The encoders of heads, ints, arrays and strings are written out here
 * (RFC 8949, 3.1) rather than call libcbor's: inline, they cost nothing
 * per item on the hot path of BATCH encoding. */

/* Bytes of the shortest CBOR head carrying v (any major type). */
static inline size_t wire_head_size(uint64_t v)
{
	if (v < 24)
		return 1;
	if (v <= UINT8_MAX)
		return 2;
	if (v <= UINT16_MAX)
		return 3;
	if (v <= UINT32_MAX)
		return 5;
	return 9;
}

/* Appends the shortest head of major type major (0..7) carrying v: v
 * itself below 24, else additional info 24..27 and v in 1, 2, 4 or 8
 * big-endian bytes. */
static inline void wire_put_head(struct wire_buf *b, unsigned major,
				 uint64_t v)
{
	size_t n = wire_head_size(v), i;
	uint8_t *p = b->data + b->len;

	assert(major < 8 && b->cap - b->len >= n);
	if (n == 1) {
		p[0] = (uint8_t)(major << 5 | v);
	} else {
		/* n is 2, 3, 5 or 9: additional info 24, 25, 26 or 27. */
		p[0] = (uint8_t)(major << 5 |
				 (n == 2 ? 24 : n == 3 ? 25 :
				  n == 5 ? 26 : 27));
		for (i = 1; i < n; i++)
			p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	}
	b->len += n;
}

/* Each appends one item, in its shortest form, into reserved room. */
static inline void wire_put_uint(struct wire_buf *b, uint64_t v)
{
	wire_put_head(b, 0, v);
}

/* The int -1 - n. */
static inline void wire_put_negint(struct wire_buf *b, uint64_t n)
{
	wire_put_head(b, 1, n);
}

static inline void wire_put_array(struct wire_buf *b, size_t count)
{
	wire_put_head(b, 4, count);
}

/* A definite string: major type 2 (bytes) or 3 (text), then len bytes. */
static inline void wire_put_string(struct wire_buf *b, unsigned major,
				   const void *p, size_t len)
{
	assert(major == 2 || major == 3);
	wire_put_head(b, major, len);
	assert(b->cap - b->len >= len);
	if (len > 0) {
		memcpy(b->data + b->len, p, len);
		b->len += len;
	}
}

static inline void wire_put_bytes(struct wire_buf *b, const void *p,
				  size_t len)
{
	wire_put_string(b, 2, p, len);
}

static inline void wire_put_text(struct wire_buf *b, const char *p,
				 size_t len)
{
	wire_put_string(b, 3, p, len);
}

static inline void wire_put_null(struct wire_buf *b)
{
	assert(b->cap - b->len >= 1);
	b->data[b->len++] = 0xf6;       /* major type 7, simple value 22 */
}

/* A double as libcbor writes it (0xfb, then 8 bytes). */
void wire_put_double(struct wire_buf *b, double v);

/* Writes an array head of exactly WIRE_ARRAY32_HEAD bytes at at, for a
 * count known only once the items are written (room kept beforehand). */
void wire_set_array32(uint8_t at[static WIRE_ARRAY32_HEAD], uint32_t count);

/* ------------------------------------------------------------ decoding */

/* What one item's head turned out to be. */
enum wire_item_kind {
	WIRE_ITEM_NONE = 0,         /* an item libcbor names no kind for */
	WIRE_ITEM_UINT,
	WIRE_ITEM_NEGINT,
	WIRE_ITEM_BYTES,
	WIRE_ITEM_TEXT,
	WIRE_ITEM_ARRAY,
	WIRE_ITEM_MAP,
	WIRE_ITEM_TAG,
	WIRE_ITEM_FLOAT,
	WIRE_ITEM_NULL,
	WIRE_ITEM_UNDEFINED,
	WIRE_ITEM_BOOL,
	WIRE_ITEM_INDEF_BYTES,
	WIRE_ITEM_INDEF_TEXT,
	WIRE_ITEM_INDEF_ARRAY,
	WIRE_ITEM_INDEF_MAP,
	WIRE_ITEM_BREAK,
};

struct wire_item {
	enum wire_item_kind kind;
	uint64_t u;             /* uint; negint's n (the int -1 - n); count */
	double d;               /* float */
	const uint8_t *p;       /* definite string contents, in the input */
	size_t len;             /* definite string length */
};

/* The position of a walk through one input, and what to call the field
 * being read in error messages (convention 3). */
struct wire_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;             /* offset of the next item */
	size_t item_pos;        /* offset of the item last read */
	const char *who;        /* "wire", "control" */
	const char *unit;       /* what the input is: "message", "frame" */
	const char *msg;        /* the message's name once known, else unit */
	const char *list;       /* the list being walked ("entry") or NULL */
	size_t idx;             /* index in list */
	struct err *err;
};

/* Starts a walk over buf[0..len); who and unit are static strings. */
void wire_reader_init(struct wire_reader *r, const uint8_t *buf, size_t len,
		      const char *who, const char *unit, struct err *err);

/* "a byte string", "an indefinite-length array", ... */
const char *wire_item_name(enum wire_item_kind kind);

/* Fails the walk: sets r->err (convention 3), returns RUMOR_EPROTO. */
int wire_read_fail(struct wire_reader *r, const char *field,
		   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reads the next item of any kind into *it (convention 2). */
int wire_read_item(struct wire_reader *r, const char *field,
		   struct wire_item *it);

/* Fails unless it is of kind ("expected an array, got a map"). */
int wire_want_kind(struct wire_reader *r, const char *field,
		   const struct wire_item *it, enum wire_item_kind kind);

/* An unsigned int at most max. */
int wire_read_uint(struct wire_reader *r, const char *field, uint64_t max,
		   uint64_t *out);

/* The same into a narrower type: 0..max, max within the type. _small
 * is for enums and flags (0..max as an int). */
int wire_read_u16(struct wire_reader *r, const char *field, uint16_t max,
		  uint16_t *out);
int wire_read_u32(struct wire_reader *r, const char *field, uint32_t max,
		  uint32_t *out);
int wire_read_small(struct wire_reader *r, const char *field, int max,
		    int *out);

/* A definite array head counting min..max items. With min_item_bytes
 * non-zero, also a count that the rest of the input could hold if each
 * item took at least that many bytes: checked before the caller
 * allocates anything for the items. */
int wire_read_array(struct wire_reader *r, const char *field, uint64_t min,
		    uint64_t max, size_t min_item_bytes, size_t *count);

/* A definite byte string of min..max bytes; *p points into the input
 * (never NULL, even when empty). */
int wire_read_bytes(struct wire_reader *r, const char *field, size_t min,
		    size_t max, const uint8_t **p, size_t *len);

/* The same, or null: then *p is NULL and *len 0. */
int wire_read_bytes_or_null(struct wire_reader *r, const char *field,
			    size_t min, size_t max, const uint8_t **p,
			    size_t *len);

/* A definite text string of min..max bytes without a NUL byte (both
 * protocols hand text on as C strings); *p points into the input and is
 * not NUL-terminated. */
int wire_read_text(struct wire_reader *r, const char *field, size_t min,
		   size_t max, const char **p, size_t *len);

/* Fails unless the walk has used the whole input. */
int wire_read_end(struct wire_reader *r);

#endif
