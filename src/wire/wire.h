/* SPDX-License-Identifier: MIT */
/*
 * wire: the versioned CBOR messages peers speak, one message per channel
 * frame, and a strict decoder for them, built on the buffer and item
 * reader of wire_cbor.h (the only file that includes cbor.h is
 * wire_cbor.c). Pure: no I/O, no clocks.
 *
 * Every message is one definite-length CBOR array whose first item is
 * the message type (an unsigned int):
 *
 *   HELLO   [1, proto_version, listen_port, mode, wall_ms, flags]
 *           or [1, proto_version, listen_port, mode, wall_ms, flags,
 *               replicate bstr]  (a partial node: its replicate set)
 *   DIGEST  [2, exchange_id, [[origin bstr(32), hwm], ...]]
 *   BATCH   [3, exchange_id, origin bstr(32),
 *            [[seq, clock, wall_ms, flags, key bstr, value bstr|null], ...]]
 *   ACK     [4, exchange_id, bytes]
 *   DONE    [5, exchange_id, [[origin bstr(32), hwm], ...]]
 *   MEMBERS [6, [[node_id bstr(32), host tstr, port, state, age_ms], ...]]
 *   PING    [7, nonce]
 *   PONG    [8, nonce]
 *   BYE     [9, reason]
 *   MBATCH  [10, exchange_id,
 *            [[origin_index, seq, clock, wall_ms, flags, key bstr,
 *              value bstr|null], ...],
 *            [origin bstr(32), ...]]
 *   IHAVE, PRUNE, GRAFT [11|12|13, 0, [[origin bstr(32), hwm], ...]]
 *
 * Strong writes (two-phase commit, src/node/strong.c), only to a peer
 * whose HELLO has WIRE_HELLO_STRONG. txid is 16 bytes; the coordinator
 * is the sender of PREPARE and COMMIT (the channel proves who it is):
 *   PREPARE   [14, txid bstr(16), ttl_ms, [participant bstr(32), ...],
 *              [[flags, key bstr, value bstr|null], ...]]
 *   VOTE      [15, txid, yes (0|1), reason, [clock, ...]]
 *   COMMIT    [16, txid, first_seq, wall_ms, [clock, ...]]
 *   COMMITTED [17, txid]
 *   ABORT     [18, txid]
 *   ASK       [19, txid, coordinator bstr(32)]
 *   ANSWER    [20, txid, state, first_seq, wall_ms, [clock, ...]]
 *
 * `rumorctl why` (src/node/why.c), only to a peer whose HELLO has
 * WIRE_HELLO_WHY (wire_why.c):
 *   WHY_ASK    [21, id, key bstr, [origin bstr(32), ...]]
 *   WHY_ANSWER [22, id, found (0|1), clock, origin bstr(32)|empty, seq,
 *               wall_ms, flags, value_len, hash bstr(16)|empty,
 *               symmetry_violations, resolver tstr, [hwm, ...],
 *               value bstr|null]
 * WHY_ASK asks for the stored version of key; the answer gives it (found
 * 0: none; then every version field is 0 or empty and value null), a
 * BLAKE2b hash of its value (WIRE_WHY_HASH_BYTES, of the empty string
 * for a deletion), the answering node's symmetry-violation count and
 * resolver name, and its HWM for each origin the ask listed, in the
 * ask's order (so the asker can tell whether a node has seen a version
 * it does not hold). The value itself comes along when it is at most
 * WIRE_WHY_VALUE_MAX bytes and the version is not a deletion (so that
 * the asker's resolver can compare versions), else null. flags:
 * WIRE_ENTRY_DELETED, and WIRE_WHY_OUTSIDE: the key is outside the
 * answering node's replicate set (then found is 0).
 *
 * PREPARE carries the whole operation (ops of a batch in order; flags:
 * WIRE_ENTRY_DELETED, value null) and every participant (coordinator
 * included, 1..WIRE_STRONG_PARTICIPANTS_MAX, no repeats); ttl_ms is
 * what is left of the coordinator's prepare bound. A yes VOTE lists,
 * per op, the clock of the key the voter holds (0: none); a no VOTE
 * has an empty list and a reason (enum wire_strong_refusal). COMMIT
 * gives the version of op i: (clocks[i], coordinator, first_seq + i,
 * wall_ms), one clock per op. ASK asks any participant what became of
 * a transaction; ANSWER's state is enum wire_strong_state, and a
 * COMMITTED answer carries COMMIT's version fields (empty and 0
 * otherwise).
 *
 * MBATCH carries entries of several origins (a key-order stream, see
 * sync.c): each entry names its origin by its index in the frame's origin
 * table, which comes last so that a sender can stream entries and learn
 * the table as it goes. The decoder requires every index to be in range,
 * the table to hold no origin twice and every origin of the table to be
 * used by an entry (so an MBATCH without entries has an empty table).
 * Entries need not be in seq order; their other bounds are BATCH's.
 *
 * Conventions:
 *  1. Encoders append exactly one frame to a struct wire_buf (growing it)
 *     and return 0, RUMOR_EINVAL for arguments outside the limits below
 *     (nothing appended) or RUMOR_ENOMEM (nothing appended).
 *  2. The decoder is strict: anything but the exact shapes above (unknown
 *     type, wrong item type, wrong array length, trailing bytes,
 *     indefinite lengths, tags, floats, maps, negative ints, out-of-range
 *     values, oversize strings) fails with RUMOR_EPROTO and an err message
 *     naming the field and byte offset. Integers with a longer head than
 *     needed (non-minimal) are accepted. It never reads outside the input.
 *  3. Decoding is zero-copy: origins, keys, values and hosts in a decoded
 *     message point into the input buffer, which the caller keeps alive
 *     (and unchanged) while it uses the message. Lists of hwms, entries,
 *     members, and a PREPARE's participants (copied: they are not
 *     contiguous in the input), ops and clocks live in a reusable struct
 *     wire_decoder and stay valid until the next wire_decode() on that
 *     decoder or wire_decoder_free().
 *  4. Allocation is bounded: a list's count is checked against its limit
 *     and against what the remaining input could hold before any memory
 *     is allocated for it.
 *  5. Payload bytes (flow control, ACK) of an entry are key_len +
 *     value_len; of a batch, the sum over its entries. Both sides compute
 *     them the same way: wire_entry_payload(), batch.payload_bytes,
 *     wire_batch_payload().
 *  6. Compatibility: HELLO keeps exactly this shape in every protocol
 *     version (new capabilities go in its flags), so peers of different
 *     versions can always read each other's HELLO and part with BYE
 *     (WIRE_BYE_VERSION). The one exception is the optional seventh
 *     item, a partial node's replicate set (lib/prefixes.h's sent form,
 *     checked by the node, not here): a full node never sends it, so a
 *     full node's HELLO is the six items above; a node older than the
 *     FILTERS capability cannot read a partial node's HELLO and drops
 *     that connection (it could not serve a partial node honestly). Other messages may change with the version;
 *     this decoder speaks version 1 only (the caller checks HELLO's
 *     proto_version before anything else).
 *  7. Nothing here is thread-safe; there is no global state.
 */
