/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench: benchmarks, not tests. Each mode measures rumor beside the
 * limit it stands on (raw LevelDB, raw libsodium, ...) in the same run and
 * prints the ratios with their targets.
 *
 *   rumor-bench MODE [options]      rumor-bench --help
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

static const struct bench_mode modes[] = {
	{"store", bench_store_main,
	 "local puts and remote applies against raw LevelDB writes"},
	{"crypto", bench_crypto_main,
	 "handshakes per second and sealed-frame throughput against raw secretstream"},
	{"sync", bench_sync_main,
	 "catch-up, steady replication, latency and wire bytes over loopback"},
	{"handshake", bench_handshake_main,
	 "legitimate handshakes per second, idle and under a flood of strangers"},
	{"proc", bench_proc_main,
	 "real rumord processes in a private netns: latency, copies, catch-up, steady, strong"},
	{"strong", bench_strong_main,
	 "strong writes beside gossip writes on 3 rumord processes (proc --only strong)"},
};

static int rmrf_one(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int bench_rmrf(const char *dir)
{
	return nftw(dir, rmrf_one, 16, FTW_DEPTH | FTW_PHYS);
}

long bench_status_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			kib = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: rumor-bench MODE [options]   (MODE --help for its options)\n\nmodes:\n");
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++)
		fprintf(out, "  %-10s %s\n", modes[i].name, modes[i].help);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].main(argc - 1, argv + 1);
	fprintf(stderr, "rumor-bench: unknown mode '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
