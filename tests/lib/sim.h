/* SPDX-License-Identifier: MIT */
/*
 * sim: a simulated world for the io vtable (src/io/io.h): one thread,
 * virtual time in ms, one seeded PRNG, one event queue ordered by (time,
 * insertion number). Nothing here touches the OS network or clock, so a
 * run replays exactly from its seed.
 *
 * The world has N hosts. Host i has its own struct io (sim_host_io()),
 * the virtual address 127.0.1.<i+1>, a wall-clock skew and a state:
 *  - up;
 *  - paused (silent): until a given time nothing is delivered to it and
 *    none of its callbacks (timers included) fire; they run, in order,
 *    when it resumes, as a stopped process would;
 *  - dead (the process died): every callback of its io due at the
 *    death is dropped, except close callbacks and work completions; what
 *    its owner starts after the death (closing it: a close callback, a
 *    0 ms timer) still runs, so that the node can be closed and freed.
 *    Its peers see their connections end.
 *
 * Peer connections carry whole messages: there is no handshake, but the
 * outcomes are those of the real one (RUMOR_ENET for no listener or a
 * partition, RUMOR_EAUTH for a wrong network key, an untrusted identity
 * or an unexpected server key, RUMOR_ETIMEDOUT for a silent server).
 * Messages arrive in per-connection FIFO order after a seeded latency.
 * Each message counts CHANNEL_OVERHEAD extra bytes on the wire, as a
 * sealed frame would; byte offsets (cuts) and queued() count those.
 *
 * Faults: cut a connection at a byte offset of one direction; partitions
 * (groups of hosts) that heal; extra per-connection delays (held
 * messages, FIFO kept); paused hosts; skewed wall clocks; killed hosts,
 * revived later for a fresh process on the same host.
 *
 * Determinism: every event that fires is folded into a trace hash
 * (sim_trace_hash()); the same seed and the same users give the same
 * hash.
 */
#ifndef RUMOR_TESTS_SIM_H
#define RUMOR_TESTS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "io/io.h"
#include "lib/err.h"

#define SIM_HOSTS_MAX 64
/* The wall clock of every host starts here (2026-01-01), plus its skew. */
#define SIM_EPOCH_MS UINT64_C(1767225600000)

struct sim;

enum sim_host_state {
	SIM_HOST_UP = 0,
	SIM_HOST_PAUSED,
	SIM_HOST_DEAD,
};

/* A world of n_hosts (1..SIM_HOSTS_MAX) hosts, all up, at virtual time
 * 0, with the given seed. Connection latency starts at 1..10 ms. */
int sim_new(struct sim **out, uint64_t seed, int n_hosts, struct err *err);
/* Frees the world and whatever its users left open (their callbacks do
 * not fire). */
void sim_free(struct sim *s);

/* Host i's io: valid until sim_free(), across kills and revivals. */
struct io *sim_host_io(struct sim *s, int host);
/* "127.0.1.<host+1>" into buf (at least 16 bytes). */
void sim_host_addr(int host, char *buf, size_t len);

/* ------------------------------------------------------------ time */

uint64_t sim_now(const struct sim *s);
/* Runs the next event. 1: one ran (or was dropped for a dead host); 0:
 * the queue is empty. */
int sim_step(struct sim *s);
/* Runs every event due at or before t, then sets the time to t (if it
 * is later than now). */
void sim_run_until(struct sim *s, uint64_t t);
/* Runs until cond(arg) is nonzero (checked before each event) or the
 * time would pass deadline. Returns 1 when cond held. */
int sim_run_while_not(struct sim *s, int (*cond)(void *arg), void *arg,
		      uint64_t deadline);
/* Time of the next event (UINT64_MAX: none). */
uint64_t sim_next_time(const struct sim *s);
/* Events waiting (for tests of the simulator itself). */
size_t sim_pending(const struct sim *s);

/* The world PRNG (the one io_random draws from): uniform 64 bits, and
 * uniform in [0, upper) for upper > 0. */
