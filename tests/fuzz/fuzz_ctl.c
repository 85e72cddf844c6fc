/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ctl: libFuzzer target for the control-protocol decoders
 * (src/wire/wire_ctl.h), which read what a local client or a node sends.
 * The input is one frame body, tried as a request and as a reply. Each
 * must decode or be refused with RUMOR_EPROTO (or RUMOR_ENOMEM), without
 * crashing or reading outside the input; whatever decodes must encode
 * again, and that encoding must decode and encode to the same bytes (the
 * decoder accepts nothing the encoder cannot say, and loses nothing it
 * kept).
 *
 *   tests/fuzz/fuzz_ctl -max_total_time=60 work/ tests/fuzz/corpus/ctl
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_refusal(int rv, const struct err *err)
{
	check(rv == 0 || rv == RUMOR_EPROTO || rv == RUMOR_ENOMEM);
	if (rv == RUMOR_EPROTO)
		check(err->code == RUMOR_EPROTO && err->msg[0] != '\0');
}

/* Encodes a decoded reply again, as the node would send it. */
static int encode_reply(struct wire_buf *b, const struct ctl_reply *r)
{
	switch (r->type) {
	case CTL_R_OK:
		return ctl_encode_ok(b);
	case CTL_R_ERROR:
		return ctl_encode_error(b, r->code, r->message);
	case CTL_R_VALUE:
		return ctl_encode_value(b, r->rec.value, r->rec.value_len);
	case CTL_R_RECORD:
		return ctl_encode_record(b, &r->rec, r->local);
	case CTL_R_ITEM:
		return ctl_encode_item(b, r->rec.key, r->rec.key_len,
				       r->rec.value, r->rec.value_len);
	case CTL_R_END:
		return ctl_encode_end(b, r->count, r->truncated);
	case CTL_R_STATUS:
		return ctl_encode_status(b, &r->status, r->hwm_total, r->hwm,
					 r->n_hwm);
	case CTL_R_PEER:
		return ctl_encode_peer(b, &r->peer.info);
	case CTL_R_SYNC:
		return ctl_encode_sync(b, &r->sync);
	case CTL_R_GAP:
		return ctl_encode_gap(b, r->count);
	case CTL_R_WHYROW:
		return ctl_encode_why_row(b, &r->why_row);
	case CTL_R_WHY:
		return ctl_encode_why(b, &r->why);
	}
	abort();
}

/* The body of the one frame in b. */
static const uint8_t *body(const struct wire_buf *b, size_t *len)
{
	check(b->len >= CTL_FRAME_HEADER);
	*len = ctl_frame_length(b->data);
	check(*len == b->len - CTL_FRAME_HEADER);
	return b->data + CTL_FRAME_HEADER;
}

static void fuzz_request(const uint8_t *data, size_t size)
{
	struct ctl_request rq;
	struct wire_buf b1, b2;
	struct err err;
	const uint8_t *p;
	size_t len;
	int rv;

	rv = ctl_decode_request(data, size, &rq, &err);
	check_refusal(rv, &err);
	if (rv != 0)
		return;
	wire_buf_init(&b1);
	wire_buf_init(&b2);
	check(ctl_encode_request(&b1, &rq, &err) == 0);
	p = body(&b1, &len);
	check(len <= size);               /* ours is the shortest form */
	check(ctl_decode_request(p, len, &rq, &err) == 0);
	check(ctl_encode_request(&b2, &rq, &err) == 0);
	check(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	wire_buf_free(&b1);
	wire_buf_free(&b2);
}

static void fuzz_reply(const uint8_t *data, size_t size)
{
	struct ctl_reply r1, r2;
	struct wire_buf b1, b2;
	struct err err;
	const uint8_t *p;
	size_t len;
	int rv;

	rv = ctl_decode_reply(data, size, &r1, &err);
	check_refusal(rv, &err);
	if (rv != 0)
		return;
	wire_buf_init(&b1);
	wire_buf_init(&b2);
	check(encode_reply(&b1, &r1) == 0);
	p = body(&b1, &len);
	check(ctl_decode_reply(p, len, &r2, &err) == 0);
	check(r2.type == r1.type);
	check(encode_reply(&b2, &r2) == 0);
	check(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	ctl_reply_free(&r1);
	ctl_reply_free(&r2);
	wire_buf_free(&b1);
	wire_buf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request(data, size);
	fuzz_reply(data, size);
	return 0;
}
