/* SPDX-License-Identifier: MIT */
/* rumor-bench proc: rumord processes (spawn, stop, clusters) and a
 * blocking client of their control sockets (the frames of
 * src/wire/wire_ctl.h, as rumorctl speaks them); see bench_proc.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_proc.h"
#include "lib/err.h"

extern char **environ;

/* Every process spawned and not yet reaped, so that an interrupt of the
 * bench takes them down too (they would outlive it in the namespace). */
#define SPAWNED_MAX (2 * PROC_MAX_NODES + 16)
static volatile pid_t spawned[SPAWNED_MAX];
static const char *spawned_root;

static void spawned_set(pid_t old, pid_t pid)
{
	size_t i;

	for (i = 0; i < SPAWNED_MAX; i++)
		if (spawned[i] == old) {
			spawned[i] = pid;
			return;
		}
}

static void on_fatal_signal(int sig)
{
	size_t i;

	for (i = 0; i < SPAWNED_MAX; i++)
		if (spawned[i] > 0)
			kill(spawned[i], SIGKILL);
	for (i = 0; i < SPAWNED_MAX; i++)
		if (spawned[i] > 0)
			waitpid(spawned[i], NULL, 0);
	/* Best effort: nftw is not async-signal-safe, but the program ends
	 * here and nothing else runs. */
	if (spawned_root != NULL)
		bench_rmrf(spawned_root);
	signal(sig, SIG_DFL);
	raise(sig);
}

void proc_catch_signals(const char *root)
{
	spawned_root = root;
	signal(SIGINT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGHUP, on_fatal_signal);
}

/* ------------------------------------------------------------ processes */

pid_t proc_spawn(char *const argv[], const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rv;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log ? log : "/dev/null",
					 O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rv = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rv != 0) {
		fprintf(stderr, "rumor-bench proc: cannot run %s: %s\n",
			argv[0], strerror(rv));
		return -1;
	}
	spawned_set(0, pid);
	return pid;
}

/* Reaps pid if it ended within ms: 1 reaped, 0 still running. */
static int reap_within(pid_t pid, double ms)
{
	double t_end = bench_now() + ms / 1000;
	struct timespec ts = {0, 2000000};

	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return 1;
		if (bench_now() > t_end)
			return 0;
		nanosleep(&ts, NULL);
	}
}

