/* SPDX-License-Identifier: MIT */
/*
 * test_wire_decode: every malformed frame is refused with RUMOR_EPROTO
 * and a message saying what was wrong; nothing crashes, reads past the
 * input or allocates without bound.
 *
 * Malformed inputs are written with the fixture's small CBOR writer
 * (tb_*) rather than libcbor, so the tests also check the encoding byte
 * by byte independently of the library that produced it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_wire_fixture.h"

/* Well-formed pieces the malformed rows start from. */
static void tb_hello(struct tb *t, uint64_t port, uint64_t mode)
{
	tb_arr(t, 6);
	tb_u(t, WIRE_HELLO);
	tb_u(t, WIRE_PROTO_VERSION);
	tb_u(t, port);
	tb_u(t, mode);
	tb_u(t, 1700000000000ull);
	tb_u(t, 0);
}

static void tb_digest_head(struct tb *t, uint64_t n)
{
	tb_arr(t, 3);
	tb_u(t, WIRE_DIGEST);
	tb_u(t, 42);
	tb_arr(t, n);
}

static void tb_batch_head(struct tb *t, uint64_t n)
{
	tb_arr(t, 4);
	tb_u(t, WIRE_BATCH);
	tb_u(t, 42);
	tb_bstr(t, WIRE_ORIGIN_BYTES, 0xa0);
	tb_arr(t, n);
}

/* The first four fields of an entry. */
static void tb_entry_head(struct tb *t, uint64_t flags)
{
	tb_arr(t, 6);
	tb_u(t, 7);
	tb_u(t, 3);
	tb_u(t, 1700000000000ull);
	tb_u(t, flags);
}

static void tb_members_head(struct tb *t)
{
	tb_arr(t, 2);
	tb_u(t, WIRE_MEMBERS);
	tb_arr(t, 1);
	tb_arr(t, 5);
	tb_bstr(t, WIRE_NODE_ID_BYTES, 0x11);
}

/* ------------------------------------------------------------ malformed input */

/* Each prefix of a valid frame is refused, from a copy sized exactly to
 * the prefix so that ASan catches any read past it. */
static void test_every_truncation_is_rejected(void **state)
{
	struct fixture *f = *state;
	struct sample s[N_SAMPLES];
	uint8_t *copy;
	size_t i, cut;

	build_samples(s);
	for (i = 0; i < N_SAMPLES; i++) {
		assert_int_equal(wire_decode(&f->dec, s[i].buf.data,
					     s[i].buf.len, &f->msg, &f->err), 0);
		for (cut = 0; cut < s[i].buf.len; cut++) {
			copy = malloc(cut ? cut : 1);
			assert_non_null(copy);
			memcpy(copy, s[i].buf.data, cut);
			if (wire_decode(&f->dec, copy, cut, &f->msg,
					&f->err) != RUMOR_EPROTO)
				fail_msg("%s cut at %zu was accepted",
					 s[i].name, cut);
			free(copy);
		}
	}
	free_samples(s);
}

/* Flipping any bit of a valid frame never crashes: it decodes or is
 * refused with RUMOR_EPROTO. */
static void test_bit_flips_never_crash(void **state)
{
	struct fixture *f = *state;
	struct sample s[N_SAMPLES];
	size_t i, byte;
	int bit, rv;

	build_samples(s);
	for (i = 0; i < N_SAMPLES; i++)
		for (byte = 0; byte < s[i].buf.len; byte++)
			for (bit = 0; bit < 8; bit++) {
				s[i].buf.data[byte] ^= (uint8_t)(1u << bit);
				rv = wire_decode(&f->dec, s[i].buf.data,
						 s[i].buf.len, &f->msg,
						 &f->err);
				assert_true(rv == 0 || rv == RUMOR_EPROTO);
				s[i].buf.data[byte] ^= (uint8_t)(1u << bit);
			}
	free_samples(s);
}


