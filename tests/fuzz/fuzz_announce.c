/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: announce_verify over arbitrary datagrams. The seeds
 * (tests/fuzz/corpus/announce) are valid version-2 packets under the key
 * below, so the fuzzer starts past the seal. Checks: no crash, no read
 * past the input, and the verifier never accepts the same packet twice
 * (the second time it is a duplicate).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discovery/announce.h"

/* Matches tests/fuzz/corpus/announce: netkey bytes 0..31, self id 0x11,
 * clock at the seeds' timestamp. */
#define FUZZ_NOW 1700000000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct announce_verifier v;
	uint8_t netkey[ANNOUNCE_NETKEY_BYTES], self[ANNOUNCE_ID_BYTES];
	struct announce a;
	uint8_t *copy;

	if (sodium_init() < 0)
		abort();
	for (int i = 0; i < ANNOUNCE_NETKEY_BYTES; i++)
		netkey[i] = (uint8_t)i;
	memset(self, 0x11, sizeof self);
	/* Fresh state per input keeps runs reproducible. */
	announce_verifier_init(&v, netkey, self, 0);
	/* An exact-size heap copy so ASan sees any overread. */
	copy = malloc(size != 0 ? size : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	if (announce_verify(&v, copy, size, FUZZ_NOW, &a) == ANNOUNCE_OK) {
		if (size != ANNOUNCE_BYTES || a.port == 0)
			abort();
		if (announce_verify(&v, copy, size, FUZZ_NOW, NULL) !=
		    ANNOUNCE_DUPLICATE)
			abort();
	}
	free(copy);
	return 0;
}
