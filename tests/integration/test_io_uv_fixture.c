/* SPDX-License-Identifier: MIT */
/* The fixture of the io_uv integration tests (contracts in
 * test_io_uv_fixture.h). */
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

static void world_step(void *arg)
{
	struct world *w = arg;

	uv_run(&w->loop, UV_RUN_ONCE);
}

int wait_for(struct world *w, int (*cond)(void *), uint64_t ms)
{
	return tu_wait_for(cond, world_step, w, ms);
}

static void ticker_cb(uv_timer_t *t)
{
	(void)t;
}


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


static void side_drained(struct io_conn *c)
{
	struct side *s = c->data;

	s->drained++;
}

void client_drained(struct io_conn *c)
{
	struct world *w = (struct world *)((char *)c->data -
					   offsetof(struct world, client));

	w->client.drained++;
	pump(w);
}

void side_close_cb(struct io_conn *c)
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

void on_listener_closed(struct io_listener *l)
{
	struct world *w = io_listener_data(l);

	w->listener_closed++;
}

static void make_identity(struct identity *id)
{
	crypto_sign_keypair(id->public_key, id->secret_key);
}

int setup(void **state)
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

void start_listener(struct world *w)
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

void dial(struct world *w, const uint8_t *expected)
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

void connect_pair(struct world *w)
{
	start_listener(w);
	dial(w, w->server_id.public_key);
	assert_true(wait_for(w, cond_both_open, WAIT_MS));
}

int cond_all_released(void *arg)
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

int teardown(void **state)
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

int send_msg(struct io_conn *c, const uint8_t *msg, size_t len)
{
	struct err err;
	int rv = io_conn_send(c, msg, len, &err);

	if (rv != 0)
		print_error("send: %s\n", err.msg);
	return rv;
}

/* Sends numbered messages while the queue is under the high watermark;
 * the drained handler calls it again. */
void pump(struct world *w)
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

int cond_server_more_than_one(void *arg)
{
	struct world *w = arg;

	return w->server.messages > 1;
}

int cond_client_released(void *arg)
{
	struct world *w = arg;

	return w->client.close_cbs == 1;
}

int cond_dial_failed(void *arg)
{
	struct world *w = arg;

	return w->client.closed;
}
