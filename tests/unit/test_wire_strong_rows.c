/* SPDX-License-Identifier: MIT */
/*
 * test_wire_strong_rows: malformed PREPARE .. ANSWER frames, one row
 * each with the phrase the decoder's error must contain (the field and
 * byte offset); run by test_wire_strong.
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

/* ------------------------------------------------------------ malformed frames */

/* [14, txid]: the start of a PREPARE; then ttl_ms 100. */
void tb_prepare_head(struct tb *t)
{
	tb_arr(t, 5);
	tb_u(t, WIRE_PREPARE);
	tb_bstr(t, WIRE_TXID_BYTES, 0x7a);
	tb_u(t, 100);
}

/* One participant, then a list of one op [flags, key of klen, ...]
 * whose value the caller writes. */
static void tb_prepare_op(struct tb *t, uint64_t flags, size_t klen)
{
	tb_prepare_head(t);
	tb_arr(t, 1);
	tb_bstr(t, WIRE_NODE_ID_BYTES, 0x11);
	tb_arr(t, 1);
	tb_arr(t, 3);
	tb_u(t, flags);
	tb_bstr(t, klen, 'k');
}

/* [type, txid] then whatever the row adds. */
static void tb_strong_head(struct tb *t, size_t items, uint64_t type)
{
	tb_arr(t, items);
	tb_u(t, type);
	tb_bstr(t, WIRE_TXID_BYTES, 0x7a);
}

