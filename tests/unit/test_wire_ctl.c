/* SPDX-License-Identifier: MIT */
/* test_wire_ctl: control protocol round trips and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire/wire_ctl.h"

/* The body of the single frame in b, checking its header. */
static const uint8_t *only_frame(const struct wire_buf *b, size_t *len)
{
	assert_true(b->len >= CTL_FRAME_HEADER);
	*len = ctl_frame_length(b->data);
	assert_int_equal(*len + CTL_FRAME_HEADER, b->len);
	return b->data + CTL_FRAME_HEADER;
}

static void request_round_trip(const struct ctl_request *in,
			       struct ctl_request *out, struct wire_buf *b)
{
	struct err err;
	const uint8_t *body;
	size_t len, cut;

	wire_buf_init(b);
	assert_int_equal(ctl_encode_request(b, in, &err), 0);
	body = only_frame(b, &len);
	/* Every strict prefix of a valid body is refused. */
	for (cut = 0; cut < len; cut++) {
		struct ctl_request rq;

		assert_int_equal(ctl_decode_request(body, cut, &rq, &err),
				 RUMOR_EPROTO);
	}
	assert_int_equal(ctl_decode_request(body, len, out, &err), 0);
	assert_int_equal(out->cmd, in->cmd);
}

static void test_every_request_round_trips(void **state)
{
	static const uint8_t key[] = {'k', 0, 0xff};
	static const uint8_t value[] = "the value";
	struct ctl_request in, out;
	struct wire_buf b;
	int cmd;

	for (cmd = 1; cmd <= CTL_CMD_MAX; cmd++) {
		memset(&in, 0, sizeof(in));
		in.cmd = cmd;
		in.key = key;
		in.key_len = sizeof(key);
		in.value = value;
		in.value_len = sizeof(value);
		in.limit = cmd == CTL_CMD_SCAN ? 0 : 7;
		in.timeout_ms = 1234;
		request_round_trip(&in, &out, &b);
		switch (cmd) {
		case CTL_CMD_GET:
		case CTL_CMD_DEL:
		case CTL_CMD_VERSION:
		case CTL_CMD_WATCH:
		case CTL_CMD_SCAN:
		case CTL_CMD_PUT:
		case CTL_CMD_SPUT:
		case CTL_CMD_SDEL:
		case CTL_CMD_WHY:
			assert_int_equal(out.key_len, sizeof(key));
			assert_memory_equal(out.key, key, sizeof(key));
			break;
		default:
			assert_null(out.key);
		}
		if (cmd == CTL_CMD_PUT || cmd == CTL_CMD_SPUT) {
			assert_int_equal(out.value_len, sizeof(value));
			assert_memory_equal(out.value, value, sizeof(value));
		}
		if (cmd == CTL_CMD_LOG)
			assert_int_equal(out.limit, 7);
		if (cmd == CTL_CMD_SCAN)
			assert_int_equal(out.limit, 0);
		if (cmd == CTL_CMD_SYNC || cmd == CTL_CMD_WHY)
			assert_int_equal(out.timeout_ms, 1234);
		wire_buf_free(&b);
	}
}

static void test_empty_prefix_and_empty_value_round_trip(void **state)
{
	struct ctl_request in = {.cmd = CTL_CMD_SCAN, .limit = 5}, out;
	struct wire_buf b;

	request_round_trip(&in, &out, &b);
	assert_int_equal(out.key_len, 0);
	assert_non_null(out.key);
	assert_int_equal(out.limit, 5);
	wire_buf_free(&b);

	in = (struct ctl_request){.cmd = CTL_CMD_PUT, .key = (const uint8_t *)"k",
				  .key_len = 1};
	request_round_trip(&in, &out, &b);
	assert_int_equal(out.value_len, 0);
	wire_buf_free(&b);
}

static void test_largest_put_round_trips(void **state)
{
	uint8_t *key = malloc(RUMOR_KEY_MAX), *value = malloc(RUMOR_VALUE_MAX);
	struct ctl_request in = {.cmd = CTL_CMD_PUT}, out;
	struct wire_buf b;
	struct err err;
	size_t len;
	const uint8_t *body;

	memset(key, 'k', RUMOR_KEY_MAX);
	memset(value, 0xab, RUMOR_VALUE_MAX);
	in.key = key;
	in.key_len = RUMOR_KEY_MAX;
	in.value = value;
	in.value_len = RUMOR_VALUE_MAX;
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_request(&b, &in, &err), 0);
	body = only_frame(&b, &len);
	assert_true(len <= CTL_REQUEST_MAX);
	assert_int_equal(ctl_decode_request(body, len, &out, &err), 0);
	assert_int_equal(out.value_len, RUMOR_VALUE_MAX);
	assert_memory_equal(out.value, value, RUMOR_VALUE_MAX);
	wire_buf_free(&b);
	free(key);
	free(value);
}

static void test_encoder_refuses_bad_requests_and_appends_nothing(void **state)
{
	static uint8_t big[RUMOR_KEY_MAX + 1];
	const struct ctl_request bad[] = {
		{.cmd = CTL_CMD_GET},                          /* empty key */
		{.cmd = CTL_CMD_GET, .key = big, .key_len = sizeof(big)},
		{.cmd = CTL_CMD_SCAN, .key = big, .key_len = sizeof(big)},
		{.cmd = CTL_CMD_PUT, .key = big, .key_len = 1,
		 .value = big, .value_len = RUMOR_VALUE_MAX + 1},
		{.cmd = CTL_CMD_LOG, .limit = 0},
		{.cmd = CTL_CMD_LOG, .limit = CTL_LOG_LIMIT_MAX + 1},
		{.cmd = CTL_CMD_SYNC, .timeout_ms = 0},
		{.cmd = 0},
		{.cmd = CTL_CMD_MAX + 1},
	};
	struct wire_buf b;
	struct err err;
	size_t i;

	wire_buf_init(&b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rv = ctl_encode_request(&b, &bad[i], &err);

		assert_true(rv == RUMOR_EINVAL || rv == RUMOR_ETOOBIG);
		assert_int_equal(b.len, 0);
		assert_true(strlen(err.msg) > 0);
	}
	wire_buf_free(&b);
}