#ifndef RUMOR_WIRE_H
#define RUMOR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "rumor.h"
#include "rumor/resolver.h"
#include "lib/err.h"
#include "wire/wire_cbor.h"

/* ------------------------------------------------------------ limits */

#define WIRE_PROTO_VERSION 1

#define WIRE_ORIGIN_BYTES 32             /* == STORE_ORIGIN_BYTES */
#define WIRE_NODE_ID_BYTES RUMOR_NODE_ID_BYTES
#define WIRE_KEY_MAX RUMOR_KEY_MAX       /* keys are 1..WIRE_KEY_MAX bytes */
#define WIRE_VALUE_MAX RUMOR_VALUE_MAX   /* values 0..WIRE_VALUE_MAX bytes */
#define WIRE_HOST_MAX 255                /* member host: 1..255 bytes, no NUL */
#define WIRE_DIGEST_MAX 65536u           /* hwms in one DIGEST or DONE */
#define WIRE_BATCH_MAX 65536u            /* entries in one BATCH */
#define WIRE_MEMBERS_MAX 4096u           /* members in one MEMBERS */
#define WIRE_MBATCH_ORIGINS_MAX 256u     /* origins in one MBATCH's table */
#define WIRE_DEPTH_MAX 3                 /* message > list > entry */
#define WIRE_PORT_MAX 65535u

