/* SPDX-License-Identifier: MIT */
/* Integration tests of src/io/io_uv_peer.c through the io vtable (one
 * io made by io_uv_new): two endpoints on one loop over
 * 127.0.0.1, the handshake, sealed messages, backpressure, failures. */
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

#include "crypto/channel.h"
#include "io/io_uv.h"
#include "tests/lib/testutil.h"

#define WAIT_MS 5000u

/* ------------------------------------------------------------ fixture */

/* What one side of a connection saw. */
struct side {
	struct io_conn *conn;
	int opened;
	int closed;             /* handlers.closed calls */
	int closed_reason;
	int close_cbs;          /* io_conn_close callbacks */
	uint64_t messages;
	uint64_t bytes;
	uint64_t order_errors;  /* 4-byte sequence numbers out of order */
	uint8_t *last;
	size_t last_len;
	int pause_at;           /* pause after this many messages (0: no) */
	int close_at;           /* close after this many messages (0: no) */
	int drained;
};

/* A raw TCP client that speaks no protocol. */
struct raw {
	uv_tcp_t tcp;
	uv_connect_t req;
	uv_write_t wreq;
	int connected;
	int ended;              /* EOF or error seen */
	int closed;
	uint64_t bytes;
	uint8_t rbuf[4096];
	uint8_t garbage[1000];
};

struct world {
	uv_loop_t loop;
	struct io *io;
	uv_timer_t ticker;      /* bounds each UV_RUN_ONCE of a wait */
	struct identity server_id, client_id;
	uint8_t server_net[NETWORK_KEY_BYTES], client_net[NETWORK_KEY_BYTES];
	struct io_peer_config server_cfg, client_cfg;
	struct io_listener *listener;
	int listener_closed;
	int accepted;
	int rejected;
	int reject_reason;
	struct side server, client;
	struct raw *raw;        /* a raw client of the test, if any */
	struct sockaddr_in addr;
	/* Backpressure pump. */
	uint64_t to_send;
	uint64_t sent;
	size_t high_watermark;
	size_t max_queued;
	size_t msg_len;
	int pump_error;
};

static void world_step(void *arg)
{
	struct world *w = arg;

	uv_run(&w->loop, UV_RUN_ONCE);
}

static int wait_for(struct world *w, int (*cond)(void *), uint64_t ms)
{
	return tu_wait_for(cond, world_step, w, ms);
}

static void ticker_cb(uv_timer_t *t)
{
	(void)t;
}

static void side_close_cb(struct io_conn *c);

static void side_message(struct io_conn *c, const uint8_t *msg, size_t len)
{
	struct side *s = c->data;

	if (len >= 4) {
		uint32_t seq = (uint32_t)msg[0] << 24 | (uint32_t)msg[1] << 16 |
			       (uint32_t)msg[2] << 8 | msg[3];

		if (seq != s->messages)
			s->order_errors++;
	}
	s->messages++;
	s->bytes += len;
	free(s->last);
	s->last = malloc(len ? len : 1);
	assert_non_null(s->last);
	memcpy(s->last, msg, len);
	s->last_len = len;
	if (s->pause_at != 0 && s->messages == (uint64_t)s->pause_at)
		io_conn_pause(c);
	if (s->close_at != 0 && s->messages == (uint64_t)s->close_at)
		io_conn_close(c, side_close_cb);
}

static void side_open(struct io_conn *c)
{
	struct side *s = c->data;

	s->opened++;
}

static void side_closed(struct io_conn *c, int reason, const char *detail)
{
	struct side *s = c->data;

	assert_non_null(detail);
	s->closed++;
	s->closed_reason = reason;
}

static void pump(struct world *w);

static void side_drained(struct io_conn *c)
{
	struct side *s = c->data;

	s->drained++;
}

static void client_drained(struct io_conn *c)
{
	struct world *w = (struct world *)((char *)c->data -
					   offsetof(struct world, client));

	w->client.drained++;
	pump(w);
}