struct malformed {
	const char *why;
	size_t len;
	uint8_t bytes[16];
};

#define M(why, ...)                                                    \
	{why, sizeof((uint8_t[]){__VA_ARGS__}), {__VA_ARGS__}}

static const struct malformed bad_requests[] = {
	{"empty body", 0, {0}},
	M("not an array", 0x01),
	M("a map", 0xa0),
	M("an empty array", 0x80),
	M("an indefinite array", 0x9f, 0x01, 0xff),
	M("an array claiming 2^64-1 items", 0x9b, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff),
	M("too many items", 0x85, 0x04, 0x41, 'a', 0x41, 'b', 0x00, 0x00),
	M("PUT with a wait over the bound", 0x84, 0x04, 0x41, 'a', 0x41, 'b',
	  0x1a, 0x00, 0x09, 0x27, 0xc1),
	M("DEL with a text wait", 0x83, 0x05, 0x41, 'a', 0x61, '1'),
	M("STATUS of an unknown version", 0x82, 0x01, 0x03),
	M("GET with a wait", 0x83, 0x03, 0x41, 'a', 0x00),
	M("command zero", 0x81, 0x00),
	M("unknown command", 0x81, 0x0b),
	M("huge command", 0x81, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff),
	M("negative command", 0x81, 0x20),
	M("command as text", 0x81, 0x61, '1'),
	M("tagged request", 0xc0, 0x81, 0x01),
	M("GET without key", 0x81, 0x03),
	M("GET with a text key", 0x82, 0x03, 0x61, 'a'),
	M("GET with an empty key", 0x82, 0x03, 0x40),
	M("GET with an indefinite key", 0x82, 0x03, 0x5f, 0x41, 'a', 0xff),
	M("GET with a truncated key", 0x82, 0x03, 0x45, 'a'),
	M("GET with a key of 2^64-1 bytes", 0x82, 0x03, 0x5b, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
	M("GET with an extra item", 0x83, 0x03, 0x41, 'a', 0x00),
	M("PUT with a null value", 0x83, 0x04, 0x41, 'a', 0xf6),
	M("PUT with a key of 4097 bytes", 0x83, 0x04, 0x59, 0x10, 0x01),
	M("STATUS with trailing bytes", 0x81, 0x01, 0x00),
	M("SCAN with a negative limit", 0x83, 0x06, 0x40, 0x20),
	M("SCAN with a boolean limit", 0x83, 0x06, 0x40, 0xf5),
	M("LOG with limit zero", 0x82, 0x08, 0x00),
	M("LOG with a limit over the bound", 0x82, 0x08, 0x19, 0xff, 0xff),
	M("SYNC with a float timeout", 0x82, 0x0a, 0xf9, 0x3c, 0x00),
	M("SYNC with timeout zero", 0x82, 0x0a, 0x00),
	M("reserved additional info", 0x1c),
	M("a lone break", 0xff),
};

static void test_malformed_requests_are_refused(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		const struct malformed *m = &bad_requests[i];
		struct ctl_request rq;
		struct err err;
		int rv;

		err_clear(&err);
		rv = ctl_decode_request(m->bytes, m->len, &rq, &err);
		if (rv != RUMOR_EPROTO)
			fail_msg("%s: decoded (rv %d)", m->why, rv);
		assert_true(strncmp(err.msg, "control: ", 9) == 0);
		assert_int_equal(rq.cmd, 0);
	}
}

static void decode_only(const struct wire_buf *b, struct ctl_reply *r)
{
	struct err err;
	const uint8_t *body;
	size_t len, cut;

	body = only_frame(b, &len);
	for (cut = 0; cut < len; cut++) {
		struct ctl_reply tmp;

		assert_int_equal(ctl_decode_reply(body, cut, &tmp, &err),
				 RUMOR_EPROTO);
	}
	assert_int_equal(ctl_decode_reply(body, len, r, &err), 0);
}

static void test_simple_replies_round_trip(void **state)
{
	struct wire_buf b;
	struct ctl_reply r;
	struct ctl_sync_report s = {3, 2, 10, 11, 12, 13, 14};

	wire_buf_init(&b);
	assert_int_equal(ctl_encode_ok(&b), 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_OK);
	b.len = 0;

	assert_int_equal(ctl_encode_error(&b, RUMOR_ENOTFOUND, "no such key"),
			 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_ERROR);
	assert_int_equal(r.code, RUMOR_ENOTFOUND);
	assert_string_equal(r.message, "no such key");
	b.len = 0;

	assert_int_equal(ctl_encode_value(&b, "", 0), 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_VALUE);
	assert_int_equal(r.rec.value_len, 0);
	b.len = 0;

	assert_int_equal(ctl_encode_item(&b, "k", 1, "v\0w", 3), 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_ITEM);
	assert_int_equal(r.rec.key_len, 1);
	assert_memory_equal(r.rec.value, "v\0w", 3);
	b.len = 0;

	assert_int_equal(ctl_encode_end(&b, 42, 1), 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_END);
	assert_int_equal(r.count, 42);
	assert_int_equal(r.truncated, 1);
	b.len = 0;

	assert_int_equal(ctl_encode_gap(&b, 9), 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_GAP);
	assert_int_equal(r.count, 9);
	b.len = 0;

	assert_int_equal(ctl_encode_sync(&b, &s), 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_SYNC);
	assert_memory_equal(&r.sync, &s, sizeof(s));
	wire_buf_free(&b);
}

