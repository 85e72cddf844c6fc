/* SPDX-License-Identifier: MIT */
/*
 * The commands about the node itself rather than its keys: status,
 * peers, sync. Each takes its arguments, asks the node (client.c) and
 * hands the reply to show.c.
 */
#include "config.h"

#include <stdlib.h>

#include "lib/array.h"
#include "tools/ctl/ctl.h"

int cmd_status(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_STATUS};
	struct ctl_reply r;
	int rv;

	(void)argc;
	(void)argv;
	rv = client_call(x, &rq, CTL_R_STATUS, &r, CTL_REPLY_TIMEOUT_MS);
	if (rv != 0)
		return rv;
	show_status(stdout, x->json, &r);
	if (!x->json && r.status.open_network)
		fprintf(stderr, "rumorctl: warning: this node uses the built-in "
			"network key; anyone who can reach it can join (see "
			"rumord(8) --network-key)\n");
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
	rv = client_call(x, &rq, CTL_R_SYNC, &r, rq.timeout_ms +
			 CTL_REPLY_TIMEOUT_MS);
	if (rv != 0)
		return rv;
	return show_sync(stdout, x->json, &r.sync) ? CTL_EXIT_FAIL : 0;
}
