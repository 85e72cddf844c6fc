/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench crypto: the crypto layer beside raw libsodium, in one run:
 *
 *   handshakes per second: both state machines in memory, client and
 *   server, from the first message to both results (no I/O)
 *
 *   sealed frames (channel_seal + channel_feed)   vs  raw secretstream
 *   of 128 B and 64 KiB messages                      push + pull of the
 *                                                     same sizes
 *
 * Each figure is the best of several short rounds, the two sides of a
 * ratio interleaved, so a noisy neighbour hurts both alike.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench.h"
#include "crypto/channel.h"
#include "crypto/handshake.h"
#include "crypto/identity.h"

#define DEFAULT_SECONDS 0.5
#define DEFAULT_ROUNDS 3
#define TARGET_RATIO 0.80

struct bench_opts {
	double seconds;         /* per round and figure */
	int rounds;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rumor-bench crypto [--seconds S] [--rounds R]\n"
		"  --seconds S  time per round of each figure (default %.1f)\n"
		"  --rounds R   rounds, each figure's best is kept (default %d)\n",
		DEFAULT_SECONDS, DEFAULT_ROUNDS);
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int i;

	o->seconds = DEFAULT_SECONDS;
	o->rounds = DEFAULT_ROUNDS;
	for (i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (i + 1 >= argc)
			goto bad;
		errno = 0;
		if (strcmp(argv[i], "--seconds") == 0) {
			o->seconds = strtod(argv[++i], &end);
			if (errno != 0 || *end != '\0' || o->seconds <= 0 ||
			    o->seconds > 60)
				goto bad;
		} else if (strcmp(argv[i], "--rounds") == 0) {
			long r = strtol(argv[++i], &end, 10);

			if (errno != 0 || *end != '\0' || r < 1 || r > 100)
				goto bad;
			o->rounds = (int)r;
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	fprintf(stderr, "rumor-bench crypto: bad arguments\n");
	usage(stderr);
	return -1;
}

/* ------------------------------------------------------------ handshake */

struct hs_fixture {
	struct identity client_id, server_id;
	uint8_t network_key[NETWORK_KEY_BYTES];
	struct handshake *client, *server;
};

/* One whole handshake; returns 0 when both sides finished with matching
 * keys. */
static int handshake_once(struct hs_fixture *f)
{
	struct handshake_config cc = {
		.identity = &f->client_id,
		.network_key = f->network_key,
	};
	struct handshake_config sc = {
		.identity = &f->server_id,
		.network_key = f->network_key,
	};
	uint8_t a[HANDSHAKE_MSG_MAX], b[HANDSHAKE_MSG_MAX];
	size_t alen = 0, blen = 0;
	struct handshake_result cr, sr;
	struct err err;
	int turn = 0;

	handshake_client_init(f->client, &cc);
	handshake_server_init(f->server, &sc);
	if (handshake_client_start(f->client, a, &alen, &err) != 0)
		return -1;
	/* Messages alternate: the client's go to the server, and back. */
	while (!handshake_done(f->client) || !handshake_done(f->server)) {
		struct handshake *to = turn ? f->client : f->server;
		uint8_t *in = turn ? b : a, *out = turn ? a : b;
		size_t *in_len = turn ? &blen : &alen;
		size_t *out_len = turn ? &alen : &blen;

		if (*in_len == 0 || *in_len != handshake_expect(to))
			return -1;
		if (handshake_recv(to, in, *in_len, out, out_len, &err) != 0)
			return -1;
		*in_len = 0;
		turn = !turn;
	}
	handshake_get_result(f->client, &cr);
	handshake_get_result(f->server, &sr);
	handshake_wipe(f->client);
	handshake_wipe(f->server);
	return memcmp(cr.tx_key, sr.rx_key, SESSION_KEY_BYTES) == 0 &&
			       memcmp(cr.rx_key, sr.tx_key, SESSION_KEY_BYTES) == 0
		       ? 0
		       : -1;
}

static int bench_handshakes(const struct bench_opts *o)
{
	struct hs_fixture f;
	double best = 0;
	int r;

	crypto_sign_keypair(f.client_id.public_key, f.client_id.secret_key);
	crypto_sign_keypair(f.server_id.public_key, f.server_id.secret_key);
	randombytes_buf(f.network_key, sizeof f.network_key);
	f.client = malloc(handshake_size());
	f.server = malloc(handshake_size());
	if (f.client == NULL || f.server == NULL)
		goto fail;
	for (r = 0; r < o->rounds; r++) {
		double t0 = bench_now(), t;
		uint64_t n = 0;

		do {
			if (handshake_once(&f) != 0)
				goto fail;
			n++;
			t = bench_now() - t0;
		} while (t < o->seconds);
		if (n / t > best)
			best = n / t;
	}
	bench_report("handshakes (client + server, in memory)", best, "/s");
	free(f.client);
	free(f.server);
	return 0;
fail:
	fprintf(stderr, "rumor-bench crypto: the handshake failed\n");
	free(f.client);
	free(f.server);
	return -1;
}

/* ------------------------------------------------------------ frames */

static int count_frame(void *arg, uint8_t *msg, size_t len)
{
	uint64_t *bytes = arg;

	(void)msg;
	*bytes += len;
	return 0;
}

/* MB/s of seal + open of len-byte frames through a channel pair. */
static double frames_round(size_t len, double seconds, uint8_t *msg,
			   uint8_t *wire)
{
	struct handshake_result ka, kb;
	struct channel *tx = malloc(channel_size());
	struct channel *rx = malloc(channel_size());
	uint64_t bytes = 0;
	double t0, t;
	struct err err;

	if (tx == NULL || rx == NULL)
		goto fail;
	randombytes_buf(ka.tx_key, sizeof ka.tx_key);
	randombytes_buf(ka.rx_key, sizeof ka.rx_key);
	memcpy(kb.tx_key, ka.rx_key, sizeof kb.tx_key);
	memcpy(kb.rx_key, ka.tx_key, sizeof kb.rx_key);
	channel_init(tx, &ka);
	channel_init(rx, &kb);
	t0 = bench_now();
	do {
		int i;

		for (i = 0; i < 64; i++) {
			if (channel_seal(tx, msg, len, wire, &err) != 0 ||
			    channel_feed(rx, wire, channel_sealed_size(len),
					 NULL, count_frame, &bytes, &err) != 0)
				goto fail_after_init;
		}
		t = bench_now() - t0;
	} while (t < seconds);
	channel_wipe(tx);
	channel_wipe(rx);
	free(tx);
	free(rx);
	return (double)bytes / t / 1e6;

fail_after_init:
	fprintf(stderr, "rumor-bench crypto: %s\n", err.msg);
	channel_wipe(tx);
	channel_wipe(rx);
fail:
	free(tx);
	free(rx);
	return -1;
}

/* MB/s of raw secretstream push + pull of len-byte messages. */
static double secretstream_round(size_t len, double seconds, uint8_t *msg,
				 uint8_t *wire, uint8_t *plain)
{
	crypto_secretstream_xchacha20poly1305_state push, pull;
	uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	uint8_t header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	uint64_t bytes = 0;
	double t0, t;

	crypto_secretstream_xchacha20poly1305_keygen(key);
	crypto_secretstream_xchacha20poly1305_init_push(&push, header, key);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&pull, header,
							    key) != 0)
		return -1;
	t0 = bench_now();
	do {
		int i;

		for (i = 0; i < 64; i++) {
			unsigned long long plen;
			unsigned char tag;

			crypto_secretstream_xchacha20poly1305_push(
				&push, wire, NULL, msg, len, NULL, 0, 0);
			if (crypto_secretstream_xchacha20poly1305_pull(
				    &pull, plain, &plen, &tag, wire,
				    len + crypto_secretstream_xchacha20poly1305_ABYTES,
				    NULL, 0) != 0)
				return -1;
			bytes += plen;
		}
		t = bench_now() - t0;
	} while (t < seconds);
	return (double)bytes / t / 1e6;
}

