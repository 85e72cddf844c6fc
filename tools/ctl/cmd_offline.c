/* SPDX-License-Identifier: MIT */
/*
 * The commands of rumorctl --offline DATA: get, scan, version, log,
 * status and check, answered from a private copy of a stopped node's
 * store (offline.c), printed by the same code as the online commands
 * where those exist (cmd_keys.c, show.c).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/identity.h"
#include "lib/array.h"
#include "lib/prefixes.h"
#include "store/store.h"
#include "tools/ctl/ctl.h"

/* ------------------------------------------------------------ opening */

/* A store message names the private copy: name DATA instead (every
 * time: LevelDB's reasons repeat the path). */
static void offline_message(const struct ctx *x, const char *msg, char *out,
			    size_t size)
{
	size_t tlen = strlen(x->offline_tmp), used = 0;
	const char *at;

	out[0] = '\0';
	while (used + 1 < size) {
		at = tlen > 0 ? strstr(msg, x->offline_tmp) : NULL;
		if (at == NULL) {
			snprintf(out + used, size - used, "%s", msg);
			return;
		}
		used += (size_t)snprintf(out + used, size - used, "%.*s%s",
					 (int)(at - msg), msg, x->offline);
		if (used >= size)
			return;
		msg = at + tlen;
	}
}

/* The store, or an exit code with the reason printed (3: the store
 * cannot be read, a corrupt one included; `check` reports that as a
 * fault instead). */
static int offline_store(struct ctx *x, struct store **s)
{
	char msg[ERR_MSG_MAX + PATH_MAX];
	struct err err;
	int rv;

	rv = offline_open(x, &err);
	if (rv > 0)
		return rv;
	if (rv < 0) {
		offline_message(x, err.msg, msg, sizeof(msg));
		return fmt_fail(CTL_EXIT_UNREACHABLE, "%s%s", msg,
				err.code == RUMOR_ECORRUPT ? " (rumorctl "
				"--offline DATA check lists what is wrong)" : "");
	}
	*s = x->offline_store;
	return 0;
}

/* A failed read of the store: exit 1 with its message. */
static int offline_failed(const struct ctx *x, const struct err *err)
{
	char msg[ERR_MSG_MAX + PATH_MAX];

	offline_message(x, err->msg[0] ? err->msg : rumor_strerror(err->code),
			msg, sizeof(msg));
	return fmt_fail(CTL_EXIT_FAIL, "%s", msg);
}

/* ------------------------------------------------------------ the runner */

/* What a command takes after its name. */
enum offline_arg {
	OFFLINE_ARG_NONE = 0,
	OFFLINE_ARG_KEY,             /* KEY: required, not empty */
	OFFLINE_ARG_PREFIX,          /* [PREFIX]: optional, may be empty */
};

/* A row of the table: the command main.c runs (every fn is offline_run),
 * what it takes and how it answers. */
struct offline_command {
	struct command c;            /* first: x->cmd points to it */
	enum offline_arg arg;
	const char *usage;           /* what follows the name in its usage */
	int opens;                   /* 0: run opens the store (check) */
	/* The answer, from the store (NULL unless opens) and the argument
	 * (NULL and 0 when none was given). */
	int (*run)(struct ctx *x, struct store *s, const uint8_t *arg,
		   size_t arg_len);
};

/* Every command: its arguments (usage, exit 2), then the store opened
 * (unless the command does it), then its answer. */
