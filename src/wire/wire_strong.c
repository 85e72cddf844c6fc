/* SPDX-License-Identifier: MIT */
/*
 * wire_strong: the strong-write messages PREPARE .. ANSWER (wire.h's
 * grammar), their encoder and their strict decoder. Encoder and decoder
 * enforce the same rules, so whatever decodes re-encodes.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_int.h"

/* Any one maximal put fits a PREPARE with the most participants. */
_Static_assert(WIRE_PREPARE_HEAD_MAX +
	       WIRE_STRONG_PARTICIPANTS_MAX * WIRE_PARTICIPANT_BYTES +
	       WIRE_OP_OVERHEAD_MAX + WIRE_KEY_MAX + WIRE_VALUE_MAX <=
	       WIRE_PREPARE_MAX, "a maximal put must fit a PREPARE");

/* ------------------------------------------------------------ rules
 * shared by the encoder (which returns RUMOR_EINVAL) and the decoder
 * (RUMOR_EPROTO): each returns NULL when fine, else what is wrong. */

/* The clock list of a type, with n clocks (and yes / state). */
static const char *clocks_rule(enum wire_type type, int yes, uint64_t state,
			       size_t n)
{
	int want = 0;

	if (n > WIRE_STRONG_OPS_MAX)
		return "more clocks than ops allowed";
	if (type == WIRE_COMMIT || (type == WIRE_VOTE && yes) ||
	    (type == WIRE_ANSWER && state == WIRE_TX_COMMITTED))
		want = 1;
	if (want && n == 0)
		return type == WIRE_VOTE ? "a yes vote without clocks" :
			"a committed version without clocks";
	if (!want && n > 0)
		return type == WIRE_VOTE ? "a no vote with clocks" :
			"clocks on an answer that is not committed";
	return NULL;
}

/* A committed version's seqs first_seq .. first_seq + n - 1 (n >= 1). */
static const char *seq_rule(uint64_t first_seq, size_t n)
{
	if (first_seq == 0)
		return "first_seq 0 (seqs start at 1)";
	if (n > 0 && UINT64_MAX - first_seq < (uint64_t)(n - 1))
		return "seqs run past UINT64_MAX";
	return NULL;
}

static const char *vote_rule(int yes, uint64_t reason)
{
	if (yes && reason != WIRE_REFUSE_NONE)
		return "a yes vote with a refusal reason";
	if (!yes && reason == WIRE_REFUSE_NONE)
		return "a no vote without a reason";
	return NULL;
}

static int participant_cmp(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b,
		      WIRE_NODE_ID_BYTES);
}

/* ------------------------------------------------------------ encoding */

size_t wire_prepare_size(const struct wire_strong *m)
{
	size_t i, n = 1 + 1 + 1 + WIRE_TXID_BYTES;
	const struct wire_op *op;

	n += wire_head_size(m->ttl_ms);
	n += wire_head_size(m->n_participants) +
		m->n_participants * WIRE_PARTICIPANT_BYTES;
	n += wire_head_size(m->n_ops);
	for (i = 0; i < m->n_ops; i++) {
		op = &m->ops[i];
		n += 1 + 1 + wire_head_size(op->key_len) + op->key_len +
			(op->deleted ? 1 : wire_head_size(op->value_len) +
			 op->value_len);
	}
	return n;
}

/* Participants 1..max, no repeats. The encoder's callers are local and
 * few, so pairwise comparison is fine here (the decoder sorts). */
static int check_participants(const struct wire_strong *m, struct err *err)
{
	size_t i, j;
	const uint8_t *p = m->participants;

	if (m->n_participants < 1 ||
	    m->n_participants > WIRE_STRONG_PARTICIPANTS_MAX || p == NULL)
		return err_set(err, RUMOR_EINVAL, "wire: PREPARE of %zu "
			       "participants, want 1..%u", m->n_participants,
			       WIRE_STRONG_PARTICIPANTS_MAX);
	for (i = 1; i < m->n_participants; i++)
		for (j = 0; j < i; j++)
			if (memcmp(p + i * WIRE_NODE_ID_BYTES,
				   p + j * WIRE_NODE_ID_BYTES,
				   WIRE_NODE_ID_BYTES) == 0)
				return err_set(err, RUMOR_EINVAL, "wire: "
					       "PREPARE participant %zu "
					       "repeats %zu", i, j);
	return 0;
}

