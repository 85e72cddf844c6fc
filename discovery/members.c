/* SPDX-License-Identifier: MIT */
/* members: the member table (rules in members.h). */
#include "discovery/members.h"

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

static bool source_is_direct(enum member_source s)
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

static struct member *find(const struct members *t,
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
	return find(t, id);
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
	bool da = source_is_direct(a->source), db = source_is_direct(b->source);

	if (da != db)
		return da;
	return a->learned_ms > b->learned_ms;
}

static void addrs_sort(struct member *m)
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
		if (!source_is_direct(source) && source_is_direct(a->source))
			return -1;
		a->source = source;
		a->learned_ms = now_ms;
		addrs_sort(m);
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

		if (!source_is_direct(source) && source_is_direct(worst->source))
			return -1;
		*worst = n;
	}
	addrs_sort(m);
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
	bool direct = source_is_direct(source);
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
static struct member *slot_new(struct members *t, enum member_source source,
			       const char **why)
{
	*why = "member table full";
	if (!source_is_direct(source) &&
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

static bool host_is_visible(const char *host, size_t len)
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
		if (!host_is_visible(host, len))
			return err_set(err, RUMOR_EINVAL,
				       "member address host has a character "
				       "that is not visible ASCII");
		if (port == 0)
			return err_set(err, RUMOR_EINVAL,
				       "member address %s has port 0", host);
		/* A name would aim our dials (and our resolver) wherever
		 * the gossiping member likes. */
		if (!source_is_direct(source) && !members_host_is_numeric(host))
			return err_set(err, RUMOR_EINVAL,
				       "gossiped member host \"%s\" is not a "
				       "numeric address", host);
	}
	m = find(t, id);
	if (m == NULL) {
		const char *why;

		m = slot_new(t, source, &why);
		if (m == NULL)
			return err_set(err, RUMOR_ENOMEM, "%s (%zu members)",
				       why, t->n);
		memset(m, 0, sizeof *m);
		memcpy(m->id, id, MEMBER_ID_BYTES);
		m->state = MEMBER_ALIVE;
		m->learned_via = source;
		m->first_heard_ms = now_ms;
		m->state_since_ms = now_ms;
		if (source_is_direct(source))
			m->last_contact_ms = now_ms;
		t->changes++;
		if (host != NULL)
			(void)addr_record(t, m, host, port, source, now_ms);
		return MEMBERS_ADDED;
	}
	if (!source_is_direct(source)) {
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
	struct member *m = find(t, id);

	if (m == NULL)
		return RUMOR_ENOTFOUND;
	contact(t, m, now_ms);
	return 0;
}

int members_mark_sync(struct members *t,
		      const uint8_t id[static MEMBER_ID_BYTES], uint64_t now_ms)
{
	struct member *m = find(t, id);

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
	struct member *m = find(t, id);

	if (m == NULL)
		return RUMOR_ENOTFOUND;
	m->connected = connected;
	return 0;
}

int members_set_lag(struct members *t,
		    const uint8_t id[static MEMBER_ID_BYTES], uint64_t lag)
{
	struct member *m = find(t, id);

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
	struct member *m = find(t, from);
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
	struct member *m = find(t, q->from);

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
	const struct member *m = find(t, id);

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

/* ------------------------------------------------------------ persisted form */

static const char hex_digits[] = "0123456789abcdef";

int members_encode(const struct members *t, char **out, size_t *len,
		   struct err *err)
{
	size_t cap = sizeof MEMBERS_FILE_MAGIC + t->n * MEMBERS_LINE_MAX;
	char *buf = malloc(cap);
	size_t o;

	*out = NULL;
	*len = 0;
	if (buf == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	o = (size_t)snprintf(buf, cap, "%s", MEMBERS_FILE_MAGIC);
	for (size_t i = 0; i < t->n; i++) {
		const struct member *m = &t->v[i];

		for (size_t j = 0; j < MEMBER_ID_BYTES; j++) {
			buf[o++] = hex_digits[m->id[j] >> 4];
			buf[o++] = hex_digits[m->id[j] & 15];
		}
		/* Hosts are checked (length, no spaces) before they enter
		 * the table, so a line never exceeds MEMBERS_LINE_MAX. */
		for (size_t j = 0; j < m->n_addrs; j++)
			o += (size_t)snprintf(buf + o, cap - o, " %s %u %s",
					      m->addrs[j].host,
					      (unsigned)m->addrs[j].port,
					      member_source_name(m->addrs[j].source));
		buf[o++] = '\n';
		assert(o < cap);
	}
	*out = buf;
	*len = o;
	return 0;
}

/* The next space-separated token of *p (advanced past it), or NULL. */
static char *next_token(char **p)
{
	char *s = *p, *e;

	if (*s == '\0')
		return NULL;
	e = strchr(s, ' ');
	if (e == NULL) {
		*p = s + strlen(s);
	} else {
		*e = '\0';
		*p = e + 1;
	}
	return s;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_id(const char *s, uint8_t id[MEMBER_ID_BYTES])
{
	if (strlen(s) != 2 * MEMBER_ID_BYTES)
		return false;
	for (size_t i = 0; i < MEMBER_ID_BYTES; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* host: 1..MEMBER_HOST_MAX-1 visible ASCII characters. */
static bool parse_host(const char *s, char host[MEMBER_HOST_MAX])
{
	size_t len = strlen(s);

	if (len == 0 || len >= MEMBER_HOST_MAX || !host_is_visible(s, len))
		return false;
	memcpy(host, s, len + 1);
	return true;
}

static bool parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t len = strlen(s);

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool parse_source(const char *s, enum member_source *src)
{
	for (int i = MEMBER_VIA_MULTICAST; i <= MEMBER_VIA_GOSSIP; i++) {
		if (strcmp(s, member_source_name((enum member_source)i)) == 0) {
			*src = (enum member_source)i;
			return true;
		}
	}
	return false;
}

/* Parses one line (NUL-terminated, without its newline; modified) into
 * m: id and addresses, nothing else set. */
static bool parse_line(char *line, struct member *m)
{
	char *p = line, *tok = next_token(&p);

	memset(m, 0, sizeof *m);
	if (tok == NULL || !parse_id(tok, m->id))
		return false;
	while ((tok = next_token(&p)) != NULL) {
		struct member_addr *a;
		char *port, *src;

		if (m->n_addrs == MEMBER_ADDRS_MAX)
			return false;
		a = &m->addrs[m->n_addrs++];
		port = next_token(&p);
		src = next_token(&p);
		if (port == NULL || src == NULL || !parse_host(tok, a->host) ||
		    !parse_port(port, &a->port) || !parse_source(src, &a->source))
			return false;
	}
	return true;
}

/* Whether m has an address learned directly. */
static bool has_direct_addr(const struct member *m)
{
	for (size_t i = 0; i < m->n_addrs; i++)
		if (source_is_direct(m->addrs[i].source))
			return true;
	return false;
}

/* Adds a parsed member to the table, gone, never contacted, due for a
 * redial: remembered (known first hand) when it has an address learned
 * directly, else gossip-only as it was before the restart. 1 added, 0
 * dropped (our id, a repeat, or a gossip-only member beyond gossip_max),
 * RUMOR_ECORRUPT (too many), RUMOR_ENOMEM. */
static int load_member(struct members *t, const struct member *parsed,
		       uint64_t now_ms)
{
	/* Gossip always comes with an address: a member without one was
	 * seen directly (it connected to us). */
	bool first_hand = parsed->n_addrs == 0 || has_direct_addr(parsed);
	enum member_source source =
		first_hand ? MEMBER_VIA_PEER : MEMBER_VIA_GOSSIP;
	const char *why;
	struct member *m;

	if (memcmp(parsed->id, t->self_id, MEMBER_ID_BYTES) == 0 ||
	    find(t, parsed->id) != NULL)
		return 0;
	if (t->n >= t->cfg.max_members)
		return RUMOR_ECORRUPT;
	m = slot_new(t, source, &why);
	if (m == NULL)
		return first_hand ? RUMOR_ENOMEM : 0;
	*m = *parsed;
	m->state = MEMBER_GONE;
	m->remembered = first_hand;
	m->learned_via = m->n_addrs > 0 ? m->addrs[0].source : MEMBER_VIA_PEER;
	m->first_heard_ms = now_ms;
	m->state_since_ms = now_ms;
	for (size_t i = 0; i < m->n_addrs; i++)
		m->addrs[i].learned_ms = now_ms;
	addrs_sort(m);
	return 1;
}

int members_load(struct members *t, const char *buf, size_t len,
		 uint64_t now_ms, struct err *err)
{
	static const char magic[] = MEMBERS_FILE_MAGIC;
	char line[MEMBERS_LINE_MAX + 1];
	struct member parsed;
	size_t off = sizeof magic - 1, lineno = 1;
	int rv = 0, loaded = 0;

	if (t->n != 0)
		return err_set(err, RUMOR_EINVAL,
			       "members_load needs an empty table");
	if (len < off || memcmp(buf, magic, off) != 0)
		return err_set(err, RUMOR_ECORRUPT,
			       "not a member list (no \"rumor-members v1\" line)");
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n;

		lineno++;
		if (nl == NULL) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "line %zu: no newline (truncated?)", lineno);
			break;
		}
		n = (size_t)(nl - (buf + off));
		if (n > MEMBERS_LINE_MAX || memchr(buf + off, '\0', n) != NULL) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "line %zu: too long or not text", lineno);
			break;
		}
		memcpy(line, buf + off, n);
		line[n] = '\0';
		off += n + 1;
		if (!parse_line(line, &parsed)) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "line %zu: not \"ID [HOST PORT SOURCE]...\"",
				     lineno);
			break;
		}
		rv = load_member(t, &parsed, now_ms);
		if (rv < 0) {
			rv = rv == RUMOR_ENOMEM
				? err_set(err, rv, "out of memory")
				: err_set(err, rv, "line %zu: more than %zu members",
					  lineno, t->cfg.max_members);
			break;
		}
		loaded += rv;
		rv = 0;
	}
	if (rv != 0) {
		t->n = 0;
		return rv;
	}
	return loaded;
}
