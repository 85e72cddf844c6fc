/* SPDX-License-Identifier: MIT */
/*
 * rumorctl's renderings of the node's replies, as text for people and as
 * JSON for scripts (the JSON shapes are documented in rumorctl(1)).
 * Every string the node sent goes through fmt_safe* or fmt_json_*: a
 * gossiped address such as "\x1b]0;owned\x07" prints as those escapes,
 * never as a terminal command.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "crypto/identity.h"
#include "lib/prefixes.h"
#include "tools/ctl/ctl.h"

/* ------------------------------------------------------------ status */

static const char *mode_name(int mode)
{
	return mode == RUMOR_MODE_REPLICA ? "replica" : "peer";
}

/* "namespace" and "replicate" in JSON: null and [] stand for none and
 * every key; a prefix as fmt_json_bytes shows keys. */
static void status_shape_json(FILE *f, const struct ctl_status *st)
{
	size_t i;

	fprintf(f, ",\"namespace\":");
	if (st->namespace_len > 0)
		fmt_json_bytes(f, st->namespace_prefix, st->namespace_len);
	else
		fputs("null", f);
	fprintf(f, ",\"replicate\":[");
	for (i = 0; i < st->n_replicate; i++) {
		fputs(i > 0 ? "," : "", f);
		fmt_json_bytes(f, st->replicate[i].bytes, st->replicate[i].len);
	}
	fputc(']', f);
}

/* One prefix in rumord's own escapes (\xHH, \\), so that it can be
 * pasted back into --namespace or --replicate; a space as \x20, since
 * spaces separate the prefixes of a list. */
static void status_prefix(FILE *f, const uint8_t *p, size_t len)
{
	char text[4 * RUMOR_PREFIX_MAX + 1];

	prefix_escape(p, len, text, sizeof text);
	for (const char *c = text; *c != '\0'; c++) {
		if (*c == ' ')
			fputs("\\x20", f);
		else
			fputc(*c, f);
	}
}

static void status_shape_text(FILE *f, const struct ctl_status *st)
{
	size_t i;

	fputs("namespace:   ", f);
	if (st->namespace_len > 0) {
		status_prefix(f, st->namespace_prefix, st->namespace_len);
		fputc('\n', f);
	} else {
		fputs("none (local writes anywhere)\n", f);
	}
	fputs("replicate:   ", f);
	for (i = 0; i < st->n_replicate; i++) {
		fputs(i > 0 ? " " : "", f);
		status_prefix(f, st->replicate[i].bytes, st->replicate[i].len);
	}
	fputs(st->n_replicate > 0 ? "\n" : "every key (full node)\n", f);
}

/* Strong writes: the mode, the quorum and readiness. */
static void status_strong_json(FILE *f, const struct ctl_status *st)
{
	const struct rumor_stats *s = &st->stats;

	fprintf(f, ",\"consistency\":\"%s\",\"quorum\":%" PRIu32
		",\"reachable\":%" PRIu32 ",\"ready\":%s,\"strong\":{"
		"\"committed\":%" PRIu64 ",\"aborted\":%" PRIu64
		",\"prepared\":%" PRIu64 ",\"pending\":%" PRIu64
		",\"recovered\":%" PRIu64 ",\"late\":%" PRIu64 "}",
		st->consistency == RUMOR_CONSISTENCY_STRONG ? "strong"
							    : "gossip",
		s->strong_quorum, s->strong_reachable,
		st->ready ? "true" : "false", s->strong_committed,
		s->strong_aborted, s->strong_prepared, s->strong_pending,
		s->strong_recovered, s->strong_late);
}

