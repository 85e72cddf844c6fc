/* SPDX-License-Identifier: MIT */
/*
 * wire_why: the `rumorctl why` messages WHY_ASK and WHY_ANSWER (wire.h's
 * grammar), their encoder and their strict decoder. Both enforce the same
 * rules (answer_rule), so whatever decodes re-encodes.
 */
#include <inttypes.h>
#include <string.h>

#include "wire/wire_int.h"

/* An answer's version fields: NULL when they fit together, else what is
 * wrong. value_present: a value byte string came (or is to be sent). */
static const char *answer_rule(const struct wire_why *m, int value_present)
{
	if (m->outside && m->found)
		return "a found version outside the replicate set";
	if (!m->found) {
		if (m->clock != 0 || m->origin != NULL || m->seq != 0 ||
		    m->wall_ms != 0 || m->deleted || m->value_len != 0 ||
		    m->hash != NULL || value_present)
			return "a version on an answer that found nothing";
		return NULL;
	}
	if (m->origin == NULL || m->hash == NULL)
		return "a found version without origin or hash";
	if (m->seq == 0)
		return "seq 0 (seqs start at 1)";
	if (m->value_len > WIRE_VALUE_MAX)
		return "value_len over the value limit";
	if (m->deleted && m->value_len != 0)
		return "a deletion with a value length";
	if (value_present && (m->deleted || m->value_len > WIRE_WHY_VALUE_MAX))
		return "a value carried that must not be";
	if (!value_present && !m->deleted &&
	    m->value_len <= WIRE_WHY_VALUE_MAX)
		return "a small value not carried";
	return NULL;
}

/* ------------------------------------------------------------ encoding */

static int check_why(enum wire_type type, const struct wire_why *m,
		     struct err *err)
{
	const char *why = NULL;
	size_t i;

	if (type == WIRE_WHY_ASK) {
		if (m->key == NULL || m->key_len < 1 ||
		    m->key_len > WIRE_KEY_MAX)
			why = "key length outside 1..WIRE_KEY_MAX";
		else if (m->n_origins > WIRE_WHY_ORIGINS_MAX ||
			 (m->n_origins > 0 && m->origins == NULL))
			why = "too many origins";
		for (i = 0; why == NULL && i < m->n_origins; i++)
			if (m->origins[i] == NULL)
				why = "a NULL origin";
	} else {
		why = answer_rule(m, m->value != NULL);
		if (why == NULL && (m->n_hwms > WIRE_WHY_ORIGINS_MAX ||
				    (m->n_hwms > 0 && m->hwms == NULL)))
			why = "too many hwms";
		if (why == NULL &&
		    (m->resolver == NULL || m->resolver_len < 1 ||
		     m->resolver_len > WIRE_WHY_RESOLVER_MAX ||
		     memchr(m->resolver, '\0', m->resolver_len) != NULL))
			why = "resolver name outside 1..127 bytes or with a NUL";
	}
	if (why != NULL)
		return err_set(err, RUMOR_EINVAL, "wire: %s: %s",
			       wire_type_name((int)type), why);
	return 0;
}

int wire_encode_why(struct wire_buf *out, enum wire_type type,
		    const struct wire_why *m, struct err *err)
{
	size_t i, need;
	int rv;

	if (type != WIRE_WHY_ASK && type != WIRE_WHY_ANSWER)
		return err_set(err, RUMOR_EINVAL, "wire: type %d is not a "
			       "why message", (int)type);
	rv = check_why(type, m, err);
	if (rv != 0)
		return rv;
	if (type == WIRE_WHY_ASK) {
		need = 4 * WIRE_HEAD_MAX + m->key_len +
			m->n_origins * (2 + WIRE_ORIGIN_BYTES);
		rv = wire_reserve(out, need, err);
		if (rv != 0)
			return rv;
		wire_put_array(out, 4);
		wire_put_uint(out, type);
		wire_put_uint(out, m->id);
		wire_put_bytes(out, m->key, m->key_len);
		wire_put_array(out, m->n_origins);
		for (i = 0; i < m->n_origins; i++)
			wire_put_bytes(out, m->origins[i], WIRE_ORIGIN_BYTES);
		return 0;
	}
	need = 15 * WIRE_HEAD_MAX + WIRE_ORIGIN_BYTES + WIRE_WHY_HASH_BYTES +
		m->resolver_len + m->n_hwms * WIRE_HEAD_MAX +
		(m->value != NULL ? m->value_len : 0);
	rv = wire_reserve(out, need, err);
	if (rv != 0)
		return rv;
	wire_put_array(out, 15);
	wire_put_uint(out, type);
	wire_put_uint(out, m->id);
	wire_put_uint(out, m->found ? 1 : 0);
	wire_put_uint(out, m->clock);
	wire_put_bytes(out, m->origin, m->origin ? WIRE_ORIGIN_BYTES : 0);
	wire_put_uint(out, m->seq);
	wire_put_uint(out, m->wall_ms);
	wire_put_uint(out, (m->deleted ? WIRE_ENTRY_DELETED : 0) |
		      (m->outside ? WIRE_WHY_OUTSIDE : 0));
	wire_put_uint(out, m->value_len);
	wire_put_bytes(out, m->hash, m->hash ? WIRE_WHY_HASH_BYTES : 0);
	wire_put_uint(out, m->symmetry_violations);
	wire_put_text(out, m->resolver, m->resolver_len);
	wire_put_array(out, m->n_hwms);
	for (i = 0; i < m->n_hwms; i++)
		wire_put_uint(out, m->hwms[i]);
	if (m->value != NULL)
		wire_put_bytes(out, m->value, (size_t)m->value_len);
	else
		wire_put_null(out);
	return 0;
}

