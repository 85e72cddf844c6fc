/* SPDX-License-Identifier: MIT */
/*
 * net_int: what the files of a node's network side share (private to
 * src/node/). net.c starts, reloads and closes it; peer.c owns the
 * connections (dials, accepts, duplicates, closing); peer_msg.c what
 * goes over them (sends, the sync session's glue, HELLO, MEMBERS);
 * sched.c the paced rounds, the push after local writes, catch-up and
 * the tick (pings, member states, tombstone collection); live.c the
 * live stream (offers, flushes, lazy and graft timers); request.c
 * `rumorctl sync`; status.c what status, stats and peers report.
 */
#ifndef RUMOR_NODE_NET_INT_H
#define RUMOR_NODE_NET_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rumor.h"
#include "crypto/identity.h"
#include "discovery/announce.h"
#include "discovery/hostport.h"
#include "discovery/members.h"
#include "io/io.h"
#include "lib/err.h"
#include "lib/histogram.h"
#include "lib/prefixes.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "node/node_net.h"
#include "sync/pace.h"
#include "sync/sync.h"
#include "wire/wire.h"

#define NET_TICK_MS 500u              /* member states, catch-up, tombstones */
#define NET_GC_PER_TICK 256u          /* tombstones collected per tick */
#define NET_MEMBERS_GOSSIP_MAX 256u   /* members sent in one MEMBERS */
#define NET_HIGH_WATERMARK (1u << 20) /* pause streaming above this queue */
/* The hard cap on one peer's outgoing queue (io_conn_queued): a send
 * that would pass it closes the peer instead (REFUSE_QUEUE_FULL), so a
 * peer that stops reading holds at most this much of our memory. It is
 * the largest burst a legitimate peer can meet: the sync stream adds a
 * frame only while the queue is below NET_HIGH_WATERMARK, and one frame
 * is at most SYNC_FRAME_MAX (a maximal value is 1 MiB plus its key); the
 * DIGEST that opens a round is not held back by the watermark and may
 * be another frame; MEMBERS (at most NET_MEMBERS_GOSSIP_MAX entries,
 * about 30 KiB), HELLO, BYE, PING, PONG and ACKs are small, and MEMBERS
 * and PONGs wait while the queue is above the low-water mark
 * (io_conn.low_watermark). 1 MiB + 2 x 2 MiB + 1 MiB of slack. */
#define NET_QUEUE_CAP (NET_HIGH_WATERMARK + 2u * SYNC_FRAME_MAX + (1u << 20))
#define NET_PING_EVERY_MS 3000u       /* keepalive on a quiet connection */
#define NET_SKEW_WARN_MS 5000u        /* warn of a peer clock this far off */
#define NET_REDIAL_PER_TICK 8u        /* gone members redialed per tick */
/* Catch-up's receive rate is taken over the last this many ticks. */
#define NET_PROGRESS_SAMPLES 8u
#define NET_MEMBERS_FILE "members"    /* in the data dir: the member table */
/* Outbound connections (dialed, handshake not done) in flight at once;
 * more wait in the dial queue (net.c), which keeps NET_DIAL_QUEUE_MAX
 * for at most NET_DIAL_QUEUE_TTL_MS each. Announcements and gossip
 * trigger dials; a flood of them costs at most this many. */
#define NET_DIALS_MAX 8u
#define NET_DIAL_QUEUE_MAX 64u
#define NET_DIAL_QUEUE_TTL_MS 30000u

struct sync_request;
struct peer;
struct why_state;

/* filters.c: partial replication, the node's side. */
/* Whether this node's store holds every write it ever made (its HELLO's
 * WIRE_HELLO_SELF_COMPLETE). */
int net_self_complete(const struct node_net *net);
/* Sends our HELLO to p (once its identity is proven). */
void peer_send_hello(struct peer *p);
/* Sets h's FILTERS and SELF_COMPLETE bits and its replicate set, in
 * *buf (malloc'd, freed by the caller; NULL for a full node).
 * RUMOR_ENOMEM. */
int net_hello_filters(struct node_net *net, struct wire_hello *h,
		      uint8_t **buf, struct err *err);
/* The replicate set of a HELLO into out (empty, as zeroed; stays
 * empty for a full node's HELLO). RUMOR_EPROTO naming the problem for a
 * malformed or empty set, or one without the FILTERS bit; RUMOR_ENOMEM.
 * On error out is empty. */
