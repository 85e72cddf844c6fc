/* SPDX-License-Identifier: MIT */
/*
 * control_int: what the control server (control.c: clients, reading,
 * writing, lifecycle) and its commands (control_cmd.c) share. Private to
 * src/node/.
 */
#ifndef RUMOR_NODE_CONTROL_INT_H
#define RUMOR_NODE_CONTROL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rumor.h"
#include "io/io.h"
#include "node/control.h"
#include "node/node_ctl.h"
#include "wire/wire_ctl.h"

/* Replies are handed to the stream in chunks of about this size. */
#define CONTROL_FLUSH_BYTES (64u << 10)
/* LOG is not resumable: it stops (END truncated) past this many bytes. */
#define CONTROL_LOG_BYTES_MAX (16u << 20)
#define CONTROL_PEERS_MAX 4096u

enum stream_kind {
	STREAM_NONE = 0,
	STREAM_SCAN,
	STREAM_WATCH,
	STREAM_SYNC,
	STREAM_STRONG,   /* a strong write waits for its outcome */
	STREAM_GETWAIT,  /* a GET waits for a strong write's lock */
	STREAM_WRITEWAIT, /* a write waits for catch-up (control_wait.c) */
};

struct client;

/* A pending node_sync_now or strong write: outlives its client if the
 * client leaves first (c is then NULL and the report is dropped). */
struct sync_ticket {
	struct client *c;
};

struct client {
	struct control *ctl;
	struct client *prev, *next;
	struct io_stream *s;

	uint8_t *rbuf;               /* received, not yet handled */
	size_t rlen, rcap;

	struct wire_buf out;          /* encoded, not yet handed to s */

	int reading;
	int closing;                 /* io_stream_close called */
	int close_after_write;       /* a protocol error reply is in flight */
	int in_process;              /* inside process_input() */

	enum stream_kind stream;
	/* SCAN: resumes after the last key sent */
	uint8_t *prefix;
	size_t prefix_len;
	uint8_t *last;
	size_t last_len;
	int have_last;
	uint64_t count, limit;
	int scan_paused, scan_truncated, scan_failed;
	/* WATCH: a change stream (rumor_tail_*), paused above the backlog's
	 * high-water mark; once it was, the changes it passed over are told
	 * in a GAP */
	struct rumor_tail *tail;
	int watch_paused, watch_was_paused;
	/* SYNC, and strong writes (one at a time per client, so replies
	 * stay in request order) */
	struct sync_ticket *ticket;
	/* GETWAIT: the key (a copy), retried on the timer until unlocked
	 * or the deadline (io ms) passes */
	struct io_timer *get_timer;
	uint8_t *get_key;
	size_t get_key_len;
	uint64_t get_deadline;
	/* WRITEWAIT: the request waits at the head of rbuf; when catch-up
	 * ends or the timer fires, wait_expired makes the next pass handle
	 * it; wait_done (set during that pass) makes a refusal say how long
	 * it waited. */
	struct node_catchup_wait catchup_wait;
	struct io_timer *wait_timer;
	uint64_t wait_started_ms, wait_refuse_ms;
	int wait_expired, wait_done;
};

struct control {
	struct io *io;
	struct rumor *node;
	struct io_stream_listener *listener;
	struct client *clients;
	size_t n_clients;
	unsigned open_handles;       /* listener + streams not closed */
	int closing;
	void (*close_cb)(void *arg);
	void *close_arg;
};

/* ---- control.c */

/* Hands the encoded replies to the socket. On failure the client is
 * closed (c->closing; its memory goes later, from the loop). */
void control_flush(struct client *c);
/* Reply bytes encoded or queued and not yet written. */
size_t control_backlog(const struct client *c);
/* An encoder failed: drops the client. */
void control_encode_failed(struct client *c, int rv);
/* Encodes an ERROR reply (code < 0; msg NULL or "": the code's name). */
void control_reply_error(struct client *c, int code, const char *msg);
/* An ERROR with the node's message for its last failed call. */
void control_reply_node_error(struct client *c, int code);
/* OK for rv 0, else the node's error (a PUT's or DEL's reply). */
void control_reply_done(struct client *c, int rv);
/* A streaming reply ended: handles what arrived meanwhile, reads on. */
void control_stream_finished(struct client *c);

/* ---- control_cmd.c */

/* Runs one decoded request (rq points into the client's input buffer,
 * valid during the call). Replies are encoded into c->out; a stream
 * (SCAN, WATCH, SYNC) leaves c->stream set. */
void control_handle_request(struct client *c, const struct ctl_request *rq);
/* Sends more of a paused scan, until it ends or the backlog is high. */
void control_scan_continue(struct client *c);

/* ---- control_wait.c */

/* Before the request at the head of the input is handled: 1 when it is
 * a write that waits for catch-up (c->stream is STREAM_WRITEWAIT, the
 * request stays in the input: handle nothing more); 0 when it is to be
 * handled now. */
int control_write_waits(struct client *c, const struct ctl_request *rq);
/* The ERROR of a write refused with rv: after a wait, one that says
 * how long it waited. */
void control_write_wait_refused(struct client *c, int rv);
/* The client starts closing: its wait for catch-up is cancelled (the
 * node is still open then). */
void control_write_wait_cancel(struct client *c);
/* The client's memory goes: its timer is freed. */
void control_write_wait_free(struct client *c);

#endif