static void test_long_error_message_is_cut_on_a_character(void **state)
{
	char msg[600];
	struct wire_buf b;
	struct ctl_reply r;
	size_t i;

	/* "é" is two bytes: 254 bytes of 'a' put one across byte 255. */
	memset(msg, 'a', 254);
	for (i = 254; i + 2 < sizeof(msg); i += 2)
		memcpy(msg + i, "\xc3\xa9", 2);
	msg[i] = '\0';
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_error(&b, RUMOR_EIO, msg), 0);
	decode_only(&b, &r);
	assert_int_equal(strlen(r.message), 254);
	assert_int_equal(ctl_encode_error(&b, 0, "not an error"),
			 RUMOR_EINVAL);
	wire_buf_free(&b);
}

static void test_records_round_trip_with_value_deleted_or_left_out(void **state)
{
	uint8_t origin[32];
	struct rumor_version v = {
		.key = "key", .key_len = 3, .value = "value", .value_len = 5,
		.clock = 7, .wall_ms = 1700000000123ull, .origin = origin,
		.origin_len = sizeof(origin), .seq = 99,
	};
	struct wire_buf b;
	struct ctl_reply r;

	memset(origin, 0x5a, sizeof(origin));
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_record(&b, &v, 1), 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_RECORD);
	assert_int_equal(r.local, 1);
	assert_int_equal(r.rec.deleted, 0);
	assert_memory_equal(r.rec.value, "value", 5);
	assert_int_equal(r.rec.clock, 7);
	assert_int_equal(r.rec.wall_ms, 1700000000123ull);
	assert_int_equal(r.rec.seq, 99);
	assert_memory_equal(r.rec.origin, origin, 32);
	b.len = 0;

	/* Left out (as in LOG): null value, the size still told. */
	v.value = NULL;
	assert_int_equal(ctl_encode_record(&b, &v, 0), 0);
	decode_only(&b, &r);
	assert_null(r.rec.value);
	assert_int_equal(r.rec.value_len, 5);
	assert_int_equal(r.local, 0);
	b.len = 0;

	v.deleted = 1;
	v.value_len = 0;
	assert_int_equal(ctl_encode_record(&b, &v, 0), 0);
	decode_only(&b, &r);
	assert_int_equal(r.rec.deleted, 1);
	assert_null(r.rec.value);
	assert_int_equal(r.rec.value_len, 0);
	wire_buf_free(&b);
}

static void test_status_round_trips_with_counters_and_hwms(void **state)
{
	struct ctl_status st;
	uint8_t origins[3][32];
	struct ctl_hwm hwm[3];
	struct wire_buf b;
	struct ctl_reply r;
	int i;

	memset(&st, 0, sizeof(st));
	strcpy(st.id, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
	st.mode = RUMOR_MODE_REPLICA;
	strcpy(st.listen, "127.0.0.1:7000");
	strcpy(st.data_dir, "/var/lib/rumor");
	strcpy(st.resolver, "larger_value");
	st.open_network = 1;
	st.catching_up = 1;
	st.catchup_left_ms = 1500;
	st.velocity = 12.5;
	st.interval_ms = 250;
	st.local_seq = 77;
	st.peers_known = 5;
	st.peers_alive = 4;
	st.peers_suspect = 1;
	st.peers_connected = 2;
	i = 1;
#define SET(name) st.stats.name = (uint64_t)i++ * 1000;
	CTL_COUNTERS(SET)
#undef SET
	for (i = 0; i < REFUSE_COUNT; i++)
		st.refused[i] = 7u * (uint64_t)i + 1u;
	strcpy(st.dropped[0].name, "off_link");
	st.dropped[0].count = 9;
	strcpy(st.dropped[1].name, "source_budget");
	st.dropped[1].count = 4;
	st.n_dropped = 2;
	/* A replicate set of one binary prefix. */
	st.replicate[0] = (struct ctl_prefix){(const uint8_t *)"\x00\xff", 2};
	st.n_replicate = 1;
	/* A strong node: quorum 3, 2 reachable, not ready. */
	st.consistency = RUMOR_CONSISTENCY_STRONG;
	st.stats.strong_quorum = 3;
	st.stats.strong_reachable = 2;
	st.ready = 0;
	for (i = 0; i < 3; i++) {
		memset(origins[i], i + 1, 32);
		hwm[i].origin = origins[i];
		hwm[i].origin_len = 32;
		hwm[i].seq = 100u + (unsigned)i;
	}
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_status(&b, &st, 5, hwm, 3), 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_STATUS);
	assert_string_equal(r.status.id, st.id);
	assert_int_equal(r.status.n_replicate, 1);
	assert_int_equal(r.status.replicate[0].len, 2);
	assert_memory_equal(r.status.replicate[0].bytes, "\x00\xff", 2);
	assert_int_equal(r.status.mode, RUMOR_MODE_REPLICA);
	assert_string_equal(r.status.listen, "127.0.0.1:7000");
	assert_string_equal(r.status.data_dir, "/var/lib/rumor");
	assert_string_equal(r.status.resolver, "larger_value");
	assert_int_equal(r.status.open_network, 1);
	assert_int_equal(r.status.catching_up, 1);
	assert_int_equal(r.status.catchup_left_ms, 1500);
	assert_true(r.status.velocity == 12.5);
	assert_int_equal(r.status.interval_ms, 250);
	assert_int_equal(r.status.local_seq, 77);
	assert_int_equal(r.status.peers_known, 5);
	assert_int_equal(r.status.peers_connected, 2);
#define CHECK(name) assert_int_equal(r.status.stats.name, st.stats.name);
	CTL_COUNTERS(CHECK)
#undef CHECK
	/* Every refusal reason arrives under its own name. */
	for (i = 0; i < REFUSE_COUNT; i++)
		assert_int_equal(r.status.refused[i], 7u * (uint64_t)i + 1u);
	/* Announcement drops by discovery's reason names. */
	assert_int_equal(r.status.n_dropped, 2);
	assert_string_equal(r.status.dropped[0].name, "off_link");
	assert_int_equal(r.status.dropped[0].count, 9);
	assert_string_equal(r.status.dropped[1].name, "source_budget");
	assert_int_equal(r.status.dropped[1].count, 4);
	assert_int_equal(r.hwm_total, 5);
	assert_int_equal(r.n_hwm, 3);
	for (i = 0; i < 3; i++) {
		assert_memory_equal(r.hwm[i].origin, origins[i], 32);
		assert_int_equal(r.hwm[i].seq, 100u + (unsigned)i);
	}
	/* No namespace. */
	assert_int_equal(r.status.namespace_len, 0);
	assert_int_equal(r.status.consistency, RUMOR_CONSISTENCY_STRONG);
	assert_int_equal(r.status.stats.strong_quorum, 3);
	assert_int_equal(r.status.stats.strong_reachable, 2);
	assert_int_equal(r.status.ready, 0);
	ctl_reply_free(&r);
	/* More HWMs than the total is a lie the encoder refuses. */
	assert_int_equal(ctl_encode_status(&b, &st, 2, hwm, 3), RUMOR_EINVAL);
	wire_buf_free(&b);
}

