/* SPDX-License-Identifier: MIT */
/*
 * test_metrics_http: rumord's --metrics endpoint (src/rumord_metrics.c)
 * over real loopback sockets, in one process: a node on a libuv loop in
 * the main thread, as rumord runs it, and an HTTP client in a second
 * thread speaking raw HTTP/1.1 (no client library needed). GET and
 * HEAD /metrics answer Prometheus text whose figures follow the node's
 * writes; other paths, other methods, junk bytes, oversized headers and
 * connections over the limits get a 4xx or are closed, and change
 * nothing; the node serves writes and scrapes afterwards. The limits
 * on what clients hold: an idle connection (silent, or with half a
 * request) is closed after the idle timeout (1 s here, a parameter of
 * rumord_metrics_start; rumord gives 10 s), connections over the total
 * limit from several addresses (127.0.0.x) and over the per-address
 * limit are not served, and a client trickling its request byte by byte
 * does not hold the loop: scrapes go on between its bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>
#include <cmocka.h>

#include "rumor.h"
#include "src/rumord_metrics.h"
#include "tests/lib/promcheck.h"
#include "tests/lib/testutil.h"

#define CLIENT_TIMEOUT_MS 5000
/* The idle timeout of the tests that wait for it (setup_short_timeout),
 * and how long they wait at most for the close it brings. */
#define SHORT_TIMEOUT_S 1u
#define IDLE_CLOSE_WAIT_MS 8000

struct env {
	uv_loop_t loop;
	uv_async_t done;
	struct rumor *node;
	struct rumord_metrics *metrics;
	char *dir;
	uint16_t port;
	pthread_t client;
	void (*client_fn)(struct env *e);
	/* Set by the client thread, read by the main thread after join. */
	char failure[512];
};

/* ------------------------------------------------------------ the client */

/* A socket connected to the endpoint from source address from (a
 * numeric IPv4 address on loopback, 127.0.0.x; NULL: the system's
 * choice), or -1. */
static int http_connect_from(const struct env *e, const char *from)
{
	struct sockaddr_in sa;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	if (from != NULL &&
	    (inet_pton(AF_INET, from, &sa.sin_addr) != 1 ||
	     bind(s, (struct sockaddr *)&sa, sizeof sa) != 0)) {
		close(s);
		return -1;
	}
	sa.sin_port = htons(e->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(s);
		return -1;
	}
	return s;
}

static int http_connect(const struct env *e)
{
	return http_connect_from(e, NULL);
}

