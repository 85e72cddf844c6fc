/* SPDX-License-Identifier: MIT */
/*
 * wire: CBOR encoding and strict decoding of the peer messages (wire.h).
 *
 * Encoding uses libcbor's low-level encoders straight into a growable
 * buffer: each encoder first reserves the worst-case size of what it is
 * about to write, so the individual cbor_encode_* calls cannot run out of
 * room. Decoding walks the frame item by item with cbor_stream_decode(),
 * which decodes one head (or one whole definite string, in place) per
 * call; the walk is driven by the message schema, so nesting deeper than
 * the schema shows up as a wrong item type and is rejected.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "wire.h"

/* ------------------------------------------------------------ names */

static const char *const type_names[] = {
	[WIRE_HELLO] = "HELLO",   [WIRE_DIGEST] = "DIGEST",
	[WIRE_BATCH] = "BATCH",   [WIRE_ACK] = "ACK",
	[WIRE_DONE] = "DONE",     [WIRE_MEMBERS] = "MEMBERS",
	[WIRE_PING] = "PING",     [WIRE_PONG] = "PONG",
	[WIRE_BYE] = "BYE",       [WIRE_MBATCH] = "MBATCH",
};

const char *wire_type_name(int type)
{
	if (type < WIRE_HELLO || type > WIRE_TYPE_MAX)
		return "?";
	return type_names[type];
}

void wire_entry_to_version(const uint8_t *origin, const struct wire_entry *e,
			   struct rumor_version *v)
{
	assert(origin != NULL && e != NULL && v != NULL);
	v->key = e->key;
	v->key_len = e->key_len;
	v->value = e->deleted ? NULL : e->value;
	v->value_len = e->deleted ? 0 : e->value_len;
	v->deleted = e->deleted ? 1 : 0;
	v->clock = e->clock;
	v->wall_ms = e->wall_ms;
	v->origin = origin;
	v->origin_len = WIRE_ORIGIN_BYTES;
	v->seq = e->seq;
}

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

/* Makes room for extra more bytes after b->len. */
static int buf_reserve(struct wire_buf *b, size_t extra, struct err *err)
{
	size_t want, cap;
	uint8_t *p;

	if (extra > SIZE_MAX - b->len)
		return err_set(err, RUMOR_ENOMEM, "wire: buffer size overflow");
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return err_set(err, RUMOR_ENOMEM,
			       "wire: cannot grow buffer to %zu bytes", cap);
	b->data = p;
	b->cap = cap;
	return 0;
}

/* The put_* helpers write into room already reserved by buf_reserve();
 * running out there is a bug in the size bound, hence assert. */
static void put_uint(struct wire_buf *b, uint64_t v)
{
	size_t n = cbor_encode_uint(v, b->data + b->len, b->cap - b->len);

	assert(n > 0);
	b->len += n;
}

static void put_array(struct wire_buf *b, size_t count)
{
	size_t n = cbor_encode_array_start(count, b->data + b->len,
					   b->cap - b->len);

	assert(n > 0);
	b->len += n;
}

static void put_bytes(struct wire_buf *b, const void *p, size_t len)
{
	size_t n = cbor_encode_bytestring_start(len, b->data + b->len,
						b->cap - b->len);

	assert(n > 0 && b->cap - b->len - n >= len);
	b->len += n;
	if (len > 0) {
		memcpy(b->data + b->len, p, len);
		b->len += len;
	}
}

static void put_text(struct wire_buf *b, const char *p, size_t len)
{
	size_t n = cbor_encode_string_start(len, b->data + b->len,
					    b->cap - b->len);

	assert(n > 0 && b->cap - b->len - n >= len);
	b->len += n;
	if (len > 0) {
		memcpy(b->data + b->len, p, len);
		b->len += len;
	}
}

static void put_null(struct wire_buf *b)
{
	size_t n = cbor_encode_null(b->data + b->len, b->cap - b->len);

	assert(n > 0);
	b->len += n;
}

/* Bytes of a CBOR head carrying v (major type irrelevant). */
static size_t head_size(uint64_t v)
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

/* ------------------------------------------------------------ encoding */

#define HEAD_MAX 9      /* longest CBOR head: initial byte + 8 */

int wire_encode_hello(struct wire_buf *out, const struct wire_hello *m,
		      struct err *err)
{
	int rv;

	if (m->mode != WIRE_MODE_PEER && m->mode != WIRE_MODE_REPLICA)
		return err_set(err, RUMOR_EINVAL,
			       "wire: HELLO mode %d unknown", m->mode);
	rv = buf_reserve(out, 6 * HEAD_MAX, err);
	if (rv != 0)
		return rv;
	put_array(out, 6);
	put_uint(out, WIRE_HELLO);
	put_uint(out, m->proto_version);
	put_uint(out, m->listen_port);
	put_uint(out, (uint64_t)m->mode);
	put_uint(out, m->wall_ms);
	put_uint(out, m->flags);
	return 0;
}

/* DIGEST and DONE share their shape. */
static int encode_hwms(struct wire_buf *out, enum wire_type type,
		       uint64_t exchange_id, const struct wire_hwm *hwms,
		       size_t n, struct err *err)
{
	size_t i;
	int rv;

	if (n > WIRE_DIGEST_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "wire: %s of %zu hwms exceeds %u",
			       wire_type_name(type), n, WIRE_DIGEST_MAX);
	for (i = 0; i < n; i++)
		if (hwms[i].origin == NULL)
			return err_set(err, RUMOR_EINVAL,
				       "wire: %s hwm %zu has no origin",
				       wire_type_name(type), i);
	rv = buf_reserve(out, 4 * HEAD_MAX +
			 n * (1 + 2 + WIRE_ORIGIN_BYTES + HEAD_MAX), err);
	if (rv != 0)
		return rv;
	put_array(out, 3);
	put_uint(out, type);
	put_uint(out, exchange_id);
	put_array(out, n);
	for (i = 0; i < n; i++) {
		put_array(out, 2);
		put_bytes(out, hwms[i].origin, WIRE_ORIGIN_BYTES);
		put_uint(out, hwms[i].hwm);
	}
	return 0;
}