/* A node's namespace and replicate set, binary bytes included, arrive
 * as sent; an empty prefix or a 17th is refused by the encoder. */
static void test_status_carries_the_namespace_and_replicate_set(void **state)
{
	static const uint8_t ns[] = {'w', 0x00, 0xff};
	struct ctl_status st;
	struct wire_buf b;
	struct ctl_reply r;
	size_t i;

	(void)state;
	memset(&st, 0, sizeof(st));
	strcpy(st.id, "id");
	st.namespace_prefix = ns;
	st.namespace_len = sizeof ns;
	st.replicate[0] = (struct ctl_prefix){(const uint8_t *)"a/", 2};
	st.replicate[1] = (struct ctl_prefix){ns, 1};
	st.n_replicate = 2;
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_status(&b, &st, 0, NULL, 0), 0);
	decode_only(&b, &r);
	assert_int_equal(r.status.namespace_len, 3);
	assert_memory_equal(r.status.namespace_prefix, ns, 3);
	assert_int_equal(r.status.n_replicate, 2);
	assert_int_equal(r.status.replicate[0].len, 2);
	assert_memory_equal(r.status.replicate[0].bytes, "a/", 2);
	assert_int_equal(r.status.replicate[1].len, 1);
	assert_memory_equal(r.status.replicate[1].bytes, "w", 1);
	ctl_reply_free(&r);

	st.replicate[1].len = 0;
	assert_int_equal(ctl_encode_status(&b, &st, 0, NULL, 0), RUMOR_EINVAL);
	st.replicate[1].len = 1;
	for (i = 0; i < RUMOR_PREFIXES_MAX; i++)
		st.replicate[i] = (struct ctl_prefix){ns, 1};
	st.n_replicate = RUMOR_PREFIXES_MAX + 1;
	assert_int_equal(ctl_encode_status(&b, &st, 0, NULL, 0), RUMOR_EINVAL);
	wire_buf_free(&b);
}

static void test_peer_round_trips(void **state)
{
	struct ctl_peer_info p;
	struct wire_buf b;
	struct ctl_reply r;

	memset(&p, 0, sizeof(p));
	memset(p.id, 0x11, sizeof(p.id));
	strcpy(p.address, "10.0.0.2:7000");
	p.learned = "multicast";
	p.state = "suspect";
	p.connected = 1;
	p.last_contact_ago_ms = 1234;
	p.last_sync_ago_ms = UINT64_MAX;
	p.lag = 17;
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_peer(&b, &p), 0);
	decode_only(&b, &r);
	assert_int_equal(r.type, CTL_R_PEER);
	assert_memory_equal(r.peer.info.id, p.id, sizeof(p.id));
	assert_string_equal(r.peer.info.address, "10.0.0.2:7000");
	assert_string_equal(r.peer.info.learned, "multicast");
	assert_string_equal(r.peer.info.state, "suspect");
	assert_int_equal(r.peer.info.connected, 1);
	assert_int_equal(r.peer.info.last_contact_ago_ms, 1234);
	assert_true(r.peer.info.last_sync_ago_ms == UINT64_MAX);
	assert_int_equal(r.peer.info.lag, 17);
	wire_buf_free(&b);
}

static const struct malformed bad_replies[] = {
	M("unknown type", 0x81, 0x0a),
	M("OK with an extra item", 0x82, 0x00, 0x00),
	M("ERROR with a positive code", 0x83, 0x01, 0x05, 0x60),
	M("ERROR with a huge code", 0x83, 0x01, 0x39, 0x03, 0xe8, 0x60),
	M("ERROR with a byte message", 0x83, 0x01, 0x20, 0x40),
	M("ERROR with a NUL in the message", 0x83, 0x01, 0x20, 0x61, 0x00),
	M("END with truncated 2", 0x83, 0x05, 0x00, 0x02),
	M("VALUE as text", 0x82, 0x02, 0x61, 'v'),
	M("GAP with a negative count", 0x82, 0x09, 0x20),
	M("RECORD cut short", 0x89, 0x03, 0x41, 'k', 0xf6, 0x00, 0x01),
	/* Deleted (flag 1) but carries a value. */
	M("RECORD deletion with a value", 0x89, 0x03, 0x41, 'k', 0x41, 'v',
	  0x01, 0x01, 0x01, 0x00, 0x40, 0x01),
	/* value_len 2 for a one-byte value. */
	M("RECORD with a wrong value_len", 0x89, 0x03, 0x41, 'k', 0x41, 'v',
	  0x02, 0x00, 0x01, 0x00, 0x40, 0x01),
	M("RECORD with unknown flags", 0x89, 0x03, 0x41, 'k', 0xf6, 0x00,
	  0x04, 0x01, 0x00, 0x40, 0x01),
};

