/* SPDX-License-Identifier: MIT */
/* members: the member table (rules in members.h). */
#include "discovery/members.h"
#include "discovery/members_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *member_state_name(enum member_state s)
{
	switch (s) {
	case MEMBER_ALIVE:
		return "alive";
	case MEMBER_SUSPECT:
		return "suspect";
	case MEMBER_GONE:
		return "gone";
	}
	return "unknown";
}

const char *member_source_name(enum member_source s)
{
	switch (s) {
	case MEMBER_VIA_MULTICAST:
		return "multicast";
	case MEMBER_VIA_SEED:
		return "seed";
	case MEMBER_VIA_PEER:
		return "peer";
	case MEMBER_VIA_GOSSIP:
		return "gossip";
	}
	return "unknown";
}

bool members__source_is_direct(enum member_source s)
{
	return s != MEMBER_VIA_GOSSIP;
}

int members_init(struct members *t,
		 const uint8_t self_id[static MEMBER_ID_BYTES],
		 const struct members_config *cfg, struct err *err)
{
	struct members_config c = { 0 };

	if (cfg != NULL)
		c = *cfg;
	if (c.suspect_after_ms == 0)
		c.suspect_after_ms = MEMBERS_SUSPECT_AFTER_MS_DEFAULT;
	if (c.gone_after_ms == 0)
		c.gone_after_ms = MEMBERS_GONE_AFTER_MS_DEFAULT;
	if (c.forget_after_ms == 0)
		c.forget_after_ms = MEMBERS_FORGET_AFTER_MS_DEFAULT;
	if (c.max_members == 0)
		c.max_members = MEMBERS_MAX_DEFAULT;
	if (c.gossip_max == 0)
		c.gossip_max = c.max_members / 2 > 0 ? c.max_members / 2 : 1;
	if (c.gossip_max > c.max_members)
		c.gossip_max = c.max_members;
	if (c.gossip_per_msg == 0)
		c.gossip_per_msg = MEMBERS_GOSSIP_PER_MSG_DEFAULT;
	if (c.gossip_burst == 0)
		c.gossip_burst = MEMBERS_GOSSIP_BURST_DEFAULT;
	if (c.gossip_refill_ms == 0)
		c.gossip_refill_ms = MEMBERS_GOSSIP_REFILL_MS_DEFAULT;
	if (!(c.suspect_after_ms < c.gone_after_ms &&
	      c.gone_after_ms < c.forget_after_ms))
		return err_set(err, RUMOR_EINVAL,
			       "member timeouts must increase: suspect %llu ms "
			       "< gone %llu ms < forget %llu ms",
			       (unsigned long long)c.suspect_after_ms,
			       (unsigned long long)c.gone_after_ms,
			       (unsigned long long)c.forget_after_ms);
	memset(t, 0, sizeof *t);
	memcpy(t->self_id, self_id, MEMBER_ID_BYTES);
	t->cfg = c;
	return 0;
}

void members_free(struct members *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

struct member *members__find_mut(const struct members *t,
				 const uint8_t id[MEMBER_ID_BYTES])
{
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(t->v[i].id, id, MEMBER_ID_BYTES) == 0)
			return &t->v[i];
	return NULL;
}

const struct member *members_find(const struct members *t,
				  const uint8_t id[static MEMBER_ID_BYTES])
{
	return members__find_mut(t, id);
}

size_t members_count_state(const struct members *t, enum member_state s)
{
	size_t c = 0;

	for (size_t i = 0; i < t->n; i++)
		c += t->v[i].state == s;
	return c;
}

static void set_state(struct members *t, struct member *m,
		      enum member_state s, uint64_t now_ms)
{
	enum member_state old = m->state;

	if (old == s)
		return;
	m->state = s;
	m->state_since_ms = now_ms;
	if (t->cfg.on_change != NULL)
		t->cfg.on_change(t->cfg.change_arg, m, old, false);
}

static void contact(struct members *t, struct member *m, uint64_t now_ms)
{
	if (now_ms > m->last_contact_ms)
		m->last_contact_ms = now_ms;
	m->next_dial_ms = 0;
	m->dial_backoff_ms = 0;
	m->redials = 0;
	set_state(t, m, MEMBER_ALIVE, now_ms);
}

/* Address order: direct before gossip, then most recently stated. */
static bool addr_better(const struct member_addr *a,
			const struct member_addr *b)
{
	bool da = members__source_is_direct(a->source), db = members__source_is_direct(b->source);

	if (da != db)
		return da;
	return a->learned_ms > b->learned_ms;
}

