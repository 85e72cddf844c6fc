/* SPDX-License-Identifier: MIT */
/*
 * fuzz_store_format: libFuzzer target for the store's on-disk decoders
 * (src/store/format.h). Any input is given to every decoder (meta value,
 * log value, log key, HWM entry split after its key, be64 value, schema
 * value); none may crash or read outside the input, and whatever decodes
 * must re-encode to the very same bytes (a decoder accepts nothing its
 * encoder cannot write, so a store never holds two spellings of one
 * entry). test_store_format runs it over the seed corpus in make check.
 *
 *   tests/fuzz/fuzz_store_format -max_total_time=60 work/ \
 *       tests/fuzz/corpus/store_format
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void fuzz_meta(const uint8_t *data, size_t size)
{
	uint8_t *out;
	struct meta m;

	if (format_meta_decode(data, size, &m) != 0)
		return;
	check(m.clock != 0 && m.seq != 0);
	check(m.deleted ? m.value == NULL && m.value_len == 0 :
	      m.value == (const char *)data + META_HEAD_BYTES);
	out = malloc(META_HEAD_BYTES + m.value_len);
	check(out != NULL);
	format_meta_encode(out, &m);
	if (m.value_len > 0)
		memcpy(out + META_HEAD_BYTES, m.value, m.value_len);
	check(META_HEAD_BYTES + m.value_len == size &&
	      memcmp(out, data, size) == 0);
	free(out);
}

static void fuzz_log(const uint8_t *data, size_t size)
{
	char out[LOG_HEAD_BYTES + RUMOR_KEY_MAX];
	struct log_value lv;
	size_t n;

	if (format_log_decode(data, size, &lv) != 0)
		return;
	check(lv.key_len >= 1 && lv.key_len <= RUMOR_KEY_MAX);
	n = format_log_encode(out, lv.clock, lv.wall_ms, lv.deleted, lv.key,
			      lv.key_len);
	check(n == size && memcmp(out, data, size) == 0);
}

static void fuzz_keys(const uint8_t *data, size_t size)
{
	char lk[LOG_KEY_BYTES], hk[HWM_KEY_BYTES];
	const uint8_t *origin;
	uint8_t v[8];
	uint64_t seq;

	if (format_log_key_decode(data, size, &origin, &seq) == 0) {
		check(seq != 0);
		format_log_key(lk, origin, seq);
		check(size == sizeof lk && memcmp(lk, data, size) == 0);
	}
	if (size >= HWM_KEY_BYTES &&
	    format_hwm_decode(data, HWM_KEY_BYTES, data + HWM_KEY_BYTES,
			      size - HWM_KEY_BYTES, &origin, &seq) == 0) {
		format_hwm_key(hk, origin);
		format_u64_encode(v, seq);
		check(size == HWM_KEY_BYTES + 8 &&
		      memcmp(hk, data, HWM_KEY_BYTES) == 0 &&
		      memcmp(v, data + HWM_KEY_BYTES, 8) == 0);
	}
}

static void fuzz_singles(const uint8_t *data, size_t size)
{
	uint8_t v[8];
	uint64_t u;
	uint32_t schema;
	char hex[41];

	if (format_u64_decode(data, size, &u) == 0) {
		format_u64_encode(v, u);
		check(size == 8 && memcmp(v, data, 8) == 0);
	}
	if (format_schema_decode(data, size, &schema) == 0) {
		format_schema_encode(v, schema);
		check(size == SCHEMA_VALUE_BYTES &&
		      memcmp(v, data, SCHEMA_VALUE_BYTES) == 0);
	}
	format_key_hex(data, size, hex);
	check(strlen(hex) == 2 * (size < 20 ? size : 20));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_meta(data, size);
	fuzz_log(data, size);
	fuzz_keys(data, size);
	fuzz_singles(data, size);
	return 0;
}