static void test_malformed_replies_are_refused(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
		const struct malformed *m = &bad_replies[i];
		struct ctl_reply r;
		struct err err;
		int rv;

		rv = ctl_decode_reply(m->bytes, m->len, &r, &err);
		if (rv != RUMOR_EPROTO)
			fail_msg("%s: decoded (rv %d)", m->why, rv);
		assert_null(r.hwm);
	}
}

/* The strong fields close the STATUS array: consistency, quorum,
 * reachable, ready. A consistency or a ready flag out of its range is
 * refused by the decoder, naming the field. */
static void test_status_strong_fields_out_of_range_are_refused(void **state)
{
	struct ctl_status st;
	struct wire_buf b;
	struct ctl_reply r;
	struct err err;
	uint8_t *body;
	size_t len;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.consistency = RUMOR_CONSISTENCY_STRONG;
	st.stats.strong_quorum = 3;
	st.stats.strong_reachable = 2;
	st.ready = 1;
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_status(&b, &st, 0, NULL, 0), 0);
	body = b.data + CTL_FRAME_HEADER;
	len = b.len - CTL_FRAME_HEADER;
	assert_memory_equal(body + len - 4, "\x01\x03\x02\x01", 4);
	assert_int_equal(ctl_decode_reply(body, len, &r, &err), 0);
	assert_int_equal(r.status.consistency, RUMOR_CONSISTENCY_STRONG);
	assert_int_equal(r.status.stats.strong_quorum, 3);
	assert_int_equal(r.status.stats.strong_reachable, 2);
	assert_int_equal(r.status.ready, 1);
	ctl_reply_free(&r);
	body[len - 4] = 0x02;            /* consistency 2 */
	assert_int_equal(ctl_decode_reply(body, len, &r, &err), RUMOR_EPROTO);
	assert_non_null(strstr(err.msg, "consistency"));
	body[len - 4] = 0x01;
	body[len - 1] = 0x02;            /* ready 2 */
	assert_int_equal(ctl_decode_reply(body, len, &r, &err), RUMOR_EPROTO);
	assert_non_null(strstr(err.msg, "ready"));
	wire_buf_free(&b);
}

/* The longer forms (issue 15): STATUS [1, CTL_STATUS_EXT] asks for the
 * catch-up progress, a write may carry a wait. The short forms stay
 * byte for byte what an older client or node sends and reads: a STATUS
 * reply to [1] is the 25-item array an older rumorctl decodes. */
/* Encodes rq into b (emptied first) and decodes it into out; the body
 * starts with the head_len bytes of head (nothing checked for 0). */
static void request_encodes_as(struct wire_buf *b,
			       const struct ctl_request *rq, const char *head,
			       size_t head_len, struct ctl_request *out)
{
	struct err err;

	wire_buf_reset(b);
	assert_int_equal(ctl_encode_request(b, rq, &err), 0);
	if (head_len > 0)
		assert_memory_equal(b->data + CTL_FRAME_HEADER, head,
				    head_len);
	assert_int_equal(ctl_decode_request(b->data + CTL_FRAME_HEADER,
					    b->len - CTL_FRAME_HEADER, out,
					    &err), 0);
}

/* Encodes st as a STATUS reply without HWMs into b (emptied first) and
 * decodes it into r; the body starts with head, the array header that
 * gives the reply's item count. */
static void status_encodes_as(struct wire_buf *b, const struct ctl_status *st,
			      const char head[2], struct ctl_reply *r)
{
	struct err err;

	wire_buf_reset(b);
	assert_int_equal(ctl_encode_status(b, st, 0, NULL, 0), 0);
	assert_memory_equal(b->data + CTL_FRAME_HEADER, head, 2);
	assert_int_equal(ctl_decode_reply(b->data + CTL_FRAME_HEADER,
					  b->len - CTL_FRAME_HEADER, r, &err),
			 0);
}

static void test_extended_forms_round_trip_and_short_forms_stay(void **state)
{
	static const uint8_t key[] = "k";
	struct ctl_request rq = {.cmd = CTL_CMD_STATUS}, out;
	struct ctl_status st;
	struct wire_buf b;
	struct ctl_reply r;
	struct err err;

	(void)state;
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_request(&b, &rq, &err), 0);
	assert_int_equal(b.len, CTL_FRAME_HEADER + 2);        /* [1] */
	assert_int_equal(ctl_decode_request(b.data + CTL_FRAME_HEADER,
					    b.len - CTL_FRAME_HEADER, &out,
					    &err), 0);
	assert_int_equal(out.status_version, 0);
	rq.status_version = CTL_STATUS_EXT;
	request_encodes_as(&b, &rq, "\x82\x01\x02", 3, &out);
	assert_int_equal(out.status_version, CTL_STATUS_EXT);

	/* A PUT with a wait, a DEL with the node's default, and without. */
	rq = (struct ctl_request){.cmd = CTL_CMD_PUT, .key = key, .key_len = 1,
				  .value = key, .value_len = 1, .has_wait = 1,
				  .wait_ms = 250};
	request_encodes_as(&b, &rq, NULL, 0, &out);
	assert_true(out.has_wait);
	assert_int_equal(out.wait_ms, 250);
	rq = (struct ctl_request){.cmd = CTL_CMD_DEL, .key = key, .key_len = 1,
				  .has_wait = 1, .wait_ms = CTL_WAIT_DEFAULT};
	request_encodes_as(&b, &rq, NULL, 0, &out);
	assert_int_equal(out.wait_ms, CTL_WAIT_DEFAULT);
	rq.wait_ms = CTL_WAIT_MAX + 1;
	assert_int_equal(ctl_encode_request(&b, &rq, &err), RUMOR_EINVAL);
	rq.has_wait = 0;
	request_encodes_as(&b, &rq, "\x82\x05", 2, &out);
	assert_false(out.has_wait);

	/* STATUS replies: short (25 items), then extended (30). */
	memset(&st, 0, sizeof(st));
	st.catching_up = 1;
	st.catchup_received = 1200;
	st.catchup_expected = CTL_UNKNOWN;
	st.catchup_rate = 400.5;
	st.catchup_eta_ms = CTL_UNKNOWN;
	st.catchup_wait_ms = 3000;
	status_encodes_as(&b, &st, "\x98\x19", &r);
	assert_false(r.status.extended);
	assert_int_equal(r.status.catchup_received, 0);
	ctl_reply_free(&r);
	st.extended = 1;
	status_encodes_as(&b, &st, "\x98\x1e", &r);
	assert_true(r.status.extended);
	assert_int_equal(r.status.catchup_received, 1200);
	assert_true(r.status.catchup_expected == CTL_UNKNOWN);
	assert_true(r.status.catchup_rate == 400.5);
	assert_true(r.status.catchup_eta_ms == CTL_UNKNOWN);
	assert_int_equal(r.status.catchup_wait_ms, 3000);
	ctl_reply_free(&r);
	wire_buf_free(&b);
}

