/* SPDX-License-Identifier: MIT */
/*
 * sim_int: what the files of the simulator share (sim.c: the world,
 * events, hosts, clocks, timers; sim_svc.c: datagrams, resolution, work;
 * sim_conn.c: peer connections and listeners; sim_stream.c: local
 * streams).
 */
#ifndef RUMOR_TESTS_SIM_INT_H
#define RUMOR_TESTS_SIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tests/lib/sim.h"

#define SIM_CONTAINER(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* The kinds of events, for the trace hash (function pointers are not
 * stable across builds). */
enum sim_kind {
	SIM_EV_TIMER = 1,
	SIM_EV_CONN_CONNECT,
	SIM_EV_CONN_OPEN,
	SIM_EV_CONN_TIMEOUT,
	SIM_EV_CONN_DELIVER,
	SIM_EV_CONN_CLOSED,
	SIM_EV_CONN_CLOSE_CB,
	SIM_EV_LISTENER_CLOSE_CB,
	SIM_EV_UDP_DELIVER,
	SIM_EV_UDP_CLOSE_CB,
	SIM_EV_STREAM_ACCEPT,
	SIM_EV_STREAM_DELIVER,
	SIM_EV_STREAM_DRAINED,
	SIM_EV_STREAM_CLOSED,
	SIM_EV_STREAM_CLOSE_CB,
	SIM_EV_SLISTENER_CLOSE_CB,
	SIM_EV_RESOLVE,
	SIM_EV_WORK,
};

struct sim_event;
typedef void (*sim_event_fn)(struct sim *s, struct sim_event *ev);

/* An event, embedded in the object it belongs to. It is queued at most
 * once; the owner removes it before freeing itself. */
struct sim_event {
	uint64_t time;
	uint64_t seq;           /* insertion number: ties fire in order */
	size_t slot;            /* heap index + 1; 0: not queued */
	int host;               /* whose callback; -1: the test side */
	int always;             /* fires on a dead host too (close cbs) */
	enum sim_kind kind;
	sim_event_fn fn;
};

/* A doubly linked list of objects, for iteration and sim_free(). */
struct sim_node {
	struct sim_node *prev, *next;
};

struct sim_host {
	struct io io;           /* io.impl points back to this host */
	struct sim *sim;
	int index;
	enum sim_host_state state;
	/* Events queued before the death are dropped; those the teardown
	 * queues after it (a closing component's 0 ms timer) still run, so
	 * that a dead node can be closed and freed. */
	uint64_t dead_seq;
	uint64_t paused_until;
	int64_t skew_ms;
	int group;
};

struct sim {
	uint64_t now;
	uint64_t rng;
	uint64_t seq;
	uint64_t trace;
	int n_hosts;
	struct sim_host hosts[SIM_HOSTS_MAX];
	struct sim_event **heap;
	size_t n_heap, cap_heap;
	uint32_t lat_min, lat_max, hold_max;
	unsigned udp_loss;
	size_t peak_queued;
	uint16_t next_port;
	/* Every live object, by type (sim_free frees what is left). */
	struct sim_node timers, conns, links, listeners, udps, streams,
		slisteners, resolves, works;
};

/* Events */
void sim_event_init(struct sim_event *ev, enum sim_kind kind, int host,
		    int always, sim_event_fn fn);
/* (Re)queues ev at time t (never earlier than now). */
void sim_event_at(struct sim *s, struct sim_event *ev, uint64_t t);
void sim_event_cancel(struct sim *s, struct sim_event *ev);
static inline int sim_event_queued(const struct sim_event *ev)
{
	return ev->slot != 0;
}
/* A latency drawn from the world's bounds. */
uint64_t sim_latency(struct sim *s);

/* Lists */
void sim_list_init(struct sim_node *head);
void sim_list_add(struct sim_node *head, struct sim_node *n);
void sim_list_del(struct sim_node *n);

static inline struct sim_host *sim_host_of(struct io *io)
{
	return io->impl;
}

/* Whether host a may reach host b now (both not dead, same group). */
int sim_reachable(const struct sim *s, int a, int b);
/* The host index of a 127.0.1.x address, or -1. */
int sim_addr_host(const struct sockaddr *addr, int *port);

/* Peer connections and listeners (sim_conn.c) */
extern const struct io_conn_ops sim_conn_ops;
int sim_io_listen(struct io *io, const struct io_peer_config *cfg,
		  const char *host, int port, io_accept_cb accept,
		  io_reject_cb reject, void *data, struct io_listener **out,
		  struct err *err);
int sim_io_listener_port(const struct io_listener *l);
void *sim_io_listener_data(const struct io_listener *l);
struct io_listener_stats sim_io_listener_stats(const struct io_listener *l);
void sim_io_listener_close(struct io_listener *l, io_listener_close_cb cb);
int sim_io_dial(struct io *io, const struct io_peer_config *cfg,
		const struct sockaddr *addr, const uint8_t *expected_server_key,
		struct io_conn **out, struct err *err);
/* Host died: its connections end for their peers, its listeners stop. */
void sim_conns_kill_host(struct sim *s, int host);
/* Connections across groups break. */
void sim_conns_partition(struct sim *s);
void sim_conns_free_all(struct sim *s);

/* Datagrams, resolution, work (sim_svc.c) */
int sim_io_udp_open(struct io *io, const struct io_udp_config *cfg,
		    io_udp_recv_cb recv, void *data, struct io_udp **out,
		    struct err *err);
void *sim_io_udp_data(const struct io_udp *u);
int sim_io_udp_send(struct io_udp *u, const uint8_t *buf, size_t len);
void sim_io_udp_close(struct io_udp *u, void (*cb)(void *arg), void *arg);
int sim_io_resolve(struct io *io, const char *host, const char *port,
		   io_resolve_cb cb, void *data, struct io_resolve **out,
		   struct err *err);
void *sim_io_resolve_data(const struct io_resolve *r);
void sim_io_resolve_cancel(struct io_resolve *r);
int sim_io_work(struct io *io, io_work_fn work, io_work_done_fn done,
		void *arg);
void sim_svc_free_all(struct sim *s);

/* Streams (sim_stream.c) */
int sim_io_stream_listen(struct io *io, const char *path,
			 io_stream_accept_cb accept, void *data,
			 struct io_stream_listener **out, struct err *err);
void *sim_io_stream_listener_data(const struct io_stream_listener *l);
void sim_io_stream_listener_close(struct io_stream_listener *l,
				  void (*cb)(void *arg), void *arg);
void sim_streams_kill_host(struct sim *s, int host);
void sim_streams_free_all(struct sim *s);

#endif