BAD(empty_input) { (void)t; }
BAD(top_level_uint) { tb_u(t, 7); }
BAD(top_level_map) { tb_head(t, 5, 0); }
BAD(top_level_break) { tb_byte(t, 0xff); }
BAD(array_of_one) { tb_arr(t, 1); tb_u(t, 7); }
BAD(type_zero) { tb_arr(t, 2); tb_u(t, 0); tb_u(t, 1); }
BAD(type_twentythree) { tb_arr(t, 2); tb_u(t, 23); tb_u(t, 1); }
BAD(type_huge) { tb_arr(t, 2); tb_u(t, UINT64_MAX); tb_u(t, 1); }
BAD(type_as_text) { tb_arr(t, 2); tb_tstr(t, "7"); tb_u(t, 1); }
BAD(type_negative) { tb_arr(t, 2); tb_head(t, 1, 0); tb_u(t, 1); }
BAD(ping_three_items) { tb_arr(t, 3); tb_u(t, 7); tb_u(t, 1); tb_u(t, 2); }
BAD(ping_nonce_bytes) { tb_arr(t, 2); tb_u(t, 7); tb_bstr(t, 1, 1); }
BAD(ping_nonce_half_float)
{
	tb_arr(t, 2); tb_u(t, 7); tb_byte(t, 0xf9); tb_byte(t, 0x3e);
	tb_byte(t, 0x00);
}
BAD(ping_nonce_double)
{
	tb_arr(t, 2); tb_u(t, 7); tb_byte(t, 0xfb); tb_raw(t, "\0\0\0\0\0\0\0\0", 8);
}
BAD(ping_nonce_tagged) { tb_arr(t, 2); tb_u(t, 7); tb_head(t, 6, 1); tb_u(t, 5); }
BAD(pong_nonce_negative) { tb_arr(t, 2); tb_u(t, 8); tb_head(t, 1, 5); }
BAD(ping_trailing_byte) { tb_arr(t, 2); tb_u(t, 7); tb_u(t, 1); tb_u(t, 0); }
BAD(ping_reserved_info) { tb_arr(t, 2); tb_u(t, 7); tb_byte(t, 0x1c); }
BAD(ack_bytes_undefined) { tb_arr(t, 3); tb_u(t, 4); tb_u(t, 1); tb_byte(t, 0xf7); }
BAD(bye_reason_true) { tb_arr(t, 2); tb_u(t, 9); tb_byte(t, 0xf5); }
BAD(bye_reason_simple)
{
	tb_arr(t, 2); tb_u(t, 9); tb_byte(t, 0xf8); tb_byte(t, 0x20);
}
BAD(indefinite_top_array)
{
	tb_byte(t, 0x9f); tb_u(t, 7); tb_u(t, 1); tb_byte(t, 0xff);
}
BAD(huge_string_length)
{
	tb_arr(t, 2); tb_u(t, 7); tb_head(t, 2, UINT64_MAX / 2);
	tb_raw(t, "abc", 3);
}
BAD(hello_port_65536) { tb_hello(t, 65536, 0); }
BAD(hello_mode_two) { tb_hello(t, 80, 2); }
BAD(hello_missing_flags)
{
	tb_arr(t, 5); tb_u(t, 1); tb_u(t, 1); tb_u(t, 80); tb_u(t, 0);
	tb_u(t, 0);
}
BAD(hello_extra_field)
{
	tb_arr(t, 7); tb_u(t, 1); tb_u(t, 1); tb_u(t, 80); tb_u(t, 0);
	tb_u(t, 0); tb_u(t, 0); tb_u(t, 0);
}
BAD(hello_eight_items)
{
	tb_arr(t, 8); tb_u(t, 1); tb_u(t, 1); tb_u(t, 80); tb_u(t, 0);
	tb_u(t, 0); tb_u(t, 0); tb_bstr(t, 4, 1); tb_u(t, 0);
}
BAD(hello_replicate_empty)
{
	tb_arr(t, 7); tb_u(t, 1); tb_u(t, 1); tb_u(t, 80); tb_u(t, 0);
	tb_u(t, 0); tb_u(t, 0); tb_bstr(t, 0, 0);
}
BAD(hello_replicate_too_long)
{
	tb_arr(t, 7); tb_u(t, 1); tb_u(t, 1); tb_u(t, 80); tb_u(t, 0);
	tb_u(t, 0); tb_u(t, 0); tb_bstr(t, WIRE_HELLO_REPLICATE_MAX + 1, 1);
}
BAD(digest_origin_31)
{
	tb_digest_head(t, 1); tb_arr(t, 2); tb_bstr(t, 31, 1); tb_u(t, 1);
	tb_pad(t, 1);
}
BAD(digest_origin_33)
{
	tb_digest_head(t, 1); tb_arr(t, 2); tb_bstr(t, 33, 1); tb_u(t, 1);
}
BAD(digest_origin_text)
{
	tb_digest_head(t, 1); tb_arr(t, 2);
	tb_tstr(t, "0123456789abcdef0123456789abcdef"); tb_u(t, 1);
}
BAD(digest_pair_of_three)
{
	tb_digest_head(t, 1); tb_arr(t, 3); tb_bstr(t, 32, 1); tb_u(t, 1);
	tb_u(t, 1);
}
BAD(digest_hwm_nested_too_deep)
{
	tb_digest_head(t, 1); tb_arr(t, 2); tb_bstr(t, 32, 1); tb_arr(t, 1);
	tb_u(t, 1);
}
BAD(digest_count_beyond_input) { tb_digest_head(t, 65536); }
BAD(digest_count_over_limit) { tb_digest_head(t, WIRE_DIGEST_MAX + 1); }
BAD(digest_count_2_pow_63) { tb_digest_head(t, 1ull << 63); }
BAD(digest_indefinite_list)
{
	tb_arr(t, 3); tb_u(t, 2); tb_u(t, 1); tb_byte(t, 0x9f); tb_byte(t, 0xff);
}
BAD(batch_missing_origin)
{
	tb_arr(t, 3); tb_u(t, 3); tb_u(t, 1); tb_arr(t, 0);
}
BAD(batch_origin_31)
{
	tb_arr(t, 4); tb_u(t, 3); tb_u(t, 1); tb_bstr(t, 31, 0); tb_arr(t, 0);
}
BAD(batch_origin_indefinite)
{
	tb_arr(t, 4); tb_u(t, 3); tb_u(t, 1); tb_byte(t, 0x5f);
	tb_bstr(t, 32, 0); tb_byte(t, 0xff); tb_arr(t, 0);
}
BAD(batch_entry_of_five)
{
	tb_batch_head(t, 1); tb_arr(t, 5); tb_u(t, 1); tb_u(t, 1); tb_u(t, 1);
	tb_u(t, 0); tb_bstr(t, 1, 'k'); tb_pad(t, 1);
}
BAD(batch_entry_as_map) { tb_batch_head(t, 1); tb_head(t, 5, 0); tb_pad(t, 8); }
BAD(batch_key_empty)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_bstr(t, 0, 0);
	tb_bstr(t, 1, 'v');
}
BAD(batch_key_too_long)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0);
	tb_bstr(t, WIRE_KEY_MAX + 1, 'k'); tb_bstr(t, 1, 'v');
}
BAD(batch_key_text)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_tstr(t, "k");
	tb_bstr(t, 1, 'v');
}
BAD(batch_value_too_long)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_bstr(t, 1, 'k');
	tb_bstr(t, WIRE_VALUE_MAX + 1, 'v');
}
BAD(batch_value_on_deleted)
{
	tb_batch_head(t, 1); tb_entry_head(t, WIRE_ENTRY_DELETED);
	tb_bstr(t, 1, 'k'); tb_bstr(t, 1, 'v');
}
BAD(batch_empty_value_on_deleted)
{
	tb_batch_head(t, 1); tb_entry_head(t, WIRE_ENTRY_DELETED);
	tb_bstr(t, 1, 'k'); tb_bstr(t, 0, 0);
}
BAD(batch_null_on_live)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_bstr(t, 1, 'k');
	tb_byte(t, 0xf6);
}
BAD(batch_unknown_flag)
{
	tb_batch_head(t, 1); tb_entry_head(t, 4); tb_bstr(t, 1, 'k');
	tb_bstr(t, 1, 'v');
}
BAD(batch_skip)
{
	tb_batch_head(t, 1); tb_arr(t, 6); tb_u(t, 7); tb_u(t, 0); tb_u(t, 0);
	tb_u(t, WIRE_ENTRY_SKIP); tb_bstr(t, 0, 0); tb_byte(t, 0xf6);
	tb_pad(t, 1);
}
/* An MBATCH entry [index 0, seq 7, clock, wall, flags, key of klen]
 * then null, in a frame of exchange xid with one origin. */
