/* SPDX-License-Identifier: MIT */
/*
 * wire: CBOR encoding and strict decoding of the peer messages (wire.h),
 * with the buffer, encoders and item reader of wire_cbor.h.
 *
 * Each encoder first reserves the worst-case size of what it is about to
 * write, so the individual wire_put_* calls cannot run out of room.
 * Decoding walks the frame item by item; the walk is driven by the
 * message schema, so nesting deeper than the schema shows up as a wrong
 * item type and is rejected.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"
#include "wire/wire_cbor.h"

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

/* ------------------------------------------------------------ encoding */

/* Makes room for extra more bytes after out->len (wire_cbor.h, 1). */
static int reserve(struct wire_buf *out, size_t extra, struct err *err)
{
	if (wire_buf_reserve(out, extra) != 0)
		return err_set(err, RUMOR_ENOMEM, "wire: cannot grow a buffer "
			       "of %zu bytes by %zu", out->len, extra);
	return 0;
}


int wire_encode_hello(struct wire_buf *out, const struct wire_hello *m,
		      struct err *err)
{
	int rv;

	if (m->mode != WIRE_MODE_PEER && m->mode != WIRE_MODE_REPLICA)
		return err_set(err, RUMOR_EINVAL,
			       "wire: HELLO mode %d unknown", m->mode);
	rv = reserve(out, 6 * WIRE_HEAD_MAX, err);
	if (rv != 0)
		return rv;
	wire_put_array(out, 6);
	wire_put_uint(out, WIRE_HELLO);
	wire_put_uint(out, m->proto_version);
	wire_put_uint(out, m->listen_port);
	wire_put_uint(out, (uint64_t)m->mode);
	wire_put_uint(out, m->wall_ms);
	wire_put_uint(out, m->flags);
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
	rv = reserve(out, 4 * WIRE_HEAD_MAX +
			 n * (1 + 2 + WIRE_ORIGIN_BYTES + WIRE_HEAD_MAX), err);
	if (rv != 0)
		return rv;
	wire_put_array(out, 3);
	wire_put_uint(out, type);
	wire_put_uint(out, exchange_id);
	wire_put_array(out, n);
	for (i = 0; i < n; i++) {
		wire_put_array(out, 2);
		wire_put_bytes(out, hwms[i].origin, WIRE_ORIGIN_BYTES);
		wire_put_uint(out, hwms[i].hwm);
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
	rv = reserve(out, 3 * WIRE_HEAD_MAX, err);
	if (rv != 0)
		return rv;
	wire_put_array(out, items);
	wire_put_uint(out, type);
	wire_put_uint(out, a);
	if (items == 3)
		wire_put_uint(out, b);
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
	need = 3 * WIRE_HEAD_MAX;
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
			3 * WIRE_HEAD_MAX;
	}
	rv = reserve(out, need, err);
	if (rv != 0)
		return rv;
	wire_put_array(out, 2);
	wire_put_uint(out, WIRE_MEMBERS);
	wire_put_array(out, n);
	for (i = 0; i < n; i++) {
		wire_put_array(out, 5);
		wire_put_bytes(out, m[i].node_id, WIRE_NODE_ID_BYTES);
		wire_put_text(out, m[i].host, m[i].host_len);
		wire_put_uint(out, m[i].port);
		wire_put_uint(out, (uint64_t)m[i].state);
		wire_put_uint(out, m[i].age_ms);
	}
	return 0;
}

/* ------------------------------------------------------------ batches */

size_t wire_entry_size(const struct wire_entry *e)
{
	size_t n = 1 + wire_head_size(e->seq) + wire_head_size(e->clock) +
		   wire_head_size(e->wall_ms) +
		   wire_head_size(e->deleted ? WIRE_ENTRY_DELETED : 0) +
		   wire_head_size(e->key_len) + e->key_len;

	if (e->deleted)
		return n + 1;   /* null */
	return n + wire_head_size(e->value_len) + e->value_len;
}

/* The reserved count head: 0x9a (array, 4-byte length) + 4 bytes. */
#define WIRE_ARRAY32_HEAD 5

int wire_batch_begin(struct wire_batch_builder *b, struct wire_buf *out,
		     uint64_t exchange_id,
		     const uint8_t origin[static WIRE_ORIGIN_BYTES],
		     struct err *err)
{
	int rv;