/* Bytes of a BATCH frame before its first entry (worst case), and of one
 * entry's encoding beyond key and value (worst case). Senders use these to
 * keep frames under the channel's bound; see also wire_entry_size(). */
#define WIRE_BATCH_HEAD_MAX (1 + 1 + 9 + 2 + WIRE_ORIGIN_BYTES + 5)
#define WIRE_ENTRY_OVERHEAD_MAX (1 + 4 * 9 + 3 + 5)
/* The same for MBATCH: its head (with the reserved count) and its table's
 * head, each entry's extra origin index, and one table row. A frame of n
 * entries and t origins is at most WIRE_MBATCH_HEAD_MAX + t *
 * WIRE_MBATCH_ORIGIN_BYTES + the entries' sizes (wire_mbatch_bytes()). */
#define WIRE_MBATCH_HEAD_MAX (1 + 1 + 9 + 5 + 3)
#define WIRE_MBATCH_INDEX_MAX 3
#define WIRE_MBATCH_ORIGIN_BYTES (2 + WIRE_ORIGIN_BYTES)

enum wire_type {
	WIRE_HELLO = 1,
	WIRE_DIGEST = 2,
	WIRE_BATCH = 3,
	WIRE_ACK = 4,
	WIRE_DONE = 5,
	WIRE_MEMBERS = 6,
	WIRE_PING = 7,
	WIRE_PONG = 8,
	WIRE_BYE = 9,
	WIRE_MBATCH = 10,
	/* The live stream's lazy side (src/sync/live.c), shaped like DIGEST
	 * with exchange_id 0: IHAVE lists, per origin, the highest seq the
	 * sender holds that it did not push; PRUNE asks the receiver to
	 * send these origins lazily (IHAVE) from now on; GRAFT asks it to
	 * push them eagerly again. */
	WIRE_IHAVE = 11,
	WIRE_PRUNE = 12,
	WIRE_GRAFT = 13,
	WIRE_PREPARE = 14,
	WIRE_VOTE = 15,
	WIRE_COMMIT = 16,
	WIRE_COMMITTED = 17,
	WIRE_ABORT = 18,
	WIRE_ASK = 19,
	WIRE_ANSWER = 20,
	WIRE_WHY_ASK = 21,
	WIRE_WHY_ANSWER = 22,
};
#define WIRE_TYPE_MAX WIRE_WHY_ANSWER

/* HELLO flags (capabilities). LIVE: the sender accepts live frames (an
 * MBATCH or ACK with exchange_id 0) and IHAVE, PRUNE and GRAFT.
 * FILTERS: the sender understands replicate sets (it filters what it
 * sends by the receiver's, clamps its DONE for a narrower receiver) and
 * SKIP entries in LIVE frames; every node that knows the bit sets it.
 * SELF_COMPLETE: the sender's store holds every write it ever made (its
 * local writes stay within its replicate set and none was dropped by a
 * narrowing), so its DONE speaks for its own origin even to a node whose
 * replicate set is not within the sender's. */
#define WIRE_HELLO_LIVE 0x1u
#define WIRE_HELLO_FILTERS 0x2u
#define WIRE_HELLO_SELF_COMPLETE 0x4u
/* STRONG: the sender takes part in strong writes (PREPARE to ANSWER). */
#define WIRE_HELLO_STRONG 0x8u
/* WHY: the sender answers WHY_ASK (and may send it). */
#define WIRE_HELLO_WHY 0x10u
/* Bytes of HELLO's replicate set (the sent form of at most PREFIXES_MAX
 * prefixes of at most PREFIX_MAX_BYTES each). */
#define WIRE_HELLO_REPLICATE_MAX (1u + 16u * (2u + 1024u))

/* Live frames carry exchange id 0; a round's ids start at 1. */
#define WIRE_LIVE_EXCHANGE 0u

/* HELLO mode: the values of enum rumor_mode. */
#define WIRE_MODE_PEER 0
#define WIRE_MODE_REPLICA 1

/* Entry flags. A deleted entry carries null instead of a value. SKIP,
 * in LIVE frames only (an MBATCH of exchange id 0; the decoder rejects
 * it elsewhere): "origin's seq was written, outside your replicate set",
 * so that a partial node's HWM moves live like a full node's. A SKIP
 * entry is [origin_index, seq, 0, 0, SKIP, empty bstr, null]: no clock,
 * wall time, key or value, and no other flag. Other bits are rejected
 * in protocol version 1. */