static void tb_skip(struct tb *t, uint64_t xid, uint64_t clock,
		    uint64_t flags, size_t klen)
{
	tb_arr(t, 4); tb_u(t, WIRE_MBATCH); tb_u(t, xid); tb_arr(t, 1);
	tb_arr(t, 7); tb_u(t, 0); tb_u(t, 7); tb_u(t, clock); tb_u(t, 0);
	tb_u(t, flags); tb_bstr(t, klen, 'k'); tb_byte(t, 0xf6);
	tb_arr(t, 1); tb_bstr(t, WIRE_ORIGIN_BYTES, 0xa0);
}
BAD(mbatch_skip_in_a_round) { tb_skip(t, 42, 0, WIRE_ENTRY_SKIP, 0); }
BAD(live_skip_with_a_key) { tb_skip(t, 0, 0, WIRE_ENTRY_SKIP, 1); }
BAD(live_skip_with_a_clock) { tb_skip(t, 0, 3, WIRE_ENTRY_SKIP, 0); }
BAD(live_skip_deleted)
{
	tb_skip(t, 0, 0, WIRE_ENTRY_SKIP | WIRE_ENTRY_DELETED, 0);
}
BAD(batch_value_indefinite)
{
	tb_batch_head(t, 1); tb_entry_head(t, 0); tb_bstr(t, 1, 'k');
	tb_byte(t, 0x5f); tb_bstr(t, 1, 'v'); tb_byte(t, 0xff);
}
BAD(batch_seq_nested_too_deep)
{
	tb_batch_head(t, 1); tb_arr(t, 6); tb_arr(t, 1); tb_u(t, 1);
	tb_u(t, 1); tb_u(t, 1); tb_u(t, 0); tb_bstr(t, 1, 'k');
	tb_bstr(t, 1, 'v');
}
BAD(batch_count_beyond_input) { tb_batch_head(t, 60000); tb_bstr(t, 100, 0); }
BAD(batch_count_over_limit) { tb_batch_head(t, WIRE_BATCH_MAX + 1); }
BAD(batch_fewer_entries_than_count)
{
	size_t i;

	tb_batch_head(t, 3);
	for (i = 0; i < 2; i++) {
		tb_entry_head(t, 0); tb_bstr(t, 1, 'k'); tb_bstr(t, 1, 'v');
	}
	tb_raw(t, "\0\0\0\0\0\0\0\0\0\0", 10);
}
BAD(members_port_65536)
{
	tb_members_head(t); tb_tstr(t, "h"); tb_u(t, 65536); tb_u(t, 0);
	tb_u(t, 0);
}
BAD(members_state_three)
{
	tb_members_head(t); tb_tstr(t, "h"); tb_u(t, 1); tb_u(t, 3);
	tb_u(t, 0);
}
BAD(members_host_empty)
{
	tb_members_head(t); tb_tstr(t, ""); tb_u(t, 1); tb_u(t, 0);
	tb_u(t, 0); tb_pad(t, 1);
}
BAD(members_host_256)
{
	char host[257];

	memset(host, 'h', 256);
	host[256] = '\0';
	tb_members_head(t); tb_tstr(t, host); tb_u(t, 1); tb_u(t, 0);
	tb_u(t, 0);
}
BAD(members_host_bytes)
{
	tb_members_head(t); tb_bstr(t, 1, 'h'); tb_u(t, 1); tb_u(t, 0);
	tb_u(t, 0);
}
BAD(members_host_nul)
{
	tb_members_head(t); tb_head(t, 3, 3); tb_raw(t, "a\0b", 3);
	tb_u(t, 1); tb_u(t, 0); tb_u(t, 0);
}
BAD(members_host_indefinite)
{
	tb_members_head(t); tb_byte(t, 0x7f); tb_tstr(t, "h"); tb_byte(t, 0xff);
	tb_u(t, 1); tb_u(t, 0); tb_u(t, 0);
}
BAD(members_node_id_31)
{
	tb_arr(t, 2); tb_u(t, WIRE_MEMBERS); tb_arr(t, 1); tb_arr(t, 5);
	tb_bstr(t, 31, 1); tb_tstr(t, "h"); tb_u(t, 1); tb_u(t, 0);
	tb_u(t, 0); tb_pad(t, 1);
}
BAD(members_count_over_limit)
{
	tb_arr(t, 2); tb_u(t, WIRE_MEMBERS); tb_arr(t, WIRE_MEMBERS_MAX + 1);
}