static void status_strong_text(FILE *f, const struct ctl_status *st)
{
	const struct rumor_stats *s = &st->stats;

	if (st->consistency == RUMOR_CONSISTENCY_STRONG)
		fprintf(f, "consistency: strong (quorum %" PRIu32 ", %" PRIu32
			" reachable, %s)\n", s->strong_quorum,
			s->strong_reachable, st->ready ? "ready" : "not ready");
	else
		fprintf(f, "consistency: gossip (strong writes: quorum %"
			PRIu32 ", %" PRIu32 " reachable, %s)\n",
			s->strong_quorum, s->strong_reachable,
			st->ready ? "ready" : "not ready");
	/* As rumorctl(1) spells it, one space after the label: scripts
	 * grep this line. */
	fprintf(f, "strong: committed %" PRIu64 " aborted %" PRIu64
		" prepared %" PRIu64 " pending %" PRIu64 " recovered %" PRIu64
		" late %" PRIu64 "\n", s->strong_committed, s->strong_aborted,
		s->strong_prepared, s->strong_pending, s->strong_recovered,
		s->strong_late);
}

/* "1m5s", "12s", "800ms" */
static void fmt_duration(char *out, size_t size, uint64_t ms)
{
	if (ms < 1000)
		snprintf(out, size, "%" PRIu64 "ms", ms);
	else if (ms < 60000)
		snprintf(out, size, "%" PRIu64 "s", (ms + 500) / 1000);
	else
		snprintf(out, size, "%" PRIu64 "m%" PRIu64 "s", ms / 60000,
			 ms % 60000 / 1000);
}

void show_catchup_progress(char *out, size_t size,
			   const struct ctl_status *st)
{
	char eta[32];
	int n;

	if (st->catchup_expected == CTL_UNKNOWN)
		n = snprintf(out, size, "%" PRIu64 " entries received, "
			     "expected unknown (no peer's digest yet)",
			     st->catchup_received);
	else
		n = snprintf(out, size, "%" PRIu64 " of at most %" PRIu64
			     " entries received", st->catchup_received,
			     st->catchup_expected);
	if (n < 0 || (size_t)n >= size)
		return;
	if (st->catchup_eta_ms != CTL_UNKNOWN) {
		fmt_duration(eta, sizeof(eta), st->catchup_eta_ms);
		snprintf(out + n, size - (size_t)n, ", %.0f/s, about %s left",
			 st->catchup_rate, eta);
	} else {
		snprintf(out + n, size - (size_t)n, ", %.0f/s",
			 st->catchup_rate);
	}
}

/* The catch-up fields of JSON: the bound, and the progress (null when
 * not catching up or when the node is older and did not say). */
static void status_catchup_json(FILE *f, const struct ctl_status *st)
{
	if (!st->extended) {
		fputs(",\"catchup_progress\":null", f);
		return;
	}
	fprintf(f, ",\"catchup_wait_ms\":%" PRIu64, st->catchup_wait_ms);
	if (!st->catching_up) {
		fputs(",\"catchup_progress\":null", f);
		return;
	}
	fprintf(f, ",\"catchup_progress\":{\"received\":%" PRIu64
		",\"expected\":", st->catchup_received);
	if (st->catchup_expected == CTL_UNKNOWN)
		fputs("null", f);
	else
		fprintf(f, "%" PRIu64, st->catchup_expected);
	fprintf(f, ",\"rate\":%.1f,\"eta_ms\":", st->catchup_rate);
	if (st->catchup_eta_ms == CTL_UNKNOWN)
		fputs("null}", f);
	else
		fprintf(f, "%" PRIu64 "}", st->catchup_eta_ms);
}

