/* SPDX-License-Identifier: MIT */
/* The fixture of the io_uv integration tests (test_io_uv*.c): a world of
 * one loop and one io (io_uv_new), a listener and a dialer on 127.0.0.1
 * with their own identities and one network key, what each side saw,
 * and the conditions the tests wait for. */
#ifndef RUMOR_TEST_IO_UV_FIXTURE_H
#define RUMOR_TEST_IO_UV_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <uv.h>

#include "crypto/channel.h"
#include "io/io_uv.h"
#include "tests/lib/testutil.h"

#define WAIT_MS 5000u

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


/* cmocka setup: *state is a struct world with a running ticker, fresh
 * identities, one random network key on both sides and no connection.
 * teardown closes whatever is still open, waits until every endpoint is
 * released and fails the test if a handle is left on the loop. */
int setup(void **state);
int teardown(void **state);

/* Runs the loop until cond(w) holds; 1 if it did within ms, else 0. */
int wait_for(struct world *w, int (*cond)(void *), uint64_t ms);

/* Listens on 127.0.0.1, an ephemeral port, into w->addr. */
void start_listener(struct world *w);
/* Dials w->addr as the client; expected: the server key it must present
 * (NULL: any). */
void dial(struct world *w, const uint8_t *expected);
/* start_listener, dial the server's key, wait until both sides opened. */
void connect_pair(struct world *w);
/* io_conn_send, printing the error; returns its result. */
int send_msg(struct io_conn *c, const uint8_t *msg, size_t len);

/* Close callbacks: count the call and forget the endpoint. */
void side_close_cb(struct io_conn *c);
void on_listener_closed(struct io_listener *l);
/* The client's drained handler for the backpressure tests: pump again. */
void client_drained(struct io_conn *c);
/* Sends w->to_send numbered messages of w->msg_len bytes while the
 * client's queue is under w->high_watermark. */
void pump(struct world *w);

/* Conditions for wait_for (arg: the world). */
int cond_all_released(void *arg);
int cond_server_more_than_one(void *arg);
int cond_client_released(void *arg);
int cond_dial_failed(void *arg);

#endif
