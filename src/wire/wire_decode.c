/* SPDX-License-Identifier: MIT */
/*
 * wire_decode: strict decoding of one peer message per frame. The walk
 * is driven by the message schema, so nesting deeper than the schema
 * shows up as a wrong item type and is rejected.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_int.h"

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
	free(d->participants);
	free(d->sorted);
	free(d->ops);
	free(d->clocks);
	wire_decoder_init(d);
}

/* The walk below is written for message > list > element, nothing
 * deeper: an array where a scalar belongs is a type error. */
_Static_assert(WIRE_DEPTH_MAX == 3, "the decoder walks three levels");

/* A list head (contract in wire_int.h). The count is checked before
 * anything is allocated, so this never allocates more than the input
 * could describe. */
int wire_read_list(struct wire_reader *r, const char *field, uint64_t min,
		   uint64_t max, size_t min_bytes, void **arr, size_t *cap,
		   size_t elem, size_t *n)
{
	void *p;
	int rv;

	rv = wire_read_array(r, field, min, max, min_bytes, n);
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

/* Smallest encodings of list elements, for wire_read_list(). */
#define HWM_MIN_BYTES (1 + 2 + WIRE_ORIGIN_BYTES + 1)
#define ENTRY_MIN_BYTES (1 + 4 + 2 + 1)
/* A SKIP entry (LIVE frames) has an empty key: one byte less. */
#define MENTRY_MIN_BYTES (1 + 1 + 4 + 1 + 1)
#define MEMBER_MIN_BYTES (1 + 2 + WIRE_NODE_ID_BYTES + 2 + 3)

/* items: 6, or 7 with a partial node's replicate set (wire.h, 6). */
static int decode_hello(struct wire_reader *r, struct wire_hello *m,
			size_t items)
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
	if (rv == 0 && items == 7)
		rv = wire_read_bytes(r, "replicate", 1,
				     WIRE_HELLO_REPLICATE_MAX, &m->replicate,
				     &m->replicate_len);
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
		rv = wire_read_list(r, "hwm list", 0, WIRE_DIGEST_MAX,
				    HWM_MIN_BYTES, (void **)&d->hwms,
				    &d->hwms_cap, sizeof(*d->hwms), &n);
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

/* The rest of a SKIP entry (wire.h): no clock, wall time or other
 * flag, an empty key and a null value; allowed only in a LIVE frame. */
static int decode_skip(struct wire_reader *r, struct wire_entry *e,
		       uint64_t flags, int live)
{
	struct wire_item it;
	const uint8_t *key;
	int rv;

	if (!live)
		return wire_read_fail(r, "flags", "SKIP outside a LIVE frame");
	if (flags != WIRE_ENTRY_SKIP || e->clock != 0 || e->wall_ms != 0)
		return wire_read_fail(r, "flags", "SKIP entry with a clock, "
				      "wall time or other flags");
	rv = wire_read_bytes(r, "key", 0, 0, &key, &e->key_len);
	if (rv != 0)
		return rv;
	rv = wire_read_item(r, "value", &it);
	if (rv == 0 && it.kind != WIRE_ITEM_NULL)
		return wire_read_fail(r, "value", "SKIP entry carries %s "
				      "instead of null",
				      wire_item_name(it.kind));
	e->skip = 1;
	e->deleted = 0;         /* the entry array is reused between frames */
	e->key = NULL;
	e->value = NULL;
	e->value_len = 0;
	return rv;
}

/* A BATCH entry, or with with_index an MBATCH entry (its origin index
 * checked against the table later, when the table is read). live: the
 * entry is in a LIVE frame, where a SKIP entry may stand. */
static int decode_entry(struct wire_reader *r, struct wire_entry *e,
			int with_index, int live)
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
	e->skip = 0;
	if (flags & WIRE_ENTRY_SKIP)
		return decode_skip(r, e, flags, live);
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
			  int with_index, int live, size_t *n,
			  uint64_t *payload_bytes)
{
	size_t i;
	int rv;

	rv = wire_read_list(r, "entry list", 0, WIRE_BATCH_MAX,
			    with_index ? MENTRY_MIN_BYTES : ENTRY_MIN_BYTES,
			    (void **)&d->entries, &d->entries_cap,
			    sizeof(*d->entries), n);
	if (rv != 0)
		return rv;
	*payload_bytes = 0;
	r->list = "entry";
	for (i = 0; i < *n; i++) {
		r->idx = i;
		rv = decode_entry(r, &d->entries[i], with_index, live);
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
		rv = decode_entries(r, d, 0, 0, &n, &m->payload_bytes);
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
		rv = decode_entries(r, d, 1,
				    m->exchange_id == WIRE_LIVE_EXCHANGE, &n,
				    &m->payload_bytes);
	if (rv != 0)
		return rv;
	rv = wire_read_list(r, "origin list", 0, WIRE_MBATCH_ORIGINS_MAX,
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

	rv = wire_read_list(r, "member list", 0, WIRE_MEMBERS_MAX,
			    MEMBER_MIN_BYTES, (void **)&d->members,
			    &d->members_cap, sizeof(*d->members), &n);
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
	[WIRE_MBATCH] = 4, [WIRE_IHAVE] = 3, [WIRE_PRUNE] = 3,
	[WIRE_GRAFT] = 3,  [WIRE_PREPARE] = 5, [WIRE_VOTE] = 5,
	[WIRE_COMMIT] = 5, [WIRE_COMMITTED] = 2, [WIRE_ABORT] = 2,
	[WIRE_ASK] = 3,    [WIRE_ANSWER] = 6,
	[WIRE_WHY_ASK] = 4, [WIRE_WHY_ANSWER] = 15,
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
	if (items != message_items[type] &&
	    !(type == WIRE_HELLO && items == message_items[type] + 1)) {
		r.item_pos = 0;
		return wire_read_fail(&r, "head", "array of %zu items, want "
				      "%zu", items, message_items[type]);
	}
	memset(out, 0, sizeof(*out));
	out->type = (enum wire_type)type;
	switch (out->type) {
	case WIRE_HELLO:
		rv = decode_hello(&r, &out->u.hello, items);
		break;
	case WIRE_DIGEST:
	case WIRE_DONE:
	case WIRE_IHAVE:
	case WIRE_PRUNE:
	case WIRE_GRAFT:
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
	case WIRE_PREPARE:
	case WIRE_VOTE:
	case WIRE_COMMIT:
	case WIRE_COMMITTED:
	case WIRE_ABORT:
	case WIRE_ASK:
	case WIRE_ANSWER:
		rv = wire_decode_strong(&r, d, out->type, &out->u.strong);
		break;
	case WIRE_WHY_ASK:
	case WIRE_WHY_ANSWER:
		rv = wire_decode_why(&r, d, out->type, &out->u.why);
		break;
	}
	if (rv != 0)
		return rv;
	return wire_read_end(&r);
}