#define WIRE_ENTRY_DELETED 0x1u
#define WIRE_ENTRY_SKIP 0x2u
#define WIRE_ENTRY_FLAGS_KNOWN (WIRE_ENTRY_DELETED | WIRE_ENTRY_SKIP)

/* Member states. */
enum wire_member_state {
	WIRE_MEMBER_ALIVE = 0,
	WIRE_MEMBER_SUSPECT = 1,
	WIRE_MEMBER_GONE = 2,
};

/* BYE reasons (any uint decodes; these are the ones we send). */
enum wire_bye_reason {
	WIRE_BYE_NORMAL = 0,       /* closing, nothing wrong */
	WIRE_BYE_VERSION = 1,      /* protocol versions incompatible */
	WIRE_BYE_PROTOCOL = 2,     /* the peer broke the protocol */
	WIRE_BYE_SHUTDOWN = 3,     /* this node is stopping */
	WIRE_BYE_MODE = 4,         /* modes incompatible (e.g. replica-replica) */
};

/* Strong writes. */
#define WIRE_TXID_BYTES 16
#define WIRE_STRONG_PARTICIPANTS_MAX 1024u  /* nodes in one PREPARE */
#define WIRE_STRONG_OPS_MAX 65536u          /* == RUMOR_WRITE_MAX */

/* The largest PREPARE: one channel frame (== CHANNEL_FRAME_MAX ==
 * SYNC_FRAME_MAX, 2 MiB), since a message is one frame. A PREPARE's
 * encoded size is exactly wire_prepare_size(); at most
 *   WIRE_PREPARE_HEAD_MAX + n_participants * WIRE_PARTICIPANT_BYTES
 *   + sum over ops of (key_len + value_len + WIRE_OP_OVERHEAD_MAX).
 * So with 3 participants, the ops of a batch may always carry together
 * 2 MiB - 138 bytes of keys and values less 10 bytes per op (a single
 * op: 2 MiB - 148 bytes); any one maximal put (4 KiB key, 1 MiB value)
 * fits even with 1024 participants. wire_encode_strong() refuses a
 * bigger PREPARE with RUMOR_ETOOBIG (nothing appended); the node refuses
 * such a strong write with RUMOR_ETOOBIG before it starts. Every other
 * strong message is far smaller (at most 9 bytes per op plus 40). */
#define WIRE_PREPARE_MAX (2u * 1024u * 1024u)
#define WIRE_PREPARE_HEAD_MAX (1 + 1 + 1 + WIRE_TXID_BYTES + 9 + 3 + 5)
#define WIRE_PARTICIPANT_BYTES (2 + WIRE_NODE_ID_BYTES)
#define WIRE_OP_OVERHEAD_MAX (1 + 1 + 3 + 5)

/* `rumorctl why`: origins one WHY_ASK lists (HWMs one answer gives),
 * the value hash, and the largest value an answer carries. */
#define WIRE_WHY_ORIGINS_MAX 1024u
#define WIRE_WHY_HASH_BYTES 16
#define WIRE_WHY_VALUE_MAX 65536u
#define WIRE_WHY_RESOLVER_MAX 127u
#define WIRE_WHY_OUTSIDE 0x2u

enum wire_strong_refusal {
	WIRE_REFUSE_NONE = 0,      /* a yes vote */
	WIRE_REFUSE_LOCKED = 1,    /* a key is held by another transaction */
	WIRE_REFUSE_STORE = 2,     /* the intent could not be stored */
	WIRE_REFUSE_LATE = 3,      /* the transaction ended here already */
	WIRE_REFUSE_MODE = 4,      /* this node takes no strong writes */
	WIRE_REFUSE_BUSY = 5,      /* too many intents held */
};

enum wire_strong_state {
	WIRE_TX_UNKNOWN = 0,       /* never heard of it (or forgot it) */
	WIRE_TX_PREPARED = 1,      /* holds its intent, undecided */
	WIRE_TX_COMMITTED = 2,
	WIRE_TX_ABORTED = 3,
};

