/* SPDX-License-Identifier: MIT */
/* members_file: the member table's persisted form (members_encode,
 * members_load; format in members.h). */
#include "discovery/members.h"
#include "discovery/members_int.h"
#include "lib/bytes.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static bool parse_id(const char *s, uint8_t id[MEMBER_ID_BYTES])
{
	if (strlen(s) != 2 * MEMBER_ID_BYTES)
		return false;
	for (size_t i = 0; i < MEMBER_ID_BYTES; i++) {
		int hi = bytes_hex_digit(s[2 * i]);
		int lo = bytes_hex_digit(s[2 * i + 1]);

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

	if (len == 0 || len >= MEMBER_HOST_MAX || !members__host_is_visible(s, len))
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
		if (members__source_is_direct(m->addrs[i].source))
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
	    members__find_mut(t, parsed->id) != NULL)
		return 0;
	if (t->n >= t->cfg.max_members)
		return RUMOR_ECORRUPT;
	m = members__slot_new(t, source, &why);
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
	members__addrs_sort(m);
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
