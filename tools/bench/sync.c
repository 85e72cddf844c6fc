/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench sync: reconciliation between whole nodes (the public API)
 * over TCP on 127.0.0.1, beside the limit each stands on, measured in the
 * same run:
 *
 *   catchup  a fresh node pulls N keys from a peer    vs  raw batched
 *            (time from its open until it holds N)        LevelDB writes of
 *                                                         the same N keys
 *   steady   a peer applies what another writes       vs  raw batched
 *            without pause, in rumor_write batches        writes, same data
 *            (applies per second)
 *   latency  5 idle nodes: a put until all 5 hold it  vs  1 s; interval_min
 *            (p50, p99)                                   as the reference
 *   bytes    wire bytes per entry in a catch-up, and  vs  key + value bytes;
 *            per entry of a small delta after it          the catch-up's cost
 *
 * The serving node runs on its own thread and loop, the pulling node on
 * the main thread: two nodes are two processes in use, and this machine
 * has cores for both (but LevelDB's one background thread serves every
 * database of a process, so both nodes' compactions share it). The
 * latency cluster shares one loop (it is idle). Raw LevelDB gets the
 * store's options (src/store/) and batches of as many entries as one
 * sync BATCH frame carries; each raw figure is the best of RAW_ROUNDS.
 *
 * Lines marked "no target" say where the time goes: store_apply_batch
 * alone on the same batches (catch-up), raw writes in the writer's
 * batches and rumor_write on the writer (steady: the writer paces the
 * reader; --batch 1 writes with rumor_put, one WriteBatch a key).
 * The catch-up also prints the CPU seconds of the whole process during
 * the raw writes and during the catch-up, and their ratio: on a shared
 * machine the times follow the neighbours' load (the raw anchor too),
 * CPU seconds much less.
 *
 * This file parses the options and runs the modes; the modes are in
 * sync_modes.c, what they share in sync_data.c and sync_node.c
 * (declared in bench_sync.h).
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <leveldb/c.h>
#include <uv.h>

#include "bench.h"
#include "bench_sync.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "rumor.h"
#include "store/store.h"
#include "sync/sync.h"
#include "wire/wire.h"

/* ------------------------------------------------------------ main */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rumor-bench sync [catchup|steady|latency|bytes|all] [options]\n"
		"  --keys N          catch-up: keys the source holds (default %d)\n"
		"  --seconds S       steady: measured window (default %d)\n"
		"  --burst B         steady: keys written per loop iteration, at least\n"
		"                    one batch (default %d)\n"
		"  --batch N         steady: keys per rumor_write; 1: rumor_put\n"
		"                    (default %d)\n"
		"  --samples N       latency: puts measured (default %d)\n"
		"  --bytes-keys N    bytes: keys of the catch-up (default %d)\n"
		"  --delta N         bytes: keys of the delta after it (default %d)\n"
		"  --interval-min MS fastest reconciliation interval (default 100)\n"
		"  --interval-max MS idle reconciliation interval (default 10000)\n"
		"Keys are %d bytes, values %d bytes. Without a mode, all four run.\n",
		DEFAULT_CATCHUP_KEYS, DEFAULT_STEADY_MS / 1000, DEFAULT_BURST,
		DEFAULT_WRITE_BATCH, DEFAULT_SAMPLES, DEFAULT_BYTES_KEYS, DEFAULT_DELTA_KEYS,
		KEY_BYTES, VALUE_BYTES);
}