/* ------------------------------------------------------------ messages */

struct wire_hello {
	uint64_t proto_version;
	uint16_t listen_port;      /* 0: not listening */
	int mode;                  /* WIRE_MODE_* */
	uint64_t wall_ms;          /* sender's wall clock, for skew warnings */
	uint64_t flags;            /* capabilities; unknown bits are ignored */
	/* The sender's replicate set in lib/prefixes.h's sent form, or NULL
	 * (absent: a full node). 1..WIRE_HELLO_REPLICATE_MAX bytes; the
	 * decoder checks the length only. */
	const uint8_t *replicate;
	size_t replicate_len;
};

/* One high-water mark: the highest seq of origin the sender holds. */
struct wire_hwm {
	const uint8_t *origin;     /* WIRE_ORIGIN_BYTES */
	uint64_t hwm;
};

/* DIGEST and DONE. Duplicate origins are not rejected here. */
struct wire_digest {
	uint64_t exchange_id;
	const struct wire_hwm *hwms;
	size_t n;
};

/* One log entry of a BATCH; mirrors struct rumor_version without the
 * origin (which the batch carries once). */
struct wire_entry {
	uint64_t seq;
	uint64_t clock;
	uint64_t wall_ms;
	int deleted;               /* flags bit 0; then value NULL, value_len 0 */
	const void *key;           /* 1..WIRE_KEY_MAX bytes */
	size_t key_len;
	const void *value;         /* 0..WIRE_VALUE_MAX bytes */
	size_t value_len;
	size_t origin_index;       /* MBATCH only: its row in the table */
	int skip;                  /* WIRE_ENTRY_SKIP (LIVE frames only):
				      seq and origin only; clock, wall_ms,
				      deleted 0, key and value empty */
};

struct wire_batch {
	uint64_t exchange_id;
	const uint8_t *origin;     /* WIRE_ORIGIN_BYTES */
	const struct wire_entry *entries;
	size_t n;
	uint64_t payload_bytes;    /* sum of key_len + value_len */
};

/* A BATCH whose entries carry their origin: entries[i].origin_index <
 * n_origins, origins[] distinct, each used. */
struct wire_mbatch {
	uint64_t exchange_id;
	const uint8_t *const *origins;   /* each WIRE_ORIGIN_BYTES */
	size_t n_origins;
	const struct wire_entry *entries;
	size_t n;
	uint64_t payload_bytes;          /* sum of key_len + value_len */
};

struct wire_ack {
	uint64_t exchange_id;
	uint64_t bytes;            /* payload bytes applied since the last ACK */
};

struct wire_member {
	const uint8_t *node_id;    /* WIRE_NODE_ID_BYTES */
	const char *host;          /* host_len bytes, NOT NUL-terminated */
	size_t host_len;           /* 1..WIRE_HOST_MAX, no NUL inside */
	uint16_t port;
	int state;                 /* enum wire_member_state */
	uint64_t age_ms;           /* time since the sender last heard of it */
};

struct wire_members {
	const struct wire_member *members;
	size_t n;
};

/* One op of a PREPARE; value NULL (value_len 0) when deleted. */
struct wire_op {
	int deleted;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value;
	size_t value_len;
};

/* PREPARE to ANSWER: the fields each type uses (see the grammar above);
 * the others are zero / empty. Lists point into the decoder (convention
 * 3) when decoded, into the caller's memory when encoded. */
struct wire_strong {
	const uint8_t *txid;             /* WIRE_TXID_BYTES */
	uint64_t ttl_ms;                 /* PREPARE */
	const uint8_t *participants;     /* PREPARE: n x WIRE_NODE_ID_BYTES */
	size_t n_participants;
	const struct wire_op *ops;       /* PREPARE */
	size_t n_ops;
	int yes;                         /* VOTE */
	uint64_t reason;                 /* VOTE: enum wire_strong_refusal */
	const uint8_t *coordinator;      /* ASK: WIRE_NODE_ID_BYTES */
	uint64_t state;                  /* ANSWER: enum wire_strong_state */
	uint64_t first_seq;              /* COMMIT, ANSWER (committed) */
	uint64_t wall_ms;                /* COMMIT, ANSWER (committed) */
	const uint64_t *clocks;          /* VOTE (yes), COMMIT, ANSWER */
	size_t n_clocks;
};