static int bench_frames(const struct bench_opts *o, size_t len,
			const char *label, int *met)
{
	uint8_t *msg = malloc(len);
	uint8_t *wire = malloc(channel_sealed_size(len) +
			       crypto_secretstream_xchacha20poly1305_ABYTES);
	uint8_t *plain = malloc(len);
	double best_channel = 0, best_raw = 0;
	char name[96];
	int r;

	if (msg == NULL || wire == NULL || plain == NULL)
		goto fail;
	randombytes_buf(msg, len);
	for (r = 0; r < o->rounds; r++) {
		double c = frames_round(len, o->seconds / 2, msg, wire);
		double s = secretstream_round(len, o->seconds / 2, msg, wire,
					      plain);

		if (c < 0 || s < 0)
			goto fail;
		if (c > best_channel)
			best_channel = c;
		if (s > best_raw)
			best_raw = s;
	}
	snprintf(name, sizeof name, "sealed frames, %s (seal + open)", label);
	bench_report(name, best_channel, "MB/s");
	snprintf(name, sizeof name, "raw secretstream, %s (push + pull)", label);
	bench_report(name, best_raw, "MB/s");
	snprintf(name, sizeof name, "ratio frames / secretstream, %s", label);
	*met &= bench_ratio(name, best_channel / best_raw, TARGET_RATIO);
	free(msg);
	free(wire);
	free(plain);
	return 0;
fail:
	fprintf(stderr, "rumor-bench crypto: frame round failed\n");
	free(msg);
	free(wire);
	free(plain);
	return -1;
}

int bench_crypto_main(int argc, char **argv)
{
	struct bench_opts o;
	int met = 1;

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (sodium_init() < 0) {
		fprintf(stderr, "rumor-bench crypto: sodium_init failed\n");
		return 1;
	}
	printf("rumor-bench crypto: best of %d rounds of %.2f s\n", o.rounds,
	       o.seconds);
	if (bench_handshakes(&o) != 0)
		return 1;
	if (bench_frames(&o, 128, "128 B", &met) != 0 ||
	    bench_frames(&o, 64 * 1024, "64 KiB", &met) != 0)
		return 1;
	return met ? 0 : 1;
}
