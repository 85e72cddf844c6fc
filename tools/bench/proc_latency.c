/* SPDX-License-Identifier: MIT */
/* rumor-bench proc: latency (a put acknowledged on node 0 until every
 * other node's watch shows it; idle, under background load, on 5 and 20
 * nodes) and received copies per entry; see bench_proc.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "bench_proc.h"

#define PROBE_PREFIX "probe/"
#define LOAD_IN_FLIGHT (4 * PROC_PIPELINE)

/* A background writer on one node: pipelined PUTs at a set rate. */
struct loader {
	struct ctlc c;
	uint64_t sent, acked;
};

/* One latency run: a writer on node 0, background writers (on node 0,
 * or one per node with the rate shared), a watch on every other node. */
struct probe_run {
	struct proc_node *nodes;
	size_t n;
	struct ctlc writer;
	struct ctlc watch[PROC_MAX_NODES];
	double seen[PROC_MAX_NODES];
	char key[64];
	/* background load */
	struct loader load[PROC_MAX_NODES];
	size_t n_load;
	double rate, load_t0;            /* per loader */
	int load_on;
	uint64_t gaps;
};

/* Sends the background writes that are due and reads their replies
 * without waiting: 0, or -1 when the node refused or hung up. */
static int load_step_one(struct probe_run *p, struct loader *l, size_t k)
{
	struct pollfd pfd = {.fd = l->c.fd, .events = POLLIN};
	char key[48], value[100];
	uint64_t due;

	while (ctlc_buffered(&l->c) || poll(&pfd, 1, 0) == 1) {
		struct ctl_reply r;
		int ok;

		if (ctlc_recv(&l->c, &r, PROC_SAMPLE_MS) != 0)
			return -1;
		ok = r.type == CTL_R_OK;
		ctl_reply_free(&r);
		if (!ok)
			return -1;
		l->acked++;
	}
	due = (uint64_t)((bench_now() - p->load_t0) * p->rate);
	memset(value, 'v', sizeof value);
	while (l->sent < due && l->sent - l->acked < LOAD_IN_FLIGHT) {
		struct ctl_request rq = {.cmd = CTL_CMD_PUT};

		snprintf(key, sizeof key, "load/%zu/%016" PRIx64, k,
			 l->sent * 2654435761u);
		rq.key = (const uint8_t *)key;
		rq.key_len = strlen(key);
		rq.value = (const uint8_t *)value;
		rq.value_len = sizeof value;
		if (ctlc_queue(&l->c, &rq) != 0)
			return -1;
		l->sent++;
	}
	return ctlc_flush(&l->c);
}

/* Sends the background writes that are due and reads their replies
 * without waiting: 0, or -1 when a node refused or hung up. */
static int load_step(struct probe_run *p)
{
	size_t k;

	if (!p->load_on)
		return 0;
	for (k = 0; k < p->n_load; k++)
		if (load_step_one(p, &p->load[k], k) != 0)
			return -1;
	return 0;
}

static uint64_t load_acked(const struct probe_run *p)
{
	uint64_t n = 0;
	size_t k;

	for (k = 0; k < p->n_load; k++)
		n += p->load[k].acked;
	return n;
}

/* Reads what a watch has: marks the probe seen when its key comes. */
static int watch_step(struct probe_run *p, size_t i)
{
	struct ctl_reply r;

	/* Everything one read brought (the client reads in chunks). */
	do {
		if (ctlc_recv(&p->watch[i], &r, PROC_SAMPLE_MS) != 0)
			return -1;
		if (r.type == CTL_R_GAP)
			p->gaps++;
		else if (r.type == CTL_R_RECORD && p->seen[i] == 0 &&
			 r.rec.key_len == strlen(p->key) &&
			 memcmp(r.rec.key, p->key, r.rec.key_len) == 0)
			p->seen[i] = bench_now();
		ctl_reply_free(&r);
	} while (ctlc_buffered(&p->watch[i]));
	return 0;
}

/* Serves every connection until t_end, or, with want_probe, until the
 * probe is acknowledged (*t_ack) and seen on every other node. 1 done,
 * 0 timed out, -1 failed. */