int wire_encode_digest(struct wire_buf *out, uint64_t exchange_id,
		       const struct wire_hwm *hwms, size_t n, struct err *err)
{
	return encode_hwms(out, WIRE_DIGEST, exchange_id, hwms, n, err);
}

int wire_encode_done(struct wire_buf *out, uint64_t exchange_id,
		     const struct wire_hwm *hwms, size_t n, struct err *err)
{
	return encode_hwms(out, WIRE_DONE, exchange_id, hwms, n, err);
}

/* ACK, PING, PONG, BYE: [type, a] or [type, a, b]. */
static int encode_small(struct wire_buf *out, enum wire_type type,
			size_t items, uint64_t a, uint64_t b, struct err *err)
{
	int rv;

	assert(items == 2 || items == 3);
	rv = buf_reserve(out, 3 * HEAD_MAX, err);
	if (rv != 0)
		return rv;
	put_array(out, items);
	put_uint(out, type);
	put_uint(out, a);
	if (items == 3)
		put_uint(out, b);
	return 0;
}

int wire_encode_ack(struct wire_buf *out, uint64_t exchange_id,
		    uint64_t bytes, struct err *err)
{
	return encode_small(out, WIRE_ACK, 3, exchange_id, bytes, err);
}

int wire_encode_ping(struct wire_buf *out, uint64_t nonce, struct err *err)
{
	return encode_small(out, WIRE_PING, 2, nonce, 0, err);
}

int wire_encode_pong(struct wire_buf *out, uint64_t nonce, struct err *err)
{
	return encode_small(out, WIRE_PONG, 2, nonce, 0, err);
}

int wire_encode_bye(struct wire_buf *out, uint64_t reason, struct err *err)
{
	return encode_small(out, WIRE_BYE, 2, reason, 0, err);
}

int wire_encode_members(struct wire_buf *out, const struct wire_member *m,
			size_t n, struct err *err)
{
	size_t i, need;
	int rv;

	if (n > WIRE_MEMBERS_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "wire: MEMBERS of %zu members exceeds %u", n,
			       WIRE_MEMBERS_MAX);
	need = 3 * HEAD_MAX;
	for (i = 0; i < n; i++) {
		if (m[i].node_id == NULL || m[i].host == NULL)
			return err_set(err, RUMOR_EINVAL,
				       "wire: member %zu lacks node id or host",
				       i);
		if (m[i].host_len < 1 || m[i].host_len > WIRE_HOST_MAX ||
		    memchr(m[i].host, '\0', m[i].host_len) != NULL)
			return err_set(err, RUMOR_EINVAL,
				       "wire: member %zu host must be 1..%d "
				       "bytes without NUL", i, WIRE_HOST_MAX);
		if (m[i].state < WIRE_MEMBER_ALIVE ||
		    m[i].state > WIRE_MEMBER_GONE)
			return err_set(err, RUMOR_EINVAL,
				       "wire: member %zu state %d unknown", i,
				       m[i].state);
		need += 1 + 2 + WIRE_NODE_ID_BYTES + 2 + m[i].host_len +
			3 * HEAD_MAX;
	}
	rv = buf_reserve(out, need, err);
	if (rv != 0)
		return rv;
	put_array(out, 2);
	put_uint(out, WIRE_MEMBERS);
	put_array(out, n);
	for (i = 0; i < n; i++) {
		put_array(out, 5);
		put_bytes(out, m[i].node_id, WIRE_NODE_ID_BYTES);
		put_text(out, m[i].host, m[i].host_len);
		put_uint(out, m[i].port);
		put_uint(out, (uint64_t)m[i].state);
		put_uint(out, m[i].age_ms);
	}
	return 0;
}

/* ------------------------------------------------------------ batches */

size_t wire_entry_size(const struct wire_entry *e)
{
	size_t n = 1 + head_size(e->seq) + head_size(e->clock) +
		   head_size(e->wall_ms) +
		   head_size(e->deleted ? WIRE_ENTRY_DELETED : 0) +
		   head_size(e->key_len) + e->key_len;

	if (e->deleted)
		return n + 1;   /* null */
	return n + head_size(e->value_len) + e->value_len;
}

/* The reserved count head: 0x9a (array, 4-byte length) + 4 bytes. */
#define BATCH_COUNT_HEAD 5

int wire_batch_begin(struct wire_batch_builder *b, struct wire_buf *out,
		     uint64_t exchange_id,
		     const uint8_t origin[static WIRE_ORIGIN_BYTES],
		     struct err *err)
{
	int rv;

	rv = buf_reserve(out, WIRE_BATCH_HEAD_MAX, err);
	if (rv != 0)
		return rv;
	b->out = out;
	b->start = out->len;
	b->n = 0;
	b->payload_bytes = 0;
	memcpy(b->origin, origin, WIRE_ORIGIN_BYTES);
	put_array(out, 4);
	put_uint(out, WIRE_BATCH);
	put_uint(out, exchange_id);
	put_bytes(out, origin, WIRE_ORIGIN_BYTES);
	b->count_at = out->len;
	memset(out->data + out->len, 0, BATCH_COUNT_HEAD);
	out->len += BATCH_COUNT_HEAD;
	assert(out->len - b->start <= WIRE_BATCH_HEAD_MAX);
	b->open = 1;
	return 0;
}

/* The limits of an entry (wire_batch_add()). */
static int entry_check(const struct wire_entry *e, struct err *err)
{
	if (e->key == NULL || e->key_len < 1 || e->key_len > WIRE_KEY_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "wire: entry seq %llu key of %zu bytes, want "
			       "1..%u", (unsigned long long)e->seq,
			       e->key_len, WIRE_KEY_MAX);
	if (e->deleted && e->value_len != 0)
		return err_set(err, RUMOR_EINVAL,
			       "wire: entry seq %llu is deleted but has a "
			       "value", (unsigned long long)e->seq);
	if (!e->deleted && (e->value_len > WIRE_VALUE_MAX ||
			    (e->value == NULL && e->value_len > 0)))
		return err_set(err, RUMOR_EINVAL,
			       "wire: entry seq %llu value of %zu bytes, "
			       "want 0..%u", (unsigned long long)e->seq,
			       e->value_len, WIRE_VALUE_MAX);
	return 0;
}

