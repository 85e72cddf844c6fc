/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench handshake: legitimate handshakes per second against an
 * io_uv listener (default caps), idle and then under a flood, in one run
 * (issue 11, target: under flood at least half the idle rate):
 *
 *   server thread   one loop: the listener, and a UDP socket on
 *                   127.0.0.1 that receives the garbage datagrams
 *   dialer (main)   --parallel chains of dial, handshake, close
 *   flood thread    --strangers idle TCP connections from 127.0.0.2..
 *                   127.0.0.251 that say nothing and reconnect as soon
 *                   as the listener closes them, and --garbage random
 *                   datagrams a second to the server's UDP socket
 *
 * The garbage goes to a plain UDP socket on the server's loop, not to a
 * node's discovery socket: that one is multicast, which this bench must
 * not use outside a network namespace. Everything stays on loopback.
 *
 * Then the memory that idle strangers cost: RSS and heap in use before
 * and after --idle connections that never send a byte (caps raised so
 * that all of them are held).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "bench.h"
#include "crypto/identity.h"
#include "io/io_uv.h"

#define DEFAULT_SECONDS 2.0
#define DEFAULT_ROUNDS 3
#define DEFAULT_STRANGERS 1000
#define DEFAULT_GARBAGE 1000
#define DEFAULT_PARALLEL 4
#define DEFAULT_IDLE 1000
#define TARGET_RATIO 0.50
#define STRANGER_SOURCES 250

struct hs_opts {
	double seconds;
	size_t strangers;
	size_t garbage;         /* datagrams a second */
	size_t parallel;
	size_t idle;
	size_t rounds;
};

struct server {
	uv_loop_t loop;
	uv_async_t stop;
	struct io *io;
	struct io_listener *listener;
	uv_udp_t udp;
	uint64_t datagrams;
	struct io_listener_stats final;  /* at the stop */
	struct identity id;
	uint8_t net[32];
	struct io_peer_config cfg;
	struct sockaddr_in tcp_addr, udp_addr;
	pthread_t thread;
};

struct stranger {
	uv_tcp_t tcp;
	uv_connect_t req;
	struct flood *f;
	int index;
	uint8_t rbuf[64];
};

struct flood {
	uv_loop_t loop;
	uv_async_t stop;
	uv_timer_t tick;
	uv_udp_t udp;
	int stopping;
	struct stranger *s;
	size_t n;
	size_t rate;            /* datagrams a second */
	double started;
	uint64_t sent;          /* datagrams sent (or dropped by the socket) */
	uint64_t reconnects;
	struct sockaddr_in target, udp_target;
	pthread_t thread;
};

struct dialer {
	uv_loop_t loop;
	struct io *io;
	struct identity id;
	struct io_peer_config cfg;
	struct sockaddr_in addr;
	double deadline;
	uint64_t done;
	uint64_t failed;
	size_t running;
	int last_failure;               /* RUMOR_E* of the last failed dial */
	char last_detail[128];
	double lat[1 << 16];            /* seconds, of the first handshakes */
	size_t n_lat;
};

/* One dial in flight: when it started. */
struct dial_run {
	struct dialer *d;
	double start;
};

/* ------------------------------------------------------------ server */

static void srv_closed(struct io_conn *c, int reason, const char *detail)
{
	(void)reason;
	(void)detail;
	io_conn_close(c, NULL);
}

static void srv_accept(struct io_listener *l, struct io_conn *c)
{
	(void)l;
	c->handlers.closed = srv_closed;
}

static void srv_udp_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	static char scratch[2048];      /* only the server thread reads */

	(void)h;
	(void)size;
	*buf = uv_buf_init(scratch, sizeof scratch);
}

static void srv_udp_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *buf,
			 const struct sockaddr *from, unsigned flags)
{
	struct server *s = u->data;

	(void)buf;
	(void)from;
	(void)flags;
	if (n > 0)
		s->datagrams++;
}

static void srv_stop(uv_async_t *a)
{
	struct server *s = a->data;

	s->final = s->io->ops->listener_stats(s->listener);
	s->io->ops->listener_close(s->listener, NULL);
	uv_close((uv_handle_t *)&s->udp, NULL);
	uv_close((uv_handle_t *)&s->stop, NULL);
}

static void *srv_run(void *arg)
{
	struct server *s = arg;

	uv_run(&s->loop, UV_RUN_DEFAULT);
	return NULL;
}