/* WHY_ASK and WHY_ANSWER: the fields each uses (see the grammar above);
 * the others are zero / empty. */
struct wire_why {
	uint64_t id;
	/* WHY_ASK */
	const uint8_t *key;              /* 1..WIRE_KEY_MAX bytes */
	size_t key_len;
	const uint8_t *const *origins;   /* each WIRE_ORIGIN_BYTES */
	size_t n_origins;                /* 0..WIRE_WHY_ORIGINS_MAX */
	/* WHY_ANSWER */
	int found;
	uint64_t clock;
	const uint8_t *origin;           /* WIRE_ORIGIN_BYTES, or NULL */
	uint64_t seq;
	uint64_t wall_ms;
	int deleted;
	int outside;                     /* WIRE_WHY_OUTSIDE */
	uint64_t value_len;              /* 0..WIRE_VALUE_MAX */
	const uint8_t *hash;             /* WIRE_WHY_HASH_BYTES, or NULL */
	uint64_t symmetry_violations;
	const char *resolver;            /* 1..WIRE_WHY_RESOLVER_MAX bytes,
					    not NUL-terminated */
	size_t resolver_len;
	const uint64_t *hwms;            /* 0..WIRE_WHY_ORIGINS_MAX */
	size_t n_hwms;
	const uint8_t *value;            /* value_len bytes, or NULL */
};

struct wire_msg {
	enum wire_type type;
	union {
		struct wire_hello hello;       /* WIRE_HELLO */
		struct wire_digest digest;     /* WIRE_DIGEST, WIRE_DONE, and
						  WIRE_IHAVE, _PRUNE, _GRAFT */
		struct wire_batch batch;       /* WIRE_BATCH */
		struct wire_mbatch mbatch;     /* WIRE_MBATCH */
		struct wire_ack ack;           /* WIRE_ACK */
		struct wire_members members;   /* WIRE_MEMBERS */
		uint64_t nonce;                /* WIRE_PING, WIRE_PONG */
		uint64_t reason;               /* WIRE_BYE */
		struct wire_strong strong;     /* WIRE_PREPARE .. WIRE_ANSWER */
		struct wire_why why;           /* WIRE_WHY_ASK, _ANSWER */
	} u;
};

/* A static name for a message type ("HELLO", ...; "?" when unknown). */
const char *wire_type_name(int type);

/* Payload bytes of one entry (convention 5). */
static inline uint64_t wire_entry_payload(const struct wire_entry *e)
{
	return (uint64_t)e->key_len + e->value_len;
}

/* Fills v from a decoded entry and its batch's origin. v's pointers
 * point where the entry's and origin point (into the input frame). */
void wire_entry_to_version(const uint8_t *origin, const struct wire_entry *e,
			   struct rumor_version *v);
/* The reverse, for encoding: e's pointers point where v's do; a deleted
 * version carries no value. */
void wire_entry_from_version(const struct rumor_version *v,
			     struct wire_entry *e);

/* Frames are appended to a struct wire_buf (wire_cbor.h): wire_buf_init(),
 * wire_buf_reset(), wire_buf_free(). */

/* ------------------------------------------------------------ encoding */

int wire_encode_hello(struct wire_buf *out, const struct wire_hello *m,
		      struct err *err);
int wire_encode_digest(struct wire_buf *out, uint64_t exchange_id,
		       const struct wire_hwm *hwms, size_t n, struct err *err);
int wire_encode_ack(struct wire_buf *out, uint64_t exchange_id,
		    uint64_t bytes, struct err *err);
int wire_encode_done(struct wire_buf *out, uint64_t exchange_id,
		     const struct wire_hwm *hwms, size_t n, struct err *err);
/* IHAVE, PRUNE or GRAFT (type), in DIGEST's shape with exchange id 0. */
int wire_encode_lazy(struct wire_buf *out, enum wire_type type,
		     const struct wire_hwm *hwms, size_t n, struct err *err);
int wire_encode_members(struct wire_buf *out, const struct wire_member *m,
			size_t n, struct err *err);