/* The six fields BATCH and MBATCH entries share, after the entry's array
 * head (and MBATCH's origin index), into room already reserved. */
static void put_entry_fields(struct wire_buf *out, const struct wire_entry *e)
{
	put_uint(out, e->seq);
	put_uint(out, e->clock);
	put_uint(out, e->wall_ms);
	put_uint(out, e->deleted ? WIRE_ENTRY_DELETED : 0);
	put_bytes(out, e->key, e->key_len);
	if (e->deleted)
		put_null(out);
	else
		put_bytes(out, e->value, e->value_len);
}

int wire_batch_add(struct wire_batch_builder *b, const struct wire_entry *e,
		   struct err *err)
{
	struct wire_buf *out = b->out;
	int rv;

	assert(b->open);
	if (b->n >= WIRE_BATCH_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "wire: BATCH already holds %u entries",
			       WIRE_BATCH_MAX);
	rv = entry_check(e, err);
	if (rv == 0)
		rv = buf_reserve(out, wire_entry_size(e), err);
	if (rv != 0)
		return rv;
	put_array(out, 6);
	put_entry_fields(out, e);
	b->n++;
	b->payload_bytes += wire_entry_payload(e);
	return 0;
}

int wire_batch_add_version(struct wire_batch_builder *b,
			   const struct rumor_version *v, struct err *err)
{
	struct wire_entry e;

	if (v->origin == NULL || v->origin_len != WIRE_ORIGIN_BYTES ||
	    memcmp(v->origin, b->origin, WIRE_ORIGIN_BYTES) != 0)
		return err_set(err, RUMOR_EINVAL,
			       "wire: version seq %llu is not from the "
			       "batch's origin", (unsigned long long)v->seq);
	e.seq = v->seq;
	e.clock = v->clock;
	e.wall_ms = v->wall_ms;
	e.deleted = v->deleted ? 1 : 0;
	e.key = v->key;
	e.key_len = v->key_len;
	e.value = v->deleted ? NULL : v->value;
	e.value_len = v->deleted ? 0 : v->value_len;
	return wire_batch_add(b, &e, err);
}

size_t wire_batch_count(const struct wire_batch_builder *b)
{
	return b->n;
}

size_t wire_batch_bytes(const struct wire_batch_builder *b)
{
	return b->out->len - b->start;
}

uint64_t wire_batch_payload(const struct wire_batch_builder *b)
{
	return b->payload_bytes;
}

void wire_batch_end(struct wire_batch_builder *b)
{
	uint8_t *p = b->out->data + b->count_at;
	size_t n;

	assert(b->open);
	assert(b->n <= WIRE_BATCH_MAX);
	/* libcbor has no public encoder for an array head of a chosen
	 * width; write the count as a 4-byte unsigned int head and turn its
	 * major type (top three bits) from 0 (uint) into 4 (array). */
	n = cbor_encode_uint32((uint32_t)b->n, p, BATCH_COUNT_HEAD);
	assert(n == BATCH_COUNT_HEAD);
	(void)n;
	p[0] = (uint8_t)((p[0] & 0x1f) | (4u << 5));
	b->open = 0;
}

void wire_batch_cancel(struct wire_batch_builder *b)
{
	assert(b->open);
	b->out->len = b->start;
	b->open = 0;
}

/* ------------------------------------------------------------ mbatches */

/* The count head is reserved as for BATCH; the table follows the
 * entries. Every add reserves room for the entry and for the whole table
 * as it would stand after the add, so ending cannot run out of room. */

int wire_mbatch_begin(struct wire_mbatch_builder *b, struct wire_buf *out,
		      uint64_t exchange_id, struct err *err)
{
	int rv;

	rv = buf_reserve(out, WIRE_MBATCH_HEAD_MAX, err);
	if (rv != 0)
		return rv;
	b->out = out;
	b->start = out->len;
	b->n = 0;
	b->payload_bytes = 0;
	b->n_origins = 0;
	b->last = 0;
	put_array(out, 4);
	put_uint(out, WIRE_MBATCH);
	put_uint(out, exchange_id);
	b->count_at = out->len;
	memset(out->data + out->len, 0, BATCH_COUNT_HEAD);
	out->len += BATCH_COUNT_HEAD;
	b->open = 1;
	return 0;
}

/* The table row of origin, or b->n_origins when it has none yet. Most
 * streams have few origins and long runs of one: try the last first. */
static size_t mbatch_find(const struct wire_mbatch_builder *b,
			  const uint8_t *origin)
{
	size_t i;

	if (b->n_origins > 0 &&
	    memcmp(b->origins[b->last], origin, WIRE_ORIGIN_BYTES) == 0)
		return b->last;
	for (i = 0; i < b->n_origins; i++)
		if (memcmp(b->origins[i], origin, WIRE_ORIGIN_BYTES) == 0)
			return i;
	return b->n_origins;
}

/* Bytes of a table of t origins. */
static size_t mbatch_table_size(size_t t)
{
	return head_size(t) + t * WIRE_MBATCH_ORIGIN_BYTES;
}

size_t wire_mbatch_entry_size(const struct wire_mbatch_builder *b,
			      const uint8_t *origin,
			      const struct wire_entry *e)
{
	size_t i = mbatch_find(b, origin);
	size_t n = wire_entry_size(e) + head_size(i);

	if (i == b->n_origins)
		n += mbatch_table_size(i + 1) - mbatch_table_size(i);
	return n;
}

int wire_mbatch_add(struct wire_mbatch_builder *b, const uint8_t *origin,
		    const struct wire_entry *e, struct err *err)
{
	struct wire_buf *out = b->out;
	size_t i, t;
	int rv;

	assert(b->open);
	if (b->n >= WIRE_BATCH_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "wire: MBATCH already holds %u entries",
			       WIRE_BATCH_MAX);
	if (origin == NULL)
		return err_set(err, RUMOR_EINVAL, "wire: entry has no origin");
	i = mbatch_find(b, origin);
	if (i == WIRE_MBATCH_ORIGINS_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "wire: MBATCH table already holds %u origins",
			       WIRE_MBATCH_ORIGINS_MAX);
	rv = entry_check(e, err);
	if (rv != 0)
		return rv;
	t = i == b->n_origins ? i + 1 : b->n_origins;
	rv = buf_reserve(out, wire_entry_size(e) + head_size(i) +
			 mbatch_table_size(t), err);
	if (rv != 0)
		return rv;
	if (i == b->n_origins) {
		memcpy(b->origins[i], origin, WIRE_ORIGIN_BYTES);
		b->n_origins++;
	}
	b->last = i;
	put_array(out, 7);
	put_uint(out, i);
	put_entry_fields(out, e);
	b->n++;
	b->payload_bytes += wire_entry_payload(e);
	return 0;
}

