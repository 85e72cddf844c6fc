/* SPDX-License-Identifier: MIT */
/*
 * The commands on keys: get, put, del, version, scan, watch, log. KEY,
 * VALUE and PREFIX arguments are text, or hex with --hex; keys and
 * values print as text when they are text, else as hex (format.c).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/ctl/ctl.h"

/* GET PUT DEL VERSION: one key argument (and PUT's value). *key and
 * *value are malloc'd or NULL; the caller frees both, whatever the
 * result. */
static int key_request(struct ctx *x, int argc, char **argv,
		       struct ctl_request *rq, uint8_t **key, uint8_t **value)
{
	int want = rq->cmd == CTL_CMD_PUT || rq->cmd == CTL_CMD_SPUT ? 3 : 2;
	int rv;

	*key = *value = NULL;
	if (argc != want)
		return fmt_fail(CTL_EXIT_USAGE, "usage: rumorctl %s %s",
				x->cmd->name, x->cmd->args);
	rv = fmt_parse_bytes(x->hex, "KEY", argv[1], key, &rq->key_len);
	if (rv == 0 && rq->key_len == 0)
		rv = fmt_fail(CTL_EXIT_USAGE, "KEY must not be empty");
	if (rv == 0 && want == 3)
		rv = fmt_parse_bytes(x->hex, "VALUE", argv[2], value,
				     &rq->value_len);
	rq->key = *key;
	rq->value = *value;
	return rv;
}

/* SCAN WATCH: an optional PREFIX argument; *prefix as in key_request. */
static int prefix_request(struct ctx *x, int argc, char **argv,
			  struct ctl_request *rq, uint8_t **prefix)
{
	int rv;

	*prefix = NULL;
	if (argc > 2)
		return fmt_fail(CTL_EXIT_USAGE, "usage: rumorctl %s [PREFIX]",
				x->cmd->name);
	if (argc < 2)
		return 0;
	rv = fmt_parse_bytes(x->hex, "PREFIX", argv[1], prefix, &rq->key_len);
	rq->key = *prefix;
	return rv;
}

/* GET's VALUE: the value itself, so that `get k > file` keeps its
 * bytes; on a terminal, escaped, so that a value cannot drive it. */
void show_value(const struct ctx *x, const void *key, size_t key_len,
		const void *value, size_t value_len)
{
	if (x->json) {
		/* VALUE carries no key: show the one asked for. */
		printf("{\"key\":");
		fmt_json_bytes(stdout, key, key_len);
		printf(",\"value\":");
		fmt_json_bytes(stdout, value, value_len);
		printf("}\n");
	} else if (x->hex) {
		fmt_hex(stdout, value, value_len);
		putchar('\n');
	} else if (isatty(STDOUT_FILENO)) {
		fmt_safe_put(stdout, (const char *)value, value_len);
		putchar('\n');
	} else {
		fwrite(value, 1, value_len, stdout);
		putchar('\n');
	}
}

static void print_value(const struct ctx *x, const struct ctl_request *rq,
			const struct ctl_reply *r)
{
	show_value(x, rq->key, rq->key_len, r->rec.value, r->rec.value_len);
}

/* PUT's and DEL's OK. */
static void print_ok(const struct ctx *x, const struct ctl_request *rq,
		     const struct ctl_reply *r)
{
	(void)rq;
	(void)r;
	if (x->json)
		printf("{\"ok\":true}\n");
}

/* VERSION's RECORD. */
static void print_version(const struct ctx *x, const struct ctl_request *rq,
			  const struct ctl_reply *r)
{
	(void)rq;
	if (x->json) {
		show_record_json(stdout, r, 0);
		putchar('\n');
	} else {
		show_record_text(stdout, x->hex, r);
	}
}

void ctl_write_wait(const struct ctx *x, struct ctl_request *rq)
{
	/* --no-wait sends the short form, which any node reads: today's
	 * refusal at once. */
	rq->has_wait = !x->no_wait;
	rq->wait_ms = x->have_wait ? x->wait_ms : CTL_WAIT_DEFAULT;
}

uint64_t ctl_write_timeout(const struct ctx *x)
{
	if (x->no_wait)
		return CTL_REPLY_TIMEOUT_MS;
	/* The node ends the wait; the default one by its own bound. */
	return CTL_REPLY_TIMEOUT_MS + (x->have_wait ? x->wait_ms : CTL_WAIT_MAX);
}

void ctl_write_short(struct ctl_request *rq)
{
	rq->has_wait = 0;
	rq->wait_ms = 0;
}

/* A command on one key: the request, one reply of type want, printed by
 * print. */