static void side_close_cb(struct io_conn *c)
{
	struct side *s = c->data;

	s->close_cbs++;
	s->conn = NULL;
}

static const struct io_conn_handlers side_handlers = {
	.open = side_open,
	.message = side_message,
	.drained = side_drained,
	.closed = side_closed,
};

static void on_accept(struct io_listener *l, struct io_conn *c)
{
	struct world *w = io_listener_data(l);

	w->accepted++;
	w->server.conn = c;
	c->handlers = side_handlers;
	c->data = &w->server;
	w->server.opened++;
}

static void on_reject(struct io_listener *l, int reason,
		      const char *detail)
{
	struct world *w = io_listener_data(l);

	assert_non_null(detail);
	w->rejected++;
	w->reject_reason = reason;
}

static void on_listener_closed(struct io_listener *l)
{
	struct world *w = io_listener_data(l);

	w->listener_closed++;
}

static void make_identity(struct identity *id)
{
	crypto_sign_keypair(id->public_key, id->secret_key);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);

	assert_non_null(w);
	assert_int_equal(uv_loop_init(&w->loop), 0);
	assert_int_equal(uv_timer_init(&w->loop, &w->ticker), 0);
	assert_int_equal(uv_timer_start(&w->ticker, ticker_cb, 10, 10), 0);
	make_identity(&w->server_id);
	make_identity(&w->client_id);
	randombytes_buf(w->server_net, sizeof w->server_net);
	memcpy(w->client_net, w->server_net, sizeof w->client_net);
	assert_int_equal(io_uv_new(&w->io, &w->loop, NULL), 0);
	w->server_cfg = (struct io_peer_config){
		.identity = &w->server_id,
		.network_key = w->server_net,
		.handshake_timeout_ms = 2000,
	};
	w->client_cfg = w->server_cfg;
	w->client_cfg.identity = &w->client_id;
	w->client_cfg.network_key = w->client_net;
	*state = w;
	return 0;
}

static void start_listener(struct world *w)
{
	struct err err;

	assert_int_equal(w->io->ops->listen(w->io, &w->server_cfg,
					    "127.0.0.1", 0, on_accept,
					    on_reject, w, &w->listener, &err),
			 0);
	assert_true(w->io->ops->listener_port(w->listener) > 0);
	assert_int_equal(uv_ip4_addr("127.0.0.1",
				     w->io->ops->listener_port(w->listener),
				     &w->addr), 0);
}

static void dial(struct world *w, const uint8_t *expected)
{
	struct err err;

	assert_int_equal(w->io->ops->dial(w->io, &w->client_cfg,
				    (const struct sockaddr *)&w->addr,
				    expected, &w->client.conn, &err), 0);
	w->client.conn->handlers = side_handlers;
	w->client.conn->data = &w->client;
}

static int cond_both_open(void *arg)
{
	struct world *w = arg;

	return w->client.opened && w->accepted;
}

static void connect_pair(struct world *w)
{
	start_listener(w);
	dial(w, w->server_id.public_key);
	assert_true(wait_for(w, cond_both_open, WAIT_MS));
}

static int cond_all_released(void *arg)
{
	struct world *w = arg;

	return w->client.conn == NULL && w->server.conn == NULL &&
	       (w->listener == NULL || w->listener_closed);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	fprintf(stderr, "handle left open: %s\n", uv_handle_type_name(h->type));
}

static int teardown(void **state)
{
	struct world *w = *state;

	if (w->client.conn != NULL)
		io_conn_close(w->client.conn, side_close_cb);
	if (w->server.conn != NULL)
		io_conn_close(w->server.conn, side_close_cb);
	if (w->listener != NULL && !w->listener_closed)
		w->io->ops->listener_close(w->listener, on_listener_closed);
	assert_true(wait_for(w, cond_all_released, WAIT_MS));
	uv_close((uv_handle_t *)&w->ticker, NULL);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	io_uv_free(w->io);
	/* Every handle of every endpoint is closed: nothing leaks. */
	if (uv_loop_close(&w->loop) != 0) {
		uv_walk(&w->loop, close_walk, NULL);
		fail_msg("handles left open on the loop");
	}
	free(w->server.last);
	free(w->client.last);
	free(w);
	return 0;
}