int net_hello_replicate(const struct wire_hello *h, struct prefixes *out,
			struct err *err);
/* A peer's HELLO: its replicate set kept in p->repl and the session's
 * filters set. RUMOR_EPROTO for a bad set (nothing changed: the caller
 * drops the connection), RUMOR_ENOMEM. */
int peer_hello_filters(struct peer *p, const struct wire_hello *h,
		       struct err *err);
/* Whether p's last DIGEST says it holds seq of origin. */
int net_peer_has_seen(struct peer *p, const uint8_t *origin, uint64_t seq);
/* sched.c's tombstone_covered second stage (store_covered_key_cb). */
int net_tombstone_covered_key(void *arg, const uint8_t *origin,
			      uint64_t seq, const void *key, size_t len);

/* A dial waiting for a slot (net.c). */
struct net_dial {
	struct sockaddr_storage addr;
	uint8_t id[RUMOR_NODE_ID_BYTES];
	int has_id;                   /* 0: a seed, identity unknown */
	long seed;                    /* seed index, or -1 */
	int via_multicast;            /* an announcement: ann_* are set */
	char ann_host[MEMBER_HOST_MAX];
	uint16_t ann_port;
	uint32_t heard;               /* asked for this many times */
	uint64_t queued_ms;
};

/* One connection (dialed or accepted) and its sync session. */
struct peer {
	struct node_net *net;
	struct io_conn *conn;
	struct sync_session *sync;
	uint8_t id[RUMOR_NODE_ID_BYTES];
	char id_str[RUMOR_NODE_ID_STRLEN];
	long seed;                    /* seed index, or -1 */
	/* Dialed because of an announcement: where it said it listens. */
	int via_multicast;
	char ann_host[MEMBER_HOST_MAX];
	uint16_t ann_port;
	int outbound;
	int open;                     /* handshake done */
	int closed;                   /* io_conn_close called */
	int hello;                    /* its HELLO arrived */
	/* From its HELLO (filters.c): its replicate set (empty: every
	 * key), and whether it understands sets and is self-complete. */
	struct prefixes repl;
	int filters;
	int self_complete;
	int strong;                   /* its HELLO has WIRE_HELLO_STRONG */
	int why;                      /* its HELLO has WIRE_HELLO_WHY */
	int in_pump_list;
	int want_round;               /* local writes arrived mid-round */
	uint64_t last_heard_ms;       /* last message from it */
	uint64_t last_ping_ms;
	struct peer *next;            /* all peers */
	struct peer *next_pump;       /* peers with pending sync work */
};

struct node_net {
	struct rumor *n;
	struct io_peer_config io;     /* listener's and dials' */
	struct trusted_keys trusted;
	int have_trusted;

	struct io_listener *listener;
	char listen_host[HOSTPORT_HOST_MAX];
	int listen_port;

	struct multicast *mc;
	struct seeds *seeds;
	struct members members;
	struct pace pace;

	struct io_timer *round_timer;
	struct io_timer *tick_timer;
	/* Local writes are pushed to every connected peer on their own
	 * timer, limited only by the previous push (not by paced rounds,
	 * which remote applies also trigger). */
	struct io_timer *push_timer;
	uint64_t last_push_ms;
	int push_pending;
	/* Fires on the next loop turn while peers have sync work queued. */
	struct io_timer *pump_timer;
	struct peer *peers;
	struct peer *pump_list;
	/* Dials deferred by NET_DIALS_MAX; dial_timer runs them on the
	 * next loop turn after a slot may have freed. */
	struct net_dial dialq[NET_DIAL_QUEUE_MAX];
	size_t n_dialq;
	struct io_timer *dial_timer;
	struct sync_request *requests;
	struct why_state *why;        /* `rumorctl why` queries (why.c) */

	struct wire_decoder dec;
	struct wire_buf out;

	int catching_up;
	uint64_t catchup_deadline_ms;
	uint32_t catchup_wait_ms;     /* the bound (rumor_options) */
	/* Catch-up progress (sched.c): entries received before it began,
	 * the sum of what the digests of its exchanges said we lack, and
	 * samples of the received count (one a tick) for the rate. */
	uint64_t catchup_base;
	uint64_t catchup_expected;
	int catchup_told;             /* some digest came during catch-up */
	struct net_progress_sample {
		uint64_t ms, received;
	} catchup_samples[NET_PROGRESS_SAMPLES];
	size_t n_catchup_samples, next_catchup_sample;
	/* Who waits for catch-up to end (node_catchup_wait). */
	struct node_catchup_wait *catchup_waiters;