static int serve_until(struct probe_run *p, double t_end, int want_probe,
		       double *t_ack)
{
	struct pollfd pfd[PROC_MAX_NODES + 1];
	size_t i, seen;
	int timeout;

	for (;;) {
		if (load_step(p) != 0)
			return -1;
		for (i = 1, seen = 0; i < p->n; i++)
			seen += p->seen[i] != 0;
		if (want_probe && *t_ack != 0 && seen == p->n - 1)
			return 1;
		if (bench_now() > t_end)
			return want_probe ? 0 : 1;
		for (i = 1; i < p->n; i++)
			if (ctlc_buffered(&p->watch[i]) &&
			    watch_step(p, i) != 0)
				return -1;
		pfd[0].fd = p->writer.fd;
		pfd[0].events = POLLIN;
		for (i = 1; i < p->n; i++) {
			pfd[i].fd = p->watch[i].fd;
			pfd[i].events = POLLIN;
		}
		timeout = p->load_on ? 1 : (int)((t_end - bench_now()) * 1000) + 1;
		if (poll(pfd, p->n, timeout) < 0 && errno != EINTR)
			return -1;
		for (i = 1; i < p->n; i++)
			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    watch_step(p, i) != 0)
				return -1;
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct ctl_reply r;
			int ok;

			if (ctlc_recv(&p->writer, &r, PROC_SAMPLE_MS) != 0)
				return -1;
			ok = r.type == CTL_R_OK;
			ctl_reply_free(&r);
			if (!ok || !want_probe)
				return -1;
			*t_ack = bench_now();
		}
	}
}

static void probe_close(struct probe_run *p)
{
	size_t i;

	ctlc_close(&p->writer);
	for (i = 0; i < p->n_load; i++)
		ctlc_close(&p->load[i].c);
	for (i = 1; i < p->n; i++)
		ctlc_close(&p->watch[i]);
}

/* Opens the writer, the loader and the watches (each acknowledged, so
 * that it is in place before the first write): 0 or -1. */
static int probe_open(struct probe_run *p, struct proc_node *nodes, size_t n,
		      double rate, int spread)
{
	struct ctl_request rq = {.cmd = CTL_CMD_WATCH,
				 .key = (const uint8_t *)PROBE_PREFIX,
				 .key_len = strlen(PROBE_PREFIX)};
	struct ctl_reply r;
	size_t i;
	int ok;

	memset(p, 0, sizeof *p);
	p->nodes = nodes;
	p->n = n;
	p->writer.fd = -1;
	for (i = 0; i < n; i++)
		p->watch[i].fd = p->load[i].c.fd = -1;
	if (ctlc_open(&p->writer, nodes[0].dir) != 0)
		return -1;
	if (rate > 0) {
		p->n_load = spread ? n : 1;
		for (i = 0; i < p->n_load; i++)
			if (ctlc_open(&p->load[i].c, nodes[i].dir) != 0)
				return -1;
		p->rate = rate / (double)p->n_load;
		p->load_on = 1;
		p->load_t0 = bench_now();
	}
	for (i = 1; i < n; i++) {
		if (ctlc_open(&p->watch[i], nodes[i].dir) != 0 ||
		    ctlc_send(&p->watch[i], &rq) != 0 ||
		    ctlc_recv(&p->watch[i], &r, PROC_SAMPLE_MS) != 0)
			return -1;
		ok = r.type == CTL_R_OK;
		ctl_reply_free(&r);
		if (!ok)
			return -1;
	}
	return 0;
}

/* writes probes on node 0, spaced; latencies in ms into ms[]. 0 or -1. */
static int probe_series(struct probe_run *p, size_t writes, double gap_ms,
			const char *tag, double *ms)
{
	static const char value[100] = "probe";
	uint64_t rnd = 0x9e3779b97f4a7c15ull;
	double t_ack, t_last;
	size_t s, i;
	int rv;

	for (s = 0; s < writes; s++) {
		struct ctl_request rq = {.cmd = CTL_CMD_PUT};

		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		if (serve_until(p, bench_now() + gap_ms * (1 +
			(double)(rnd >> 11) / 9007199254740992.0) / 1000,
			0, NULL) < 0)
			return -1;
		snprintf(p->key, sizeof p->key, PROBE_PREFIX "%s/%zu", tag, s);
		for (i = 0; i < p->n; i++)
			p->seen[i] = 0;
		rq.key = (const uint8_t *)p->key;
		rq.key_len = strlen(p->key);
		rq.value = (const uint8_t *)value;
		rq.value_len = sizeof value;
		t_ack = 0;
		if (ctlc_send(&p->writer, &rq) != 0)
			return -1;
		rv = serve_until(p, bench_now() + PROC_SAMPLE_MS / 1000.0, 1,
				 &t_ack);
		if (rv <= 0) {
			fprintf(stderr, "rumor-bench proc: probe %zu %s\n", s,
				rv == 0 ? "not seen everywhere in time" : "failed");
			return -1;
		}
		for (i = 1, t_last = 0; i < p->n; i++)
			if (p->seen[i] > t_last)
				t_last = p->seen[i];
		/* Seen before the ack reached us: visible at the ack. */
		ms[s] = t_last > t_ack ? (t_last - t_ack) * 1000 : 0;
	}
	return 0;
}

