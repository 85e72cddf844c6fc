/* SPDX-License-Identifier: MIT */
/*
 * wire_ctl_decode: the strict decoder of control-socket frames
 * (wire_ctl.h, convention 2). It walks the body one item at a time with
 * the reader of wire_cbor.h and never builds an item tree, so a hostile
 * frame costs no memory beyond the bounded HWM list.
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_cbor.h"
#include "wire/wire_ctl.h"
#include "wire/wire_ctl_int.h"

/* ------------------------------------------------------------ decoding */

/* The typed readers are wire_cbor.h's; these add the control protocol's
 * own shapes. */

/* Copies a text string into out (size bytes with the NUL); refuses
 * embedded NULs and strings that do not fit. */
static int rd_text(struct wire_reader *r, const char *field, char *out,
		   size_t size)
{
	const char *p;
	size_t len;
	int rv;

	assert(size > 0);
	rv = wire_read_text(r, field, 0, size - 1, &p, &len);
	if (rv != 0)
		return rv;
	if (len > 0)
		memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/* Reads the array head and the type, and checks that the array counts
 * as many items as that type has; from here on errors name the type. */
static int read_head(struct wire_reader *r, const struct ctl_shape *m,
		     uint64_t *type, int *ext)
{
	size_t n;
	int rv;

	if ((rv = wire_read_array(r, m->what, 1, m->max_items, 1, &n)) != 0 ||
	    (rv = wire_read_uint(r, m->type_field, UINT64_MAX, type)) != 0)
		return rv;
	if (*type < m->min_type || *type > m->max_type)
		return wire_read_fail(r, m->type_field, "%s %llu", m->unknown,
				      (unsigned long long)*type);
	r->msg = m->names[*type];
	*ext = m->items_ext[*type] != 0 && n == m->items_ext[*type];
	if (n != m->items[*type] && !*ext)
		return wire_read_fail(r, m->what, "%zu items, expected %zu",
				      n, m->items[*type]);
	return 0;
}

int ctl_decode_request(const uint8_t *body, size_t len,
		       struct ctl_request *rq, struct err *err)
{
	struct wire_reader r;
	uint64_t cmd;
	int rv, ext = 0;

	memset(rq, 0, sizeof(*rq));
	wire_reader_init(&r, body, len, "control", "frame", err);
	rv = read_head(&r, &ctl_request_shape, &cmd, &ext);
	if (rv != 0)
		return rv;
	rq->cmd = (enum ctl_cmd)cmd;
	switch (rq->cmd) {
	case CTL_CMD_STATUS:
		if (ext)
			rv = wire_read_uint(&r, "version", UINT64_MAX,
					    &rq->status_version);
		if (rv == 0 && ext && rq->status_version != CTL_STATUS_EXT)
			rv = wire_read_fail(&r, "version", "%llu unknown",
					    (unsigned long long)
					    rq->status_version);
		break;
	case CTL_CMD_PEERS:
		break;
	case CTL_CMD_GET:
	case CTL_CMD_DEL:
	case CTL_CMD_SDEL:
	case CTL_CMD_VERSION:
		rv = wire_read_bytes(&r, "key", 1, RUMOR_KEY_MAX, &rq->key,
				     &rq->key_len);
		break;
	case CTL_CMD_PUT:
	case CTL_CMD_SPUT:
		rv = wire_read_bytes(&r, "key", 1, RUMOR_KEY_MAX, &rq->key,
				     &rq->key_len);
		if (rv == 0)
			rv = wire_read_bytes(&r, "value", 0, RUMOR_VALUE_MAX,
					     &rq->value, &rq->value_len);
		break;
	case CTL_CMD_SCAN:
		rv = wire_read_bytes(&r, "prefix", 0, RUMOR_KEY_MAX, &rq->key,
				     &rq->key_len);
		if (rv == 0)
			rv = wire_read_uint(&r, "limit", UINT64_MAX,
					    &rq->limit);
		break;
	case CTL_CMD_WATCH: {
		uint64_t from = 0;

		rv = wire_read_bytes(&r, "prefix", 0, RUMOR_KEY_MAX, &rq->key,
				     &rq->key_len);
		if (rv == 0)
			rv = wire_read_uint(&r, "from", 1, &from);
		if (rv == 0)
			rv = wire_read_uint(&r, "since", UINT64_MAX, &rq->since);
		if (rv == 0 && from == 0 && rq->since != 0)
			rv = wire_read_fail(&r, "since", "set without from");
		rq->has_since = from == 1;
		break;
	}
	case CTL_CMD_LOG:
		rv = wire_read_uint(&r, "limit", CTL_LOG_LIMIT_MAX,
				    &rq->limit);
		if (rv == 0 && rq->limit == 0)
			rv = wire_read_fail(&r, "limit", "must be at least 1");
		break;
	case CTL_CMD_SYNC:
		rv = wire_read_uint(&r, "timeout_ms", CTL_SYNC_TIMEOUT_MAX,
				    &rq->timeout_ms);
		if (rv == 0 && rq->timeout_ms == 0)
			rv = wire_read_fail(&r, "timeout_ms", "must be at "
					    "least 1");
		break;
	case CTL_CMD_WHY:
		rv = wire_read_bytes(&r, "key", 1, RUMOR_KEY_MAX, &rq->key,
				     &rq->key_len);
		if (rv == 0)
			rv = wire_read_uint(&r, "timeout_ms",
					    CTL_WHY_TIMEOUT_MAX,
					    &rq->timeout_ms);
		if (rv == 0 && rq->timeout_ms == 0)
			rv = wire_read_fail(&r, "timeout_ms", "must be at "
					    "least 1");
		break;
	}
	if (rv == 0 && ext && rq->cmd != CTL_CMD_STATUS) {
		rq->has_wait = 1;
		rv = wire_read_uint(&r, "wait_ms", UINT64_MAX, &rq->wait_ms);
		if (rv == 0 && rq->wait_ms > CTL_WAIT_MAX &&
		    rq->wait_ms != CTL_WAIT_DEFAULT)
			rv = wire_read_fail(&r, "wait_ms", "%llu (at most %u)",
					    (unsigned long long)rq->wait_ms,
					    CTL_WAIT_MAX);
	}
	if (rv == 0)
		rv = wire_read_end(&r);
	if (rv != 0)
		memset(rq, 0, sizeof(*rq));
	return rv;
}

static int decode_error(struct wire_reader *r, struct ctl_reply *rp)
{
	struct wire_item it;
	int rv;

	if ((rv = wire_read_item(r, "code", &it)) != 0 ||
	    (rv = wire_want_kind(r, "code", &it, WIRE_ITEM_NEGINT)) != 0)
		return rv;
	if (it.u > 999)
		return wire_read_fail(r, "code", "-%llu is out of range",
				      (unsigned long long)it.u + 1);
	rp->code = -1 - (int)it.u;
	return rd_text(r, "message", rp->message, sizeof(rp->message));
}

static int decode_record(struct wire_reader *r, struct ctl_reply *rp)
{
	struct rumor_version *v = &rp->rec;
	const uint8_t *value;
	uint64_t value_len, flags;
	int rv;

	if ((rv = wire_read_bytes(r, "key", 1, RUMOR_KEY_MAX,
				  (const uint8_t **)&v->key,
				  &v->key_len)) != 0 ||
	    (rv = wire_read_bytes_or_null(r, "value", 0, RUMOR_VALUE_MAX,
					  &value, &v->value_len)) != 0 ||
	    (rv = wire_read_uint(r, "value_len", RUMOR_VALUE_MAX,
				 &value_len)) != 0 ||
	    (rv = wire_read_uint(r, "flags",
				 CTL_RECORD_DELETED | CTL_RECORD_LOCAL,
				 &flags)) != 0 ||
	    (rv = wire_read_uint(r, "clock", UINT64_MAX, &v->clock)) != 0 ||
	    (rv = wire_read_uint(r, "wall_ms", UINT64_MAX,
				 &v->wall_ms)) != 0 ||
	    (rv = wire_read_bytes(r, "origin", 0, CTL_ORIGIN_MAX, &v->origin,
				  &v->origin_len)) != 0 ||
	    (rv = wire_read_uint(r, "seq", UINT64_MAX, &v->seq)) != 0 ||
	    (rv = wire_read_uint(r, "pos", UINT64_MAX, &rp->pos)) != 0)
		return rv;
	v->value = value;
	v->deleted = (flags & CTL_RECORD_DELETED) != 0;
	rp->local = (flags & CTL_RECORD_LOCAL) != 0;
	if (v->deleted && (value != NULL || value_len != 0))
		return wire_read_fail(r, "value", "a deletion carries a value");
	if (value != NULL && v->value_len != value_len)
		return wire_read_fail(r, "value_len", "%llu, but the value "
				      "has %zu bytes",
				      (unsigned long long)value_len,
				      v->value_len);
	v->value_len = (size_t)value_len;
	return 0;
}

/* [[name, count]...]: the refusal reasons this build knows are filled
 * in, others skipped (a newer node may know more); then the announcement
 * drops, by discovery's names, as they come. */
static int decode_refused(struct wire_reader *r, struct ctl_status *st)
{
	char name[64];
	uint64_t count;
	size_t n, i, two;
	int rv, why;

	if ((rv = wire_read_array(r, "refused", 0, CTL_REFUSED_MAX, 1,
				  &n)) != 0)
		return rv;
	for (i = 0; i < n; i++) {
		if ((rv = wire_read_array(r, "refused entry", 2, 2, 1,
					  &two)) != 0 ||
		    (rv = rd_text(r, "refused reason", name,
				  sizeof(name))) != 0 ||
		    (rv = wire_read_uint(r, "refused count", UINT64_MAX,
					 &count)) != 0)
			return rv;
		why = refuse_by_name(name);
		if (why >= 0)
			st->refused[why] = count;
	}
	if ((rv = wire_read_array(r, "dropped", 0, CTL_DROPPED_MAX, 1,
				  &n)) != 0)
		return rv;
	for (i = 0; i < n; i++) {
		struct ctl_dropped *d = &st->dropped[i];

		if ((rv = wire_read_array(r, "dropped entry", 2, 2, 1,
					  &two)) != 0 ||
		    (rv = rd_text(r, "dropped reason", d->name,
				  sizeof(d->name))) != 0 ||
		    (rv = wire_read_uint(r, "dropped count", UINT64_MAX,
					 &d->count)) != 0)
			return rv;
		st->n_dropped = i + 1;
	}
	return 0;
}

/* The namespace (empty: none) and the replicate prefixes. */
static int decode_shape(struct wire_reader *r, struct ctl_status *st)
{
	size_t n, i;
	int rv;

	if ((rv = wire_read_bytes(r, "namespace", 0, RUMOR_PREFIX_MAX,
				  &st->namespace_prefix,
				  &st->namespace_len)) != 0 ||
	    (rv = wire_read_array(r, "replicate", 0, RUMOR_PREFIXES_MAX, 1,
				  &n)) != 0)
		return rv;
	for (i = 0; i < n; i++) {
		if ((rv = wire_read_bytes(r, "replicate prefix", 1,
					  RUMOR_PREFIX_MAX,
					  &st->replicate[i].bytes,
					  &st->replicate[i].len)) != 0)
			return rv;
		st->n_replicate = i + 1;
	}
	return 0;
}

/* Strong writes: consistency, quorum, reachable, ready. */
static int decode_strong(struct wire_reader *r, struct ctl_status *st)
{
	int rv;

	if ((rv = wire_read_small(r, "consistency", RUMOR_CONSISTENCY_STRONG,
				  &st->consistency)) != 0 ||
	    (rv = wire_read_u32(r, "quorum", 1024,
				&st->stats.strong_quorum)) != 0 ||
	    (rv = wire_read_u32(r, "reachable", UINT32_MAX,
				&st->stats.strong_reachable)) != 0)
		return rv;
	return wire_read_small(r, "ready", 1, &st->ready);
}

/* The extended STATUS's catch-up progress. */
static int decode_progress(struct wire_reader *r, struct ctl_status *st)
{
	struct wire_item it;
	int rv;

	st->extended = 1;
	if ((rv = wire_read_uint(r, "catchup_received", UINT64_MAX,
				 &st->catchup_received)) != 0 ||
	    (rv = wire_read_uint(r, "catchup_expected", UINT64_MAX,
				 &st->catchup_expected)) != 0 ||
	    (rv = wire_read_item(r, "catchup_rate", &it)) != 0 ||
	    (rv = wire_want_kind(r, "catchup_rate", &it,
				 WIRE_ITEM_FLOAT)) != 0)
		return rv;
	if (!(it.d >= 0 && it.d <= 1e15))
		return wire_read_fail(r, "catchup_rate", "out of range");
	st->catchup_rate = it.d;
	if ((rv = wire_read_uint(r, "catchup_eta_ms", UINT64_MAX,
				 &st->catchup_eta_ms)) != 0)
		return rv;
	return wire_read_uint(r, "catchup_wait_ms", UINT32_MAX,
			      &st->catchup_wait_ms);
}

static int decode_status(struct wire_reader *r, struct ctl_reply *rp,
			 int ext)
{
	struct ctl_status *st = &rp->status;
	size_t n, i;
	int rv;

	if ((rv = rd_text(r, "id", st->id, sizeof(st->id))) != 0 ||
	    (rv = wire_read_small(r, "mode", RUMOR_MODE_REPLICA,
				  &st->mode)) != 0 ||
	    (rv = rd_text(r, "listen", st->listen, sizeof(st->listen))) != 0 ||
	    (rv = rd_text(r, "data_dir", st->data_dir,
			  sizeof(st->data_dir))) != 0 ||
	    (rv = rd_text(r, "resolver", st->resolver,
			  sizeof(st->resolver))) != 0 ||
	    (rv = wire_read_small(r, "open_network", 1,
				  &st->open_network)) != 0 ||
	    (rv = wire_read_small(r, "catching_up", 1,
				  &st->catching_up)) != 0 ||
	    (rv = wire_read_uint(r, "catchup_left_ms", UINT64_MAX,
				 &st->catchup_left_ms)) != 0)
		return rv;
	{
		struct wire_item it;

		if ((rv = wire_read_item(r, "velocity", &it)) != 0 ||
		    (rv = wire_want_kind(r, "velocity", &it,
					 WIRE_ITEM_FLOAT)) != 0)
			return rv;
		st->velocity = it.d;
	}
	if ((rv = wire_read_u32(r, "interval_ms", UINT32_MAX,
				&st->interval_ms)) != 0 ||
	    (rv = wire_read_uint(r, "local_seq", UINT64_MAX,
				 &st->local_seq)) != 0 ||
	    (rv = wire_read_uint(r, "peers_known", UINT64_MAX,
				 &st->peers_known)) != 0 ||
	    (rv = wire_read_uint(r, "peers_alive", UINT64_MAX,
				 &st->peers_alive)) != 0 ||
	    (rv = wire_read_uint(r, "peers_suspect", UINT64_MAX,
				 &st->peers_suspect)) != 0 ||
	    (rv = wire_read_uint(r, "peers_connected", UINT64_MAX,
				 &st->peers_connected)) != 0 ||
	    (rv = wire_read_array(r, "counters", CTL_N_COUNTERS, CTL_N_COUNTERS, 1,
				  &n)) != 0)
		return rv;
#define CTL__GET(name)                                                 \
	if ((rv = wire_read_uint(r, "counter " #name, UINT64_MAX,      \
				 &st->stats.name)) != 0)               \
		return rv;
	CTL_COUNTERS(CTL__GET)
#undef CTL__GET
	st->stats.velocity = st->velocity;
	st->stats.interval_ms = st->interval_ms;
	st->stats.peers_alive = (uint32_t)(st->peers_alive > UINT32_MAX ?
					   UINT32_MAX : st->peers_alive);
	st->stats.catching_up = st->catching_up;
	st->stats.open_network = st->open_network;
	if ((rv = wire_read_uint(r, "hwm_total", UINT64_MAX,
				 &rp->hwm_total)) != 0 ||
	    (rv = wire_read_array(r, "hwm", 0, CTL_HWM_MAX, 1, &n)) != 0)
		return rv;
	if (n > rp->hwm_total)
		return wire_read_fail(r, "hwm", "%zu HWMs of %llu in all", n,
				      (unsigned long long)rp->hwm_total);
	if (n > 0) {
		rp->hwm = calloc(n, sizeof(*rp->hwm));
		if (rp->hwm == NULL)
			return err_set(r->err, RUMOR_ENOMEM, "control: out of "
				       "memory decoding STATUS");
	}
	for (i = 0; i < n; i++) {
		size_t two;

		if ((rv = wire_read_array(r, "hwm entry", 2, 2, 1,
					  &two)) != 0 ||
		    (rv = wire_read_bytes(r, "hwm origin", 1, CTL_ORIGIN_MAX,
					  &rp->hwm[i].origin,
					  &rp->hwm[i].origin_len)) != 0 ||
		    (rv = wire_read_uint(r, "hwm seq", UINT64_MAX,
					 &rp->hwm[i].seq)) != 0)
			return rv;
		rp->n_hwm = i + 1;
	}
	if ((rv = decode_refused(r, st)) != 0 ||
	    (rv = decode_shape(r, st)) != 0 ||
	    (rv = decode_strong(r, st)) != 0)
		return rv;
	return ext ? decode_progress(r, st) : 0;
}

static int decode_peer(struct wire_reader *r, struct ctl_reply *rp)
{
	struct ctl_peer *p = &rp->peer;
	const uint8_t *id;
	size_t id_len;
	int rv;

	if ((rv = wire_read_bytes(r, "id", RUMOR_NODE_ID_BYTES,
				  RUMOR_NODE_ID_BYTES, &id, &id_len)) != 0 ||
	    (rv = rd_text(r, "address", p->info.address,
			  sizeof(p->info.address))) != 0 ||
	    (rv = rd_text(r, "learned", p->learned, sizeof(p->learned))) != 0 ||
	    (rv = rd_text(r, "state", p->state, sizeof(p->state))) != 0 ||
	    (rv = wire_read_small(r, "connected", 1,
				  &p->info.connected)) != 0 ||
	    (rv = wire_read_uint(r, "last_contact_ago_ms", UINT64_MAX,
				 &p->info.last_contact_ago_ms)) != 0 ||
	    (rv = wire_read_uint(r, "last_sync_ago_ms", UINT64_MAX,
				 &p->info.last_sync_ago_ms)) != 0 ||
	    (rv = wire_read_uint(r, "lag", UINT64_MAX, &p->info.lag)) != 0)
		return rv;
	memcpy(p->info.id, id, RUMOR_NODE_ID_BYTES);
	p->info.learned = p->learned;
	p->info.state = p->state;
	return 0;
}

static int decode_sync(struct wire_reader *r, struct ctl_reply *rp)
{
	struct ctl_sync_report *s = &rp->sync;
	int rv;

	if ((rv = wire_read_u32(r, "peers_tried", UINT32_MAX,
				&s->peers_tried)) != 0 ||
	    (rv = wire_read_u32(r, "peers_completed", UINT32_MAX,
				&s->peers_completed)) != 0 ||
	    (rv = wire_read_uint(r, "entries_sent", UINT64_MAX,
				 &s->entries_sent)) != 0 ||
	    (rv = wire_read_uint(r, "entries_received", UINT64_MAX,
				 &s->entries_received)) != 0 ||
	    (rv = wire_read_uint(r, "entries_applied", UINT64_MAX,
				 &s->entries_applied)) != 0 ||
	    (rv = wire_read_uint(r, "bytes_in", UINT64_MAX,
				 &s->bytes_in)) != 0 ||
	    (rv = wire_read_uint(r, "bytes_out", UINT64_MAX,
				 &s->bytes_out)) != 0)
		return rv;
	return 0;
}

/* A byte string of exactly n bytes when present, else empty. */
static int rd_fixed(struct wire_reader *r, const char *field, int present,
		    uint8_t *out, size_t n)
{
	const uint8_t *p;
	size_t len;
	int rv;

	rv = wire_read_bytes(r, field, present ? n : 0, present ? n : 0, &p,
			     &len);
	if (rv == 0 && present)
		memcpy(out, p, n);
	return rv;
}

static int decode_why_row(struct wire_reader *r, struct ctl_reply *rp)
{
	struct ctl_why_row *w = &rp->why_row;
	const uint8_t *id;
	size_t id_len;
	int rv;

	if ((rv = wire_read_bytes(r, "id", RUMOR_NODE_ID_BYTES,
				  RUMOR_NODE_ID_BYTES, &id, &id_len)) != 0 ||
	    (rv = wire_read_small(r, "status", CTL_WHY_STATUS_MAX,
				  &w->status)) != 0 ||
	    (rv = wire_read_small(r, "role", CTL_WHY_ROLE_MAX,
				  &w->role)) != 0 ||
	    (rv = wire_read_small(r, "found", 1, &w->found)) != 0 ||
	    (rv = wire_read_uint(r, "clock", UINT64_MAX, &w->clock)) != 0 ||
	    (rv = rd_fixed(r, "origin", w->found, w->origin,
			   RUMOR_NODE_ID_BYTES)) != 0 ||
	    (rv = wire_read_uint(r, "seq", UINT64_MAX, &w->seq)) != 0 ||
	    (rv = wire_read_uint(r, "wall_ms", UINT64_MAX, &w->wall_ms)) != 0 ||
	    (rv = wire_read_small(r, "deleted", 1, &w->deleted)) != 0 ||
	    (rv = wire_read_uint(r, "value_len", RUMOR_VALUE_MAX,
				 &w->value_len)) != 0 ||
	    (rv = rd_fixed(r, "hash", w->found, w->hash,
			   CTL_WHY_HASH_BYTES)) != 0 ||
	    (rv = wire_read_uint(r, "symmetry_violations", UINT64_MAX,
				 &w->symmetry_violations)) != 0 ||
	    (rv = rd_text(r, "resolver", w->resolver,
			  sizeof(w->resolver))) != 0 ||
	    (rv = wire_read_uint(r, "lag_clock", UINT64_MAX,
				 &w->lag_clock)) != 0 ||
	    (rv = wire_read_uint(r, "lag_seq", UINT64_MAX,
				 &w->lag_seq)) != 0 ||
	    (rv = wire_read_uint(r, "lag_ms", UINT64_MAX, &w->lag_ms)) != 0)
		return rv;
	memcpy(w->id, id, RUMOR_NODE_ID_BYTES);
	return 0;
}

static int decode_why(struct wire_reader *r, struct ctl_reply *rp)
{
	struct ctl_why_summary *s = &rp->why;
	int rv;

	if ((rv = wire_read_small(r, "verdict", CTL_WHY_VERDICT_MAX,
				  &s->verdict)) != 0 ||
	    (rv = wire_read_small(r, "reason", CTL_WHY_REASON_MAX,
				  &s->reason)) != 0 ||
	    (rv = wire_read_uint(r, "winner_row", UINT64_MAX,
				 &s->winner_row)) != 0 ||
	    (rv = wire_read_uint(r, "rows", UINT64_MAX, &s->rows)) != 0 ||
	    (rv = rd_text(r, "resolver", s->resolver,
			  sizeof(s->resolver))) != 0 ||
	    (rv = wire_read_uint(r, "not_asked", UINT64_MAX,
				 &s->not_asked)) != 0 ||
	    (rv = wire_read_uint(r, "max_lag_clock", UINT64_MAX,
				 &s->max_lag_clock)) != 0 ||
	    (rv = wire_read_uint(r, "max_lag_seq", UINT64_MAX,
				 &s->max_lag_seq)) != 0 ||
	    (rv = wire_read_uint(r, "max_lag_ms", UINT64_MAX,
				 &s->max_lag_ms)) != 0 ||
	    (rv = wire_read_uint(r, "winner_age_ms", UINT64_MAX,
				 &s->winner_age_ms)) != 0)
		return rv;
	if (s->reason < CTL_WHY_BY_CLOCK)
		return wire_read_fail(r, "reason", "reason 0 unknown");
	if (s->winner_row > s->rows)
		return wire_read_fail(r, "winner_row", "past the rows");
	return 0;
}

int ctl_decode_reply(const uint8_t *body, size_t len, struct ctl_reply *rp,
		     struct err *err)
{
	struct wire_reader r;
	uint64_t type;
	const uint8_t *p = NULL;
	int rv, ext = 0;

	memset(rp, 0, sizeof(*rp));
	wire_reader_init(&r, body, len, "control", "frame", err);
	rv = read_head(&r, &ctl_reply_shape, &type, &ext);
	if (rv != 0)
		return rv;
	rp->type = (enum ctl_reply_type)type;
	switch (rp->type) {
	case CTL_R_OK:
		break;
	case CTL_R_ERROR:
		rv = decode_error(&r, rp);
		break;
	case CTL_R_VALUE:
		rv = wire_read_bytes(&r, "value", 0, RUMOR_VALUE_MAX, &p,
				     &rp->rec.value_len);
		rp->rec.value = p;
		break;
	case CTL_R_RECORD:
		rv = decode_record(&r, rp);
		break;
	case CTL_R_ITEM:
		rv = wire_read_bytes(&r, "key", 1, RUMOR_KEY_MAX, &p,
				     &rp->rec.key_len);
		rp->rec.key = p;
		if (rv == 0)
			rv = wire_read_bytes(&r, "value", 0, RUMOR_VALUE_MAX,
					     &p, &rp->rec.value_len);
		rp->rec.value = p;
		break;
	case CTL_R_END:
		rv = wire_read_uint(&r, "count", UINT64_MAX, &rp->count);
		if (rv == 0)
			rv = wire_read_small(&r, "truncated", 1,
					     &rp->truncated);
		break;
	case CTL_R_STATUS:
		rv = decode_status(&r, rp, ext);
		break;
	case CTL_R_PEER:
		rv = decode_peer(&r, rp);
		break;
	case CTL_R_SYNC:
		rv = decode_sync(&r, rp);
		break;
	case CTL_R_GAP:
		rv = wire_read_uint(&r, "dropped", UINT64_MAX, &rp->count);
		break;
	case CTL_R_WHYROW:
		rv = decode_why_row(&r, rp);
		break;
	case CTL_R_WHY:
		rv = decode_why(&r, rp);
		break;
	}
	if (rv == 0)
		rv = wire_read_end(&r);
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
