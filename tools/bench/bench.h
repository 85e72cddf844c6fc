/* SPDX-License-Identifier: MIT */
/* bench: the modes of tools/rumor-bench, one file each in tools/bench/. */
#ifndef RUMOR_BENCH_H
#define RUMOR_BENCH_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/types.h>

struct bench_mode {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
};

int bench_store_main(int argc, char **argv);
int bench_crypto_main(int argc, char **argv);
int bench_sync_main(int argc, char **argv);
int bench_handshake_main(int argc, char **argv);
int bench_proc_main(int argc, char **argv);
/* rumor-bench strong: rumor-bench proc --only strong. */
int bench_strong_main(int argc, char **argv);

/* rm -rf dir (tools/rumor-bench.c): 0, or -1 with errno. */
int bench_rmrf(const char *dir);
/* A field of /proc/PID/status in KiB ("VmRSS", "RssAnon", ...), or -1. */
long bench_status_kib(pid_t pid, const char *field);

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A decimal count in [min, max] from an option's argument: 0, or -1 when
 * s is not one. */
static inline int bench_parse_size(const char *s, size_t min, size_t max,
				   size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* One line a figure: name, value, unit; and a ratio line with its target. */
static inline void bench_report(const char *name, double value,
				const char *unit)
{
	printf("  %-44s %14.1f %s\n", name, value, unit);
}

static inline int bench_ratio(const char *name, double ratio, double target)
{
	int ok = ratio >= target;

	printf("  %-44s %13.2fx  (target >= %.2fx: %s)\n", name, ratio, target,
	       ok ? "met" : "NOT met");
	return ok;
}

#endif