	rv = reserve(out, WIRE_BATCH_HEAD_MAX, err);
	if (rv != 0)
		return rv;
	b->out = out;
	b->start = out->len;
	b->n = 0;
	b->payload_bytes = 0;
	memcpy(b->origin, origin, WIRE_ORIGIN_BYTES);
	wire_put_array(out, 4);
	wire_put_uint(out, WIRE_BATCH);
	wire_put_uint(out, exchange_id);
	wire_put_bytes(out, origin, WIRE_ORIGIN_BYTES);
	b->count_at = out->len;
	memset(out->data + out->len, 0, WIRE_ARRAY32_HEAD);
	out->len += WIRE_ARRAY32_HEAD;
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
	wire_put_uint(out, e->seq);
	wire_put_uint(out, e->clock);
	wire_put_uint(out, e->wall_ms);
	wire_put_uint(out, e->deleted ? WIRE_ENTRY_DELETED : 0);
	wire_put_bytes(out, e->key, e->key_len);
	if (e->deleted)
		wire_put_null(out);
	else
		wire_put_bytes(out, e->value, e->value_len);
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
		rv = reserve(out, wire_entry_size(e), err);
	if (rv != 0)
		return rv;
	wire_put_array(out, 6);
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
	wire_entry_from_version(v, &e);
	return wire_batch_add(b, &e, err);
}

void wire_entry_from_version(const struct rumor_version *v,
			     struct wire_entry *e)
{
	e->seq = v->seq;
	e->clock = v->clock;
	e->wall_ms = v->wall_ms;
	e->deleted = v->deleted ? 1 : 0;
	e->key = v->key;
	e->key_len = v->key_len;
	e->value = v->deleted ? NULL : v->value;
	e->value_len = v->deleted ? 0 : v->value_len;
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
	assert(b->open);
	assert(b->n <= WIRE_BATCH_MAX);
	wire_set_array32(b->out->data + b->count_at, (uint32_t)b->n);
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

	rv = reserve(out, WIRE_MBATCH_HEAD_MAX, err);
	if (rv != 0)
		return rv;
	b->out = out;
	b->start = out->len;
	b->n = 0;
	b->payload_bytes = 0;
	b->n_origins = 0;
	b->last = 0;
	wire_put_array(out, 4);
	wire_put_uint(out, WIRE_MBATCH);
	wire_put_uint(out, exchange_id);
	b->count_at = out->len;
	memset(out->data + out->len, 0, WIRE_ARRAY32_HEAD);
	out->len += WIRE_ARRAY32_HEAD;
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
	return wire_head_size(t) + t * WIRE_MBATCH_ORIGIN_BYTES;
}

