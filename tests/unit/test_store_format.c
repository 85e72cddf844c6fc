/* SPDX-License-Identifier: MIT */
/* Unit tests of the store's on-disk encodings (src/store/format.c): every
 * entry round-trips, a table of malformed entries is refused, and the seed
 * corpus of fuzz_store_format is what the encoders write and passes the
 * fuzz target's checks (which run here, without libFuzzer). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/testutil.h"
#include "store/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SAMPLE_MAX (META_HEAD_BYTES + 64)

struct sample {
	const char *name;
	uint8_t buf[SAMPLE_MAX];
	size_t len;
};

enum {
	S_META_LIVE, S_META_EMPTY, S_META_TOMB, S_LOG_LIVE, S_LOG_TOMB,
	S_LOG_KEY, S_HWM, S_SCHEMA, S_SEQ, N_SAMPLES
};

static void make_meta(struct meta *m, int deleted)
{
	memset(m, 0, sizeof *m);
	m->clock = 3;
	m->seq = 7;
	m->wall_ms = 1700000000123ull;
	m->pos = 11;
	memset(m->origin, 0xab, sizeof m->origin);
	m->deleted = deleted;
}

/* One valid encoding of each kind of entry. */
static void build_samples(struct sample *s)
{
	uint8_t origin[STORE_ORIGIN_BYTES];
	struct meta m;

	memset(s, 0, N_SAMPLES * sizeof *s);
	memset(origin, 0xcd, sizeof origin);
	s[S_META_LIVE].name = "meta_live";
	make_meta(&m, 0);
	format_meta_encode(s[S_META_LIVE].buf, &m);
	memcpy(s[S_META_LIVE].buf + META_HEAD_BYTES, "hello", 5);
	s[S_META_LIVE].len = META_HEAD_BYTES + 5;
	s[S_META_EMPTY].name = "meta_empty_value";
	format_meta_encode(s[S_META_EMPTY].buf, &m);
	s[S_META_EMPTY].len = META_HEAD_BYTES;
	s[S_META_TOMB].name = "meta_tombstone";
	make_meta(&m, 1);
	format_meta_encode(s[S_META_TOMB].buf, &m);
	s[S_META_TOMB].len = META_HEAD_BYTES;
	s[S_LOG_LIVE].name = "log_live";
	s[S_LOG_LIVE].len = format_log_encode((char *)s[S_LOG_LIVE].buf, 3,
					      1700000000123ull, 0, "key", 3);
	s[S_LOG_TOMB].name = "log_tombstone";
	s[S_LOG_TOMB].len = format_log_encode((char *)s[S_LOG_TOMB].buf, 9,
					      5, 1, "k", 1);
	s[S_LOG_KEY].name = "log_key";
	format_log_key((char *)s[S_LOG_KEY].buf, origin, 0x0102030405ull);
	s[S_LOG_KEY].len = LOG_KEY_BYTES;
	s[S_HWM].name = "hwm_entry";
	format_hwm_key((char *)s[S_HWM].buf, origin);
	format_u64_encode(s[S_HWM].buf + HWM_KEY_BYTES, 42);
	s[S_HWM].len = HWM_KEY_BYTES + 8;
	s[S_SCHEMA].name = "schema";
	format_schema_encode(s[S_SCHEMA].buf, STORE_SCHEMA_VERSION);
	s[S_SCHEMA].len = SCHEMA_VALUE_BYTES;
	s[S_SEQ].name = "seq";
	format_u64_encode(s[S_SEQ].buf, 123456789);
	s[S_SEQ].len = 8;
}