static int key_command(struct ctx *x, int argc, char **argv,
		       enum ctl_cmd cmd, enum ctl_reply_type want,
		       void (*print)(const struct ctx *x,
				     const struct ctl_request *rq,
				     const struct ctl_reply *r))
{
	struct ctl_request rq = {.cmd = cmd};
	struct ctl_reply r;
	uint8_t *key, *value;
	int rv;

	rv = key_request(x, argc, argv, &rq, &key, &value);
	if (want == CTL_R_OK)
		ctl_write_wait(x, &rq);
	if (rv == 0 && rq.has_wait)
		rv = client_call_ext(x, &rq, ctl_write_short, want, &r,
				     ctl_write_timeout(x));
	else if (rv == 0)
		rv = client_call(x, &rq, want, &r, CTL_REPLY_TIMEOUT_MS);
	if (rv == 0) {
		print(x, &rq, &r);
		ctl_reply_free(&r);
	}
	free(key);
	free(value);
	return rv;
}

int cmd_get(struct ctx *x, int argc, char **argv)
{
	return key_command(x, argc, argv, CTL_CMD_GET, CTL_R_VALUE,
			   print_value);
}

int cmd_put(struct ctx *x, int argc, char **argv)
{
	return key_command(x, argc, argv, x->strong ? CTL_CMD_SPUT : CTL_CMD_PUT,
			   CTL_R_OK, print_ok);
}

int cmd_del(struct ctx *x, int argc, char **argv)
{
	return key_command(x, argc, argv, x->strong ? CTL_CMD_SDEL : CTL_CMD_DEL,
			   CTL_R_OK, print_ok);
}

int cmd_version(struct ctx *x, int argc, char **argv)
{
	return key_command(x, argc, argv, CTL_CMD_VERSION, CTL_R_RECORD,
			   print_version);
}

static void print_scan_row(const struct ctx *x, const struct scan_row *row,
			   size_t width)
{
	size_t w = fmt_bytes_width(x->hex, row->key, row->key_len);

	fmt_bytes(stdout, x->hex, row->key, row->key_len);
	for (; w < width + 2; w++)
		putchar(' ');
	fmt_bytes(stdout, x->hex, row->value, row->value_len);
	putchar('\n');
}

/* Prints the rows kept so far at the width of the widest (at most 40)
 * and from then on streams. */
static void scan_align(const struct ctx *x, struct scan_rows *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		size_t w = fmt_bytes_width(x->hex, s->row[i].key,
					   s->row[i].key_len);

		s->width = w > s->width ? w : s->width;
	}
	s->width = s->width > 40 ? 40 : s->width;
	for (i = 0; i < s->n; i++)
		print_scan_row(x, &s->row[i], s->width);
	s->aligned = 1;
}

/* One ITEM in text form: kept while the first rows are gathered, else
 * printed. */
static int scan_item(const struct ctx *x, struct scan_rows *s,
		     const void *key, size_t key_len, const void *value,
		     size_t value_len)
{
	struct scan_row row = {(uint8_t *)key, (uint8_t *)value, key_len,
			       value_len};

	if (!s->aligned && s->n < CTL_SCAN_ALIGN_ROWS) {
		struct scan_row *keep = &s->row[s->n];

		keep->key = malloc(key_len);
		keep->value = malloc(value_len + 1);
		if (keep->key == NULL || keep->value == NULL) {
			free(keep->key);
			free(keep->value);
			return fmt_fail(CTL_EXIT_FAIL, "out of memory");
		}
		memcpy(keep->key, key, key_len);
		if (value_len > 0)
			memcpy(keep->value, value, value_len);
		keep->key_len = key_len;
		keep->value_len = value_len;
		s->n++;
		return 0;
	}
	if (!s->aligned)
		scan_align(x, s);
	print_scan_row(x, &row, s->width);
	return 0;
}

int scan_rows_begin(const struct ctx *x, struct scan_rows *s)
{
	memset(s, 0, sizeof(*s));
	s->row = calloc(CTL_SCAN_ALIGN_ROWS, sizeof(*s->row));
	if (s->row == NULL)
		return fmt_fail(CTL_EXIT_FAIL, "out of memory");
	if (x->json)
		printf("[");
	return 0;
}

int scan_rows_add(const struct ctx *x, struct scan_rows *s, const void *key,
		  size_t key_len, const void *value, size_t value_len)
{
	if (!x->json)
		return scan_item(x, s, key, key_len, value, value_len);
	printf("%s\n{\"key\":", s->shown ? "," : "");
	fmt_json_bytes(stdout, key, key_len);
	printf(",\"value\":");
	fmt_json_bytes(stdout, value, value_len);
	printf("}");
	s->shown++;
	return 0;
}

void scan_rows_end(const struct ctx *x, struct scan_rows *s, int truncated)
{
	if (x->json) {
		printf("%s]\n", s->shown ? "\n" : "");
		return;
	}
	if (!s->aligned)
		scan_align(x, s);
	if (truncated)
		fprintf(stderr, "rumorctl: stopped at the limit of %"
			PRIu64 " keys\n", x->limit);
}

void scan_rows_free(struct scan_rows *s)
{
	size_t i;

	if (s->row != NULL)
		for (i = 0; i < s->n; i++) {
			free(s->row[i].key);
			free(s->row[i].value);
		}
	free(s->row);
	s->row = NULL;
}

