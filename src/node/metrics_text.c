/* SPDX-License-Identifier: MIT */
/*
 * metrics_text: a snapshot of a node's figures as Prometheus text,
 * exposition format 0.0.4 (metrics.h). Pure: no node, no clock, no I/O,
 * so the unit test checks exact lines for a known snapshot.
 *
 * Conventions (prometheus.io, "Metric and label naming"): every name
 * starts with rumor_; counters, and nothing else, end in _total;
 * durations are in seconds, sizes in bytes or entries, the unit the
 * name's suffix; label names are snake_case and a family's samples all
 * have the same label names; one family has one # HELP and one # TYPE
 * line before its samples. Every family but rumor_node_info and the
 * histograms is one entry of families[] below.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/refuse.h"
#include "node/metrics.h"

/* ------------------------------------------------------------ text */

struct mtext {
	char *p;
	size_t len, cap;
	int rv;             /* the first failure: nothing more is added */
};

static void mt_reserve(struct mtext *t, size_t more)
{
	size_t cap;
	char *p;

	if (t->rv != 0)
		return;
	if (more > METRICS_TEXT_MAX || t->len + more + 1 > METRICS_TEXT_MAX) {
		t->rv = RUMOR_ETOOBIG;
		return;
	}
	if (t->len + more + 1 <= t->cap)
		return;
	cap = t->cap != 0 ? t->cap : 4096;
	while (cap < t->len + more + 1)
		cap *= 2;
	if (cap > METRICS_TEXT_MAX)
		cap = METRICS_TEXT_MAX;
	p = realloc(t->p, cap);
	if (p == NULL) {
		t->rv = RUMOR_ENOMEM;
		return;
	}
	t->p = p;
	t->cap = cap;
}