BAD(prepare_txid_15)
{
	tb_arr(t, 5); tb_u(t, WIRE_PREPARE); tb_bstr(t, 15, 1); tb_pad(t, 8);
}
BAD(prepare_txid_17)
{
	tb_arr(t, 5); tb_u(t, WIRE_PREPARE); tb_bstr(t, 17, 1); tb_pad(t, 8);
}
BAD(prepare_txid_text)
{
	tb_arr(t, 5); tb_u(t, WIRE_PREPARE); tb_tstr(t, "0123456789abcdef");
}
BAD(prepare_ttl_negative)
{
	tb_arr(t, 5); tb_u(t, WIRE_PREPARE); tb_bstr(t, 16, 1);
	tb_head(t, 1, 3);
}
BAD(prepare_four_items) { tb_strong_head(t, 4, WIRE_PREPARE); tb_u(t, 1); }
BAD(prepare_no_participants)
{
	tb_prepare_head(t); tb_arr(t, 0); tb_arr(t, 0);
}
BAD(prepare_participants_over_limit)
{
	tb_prepare_head(t); tb_arr(t, WIRE_STRONG_PARTICIPANTS_MAX + 1);
}
BAD(prepare_participant_31)
{
	tb_prepare_head(t); tb_arr(t, 1); tb_bstr(t, 31, 1); tb_pad(t, 8);
}
BAD(prepare_participant_as_array)
{
	tb_prepare_head(t); tb_arr(t, 1); tb_arr(t, 1);
	tb_bstr(t, WIRE_NODE_ID_BYTES, 1);
}
BAD(prepare_participant_repeat)
{
	tb_prepare_head(t); tb_arr(t, 3);
	tb_bstr(t, WIRE_NODE_ID_BYTES, 1); tb_bstr(t, WIRE_NODE_ID_BYTES, 2);
	tb_bstr(t, WIRE_NODE_ID_BYTES, 1); tb_arr(t, 0);
}
BAD(prepare_no_ops)
{
	tb_prepare_head(t); tb_arr(t, 1); tb_bstr(t, WIRE_NODE_ID_BYTES, 1);
	tb_arr(t, 0);
}
BAD(prepare_ops_over_limit)
{
	tb_prepare_head(t); tb_arr(t, 1); tb_bstr(t, WIRE_NODE_ID_BYTES, 1);
	tb_arr(t, WIRE_STRONG_OPS_MAX + 1);
}
BAD(prepare_ops_beyond_input)
{
	tb_prepare_head(t); tb_arr(t, 1); tb_bstr(t, WIRE_NODE_ID_BYTES, 1);
	tb_arr(t, 1000); tb_pad(t, 100);
}
BAD(prepare_op_of_four)
{
	tb_prepare_head(t); tb_arr(t, 1); tb_bstr(t, WIRE_NODE_ID_BYTES, 1);
	tb_arr(t, 1); tb_arr(t, 4); tb_u(t, 0); tb_bstr(t, 1, 'k');
	tb_bstr(t, 1, 'v'); tb_u(t, 0);
}
BAD(prepare_op_skip_flag)
{
	tb_prepare_op(t, WIRE_ENTRY_SKIP, 1); tb_bstr(t, 1, 'v');
}
BAD(prepare_op_flags_as_bytes)
{
	tb_prepare_head(t); tb_arr(t, 1); tb_bstr(t, WIRE_NODE_ID_BYTES, 1);
	tb_arr(t, 1); tb_arr(t, 3); tb_bstr(t, 1, 0); tb_bstr(t, 1, 'k');
	tb_bstr(t, 1, 'v');
}
BAD(prepare_key_empty) { tb_prepare_op(t, 0, 0); tb_bstr(t, 1, 'v'); }
BAD(prepare_key_4097)
{
	tb_prepare_op(t, 0, WIRE_KEY_MAX + 1); tb_bstr(t, 1, 'v');
}
BAD(prepare_key_null)
{
	tb_prepare_head(t); tb_arr(t, 1); tb_bstr(t, WIRE_NODE_ID_BYTES, 1);
	tb_arr(t, 1); tb_arr(t, 3); tb_u(t, 0); tb_byte(t, 0xf6);
	tb_bstr(t, 1, 'v');
}
BAD(prepare_value_too_long)
{
	tb_prepare_op(t, 0, 1); tb_bstr(t, WIRE_VALUE_MAX + 1, 'v');
}
BAD(prepare_value_text) { tb_prepare_op(t, 0, 1); tb_tstr(t, "v"); }
BAD(prepare_deleted_with_value)
{
	tb_prepare_op(t, WIRE_ENTRY_DELETED, 1); tb_bstr(t, 1, 'v');
}
BAD(prepare_deleted_with_empty_value)
{
	tb_prepare_op(t, WIRE_ENTRY_DELETED, 1); tb_bstr(t, 0, 0);
}
BAD(prepare_live_null) { tb_prepare_op(t, 0, 1); tb_byte(t, 0xf6); }
BAD(prepare_trailing_byte)
{
	tb_prepare_op(t, 0, 1); tb_bstr(t, 1, 'v'); tb_u(t, 0);
}
BAD(vote_yes_two)
{
	tb_strong_head(t, 5, WIRE_VOTE); tb_u(t, 2); tb_u(t, 0); tb_arr(t, 0);
}
BAD(vote_yes_with_reason)
{
	tb_strong_head(t, 5, WIRE_VOTE); tb_u(t, 1); tb_u(t, 1); tb_arr(t, 1);
	tb_u(t, 3);
}
BAD(vote_no_without_reason)
{
	tb_strong_head(t, 5, WIRE_VOTE); tb_u(t, 0); tb_u(t, 0); tb_arr(t, 0);
}
BAD(vote_yes_without_clocks)
{
	tb_strong_head(t, 5, WIRE_VOTE); tb_u(t, 1); tb_u(t, 0); tb_arr(t, 0);
}
BAD(vote_no_with_clocks)
{
	tb_strong_head(t, 5, WIRE_VOTE); tb_u(t, 0); tb_u(t, 1); tb_arr(t, 1);
	tb_u(t, 3);
}
BAD(vote_clocks_over_limit)
{
	tb_strong_head(t, 5, WIRE_VOTE); tb_u(t, 1); tb_u(t, 0);
	tb_arr(t, WIRE_STRONG_OPS_MAX + 1);
}
BAD(vote_clock_negative)
{
	tb_strong_head(t, 5, WIRE_VOTE); tb_u(t, 1); tb_u(t, 0); tb_arr(t, 1);
	tb_head(t, 1, 0);
}
BAD(commit_no_clocks)
{
	tb_strong_head(t, 5, WIRE_COMMIT); tb_u(t, 5); tb_u(t, 9);
	tb_arr(t, 0);
}
BAD(commit_first_seq_zero)
{
	tb_strong_head(t, 5, WIRE_COMMIT); tb_u(t, 0); tb_u(t, 9);
	tb_arr(t, 1); tb_u(t, 4);
}
BAD(commit_seqs_overflow)
{
	tb_strong_head(t, 5, WIRE_COMMIT); tb_u(t, UINT64_MAX); tb_u(t, 9);
	tb_arr(t, 2); tb_u(t, 4); tb_u(t, 4);
}
BAD(commit_clock_zero)
{
	tb_strong_head(t, 5, WIRE_COMMIT); tb_u(t, 5); tb_u(t, 9);
	tb_arr(t, 2); tb_u(t, 4); tb_u(t, 0);
}
BAD(commit_clock_list_as_uint)
{
	tb_strong_head(t, 5, WIRE_COMMIT); tb_u(t, 5); tb_u(t, 9); tb_u(t, 4);
}
BAD(committed_extra_item)
{
	tb_strong_head(t, 3, WIRE_COMMITTED); tb_u(t, 0);
}
BAD(abort_txid_text)
{
	tb_arr(t, 2); tb_u(t, WIRE_ABORT); tb_tstr(t, "0123456789abcdef");
}
BAD(abort_txid_indefinite)
{
	tb_arr(t, 2); tb_u(t, WIRE_ABORT); tb_byte(t, 0x5f);
	tb_bstr(t, 16, 1); tb_byte(t, 0xff);
}
BAD(ask_coordinator_31) { tb_strong_head(t, 3, WIRE_ASK); tb_bstr(t, 31, 1); }
BAD(ask_missing_coordinator) { tb_strong_head(t, 2, WIRE_ASK); }
BAD(answer_state_four)
{
	tb_strong_head(t, 6, WIRE_ANSWER); tb_u(t, 4); tb_u(t, 0);
	tb_u(t, 0); tb_arr(t, 0);
}
BAD(answer_committed_no_clocks)
{
	tb_strong_head(t, 6, WIRE_ANSWER); tb_u(t, WIRE_TX_COMMITTED);
	tb_u(t, 5); tb_u(t, 9); tb_arr(t, 0);
}
BAD(answer_aborted_with_clocks)
{
	tb_strong_head(t, 6, WIRE_ANSWER); tb_u(t, WIRE_TX_ABORTED);
	tb_u(t, 5); tb_u(t, 9); tb_arr(t, 1); tb_u(t, 4);
}
BAD(answer_unknown_with_seq)
{
	tb_strong_head(t, 6, WIRE_ANSWER); tb_u(t, WIRE_TX_UNKNOWN);
	tb_u(t, 5); tb_u(t, 0); tb_arr(t, 0);
}
BAD(answer_prepared_with_wall)
{
	tb_strong_head(t, 6, WIRE_ANSWER); tb_u(t, WIRE_TX_PREPARED);
	tb_u(t, 0); tb_u(t, 9); tb_arr(t, 0);
}

