/* SPDX-License-Identifier: MIT */
/*
 * fuzz_frame: the channel's receive path (crypto/channel.c) under fixed
 * session keys. Each input is a byte stream fed twice: whole, and cut
 * into pieces chosen from the input itself. Both feeds must deliver the
 * same frames and end in the same state, and neither may crash, leak or
 * read out of bounds. Seeds (tests/fuzz/corpus/frame) are valid sealed
 * streams under the same keys: FUZZ_FRAME_WRITE_SEEDS=DIR writes them;
 * FUZZ_BIG_SEEDS=DIR writes one with a frame of CHANNEL_FRAME_MAX bytes
 * (make fuzz-smoke and fuzz-long do, and pass -max_len above its size).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct seen {
	size_t frames;
	uint64_t hash;          /* FNV-1a over lengths and bytes */
};

static int seen_frame(void *arg, uint8_t *msg, size_t len)
{
	struct seen *s = arg;
	size_t i;

	assert(len <= CHANNEL_FRAME_MAX);
	s->frames++;
	s->hash = (s->hash ^ len) * 0x100000001b3u;
	for (i = 0; i < len; i++)
		s->hash = (s->hash ^ msg[i]) * 0x100000001b3u;
	return 0;
}

/* The receiver's keys: its rx_key is what the seeds were sealed with. */
static void fixed_keys(struct handshake_result *res, int sender)
{
	memset(res, 0, sizeof *res);
	memset(sender ? res->tx_key : res->rx_key, 0x5a, SESSION_KEY_BYTES);
	memset(sender ? res->rx_key : res->tx_key, 0xa5, SESSION_KEY_BYTES);
}

static void write_seed(const char *dir, const char *name, const size_t *sizes,
		       size_t n)
{
	struct handshake_result res;
	struct channel *tx = malloc(channel_size());
	char path[4096];
	FILE *f;
	size_t i, j;

	assert(tx != NULL);
	fixed_keys(&res, 1);
	channel_init(tx, &res);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert(f != NULL);
	for (i = 0; i < n; i++) {
		uint8_t *msg = malloc(sizes[i] + 1);
		uint8_t *out = malloc(channel_sealed_size(sizes[i]));
		int rv;

		assert(msg != NULL && out != NULL);
		for (j = 0; j < sizes[i]; j++)
			msg[j] = (uint8_t)('a' + (i + j) % 26);
		rv = channel_seal(tx, msg, sizes[i], out, NULL);
		assert(rv == 0);
		(void)rv;
		fwrite(out, 1, channel_sealed_size(sizes[i]), f);
		free(msg);
		free(out);
	}
	fclose(f);
	channel_wipe(tx);
	free(tx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const size_t one[] = {5};
	static const size_t empty[] = {0};
	static const size_t three[] = {1, 0, 200};
	static const size_t big[] = {3000, 17};
	static const size_t largest[] = {CHANNEL_FRAME_MAX, 3};
	const char *dir = getenv("FUZZ_FRAME_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	/* Seeds too large for the source tree (run.sh names the scratch or
	 * kept corpus): a frame of the largest size, then a small one. */
	if (getenv("FUZZ_BIG_SEEDS") != NULL)
		write_seed(getenv("FUZZ_BIG_SEEDS"), "largest-frame", largest,
			   2);
	if (dir != NULL) {
		write_seed(dir, "one-frame", one, 1);
		write_seed(dir, "empty-frame", empty, 1);
		write_seed(dir, "three-frames", three, 3);
		write_seed(dir, "large-frames", big, 2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct handshake_result res;
	struct channel *whole = malloc(channel_size());
	struct channel *cut = malloc(channel_size());
	struct seen a = {0, 0xcbf29ce484222325u}, b = a;
	uint32_t rng = (uint32_t)size * 2654435761u + 1;
	int rv_whole, rv_cut = 0;
	size_t off = 0, used;

	assert(whole != NULL && cut != NULL);
	fixed_keys(&res, 0);
	channel_init(whole, &res);
	channel_init(cut, &res);

	rv_whole = channel_feed(whole, data, size, &used, seen_frame, &a,
				NULL);
	assert(rv_whole != 0 || used == size);
	while (off < size && rv_cut == 0) {
		size_t n;

		rng = rng * 1103515245u + 12345u;
		n = 1 + (rng >> 16) % 97;
		if (n > size - off)
			n = size - off;
		rv_cut = channel_feed(cut, data + off, n, NULL, seen_frame, &b,
				      NULL);
		off += n;
	}
	/* Cutting the stream changes nothing about what it means. */
	assert(rv_whole == rv_cut);
	assert(a.frames == b.frames && a.hash == b.hash);
	if (rv_whole == 0)
		assert(channel_pending(whole) == channel_pending(cut));
	/* A dead channel stays dead. */
	if (rv_whole != 0)
		assert(channel_feed(whole, data, size, NULL, seen_frame, &a,
				    NULL) == rv_whole);
	assert(channel_memory(whole) <=
	       (size_t)CHANNEL_FRAME_MAX + CHANNEL_TAG_BYTES);

	channel_wipe(whole);
	channel_wipe(cut);
	free(whole);
	free(cut);
	return 0;
}
