/* SPDX-License-Identifier: MIT */
/* Integration tests of the listener's bounds on strangers (issue 11),
 * over real loopback sockets: a prober's wrong first message is read and
 * discarded until the deadline like any other bytes, the handshake caps
 * in total and per source hold while a legitimate dial still gets
 * through, the connection cap counts what was handed out until its
 * owner releases it, and connections near the descriptor limit are
 * closed and counted. Strangers come from 127.0.0.x source addresses
 * (all of 127/8 is loopback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <uv.h>

#include "tests/integration/test_io_uv_fixture.h"

#define STRANGERS_MAX 64

/* A raw client from a chosen source address that speaks no protocol. */
struct stranger {
	uv_tcp_t tcp;
	uv_connect_t req;
	uv_write_t wreq;
	int connected;
	int ended;              /* EOF or error seen */
	uint64_t ended_ms;
	int closed;
	uint64_t bytes;
	uint8_t rbuf[512];
	uint8_t out[128];
};

struct crowd {
	struct world *w;
	struct stranger s[STRANGERS_MAX];
	int n;
};

static void st_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	struct stranger *s = h->data;

	(void)size;
	*buf = uv_buf_init((char *)s->rbuf, sizeof s->rbuf);
}

static void st_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	struct stranger *s = h->data;

	(void)buf;
	if (n > 0) {
		s->bytes += (uint64_t)n;
	} else if (n < 0 && !s->ended) {
		s->ended = 1;
		s->ended_ms = tu_now_ms();
		uv_read_stop(h);
	}
}

static void st_connected(uv_connect_t *req, int status)
{
	struct stranger *s = req->data;

	s->connected = 1;
	if (status < 0) {
		/* Refused with a reset before libuv saw the connect end. */
		s->ended = 1;
		s->ended_ms = tu_now_ms();
		return;
	}
	assert_int_equal(uv_read_start((uv_stream_t *)&s->tcp, st_alloc,
				       st_read), 0);
}

static int cond_connected(void *arg)
{
	struct stranger *s = arg;

	return s->connected;
}

static struct world *step_world;

static void step(void *arg)
{
	(void)arg;
	uv_run(&step_world->loop, UV_RUN_ONCE);
}

/* Connects a stranger from 127.0.0.src to the listener and waits until
 * the kernel completed the connection. */
static struct stranger *stranger_open(struct crowd *cr, int src)
{
	struct stranger *s;
	struct sockaddr_in from;
	char host[32];

	assert_true(cr->n < STRANGERS_MAX);
	s = &cr->s[cr->n++];
	memset(s, 0, sizeof *s);
	s->tcp.data = s;
	s->req.data = s;
	snprintf(host, sizeof host, "127.0.0.%d", src);
	assert_int_equal(uv_ip4_addr(host, 0, &from), 0);
	assert_int_equal(uv_tcp_init(&cr->w->loop, &s->tcp), 0);
	assert_int_equal(uv_tcp_bind(&s->tcp, (const struct sockaddr *)&from,
				     0), 0);
	assert_int_equal(uv_tcp_connect(&s->req, &s->tcp,
					(const struct sockaddr *)&cr->w->addr,
					st_connected), 0);
	step_world = cr->w;
	assert_true(tu_wait_for(cond_connected, step, s, WAIT_MS));
	return s;
}

static void st_written(uv_write_t *req, int status)
{
	(void)req;
	(void)status;
}

static void stranger_send(struct stranger *s, size_t len)
{
	uv_buf_t buf = uv_buf_init((char *)s->out, (unsigned)len);

	assert_true(len <= sizeof s->out);
	assert_int_equal(uv_write(&s->wreq, (uv_stream_t *)&s->tcp, &buf, 1,
				  st_written), 0);
}

static void st_closed(uv_handle_t *h)
{
	struct stranger *s = h->data;

	s->closed = 1;
}

static int cond_crowd_closed(void *arg)
{
	struct crowd *cr = arg;
	int i;

	for (i = 0; i < cr->n; i++)
		if (!cr->s[i].closed)
			return 0;
	return 1;
}

static void crowd_close(struct crowd *cr)
{
	int i;

	for (i = 0; i < cr->n; i++)
		uv_close((uv_handle_t *)&cr->s[i].tcp, st_closed);
	step_world = cr->w;
	assert_true(tu_wait_for(cond_crowd_closed, step, cr, WAIT_MS));
}

static int cond_both_open(void *arg)
{
	struct world *w = arg;

	return w->client.opened && w->accepted;
}

