/* SPDX-License-Identifier: MIT */
/* store format: the on-disk encodings (layout and contracts in format.h). */
#include "store/format.h"
#include "lib/endian.h"

#include <string.h>

void format_meta_encode(uint8_t out[META_HEAD_BYTES], const struct meta *m)
{
	out[0] = META_FORMAT;
	out[1] = m->deleted ? FLAG_DELETED : 0;
	endian_put_be64(out + 2, m->clock);
	endian_put_be64(out + 10, m->seq);
	endian_put_be64(out + 18, m->wall_ms);
	memcpy(out + 26, m->origin, STORE_ORIGIN_BYTES);
	endian_put_be64(out + 26 + STORE_ORIGIN_BYTES, m->pos);
}

/* The decoder of both formats: head is the head's size of format fmt. */
static int meta_decode(const void *buf, size_t len, struct meta *m,
		       uint8_t fmt, size_t head)
{
	const uint8_t *p = buf;

	if (len < head || len - head > RUMOR_VALUE_MAX ||
	    p[0] != fmt || (p[1] & ~FLAGS_KNOWN) != 0)
		return -1;
	m->deleted = (p[1] & FLAG_DELETED) != 0;
	m->clock = endian_get_be64(p + 2);
	m->seq = endian_get_be64(p + 10);
	m->wall_ms = endian_get_be64(p + 18);
	memcpy(m->origin, p + 26, STORE_ORIGIN_BYTES);
	m->pos = head == META_HEAD_BYTES ?
		 endian_get_be64(p + 26 + STORE_ORIGIN_BYTES) : 0;
	if (m->clock == 0 || m->seq == 0 ||
	    (head == META_HEAD_BYTES && m->pos == 0))
		return -1;
	if (m->deleted) {
		if (len != head)
			return -1;
		m->value = NULL;
		m->value_len = 0;
	} else {
		m->value = (const char *)p + head;
		m->value_len = len - head;
	}
	return 0;
}

int format_meta_decode(const void *buf, size_t len, struct meta *m)
{
	return meta_decode(buf, len, m, META_FORMAT, META_HEAD_BYTES);
}

int format_meta2_decode(const void *buf, size_t len, struct meta *m)
{
	return meta_decode(buf, len, m, META2_FORMAT, META2_HEAD_BYTES);
}

void format_feed_key(char out[FEED_KEY_BYTES], uint64_t pos)
{
	out[0] = PFX_FEED;
	endian_put_be64((uint8_t *)out + 1, pos);
}

int format_feed_key_decode(const void *k, size_t klen, uint64_t *pos)
{
	const uint8_t *p = k;

	if (klen != FEED_KEY_BYTES || p[0] != PFX_FEED)
		return -1;
	*pos = endian_get_be64(p + 1);
	return *pos == 0 ? -1 : 0;
}

size_t format_log_encode(char *out, uint64_t clock, uint64_t wall_ms,
			 int deleted, const void *key, size_t key_len)
{
	uint8_t *p = (uint8_t *)out;

	p[0] = LOG_FORMAT;
	p[1] = deleted ? FLAG_DELETED : 0;
	endian_put_be64(p + 2, clock);
	endian_put_be64(p + 10, wall_ms);
	memcpy(p + LOG_HEAD_BYTES, key, key_len);
	return LOG_HEAD_BYTES + key_len;
}

int format_log_decode(const void *buf, size_t len, struct log_value *lv)
{
	const uint8_t *p = buf;

	if (len < LOG_HEAD_BYTES + 1 || len > LOG_HEAD_BYTES + RUMOR_KEY_MAX ||
	    p[0] != LOG_FORMAT || (p[1] & ~FLAGS_KNOWN) != 0)
		return -1;
	lv->deleted = (p[1] & FLAG_DELETED) != 0;
	lv->clock = endian_get_be64(p + 2);
	lv->wall_ms = endian_get_be64(p + 10);
	lv->key = p + LOG_HEAD_BYTES;
	lv->key_len = len - LOG_HEAD_BYTES;
	return lv->clock == 0 ? -1 : 0;
}

void format_log_key(char out[LOG_KEY_BYTES], const uint8_t *origin,
		    uint64_t seq)
{
	out[0] = PFX_LOG;
	memcpy(out + 1, origin, STORE_ORIGIN_BYTES);
	endian_put_be64((uint8_t *)out + 1 + STORE_ORIGIN_BYTES, seq);
}

