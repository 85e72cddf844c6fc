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