static void status_json(FILE *f, const struct ctl_reply *r)
{
	const struct ctl_status *st = &r->status;
	char origin[CTL_ORIGIN_STRLEN];
	const char *sep = "";
	size_t i;

	fprintf(f, "{\"id\":");
	fmt_json_cstr(f, st->id);
	fprintf(f, ",\"mode\":\"%s\",\"listen\":", mode_name(st->mode));
	fmt_json_cstr(f, st->listen);
	fprintf(f, ",\"data_dir\":");
	fmt_json_cstr(f, st->data_dir);
	fprintf(f, ",\"resolver\":");
	fmt_json_cstr(f, st->resolver);
	status_shape_json(f, st);
	status_strong_json(f, st);
	fprintf(f, ",\"open_network\":%s,\"catching_up\":%s,"
		"\"catchup_left_ms\":%" PRIu64 ",\"velocity\":%.3f,"
		"\"interval_ms\":%" PRIu32 ",\"local_seq\":%" PRIu64 ","
		"\"peers\":{\"known\":%" PRIu64 ",\"alive\":%" PRIu64
		",\"suspect\":%" PRIu64 ",\"connected\":%" PRIu64 "}",
		st->open_network ? "true" : "false",
		st->catching_up ? "true" : "false", st->catchup_left_ms,
		st->velocity, st->interval_ms, st->local_seq, st->peers_known,
		st->peers_alive, st->peers_suspect, st->peers_connected);
	status_catchup_json(f, st);
	fprintf(f, ",\"counters\":{");
#define SHOW_COUNTER(name)                                             \
	fprintf(f, "%s\"" #name "\":%" PRIu64, sep, st->stats.name);   \
	sep = ",";
	CTL_COUNTERS(SHOW_COUNTER)
#undef SHOW_COUNTER
	fprintf(f, "},\"refused\":{");
	for (i = 0; i < REFUSE_COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i > 0 ? "," : "",
			refuse_name((int)i), st->refused[i]);
	fprintf(f, "},\"announcements_dropped_by_reason\":{");
	for (i = 0; i < st->n_dropped; i++) {
		fprintf(f, "%s", i > 0 ? "," : "");
		fmt_json_cstr(f, st->dropped[i].name);
		fprintf(f, ":%" PRIu64, st->dropped[i].count);
	}
	fprintf(f, "},\"hwm_total\":%" PRIu64 ",\"hwm\":[", r->hwm_total);
	for (i = 0; i < r->n_hwm; i++) {
		fmt_origin(r->hwm[i].origin, r->hwm[i].origin_len, origin,
			   sizeof(origin));
		fprintf(f, "%s{\"origin\":\"%s\",\"seq\":%" PRIu64 "}",
			i ? "," : "", origin, r->hwm[i].seq);
	}
	fprintf(f, "]}\n");
}

/* "label" and a node-supplied string, escaped; alt when it is empty. */
static void status_line(FILE *f, const char *label, const char *s,
			const char *alt)
{
	fputs(label, f);
	if (s[0] == '\0' && alt != NULL)
		fputs(alt, f);
	else
		fmt_safe_put(f, s, strlen(s));
	fputc('\n', f);
}

static void status_counters(FILE *f, const struct rumor_stats *s)
{
	fprintf(f, "keys:        %" PRIu64 " live, %" PRIu64
		" tombstones\n", s->keys, s->tombstones);
	fprintf(f, "writes:      %" PRIu64 " local\n", s->local_writes);
	fprintf(f, "entries:     %" PRIu64 " sent, %" PRIu64 " received, %"
		PRIu64 " applied, %" PRIu64 " stale, %" PRIu64
		" identical\n", s->entries_sent, s->entries_received,
		s->remote_applied, s->remote_stale, s->remote_identical);
	fprintf(f, "live:        %" PRIu64 " sent, %" PRIu64 " received (%"
		PRIu64 " duplicates), %" PRIu64 " lost to rounds, %" PRIu64
		" grafts\n", s->live_sent, s->live_received,
		s->live_duplicates, s->live_lost, s->live_grafts);
	fprintf(f, "conflicts:   %" PRIu64 " by default order, %" PRIu64
		" by resolver, %" PRIu64 " symmetry violations\n",
		s->conflicts_default, s->conflicts_resolver,
		s->symmetry_violations);
	fprintf(f, "bytes:       %" PRIu64 " in, %" PRIu64 " out\n",
		s->bytes_in, s->bytes_out);
	fprintf(f, "announcements dropped: %" PRIu64,
		s->announcements_dropped);
}

/* The reasons of the drops (names from the node: escaped). */
static void status_dropped(FILE *f, const struct ctl_status *st)
{
	size_t i;

	for (i = 0; i < st->n_dropped; i++) {
		fputs(i == 0 ? " (" : ", ", f);
		fmt_safe_put(f, st->dropped[i].name,
			     strlen(st->dropped[i].name));
		fprintf(f, " %" PRIu64, st->dropped[i].count);
	}
	fputs(st->n_dropped > 0 ? ")\n" : "\n", f);
}

/* Only the reasons that happened; "none" when nothing was refused. */
static void status_refused(FILE *f, const struct ctl_status *st)
{
	const char *sep = "";
	int i;

	fputs("refused:     ", f);
	for (i = 0; i < REFUSE_COUNT; i++)
		if (st->refused[i] > 0) {
			fprintf(f, "%s%s %" PRIu64, sep, refuse_name(i),
				st->refused[i]);
			sep = ", ";
		}
	fputs(sep[0] == '\0' ? "none\n" : "\n", f);
}

static void status_text(FILE *f, const struct ctl_reply *r)
{
	const struct ctl_status *st = &r->status;
	char origin[CTL_ORIGIN_STRLEN];
	size_t i;

	status_line(f, "id:          ", st->id, NULL);
	fprintf(f, "mode:        %s\n", mode_name(st->mode));
	status_shape_text(f, st);
	status_strong_text(f, st);
	status_line(f, "listen:      ", st->listen, "(not listening)");
	status_line(f, "data:        ", st->data_dir, NULL);
	fprintf(f, "network:     %s\n", st->open_network ?
		"OPEN: built-in network key, anyone on the network can join" :
		"private network key");
	status_line(f, "resolver:    ", st->resolver, "default");
	if (st->catching_up) {
		char line[160];

		/* An older node (no extended STATUS) refuses at once. */
		fprintf(f, "catch-up:    in progress, writes %s for up to %"
			PRIu64 " ms more\n", st->extended ? "wait" : "refused",
			st->catchup_left_ms);
		if (st->extended) {
			show_catchup_progress(line, sizeof(line), st);
			fprintf(f, "progress:    %s\n", line);
		}
	} else {
		fprintf(f, "catch-up:    done\n");
	}
	fprintf(f, "velocity:    %.2f writes/s\n", st->velocity);
	fprintf(f, "interval:    %" PRIu32 " ms\n", st->interval_ms);
	fprintf(f, "local seq:   %" PRIu64 "\n", st->local_seq);
	fprintf(f, "peers:       %" PRIu64 " known, %" PRIu64 " alive, %"
		PRIu64 " suspect, %" PRIu64 " connected\n", st->peers_known,
		st->peers_alive, st->peers_suspect, st->peers_connected);
	status_counters(f, &st->stats);
	status_dropped(f, st);
	status_refused(f, st);
	fprintf(f, "hwm:         %" PRIu64 " origin%s%s\n", r->hwm_total,
		r->hwm_total == 1 ? "" : "s",
		r->n_hwm < r->hwm_total ? " (first ones shown)" : "");
	for (i = 0; i < r->n_hwm; i++) {
		fmt_origin(r->hwm[i].origin, r->hwm[i].origin_len, origin,
			   sizeof(origin));
		fprintf(f, "  %-44s %" PRIu64 "%s\n", origin, r->hwm[i].seq,
			strcmp(origin, st->id) == 0 ? "  (this node)" : "");
	}
}

void show_status(FILE *f, int json, const struct ctl_reply *r)
{
	if (json)
		status_json(f, r);
	else
		status_text(f, r);
}

/* ------------------------------------------------------------ peers */

void show_peer_row(struct show_peer_row *row, const struct ctl_peer *p)
{
	const struct ctl_peer_info *in = &p->info;
	char id[IDENTITY_ID_STRLEN];
	size_t n;

	identity_id_string(in->id, id);
	/* The first 12 characters tell peers apart. */
	snprintf(row->id, sizeof(row->id), "%.12s", id);
	if (in->address[0] != '\0')
		fmt_safe(row->address, sizeof(row->address), in->address,
			 strnlen(in->address, sizeof(in->address)));
	else
		snprintf(row->address, sizeof(row->address), "-");
	fmt_safe(row->learned, sizeof(row->learned), p->learned,
		 strlen(p->learned));
	n = fmt_safe(row->state, sizeof(row->state), p->state,
		     strlen(p->state));
	if (in->connected)
		snprintf(row->state + n, sizeof(row->state) - n,
			 ", connected");
	fmt_ago(in->last_contact_ago_ms, row->contact, sizeof(row->contact));
	fmt_ago(in->last_sync_ago_ms, row->sync, sizeof(row->sync));
	snprintf(row->lag, sizeof(row->lag), "%" PRIu64, in->lag);
}

void show_peer_table(FILE *f, const struct show_peer_row *rows, size_t n)
{
	int w[7] = {2, 7, 7, 5, 12, 9, 3};
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		const char *cols[7] = {rows[i].id, rows[i].address,
				       rows[i].learned, rows[i].state,
				       rows[i].contact, rows[i].sync,
				       rows[i].lag};

		for (k = 0; k < 7; k++)
			if ((int)strlen(cols[k]) > w[k])
				w[k] = (int)strlen(cols[k]);
	}
	fprintf(f, "%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %*s\n", w[0], "ID",
		w[1], "ADDRESS", w[2], "LEARNED", w[3], "STATE", w[4],
		"LAST CONTACT", w[5], "LAST SYNC", w[6], "LAG");
	for (i = 0; i < n; i++)
		fprintf(f, "%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %*s\n", w[0],
			rows[i].id, w[1], rows[i].address, w[2],
			rows[i].learned, w[3], rows[i].state, w[4],
			rows[i].contact, w[5], rows[i].sync, w[6],
			rows[i].lag);
	if (n == 0)
		fprintf(f, "(no peers known)\n");
}