int wire_mbatch_has_origin_room(const struct wire_mbatch_builder *b,
				const uint8_t *origin)
{
	return b->n_origins < WIRE_MBATCH_ORIGINS_MAX ||
	       mbatch_find(b, origin) < b->n_origins;
}

size_t wire_mbatch_count(const struct wire_mbatch_builder *b)
{
	return b->n;
}

size_t wire_mbatch_bytes(const struct wire_mbatch_builder *b)
{
	return b->out->len - b->start + mbatch_table_size(b->n_origins);
}

uint64_t wire_mbatch_payload(const struct wire_mbatch_builder *b)
{
	return b->payload_bytes;
}

void wire_mbatch_end(struct wire_mbatch_builder *b)
{
	struct wire_buf *out = b->out;
	uint8_t *p = out->data + b->count_at;
	size_t i, n;

	assert(b->open);
	assert(b->n <= WIRE_BATCH_MAX);
	n = cbor_encode_uint32((uint32_t)b->n, p, BATCH_COUNT_HEAD);
	assert(n == BATCH_COUNT_HEAD);
	(void)n;
	p[0] = (uint8_t)((p[0] & 0x1f) | (4u << 5));
	/* Room was reserved by begin (head) and by the last add. */
	assert(out->cap - out->len >= mbatch_table_size(b->n_origins));
	put_array(out, b->n_origins);
	for (i = 0; i < b->n_origins; i++)
		put_bytes(out, b->origins[i], WIRE_ORIGIN_BYTES);
	b->open = 0;
}

void wire_mbatch_cancel(struct wire_mbatch_builder *b)
{
	assert(b->open);
	b->out->len = b->start;
	b->open = 0;
}

/* A whole MBATCH message as given (its table in its order). */
static int encode_mbatch(struct wire_buf *out, const struct wire_mbatch *m,
			 struct err *err)
{
	unsigned char used[WIRE_MBATCH_ORIGINS_MAX];
	size_t i, j, need;
	int rv;

	if (m->n > WIRE_BATCH_MAX || m->n_origins > WIRE_MBATCH_ORIGINS_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "wire: MBATCH of %zu entries and %zu origins "
			       "exceeds %u and %u", m->n, m->n_origins,
			       WIRE_BATCH_MAX, WIRE_MBATCH_ORIGINS_MAX);
	memset(used, 0, sizeof(used));
	need = 4 * HEAD_MAX + mbatch_table_size(m->n_origins);
	for (i = 0; i < m->n_origins; i++) {
		if (m->origins[i] == NULL)
			return err_set(err, RUMOR_EINVAL,
				       "wire: MBATCH origin %zu is NULL", i);
		for (j = 0; j < i; j++)
			if (memcmp(m->origins[i], m->origins[j],
				   WIRE_ORIGIN_BYTES) == 0)
				return err_set(err, RUMOR_EINVAL,
					       "wire: MBATCH origin %zu "
					       "repeats origin %zu", i, j);
	}
	for (i = 0; i < m->n; i++) {
		const struct wire_entry *e = &m->entries[i];

		if (e->origin_index >= m->n_origins)
			return err_set(err, RUMOR_EINVAL,
				       "wire: MBATCH entry %zu origin index "
				       "%zu outside a table of %zu", i,
				       e->origin_index, m->n_origins);
		used[e->origin_index] = 1;
		rv = entry_check(e, err);
		if (rv != 0)
			return rv;
		need += wire_entry_size(e) + WIRE_MBATCH_INDEX_MAX;
	}
	for (i = 0; i < m->n_origins; i++)
		if (!used[i])
			return err_set(err, RUMOR_EINVAL,
				       "wire: MBATCH origin %zu is unused", i);
	rv = buf_reserve(out, need, err);
	if (rv != 0)
		return rv;
	put_array(out, 4);
	put_uint(out, WIRE_MBATCH);
	put_uint(out, m->exchange_id);
	put_array(out, m->n);
	for (i = 0; i < m->n; i++) {
		put_array(out, 7);
		put_uint(out, m->entries[i].origin_index);
		put_entry_fields(out, &m->entries[i]);
	}
	put_array(out, m->n_origins);
	for (i = 0; i < m->n_origins; i++)
		put_bytes(out, m->origins[i], WIRE_ORIGIN_BYTES);
	return 0;
}

int wire_encode_msg(struct wire_buf *out, const struct wire_msg *m,
		    struct err *err)
{
	struct wire_batch_builder b;
	size_t before = out->len;
	size_t i;
	int rv;

	switch (m->type) {
	case WIRE_HELLO:
		return wire_encode_hello(out, &m->u.hello, err);
	case WIRE_DIGEST:
	case WIRE_DONE:
		return encode_hwms(out, m->type, m->u.digest.exchange_id,
				   m->u.digest.hwms, m->u.digest.n, err);
	case WIRE_BATCH:
		if (m->u.batch.origin == NULL)
			return err_set(err, RUMOR_EINVAL,
				       "wire: BATCH has no origin");
		rv = wire_batch_begin(&b, out, m->u.batch.exchange_id,
				      m->u.batch.origin, err);
		if (rv != 0)
			return rv;
		for (i = 0; i < m->u.batch.n; i++) {
			rv = wire_batch_add(&b, &m->u.batch.entries[i], err);
			if (rv != 0) {
				out->len = before;   /* nothing appended */
				return rv;
			}
		}
		wire_batch_end(&b);
		return 0;
	case WIRE_MBATCH:
		return encode_mbatch(out, &m->u.mbatch, err);
	case WIRE_ACK:
		return wire_encode_ack(out, m->u.ack.exchange_id,
				       m->u.ack.bytes, err);
	case WIRE_MEMBERS:
		return wire_encode_members(out, m->u.members.members,
					   m->u.members.n, err);
	case WIRE_PING:
		return wire_encode_ping(out, m->u.nonce, err);
	case WIRE_PONG:
		return wire_encode_pong(out, m->u.nonce, err);
	case WIRE_BYE:
		return wire_encode_bye(out, m->u.reason, err);
	}
	return err_set(err, RUMOR_EINVAL, "wire: message type %d unknown",
		       (int)m->type);
}

