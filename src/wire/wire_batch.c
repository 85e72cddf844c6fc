/* SPDX-License-Identifier: MIT */
/*
 * wire_batch: the BATCH and MBATCH builders, which encode entries straight
 * into the frame being filled and know, before each entry, whether it
 * still fits.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_int.h"

/* ------------------------------------------------------------ batches */

/* An entry's flags field. */
static uint64_t entry_flags(const struct wire_entry *e)
{
	if (e->skip)
		return WIRE_ENTRY_SKIP;
	return e->deleted ? WIRE_ENTRY_DELETED : 0;
}

size_t wire_entry_size(const struct wire_entry *e)
{
	size_t n = 1 + wire_head_size(e->seq) + wire_head_size(e->clock) +
		   wire_head_size(e->wall_ms) +
		   wire_head_size(entry_flags(e)) +
		   wire_head_size(e->key_len) + e->key_len;

	if (e->deleted || e->skip)
		return n + 1;   /* null */
	return n + wire_head_size(e->value_len) + e->value_len;
}

/* The reserved count head: 0x9a (array, 4-byte length) + 4 bytes. */
#define WIRE_ARRAY32_HEAD 5

/* Writes the head both builders share, [type, exchange id, (origin,)
 * count], with the count's head reserved at its widest, and returns the
 * count's offset. The caller reserved the room. */
static size_t frame_head(struct wire_buf *out, enum wire_type type,
			 uint64_t exchange_id, const uint8_t *origin)
{
	size_t count_at;

	wire_put_array(out, 4);
	wire_put_uint(out, type);
	wire_put_uint(out, exchange_id);
	if (origin != NULL)
		wire_put_bytes(out, origin, WIRE_ORIGIN_BYTES);
	count_at = out->len;
	memset(out->data + out->len, 0, WIRE_ARRAY32_HEAD);
	out->len += WIRE_ARRAY32_HEAD;
	return count_at;
}

int wire_batch_begin(struct wire_batch_builder *b, struct wire_buf *out,
		     uint64_t exchange_id,
		     const uint8_t origin[static WIRE_ORIGIN_BYTES],
		     struct err *err)
{
	int rv;

	rv = wire_reserve(out, WIRE_BATCH_HEAD_MAX, err);
	if (rv != 0)
		return rv;
	b->out = out;
	b->start = out->len;
	b->n = 0;
	b->payload_bytes = 0;
	memcpy(b->origin, origin, WIRE_ORIGIN_BYTES);
	b->count_at = frame_head(out, WIRE_BATCH, exchange_id, origin);
	assert(out->len - b->start <= WIRE_BATCH_HEAD_MAX);
	b->open = 1;
	return 0;
}

/* The limits of an entry (wire_batch_add()). */
static int entry_check(const struct wire_entry *e, struct err *err)
{
	if (e->skip)
		return e->key_len == 0 && e->value_len == 0 && !e->deleted &&
		       e->clock == 0 && e->wall_ms == 0 ? 0 :
		       err_set(err, RUMOR_EINVAL, "wire: SKIP entry seq %llu "
			       "with a key, value, clock or deletion",
			       (unsigned long long)e->seq);
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
	wire_put_uint(out, entry_flags(e));
	wire_put_bytes(out, e->key, e->key_len);
	if (e->deleted || e->skip)
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
		rv = wire_reserve(out, wire_entry_size(e), err);
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
	e->skip = 0;
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

	rv = wire_reserve(out, WIRE_MBATCH_HEAD_MAX, err);
	if (rv != 0)
		return rv;
	b->out = out;
	b->start = out->len;
	b->n = 0;
	b->payload_bytes = 0;
	b->n_origins = 0;
	b->last = 0;
	b->count_at = frame_head(out, WIRE_MBATCH, exchange_id, NULL);
	assert(out->len - b->start <= WIRE_MBATCH_HEAD_MAX);
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
	rv = wire_reserve(out, wire_entry_size(e) + wire_head_size(i) +
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

/* The MBATCH message of wire_encode_msg (wire.c). */
int wire_encode_mbatch_msg(struct wire_buf *out, const struct wire_mbatch *m,
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
	rv = wire_reserve(out, need, err);
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