/* ,"name":ms or ,"name":null for never. */
static void json_ago(FILE *f, const char *name, uint64_t ms)
{
	if (ms == UINT64_MAX)
		fprintf(f, ",\"%s\":null", name);
	else
		fprintf(f, ",\"%s\":%" PRIu64, name, ms);
}

void show_peer_json(FILE *f, const struct ctl_peer *p)
{
	const struct ctl_peer_info *in = &p->info;
	char id[IDENTITY_ID_STRLEN];

	identity_id_string(in->id, id);
	fprintf(f, "{\"id\":\"%s\",\"address\":", id);
	fmt_json_cstr(f, in->address);
	fprintf(f, ",\"learned\":");
	fmt_json_cstr(f, p->learned);
	fprintf(f, ",\"state\":");
	fmt_json_cstr(f, p->state);
	fprintf(f, ",\"connected\":%s", in->connected ? "true" : "false");
	json_ago(f, "last_contact_ms_ago", in->last_contact_ago_ms);
	json_ago(f, "last_sync_ms_ago", in->last_sync_ago_ms);
	fprintf(f, ",\"lag\":%" PRIu64 "}", in->lag);
}

/* ------------------------------------------------------------ records */

/* The fields of a record's JSON object, from "key" on. */
static void record_json_fields(FILE *f, const struct ctl_reply *r,
			       int with_local)
{
	const struct rumor_version *v = &r->rec;
	char origin[CTL_ORIGIN_STRLEN];

	fmt_origin(v->origin, v->origin_len, origin, sizeof(origin));
	fprintf(f, "\"key\":");
	fmt_json_bytes(f, v->key, v->key_len);
	fprintf(f, ",\"value\":");
	fmt_json_bytes(f, v->value, v->value_len);
	fprintf(f, ",\"value_len\":%zu,\"deleted\":%s,\"clock\":%" PRIu64
		",\"origin\":\"%s\",\"seq\":%" PRIu64 ",\"wall_ms\":%" PRIu64,
		v->value_len, v->deleted ? "true" : "false", v->clock, origin,
		v->seq, v->wall_ms);
	if (with_local)
		fprintf(f, ",\"local\":%s", r->local ? "true" : "false");
}