static void test_status_with_more_hwms_than_its_total_is_refused(void **state)
{
	struct ctl_status st;
	uint8_t origin[32] = {1};
	struct ctl_hwm hwm = {origin, 32, 5};
	struct wire_buf b;
	struct ctl_reply r;
	struct err err;
	uint8_t *p;
	size_t len, i;

	memset(&st, 0, sizeof(st));
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_status(&b, &st, 1, &hwm, 1), 0);
	p = b.data + CTL_FRAME_HEADER;
	len = b.len - CTL_FRAME_HEADER;
	/* hwm_total is the uint just before the hwm array (0x81): make it
	 * 0. */
	for (i = len - 1; i > 0; i--)
		if (p[i] == 0x81 && p[i - 1] == 0x01 && p[i + 1] == 0x82)
			break;
	assert_true(i > 0);
	p[i - 1] = 0x00;
	assert_int_equal(ctl_decode_reply(p, len, &r, &err), RUMOR_EPROTO);
	assert_null(r.hwm);
	wire_buf_free(&b);
}

static void test_random_bytes_never_decode_out_of_bounds(void **state)
{
	uint8_t buf[64];
	unsigned seed = 12345;
	int round;

	/* Under ASan, an out-of-bounds read here fails the test. */
	for (round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(buf)), i;
		struct ctl_request rq;
		struct ctl_reply r;
		struct err err;
		uint8_t *copy;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rand_r(&seed);
		/* Bias towards plausible heads. */
		if (len > 0 && round % 2)
			buf[0] = (uint8_t)(0x81 + rand_r(&seed) % 9);
		if (len > 1 && round % 4 == 1)
			buf[1] = (uint8_t)(rand_r(&seed) % 11);
		copy = malloc(len ? len : 1);
		memcpy(copy, buf, len);
		(void)ctl_decode_request(copy, len, &rq, &err);
		if (ctl_decode_reply(copy, len, &r, &err) == 0)
			ctl_reply_free(&r);
		free(copy);
	}
}

/* The node appends many replies to one wire_buf before it writes it out
 * (and the peer protocol shares the type): each frame lands after what
 * the buffer already holds, and a refused one leaves it as it was. */
static void test_replies_append_to_a_buffer_in_use(void **state)
{
	static const uint8_t before[3] = {0xaa, 0xbb, 0xcc};
	struct wire_buf b;
	struct ctl_reply r;
	struct err err;
	size_t at, len;

	(void)state;
	wire_buf_init(&b);
	assert_int_equal(wire_buf_reserve(&b, sizeof(before)), 0);
	memcpy(b.data, before, sizeof(before));
	b.len = sizeof(before);
	assert_int_equal(ctl_encode_gap(&b, 7), 0);
	at = b.len;
	assert_int_equal(ctl_encode_end(&b, 3, 1), 0);
	assert_int_equal(ctl_encode_error(&b, 1, "not negative"),
			 RUMOR_EINVAL);
	assert_int_equal(b.len, at + CTL_FRAME_HEADER +
			 ctl_frame_length(b.data + at));
	assert_memory_equal(b.data, before, sizeof(before));

	len = ctl_frame_length(b.data + sizeof(before));
	assert_int_equal(ctl_decode_reply(b.data + sizeof(before) +
					  CTL_FRAME_HEADER, len, &r, &err), 0);
	assert_int_equal(r.type, CTL_R_GAP);
	assert_int_equal(r.count, 7);
	len = ctl_frame_length(b.data + at);
	assert_int_equal(ctl_decode_reply(b.data + at + CTL_FRAME_HEADER, len,
					  &r, &err), 0);
	assert_int_equal(r.type, CTL_R_END);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.truncated, 1);
	wire_buf_free(&b);
}

static void test_frame_length_reads_big_endian(void **state)
{
	const uint8_t hdr[4] = {0x01, 0x02, 0x03, 0x04};

	assert_int_equal(ctl_frame_length(hdr), 0x01020304u);
	assert_string_equal(ctl_cmd_name(CTL_CMD_SCAN), "SCAN");
	assert_string_equal(ctl_cmd_name(99), "?");
	assert_string_equal(ctl_reply_name(CTL_R_GAP), "GAP");
}

/* ------------------------------------------------------------ why */

static const struct ctl_why_row why_row_sample = {
	.id = {9, 9, 9}, .status = CTL_WHY_ANSWERED, .role = CTL_WHY_BEHIND,
	.found = 1, .clock = 3, .origin = {4, 5, 6}, .seq = 12,
	.wall_ms = 1700000000000ull, .value_len = 70000,
	.hash = {0xde, 0xad}, .symmetry_violations = 1,
	.resolver = "larger-value", .lag_clock = 2, .lag_seq = 0,
	.lag_ms = 1500,
};

static const struct ctl_why_summary why_sample = {
	.verdict = CTL_WHY_CONVERGING, .reason = CTL_WHY_BY_CLOCK,
	.winner_row = 0, .rows = 3, .resolver = "default", .not_asked = 1,
	.max_lag_clock = 2, .max_lag_seq = 0, .max_lag_ms = 1500,
	.winner_age_ms = 90,
};

