/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench store log: what rumorctl's `log` costs on a large store.
 * It lists each origin's newest entries (store_log_newest, read backwards
 * from each origin's end); the limit beside it, in the same run, is one
 * forward pass over the whole log (store_log_scan of every origin with a
 * callback that keeps nothing): what keeping the newest N cost before,
 * at the least, since the log was read forward to its end.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_store.h"
#include "store/store.h"

#define LOG_ORIGINS 4           /* this node and three others */
#define LOG_BATCH 1000u

static int count_entry(void *arg, const struct rumor_version *v)
{
	(void)v;
	(*(size_t *)arg)++;
	return 0;
}

/* keys versions of origin (local: written by this node, else applied
 * as a stream applies them, seqs 1..keys), keys numbered from from,
 * 1,000 a batch, values of 100 bytes. */
static int log_fill(struct store *s, const uint8_t *origin, int local,
		    size_t keys, size_t from, struct err *e)
{
	struct store_op ops[LOG_BATCH];
	struct rumor_version vs[LOG_BATCH];
	static char kbuf[LOG_BATCH][16];
	char value[100];
	size_t i, j, m;
	int rv = 0;

	bstore_fill_random(value, sizeof value, 11);
	for (i = 0; i < keys && rv == 0; i += m) {
		m = keys - i < LOG_BATCH ? keys - i : LOG_BATCH;
		for (j = 0; j < m; j++) {
			bstore_make_key(kbuf[j], sizeof kbuf[j], from + i + j);
			ops[j] = (struct store_op){kbuf[j], sizeof kbuf[j],
						   value, sizeof value, 0};
			memset(&vs[j], 0, sizeof vs[j]);
			vs[j].key = kbuf[j];
			vs[j].key_len = sizeof kbuf[j];
			vs[j].value = value;
			vs[j].value_len = sizeof value;
			vs[j].clock = 1;
			vs[j].wall_ms = 1;
			vs[j].origin = origin;
			vs[j].origin_len = STORE_ORIGIN_BYTES;
			vs[j].seq = i + j + 1;
		}
		rv = local ? store_write_batch(s, ops, m, NULL, e)
			   : store_apply_batch(s, vs, m, NULL, 0, NULL, e);
	}
	return rv;
}

/* Seconds a call of the listing (newest) or of the forward pass over
 * every origin, the best of calls; *given: entries a call gave. */
static double log_measure(struct store *s, uint8_t origins[][32], int newest,
			  size_t max, size_t calls, size_t *given,
			  struct err *e)
{
	double best = -1, t;
	size_t c;
	int o;

	for (c = 0; c < calls; c++) {
		*given = 0;
		t = bench_now();
		for (o = 0; o < LOG_ORIGINS; o++) {
			int rv = newest
				? store_log_newest(s, origins[o], max,
						   count_entry, given, e)
				: store_log_scan(s, NULL, origins[o], 0, 0,
						 count_entry, given, NULL, e);

			if (rv != 0)
				return -1;
		}
		t = bench_now() - t;
		best = best < 0 || t < best ? t : best;
	}
	return best;
}

int bench_store_log(int argc, char **argv)
{
	size_t keys = 200000, max = 20, calls = 5, given_new, given_all, i;
	uint8_t origins[LOG_ORIGINS][STORE_ORIGIN_BYTES];
	const char *base = getenv("TMPDIR");
	struct store *s = NULL;
	struct err e = {0};
	double t_new, t_all;
	char root[4096];
	int o, rv = -1;

	for (i = 1; i + 1 < (size_t)argc; i += 2) {
		size_t *dst = strcmp(argv[i], "--keys") == 0 ? &keys :
			      strcmp(argv[i], "--limit") == 0 ? &max :
			      strcmp(argv[i], "--calls") == 0 ? &calls : NULL;

		if (dst == NULL ||
		    bench_parse_size(argv[i + 1], 1, 100000000, dst) != 0)
			break;
	}
	if (i != (size_t)argc) {
		fprintf(stderr, "usage: rumor-bench store log [--keys N] [--limit L] [--calls C]\n");
		return 2;
	}
	snprintf(root, sizeof root, "%s/rumor-bench-log-XXXXXX",
		 base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror("rumor-bench store log: mkdtemp");
		return 1;
	}
	for (o = 0; o < LOG_ORIGINS; o++)
		memset(origins[o], 0x20 + 0x10 * o, STORE_ORIGIN_BYTES);
	printf("store log: %zu entries of this node, %zu of each of %d "
	       "others; the newest %zu per origin, best of %zu calls\n", keys,
	       keys / 10, LOG_ORIGINS - 1, max, calls);
	if (bstore_open(&s, root, origins[0]) != 0)
		goto done;
	if (log_fill(s, origins[0], 1, keys, 0, &e) != 0)
		goto failed;
	for (o = 1; o < LOG_ORIGINS; o++)
		if (log_fill(s, origins[o], 0, keys / 10, keys * (size_t)o,
			     &e) != 0)
			goto failed;
	/* From disk, as a node that has run a while: a fresh open. */
	store_close(s);
	if (bstore_open(&s, root, origins[0]) != 0)
		goto done;
	t_all = log_measure(s, origins, 0, 0, calls, &given_all, &e);
	t_new = log_measure(s, origins, 1, max, calls, &given_new, &e);
	if (t_all < 0 || t_new < 0)
		goto failed;
	printf("  %-40s %10.3f ms  (%zu entries)\n",
	       "forward pass over the whole log", t_all * 1e3, given_all);
	printf("  %-40s %10.3f ms  (%zu entries)  1/%.0f of the pass\n",
	       "newest per origin (store_log_newest)", t_new * 1e3, given_new,
	       t_new > 0 ? t_all / t_new : 0.0);
	rv = 0;
	goto done;
failed:
	fprintf(stderr, "rumor-bench store log: %s\n", e.msg);
done:
	store_close(s);
	if (bench_rmrf(root) != 0)
		fprintf(stderr, "rumor-bench store log: could not remove %s\n",
			root);
	return rv == 0 ? 0 : 1;
}