void show_record_json(FILE *f, const struct ctl_reply *r, int with_local)
{
	fputc('{', f);
	record_json_fields(f, r, with_local);
	fputc('}', f);
}

void show_change_json(FILE *f, const struct ctl_reply *r)
{
	fprintf(f, "{\"pos\":%" PRIu64 ",", r->pos);
	record_json_fields(f, r, 1);
	fputc('}', f);
}

void show_record_text(FILE *f, int hex, const struct ctl_reply *r)
{
	const struct rumor_version *v = &r->rec;
	char origin[CTL_ORIGIN_STRLEN], wall[48];

	fmt_origin(v->origin, v->origin_len, origin, sizeof(origin));
	fmt_wall(v->wall_ms, wall, sizeof(wall));
	fprintf(f, "key:       ");
	fmt_bytes(f, hex, v->key, v->key_len);
	fprintf(f, "\nclock:     %" PRIu64 "\n", v->clock);
	fprintf(f, "origin:    %s\n", origin);
	fprintf(f, "seq:       %" PRIu64 "\n", v->seq);
	fprintf(f, "wall time: %s (%" PRIu64 ")\n", wall, v->wall_ms);
	fprintf(f, "deleted:   %s\n", v->deleted ? "yes" : "no");
	if (!v->deleted)
		fprintf(f, "size:      %zu bytes\n", v->value_len);
}

