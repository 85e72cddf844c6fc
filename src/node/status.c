/* SPDX-License-Identifier: MIT */
/*
 * status: what a node's network side reports: status, stats, the peers
 * listing, and whether local writes wait for catch-up.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "discovery/multicast.h"
#include "node/net_int.h"

/* ------------------------------------------------------------ status */

void net_format_addr(char *buf, size_t len, const char *host, unsigned port)
{
	if (strchr(host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
}

void net_refuse(struct node_net *net, enum refuse_reason why,
		const char *fmt, ...)
{
	char detail[256];
	uint64_t quiet = 0;
	va_list ap;

	if (!refuse_note(&net->refused, why, net_now_ms(net), &quiet))
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (quiet > 0)
		node_log(net->n, RUMOR_LOG_WARN, "refused (%s): %s; %llu more "
			 "not logged", refuse_name(why), detail,
			 (unsigned long long)quiet);
	else
		node_log(net->n, RUMOR_LOG_WARN, "refused (%s): %s",
			 refuse_name(why), detail);
}

/* The state a member is shown in. The table makes a member learned by
 * gossip alive (so that it is dialed and, until forgotten, holds back
 * tombstone collection), but nobody here has heard from it: it shows
 * as never contacted, and once its time ran out without an answer, as
 * unreachable. A member remembered from before a restart was known
 * first hand: its own state. */
static int heard_from(const struct member *m)
{
	return m->last_contact_ms != 0 || m->connected || m->remembered;
}

static const char *peer_state_name(const struct member *m)
{
	if (heard_from(m))
		return member_state_name(m->state);
	return m->state == MEMBER_GONE ? "unreachable" : "never-contacted";
}

/* Members in state s that were heard from (see peer_state_name). */
static uint64_t count_contacted(struct node_net *net, enum member_state s)
{
	uint64_t c = 0;

	for (size_t i = 0; i < members_count(&net->members); i++) {
		const struct member *m = members_at(&net->members, i);

		if (m->state == s && heard_from(m))
			c++;
	}
	return c;
}

/* The announcement drops that happened, by reason name. */
static void node_net_dropped(struct node_net *net, struct ctl_status *st)
{
	struct multicast_stats ms;
	int r;

	st->n_dropped = 0;
	if (net->mc == NULL)
		return;
	multicast_stats(net->mc, &ms);
	for (r = 0; r < ANNOUNCE_REASON_COUNT; r++) {
		struct ctl_dropped *d;

		if (r == ANNOUNCE_OK || ms.dropped[r] == 0 ||
		    st->n_dropped == CTL_DROPPED_MAX)
			continue;
		d = &st->dropped[st->n_dropped++];
		snprintf(d->name, sizeof d->name, "%s",
			 announce_reason_name((enum announce_reason)r));
		d->count = ms.dropped[r];
	}
}

void node_net_status(struct rumor *n, struct ctl_status *st)
{
	struct node_net *net = n->net;

	if (net == NULL)
		return;
	if (net->listener != NULL) {
		net_format_addr(st->listen, sizeof st->listen,
				net->listen_host, (unsigned)net->listen_port);
	}
	st->catchup_left_ms = net->catching_up && net->catchup_deadline_ms > net_now_ms(net)
				      ? net->catchup_deadline_ms - net_now_ms(net)
				      : 0;
	st->peers_known = members_count(&net->members);
	/* As `peers` shows them: a member never contacted is neither. */
	st->peers_alive = count_contacted(net, MEMBER_ALIVE);
	st->peers_suspect = count_contacted(net, MEMBER_SUSPECT);
	st->members_refused = net->members_refused;
	memcpy(st->refused, net->refused.n, sizeof st->refused);
	node_net_dropped(net, st);
	if (net->listener != NULL) {
		/* The listener's caps count in io (io_listener_stats). */
		struct io_listener_stats ls =
			n->io->ops->listener_stats(net->listener);

		st->refused[REFUSE_HANDSHAKES_TOTAL] += ls.refused_handshakes_total;
		st->refused[REFUSE_HANDSHAKES_SOURCE] += ls.refused_handshakes_source;
		st->refused[REFUSE_CONNECTIONS] += ls.refused_connections;
		st->refused[REFUSE_DESCRIPTORS] += ls.refused_descriptors;
	}
	for (struct peer *p = net->peers; p != NULL; p = p->next)
		if (p->open && !p->closed)
			st->peers_connected++;
}

void live_stats_add(struct sync_live_stats *to,
		    const struct sync_live_stats *from)
{
	to->entries_sent += from->entries_sent;
	to->frames_sent += from->frames_sent;
	to->lazy_sent += from->lazy_sent;
	to->entries_received += from->entries_received;
	to->entries_applied += from->entries_applied;
	to->duplicates += from->duplicates;
	to->raised += from->raised;
	to->lost += from->lost;
	to->prunes_sent += from->prunes_sent;
	to->grafts_sent += from->grafts_sent;
}

uint64_t net_entries_received(struct node_net *net)
{
	struct sync_live_stats live = net->live_closed;
	uint64_t total = net->entries_received;
	struct peer *p;

	for (p = net->peers; p != NULL; p = p->next) {
		if (p->sync == NULL)
			continue;
		live_stats_add(&live, sync_live_stats(p->sync));
		if (sync_session_busy(p->sync))
			total += sync_session_stats(p->sync)->entries_received;
	}
	return total + live.entries_received;
}

void node_net_stats(struct rumor *n, struct rumor_stats *st)
{
	struct sync_live_stats live;
	struct node_net *net = n->net;
	struct multicast_stats ms;
	uint64_t now;
	struct peer *p;
	int r;

	if (net == NULL)
		return;
	now = net_now_ms(net);
	st->velocity = pace_velocity(&net->pace, now);
	st->interval_ms = (uint32_t)pace_interval_ms(&net->pace, now);
	st->peers_alive = (uint32_t)members_count_state(&net->members,
							MEMBER_ALIVE);
	st->catching_up = net->catching_up;
	st->bytes_in = net->bytes_in;
	st->bytes_out = net->bytes_out;
	st->entries_sent = net->entries_sent;
	st->entries_received = net->entries_received;
	live = net->live_closed;
	for (p = net->peers; p != NULL; p = p->next) {
		st->bytes_in += p->conn->stats.bytes_in;
		st->bytes_out += p->conn->stats.bytes_out;
		if (p->sync != NULL)
			live_stats_add(&live, sync_live_stats(p->sync));
		if (p->sync != NULL && sync_session_busy(p->sync)) {
			const struct sync_round_stats *rs =
				sync_session_stats(p->sync);
			st->entries_sent += rs->entries_sent;
			st->entries_received += rs->entries_received;
		}
	}
	/* Entries moved count both ways of moving them; live_* say how
	 * many went live. */
	st->entries_sent += live.entries_sent;
	st->entries_received += live.entries_received;
	st->live_sent = live.entries_sent;
	st->live_received = live.entries_received;
	st->live_duplicates = live.duplicates;
	st->live_lost = live.lost;
	st->live_grafts = live.grafts_sent;
	if (net->mc != NULL) {
		multicast_stats(net->mc, &ms);
		for (r = 0; r < ANNOUNCE_REASON_COUNT; r++)
			if (r != ANNOUNCE_OK)
				st->announcements_dropped += ms.dropped[r];
	}
	sched_catchup_progress(net, st);
}

size_t node_peers(struct rumor *n, struct ctl_peer_info *out, size_t max)
{
	struct node_net *net = n->net;
	uint64_t now;
	size_t i, total;

	if (net == NULL)
		return 0;
	now = net_now_ms(net);
	total = members_count(&net->members);
	for (i = 0; i < total && i < max; i++) {
		const struct member *m = members_at(&net->members, i);
		struct ctl_peer_info *o = &out[i];

		if (m == NULL)
			break;
		memset(o, 0, sizeof *o);
		memcpy(o->id, m->id, RUMOR_NODE_ID_BYTES);
		identity_id_string(m->id, o->id_str);
		if (m->n_addrs > 0) {
			net_format_addr(o->address, sizeof o->address,
					m->addrs[0].host, m->addrs[0].port);
		}
		o->learned = member_source_name(m->learned_via);
		o->state = peer_state_name(m);
		o->connected = m->connected;
		o->last_contact_ago_ms = m->last_contact_ms ? now - m->last_contact_ms
							    : UINT64_MAX;
		o->last_sync_ago_ms = m->last_sync_ms ? now - m->last_sync_ms
						      : UINT64_MAX;
		o->lag = m->lag;
	}
	return total;
}

int node_catchup_left(struct rumor *n, uint64_t *left_ms)
{
	struct node_net *net = n->net;
	uint64_t now;

	*left_ms = 0;
	if (net == NULL || !net->catching_up)
		return 0;
	now = net_now_ms(net);
	*left_ms = net->catchup_deadline_ms > now ? net->catchup_deadline_ms - now
						  : 0;
	return 1;
}

int node_catchup_wait(struct rumor *n, struct node_catchup_wait *w)
{
	struct node_net *net = n->net;

	assert(!w->linked);
	if (net == NULL || !net->catching_up || net->closing)
		return 0;
	w->prev = NULL;
	w->next = net->catchup_waiters;
	if (w->next != NULL)
		w->next->prev = w;
	net->catchup_waiters = w;
	w->linked = 1;
	return 1;
}

void node_catchup_wait_cancel(struct rumor *n, struct node_catchup_wait *w)
{
	struct node_net *net;

	/* Not waiting: n is not touched (it may be gone). */
	if (!w->linked)
		return;
	net = n->net;
	if (net == NULL)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		net->catchup_waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->linked = 0;
}

int node_net_refuses_writes(struct rumor *n, struct err *err)
{
	struct node_net *net = n->net;

	if (net != NULL && net->catching_up)
		return err_set(err, RUMOR_EREFUSED,
			       "catching up with peers before accepting writes (%llu ms left at most)",
			       (unsigned long long)(net->catchup_deadline_ms > net_now_ms(net)
						    ? net->catchup_deadline_ms - net_now_ms(net)
						    : 0));
	return 0;
}