int wire_encode_ping(struct wire_buf *out, uint64_t nonce, struct err *err);
int wire_encode_pong(struct wire_buf *out, uint64_t nonce, struct err *err);
int wire_encode_bye(struct wire_buf *out, uint64_t reason, struct err *err);
/* PREPARE .. ANSWER (type) from m's fields for that type. RUMOR_EINVAL
 * for a list over its limit, a clock list whose length does not match
 * (COMMIT: n_clocks >= 1; a yes VOTE: n_clocks >= 1, a no VOTE: 0;
 * a committed ANSWER >= 1, others 0), a PREPARE without ops or
 * participants, an op that breaks the entry bounds. */
int wire_encode_strong(struct wire_buf *out, enum wire_type type,
		       const struct wire_strong *m, struct err *err);
/* Also RUMOR_EINVAL from wire_encode_strong() (nothing appended): a NULL
 * txid (or ASK's coordinator), repeated participants, a deleted op with
 * a value, a yes VOTE with a reason or a no VOTE without one, a COMMIT
 * or committed ANSWER with first_seq 0, a seq range past UINT64_MAX or
 * a clock 0, an uncommitted ANSWER with first_seq or wall_ms set, an
 * ANSWER state over WIRE_TX_ABORTED. RUMOR_ETOOBIG: a PREPARE over
 * WIRE_PREPARE_MAX bytes. The decoder refuses exactly the same. */

/* WHY_ASK or WHY_ANSWER (type) from m's fields for that type.
 * RUMOR_EINVAL (nothing appended) for a key outside 1..WIRE_KEY_MAX,
 * more than WIRE_WHY_ORIGINS_MAX origins or hwms, an answer that is not
 * found but has a version field set, a found one without origin or hash
 * or with seq 0, a deleted one with a value length, a value carried
 * when it must not be (deleted, or over WIRE_WHY_VALUE_MAX) or missing
 * when it must be, a resolver name outside 1..WIRE_WHY_RESOLVER_MAX
 * bytes or with a NUL. The decoder refuses exactly the same. */
int wire_encode_why(struct wire_buf *out, enum wire_type type,
		    const struct wire_why *m, struct err *err);

/* Exact encoded bytes of a PREPARE of m's participants and ops (which
 * must be within the limits; the count of participants and ops is
 * taken as is). Compare with WIRE_PREPARE_MAX before building one. */
size_t wire_prepare_size(const struct wire_strong *m);

/* Encodes any decoded (or hand-built) message, BATCH and MBATCH
 * included (an MBATCH's table is written in the message's order; its
 * origins must be distinct and each used, else RUMOR_EINVAL); the
 * round-trip partner of wire_decode(). */
int wire_encode_msg(struct wire_buf *out, const struct wire_msg *m,
		    struct err *err);

/* Encoded size of one entry inside a BATCH, for sizing frames. */
size_t wire_entry_size(const struct wire_entry *e);

/*
 * Streaming BATCH builder:
 *
 *   struct wire_batch_builder b;
 *   wire_batch_begin(&b, &buf, exchange_id, origin, &err);
 *   while (... && wire_batch_bytes(&b) + wire_entry_size(&e) <= limit)
 *           wire_batch_add(&b, &e, &err);
 *   wire_batch_end(&b);       frame = buf.data[b.start .. buf.len)
 *
 * The entry count is written when the batch ends, into a head reserved
 * at begin in its 4-byte form (so entries are never moved; it costs at
 * most 4 bytes per batch over the shortest form). Until wire_batch_end()
 * the frame in out is incomplete and out must not be touched by anything
 * else. A failed add leaves the batch as it was before the call.
 */
struct wire_batch_builder {
	struct wire_buf *out;
	size_t start;              /* offset of the frame in out->data */
	size_t count_at;           /* offset of the reserved count head */
	size_t n;                  /* entries added */
	uint64_t payload_bytes;
	uint8_t origin[WIRE_ORIGIN_BYTES];
	int open;
};

int wire_batch_begin(struct wire_batch_builder *b, struct wire_buf *out,
		     uint64_t exchange_id,
		     const uint8_t origin[static WIRE_ORIGIN_BYTES],
		     struct err *err);
/* RUMOR_EINVAL when the key or value breaks the limits, a deleted entry
 * has a value, or the batch already holds WIRE_BATCH_MAX entries. */
int wire_batch_add(struct wire_batch_builder *b, const struct wire_entry *e,
		   struct err *err);