uint64_t sim_rand(struct sim *s);
uint32_t sim_below(struct sim *s, uint32_t upper);

/* A hash of every event that fired so far: kind, time, host. */
uint64_t sim_trace_hash(const struct sim *s);
/* Folds a value of the user's into the trace hash. */
void sim_trace_mix(struct sim *s, uint64_t x);

/* ------------------------------------------------------------ faults */

/* Latency of each message and connection step: uniform in [min, max]
 * ms (min >= 1). */
void sim_set_latency(struct sim *s, uint32_t min_ms, uint32_t max_ms);
/* New connections hold each message back by an extra delay uniform in
 * [0, hold) where hold is drawn per connection in [0, max_ms]; FIFO is
 * kept. 0: no holding (the default). */
void sim_set_hold(struct sim *s, uint32_t max_ms);
/* Holds back every later message of c's connection (both directions) by
 * up to extra_ms more. */
void sim_conn_hold(struct io_conn *c, uint32_t extra_ms);
/* Ends all holding (every connection's, and new ones': set_hold 0) and
 * every cut planned and not yet reached. */
void sim_calm(struct sim *s);
/* Datagrams are lost with probability percent/100. */
void sim_set_udp_loss(struct sim *s, unsigned percent);
/* Hands buf to every open datagram socket of host to, as if host from
 * had sent it (its address is the source), now plus a latency, with the
 * given destination and on-link verdicts (sim_io_udp_send's datagrams
 * are to the group and on-link): for tests of what a node drops.
 * Returns the number of sockets it was queued for. */
int sim_udp_inject(struct sim *s, int to, int from, const uint8_t *buf,
		   size_t len, int to_group, int on_link);

/* Host's wall clock runs skew_ms ahead (or behind) of the others. */
void sim_set_skew(struct sim *s, int host, int64_t skew_ms);

enum sim_host_state sim_host_state(const struct sim *s, int host);
/* Silences host until now + ms (up hosts only; extends a pause). */
void sim_pause(struct sim *s, int host, uint64_t ms);
/* The host's process dies: see the header comment. */
void sim_kill(struct sim *s, int host);
/* A dead host comes back up, for a new process (whose old objects must
 * all be closed by now). */
void sim_revive(struct sim *s, int host);

/* Partitions: group[i] for each host; hosts talk only within a group.
 * Connections across groups break now (both ends: RUMOR_ENET after a
 * latency), dials and datagrams across fail. */
void sim_partition(struct sim *s, const int *group);
/* Everyone in one group again. */
void sim_heal(struct sim *s);
int sim_host_group(const struct sim *s, int host);

/* Peer connection ends that are not closed by their owner, in creation
 * order: for faults. */
size_t sim_conn_count(const struct sim *s);
struct io_conn *sim_conn_at(const struct sim *s, size_t i);
/* Which host holds this end (-1 if c is not a sim connection). */
int sim_conn_host(const struct io_conn *c);
/* Bytes c has sent so far (CHANNEL_OVERHEAD per message included). */
uint64_t sim_conn_sent(const struct io_conn *c);
/* Cuts c's connection at byte offset at of the stream c sends: messages
 * that end at or before the offset are delivered, the rest (those sent
 * later too) are lost, and then both ends see handlers.closed with
 * RUMOR_ENET. An offset already passed cuts now. */
void sim_conn_cut(struct io_conn *c, uint64_t at);
/* Peak of io_conn_queued() over every connection so far. */
size_t sim_peak_queued(const struct sim *s);

/* ------------------------------------------------------------ streams */

/* Connects the test side to the stream listener at path, as a client
 * that is not on any host (never paused or killed). Writes are delivered
 * to the listener's side in random chunks. RUMOR_ENET when nothing
 * listens there. Close it with io_stream_close(). */
int sim_stream_connect(struct sim *s, const char *path,
		       const struct io_stream_handlers *h, void *data,
		       struct io_stream **out, struct err *err);

#endif