void show_change(FILE *f, int hex, const struct ctl_reply *r)
{
	const struct rumor_version *v = &r->rec;
	char origin[CTL_ORIGIN_STRLEN], wall[48];

	fmt_origin(v->origin, v->origin_len, origin, sizeof(origin));
	fmt_wall(v->wall_ms, wall, sizeof(wall));
	fprintf(f, "%" PRIu64 "  %s  %-6s %.12s  clock %" PRIu64 "  seq %"
		PRIu64 "  %s ", r->pos, wall, r->local ? "local" : "remote",
		origin, v->clock, v->seq, v->deleted ? "del" : "put");
	fmt_bytes(f, hex, v->key, v->key_len);
	if (!v->deleted) {
		fprintf(f, " = ");
		fmt_bytes(f, hex, v->value, v->value_len);
	}
	fputc('\n', f);
}

/* ------------------------------------------------------------ sync */

int show_sync(FILE *f, int json, const struct ctl_sync_report *s)
{
	if (json) {
		fprintf(f, "{\"peers_tried\":%" PRIu32 ",\"peers_completed\":%"
			PRIu32 ",\"entries_sent\":%" PRIu64
			",\"entries_received\":%" PRIu64
			",\"entries_applied\":%" PRIu64 ",\"bytes_in\":%"
			PRIu64 ",\"bytes_out\":%" PRIu64 "}\n",
			s->peers_tried, s->peers_completed, s->entries_sent,
			s->entries_received, s->entries_applied, s->bytes_in,
			s->bytes_out);
		return 0;
	}
	if (s->peers_tried == 0) {
		fprintf(f, "no alive peer to reconcile with\n");
		return 0;
	}
	fprintf(f, "reconciled with %" PRIu32 " of %" PRIu32 " peers\n",
		s->peers_completed, s->peers_tried);
	fprintf(f, "entries:  %" PRIu64 " sent, %" PRIu64 " received, %"
		PRIu64 " applied\n", s->entries_sent, s->entries_received,
		s->entries_applied);
	fprintf(f, "bytes:    %" PRIu64 " in, %" PRIu64 " out\n", s->bytes_in,
		s->bytes_out);
	return s->peers_completed < s->peers_tried;
}
