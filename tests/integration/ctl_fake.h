/* SPDX-License-Identifier: MIT */
/* A stand-in for a node's control socket, in the test process, for what
 * a real node will not do on demand: be older than a request form, or
 * answer a SYNC only after the client asked for STATUS a given number of
 * times. It listens on a unix socket, reads each client's request frames
 * and hands each decoded request to the test's answer function; the
 * test steps it (ctl_fake_step) while rumorctl runs as a child. No
 * blocking call: a step accepts, reads and answers what is there. */
#ifndef RUMOR_TEST_CTL_FAKE_H
#define RUMOR_TEST_CTL_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "wire/wire_cbor.h"
#include "wire/wire_ctl.h"

#define CTL_FAKE_CLIENTS 8
#define CTL_FAKE_INPUT (64u << 10)

/* What the answer function wants done with the client after it. */
enum ctl_fake_next {
	CTL_FAKE_KEEP,       /* reply sent (if any); read the next request */
	CTL_FAKE_HANGUP,     /* send the reply, then close, unread input
				dropped (what a node does on a protocol
				error) */
	CTL_FAKE_HOLD,       /* no reply now: ctl_fake_reply later; the
				client's further input waits */
};

struct ctl_fake_client {
	int fd;                        /* -1: free */
	int held;
	uint8_t in[CTL_FAKE_INPUT];
	size_t len;
};

struct ctl_fake;

/* Appends the reply frames for rq (of client i) to out. */
typedef enum ctl_fake_next (*ctl_fake_answer)(struct ctl_fake *fk, int i,
					      const struct ctl_request *rq,
					      struct wire_buf *out);

struct ctl_fake {
	int lfd;
	char path[256];
	struct ctl_fake_client cl[CTL_FAKE_CLIENTS];
	ctl_fake_answer answer;
	void *arg;                     /* the test's */
	unsigned connections;          /* accepted so far */
};

/* Listens on path (which must not exist). Fails the test on an error. */
void ctl_fake_start(struct ctl_fake *fk, const char *path,
		    ctl_fake_answer answer, void *arg);
/* One turn: accept, read, answer. A step function (void *: the fake). */
void ctl_fake_step(void *arg);
/* Sends the frames in b to held client i and lets it go on. */
void ctl_fake_reply(struct ctl_fake *fk, int i, const struct wire_buf *b);
/* Closes every connection and the socket, and removes its file. */
void ctl_fake_stop(struct ctl_fake *fk);

#endif