/* One latency figure on a running cluster: prints it, returns 1 met, 0
 * not, -1 failed. */
static int latency_figure(const struct proc_opts *o, struct proc_node *nodes,
			  size_t n, double rate, double p50_target,
			  double p99_target, const char *tag)
{
	struct probe_run p;
	double *ms = calloc(o->writes, sizeof *ms), p50, p99, t0;
	uint64_t acked0;
	char name[96];
	int ok = -1;

	if (ms == NULL)
		return -1;
	if (rate > 0)
		printf("proc latency: %zu rumord, %.0f writes/s of background load %s:\n",
		       n, rate, o->load_spread ? "spread over every node"
					       : "on node 0");
	else
		printf("proc latency: %zu rumord, idle:\n", n);
	printf("  %zu puts on node 0 (rumorctl's PUT), each %.0f-%.0f ms after the last was seen;\n"
	       "  from its acknowledgement until every other node's WATCH shows it\n",
	       o->writes, (double)o->gap_ms, 2.0 * (double)o->gap_ms);
	fflush(stdout);
	if (probe_open(&p, nodes, n, rate, o->load_spread) != 0) {
		fprintf(stderr, "rumor-bench proc: cannot open control connections\n");
		goto out;
	}
	t0 = bench_now();
	if (rate > 0 && serve_until(&p, t0 + 0.5, 0, NULL) < 0)
		goto out;
	acked0 = load_acked(&p);
	t0 = bench_now();
	if (probe_series(&p, o->writes, (double)o->gap_ms, tag, ms) != 0)
		goto out;
	proc_sort(ms, o->writes);
	p50 = proc_percentile(ms, o->writes, 50);
	p99 = proc_percentile(ms, o->writes, 99);
	if (rate > 0) {
		double got = (double)(load_acked(&p) - acked0) /
			     (bench_now() - t0);

		bench_report("background writes acknowledged", got, "writes/s");
		if (got < 0.95 * rate)
			printf("  (the nodes did not take the offered %.0f writes/s: "
			       "the figure is under %.0f writes/s)\n", rate, got);
	}
	snprintf(name, sizeof name, "put ack to all %zu others, p50", n - 1);
	bench_report(name, p50, "ms");
	snprintf(name, sizeof name, "put ack to all %zu others, p90", n - 1);
	bench_report(name, proc_percentile(ms, o->writes, 90), "ms");
	snprintf(name, sizeof name, "put ack to all %zu others, p99", n - 1);
	bench_report(name, p99, "ms");
	snprintf(name, sizeof name, "put ack to all %zu others, max", n - 1);
	bench_report(name, ms[o->writes - 1], "ms");
	if (p.gaps)
		printf("  (watches reported %" PRIu64 " gaps)\n", p.gaps);
	ok = 1;
	if (p50_target > 0) {
		snprintf(name, sizeof name, "%.0f ms / p50", p50_target);
		ok &= bench_ratio(name, p50_target / (p50 > 1e-3 ? p50 : 1e-3), 1.0);
	}
	snprintf(name, sizeof name, "%.0f ms / p99", p99_target);
	ok &= bench_ratio(name, p99_target / (p99 > 1e-3 ? p99 : 1e-3), 1.0);
out:
	probe_close(&p);
	free(ms);
	fflush(stdout);
	return ok;
}

/* ------------------------------------------------------------ copies */

struct copy_counts {
	uint64_t received, applied, live_received, live_duplicates;
	int have_live;
};

static int read_counts(const struct proc_opts *o, const struct proc_node *nd,
		       struct copy_counts *c)
{
	int a, b, l1, l2;

	memset(c, 0, sizeof *c);
	a = proc_ctl_counter(o, nd->dir, "entries_received", &c->received);
	b = proc_ctl_counter(o, nd->dir, "remote_applied", &c->applied);
	l1 = proc_ctl_counter(o, nd->dir, "live_received", &c->live_received);
	l2 = proc_ctl_counter(o, nd->dir, "live_duplicates",
			      &c->live_duplicates);
	if (a != 1 || b != 1 || l1 < 0 || l2 < 0)
		return -1;
	c->have_live = l1 == 1 && l2 == 1;
	return 0;
}

/* Every node holds at least want[i] keys. */
static int all_hold_keys(struct proc_node *nodes, size_t n,
			 const uint64_t *want)
{
	struct ctl_status st;
	size_t i;

	for (i = 0; i < n; i++)
		if (proc_status(nodes[i].dir, &st) != 0 ||
		    st.stats.keys < want[i])
			return 0;
	return 1;
}