	/* Totals of closed connections; live ones are added on demand. */
	uint64_t bytes_in, bytes_out;
	uint64_t entries_sent, entries_received;
	/* The live stream: figures of closed sessions; the peer whose
	 * message is being applied (its versions are not offered back to
	 * it); offers made since the last flush; the graft timer. */
	struct sync_live_stats live_closed;
	struct peer *applying_from;
	int live_dirty;
	struct io_timer *live_timer;
	struct io_timer *lazy_timer;  /* IHAVEs go every SYNC_LIVE_LAZY_MS */
	/* Members the table could not take: peers refused (members_full)
	 * and gossip items dropped (members_quota, members_host,
	 * members_full), and addresses of connected peers not kept. */
	uint64_t members_refused;
	/* Everything refused from peers and the network, by reason
	 * (lib/refuse.h); count and log through net_refuse(). */
	struct refusals refused;
	/* Durations of complete sync rounds, in seconds (metrics). */
	struct histogram round_seconds;
	/* members.changes when DATA/members was last written (or read). */
	uint64_t members_saved;
	int members_save_failed;      /* logged; quiet until a save works */

	/* Closing: handles still to close before done(n). */
	int closing;
	unsigned open_handles;
	void (*on_closed)(struct rumor *n);
};

/* The io's monotonic ms. */
static inline uint64_t net_now_ms(struct node_net *net)
{
	return io_now_ms(net->n->io);
}

/* Counts a refusal (status shows it by reason) and logs it at WARN with
 * the detail, at most once per reason per REFUSE_LOG_INTERVAL_MS (the
 * next log says how many were not logged). status.c. */