const struct bad_row strong_rows[] = {
	ROW(prepare_txid_15, "PREPARE txid at byte 2: byte string of 15 bytes, want 16"),
	ROW(prepare_txid_17, "PREPARE txid at byte 2: byte string of 17 bytes, want 16"),
	ROW(prepare_txid_text, "PREPARE txid at byte 2: expected a byte string, got a text string"),
	ROW(prepare_ttl_negative, "PREPARE ttl_ms at byte 19: expected an unsigned int, got a negative int"),
	ROW(prepare_four_items, "PREPARE head at byte 0: array of 4 items, want 5"),
	ROW(prepare_no_participants, "PREPARE participant list at byte 21: array of 0 items, want 1..1024"),
	ROW(prepare_participants_over_limit, "array of 1025 items, want 1..1024"),
	ROW(prepare_participant_31, "PREPARE participant 0 node_id at byte 22: byte string of 31 bytes, want 32"),
	ROW(prepare_participant_as_array, "PREPARE participant 0 node_id at byte 22: expected a byte string, got an array"),
	ROW(prepare_participant_repeat, "PREPARE participant list at byte 21: participant 2 repeats 0"),
	ROW(prepare_no_ops, "PREPARE op list at byte 56: array of 0 items, want 1..65536"),
	ROW(prepare_ops_over_limit, "PREPARE op list at byte 56: array of 65537 items"),
	ROW(prepare_ops_beyond_input, "PREPARE op list at byte 56: list of 1000 items cannot fit"),
	ROW(prepare_op_of_four, "PREPARE op 0 fields at byte 57: array of 4 items, want 3"),
	ROW(prepare_op_skip_flag, "PREPARE op 0 flags at byte 58: flags 0x2 have bits other than DELETED"),
	ROW(prepare_op_flags_as_bytes, "PREPARE op 0 flags at byte 58: expected an unsigned int, got a byte string"),
	ROW(prepare_key_empty, "PREPARE op 0 key at byte 59: byte string of 0 bytes, want 1..4096"),
	ROW(prepare_key_4097, "PREPARE op 0 key at byte 59: byte string of 4097 bytes"),
	ROW(prepare_key_null, "PREPARE op 0 key at byte 59: expected a byte string, got null"),
	ROW(prepare_value_too_long, "PREPARE op 0 value at byte 61: byte string of 1048577 bytes, want 0..1048576"),
	ROW(prepare_value_text, "PREPARE op 0 value at byte 61: expected a byte string"),
	ROW(prepare_deleted_with_value, "PREPARE op 0 value at byte 61: deleted op carries a byte string instead of null"),
	ROW(prepare_deleted_with_empty_value, "deleted op carries a byte string"),
	ROW(prepare_live_null, "PREPARE op 0 value at byte 61: live op has a null value"),
	ROW(prepare_trailing_byte, "1 trailing bytes"),
	ROW(vote_yes_two, "VOTE yes at byte 19: value 2 exceeds 1"),
	ROW(vote_yes_with_reason, "VOTE reason at byte 20: a yes vote with a refusal reason"),
	ROW(vote_no_without_reason, "VOTE reason at byte 20: a no vote without a reason"),
	ROW(vote_yes_without_clocks, "VOTE clock list at byte 21: a yes vote without clocks"),
	ROW(vote_no_with_clocks, "VOTE clock list at byte 21: a no vote with clocks"),
	ROW(vote_clocks_over_limit, "VOTE clock list at byte 21: array of 65537 items"),
	ROW(vote_clock_negative, "VOTE clock 0 clock at byte 22: expected an unsigned int, got a negative int"),
	ROW(commit_no_clocks, "COMMIT clock list at byte 21: a committed version without clocks"),
	ROW(commit_first_seq_zero, "COMMIT first_seq at byte 19: first_seq 0"),
	ROW(commit_seqs_overflow, "COMMIT first_seq at byte 19: seqs run past UINT64_MAX"),
	ROW(commit_clock_zero, "COMMIT clock 1 clock at byte 23: a committed clock 0"),
	ROW(commit_clock_list_as_uint, "COMMIT clock list at byte 21: expected an array, got an unsigned int"),
	ROW(committed_extra_item, "COMMITTED head at byte 0: array of 3 items, want 2"),
	ROW(abort_txid_text, "ABORT txid at byte 2: expected a byte string, got a text string"),
	ROW(abort_txid_indefinite, "ABORT txid at byte 2: expected a byte string, got an indefinite-length byte string"),
	ROW(ask_coordinator_31, "ASK coordinator at byte 19: byte string of 31 bytes, want 32"),
	ROW(ask_missing_coordinator, "ASK head at byte 0: array of 2 items, want 3"),
	ROW(answer_state_four, "ANSWER state at byte 19: value 4 exceeds 3"),
	ROW(answer_committed_no_clocks, "ANSWER clock list at byte 22: a committed version without clocks"),
	ROW(answer_aborted_with_clocks, "clocks on an answer that is not committed"),
	ROW(answer_unknown_with_seq, "ANSWER first_seq at byte 20: a version on an answer that is not committed"),
	ROW(answer_prepared_with_wall, "a version on an answer that is not committed"),
};

const size_t n_strong_rows = sizeof(strong_rows) / sizeof(strong_rows[0]);