static int copies_figure(const struct proc_opts *o, struct proc_node *nodes,
			 size_t n)
{
	struct copy_counts before[PROC_MAX_NODES], after;
	uint64_t want[PROC_MAX_NODES], rec = 0, app = 0, lrec = 0, ldup = 0;
	struct ctlc c[PROC_MAX_NODES];
	struct ctl_status st;
	struct timespec ts = {0, 5000000};
	char key[48], value[100];
	double t_end, worst = 0;
	size_t i, w;
	int have_live = 1, ok = -1;

	printf("proc copies: %zu rumord, full mesh: %d puts spread over every node, "
	       "then received / applied from `rumorctl --json status` on each\n",
	       n, PROC_COPIES_WRITES);
	fflush(stdout);
	memset(value, 'c', sizeof value);
	for (i = 0; i < n; i++)
		c[i].fd = -1;
	for (i = 0; i < n; i++) {
		if (read_counts(o, &nodes[i], &before[i]) != 0 ||
		    proc_status(nodes[i].dir, &st) != 0 ||
		    ctlc_open(&c[i], nodes[i].dir) != 0)
			goto out;
		want[i] = st.stats.keys + PROC_COPIES_WRITES;
	}
	for (w = 0; w < PROC_COPIES_WRITES; w++) {
		snprintf(key, sizeof key, "copies/%zu", w);
		if (ctlc_put(&c[w % n], key, strlen(key), value,
			     sizeof value) != 0)
			goto out;
	}
	t_end = bench_now() + PROC_SAMPLE_MS / 1000.0;
	while (!all_hold_keys(nodes, n, want)) {
		if (bench_now() > t_end) {
			fprintf(stderr, "rumor-bench proc: copies: writes did not reach every node\n");
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < n; i++) {
		double r;

		if (read_counts(o, &nodes[i], &after) != 0)
			goto out;
		rec += after.received - before[i].received;
		app += after.applied - before[i].applied;
		have_live &= after.have_live;
		lrec += after.live_received - before[i].live_received;
		ldup += after.live_duplicates - before[i].live_duplicates;
		r = (double)(after.received - before[i].received) /
		    (double)(after.applied - before[i].applied + 1e-9);
		if (r > worst)
			worst = r;
	}
	bench_report("entries received, all nodes", (double)rec, "entries");
	bench_report("remote versions applied, all nodes", (double)app,
		     "entries");
	bench_report("received / applied, worst node", worst, "copies");
	bench_report("received / applied, all nodes",
		     (double)rec / (double)(app ? app : 1), "copies");
	if (have_live) {
		bench_report("live stream received, all nodes", (double)lrec,
			     "entries");
		bench_report("live stream duplicates, all nodes", (double)ldup,
			     "entries");
	} else {
		printf("  (no live_received/live_duplicates counters in status: "
		       "entries_received and remote_applied only)\n");
	}
	ok = bench_ratio("1.5 / (received / applied)",
			 TARGET_COPIES * (double)app / (double)(rec ? rec : 1),
			 1.0);
out:
	for (i = 0; i < n; i++)
		ctlc_close(&c[i]);
	if (ok < 0)
		fprintf(stderr, "rumor-bench proc: copies failed\n");
	fflush(stdout);
	return ok;
}

/* ------------------------------------------------------------ phases */

int proc_small_cluster(const struct proc_opts *o, int latency, int copies)
{
	struct proc_node nodes[PROC_MAX_NODES];
	int ok = 1, rv;

	if (proc_cluster_start(nodes, o->nodes, o, "small") != 0)
		return -1;
	if (latency) {
		rv = latency_figure(o, nodes, o->nodes, 0, TARGET_P50_MS,
				    TARGET_P99_MS, "idle");
		if (rv < 0)
			goto fail;
		ok &= rv;
		printf("\n");
		rv = latency_figure(o, nodes, o->nodes, PROC_LOAD_RATE, 0,
				    TARGET_P99_LOAD_MS, "load");
		if (rv < 0)
			goto fail;
		ok &= rv;
	}
	if (copies) {
		if (latency)
			printf("\n");
		rv = copies_figure(o, nodes, o->nodes);
		if (rv < 0)
			goto fail;
		ok &= rv;
	}
	proc_cluster_stop(nodes, o->nodes);
	return ok;
fail:
	proc_cluster_stop(nodes, o->nodes);
	return -1;
}

int proc_big_cluster(const struct proc_opts *o)
{
	struct proc_node nodes[PROC_MAX_NODES];
	int rv;

	printf("proc latency: starting %zu rumord\n", o->big_nodes);
	fflush(stdout);
	if (proc_cluster_start(nodes, o->big_nodes, o, "big") != 0)
		return -1;
	rv = latency_figure(o, nodes, o->big_nodes, 0, 0, TARGET_P99_BIG_MS,
			    "big");
	proc_cluster_stop(nodes, o->big_nodes);
	return rv;
}