static int offline_run(struct ctx *x, int argc, char **argv)
{
	const struct offline_command *oc =
		(const struct offline_command *)x->cmd;
	int min = oc->arg == OFFLINE_ARG_KEY ? 2 : 1;
	int max = oc->arg != OFFLINE_ARG_NONE ? 2 : 1;
	const char *what = oc->arg == OFFLINE_ARG_KEY ? "KEY" : "PREFIX";
	struct store *s = NULL;
	uint8_t *arg = NULL;
	size_t len = 0;
	int rv = 0;

	if (argc < min || argc > max)
		return fmt_fail(CTL_EXIT_USAGE, "usage: rumorctl --offline DATA "
				"%s%s%s", oc->c.name, oc->usage[0] ? " " : "",
				oc->usage);
	if (argc == 2)
		rv = fmt_parse_bytes(x->hex, what, argv[1], &arg, &len);
	if (rv == 0 && oc->arg == OFFLINE_ARG_KEY && len == 0)
		rv = fmt_fail(CTL_EXIT_USAGE, "KEY must not be empty");
	if (rv == 0 && oc->opens)
		rv = offline_store(x, &s);
	if (rv == 0)
		rv = oc->run(x, s, arg, len);
	free(arg);
	return rv;
}

/* A failed read of one key: not found, or why (exit 1). */
static int offline_key_failed(const struct ctx *x, const struct err *err)
{
	return err->code == RUMOR_ENOTFOUND
		       ? fmt_fail(CTL_EXIT_FAIL, "not found")
		       : offline_failed(x, err);
}

/* ------------------------------------------------------------ get, version */

static int offline_get(struct ctx *x, struct store *s, const uint8_t *key,
		       size_t len)
{
	struct err err;
	void *value;
	size_t vlen;

	err_clear(&err);
	if (store_get(s, key, len, &value, &vlen, &err) != 0)
		return offline_key_failed(x, &err);
	show_value(x, key, len, value, vlen);
	free(value);
	return 0;
}

static int offline_version(struct ctx *x, struct store *s, const uint8_t *key,
			   size_t len)
{
	struct store_record *rec;
	struct ctl_reply r;
	struct err err;

	err_clear(&err);
	if (store_get_version(s, key, len, &rec, &err) != 0)
		return offline_key_failed(x, &err);
	memset(&r, 0, sizeof(r));
	r.type = CTL_R_RECORD;
	r.rec = rec->v;
	r.pos = rec->pos;
	if (x->json) {
		show_record_json(stdout, &r, 0);
		putchar('\n');
	} else {
		show_record_text(stdout, x->hex, &r);
	}
	store_record_free(rec);
	return 0;
}

/* ------------------------------------------------------------ scan */

struct offline_scan {
	const struct ctx *x;
	struct scan_rows rows;
	uint64_t given;
	int truncated;
	int rv;
};

static int offline_scan_key(void *arg, const void *key, size_t key_len,
			    const void *value, size_t value_len)
{
	struct offline_scan *os = arg;

	if (os->x->have_limit && os->given == os->x->limit) {
		os->truncated = 1;       /* one more than the limit exists */
		return 1;
	}
	os->given++;
	os->rv = scan_rows_add(os->x, &os->rows, key, key_len, value,
			       value_len);
	return os->rv != 0;
}

static int offline_scan(struct ctx *x, struct store *s, const uint8_t *prefix,
			size_t len)
{
	struct offline_scan os = {.x = x};
	struct err err;
	int rv;

	rv = scan_rows_begin(x, &os.rows);
	if (rv == 0) {
		err_clear(&err);
		if (store_scan(s, prefix, len, offline_scan_key, &os, &err) != 0)
			rv = offline_failed(x, &err);
		else if (os.rv != 0)
			rv = os.rv;
		else
			scan_rows_end(x, &os.rows, os.truncated);
	}
	scan_rows_free(&os.rows);
	return rv;
}

/* ------------------------------------------------------------ log */

struct offline_log {
	const struct ctx *x;
	char last[CTL_ORIGIN_STRLEN];    /* show_log_entry's heading */
	size_t n;                        /* entries printed */
};

