/* SPDX-License-Identifier: MIT */
/*
 * why KEY: which node holds which version of KEY, which version wins and
 * why, who is behind, who could not be asked, and a verdict (converged,
 * converging, diverged). The node asks its members (src/node/why.c);
 * this file only prints the rows and the summary it sends back (text,
 * or one JSON object documented in rumorctl(1)).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/identity.h"
#include "lib/array.h"
#include "tools/ctl/ctl.h"

#define WHY_TIMEOUT_DEFAULT_MS 2000u

static const char *const status_names[] = {
	[CTL_WHY_SELF] = "self", [CTL_WHY_ANSWERED] = "answered",
	[CTL_WHY_UNSUPPORTED] = "unsupported",
	[CTL_WHY_NO_ANSWER] = "no answer",
	[CTL_WHY_UNREACHABLE] = "unreachable",
	[CTL_WHY_BAD_ANSWER] = "bad answer",
};

static const char *const role_names[] = {
	[CTL_WHY_UNKNOWN] = "unknown", [CTL_WHY_CURRENT] = "current",
	[CTL_WHY_BEHIND] = "behind", [CTL_WHY_DIVERGED] = "diverged",
	[CTL_WHY_OUTSIDE] = "outside",
};

static const char *const verdict_names[] = {
	[CTL_WHY_CONVERGED] = "converged",
	[CTL_WHY_CONVERGING] = "converging",
	[CTL_WHY_DIVERGENT] = "diverged",
};

static const char *const reason_names[] = {
	[0] = "?", [CTL_WHY_BY_CLOCK] = "clock", [CTL_WHY_BY_SEQ] = "seq",
	[CTL_WHY_BY_RESOLVER] = "resolver", [CTL_WHY_BY_WALL] = "wall",
	[CTL_WHY_BY_ORIGIN] = "origin", [CTL_WHY_BY_ONLY] = "only",
	[CTL_WHY_BY_NONE] = "none",
};

static void short_id(const uint8_t *id, char out[16])
{
	char s[IDENTITY_ID_STRLEN];

	identity_id_string(id, s);
	snprintf(out, 16, "%.12s", s);
}

static void hash_hex(const struct ctl_why_row *w, char out[2 * 16 + 1])
{
	size_t i;

	for (i = 0; i < CTL_WHY_HASH_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", w->hash[i]);
}

/* ------------------------------------------------------------ JSON */

static void row_json(FILE *f, const struct ctl_why_row *w)
{
	char id[IDENTITY_ID_STRLEN], origin[IDENTITY_ID_STRLEN];
	char hash[2 * CTL_WHY_HASH_BYTES + 1];

	identity_id_string(w->id, id);
	fprintf(f, "{\"id\":\"%s\",\"status\":\"%s\",\"role\":\"%s\","
		"\"found\":%s", id, status_names[w->status],
		role_names[w->role], w->found ? "true" : "false");
	if (w->found) {
		identity_id_string(w->origin, origin);
		hash_hex(w, hash);
		fprintf(f, ",\"clock\":%" PRIu64 ",\"origin\":\"%s\",\"seq\":%"
			PRIu64 ",\"wall_ms\":%" PRIu64 ",\"deleted\":%s,"
			"\"value_len\":%" PRIu64 ",\"hash\":\"%s\"", w->clock,
			origin, w->seq, w->wall_ms,
			w->deleted ? "true" : "false", w->value_len, hash);
	}
	if (w->status == CTL_WHY_SELF || w->status == CTL_WHY_ANSWERED) {
		fprintf(f, ",\"symmetry_violations\":%" PRIu64
			",\"resolver\":", w->symmetry_violations);
		fmt_json_cstr(f, w->resolver);
	}
	if (w->role == CTL_WHY_BEHIND)
		fprintf(f, ",\"lag\":{\"clock\":%" PRIu64 ",\"seq\":%" PRIu64
			",\"ms\":%" PRIu64 "}", w->lag_clock, w->lag_seq,
			w->lag_ms);
	fputc('}', f);
}

