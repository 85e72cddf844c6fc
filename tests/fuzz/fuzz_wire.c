/* SPDX-License-Identifier: MIT */
/*
 * fuzz_wire: libFuzzer target for the wire decoder. Any input must decode
 * or be refused with RUMOR_EPROTO, without crashing or reading outside the
 * input; whatever decodes must re-encode and decode again to the same
 * message (the decoder accepts nothing the encoder cannot say).
 * A message is one channel frame, up to 2 MiB: make fuzz-smoke and
 * fuzz-long pass -max_len=2097152, and FUZZ_BIG_SEEDS=DIR makes the target
 * write there a BATCH and a PREPARE that fill a frame (too large for the
 * source tree).
 *
 *   tests/fuzz/fuzz_wire -max_total_time=60 work/ tests/fuzz/corpus/wire
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void check(int cond)
{
	if (!cond)
		abort();
}

static int same_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* PREPARE .. ANSWER: every field (the decoder zeroes those a type does
 * not use). */
static void check_same_strong(const struct wire_strong *a,
			      const struct wire_strong *b)
{
	size_t i;

	check(same_bytes(a->txid, WIRE_TXID_BYTES, b->txid,
			 WIRE_TXID_BYTES));
	check(a->ttl_ms == b->ttl_ms && a->yes == b->yes &&
	      a->reason == b->reason && a->state == b->state &&
	      a->first_seq == b->first_seq && a->wall_ms == b->wall_ms);
	check((a->coordinator == NULL) == (b->coordinator == NULL));
	if (a->coordinator != NULL)
		check(same_bytes(a->coordinator, WIRE_NODE_ID_BYTES,
				 b->coordinator, WIRE_NODE_ID_BYTES));
	check(a->n_participants == b->n_participants);
	check(same_bytes(a->participants,
			 a->n_participants * WIRE_NODE_ID_BYTES,
			 b->participants,
			 b->n_participants * WIRE_NODE_ID_BYTES));
	check(a->n_clocks == b->n_clocks);
	for (i = 0; i < a->n_clocks; i++)
		check(a->clocks[i] == b->clocks[i]);
	check(a->n_ops == b->n_ops);
	for (i = 0; i < a->n_ops; i++) {
		check(a->ops[i].deleted == b->ops[i].deleted);
		check(same_bytes(a->ops[i].key, a->ops[i].key_len,
				 b->ops[i].key, b->ops[i].key_len));
		check((a->ops[i].value == NULL) == (b->ops[i].value == NULL));
		check(same_bytes(a->ops[i].value, a->ops[i].value_len,
				 b->ops[i].value, b->ops[i].value_len));
	}
}

/* WHY_ASK and WHY_ANSWER: every field. */
static void check_same_why(const struct wire_why *a, const struct wire_why *b)
{
	size_t i;

	check(a->id == b->id && a->found == b->found &&
	      a->clock == b->clock && a->seq == b->seq &&
	      a->wall_ms == b->wall_ms && a->deleted == b->deleted &&
	      a->outside == b->outside && a->value_len == b->value_len &&
	      a->symmetry_violations == b->symmetry_violations);
	check(same_bytes(a->key, a->key_len, b->key, b->key_len));
	check(a->n_origins == b->n_origins);
	for (i = 0; i < a->n_origins; i++)
		check(same_bytes(a->origins[i], WIRE_ORIGIN_BYTES,
				 b->origins[i], WIRE_ORIGIN_BYTES));
	check((a->origin == NULL) == (b->origin == NULL));
	if (a->origin != NULL)
		check(same_bytes(a->origin, WIRE_ORIGIN_BYTES, b->origin,
				 WIRE_ORIGIN_BYTES));
	check((a->hash == NULL) == (b->hash == NULL));
	if (a->hash != NULL)
		check(same_bytes(a->hash, WIRE_WHY_HASH_BYTES, b->hash,
				 WIRE_WHY_HASH_BYTES));
	check(same_bytes(a->resolver, a->resolver_len, b->resolver,
			 b->resolver_len));
	check(a->n_hwms == b->n_hwms);
	for (i = 0; i < a->n_hwms; i++)
		check(a->hwms[i] == b->hwms[i]);
	check((a->value == NULL) == (b->value == NULL));
	if (a->value != NULL)
		check(same_bytes(a->value, (size_t)a->value_len, b->value,
				 (size_t)b->value_len));
}

