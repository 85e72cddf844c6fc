/* SPDX-License-Identifier: MIT */
/*
 * wire_ctl: the control protocol between rumorctl and a node's control
 * socket (src/node/control.c): frames, requests, replies, and a strict
 * decoder, built on the buffer and item reader of wire_cbor.h. Pure: no
 * I/O. wire_ctl.c holds the message shapes and the encoders,
 * wire_ctl_decode.c the decoder, tests/fuzz/fuzz_ctl.c fuzzes it.
 *
 * A frame is a 4-byte big-endian length followed by exactly that many
 * bytes holding ONE definite-length CBOR array whose first item is the
 * command (requests) or the reply type (replies).
 *
 * Requests (client to node), one reply sequence each, in order:
 *
 *   STATUS  [1]                  -> STATUS
 *   STATUS  [1, version]         -> STATUS (version CTL_STATUS_EXT: the
 *                                   extended reply; a node answers [1]
 *                                   with the short one, so a client
 *                                   older than the extension still reads
 *                                   it)
 *   PEERS   [2]                  -> PEER* END
 *   GET     [3, key]             -> VALUE | ERROR
 *   PUT     [4, key, value]      -> OK | ERROR
 *   DEL     [5, key]             -> OK | ERROR
 *   SCAN    [6, prefix, limit]   -> ITEM* END      (limit 0: no bound)
 *   WATCH   [7, prefix, from, since]
 *                                -> OK, then RECORD | GAP until the client
 *                                   closes (nothing else is read); from 0:
 *                                   changes after the current head (since
 *                                   is 0), 1: after position since (ERROR
 *                                   RUMOR_ETOOOLD below the floor)
 *   LOG     [8, limit]           -> RECORD* END    (limit per origin)
 *   VERSION [9, key]             -> RECORD | ERROR
 *   SYNC    [10, timeout_ms]     -> SYNC | ERROR
 *   SPUT    [11, key, value]     -> OK | ERROR   (a strong write: the reply
 *   SDEL    [12, key]            -> OK | ERROR    comes when it commits or
 *                                                 fails; on a node in strong
 *                                                 consistency PUT and DEL
 *                                                 are strong too)
 *   WHY     [13, key, timeout_ms] -> WHYROW* WHY | ERROR  (`rumorctl why`:
 *                                   a row per node, the asking node first,
 *                                   then the verdict)
 *   PUT, DEL, SPUT and SDEL may end with one more item, wait_ms: while
 *   the node catches up, the reply waits until catch-up ends (the write
 *   is then done) or wait_ms passes (ERROR RUMOR_EREFUSED). 0 (or no
 *   item, an older client): refused at once; CTL_WAIT_DEFAULT: up to the
 *   node's own catch-up bound.
 *
 * Replies (node to client):
 *
 *   OK      [0]
 *   ERROR   [1, code (negative int, a RUMOR_E* code), message tstr]
 *   VALUE   [2, value bstr]
 *   RECORD  [3, key bstr, value bstr|null, value_len, flags, clock,
 *            wall_ms, origin bstr, seq, pos]    flags: 1 deleted, 2 local
 *            (value null: deleted, or left out, e.g. in LOG; pos: the
 *            change position in WATCH, 0 elsewhere)
 *   ITEM    [4, key bstr, value bstr]
 *   END     [5, count, truncated (0/1)]
 *   STATUS  [6, id tstr, mode, listen tstr, data_dir tstr, resolver tstr,
 *            open_network, catching_up, catchup_left_ms, velocity (float),
 *            interval_ms, local_seq, peers_known, peers_alive,
 *            peers_suspect, peers_connected, [counters (CTL_COUNTERS
 *            order)], hwm_total, [[origin bstr, seq], ...],
 *            [[refusal reason tstr, count], ...], [[drop reason tstr,
 *            count], ...], namespace bstr (empty: none), [replicate
 *            prefix bstr, ...] (0..RUMOR_PREFIXES_MAX; none: every key),
 *            consistency (enum rumor_consistency), quorum (0 in gossip
 *            mode), reachable (nodes, self included), ready (0/1)]
 *            The extended form (asked for by STATUS [1, CTL_STATUS_EXT])
 *            appends the catch-up progress: catchup_received,
 *            catchup_expected (CTL_UNKNOWN: no digest told yet),
 *            catchup_rate (float, entries/s), catchup_eta_ms
 *            (CTL_UNKNOWN: unknown), catchup_wait_ms (the node's bound)
 *   PEER    [7, id bstr(32), address tstr, learned tstr, state tstr,
 *            connected, last_contact_ago_ms, last_sync_ago_ms, lag]
 *            (UINT64_MAX: never)
 *   SYNC    [8, peers_tried, peers_completed, entries_sent,
 *            entries_received, entries_applied, bytes_in, bytes_out]
 *   GAP     [9, dropped]     (WATCH: this many changes were not sent:
 *                             superseded by a later change of their key
 *                             while the client read too slowly)
 *   WHYROW  [10, id bstr(32), status, role, found, clock, origin bstr(32)
 *            or empty, seq, wall_ms, deleted (0/1), value_len, hash
 *            bstr(16) or empty, symmetry_violations, resolver tstr,
 *            lag_clock, lag_seq, lag_ms]   (ctl_types.h, struct
 *            ctl_why_row; origin and hash empty when not found)
 *   WHY     [11, verdict, reason, winner_row, rows, resolver tstr,
 *            not_asked, max_lag_clock, max_lag_seq, max_lag_ms,
 *            winner_age_ms]     (struct ctl_why_summary)
 *
 * Conventions:
 *  1. Encoders append exactly one whole frame (header included) to a
 *     struct wire_buf and return 0, RUMOR_EINVAL for arguments outside the
 *     limits below, or RUMOR_ENOMEM; on error nothing is appended.
 *  2. Decoders take the frame body (without its header) and are strict:
 *     any other shape (unknown command or type, wrong item type or array
 *     length, trailing bytes, indefinite lengths, maps, tags, values out
 *     of range) fails with RUMOR_EPROTO and a message naming the field.
 *     They never read outside the input.
 *  3. Decoded keys, values and origins point into the input, which the
 *     caller keeps alive while it uses them. Text fields are copied into
 *     the reply. The HWM list of a STATUS reply is allocated (bounded by
 *     CTL_HWM_MAX and by the input size): free it with ctl_reply_free().
 */