static int srv_start(struct server *s)
{
	struct sockaddr_in any;
	struct sockaddr_storage ss;
	int len = sizeof ss;
	struct err err;

	crypto_sign_keypair(s->id.public_key, s->id.secret_key);
	randombytes_buf(s->net, sizeof s->net);
	s->cfg.identity = &s->id;
	s->cfg.network_key = s->net;
	if (uv_loop_init(&s->loop) != 0 || io_uv_new(&s->io, &s->loop, &err) != 0)
		return -1;
	if (s->io->ops->listen(s->io, &s->cfg, "127.0.0.1", 0, srv_accept,
			       NULL, s, &s->listener, &err) != 0) {
		fprintf(stderr, "rumor-bench handshake: %s\n", err.msg);
		return -1;
	}
	uv_ip4_addr("127.0.0.1", s->io->ops->listener_port(s->listener),
		    &s->tcp_addr);
	uv_ip4_addr("127.0.0.1", 0, &any);
	s->udp.data = s;
	if (uv_udp_init(&s->loop, &s->udp) != 0 ||
	    uv_udp_bind(&s->udp, (const struct sockaddr *)&any, 0) != 0 ||
	    uv_udp_getsockname(&s->udp, (struct sockaddr *)&ss, &len) != 0 ||
	    uv_udp_recv_start(&s->udp, srv_udp_alloc, srv_udp_recv) != 0)
		return -1;
	memcpy(&s->udp_addr, &ss, sizeof s->udp_addr);
	s->stop.data = s;
	uv_async_init(&s->loop, &s->stop, srv_stop);
	return pthread_create(&s->thread, NULL, srv_run, s) == 0 ? 0 : -1;
}

static void srv_finish(struct server *s)
{
	uv_async_send(&s->stop);
	pthread_join(s->thread, NULL);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	io_uv_free(s->io);
	uv_loop_close(&s->loop);
}

/* ------------------------------------------------------------ flood */

static void st_connect(struct stranger *st);

static void st_closed(uv_handle_t *h)
{
	struct stranger *st = h->data;

	if (!st->f->stopping) {
		st->f->reconnects++;
		st_connect(st);
	}
}

static void st_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	struct stranger *st = h->data;

	(void)size;
	*buf = uv_buf_init((char *)st->rbuf, sizeof st->rbuf);
}

static void st_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0 && !uv_is_closing((uv_handle_t *)h))
		uv_close((uv_handle_t *)h, st_closed);
}

static void st_connected(uv_connect_t *req, int status)
{
	struct stranger *st = req->data;

	if (status == UV_ECANCELED)
		return;
	if (status < 0 || uv_read_start((uv_stream_t *)&st->tcp, st_alloc,
					st_read) != 0) {
		if (!uv_is_closing((uv_handle_t *)&st->tcp))
			uv_close((uv_handle_t *)&st->tcp, st_closed);
	}
}

/* Connects from 127.0.0.(2 + index % STRANGER_SOURCES), any port. */
static void st_connect(struct stranger *st)
{
	struct sockaddr_in from;
	char host[32];

	snprintf(host, sizeof host, "127.0.0.%d",
		 2 + st->index % STRANGER_SOURCES);
	uv_ip4_addr(host, 0, &from);
	st->tcp.data = st;
	st->req.data = st;
	uv_tcp_init(&st->f->loop, &st->tcp);
	if (uv_tcp_bind(&st->tcp, (const struct sockaddr *)&from, 0) != 0 ||
	    uv_tcp_connect(&st->req, &st->tcp,
			   (const struct sockaddr *)&st->f->target,
			   st_connected) != 0)
		uv_close((uv_handle_t *)&st->tcp, NULL);
}

static void fl_tick(uv_timer_t *t)
{
	struct flood *f = t->data;
	uint8_t junk[64];
	uv_buf_t buf = uv_buf_init((char *)junk, sizeof junk);
	uint64_t due = (uint64_t)((bench_now() - f->started) * (double)f->rate);

	/* By the clock, not by ticks, so a late tick catches up. */
	for (; f->sent < due; f->sent++) {
		randombytes_buf(junk, sizeof junk);
		uv_udp_try_send(&f->udp, &buf, 1,
				(const struct sockaddr *)&f->udp_target);
	}
}