static void test_entries_round_trip(void **state)
{
	struct sample s[N_SAMPLES];
	const uint8_t *origin;
	struct log_value lv;
	struct meta m;
	uint64_t seq;
	uint32_t schema;
	size_t i;

	(void)state;
	build_samples(s);
	assert_int_equal(format_meta_decode(s[S_META_LIVE].buf,
					    s[S_META_LIVE].len, &m), 0);
	assert_int_equal(m.clock, 3);
	assert_int_equal(m.seq, 7);
	assert_int_equal(m.wall_ms, 1700000000123ull);
	assert_false(m.deleted);
	assert_int_equal(m.value_len, 5);
	assert_memory_equal(m.value, "hello", 5);
	assert_int_equal(format_meta_decode(s[S_META_EMPTY].buf,
					    s[S_META_EMPTY].len, &m), 0);
	assert_non_null(m.value);       /* an empty live value is not NULL */
	assert_int_equal(m.value_len, 0);
	assert_int_equal(format_meta_decode(s[S_META_TOMB].buf,
					    s[S_META_TOMB].len, &m), 0);
	assert_true(m.deleted);
	assert_null(m.value);
	assert_int_equal(format_log_decode(s[S_LOG_LIVE].buf, s[S_LOG_LIVE].len,
					   &lv), 0);
	assert_int_equal(lv.clock, 3);
	assert_false(lv.deleted);
	assert_int_equal(lv.key_len, 3);
	assert_memory_equal(lv.key, "key", 3);
	assert_int_equal(format_log_decode(s[S_LOG_TOMB].buf, s[S_LOG_TOMB].len,
					   &lv), 0);
	assert_true(lv.deleted);
	assert_int_equal(format_log_key_decode(s[S_LOG_KEY].buf, LOG_KEY_BYTES,
					       &origin, &seq), 0);
	assert_int_equal(seq, 0x0102030405ull);
	assert_int_equal(origin[0], 0xcd);
	/* Big-endian: keys of one origin sort by seq. */
	assert_int_equal(s[S_LOG_KEY].buf[LOG_KEY_BYTES - 1], 0x05);
	assert_int_equal(format_hwm_decode(s[S_HWM].buf, HWM_KEY_BYTES,
					   s[S_HWM].buf + HWM_KEY_BYTES, 8,
					   &origin, &seq), 0);
	assert_int_equal(seq, 42);
	assert_int_equal(format_schema_decode(s[S_SCHEMA].buf,
					      SCHEMA_VALUE_BYTES, &schema), 0);
	assert_int_equal(schema, STORE_SCHEMA_VERSION);
	assert_int_equal(format_u64_decode(s[S_SEQ].buf, 8, &seq), 0);
	assert_int_equal(seq, 123456789);
	for (i = 0; i < N_SAMPLES; i++)
		LLVMFuzzerTestOneInput(s[i].buf, s[i].len);
}

/* Copies sample i into out and changes byte at to v; returns the length. */
static size_t mutate(const struct sample *s, uint8_t *out, size_t at,
		     uint8_t v)
{
	memcpy(out, s->buf, s->len);
	out[at] = v;
	return s->len;
}

