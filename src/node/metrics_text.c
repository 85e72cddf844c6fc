/* SPDX-License-Identifier: MIT */
/*
 * metrics_text: a snapshot of a node's figures as Prometheus text,
 * exposition format 0.0.4 (metrics.h). Pure: no node, no clock, no I/O,
 * so the unit test checks exact lines for a known snapshot.
 *
 * Conventions (prometheus.io, "Metric and label naming"): every name
 * starts with rumor_, counters end in _total, durations are in seconds,
 * sizes in bytes or entries; one family has one # HELP and one # TYPE
 * line before its samples.
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

/* ------------------------------------------------------------ scalars */

enum scalar_kind {
	SCALAR_U64,
	SCALAR_U32,
	SCALAR_INT,
	SCALAR_DOUBLE,
	SCALAR_MS_U64,    /* milliseconds, exposed in seconds */
	SCALAR_MS_U32,
};

/* A family of one unlabelled sample, read from struct ctl_status. */
struct scalar {
	const char *name;
	const char *type;
	const char *help;
	size_t off;
	enum scalar_kind kind;
};

#define ST(m) offsetof(struct ctl_status, m)
#define SS(m) offsetof(struct ctl_status, stats.m)
static const struct scalar scalars[] = {
	{"rumor_writes_total", "counter",
	 "Puts and deletes written on this node.", SS(local_writes),
	 SCALAR_U64},
	{"rumor_resolver_symmetry_violations_total", "counter",
	 "Conflicts the resolver decided differently when asked in the "
	 "other order.", SS(symmetry_violations), SCALAR_U64},
	{"rumor_received_bytes_total", "counter",
	 "Bytes received from peers (whole frames).", SS(bytes_in),
	 SCALAR_U64},
	{"rumor_sent_bytes_total", "counter",
	 "Bytes sent to peers (whole frames).", SS(bytes_out), SCALAR_U64},
	{"rumor_entries_sent_total", "counter",
	 "Log entries sent to peers, by rounds and live.", SS(entries_sent),
	 SCALAR_U64},
	{"rumor_entries_received_total", "counter",
	 "Log entries received from peers, by rounds and live.",
	 SS(entries_received), SCALAR_U64},
	{"rumor_live_entries_sent_total", "counter",
	 "Entries pushed live to peers.", SS(live_sent), SCALAR_U64},
	{"rumor_live_entries_received_total", "counter",
	 "Entries received live.", SS(live_received), SCALAR_U64},
	{"rumor_live_duplicates_total", "counter",
	 "Live entries already held (pruned).", SS(live_duplicates),
	 SCALAR_U64},
	{"rumor_live_lost_total", "counter",
	 "Live entries dropped over credit (a round repairs them).",
	 SS(live_lost), SCALAR_U64},
	{"rumor_live_grafts_total", "counter",
	 "Lazy origins made eager again.", SS(live_grafts), SCALAR_U64},
	{"rumor_members_refused_total", "counter",
	 "Members the member table could not take.", ST(members_refused),
	 SCALAR_U64},
	{"rumor_strong_prepared_total", "counter",
	 "Strong-write intents this node prepared.", SS(strong_prepared),
	 SCALAR_U64},
	{"rumor_strong_recovered_total", "counter",
	 "Strong-write intents resolved by asking.", SS(strong_recovered),
	 SCALAR_U64},
	{"rumor_strong_late_commits_total", "counter",
	 "Commits that came after this node had aborted the intent.",
	 SS(strong_late), SCALAR_U64},
	{"rumor_keys", "gauge", "Live keys (approximate).", SS(keys),
	 SCALAR_U64},
	{"rumor_tombstones", "gauge", "Deletions still kept.", SS(tombstones),
	 SCALAR_U64},
	{"rumor_local_seq", "gauge",
	 "The highest seq this node wrote as an origin.", ST(local_seq),
	 SCALAR_U64},
	{"rumor_unsynced_changes", "gauge",
	 "Changes not yet known to be fsynced.", ST(unsynced_changes),
	 SCALAR_U64},
	{"rumor_peers_connected", "gauge",
	 "Peers with an open connection (handshake done).",
	 ST(peers_connected), SCALAR_U64},
	{"rumor_catching_up", "gauge",
	 "1 while the node catches up and refuses local writes.",
	 ST(catching_up), SCALAR_INT},
	{"rumor_catchup_remaining_seconds", "gauge",
	 "Most time left in the catch-up wait (0 when not catching up).",
	 ST(catchup_left_ms), SCALAR_MS_U64},
	{"rumor_interval_seconds", "gauge",
	 "The current reconciliation interval.", ST(interval_ms),
	 SCALAR_MS_U32},
	{"rumor_write_velocity", "gauge",
	 "Writes per second, moving average (the pace's input).",
	 ST(velocity), SCALAR_DOUBLE},
	{"rumor_open_network", "gauge",
	 "1 when the built-in (open) network key is in use.",
	 ST(open_network), SCALAR_INT},
	{"rumor_ready", "gauge",
	 "1 when a strong write could reach its quorum now.", ST(ready),
	 SCALAR_INT},
	{"rumor_strong_pending_intents", "gauge",
	 "Strong-write intents held now.", SS(strong_pending), SCALAR_U64},
	{"rumor_strong_quorum", "gauge",
	 "Nodes that must prepare a strong write (0: gossip mode).",
	 SS(strong_quorum), SCALAR_U32},
	{"rumor_strong_reachable_nodes", "gauge",
	 "Nodes reachable now for strong writes, this one included.",
	 SS(strong_reachable), SCALAR_U32},
};
#undef ST
#undef SS