/* An MBATCH of one entry whose origin index is index, then a table of
 * n origins filled 1, 2, ... */
static void tb_mbatch(struct tb *t, uint64_t index, uint64_t n)
{
	uint64_t i;

	tb_arr(t, 4);
	tb_u(t, WIRE_MBATCH);
	tb_u(t, 42);
	tb_arr(t, 1);
	tb_arr(t, 7);
	tb_u(t, index);
	tb_u(t, 7);
	tb_u(t, 3);
	tb_u(t, 1700000000000ull);
	tb_u(t, 0);
	tb_bstr(t, 1, 'k');
	tb_bstr(t, 1, 'v');
	tb_arr(t, n);
	for (i = 0; i < n; i++)
		tb_bstr(t, WIRE_ORIGIN_BYTES, (uint8_t)(i + 1));
}

BAD(mbatch_index_out_of_range) { tb_mbatch(t, 1, 1); }
BAD(mbatch_index_over_limit) { tb_mbatch(t, WIRE_MBATCH_ORIGINS_MAX, 1); }
BAD(mbatch_unused_origin) { tb_mbatch(t, 0, 2); }
BAD(mbatch_empty_table) { tb_mbatch(t, 0, 0); }
BAD(mbatch_duplicate_origin)
{
	tb_mbatch(t, 0, 1);
	t->b[t->n - WIRE_ORIGIN_BYTES - 3] = 0x82;   /* table of 2 */
	tb_bstr(t, WIRE_ORIGIN_BYTES, 1);
}
BAD(mbatch_entry_of_six)
{
	tb_arr(t, 4); tb_u(t, WIRE_MBATCH); tb_u(t, 42); tb_arr(t, 1);
	tb_entry_head(t, 0); tb_bstr(t, 1, 'k'); tb_bstr(t, 1, 'v');
	tb_arr(t, 0);
}
BAD(mbatch_origin_31)
{
	tb_mbatch(t, 0, 0);
	t->b[t->n - 1] = 0x81;
	tb_bstr(t, 31, 1);
	tb_pad(t, 1);
}
BAD(mbatch_table_over_limit)
{
	tb_mbatch(t, 0, 0);
	t->n--;
	tb_arr(t, WIRE_MBATCH_ORIGINS_MAX + 1);
	tb_pad(t, 34 * (WIRE_MBATCH_ORIGINS_MAX + 1));
}
BAD(mbatch_missing_table)
{
	tb_arr(t, 3); tb_u(t, WIRE_MBATCH); tb_u(t, 42); tb_arr(t, 0);
}
BAD(mbatch_deleted_with_value)
{
	tb_arr(t, 4); tb_u(t, WIRE_MBATCH); tb_u(t, 42); tb_arr(t, 1);
	tb_arr(t, 7); tb_u(t, 0); tb_u(t, 7); tb_u(t, 3); tb_u(t, 1);
	tb_u(t, WIRE_ENTRY_DELETED); tb_bstr(t, 1, 'k'); tb_bstr(t, 1, 'v');
	tb_arr(t, 1); tb_bstr(t, WIRE_ORIGIN_BYTES, 1);
}