static int check_prepare(const struct wire_strong *m, struct err *err)
{
	const struct wire_op *op;
	size_t i, size;
	int rv;

	rv = check_participants(m, err);
	if (rv != 0)
		return rv;
	if (m->n_ops < 1 || m->n_ops > WIRE_STRONG_OPS_MAX || m->ops == NULL)
		return err_set(err, RUMOR_EINVAL, "wire: PREPARE of %zu ops, "
			       "want 1..%u", m->n_ops, WIRE_STRONG_OPS_MAX);
	for (i = 0; i < m->n_ops; i++) {
		op = &m->ops[i];
		if (op->key == NULL || op->key_len < 1 ||
		    op->key_len > WIRE_KEY_MAX)
			return err_set(err, RUMOR_EINVAL, "wire: PREPARE op "
				       "%zu key of %zu bytes, want 1..%u", i,
				       op->key_len, WIRE_KEY_MAX);
		if (op->deleted && (op->value != NULL || op->value_len != 0))
			return err_set(err, RUMOR_EINVAL, "wire: PREPARE op "
				       "%zu is deleted and has a value", i);
		if (op->value_len > WIRE_VALUE_MAX ||
		    (op->value == NULL && op->value_len > 0))
			return err_set(err, RUMOR_EINVAL, "wire: PREPARE op "
				       "%zu value of %zu bytes, want 0..%u", i,
				       op->value_len, WIRE_VALUE_MAX);
	}
	size = wire_prepare_size(m);
	if (size > WIRE_PREPARE_MAX)
		return err_set(err, RUMOR_ETOOBIG, "wire: PREPARE of %zu "
			       "bytes exceeds a frame (%u)", size,
			       WIRE_PREPARE_MAX);
	return 0;
}

/* Everything but PREPARE's lists: RUMOR_EINVAL with what is wrong. */
static int check_strong(enum wire_type type, const struct wire_strong *m,
			struct err *err)
{
	const char *why = NULL;
	const char *name = wire_type_name((int)type);
	size_t i;

	if (m->txid == NULL)
		return err_set(err, RUMOR_EINVAL, "wire: %s without a txid",
			       name);
	if (type == WIRE_PREPARE)
		return check_prepare(m, err);
	if (type == WIRE_ASK && m->coordinator == NULL)
		return err_set(err, RUMOR_EINVAL, "wire: ASK without a "
			       "coordinator");
	if (type == WIRE_VOTE && m->yes != 0 && m->yes != 1)
		return err_set(err, RUMOR_EINVAL, "wire: VOTE yes is %d, "
			       "want 0 or 1", m->yes);
	if (type == WIRE_ANSWER && m->state > WIRE_TX_ABORTED)
		return err_set(err, RUMOR_EINVAL, "wire: ANSWER state %" PRIu64
			       " unknown", m->state);
	if (type == WIRE_VOTE)
		why = vote_rule(m->yes, m->reason);
	if (why == NULL && (type == WIRE_VOTE || type == WIRE_COMMIT ||
			    type == WIRE_ANSWER))
		why = clocks_rule(type, m->yes, m->state, m->n_clocks);
	if (why == NULL && m->n_clocks > 0 && m->clocks == NULL)
		why = "no clock array";
	if (why == NULL && (type == WIRE_COMMIT || m->n_clocks > 0) &&
	    type != WIRE_VOTE) {
		why = seq_rule(m->first_seq, m->n_clocks);
		for (i = 0; why == NULL && i < m->n_clocks; i++)
			if (m->clocks[i] == 0)
				why = "a committed clock 0";
	}
	if (why == NULL && type == WIRE_ANSWER && m->n_clocks == 0 &&
	    (m->first_seq != 0 || m->wall_ms != 0))
		why = "a version on an answer that is not committed";
	if (why != NULL)
		return err_set(err, RUMOR_EINVAL, "wire: %s: %s", name, why);
	return 0;
}