static void mt_put(struct mtext *t, const char *s, size_t n)
{
	mt_reserve(t, n);
	if (t->rv != 0)
		return;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void mt_str(struct mtext *t, const char *s)
{
	mt_put(t, s, strlen(s));
}

static void mt_printf(struct mtext *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void mt_printf(struct mtext *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* Only numbers and names of ours go through here: short. */
	if (n < 0 || (size_t)n >= sizeof buf) {
		if (t->rv == 0)
			t->rv = RUMOR_EINVAL;
		return;
	}
	mt_put(t, buf, (size_t)n);
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 when the
 * bytes there are not one (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;     /* a NUL ends the string here too */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/* s with \ and newline escaped, and " too in a label value (the
 * format's two escaping rules: HELP text and label values). The text
 * must be UTF-8: a byte that is not part of a valid sequence becomes
 * U+FFFD. */
static void mt_escaped(struct mtext *t, const char *s, int quote)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u != '\0') {
		size_t n = utf8_len(u);

		if (*u == '\\')
			mt_put(t, "\\\\", 2);
		else if (*u == '\n')
			mt_put(t, "\\n", 2);
		else if (*u == '"' && quote)
			mt_put(t, "\\\"", 2);
		else if (n == 0)
			mt_put(t, "\xef\xbf\xbd", 3);
		else
			mt_put(t, (const char *)u, n);
		u += n != 0 ? n : 1;
	}
}

/* A float as Prometheus reads it: NaN, +Inf, -Inf, or the shortest
 * decimal that reads back as the same double. */
static void format_double(char *buf, size_t len, double v)
{
	int prec;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%sInf", v > 0 ? "+" : "-");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

/* ------------------------------------------------------------ families */

static void family(struct mtext *t, const char *name, const char *type,
		   const char *help)
{
	mt_printf(t, "# HELP %s ", name);
	mt_escaped(t, help, 0);
	mt_printf(t, "\n# TYPE %s %s\n", name, type);
}

/* name{key="value"} (key NULL: no label), without the value. */
static void sample_name(struct mtext *t, const char *name, const char *key,
			const char *value)
{
	mt_str(t, name);
	if (key == NULL)
		return;
	mt_printf(t, "{%s=\"", key);
	mt_escaped(t, value, 1);
	mt_str(t, "\"}");
}

static void sample_u64(struct mtext *t, const char *name, const char *key,
		       const char *value, uint64_t v)
{
	sample_name(t, name, key, value);
	mt_printf(t, " %llu\n", (unsigned long long)v);
}

static void sample_double(struct mtext *t, const char *name,
			  const char *key, const char *value, double v)
{
	char num[40];

	format_double(num, sizeof num, v);
	sample_name(t, name, key, value);
	mt_printf(t, " %s\n", num);
}

/* ------------------------------------------------------------ the table */

/* How a field is read and shown. FIELD_NONE (0) ends a family's list
 * of fields. */
enum field_kind {
	FIELD_NONE,
	FIELD_U64,
	FIELD_U32,
	FIELD_BOOL,       /* an int, shown as 0 or 1 */
	FIELD_DOUBLE,
	FIELD_MS_U64,     /* milliseconds, shown in seconds */
	FIELD_MS_U32,
};

/* One sample's number: an integer, or a double when is_double. */
struct mvalue {
	int is_double;
	uint64_t u;
	double d;
};

/* The field of the given kind at off in the struct at base. */
static struct mvalue field_value(const void *base, size_t off,
				 enum field_kind kind)
{
	const char *p = (const char *)base + off;
	struct mvalue v = {0, 0, 0.0};
	uint32_t u32;
	int i;

	switch (kind) {
	case FIELD_NONE:
		break;
	case FIELD_U64:
		memcpy(&v.u, p, sizeof v.u);
		break;
	case FIELD_U32:
		memcpy(&u32, p, sizeof u32);
		v.u = u32;
		break;
	case FIELD_BOOL:
		memcpy(&i, p, sizeof i);
		v.u = i != 0;
		break;
	case FIELD_DOUBLE:
		v.is_double = 1;
		memcpy(&v.d, p, sizeof v.d);
		break;
	case FIELD_MS_U64:
		v.is_double = 1;
		memcpy(&v.u, p, sizeof v.u);
		v.d = (double)v.u / 1000.0;
		break;
	case FIELD_MS_U32:
		v.is_double = 1;
		memcpy(&u32, p, sizeof u32);
		v.d = (double)u32 / 1000.0;
		break;
	}
	return v;
}

/* One sample: the value of the family's label (NULL in a family
 * without one) and where its number is (in struct ctl_status, or in
 * struct ctl_peer_info for a LIST_PEERS family). */
struct field {
	const char *label;
	size_t off;
	enum field_kind kind;
};

/* Families whose samples are a list rather than fixed fields. */
enum list_kind {
	LIST_NONE,
	LIST_REFUSALS,      /* one per refusal reason (lib/refuse.h) */
	LIST_MEMBER_STATES, /* one per member state, counted over peers */
	LIST_DROPPED,       /* one per announcement drop reason */
	LIST_PEERS,         /* one per member: fields[0] of its peer info */
};

#define FIELDS_MAX 3

/* A family: its # HELP and # TYPE, then its samples: its fields (up
 * to FIELDS_MAX, in order) or, for a list, one per item of the list. */
struct family_def {
	const char *name;
	const char *type;
	const char *help;
	const char *key;                  /* the label's name, NULL: none */
	struct field fields[FIELDS_MAX];
	enum list_kind list;
};

/* A member's states as `rumorctl peers` names them (struct
 * ctl_peer_info): every one has its series, zeros included. */
static const char *const member_states[] = {
	"alive", "suspect", "gone", "unreachable", "never-contacted",
};

/* The i-th sample of a list family f: 1 with *label and *v set, or 0
 * past its end. */
static int list_at(const struct metrics_snapshot *s,
		   const struct family_def *f, size_t i, const char **label,
		   struct mvalue *v)
{
	const struct ctl_status *st = s->status;
	size_t k;

	memset(v, 0, sizeof *v);
	switch (f->list) {
	case LIST_NONE:
		return 0;
	case LIST_REFUSALS:
		if (i >= REFUSE_COUNT)
			return 0;
		*label = refuse_name((int)i);
		v->u = st->refused[i];
		return 1;
	case LIST_MEMBER_STATES:
		if (i >= sizeof member_states / sizeof member_states[0])
			return 0;
		*label = member_states[i];
		for (k = 0; k < s->n_peers; k++)
			if (s->peers[k].state != NULL &&
			    strcmp(s->peers[k].state, member_states[i]) == 0)
				v->u++;
		return 1;
	case LIST_DROPPED:
		if (i >= s->n_dropped)
			return 0;
		*label = s->dropped[i].name;
		v->u = s->dropped[i].count;
		return 1;
	case LIST_PEERS:
		if (i >= s->n_peers)
			return 0;
		*label = s->peers[i].id_str;
		*v = field_value(&s->peers[i], f->fields[0].off,
				 f->fields[0].kind);
		return 1;
	}
	return 0;
}

#define AT(m) offsetof(struct ctl_status, m)
/* A family of one unlabelled sample: field m of struct ctl_status. */
#define ONE(n, ty, k, m, h)                                             \
	{.name = n, .type = ty, .help = h,                              \
	 .fields = {{.off = AT(m), .kind = k}}}
#define COUNTER(n, m, h) ONE(n, "counter", FIELD_U64, m, h)
#define GAUGE(n, k, m, h) ONE(n, "gauge", k, m, h)
/* One sample of a labelled family: label value v, field m. */
#define LABELLED(v, m) {.label = v, .off = AT(m), .kind = FIELD_U64}
/* A family whose samples are list l, with label key_. */
#define LISTED(n, ty, key_, l, h)                                       \
	{.name = n, .type = ty, .help = h, .key = key_, .list = l}
/* A family with one sample per member: field m of its peer info. */
#define PER_PEER(n, k, m, h)                                            \
	{.name = n, .type = "gauge", .help = h, .key = "peer",          \
	 .fields = {{.off = offsetof(struct ctl_peer_info, m), .kind = k}}, \
	 .list = LIST_PEERS}

/* Every family but rumor_node_info and the histograms, in the order
 * they are rendered: a new figure is one entry here. */
static const struct family_def families[] = {
	COUNTER("rumor_writes_total", stats.local_writes,
		"Puts and deletes written on this node."),
	COUNTER("rumor_resolver_symmetry_violations_total",
		stats.symmetry_violations,
		"Conflicts the resolver decided differently when asked in "
		"the other order."),
	COUNTER("rumor_received_bytes_total", stats.bytes_in,
		"Bytes read from peer connections, handshakes included."),
	COUNTER("rumor_sent_bytes_total", stats.bytes_out,
		"Bytes written to peer connections, handshakes included."),
	COUNTER("rumor_entries_sent_total", stats.entries_sent,
		"Log entries sent to peers, by rounds and live."),
	COUNTER("rumor_entries_received_total", stats.entries_received,
		"Log entries received from peers, by rounds and live."),
	COUNTER("rumor_live_entries_sent_total", stats.live_sent,
		"Entries pushed live to peers."),
	COUNTER("rumor_live_entries_received_total", stats.live_received,
		"Entries received live."),
	COUNTER("rumor_live_entries_duplicate_total", stats.live_duplicates,
		"Entries received live that were already held (pruned)."),
	COUNTER("rumor_live_entries_lost_total", stats.live_lost,
		"Entries not pushed live for want of credit (a round repairs "
		"them)."),
	COUNTER("rumor_live_grafts_total", stats.live_grafts,
		"Lazy origins made eager again."),
	COUNTER("rumor_members_refused_total", members_refused,
		"Members or member addresses the member table could not "
		"take."),
	COUNTER("rumor_strong_intents_prepared_total", stats.strong_prepared,
		"Strong-write intents this node prepared."),
	COUNTER("rumor_strong_intents_recovered_total",
		stats.strong_recovered,
		"Strong-write intents resolved by asking."),
	COUNTER("rumor_strong_late_commits_total", stats.strong_late,
		"Commits that came after this node had aborted the intent."),
	GAUGE("rumor_keys", FIELD_U64, stats.keys,
	      "Live keys (approximate)."),
	GAUGE("rumor_tombstones", FIELD_U64, stats.tombstones,
	      "Deletions still kept."),
	GAUGE("rumor_local_seq", FIELD_U64, local_seq,
	      "The highest seq this node wrote as an origin."),
	GAUGE("rumor_unsynced_changes", FIELD_U64, unsynced_changes,
	      "Changes not yet known to be fsynced."),
	GAUGE("rumor_peer_connections", FIELD_U64, peers_connected,
	      "Connections to peers open now (handshake done)."),
	GAUGE("rumor_catching_up", FIELD_BOOL, catching_up,
	      "1 while the node catches up and refuses local writes."),
	GAUGE("rumor_catchup_remaining_seconds", FIELD_MS_U64,
	      catchup_left_ms,
	      "Most time left in the catch-up wait (0 when not catching "
	      "up)."),
	GAUGE("rumor_sync_interval_seconds", FIELD_MS_U32, interval_ms,
	      "The current interval between sync rounds."),
	GAUGE("rumor_write_velocity_per_second", FIELD_DOUBLE, velocity,
	      "Writes per second, local and from peers, a moving average "
	      "(what sets the sync interval)."),
	GAUGE("rumor_open_network", FIELD_BOOL, open_network,
	      "1 when the built-in (open) network key is in use."),
	GAUGE("rumor_ready", FIELD_BOOL, ready,
	      "1 when a strong write could reach its quorum now."),
	GAUGE("rumor_strong_intents_pending", FIELD_U64,
	      stats.strong_pending, "Strong-write intents held now."),
	GAUGE("rumor_strong_quorum_nodes", FIELD_U32, stats.strong_quorum,
	      "Nodes that must prepare a strong write (0: gossip mode)."),
	GAUGE("rumor_strong_reachable_nodes", FIELD_U32,
	      stats.strong_reachable,
	      "Nodes reachable now for strong writes, this one included."),
	{.name = "rumor_remote_versions_total", .type = "counter",
	 .help = "Versions received from peers, by what the store did with "
		 "them: applied (won and stored), stale (the stored one "
		 "won), identical (already held).",
	 .key = "outcome",
	 .fields = {LABELLED("applied", stats.remote_applied),
		    LABELLED("stale", stats.remote_stale),
		    LABELLED("identical", stats.remote_identical)}},
	{.name = "rumor_conflicts_total", .type = "counter",
	 .help = "Same-clock conflicts, by who decided: the default order "
		 "or the user's resolver.",
	 .key = "resolver",
	 .fields = {LABELLED("default", stats.conflicts_default),
		    LABELLED("user", stats.conflicts_resolver)}},
	LISTED("rumor_refusals_total", "counter", "reason", LIST_REFUSALS,
	       "What the node refused from peers and the network, by "
	       "reason (rumorctl status names the same reasons)."),
	{.name = "rumor_strong_writes_total", .type = "counter",
	 .help = "Strong writes this node coordinated, by outcome.",
	 .key = "outcome",
	 .fields = {LABELLED("committed", stats.strong_committed),
		    LABELLED("aborted", stats.strong_aborted)}},
	LISTED("rumor_members", "gauge", "state", LIST_MEMBER_STATES,
	       "Members of the member table, by state (the states of "
	       "rumorctl peers)."),
	LISTED("rumor_announcements_dropped_total", "counter", "reason",
	       LIST_DROPPED, "Multicast announcements dropped, by reason."),
	PER_PEER("rumor_peer_lag_entries", FIELD_U64, lag,
		 "Entries a member lacks that this node holds, from its last "
		 "digest."),
	PER_PEER("rumor_peer_connected", FIELD_BOOL, connected,
		 "1 when the member has an open connection to this node."),
};
#undef PER_PEER
#undef LISTED
#undef LABELLED
#undef GAUGE
#undef COUNTER
#undef ONE
#undef AT

static void sample_value(struct mtext *t, const struct family_def *f,
			 const char *label, struct mvalue v)
{
	if (v.is_double)
		sample_double(t, f->name, f->key, label, v.d);
	else
		sample_u64(t, f->name, f->key, label, v.u);
}

static void render_family(struct mtext *t, const struct metrics_snapshot *s,
			  const struct family_def *f)
{
	const char *label = NULL;
	struct mvalue v;
	size_t i;

	family(t, f->name, f->type, f->help);
	if (f->list != LIST_NONE) {
		for (i = 0; list_at(s, f, i, &label, &v); i++)
			sample_value(t, f, label, v);
		return;
	}
	for (i = 0; i < FIELDS_MAX && f->fields[i].kind != FIELD_NONE; i++)
		sample_value(t, f, f->fields[i].label,
			     field_value(s->status, f->fields[i].off,
					 f->fields[i].kind));
}

static void render_info(struct mtext *t, const struct metrics_snapshot *s)
{
	const struct ctl_status *st = s->status;
	const char *name = "rumor_node_info";

	family(t, name, "gauge",
	       "Always 1; the labels say which node this is.");
	mt_printf(t, "%s{id=\"", name);
	mt_escaped(t, st->id, 1);
	mt_str(t, "\",version=\"");
	mt_escaped(t, s->version != NULL ? s->version : "", 1);
	mt_printf(t, "\",mode=\"%s\",consistency=\"%s\"} 1\n",
		  st->mode == RUMOR_MODE_REPLICA ? "replica" : "peer",
		  st->consistency == RUMOR_CONSISTENCY_STRONG ? "strong"
							      : "gossip");
}

/* ------------------------------------------------------------ histograms */

static void render_histogram(struct mtext *t, const char *name,
			     const char *help, const struct histogram *h)
{
	char num[40];
	uint64_t cum = 0;
	size_t i;

	family(t, name, "histogram", help);
	for (i = 0; h != NULL && i < h->n_bounds; i++) {
		cum += h->counts[i];
		format_double(num, sizeof num, h->bounds[i]);
		mt_printf(t, "%s_bucket{le=\"%s\"} %llu\n", name, num,
			  (unsigned long long)cum);
	}
	mt_printf(t, "%s_bucket{le=\"+Inf\"} %llu\n", name,
		  (unsigned long long)(h != NULL ? h->count : 0));
	format_double(num, sizeof num, h != NULL ? h->sum : 0.0);
	mt_printf(t, "%s_sum %s\n", name, num);
	mt_printf(t, "%s_count %llu\n", name,
		  (unsigned long long)(h != NULL ? h->count : 0));
}

/* ------------------------------------------------------------ render */

int metrics_render(const struct metrics_snapshot *s, char **text,
		   size_t *len, struct err *err)
{
	struct mtext t = {NULL, 0, 0, 0};
	size_t i;

	render_info(&t, s);
	for (i = 0; i < sizeof families / sizeof families[0]; i++)
		render_family(&t, s, &families[i]);
	render_histogram(&t, "rumor_sync_round_duration_seconds",
			 "Time from a sync round's DIGEST to its completion "
			 "in both directions.", s->round_seconds);
	render_histogram(&t, "rumor_apply_batch_entries",
			 "Remote versions per atomic apply (a round's BATCH "
			 "or a LIVE frame).", s->apply_batch);
	if (t.rv != 0) {
		free(t.p);
		return err_set(err, t.rv, "metrics: %s",
			       t.rv == RUMOR_ETOOBIG
				       ? "text over its bound"
				       : t.rv == RUMOR_ENOMEM
						 ? "out of memory"
						 : "a line over its bound");
	}
	*text = t.p;
	*len = t.len;
	return 0;
}