/* The two decodings of one message agree field by field. */
static void check_same(const struct wire_msg *a, const struct wire_msg *b)
{
	size_t i;

	check(a->type == b->type);
	switch (a->type) {
	case WIRE_HELLO:
		check(a->u.hello.proto_version == b->u.hello.proto_version);
		check(a->u.hello.listen_port == b->u.hello.listen_port);
		check(a->u.hello.mode == b->u.hello.mode);
		check(a->u.hello.wall_ms == b->u.hello.wall_ms);
		check(a->u.hello.flags == b->u.hello.flags);
		break;
	case WIRE_DIGEST:
	case WIRE_DONE:
	case WIRE_IHAVE:
	case WIRE_PRUNE:
	case WIRE_GRAFT:
		check(a->u.digest.exchange_id == b->u.digest.exchange_id);
		check(a->u.digest.n == b->u.digest.n);
		for (i = 0; i < a->u.digest.n; i++) {
			check(a->u.digest.hwms[i].hwm == b->u.digest.hwms[i].hwm);
			check(same_bytes(a->u.digest.hwms[i].origin,
					 WIRE_ORIGIN_BYTES,
					 b->u.digest.hwms[i].origin,
					 WIRE_ORIGIN_BYTES));
		}
		break;
	case WIRE_BATCH:
		check(a->u.batch.exchange_id == b->u.batch.exchange_id);
		check(same_bytes(a->u.batch.origin, WIRE_ORIGIN_BYTES,
				 b->u.batch.origin, WIRE_ORIGIN_BYTES));
		check(a->u.batch.n == b->u.batch.n);
		check(a->u.batch.payload_bytes == b->u.batch.payload_bytes);
		for (i = 0; i < a->u.batch.n; i++) {
			const struct wire_entry *x = &a->u.batch.entries[i];
			const struct wire_entry *y = &b->u.batch.entries[i];

			check(x->seq == y->seq && x->clock == y->clock &&
			      x->wall_ms == y->wall_ms &&
			      x->deleted == y->deleted);
			check(same_bytes(x->key, x->key_len, y->key,
					 y->key_len));
			check(same_bytes(x->value, x->value_len, y->value,
					 y->value_len));
		}
		break;
	case WIRE_MBATCH:
		check(a->u.mbatch.exchange_id == b->u.mbatch.exchange_id);
		check(a->u.mbatch.n == b->u.mbatch.n);
		check(a->u.mbatch.n_origins == b->u.mbatch.n_origins);
		check(a->u.mbatch.payload_bytes == b->u.mbatch.payload_bytes);
		for (i = 0; i < a->u.mbatch.n_origins; i++)
			check(same_bytes(a->u.mbatch.origins[i],
					 WIRE_ORIGIN_BYTES,
					 b->u.mbatch.origins[i],
					 WIRE_ORIGIN_BYTES));
		for (i = 0; i < a->u.mbatch.n; i++) {
			const struct wire_entry *x = &a->u.mbatch.entries[i];
			const struct wire_entry *y = &b->u.mbatch.entries[i];

			check(x->origin_index < a->u.mbatch.n_origins);
			check(x->origin_index == y->origin_index);
			check(x->seq == y->seq && x->clock == y->clock &&
			      x->wall_ms == y->wall_ms &&
			      x->deleted == y->deleted);
			check(same_bytes(x->key, x->key_len, y->key,
					 y->key_len));
			check(same_bytes(x->value, x->value_len, y->value,
					 y->value_len));
		}
		break;
	case WIRE_ACK:
		check(a->u.ack.exchange_id == b->u.ack.exchange_id);
		check(a->u.ack.bytes == b->u.ack.bytes);
		break;
	case WIRE_MEMBERS:
		check(a->u.members.n == b->u.members.n);
		for (i = 0; i < a->u.members.n; i++) {
			const struct wire_member *x = &a->u.members.members[i];
			const struct wire_member *y = &b->u.members.members[i];

			check(same_bytes(x->node_id, WIRE_NODE_ID_BYTES,
					 y->node_id, WIRE_NODE_ID_BYTES));
			check(same_bytes(x->host, x->host_len, y->host,
					 y->host_len));
			check(x->port == y->port && x->state == y->state &&
			      x->age_ms == y->age_ms);
		}
		break;
	case WIRE_PING:
	case WIRE_PONG:
		check(a->u.nonce == b->u.nonce);
		break;
	case WIRE_BYE:
		check(a->u.reason == b->u.reason);
		break;
	case WIRE_PREPARE:
	case WIRE_VOTE:
	case WIRE_COMMIT:
	case WIRE_COMMITTED:
	case WIRE_ABORT:
	case WIRE_ASK:
	case WIRE_ANSWER:
		check_same_strong(&a->u.strong, &b->u.strong);
		break;
	case WIRE_WHY_ASK:
	case WIRE_WHY_ANSWER:
		check_same_why(&a->u.why, &b->u.why);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_decoder d1, d2;
	struct wire_msg m1, m2;
	struct wire_buf buf;
	struct err err;
	int rv;

	wire_decoder_init(&d1);
	wire_decoder_init(&d2);
	wire_buf_init(&buf);
	rv = wire_decode(&d1, data, size, &m1, &err);
	check(rv == 0 || rv == RUMOR_EPROTO || rv == RUMOR_ENOMEM);
	if (rv == RUMOR_EPROTO)
		check(err.code == RUMOR_EPROTO && err.msg[0] != '\0');
	if (rv == 0) {
		check(wire_encode_msg(&buf, &m1, &err) == 0);
		check(wire_decode(&d2, buf.data, buf.len, &m2, &err) == 0);
		check_same(&m1, &m2);
		/* our encoding is the shortest but for the count head of a
		 * BATCH or an MBATCH, which always takes 5 bytes (wire.h) */
		check(buf.len <= size + (m1.type == WIRE_BATCH ||
					 m1.type == WIRE_MBATCH ? 4 : 0));
	}
	wire_buf_free(&buf);
	wire_decoder_free(&d1);
	wire_decoder_free(&d2);
	return 0;
}

/* A BATCH of two entries whose values (1 MiB and a little less) fill a
 * 2 MiB frame, into dir/largest-batch.cbor. */
static void write_big_seed(const char *dir)
{
	static uint8_t origin[WIRE_ORIGIN_BYTES];
	struct wire_entry e[2];
	struct wire_msg m;
	struct wire_buf b;
	struct err err;
	uint8_t *value;
	char path[4096];
	FILE *f;
	int i;

	value = malloc(WIRE_VALUE_MAX);
	check(value != NULL);
	memset(value, 'v', WIRE_VALUE_MAX);
	memset(origin, 0x33, sizeof origin);
	memset(e, 0, sizeof e);
	memset(&m, 0, sizeof m);
	for (i = 0; i < 2; i++) {
		e[i].seq = (uint64_t)i + 1;
		e[i].clock = (uint64_t)i + 7;
		e[i].wall_ms = 1700000000000ull;
		e[i].key = i == 0 ? "a" : "b";
		e[i].key_len = 1;
		e[i].value = value;
		e[i].value_len = i == 0 ? WIRE_VALUE_MAX : WIRE_VALUE_MAX - 256;
	}
	m.type = WIRE_BATCH;
	m.u.batch.exchange_id = 1;
	m.u.batch.origin = origin;
	m.u.batch.entries = e;
	m.u.batch.n = 2;
	m.u.batch.payload_bytes = 2 + e[0].value_len + e[1].value_len;
	wire_buf_init(&b);
	check(wire_encode_msg(&b, &m, &err) == 0);
	check(b.len <= 2097152);
	snprintf(path, sizeof path, "%s/largest-batch.cbor", dir);
	f = fopen(path, "wb");
	check(f != NULL && fwrite(b.data, 1, b.len, f) == b.len &&
	      fclose(f) == 0);
	wire_buf_free(&b);
	free(value);
}

/* A PREPARE of 3 participants whose two ops (a 1 MiB value and one a
 * little smaller) make it exactly WIRE_PREPARE_MAX bytes, the largest
 * one may send, into dir/largest-prepare.cbor. */
static void write_big_prepare(const char *dir)
{
	static uint8_t txid[WIRE_TXID_BYTES], parts[3 * WIRE_NODE_ID_BYTES];
	struct wire_op ops[2];
	struct wire_strong m;
	struct wire_buf b;
	struct err err;
	uint8_t *value;
	char path[4096];
	FILE *f;
	size_t over;

	value = malloc(WIRE_VALUE_MAX);
	check(value != NULL);
	memset(value, 'p', WIRE_VALUE_MAX);
	memset(txid, 0x14, sizeof txid);
	memset(parts, 0x55, sizeof parts);
	parts[WIRE_NODE_ID_BYTES] = 1;
	parts[2 * WIRE_NODE_ID_BYTES] = 2;
	memset(ops, 0, sizeof ops);
	memset(&m, 0, sizeof m);
	ops[0].key = (const uint8_t *)"a";
	ops[1].key = (const uint8_t *)"b";
	ops[0].key_len = ops[1].key_len = 1;
	ops[0].value = ops[1].value = value;
	ops[0].value_len = ops[1].value_len = WIRE_VALUE_MAX;
	m.txid = txid;
	m.ttl_ms = 5000;
	m.participants = parts;
	m.n_participants = 3;
	m.ops = ops;
	m.n_ops = 2;
	over = wire_prepare_size(&m) - WIRE_PREPARE_MAX;
	ops[1].value_len -= over;
	check(wire_prepare_size(&m) == WIRE_PREPARE_MAX);
	wire_buf_init(&b);
	check(wire_encode_strong(&b, WIRE_PREPARE, &m, &err) == 0);
	snprintf(path, sizeof path, "%s/largest-prepare.cbor", dir);
	f = fopen(path, "wb");
	check(f != NULL && fwrite(b.data, 1, b.len, f) == b.len &&
	      fclose(f) == 0);
	wire_buf_free(&b);
	free(value);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_BIG_SEEDS");

	(void)argc;
	(void)argv;
	if (dir != NULL) {
		write_big_seed(dir);
		write_big_prepare(dir);
	}
	return 0;
}