int cmd_scan(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_SCAN};
	struct ctl_reply r;
	struct scan_rows s = {0};
	uint8_t *prefix = NULL;
	int done = 0, rv;

	rv = prefix_request(x, argc, argv, &rq, &prefix);
	if (rv != 0)
		goto out;
	rq.limit = x->have_limit ? x->limit : 0;
	rv = client_request(x, &rq);
	if (rv == 0)
		rv = scan_rows_begin(x, &s);
	if (rv != 0)
		goto out;
	while ((rv = client_next(x, CTL_R_ITEM, &r, &done)) == 0 && !done) {
		rv = scan_rows_add(x, &s, r.rec.key, r.rec.key_len,
				   r.rec.value, r.rec.value_len);
		if (rv != 0)
			goto out;
	}
	if (rv == 0)
		scan_rows_end(x, &s, r.truncated);
out:
	scan_rows_free(&s);
	free(prefix);
	return rv;
}

int cmd_watch(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_WATCH};
	struct ctl_reply r;
	uint8_t *prefix = NULL;
	int rv;

	rv = prefix_request(x, argc, argv, &rq, &prefix);
	if (rv != 0)
		goto out;
	rq.has_since = x->have_since;
	rq.since = x->since;
	client_catch_interrupts();
	rv = client_call(x, &rq, CTL_R_OK, &r, CTL_REPLY_TIMEOUT_MS);
	if (rv != 0 || client_interrupted())
		goto out;
	if (!x->json) {
		/* Says the watch is in place: later changes will show. */
		fprintf(stderr, "# watching %s", rq.key_len ?
			"keys starting with " : "every key");
		if (rq.key_len)
			fmt_bytes(stderr, x->hex, rq.key, rq.key_len);
		if (rq.has_since)
			fprintf(stderr, " after position %" PRIu64, rq.since);
		fprintf(stderr, " (interrupt to stop)\n");
	}
	fflush(stderr);
	for (;;) {
		rv = client_recv_reply(x, &r, 0);
		if (rv != 0 || client_interrupted())
			break;
		if (r.type == CTL_R_GAP) {
			if (x->json)
				printf("{\"gap\":%" PRIu64 "}\n", r.count);
			else
				printf("# %" PRIu64 " changes not shown: "
				       "superseded while this reader was "
				       "behind\n", r.count);
		} else if (r.type != CTL_R_RECORD) {
			rv = client_unexpected(&r);
			break;
		} else if (x->json) {
			show_change_json(stdout, &r);
			putchar('\n');
		} else {
			show_change(stdout, x->hex, &r);
		}
		fflush(stdout);
	}
out:
	free(prefix);
	/* Interrupted by the user: the normal way to end a watch. */
	return client_interrupted() ? CTL_EXIT_OK : rv;
}

void show_log_entry(const struct ctx *x, const struct rumor_version *v,
		    char *last_origin, size_t size, size_t n)
{
	char origin[CTL_ORIGIN_STRLEN], wall[48];

	fmt_origin(v->origin, v->origin_len, origin, sizeof(origin));
	if (strcmp(origin, last_origin) != 0) {
		printf("%sorigin %s\n", n ? "\n" : "", origin);
		printf("  %8s  %8s  %-24s  %-3s  %s\n", "SEQ", "CLOCK",
		       "WALL TIME", "OP", "KEY");
		snprintf(last_origin, size, "%s", origin);
	}
	fmt_wall(v->wall_ms, wall, sizeof(wall));
	printf("  %8" PRIu64 "  %8" PRIu64 "  %-24s  %-3s  ", v->seq,
	       v->clock, wall, v->deleted ? "del" : "put");
	fmt_bytes(stdout, x->hex, v->key, v->key_len);
	if (!v->deleted)
		printf("  (%zu bytes)", v->value_len);
	putchar('\n');
}

int cmd_log(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_LOG};
	struct ctl_reply r;
	char last_origin[CTL_ORIGIN_STRLEN] = "";
	size_t n = 0;
	int done = 0, rv;

	(void)argv;
	if (argc != 1)
		return fmt_fail(CTL_EXIT_USAGE, "usage: rumorctl log "
				"[--limit N]");
	rq.limit = x->have_limit ? x->limit : CTL_LOG_LIMIT_DEFAULT;
	rv = client_request(x, &rq);
	if (rv != 0)
		return rv;
	if (x->json)
		printf("[");
	while ((rv = client_next(x, CTL_R_RECORD, &r, &done)) == 0 && !done) {
		if (x->json) {
			printf("%s\n", n ? "," : "");
			show_record_json(stdout, &r, 0);
		} else {
			show_log_entry(x, &r.rec, last_origin,
				       sizeof(last_origin), n);
		}
		n++;
	}
	if (rv != 0)
		return rv;
	if (x->json)
		printf("%s]\n", n ? "\n" : "");
	else if (n == 0)
		printf("(the log is empty)\n");
	if (r.truncated)
		fprintf(stderr, "rumorctl: the log was cut short (too large "
			"for one reply); use a smaller --limit\n");
	return 0;
}