static struct io_listener_stats lstats(struct world *w)
{
	return w->io->ops->listener_stats(w->listener);
}

/* The listener has admitted (in_handshake) and refused what it will of
 * the strangers opened so far. */
static struct {
	uint64_t in_handshake;
	uint64_t refused;
} want;

static int cond_settled(void *arg)
{
	struct world *w = arg;
	struct io_listener_stats st = lstats(w);

	return st.in_handshake == want.in_handshake &&
	       st.refused_handshakes_total + st.refused_handshakes_source +
			       st.refused_connections +
			       st.refused_descriptors ==
		       want.refused;
}

static void wait_settled(struct world *w, uint64_t in_handshake,
			 uint64_t refused)
{
	want.in_handshake = in_handshake;
	want.refused = refused;
	assert_true(wait_for(w, cond_settled, WAIT_MS));
}

static int cond_ended(void *arg)
{
	struct stranger *s = arg;

	return s->ended;
}

static void wait_ended(struct world *w, struct stranger *s)
{
	step_world = w;
	assert_true(tu_wait_for(cond_ended, step, s, WAIT_MS));
}

/* ------------------------------------------------------------ probing */

/* A prober sends n bytes (64: a whole first message with a wrong tag;
 * 63: one byte short) and learns nothing from the timing: the
 * connection stays open, silent, until the handshake deadline. */
static void probe(struct world *w, size_t n, int reason)
{
	struct crowd *cr = calloc(1, sizeof *cr);
	struct stranger *s;
	uint64_t start;

	assert_non_null(cr);
	cr->w = w;
	w->server_cfg.handshake_timeout_ms = 400;
	start_listener(w);
	s = stranger_open(cr, 1);
	start = tu_now_ms();
	randombytes_buf(s->out, sizeof s->out);
	stranger_send(s, n);
	wait_ended(w, s);
	assert_true(s->ended_ms - start >= 300);
	assert_int_equal(s->bytes, 0);
	assert_int_equal(w->rejected, 1);
	assert_int_equal(w->reject_reason, reason);
	assert_int_equal(lstats(w).rejected, 1);
	crowd_close(cr);
	free(cr);
}

static void test_wrong_first_message_waits_for_the_deadline(void **state)
{
	probe(*state, 64, RUMOR_EAUTH);
}

static void test_short_first_message_waits_for_the_deadline(void **state)
{
	probe(*state, 63, RUMOR_ETIMEDOUT);
}

/* More wrong bytes after a wrong first message are read and dropped
 * (not left to fill the socket) and change nothing. */
static void test_bytes_after_a_wrong_message_are_discarded(void **state)
{
	struct world *w = *state;
	struct crowd *cr = calloc(1, sizeof *cr);
	struct stranger *s;
	uint64_t start;

	assert_non_null(cr);
	cr->w = w;
	w->server_cfg.handshake_timeout_ms = 400;
	start_listener(w);
	s = stranger_open(cr, 1);
	start = tu_now_ms();
	randombytes_buf(s->out, sizeof s->out);
	stranger_send(s, sizeof s->out);
	wait_ended(w, s);
	assert_true(s->ended_ms - start >= 300);
	assert_int_equal(w->reject_reason, RUMOR_EAUTH);
	crowd_close(cr);
	free(cr);
}

/* ------------------------------------------------------------ caps */

static void test_handshakes_per_source_are_capped(void **state)
{
	struct world *w = *state;
	struct crowd *cr = calloc(1, sizeof *cr);
	struct stranger *s;
	int i;

	assert_non_null(cr);
	cr->w = w;
	w->server_cfg.max_handshakes_per_source = 3;
	start_listener(w);
	for (i = 0; i < 3; i++)
		stranger_open(cr, 2);
	wait_settled(w, 3, 0);
	/* The fourth from the same address is closed at once. */
	s = stranger_open(cr, 2);
	wait_ended(w, s);
	wait_settled(w, 3, 1);
	assert_int_equal(lstats(w).refused_handshakes_source, 1);
	for (i = 0; i < 3; i++)
		assert_false(cr->s[i].ended);
	/* Another address still gets in, and so does a real peer. */
	stranger_open(cr, 3);
	wait_settled(w, 4, 1);
	dial(w, w->server_id.public_key);
	assert_true(wait_for(w, cond_both_open, WAIT_MS));
	crowd_close(cr);
	free(cr);
}

/* Idle strangers from several addresses fill max_handshakes; each newer
 * one closes the oldest, and a real peer still completes its handshake
 * (it shows the network key at once, so it is the last to go). */