#ifndef RUMOR_WIRE_CTL_H
#define RUMOR_WIRE_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "rumor.h"
#include "lib/err.h"
#include "wire/ctl_types.h"
#include "wire/wire_cbor.h"

/* ------------------------------------------------------------ limits */

#define CTL_FRAME_HEADER 4
/* A request carries at most one key and one value: 2 MiB is ample. */
#define CTL_REQUEST_MAX (2u << 20)
/* A reply frame: a value, or a STATUS with its HWM list. */
#define CTL_REPLY_MAX (4u << 20)
#define CTL_HWM_MAX 4096u             /* HWMs in one STATUS reply */
#define CTL_REFUSED_MAX 64u           /* refusal reasons in one STATUS */
#define CTL_LOG_LIMIT_MAX 10000u      /* LOG entries per origin */
#define CTL_SYNC_TIMEOUT_MAX 600000u  /* SYNC: at most 10 minutes */
#define CTL_MESSAGE_MAX 255u          /* ERROR message bytes */
#define CTL_ORIGIN_MAX 64u            /* origin bytes in a RECORD */
#define CTL_WHY_TIMEOUT_MAX 60000u    /* WHY: at most a minute */
#define CTL_STATUS_EXT 2u             /* STATUS version: with progress */
#define CTL_WAIT_MAX 600000u          /* a write's wait: at most 10 min */
#define CTL_WAIT_DEFAULT 0xffffffffu  /* a write's wait: the node's bound */
#define CTL_UNKNOWN UINT64_MAX        /* a figure nobody knows yet */

enum ctl_cmd {
	CTL_CMD_STATUS = 1,
	CTL_CMD_PEERS = 2,
	CTL_CMD_GET = 3,
	CTL_CMD_PUT = 4,
	CTL_CMD_DEL = 5,
	CTL_CMD_SCAN = 6,
	CTL_CMD_WATCH = 7,
	CTL_CMD_LOG = 8,
	CTL_CMD_VERSION = 9,
	CTL_CMD_SYNC = 10,
	CTL_CMD_SPUT = 11,
	CTL_CMD_SDEL = 12,
	CTL_CMD_WHY = 13,
};
#define CTL_CMD_MAX CTL_CMD_WHY

enum ctl_reply_type {
	CTL_R_OK = 0,
	CTL_R_ERROR = 1,
	CTL_R_VALUE = 2,
	CTL_R_RECORD = 3,
	CTL_R_ITEM = 4,
	CTL_R_END = 5,
	CTL_R_STATUS = 6,
	CTL_R_PEER = 7,
	CTL_R_SYNC = 8,
	CTL_R_GAP = 9,
	CTL_R_WHYROW = 10,
	CTL_R_WHY = 11,
};
#define CTL_R_MAX CTL_R_WHY

#define CTL_RECORD_DELETED 0x1u
#define CTL_RECORD_LOCAL 0x2u

/* The uint64 counters of struct rumor_stats carried by STATUS, in wire
 * order. New counters are only ever appended. */
#define CTL_COUNTERS(X)          \
	X(local_writes)          \
	X(remote_applied)        \
	X(remote_stale)          \
	X(remote_identical)      \
	X(conflicts_default)     \
	X(conflicts_resolver)    \
	X(symmetry_violations)   \
	X(keys)                  \
	X(tombstones)            \
	X(entries_sent)          \
	X(entries_received)      \
	X(bytes_in)              \
	X(bytes_out)             \
	X(announcements_dropped) \
	X(live_sent)             \
	X(live_received)         \
	X(live_duplicates)       \
	X(live_lost)             \
	X(live_grafts)           \
	X(strong_committed)      \
	X(strong_aborted)        \
	X(strong_prepared)       \
	X(strong_pending)        \
	X(strong_recovered)      \
	X(strong_late)

