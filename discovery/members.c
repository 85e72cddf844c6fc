/* SPDX-License-Identifier: MIT */
/* members: the member table (rules in members.h). */
#include "discovery/members.h"

#include <assert.h>
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

static void addr_record(struct member *m, const char *host, uint16_t port,
			enum member_source source, uint64_t now_ms)
{
	struct member_addr n = { .port = port, .source = source,
				 .learned_ms = now_ms };

	for (size_t i = 0; i < m->n_addrs; i++) {
		struct member_addr *a = &m->addrs[i];

		if (a->port != port || strcmp(a->host, host) != 0)
			continue;
		/* Gossip restating an address we know directly adds
		 * nothing; it must not make the address look fresher. */
		if (!source_is_direct(source) && source_is_direct(a->source))
			return;
		a->source = source;
		a->learned_ms = now_ms;
		addrs_sort(m);
		return;
	}
	strcpy(n.host, host);
	if (m->n_addrs < MEMBER_ADDRS_MAX) {
		m->addrs[m->n_addrs++] = n;
	} else {
		/* Full: the new address replaces the worst one, unless it
		 * ranks below it (gossip never evicts a direct address). */
		struct member_addr *worst = &m->addrs[m->n_addrs - 1];

		if (!source_is_direct(source) && source_is_direct(worst->source))
			return;
		*worst = n;
	}
	addrs_sort(m);
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
}

/* A slot for a new member, or NULL (table full of non-gone members, or
 * no memory). Evicts the longest-gone member when at max_members. */
static struct member *slot_new(struct members *t)
{
	if (t->n >= t->cfg.max_members) {
		size_t victim = t->n;

		for (size_t i = 0; i < t->n; i++)
			if (t->v[i].state == MEMBER_GONE &&
			    (victim == t->n || t->v[i].state_since_ms <
						       t->v[victim].state_since_ms))
				victim = i;
		if (victim == t->n)
			return NULL;
		remove_at(t, victim);
	} else if (t->n == t->cap) {
		size_t cap = t->cap != 0 ? t->cap * 2 : 16;
		struct member *v;

		if (cap > t->cfg.max_members)
			cap = t->cfg.max_members;
		v = realloc(t->v, cap * sizeof *v);
		if (v == NULL)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	return &t->v[t->n++];
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
		if (port == 0)
			return err_set(err, RUMOR_EINVAL,
				       "member address %s has port 0", host);
	}
	m = find(t, id);
	if (m == NULL) {
		m = slot_new(t);
		if (m == NULL)
			return err_set(err, RUMOR_ENOMEM,
				       "member table full (%zu members)",
				       t->cfg.max_members);
		memset(m, 0, sizeof *m);
		memcpy(m->id, id, MEMBER_ID_BYTES);
		m->state = MEMBER_ALIVE;
		m->learned_via = source;
		m->first_heard_ms = now_ms;
		m->state_since_ms = now_ms;
		if (source_is_direct(source))
			m->last_contact_ms = now_ms;
		if (host != NULL)
			addr_record(m, host, port, source, now_ms);
		return MEMBERS_ADDED;
	}
	if (!source_is_direct(source)) {
		if (m->state == MEMBER_GONE)
			return MEMBERS_IGNORED;
	} else {
		contact(t, m, now_ms);
	}
	if (host != NULL)
		addr_record(m, host, port, source, now_ms);
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

size_t members_export(const struct members *t, struct member_gossip *out,
		      size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n && n < max; i++) {
		const struct member *m = &t->v[i];

		if (m->state == MEMBER_GONE || m->n_addrs == 0)
			continue;
		memcpy(out[n].id, m->id, MEMBER_ID_BYTES);
		memcpy(out[n].host, m->addrs[0].host, MEMBER_HOST_MAX);
		out[n].port = m->addrs[0].port;
		n++;
	}
	return n;
}

bool members_keep_connection(const uint8_t self[static MEMBER_ID_BYTES],
			     const uint8_t peer[static MEMBER_ID_BYTES],
			     bool we_dialed)
{
	const uint8_t *dialer = we_dialed ? self : peer;
	const uint8_t *other = we_dialed ? peer : self;

	return memcmp(dialer, other, MEMBER_ID_BYTES) < 0;
}