/* One entry as the online `log` prints it. */
static int offline_log_entry(void *arg, const struct rumor_version *v)
{
	struct offline_log *ol = arg;
	struct ctl_reply r;

	if (!ol->x->json) {
		show_log_entry(ol->x, v, ol->last, sizeof(ol->last), ol->n++);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	r.rec = *v;
	printf("%s\n", ol->n++ ? "," : "");
	show_record_json(stdout, &r, 0);
	return 0;
}

/* The write log per origin, newest first: the node's LOG, from the
 * same store function (store_log_newest). */
static int offline_log_origins(struct ctx *x, struct store *s)
{
	struct offline_log ol = {.x = x};
	struct err err;

	err_clear(&err);
	if (x->json)
		printf("[");
	if (store_log_newest(s, NULL, x->have_limit ? (size_t)x->limit
						    : CTL_LOG_LIMIT_DEFAULT,
			     offline_log_entry, &ol, &err) != 0)
		return offline_failed(x, &err);
	if (x->json)
		printf("%s]\n", ol.n ? "\n" : "");
	else if (ol.n == 0)
		printf("(the log is empty)\n");
	return 0;
}

struct offline_feed {
	const struct ctx *x;
	size_t n;
};

static int offline_feed_entry(void *arg, uint64_t pos,
			      const struct rumor_version *v)
{
	struct offline_feed *of = arg;
	const struct ctx *x = of->x;
	struct ctl_reply r;

	memset(&r, 0, sizeof(r));
	r.type = CTL_R_RECORD;
	r.rec = *v;
	r.pos = pos;
	r.local = x->offline_have_origin && v->origin_len == STORE_ORIGIN_BYTES &&
		  memcmp(v->origin, x->offline_origin, STORE_ORIGIN_BYTES) == 0;
	if (x->json) {
		show_change_json(stdout, &r);
		putchar('\n');
	} else {
		show_change(stdout, x->hex, &r);
	}
	of->n++;
	return 0;
}

/* log --since POS: the changes after POS in position order, as `watch
 * --since POS` prints them, without staying for live ones. */
static int offline_log_since(struct ctx *x, struct store *s)
{
	struct offline_feed of = {.x = x};
	uint64_t floor = store_feed_floor(s), last = 0;
	struct err err;
	int at_end = 1;

	if (x->since != 0 && x->since < floor)
		return fmt_fail(CTL_EXIT_FAIL, "position %" PRIu64 " is older "
				"than the oldest this store can show: the floor "
				"is %" PRIu64 " (positions at or above it, or 0 "
				"for the whole store)", x->since, floor);
	err_clear(&err);
	if (store_feed_scan(s, x->since, x->have_limit ? (size_t)x->limit : 0,
			    offline_feed_entry, &of, &last, &at_end, &err) != 0)
		return offline_failed(x, &err);
	if (!x->json && of.n == 0)
		printf("(no change after position %" PRIu64 ")\n", x->since);
	if (!at_end)
		fprintf(stderr, "rumorctl: stopped at the limit of %" PRIu64
			" changes (the last shown is at position %" PRIu64
			"; go on with --since %" PRIu64 ")\n", x->limit, last,
			last);
	return 0;
}

static int offline_log(struct ctx *x, struct store *s, const uint8_t *arg,
		       size_t len)
{
	(void)arg;
	(void)len;
	return x->have_since ? offline_log_since(x, s)
			     : offline_log_origins(x, s);
}

/* ------------------------------------------------------------ status */

struct status_hwms {
	struct store_hwm *v;
	size_t n, cap;
};

static int status_hwm_add(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct status_hwms *h = arg;
	void *grown;

	if (h->n == h->cap) {
		grown = array_grow(h->v, &h->cap, h->n + 1, sizeof(*h->v), 16);
		if (grown == NULL)
			return 1;
		h->v = grown;
	}
	memcpy(h->v[h->n].origin, origin, STORE_ORIGIN_BYTES);
	h->v[h->n++].seq = seq;
	return 0;
}

struct status_intents {
	const struct ctx *x;
	size_t n;
};

/* One pending intent: its transaction, coordinator, deadline, ops. */
static int status_intent(void *arg, const struct store_intent *in)
{
	struct status_intents *si = arg;
	char coord[CTL_ORIGIN_STRLEN], wall[48];

	fmt_origin(in->coordinator, STORE_ORIGIN_BYTES, coord, sizeof(coord));
	fmt_wall(in->deadline_ms, wall, sizeof(wall));
	if (si->x->json) {
		printf("%s{\"txid\":\"", si->n ? "," : "");
		fmt_hex(stdout, in->txid, STORE_TXID_BYTES);
		printf("\",\"coordinator\":\"%s\",\"deadline_ms\":%" PRIu64
		       ",\"ops\":%zu,\"participants\":%zu}", coord,
		       in->deadline_ms, in->n_ops, in->n_participants);
	} else {
		printf("  txid ");
		fmt_hex(stdout, in->txid, STORE_TXID_BYTES);
		printf("  coordinator %.12s  %zu ops  %zu participants  "
		       "deadline %s\n", coord, in->n_ops, in->n_participants,
		       wall);
	}
	si->n++;
	return 0;
}

static void status_replicate(const struct ctx *x, const struct prefixes *p)
{
	char text[4 * RUMOR_PREFIX_MAX + 1];
	size_t i;

	if (x->json) {
		printf(",\"replicate\":[");
		for (i = 0; i < p->n; i++) {
			fputs(i > 0 ? "," : "", stdout);
			fmt_json_bytes(stdout, p->v[i].bytes, p->v[i].len);
		}
		printf("]");
		return;
	}
	printf("replicate:   ");
	for (i = 0; i < p->n; i++) {
		prefix_escape(p->v[i].bytes, p->v[i].len, text, sizeof(text));
		printf("%s%s", i > 0 ? " " : "", text);
	}
	printf("%s\n", p->n > 0 ? "" : "every key (full node)");
}

static void status_print(const struct ctx *x, struct store *s,
			 const struct status_hwms *h)
{
	char id[IDENTITY_ID_STRLEN], origin[CTL_ORIGIN_STRLEN];
	struct store_stats st;
	size_t i;

	store_get_stats(s, &st);
	if (x->offline_have_origin)
		identity_id_string(x->offline_origin, id);
	if (x->json) {
		printf("{\"offline\":true,\"id\":");
		if (x->offline_have_origin)
			printf("\"%s\"", id);
		else
			printf("null");
		printf(",\"data_dir\":");
		fmt_json_cstr(stdout, x->offline);
		printf(",\"schema\":%" PRIu32 ",\"local_seq\":%" PRIu64,
		       store_schema_found(s), store_local_seq(s));
		status_replicate(x, store_filter(s));
		printf(",\"self_complete\":%s,\"counters\":{\"keys\":%" PRIu64
		       ",\"tombstones\":%" PRIu64 ",\"log_entries\":%" PRIu64
		       "},\"feed_head\":%" PRIu64 ",\"feed_floor\":%" PRIu64
		       ",\"intents\":%zu,\"outcomes\":%zu,\"hwm_total\":%zu,"
		       "\"hwm\":[", store_self_complete(s) ? "true" : "false",
		       st.keys, st.tombstones, st.log_entries,
		       store_feed_head(s), store_feed_floor(s),
		       store_intents_count(s), store_outcomes_count(s), h->n);
		for (i = 0; i < h->n; i++) {
			fmt_origin(h->v[i].origin, STORE_ORIGIN_BYTES, origin,
				   sizeof(origin));
			printf("%s{\"origin\":\"%s\",\"seq\":%" PRIu64 "}",
			       i ? "," : "", origin, h->v[i].seq);
		}
		printf("]");
		return;         /* the caller adds the intents and '}' */
	}
	printf("id:          %s\n", x->offline_have_origin ? id :
	       "unknown (no readable node.key)");
	printf("data:        ");
	fmt_safe_put(stdout, x->offline, strlen(x->offline));
	printf(" (offline: a copy of its store)\n");
	printf("schema:      %" PRIu32 "%s\n", store_schema_found(s),
	       store_schema_found(s) < STORE_SCHEMA_VERSION ?
	       " (rumord upgrades it at its next start)" : "");
	printf("local seq:   %" PRIu64 "\n", store_local_seq(s));
	status_replicate(x, store_filter(s));
	if (!store_self_complete(s))
		printf("self:        incomplete (a narrower replicate set "
		       "dropped some of this node's own writes)\n");
	printf("keys:        %" PRIu64 " live, %" PRIu64 " tombstones\n",
	       st.keys, st.tombstones);
	printf("log:         %" PRIu64 " entries\n", st.log_entries);
	printf("feed:        head %" PRIu64 ", floor %" PRIu64 "\n",
	       store_feed_head(s), store_feed_floor(s));
	printf("intents:     %zu pending, %zu outcomes kept\n",
	       store_intents_count(s), store_outcomes_count(s));
	printf("hwm:         %zu origin%s\n", h->n, h->n == 1 ? "" : "s");
	for (i = 0; i < h->n; i++) {
		fmt_origin(h->v[i].origin, STORE_ORIGIN_BYTES, origin,
			   sizeof(origin));
		printf("  %-44s %" PRIu64 "%s\n", origin, h->v[i].seq,
		       x->offline_have_origin &&
		       memcmp(h->v[i].origin, x->offline_origin,
			      STORE_ORIGIN_BYTES) == 0 ? "  (this node)" : "");
	}
}

static int offline_status(struct ctx *x, struct store *s, const uint8_t *arg,
			  size_t len)
{
	struct status_intents si = {.x = x};
	struct status_hwms h = {0};
	struct err err;
	int rv = 0;

	(void)arg;
	(void)len;
	err_clear(&err);
	if (store_hwms(s, NULL, status_hwm_add, &h, &err) != 0) {
		rv = err.code != 0 ? offline_failed(x, &err)
				   : fmt_fail(CTL_EXIT_FAIL, "out of memory");
		goto out;
	}
	status_print(x, s, &h);
	if (x->json)
		printf(",\"pending_intents\":[");
	if (store_intents_count(s) > 0 &&
	    store_intents_scan(s, status_intent, &si, &err) != 0) {
		if (x->json)
			printf("]}\n");
		rv = offline_failed(x, &err);
		goto out;
	}
	if (x->json)
		printf("]}\n");
out:
	free(h.v);
	return rv;
}

/* ------------------------------------------------------------ check */

struct check_out {
	const struct ctx *x;
	size_t n;
};

static void check_line(const struct ctx *x, size_t n, const char *msg)
{
	if (x->json) {
		printf("%s", n ? "," : "");
		fmt_json_cstr(stdout, msg);
	} else {
		fmt_safe_put(stdout, msg, strlen(msg));
		putchar('\n');
	}
}

static void check_report(void *arg, const char *message)
{
	struct check_out *co = arg;

	check_line(co->x, co->n++, message);
}

/* Opens the store itself: one that does not open is a fault to list. */
static int offline_check(struct ctx *x, struct store *s, const uint8_t *arg,
			 size_t len)
{
	char msg[ERR_MSG_MAX + PATH_MAX];
	struct check_out co = {.x = x};
	struct store_stats st;
	struct err err;
	size_t found = 0;
	int rv;

	(void)arg;
	(void)len;
	rv = offline_open(x, &err);
	if (rv > 0)
		return rv;
	if (rv < 0 && err.code != RUMOR_ECORRUPT) {
		offline_message(x, err.msg, msg, sizeof(msg));
		return fmt_fail(CTL_EXIT_UNREACHABLE, "%s", msg);
	}
	if (x->json)
		printf("{\"broken\":[");
	if (rv < 0) {
		/* The store does not even open: that fault is the one found. */
		offline_message(x, err.msg, msg, sizeof(msg));
		check_line(x, co.n++, msg);
		found = 1;
	} else {
		s = x->offline_store;
		err_clear(&err);
		rv = store_check_all(s, check_report, &co, &found, &err);
		if (rv != 0 && rv != RUMOR_ECORRUPT) {
			/* The walk could not go on: not a clean store. */
			if (x->json)
				printf("],\"ok\":false}\n");
			return offline_failed(x, &err);
		}
	}
	if (s != NULL)
		store_get_stats(s, &st);
	else
		memset(&st, 0, sizeof(st));
	if (x->json) {
		printf("],\"ok\":%s,\"keys\":%" PRIu64 ",\"tombstones\":%"
		       PRIu64 ",\"log_entries\":%" PRIu64 "}\n",
		       found ? "false" : "true", st.keys, st.tombstones,
		       st.log_entries);
	} else if (found == 0) {
		printf("ok: every invariant holds (%" PRIu64 " live keys, %"
		       PRIu64 " tombstones, %" PRIu64 " log entries)\n",
		       st.keys, st.tombstones, st.log_entries);
	} else {
		fprintf(stderr, "rumorctl: check: %zu broken invariant%s\n",
			found, found == 1 ? "" : "s");
	}
	return found ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

/* ------------------------------------------------------------ the table */

static const struct offline_command offline_commands[] = {
	{{"status", offline_run, CTL_OPT_JSON, "",
	  "The store's schema, own seq, replicate set, counts of keys, "
	  "tombstones and log entries, pending intents, HWM vector", NULL, 0},
	 OFFLINE_ARG_NONE, "", 1, offline_status},
	{{"get", offline_run, CTL_OPT_JSON | CTL_OPT_HEX, "KEY",
	  "Prints a key's value", NULL, 0},
	 OFFLINE_ARG_KEY, "KEY", 1, offline_get},
	{{"scan", offline_run, CTL_OPT_JSON | CTL_OPT_HEX | CTL_OPT_LIMIT,
	  "[PREFIX]",
	  "Lists live keys (starting with PREFIX) and values in key order",
	  "stop after N keys", UINT64_MAX},
	 OFFLINE_ARG_PREFIX, "[PREFIX]", 1, offline_scan},
	{{"version", offline_run, CTL_OPT_JSON | CTL_OPT_HEX, "KEY",
	  "Shows a key's version: clock, origin, seq, wall time, deleted",
	  NULL, 0},
	 OFFLINE_ARG_KEY, "KEY", 1, offline_version},
	{{"log", offline_run,
	  CTL_OPT_JSON | CTL_OPT_HEX | CTL_OPT_LIMIT | CTL_OPT_SINCE, "",
	  "Prints the write log per origin, newest first; with --since POS, "
	  "the changes after position POS in position order",
	  "entries per origin (default 20, at most 10000); with --since, "
	  "changes in all", CTL_LOG_LIMIT_MAX},
	 OFFLINE_ARG_NONE, "[--since POS] [--limit N]", 1, offline_log},
	{{"check", offline_run, CTL_OPT_JSON, "",
	  "Walks the whole store and lists each broken invariant (exit 1 when "
	  "any)", NULL, 0},
	 OFFLINE_ARG_NONE, "", 0, offline_check},
};

#define N_OFFLINE (sizeof(offline_commands) / sizeof(offline_commands[0]))

const struct command *offline_command_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_OFFLINE; i++)
		if (strcmp(name, offline_commands[i].c.name) == 0)
			return &offline_commands[i].c;
	return NULL;
}

void offline_usage(FILE *f)
{
	size_t i;

	fprintf(f, "\nWith --offline DATA (a stopped node's data dir, read from "
		"a private copy; never written):\n");
	for (i = 0; i < N_OFFLINE; i++)
		fprintf(f, "  %-8s %s\n", offline_commands[i].c.name,
			offline_commands[i].c.summary);
}
