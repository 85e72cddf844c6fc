/* SPDX-License-Identifier: MIT */
/*
 * sched: when a node reconciles. Paced rounds with a few members, a push
 * to every connected peer after local writes, catch-up before local
 * writes, and the tick: pings on quiet connections, member states,
 * redials of gone members, saving the member table, tombstone
 * collection.
 */
#include <string.h>

#include "node/net_int.h"

/* ------------------------------------------------------------ rounds */

void sched_round(struct node_net *net)
{
	uint64_t now = net_now_ms(net);
	uint64_t next = pace_next_round_ms(&net->pace);

	if (net->closing)
		return;
	io_timer_start(net->round_timer, next > now ? next - now : 0, 0);
}

void sched_round_cb(struct io_timer *t)
{
	struct node_net *net = t->data;
	uint8_t ids[PACE_PEERS_MAX * 4][RUMOR_NODE_ID_BYTES];
	uint64_t now = net_now_ms(net);
	unsigned k;
	size_t i, n;
	struct peer *p;

	if (!pace_round_due(&net->pace, now)) {
		sched_round(net);
		return;
	}
	pace_round_started(&net->pace, now);
	k = pace_peers_per_round(&net->pace, now);
	if (k > sizeof ids / sizeof ids[0])
		k = sizeof ids / sizeof ids[0];
	n = members_choose(&net->members, k, ids);
	for (i = 0; i < n; i++) {
		p = peer_find_open(net, ids[i], NULL);
		if (p != NULL)
			peer_start_round(p);
		else
			peer_dial_member(net, members_find(&net->members, ids[i]),
					 0);
	}
	sched_round(net);
}

/* After local writes, every connected peer hears of them now rather
 * than when its turn comes: one hop for a connected cluster. A peer on
 * the live stream has them already (node_net_on_change); the others (a
 * node without the live capability, or one whose first round has not
 * completed) get a round. */
void sched_push_cb(struct io_timer *t)
{
	struct node_net *net = t->data;
	struct peer *p;

	net->push_pending = 0;
	net->last_push_ms = net_now_ms(net);
	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || !p->hello || p->sync == NULL)
			continue;
		if (sync_live_ready(p->sync))
			continue;
		if (sync_session_busy(p->sync))
			p->want_round = 1;
		else
			peer_start_round(p);
	}
}

void node_net_note_writes(struct rumor *n, uint64_t count, int local)
{
	struct node_net *net = n->net;
	uint64_t now, due;

	if (net == NULL || net->closing)
		return;
	if (local)
		net_live_flush(net);
	now = net_now_ms(net);
	pace_writes(&net->pace, now, count);
	sched_round(net);
	if (local && !net->push_pending) {
		due = now + net->pace.cfg.kick_delay_ms;
		if (due < net->last_push_ms + net->pace.cfg.min_interval_ms)
			due = net->last_push_ms + net->pace.cfg.min_interval_ms;
		net->push_pending = 1;
		io_timer_start(net->push_timer, due - now, 0);
	}
}

/* ------------------------------------------------------------ tick */

/* A tombstone (origin, seq) may go once every member in the table has
 * told us (in its last digest) that it holds seq of origin. A partial
 * member (a replicate set) that has not is asked about by key: when the
 * tombstone's key is outside its set it never needs it (filters.c,
 * STORE_COVERED_KEY). A cluster of full nodes never reads a key here. */
static int tombstone_covered(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct node_net *net = arg;
	int depends = 0;
	size_t i;

	if (members_count(&net->members) == 0)
		return 0;
	for (i = 0; i < members_count(&net->members); i++) {
		const struct member *m = members_at(&net->members, i);
		struct peer *p = peer_find_open(net, m->id, NULL);

		if (p == NULL || p->sync == NULL)
			return 0;
		if (net_peer_has_seen(p, origin, seq))
			continue;
		if (p->repl.n == 0)
			return 0;
		depends = 1;
	}
	/* A strong write's intent holds a copy of a version that may be
	 * older than this tombstone (a late yes vote, an intent recovered by
	 * ASK): applied after the tombstone went, it would bring the key
	 * back. So while intents are held the key decides
	 * (net_tombstone_covered_key keeps the tombstones of locked keys). */
	if (store_intents_count(net->n->store) > 0)
		return STORE_COVERED_KEY;
	return depends ? STORE_COVERED_KEY : 1;
}