static void render_scalar(struct mtext *t, const struct ctl_status *st,
			  const struct scalar *sc)
{
	const char *base = (const char *)st + sc->off;
	uint64_t u64;
	uint32_t u32;
	double d;
	int i;

	family(t, sc->name, sc->type, sc->help);
	switch (sc->kind) {
	case SCALAR_U64:
		memcpy(&u64, base, sizeof u64);
		sample_u64(t, sc->name, NULL, NULL, u64);
		break;
	case SCALAR_U32:
		memcpy(&u32, base, sizeof u32);
		sample_u64(t, sc->name, NULL, NULL, u32);
		break;
	case SCALAR_INT:
		memcpy(&i, base, sizeof i);
		sample_u64(t, sc->name, NULL, NULL, i != 0);
		break;
	case SCALAR_DOUBLE:
		memcpy(&d, base, sizeof d);
		sample_double(t, sc->name, NULL, NULL, d);
		break;
	case SCALAR_MS_U64:
		memcpy(&u64, base, sizeof u64);
		sample_double(t, sc->name, NULL, NULL, (double)u64 / 1000.0);
		break;
	case SCALAR_MS_U32:
		memcpy(&u32, base, sizeof u32);
		sample_double(t, sc->name, NULL, NULL, (double)u32 / 1000.0);
		break;
	}
}

/* ------------------------------------------------------------ labelled */

static void render_labelled(struct mtext *t, const struct ctl_status *st)
{
	const struct rumor_stats *s = &st->stats;
	uint64_t gone;
	int r;

	family(t, "rumor_remote_versions_total", "counter",
	       "Versions received from peers, by what the store did with "
	       "them: applied (won and stored), stale (the stored one won), "
	       "identical (already held).");
	sample_u64(t, "rumor_remote_versions_total", "outcome", "applied",
		   s->remote_applied);
	sample_u64(t, "rumor_remote_versions_total", "outcome", "stale",
		   s->remote_stale);
	sample_u64(t, "rumor_remote_versions_total", "outcome", "identical",
		   s->remote_identical);

	family(t, "rumor_conflicts_total", "counter",
	       "Same-clock conflicts, by who decided: the default order or "
	       "the user's resolver.");
	sample_u64(t, "rumor_conflicts_total", "resolver", "default",
		   s->conflicts_default);
	sample_u64(t, "rumor_conflicts_total", "resolver", "user",
		   s->conflicts_resolver);

	family(t, "rumor_refusals_total", "counter",
	       "What the node refused from peers and the network, by reason "
	       "(rumorctl status names the same reasons).");
	for (r = 0; r < REFUSE_COUNT; r++)
		sample_u64(t, "rumor_refusals_total", "reason", refuse_name(r),
			   st->refused[r]);

	family(t, "rumor_strong_writes_total", "counter",
	       "Strong writes this node coordinated, by outcome.");
	sample_u64(t, "rumor_strong_writes_total", "outcome", "committed",
		   s->strong_committed);
	sample_u64(t, "rumor_strong_writes_total", "outcome", "aborted",
		   s->strong_aborted);

	family(t, "rumor_members", "gauge",
	       "Members of the member table, by state.");
	sample_u64(t, "rumor_members", "state", "alive", st->peers_alive);
	sample_u64(t, "rumor_members", "state", "suspect", st->peers_suspect);
	gone = st->peers_known > st->peers_alive + st->peers_suspect
		       ? st->peers_known - st->peers_alive - st->peers_suspect
		       : 0;
	sample_u64(t, "rumor_members", "state", "gone", gone);
}

static void render_dropped(struct mtext *t, const struct metrics_snapshot *s)
{
	size_t i;

	family(t, "rumor_announcements_dropped_total", "counter",
	       "Multicast announcements dropped, by reason.");
	for (i = 0; i < s->n_dropped; i++)
		sample_u64(t, "rumor_announcements_dropped_total", "reason",
			   s->dropped[i].name, s->dropped[i].count);
}

static void render_peers(struct mtext *t, const struct metrics_snapshot *s)
{
	size_t i;

	family(t, "rumor_peer_lag_entries", "gauge",
	       "Entries a member lacks that this node holds, from its last "
	       "digest.");
	for (i = 0; i < s->n_peers; i++)
		sample_u64(t, "rumor_peer_lag_entries", "peer",
			   s->peers[i].id_str, s->peers[i].lag);
	family(t, "rumor_peer_connected", "gauge",
	       "1 when the member has an open connection to this node.");
	for (i = 0; i < s->n_peers; i++)
		sample_u64(t, "rumor_peer_connected", "peer",
			   s->peers[i].id_str, s->peers[i].connected != 0);
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
	for (i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
		render_scalar(&t, s->status, &scalars[i]);
	render_labelled(&t, s->status);
	render_dropped(&t, s);
	render_peers(&t, s);
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
