/* SPDX-License-Identifier: MIT */
/*
 * wire_ctl: encoding and strict decoding of control-socket frames (see
 * wire_ctl.h for the message shapes).
 *
 * Both use the buffer, encoders and item reader of wire_cbor.h. Encoders
 * reserve room before each item, so the wire_put_* calls cannot run
 * short; a failed allocation is remembered and the frame rolled back at
 * the end. The decoder walks the body one item at a time and never builds
 * an item tree, so a hostile frame costs no memory beyond the bounded HWM
 * list.
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_cbor.h"
#include "wire/wire_ctl.h"

/* ------------------------------------------------------------ frames */

uint32_t ctl_frame_length(const uint8_t hdr[static CTL_FRAME_HEADER])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	       (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
}

/* ------------------------------------------------------------ encoding */

/* One frame being appended to out. failed: some step ran out of memory,
 * so every later step does nothing and enc_end() rolls the frame back. */
struct enc {
	struct wire_buf *b;
	size_t start;
	int failed;
};

/* Reserves room for a head plus extra bytes of content; 0 once failed. */
static int enc_room(struct enc *e, size_t extra)
{
	if (!e->failed && wire_buf_reserve(e->b, WIRE_HEAD_MAX + extra) != 0)
		e->failed = 1;
	return !e->failed;
}

static void enc_begin(struct enc *e, struct wire_buf *out)
{
	e->b = out;
	e->start = out->len;
	e->failed = wire_buf_reserve(out, CTL_FRAME_HEADER) != 0;
	if (!e->failed)
		out->len += CTL_FRAME_HEADER;
}

static void put_null(struct enc *e)
{
	if (enc_room(e, 0))
		wire_put_null(e->b);
}

static void put_uint(struct enc *e, uint64_t v)
{
	if (enc_room(e, 0))
		wire_put_uint(e->b, v);
}

static void put_negint(struct enc *e, int v)
{
	assert(v < 0);
	/* CBOR stores -1 - n. */
	if (enc_room(e, 0))
		wire_put_negint(e->b, (uint64_t)(-1 - (int64_t)v));
}

static void put_array(struct enc *e, size_t n)
{
	if (enc_room(e, 0))
		wire_put_array(e->b, n);
}

static void put_double(struct enc *e, double v)
{
	if (enc_room(e, 0))
		wire_put_double(e->b, v);
}

static void put_bytes(struct enc *e, const void *s, size_t n)
{
	if (enc_room(e, n))
		wire_put_bytes(e->b, s, n);
}

static void put_text_n(struct enc *e, const char *s, size_t n)
{
	if (enc_room(e, n))
		wire_put_text(e->b, s, n);
}

static void put_text(struct enc *e, const char *s)
{
	put_text_n(e, s, s != NULL ? strlen(s) : 0);
}

/* Writes the header; rolls the frame back (the buffer keeps its memory)
 * when it failed or outgrew max. */
static int enc_end(struct enc *e, size_t max, struct err *err)
{
	size_t body;
	uint8_t *h;

	if (e->failed) {
		e->b->len = e->start;
		return err_set(err, RUMOR_ENOMEM, "control: out of memory "
			       "encoding a frame");
	}
	body = e->b->len - e->start - CTL_FRAME_HEADER;
	if (body > max) {
		e->b->len = e->start;
		return err_set(err, RUMOR_EINVAL, "control: frame of %zu bytes "
			       "exceeds the bound of %zu", body, max);
	}
	h = e->b->data + e->start;
	h[0] = (uint8_t)(body >> 24);
	h[1] = (uint8_t)(body >> 16);
	h[2] = (uint8_t)(body >> 8);
	h[3] = (uint8_t)body;
	return 0;
}

static int check_key(const char *what, size_t len, size_t min,
		     struct err *err)
{
	if (len < min || len > RUMOR_KEY_MAX)
		return err_set(err, len > RUMOR_KEY_MAX ? RUMOR_ETOOBIG :
			       RUMOR_EINVAL, "control: %s of %zu bytes (%zu "
			       "to %u allowed)", what, len, min, RUMOR_KEY_MAX);
	return 0;
}

int ctl_encode_request(struct wire_buf *b, const struct ctl_request *rq,
		       struct err *err)
{
	struct enc e;
	int rv = 0;