static void why_json(FILE *f, const struct ctl_request *rq,
		     const struct ctl_why_row *rows, size_t n,
		     const struct ctl_why_summary *s)
{
	size_t i;

	fprintf(f, "{\"key\":");
	fmt_json_bytes(f, rq->key, rq->key_len);
	fprintf(f, ",\"verdict\":\"%s\",\"reason\":\"%s\",\"resolver\":",
		verdict_names[s->verdict], reason_names[s->reason]);
	fmt_json_cstr(f, s->resolver);
	fprintf(f, ",\"winner\":");
	if (s->winner_row < n)
		row_json(f, &rows[s->winner_row]);
	else
		fprintf(f, "null");
	fprintf(f, ",\"winner_age_ms\":%" PRIu64 ",\"not_asked\":%" PRIu64
		",\"max_lag\":{\"clock\":%" PRIu64 ",\"seq\":%" PRIu64
		",\"ms\":%" PRIu64 "},\"nodes\":[", s->winner_age_ms,
		s->not_asked, s->max_lag_clock, s->max_lag_seq, s->max_lag_ms);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		row_json(f, &rows[i]);
	}
	fprintf(f, "]}\n");
}

/* ------------------------------------------------------------ text */

static void row_text(FILE *f, const struct ctl_why_row *w)
{
	char id[16], origin[16], wall[48], hash[2 * CTL_WHY_HASH_BYTES + 1];

	short_id(w->id, id);
	fprintf(f, "  %-12s  %-11s  %-8s", id, status_names[w->status],
		role_names[w->role]);
	if (w->found) {
		short_id(w->origin, origin);
		fmt_wall(w->wall_ms, wall, sizeof(wall));
		hash_hex(w, hash);
		fprintf(f, "  clock %" PRIu64 "  origin %s  seq %" PRIu64
			"  %s  %s  %.16s", w->clock, origin, w->seq, wall,
			w->deleted ? "deleted" : "value", hash);
	} else if (w->status == CTL_WHY_SELF ||
		   w->status == CTL_WHY_ANSWERED) {
		fprintf(f, "  %s", w->role == CTL_WHY_OUTSIDE ?
			"(key outside its replicate set)" : "(no version)");
	}
	if (w->role == CTL_WHY_BEHIND) {
		fmt_ago(w->lag_ms, wall, sizeof(wall));
		fprintf(f, "  [behind by %" PRIu64 " clock%s", w->lag_clock,
			w->lag_clock == 1 ? "" : "s");
		if (w->lag_seq > 0)
			fprintf(f, ", %" PRIu64 " seq", w->lag_seq);
		if (w->lag_ms > 0)
			fprintf(f, ", written %.*s earlier",
				(int)(strlen(wall) > 4 ? strlen(wall) - 4 : 0),
				wall);
		fputc(']', f);
	}
	fputc('\n', f);
}

static const char *reason_text(int reason)
{
	switch (reason) {
	case CTL_WHY_BY_CLOCK: return "it has the higher clock";
	case CTL_WHY_BY_SEQ: return "same clock and origin, the higher seq";
	case CTL_WHY_BY_RESOLVER: return "same clock: the resolver chose it";
	case CTL_WHY_BY_WALL:
		return "same clock: default order, the later wall time";
	case CTL_WHY_BY_ORIGIN:
		return "same clock and wall time: default order, the greater "
		       "origin";
	case CTL_WHY_BY_ONLY: return "it is the only version held";
	default: return "?";
	}
}