static const struct bad_row bad_rows[] = {
	ROW(empty_input, "truncated"),
	ROW(top_level_uint, "expected an array, got an unsigned int"),
	ROW(top_level_map, "got a map"),
	ROW(top_level_break, "got a break"),
	ROW(array_of_one, "array of 1 items"),
	ROW(type_zero, "message type 0 unknown"),
	ROW(type_twentythree, "message type 23 unknown"),
	ROW(type_huge, "unknown"),
	ROW(type_as_text, "message type at byte 1: expected an unsigned int, got a text string"),
	ROW(type_negative, "got a negative int"),
	ROW(ping_three_items, "PING head at byte 0: array of 3 items, want 2"),
	ROW(ping_nonce_bytes, "PING nonce at byte 2: expected an unsigned int, got a byte string"),
	ROW(ping_nonce_half_float, "got a float"),
	ROW(ping_nonce_double, "got a float"),
	ROW(ping_nonce_tagged, "got a tag"),
	ROW(pong_nonce_negative, "PONG nonce"),
	ROW(ping_trailing_byte, "1 trailing bytes"),
	ROW(ping_reserved_info, "malformed"),
	ROW(ack_bytes_undefined, "ACK bytes at byte 3: expected an unsigned int, got undefined"),
	ROW(bye_reason_true, "got a boolean"),
	ROW(bye_reason_simple, "BYE reason"),
	ROW(indefinite_top_array, "got an indefinite-length array"),
	ROW(huge_string_length, "truncated"),
	ROW(hello_port_65536, "HELLO listen_port at byte 3: value 65536 exceeds 65535"),
	ROW(hello_mode_two, "HELLO mode"),
	ROW(hello_missing_flags, "array of 5 items, want 6"),
	ROW(hello_extra_field, "HELLO replicate at byte 8: expected a byte string, got an unsigned int"),
	ROW(hello_eight_items, "array of 8 items, want 6"),
	ROW(hello_replicate_empty, "HELLO replicate at byte 8: byte string of 0 bytes"),
	ROW(hello_replicate_too_long, "HELLO replicate"),
	ROW(batch_skip, "SKIP outside a LIVE frame"),
	ROW(mbatch_skip_in_a_round, "SKIP outside a LIVE frame"),
	ROW(live_skip_with_a_key, "MBATCH entry 0 key"),
	ROW(live_skip_with_a_clock, "SKIP entry with a clock"),
	ROW(live_skip_deleted, "SKIP entry with a clock, wall time or other flags"),
	ROW(digest_origin_31, "DIGEST hwm 0 origin at byte 6: byte string of 31 bytes, want 32"),
	ROW(digest_origin_33, "byte string of 33 bytes, want 32"),
	ROW(digest_origin_text, "expected a byte string, got a text string"),
	ROW(digest_pair_of_three, "DIGEST hwm 0 pair"),
	ROW(digest_hwm_nested_too_deep, "DIGEST hwm 0 hwm at byte 40: expected an unsigned int, got an array"),
	ROW(digest_count_beyond_input, "cannot fit"),
	ROW(digest_count_over_limit, "65537 items"),
	ROW(digest_count_2_pow_63, "items"),
	ROW(digest_indefinite_list, "indefinite-length array"),
	ROW(batch_missing_origin, "BATCH head at byte 0: array of 3 items, want 4"),
	ROW(batch_origin_31, "BATCH origin"),
	ROW(batch_origin_indefinite, "indefinite-length byte string"),
	ROW(batch_entry_of_five, "BATCH entry 0 fields"),
	ROW(batch_entry_as_map, "BATCH entry 0 fields"),
	ROW(batch_key_empty, "BATCH entry 0 key"),
	ROW(batch_key_too_long, "byte string of 4097 bytes"),
	ROW(batch_key_text, "BATCH entry 0 key"),
	ROW(batch_value_too_long, "exceeds 1048576"),
	ROW(batch_value_on_deleted, "deleted entry carries a byte string"),
	ROW(batch_empty_value_on_deleted, "deleted entry carries"),
	ROW(batch_null_on_live, "live entry has a null value"),
	ROW(batch_unknown_flag, "unknown bits"),
	ROW(batch_value_indefinite, "indefinite-length byte string"),
	ROW(batch_seq_nested_too_deep, "BATCH entry 0 seq"),
	ROW(batch_count_beyond_input, "cannot fit"),
	ROW(batch_count_over_limit, "65537"),
	ROW(batch_fewer_entries_than_count, "BATCH entry 2"),
	ROW(members_port_65536, "MEMBERS member 0 port"),
	ROW(members_state_three, "MEMBERS member 0 state"),
	ROW(members_host_empty, "text string of 0 bytes"),
	ROW(members_host_256, "text string of 256 bytes"),
	ROW(members_host_bytes, "expected a text string"),
	ROW(members_host_nul, "NUL"),
	ROW(members_host_indefinite, "indefinite-length text string"),
	ROW(members_node_id_31, "MEMBERS member 0 node_id"),
	ROW(members_count_over_limit, "4097 items"),
	ROW(mbatch_index_out_of_range, "MBATCH entry 0 origin_index at byte 24: index 1 outside a table of 1 origins"),
	ROW(mbatch_index_over_limit, "MBATCH entry 0 origin_index at byte 6: value 256 exceeds 255"),
	ROW(mbatch_unused_origin, "MBATCH origin 1 origin"),
	ROW(mbatch_empty_table, "outside a table of 0 origins"),
	ROW(mbatch_duplicate_origin, "MBATCH origin 1 origin at byte 58: repeats origin 0"),
	ROW(mbatch_entry_of_six, "MBATCH entry 0 fields at byte 5: array of 6 items, want 7"),
	ROW(mbatch_origin_31, "MBATCH origin 0 origin"),
	ROW(mbatch_table_over_limit, "257 items"),
	ROW(mbatch_missing_table, "MBATCH head at byte 0: array of 3 items, want 4"),
	ROW(mbatch_deleted_with_value, "MBATCH entry 0 value"),
};

