/* SPDX-License-Identifier: MIT */
/*
 * wire_ctl: the shapes of control-socket messages, and their encoding
 * (wire_ctl.h for the messages; the decoder is wire_ctl_decode.c).
 *
 * Encoders use the buffer and encoders of wire_cbor.h. They reserve room
 * before each item, so the wire_put_* calls cannot run short; a failed
 * allocation is remembered and the frame rolled back at the end.
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_cbor.h"
#include "wire/wire_ctl.h"
#include "wire/wire_ctl_int.h"

/* ------------------------------------------------------------ frames */

uint32_t ctl_frame_length(const uint8_t hdr[static CTL_FRAME_HEADER])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	       (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
}

/* ------------------------------------------------------------ shapes */

/* Each message is one array: its length, by command or reply type, is
 * stated here once for the encoders and the decoder. */
static const size_t request_items[CTL_CMD_MAX + 1] = {
	[CTL_CMD_STATUS] = 1, [CTL_CMD_PEERS] = 1, [CTL_CMD_GET] = 2,
	[CTL_CMD_PUT] = 3, [CTL_CMD_DEL] = 2, [CTL_CMD_SCAN] = 3,
	[CTL_CMD_WATCH] = 4, [CTL_CMD_LOG] = 2, [CTL_CMD_VERSION] = 2,
	[CTL_CMD_SYNC] = 2, [CTL_CMD_SPUT] = 3, [CTL_CMD_SDEL] = 2,
	[CTL_CMD_WHY] = 3,
};

/* The longer forms: STATUS [1, version], and the writes with a wait. */
static const size_t request_items_ext[CTL_CMD_MAX + 1] = {
	[CTL_CMD_STATUS] = 2, [CTL_CMD_PUT] = 4, [CTL_CMD_DEL] = 3,
	[CTL_CMD_SPUT] = 4, [CTL_CMD_SDEL] = 3,
};

static const char *const cmd_names[CTL_CMD_MAX + 1] = {
	[CTL_CMD_STATUS] = "STATUS", [CTL_CMD_PEERS] = "PEERS",
	[CTL_CMD_GET] = "GET", [CTL_CMD_PUT] = "PUT", [CTL_CMD_DEL] = "DEL",
	[CTL_CMD_SCAN] = "SCAN", [CTL_CMD_WATCH] = "WATCH",
	[CTL_CMD_LOG] = "LOG", [CTL_CMD_VERSION] = "VERSION",
	[CTL_CMD_SYNC] = "SYNC", [CTL_CMD_SPUT] = "SPUT",
	[CTL_CMD_SDEL] = "SDEL", [CTL_CMD_WHY] = "WHY",
};

static const char *const reply_names[CTL_R_MAX + 1] = {
	[CTL_R_OK] = "OK", [CTL_R_ERROR] = "ERROR", [CTL_R_VALUE] = "VALUE",
	[CTL_R_RECORD] = "RECORD", [CTL_R_ITEM] = "ITEM", [CTL_R_END] = "END",
	[CTL_R_STATUS] = "STATUS", [CTL_R_PEER] = "PEER",
	[CTL_R_SYNC] = "SYNC", [CTL_R_GAP] = "GAP",
	[CTL_R_WHYROW] = "WHYROW", [CTL_R_WHY] = "WHY",
};

/* Array length of each reply, by type. */
static const size_t reply_items[CTL_R_MAX + 1] = {
	[CTL_R_OK] = 1, [CTL_R_ERROR] = 3, [CTL_R_VALUE] = 2,
	[CTL_R_RECORD] = 10, [CTL_R_ITEM] = 3, [CTL_R_END] = 3,
	[CTL_R_STATUS] = 25, [CTL_R_PEER] = 9, [CTL_R_SYNC] = 8,
	[CTL_R_GAP] = 2, [CTL_R_WHYROW] = 17, [CTL_R_WHY] = 11,
};

/* The extended STATUS: catch-up progress appended (CTL_STATUS_EXT). */
static const size_t reply_items_ext[CTL_R_MAX + 1] = {
	[CTL_R_STATUS] = 30,
};

const struct ctl_shape ctl_request_shape = {
	"request", "command", "unknown command", 1, CTL_CMD_MAX, 4,
	cmd_names, request_items, request_items_ext,
};

const struct ctl_shape ctl_reply_shape = {
	"reply", "type", "unknown reply type", 0, CTL_R_MAX, 30,
	reply_names, reply_items, reply_items_ext,
};