int format_log_key_decode(const void *k, size_t klen, const uint8_t **origin,
			  uint64_t *seq)
{
	const uint8_t *p = k;

	if (klen != LOG_KEY_BYTES || p[0] != PFX_LOG)
		return -1;
	*origin = p + 1;
	*seq = endian_get_be64(p + 1 + STORE_ORIGIN_BYTES);
	return *seq == 0 ? -1 : 0;
}

void format_hwm_key(char out[HWM_KEY_BYTES], const uint8_t *origin)
{
	out[0] = PFX_HWM;
	memcpy(out + 1, origin, STORE_ORIGIN_BYTES);
}

int format_hwm_decode(const void *k, size_t klen, const void *v, size_t vlen,
		      const uint8_t **origin, uint64_t *seq)
{
	const uint8_t *p = k;

	if (klen != HWM_KEY_BYTES || p[0] != PFX_HWM)
		return -1;
	if (format_u64_decode(v, vlen, seq) != 0)
		return -1;
	*origin = p + 1;
	return 0;
}

void format_u64_encode(uint8_t out[8], uint64_t v)
{
	endian_put_be64(out, v);
}

int format_u64_decode(const void *v, size_t vlen, uint64_t *out)
{
	if (vlen != 8)
		return -1;
	*out = endian_get_be64(v);
	return 0;
}

void format_schema_encode(uint8_t out[SCHEMA_VALUE_BYTES], uint32_t schema)
{
	endian_put_be32(out, schema);
}

int format_schema_decode(const void *v, size_t vlen, uint32_t *schema)
{
	if (vlen != SCHEMA_VALUE_BYTES)
		return -1;
	*schema = endian_get_be32(v);
	return 0;
}

const char *format_key_hex(const void *key, size_t len, char out[41])
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = key;
	size_t i, n = len < 20 ? len : 20;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

/* ------------------------------------------------------------ intents */

void format_intent_key(char out[INTENT_KEY_BYTES], const uint8_t *txid)
{
	out[0] = PFX_INTENT;
	memcpy(out + 1, txid, STORE_TXID_BYTES);
}

void format_outcome_key(char out[OUTCOME_KEY_BYTES], uint64_t n)
{
	out[0] = PFX_OUTCOME;
	endian_put_be64((uint8_t *)out + 1, n);
}

int format_outcome_key_decode(const void *k, size_t klen, uint64_t *n)
{
	const uint8_t *p = k;

	if (klen != OUTCOME_KEY_BYTES || p[0] != PFX_OUTCOME)
		return -1;
	*n = endian_get_be64(p + 1);
	return 0;
}

size_t format_intent_size(const struct store_intent *in)
{
	size_t i, size = INTENT_HEAD_BYTES +
			 in->n_participants * STORE_ORIGIN_BYTES;

	for (i = 0; i < in->n_ops; i++)
		size += INTENT_OP_HEAD_BYTES + in->ops[i].key_len +
			(in->ops[i].del ? 0 : in->ops[i].value_len);
	return size;
}

size_t format_intent_encode(uint8_t *out, const struct store_intent *in)
{
	const struct store_intent_op *op;
	uint8_t *p = out;
	size_t i, vlen;

	*p++ = INTENT_FORMAT;
	memcpy(p, in->coordinator, STORE_ORIGIN_BYTES);
	p += STORE_ORIGIN_BYTES;
	endian_put_be64(p, in->deadline_ms);
	endian_put_be32(p + 8, (uint32_t)in->n_participants);
	endian_put_be32(p + 12, (uint32_t)in->n_ops);
	p += 16;
	if (in->n_participants > 0)
		memcpy(p, in->participants,
		       in->n_participants * STORE_ORIGIN_BYTES);
	p += in->n_participants * STORE_ORIGIN_BYTES;
	for (i = 0; i < in->n_ops; i++) {
		op = &in->ops[i];
		vlen = op->del ? 0 : op->value_len;
		endian_put_be32(p, op->index);
		p[4] = op->del ? FLAG_DELETED : 0;
		endian_put_be32(p + 5, (uint32_t)op->key_len);
		p += 9;
		memcpy(p, op->key, op->key_len);
		p += op->key_len;
		endian_put_be32(p, (uint32_t)vlen);
		p += 4;
		if (vlen > 0)
			memcpy(p, op->value, vlen);
		p += vlen;
	}
	return (size_t)(p - out);
}

int format_intent_op(const void *buf, size_t len, size_t *pos,
		     struct store_intent_op *op)
{
	const uint8_t *p = buf;
	size_t at = *pos, klen, vlen;