static void fl_close_one(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void fl_stop(uv_async_t *a)
{
	struct flood *f = a->data;

	f->stopping = 1;
	uv_walk(&f->loop, fl_close_one, NULL);
}

static void *fl_run(void *arg)
{
	struct flood *f = arg;

	uv_run(&f->loop, UV_RUN_DEFAULT);
	return NULL;
}

static int fl_start(struct flood *f, const struct server *s,
		    const struct hs_opts *o)
{
	size_t i;

	memset(f, 0, sizeof *f);
	f->n = o->strangers;
	f->rate = o->garbage;
	f->started = bench_now();
	f->target = s->tcp_addr;
	f->udp_target = s->udp_addr;
	f->s = calloc(f->n ? f->n : 1, sizeof *f->s);
	if (f->s == NULL || uv_loop_init(&f->loop) != 0)
		return -1;
	f->stop.data = f;
	uv_async_init(&f->loop, &f->stop, fl_stop);
	uv_udp_init(&f->loop, &f->udp);
	f->tick.data = f;
	uv_timer_init(&f->loop, &f->tick);
	if (f->rate > 0)
		uv_timer_start(&f->tick, fl_tick, 10, 10);
	for (i = 0; i < f->n; i++) {
		f->s[i].f = f;
		f->s[i].index = (int)i;
		st_connect(&f->s[i]);
	}
	return pthread_create(&f->thread, NULL, fl_run, f) == 0 ? 0 : -1;
}

static void fl_finish(struct flood *f)
{
	uv_async_send(&f->stop);
	pthread_join(f->thread, NULL);
	uv_loop_close(&f->loop);
	free(f->s);
}

/* ------------------------------------------------------------ dialer */

static void dl_next(struct dialer *d);

static void dl_released(struct io_conn *c)
{
	struct dial_run *r = c->data;
	struct dialer *d = r->d;

	free(r);
	d->running--;
	dl_next(d);
}

static void dl_open(struct io_conn *c)
{
	struct dial_run *r = c->data;
	struct dialer *d = r->d;

	d->done++;
	if (d->n_lat < sizeof d->lat / sizeof d->lat[0])
		d->lat[d->n_lat++] = bench_now() - r->start;
	io_conn_close(c, dl_released);
}

static void dl_closed(struct io_conn *c, int reason, const char *detail)
{
	struct dial_run *r = c->data;
	struct dialer *d = r->d;

	d->failed++;
	d->last_failure = reason;
	snprintf(d->last_detail, sizeof d->last_detail, "%s", detail);
	io_conn_close(c, dl_released);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, 99th percentile and maximum of the handshake times, in ms. */
static void dl_latency(struct dialer *d, const char *what)
{
	size_t n = d->n_lat;

	if (n == 0)
		return;
	qsort(d->lat, n, sizeof d->lat[0], cmp_double);
	printf("  handshake time %-10s median %.1f ms, p99 %.1f ms, max %.1f ms\n",
	       what, d->lat[n / 2] * 1e3, d->lat[n * 99 / 100] * 1e3,
	       d->lat[n - 1] * 1e3);
	if (d->failed > 0)
		printf("  last failed dial %s: %s\n", what, d->last_detail);
}

static void dl_next(struct dialer *d)
{
	struct io_conn *c;
	struct dial_run *r;
	struct err err;

	if (bench_now() >= d->deadline)
		return;
	r = malloc(sizeof *r);
	if (r == NULL || d->io->ops->dial(d->io, &d->cfg,
					  (const struct sockaddr *)&d->addr,
					  NULL, &c, &err) != 0) {
		free(r);
		d->failed++;
		return;
	}
	r->d = d;
	r->start = bench_now();
	c->handlers.open = dl_open;
	c->handlers.closed = dl_closed;
	c->data = r;
	d->running++;
}

/* Handshakes a second over o->seconds, o->parallel dials at a time. */
static double dl_measure(struct dialer *d, const struct hs_opts *o,
			 uint64_t *failed)
{
	double start = bench_now();
	size_t i;

	d->done = d->failed = 0;
	d->n_lat = 0;
	d->deadline = start + o->seconds;
	for (i = 0; i < o->parallel; i++)
		dl_next(d);
	while (d->running > 0)
		uv_run(&d->loop, UV_RUN_ONCE);
	*failed = d->failed;
	return (double)d->done / (bench_now() - start);
}

/* ------------------------------------------------------------ memory */

/* RSS and heap per idle connection: o->idle plain sockets connect and
 * stay silent while the listener (caps raised to hold all) waits. */
static int measure_idle(const struct hs_opts *o)
{
	struct server s;
	int *fds = calloc(o->idle, sizeof *fds);
	long r0, r1;
	size_t h0, h1, i, n = 0;
	struct err err;
	int rv = -1;

	memset(&s, 0, sizeof s);
	if (fds == NULL)
		return -1;
	crypto_sign_keypair(s.id.public_key, s.id.secret_key);
	randombytes_buf(s.net, sizeof s.net);
	s.cfg = (struct io_peer_config){
		.identity = &s.id, .network_key = s.net,
		.handshake_timeout_ms = 600000,
		.max_handshakes = (unsigned)o->idle,
		.max_handshakes_per_source = (unsigned)o->idle,
		.max_connections = (unsigned)o->idle,
	};
	if (uv_loop_init(&s.loop) != 0 || io_uv_new(&s.io, &s.loop, &err) != 0 ||
	    s.io->ops->listen(s.io, &s.cfg, "127.0.0.1", 0, srv_accept, NULL,
			      &s, &s.listener, &err) != 0)
		goto out;
	uv_ip4_addr("127.0.0.1", s.io->ops->listener_port(s.listener),
		    &s.tcp_addr);
	malloc_trim(0);
	r0 = bench_status_kib(getpid(), "VmRSS");
	h0 = mallinfo2().uordblks;
	for (n = 0; n < o->idle; n++) {
		fds[n] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[n] < 0 || connect(fds[n], (struct sockaddr *)&s.tcp_addr,
					  sizeof s.tcp_addr) != 0) {
			perror("rumor-bench handshake: idle connection");
			goto out;
		}
		/* Accept as we go, so the backlog never fills. */
		while (s.io->ops->listener_stats(s.listener).in_handshake + 64 <= n)
			uv_run(&s.loop, UV_RUN_ONCE);
	}
	while (s.io->ops->listener_stats(s.listener).in_handshake < n)
		uv_run(&s.loop, UV_RUN_ONCE);
	r1 = bench_status_kib(getpid(), "VmRSS");
	h1 = mallinfo2().uordblks;
	printf("memory: %zu idle connections held by the listener\n", n);
	bench_report("RSS per idle connection", (double)(r1 - r0) / (double)n,
		     "KiB");
	bench_report("heap in use per idle connection",
		     (double)(h1 - h0) / 1024.0 / (double)n, "KiB");
	rv = 0;
out:
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (s.listener != NULL) {
		s.io->ops->listener_close(s.listener, NULL);
		uv_run(&s.loop, UV_RUN_DEFAULT);
	}
	if (s.io != NULL)
		io_uv_free(s.io);
	uv_loop_close(&s.loop);
	free(fds);
	return rv;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rumor-bench handshake [--seconds S] [--strangers N] [--garbage R]\n"
		"                             [--parallel P] [--idle N] [--rounds R]\n"
		"  --seconds S    time of each rate in a round (default %.0f)\n"
		"  --rounds R     rounds of idle then flood, the best kept (default %d)\n"
		"  --strangers N  idle connections that reconnect (default %d)\n"
		"  --garbage R    garbage datagrams a second (default %d)\n"
		"  --parallel P   legitimate dials at a time (default %d)\n"
		"  --idle N       idle connections for the memory figure (default %d, 0: skip)\n",
		DEFAULT_SECONDS, DEFAULT_ROUNDS, DEFAULT_STRANGERS, DEFAULT_GARBAGE,
		DEFAULT_PARALLEL, DEFAULT_IDLE);
}

