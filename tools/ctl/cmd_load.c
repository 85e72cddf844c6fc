/* SPDX-License-Identifier: MIT */
/*
 * rumorctl load: many writes from standard input, one "KEY VALUE" line
 * each, pipelined on one connection (the node group-commits a run of
 * them), acknowledged in order. With --strong each is a strong write of
 * its own, which the node runs one after the other.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl/ctl.h"

/* Requests in flight before rumorctl waits for the oldest answer: enough
 * to keep the node's group commit fed, few enough that the OK replies
 * never fill the socket while rumorctl is still sending. */
#define LOAD_WINDOW 64

struct load {
	unsigned long line[LOAD_WINDOW];   /* line number of each in flight */
	size_t head, n;                    /* ring of requests in flight */
	unsigned long acked;
	int probed;                        /* the first write was answered */
};

/* Waits for the oldest answer in flight. An ERROR names its line. */
static int load_ack(struct ctx *x, struct load *l)
{
	struct ctl_reply r;
	unsigned long line = l->line[l->head];
	int rv;

	rv = client_recv_reply(x, &r, ctl_write_timeout(x));
	if (rv == 0 && client_interrupted())
		rv = fmt_fail(CTL_EXIT_FAIL, "load: interrupted");
	if (rv == 0 && r.type != CTL_R_OK) {
		ctl_reply_free(&r);
		rv = client_unexpected(&r);
	}
	if (rv != 0)
		return fmt_fail(rv, "load: line %lu not written (%lu lines "
				"before it were; later ones may have been)",
				line, l->acked);
	l->head = (l->head + 1) % LOAD_WINDOW;
	l->n--;
	l->acked++;
	return 0;
}

/* The first write of a load that carries a wait goes alone, answered
 * before any other is sent: a node older than the wait refuses it as a
 * protocol error and hangs up having done nothing, and client_call_ext
 * sends it again in the short form. Then the whole load goes short, as
 * --no-wait would send it (refused at once during catch-up, as such a
 * node always did): one fallback for the load, not one per line. */
static int load_first(struct ctx *x, struct load *l, struct ctl_request *rq,
		      unsigned long lineno)
{
	struct ctl_reply r;
	int rv;

	l->probed = 1;
	rv = client_call_ext(x, rq, ctl_write_short, CTL_R_OK, &r,
			     ctl_write_timeout(x));
	if (rv == 0 && client_interrupted())
		rv = fmt_fail(CTL_EXIT_FAIL, "load: interrupted");
	else if (rv == 0)
		ctl_reply_free(&r);
	if (rv != 0)
		return fmt_fail(rv, "load: line %lu not written (%lu lines "
				"before it were)", lineno, l->acked);
	if (!rq->has_wait)
		x->no_wait = 1;    /* the node took the short form */
	l->acked++;
	return 0;
}

/* Sends line (without its newline) as a PUT (SPUT with --strong): KEY,
 * one space, VALUE (the rest, possibly empty; hex digits with --hex).
 * The first line that carries a wait is answered before it returns
 * (load_first). */
static int load_send(struct ctx *x, struct load *l, char *text,
		     unsigned long lineno)
{
	struct ctl_request rq = {.cmd = x->strong ? CTL_CMD_SPUT
						  : CTL_CMD_PUT};
	uint8_t *key = NULL, *value = NULL;
	char *sp = strchr(text, ' ');
	int rv, first = 0;

	if (sp == NULL || sp == text)
		return fmt_fail(CTL_EXIT_USAGE, "load: line %lu: expected "
				"'KEY VALUE'", lineno);
	*sp = '\0';
	rv = fmt_parse_bytes(x->hex, "KEY", text, &key, &rq.key_len);
	if (rv == 0)
		rv = fmt_parse_bytes(x->hex, "VALUE", sp + 1, &value,
				     &rq.value_len);
	if (rv == 0) {
		rq.key = key;
		rq.value = value;
		ctl_write_wait(x, &rq);
		first = rq.has_wait && !l->probed;
		if (first)
			rv = load_first(x, l, &rq, lineno);
		else
			rv = client_request(x, &rq);
	}
	free(key);
	free(value);
	if (first)
		return rv;
	if (rv != 0)
		return fmt_fail(rv, "load: line %lu not sent", lineno);
	l->line[(l->head + l->n) % LOAD_WINDOW] = lineno;
	l->n++;
	return 0;
}

int cmd_load(struct ctx *x, int argc, char **argv)
{
	struct load l = {{0}, 0, 0, 0, 0};
	char *text = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int rv = 0;

	(void)argv;
	if (argc > 1)
		return fmt_fail(CTL_EXIT_USAGE, "load takes its lines on "
				"standard input");
	client_catch_interrupts();
	while (rv == 0 && (len = getline(&text, &cap, stdin)) >= 0) {
		lineno++;
		if (len > 0 && text[len - 1] == '\n')
			text[--len] = '\0';
		if (len == 0)
			continue;
		if (l.n == LOAD_WINDOW)
			rv = load_ack(x, &l);
		if (rv == 0)
			rv = load_send(x, &l, text, lineno);
	}
	free(text);
	/* Even after a bad line: what was sent is acknowledged (or its
	 * refusal reported) before rumorctl exits. */
	while (l.n > 0) {
		int ack = load_ack(x, &l);

		if (ack != 0) {
			rv = rv != 0 ? rv : ack;
			break;
		}
	}
	if (rv == 0 && x->json)
		printf("{\"ok\":true,\"written\":%lu}\n", l.acked);
	return rv;
}