/* ------------------------------------------------------------ decoding */

static int decode_ask(struct wire_reader *r, struct wire_decoder *d,
		      struct wire_why *m)
{
	const uint8_t *p;
	size_t i, n, len;
	int rv;

	rv = wire_read_bytes(r, "key", 1, WIRE_KEY_MAX, &m->key,
			     &m->key_len);
	if (rv == 0)
		rv = wire_read_list(r, "origin list", 0, WIRE_WHY_ORIGINS_MAX,
				    2 + WIRE_ORIGIN_BYTES,
				    (void **)&d->origins, &d->origins_cap,
				    sizeof(*d->origins), &n);
	if (rv != 0)
		return rv;
	r->list = "origin";
	for (i = 0; i < n; i++) {
		r->idx = i;
		rv = wire_read_bytes(r, "origin", WIRE_ORIGIN_BYTES,
				     WIRE_ORIGIN_BYTES, &p, &len);
		if (rv != 0)
			return rv;
		d->origins[i] = p;
	}
	r->list = NULL;
	m->origins = n > 0 ? d->origins : NULL;
	m->n_origins = n;
	return 0;
}

/* A byte string of exactly want bytes, or an empty one (*p NULL). */
static int read_fixed_or_empty(struct wire_reader *r, const char *field,
			       size_t want, const uint8_t **p)
{
	size_t len;
	int rv = wire_read_bytes(r, field, 0, want, p, &len);

	if (rv != 0)
		return rv;
	if (len == 0)
		*p = NULL;
	else if (len != want)
		return wire_read_fail(r, field, "%zu bytes, want %zu or 0",
				      len, want);
	return 0;
}

static int decode_answer(struct wire_reader *r, struct wire_decoder *d,
			 struct wire_why *m)
{
	const char *why;
	uint64_t flags;
	size_t i, n, len, at;
	int rv;

	rv = wire_read_small(r, "found", 1, &m->found);
	if (rv == 0)
		rv = wire_read_uint(r, "clock", UINT64_MAX, &m->clock);
	if (rv == 0)
		rv = read_fixed_or_empty(r, "origin", WIRE_ORIGIN_BYTES,
					 &m->origin);
	if (rv == 0)
		rv = wire_read_uint(r, "seq", UINT64_MAX, &m->seq);
	if (rv == 0)
		rv = wire_read_uint(r, "wall_ms", UINT64_MAX, &m->wall_ms);
	if (rv == 0)
		rv = wire_read_uint(r, "flags", UINT64_MAX, &flags);
	if (rv == 0 && (flags & ~(uint64_t)(WIRE_ENTRY_DELETED |
					    WIRE_WHY_OUTSIDE)) != 0)
		return wire_read_fail(r, "flags", "unknown flags 0x%" PRIx64,
				      flags);
	if (rv == 0)
		rv = wire_read_uint(r, "value_len", WIRE_VALUE_MAX,
				    &m->value_len);
	if (rv == 0)
		rv = read_fixed_or_empty(r, "hash", WIRE_WHY_HASH_BYTES,
					 &m->hash);
	if (rv == 0)
		rv = wire_read_uint(r, "symmetry_violations", UINT64_MAX,
				    &m->symmetry_violations);
	if (rv == 0)
		rv = wire_read_text(r, "resolver", 1, WIRE_WHY_RESOLVER_MAX,
				    &m->resolver, &m->resolver_len);
	if (rv == 0)
		rv = wire_read_list(r, "hwm list", 0, WIRE_WHY_ORIGINS_MAX, 1,
				    (void **)&d->clocks, &d->clocks_cap,
				    sizeof(*d->clocks), &n);
	if (rv != 0)
		return rv;
	m->deleted = (flags & WIRE_ENTRY_DELETED) != 0;
	m->outside = (flags & WIRE_WHY_OUTSIDE) != 0;
	r->list = "hwm";
	for (i = 0; i < n; i++) {
		r->idx = i;
		rv = wire_read_uint(r, "hwm", UINT64_MAX, &d->clocks[i]);
		if (rv != 0)
			return rv;
	}
	r->list = NULL;
	m->hwms = n > 0 ? d->clocks : NULL;
	m->n_hwms = n;
	at = r->pos;
	rv = wire_read_bytes_or_null(r, "value", 0, WIRE_VALUE_MAX, &m->value,
				     &len);
	if (rv != 0)
		return rv;
	r->item_pos = at;
	if (m->value != NULL && len != m->value_len)
		return wire_read_fail(r, "value", "%zu bytes, value_len says "
				      "%" PRIu64, len, m->value_len);
	why = answer_rule(m, m->value != NULL);
	if (why != NULL)
		return wire_read_fail(r, "value", "%s", why);
	return 0;
}

int wire_decode_why(struct wire_reader *r, struct wire_decoder *d,
		    enum wire_type type, struct wire_why *m)
{
	int rv = wire_read_uint(r, "id", UINT64_MAX, &m->id);

	if (rv != 0)
		return rv;
	if (type == WIRE_WHY_ASK)
		return decode_ask(r, d, m);
	return decode_answer(r, d, m);
}
