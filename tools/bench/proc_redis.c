/* SPDX-License-Identifier: MIT */
/* rumor-bench proc: the Redis anchors (full sync, diskless and on disk;
 * a replica's stream under a pipelined writer) on the same keys and
 * values as rumor's figures, through a minimal RESP client; see
 * bench_proc.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_proc.h"
#include "bench_sync.h"

#define REDIS_SERVER "redis-server"
#define LOAD_CHUNK 1000         /* SETs sent before reading their replies */

/* A connection with a read buffer. */
struct rconn {
	int fd;
	char in[65536];
	size_t off, len;
	char *out;
	size_t out_len, out_cap;
};

static int rconn_open(struct rconn *c, int port)
{
	struct sockaddr_in sa;
	int one = 1;

	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return 0;
}

static void rconn_close(struct rconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_cap = 0;
}

/* Appends one command (argc bulk strings) to the output buffer. */
static int rconn_add(struct rconn *c, int argc, const char *const *argv,
		     const size_t *lens)
{
	size_t need = 32, i;
	char *p;
	int k;

	for (k = 0; k < argc; k++)
		need += 32 + lens[k];
	if (c->out_len + need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 65536;

		while (cap < c->out_len + need)
			cap *= 2;
		p = realloc(c->out, cap);
		if (p == NULL)
			return -1;
		c->out = p;
		c->out_cap = cap;
	}
	p = c->out + c->out_len;
	p += sprintf(p, "*%d\r\n", argc);
	for (k = 0; k < argc; k++) {
		p += sprintf(p, "$%zu\r\n", lens[k]);
		for (i = 0; i < lens[k]; i++)
			*p++ = argv[k][i];
		*p++ = '\r';
		*p++ = '\n';
	}
	c->out_len = (size_t)(p - c->out);
	return 0;
}

