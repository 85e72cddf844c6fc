/* SPDX-License-Identifier: MIT */
/*
 * io_uv: the io vtable (io/io.h) over libuv. Only the loop owners include
 * this header. No global state: any number of io instances may share one
 * loop (one per node).
 */
#ifndef RUMOR_IO_UV_H
#define RUMOR_IO_UV_H

#include <uv.h>

#include "io/io.h"
#include "lib/err.h"

/* Makes an io whose every object runs on loop (which must outlive it).
 * RUMOR_ENOMEM with *out unset. */
int io_uv_new(struct io **out, uv_loop_t *loop, struct err *err);

/* Frees io. Call it after every object made on it (timers, listeners,
 * connections, datagram sockets, streams, resolutions, work) has been
 * freed, closed or cancelled; normally the loop has run since, so that
 * their close callbacks fired and no work is still queued, and the memory
 * goes at once. Objects whose close is still under way keep io alive: the
 * last one frees it from its libuv close callback, so the loop must then
 * still run (as it must anyway to finish those closes). NULL is a
 * no-op. */
void io_uv_free(struct io *io);

#endif