static void why_text(FILE *f, const struct ctl_request *rq,
		     const struct ctl_why_row *rows, size_t n,
		     const struct ctl_why_summary *s, int hex)
{
	char id[16], ago[48];
	size_t i, k;

	fprintf(f, "key ");
	fmt_bytes(f, hex, rq->key, rq->key_len);
	fprintf(f, " (order: resolver ");
	fmt_safe_put(f, s->resolver, strlen(s->resolver));
	fprintf(f, ")\n");
	for (i = 0; i < n; i++)
		row_text(f, &rows[i]);
	if (s->reason == CTL_WHY_BY_NONE) {
		fprintf(f, "winner: none (no node asked holds the key)\n");
	} else if (s->winner_row < n) {
		short_id(rows[s->winner_row].origin, id);
		fmt_ago(s->winner_age_ms, ago, sizeof(ago));
		fprintf(f, "winner: clock %" PRIu64 ", origin %s, seq %" PRIu64
			" (written %s): %s\n", rows[s->winner_row].clock, id,
			rows[s->winner_row].seq, ago, reason_text(s->reason));
	}
	for (i = k = 0; i < n; i++) {
		if (rows[i].status == CTL_WHY_SELF ||
		    rows[i].status == CTL_WHY_ANSWERED)
			continue;
		short_id(rows[i].id, id);
		fprintf(f, "%s%s (%s)", k++ ? ", " : "could not ask: ", id,
			status_names[rows[i].status]);
	}
	if (k > 0)
		fputc('\n', f);
	switch (s->verdict) {
	case CTL_WHY_CONVERGED:
		fprintf(f, "converged: every member holds the winner\n");
		break;
	case CTL_WHY_CONVERGING:
		fprintf(f, "converging:");
		if (s->max_lag_clock > 0 || s->max_lag_seq > 0)
			fprintf(f, " lag up to %" PRIu64 " clock%s, %" PRIu64
				" seq, %" PRIu64 " ms of wall time;",
				s->max_lag_clock,
				s->max_lag_clock == 1 ? "" : "s",
				s->max_lag_seq, s->max_lag_ms);
		if (s->not_asked > 0)
			fprintf(f, " %" PRIu64 " member%s not asked;",
				s->not_asked, s->not_asked == 1 ? "" : "s");
		fprintf(f, " not every member is known to hold the winner\n");
		break;
	default:
		fprintf(f, "diverged: same clock, different winners on "
			"different nodes (a resolver bug); symmetry "
			"violations:");
		for (i = 0; i < n; i++) {
			if (rows[i].status != CTL_WHY_SELF &&
			    rows[i].status != CTL_WHY_ANSWERED)
				continue;
			short_id(rows[i].id, id);
			fprintf(f, " %s %" PRIu64, id,
				rows[i].symmetry_violations);
		}
		fputc('\n', f);
		break;
	}
}

/* ------------------------------------------------------------ command */

int cmd_why(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_WHY};
	struct ctl_why_row *rows = NULL;
	struct ctl_why_summary s;
	struct ctl_reply r;
	size_t n = 0, cap = 0;
	uint8_t *key = NULL;
	int rv;

	if (argc != 2)
		return fmt_fail(CTL_EXIT_USAGE, "usage: rumorctl why KEY");
	rv = fmt_parse_bytes(x->hex, "KEY", argv[1], &key, &rq.key_len);
	if (rv == 0 && rq.key_len == 0)
		rv = fmt_fail(CTL_EXIT_USAGE, "KEY must not be empty");
	if (rv != 0)
		goto out;
	rq.key = key;
	rq.timeout_ms = x->timeout_ms ? x->timeout_ms : WHY_TIMEOUT_DEFAULT_MS;
	if (rq.timeout_ms > CTL_WHY_TIMEOUT_MAX) {
		rv = fmt_fail(CTL_EXIT_USAGE, "--timeout: at most %u ms",
			      CTL_WHY_TIMEOUT_MAX);
		goto out;
	}
	rv = client_request(x, &rq);
	for (;;) {
		if (rv != 0)
			goto out;
		rv = client_recv_reply(x, &r, rq.timeout_ms +
				       CTL_REPLY_TIMEOUT_MS);
		if (rv != 0)
			goto out;
		if (r.type == CTL_R_WHY)
			break;
		if (r.type != CTL_R_WHYROW) {
			rv = client_unexpected(&r);
			ctl_reply_free(&r);
			goto out;
		}
		if (n == cap) {
			struct ctl_why_row *nr = array_grow(rows, &cap, n + 1,
							    sizeof(*nr), 16);

			if (nr == NULL) {
				rv = fmt_fail(CTL_EXIT_FAIL, "out of memory");
				goto out;
			}
			rows = nr;
		}
		rows[n++] = r.why_row;
		ctl_reply_free(&r);
	}
	s = r.why;
	ctl_reply_free(&r);
	if (s.rows != n || (s.winner_row > n)) {
		rv = fmt_fail(CTL_EXIT_UNREACHABLE, "the node sent %zu rows "
			      "and a summary of %" PRIu64, n, s.rows);
		goto out;
	}
	if (x->json)
		why_json(stdout, &rq, rows, n, &s);
	else
		why_text(stdout, &rq, rows, n, &s, x->hex);
out:
	free(rows);
	free(key);
	return rv;
}