void members__addrs_sort(struct member *m)
{
	for (size_t i = 1; i < m->n_addrs; i++) {
		struct member_addr x = m->addrs[i];
		size_t j = i;

		while (j > 0 && addr_better(&x, &m->addrs[j - 1])) {
			m->addrs[j] = m->addrs[j - 1];
			j--;
		}
		m->addrs[j] = x;
	}
}

/* Whether m's best address is host:port with source. */
static bool addr_is_best(const struct member *m, const char *host,
			 uint16_t port, enum member_source source)
{
	return m->n_addrs > 0 && m->addrs[0].port == port &&
	       m->addrs[0].source == source &&
	       strcmp(m->addrs[0].host, host) == 0;
}

/* Records host:port of m. Bumps t->changes when the persisted form
 * changes: an address added or replaced, or another best address. */
/* Records an address of m. Returns the index the address has now when
 * it is new to m (added, or replacing the worst), else -1. */
static int addr_record(struct members *t, struct member *m,
		       const char *host, uint16_t port,
		       enum member_source source, uint64_t now_ms)
{
	struct member_addr n = { .port = port, .source = source,
				 .learned_ms = now_ms };
	struct member_addr best = { .port = 0 };

	if (m->n_addrs > 0)
		best = m->addrs[0];

	for (size_t i = 0; i < m->n_addrs; i++) {
		struct member_addr *a = &m->addrs[i];

		if (a->port != port || strcmp(a->host, host) != 0)
			continue;
		/* Gossip restating an address we know directly adds
		 * nothing; it must not make the address look fresher. */
		if (!members__source_is_direct(source) && members__source_is_direct(a->source))
			return -1;
		a->source = source;
		a->learned_ms = now_ms;
		members__addrs_sort(m);
		if (!addr_is_best(m, best.host, best.port, best.source))
			t->changes++;
		return -1;
	}
	strcpy(n.host, host);
	if (m->n_addrs < MEMBER_ADDRS_MAX) {
		m->addrs[m->n_addrs++] = n;
	} else {
		/* Full: the new address replaces the worst one, unless it
		 * ranks below it (gossip never evicts a direct address). */
		struct member_addr *worst = &m->addrs[m->n_addrs - 1];

		if (!members__source_is_direct(source) && members__source_is_direct(worst->source))
			return -1;
		*worst = n;
	}
	members__addrs_sort(m);
	t->changes++;
	for (size_t i = 0; i < m->n_addrs; i++)
		if (m->addrs[i].port == port &&
		    strcmp(m->addrs[i].host, host) == 0)
			return (int)i;
	return -1;
}

/* Removes t->v[i] (swap with the last). */
static void remove_at(struct members *t, size_t i)
{
	assert(i < t->n);
	if (t->cfg.on_change != NULL)
		t->cfg.on_change(t->cfg.change_arg, &t->v[i], t->v[i].state,
				 true);
	t->v[i] = t->v[t->n - 1];
	t->n--;
	t->changes++;
}

static size_t count_gossip_only(const struct members *t)
{
	size_t c = 0;

	for (size_t i = 0; i < t->n; i++)
		c += member_is_gossip_only(&t->v[i]);
	return c;
}

/* The member to evict for a newcomer from source at a full table, or
 * t->n for none. The longest-gone member goes first; for a directly seen
 * newcomer, then the gossip-only member heard of first (the reserved
 * slots). Gossip evicts only gone gossip-only members: it must never
 * push out a member known first hand, which collection waits for. */
static size_t evict_victim(const struct members *t, enum member_source source)
{
	bool direct = members__source_is_direct(source);
	size_t gone = t->n, rumour = t->n;

	for (size_t i = 0; i < t->n; i++) {
		const struct member *m = &t->v[i];
		bool g = member_is_gossip_only(m);

		if (!direct && !g)
			continue;
		if (m->state == MEMBER_GONE &&
		    (gone == t->n || m->state_since_ms < t->v[gone].state_since_ms))
			gone = i;
		if (g && (rumour == t->n ||
			  m->first_heard_ms < t->v[rumour].first_heard_ms))
			rumour = i;
	}
	if (gone != t->n || !direct)
		return gone;
	return rumour;
}

/* A slot for a new member learned from source, or NULL with *why set
 * (no slot by the rules at the top of members.h, or no memory). */