/* ------------------------------------------------------------ catch-up */

void sched_catchup_start(struct node_net *net, uint32_t wait_ms)
{
	uint64_t now = net_now_ms(net);

	net->catching_up = wait_ms > 0;
	net->catchup_deadline_ms = now + wait_ms;
	if (!net->catching_up)
		return;
	net->catchup_base = net_entries_received(net);
	net->catchup_expected = 0;
	net->catchup_told = 0;
	net->catchup_samples[0].ms = now;
	net->catchup_samples[0].received = 0;
	net->n_catchup_samples = 1;
	net->next_catchup_sample = 1;
	node_log(net->n, RUMOR_LOG_INFO,
		 "catching up with peers for up to %u ms before accepting writes",
		 wait_ms);
}

/* Each exchange streams us what its peer holds above the HWMs of our
 * DIGEST, which are ours now: its lack adds to what is expected, as
 * its entries add to what is received (two peers may both send an
 * entry: both counts have it). An upper bound, the logs being
 * compacted. */
void sched_catchup_digest(struct node_net *net, const struct store_hwm *hwms,
			  size_t n)
{
	uint64_t ours, lack = 0;
	size_t i;

	if (!net->catching_up)
		return;
	for (i = 0; i < n; i++) {
		ours = store_hwm(net->n->store, hwms[i].origin);
		if (hwms[i].seq > ours)
			lack += hwms[i].seq - ours;
	}
	net->catchup_told = 1;
	net->catchup_expected = lack > UINT64_MAX - net->catchup_expected
		? UINT64_MAX - 1 : net->catchup_expected + lack;
}

/* One sample of the received count a tick: the rate is taken over the
 * last NET_PROGRESS_SAMPLES. */
static void catchup_sample(struct node_net *net)
{
	struct net_progress_sample *s;

	s = &net->catchup_samples[net->next_catchup_sample];
	s->ms = net_now_ms(net);
	s->received = net_entries_received(net) - net->catchup_base;
	net->next_catchup_sample = (net->next_catchup_sample + 1) %
				   NET_PROGRESS_SAMPLES;
	if (net->n_catchup_samples < NET_PROGRESS_SAMPLES)
		net->n_catchup_samples++;
}

void sched_catchup_progress(struct node_net *net, struct rumor_stats *st)
{
	const struct net_progress_sample *oldest;
	uint64_t now = net_now_ms(net);
	size_t at;

	st->catchup_wait_ms = net->catchup_wait_ms;
	if (!net->catching_up)
		return;
	st->catchup_received = net_entries_received(net) - net->catchup_base;
	st->catchup_expected = net->catchup_told ? net->catchup_expected
						 : UINT64_MAX;
	at = net->n_catchup_samples < NET_PROGRESS_SAMPLES
		? 0 : net->next_catchup_sample;
	oldest = &net->catchup_samples[at];
	if (now > oldest->ms && st->catchup_received >= oldest->received)
		st->catchup_rate = (double)(st->catchup_received -
					    oldest->received) * 1000.0 /
				   (double)(now - oldest->ms);
	st->catchup_eta_ms = UINT64_MAX;
	if (net->catchup_told && st->catchup_received >= net->catchup_expected)
		st->catchup_eta_ms = 0;
	else if (net->catchup_told && st->catchup_rate > 0.0)
		st->catchup_eta_ms = (uint64_t)((double)(net->catchup_expected -
							 st->catchup_received) *
						1000.0 / st->catchup_rate);
}