static int parse_args(int argc, char **argv, struct bench_opts *o,
		      const char **mode)
{
	size_t imin = 100, imax = 10000, secs = DEFAULT_STEADY_MS / 1000;
	int i = 1;

	o->catchup_keys = DEFAULT_CATCHUP_KEYS;
	o->burst = DEFAULT_BURST;
	o->write_batch = DEFAULT_WRITE_BATCH;
	o->samples = DEFAULT_SAMPLES;
	o->bytes_keys = DEFAULT_BYTES_KEYS;
	o->delta_keys = DEFAULT_DELTA_KEYS;
	*mode = "all";
	if (argc > 1 && argv[1][0] != '-') {
		*mode = argv[1];
		i = 2;
	}
	/* Every option but --help takes one value: two words a step. */
	for (; i < argc; i += 2) {
		const char *a = argv[i];
		size_t *dst = NULL, min = 1, max = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--keys") == 0) {
			dst = &o->catchup_keys;
			max = 50000000;
		} else if (strcmp(a, "--seconds") == 0) {
			dst = &secs;
			max = 600;
		} else if (strcmp(a, "--burst") == 0) {
			dst = &o->burst;
			max = 100000;
		} else if (strcmp(a, "--batch") == 0) {
			dst = &o->write_batch;
			max = RUMOR_WRITE_MAX;
		} else if (strcmp(a, "--samples") == 0) {
			dst = &o->samples;
			max = 100000;
		} else if (strcmp(a, "--bytes-keys") == 0) {
			dst = &o->bytes_keys;
			max = 50000000;
		} else if (strcmp(a, "--delta") == 0) {
			dst = &o->delta_keys;
			max = 1000000;
		} else if (strcmp(a, "--interval-min") == 0) {
			dst = &imin;
			max = 3600000;
		} else if (strcmp(a, "--interval-max") == 0) {
			dst = &imax;
			max = 3600000;
		}
		if (dst == NULL || i + 1 >= argc ||
		    bench_parse_size(argv[i + 1], min, max, dst) != 0) {
			fprintf(stderr, "rumor-bench sync: bad option or value at '%s'\n",
				a);
			usage(stderr);
			return -1;
		}
	}
	if (imax < imin) {
		fprintf(stderr, "rumor-bench sync: --interval-max below --interval-min\n");
		return -1;
	}
	o->steady_ms = secs * 1000;
	o->interval_min_ms = (unsigned)imin;
	o->interval_max_ms = (unsigned)imax;
	return 0;
}

int bench_sync_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const struct bench_opts *o, const char *root);
	} phases[] = {
		{"catchup", bsync_catchup},
		{"steady", bsync_steady},
		{"latency", bsync_latency},
		{"bytes", bsync_bytes},
	};
	const char *base = getenv("TMPDIR"), *mode;
	struct bench_opts o;
	char root[4096];
	size_t i;
	int all, ran = 0, met = 1, failed = 0, rv;

	if (parse_args(argc, argv, &o, &mode) != 0)
		return 2;
	/* A peer that closes first makes our next write to its socket raise
	 * SIGPIPE; libuv reports EPIPE instead when the signal is ignored. */
	signal(SIGPIPE, SIG_IGN);
	all = strcmp(mode, "all") == 0;
	for (i = 0; i < sizeof phases / sizeof phases[0]; i++)
		if (strcmp(mode, phases[i].name) == 0)
			break;
	if (!all && i == sizeof phases / sizeof phases[0]) {
		fprintf(stderr, "rumor-bench sync: unknown mode '%s'\n", mode);
		usage(stderr);
		return 2;
	}
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(root, sizeof root, "%s/rumor-bench-sync-XXXXXX", base);
	if (mkdtemp(root) == NULL) {
		perror("rumor-bench sync: mkdtemp");
		return 1;
	}
	for (i = 0; i < sizeof phases / sizeof phases[0]; i++) {
		if (!all && strcmp(mode, phases[i].name) != 0)
			continue;
		if (ran++)
			printf("\n");
		rv = phases[i].run(&o, root);
		if (rv < 0) {
			fprintf(stderr, "rumor-bench sync: %s failed\n",
				phases[i].name);
			failed = 1;
		} else if (rv == 0) {
			met = 0;
		}
		fflush(stdout);
	}
	if (bench_rmrf(root) != 0)
		fprintf(stderr, "rumor-bench sync: could not remove %s\n", root);
	return failed ? 1 : met ? 0 : 1;
}
