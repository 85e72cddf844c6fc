/* SPDX-License-Identifier: MIT */
/*
 * The commands about the node itself rather than its keys: status,
 * peers, sync. Each takes its arguments, asks the node (client.c) and
 * hands the reply to show.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/array.h"
#include "tools/ctl/ctl.h"

static void status_short(struct ctl_request *rq)
{
	rq->status_version = 0;
}

int cmd_status(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_STATUS,
				 .status_version = CTL_STATUS_EXT};
	struct ctl_reply r;
	int rv;

	(void)argc;
	(void)argv;
	rv = client_call_ext(x, &rq, status_short, CTL_R_STATUS, &r,
			     CTL_REPLY_TIMEOUT_MS);
	if (rv != 0)
		return rv;
	show_status(stdout, x->json, &r);
	if (r.status.open_network) {
		fflush(stdout);
		warn_open_network(x);
	}
	ctl_reply_free(&r);
	return 0;
}

int cmd_peers(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_PEERS};
	struct ctl_reply r;
	struct show_peer_row *rows = NULL;
	size_t n = 0, cap = 0;
	int done = 0, rv;

	(void)argc;
	(void)argv;
	rv = client_request(x, &rq);
	if (rv != 0)
		return rv;
	if (x->json)
		printf("[");
	while ((rv = client_next(x, CTL_R_PEER, &r, &done)) == 0 && !done) {
		if (x->json) {
			printf("%s\n", n ? "," : "");
			show_peer_json(stdout, &r.peer);
			n++;
			continue;
		}
		if (n == cap) {
			struct show_peer_row *nr = array_grow(rows, &cap, n + 1,
							      sizeof(*nr), 16);

			if (nr == NULL) {
				rv = fmt_fail(CTL_EXIT_FAIL, "out of memory");
				goto out;
			}
			rows = nr;
		}
		show_peer_row(&rows[n++], &r.peer);
	}
	if (rv != 0)
		goto out;
	if (x->json) {
		printf("%s]\n", n ? "\n" : "");
		goto out;
	}
	show_peer_table(stdout, rows, n);
	if (r.truncated)
		printf("(more peers than shown)\n");
out:
	free(rows);
	return rv;
}

/* The node's entries received so far, asked on a connection of its
 * own (the first one waits for SYNC's reply); 0 when it cannot say. */
static int sync_received(const struct ctx *x, uint64_t *received)
{
	struct ctl_request rq = {.cmd = CTL_CMD_STATUS};
	struct ctl_reply r;
	struct ctx y = *x;
	int rv;

	y.fd = -1;
	y.frame = NULL;
	y.frame_cap = 0;
	rv = client_call(&y, &rq, CTL_R_STATUS, &r, CTL_REPLY_TIMEOUT_MS);
	client_close(&y);
	if (rv != 0)
		return rv;
	*received = r.status.stats.entries_received;
	ctl_reply_free(&r);
	return 0;
}

/* The progress line of `sync` on a terminal: one line on stderr,
 * rewritten in place (\r, padded with spaces over a longer one before
 * it) every SYNC_PROGRESS_MS until the reply comes, then ended with a
 * newline, so that the last figures stay above the report. Plain text
 * only: no terminal escape, which a dumb terminal or a log of the
 * session would show as junk. */
#define SYNC_PROGRESS_MS 250
static int sync_wait_with_progress(struct ctx *x)
{
	uint64_t base = 0, now = 0, ticks = 0;
	int width = 0, n;

	if (sync_received(x, &base) != 0)
		return 0;     /* no figures: wait without them */
	while (!client_readable(x, SYNC_PROGRESS_MS) && !client_interrupted()) {
		ticks++;
		if (sync_received(x, &now) != 0)
			break;
		n = fprintf(stderr, "\rsync: %" PRIu64 " entries received, "
			    "%.0f/s (%" PRIu64 ".%" PRIu64 "s)", now - base,
			    (double)(now - base) * 1000.0 /
			    (double)(ticks * SYNC_PROGRESS_MS),
			    ticks * SYNC_PROGRESS_MS / 1000,
			    ticks * SYNC_PROGRESS_MS % 1000 / 100);
		/* n counts the \r: the line itself is n - 1 columns. */
		if (n > 0 && n - 1 < width)
			fprintf(stderr, "%*s", width - (n - 1), "");
		if (n > 0 && n - 1 > width)
			width = n - 1;
		fflush(stderr);
	}
	if (width > 0)
		fputc('\n', stderr);
	return 0;
}

int cmd_sync(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_SYNC};
	struct ctl_reply r;
	int rv;

	(void)argv;
	if (argc != 1)
		return fmt_fail(CTL_EXIT_USAGE, "usage: rumorctl sync "
				"[--timeout MS]");
	rq.timeout_ms = x->timeout_ms != 0 ? x->timeout_ms :
			CTL_SYNC_TIMEOUT_MS;
	/* Progress only for a person: never in JSON, never into a pipe or
	 * a file. */
	if (!x->json && isatty(STDERR_FILENO) && isatty(STDOUT_FILENO)) {
		rv = client_request(x, &rq);
		if (rv == 0)
			rv = sync_wait_with_progress(x);
		if (rv == 0)
			rv = client_recv_reply(x, &r, rq.timeout_ms +
					       CTL_REPLY_TIMEOUT_MS);
		if (rv == 0 && r.type != CTL_R_SYNC) {
			ctl_reply_free(&r);
			rv = client_unexpected(&r);
		}
	} else {
		rv = client_call(x, &rq, CTL_R_SYNC, &r, rq.timeout_ms +
				 CTL_REPLY_TIMEOUT_MS);
	}
	if (rv != 0)
		return rv;
	return show_sync(stdout, x->json, &r.sync) ? CTL_EXIT_FAIL : 0;
}