/* ------------------------------------------------------------ decoding */

void wire_decoder_init(struct wire_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void wire_decoder_free(struct wire_decoder *d)
{
	free(d->hwms);
	free(d->entries);
	free(d->members);
	free(d->origins);
	wire_decoder_init(d);
}

/* The walk below is written for message > list > element, nothing
 * deeper: an array where a scalar belongs is a type error. */
_Static_assert(WIRE_DEPTH_MAX == 3, "the decoder walks three levels");

/* What one cbor_stream_decode() call saw. */
enum item_kind {
	ITEM_NONE = 0,          /* no callback fired: an item we don't know */
	ITEM_UINT,
	ITEM_NEGINT,
	ITEM_BYTES,
	ITEM_TEXT,
	ITEM_ARRAY,
	ITEM_MAP,
	ITEM_TAG,
	ITEM_FLOAT,
	ITEM_NULL,
	ITEM_UNDEFINED,
	ITEM_BOOL,
	ITEM_INDEF_BYTES,
	ITEM_INDEF_TEXT,
	ITEM_INDEF_ARRAY,
	ITEM_INDEF_MAP,
	ITEM_BREAK,
};

static const char *const item_names[] = {
	[ITEM_NONE] = "an unsupported simple value",
	[ITEM_UINT] = "an unsigned int",
	[ITEM_NEGINT] = "a negative int",
	[ITEM_BYTES] = "a byte string",
	[ITEM_TEXT] = "a text string",
	[ITEM_ARRAY] = "an array",
	[ITEM_MAP] = "a map",
	[ITEM_TAG] = "a tag",
	[ITEM_FLOAT] = "a float",
	[ITEM_NULL] = "null",
	[ITEM_UNDEFINED] = "undefined",
	[ITEM_BOOL] = "a boolean",
	[ITEM_INDEF_BYTES] = "an indefinite-length byte string",
	[ITEM_INDEF_TEXT] = "an indefinite-length text string",
	[ITEM_INDEF_ARRAY] = "an indefinite-length array",
	[ITEM_INDEF_MAP] = "an indefinite-length map",
	[ITEM_BREAK] = "a break",
};

struct item {
	enum item_kind kind;
	uint64_t u;             /* uint value, array count */
	const uint8_t *p;       /* definite string contents (in the input) */
	size_t len;             /* definite string length */
};

static void on_u8(void *c, uint8_t v)
{
	((struct item *)c)->kind = ITEM_UINT;
	((struct item *)c)->u = v;
}

static void on_u16(void *c, uint16_t v)
{
	((struct item *)c)->kind = ITEM_UINT;
	((struct item *)c)->u = v;
}

static void on_u32(void *c, uint32_t v)
{
	((struct item *)c)->kind = ITEM_UINT;
	((struct item *)c)->u = v;
}

static void on_u64(void *c, uint64_t v)
{
	((struct item *)c)->kind = ITEM_UINT;
	((struct item *)c)->u = v;
}

static void on_n8(void *c, uint8_t v)
{
	((struct item *)c)->kind = ITEM_NEGINT;
}

static void on_n16(void *c, uint16_t v)
{
	((struct item *)c)->kind = ITEM_NEGINT;
}

static void on_n32(void *c, uint32_t v)
{
	((struct item *)c)->kind = ITEM_NEGINT;
}

static void on_n64(void *c, uint64_t v)
{
	((struct item *)c)->kind = ITEM_NEGINT;
}

static void on_bytes(void *c, cbor_data p, size_t len)
{
	((struct item *)c)->kind = ITEM_BYTES;
	((struct item *)c)->p = p;
	((struct item *)c)->len = len;
}

static void on_text(void *c, cbor_data p, size_t len)
{
	((struct item *)c)->kind = ITEM_TEXT;
	((struct item *)c)->p = p;
	((struct item *)c)->len = len;
}

static void on_array(void *c, size_t n)
{
	((struct item *)c)->kind = ITEM_ARRAY;
	((struct item *)c)->u = n;
}

static void on_map(void *c, size_t n)
{
	((struct item *)c)->kind = ITEM_MAP;
}

static void on_tag(void *c, uint64_t v)
{
	((struct item *)c)->kind = ITEM_TAG;
}

static void on_float(void *c, float v)
{
	((struct item *)c)->kind = ITEM_FLOAT;
}

static void on_double(void *c, double v)
{
	((struct item *)c)->kind = ITEM_FLOAT;
}

static void on_null(void *c)
{
	((struct item *)c)->kind = ITEM_NULL;
}

static void on_undefined(void *c)
{
	((struct item *)c)->kind = ITEM_UNDEFINED;
}

static void on_bool(void *c, bool v)
{
	((struct item *)c)->kind = ITEM_BOOL;
}

static void on_indef_bytes(void *c)
{
	((struct item *)c)->kind = ITEM_INDEF_BYTES;
}

static void on_indef_text(void *c)
{
	((struct item *)c)->kind = ITEM_INDEF_TEXT;
}

static void on_indef_array(void *c)
{
	((struct item *)c)->kind = ITEM_INDEF_ARRAY;
}

static void on_indef_map(void *c)
{
	((struct item *)c)->kind = ITEM_INDEF_MAP;
}

static void on_break(void *c)
{
	((struct item *)c)->kind = ITEM_BREAK;
}

/* Every callback is set: an item the schema does not allow is still
 * recognised, so the error can name it. */
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

/* The position of the walk: input, offset, and a description of the
 * field being read for error messages ("BATCH entry 17 key"). */
struct reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;             /* offset of the next item */
	size_t item_pos;        /* offset of the item last read */
	const char *msg;        /* message name, once known */
	const char *list;       /* "entry", "hwm", "member" or NULL */
	size_t idx;             /* index in list */
	struct err *err;
};

