/* SPDX-License-Identifier: MIT */
/*
 * store format: the on-disk encodings of the store's LevelDB entries, as
 * pure functions (no LevelDB, no allocation), so that they can be tested
 * and fuzzed alone (tests/fuzz/fuzz_store_format.c).
 *
 * Keys (one prefix byte a keyspace; integers big-endian, fixed width):
 *   m | key                    meta of a user key
 *   l | origin(32) | seq(8)    log entry of (origin, seq)
 *   h | origin(32)             HWM of origin
 *   f | pos(8)                 change feed: the key changed at pos
 *   s | name                   singletons: "schema", "seq", "clockfloor",
 *                              "feedfloor"
 *   i | txid(16)               a pending intent of a strong write
 *   o | n(8)                   the outcome of the nth ended strong write
 * Values:
 *   m:  format(1) flags(1) clock(8) seq(8) wall_ms(8) origin(32) pos(8)
 *       value(0..RUMOR_VALUE_MAX; none when deleted)
 *   f:  the user key (1..RUMOR_KEY_MAX)
 *   l:  format(1) flags(1) clock(8) wall_ms(8) key(1..RUMOR_KEY_MAX)
 *   h:  seq(8)
 *   s|schema: version(4)          s|seq: seq counter(8)
 *   s|clockfloor: the highest clock of a collected tombstone(8); absent
 *       in a store that never collected one (read as 0)
 *   s|feedfloor: the highest position of a change the feed forgot (a
 *       collected tombstone, a key dropped by a narrower filter)(8);
 *       absent: 0
 *   s|filter: the replicate set (lib/prefixes.h's stored form); absent:
 *       every key
 *   s|selfincomplete: 1(8) once a narrower filter dropped a key whose
 *       stored version this node wrote; absent: 0
 *   i:  format(1) coordinator(32) deadline_ms(8) n_participants(4)
 *       n_ops(4) participant(32) x n, then per op: index(4) flags(1)
 *       key_len(4) key value_len(4) value (none when deleted)
 *   o:  format(1) txid(16) state(1) first_seq(8) wall_ms(8) n_clocks(4)
 *       clock(8) x n_clocks (state 2 committed, 3 aborted: as
 *       enum wire_strong_state; an aborted outcome has no clocks)
 * The format bytes let a later schema read older entries. The value lives
 * in its meta entry (schema 2; schema 1 had a separate d entry): a change
 * writes two entries instead of three, and a read is one lookup. Schema 3
 * adds the key's change position to the meta (format 3; format 2 metas
 * are read only by the migration, format_meta2_decode) and the f keyspace.
 *
 * Every decoder accepts exactly what its encoder can write: what decodes
 * re-encodes to the same bytes.
 */
#ifndef RUMOR_STORE_FORMAT_H
#define RUMOR_STORE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define PFX_FEED 'f'
#define PFX_HWM 'h'
#define PFX_LOG 'l'
#define PFX_META 'm'
#define PFX_SINGLE 's'
#define PFX_INTENT 'i'
#define PFX_OUTCOME 'o'

#define META_FORMAT 3
#define META2_FORMAT 2      /* schema 2's metas: no position */
#define LOG_FORMAT 1
#define FLAG_DELETED 0x01u
#define FLAGS_KNOWN FLAG_DELETED

#define META_HEAD_BYTES (2 + 8 + 8 + 8 + STORE_ORIGIN_BYTES + 8)
#define META2_HEAD_BYTES (2 + 8 + 8 + 8 + STORE_ORIGIN_BYTES)
#define FEED_KEY_BYTES (1 + 8)
#define LOG_HEAD_BYTES (2 + 8 + 8)
#define LOG_KEY_BYTES (1 + STORE_ORIGIN_BYTES + 8)
#define HWM_KEY_BYTES (1 + STORE_ORIGIN_BYTES)
#define HWM_VALUE_BYTES 8
#define SCHEMA_VALUE_BYTES 4
#define SEQ_VALUE_BYTES 8

/* The singleton keys, prefix included. */
#define SINGLE_SCHEMA "sschema"
#define SINGLE_SEQ "sseq"
#define SINGLE_CLOCK_FLOOR "sclockfloor"
#define SINGLE_FEED_FLOOR "sfeedfloor"
#define SINGLE_FILTER "sfilter"
#define SINGLE_SELF_INCOMPLETE "sselfincomplete"

/* A decoded m value. */
struct meta {
	uint64_t clock;
	uint64_t seq;
	uint64_t wall_ms;
	uint8_t origin[STORE_ORIGIN_BYTES];
	uint64_t pos;           /* change position (0 only in a format 2
				   meta, read by the migration) */
	int deleted;
	/* The live value: points into the buffer the meta was decoded from
	 * (valid as long as it is); NULL and 0 for a tombstone. */
	const char *value;
	size_t value_len;
};

/* A decoded l value; key points into the buffer it was decoded from. */
struct log_value {
	uint64_t clock;
	uint64_t wall_ms;
	int deleted;
	const void *key;
	size_t key_len;
};

/* Writes the head of an m value (META_HEAD_BYTES; the value bytes, if
 * any, follow it and are the caller's to write). */
void format_meta_encode(uint8_t out[META_HEAD_BYTES], const struct meta *m);
/* 0, or -1 when buf is not an m value this build can read (short, unknown
 * format or flags, clock or seq 0, a tombstone with value bytes, a value
 * over RUMOR_VALUE_MAX). On 0, m->value points into buf. */