static int send_all(int s, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(s, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the peer closes (every answer here has Connection: close
 * or is the last on its connection) or timeout_ms pass: the bytes read
 * into a malloc'd, NUL-terminated *out. Returns bytes read, or -1 on a
 * timeout. A reset counts as a close. */
static ssize_t recv_until(int s, char **out, uint64_t timeout_ms)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	uint64_t deadline = tu_now_ms() + timeout_ms;

	if (buf == NULL)
		return -1;
	for (;;) {
		struct pollfd pfd = {.fd = s, .events = POLLIN};
		uint64_t now = tu_now_ms();
		ssize_t n;

		if (now >= deadline ||
		    poll(&pfd, 1, (int)(deadline - now)) <= 0) {
			free(buf);
			return -1;
		}
		if (len + 1 == cap) {
			char *p = realloc(buf, cap * 2);

			if (p == NULL) {
				free(buf);
				return -1;
			}
			buf = p;
			cap *= 2;
		}
		n = recv(s, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

static ssize_t recv_all(int s, char **out)
{
	return recv_until(s, out, CLIENT_TIMEOUT_MS);
}

/* Sends raw request bytes on a new connection and reads the whole
 * answer: its status code (0: closed without one) and, when body is not
 * NULL, the answer in *body (malloc'd; the caller frees). -1: no
 * connection or a timeout. */
static int http_raw(const struct env *e, const void *req, size_t len,
		    char **answer)
{
	char *buf = NULL;
	int s = http_connect(e), status = 0;

	if (s < 0)
		return -1;
	if (send_all(s, req, len) != 0) {
		/* Closed on us before we were done: no answer either. */
		close(s);
		return 0;
	}
	if (recv_all(s, &buf) < 0) {
		close(s);
		return -1;
	}
	close(s);
	if (strncmp(buf, "HTTP/1.1 ", 9) == 0 || strncmp(buf, "HTTP/1.0 ", 9) == 0)
		status = atoi(buf + 9);
	if (answer != NULL)
		*answer = buf;
	else
		free(buf);
	return status;
}

static int http_request(const struct env *e, const char *method,
			const char *path, char **answer)
{
	char req[512];
	int n = snprintf(req, sizeof req,
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			 "Connection: close\r\n\r\n", method, path);

	return http_raw(e, req, (size_t)n, answer);
}

/* In the client thread: on a failed condition, keeps the first message
 * and returns from the calling function. */
#define CHECK(e, cond, ...)                                             \
	do {                                                            \
		if (!(cond)) {                                          \
			if ((e)->failure[0] == '\0')                    \
				snprintf((e)->failure,                  \
					 sizeof (e)->failure,           \
					 __VA_ARGS__);                  \
			return;                                         \
		}                                                       \
	} while (0)

/* The body of an answer (after the blank line), or NULL. */
static const char *body_of(const char *answer)
{
	const char *b = strstr(answer, "\r\n\r\n");

	return b != NULL ? b + 4 : NULL;
}

/* GET /metrics: 200, the 0.0.4 content type, text the validator takes;
 * the value of series into *v (NAN when absent). */
static void scrape(struct env *e, const char *series, double *v)
{
	char *a = NULL, msg[300];
	const char *b;
	int st = http_request(e, "GET", "/metrics", &a);

	*v = NAN;
	CHECK(e, st == 200, "GET /metrics: status %d", st);
	CHECK(e, strstr(a, "\r\nContent-Type: text/plain; version=0.0.4; "
			   "charset=utf-8\r\n") != NULL,
	      "GET /metrics: content type:\n%.300s", a);
	b = body_of(a);
	CHECK(e, b != NULL, "GET /metrics: no body");
	if (promcheck(b, strlen(b), msg, sizeof msg) != 0) {
		snprintf(e->failure, sizeof e->failure, "promcheck: %s", msg);
		free(a);
		return;
	}
	if (promcheck_value(b, series, v) != 0)
		*v = NAN;
	free(a);
}

/* GET /metrics until it answers 200 or CLIENT_TIMEOUT_MS pass (closes
 * reach the server in its own time); the last status. */
static int scrape_eventually(struct env *e)
{
	uint64_t deadline = tu_now_ms() + CLIENT_TIMEOUT_MS;
	int st;

	for (;;) {
		st = http_request(e, "GET", "/metrics", NULL);
		if (st == 200 || tu_now_ms() >= deadline)
			return st;
		usleep(20000);
	}
}

/* ------------------------------------------------------------ the harness */

static void on_done(uv_async_t *h)
{
	struct env *e = h->data;

	uv_stop(&e->loop);
}

static void *client_main(void *arg)
{
	struct env *e = arg;

	e->client_fn(e);
	uv_async_send(&e->done);
	return NULL;
}

/* Runs fn in the client thread while the main thread runs the loop (the
 * node and the endpoint on it), until fn returns; then fails the test
 * with the client's message if it set one. */
static void run_client(struct env *e, void (*fn)(struct env *e))
{
	e->client_fn = fn;
	e->failure[0] = '\0';
	assert_int_equal(pthread_create(&e->client, NULL, client_main, e), 0);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	assert_int_equal(pthread_join(e->client, NULL), 0);
	if (e->failure[0] != '\0')
		fail_msg("%s", e->failure);
}

static int setup_with_timeout(void **state, unsigned idle_timeout_s)
{
	struct env *e = calloc(1, sizeof *e);
	struct rumor_options o;
	char msg[RUMOR_ERRMSG_MAX];

	assert_non_null(e);
	assert_int_equal(uv_loop_init(&e->loop), 0);
	assert_int_equal(uv_async_init(&e->loop, &e->done, on_done), 0);
	e->done.data = e;
	e->dir = tu_tmpdir("metrics_http");
	assert_int_equal(rumord_metrics_start(&e->metrics, &e->loop,
					      "127.0.0.1:0", idle_timeout_s,
					      NULL, NULL, msg, sizeof msg), 0);
	e->port = rumord_metrics_port(e->metrics);
	assert_true(e->port != 0);
	rumor_options_init(&o);
	o.data_dir = e->dir;
	o.loop = &e->loop;
	if (rumor_open(&e->node, &o, msg, sizeof msg) != 0)
		fail_msg("rumor_open: %s", msg);
	rumord_metrics_set_node(e->metrics, e->node);
	*state = e;
	return 0;
}

/* rumord's idle timeout: the tests that hold idle connections need
 * them to stay open while they run. */
static int setup(void **state)
{
	return setup_with_timeout(state, RUMORD_METRICS_TIMEOUT_S);
}

static int setup_short_timeout(void **state)
{
	return setup_with_timeout(state, SHORT_TIMEOUT_S);
}

static int teardown(void **state)
{
	struct env *e = *state;

	rumord_metrics_close(e->metrics);
	rumor_close(e->node, NULL, NULL);
	uv_close((uv_handle_t *)&e->done, NULL);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&e->loop), 0);
	tu_rmrf(e->dir);
	free(e->dir);
	free(e);
	return 0;
}

static void put_keys(struct env *e, int from, int to)
{
	for (int i = from; i < to; i++) {
		char k[32];

		snprintf(k, sizeof k, "key%d", i);
		assert_int_equal(rumor_put(e->node, k, strlen(k), "v", 1), 0);
	}
}

/* ------------------------------------------------------------ tests */

static double g_seen;

static void client_writes(struct env *e)
{
	scrape(e, "rumor_writes_total", &g_seen);
}

static void client_keys(struct env *e)
{
	scrape(e, "rumor_keys", &g_seen);
}

static void test_scrape_follows_writes(void **state)
{
	struct env *e = *state;

	run_client(e, client_writes);
	assert_true(g_seen == 0);
	put_keys(e, 0, 3);
	run_client(e, client_writes);
	assert_true(g_seen == 3);
	put_keys(e, 3, 8);
	run_client(e, client_writes);
	assert_true(g_seen == 8);
	run_client(e, client_keys);
	assert_true(g_seen == 8);
}

static void client_head(struct env *e)
{
	char *a = NULL;
	int st = http_request(e, "HEAD", "/metrics", &a);

	CHECK(e, st == 200, "HEAD /metrics: status %d", st);
	CHECK(e, strstr(a, "Content-Type: text/plain; version=0.0.4") != NULL,
	      "HEAD: content type");
	CHECK(e, body_of(a) != NULL && *body_of(a) == '\0',
	      "HEAD answered a body");
	free(a);
}

static void test_head_answers_headers_only(void **state)
{
	run_client(*state, client_head);
}

static void client_bad_requests(struct env *e)
{
	static const char junk[] = "\x01\x02 garbage \xff\xfe\r\n\r\n";
	char *a = NULL, *big;
	size_t n = 64 << 10;
	int st;

	st = http_request(e, "GET", "/", NULL);
	CHECK(e, st == 404, "GET /: status %d", st);
	st = http_request(e, "GET", "/metrics/../x", NULL);
	CHECK(e, st == 404, "GET /metrics/../x: status %d", st);
	st = http_request(e, "POST", "/metrics", &a);
	CHECK(e, st == 405, "POST /metrics: status %d", st);
	CHECK(e, strstr(a, "\r\nAllow: GET, HEAD\r\n") != NULL,
	      "405 without Allow:\n%.300s", a);
	free(a);
	st = http_request(e, "DELETE", "/metrics", NULL);
	CHECK(e, st == 405, "DELETE /metrics: status %d", st);
	/* A body on a POST is never read: still 405. */
	{
		static const char post[] =
			"POST /metrics HTTP/1.1\r\nHost: x\r\n"
			"Content-Length: 5\r\nConnection: close\r\n\r\nhello";

		st = http_raw(e, post, sizeof post - 1, NULL);
		CHECK(e, st == 405, "POST with a body: status %d", st);
	}
	st = http_raw(e, junk, sizeof junk - 1, NULL);
	CHECK(e, st == 400, "junk: status %d", st);
	/* Headers past the per-connection memory: 431. */
	big = malloc(n + 100);
	CHECK(e, big != NULL, "malloc");
	{
		int k = snprintf(big, 100, "GET /metrics HTTP/1.1\r\nX-Big: ");

		memset(big + k, 'a', n);
		memcpy(big + k + n, "\r\n\r\n", 4);
		st = http_raw(e, big, (size_t)k + n + 4, NULL);
	}
	free(big);
	CHECK(e, st >= 400 && st < 500, "oversized header: status %d", st);
}

static void test_bad_requests_get_4xx_and_change_nothing(void **state)
{
	struct env *e = *state;
	struct rumor_stats before = RUMOR_STATS_INIT, after = RUMOR_STATS_INIT;

	put_keys(e, 0, 2);
	assert_int_equal(rumor_stats(e->node, &before), 0);
	run_client(e, client_bad_requests);
	assert_int_equal(rumor_stats(e->node, &after), 0);
	assert_true(after.local_writes == before.local_writes);
	assert_true(after.keys == before.keys);
	/* And the node still serves writes and scrapes. */
	put_keys(e, 2, 3);
	run_client(e, client_writes);
	assert_true(g_seen == 3);
}

/* Connections over the per-address limit are closed without an answer
 * while the others stay open; once they close, scrapes work again. */
static void client_many_connections(struct env *e)
{
	int idle[RUMORD_METRICS_PER_IP], extra, st;
	char *a = NULL;
	size_t i;

	for (i = 0; i < RUMORD_METRICS_PER_IP; i++) {
		idle[i] = http_connect(e);
		CHECK(e, idle[i] >= 0, "connect %zu", i);
		/* Half a request: the connection stays open, waiting. */
		CHECK(e, send_all(idle[i], "GET /metr", 9) == 0, "send");
	}
	for (i = 0; i < 8; i++) {
		extra = http_connect(e);
		CHECK(e, extra >= 0, "connect extra");
		(void)send_all(extra, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
				      "Connection: close\r\n\r\n", 48);
		st = recv_all(extra, &a) < 0 ? -1 : 0;
		CHECK(e, st == 0, "a connection over the limit was kept open");
		CHECK(e, strncmp(a, "HTTP/1.1 200", 12) != 0,
		      "a connection over the limit was served");
		free(a);
		close(extra);
	}
	for (i = 0; i < RUMORD_METRICS_PER_IP; i++)
		close(idle[i]);
	st = scrape_eventually(e);
	CHECK(e, st == 200, "no scrape after the idle connections closed");
}

static void test_connections_over_the_limit_are_closed(void **state)
{
	run_client(*state, client_many_connections);
}

/* A silent connection and one with half a request are closed once the
 * idle timeout (1 s) passes, without an answer; not before it, and other
 * clients are served meanwhile. */
static void client_idle_timeout(struct env *e)
{
	static const char half[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	int silent, partial, st;
	uint64_t t0 = tu_now_ms(), took;
	char *a = NULL;

	silent = http_connect(e);
	partial = http_connect(e);
	CHECK(e, silent >= 0 && partial >= 0, "connect");
	CHECK(e, send_all(partial, half, sizeof half - 1) == 0, "send");
	st = http_request(e, "GET", "/metrics", NULL);
	CHECK(e, st == 200, "a scrape beside two idle connections: %d", st);
	CHECK(e, recv_until(silent, &a, IDLE_CLOSE_WAIT_MS) >= 0,
	      "a silent connection still open after %d ms",
	      IDLE_CLOSE_WAIT_MS);
	CHECK(e, a[0] == '\0', "a silent connection got an answer:\n%.200s",
	      a);
	free(a);
	CHECK(e, recv_until(partial, &a, IDLE_CLOSE_WAIT_MS) >= 0,
	      "half a request still open after %d ms", IDLE_CLOSE_WAIT_MS);
	CHECK(e, strncmp(a, "HTTP/1.1 200", 12) != 0,
	      "half a request was served");
	free(a);
	took = tu_now_ms() - t0;
	/* Not closed at once: the timeout, not some other rule, closed
	 * them (the server can only be later than 1 s, never earlier). */
	CHECK(e, took >= SHORT_TIMEOUT_S * 1000u / 2,
	      "idle connections closed after %llu ms, before the timeout",
	      (unsigned long long)took);
	close(silent);
	close(partial);
	st = scrape_eventually(e);
	CHECK(e, st == 200, "no scrape after the idle closes: %d", st);
}

static void test_idle_connections_are_closed_after_the_timeout(void **state)
{
	run_client(*state, client_idle_timeout);
}

/* Sends a whole request on s, a connection over a limit, and checks
 * that it is not served: closed (libmicrohttpd does that over the
 * per-address limit), or left unanswered for half a second (over the
 * total limit it stops accepting: the connection waits in the listen
 * queue). Returns 1 when s waits, 0 when it was closed. */
static int check_not_served(struct env *e, int s, const char *what)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
				  "Connection: close\r\n\r\n";
	char *a = NULL;
	ssize_t n;

	if (s < 0) {
		snprintf(e->failure, sizeof e->failure, "%s: connect", what);
		return 0;
	}
	if (send_all(s, req, sizeof req - 1) != 0)
		return 0;       /* closed before the request was in */
	n = recv_until(s, &a, 500);
	if (n < 0)
		return 1;
	if (strncmp(a, "HTTP/1.1 200", 12) == 0 && e->failure[0] == '\0')
		snprintf(e->failure, sizeof e->failure, "%s was served", what);
	free(a);
	return 0;
}

#define HELD_ADDRS (RUMORD_METRICS_CONNECTIONS / RUMORD_METRICS_PER_IP)

/* RUMORD_METRICS_CONNECTIONS idle connections, RUMORD_METRICS_PER_IP
 * from each of 127.0.0.2, .3, ...: a fifth from one address, and a
 * seventeenth from another, are not served; once the idle ones close,
 * the one that waited is served, and so is a new scrape. */
static void client_total_limit(struct env *e)
{
	int held[RUMORD_METRICS_CONNECTIONS], extra, waiting = -1, st;
	char from[32], *a = NULL;
	size_t i, n = 0;

	for (i = 0; i < RUMORD_METRICS_CONNECTIONS; i++)
		held[i] = -1;
	for (i = 0; i < RUMORD_METRICS_CONNECTIONS; i++) {
		snprintf(from, sizeof from, "127.0.0.%zu",
			 2 + i / RUMORD_METRICS_PER_IP);
		held[i] = http_connect_from(e, from);
		if (held[i] < 0)
			break;
		n++;
		if (send_all(held[i], "GET /metr", 9) != 0)
			break;
		if (i == RUMORD_METRICS_PER_IP - 1) {
			/* The first address is at its own limit. */
			extra = http_connect_from(e, from);
			check_not_served(e, extra, "a 5th connection from one "
						   "address");
			if (extra >= 0)
				close(extra);
			if (e->failure[0] != '\0')
				break;
		}
	}
	if (n == RUMORD_METRICS_CONNECTIONS && e->failure[0] == '\0') {
		snprintf(from, sizeof from, "127.0.0.%u", 2u + HELD_ADDRS);
		waiting = http_connect_from(e, from);
		if (!check_not_served(e, waiting, "a connection over the "
						  "total limit")) {
			if (waiting >= 0)
				close(waiting);
			waiting = -1;
		}
	}
	for (i = 0; i < n; i++)
		close(held[i]);
	CHECK(e, n == RUMORD_METRICS_CONNECTIONS, "connect %zu from %s: %s",
	      n, from, strerror(errno));
	if (e->failure[0] != '\0')
		return;
	if (waiting >= 0) {
		/* Its turn comes once the held connections are gone. */
		st = recv_all(waiting, &a) < 0 ? -1 : 0;
		close(waiting);
		CHECK(e, st == 0, "the waiting connection got no answer once "
				  "the others closed");
		CHECK(e, strncmp(a, "HTTP/1.1 200", 12) == 0,
		      "the waiting connection:\n%.200s", a);
		free(a);
	}
	st = scrape_eventually(e);
	CHECK(e, st == 200, "no scrape after the held connections closed: %d",
	      st);
}

static void test_connections_over_the_total_limit_are_not_served(
	void **state)
{
	run_client(*state, client_total_limit);
}

/* One connection sends its request a byte at a time; between its
 * bytes, other scrapes are answered, and then so is it. */
static void client_trickle(struct env *e)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
				  "Connection: close\r\n\r\n";
	char *a = NULL;
	int slow, st;
	size_t i;

	slow = http_connect(e);
	CHECK(e, slow >= 0, "connect");
	for (i = 0; i + 1 < sizeof req; i++) {
		CHECK(e, send_all(slow, req + i, 1) == 0,
		      "the slow connection was closed at byte %zu", i);
		st = http_request(e, "GET", "/metrics", NULL);
		CHECK(e, st == 200, "a scrape after byte %zu of a slow "
				    "request: %d", i, st);
	}
	CHECK(e, recv_all(slow, &a) >= 0, "the slow request got no answer");
	CHECK(e, strncmp(a, "HTTP/1.1 200", 12) == 0,
	      "the slow request:\n%.200s", a);
	free(a);
	close(slow);
}

static void test_a_slow_client_does_not_hold_the_loop(void **state)
{
	run_client(*state, client_trickle);
}

/* metrics.c lists every announcement drop reason, at 0 without
 * multicast, but not "duplicate", which is not a drop. */
static void client_drop_reasons(struct env *e)
{
	char *a = NULL;
	int st = http_request(e, "GET", "/metrics", &a);

	CHECK(e, st == 200, "GET /metrics: %d", st);
	CHECK(e, strstr(a, "\nrumor_announcements_dropped_total{reason="
			   "\"forged\"} 0\n") != NULL, "no forged series");
	CHECK(e, strstr(a, "reason=\"duplicate\"") == NULL,
	      "a duplicate drop series");
	CHECK(e, strstr(a, "\nrumor_members{state=\"never-contacted\"} 0\n") !=
		      NULL, "no never-contacted series");
	free(a);
}

static void test_drop_reasons_are_the_drops(void **state)
{
	run_client(*state, client_drop_reasons);
}

static void client_503(struct env *e)
{
	int st = http_request(e, "GET", "/metrics", NULL);

	CHECK(e, st == 503, "GET /metrics without a node: status %d", st);
}

static void test_without_a_node_answers_503(void **state)
{
	struct env *e = *state;

	rumord_metrics_set_node(e->metrics, NULL);
	run_client(e, client_503);
	rumord_metrics_set_node(e->metrics, e->node);
	run_client(e, client_writes);
	assert_true(g_seen == 0);
}

static void test_port_in_use_is_a_clear_error(void **state)
{
	struct env *e = *state;
	struct rumord_metrics *m = NULL;
	char addr[64], msg[256];

	snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)e->port);
	assert_int_equal(rumord_metrics_start(&m, &e->loop, addr,
					      RUMORD_METRICS_TIMEOUT_S, NULL,
					      NULL, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "in use"));
	assert_int_equal(rumord_metrics_start(&m, &e->loop, "localhost:9464",
					      RUMORD_METRICS_TIMEOUT_S, NULL,
					      NULL, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "--metrics"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scrape_follows_writes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_answers_headers_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_bad_requests_get_4xx_and_change_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_connections_over_the_limit_are_closed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_idle_connections_are_closed_after_the_timeout,
			setup_short_timeout, teardown),
		cmocka_unit_test_setup_teardown(
			test_connections_over_the_total_limit_are_not_served,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_slow_client_does_not_hold_the_loop, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_drop_reasons_are_the_drops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_a_node_answers_503,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_port_in_use_is_a_clear_error, setup, teardown),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