size_t wire_mbatch_entry_size(const struct wire_mbatch_builder *b,
			      const uint8_t *origin,
			      const struct wire_entry *e)
{
	size_t i = mbatch_find(b, origin);
	size_t n = wire_entry_size(e) + wire_head_size(i);

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
	rv = reserve(out, wire_entry_size(e) + wire_head_size(i) +
			 mbatch_table_size(t), err);
	if (rv != 0)
		return rv;
	if (i == b->n_origins) {
		memcpy(b->origins[i], origin, WIRE_ORIGIN_BYTES);
		b->n_origins++;
	}
	b->last = i;
	wire_put_array(out, 7);
	wire_put_uint(out, i);
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
	size_t i;

	assert(b->open);
	assert(b->n <= WIRE_BATCH_MAX);
	wire_set_array32(out->data + b->count_at, (uint32_t)b->n);
	/* Room was reserved by begin (head) and by the last add. */
	assert(out->cap - out->len >= mbatch_table_size(b->n_origins));
	wire_put_array(out, b->n_origins);
	for (i = 0; i < b->n_origins; i++)
		wire_put_bytes(out, b->origins[i], WIRE_ORIGIN_BYTES);
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
	need = 4 * WIRE_HEAD_MAX + mbatch_table_size(m->n_origins);
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
	rv = reserve(out, need, err);
	if (rv != 0)
		return rv;
	wire_put_array(out, 4);
	wire_put_uint(out, WIRE_MBATCH);
	wire_put_uint(out, m->exchange_id);
	wire_put_array(out, m->n);
	for (i = 0; i < m->n; i++) {
		wire_put_array(out, 7);
		wire_put_uint(out, m->entries[i].origin_index);
		put_entry_fields(out, &m->entries[i]);
	}
	wire_put_array(out, m->n_origins);
	for (i = 0; i < m->n_origins; i++)
		wire_put_bytes(out, m->origins[i], WIRE_ORIGIN_BYTES);
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

/* A list head: a count within max and within what the rest of the input
 * could hold if each element took at least min_bytes (wire_read_array()),
 * then room for that many elem-sized elements in *arr (capacity *cap).
 * The count is checked before anything is allocated, so this never
 * allocates more than the input could describe. */
static int read_list(struct wire_reader *r, const char *field, uint64_t max,
		     size_t min_bytes, void **arr, size_t *cap, size_t elem,
		     size_t *n)
{
	void *p;
	int rv;

	rv = wire_read_array(r, field, 0, max, min_bytes, n);
	if (rv != 0 || *n <= *cap)
		return rv;
	p = realloc(*arr, *n * elem);
	if (p == NULL)
		return err_set(r->err, RUMOR_ENOMEM,
			       "wire: cannot allocate %zu list items", *n);
	*arr = p;
	*cap = *n;
	return 0;
}

/* Smallest encodings of list elements, for read_list(). */
#define HWM_MIN_BYTES (1 + 2 + WIRE_ORIGIN_BYTES + 1)
#define ENTRY_MIN_BYTES (1 + 4 + 2 + 1)
#define MENTRY_MIN_BYTES (1 + 1 + 4 + 2 + 1)
#define MEMBER_MIN_BYTES (1 + 2 + WIRE_NODE_ID_BYTES + 2 + 3)

static int decode_hello(struct wire_reader *r, struct wire_hello *m)
{
	int rv;

	rv = wire_read_uint(r, "proto_version", UINT64_MAX,
			    &m->proto_version);
	if (rv == 0)
		rv = wire_read_u16(r, "listen_port", WIRE_PORT_MAX,
				   &m->listen_port);
	if (rv == 0)
		rv = wire_read_small(r, "mode", WIRE_MODE_REPLICA, &m->mode);
	if (rv == 0)
		rv = wire_read_uint(r, "wall_ms", UINT64_MAX, &m->wall_ms);
	if (rv == 0)
		rv = wire_read_uint(r, "flags", UINT64_MAX, &m->flags);
	return rv;
}

static int decode_hwms(struct wire_reader *r, struct wire_decoder *d,
		       struct wire_digest *m)
{
	const uint8_t *origin;
	size_t i, n, len;
	int rv;

	rv = wire_read_uint(r, "exchange_id", UINT64_MAX, &m->exchange_id);
	if (rv == 0)
		rv = read_list(r, "hwm list", WIRE_DIGEST_MAX, HWM_MIN_BYTES,
			       (void **)&d->hwms, &d->hwms_cap,
			       sizeof(*d->hwms), &n);
	if (rv != 0)
		return rv;
	r->list = "hwm";
	for (i = 0; i < n; i++) {
		r->idx = i;
		rv = wire_read_array(r, "pair", 2, 2, 0, &len);
		if (rv == 0)
			rv = wire_read_bytes(r, "origin", WIRE_ORIGIN_BYTES,
					     WIRE_ORIGIN_BYTES, &origin, &len);
		if (rv == 0)
			rv = wire_read_uint(r, "hwm", UINT64_MAX,
					    &d->hwms[i].hwm);
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
static int decode_entry(struct wire_reader *r, struct wire_entry *e,
			int with_index)
{
	struct wire_item it;
	const uint8_t *key;
	uint64_t flags, index = 0;
	size_t n;
	int rv;

	rv = wire_read_array(r, "fields", with_index ? 7 : 6,
			     with_index ? 7 : 6, 0, &n);
	if (rv == 0 && with_index)
		rv = wire_read_uint(r, "origin_index",
				    WIRE_MBATCH_ORIGINS_MAX - 1, &index);
	e->origin_index = (size_t)index;
	if (rv == 0)
		rv = wire_read_uint(r, "seq", UINT64_MAX, &e->seq);
	if (rv == 0)
		rv = wire_read_uint(r, "clock", UINT64_MAX, &e->clock);
	if (rv == 0)
		rv = wire_read_uint(r, "wall_ms", UINT64_MAX, &e->wall_ms);
	if (rv == 0)
		rv = wire_read_uint(r, "flags", UINT64_MAX, &flags);
	if (rv != 0)
		return rv;
	if (flags & ~(uint64_t)WIRE_ENTRY_FLAGS_KNOWN)
		return wire_read_fail(r, "flags", "flags 0x%" PRIx64 " have "
				      "unknown bits (known 0x%x)", flags,
				      WIRE_ENTRY_FLAGS_KNOWN);
	e->deleted = (flags & WIRE_ENTRY_DELETED) != 0;
	rv = wire_read_bytes(r, "key", 1, WIRE_KEY_MAX, &key, &e->key_len);
	if (rv != 0)
		return rv;
	e->key = key;
	rv = wire_read_item(r, "value", &it);
	if (rv != 0)
		return rv;
	if (e->deleted) {
		if (it.kind != WIRE_ITEM_NULL)
			return wire_read_fail(r, "value", "deleted entry "
					      "carries %s instead of null",
					      wire_item_name(it.kind));
		e->value = NULL;
		e->value_len = 0;
		return 0;
	}
	if (it.kind == WIRE_ITEM_NULL)
		return wire_read_fail(r, "value", "live entry has a null "
				      "value");
	rv = wire_want_kind(r, "value", &it, WIRE_ITEM_BYTES);
	if (rv != 0)
		return rv;
	if (it.len > WIRE_VALUE_MAX)
		return wire_read_fail(r, "value", "byte string of %zu bytes "
				      "exceeds %u", it.len, WIRE_VALUE_MAX);
	e->value = it.p;
	e->value_len = it.len;
	return 0;
}

/* The entry list of a BATCH, or with with_index of an MBATCH, into
 * d->entries: *n entries carrying *payload_bytes. */
static int decode_entries(struct wire_reader *r, struct wire_decoder *d,
			  int with_index, size_t *n, uint64_t *payload_bytes)
{
	size_t i;
	int rv;

	rv = read_list(r, "entry list", WIRE_BATCH_MAX,
		       with_index ? MENTRY_MIN_BYTES : ENTRY_MIN_BYTES,
		       (void **)&d->entries, &d->entries_cap,
		       sizeof(*d->entries), n);
	if (rv != 0)
		return rv;
	*payload_bytes = 0;
	r->list = "entry";
	for (i = 0; i < *n; i++) {
		r->idx = i;
		rv = decode_entry(r, &d->entries[i], with_index);
		if (rv != 0)
			return rv;
		*payload_bytes += wire_entry_payload(&d->entries[i]);
	}
	r->list = NULL;
	return 0;
}

static int decode_batch(struct wire_reader *r, struct wire_decoder *d,
			struct wire_batch *m)
{
	size_t n, len;
	int rv;

	rv = wire_read_uint(r, "exchange_id", UINT64_MAX, &m->exchange_id);
	if (rv == 0)
		rv = wire_read_bytes(r, "origin", WIRE_ORIGIN_BYTES,
				     WIRE_ORIGIN_BYTES, &m->origin, &len);
	if (rv == 0)
		rv = decode_entries(r, d, 0, &n, &m->payload_bytes);
	if (rv != 0)
		return rv;
	m->entries = d->entries;
	m->n = n;
	return 0;
}

static int decode_mbatch(struct wire_reader *r, struct wire_decoder *d,
			 struct wire_mbatch *m)
{
	unsigned char used[WIRE_MBATCH_ORIGINS_MAX];
	size_t i, j, n, t, len;
	int rv;

	rv = wire_read_uint(r, "exchange_id", UINT64_MAX, &m->exchange_id);
	if (rv == 0)
		rv = decode_entries(r, d, 1, &n, &m->payload_bytes);
	if (rv != 0)
		return rv;
	rv = read_list(r, "origin list", WIRE_MBATCH_ORIGINS_MAX,
		       WIRE_MBATCH_ORIGIN_BYTES, (void **)&d->origins,
		       &d->origins_cap, sizeof(*d->origins), &t);
	if (rv != 0)
		return rv;
	r->list = "origin";
	for (i = 0; i < t; i++) {
		r->idx = i;
		rv = wire_read_bytes(r, "origin", WIRE_ORIGIN_BYTES,
				     WIRE_ORIGIN_BYTES, &d->origins[i], &len);
		if (rv != 0)
			return rv;
		/* At most 256 origins: pairwise is cheap enough. */
		for (j = 0; j < i; j++)
			if (memcmp(d->origins[i], d->origins[j],
				   WIRE_ORIGIN_BYTES) == 0)
				return wire_read_fail(r, "origin", "repeats "
						      "origin %zu", j);
	}
	memset(used, 0, sizeof(used));
	r->list = "entry";
	for (i = 0; i < n; i++) {
		r->idx = i;
		if (d->entries[i].origin_index >= t)
			return wire_read_fail(r, "origin_index", "index %zu "
					      "outside a table of %zu origins",
					      d->entries[i].origin_index, t);
		used[d->entries[i].origin_index] = 1;
	}
	r->list = "origin";
	for (i = 0; i < t; i++) {
		r->idx = i;
		if (!used[i])
			return wire_read_fail(r, "origin", "no entry uses it");
	}
	r->list = NULL;
	m->origins = d->origins;
	m->n_origins = t;
	m->entries = d->entries;
	m->n = n;
	return 0;
}

static int decode_members(struct wire_reader *r, struct wire_decoder *d,
			  struct wire_members *m)
{
	struct wire_member *mb;
	size_t i, n, len;
	int rv;

	rv = read_list(r, "member list", WIRE_MEMBERS_MAX, MEMBER_MIN_BYTES,
		       (void **)&d->members, &d->members_cap,
		       sizeof(*d->members), &n);
	if (rv != 0)
		return rv;
	r->list = "member";
	for (i = 0; i < n; i++) {
		r->idx = i;
		mb = &d->members[i];
		rv = wire_read_array(r, "fields", 5, 5, 0, &len);
		if (rv == 0)
			rv = wire_read_bytes(r, "node_id", WIRE_NODE_ID_BYTES,
					     WIRE_NODE_ID_BYTES, &mb->node_id,
					     &len);
		if (rv == 0)
			rv = wire_read_text(r, "host", 1, WIRE_HOST_MAX,
					    &mb->host, &mb->host_len);
		if (rv == 0)
			rv = wire_read_u16(r, "port", WIRE_PORT_MAX,
					   &mb->port);
		if (rv == 0)
			rv = wire_read_small(r, "state", WIRE_MEMBER_GONE,
					     &mb->state);
		if (rv == 0)
			rv = wire_read_uint(r, "age_ms", UINT64_MAX,
					    &mb->age_ms);
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
	struct wire_reader r;
	struct wire_item it;
	uint64_t type;
	size_t items;
	int rv;

	assert(d != NULL && out != NULL);
	wire_reader_init(&r, buf, len, "wire", "message", err);
	rv = wire_read_item(&r, "head", &it);
	if (rv == 0)
		rv = wire_want_kind(&r, "head", &it, WIRE_ITEM_ARRAY);
	if (rv != 0)
		return rv;
	items = (size_t)it.u;
	if (items < 2)
		return wire_read_fail(&r, "head", "array of %zu items is no "
				      "message", items);
	rv = wire_read_uint(&r, "type", UINT64_MAX, &type);
	if (rv != 0)
		return rv;
	if (type < WIRE_HELLO || type > WIRE_TYPE_MAX)
		return wire_read_fail(&r, "type", "message type %" PRIu64
				      " unknown", type);
	r.msg = wire_type_name((int)type);
	if (items != message_items[type]) {
		r.item_pos = 0;
		return wire_read_fail(&r, "head", "array of %zu items, want "
				      "%zu", items, message_items[type]);
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
		rv = wire_read_uint(&r, "exchange_id", UINT64_MAX,
				    &out->u.ack.exchange_id);
		if (rv == 0)
			rv = wire_read_uint(&r, "bytes", UINT64_MAX,
					    &out->u.ack.bytes);
		break;
	case WIRE_MEMBERS:
		rv = decode_members(&r, d, &out->u.members);
		break;
	case WIRE_PING:
	case WIRE_PONG:
		rv = wire_read_uint(&r, "nonce", UINT64_MAX, &out->u.nonce);
		break;
	case WIRE_BYE:
		rv = wire_read_uint(&r, "reason", UINT64_MAX, &out->u.reason);
		break;
	}
	if (rv != 0)
		return rv;
	return wire_read_end(&r);
}
