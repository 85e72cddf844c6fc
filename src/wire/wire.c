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

#include "wire/wire_int.h"

/* ------------------------------------------------------------ names */

static const char *const type_names[] = {
	[WIRE_HELLO] = "HELLO",   [WIRE_DIGEST] = "DIGEST",
	[WIRE_BATCH] = "BATCH",   [WIRE_ACK] = "ACK",
	[WIRE_DONE] = "DONE",     [WIRE_MEMBERS] = "MEMBERS",
	[WIRE_PING] = "PING",     [WIRE_PONG] = "PONG",
	[WIRE_BYE] = "BYE",       [WIRE_MBATCH] = "MBATCH",
	[WIRE_IHAVE] = "IHAVE",   [WIRE_PRUNE] = "PRUNE",
	[WIRE_GRAFT] = "GRAFT",   [WIRE_PREPARE] = "PREPARE",
	[WIRE_VOTE] = "VOTE",     [WIRE_COMMIT] = "COMMIT",
	[WIRE_COMMITTED] = "COMMITTED", [WIRE_ABORT] = "ABORT",
	[WIRE_ASK] = "ASK",       [WIRE_ANSWER] = "ANSWER",
	[WIRE_WHY_ASK] = "WHY_ASK", [WIRE_WHY_ANSWER] = "WHY_ANSWER",
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
int wire_reserve(struct wire_buf *out, size_t extra, struct err *err)
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
	if (m->replicate != NULL &&
	    (m->replicate_len < 1 ||
	     m->replicate_len > WIRE_HELLO_REPLICATE_MAX))
		return err_set(err, RUMOR_EINVAL,
			       "wire: HELLO replicate set of %zu bytes, want "
			       "1..%u", m->replicate_len,
			       WIRE_HELLO_REPLICATE_MAX);
	rv = wire_reserve(out, 7 * WIRE_HEAD_MAX +
			  (m->replicate != NULL ? m->replicate_len : 0), err);
	if (rv != 0)
		return rv;
	/* A full node's HELLO keeps its six items (wire.h, 6). */
	wire_put_array(out, m->replicate != NULL ? 7 : 6);
	wire_put_uint(out, WIRE_HELLO);
	wire_put_uint(out, m->proto_version);
	wire_put_uint(out, m->listen_port);
	wire_put_uint(out, (uint64_t)m->mode);
	wire_put_uint(out, m->wall_ms);
	wire_put_uint(out, m->flags);
	if (m->replicate != NULL)
		wire_put_bytes(out, m->replicate, m->replicate_len);
	return 0;
}

/* DIGEST, DONE, IHAVE, PRUNE and GRAFT share their shape. */
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
	rv = wire_reserve(out, 4 * WIRE_HEAD_MAX +
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

int wire_encode_lazy(struct wire_buf *out, enum wire_type type,
		     const struct wire_hwm *hwms, size_t n, struct err *err)
{
	if (type != WIRE_IHAVE && type != WIRE_PRUNE && type != WIRE_GRAFT)
		return err_set(err, RUMOR_EINVAL, "wire: type %d is not "
			       "IHAVE, PRUNE or GRAFT", (int)type);
	return encode_hwms(out, type, WIRE_LIVE_EXCHANGE, hwms, n, err);
}

/* ACK, PING, PONG, BYE: [type, a] or [type, a, b]. */
static int encode_small(struct wire_buf *out, enum wire_type type,
			size_t items, uint64_t a, uint64_t b, struct err *err)
{
	int rv;

	assert(items == 2 || items == 3);
	rv = wire_reserve(out, 3 * WIRE_HEAD_MAX, err);
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
	rv = wire_reserve(out, need, err);
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
	case WIRE_IHAVE:
	case WIRE_PRUNE:
	case WIRE_GRAFT:
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
		return wire_encode_mbatch_msg(out, &m->u.mbatch, err);
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
	case WIRE_PREPARE:
	case WIRE_VOTE:
	case WIRE_COMMIT:
	case WIRE_COMMITTED:
	case WIRE_ABORT:
	case WIRE_ASK:
	case WIRE_ANSWER:
		return wire_encode_strong(out, m->type, &m->u.strong, err);
	case WIRE_WHY_ASK:
	case WIRE_WHY_ANSWER:
		return wire_encode_why(out, m->type, &m->u.why, err);
	}
	return err_set(err, RUMOR_EINVAL, "wire: message type %d unknown",
		       (int)m->type);
}

