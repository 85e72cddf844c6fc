/* SPDX-License-Identifier: MIT */
/* Integration tests of src/io/io_uv_peer.c through the io vtable: the
 * handshake refuses a wrong network key, an untrusted client or an
 * unexpected server on both sides, a closed port is reported, and raw
 * TCP peers that stay silent or send garbage are closed by the timeouts
 * without leaking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <uv.h>

#include "tests/integration/test_io_uv_fixture.h"

/* ------------------------------------------------------------ refusals */

static int cond_client_closed_and_rejected(void *arg)
{
	struct world *w = arg;

	return w->client.closed && w->rejected;
}

static void assert_refused_on_both_sides(struct world *w)
{
	static const uint8_t zero[32];

	assert_true(wait_for(w, cond_client_closed_and_rejected, WAIT_MS));
	assert_int_equal(w->client.opened, 0);
	assert_int_equal(w->accepted, 0);
	assert_int_equal(w->client.messages, 0);
	assert_int_equal(w->server.messages, 0);
	assert_true(w->client.closed_reason < 0);
	assert_true(w->reject_reason < 0);
	/* The client never learnt who the server is. */
	assert_memory_equal(w->client.conn->peer_key, zero, 32);
	assert_false(w->client.conn->is_open);
	assert_int_equal(io_conn_send(w->client.conn, (const uint8_t *)"x", 1,
				      NULL), RUMOR_ECLOSED);
	assert_int_equal(w->io->ops->listener_stats(w->listener).rejected, 1);
	assert_int_equal(w->io->ops->listener_stats(w->listener).accepted, 0);
}

static void test_different_network_keys_fail_on_both_sides(void **state)
{
	struct world *w = *state;

	w->client_net[0] ^= 1;
	start_listener(w);
	dial(w, NULL);
	assert_refused_on_both_sides(w);
	assert_int_equal(w->reject_reason, RUMOR_EAUTH);
}

static void test_untrusted_client_is_refused(void **state)
{
	struct world *w = *state;
	uint8_t other[1][IDENTITY_PUBLIC_BYTES];
	struct trusted_keys tk = {.n = 1, .keys = other};

	randombytes_buf(other[0], sizeof other[0]);
	w->server_cfg.trusted = &tk;
	start_listener(w);
	dial(w, NULL);
	assert_refused_on_both_sides(w);
}

static void test_trusted_client_is_accepted(void **state)
{
	struct world *w = *state;
	uint8_t keys[2][IDENTITY_PUBLIC_BYTES];
	struct trusted_keys tk = {.n = 2, .keys = keys};

	randombytes_buf(keys[0], sizeof keys[0]);
	memcpy(keys[1], w->client_id.public_key, sizeof keys[1]);
	w->server_cfg.trusted = &tk;
	connect_pair(w);
	assert_int_equal(w->rejected, 0);
}

static int cond_client_closed(void *arg)
{
	struct world *w = arg;

	return w->client.closed;
}

static int cond_server_gone(void *arg)
{
	struct world *w = arg;

	return w->rejected || w->server.closed;
}

/* The client checks the server's identity last, after the server has
 * finished its part, so the server may see an accepted connection that
 * ends at once; it never gets a message on it. */
static void test_unexpected_server_is_refused_by_the_client(void **state)
{
	struct world *w = *state;
	uint8_t someone_else[IDENTITY_PUBLIC_BYTES];
	static const uint8_t zero[32];

	randombytes_buf(someone_else, sizeof someone_else);
	start_listener(w);
	dial(w, someone_else);
	assert_true(wait_for(w, cond_client_closed, WAIT_MS));
	assert_int_equal(w->client.closed_reason, RUMOR_EAUTH);
	assert_int_equal(w->client.opened, 0);
	assert_memory_equal(w->client.conn->peer_key, zero, 32);
	assert_true(wait_for(w, cond_server_gone, WAIT_MS));
	assert_int_equal(w->server.messages, 0);
	assert_int_equal(w->client.messages, 0);
}