static int send_msg(struct io_conn *c, const uint8_t *msg, size_t len)
{
	struct err err;
	int rv = io_conn_send(c, msg, len, &err);

	if (rv != 0)
		print_error("send: %s\n", err.msg);
	return rv;
}

/* ------------------------------------------------------------ exchange */

static int cond_hello_both_ways(void *arg)
{
	struct world *w = arg;

	return w->server.messages == 1 && w->client.messages == 1;
}

static void test_same_network_key_connects_and_exchanges_both_ways(void **state)
{
	struct world *w = *state;

	connect_pair(w);
	assert_memory_equal(w->client.conn->peer_key, w->server_id.public_key,
			    32);
	assert_memory_equal(w->server.conn->peer_key, w->client_id.public_key,
			    32);
	assert_true(w->server.conn->inbound);
	{
		char host[64];

		assert_int_equal(io_conn_peer_host(w->client.conn, host,
						 sizeof host), 0);
		assert_string_equal(host, "127.0.0.1");
		assert_int_equal(io_conn_peer_host(w->server.conn, host,
						 sizeof host), 0);
		assert_string_equal(host, "127.0.0.1");
	}
	assert_false(w->client.conn->inbound);
	assert_int_equal(send_msg(w->client.conn,
				  (const uint8_t *)"\0\0\0\0hello", 9), 0);
	assert_int_equal(send_msg(w->server.conn,
				  (const uint8_t *)"\0\0\0\0howdy", 9), 0);
	assert_true(wait_for(w, cond_hello_both_ways, WAIT_MS));
	assert_int_equal(w->server.last_len, 9);
	assert_memory_equal(w->server.last + 4, "hello", 5);
	assert_memory_equal(w->client.last + 4, "howdy", 5);
	assert_int_equal(w->client.conn->stats.messages_out, 1);
	assert_int_equal(w->server.conn->stats.messages_in, 1);
	assert_true(w->client.conn->stats.bytes_in > 0);
	assert_int_equal(w->rejected, 0);
	/* Empty messages are messages too. */
	assert_int_equal(send_msg(w->client.conn, NULL, 0), 0);
}

static int cond_big_both_ways(void *arg)
{
	struct world *w = arg;

	return w->server.messages == 1 && w->client.messages == 1;
}

static void test_one_mebibyte_message_arrives_whole_both_ways(void **state)
{
	struct world *w = *state;
	size_t len = 1u << 20;
	uint8_t *a = malloc(len), *b = malloc(len);

	assert_non_null(a);
	assert_non_null(b);
	randombytes_buf(a, len);
	randombytes_buf(b, len);
	memset(a, 0, 4);
	memset(b, 0, 4);
	connect_pair(w);
	assert_int_equal(send_msg(w->client.conn, a, len), 0);
	assert_int_equal(send_msg(w->server.conn, b, len), 0);
	assert_true(w->client.conn->ops->queued(w->client.conn) > 0);
	assert_true(wait_for(w, cond_big_both_ways, WAIT_MS));
	assert_int_equal(w->server.last_len, len);
	assert_int_equal(w->client.last_len, len);
	assert_memory_equal(w->server.last, a, len);
	assert_memory_equal(w->client.last, b, len);
	assert_true(w->client.conn->stats.bytes_out >= channel_sealed_size(len));
	assert_true(w->server.conn->stats.bytes_in >= channel_sealed_size(len));
	free(a);
	free(b);
}