	if (at > len || len - at < 9)
		return -1;
	op->index = endian_get_be32(p + at);
	if ((p[at + 4] & ~FLAGS_KNOWN) != 0)
		return -1;
	op->del = (p[at + 4] & FLAG_DELETED) != 0;
	klen = endian_get_be32(p + at + 5);
	at += 9;
	if (klen == 0 || klen > RUMOR_KEY_MAX || len - at < klen + 4)
		return -1;
	op->key = p + at;
	op->key_len = klen;
	at += klen;
	vlen = endian_get_be32(p + at);
	at += 4;
	if (vlen > RUMOR_VALUE_MAX || len - at < vlen || (op->del && vlen > 0))
		return -1;
	op->value = op->del ? NULL : (const void *)(p + at);
	op->value_len = vlen;
	*pos = at + vlen;
	return 0;
}

int format_intent_decode(const void *buf, size_t len, struct store_intent *in)
{
	const uint8_t *p = buf;
	struct store_intent_op op;
	size_t i, pos, n_ops;

	if (len < INTENT_HEAD_BYTES || p[0] != INTENT_FORMAT)
		return -1;
	memcpy(in->coordinator, p + 1, STORE_ORIGIN_BYTES);
	p += 1 + STORE_ORIGIN_BYTES;
	in->deadline_ms = endian_get_be64(p);
	in->n_participants = endian_get_be32(p + 8);
	n_ops = endian_get_be32(p + 12);
	if (in->n_participants == 0 ||
	    in->n_participants > STORE_INTENT_PARTICIPANTS_MAX ||
	    n_ops > STORE_WRITE_BATCH_MAX ||
	    len - INTENT_HEAD_BYTES < in->n_participants * STORE_ORIGIN_BYTES)
		return -1;
	in->participants = (const uint8_t *)buf + INTENT_HEAD_BYTES;
	in->ops = NULL;
	in->n_ops = n_ops;
	pos = INTENT_HEAD_BYTES + in->n_participants * STORE_ORIGIN_BYTES;
	for (i = 0; i < n_ops; i++)
		if (format_intent_op(buf, len, &pos, &op) != 0)
			return -1;
	return pos == len ? 0 : -1;
}

size_t format_outcome_encode(uint8_t *out, const uint8_t *txid,
			     const struct store_tx_outcome *oc)
{
	size_t i;

	out[0] = OUTCOME_FORMAT;
	memcpy(out + 1, txid, STORE_TXID_BYTES);
	out[1 + STORE_TXID_BYTES] = (uint8_t)oc->state;
	endian_put_be64(out + 2 + STORE_TXID_BYTES, oc->first_seq);
	endian_put_be64(out + 10 + STORE_TXID_BYTES, oc->wall_ms);
	endian_put_be32(out + 18 + STORE_TXID_BYTES, (uint32_t)oc->n_clocks);
	for (i = 0; i < oc->n_clocks; i++)
		endian_put_be64(out + OUTCOME_HEAD_BYTES + 8 * i,
				oc->clocks[i]);
	return OUTCOME_HEAD_BYTES + 8 * oc->n_clocks;
}

int format_outcome_decode(const void *buf, size_t len, const uint8_t **txid,
			  struct store_tx_outcome *oc)
{
	const uint8_t *p = buf;

	if (len < OUTCOME_HEAD_BYTES || p[0] != OUTCOME_FORMAT)
		return -1;
	*txid = p + 1;
	oc->state = p[1 + STORE_TXID_BYTES];
	oc->first_seq = endian_get_be64(p + 2 + STORE_TXID_BYTES);
	oc->wall_ms = endian_get_be64(p + 10 + STORE_TXID_BYTES);
	oc->n_clocks = endian_get_be32(p + 18 + STORE_TXID_BYTES);
	oc->clocks = NULL;
	if (oc->n_clocks > STORE_WRITE_BATCH_MAX ||
	    (len - OUTCOME_HEAD_BYTES) != 8 * oc->n_clocks)
		return -1;
	if (oc->state == STORE_TX_ABORTED)
		return oc->n_clocks == 0 && oc->first_seq == 0 ? 0 : -1;
	if (oc->state != STORE_TX_COMMITTED)
		return -1;
	return oc->n_clocks > 0 && oc->first_seq > 0 ? 0 : -1;
}

uint64_t format_outcome_clock(const void *buf, size_t i)
{
	return endian_get_be64((const uint8_t *)buf + OUTCOME_HEAD_BYTES +
			       8 * i);
}
