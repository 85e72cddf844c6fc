/* SPDX-License-Identifier: MIT */
/*
 * wire_ctl_int: what the encoder (wire_ctl.c) and the decoder
 * (wire_ctl_decode.c) of the control protocol share: the shape of each
 * message, stated once. Private to src/wire/.
 */
#ifndef RUMOR_WIRE_CTL_INT_H
#define RUMOR_WIRE_CTL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "wire/wire_ctl.h"

/* What a request or a reply is: one array whose first item is its type
 * (a command, or a reply type) and whose length that type fixes. */
struct ctl_shape {
	const char *what;            /* "request", "reply" */
	const char *type_field;      /* "command", "type" */
	const char *unknown;         /* "unknown command" */
	uint64_t min_type, max_type;
	size_t max_items;            /* the longest array of any type */
	const char *const *names;    /* by type: "GET", "STATUS" */
	const size_t *items;         /* by type: the array's length */
	/* by type: a longer form it may also have (0: none). Requests:
	 * STATUS asking for the extended reply, writes with a wait; replies:
	 * the extended STATUS. An older peer of the protocol sends and
	 * expects only the short forms. */
	const size_t *items_ext;
};

extern const struct ctl_shape ctl_request_shape;
extern const struct ctl_shape ctl_reply_shape;

/* The counters a STATUS carries (CTL_COUNTERS). */
#define CTL__ONE(name) +1
enum { CTL_N_COUNTERS = 0 CTL_COUNTERS(CTL__ONE) };
#undef CTL__ONE

#endif