static void test_oversize_message_is_refused_and_the_connection_lives(void **state)
{
	struct world *w = *state;
	size_t len = CHANNEL_FRAME_MAX + 1;
	uint8_t *a = calloc(1, len);
	struct err err;

	assert_non_null(a);
	connect_pair(w);
	assert_int_equal(io_conn_send(w->client.conn, a, len, &err),
			 RUMOR_ETOOBIG);
	assert_int_equal(send_msg(w->client.conn, a, 4), 0);
	assert_true(wait_for(w, cond_hello_both_ways, 300) == 0);
	assert_int_equal(w->server.messages, 1);
	free(a);
}

/* Sends numbered messages while the queue is under the high watermark;
 * the drained handler calls it again. */
static void pump(struct world *w)
{
	uint8_t msg[4096];

	memset(msg, 0xab, sizeof msg);
	while (w->sent < w->to_send &&
	       io_conn_queued(w->client.conn) < w->high_watermark) {
		msg[0] = (uint8_t)(w->sent >> 24);
		msg[1] = (uint8_t)(w->sent >> 16);
		msg[2] = (uint8_t)(w->sent >> 8);
		msg[3] = (uint8_t)w->sent;
		if (send_msg(w->client.conn, msg, w->msg_len) != 0) {
			w->pump_error = 1;
			return;
		}
		w->sent++;
		if (io_conn_queued(w->client.conn) > w->max_queued)
			w->max_queued = io_conn_queued(w->client.conn);
	}
}

static int cond_all_received(void *arg)
{
	struct world *w = arg;

	return w->server.messages == w->to_send || w->pump_error;
}

static void test_ten_thousand_small_messages_respect_backpressure(void **state)
{
	struct world *w = *state;

	connect_pair(w);
	w->to_send = 10000;
	w->msg_len = 200;
	w->high_watermark = 16 * 1024;
	w->client.conn->low_watermark = 4 * 1024;
	w->client.conn->handlers.drained = client_drained;
	pump(w);
	/* The queue stopped the pump long before the end. */
	assert_true(w->sent < w->to_send);
	assert_true(wait_for(w, cond_all_received, WAIT_MS));
	assert_false(w->pump_error);
	assert_int_equal(w->server.order_errors, 0);
	assert_int_equal(w->server.bytes, 10000u * 200u);
	assert_true(w->client.drained > 0);
	/* Never more than one message over the high watermark. */
	assert_true(w->max_queued < w->high_watermark +
					    channel_sealed_size(w->msg_len));
}

static int cond_flushed_50(void *arg)
{
	struct world *w = arg;

	return io_conn_queued(w->client.conn) == 0 &&
	       w->client.conn->stats.messages_out == 50;
}

static int cond_server_more_than_one(void *arg)
{
	struct world *w = arg;

	return w->server.messages > 1;
}

static int cond_server_50(void *arg)
{
	struct world *w = arg;

	return w->server.messages == 50;
}

static void test_pause_holds_messages_until_resume(void **state)
{
	struct world *w = *state;
	uint8_t msg[100];
	uint32_t i;

	connect_pair(w);
	w->server.pause_at = 1;
	memset(msg, 7, sizeof msg);
	for (i = 0; i < 50; i++) {
		msg[0] = 0;
		msg[1] = 0;
		msg[2] = 0;
		msg[3] = (uint8_t)i;
		assert_int_equal(send_msg(w->client.conn, msg, sizeof msg), 0);
	}
	assert_true(wait_for(w, cond_flushed_50, WAIT_MS));
	/* Everything is in the server's socket or buffer; none of it may
	 * arrive while paused. */
	assert_false(wait_for(w, cond_server_more_than_one, 200));
	assert_int_equal(w->server.messages, 1);
	io_conn_resume(w->server.conn);
	/* Resume delivers from the loop, not from inside the call. */
	assert_int_equal(w->server.messages, 1);
	assert_true(wait_for(w, cond_server_50, WAIT_MS));
	assert_int_equal(w->server.order_errors, 0);
}

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