struct member *members__slot_new(struct members *t, enum member_source source,
				 const char **why)
{
	*why = "member table full";
	if (!members__source_is_direct(source) &&
	    count_gossip_only(t) >= t->cfg.gossip_max) {
		*why = "the slots for members known only by gossip are taken";
		return NULL;
	}
	if (t->n >= t->cfg.max_members) {
		size_t victim = evict_victim(t, source);

		if (victim == t->n)
			return NULL;
		remove_at(t, victim);
	} else if (t->n == t->cap) {
		size_t cap = t->cap != 0 ? t->cap * 2 : 16;
		struct member *v;

		if (cap > t->cfg.max_members)
			cap = t->cfg.max_members;
		v = realloc(t->v, cap * sizeof *v);
		if (v == NULL) {
			*why = "out of memory";
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	return &t->v[t->n++];
}

bool members_host_is_numeric(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	       inet_pton(AF_INET6, host, a) == 1;
}

bool members__host_is_visible(const char *host, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (host[i] <= ' ' || host[i] > '~')
			return false;
	return true;
}

int members_upsert(struct members *t,
		   const uint8_t id[static MEMBER_ID_BYTES], const char *host,
		   uint16_t port, enum member_source source, uint64_t now_ms,
		   struct err *err)
{
	struct member *m;

	if (memcmp(id, t->self_id, MEMBER_ID_BYTES) == 0)
		return MEMBERS_IGNORED;
	if (host != NULL) {
		size_t len = strnlen(host, MEMBER_HOST_MAX);

		if (len == 0 || len >= MEMBER_HOST_MAX)
			return err_set(err, RUMOR_EINVAL,
				       "member address host is empty or longer "
				       "than %d bytes", MEMBER_HOST_MAX - 1);
		/* Addresses and names are visible ASCII; anything else
		 * (spaces, newlines) would also break the persisted form. */
		if (!members__host_is_visible(host, len))
			return err_set(err, RUMOR_EINVAL,
				       "member address host has a character "
				       "that is not visible ASCII");
		if (port == 0)
			return err_set(err, RUMOR_EINVAL,
				       "member address %s has port 0", host);
		/* A name would aim our dials (and our resolver) wherever
		 * the gossiping member likes. */
		if (!members__source_is_direct(source) && !members_host_is_numeric(host))
			return err_set(err, RUMOR_EINVAL,
				       "gossiped member host \"%s\" is not a "
				       "numeric address", host);
	}
	m = members__find_mut(t, id);
	if (m == NULL) {
		const char *why;

		m = members__slot_new(t, source, &why);
		if (m == NULL)
			return err_set(err, RUMOR_ENOMEM, "%s (%zu members)",
				       why, t->n);
		memset(m, 0, sizeof *m);
		memcpy(m->id, id, MEMBER_ID_BYTES);
		m->state = MEMBER_ALIVE;
		m->learned_via = source;
		m->first_heard_ms = now_ms;
		m->state_since_ms = now_ms;
		if (members__source_is_direct(source))
			m->last_contact_ms = now_ms;
		t->changes++;
		if (host != NULL)
			(void)addr_record(t, m, host, port, source, now_ms);
		return MEMBERS_ADDED;
	}
	if (!members__source_is_direct(source)) {
		/* Gossip never changes a gone member's state or timers; its
		 * address still helps the redials find a member that came
		 * back elsewhere. */
		if (m->state == MEMBER_GONE && host == NULL)
			return MEMBERS_IGNORED;
	} else {
		contact(t, m, now_ms);
	}
	if (host != NULL) {
		int at = addr_record(t, m, host, port, source, now_ms);

		/* A gone member seen at a new address (it came back on
		 * another port, say) is redialed there at once rather than
		 * after its backoff: the news is what the backoff waits for.
		 * Bounded: a member holds MEMBER_ADDRS_MAX addresses, and the
		 * node redials a few members a tick. */
		if (at >= 0 && m->state == MEMBER_GONE) {
			m->next_dial_ms = now_ms;
			m->redials = (uint64_t)at;
		}
	}
	return MEMBERS_UPDATED;
}

int members_mark_contact(struct members *t,
			 const uint8_t id[static MEMBER_ID_BYTES],
			 uint64_t now_ms)
{
	struct member *m = members__find_mut(t, id);

	if (m == NULL)
		return RUMOR_ENOTFOUND;
	contact(t, m, now_ms);
	return 0;
}

int members_mark_sync(struct members *t,
		      const uint8_t id[static MEMBER_ID_BYTES], uint64_t now_ms)
{
	struct member *m = members__find_mut(t, id);

	if (m == NULL)
		return RUMOR_ENOTFOUND;
	contact(t, m, now_ms);
	m->last_sync_ms = now_ms;
	return 0;
}

int members_set_connected(struct members *t,
			  const uint8_t id[static MEMBER_ID_BYTES],
			  bool connected)
{
	struct member *m = members__find_mut(t, id);

	if (m == NULL)
		return RUMOR_ENOTFOUND;
	m->connected = connected;
	return 0;
}

int members_set_lag(struct members *t,
		    const uint8_t id[static MEMBER_ID_BYTES], uint64_t lag)
{
	struct member *m = members__find_mut(t, id);

	if (m == NULL)
		return RUMOR_ENOTFOUND;
	m->lag = lag;
	return 0;
}

size_t members_tick(struct members *t, uint64_t now_ms)
{
	size_t changed = 0;
	size_t i = 0;

	while (i < t->n) {
		struct member *m = &t->v[i];
		uint64_t base = m->last_contact_ms != 0 ? m->last_contact_ms
							: m->first_heard_ms;
		uint64_t quiet = now_ms > base ? now_ms - base : 0;

		if (quiet >= t->cfg.forget_after_ms) {
			remove_at(t, i);
			changed++;
			continue; /* slot i now holds another member */
		}
		/* Time only moves a member down; contact moves it up. */
		if (quiet >= t->cfg.gone_after_ms && m->state != MEMBER_GONE) {
			set_state(t, m, MEMBER_GONE, now_ms);
			m->connected = false;
			changed++;
		} else if (quiet >= t->cfg.suspect_after_ms &&
			   m->state == MEMBER_ALIVE) {
			set_state(t, m, MEMBER_SUSPECT, now_ms);
			changed++;
		}
		i++;
	}
	return changed;
}

static bool eligible(const struct member *m)
{
	return m->state != MEMBER_GONE && (m->n_addrs > 0 || m->connected);
}

size_t members_choose(struct members *t, size_t k,
		      uint8_t (*out)[MEMBER_ID_BYTES])
{
	uint64_t round = ++t->round;
	size_t n = 0;

	/* Selection by (chosen_round, id); a pick gets this round's number,
	 * which takes it out of the running until everyone else had a turn.
	 * O(n k), and k is small. */
	while (n < k) {
		struct member *best = NULL;

		for (size_t i = 0; i < t->n; i++) {
			struct member *m = &t->v[i];

			if (!eligible(m) || m->chosen_round == round)
				continue;
			if (best == NULL || m->chosen_round < best->chosen_round ||
			    (m->chosen_round == best->chosen_round &&
			     memcmp(m->id, best->id, MEMBER_ID_BYTES) < 0))
				best = m;
		}
		if (best == NULL)
			break;
		best->chosen_round = round;
		memcpy(out[n++], best->id, MEMBER_ID_BYTES);
	}
	return n;
}

/* A well-mixed 64-bit value of x (splitmix64's finaliser): the jitter of
 * each redial from one seed. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static bool redial_due(const struct member *m, uint64_t now_ms)
{
	return m->state == MEMBER_GONE && !m->connected && m->n_addrs > 0 &&
	       m->next_dial_ms <= now_ms;
}

size_t members_redial(struct members *t, uint64_t now_ms, uint64_t seed,
		      size_t k, uint8_t (*out)[MEMBER_ID_BYTES])
{
	size_t n = 0;

	/* A pick's next redial is in the future, which takes it out of
	 * this call. O(n k), and k is small. */
	while (n < k) {
		struct member *best = NULL;
		uint64_t backoff;

		for (size_t i = 0; i < t->n; i++) {
			struct member *m = &t->v[i];

			if (!redial_due(m, now_ms))
				continue;
			if (best == NULL || m->next_dial_ms < best->next_dial_ms ||
			    (m->next_dial_ms == best->next_dial_ms &&
			     memcmp(m->id, best->id, MEMBER_ID_BYTES) < 0))
				best = m;
		}
		if (best == NULL)
			break;
		backoff = best->dial_backoff_ms == 0 ? t->cfg.suspect_after_ms
						     : 2 * best->dial_backoff_ms;
		if (backoff > t->cfg.gone_after_ms)
			backoff = t->cfg.gone_after_ms;
		best->dial_backoff_ms = backoff;
		/* Up to a quarter earlier, so that nodes that lost each other
		 * at the same moment do not keep dialing in step. */
		best->next_dial_ms = now_ms + backoff -
				     mix64(seed + n) % (backoff / 4 + 1);
		/* Each redial tries the next address: the best one may be
		 * stale while gossip knows where the member is now. */
		best->redial_addr = best->redials++ % best->n_addrs;
		memcpy(out[n++], best->id, MEMBER_ID_BYTES);
	}
	return n;
}

/* Whether m goes into gossip: members we know first hand (contacted,
 * or remembered from before a restart), so that a node that joins or
 * restarts while a member is away still learns of it. A member known
 * only by gossip is not relayed: a forged member stops at the first node
 * it reached, and a dead member's echo dies out as the nodes that knew
 * it forget it. */
static bool exported(const struct member *m, bool gone_pass)
{
	if (m->n_addrs == 0 || (m->state == MEMBER_GONE) != gone_pass)
		return false;
	return !member_is_gossip_only(m);
}

size_t members_export(const struct members *t, struct member_gossip *out,
		      size_t max)
{
	size_t n = 0;

	/* Members that are not gone first: they matter most when the list
	 * is cut at max. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < t->n && n < max; i++) {
			const struct member *m = &t->v[i];

			if (!exported(m, pass == 1))
				continue;
			memcpy(out[n].id, m->id, MEMBER_ID_BYTES);
			memcpy(out[n].host, m->addrs[0].host, MEMBER_HOST_MAX);
			out[n].port = m->addrs[0].port;
			n++;
		}
	}
	return n;
}

/* ------------------------------------------------------------ gossip quota */

/* Refills the token bucket of sender m to now_ms: one token per
 * gossip_refill_ms since the last refill, up to gossip_burst; a sender
 * not seen yet starts full. */
static void bucket_refill(const struct members *t, struct member *m,
			  uint64_t now_ms)
{
	uint64_t refill = t->cfg.gossip_refill_ms, k;

	if (!m->gossip_started) {
		m->gossip_started = true;
		m->gossip_tokens = t->cfg.gossip_burst;
		m->gossip_refill_ms = now_ms;
		return;
	}
	if (now_ms <= m->gossip_refill_ms)
		return;
	k = (now_ms - m->gossip_refill_ms) / refill;
	if (k >= t->cfg.gossip_burst - m->gossip_tokens) {
		m->gossip_tokens = t->cfg.gossip_burst;
		m->gossip_refill_ms = now_ms;
	} else {
		m->gossip_tokens += (size_t)k;
		m->gossip_refill_ms += k * refill;
	}
}

void members_quota_begin(struct members *t,
			 const uint8_t from[static MEMBER_ID_BYTES],
			 uint64_t now_ms, struct members_quota *q)
{
	struct member *m = members__find_mut(t, from);
	size_t tokens = 0;

	if (m != NULL) {
		bucket_refill(t, m, now_ms);
		tokens = m->gossip_tokens;
	}
	memcpy(q->from, from, MEMBER_ID_BYTES);
	q->allowed = tokens < t->cfg.gossip_per_msg ? tokens
						    : t->cfg.gossip_per_msg;
	q->used = 0;
}

void members_quota_end(struct members *t, const struct members_quota *q)
{
	struct member *m = members__find_mut(t, q->from);

	if (m == NULL)
		return;
	m->gossip_tokens -= q->used < m->gossip_tokens ? q->used
						       : m->gossip_tokens;
}

/* Whether gossip of id at host:port would change the table. */
static bool gossip_is_news(const struct members *t,
			   const uint8_t id[MEMBER_ID_BYTES], const char *host,
			   uint16_t port)
{
	const struct member *m = members__find_mut(t, id);

	if (memcmp(id, t->self_id, MEMBER_ID_BYTES) == 0)
		return false;
	if (m == NULL)
		return true;
	for (size_t i = 0; i < m->n_addrs; i++)
		if (m->addrs[i].port == port &&
		    strncmp(m->addrs[i].host, host, MEMBER_HOST_MAX) == 0)
			return false;
	return true;
}

int members_gossip(struct members *t, struct members_quota *q,
		   const uint8_t id[static MEMBER_ID_BYTES], const char *host,
		   uint16_t port, uint64_t now_ms, struct err *err)
{
	bool news;
	int rv;

	/* A bad host is refused as such, whatever the quota says. */
	if (host == NULL || !members_host_is_numeric(host))
		return err_set(err, RUMOR_EINVAL,
			       "gossiped member host is not a numeric address");
	news = gossip_is_news(t, id, host, port);
	if (news && q->used >= q->allowed)
		return MEMBERS_OVER_QUOTA;
	rv = members_upsert(t, id, host, port, MEMBER_VIA_GOSSIP, now_ms, err);
	if (rv > 0 && news)
		q->used++;
	return rv;
}

bool members_keep_connection(const uint8_t self[static MEMBER_ID_BYTES],
			     const uint8_t peer[static MEMBER_ID_BYTES],
			     bool we_dialed)
{
	const uint8_t *dialer = we_dialed ? self : peer;
	const uint8_t *other = we_dialed ? peer : self;

	return memcmp(dialer, other, MEMBER_ID_BYTES) < 0;
}