void sched_catchup_wake(struct node_net *net)
{
	struct node_catchup_wait *w;

	/* Each is unlinked before its call, which may register or cancel
	 * others. */
	while ((w = net->catchup_waiters) != NULL) {
		net->catchup_waiters = w->next;
		if (w->next != NULL)
			w->next->prev = NULL;
		w->next = w->prev = NULL;
		w->linked = 0;
		w->done(w);
	}
}

static void catchup_end(struct node_net *net, const char *why)
{
	if (!net->catching_up)
		return;
	net->catching_up = 0;
	node_log(net->n, RUMOR_LOG_INFO, "accepting local writes: %s", why);
	sched_catchup_wake(net);
}

void sched_catchup_check(struct node_net *net)
{
	struct peer *p;
	int busy = 0, open = 0;

	if (!net->catching_up)
		return;
	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || p->sync == NULL)
			continue;
		open++;
		if (sync_session_rounds(p->sync) == 0 || sync_session_busy(p->sync))
			busy++;
	}
	if (open > 0 && busy == 0)
		catchup_end(net, "caught up with every connected peer");
	else if (net_now_ms(net) >= net->catchup_deadline_ms)
		catchup_end(net, open == 0
			? "no peer answered within the catch-up wait"
			: "the catch-up wait is over before every peer completed an exchange");
}

/* A quiet connection is pinged, so that the member stays alive while
 * it answers and turns suspect when it does not. */
static void ping_quiet_peers(struct node_net *net, uint64_t now)
{
	struct peer *p;
	struct err err;

	for (p = net->peers; p != NULL; p = p->next) {
		if (!p->open || p->closed || !p->hello)
			continue;
		if (now - p->last_heard_ms < NET_PING_EVERY_MS ||
		    now - p->last_ping_ms < NET_PING_EVERY_MS)
			continue;
		p->last_ping_ms = now;
		err_clear(&err);
		if (wire_encode_ping(&net->out, now, &err) == 0)
			peer_send(p, &net->out);
	}
}

/* Gone members (also those remembered from before a restart) are not
 * chosen for rounds, but still dialed with a backoff: when two nodes
 * lost each other at once, nobody else brings them back together. */
static void redial_gone(struct node_net *net)
{
	uint8_t ids[NET_REDIAL_PER_TICK][RUMOR_NODE_ID_BYTES];
	size_t n;

	/* Randomness only when it can be used: a simulated cluster's
	 * schedules stay as they were while nobody is gone. */
	if (members_count_state(&net->members, MEMBER_GONE) == 0)
		return;
	n = members_redial(&net->members, net_now_ms(net),
			   io_random(net->n->io, UINT32_MAX),
			   NET_REDIAL_PER_TICK, ids);
	for (size_t i = 0; i < n; i++) {
		const struct member *m = members_find(&net->members, ids[i]);

		peer_dial_member(net, m, m->redial_addr);
	}
}

void sched_tick_cb(struct io_timer *t)
{
	struct node_net *net = t->data;
	size_t removed = 0;
	struct err err;

	ping_quiet_peers(net, net_now_ms(net));
	members_tick(&net->members, net_now_ms(net));
	redial_gone(net);
	net_members_save(net);
	if (net->catching_up)
		catchup_sample(net);
	sched_catchup_check(net);
	err_clear(&err);
	if (!net->catching_up)
		store_collect_tombstones_keyed(net->n->store,
					       tombstone_covered,
					       net_tombstone_covered_key, net,
					       NET_GC_PER_TICK, &removed,
					       &err);
	if (removed > 0)
		node_log(net->n, RUMOR_LOG_DEBUG, "collected %zu tombstones",
			 removed);
}


void sched_start(struct node_net *net)
{
	io_timer_start(net->tick_timer, NET_TICK_MS, NET_TICK_MS);
	sched_round(net);
}