int format_meta_decode(const void *buf, size_t len, struct meta *m);
/* format_meta_decode for schema 2's metas (format 2, no position: m->pos
 * is 0), for the migration to schema 3 only. */
int format_meta2_decode(const void *buf, size_t len, struct meta *m);

/* The key of the feed entry at pos. */
void format_feed_key(char out[FEED_KEY_BYTES], uint64_t pos);
/* 0 with *pos set, or -1 when k is not a feed key (length, prefix, pos
 * 0). */
int format_feed_key_decode(const void *k, size_t klen, uint64_t *pos);

/* Writes an l value into out (LOG_HEAD_BYTES + key_len bytes, key_len
 * 1..RUMOR_KEY_MAX); returns its size. */
size_t format_log_encode(char *out, uint64_t clock, uint64_t wall_ms,
			 int deleted, const void *key, size_t key_len);
/* 0, or -1 when buf is not an l value (short, no key, key over
 * RUMOR_KEY_MAX, unknown format or flags, clock 0). On 0, lv->key points
 * into buf. */
int format_log_decode(const void *buf, size_t len, struct log_value *lv);

/* The key of the log entry of (origin, seq). */
void format_log_key(char out[LOG_KEY_BYTES], const uint8_t *origin,
		    uint64_t seq);
/* 0 with *origin pointing into k and *seq set, or -1 when k is not a log
 * key (length, prefix, seq 0). */
int format_log_key_decode(const void *k, size_t klen, const uint8_t **origin,
			  uint64_t *seq);

/* The key of origin's HWM. */
void format_hwm_key(char out[HWM_KEY_BYTES], const uint8_t *origin);
/* 0 with *origin pointing into k and *seq the HWM, or -1 when (k, v) is
 * not an HWM entry (key or value length, prefix). */
int format_hwm_decode(const void *k, size_t klen, const void *v, size_t vlen,
		      const uint8_t **origin, uint64_t *seq);

/* A be64 value: an HWM, the s|seq counter or the s|clockfloor. */
void format_u64_encode(uint8_t out[8], uint64_t v);
/* 0, or -1 when v is not 8 bytes. */
int format_u64_decode(const void *v, size_t vlen, uint64_t *out);

/* The s|schema value of schema. */
void format_schema_encode(uint8_t out[SCHEMA_VALUE_BYTES], uint32_t schema);
/* 0 with *schema set (any number: the caller judges it), or -1 when v is
 * not 4 bytes. */
int format_schema_decode(const void *v, size_t vlen, uint32_t *schema);

/* ------------------------------------------------------------ intents */

#define INTENT_FORMAT 1
#define OUTCOME_FORMAT 1
#define INTENT_KEY_BYTES (1 + STORE_TXID_BYTES)
#define OUTCOME_KEY_BYTES (1 + 8)
#define INTENT_HEAD_BYTES (1 + STORE_ORIGIN_BYTES + 8 + 4 + 4)
#define INTENT_OP_HEAD_BYTES (4 + 1 + 4 + 4)
#define OUTCOME_HEAD_BYTES (1 + STORE_TXID_BYTES + 1 + 8 + 8 + 4)

/* The key of the intent of txid. */
void format_intent_key(char out[INTENT_KEY_BYTES], const uint8_t *txid);
/* The key of the outcome numbered n. */
void format_outcome_key(char out[OUTCOME_KEY_BYTES], uint64_t n);
/* 0 with *n set, or -1 when k is not an outcome key. */
int format_outcome_key_decode(const void *k, size_t klen, uint64_t *n);

/* Bytes of in's encoding (its ops' key and value bytes included). */
size_t format_intent_size(const struct store_intent *in);
/* Writes in (not its txid: the key holds it) into out, of
 * format_intent_size(in) bytes; returns that size. */
size_t format_intent_encode(uint8_t *out, const struct store_intent *in);
/* Decodes an i value: the head into in (txid untouched, ops NULL,
 * participants pointing into buf), after checking every op (key
 * 1..RUMOR_KEY_MAX, value <= RUMOR_VALUE_MAX, a deletion without a
 * value, known flags, nothing left over). 0, or -1 when buf is not an
 * i value. */
int format_intent_decode(const void *buf, size_t len, struct store_intent *in);
/* The ops of a decoded i value, one a call: *pos starts at 0 and moves
 * past op; 0, or -1 past the last op (or on a malformed one). Pointers
 * into buf. */
int format_intent_op(const void *buf, size_t len, size_t *pos,
		     struct store_intent_op *op);

/* An o value: writes its head and clocks into out (OUTCOME_HEAD_BYTES +
 * 8 x n_clocks bytes); returns the size. */
size_t format_outcome_encode(uint8_t *out, const uint8_t *txid,
			     const struct store_tx_outcome *oc);
/* 0 with *txid pointing into buf and oc filled (oc->clocks NULL: read
 * clock i with format_outcome_clock), or -1 when buf is not an o value
 * (state neither committed nor aborted, an aborted one with clocks). */
int format_outcome_decode(const void *buf, size_t len, const uint8_t **txid,
			  struct store_tx_outcome *oc);
/* Clock i of a decoded o value. */
uint64_t format_outcome_clock(const void *buf, size_t i);

/* A printable start of a key for messages: hex of its first 20 bytes,
 * NUL-terminated in out, which it returns. */
const char *format_key_hex(const void *key, size_t len, char out[41]);

#endif