/* ------------------------------------------------------------ buffers */

/* Frames are appended to the one buffer type of both protocols, struct
 * wire_buf (wire_cbor.h). */

/* The body length a frame header announces. */
uint32_t ctl_frame_length(const uint8_t hdr[static CTL_FRAME_HEADER]);

/* ------------------------------------------------------------ requests */

struct ctl_request {
	enum ctl_cmd cmd;
	const uint8_t *key;      /* GET (S)PUT (S)DEL VERSION: 1..KEY_MAX */
	size_t key_len;          /* SCAN WATCH: the prefix, 0..RUMOR_KEY_MAX */
	const uint8_t *value;    /* (S)PUT: 0..RUMOR_VALUE_MAX bytes */
	size_t value_len;
	uint64_t limit;          /* SCAN: items (0: all); LOG: 1..LIMIT_MAX */
	uint64_t timeout_ms;     /* SYNC: 1..CTL_SYNC_TIMEOUT_MAX; WHY:
				    1..CTL_WHY_TIMEOUT_MAX */
	int has_since;           /* WATCH: from position since (else from
				    the head; since is 0) */
	uint64_t since;
	uint64_t status_version; /* STATUS: 0 (the short form) or
				    CTL_STATUS_EXT */
	int has_wait;            /* (S)PUT (S)DEL: wait_ms is sent */
	uint64_t wait_ms;        /* 0..CTL_WAIT_MAX, or CTL_WAIT_DEFAULT */
};

int ctl_encode_request(struct wire_buf *b, const struct ctl_request *rq,
		       struct err *err);
int ctl_decode_request(const uint8_t *body, size_t len,
		       struct ctl_request *rq, struct err *err);

/* ------------------------------------------------------------ replies */

struct ctl_hwm {
	const uint8_t *origin;   /* origin_len bytes, in the input */
	size_t origin_len;
	uint64_t seq;
};

struct ctl_peer {
	struct ctl_peer_info info;  /* learned/state point below */
	char learned[32];
	char state[32];
};

struct ctl_reply {
	enum ctl_reply_type type;

	/* ERROR */
	int code;
	char message[CTL_MESSAGE_MAX + 1];

	/* VALUE (value), ITEM (key, value), RECORD (all) */
	struct rumor_version rec;
	int local;
	uint64_t pos;                /* RECORD: change position, or 0 */

	/* END (count, truncated), GAP (count) */
	uint64_t count;
	int truncated;

	/* STATUS */
	struct ctl_status status;
	uint64_t hwm_total;          /* origins known; n_hwm may be fewer */
	size_t n_hwm;
	struct ctl_hwm *hwm;         /* allocated */

	/* PEER */
	struct ctl_peer peer;

	/* SYNC */
	struct ctl_sync_report sync;

	/* WHYROW, WHY */
	struct ctl_why_row why_row;
	struct ctl_why_summary why;
};

int ctl_encode_ok(struct wire_buf *b);
/* msg is cut to CTL_MESSAGE_MAX bytes (on a UTF-8 boundary). */
int ctl_encode_error(struct wire_buf *b, int code, const char *msg);
int ctl_encode_value(struct wire_buf *b, const void *value, size_t len);
/* A version as RECORD; v->value NULL sends null (deleted or left out). */
int ctl_encode_record(struct wire_buf *b, const struct rumor_version *v,
		      int local);
/* ctl_encode_record with the change position pos (WATCH). */
int ctl_encode_change(struct wire_buf *b, const struct rumor_version *v,
		      int local, uint64_t pos);
int ctl_encode_item(struct wire_buf *b, const void *key, size_t key_len,
		    const void *value, size_t value_len);
int ctl_encode_end(struct wire_buf *b, uint64_t count, int truncated);
/* st plus up to CTL_HWM_MAX HWMs (n_hwm) of hwm_total. */
int ctl_encode_status(struct wire_buf *b, const struct ctl_status *st,
		      uint64_t hwm_total, const struct ctl_hwm *hwm,
		      size_t n_hwm);
int ctl_encode_peer(struct wire_buf *b, const struct ctl_peer_info *p);
int ctl_encode_sync(struct wire_buf *b, const struct ctl_sync_report *r);
int ctl_encode_gap(struct wire_buf *b, uint64_t dropped);
/* RUMOR_EINVAL for a status, role, verdict or reason out of range. */
int ctl_encode_why_row(struct wire_buf *b, const struct ctl_why_row *row);
int ctl_encode_why(struct wire_buf *b, const struct ctl_why_summary *s);

/* Decodes one reply body into r (which it first clears). Call
 * ctl_reply_free() after a successful decode. */
int ctl_decode_reply(const uint8_t *body, size_t len, struct ctl_reply *r,
		     struct err *err);
void ctl_reply_free(struct ctl_reply *r);

/* Names for messages ("GET", "STATUS"); "?" when unknown. */
const char *ctl_cmd_name(int cmd);
const char *ctl_reply_name(int type);

#endif
