/* SPDX-License-Identifier: MIT */
/*
 * proc_strong.c: rumor-bench proc's strong phase (issue 14, item 6):
 * strong writes (two-phase commit, quorum all) beside gossip writes on
 * the same 3-node cluster of rumord processes, in the same run: writes/s
 * and p50/p99 latency, sequential (one client) and with
 * PROC_PIPELINE writes in flight (that many clients, spread over the
 * nodes, each with one write outstanding, distinct keys so that no
 * write waits on another's lock). A write's latency is from sending its
 * request to reading its OK over the control socket, as rumorctl sees
 * it.
 */
#include "config.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/bench/bench.h"
#include "tools/bench/bench_proc.h"

#define STRONG_NODES 3
#define STRONG_READY_MS 15000      /* a meshed cluster is ready within */
#define STRONG_SEQ_WRITES 2000     /* sequential writes per figure */
#define STRONG_PAR_WRITES 20000    /* pipelined writes per figure */
#define STRONG_VALUE_BYTES 100

struct figure {
	double per_s;
	double p50_ms, p99_ms;
	size_t failed;
};

/* Waits until every node says ready (a quorum of members connected). */
static int wait_ready(struct proc_node *nodes, size_t n)
{
	struct timespec ts = {0, 20000000};
	double t_end = bench_now() + STRONG_READY_MS / 1000.0;
	struct ctl_status st;
	size_t i, ready;

	for (;;) {
		ready = 0;
		for (i = 0; i < n; i++)
			if (proc_status(nodes[i].dir, &st) == 0 && st.ready)
				ready++;
		if (ready == n)
			return 0;
		if (bench_now() > t_end) {
			fprintf(stderr, "rumor-bench proc: %zu of %zu nodes "
				"ready for strong writes after %d ms\n", ready,
				n, STRONG_READY_MS);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
}

static void make_request(struct ctl_request *rq, int strong, char *key,
			 size_t key_cap, const char *tag, size_t client,
			 size_t i, const uint8_t *value)
{
	int len = snprintf(key, key_cap, "%s/%zu/%zu", tag, client, i);

	*rq = (struct ctl_request){
		.cmd = strong ? CTL_CMD_SPUT : CTL_CMD_PUT,
		.key = (const uint8_t *)key, .key_len = (size_t)len,
		.value = value, .value_len = STRONG_VALUE_BYTES,
	};
}

static void summarise(double *lat, size_t n, double secs, size_t failed,
		      struct figure *f)
{
	proc_sort(lat, n);
	f->per_s = secs > 0 ? (double)n / secs : 0;
	f->p50_ms = proc_percentile(lat, n, 50);
	f->p99_ms = proc_percentile(lat, n, 99);
	f->failed = failed;
}

/* One client on node 0, one write at a time. */
static int run_sequential(struct proc_node *nodes, int strong,
			  const char *tag, struct figure *f)
{
	uint8_t value[STRONG_VALUE_BYTES];
	double *lat = calloc(STRONG_SEQ_WRITES, sizeof *lat), t0, t;
	struct ctl_request rq;
	struct ctl_reply r;
	struct ctlc c;
	char key[64];
	size_t i, n = 0, failed = 0;

	memset(value, 'v', sizeof value);
	if (lat == NULL || ctlc_open(&c, nodes[0].dir) != 0) {
		free(lat);
		return -1;
	}
	t0 = bench_now();
	for (i = 0; i < STRONG_SEQ_WRITES; i++) {
		make_request(&rq, strong, key, sizeof key, tag, 0, i, value);
		t = bench_now();
		if (ctlc_send(&c, &rq) != 0 ||
		    ctlc_recv(&c, &r, PROC_SAMPLE_MS) != 0) {
			fprintf(stderr, "rumor-bench proc: %s write %zu: no "
				"answer\n", tag, i);
			ctlc_close(&c);
			free(lat);
			return -1;
		}
		if (r.type == CTL_R_OK)
			lat[n++] = (bench_now() - t) * 1000.0;
		else
			failed++;
		ctl_reply_free(&r);
	}
	summarise(lat, n, bench_now() - t0, failed, f);
	ctlc_close(&c);
	free(lat);
	return 0;
}

/* PROC_PIPELINE clients over the nodes, one write outstanding each,
 * until STRONG_PAR_WRITES are answered. */
static int run_parallel(struct proc_node *nodes, int strong, const char *tag,
			struct figure *f)
{
	enum { K = PROC_PIPELINE };
	uint8_t value[STRONG_VALUE_BYTES];
	struct ctlc c[K];
	struct pollfd pfd[K];
	double sent_at[K], *lat, t0;
	size_t next[K], i, n = 0, issued = 0, failed = 0, open = 0;
	struct ctl_request rq;
	struct ctl_reply r;
	char key[64];
	int rv = -1;

	memset(value, 'v', sizeof value);
	lat = calloc(STRONG_PAR_WRITES, sizeof *lat);
	if (lat == NULL)
		return -1;
	for (open = 0; open < K; open++)
		if (ctlc_open(&c[open], nodes[open % STRONG_NODES].dir) != 0)
			goto out;
	t0 = bench_now();
	for (i = 0; i < K && issued < STRONG_PAR_WRITES; i++, issued++) {
		next[i] = 0;
		make_request(&rq, strong, key, sizeof key, tag, i, next[i]++,
			     value);
		sent_at[i] = bench_now();
		if (ctlc_send(&c[i], &rq) != 0)
			goto out;
	}
	while (n + failed < issued) {
		for (i = 0; i < K; i++)
			pfd[i] = (struct pollfd){c[i].fd, POLLIN, 0};
		if (poll(pfd, K, PROC_SAMPLE_MS) <= 0) {
			fprintf(stderr, "rumor-bench proc: %s: no answer in "
				"%d ms\n", tag, PROC_SAMPLE_MS);
			goto out;
		}
		for (i = 0; i < K; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (ctlc_recv(&c[i], &r, PROC_SAMPLE_MS) != 0)
				goto out;
			if (r.type == CTL_R_OK)
				lat[n++] = (bench_now() - sent_at[i]) * 1000.0;
			else
				failed++;
			ctl_reply_free(&r);
			if (issued == STRONG_PAR_WRITES)
				continue;
			make_request(&rq, strong, key, sizeof key, tag, i,
				     next[i]++, value);
			sent_at[i] = bench_now();
			if (ctlc_send(&c[i], &rq) != 0)
				goto out;
			issued++;
		}
	}
	summarise(lat, n, bench_now() - t0, failed, f);
	rv = 0;
out:
	for (i = 0; i < open; i++)
		ctlc_close(&c[i]);
	free(lat);
	return rv;
}

static void print_figure(const char *what, const struct figure *f)
{
	printf("  %-28s %9.0f writes/s   p50 %7.3f ms   p99 %7.3f ms%s",
	       what, f->per_s, f->p50_ms, f->p99_ms,
	       f->failed ? "" : "\n");
	if (f->failed)
		printf("   (%zu FAILED)\n", f->failed);
}

int proc_strong(const struct proc_opts *o)
{
	struct proc_node nodes[STRONG_NODES];
	struct figure gs, ss, gp, sp;
	int rv = -1;

	printf("strong writes: %d rumord processes on loopback, quorum all, "
	       "%d-byte values; gossip writes on the same nodes\n",
	       STRONG_NODES, STRONG_VALUE_BYTES);
	fflush(stdout);
	if (proc_cluster_start(nodes, STRONG_NODES, o, "strong") != 0)
		return -1;
	if (wait_ready(nodes, STRONG_NODES) != 0 ||
	    run_sequential(nodes, 0, "gs", &gs) != 0 ||
	    run_sequential(nodes, 1, "ss", &ss) != 0 ||
	    run_parallel(nodes, 0, "gp", &gp) != 0 ||
	    run_parallel(nodes, 1, "sp", &sp) != 0)
		goto out;
	printf("  sequential (one client, %d writes):\n", STRONG_SEQ_WRITES);
	print_figure("gossip", &gs);
	print_figure("strong", &ss);
	printf("  %d in flight (%d clients over %d nodes, %d writes):\n",
	       PROC_PIPELINE, PROC_PIPELINE, STRONG_NODES, STRONG_PAR_WRITES);
	print_figure("gossip", &gp);
	print_figure("strong", &sp);
	printf("  strong / gossip: sequential %.2fx the rate, p50 %.1fx; "
	       "in flight %.2fx the rate, p50 %.1fx\n",
	       gs.per_s > 0 ? ss.per_s / gs.per_s : 0,
	       gs.p50_ms > 0 ? ss.p50_ms / gs.p50_ms : 0,
	       gp.per_s > 0 ? sp.per_s / gp.per_s : 0,
	       gp.p50_ms > 0 ? sp.p50_ms / gp.p50_ms : 0);
	/* No target: the figures say what a strong write costs. A failed
	 * write (an abort on an idle, healthy cluster) fails the phase. */
	rv = gs.failed + ss.failed + gp.failed + sp.failed == 0 ? 1 : -1;
out:
	proc_cluster_stop(nodes, STRONG_NODES);
	return rv;
}