static int parse_args(int argc, char **argv, struct hs_opts *o)
{
	size_t secs = 0;
	int i;

	*o = (struct hs_opts){DEFAULT_SECONDS, DEFAULT_STRANGERS,
			      DEFAULT_GARBAGE, DEFAULT_PARALLEL, DEFAULT_IDLE,
			      DEFAULT_ROUNDS};
	/* Every option takes a value: two arguments a step. */
	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (v == NULL)
			bad = 1;
		else if (strcmp(a, "--seconds") == 0)
			bad = bench_parse_size(v, 1, 600, &secs) != 0;
		else if (strcmp(a, "--strangers") == 0)
			bad = bench_parse_size(v, 0, 8000, &o->strangers) != 0;
		else if (strcmp(a, "--garbage") == 0)
			bad = bench_parse_size(v, 0, 1000000, &o->garbage) != 0;
		else if (strcmp(a, "--parallel") == 0)
			bad = bench_parse_size(v, 1, 64, &o->parallel) != 0;
		else if (strcmp(a, "--rounds") == 0)
			bad = bench_parse_size(v, 1, 100, &o->rounds) != 0;
		else if (strcmp(a, "--idle") == 0)
			bad = bench_parse_size(v, 0, 8000, &o->idle) != 0;
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "rumor-bench handshake: bad option '%s'\n", a);
			usage(stderr);
			return -1;
		}
		if (secs > 0)
			o->seconds = (double)secs;
	}
	return 0;
}

