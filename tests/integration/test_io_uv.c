/* SPDX-License-Identifier: MIT */
/* Integration tests of src/io/io_uv_peer.c through the io vtable (one
 * io made by io_uv_new): two endpoints on one loop over 127.0.0.1,
 * sealed messages both ways, backpressure, pause, and how a connection
 * ends. Refusals and raw peers: test_io_uv_refuse. */
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
		T(test_peer_close_is_reported_once_and_close_cb_fires_once),
		T(test_close_inside_the_message_handler_stops_delivery),
		T(test_close_while_paused_delivers_nothing_more),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