	switch (rq->cmd) {
	case CTL_CMD_GET:
	case CTL_CMD_PUT:
	case CTL_CMD_DEL:
	case CTL_CMD_VERSION:
		rv = check_key("key", rq->key_len, 1, err);
		break;
	case CTL_CMD_SCAN:
	case CTL_CMD_WATCH:
		rv = check_key("prefix", rq->key_len, 0, err);
		break;
	case CTL_CMD_LOG:
		if (rq->limit < 1 || rq->limit > CTL_LOG_LIMIT_MAX)
			rv = err_set(err, RUMOR_EINVAL, "control: log limit "
				     "%llu (1 to %u allowed)",
				     (unsigned long long)rq->limit,
				     CTL_LOG_LIMIT_MAX);
		break;
	case CTL_CMD_SYNC:
		if (rq->timeout_ms < 1 || rq->timeout_ms > CTL_SYNC_TIMEOUT_MAX)
			rv = err_set(err, RUMOR_EINVAL, "control: sync timeout "
				     "%llu ms (1 to %u allowed)",
				     (unsigned long long)rq->timeout_ms,
				     CTL_SYNC_TIMEOUT_MAX);
		break;
	case CTL_CMD_STATUS:
	case CTL_CMD_PEERS:
		break;
	default:
		return err_set(err, RUMOR_EINVAL, "control: unknown command %d",
			       (int)rq->cmd);
	}
	if (rv != 0)
		return rv;
	if (rq->cmd == CTL_CMD_PUT && rq->value_len > RUMOR_VALUE_MAX)
		return err_set(err, RUMOR_ETOOBIG, "control: value of %zu bytes "
			       "(at most %u allowed)", rq->value_len,
			       RUMOR_VALUE_MAX);

	enc_begin(&e, b);
	switch (rq->cmd) {
	case CTL_CMD_STATUS:
	case CTL_CMD_PEERS:
		put_array(&e, 1);
		put_uint(&e, rq->cmd);
		break;
	case CTL_CMD_GET:
	case CTL_CMD_DEL:
	case CTL_CMD_VERSION:
	case CTL_CMD_WATCH:
		put_array(&e, 2);
		put_uint(&e, rq->cmd);
		put_bytes(&e, rq->key, rq->key_len);
		break;
	case CTL_CMD_PUT:
		put_array(&e, 3);
		put_uint(&e, rq->cmd);
		put_bytes(&e, rq->key, rq->key_len);
		put_bytes(&e, rq->value, rq->value_len);
		break;
	case CTL_CMD_SCAN:
		put_array(&e, 3);
		put_uint(&e, rq->cmd);
		put_bytes(&e, rq->key, rq->key_len);
		put_uint(&e, rq->limit);
		break;
	case CTL_CMD_LOG:
		put_array(&e, 2);
		put_uint(&e, rq->cmd);
		put_uint(&e, rq->limit);
		break;
	case CTL_CMD_SYNC:
		put_array(&e, 2);
		put_uint(&e, rq->cmd);
		put_uint(&e, rq->timeout_ms);
		break;
	}
	return enc_end(&e, CTL_REQUEST_MAX, err);
}