/* Strangers and idle sockets need descriptors: raise the soft limit. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Totals over the rounds. */
struct hs_totals {
	double idle, flooded;           /* the best rate of each */
	uint64_t fail_idle, fail_flood;
	uint64_t reconnects, sent;
};

/* One round: the idle rate, then the rate under a fresh flood. */
static int hs_round(struct dialer *d, const struct server *s,
		    const struct hs_opts *o, int last, struct hs_totals *t)
{
	struct flood f;
	uint64_t failed;
	double rate;

	rate = dl_measure(d, o, &failed);
	t->fail_idle += failed;
	if (rate > t->idle)
		t->idle = rate;
	if (last)
		dl_latency(d, "idle");
	if (fl_start(&f, s, o) != 0)
		return -1;
	rate = dl_measure(d, o, &failed);
	t->fail_flood += failed;
	if (rate > t->flooded)
		t->flooded = rate;
	if (last)
		dl_latency(d, "flood");
	fl_finish(&f);
	t->reconnects += f.reconnects;
	t->sent += f.sent;
	return 0;
}

int bench_handshake_main(int argc, char **argv)
{
	struct hs_opts o;
	struct server s;
	static struct dialer d;        /* large: its latencies */
	struct io_listener_stats st;
	struct hs_totals t = {0};
	struct err err;
	size_t r;
	int ok;

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (sodium_init() < 0)
		return 1;
	raise_nofile();
	memset(&s, 0, sizeof s);
	if (srv_start(&s) != 0)
		return 1;
	crypto_sign_keypair(d.id.public_key, d.id.secret_key);
	d.cfg = s.cfg;
	d.cfg.identity = &d.id;
	d.addr = s.tcp_addr;
	if (uv_loop_init(&d.loop) != 0 || io_uv_new(&d.io, &d.loop, &err) != 0)
		return 1;

	printf("handshake: dial, handshake, close; %zu at a time; %zu rounds of "
	       "%.0f s idle then %.0f s under flood, the best of each kept\n",
	       o.parallel, o.rounds, o.seconds, o.seconds);
	for (r = 0; r < o.rounds; r++)
		if (hs_round(&d, &s, &o, r + 1 == o.rounds, &t) != 0)
			return 1;
	/* The server thread is still running: its counters only after it
	 * stopped. */
	srv_finish(&s);
	st = s.final;
	bench_report("handshakes/s, idle", t.idle, "/s");
	bench_report("handshakes/s, under flood", t.flooded, "/s");
	printf("  flood: %zu strangers from %d addresses (%llu reconnects), "
	       "%llu garbage datagrams sent, %llu received\n",
	       o.strangers, STRANGER_SOURCES,
	       (unsigned long long)t.reconnects, (unsigned long long)t.sent,
	       (unsigned long long)s.datagrams);
	printf("  listener: %llu handshakes closed by the total cap, %llu by "
	       "the per-source cap, %llu by the connection cap, %llu for "
	       "descriptors\n",
	       (unsigned long long)st.refused_handshakes_total,
	       (unsigned long long)st.refused_handshakes_source,
	       (unsigned long long)st.refused_connections,
	       (unsigned long long)st.refused_descriptors);
	printf("  failed dials: %llu idle, %llu under flood\n",
	       (unsigned long long)t.fail_idle,
	       (unsigned long long)t.fail_flood);
	ok = bench_ratio("under flood / idle",
			 t.idle > 0 ? t.flooded / t.idle : 0, TARGET_RATIO);
	io_uv_free(d.io);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	uv_loop_close(&d.loop);
	if (o.idle > 0 && measure_idle(&o) != 0)
		return 1;
	return ok ? 0 : 3;
}