static int decode_one_reply(const struct wire_buf *b, struct ctl_reply *r)
{
	struct err err;
	const uint8_t *body;
	size_t len;

	body = only_frame(b, &len);
	return ctl_decode_reply(body, len, r, &err);
}

static void test_why_rows_and_summary_round_trip(void **state)
{
	struct ctl_why_row row = why_row_sample, absent;
	struct ctl_why_summary s = why_sample;
	struct ctl_reply r;
	struct wire_buf b;

	(void)state;
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_why_row(&b, &row), 0);
	assert_int_equal(decode_one_reply(&b, &r), 0);
	assert_int_equal(r.type, CTL_R_WHYROW);
	assert_memory_equal(&r.why_row, &row, sizeof row);
	/* not found: origin and hash go empty and come back zero */
	memset(&absent, 0, sizeof absent);
	absent.id[0] = 1;
	absent.status = CTL_WHY_UNREACHABLE;
	b.len = 0;
	assert_int_equal(ctl_encode_why_row(&b, &absent), 0);
	assert_int_equal(decode_one_reply(&b, &r), 0);
	assert_memory_equal(&r.why_row, &absent, sizeof absent);
	b.len = 0;
	assert_int_equal(ctl_encode_why(&b, &s), 0);
	assert_int_equal(decode_one_reply(&b, &r), 0);
	assert_int_equal(r.type, CTL_R_WHY);
	assert_memory_equal(&r.why, &s, sizeof s);
	/* out of range: refused, nothing appended */
	b.len = 0;
	row.status = CTL_WHY_STATUS_MAX + 1;
	assert_int_equal(ctl_encode_why_row(&b, &row), RUMOR_EINVAL);
	s.reason = 0;
	assert_int_equal(ctl_encode_why(&b, &s), RUMOR_EINVAL);
	s.reason = CTL_WHY_BY_NONE;
	s.winner_row = s.rows + 1;
	assert_int_equal(ctl_encode_why(&b, &s), RUMOR_EINVAL);
	assert_int_equal(b.len, 0);
	wire_buf_free(&b);
}

static void test_malformed_why_replies_are_refused(void **state)
{
	struct ctl_why_summary s = why_sample;
	struct ctl_reply r;
	struct wire_buf b;
	struct err err;
	const uint8_t *body;
	uint8_t *copy;
	size_t len, cut;

	(void)state;
	wire_buf_init(&b);
	assert_int_equal(ctl_encode_why(&b, &s), 0);
	body = only_frame(&b, &len);
	copy = malloc(len);
	assert_non_null(copy);
	/* every strict prefix */
	for (cut = 0; cut < len; cut++)
		assert_int_equal(ctl_decode_reply(body, cut, &r, &err),
				 RUMOR_EPROTO);
	/* verdict 3 (the byte after the array head and type) */
	memcpy(copy, body, len);
	copy[2] = CTL_WHY_VERDICT_MAX + 1;
	assert_int_equal(ctl_decode_reply(copy, len, &r, &err), RUMOR_EPROTO);
	/* reason 0 */
	memcpy(copy, body, len);
	copy[3] = 0;
	assert_int_equal(ctl_decode_reply(copy, len, &r, &err), RUMOR_EPROTO);
	/* winner_row past rows */
	memcpy(copy, body, len);
	copy[4] = 4;
	assert_int_equal(ctl_decode_reply(copy, len, &r, &err), RUMOR_EPROTO);
	assert_non_null(strstr(err.msg, "winner_row"));
	free(copy);
	wire_buf_free(&b);
}

/* ------------------------------------------------------------ corpus */

/* One frame of each request and reply, as the seeds of fuzz_ctl. */
static void encode_request_seeds(struct wire_buf *b, const char **names)
{
	static const uint8_t key[] = "k1", value[] = "v\x00\xff";
	const struct ctl_request rq[] = {
		{.cmd = CTL_CMD_STATUS},
		{.cmd = CTL_CMD_PEERS},
		{.cmd = CTL_CMD_GET, .key = key, .key_len = 2},
		{.cmd = CTL_CMD_PUT, .key = key, .key_len = 2, .value = value,
		 .value_len = 3},
		{.cmd = CTL_CMD_DEL, .key = key, .key_len = 2},
		{.cmd = CTL_CMD_SCAN, .key = key, .key_len = 1, .limit = 100},
		{.cmd = CTL_CMD_WATCH, .key = key, .key_len = 0},
		{.cmd = CTL_CMD_LOG, .limit = 20},
		{.cmd = CTL_CMD_VERSION, .key = key, .key_len = 2},
		{.cmd = CTL_CMD_SYNC, .timeout_ms = 10000},
		{.cmd = CTL_CMD_SPUT, .key = key, .key_len = 2, .value = value,
		 .value_len = 3},
		{.cmd = CTL_CMD_SDEL, .key = key, .key_len = 2},
		{.cmd = CTL_CMD_WHY, .key = key, .key_len = 2,
		 .timeout_ms = 2000},
	};
	struct err err;
	size_t i;

	for (i = 0; i < CTL_CMD_MAX; i++) {
		wire_buf_init(&b[i]);
		assert_int_equal(ctl_encode_request(&b[i], &rq[i], &err), 0);
		names[i] = ctl_cmd_name(rq[i].cmd);
	}
}