static void test_dial_to_a_closed_port_reports_closed(void **state)
{
	struct world *w = *state;

	/* A listener bound and closed again leaves a port nobody holds. */
	start_listener(w);
	w->io->ops->listener_close(w->listener, on_listener_closed);
	w->listener = NULL;
	assert_true(wait_for(w, cond_all_released, WAIT_MS));
	dial(w, NULL);
	assert_true(wait_for(w, cond_dial_failed, WAIT_MS));
	assert_int_equal(w->client.closed_reason, RUMOR_ENET);
	assert_int_equal(w->client.opened, 0);
}

/* ------------------------------------------------------------ raw peers */

static void raw_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	struct raw *r = h->data;

	(void)size;
	*buf = uv_buf_init((char *)r->rbuf, sizeof r->rbuf);
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct raw *r = s->data;

	(void)buf;
	if (n > 0)
		r->bytes += (uint64_t)n;
	else if (n < 0)
		r->ended = 1;
}

static void raw_written(uv_write_t *req, int status)
{
	(void)req;
	(void)status;
}

static void raw_connected(uv_connect_t *req, int status)
{
	struct raw *r = req->data;

	assert_int_equal(status, 0);
	r->connected = 1;
	assert_int_equal(uv_read_start((uv_stream_t *)&r->tcp, raw_alloc,
				       raw_read), 0);
}

static void raw_connect(struct world *w, struct raw *r)
{
	r->tcp.data = r;
	r->req.data = r;
	assert_int_equal(uv_tcp_init(&w->loop, &r->tcp), 0);
	assert_int_equal(uv_tcp_connect(&r->req, &r->tcp,
					(const struct sockaddr *)&w->addr,
					raw_connected), 0);
}

static void raw_closed(uv_handle_t *h)
{
	struct raw *r = h->data;

	r->closed = 1;
}

static int cond_raw_closed(void *arg)
{
	struct world *w = arg;

	return w->raw->closed;
}

static void raw_close(struct world *w, struct raw *r)
{
	w->raw = r;
	uv_close((uv_handle_t *)&r->tcp, raw_closed);
	assert_true(wait_for(w, cond_raw_closed, WAIT_MS));
}

static int cond_raw_ended_and_rejected(void *arg)
{
	struct world *w = arg;

	return w->raw->ended && w->rejected;
}

static int cond_one_in_handshake(void *arg)
{
	struct world *w = arg;

	return w->io->ops->listener_stats(w->listener).in_handshake == 1;
}

static int cond_raw_ended(void *arg)
{
	struct world *w = arg;

	return w->raw->ended;
}

static void test_silent_client_is_closed_by_the_handshake_timeout(void **state)
{
	struct world *w = *state;
	struct raw *r = calloc(1, sizeof *r);
	uint64_t start;

	assert_non_null(r);
	w->server_cfg.handshake_timeout_ms = 200;
	start_listener(w);
	start = tu_now_ms();
	raw_connect(w, r);
	w->raw = r;
	assert_true(wait_for(w, cond_raw_ended_and_rejected, WAIT_MS));
	assert_true(tu_now_ms() - start >= 150);
	assert_int_equal(w->reject_reason, RUMOR_ETIMEDOUT);
	assert_int_equal(w->accepted, 0);
	assert_int_equal(r->bytes, 0);   /* the server never spoke first */
	raw_close(w, r);
	w->raw = NULL;
	free(r);
}

static void test_garbage_after_connect_is_closed(void **state)
{
	struct world *w = *state;
	struct raw *r = calloc(1, sizeof *r);
	uv_buf_t buf;

	assert_non_null(r);
	start_listener(w);
	raw_connect(w, r);
	while (!r->connected)
		uv_run(&w->loop, UV_RUN_ONCE);
	randombytes_buf(r->garbage, sizeof r->garbage);
	buf = uv_buf_init((char *)r->garbage, sizeof r->garbage);
	assert_int_equal(uv_write(&r->wreq, (uv_stream_t *)&r->tcp, &buf, 1,
				  raw_written), 0);
	w->raw = r;
	assert_true(wait_for(w, cond_raw_ended_and_rejected, WAIT_MS));
	assert_true(w->reject_reason == RUMOR_EAUTH ||
		    w->reject_reason == RUMOR_EPROTO);
	assert_int_equal(w->accepted, 0);
	raw_close(w, r);
	w->raw = NULL;
	free(r);
}