static int rconn_flush(struct rconn *c)
{
	size_t off = 0;

	while (off < c->out_len) {
		ssize_t w = write(c->fd, c->out + off, c->out_len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	c->out_len = 0;
	return 0;
}

/* Makes at least one byte available: 0, or -1 (closed, 10 s silence). */
static int rconn_fill(struct rconn *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	ssize_t r;

	if (c->off < c->len)
		return 0;
	c->off = c->len = 0;
	if (poll(&pfd, 1, PROC_SAMPLE_MS) != 1)
		return -1;
	r = read(c->fd, c->in, sizeof c->in);
	if (r <= 0)
		return -1;
	c->len = (size_t)r;
	return 0;
}

/* One line without its CRLF into line[size]: 0 or -1. */
static int rconn_line(struct rconn *c, char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		char ch;

		if (rconn_fill(c) != 0)
			return -1;
		ch = c->in[c->off++];
		if (ch == '\n')
			break;
		if (n + 1 < size)
			line[n++] = ch;
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return 0;
}

/* Reads one reply; a bulk or status text into out[size] (cut), an
 * integer into *num. 0 ok, -1 broken, -2 an error reply. Arrays are
 * read and dropped. */
static int rconn_reply(struct rconn *c, char *out, size_t size, long long *num)
{
	char line[512];
	long long n, i;

	if (rconn_line(c, line, sizeof line) != 0)
		return -1;
	switch (line[0]) {
	case '+':
		if (out)
			snprintf(out, size, "%s", line + 1);
		return 0;
	case '-':
		if (out)
			snprintf(out, size, "%s", line + 1);
		return -2;
	case ':':
		if (num)
			*num = strtoll(line + 1, NULL, 10);
		return 0;
	case '$':
		n = strtoll(line + 1, NULL, 10);
		for (i = 0; i < n + 2 && n >= 0; i++) {
			if (rconn_fill(c) != 0)
				return -1;
			if (out && (size_t)i + 1 < size && i < n)
				out[i] = c->in[c->off];
			c->off++;
		}
		if (out && size > 0)
			out[n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1] = '\0';
		return 0;
	case '*':
		n = strtoll(line + 1, NULL, 10);
		for (i = 0; i < n; i++)
			if (rconn_reply(c, NULL, 0, NULL) == -1)
				return -1;
		return 0;
	default:
		return -1;
	}
}

/* One command of plain words, and its reply: as rconn_reply. */
static int redis_cmd(struct rconn *c, char *out, size_t size, long long *num,
		int argc, const char *const *argv)
{
	size_t lens[8];
	int k;

	for (k = 0; k < argc && k < 8; k++)
		lens[k] = strlen(argv[k]);
	if (rconn_add(c, argc, argv, lens) != 0 || rconn_flush(c) != 0)
		return -1;
	return rconn_reply(c, out, size, num);
}

/* ------------------------------------------------------------ servers */

struct rserver {
	pid_t pid;
	int port;
	char dir[4200];
};

/* redis-server on port with its files in root/name; waits for PING. */
static int rserver_start(struct rserver *s, const struct proc_opts *o,
			 const char *name, int port, const char *diskless_load)
{
	char portbuf[16], log[4300], *argv[32];
	struct timespec ts = {0, 2000000};
	struct rconn c;
	double t_end;
	size_t a = 0;

	s->port = port;
	snprintf(s->dir, sizeof s->dir, "%s/%s", o->root, name);
	snprintf(log, sizeof log, "%s.log", s->dir);
	snprintf(portbuf, sizeof portbuf, "%d", port);
	if (mkdir(s->dir, 0700) != 0 && errno != EEXIST)
		return -1;
	argv[a++] = (char *)REDIS_SERVER;
	argv[a++] = (char *)"--port";
	argv[a++] = portbuf;
	argv[a++] = (char *)"--bind";
	argv[a++] = (char *)"127.0.0.1";
	argv[a++] = (char *)"--dir";
	argv[a++] = s->dir;
	argv[a++] = (char *)"--save";
	argv[a++] = (char *)"";
	argv[a++] = (char *)"--appendonly";
	argv[a++] = (char *)"no";
	argv[a++] = (char *)"--repl-diskless-sync-delay";
	argv[a++] = (char *)"0";
	argv[a++] = (char *)"--repl-diskless-load";
	argv[a++] = (char *)diskless_load;
	argv[a++] = (char *)"--protected-mode";
	argv[a++] = (char *)"no";
	argv[a] = NULL;
	s->pid = proc_spawn(argv, log);
	if (s->pid < 0)
		return -1;
	t_end = bench_now() + PROC_START_MS / 1000.0;
	for (;;) {
		static const char *const ping[] = {"PING"};

		if (rconn_open(&c, port) == 0) {
			int rv = redis_cmd(&c, NULL, 0, NULL, 1, ping);

			rconn_close(&c);
			if (rv == 0)
				return 0;
		}
		if (bench_now() > t_end) {
			fprintf(stderr, "rumor-bench proc: redis-server did not answer (log: %s)\n",
				log);
			proc_kill(s->pid);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
}

/* SET keys [0, count) with pipelining: 0 or -1. */
static int redis_load(int port, size_t count)
{
	char key[KEY_BYTES], value[VALUE_BYTES];
	const char *argv[3] = {"SET", key, value};
	const size_t lens[3] = {3, KEY_BYTES, VALUE_BYTES};
	struct rconn c;
	size_t i, j, n;

	if (rconn_open(&c, port) != 0)
		return -1;
	for (i = 0; i < count; i += n) {
		n = count - i < LOAD_CHUNK ? count - i : LOAD_CHUNK;
		for (j = 0; j < n; j++) {
			bsync_make_key(key, (uint32_t)(i + j));
			bsync_make_value(value, (uint32_t)(i + j));
			if (rconn_add(&c, 3, argv, lens) != 0)
				goto fail;
		}
		if (rconn_flush(&c) != 0)
			goto fail;
		for (j = 0; j < n; j++)
			if (rconn_reply(&c, NULL, 0, NULL) != 0)
				goto fail;
	}
	rconn_close(&c);
	return 0;
fail:
	rconn_close(&c);
	return -1;
}

/* The replica's link is up and it holds count keys. */
static int replica_done(struct rconn *c, size_t count)
{
	static const char *const info[] = {"INFO", "replication"};
	static const char *const dbsize[] = {"DBSIZE"};
	char text[4096];
	long long n = -1;

	if (redis_cmd(c, text, sizeof text, NULL, 2, info) != 0 ||
	    strstr(text, "master_link_status:up") == NULL)
		return 0;
	return redis_cmd(c, NULL, 0, &n, 1, dbsize) == 0 && n >= (long long)count;
}

/* A fresh replica of the master on port, diskless or not: seconds from
 * REPLICAOF to link up with every key, or -1. */
static double fullsync_once(const struct proc_opts *o, int master_port,
			    size_t count, int diskless)
{
	static const char *const yes[] = {"CONFIG", "SET", "repl-diskless-sync", "yes"};
	static const char *const no[] = {"CONFIG", "SET", "repl-diskless-sync", "no"};
	struct timespec ts = {0, 2000000};
	struct rconn m, r;
	struct rserver rep;
	char portbuf[16];
	const char *replicaof[3] = {"REPLICAOF", "127.0.0.1", portbuf};
	double t0, t_end, s = -1;

	snprintf(portbuf, sizeof portbuf, "%d", master_port);
	memset(&r, 0, sizeof r);
	r.fd = -1;
	if (rconn_open(&m, master_port) != 0)
		return -1;
	if (redis_cmd(&m, NULL, 0, NULL, 4, diskless ? yes : no) != 0) {
		rconn_close(&m);
		return -1;
	}
	rconn_close(&m);
	if (rserver_start(&rep, o, diskless ? "redis-replica-diskless" :
			  "redis-replica-disk", master_port + 1 + !diskless,
			  diskless ? "swapdb" : "disabled") != 0)
		return -1;
	if (rconn_open(&r, rep.port) != 0)
		goto out;
	t0 = bench_now();
	if (redis_cmd(&r, NULL, 0, NULL, 3, replicaof) != 0)
		goto out;
	t_end = t0 + 120;
	while (!replica_done(&r, count)) {
		if (bench_now() > t_end) {
			fprintf(stderr, "rumor-bench proc: Redis replica did not sync\n");
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	s = bench_now() - t0;
out:
	rconn_close(&r);
	proc_kill(rep.pid);
	return s;
}

int proc_redis_fullsync(const struct proc_opts *o, size_t count,
			double *diskless, double *disk)
{
	struct rserver m;
	int rv = -1;

	if (rserver_start(&m, o, "redis-master", PROC_REDIS_PORT,
			  "disabled") != 0)
		return -1;
	if (redis_load(m.port, count) != 0) {
		fprintf(stderr, "rumor-bench proc: loading Redis failed\n");
		goto out;
	}
	*diskless = fullsync_once(o, m.port, count, 1);
	*disk = fullsync_once(o, m.port, count, 0);
	if (*diskless > 0 && *disk > 0)
		rv = 0;
out:
	proc_kill(m.pid);
	return rv;
}

/* ------------------------------------------------------------ stream */

static long long dbsize_of(int port)
{
	static const char *const dbsize[] = {"DBSIZE"};
	struct rconn c;
	long long n = -1;

	if (rconn_open(&c, port) != 0)
		return -1;
	if (redis_cmd(&c, NULL, 0, &n, 1, dbsize) != 0)
		n = -1;
	rconn_close(&c);
	return n;
}

/* Pipelined SETs of fresh keys (PROC_PIPELINE in flight) until t_end;
 * *sent counts the acknowledged ones. 0 or -1. */
static int pipelined_until(struct rconn *c, uint32_t *next, double t_end,
			   uint64_t *acked)
{
	char key[KEY_BYTES], value[VALUE_BYTES];
	const char *argv[3] = {"SET", key, value};
	const size_t lens[3] = {3, KEY_BYTES, VALUE_BYTES};
	size_t j;

	while (bench_now() < t_end) {
		for (j = 0; j < PROC_PIPELINE; j++) {
			bsync_make_key(key, *next);
			bsync_make_value(value, *next);
			(*next)++;
			if (rconn_add(c, 3, argv, lens) != 0)
				return -1;
		}
		if (rconn_flush(c) != 0)
			return -1;
		for (j = 0; j < PROC_PIPELINE; j++)
			if (rconn_reply(c, NULL, 0, NULL) != 0)
				return -1;
		*acked += PROC_PIPELINE;
	}
	return 0;
}

int proc_redis_stream(const struct proc_opts *o, size_t ms, double *written,
		      double *applied)
{
	struct rserver m, r;
	struct rconn c, rc;
	struct timespec ts = {0, 2000000};
	char portbuf[16];
	const char *replicaof[3] = {"REPLICAOF", "127.0.0.1", portbuf};
	uint64_t acked = 0, a0;
	uint32_t next = 0;
	long long d0, d1;
	double t0, t1, t_end;
	int rv = -1;

	if (rserver_start(&m, o, "redis-stream-master", PROC_REDIS_PORT + 10,
			  "disabled") != 0)
		return -1;
	if (rserver_start(&r, o, "redis-stream-replica", PROC_REDIS_PORT + 11,
			  "disabled") != 0) {
		proc_kill(m.pid);
		return -1;
	}
	snprintf(portbuf, sizeof portbuf, "%d", m.port);
	memset(&c, 0, sizeof c);
	c.fd = -1;
	if (rconn_open(&rc, r.port) != 0)
		goto out;
	if (redis_cmd(&rc, NULL, 0, NULL, 3, replicaof) != 0)
		goto out;
	t_end = bench_now() + PROC_START_MS / 1000.0;
	while (!replica_done(&rc, 0)) {
		if (bench_now() > t_end)
			goto out;
		nanosleep(&ts, NULL);
	}
	if (rconn_open(&c, m.port) != 0)
		goto out;
	/* Warm-up, as for rumor; then the measured window. */
	if (pipelined_until(&c, &next, bench_now() + 0.5, &acked) != 0)
		goto out;
	d0 = dbsize_of(r.port);
	a0 = acked;
	t0 = bench_now();
	if (pipelined_until(&c, &next, t0 + (double)ms / 1000, &acked) != 0)
		goto out;
	d1 = dbsize_of(r.port);
	t1 = bench_now();
	if (d0 < 0 || d1 < 0)
		goto out;
	*written = (double)(acked - a0) / (t1 - t0);
	*applied = (double)(d1 - d0) / (t1 - t0);
	rv = 0;
out:
	rconn_close(&c);
	rconn_close(&rc);
	proc_kill(r.pid);
	proc_kill(m.pid);
	return rv;
}
