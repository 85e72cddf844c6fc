/* SPDX-License-Identifier: MIT */
/*
 * wire_ctl: encoding and strict decoding of control-socket frames (see
 * wire_ctl.h for the message shapes).
 *
 * Encoders reserve room before each cbor_encode_* call, so those calls
 * cannot run short; a failed allocation is remembered and the frame
 * rolled back at the end. The decoder walks the body one item at a time
 * with cbor_stream_decode() and never builds a libcbor item tree, so a
 * hostile frame costs no memory beyond the bounded HWM list.
 */
#include "config.h"

#include <assert.h>
#include <cbor.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire_ctl.h"

/* ------------------------------------------------------------ buffers */

void ctl_buf_init(struct ctl_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void ctl_buf_free(struct ctl_buf *b)
{
	free(b->data);
	ctl_buf_init(b);
}

uint32_t ctl_frame_length(const uint8_t hdr[static CTL_FRAME_HEADER])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	       (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
}

static int buf_reserve(struct ctl_buf *b, size_t more)
{
	size_t need, cap;
	uint8_t *p;

	if (more > SIZE_MAX / 2 - b->len)
		return RUMOR_ENOMEM;
	need = b->len + more;
	if (need <= b->cap)
		return 0;
	cap = b->cap != 0 ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return RUMOR_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* ------------------------------------------------------------ encoding */

/* One frame being appended: where it starts, and whether any step ran
 * out of memory (then every later step does nothing). */
struct enc {
	struct ctl_buf *b;
	size_t start;
	int failed;
};

static void enc_begin(struct enc *e, struct ctl_buf *b)
{
	e->b = b;
	e->start = b->len;
	e->failed = buf_reserve(b, CTL_FRAME_HEADER) != 0;
	if (!e->failed)
		b->len += CTL_FRAME_HEADER;
}

/* Room for a head (at most 9 bytes) plus extra bytes of content. */
static uint8_t *enc_room(struct enc *e, size_t extra)
{
	if (e->failed)
		return NULL;
	if (buf_reserve(e->b, 9 + extra) != 0) {
		e->failed = 1;
		return NULL;
	}
	return e->b->data + e->b->len;
}

static void put_null(struct enc *e)
{
	uint8_t *p = enc_room(e, 0);

	if (p != NULL)
		e->b->len += cbor_encode_null(p, e->b->cap - e->b->len);
}

static void put_uint(struct enc *e, uint64_t v)
{
	uint8_t *p = enc_room(e, 0);

	if (p != NULL)
		e->b->len += cbor_encode_uint(v, p, e->b->cap - e->b->len);
}

static void put_negint(struct enc *e, int v)
{
	uint8_t *p = enc_room(e, 0);

	assert(v < 0);
	/* CBOR stores -1 - n. */
	if (p != NULL)
		e->b->len += cbor_encode_negint((uint64_t)(-1 - (int64_t)v), p,
						e->b->cap - e->b->len);
}

static void put_array(struct enc *e, size_t n)
{
	uint8_t *p = enc_room(e, 0);

	if (p != NULL)
		e->b->len += cbor_encode_array_start(n, p,
						     e->b->cap - e->b->len);
}

static void put_double(struct enc *e, double v)
{
	uint8_t *p = enc_room(e, 0);

	if (p != NULL)
		e->b->len += cbor_encode_double(v, p, e->b->cap - e->b->len);
}

static void put_string(struct enc *e, int text, const void *s, size_t n)
{
	uint8_t *p = enc_room(e, n);
	size_t h;

	if (p == NULL)
		return;
	if (text)
		h = cbor_encode_string_start(n, p, e->b->cap - e->b->len);
	else
		h = cbor_encode_bytestring_start(n, p, e->b->cap - e->b->len);
	if (n > 0)
		memcpy(p + h, s, n);
	e->b->len += h + n;
}

static void put_bytes(struct enc *e, const void *s, size_t n)
{
	put_string(e, 0, s, n);
}

static void put_text(struct enc *e, const char *s)
{
	put_string(e, 1, s, s != NULL ? strlen(s) : 0);
}

/* Writes the header; rolls the frame back when it failed or outgrew max. */
static int enc_end(struct enc *e, size_t max, struct err *err)
{
	size_t body;
	uint8_t *h;

	if (e->failed) {
		e->b->len = e->start;
		return err_set(err, RUMOR_ENOMEM, "control: out of memory "
			       "encoding a frame");
	}
	body = e->b->len - e->start - CTL_FRAME_HEADER;
	if (body > max) {
		e->b->len = e->start;
		return err_set(err, RUMOR_EINVAL, "control: frame of %zu bytes "
			       "exceeds the bound of %zu", body, max);
	}
	h = e->b->data + e->start;
	h[0] = (uint8_t)(body >> 24);
	h[1] = (uint8_t)(body >> 16);
	h[2] = (uint8_t)(body >> 8);
	h[3] = (uint8_t)body;
	return 0;
}

static int check_key(const char *what, size_t len, size_t min,
		     struct err *err)
{
	if (len < min || len > RUMOR_KEY_MAX)
		return err_set(err, len > RUMOR_KEY_MAX ? RUMOR_ETOOBIG :
			       RUMOR_EINVAL, "control: %s of %zu bytes (%zu "
			       "to %u allowed)", what, len, min, RUMOR_KEY_MAX);
	return 0;
}

int ctl_encode_request(struct ctl_buf *b, const struct ctl_request *rq,
		       struct err *err)
{
	struct enc e;
	int rv = 0;

	switch (rq->cmd) {
	case CTL_CMD_GET:
	case CTL_CMD_PUT:
	case CTL_CMD_DEL:
	case CTL_CMD_VERSION:
		rv = check_key("key", rq->key_len, 1, err);
		break;
	case CTL_CMD_SCAN:
	case CTL_CMD_WATCH:
		rv = check_key("prefix", rq->key_len, 0, err);
		break;
	case CTL_CMD_LOG:
		if (rq->limit < 1 || rq->limit > CTL_LOG_LIMIT_MAX)
			rv = err_set(err, RUMOR_EINVAL, "control: log limit "
				     "%llu (1 to %u allowed)",
				     (unsigned long long)rq->limit,
				     CTL_LOG_LIMIT_MAX);
		break;
	case CTL_CMD_SYNC:
		if (rq->timeout_ms < 1 || rq->timeout_ms > CTL_SYNC_TIMEOUT_MAX)
			rv = err_set(err, RUMOR_EINVAL, "control: sync timeout "
				     "%llu ms (1 to %u allowed)",
				     (unsigned long long)rq->timeout_ms,
				     CTL_SYNC_TIMEOUT_MAX);
		break;
	case CTL_CMD_STATUS:
	case CTL_CMD_PEERS:
		break;
	default:
		return err_set(err, RUMOR_EINVAL, "control: unknown command %d",
			       (int)rq->cmd);
	}
	if (rv != 0)
		return rv;
	if (rq->cmd == CTL_CMD_PUT && rq->value_len > RUMOR_VALUE_MAX)
		return err_set(err, RUMOR_ETOOBIG, "control: value of %zu bytes "
			       "(at most %u allowed)", rq->value_len,
			       RUMOR_VALUE_MAX);

	enc_begin(&e, b);
	switch (rq->cmd) {
	case CTL_CMD_STATUS:
	case CTL_CMD_PEERS:
		put_array(&e, 1);
		put_uint(&e, rq->cmd);
		break;
	case CTL_CMD_GET:
	case CTL_CMD_DEL:
	case CTL_CMD_VERSION:
	case CTL_CMD_WATCH:
		put_array(&e, 2);
		put_uint(&e, rq->cmd);
		put_bytes(&e, rq->key, rq->key_len);
		break;
	case CTL_CMD_PUT:
		put_array(&e, 3);
		put_uint(&e, rq->cmd);
		put_bytes(&e, rq->key, rq->key_len);
		put_bytes(&e, rq->value, rq->value_len);
		break;
	case CTL_CMD_SCAN:
		put_array(&e, 3);
		put_uint(&e, rq->cmd);
		put_bytes(&e, rq->key, rq->key_len);
		put_uint(&e, rq->limit);
		break;
	case CTL_CMD_LOG:
		put_array(&e, 2);
		put_uint(&e, rq->cmd);
		put_uint(&e, rq->limit);
		break;
	case CTL_CMD_SYNC:
		put_array(&e, 2);
		put_uint(&e, rq->cmd);
		put_uint(&e, rq->timeout_ms);
		break;
	}
	return enc_end(&e, CTL_REQUEST_MAX, err);
}

int ctl_encode_ok(struct ctl_buf *b)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 1);
	put_uint(&e, CTL_R_OK);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_error(struct ctl_buf *b, int code, const char *msg)
{
	struct enc e;
	size_t n = msg != NULL ? strlen(msg) : 0;

	if (code >= 0)
		return RUMOR_EINVAL;
	if (n > CTL_MESSAGE_MAX) {
		n = CTL_MESSAGE_MAX;
		/* Do not cut a UTF-8 sequence: back up over continuation
		 * bytes to the start of the character. */
		while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
			n--;
	}
	enc_begin(&e, b);
	put_array(&e, 3);
	put_uint(&e, CTL_R_ERROR);
	put_negint(&e, code);
	put_string(&e, 1, msg, n);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_value(struct ctl_buf *b, const void *value, size_t len)
{
	struct enc e;

	if (len > RUMOR_VALUE_MAX)
		return RUMOR_EINVAL;
	enc_begin(&e, b);
	put_array(&e, 2);
	put_uint(&e, CTL_R_VALUE);
	put_bytes(&e, value, len);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_record(struct ctl_buf *b, const struct rumor_version *v,
		      int local)
{
	struct enc e;
	unsigned flags = (v->deleted ? CTL_RECORD_DELETED : 0) |
			 (local ? CTL_RECORD_LOCAL : 0);

	if (v->key_len < 1 || v->key_len > RUMOR_KEY_MAX ||
	    v->value_len > RUMOR_VALUE_MAX || v->origin_len > CTL_ORIGIN_MAX)
		return RUMOR_EINVAL;
	enc_begin(&e, b);
	put_array(&e, 9);
	put_uint(&e, CTL_R_RECORD);
	put_bytes(&e, v->key, v->key_len);
	if (v->value != NULL && !v->deleted)
		put_bytes(&e, v->value, v->value_len);
	else
		put_null(&e);
	put_uint(&e, v->deleted ? 0 : v->value_len);
	put_uint(&e, flags);
	put_uint(&e, v->clock);
	put_uint(&e, v->wall_ms);
	put_bytes(&e, v->origin, v->origin_len);
	put_uint(&e, v->seq);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_item(struct ctl_buf *b, const void *key, size_t key_len,
		    const void *value, size_t value_len)
{
	struct enc e;

	if (key_len < 1 || key_len > RUMOR_KEY_MAX ||
	    value_len > RUMOR_VALUE_MAX)
		return RUMOR_EINVAL;
	enc_begin(&e, b);
	put_array(&e, 3);
	put_uint(&e, CTL_R_ITEM);
	put_bytes(&e, key, key_len);
	put_bytes(&e, value, value_len);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_end(struct ctl_buf *b, uint64_t count, int truncated)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 3);
	put_uint(&e, CTL_R_END);
	put_uint(&e, count);
	put_uint(&e, truncated ? 1 : 0);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_status(struct ctl_buf *b, const struct node_status *st,
		      uint64_t hwm_total, const struct ctl_hwm *hwm,
		      size_t n_hwm)
{
	struct enc e;
	size_t i;
	size_t n_counters = 0;

#define CTL__COUNT(name) n_counters++;
	CTL_COUNTERS(CTL__COUNT)
#undef CTL__COUNT
	if (n_hwm > CTL_HWM_MAX || n_hwm > hwm_total)
		return RUMOR_EINVAL;
	for (i = 0; i < n_hwm; i++)
		if (hwm[i].origin_len > CTL_ORIGIN_MAX)
			return RUMOR_EINVAL;
	enc_begin(&e, b);
	put_array(&e, 19);
	put_uint(&e, CTL_R_STATUS);
	put_text(&e, st->id);
	put_uint(&e, (uint64_t)(st->mode < 0 ? 0 : st->mode));
	put_text(&e, st->listen);
	put_text(&e, st->data_dir);
	put_text(&e, st->resolver);
	put_uint(&e, st->open_network ? 1 : 0);
	put_uint(&e, st->catching_up ? 1 : 0);
	put_uint(&e, st->catchup_left_ms);
	put_double(&e, st->velocity);
	put_uint(&e, st->interval_ms);
	put_uint(&e, st->local_seq);
	put_uint(&e, st->peers_known);
	put_uint(&e, st->peers_alive);
	put_uint(&e, st->peers_suspect);
	put_uint(&e, st->peers_connected);
	put_array(&e, n_counters);
#define CTL__PUT(name) put_uint(&e, st->stats.name);
	CTL_COUNTERS(CTL__PUT)
#undef CTL__PUT
	put_uint(&e, hwm_total);
	put_array(&e, n_hwm);
	for (i = 0; i < n_hwm; i++) {
		put_array(&e, 2);
		put_bytes(&e, hwm[i].origin, hwm[i].origin_len);
		put_uint(&e, hwm[i].seq);
	}
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_peer(struct ctl_buf *b, const struct node_peer_info *p)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 9);
	put_uint(&e, CTL_R_PEER);
	put_bytes(&e, p->id, sizeof(p->id));
	put_string(&e, 1, p->address, strnlen(p->address,
					      sizeof(p->address)));
	put_text(&e, p->learned != NULL ? p->learned : "");
	put_text(&e, p->state != NULL ? p->state : "");
	put_uint(&e, p->connected ? 1 : 0);
	put_uint(&e, p->last_contact_ago_ms);
	put_uint(&e, p->last_sync_ago_ms);
	put_uint(&e, p->lag);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_sync(struct ctl_buf *b, const struct node_sync_report *r)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 8);
	put_uint(&e, CTL_R_SYNC);
	put_uint(&e, r->peers_tried);
	put_uint(&e, r->peers_completed);
	put_uint(&e, r->entries_sent);
	put_uint(&e, r->entries_received);
	put_uint(&e, r->entries_applied);
	put_uint(&e, r->bytes_in);
	put_uint(&e, r->bytes_out);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_gap(struct ctl_buf *b, uint64_t dropped)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 2);
	put_uint(&e, CTL_R_GAP);
	put_uint(&e, dropped);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

/* ------------------------------------------------------------ decoding */

enum item_kind {
	ITEM_OTHER = 0,         /* no callback we accept fired */
	ITEM_UINT,
	ITEM_NEGINT,
	ITEM_BYTES,
	ITEM_TEXT,
	ITEM_ARRAY,
	ITEM_FLOAT,
	ITEM_NULL,
};

static const char *const item_names[] = {
	[ITEM_OTHER] = "an item of a kind not used here",
	[ITEM_UINT] = "an unsigned int",
	[ITEM_NEGINT] = "a negative int",
	[ITEM_BYTES] = "a byte string",
	[ITEM_TEXT] = "a text string",
	[ITEM_ARRAY] = "an array",
	[ITEM_FLOAT] = "a float",
	[ITEM_NULL] = "null",
};

struct item {
	enum item_kind kind;
	uint64_t u;             /* uint, negint's n (value -1-n), count */
	double d;
	const uint8_t *p;
	size_t len;
};

#define ITEM(c) ((struct item *)(c))

static void on_u8(void *c, uint8_t v) { ITEM(c)->kind = ITEM_UINT; ITEM(c)->u = v; }
static void on_u16(void *c, uint16_t v) { ITEM(c)->kind = ITEM_UINT; ITEM(c)->u = v; }
static void on_u32(void *c, uint32_t v) { ITEM(c)->kind = ITEM_UINT; ITEM(c)->u = v; }
static void on_u64(void *c, uint64_t v) { ITEM(c)->kind = ITEM_UINT; ITEM(c)->u = v; }
static void on_n8(void *c, uint8_t v) { ITEM(c)->kind = ITEM_NEGINT; ITEM(c)->u = v; }
static void on_n16(void *c, uint16_t v) { ITEM(c)->kind = ITEM_NEGINT; ITEM(c)->u = v; }
static void on_n32(void *c, uint32_t v) { ITEM(c)->kind = ITEM_NEGINT; ITEM(c)->u = v; }
static void on_n64(void *c, uint64_t v) { ITEM(c)->kind = ITEM_NEGINT; ITEM(c)->u = v; }
static void on_float(void *c, float v) { ITEM(c)->kind = ITEM_FLOAT; ITEM(c)->d = v; }
static void on_double(void *c, double v) { ITEM(c)->kind = ITEM_FLOAT; ITEM(c)->d = v; }
static void on_null(void *c) { ITEM(c)->kind = ITEM_NULL; }

static void on_bytes(void *c, cbor_data p, size_t len)
{
	ITEM(c)->kind = ITEM_BYTES;
	ITEM(c)->p = p;
	ITEM(c)->len = len;
}

static void on_text(void *c, cbor_data p, size_t len)
{
	ITEM(c)->kind = ITEM_TEXT;
	ITEM(c)->p = p;
	ITEM(c)->len = len;
}

static void on_array(void *c, size_t n)
{
	ITEM(c)->kind = ITEM_ARRAY;
	ITEM(c)->u = n;
}

/* Kinds we never accept (maps, tags, indefinite lengths, booleans...)
 * keep libcbor's do-nothing callbacks and so stay ITEM_OTHER. */
static struct cbor_callbacks make_callbacks(void)
{
	struct cbor_callbacks cb = cbor_empty_callbacks;

	cb.uint8 = on_u8;
	cb.uint16 = on_u16;
	cb.uint32 = on_u32;
	cb.uint64 = on_u64;
	cb.negint8 = on_n8;
	cb.negint16 = on_n16;
	cb.negint32 = on_n32;
	cb.negint64 = on_n64;
	cb.byte_string = on_bytes;
	cb.string = on_text;
	cb.array_start = on_array;
	cb.float2 = on_float;
	cb.float4 = on_float;
	cb.float8 = on_double;
	cb.null = on_null;
	return cb;
}

struct reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	size_t item_pos;
	const char *msg;        /* message name once known */
	struct cbor_callbacks cb;
	struct err *err;
};

static int fail(struct reader *r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, const char *field, const char *fmt, ...)
{
	char detail[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return err_set(r->err, RUMOR_EPROTO, "control: %s %s at byte %zu: %s",
		       r->msg != NULL ? r->msg : "frame", field, r->item_pos,
		       detail);
}

/* A definite string's length from its head, so that a length libcbor
 * would have to add to an offset is refused before it sees it. */
static int string_fits(const struct reader *r)
{
	const uint8_t *p = r->buf + r->pos;
	size_t left = r->len - r->pos;
	unsigned major = p[0] >> 5, ai = p[0] & 0x1f;
	uint64_t n = 0;
	size_t head, i;

	if (major != 2 && major != 3)
		return 1;
	if (ai < 24)
		return (size_t)ai <= left - 1;
	if (ai > 27)
		return 1;        /* indefinite or reserved: judged later */
	head = (size_t)1 << (ai - 24);
	if (left < 1 + head)
		return 0;
	for (i = 0; i < head; i++)
		n = n << 8 | p[1 + i];
	return n <= left - 1 - head;
}

static int next_item(struct reader *r, const char *field, struct item *it)
{
	struct cbor_decoder_result res;

	memset(it, 0, sizeof(*it));
	r->item_pos = r->pos;
	if (r->pos >= r->len)
		return fail(r, field, "truncated: the frame ends before this "
			    "item");
	if (!string_fits(r))
		return fail(r, field, "truncated: string longer than the "
			    "frame");
	res = cbor_stream_decode(r->buf + r->pos, r->len - r->pos, &r->cb, it);
	if (res.status == CBOR_DECODER_NEDATA)
		return fail(r, field, "truncated item");
	if (res.status != CBOR_DECODER_FINISHED || res.read == 0 ||
	    res.read > r->len - r->pos)
		return fail(r, field, "malformed CBOR (initial byte 0x%02x)",
			    r->buf[r->pos]);
	/* An indefinite string start, map, tag and the like fire no
	 * callback we set: they stay ITEM_OTHER. */
	r->pos += res.read;
	return 0;
}

static int want(struct reader *r, const char *field, const struct item *it,
		enum item_kind kind)
{
	if (it->kind == kind)
		return 0;
	return fail(r, field, "expected %s, got %s", item_names[kind],
		    item_names[it->kind]);
}

static int rd_uint(struct reader *r, const char *field, uint64_t max,
		   uint64_t *out)
{
	struct item it;
	int rv;

	if ((rv = next_item(r, field, &it)) != 0 ||
	    (rv = want(r, field, &it, ITEM_UINT)) != 0)
		return rv;
	if (it.u > max)
		return fail(r, field, "%llu is out of range (at most %llu)",
			    (unsigned long long)it.u, (unsigned long long)max);
	*out = it.u;
	return 0;
}

static int rd_u32(struct reader *r, const char *field, uint32_t *out)
{
	uint64_t v = 0;
	int rv = rd_uint(r, field, UINT32_MAX, &v);

	if (rv == 0)
		*out = (uint32_t)v;
	return rv;
}

static int rd_flag(struct reader *r, const char *field, int *out)
{
	uint64_t v = 0;
	int rv = rd_uint(r, field, 1, &v);

	if (rv == 0)
		*out = (int)v;
	return rv;
}

static int rd_bytes(struct reader *r, const char *field, size_t min,
		    size_t max, int null_ok, const uint8_t **p, size_t *len)
{
	struct item it;
	int rv;

	if ((rv = next_item(r, field, &it)) != 0)
		return rv;
	if (null_ok && it.kind == ITEM_NULL) {
		*p = NULL;
		*len = 0;
		return 0;
	}
	if ((rv = want(r, field, &it, ITEM_BYTES)) != 0)
		return rv;
	if (it.len < min || it.len > max)
		return fail(r, field, "%zu bytes (%zu to %zu allowed)", it.len,
			    min, max);
	/* A zero-length string may come back with p NULL: keep a valid
	 * pointer so callers can tell empty from null. */
	*p = it.p != NULL ? it.p : r->buf + r->pos;
	*len = it.len;
	return 0;
}

/* Copies a text string into out (size bytes with the NUL); refuses
 * embedded NULs and strings that do not fit. */
static int rd_text(struct reader *r, const char *field, char *out,
		   size_t size)
{
	struct item it;
	int rv;

	if ((rv = next_item(r, field, &it)) != 0 ||
	    (rv = want(r, field, &it, ITEM_TEXT)) != 0)
		return rv;
	if (it.len >= size)
		return fail(r, field, "%zu bytes (at most %zu allowed)",
			    it.len, size - 1);
	if (it.len > 0 && memchr(it.p, 0, it.len) != NULL)
		return fail(r, field, "contains a NUL byte");
	if (it.len > 0)
		memcpy(out, it.p, it.len);
	out[it.len] = '\0';
	return 0;
}

static int rd_array(struct reader *r, const char *field, size_t min,
		    size_t max, size_t *n)
{
	struct item it;
	int rv;

	if ((rv = next_item(r, field, &it)) != 0 ||
	    (rv = want(r, field, &it, ITEM_ARRAY)) != 0)
		return rv;
	if (it.u < min || it.u > max)
		return fail(r, field, "array of %llu items (%zu to %zu "
			    "allowed)", (unsigned long long)it.u, min, max);
	/* Every item takes at least one byte. */
	if (it.u > r->len - r->pos)
		return fail(r, field, "array of %llu items in %zu bytes",
			    (unsigned long long)it.u, r->len - r->pos);
	*n = (size_t)it.u;
	return 0;
}

static int rd_finish(struct reader *r)
{
	r->item_pos = r->pos;
	if (r->pos != r->len)
		return fail(r, "end", "%zu trailing bytes", r->len - r->pos);
	return 0;
}

static void reader_init(struct reader *r, const uint8_t *buf, size_t len,
			struct err *err)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	r->cb = make_callbacks();
	r->err = err;
}

/* Array length of each request, by command. */
static const size_t request_items[CTL_CMD_MAX + 1] = {
	[CTL_CMD_STATUS] = 1, [CTL_CMD_PEERS] = 1, [CTL_CMD_GET] = 2,
	[CTL_CMD_PUT] = 3, [CTL_CMD_DEL] = 2, [CTL_CMD_SCAN] = 3,
	[CTL_CMD_WATCH] = 2, [CTL_CMD_LOG] = 2, [CTL_CMD_VERSION] = 2,
	[CTL_CMD_SYNC] = 2,
};

static const char *const cmd_names[CTL_CMD_MAX + 1] = {
	[CTL_CMD_STATUS] = "STATUS", [CTL_CMD_PEERS] = "PEERS",
	[CTL_CMD_GET] = "GET", [CTL_CMD_PUT] = "PUT", [CTL_CMD_DEL] = "DEL",
	[CTL_CMD_SCAN] = "SCAN", [CTL_CMD_WATCH] = "WATCH",
	[CTL_CMD_LOG] = "LOG", [CTL_CMD_VERSION] = "VERSION",
	[CTL_CMD_SYNC] = "SYNC",
};

static const char *const reply_names[CTL_R_MAX + 1] = {
	[CTL_R_OK] = "OK", [CTL_R_ERROR] = "ERROR", [CTL_R_VALUE] = "VALUE",
	[CTL_R_RECORD] = "RECORD", [CTL_R_ITEM] = "ITEM", [CTL_R_END] = "END",
	[CTL_R_STATUS] = "STATUS", [CTL_R_PEER] = "PEER",
	[CTL_R_SYNC] = "SYNC", [CTL_R_GAP] = "GAP",
};

const char *ctl_cmd_name(int cmd)
{
	return cmd >= 1 && cmd <= CTL_CMD_MAX ? cmd_names[cmd] : "?";
}

const char *ctl_reply_name(int type)
{
	return type >= 0 && type <= CTL_R_MAX ? reply_names[type] : "?";
}

int ctl_decode_request(const uint8_t *body, size_t len,
		       struct ctl_request *rq, struct err *err)
{
	struct reader r;
	size_t n;
	uint64_t cmd;
	int rv;

	memset(rq, 0, sizeof(*rq));
	reader_init(&r, body, len, err);
	if ((rv = rd_array(&r, "request", 1, 3, &n)) != 0 ||
	    (rv = rd_uint(&r, "command", UINT64_MAX, &cmd)) != 0)
		return rv;
	if (cmd < 1 || cmd > CTL_CMD_MAX)
		return fail(&r, "command", "unknown command %llu",
			    (unsigned long long)cmd);
	r.msg = cmd_names[cmd];
	if (n != request_items[cmd])
		return fail(&r, "request", "%zu items, expected %zu", n,
			    request_items[cmd]);
	rq->cmd = (enum ctl_cmd)cmd;
	switch (rq->cmd) {
	case CTL_CMD_STATUS:
	case CTL_CMD_PEERS:
		break;
	case CTL_CMD_GET:
	case CTL_CMD_DEL:
	case CTL_CMD_VERSION:
		rv = rd_bytes(&r, "key", 1, RUMOR_KEY_MAX, 0, &rq->key,
			      &rq->key_len);
		break;
	case CTL_CMD_PUT:
		rv = rd_bytes(&r, "key", 1, RUMOR_KEY_MAX, 0, &rq->key,
			      &rq->key_len);
		if (rv == 0)
			rv = rd_bytes(&r, "value", 0, RUMOR_VALUE_MAX, 0,
				      &rq->value, &rq->value_len);
		break;
	case CTL_CMD_SCAN:
		rv = rd_bytes(&r, "prefix", 0, RUMOR_KEY_MAX, 0, &rq->key,
			      &rq->key_len);
		if (rv == 0)
			rv = rd_uint(&r, "limit", UINT64_MAX, &rq->limit);
		break;
	case CTL_CMD_WATCH:
		rv = rd_bytes(&r, "prefix", 0, RUMOR_KEY_MAX, 0, &rq->key,
			      &rq->key_len);
		break;
	case CTL_CMD_LOG:
		rv = rd_uint(&r, "limit", CTL_LOG_LIMIT_MAX, &rq->limit);
		if (rv == 0 && rq->limit == 0)
			rv = fail(&r, "limit", "must be at least 1");
		break;
	case CTL_CMD_SYNC:
		rv = rd_uint(&r, "timeout_ms", CTL_SYNC_TIMEOUT_MAX,
			     &rq->timeout_ms);
		if (rv == 0 && rq->timeout_ms == 0)
			rv = fail(&r, "timeout_ms", "must be at least 1");
		break;
	}
	if (rv == 0)
		rv = rd_finish(&r);
	if (rv != 0)
		memset(rq, 0, sizeof(*rq));
	return rv;
}

static const size_t reply_items[CTL_R_MAX + 1] = {
	[CTL_R_OK] = 1, [CTL_R_ERROR] = 3, [CTL_R_VALUE] = 2,
	[CTL_R_RECORD] = 9, [CTL_R_ITEM] = 3, [CTL_R_END] = 3,
	[CTL_R_STATUS] = 19, [CTL_R_PEER] = 9, [CTL_R_SYNC] = 8,
	[CTL_R_GAP] = 2,
};

static int decode_error(struct reader *r, struct ctl_reply *rp)
{
	struct item it;
	int rv;

	if ((rv = next_item(r, "code", &it)) != 0 ||
	    (rv = want(r, "code", &it, ITEM_NEGINT)) != 0)
		return rv;
	if (it.u > 999)
		return fail(r, "code", "-%llu is out of range",
			    (unsigned long long)it.u + 1);
	rp->code = -1 - (int)it.u;
	return rd_text(r, "message", rp->message, sizeof(rp->message));
}

static int decode_record(struct reader *r, struct ctl_reply *rp)
{
	struct rumor_version *v = &rp->rec;
	const uint8_t *value;
	uint64_t value_len, flags;
	int rv;

	if ((rv = rd_bytes(r, "key", 1, RUMOR_KEY_MAX, 0,
			   (const uint8_t **)&v->key, &v->key_len)) != 0 ||
	    (rv = rd_bytes(r, "value", 0, RUMOR_VALUE_MAX, 1, &value,
			   &v->value_len)) != 0 ||
	    (rv = rd_uint(r, "value_len", RUMOR_VALUE_MAX, &value_len)) != 0 ||
	    (rv = rd_uint(r, "flags", CTL_RECORD_DELETED | CTL_RECORD_LOCAL,
			  &flags)) != 0 ||
	    (rv = rd_uint(r, "clock", UINT64_MAX, &v->clock)) != 0 ||
	    (rv = rd_uint(r, "wall_ms", UINT64_MAX, &v->wall_ms)) != 0 ||
	    (rv = rd_bytes(r, "origin", 0, CTL_ORIGIN_MAX, 0, &v->origin,
			   &v->origin_len)) != 0 ||
	    (rv = rd_uint(r, "seq", UINT64_MAX, &v->seq)) != 0)
		return rv;
	v->value = value;
	v->deleted = (flags & CTL_RECORD_DELETED) != 0;
	rp->local = (flags & CTL_RECORD_LOCAL) != 0;
	if (v->deleted && (value != NULL || value_len != 0))
		return fail(r, "value", "a deletion carries a value");
	if (value != NULL && v->value_len != value_len)
		return fail(r, "value_len", "%llu, but the value has %zu bytes",
			    (unsigned long long)value_len, v->value_len);
	v->value_len = (size_t)value_len;
	return 0;
}

static int decode_status(struct reader *r, struct ctl_reply *rp)
{
	struct node_status *st = &rp->status;
	uint64_t mode;
	size_t n, i, n_counters = 0;
	int rv;

#define CTL__COUNT(name) n_counters++;
	CTL_COUNTERS(CTL__COUNT)
#undef CTL__COUNT
	if ((rv = rd_text(r, "id", st->id, sizeof(st->id))) != 0 ||
	    (rv = rd_uint(r, "mode", RUMOR_MODE_REPLICA, &mode)) != 0 ||
	    (rv = rd_text(r, "listen", st->listen, sizeof(st->listen))) != 0 ||
	    (rv = rd_text(r, "data_dir", st->data_dir,
			  sizeof(st->data_dir))) != 0 ||
	    (rv = rd_text(r, "resolver", st->resolver,
			  sizeof(st->resolver))) != 0 ||
	    (rv = rd_flag(r, "open_network", &st->open_network)) != 0 ||
	    (rv = rd_flag(r, "catching_up", &st->catching_up)) != 0 ||
	    (rv = rd_uint(r, "catchup_left_ms", UINT64_MAX,
			  &st->catchup_left_ms)) != 0)
		return rv;
	st->mode = (int)mode;
	{
		struct item it;

		if ((rv = next_item(r, "velocity", &it)) != 0 ||
		    (rv = want(r, "velocity", &it, ITEM_FLOAT)) != 0)
			return rv;
		st->velocity = it.d;
	}
	if ((rv = rd_u32(r, "interval_ms", &st->interval_ms)) != 0 ||
	    (rv = rd_uint(r, "local_seq", UINT64_MAX, &st->local_seq)) != 0 ||
	    (rv = rd_uint(r, "peers_known", UINT64_MAX,
			  &st->peers_known)) != 0 ||
	    (rv = rd_uint(r, "peers_alive", UINT64_MAX,
			  &st->peers_alive)) != 0 ||
	    (rv = rd_uint(r, "peers_suspect", UINT64_MAX,
			  &st->peers_suspect)) != 0 ||
	    (rv = rd_uint(r, "peers_connected", UINT64_MAX,
			  &st->peers_connected)) != 0 ||
	    (rv = rd_array(r, "counters", n_counters, n_counters, &n)) != 0)
		return rv;
#define CTL__GET(name)                                                 \
	if ((rv = rd_uint(r, "counter " #name, UINT64_MAX,             \
			  &st->stats.name)) != 0)                      \
		return rv;
	CTL_COUNTERS(CTL__GET)
#undef CTL__GET
	st->stats.velocity = st->velocity;
	st->stats.interval_ms = st->interval_ms;
	st->stats.peers_alive = (uint32_t)(st->peers_alive > UINT32_MAX ?
					   UINT32_MAX : st->peers_alive);
	st->stats.catching_up = st->catching_up;
	st->stats.open_network = st->open_network;
	if ((rv = rd_uint(r, "hwm_total", UINT64_MAX, &rp->hwm_total)) != 0 ||
	    (rv = rd_array(r, "hwm", 0, CTL_HWM_MAX, &n)) != 0)
		return rv;
	if (n > rp->hwm_total)
		return fail(r, "hwm", "%zu HWMs of %llu in all", n,
			    (unsigned long long)rp->hwm_total);
	if (n > 0) {
		rp->hwm = calloc(n, sizeof(*rp->hwm));
		if (rp->hwm == NULL)
			return err_set(r->err, RUMOR_ENOMEM, "control: out of "
				       "memory decoding STATUS");
	}
	for (i = 0; i < n; i++) {
		size_t two;

		if ((rv = rd_array(r, "hwm entry", 2, 2, &two)) != 0 ||
		    (rv = rd_bytes(r, "hwm origin", 1, CTL_ORIGIN_MAX, 0,
				   &rp->hwm[i].origin,
				   &rp->hwm[i].origin_len)) != 0 ||
		    (rv = rd_uint(r, "hwm seq", UINT64_MAX,
				  &rp->hwm[i].seq)) != 0)
			return rv;
		rp->n_hwm = i + 1;
	}
	return 0;
}

static int decode_peer(struct reader *r, struct ctl_reply *rp)
{
	struct ctl_peer *p = &rp->peer;
	const uint8_t *id;
	size_t id_len;
	uint64_t connected;
	int rv;

	if ((rv = rd_bytes(r, "id", RUMOR_NODE_ID_BYTES, RUMOR_NODE_ID_BYTES,
			   0, &id, &id_len)) != 0 ||
	    (rv = rd_text(r, "address", p->info.address,
			  sizeof(p->info.address))) != 0 ||
	    (rv = rd_text(r, "learned", p->learned, sizeof(p->learned))) != 0 ||
	    (rv = rd_text(r, "state", p->state, sizeof(p->state))) != 0 ||
	    (rv = rd_uint(r, "connected", 1, &connected)) != 0 ||
	    (rv = rd_uint(r, "last_contact_ago_ms", UINT64_MAX,
			  &p->info.last_contact_ago_ms)) != 0 ||
	    (rv = rd_uint(r, "last_sync_ago_ms", UINT64_MAX,
			  &p->info.last_sync_ago_ms)) != 0 ||
	    (rv = rd_uint(r, "lag", UINT64_MAX, &p->info.lag)) != 0)
		return rv;
	memcpy(p->info.id, id, RUMOR_NODE_ID_BYTES);
	p->info.connected = (int)connected;
	p->info.learned = p->learned;
	p->info.state = p->state;
	return 0;
}

static int decode_sync(struct reader *r, struct ctl_reply *rp)
{
	struct node_sync_report *s = &rp->sync;
	int rv;

	if ((rv = rd_u32(r, "peers_tried", &s->peers_tried)) != 0 ||
	    (rv = rd_u32(r, "peers_completed", &s->peers_completed)) != 0 ||
	    (rv = rd_uint(r, "entries_sent", UINT64_MAX,
			  &s->entries_sent)) != 0 ||
	    (rv = rd_uint(r, "entries_received", UINT64_MAX,
			  &s->entries_received)) != 0 ||
	    (rv = rd_uint(r, "entries_applied", UINT64_MAX,
			  &s->entries_applied)) != 0 ||
	    (rv = rd_uint(r, "bytes_in", UINT64_MAX, &s->bytes_in)) != 0 ||
	    (rv = rd_uint(r, "bytes_out", UINT64_MAX, &s->bytes_out)) != 0)
		return rv;
	return 0;
}

int ctl_decode_reply(const uint8_t *body, size_t len, struct ctl_reply *rp,
		     struct err *err)
{
	struct reader r;
	size_t n;
	uint64_t type;
	const uint8_t *p = NULL;
	int rv;

	memset(rp, 0, sizeof(*rp));
	reader_init(&r, body, len, err);
	if ((rv = rd_array(&r, "reply", 1, 19, &n)) != 0 ||
	    (rv = rd_uint(&r, "type", UINT64_MAX, &type)) != 0)
		return rv;
	if (type > CTL_R_MAX)
		return fail(&r, "type", "unknown reply type %llu",
			    (unsigned long long)type);
	r.msg = reply_names[type];
	if (n != reply_items[type])
		return fail(&r, "reply", "%zu items, expected %zu", n,
			    reply_items[type]);
	rp->type = (enum ctl_reply_type)type;
	switch (rp->type) {
	case CTL_R_OK:
		break;
	case CTL_R_ERROR:
		rv = decode_error(&r, rp);
		break;
	case CTL_R_VALUE:
		rv = rd_bytes(&r, "value", 0, RUMOR_VALUE_MAX, 0, &p,
			      &rp->rec.value_len);
		rp->rec.value = p;
		break;
	case CTL_R_RECORD:
		rv = decode_record(&r, rp);
		break;
	case CTL_R_ITEM:
		rv = rd_bytes(&r, "key", 1, RUMOR_KEY_MAX, 0, &p,
			      &rp->rec.key_len);
		rp->rec.key = p;
		if (rv == 0)
			rv = rd_bytes(&r, "value", 0, RUMOR_VALUE_MAX, 0, &p,
				      &rp->rec.value_len);
		rp->rec.value = p;
		break;
	case CTL_R_END:
		rv = rd_uint(&r, "count", UINT64_MAX, &rp->count);
		if (rv == 0)
			rv = rd_flag(&r, "truncated", &rp->truncated);
		break;
	case CTL_R_STATUS:
		rv = decode_status(&r, rp);
		break;
	case CTL_R_PEER:
		rv = decode_peer(&r, rp);
		break;
	case CTL_R_SYNC:
		rv = decode_sync(&r, rp);
		break;
	case CTL_R_GAP:
		rv = rd_uint(&r, "dropped", UINT64_MAX, &rp->count);
		break;
	}
	if (rv == 0)
		rv = rd_finish(&r);
	if (rv != 0) {
		ctl_reply_free(rp);
		memset(rp, 0, sizeof(*rp));
	}
	return rv;
}

void ctl_reply_free(struct ctl_reply *r)
{
	free(r->hwm);
	r->hwm = NULL;
	r->n_hwm = 0;
}