int ctl_encode_ok(struct wire_buf *b)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 1);
	put_uint(&e, CTL_R_OK);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_error(struct wire_buf *b, int code, const char *msg)
{
	struct enc e;
	size_t n = msg != NULL ? strlen(msg) : 0;

	if (code >= 0)
		return RUMOR_EINVAL;
	if (n > CTL_MESSAGE_MAX) {
		n = CTL_MESSAGE_MAX;
		/* Do not cut a UTF-8 sequence: back up over continuation
		 * bytes to the start of the character. */
		while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
			n--;
	}
	enc_begin(&e, b);
	put_array(&e, 3);
	put_uint(&e, CTL_R_ERROR);
	put_negint(&e, code);
	put_text_n(&e, msg, n);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_value(struct wire_buf *b, const void *value, size_t len)
{
	struct enc e;

	if (len > RUMOR_VALUE_MAX)
		return RUMOR_EINVAL;
	enc_begin(&e, b);
	put_array(&e, 2);
	put_uint(&e, CTL_R_VALUE);
	put_bytes(&e, value, len);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_record(struct wire_buf *b, const struct rumor_version *v,
		      int local)
{
	struct enc e;
	unsigned flags = (v->deleted ? CTL_RECORD_DELETED : 0) |
			 (local ? CTL_RECORD_LOCAL : 0);

	if (v->key_len < 1 || v->key_len > RUMOR_KEY_MAX ||
	    v->value_len > RUMOR_VALUE_MAX || v->origin_len > CTL_ORIGIN_MAX)
		return RUMOR_EINVAL;
	enc_begin(&e, b);
	put_array(&e, 9);
	put_uint(&e, CTL_R_RECORD);
	put_bytes(&e, v->key, v->key_len);
	if (v->value != NULL && !v->deleted)
		put_bytes(&e, v->value, v->value_len);
	else
		put_null(&e);
	put_uint(&e, v->deleted ? 0 : v->value_len);
	put_uint(&e, flags);
	put_uint(&e, v->clock);
	put_uint(&e, v->wall_ms);
	put_bytes(&e, v->origin, v->origin_len);
	put_uint(&e, v->seq);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_item(struct wire_buf *b, const void *key, size_t key_len,
		    const void *value, size_t value_len)
{
	struct enc e;

	if (key_len < 1 || key_len > RUMOR_KEY_MAX ||
	    value_len > RUMOR_VALUE_MAX)
		return RUMOR_EINVAL;
	enc_begin(&e, b);
	put_array(&e, 3);
	put_uint(&e, CTL_R_ITEM);
	put_bytes(&e, key, key_len);
	put_bytes(&e, value, value_len);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_end(struct wire_buf *b, uint64_t count, int truncated)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 3);
	put_uint(&e, CTL_R_END);
	put_uint(&e, count);
	put_uint(&e, truncated ? 1 : 0);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_status(struct wire_buf *b, const struct node_status *st,
		      uint64_t hwm_total, const struct ctl_hwm *hwm,
		      size_t n_hwm)
{
	struct enc e;
	size_t i;
	size_t n_counters = 0;

#define CTL__COUNT(name) n_counters++;
	CTL_COUNTERS(CTL__COUNT)
#undef CTL__COUNT
	if (n_hwm > CTL_HWM_MAX || n_hwm > hwm_total)
		return RUMOR_EINVAL;
	for (i = 0; i < n_hwm; i++)
		if (hwm[i].origin_len > CTL_ORIGIN_MAX)
			return RUMOR_EINVAL;
	enc_begin(&e, b);
	put_array(&e, 19);
	put_uint(&e, CTL_R_STATUS);
	put_text(&e, st->id);
	put_uint(&e, (uint64_t)(st->mode < 0 ? 0 : st->mode));
	put_text(&e, st->listen);
	put_text(&e, st->data_dir);
	put_text(&e, st->resolver);
	put_uint(&e, st->open_network ? 1 : 0);
	put_uint(&e, st->catching_up ? 1 : 0);
	put_uint(&e, st->catchup_left_ms);
	put_double(&e, st->velocity);
	put_uint(&e, st->interval_ms);
	put_uint(&e, st->local_seq);
	put_uint(&e, st->peers_known);
	put_uint(&e, st->peers_alive);
	put_uint(&e, st->peers_suspect);
	put_uint(&e, st->peers_connected);
	put_array(&e, n_counters);
#define CTL__PUT(name) put_uint(&e, st->stats.name);
	CTL_COUNTERS(CTL__PUT)
#undef CTL__PUT
	put_uint(&e, hwm_total);
	put_array(&e, n_hwm);
	for (i = 0; i < n_hwm; i++) {
		put_array(&e, 2);
		put_bytes(&e, hwm[i].origin, hwm[i].origin_len);
		put_uint(&e, hwm[i].seq);
	}
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_peer(struct wire_buf *b, const struct node_peer_info *p)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 9);
	put_uint(&e, CTL_R_PEER);
	put_bytes(&e, p->id, sizeof(p->id));
	put_text_n(&e, p->address, strnlen(p->address, sizeof(p->address)));
	put_text(&e, p->learned != NULL ? p->learned : "");
	put_text(&e, p->state != NULL ? p->state : "");
	put_uint(&e, p->connected ? 1 : 0);
	put_uint(&e, p->last_contact_ago_ms);
	put_uint(&e, p->last_sync_ago_ms);
	put_uint(&e, p->lag);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_sync(struct wire_buf *b, const struct node_sync_report *r)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 8);
	put_uint(&e, CTL_R_SYNC);
	put_uint(&e, r->peers_tried);
	put_uint(&e, r->peers_completed);
	put_uint(&e, r->entries_sent);
	put_uint(&e, r->entries_received);
	put_uint(&e, r->entries_applied);
	put_uint(&e, r->bytes_in);
	put_uint(&e, r->bytes_out);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_gap(struct wire_buf *b, uint64_t dropped)
{
	struct enc e;

	enc_begin(&e, b);
	put_array(&e, 2);
	put_uint(&e, CTL_R_GAP);
	put_uint(&e, dropped);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

/* ------------------------------------------------------------ decoding */

/* The typed readers are wire_cbor.h's; these add the control protocol's
 * own shapes. */

static int rd_u32(struct wire_reader *r, const char *field, uint32_t *out)
{
	uint64_t v = 0;
	int rv = wire_read_uint(r, field, UINT32_MAX, &v);

	if (rv == 0)
		*out = (uint32_t)v;
	return rv;
}

static int rd_flag(struct wire_reader *r, const char *field, int *out)
{
	uint64_t v = 0;
	int rv = wire_read_uint(r, field, 1, &v);

	if (rv == 0)
		*out = (int)v;
	return rv;
}

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

/* Array length of each request, by command. */
static const size_t request_items[CTL_CMD_MAX + 1] = {
	[CTL_CMD_STATUS] = 1, [CTL_CMD_PEERS] = 1, [CTL_CMD_GET] = 2,
	[CTL_CMD_PUT] = 3, [CTL_CMD_DEL] = 2, [CTL_CMD_SCAN] = 3,
	[CTL_CMD_WATCH] = 2, [CTL_CMD_LOG] = 2, [CTL_CMD_VERSION] = 2,
	[CTL_CMD_SYNC] = 2,
};

static const char *const cmd_names[CTL_CMD_MAX + 1] = {
	[CTL_CMD_STATUS] = "STATUS", [CTL_CMD_PEERS] = "PEERS",
	[CTL_CMD_GET] = "GET", [CTL_CMD_PUT] = "PUT", [CTL_CMD_DEL] = "DEL",
	[CTL_CMD_SCAN] = "SCAN", [CTL_CMD_WATCH] = "WATCH",
	[CTL_CMD_LOG] = "LOG", [CTL_CMD_VERSION] = "VERSION",
	[CTL_CMD_SYNC] = "SYNC",
};

static const char *const reply_names[CTL_R_MAX + 1] = {
	[CTL_R_OK] = "OK", [CTL_R_ERROR] = "ERROR", [CTL_R_VALUE] = "VALUE",
	[CTL_R_RECORD] = "RECORD", [CTL_R_ITEM] = "ITEM", [CTL_R_END] = "END",
	[CTL_R_STATUS] = "STATUS", [CTL_R_PEER] = "PEER",
	[CTL_R_SYNC] = "SYNC", [CTL_R_GAP] = "GAP",
};

const char *ctl_cmd_name(int cmd)
{
	return cmd >= 1 && cmd <= CTL_CMD_MAX ? cmd_names[cmd] : "?";
}

const char *ctl_reply_name(int type)
{
	return type >= 0 && type <= CTL_R_MAX ? reply_names[type] : "?";
}

int ctl_decode_request(const uint8_t *body, size_t len,
		       struct ctl_request *rq, struct err *err)
{
	struct wire_reader r;
	size_t n;
	uint64_t cmd;
	int rv;

	memset(rq, 0, sizeof(*rq));
	wire_reader_init(&r, body, len, "control", "frame", err);
	if ((rv = wire_read_array(&r, "request", 1, 3, 1, &n)) != 0 ||
	    (rv = wire_read_uint(&r, "command", UINT64_MAX, &cmd)) != 0)
		return rv;
	if (cmd < 1 || cmd > CTL_CMD_MAX)
		return wire_read_fail(&r, "command", "unknown command %llu",
				      (unsigned long long)cmd);
	r.msg = cmd_names[cmd];
	if (n != request_items[cmd])
		return wire_read_fail(&r, "request", "%zu items, expected %zu",
				      n, request_items[cmd]);
	rq->cmd = (enum ctl_cmd)cmd;
	switch (rq->cmd) {
	case CTL_CMD_STATUS:
	case CTL_CMD_PEERS:
		break;
	case CTL_CMD_GET:
	case CTL_CMD_DEL:
	case CTL_CMD_VERSION:
		rv = wire_read_bytes(&r, "key", 1, RUMOR_KEY_MAX, &rq->key,
				     &rq->key_len);
		break;
	case CTL_CMD_PUT:
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
	case CTL_CMD_WATCH:
		rv = wire_read_bytes(&r, "prefix", 0, RUMOR_KEY_MAX, &rq->key,
				     &rq->key_len);
		break;
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
	}
	if (rv == 0)
		rv = wire_read_end(&r);
	if (rv != 0)
		memset(rq, 0, sizeof(*rq));
	return rv;
}

static const size_t reply_items[CTL_R_MAX + 1] = {
	[CTL_R_OK] = 1, [CTL_R_ERROR] = 3, [CTL_R_VALUE] = 2,
	[CTL_R_RECORD] = 9, [CTL_R_ITEM] = 3, [CTL_R_END] = 3,
	[CTL_R_STATUS] = 19, [CTL_R_PEER] = 9, [CTL_R_SYNC] = 8,
	[CTL_R_GAP] = 2,
};

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
	    (rv = wire_read_uint(r, "seq", UINT64_MAX, &v->seq)) != 0)
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

static int decode_status(struct wire_reader *r, struct ctl_reply *rp)
{
	struct node_status *st = &rp->status;
	uint64_t mode;
	size_t n, i, n_counters = 0;
	int rv;

#define CTL__COUNT(name) n_counters++;
	CTL_COUNTERS(CTL__COUNT)
#undef CTL__COUNT
	if ((rv = rd_text(r, "id", st->id, sizeof(st->id))) != 0 ||
	    (rv = wire_read_uint(r, "mode", RUMOR_MODE_REPLICA, &mode)) != 0 ||
	    (rv = rd_text(r, "listen", st->listen, sizeof(st->listen))) != 0 ||
	    (rv = rd_text(r, "data_dir", st->data_dir,
			  sizeof(st->data_dir))) != 0 ||
	    (rv = rd_text(r, "resolver", st->resolver,
			  sizeof(st->resolver))) != 0 ||
	    (rv = rd_flag(r, "open_network", &st->open_network)) != 0 ||
	    (rv = rd_flag(r, "catching_up", &st->catching_up)) != 0 ||
	    (rv = wire_read_uint(r, "catchup_left_ms", UINT64_MAX,
				 &st->catchup_left_ms)) != 0)
		return rv;
	st->mode = (int)mode;
	{
		struct wire_item it;

		if ((rv = wire_read_item(r, "velocity", &it)) != 0 ||
		    (rv = wire_want_kind(r, "velocity", &it,
					 WIRE_ITEM_FLOAT)) != 0)
			return rv;
		st->velocity = it.d;
	}
	if ((rv = rd_u32(r, "interval_ms", &st->interval_ms)) != 0 ||
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
	    (rv = wire_read_array(r, "counters", n_counters, n_counters, 1,
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
	return 0;
}

static int decode_peer(struct wire_reader *r, struct ctl_reply *rp)
{
	struct ctl_peer *p = &rp->peer;
	const uint8_t *id;
	size_t id_len;
	uint64_t connected;
	int rv;

	if ((rv = wire_read_bytes(r, "id", RUMOR_NODE_ID_BYTES,
				  RUMOR_NODE_ID_BYTES, &id, &id_len)) != 0 ||
	    (rv = rd_text(r, "address", p->info.address,
			  sizeof(p->info.address))) != 0 ||
	    (rv = rd_text(r, "learned", p->learned, sizeof(p->learned))) != 0 ||
	    (rv = rd_text(r, "state", p->state, sizeof(p->state))) != 0 ||
	    (rv = wire_read_uint(r, "connected", 1, &connected)) != 0 ||
	    (rv = wire_read_uint(r, "last_contact_ago_ms", UINT64_MAX,
				 &p->info.last_contact_ago_ms)) != 0 ||
	    (rv = wire_read_uint(r, "last_sync_ago_ms", UINT64_MAX,
				 &p->info.last_sync_ago_ms)) != 0 ||
	    (rv = wire_read_uint(r, "lag", UINT64_MAX, &p->info.lag)) != 0)
		return rv;
	memcpy(p->info.id, id, RUMOR_NODE_ID_BYTES);
	p->info.connected = (int)connected;
	p->info.learned = p->learned;
	p->info.state = p->state;
	return 0;
}

static int decode_sync(struct wire_reader *r, struct ctl_reply *rp)
{
	struct node_sync_report *s = &rp->sync;
	int rv;

	if ((rv = rd_u32(r, "peers_tried", &s->peers_tried)) != 0 ||
	    (rv = rd_u32(r, "peers_completed", &s->peers_completed)) != 0 ||
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

int ctl_decode_reply(const uint8_t *body, size_t len, struct ctl_reply *rp,
		     struct err *err)
{
	struct wire_reader r;
	size_t n;
	uint64_t type;
	const uint8_t *p = NULL;
	int rv;

	memset(rp, 0, sizeof(*rp));
	wire_reader_init(&r, body, len, "control", "frame", err);
	if ((rv = wire_read_array(&r, "reply", 1, 19, 1, &n)) != 0 ||
	    (rv = wire_read_uint(&r, "type", UINT64_MAX, &type)) != 0)
		return rv;
	if (type > CTL_R_MAX)
		return wire_read_fail(&r, "type", "unknown reply type %llu",
				      (unsigned long long)type);
	r.msg = reply_names[type];
	if (n != reply_items[type])
		return wire_read_fail(&r, "reply", "%zu items, expected %zu",
				      n, reply_items[type]);
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
			rv = rd_flag(&r, "truncated", &rp->truncated);
		break;
	case CTL_R_STATUS:
		rv = decode_status(&r, rp);
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