int proc_wait(pid_t pid)
{
	int st;
	pid_t r;

	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	spawned_set(pid, 0);
	return r == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void proc_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (!reap_within(pid, 5000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	spawned_set(pid, 0);
}

/* ------------------------------------------------------------ nodes */

void proc_node_init(struct proc_node *n, const struct proc_opts *o,
		    int index, const char *name)
{
	memset(n, 0, sizeof *n);
	n->index = index;
	snprintf(n->dir, sizeof n->dir, "%s/%s", o->root, name);
	snprintf(n->addr, sizeof n->addr, "127.0.0.1:%d",
		 PROC_BASE_PORT + index);
}

int proc_node_start(struct proc_node *n, const struct proc_opts *o,
		    const char *const *seeds, size_t n_seeds)
{
	char *argv[16 + 2 * PROC_MAX_NODES], log[4300];
	struct ctl_status st;
	struct timespec ts = {0, 2000000};
	double t_end;
	size_t a = 0, i;

	argv[a++] = (char *)o->rumord;
	argv[a++] = (char *)"--data";
	argv[a++] = n->dir;
	argv[a++] = (char *)"--listen";
	argv[a++] = n->addr;
	argv[a++] = (char *)"--no-multicast";
	argv[a++] = (char *)"--log-level";
	argv[a++] = (char *)"error";
	for (i = 0; i < n_seeds && i < PROC_MAX_NODES; i++) {
		argv[a++] = (char *)"--peer";
		argv[a++] = (char *)seeds[i];
	}
	argv[a] = NULL;
	snprintf(log, sizeof log, "%s.log", n->dir);
	n->pid = proc_spawn(argv, log);
	if (n->pid < 0) {
		n->pid = 0;
		return -1;
	}
	/* Ready when the control socket answers: poll with a deadline. */
	t_end = bench_now() + PROC_START_MS / 1000.0;
	while (proc_status(n->dir, &st) != 0) {
		if (waitpid(n->pid, NULL, WNOHANG) == n->pid) {
			fprintf(stderr, "rumor-bench proc: rumord %s exited at start (log: %s)\n",
				n->dir, log);
			spawned_set(n->pid, 0);
			n->pid = 0;
			return -1;
		}
		if (bench_now() > t_end) {
			fprintf(stderr, "rumor-bench proc: rumord %s did not answer in %d ms\n",
				n->dir, PROC_START_MS);
			proc_node_stop(n);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

void proc_node_stop(struct proc_node *n)
{
	proc_kill(n->pid);
	n->pid = 0;
}

void proc_cluster_stop(struct proc_node *nodes, size_t n)
{
	size_t i;

	/* All at once, then reap: 20 nodes close in parallel. */
	for (i = 0; i < n; i++)
		if (nodes[i].pid > 0)
			kill(nodes[i].pid, SIGTERM);
	for (i = 0; i < n; i++)
		proc_node_stop(&nodes[i]);
}

/* Every node of the cluster has n - 1 peers connected. */
static int cluster_meshed(struct proc_node *nodes, size_t n)
{
	struct ctl_status st;
	size_t i;

	for (i = 0; i < n; i++)
		if (proc_status(nodes[i].dir, &st) != 0 ||
		    st.peers_connected < n - 1)
			return 0;
	return 1;
}

int proc_cluster_start(struct proc_node *nodes, size_t n,
		       const struct proc_opts *o, const char *prefix)
{
	const char *seeds[PROC_MAX_NODES];
	struct timespec ts = {0, 20000000};
	char name[64], key[64];
	double t_end;
	size_t i, k, round = 0;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%s-%zu", prefix, i);
		proc_node_init(&nodes[i], o, (int)i, name);
	}
	/* Node i is seeded with every node before it: a full mesh without
	 * waiting on gossip to spread the member list. */
	for (i = 0; i < n; i++) {
		for (k = 0; k < i; k++)
			seeds[k] = nodes[k].addr;
		if (proc_node_start(&nodes[i], o, seeds, i) != 0) {
			proc_cluster_stop(nodes, i);
			return -1;
		}
	}
	/* Nodes dial members when a round picks them; a few writes make
	 * the rounds come fast until every pair is connected. */
	t_end = bench_now() + PROC_MESH_MS / 1000.0;
	while (!cluster_meshed(nodes, n)) {
		if (bench_now() > t_end) {
			fprintf(stderr, "rumor-bench proc: %zu nodes did not mesh in %d ms\n",
				n, PROC_MESH_MS);
			proc_cluster_stop(nodes, n);
			return -1;
		}
		for (i = 0; i < n; i++) {
			struct ctlc c;

			if (ctlc_open(&c, nodes[i].dir) != 0)
				continue;
			snprintf(key, sizeof key, "warm/%zu/%zu", i, round);
			(void)ctlc_put(&c, key, strlen(key), "", 0);
			ctlc_close(&c);
		}
		round++;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* ------------------------------------------------------------ control */

int ctlc_open(struct ctlc *c, const char *dir)
{
	struct sockaddr_un sa;

	memset(c, 0, sizeof *c);
	wire_buf_init(&c->out);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir,
			     CTL_SOCKET_NAME) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		c->fd = -1;
		return -1;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

void ctlc_close(struct ctlc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->body);
	c->body = NULL;
	c->cap = 0;
	wire_buf_free(&c->out);
}

int ctlc_queue(struct ctlc *c, const struct ctl_request *rq)
{
	struct err err;

	return ctl_encode_request(&c->out, rq, &err) == 0 ? 0 : -1;
}

int ctlc_flush(struct ctlc *c)
{
	size_t off = 0;

	while (off < c->out.len) {
		ssize_t w = write(c->fd, c->out.data + off, c->out.len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	wire_buf_reset(&c->out);
	return 0;
}

int ctlc_send(struct ctlc *c, const struct ctl_request *rq)
{
	if (ctlc_queue(c, rq) != 0)
		return -1;
	return ctlc_flush(c);
}

/* Makes room for want more bytes in the input, dropping what was
 * parsed: 0 or -1. */
static int input_room(struct ctlc *c, size_t want)
{
	if (c->off > 0) {
		memmove(c->body, c->body + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len + want > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		uint8_t *b;

		while (cap < c->len + want)
			cap *= 2;
		b = realloc(c->body, cap);
		if (b == NULL)
			return -1;
		c->body = b;
		c->cap = cap;
	}
	return 0;
}

/* Reads what is there (at least one byte), waiting at most until t_end
 * (< 0: forever): 0 or -1. */
static int read_some(struct ctlc *c, double t_end)
{
	for (;;) {
		ssize_t r;

		if (t_end >= 0) {
			struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
			double left = t_end - bench_now();

			if (left <= 0 ||
			    poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
				return -1;
		}
		if (input_room(c, 65536) != 0)
			return -1;
		r = read(c->fd, c->body + c->len, c->cap - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
		return 0;
	}
}

int ctlc_buffered(const struct ctlc *c)
{
	size_t have = c->len - c->off;

	return have >= CTL_FRAME_HEADER &&
	       have - CTL_FRAME_HEADER >= ctl_frame_length(c->body + c->off);
}

int ctlc_recv(struct ctlc *c, struct ctl_reply *r, int timeout_ms)
{
	double t_end = timeout_ms < 0 ? -1 : bench_now() + timeout_ms / 1000.0;
	struct err err;
	uint32_t len = 0;

	for (;;) {
		size_t have = c->len - c->off;

		if (have >= CTL_FRAME_HEADER) {
			len = ctl_frame_length(c->body + c->off);
			if (len == 0 || len > CTL_REPLY_MAX)
				return -1;
			if (have >= CTL_FRAME_HEADER + (size_t)len)
				break;
			if (input_room(c, CTL_FRAME_HEADER + len) != 0)
				return -1;
		}
		if (read_some(c, t_end) != 0)
			return -1;
	}
	c->off += CTL_FRAME_HEADER + (size_t)len;
	/* The reply points into body until the next call. */
	return ctl_decode_reply(c->body + c->off - len, len, r, &err) == 0
		? 0 : -1;
}

int ctlc_put(struct ctlc *c, const void *key, size_t klen,
	     const void *value, size_t vlen)
{
	struct ctl_request rq = {.cmd = CTL_CMD_PUT, .key = key,
				 .key_len = klen, .value = value,
				 .value_len = vlen};
	struct ctl_reply r;
	int ok;

	if (ctlc_send(c, &rq) != 0 || ctlc_recv(c, &r, PROC_SAMPLE_MS) != 0)
		return -1;
	ok = r.type == CTL_R_OK;
	ctl_reply_free(&r);
	return ok ? 0 : -1;
}

int ctlc_status(struct ctlc *c, struct ctl_status *st)
{
	struct ctl_request rq = {.cmd = CTL_CMD_STATUS};
	struct ctl_reply r;
	int ok;

	if (ctlc_send(c, &rq) != 0 || ctlc_recv(c, &r, PROC_SAMPLE_MS) != 0)
		return -1;
	ok = r.type == CTL_R_STATUS;
	if (ok)
		*st = r.status;
	ctl_reply_free(&r);
	return ok ? 0 : -1;
}

int proc_status(const char *dir, struct ctl_status *st)
{
	struct ctlc c;
	int rv;

	if (ctlc_open(&c, dir) != 0)
		return -1;
	rv = ctlc_status(&c, st);
	ctlc_close(&c);
	return rv;
}

/* ------------------------------------------------------------ rumorctl */

int proc_ctl_counter(const struct proc_opts *o, const char *dir,
		     const char *name, uint64_t *v)
{
	char cmd[9000], buf[16384], pat[80], *p;
	size_t len;
	FILE *f;
	int status;

	snprintf(cmd, sizeof cmd, "'%s' --data '%s' --json status 2>/dev/null",
		 o->rumorctl, dir);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	len = fread(buf, 1, sizeof buf - 1, f);
	buf[len] = '\0';
	status = pclose(f);
	if (status != 0 || len == 0)
		return -1;
	snprintf(pat, sizeof pat, "\"%s\":", name);
	p = strstr(buf, pat);
	if (p == NULL)
		return 0;
	*v = strtoull(p + strlen(pat), NULL, 10);
	return 1;
}

/* ------------------------------------------------------------ figures */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void proc_sort(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
}

/* Nearest rank: the smallest sample with at least p% at or below it. */
double proc_percentile(const double *sorted, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}