static void test_malformed_frames_are_rejected(void **state)
{
	assert_true(sizeof(bad_rows) / sizeof(bad_rows[0]) >= 25);
	run_bad_rows(*state, bad_rows, sizeof(bad_rows) / sizeof(bad_rows[0]));
}

/* A list count the input cannot hold is refused before any allocation:
 * the decoder's storage stays empty. */
static void test_oversized_counts_allocate_nothing(void **state)
{
	struct fixture *f = *state;
	struct tb t = { 0 };

	tb_batch_head(&t, 60000);
	tb_bstr(&t, 1000, 0);
	assert_int_equal(wire_decode(&f->dec, t.b, t.n, &f->msg, &f->err),
			 RUMOR_EPROTO);
	assert_int_equal(f->dec.entries_cap, 0);
	assert_null(f->dec.entries);
	free(t.b);
}

/* Integers (and list heads) with longer heads than needed decode. */
static void test_non_minimal_integers_are_accepted(void **state)
{
	struct fixture *f = *state;
	static const uint8_t ping[] = {
		0x82, 0x18, 0x07, 0x1b, 0, 0, 0, 0, 0, 0, 0, 5,
	};
	struct tb t = { 0 };

	assert_int_equal(wire_decode(&f->dec, ping, sizeof(ping), &f->msg,
				     &f->err), 0);
	assert_int_equal(f->msg.type, WIRE_PING);
	assert_int_equal(f->msg.u.nonce, 5);

	tb_arr(&t, 3);
	tb_u(&t, WIRE_DONE);
	tb_byte(&t, 0x19);      /* exchange id 1 in a 2-byte head */
	tb_raw(&t, "\0\1", 2);
	tb_byte(&t, 0x98);      /* an empty list with a 1-byte count */
	tb_byte(&t, 0);
	assert_int_equal(wire_decode(&f->dec, t.b, t.n, &f->msg, &f->err), 0);
	assert_int_equal(f->msg.type, WIRE_DONE);
	assert_int_equal(f->msg.u.digest.exchange_id, 1);
	assert_int_equal(f->msg.u.digest.n, 0);
	free(t.b);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_every_truncation_is_rejected),
		T(test_bit_flips_never_crash),
		T(test_malformed_frames_are_rejected),
		T(test_oversized_counts_allocate_nothing),
		T(test_non_minimal_integers_are_accepted),
#undef T
	};

	return cmocka_run_group_tests_name("wire_decode", tests, NULL, NULL);
}