static void test_malformed_entries_are_refused(void **state)
{
	struct sample s[N_SAMPLES];
	uint8_t b[SAMPLE_MAX], *big;
	const uint8_t *origin;
	struct log_value lv;
	struct meta m;
	uint64_t seq;
	uint32_t schema;
	size_t n;

	(void)state;
	build_samples(s);
	/* Metas: short, unknown format, unknown flag, clock 0, seq 0, a
	 * tombstone with value bytes, a value over RUMOR_VALUE_MAX. */
	assert_int_equal(format_meta_decode(s[S_META_TOMB].buf,
					    META_HEAD_BYTES - 1, &m), -1);
	n = mutate(&s[S_META_LIVE], b, 0, META_FORMAT + 1);
	assert_int_equal(format_meta_decode(b, n, &m), -1);
	n = mutate(&s[S_META_LIVE], b, 1, 0x02);
	assert_int_equal(format_meta_decode(b, n, &m), -1);
	n = mutate(&s[S_META_LIVE], b, 9, 0);       /* clock 3 -> 0 */
	assert_int_equal(format_meta_decode(b, n, &m), -1);
	n = mutate(&s[S_META_LIVE], b, 17, 0);      /* seq 7 -> 0 */
	assert_int_equal(format_meta_decode(b, n, &m), -1);
	n = mutate(&s[S_META_LIVE], b, 1, FLAG_DELETED);
	assert_int_equal(format_meta_decode(b, n, &m), -1);
	big = calloc(1, META_HEAD_BYTES + RUMOR_VALUE_MAX + 1);
	assert_non_null(big);
	memcpy(big, s[S_META_EMPTY].buf, META_HEAD_BYTES);
	assert_int_equal(format_meta_decode(big, META_HEAD_BYTES +
					    RUMOR_VALUE_MAX, &m), 0);
	assert_int_equal(format_meta_decode(big, META_HEAD_BYTES +
					    RUMOR_VALUE_MAX + 1, &m), -1);
	free(big);
	/* Log values: no key, a key over RUMOR_KEY_MAX, unknown format or
	 * flag, clock 0. */
	assert_int_equal(format_log_decode(s[S_LOG_LIVE].buf, LOG_HEAD_BYTES,
					   &lv), -1);
	big = calloc(1, LOG_HEAD_BYTES + RUMOR_KEY_MAX + 1);
	assert_non_null(big);
	memcpy(big, s[S_LOG_LIVE].buf, LOG_HEAD_BYTES);
	assert_int_equal(format_log_decode(big, LOG_HEAD_BYTES + RUMOR_KEY_MAX,
					   &lv), 0);
	assert_int_equal(format_log_decode(big, LOG_HEAD_BYTES +
					   RUMOR_KEY_MAX + 1, &lv), -1);
	free(big);
	n = mutate(&s[S_LOG_LIVE], b, 0, LOG_FORMAT + 1);
	assert_int_equal(format_log_decode(b, n, &lv), -1);
	n = mutate(&s[S_LOG_LIVE], b, 1, 0x80);
	assert_int_equal(format_log_decode(b, n, &lv), -1);
	n = mutate(&s[S_LOG_LIVE], b, 9, 0);        /* clock 3 -> 0 */
	assert_int_equal(format_log_decode(b, n, &lv), -1);
	/* Log keys: length, prefix, seq 0. */
	assert_int_equal(format_log_key_decode(s[S_LOG_KEY].buf,
					       LOG_KEY_BYTES - 1, &origin,
					       &seq), -1);
	n = mutate(&s[S_LOG_KEY], b, 0, PFX_META);
	assert_int_equal(format_log_key_decode(b, n, &origin, &seq), -1);
	memcpy(b, s[S_LOG_KEY].buf, LOG_KEY_BYTES);
	memset(b + 1 + STORE_ORIGIN_BYTES, 0, 8);
	assert_int_equal(format_log_key_decode(b, LOG_KEY_BYTES, &origin, &seq),
			 -1);
	/* HWM entries: key length, prefix, value length. */
	assert_int_equal(format_hwm_decode(s[S_HWM].buf, HWM_KEY_BYTES - 1,
					   s[S_HWM].buf + HWM_KEY_BYTES, 8,
					   &origin, &seq), -1);
	n = mutate(&s[S_HWM], b, 0, PFX_LOG);
	assert_int_equal(format_hwm_decode(b, HWM_KEY_BYTES, b + HWM_KEY_BYTES,
					   8, &origin, &seq), -1);
	assert_int_equal(format_hwm_decode(s[S_HWM].buf, HWM_KEY_BYTES,
					   s[S_HWM].buf + HWM_KEY_BYTES, 7,
					   &origin, &seq), -1);
	/* Singletons: lengths. */
	assert_int_equal(format_schema_decode(s[S_SCHEMA].buf, 3, &schema), -1);
	assert_int_equal(format_schema_decode(s[S_SEQ].buf, 8, &schema), -1);
	assert_int_equal(format_u64_decode(s[S_SEQ].buf, 9, &seq), -1);
	(void)n;
}

/* Writes or compares one seed file under the source tree. */
static void seed_file(const char *rel, const struct sample *s, int write)
{
	uint8_t buf[SAMPLE_MAX + 1];
	ssize_t n = tu_seed_file(rel, s->buf, s->len, write, buf, sizeof buf);

	if (n < 0)
		fail_msg("cannot %s %s (RUMOR_WRITE_CORPUS=1 writes it)",
			 write ? "write" : "read", rel);
	if (write)
		return;
	assert_int_equal((size_t)n, s->len);
	assert_memory_equal(buf, s->buf, s->len);
	LLVMFuzzerTestOneInput(buf, s->len);
}

/* The seed corpus of fuzz_store_format is exactly what the encoders
 * write; RUMOR_WRITE_CORPUS=1 rewrites it after an intended format
 * change. */
static void test_seed_corpus_matches_the_encoders(void **state)
{
	struct sample s[N_SAMPLES];
	char rel[128];
	size_t i;
	int write = getenv("RUMOR_WRITE_CORPUS") != NULL;

	(void)state;
	build_samples(s);
	for (i = 0; i < N_SAMPLES; i++) {
		snprintf(rel, sizeof rel, "tests/fuzz/corpus/store_format/%s",
			 s[i].name);
		seed_file(rel, &s[i], write);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_round_trip),
		cmocka_unit_test(test_malformed_entries_are_refused),
		cmocka_unit_test(test_seed_corpus_matches_the_encoders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