const char *ctl_cmd_name(int cmd)
{
	return cmd >= 1 && cmd <= CTL_CMD_MAX ? cmd_names[cmd] : "?";
}

const char *ctl_reply_name(int type)
{
	return type >= 0 && type <= CTL_R_MAX ? reply_names[type] : "?";
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

/* Begins a request frame: the array head (the longer form when ext)
 * and the command. */
static void enc_request(struct enc *e, struct wire_buf *out, enum ctl_cmd cmd,
			int ext)
{
	assert(cmd >= 1 && cmd <= CTL_CMD_MAX);
	assert(!ext || ctl_request_shape.items_ext[cmd] != 0);
	enc_begin(e, out);
	put_array(e, ext ? ctl_request_shape.items_ext[cmd]
			 : ctl_request_shape.items[cmd]);
	put_uint(e, cmd);
}

/* Begins a reply frame: the array head and the type. */
static void enc_reply_form(struct enc *e, struct wire_buf *out,
			   enum ctl_reply_type type, int ext)
{
	assert(type <= CTL_R_MAX);
	assert(!ext || ctl_reply_shape.items_ext[type] != 0);
	enc_begin(e, out);
	put_array(e, ext ? ctl_reply_shape.items_ext[type]
			 : ctl_reply_shape.items[type]);
	put_uint(e, type);
}

static void enc_reply(struct enc *e, struct wire_buf *out,
		      enum ctl_reply_type type)
{
	enc_reply_form(e, out, type, 0);
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

/* A count of 1..max (unit follows the numbers in the message). */
static int check_count(const char *what, const char *unit, uint64_t v,
		       uint64_t max, struct err *err)
{
	if (v < 1 || v > max)
		return err_set(err, RUMOR_EINVAL, "control: %s %llu%s (1 to "
			       "%llu allowed)", what, (unsigned long long)v,
			       unit, (unsigned long long)max);
	return 0;
}

int ctl_encode_request(struct wire_buf *b, const struct ctl_request *rq,
		       struct err *err)
{
	struct enc e;
	int rv = 0, ext;

	switch (rq->cmd) {
	case CTL_CMD_GET:
	case CTL_CMD_PUT:
	case CTL_CMD_DEL:
	case CTL_CMD_SPUT:
	case CTL_CMD_SDEL:
	case CTL_CMD_VERSION:
		rv = check_key("key", rq->key_len, 1, err);
		break;
	case CTL_CMD_WHY:
		rv = check_key("key", rq->key_len, 1, err);
		if (rv == 0)
			rv = check_count("why timeout", " ms", rq->timeout_ms,
					 CTL_WHY_TIMEOUT_MAX, err);
		break;
	case CTL_CMD_SCAN:
	case CTL_CMD_WATCH:
		rv = check_key("prefix", rq->key_len, 0, err);
		break;
	case CTL_CMD_LOG:
		rv = check_count("log limit", "", rq->limit,
				 CTL_LOG_LIMIT_MAX, err);
		break;
	case CTL_CMD_SYNC:
		rv = check_count("sync timeout", " ms", rq->timeout_ms,
				 CTL_SYNC_TIMEOUT_MAX, err);
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
	if ((rq->cmd == CTL_CMD_PUT || rq->cmd == CTL_CMD_SPUT) &&
	    rq->value_len > RUMOR_VALUE_MAX)
		return err_set(err, RUMOR_ETOOBIG, "control: value of %zu bytes "
			       "(at most %u allowed)", rq->value_len,
			       RUMOR_VALUE_MAX);
	if (rq->cmd == CTL_CMD_STATUS && rq->status_version != 0 &&
	    rq->status_version != CTL_STATUS_EXT)
		return err_set(err, RUMOR_EINVAL, "control: status version %llu",
			       (unsigned long long)rq->status_version);
	if (rq->has_wait && rq->wait_ms > CTL_WAIT_MAX &&
	    rq->wait_ms != CTL_WAIT_DEFAULT)
		return err_set(err, RUMOR_EINVAL, "control: wait of %llu ms (at "
			       "most %u allowed)",
			       (unsigned long long)rq->wait_ms, CTL_WAIT_MAX);

	ext = rq->cmd == CTL_CMD_STATUS ? rq->status_version != 0 :
	      rq->has_wait && ctl_request_shape.items_ext[rq->cmd] != 0;
	enc_request(&e, b, rq->cmd, ext);
	switch (rq->cmd) {
	case CTL_CMD_STATUS:
		if (ext)
			put_uint(&e, rq->status_version);
		break;
	case CTL_CMD_PEERS:
		break;
	case CTL_CMD_GET:
	case CTL_CMD_DEL:
	case CTL_CMD_SDEL:
	case CTL_CMD_VERSION:
		put_bytes(&e, rq->key, rq->key_len);
		if (ext)
			put_uint(&e, rq->wait_ms);
		break;
	case CTL_CMD_WATCH:
		put_bytes(&e, rq->key, rq->key_len);
		put_uint(&e, rq->has_since ? 1 : 0);
		put_uint(&e, rq->has_since ? rq->since : 0);
		break;
	case CTL_CMD_PUT:
	case CTL_CMD_SPUT:
		put_bytes(&e, rq->key, rq->key_len);
		put_bytes(&e, rq->value, rq->value_len);
		if (ext)
			put_uint(&e, rq->wait_ms);
		break;
	case CTL_CMD_SCAN:
		put_bytes(&e, rq->key, rq->key_len);
		put_uint(&e, rq->limit);
		break;
	case CTL_CMD_LOG:
		put_uint(&e, rq->limit);
		break;
	case CTL_CMD_SYNC:
		put_uint(&e, rq->timeout_ms);
		break;
	case CTL_CMD_WHY:
		put_bytes(&e, rq->key, rq->key_len);
		put_uint(&e, rq->timeout_ms);
		break;
	}
	return enc_end(&e, CTL_REQUEST_MAX, err);
}

int ctl_encode_ok(struct wire_buf *b)
{
	struct enc e;

	enc_reply(&e, b, CTL_R_OK);
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
	enc_reply(&e, b, CTL_R_ERROR);
	put_negint(&e, code);
	put_text_n(&e, msg, n);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_value(struct wire_buf *b, const void *value, size_t len)
{
	struct enc e;

	if (len > RUMOR_VALUE_MAX)
		return RUMOR_EINVAL;
	enc_reply(&e, b, CTL_R_VALUE);
	put_bytes(&e, value, len);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_record(struct wire_buf *b, const struct rumor_version *v,
		      int local)
{
	return ctl_encode_change(b, v, local, 0);
}

int ctl_encode_change(struct wire_buf *b, const struct rumor_version *v,
		      int local, uint64_t pos)
{
	struct enc e;
	unsigned flags = (v->deleted ? CTL_RECORD_DELETED : 0) |
			 (local ? CTL_RECORD_LOCAL : 0);

	if (v->key_len < 1 || v->key_len > RUMOR_KEY_MAX ||
	    v->value_len > RUMOR_VALUE_MAX || v->origin_len > CTL_ORIGIN_MAX)
		return RUMOR_EINVAL;
	enc_reply(&e, b, CTL_R_RECORD);
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
	put_uint(&e, pos);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_item(struct wire_buf *b, const void *key, size_t key_len,
		    const void *value, size_t value_len)
{
	struct enc e;

	if (key_len < 1 || key_len > RUMOR_KEY_MAX ||
	    value_len > RUMOR_VALUE_MAX)
		return RUMOR_EINVAL;
	enc_reply(&e, b, CTL_R_ITEM);
	put_bytes(&e, key, key_len);
	put_bytes(&e, value, value_len);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_end(struct wire_buf *b, uint64_t count, int truncated)
{
	struct enc e;

	enc_reply(&e, b, CTL_R_END);
	put_uint(&e, count);
	put_uint(&e, truncated ? 1 : 0);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_status(struct wire_buf *b, const struct ctl_status *st,
		      uint64_t hwm_total, const struct ctl_hwm *hwm,
		      size_t n_hwm)
{
	struct enc e;
	size_t i;

	if (n_hwm > CTL_HWM_MAX || n_hwm > hwm_total ||
	    st->n_dropped > CTL_DROPPED_MAX ||
	    st->namespace_len > RUMOR_PREFIX_MAX ||
	    st->n_replicate > RUMOR_PREFIXES_MAX)
		return RUMOR_EINVAL;
	for (i = 0; i < st->n_replicate; i++)
		if (st->replicate[i].len < 1 ||
		    st->replicate[i].len > RUMOR_PREFIX_MAX)
			return RUMOR_EINVAL;
	for (i = 0; i < n_hwm; i++)
		if (hwm[i].origin_len > CTL_ORIGIN_MAX)
			return RUMOR_EINVAL;
	enc_reply_form(&e, b, CTL_R_STATUS, st->extended);
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
	put_array(&e, CTL_N_COUNTERS);
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
	/* Refusals by name, so that a newer or older peer of the protocol
	 * reads the reasons it knows and skips the others. */
	put_array(&e, REFUSE_COUNT);
	for (i = 0; i < REFUSE_COUNT; i++) {
		put_array(&e, 2);
		put_text(&e, refuse_name((int)i));
		put_uint(&e, st->refused[i]);
	}
	put_array(&e, st->n_dropped);
	for (i = 0; i < st->n_dropped; i++) {
		put_array(&e, 2);
		put_text(&e, st->dropped[i].name);
		put_uint(&e, st->dropped[i].count);
	}
	put_bytes(&e, st->namespace_len > 0 ? st->namespace_prefix
					     : (const uint8_t *)"",
		  st->namespace_len);
	put_array(&e, st->n_replicate);
	for (i = 0; i < st->n_replicate; i++)
		put_bytes(&e, st->replicate[i].bytes, st->replicate[i].len);
	put_uint(&e, st->consistency == RUMOR_CONSISTENCY_STRONG ? 1 : 0);
	put_uint(&e, st->stats.strong_quorum);
	put_uint(&e, st->stats.strong_reachable);
	put_uint(&e, st->ready ? 1 : 0);
	if (st->extended) {
		put_uint(&e, st->catchup_received);
		put_uint(&e, st->catchup_expected);
		put_double(&e, st->catchup_rate);
		put_uint(&e, st->catchup_eta_ms);
		put_uint(&e, st->catchup_wait_ms);
	}
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_peer(struct wire_buf *b, const struct ctl_peer_info *p)
{
	struct enc e;

	enc_reply(&e, b, CTL_R_PEER);
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

int ctl_encode_sync(struct wire_buf *b, const struct ctl_sync_report *r)
{
	struct enc e;

	enc_reply(&e, b, CTL_R_SYNC);
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

	enc_reply(&e, b, CTL_R_GAP);
	put_uint(&e, dropped);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

/* A fixed-size byte string, or an empty one when absent. */
static void put_fixed(struct enc *e, int present, const uint8_t *p, size_t n)
{
	put_bytes(e, p, present ? n : 0);
}

int ctl_encode_why_row(struct wire_buf *b, const struct ctl_why_row *row)
{
	struct enc e;

	if (row->status < 0 || row->status > CTL_WHY_STATUS_MAX ||
	    row->role < 0 || row->role > CTL_WHY_ROLE_MAX ||
	    strlen(row->resolver) > CTL_WHY_RESOLVER_MAX)
		return RUMOR_EINVAL;
	enc_reply(&e, b, CTL_R_WHYROW);
	put_bytes(&e, row->id, RUMOR_NODE_ID_BYTES);
	put_uint(&e, (uint64_t)row->status);
	put_uint(&e, (uint64_t)row->role);
	put_uint(&e, row->found ? 1 : 0);
	put_uint(&e, row->clock);
	put_fixed(&e, row->found, row->origin, RUMOR_NODE_ID_BYTES);
	put_uint(&e, row->seq);
	put_uint(&e, row->wall_ms);
	put_uint(&e, row->deleted ? 1 : 0);
	put_uint(&e, row->value_len);
	put_fixed(&e, row->found, row->hash, CTL_WHY_HASH_BYTES);
	put_uint(&e, row->symmetry_violations);
	put_text(&e, row->resolver);
	put_uint(&e, row->lag_clock);
	put_uint(&e, row->lag_seq);
	put_uint(&e, row->lag_ms);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}

int ctl_encode_why(struct wire_buf *b, const struct ctl_why_summary *s)
{
	struct enc e;

	if (s->verdict < 0 || s->verdict > CTL_WHY_VERDICT_MAX ||
	    s->reason < CTL_WHY_BY_CLOCK || s->reason > CTL_WHY_REASON_MAX ||
	    s->winner_row > s->rows ||
	    strlen(s->resolver) > CTL_WHY_RESOLVER_MAX)
		return RUMOR_EINVAL;
	enc_reply(&e, b, CTL_R_WHY);
	put_uint(&e, (uint64_t)s->verdict);
	put_uint(&e, (uint64_t)s->reason);
	put_uint(&e, s->winner_row);
	put_uint(&e, s->rows);
	put_text(&e, s->resolver);
	put_uint(&e, s->not_asked);
	put_uint(&e, s->max_lag_clock);
	put_uint(&e, s->max_lag_seq);
	put_uint(&e, s->max_lag_ms);
	put_uint(&e, s->winner_age_ms);
	return enc_end(&e, CTL_REPLY_MAX, NULL);
}