static void put_clocks(struct wire_buf *out, const struct wire_strong *m)
{
	size_t i;

	wire_put_array(out, m->n_clocks);
	for (i = 0; i < m->n_clocks; i++)
		wire_put_uint(out, m->clocks[i]);
}

static void put_prepare(struct wire_buf *out, const struct wire_strong *m)
{
	const struct wire_op *op;
	size_t i;

	wire_put_uint(out, m->ttl_ms);
	wire_put_array(out, m->n_participants);
	for (i = 0; i < m->n_participants; i++)
		wire_put_bytes(out, m->participants + i * WIRE_NODE_ID_BYTES,
			       WIRE_NODE_ID_BYTES);
	wire_put_array(out, m->n_ops);
	for (i = 0; i < m->n_ops; i++) {
		op = &m->ops[i];
		wire_put_array(out, 3);
		wire_put_uint(out, op->deleted ? WIRE_ENTRY_DELETED : 0);
		wire_put_bytes(out, op->key, op->key_len);
		if (op->deleted)
			wire_put_null(out);
		else
			wire_put_bytes(out, op->value, op->value_len);
	}
}

int wire_encode_strong(struct wire_buf *out, enum wire_type type,
		       const struct wire_strong *m, struct err *err)
{
	size_t need;
	int rv;

	if (type < WIRE_PREPARE || type > WIRE_ANSWER)
		return err_set(err, RUMOR_EINVAL, "wire: type %d is not a "
			       "strong message", (int)type);
	rv = check_strong(type, m, err);
	if (rv != 0)
		return rv;
	/* A clock list costs at most 9 bytes a clock. */
	need = type == WIRE_PREPARE ? wire_prepare_size(m) :
		6 * WIRE_HEAD_MAX + 1 + WIRE_TXID_BYTES + 2 +
		WIRE_NODE_ID_BYTES + m->n_clocks * WIRE_HEAD_MAX;
	rv = wire_reserve(out, need, err);
	if (rv != 0)
		return rv;
	switch (type) {
	case WIRE_PREPARE:
	case WIRE_VOTE:
	case WIRE_COMMIT:
		wire_put_array(out, 5);
		break;
	case WIRE_COMMITTED:
	case WIRE_ABORT:
		wire_put_array(out, 2);
		break;
	case WIRE_ASK:
		wire_put_array(out, 3);
		break;
	default:
		wire_put_array(out, 6);
		break;
	}
	wire_put_uint(out, type);
	wire_put_bytes(out, m->txid, WIRE_TXID_BYTES);
	switch (type) {
	case WIRE_PREPARE:
		put_prepare(out, m);
		break;
	case WIRE_VOTE:
		wire_put_uint(out, (uint64_t)m->yes);
		wire_put_uint(out, m->reason);
		put_clocks(out, m);
		break;
	case WIRE_ASK:
		wire_put_bytes(out, m->coordinator, WIRE_NODE_ID_BYTES);
		break;
	case WIRE_ANSWER:
	case WIRE_COMMIT:
		/* ANSWER: the state, then COMMIT's version fields */
		if (type == WIRE_ANSWER)
			wire_put_uint(out, m->state);
		wire_put_uint(out, m->first_seq);
		wire_put_uint(out, m->wall_ms);
		put_clocks(out, m);
		break;
	default:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------ decoding */

/* Smallest encodings, for wire_read_list(): a participant; an op
 * [flags, key of 1 byte, null]; a clock. */
#define OP_MIN_BYTES (1 + 1 + 2 + 1)
#define CLOCK_MIN_BYTES 1

static int decode_participants(struct wire_reader *r, struct wire_decoder *d,
			       struct wire_strong *m)
{
	const uint8_t *p;
	size_t i, n, len, a, b, at = r->pos;
	void *mem;
	int rv;

	rv = wire_read_list(r, "participant list", 1,
			    WIRE_STRONG_PARTICIPANTS_MAX,
			    WIRE_PARTICIPANT_BYTES, (void **)&d->sorted,
			    &d->sorted_cap, sizeof(*d->sorted), &n);
	if (rv != 0)
		return rv;
	if (n > d->participants_cap) {
		mem = realloc(d->participants, n * WIRE_NODE_ID_BYTES);
		if (mem == NULL)
			return err_set(r->err, RUMOR_ENOMEM, "wire: cannot "
				       "allocate %zu participants", n);
		d->participants = mem;
		d->participants_cap = n;
	}
	r->list = "participant";
	for (i = 0; i < n; i++) {
		r->idx = i;
		rv = wire_read_bytes(r, "node_id", WIRE_NODE_ID_BYTES,
				     WIRE_NODE_ID_BYTES, &p, &len);
		if (rv != 0)
			return rv;
		memcpy(d->participants + i * WIRE_NODE_ID_BYTES, p,
		       WIRE_NODE_ID_BYTES);
		d->sorted[i] = d->participants + i * WIRE_NODE_ID_BYTES;
	}
	r->list = NULL;
	/* Sorted, repeats are neighbours: n log n, whatever a peer sends. */
	qsort(d->sorted, n, sizeof(*d->sorted), participant_cmp);
	for (i = 1; i < n; i++) {
		if (memcmp(d->sorted[i - 1], d->sorted[i],
			   WIRE_NODE_ID_BYTES) != 0)
			continue;
		a = (size_t)(d->sorted[i - 1] - d->participants) /
			WIRE_NODE_ID_BYTES;
		b = (size_t)(d->sorted[i] - d->participants) /
			WIRE_NODE_ID_BYTES;
		r->item_pos = at;       /* the error is the list's */
		return wire_read_fail(r, "participant list", "participant "
				      "%zu repeats %zu", a > b ? a : b,
				      a > b ? b : a);
	}
	m->participants = d->participants;
	m->n_participants = n;
	return 0;
}

static int decode_op(struct wire_reader *r, struct wire_op *op)
{
	uint64_t flags;
	size_t n;
	int rv;

	rv = wire_read_array(r, "fields", 3, 3, 0, &n);
	if (rv == 0)
		rv = wire_read_uint(r, "flags", UINT64_MAX, &flags);
	if (rv != 0)
		return rv;
	if (flags & ~(uint64_t)WIRE_ENTRY_DELETED)
		return wire_read_fail(r, "flags", "flags 0x%" PRIx64 " have "
				      "bits other than DELETED (0x%x)", flags,
				      WIRE_ENTRY_DELETED);
	op->deleted = flags != 0;
	rv = wire_read_bytes(r, "key", 1, WIRE_KEY_MAX, &op->key,
			     &op->key_len);
	if (rv == 0)
		rv = wire_read_bytes_or_null(r, "value", 0, WIRE_VALUE_MAX,
					     &op->value, &op->value_len);
	if (rv != 0)
		return rv;
	if (op->deleted && op->value != NULL)
		return wire_read_fail(r, "value", "deleted op carries a byte "
				      "string instead of null");
	if (!op->deleted && op->value == NULL)
		return wire_read_fail(r, "value", "live op has a null value");
	return 0;
}

static int decode_prepare(struct wire_reader *r, struct wire_decoder *d,
			  struct wire_strong *m)
{
	size_t i, n;
	int rv;

	rv = wire_read_uint(r, "ttl_ms", UINT64_MAX, &m->ttl_ms);
	if (rv == 0)
		rv = decode_participants(r, d, m);
	if (rv == 0)
		rv = wire_read_list(r, "op list", 1, WIRE_STRONG_OPS_MAX,
				    OP_MIN_BYTES, (void **)&d->ops,
				    &d->ops_cap, sizeof(*d->ops), &n);
	if (rv != 0)
		return rv;
	r->list = "op";
	for (i = 0; i < n; i++) {
		r->idx = i;
		rv = decode_op(r, &d->ops[i]);
		if (rv != 0)
			return rv;
	}
	r->list = NULL;
	m->ops = d->ops;
	m->n_ops = n;
	return 0;
}

/* A clock list, then the rules of its type (yes, state already read). */
static int decode_clocks(struct wire_reader *r, struct wire_decoder *d,
			 enum wire_type type, struct wire_strong *m)
{
	const char *why;
	size_t i, n, at = r->pos;
	int rv;

	rv = wire_read_list(r, "clock list", 0, WIRE_STRONG_OPS_MAX,
			    CLOCK_MIN_BYTES, (void **)&d->clocks,
			    &d->clocks_cap, sizeof(*d->clocks), &n);
	if (rv != 0)
		return rv;
	r->list = "clock";
	for (i = 0; i < n; i++) {
		r->idx = i;
		rv = wire_read_uint(r, "clock", UINT64_MAX, &d->clocks[i]);
		if (rv != 0)
			return rv;
		if (type != WIRE_VOTE && d->clocks[i] == 0)
			return wire_read_fail(r, "clock", "a committed clock "
					      "0");
	}
	r->list = NULL;
	why = clocks_rule(type, m->yes, m->state, n);
	if (why != NULL) {
		r->item_pos = at;
		return wire_read_fail(r, "clock list", "%s", why);
	}
	m->clocks = n > 0 ? d->clocks : NULL;
	m->n_clocks = n;
	return 0;
}

/* COMMIT's and ANSWER's version fields and clocks. */
static int decode_version(struct wire_reader *r, struct wire_decoder *d,
			  enum wire_type type, struct wire_strong *m)
{
	const char *why;
	size_t at = r->pos;
	int rv;

	rv = wire_read_uint(r, "first_seq", UINT64_MAX, &m->first_seq);
	if (rv == 0)
		rv = wire_read_uint(r, "wall_ms", UINT64_MAX, &m->wall_ms);
	if (rv == 0)
		rv = decode_clocks(r, d, type, m);
	if (rv != 0)
		return rv;
	r->item_pos = at;       /* what follows is first_seq's error */
	if (m->n_clocks == 0) {
		if (m->first_seq != 0 || m->wall_ms != 0)
			return wire_read_fail(r, "first_seq", "a version on an "
					      "answer that is not committed");
		return 0;
	}
	why = seq_rule(m->first_seq, m->n_clocks);
	if (why != NULL)
		return wire_read_fail(r, "first_seq", "%s", why);
	return 0;
}

int wire_decode_strong(struct wire_reader *r, struct wire_decoder *d,
		       enum wire_type type, struct wire_strong *m)
{
	const char *why;
	size_t len;
	int rv;

	rv = wire_read_bytes(r, "txid", WIRE_TXID_BYTES, WIRE_TXID_BYTES,
			     &m->txid, &len);
	if (rv != 0)
		return rv;
	switch (type) {
	case WIRE_PREPARE:
		return decode_prepare(r, d, m);
	case WIRE_VOTE:
		rv = wire_read_small(r, "yes", 1, &m->yes);
		if (rv == 0)
			rv = wire_read_uint(r, "reason", UINT64_MAX,
					    &m->reason);
		if (rv != 0)
			return rv;
		why = vote_rule(m->yes, m->reason);
		if (why != NULL)
			return wire_read_fail(r, "reason", "%s", why);
		return decode_clocks(r, d, type, m);
	case WIRE_COMMIT:
		return decode_version(r, d, type, m);
	case WIRE_ASK:
		return wire_read_bytes(r, "coordinator", WIRE_NODE_ID_BYTES,
				       WIRE_NODE_ID_BYTES, &m->coordinator,
				       &len);
	case WIRE_ANSWER:
		rv = wire_read_uint(r, "state", WIRE_TX_ABORTED, &m->state);
		if (rv == 0)
			rv = decode_version(r, d, type, m);
		return rv;
	case WIRE_COMMITTED:
	case WIRE_ABORT:
		return 0;
	default:
		assert(0 && "not a strong message");
		return wire_read_fail(r, "type", "not a strong message");
	}
}