static void encode_reply_seeds(struct wire_buf *b, const char **names)
{
	static const uint8_t origin[32] = {1, 2, 3};
	struct rumor_version v = {
		.key = "k1", .key_len = 2, .value = "v1", .value_len = 2,
		.clock = 7, .wall_ms = 1700000000000ull, .origin = origin,
		.origin_len = sizeof(origin), .seq = 5,
	};
	struct ctl_status st;
	struct ctl_peer_info peer;
	struct ctl_sync_report sync = {
		.peers_tried = 2, .peers_completed = 1, .entries_sent = 10,
		.entries_received = 20, .entries_applied = 19,
		.bytes_in = 1000, .bytes_out = 500,
	};
	struct ctl_hwm hwm = {origin, sizeof(origin), 5};
	size_t i;

	memset(&st, 0, sizeof(st));
	snprintf(st.id, sizeof(st.id), "AQID%s", "AAAAAAAAAAAAAAAAAAAAAAAA");
	snprintf(st.listen, sizeof(st.listen), "127.0.0.1:7000");
	snprintf(st.data_dir, sizeof(st.data_dir), "/var/lib/rumor");
	st.velocity = 1.5;
	st.interval_ms = 1000;
	st.stats.keys = 3;
	memset(&peer, 0, sizeof(peer));
	memset(peer.id, 7, sizeof(peer.id));
	snprintf(peer.address, sizeof(peer.address), "10.0.0.2:7000");
	peer.learned = "multicast";
	peer.state = "alive";
	peer.last_sync_ago_ms = UINT64_MAX;
	for (i = 0; i <= CTL_R_MAX; i++) {
		wire_buf_init(&b[i]);
		names[i] = ctl_reply_name((int)i);
	}
	assert_int_equal(ctl_encode_ok(&b[CTL_R_OK]), 0);
	assert_int_equal(ctl_encode_error(&b[CTL_R_ERROR], RUMOR_EREFUSED,
					  "catching up"), 0);
	assert_int_equal(ctl_encode_value(&b[CTL_R_VALUE], "v1", 2), 0);
	assert_int_equal(ctl_encode_record(&b[CTL_R_RECORD], &v, 1), 0);
	assert_int_equal(ctl_encode_item(&b[CTL_R_ITEM], "k1", 2, "v1", 2), 0);
	assert_int_equal(ctl_encode_end(&b[CTL_R_END], 4, 1), 0);
	assert_int_equal(ctl_encode_status(&b[CTL_R_STATUS], &st, 1, &hwm, 1),
			 0);
	assert_int_equal(ctl_encode_peer(&b[CTL_R_PEER], &peer), 0);
	assert_int_equal(ctl_encode_sync(&b[CTL_R_SYNC], &sync), 0);
	assert_int_equal(ctl_encode_gap(&b[CTL_R_GAP], 12), 0);
	assert_int_equal(ctl_encode_why_row(&b[CTL_R_WHYROW],
					    &why_row_sample), 0);
	assert_int_equal(ctl_encode_why(&b[CTL_R_WHY], &why_sample), 0);
}

/* Writes (write set) or compares the body of the frame in b with
 * tests/fuzz/corpus/ctl/<prefix><name>.cbor. */
static void seed_file(const char *prefix, const char *name,
		      const struct wire_buf *b, int write)
{
	char path[512];
	uint8_t buf[4096];
	const uint8_t *body;
	size_t len, n;
	FILE *fp;

	body = only_frame(b, &len);
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/ctl/%s%s.cbor",
		 RUMOR_TOP_SRCDIR, prefix, name);
	fp = fopen(path, write ? "wb" : "rb");
	if (fp == NULL)
		fail_msg("cannot open %s (RUMOR_WRITE_CORPUS=1 writes it)",
			 path);
	if (write) {
		assert_int_equal(fwrite(body, 1, len, fp), len);
		assert_int_equal(fclose(fp), 0);
		return;
	}
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_int_equal(n, len);
	assert_memory_equal(buf, body, len);
}

/* The seed corpus of fuzz_ctl is exactly what the encoders write;
 * RUMOR_WRITE_CORPUS=1 rewrites it after an intended format change. */
static void test_seed_corpus_matches_the_encoders(void **state)
{
	struct wire_buf rq[CTL_CMD_MAX], rp[CTL_R_MAX + 1];
	const char *rq_names[CTL_CMD_MAX], *rp_names[CTL_R_MAX + 1];
	int write = getenv("RUMOR_WRITE_CORPUS") != NULL;
	size_t i;

	(void)state;
	encode_request_seeds(rq, rq_names);
	encode_reply_seeds(rp, rp_names);
	for (i = 0; i < CTL_CMD_MAX; i++) {
		seed_file("request_", rq_names[i], &rq[i], write);
		wire_buf_free(&rq[i]);
	}
	for (i = 0; i <= CTL_R_MAX; i++) {
		seed_file("reply_", rp_names[i], &rp[i], write);
		wire_buf_free(&rp[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_request_round_trips),
		cmocka_unit_test(test_empty_prefix_and_empty_value_round_trip),
		cmocka_unit_test(test_largest_put_round_trips),
		cmocka_unit_test(test_encoder_refuses_bad_requests_and_appends_nothing),
		cmocka_unit_test(test_malformed_requests_are_refused),
		cmocka_unit_test(test_simple_replies_round_trip),
		cmocka_unit_test(test_long_error_message_is_cut_on_a_character),
		cmocka_unit_test(test_records_round_trip_with_value_deleted_or_left_out),
		cmocka_unit_test(test_status_round_trips_with_counters_and_hwms),
		cmocka_unit_test(test_status_carries_the_namespace_and_replicate_set),
		cmocka_unit_test(test_peer_round_trips),
		cmocka_unit_test(test_malformed_replies_are_refused),
		cmocka_unit_test(test_status_with_more_hwms_than_its_total_is_refused),
		cmocka_unit_test(test_status_strong_fields_out_of_range_are_refused),
		cmocka_unit_test(test_extended_forms_round_trip_and_short_forms_stay),
		cmocka_unit_test(test_random_bytes_never_decode_out_of_bounds),
		cmocka_unit_test(test_replies_append_to_a_buffer_in_use),
		cmocka_unit_test(test_frame_length_reads_big_endian),
		cmocka_unit_test(test_why_rows_and_summary_round_trip),
		cmocka_unit_test(test_malformed_why_replies_are_refused),
		cmocka_unit_test(test_seed_corpus_matches_the_encoders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