static int cond_client_released(void *arg)
{
	struct world *w = arg;

	return w->client.close_cbs == 1;
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

static int cond_dial_failed(void *arg)
{
	struct world *w = arg;

	return w->client.closed;
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

/* ------------------------------------------------------------ endings */

static int cond_server_closed(void *arg)
{
	struct world *w = arg;

	return w->server.closed;
}


static void test_peer_close_is_reported_once_and_close_cb_fires_once(void **state)
{
	struct world *w = *state;

	connect_pair(w);
	io_conn_close(w->client.conn, side_close_cb);
	/* Never from inside io_conn_close(). */
	assert_int_equal(w->client.close_cbs, 0);
	assert_true(wait_for(w, cond_client_released, WAIT_MS));
	assert_true(wait_for(w, cond_server_closed, WAIT_MS));
	assert_int_equal(w->server.closed_reason, RUMOR_ECLOSED);
	assert_int_equal(w->client.closed, 0);  /* closed locally */
	assert_int_equal(io_conn_send(w->server.conn, (const uint8_t *)"x", 1,
				      NULL), RUMOR_ECLOSED);
	io_conn_close(w->server.conn, side_close_cb);
	assert_int_equal(w->server.close_cbs, 0);
	w->io->ops->listener_close(w->listener, on_listener_closed);
	assert_true(wait_for(w, cond_all_released, WAIT_MS));
	assert_int_equal(w->server.close_cbs, 1);
	assert_int_equal(w->server.closed, 1);
	assert_int_equal(w->client.close_cbs, 1);
	assert_int_equal(w->listener_closed, 1);
}

static int cond_server_released(void *arg)
{
	struct world *w = arg;

	return w->server.close_cbs == 1;
}

static void test_close_inside_the_message_handler_stops_delivery(void **state)
{
	struct world *w = *state;
	uint8_t msg[8] = {0};
	int i;

	connect_pair(w);
	w->server.close_at = 3;
	for (i = 0; i < 10; i++) {
		msg[3] = (uint8_t)i;
		assert_int_equal(send_msg(w->client.conn, msg, sizeof msg), 0);
	}
	assert_true(wait_for(w, cond_server_released, WAIT_MS));
	assert_int_equal(w->server.messages, 3);
	assert_int_equal(w->server.closed, 0);
	/* The client learns of it. */
	assert_true(wait_for(w, cond_dial_failed, WAIT_MS));
	assert_int_equal(w->client.closed_reason, RUMOR_ECLOSED);
}

static void test_close_while_paused_delivers_nothing_more(void **state)
{
	struct world *w = *state;
	uint8_t msg[8] = {0};
	int i;

	connect_pair(w);
	w->server.pause_at = 1;
	for (i = 0; i < 10; i++) {
		msg[3] = (uint8_t)i;
		assert_int_equal(send_msg(w->client.conn, msg, sizeof msg), 0);
	}
	assert_false(wait_for(w, cond_server_more_than_one, 200));
	assert_int_equal(w->server.messages, 1);
	/* A resume just before the close must not deliver either. */
	io_conn_resume(w->server.conn);
	io_conn_close(w->server.conn, side_close_cb);
	assert_true(wait_for(w, cond_server_released, WAIT_MS));
	assert_int_equal(w->server.messages, 1);
	assert_int_equal(w->server.closed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_same_network_key_connects_and_exchanges_both_ways),
		T(test_one_mebibyte_message_arrives_whole_both_ways),
		T(test_oversize_message_is_refused_and_the_connection_lives),
		T(test_ten_thousand_small_messages_respect_backpressure),
		T(test_pause_holds_messages_until_resume),
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
		T(test_peer_close_is_reported_once_and_close_cb_fires_once),
		T(test_close_inside_the_message_handler_stops_delivery),
		T(test_close_while_paused_delivers_nothing_more),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