static void test_listener_close_frees_connections_mid_handshake(void **state)
{
	struct world *w = *state;
	struct raw *r = calloc(1, sizeof *r);

	assert_non_null(r);
	start_listener(w);
	raw_connect(w, r);
	w->raw = r;
	assert_true(wait_for(w, cond_one_in_handshake, WAIT_MS));
	w->io->ops->listener_close(w->listener, on_listener_closed);
	assert_true(wait_for(w, cond_all_released, WAIT_MS));
	assert_int_equal(w->listener_closed, 1);
	w->listener = NULL;
	assert_true(wait_for(w, cond_raw_ended, WAIT_MS));
	assert_int_equal(w->rejected, 0);       /* closed, not refused */
	raw_close(w, r);
	w->raw = NULL;
	free(r);
}

/* A raw server: accepts one connection and never says a word. */
struct mute {
	uv_tcp_t listener;
	uv_tcp_t conn;
	int accepted;
	int closed;
};

static void mute_connection(uv_stream_t *s, int status)
{
	struct mute *m = s->data;

	assert_int_equal(status, 0);
	assert_int_equal(uv_tcp_init(s->loop, &m->conn), 0);
	m->conn.data = m;
	assert_int_equal(uv_accept(s, (uv_stream_t *)&m->conn), 0);
	m->accepted = 1;
}

static void mute_closed(uv_handle_t *h)
{
	struct mute *m = h->data;

	m->closed++;
}

static void test_silent_server_is_closed_by_the_dialer_timeout(void **state)
{
	struct world *w = *state;
	struct mute *m = calloc(1, sizeof *m);
	struct sockaddr_in bound;
	int namelen = sizeof bound;
	uint64_t start;

	assert_non_null(m);
	m->listener.data = m;
	assert_int_equal(uv_tcp_init(&w->loop, &m->listener), 0);
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &w->addr), 0);
	assert_int_equal(uv_tcp_bind(&m->listener,
				     (const struct sockaddr *)&w->addr, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&m->listener, 8,
				   mute_connection), 0);
	assert_int_equal(uv_tcp_getsockname(&m->listener,
					    (struct sockaddr *)&bound,
					    &namelen), 0);
	w->addr = bound;
	w->client_cfg.handshake_timeout_ms = 200;
	start = tu_now_ms();
	dial(w, NULL);
	assert_true(wait_for(w, cond_client_closed, WAIT_MS));
	assert_true(tu_now_ms() - start >= 150);
	assert_int_equal(w->client.closed_reason, RUMOR_ETIMEDOUT);
	assert_int_equal(w->client.opened, 0);
	assert_true(m->accepted);
	uv_close((uv_handle_t *)&m->listener, mute_closed);
	uv_close((uv_handle_t *)&m->conn, mute_closed);
	while (m->closed < 2)
		uv_run(&w->loop, UV_RUN_ONCE);
	free(m);
}

static void test_closing_a_dial_before_it_connects_fires_only_the_close_cb(void **state)
{
	struct world *w = *state;

	start_listener(w);
	dial(w, NULL);
	io_conn_close(w->client.conn, side_close_cb);
	assert_int_equal(w->client.close_cbs, 0);
	assert_true(wait_for(w, cond_client_released, WAIT_MS));
	assert_int_equal(w->client.close_cbs, 1);
	assert_int_equal(w->client.opened, 0);
	assert_int_equal(w->client.closed, 0);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_different_network_keys_fail_on_both_sides),
		T(test_untrusted_client_is_refused),
		T(test_trusted_client_is_accepted),
		T(test_unexpected_server_is_refused_by_the_client),
		T(test_dial_to_a_closed_port_reports_closed),
		T(test_silent_client_is_closed_by_the_handshake_timeout),
		T(test_garbage_after_connect_is_closed),
		T(test_listener_close_frees_connections_mid_handshake),
		T(test_silent_server_is_closed_by_the_dialer_timeout),
		T(test_closing_a_dial_before_it_connects_fires_only_the_close_cb),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