/* The same from a stored version; RUMOR_EINVAL also when v->origin is
 * not the batch's origin. */
int wire_batch_add_version(struct wire_batch_builder *b,
			   const struct rumor_version *v, struct err *err);
/* Entries, frame bytes so far (as if ended now) and payload bytes. */
size_t wire_batch_count(const struct wire_batch_builder *b);
size_t wire_batch_bytes(const struct wire_batch_builder *b);
uint64_t wire_batch_payload(const struct wire_batch_builder *b);
/* Completes the frame: out->data[b->start .. out->len). Cannot fail. */
void wire_batch_end(struct wire_batch_builder *b);
/* Drops an open batch: out is as it was before wire_batch_begin(). */
void wire_batch_cancel(struct wire_batch_builder *b);

/*
 * Streaming MBATCH builder, the same way: the origin table grows as
 * entries of new origins are added (at most WIRE_MBATCH_ORIGINS_MAX) and
 * is written by wire_mbatch_end(). Frame size checks use
 * wire_mbatch_bytes() + wire_mbatch_entry_size(), which counts the table
 * row the entry would add. The table (8 KiB) lives in the builder: keep
 * it off small stacks.
 */
struct wire_mbatch_builder {
	struct wire_buf *out;
	size_t start;
	size_t count_at;
	size_t n;
	uint64_t payload_bytes;
	size_t n_origins;
	size_t last;               /* index of the last origin used */
	uint8_t origins[WIRE_MBATCH_ORIGINS_MAX][WIRE_ORIGIN_BYTES];
	int open;
};

int wire_mbatch_begin(struct wire_mbatch_builder *b, struct wire_buf *out,
		      uint64_t exchange_id, struct err *err);
/* Bytes the entry would add, its table row included when origin is new. */
size_t wire_mbatch_entry_size(const struct wire_mbatch_builder *b,
			      const uint8_t *origin,
			      const struct wire_entry *e);
/* RUMOR_EINVAL as wire_batch_add(), and when origin is new and the table
 * is full. e->origin_index is ignored (the builder assigns it). */
int wire_mbatch_add(struct wire_mbatch_builder *b, const uint8_t *origin,
		    const struct wire_entry *e, struct err *err);
/* Nonzero when an entry of origin may be added as far as the table goes
 * (origin in it, or room for one more). */
int wire_mbatch_has_origin_room(const struct wire_mbatch_builder *b,
				const uint8_t *origin);
size_t wire_mbatch_count(const struct wire_mbatch_builder *b);
/* Frame bytes if ended now (the table included). */
size_t wire_mbatch_bytes(const struct wire_mbatch_builder *b);
uint64_t wire_mbatch_payload(const struct wire_mbatch_builder *b);
/* Completes the frame (appends the table, in room every add reserved).
 * Cannot fail. */
void wire_mbatch_end(struct wire_mbatch_builder *b);
void wire_mbatch_cancel(struct wire_mbatch_builder *b);

/* ------------------------------------------------------------ decoding */

/* Reusable storage for decoded lists; grows up to the limits above. */
struct wire_decoder {
	struct wire_hwm *hwms;
	size_t hwms_cap;
	struct wire_entry *entries;
	size_t entries_cap;
	struct wire_member *members;
	size_t members_cap;
	const uint8_t **origins;
	size_t origins_cap;
	/* PREPARE .. ANSWER: participants (copied, WIRE_NODE_ID_BYTES
	 * each, and pointers to them sorted to find repeats), ops and
	 * clocks; caps count elements. */
	uint8_t *participants;
	size_t participants_cap;
	const uint8_t **sorted;
	size_t sorted_cap;
	struct wire_op *ops;
	size_t ops_cap;
	uint64_t *clocks;
	size_t clocks_cap;
};

void wire_decoder_init(struct wire_decoder *d);
void wire_decoder_free(struct wire_decoder *d);

/* Decodes exactly one message from buf[0..len) into *out (see conventions
 * 2-4). Returns 0, RUMOR_EPROTO (malformed; err says what and where) or
 * RUMOR_ENOMEM. On failure *out is unspecified. */
int wire_decode(struct wire_decoder *d, const uint8_t *buf, size_t len,
		struct wire_msg *out, struct err *err);

#endif