static void test_total_handshakes_are_capped_and_a_peer_gets_through(void **state)
{
	struct world *w = *state;
	struct crowd *cr = calloc(1, sizeof *cr);
	struct io_listener_stats st;
	int i;

	assert_non_null(cr);
	cr->w = w;
	w->server_cfg.max_handshakes = 4;
	w->server_cfg.max_handshakes_per_source = 2;
	start_listener(w);
	for (i = 0; i < 8; i++) {
		stranger_open(cr, 10 + i / 2);
		wait_settled(w, i < 4 ? (uint64_t)i + 1 : 4,
			     i < 4 ? 0 : (uint64_t)i - 3);
	}
	/* The four oldest went, in order; the newest four wait. */
	for (i = 0; i < 4; i++) {
		wait_ended(w, &cr->s[i]);
		assert_false(cr->s[i + 4].ended);
	}
	assert_int_equal(lstats(w).refused_handshakes_total, 4);
	dial(w, w->server_id.public_key);
	assert_true(wait_for(w, cond_both_open, WAIT_MS));
	st = lstats(w);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.connections, 1);
	assert_int_equal(st.refused_handshakes_total, 5);
	assert_true(st.in_handshake <= 4);
	crowd_close(cr);
	free(cr);
}

static int cond_server_released(void *arg)
{
	struct world *w = arg;

	return w->server.conn == NULL;
}

/* max_connections counts connections handed out until their owner
 * releases them: over it, a new one is closed at once. */
static void test_connections_are_capped_until_released(void **state)
{
	struct world *w = *state;
	struct crowd *cr = calloc(1, sizeof *cr);
	struct stranger *s;

	assert_non_null(cr);
	cr->w = w;
	w->server_cfg.max_connections = 1;
	connect_pair(w);
	assert_int_equal(lstats(w).connections, 1);
	s = stranger_open(cr, 20);
	wait_ended(w, s);
	wait_settled(w, 0, 1);
	assert_int_equal(lstats(w).refused_connections, 1);
	/* Released: the count drops, and a stranger may wait again. */
	io_conn_close(w->server.conn, side_close_cb);
	assert_true(wait_for(w, cond_server_released, WAIT_MS));
	assert_int_equal(lstats(w).connections, 0);
	stranger_open(cr, 21);
	wait_settled(w, 1, 1);
	crowd_close(cr);
	free(cr);
}

static uint64_t want_seen;

static int cond_seen(void *arg)
{
	struct world *w = arg;
	struct io_listener_stats st = lstats(w);

	return st.in_handshake + st.refused_descriptors == want_seen;
}

/* Near RLIMIT_NOFILE the listener closes new connections at once and
 * counts them, so that descriptors remain for everything else (the
 * control socket, the store); the loop goes on serving. */
static void test_connections_near_the_descriptor_limit_are_refused(void **state)
{
	struct world *w = *state;
	struct crowd *cr = calloc(1, sizeof *cr);
	struct rlimit saved, low;
	int lowest, i;

	assert_non_null(cr);
	cr->w = w;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	/* A limit 40 above the lowest free descriptor: the listener keeps
	 * the last 16 (its minimum spare), so strangers (two descriptors
	 * each in this process) meet its ceiling within a dozen. */
	lowest = dup(0);
	assert_true(lowest >= 0);
	close(lowest);
	low = saved;
	low.rlim_cur = (rlim_t)lowest + 40;
	assert_true(low.rlim_cur <= saved.rlim_max);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	start_listener(w);
	for (i = 0; i < 20 && lstats(w).refused_descriptors == 0; i++) {
		stranger_open(cr, 30 + i / 4);
		want_seen = (uint64_t)i + 1;
		assert_true(wait_for(w, cond_seen, WAIT_MS));
	}
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	assert_int_equal(lstats(w).refused_descriptors, 1);
	assert_int_equal(lstats(w).in_handshake, (uint64_t)cr->n - 1);
	wait_ended(w, &cr->s[cr->n - 1]);
	for (i = 0; i < cr->n - 1; i++)
		assert_false(cr->s[i].ended);
	crowd_close(cr);
	free(cr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_wrong_first_message_waits_for_the_deadline),
		T(test_short_first_message_waits_for_the_deadline),
		T(test_bytes_after_a_wrong_message_are_discarded),
		T(test_handshakes_per_source_are_capped),
		T(test_total_handshakes_are_capped_and_a_peer_gets_through),
		T(test_connections_are_capped_until_released),
		T(test_connections_near_the_descriptor_limit_are_refused),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
