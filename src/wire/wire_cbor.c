/* SPDX-License-Identifier: MIT */
/*
 * wire_cbor: the output buffer, encoders and strict item reader shared by
 * the peer protocol and the control protocol (wire_cbor.h).
 *
 * Encoding uses libcbor's low-level encoders straight into the buffer.
 * Decoding calls cbor_stream_decode(), which decodes one head (or one
 * whole definite string, in place) per call and reports it through a
 * callback; the callbacks below only note what the item was, so nothing
 * is allocated and nothing is copied.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "wire/wire_cbor.h"

/* ------------------------------------------------------------ buffers */

void wire_buf_init(struct wire_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void wire_buf_reset(struct wire_buf *b)
{
	b->len = 0;
}

void wire_buf_free(struct wire_buf *b)
{
	free(b->data);
	wire_buf_init(b);
}

int wire_buf_reserve(struct wire_buf *b, size_t extra)
{
	size_t want, cap;
	uint8_t *p;

	assert(b->len <= b->cap && b->len <= SIZE_MAX / 2);
	/* Within SIZE_MAX / 2, doubling the capacity cannot overflow. */
	if (extra > SIZE_MAX / 2 - b->len)
		return RUMOR_ENOMEM;
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	cap = b->cap != 0 ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return RUMOR_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* ------------------------------------------------------------ encoding */

void wire_put_double(struct wire_buf *b, double v)
{
	size_t n = cbor_encode_double(v, b->data + b->len, b->cap - b->len);

	assert(n > 0);
	b->len += n;
}

void wire_set_array32(uint8_t at[static WIRE_ARRAY32_HEAD], uint32_t count)
{
	/* Major type 4 with additional info 26: a 4-byte big-endian count,
	 * whatever its value (a shortest head could not be patched in). */
	at[0] = 4 << 5 | 26;
	at[1] = (uint8_t)(count >> 24);
	at[2] = (uint8_t)(count >> 16);
	at[3] = (uint8_t)(count >> 8);
	at[4] = (uint8_t)count;
}

/* ------------------------------------------------------------ items */

static const char *const item_names[] = {
	[WIRE_ITEM_NONE] = "an unsupported simple value",
	[WIRE_ITEM_UINT] = "an unsigned int",
	[WIRE_ITEM_NEGINT] = "a negative int",
	[WIRE_ITEM_BYTES] = "a byte string",
	[WIRE_ITEM_TEXT] = "a text string",
	[WIRE_ITEM_ARRAY] = "an array",
	[WIRE_ITEM_MAP] = "a map",
	[WIRE_ITEM_TAG] = "a tag",
	[WIRE_ITEM_FLOAT] = "a float",
	[WIRE_ITEM_NULL] = "null",
	[WIRE_ITEM_UNDEFINED] = "undefined",
	[WIRE_ITEM_BOOL] = "a boolean",
	[WIRE_ITEM_INDEF_BYTES] = "an indefinite-length byte string",
	[WIRE_ITEM_INDEF_TEXT] = "an indefinite-length text string",
	[WIRE_ITEM_INDEF_ARRAY] = "an indefinite-length array",
	[WIRE_ITEM_INDEF_MAP] = "an indefinite-length map",
	[WIRE_ITEM_BREAK] = "a break",
};

const char *wire_item_name(enum wire_item_kind kind)
{
	assert((size_t)kind < sizeof(item_names) / sizeof(item_names[0]));
	return item_names[kind];
}

#define ITEM(c) ((struct wire_item *)(c))

/* The eight int callbacks differ only in their argument's type. */
#define ON_INT(name, type, item_kind)                                  \
	static void name(void *c, type v)                              \
	{                                                              \
		ITEM(c)->kind = item_kind;                             \
		ITEM(c)->u = v;                                        \
	}

ON_INT(on_u8, uint8_t, WIRE_ITEM_UINT)
ON_INT(on_u16, uint16_t, WIRE_ITEM_UINT)
ON_INT(on_u32, uint32_t, WIRE_ITEM_UINT)
ON_INT(on_u64, uint64_t, WIRE_ITEM_UINT)
ON_INT(on_n8, uint8_t, WIRE_ITEM_NEGINT)
ON_INT(on_n16, uint16_t, WIRE_ITEM_NEGINT)
ON_INT(on_n32, uint32_t, WIRE_ITEM_NEGINT)
ON_INT(on_n64, uint64_t, WIRE_ITEM_NEGINT)

#undef ON_INT

/* wire_read_item() takes definite strings before libcbor sees them;
 * these two stand ready all the same. */
static void on_bytes(void *c, cbor_data p, size_t len)
{
	ITEM(c)->kind = WIRE_ITEM_BYTES;
	ITEM(c)->p = p;
	ITEM(c)->len = len;
}

static void on_text(void *c, cbor_data p, size_t len)
{
	ITEM(c)->kind = WIRE_ITEM_TEXT;
	ITEM(c)->p = p;
	ITEM(c)->len = len;
}

static void on_array(void *c, size_t n)
{
	ITEM(c)->kind = WIRE_ITEM_ARRAY;
	ITEM(c)->u = n;
}

static void on_map(void *c, size_t n)
{
	ITEM(c)->kind = WIRE_ITEM_MAP;
}

static void on_tag(void *c, uint64_t v)
{
	ITEM(c)->kind = WIRE_ITEM_TAG;
}

static void on_float(void *c, float v)
{
	ITEM(c)->kind = WIRE_ITEM_FLOAT;
	ITEM(c)->d = v;
}

static void on_double(void *c, double v)
{
	ITEM(c)->kind = WIRE_ITEM_FLOAT;
	ITEM(c)->d = v;
}

static void on_null(void *c)
{
	ITEM(c)->kind = WIRE_ITEM_NULL;
}

static void on_undefined(void *c)
{
	ITEM(c)->kind = WIRE_ITEM_UNDEFINED;
}

static void on_bool(void *c, bool v)
{
	ITEM(c)->kind = WIRE_ITEM_BOOL;
}

static void on_indef_bytes(void *c)
{
	ITEM(c)->kind = WIRE_ITEM_INDEF_BYTES;
}

static void on_indef_text(void *c)
{
	ITEM(c)->kind = WIRE_ITEM_INDEF_TEXT;
}

static void on_indef_array(void *c)
{
	ITEM(c)->kind = WIRE_ITEM_INDEF_ARRAY;
}

static void on_indef_map(void *c)
{
	ITEM(c)->kind = WIRE_ITEM_INDEF_MAP;
}

static void on_break(void *c)
{
	ITEM(c)->kind = WIRE_ITEM_BREAK;
}

/* Every callback is set: an item a schema does not allow is still
 * recognised, so that the error can name it. */
static const struct cbor_callbacks item_callbacks = {
	.uint8 = on_u8,
	.uint16 = on_u16,
	.uint32 = on_u32,
	.uint64 = on_u64,
	.negint8 = on_n8,
	.negint16 = on_n16,
	.negint32 = on_n32,
	.negint64 = on_n64,
	.byte_string_start = on_indef_bytes,
	.byte_string = on_bytes,
	.string = on_text,
	.string_start = on_indef_text,
	.indef_array_start = on_indef_array,
	.array_start = on_array,
	.indef_map_start = on_indef_map,
	.map_start = on_map,
	.tag = on_tag,
	.float2 = on_float,
	.float4 = on_float,
	.float8 = on_double,
	.undefined = on_undefined,
	.null = on_null,
	.boolean = on_bool,
	.indef_break = on_break,
};

/* ------------------------------------------------------------ reading */

void wire_reader_init(struct wire_reader *r, const uint8_t *buf, size_t len,
		      const char *who, const char *unit, struct err *err)
{
	assert(buf != NULL || len == 0);
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	r->who = who;
	r->unit = unit;
	r->msg = unit;
	r->err = err;
}

int wire_read_fail(struct wire_reader *r, const char *field,
		   const char *fmt, ...)
{
	char detail[160];
	char where[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (r->list != NULL) {
		snprintf(where, sizeof(where), "%s %zu %s", r->list, r->idx,
			 field);
		field = where;
	}
	return err_set(r->err, RUMOR_EPROTO, "%s: %s %s at byte %zu: %s",
		       r->who, r->msg, field, r->item_pos, detail);
}

/* Bytes the item at p takes if it is a definite string: head and
 * contents, from the head alone (saturating at SIZE_MAX), or the head
 * when even that is cut off; *n gets the contents' length. 0 for any
 * other item (indefinite and reserved heads too). */
static size_t string_size(const uint8_t *p, size_t left, uint64_t *n)
{
	unsigned ai = p[0] & 0x1f;
	size_t head, i;

	if (p[0] < 0x40 || p[0] >= 0x80)         /* major type 2 or 3 */
		return 0;
	if (ai > 27)
		return 0;
	if (ai < 24) {
		*n = ai;
		return 1 + (size_t)ai;
	}
	head = (size_t)1 << (ai - 24);
	if (left < 1 + head)
		return 1 + head;
	*n = 0;
	for (i = 0; i < head; i++)
		*n = *n << 8 | p[1 + i];
	if (*n > SIZE_MAX - 1 - head)
		return SIZE_MAX;
	return 1 + head + (size_t)*n;
}

int wire_read_item(struct wire_reader *r, const char *field,
		   struct wire_item *it)
{
	const uint8_t *p = r->buf + r->pos;
	struct cbor_decoder_result res;
	size_t left, size;
	uint64_t n;

	r->item_pos = r->pos;
	if (r->pos >= r->len)
		return wire_read_fail(r, field, "truncated: the %s ends "
				      "before this item", r->unit);
	left = r->len - r->pos;
	/* A definite string is taken here: its length must be checked
	 * before libcbor would add it to an offset, and with its head read
	 * for that, the string is as good as decoded. The counts in the
	 * message are the ones libcbor would report. */
	size = string_size(p, left, &n);
	if (size > left)
		return wire_read_fail(r, field, "truncated: item needs %zu "
				      "bytes, %zu left", size, left);
	if (size > 0) {
		it->kind = p[0] < 0x60 ? WIRE_ITEM_BYTES : WIRE_ITEM_TEXT;
		it->p = p + (size - n);
		it->len = (size_t)n;
		r->pos += size;
		return 0;
	}
	/* Each callback fills the fields its kind has and no caller reads
	 * another kind's, so only the kind needs a start value. */
	it->kind = WIRE_ITEM_NONE;
	res = cbor_stream_decode(p, left, &item_callbacks, it);
	if (res.status == CBOR_DECODER_NEDATA)
		return wire_read_fail(r, field, "truncated: item needs %zu "
				      "bytes, %zu left", res.required, left);
	/* Belt and braces: libcbor must not claim bytes we did not give. */
	if (res.status != CBOR_DECODER_FINISHED || res.read == 0 ||
	    res.read > left)
		return wire_read_fail(r, field, "malformed CBOR item (initial "
				      "byte 0x%02x)", p[0]);
	r->pos += res.read;
	return 0;
}

int wire_want_kind(struct wire_reader *r, const char *field,
		   const struct wire_item *it, enum wire_item_kind kind)
{
	if (it->kind == kind)
		return 0;
	return wire_read_fail(r, field, "expected %s, got %s",
			      wire_item_name(kind), wire_item_name(it->kind));
}

int wire_read_uint(struct wire_reader *r, const char *field, uint64_t max,
		   uint64_t *out)
{
	struct wire_item it;
	int rv;

	rv = wire_read_item(r, field, &it);
	if (rv == 0)
		rv = wire_want_kind(r, field, &it, WIRE_ITEM_UINT);
	if (rv != 0)
		return rv;
	if (it.u > max)
		return wire_read_fail(r, field, "value %" PRIu64 " exceeds %"
				      PRIu64, it.u, max);
	*out = it.u;
	return 0;
}

int wire_read_u16(struct wire_reader *r, const char *field, uint16_t max,
		  uint16_t *out)
{
	uint64_t v = 0;
	int rv = wire_read_uint(r, field, max, &v);

	if (rv == 0)
		*out = (uint16_t)v;
	return rv;
}

int wire_read_u32(struct wire_reader *r, const char *field, uint32_t max,
		  uint32_t *out)
{
	uint64_t v = 0;
	int rv = wire_read_uint(r, field, max, &v);

	if (rv == 0)
		*out = (uint32_t)v;
	return rv;
}

int wire_read_small(struct wire_reader *r, const char *field, int max,
		    int *out)
{
	uint64_t v = 0;
	int rv;

	assert(max >= 0);
	rv = wire_read_uint(r, field, (uint64_t)max, &v);
	if (rv == 0)
		*out = (int)v;
	return rv;
}

int wire_read_array(struct wire_reader *r, const char *field, uint64_t min,
		    uint64_t max, size_t min_item_bytes, size_t *count)
{
	struct wire_item it;
	int rv;

	assert(min <= max && max <= SIZE_MAX);
	rv = wire_read_item(r, field, &it);
	if (rv == 0)
		rv = wire_want_kind(r, field, &it, WIRE_ITEM_ARRAY);
	if (rv != 0)
		return rv;
	if (it.u < min || it.u > max) {
		if (min == max)
			return wire_read_fail(r, field, "array of %" PRIu64
					      " items, want %" PRIu64, it.u,
					      min);
		return wire_read_fail(r, field, "array of %" PRIu64 " items, "
				      "want %" PRIu64 "..%" PRIu64, it.u, min,
				      max);
	}
	if (min_item_bytes > 0 &&
	    it.u > (r->len - r->pos) / min_item_bytes)
		return wire_read_fail(r, field, "list of %" PRIu64 " items "
				      "cannot fit in the %zu bytes left", it.u,
				      r->len - r->pos);
	*count = (size_t)it.u;
	return 0;
}

/* The length check of a definite string (what: "byte string" ...). */
static int string_len(struct wire_reader *r, const char *field,
		      const char *what, size_t len, size_t min, size_t max)
{
	if (len >= min && len <= max)
		return 0;
	if (min == max)
		return wire_read_fail(r, field, "%s of %zu bytes, want %zu",
				      what, len, min);
	return wire_read_fail(r, field, "%s of %zu bytes, want %zu..%zu",
			      what, len, min, max);
}

/* A byte string item already read. A zero-length string may come with p
 * NULL: point it at the input so that callers can tell empty from null. */
static int bytes_item(struct wire_reader *r, const char *field,
		      const struct wire_item *it, size_t min, size_t max,
		      const uint8_t **p, size_t *len)
{
	int rv;

	rv = wire_want_kind(r, field, it, WIRE_ITEM_BYTES);
	if (rv == 0)
		rv = string_len(r, field, "byte string", it->len, min, max);
	if (rv != 0)
		return rv;
	*p = it->p != NULL ? it->p : r->buf + r->pos;
	*len = it->len;
	return 0;
}

int wire_read_bytes(struct wire_reader *r, const char *field, size_t min,
		    size_t max, const uint8_t **p, size_t *len)
{
	struct wire_item it;
	int rv;

	rv = wire_read_item(r, field, &it);
	if (rv != 0)
		return rv;
	return bytes_item(r, field, &it, min, max, p, len);
}

int wire_read_bytes_or_null(struct wire_reader *r, const char *field,
			    size_t min, size_t max, const uint8_t **p,
			    size_t *len)
{
	struct wire_item it;
	int rv;

	rv = wire_read_item(r, field, &it);
	if (rv != 0)
		return rv;
	if (it.kind == WIRE_ITEM_NULL) {
		*p = NULL;
		*len = 0;
		return 0;
	}
	return bytes_item(r, field, &it, min, max, p, len);
}

int wire_read_text(struct wire_reader *r, const char *field, size_t min,
		   size_t max, const char **p, size_t *len)
{
	struct wire_item it;
	int rv;

	rv = wire_read_item(r, field, &it);
	if (rv == 0)
		rv = wire_want_kind(r, field, &it, WIRE_ITEM_TEXT);
	if (rv == 0)
		rv = string_len(r, field, "text string", it.len, min, max);
	if (rv != 0)
		return rv;
	if (it.len > 0 && memchr(it.p, '\0', it.len) != NULL)
		return wire_read_fail(r, field, "%s contains NUL", field);
	*p = it.p != NULL ? (const char *)it.p : (const char *)r->buf + r->pos;
	*len = it.len;
	return 0;
}

int wire_read_end(struct wire_reader *r)
{
	if (r->pos == r->len)
		return 0;
	r->item_pos = r->pos;
	return wire_read_fail(r, "end", "%zu trailing bytes after the %s",
			      r->len - r->pos, r->unit);
}