void net_refuse(struct node_net *net, enum refuse_reason why,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes "HOST:PORT" (brackets around an IPv6 host) into buf. */
void net_format_addr(char *buf, size_t len, const char *host,
		     unsigned port);

/* ---- net.c */

/* Dials addr (expecting id when not NULL; seed index or -1), at once
 * when fewer than NET_DIALS_MAX outbound connections are in flight, or
 * else later: queued (one entry per id, or per seed), counted as
 * REFUSE_DIALS_DEFERRED, and run when a slot frees, the most asked-for
 * first. ann_host (may be NULL) and ann_port: where an announcement
 * said the node listens. Nothing when a connection to id exists. */
void net_dial(struct node_net *net, const struct sockaddr *addr,
	      const uint8_t *id, long seed, const char *ann_host,
	      uint16_t ann_port);
/* An outbound connection opened or closed: a slot may be free. Runs
 * the queue from the loop's next turn (never from inside the caller). */
void net_dials_kick(struct node_net *net);
/* multicast's on_peer: arg is the node_net. */
void net_on_announcement(void *arg, const struct announce *a,
			 const struct sockaddr *from);

/* Writes the member table to DATA/members (atomically) when it changed
 * since the last write; a failure is logged once and retried on the next
 * call. Blocks on fsync: call it from the tick, not per message. */
void net_members_save(struct node_net *net);

/* ---- peer.c */

/* An open, not closing connection to id other than except, or NULL. */
struct peer *peer_find_open(struct node_net *net, const uint8_t *id,
			    const struct peer *except);
/* Starts closing p (at most once): ends its session, updates the member
 * table, the pending requests and the seeds; p is freed from the loop. */
void peer_close(struct peer *p, int reason, const char *detail);
/* Dials a member at its address number addr (0: the best; past the
 * last: the best) unless a connection exists, through net_dial. 0, or
 * -1 when there is nothing to dial. */
int peer_dial_member(struct node_net *net, const struct member *m,
		     size_t addr);
/* p's frame came from a node the member table forgot (its connection
 * lived on): it enters the table again, connected. 0, or -1 when the
 * table cannot take it (p is closed then). */
int peer_readmit_member(struct peer *p, uint64_t now);
/* A dial to id is under way or done (a peer not closed). */
int peer_exists(struct node_net *net, const uint8_t *id);
/* Dials now, bypassing the cap (net_dial's): the new peer, or NULL
 * (a seed's failure reported). */
struct peer *peer_dial_now(struct node_net *net, const struct sockaddr *addr,
			   const uint8_t *expected, long seed);
/* Discovery and listener callbacks: arg / data is the node_net. */
void peer_on_seed_resolved(void *arg, size_t index, const char *seed,
			   const struct sockaddr *addr);
void peer_on_accept(struct io_listener *l, struct io_conn *c);
void peer_on_reject(struct io_listener *l, int reason, const char *detail);

/* ---- peer_msg.c */

/* Sends b's message and empties b; RUMOR_ECLOSED (or another code,
 * logged) when it cannot. A message that would take p's queue past
 * NET_QUEUE_CAP is not sent: p is closed (peer_close: the caller must
 * check p->closed before touching p->sync) and RUMOR_ECLOSED returned. */
int peer_send(struct peer *p, struct wire_buf *b);
/* Makes p->sync: a session over the node's store that sends on p->conn
 * and reports to p (peer_new). 0, or sync_session_new's code. */
int peer_sync_new(struct peer *p, struct err *err);
/* Sends MEMBERS and starts a reconciliation round on an open peer
 * (nothing when it is not ready). */
void peer_start_round(struct peer *p);
/* After a call into p's sync session that returned rv: a failure
 * closes p (logged), pending work schedules the pump. */
void peer_after_sync_call(struct peer *p, int rv, struct err *err);
/* net->pump_timer: runs the pending sync work of every peer queued for
 * it. */
void peer_pump_cb(struct io_timer *t);
/* p's connection handlers for a message and a drained queue (c->data
 * is the peer). */
void peer_on_message(struct io_conn *c, const uint8_t *msg, size_t len);
void peer_on_drained(struct io_conn *c);

/* ---- strong.c: PREPARE..ANSWER from p, and p closing (what waits on
 * it fails). */
void strong_on_message(struct peer *p, const struct wire_msg *m);
void strong_peer_closed(struct peer *p);

/* ---- why.c: `rumorctl why`: WHY_ASK and WHY_ANSWER from p; p
 * closing (what waits on it stops waiting); the state, made when the
 * network starts and ended (every query reported) when it closes. */
void why_on_message(struct peer *p, const struct wire_msg *m);
void why_peer_closed(struct peer *p);
int why_open(struct node_net *net);
void why_close(struct node_net *net);

/* ---- sched.c */

/* The timers of the schedule (t->data is the node_net). */
void sched_round_cb(struct io_timer *t);
void sched_push_cb(struct io_timer *t);
/* ---- live.c: the live stream's glue (node_net_on_change in
 * node_net.h). */
/* The graft timer of the live stream (sync_live_tick on every peer). */
void sched_live_cb(struct io_timer *t);
/* Arms it for SYNC_LIVE_GRAFT_MS unless it runs. */
void sched_live_arm(struct node_net *net);
/* The lazy timer: IHAVEs to every peer. */
void net_lazy_cb(struct io_timer *t);
/* Adds one session's live figures to a total (status.c). */
void live_stats_add(struct sync_live_stats *to,
		    const struct sync_live_stats *from);
/* Sends what the live offers since the last call coalesced. */
void net_live_flush(struct node_net *net);
void sched_tick_cb(struct io_timer *t);
/* Starts the tick and the first round; net's timers exist. */
void sched_start(struct node_net *net);
/* (Re)arms the round timer for the pace's next round. */
void sched_round(struct node_net *net);
/* Ends catch-up when every connected peer completed an exchange or the
 * wait is over. */
void sched_catchup_check(struct node_net *net);
/* Starts catch-up for up to wait_ms (0: none). */
void sched_catchup_start(struct node_net *net, uint32_t wait_ms);
/* A peer's DIGEST during catch-up: what it says we lack is expected. */
void sched_catchup_digest(struct node_net *net, const struct store_hwm *hwms,
			  size_t n);
/* The catch-up figures of struct rumor_stats (version 5). */
void sched_catchup_progress(struct node_net *net, struct rumor_stats *st);
/* Calls every catch-up waiter (catch-up ended, or the node closes). */
void sched_catchup_wake(struct node_net *net);

/* ---- status.c */

/* Entries received from peers so far, rounds (those running included)
 * and live. */
uint64_t net_entries_received(struct node_net *net);

/* ---- request.c */

/* The exchange with id ended: complete (st) or cut (NULL). Finishes
 * the requests that no longer wait for anyone. */
void request_peer_ended(struct node_net *net, const uint8_t *id,
			const struct sync_round_stats *st);
/* Finishes every pending request now (closing). */
void request_finish_all(struct node_net *net);

#endif