/* Fails the decode with a message naming the field and its offset. */
static int fail(struct reader *r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, const char *field, const char *fmt, ...)
{
	char detail[160];
	char where[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (r->list != NULL)
		snprintf(where, sizeof(where), "%s %zu %s", r->list, r->idx,
			 field);
	else
		snprintf(where, sizeof(where), "%s", field);
	return err_set(r->err, RUMOR_EPROTO, "wire: %s %s at byte %zu: %s",
		       r->msg, where, r->item_pos, detail);
}

/* Reads the head of the next item (and, for a definite string, its
 * contents). Truncation and malformed CBOR are errors here; item kinds
 * are the caller's to check. */
static int next_item(struct reader *r, const char *field, struct item *it)
{
	struct cbor_decoder_result res;

	memset(it, 0, sizeof(*it));
	r->item_pos = r->pos;
	if (r->pos >= r->len)
		return fail(r, field, "truncated: the message ends before "
			    "this item");
	res = cbor_stream_decode(r->buf + r->pos, r->len - r->pos,
				 &item_callbacks, it);
	switch (res.status) {
	case CBOR_DECODER_FINISHED:
		break;
	case CBOR_DECODER_NEDATA:
		return fail(r, field, "truncated: item needs %zu bytes, %zu "
			    "left", res.required, r->len - r->pos);
	default:
		return fail(r, field, "malformed CBOR item (initial byte "
			    "0x%02x)", r->buf[r->pos]);
	}
	/* Belt and braces: libcbor must not claim bytes we did not give. */
	if (res.read == 0 || res.read > r->len - r->pos)
		return fail(r, field, "malformed CBOR item");
	r->pos += res.read;
	return 0;
}

static int want_kind(struct reader *r, const char *field,
		     const struct item *it, enum item_kind kind)
{
	if (it->kind == kind)
		return 0;
	return fail(r, field, "expected %s, got %s", item_names[kind],
		    item_names[it->kind]);
}

static int read_uint(struct reader *r, const char *field, uint64_t max,
		     uint64_t *out)
{
	struct item it;
	int rv;

	rv = next_item(r, field, &it);
	if (rv == 0)
		rv = want_kind(r, field, &it, ITEM_UINT);
	if (rv != 0)
		return rv;
	if (it.u > max)
		return fail(r, field, "value %" PRIu64 " exceeds %" PRIu64,
			    it.u, max);
	*out = it.u;
	return 0;
}

/* An array head whose count must lie in [min, max]. */
static int read_array(struct reader *r, const char *field, uint64_t min,
		      uint64_t max, size_t *count)
{
	struct item it;
	int rv;

	rv = next_item(r, field, &it);
	if (rv == 0)
		rv = want_kind(r, field, &it, ITEM_ARRAY);
	if (rv != 0)
		return rv;
	if (it.u < min || it.u > max) {
		if (min == max)
			return fail(r, field, "array of %" PRIu64 " items, "
				    "want %" PRIu64, it.u, min);
		return fail(r, field, "array of %" PRIu64 " items, want "
			    "%" PRIu64 "..%" PRIu64, it.u, min, max);
	}
	*count = (size_t)it.u;
	return 0;
}

/* A list head: a count within max and within what the rest of the input
 * could hold if each element took at least min_size bytes. Checked before
 * anything is allocated for the list. */
static int read_list(struct reader *r, const char *field, uint64_t max,
		     size_t min_size, size_t *count)
{
	size_t n;
	int rv;

	rv = read_array(r, field, 0, max, &n);
	if (rv != 0)
		return rv;
	if (n > (r->len - r->pos) / min_size)
		return fail(r, field, "list of %zu items cannot fit in the "
			    "%zu bytes left", n, r->len - r->pos);
	*count = n;
	return 0;
}

static int read_bytes(struct reader *r, const char *field, size_t min,
		      size_t max, const uint8_t **p, size_t *len)
{
	struct item it;
	int rv;

	rv = next_item(r, field, &it);
	if (rv == 0)
		rv = want_kind(r, field, &it, ITEM_BYTES);
	if (rv != 0)
		return rv;
	if (it.len < min || it.len > max) {
		if (min == max)
			return fail(r, field, "byte string of %zu bytes, "
				    "want %zu", it.len, min);
		return fail(r, field, "byte string of %zu bytes, want "
			    "%zu..%zu", it.len, min, max);
	}
	*p = it.p;
	*len = it.len;
	return 0;
}

/* Grows *arr (of elem-sized elements, capacity *cap) to hold n. n was
 * bounded by read_list(), so this never allocates more than the input
 * could describe. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem,
		struct err *err)
{
	void *p;

	if (n <= *cap)
		return 0;
	p = realloc(*arr, n * elem);
	if (p == NULL)
		return err_set(err, RUMOR_ENOMEM,
			       "wire: cannot allocate %zu list items", n);
	*arr = p;
	*cap = n;
	return 0;
}

/* Smallest encodings of list elements, for read_list(). */
#define HWM_MIN_BYTES (1 + 2 + WIRE_ORIGIN_BYTES + 1)
#define ENTRY_MIN_BYTES (1 + 4 + 2 + 1)
#define MENTRY_MIN_BYTES (1 + 1 + 4 + 2 + 1)
#define MEMBER_MIN_BYTES (1 + 2 + WIRE_NODE_ID_BYTES + 2 + 3)

static int decode_hello(struct reader *r, struct wire_hello *m)
{
	uint64_t v;
	int rv;

	rv = read_uint(r, "proto_version", UINT64_MAX, &m->proto_version);
	if (rv == 0)
		rv = read_uint(r, "listen_port", WIRE_PORT_MAX, &v);
	if (rv != 0)
		return rv;
	m->listen_port = (uint16_t)v;
	rv = read_uint(r, "mode", WIRE_MODE_REPLICA, &v);
	if (rv != 0)
		return rv;
	m->mode = (int)v;
	rv = read_uint(r, "wall_ms", UINT64_MAX, &m->wall_ms);
	if (rv == 0)
		rv = read_uint(r, "flags", UINT64_MAX, &m->flags);
	return rv;
}

static int decode_hwms(struct reader *r, struct wire_decoder *d,
		       struct wire_digest *m)
{
	const uint8_t *origin;
	size_t i, n, len;
	int rv;

	rv = read_uint(r, "exchange_id", UINT64_MAX, &m->exchange_id);
	if (rv == 0)
		rv = read_list(r, "hwm list", WIRE_DIGEST_MAX, HWM_MIN_BYTES,
			       &n);
	if (rv == 0)
		rv = grow((void **)&d->hwms, &d->hwms_cap, n,
			  sizeof(*d->hwms), r->err);
	if (rv != 0)
		return rv;
	r->list = "hwm";
	for (i = 0; i < n; i++) {
		r->idx = i;
		rv = read_array(r, "pair", 2, 2, &len);
		if (rv == 0)
			rv = read_bytes(r, "origin", WIRE_ORIGIN_BYTES,
					WIRE_ORIGIN_BYTES, &origin, &len);
		if (rv == 0)
			rv = read_uint(r, "hwm", UINT64_MAX, &d->hwms[i].hwm);
		if (rv != 0)
			return rv;
		d->hwms[i].origin = origin;
	}
	r->list = NULL;
	m->hwms = d->hwms;
	m->n = n;
	return 0;
}

/* A BATCH entry, or with with_index an MBATCH entry (its origin index
 * checked against the table later, when the table is read). */
static int decode_entry(struct reader *r, struct wire_entry *e,
			int with_index)
{
	struct item it;
	const uint8_t *key;
	uint64_t flags, index = 0;
	size_t n;
	int rv;

	rv = read_array(r, "fields", with_index ? 7 : 6, with_index ? 7 : 6,
			&n);
	if (rv == 0 && with_index)
		rv = read_uint(r, "origin_index",
			       WIRE_MBATCH_ORIGINS_MAX - 1, &index);
	e->origin_index = (size_t)index;
	if (rv == 0)
		rv = read_uint(r, "seq", UINT64_MAX, &e->seq);
	if (rv == 0)
		rv = read_uint(r, "clock", UINT64_MAX, &e->clock);
	if (rv == 0)
		rv = read_uint(r, "wall_ms", UINT64_MAX, &e->wall_ms);
	if (rv == 0)
		rv = read_uint(r, "flags", UINT64_MAX, &flags);
	if (rv != 0)
		return rv;
	if (flags & ~(uint64_t)WIRE_ENTRY_FLAGS_KNOWN)
		return fail(r, "flags", "flags 0x%" PRIx64 " have unknown "
			    "bits (known 0x%x)", flags,
			    WIRE_ENTRY_FLAGS_KNOWN);
	e->deleted = (flags & WIRE_ENTRY_DELETED) != 0;
	rv = read_bytes(r, "key", 1, WIRE_KEY_MAX, &key, &e->key_len);
	if (rv != 0)
		return rv;
	e->key = key;
	rv = next_item(r, "value", &it);
	if (rv != 0)
		return rv;
	if (e->deleted) {
		if (it.kind != ITEM_NULL)
			return fail(r, "value", "deleted entry carries %s "
				    "instead of null", item_names[it.kind]);
		e->value = NULL;
		e->value_len = 0;
		return 0;
	}
	if (it.kind == ITEM_NULL)
		return fail(r, "value", "live entry has a null value");
	rv = want_kind(r, "value", &it, ITEM_BYTES);
	if (rv != 0)
		return rv;
	if (it.len > WIRE_VALUE_MAX)
		return fail(r, "value", "byte string of %zu bytes exceeds "
			    "%u", it.len, WIRE_VALUE_MAX);
	e->value = it.p;
	e->value_len = it.len;
	return 0;
}

static int decode_batch(struct reader *r, struct wire_decoder *d,
			struct wire_batch *m)
{
	size_t i, n, len;
	int rv;

	rv = read_uint(r, "exchange_id", UINT64_MAX, &m->exchange_id);
	if (rv == 0)
		rv = read_bytes(r, "origin", WIRE_ORIGIN_BYTES,
				WIRE_ORIGIN_BYTES, &m->origin, &len);
	if (rv == 0)
		rv = read_list(r, "entry list", WIRE_BATCH_MAX,
			       ENTRY_MIN_BYTES, &n);
	if (rv == 0)
		rv = grow((void **)&d->entries, &d->entries_cap, n,
			  sizeof(*d->entries), r->err);
	if (rv != 0)
		return rv;
	m->payload_bytes = 0;
	r->list = "entry";
	for (i = 0; i < n; i++) {
		r->idx = i;
		rv = decode_entry(r, &d->entries[i], 0);
		if (rv != 0)
			return rv;
		m->payload_bytes += wire_entry_payload(&d->entries[i]);
	}
	r->list = NULL;
	m->entries = d->entries;
	m->n = n;
	return 0;
}

static int decode_mbatch(struct reader *r, struct wire_decoder *d,
			 struct wire_mbatch *m)
{
	unsigned char used[WIRE_MBATCH_ORIGINS_MAX];
	size_t i, j, n, t, len;
	int rv;

	rv = read_uint(r, "exchange_id", UINT64_MAX, &m->exchange_id);
	if (rv == 0)
		rv = read_list(r, "entry list", WIRE_BATCH_MAX,
			       MENTRY_MIN_BYTES, &n);
	if (rv == 0)
		rv = grow((void **)&d->entries, &d->entries_cap, n,
			  sizeof(*d->entries), r->err);
	if (rv != 0)
		return rv;
	m->payload_bytes = 0;
	r->list = "entry";
	for (i = 0; i < n; i++) {
		r->idx = i;
		rv = decode_entry(r, &d->entries[i], 1);
		if (rv != 0)
			return rv;
		m->payload_bytes += wire_entry_payload(&d->entries[i]);
	}
	r->list = NULL;
	rv = read_list(r, "origin list", WIRE_MBATCH_ORIGINS_MAX,
		       WIRE_MBATCH_ORIGIN_BYTES, &t);
	if (rv == 0)
		rv = grow((void **)&d->origins, &d->origins_cap, t,
			  sizeof(*d->origins), r->err);
	if (rv != 0)
		return rv;
	r->list = "origin";
	for (i = 0; i < t; i++) {
		r->idx = i;
		rv = read_bytes(r, "origin", WIRE_ORIGIN_BYTES,
				WIRE_ORIGIN_BYTES, &d->origins[i], &len);
		if (rv != 0)
			return rv;
		/* At most 256 origins: pairwise is cheap enough. */
		for (j = 0; j < i; j++)
			if (memcmp(d->origins[i], d->origins[j],
				   WIRE_ORIGIN_BYTES) == 0)
				return fail(r, "origin", "repeats origin %zu",
					    j);
	}
	memset(used, 0, sizeof(used));
	r->list = "entry";
	for (i = 0; i < n; i++) {
		r->idx = i;
		if (d->entries[i].origin_index >= t)
			return fail(r, "origin_index", "index %zu outside a "
				    "table of %zu origins",
				    d->entries[i].origin_index, t);
		used[d->entries[i].origin_index] = 1;
	}
	r->list = "origin";
	for (i = 0; i < t; i++) {
		r->idx = i;
		if (!used[i])
			return fail(r, "origin", "no entry uses it");
	}
	r->list = NULL;
	m->origins = d->origins;
	m->n_origins = t;
	m->entries = d->entries;
	m->n = n;
	return 0;
}

static int decode_members(struct reader *r, struct wire_decoder *d,
			  struct wire_members *m)
{
	struct wire_member *mb;
	struct item it;
	uint64_t v;
	size_t i, n, len;
	int rv;

	rv = read_list(r, "member list", WIRE_MEMBERS_MAX, MEMBER_MIN_BYTES,
		       &n);
	if (rv == 0)
		rv = grow((void **)&d->members, &d->members_cap, n,
			  sizeof(*d->members), r->err);
	if (rv != 0)
		return rv;
	r->list = "member";
	for (i = 0; i < n; i++) {
		r->idx = i;
		mb = &d->members[i];
		rv = read_array(r, "fields", 5, 5, &len);
		if (rv == 0)
			rv = read_bytes(r, "node_id", WIRE_NODE_ID_BYTES,
					WIRE_NODE_ID_BYTES, &mb->node_id,
					&len);
		if (rv == 0)
			rv = next_item(r, "host", &it);
		if (rv == 0)
			rv = want_kind(r, "host", &it, ITEM_TEXT);
		if (rv != 0)
			return rv;
		if (it.len < 1 || it.len > WIRE_HOST_MAX)
			return fail(r, "host", "text string of %zu bytes, "
				    "want 1..%d", it.len, WIRE_HOST_MAX);
		if (memchr(it.p, '\0', it.len) != NULL)
			return fail(r, "host", "host contains NUL");
		mb->host = (const char *)it.p;
		mb->host_len = it.len;
		rv = read_uint(r, "port", WIRE_PORT_MAX, &v);
		if (rv != 0)
			return rv;
		mb->port = (uint16_t)v;
		rv = read_uint(r, "state", WIRE_MEMBER_GONE, &v);
		if (rv != 0)
			return rv;
		mb->state = (int)v;
		rv = read_uint(r, "age_ms", UINT64_MAX, &mb->age_ms);
		if (rv != 0)
			return rv;
	}
	r->list = NULL;
	m->members = d->members;
	m->n = n;
	return 0;
}

/* Items in each message's top-level array, by type. */
static const size_t message_items[] = {
	[WIRE_HELLO] = 6, [WIRE_DIGEST] = 3, [WIRE_BATCH] = 4,
	[WIRE_ACK] = 3,   [WIRE_DONE] = 3,   [WIRE_MEMBERS] = 2,
	[WIRE_PING] = 2,  [WIRE_PONG] = 2,   [WIRE_BYE] = 2,
	[WIRE_MBATCH] = 4,
};

int wire_decode(struct wire_decoder *d, const uint8_t *buf, size_t len,
		struct wire_msg *out, struct err *err)
{
	struct reader r = {
		.buf = buf, .len = len, .msg = "message", .err = err,
	};
	struct item it;
	uint64_t type;
	size_t items;
	int rv;

	assert(d != NULL && out != NULL);
	assert(buf != NULL || len == 0);
	rv = next_item(&r, "head", &it);
	if (rv == 0)
		rv = want_kind(&r, "head", &it, ITEM_ARRAY);
	if (rv != 0)
		return rv;
	items = (size_t)it.u;
	if (items < 2)
		return fail(&r, "head", "array of %zu items is no message",
			    items);
	rv = read_uint(&r, "type", UINT64_MAX, &type);
	if (rv != 0)
		return rv;
	if (type < WIRE_HELLO || type > WIRE_TYPE_MAX)
		return fail(&r, "type", "message type %" PRIu64 " unknown",
			    type);
	r.msg = wire_type_name((int)type);
	if (items != message_items[type]) {
		r.item_pos = 0;
		return fail(&r, "head", "array of %zu items, want %zu",
			    items, message_items[type]);
	}
	memset(out, 0, sizeof(*out));
	out->type = (enum wire_type)type;
	switch (out->type) {
	case WIRE_HELLO:
		rv = decode_hello(&r, &out->u.hello);
		break;
	case WIRE_DIGEST:
	case WIRE_DONE:
		rv = decode_hwms(&r, d, &out->u.digest);
		break;
	case WIRE_BATCH:
		rv = decode_batch(&r, d, &out->u.batch);
		break;
	case WIRE_MBATCH:
		rv = decode_mbatch(&r, d, &out->u.mbatch);
		break;
	case WIRE_ACK:
		rv = read_uint(&r, "exchange_id", UINT64_MAX,
			       &out->u.ack.exchange_id);
		if (rv == 0)
			rv = read_uint(&r, "bytes", UINT64_MAX,
				       &out->u.ack.bytes);
		break;
	case WIRE_MEMBERS:
		rv = decode_members(&r, d, &out->u.members);
		break;
	case WIRE_PING:
	case WIRE_PONG:
		rv = read_uint(&r, "nonce", UINT64_MAX, &out->u.nonce);
		break;
	case WIRE_BYE:
		rv = read_uint(&r, "reason", UINT64_MAX, &out->u.reason);
		break;
	}
	if (rv != 0)
		return rv;
	if (r.pos != r.len) {
		r.item_pos = r.pos;
		return fail(&r, "end", "%zu trailing bytes after the message",
			    r.len - r.pos);
	}
	return 0;
}
