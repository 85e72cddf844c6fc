/* SPDX-License-Identifier: MIT */
/*
 * tools/ctl: rumorctl, the operator's client of a node's control socket.
 * This private header is what its files share:
 *
 *   format.c   bytes, JSON and times as text; terminal-safe escaping of
 *              anything the network or the node supplied; errors
 *   show.c     replies rendered as text or JSON (status, peers, records,
 *              sync reports)
 *   client.c   the control client: connect, framed CBOR requests and
 *              replies (src/wire/wire_ctl.h), timeouts, interrupts
 *   cmd_node.c status, peers, sync
 *   cmd_keys.c get, put, del, version, scan, watch, log
 *   keygen.c   keygen (no node needed)
 *   cmd_load.c load (many writes from standard input, pipelined)
 *   cmd_why.c  why (every member's version of a key, and a verdict)
 *   offline.c  --offline DATA: the in-use test, the private copy of a
 *              stopped node's store, the process that removes it
 *   cmd_offline.c  the commands --offline runs (get, scan, version, log,
 *              status, check) and their table
 *   warn.c     the open-key warning, once per terminal
 *   main.c     the command table, --help, options, main
 *
 * Conventions:
 *  1. A function that can fail prints why on stderr (fmt_fail) and
 *     returns the process exit code (CTL_EXIT_*); 0 is success.
 *  2. Text that came from the network or the node (addresses, ids, node
 *     error messages, status strings) is printed through fmt_safe*: it
 *     never reaches the terminal with a control character in it. Keys
 *     and values print as text only when fmt_is_text() says they are,
 *     else as hex.
 */
#ifndef RUMOR_TOOLS_CTL_H
#define RUMOR_TOOLS_CTL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wire/wire_ctl.h"

/* Exit codes (rumorctl(1)). */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,          /* not found, refused, the node said no */
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,   /* no socket, broken link, bad reply */
};

#define CTL_DEFAULT_DATA "./rumor-data"
#define CTL_REPLY_TIMEOUT_MS 30000
#define CTL_SYNC_TIMEOUT_MS 10000
#define CTL_LOG_LIMIT_DEFAULT 20
/* scan aligns its values on the widest key of this many first rows. */
#define CTL_SCAN_ALIGN_ROWS 1024
/* Wide enough for an id string or the hex of CTL_ORIGIN_MAX bytes. */
#define CTL_ORIGIN_STRLEN (2 * CTL_ORIGIN_MAX + 1)

/* The options a command may take (struct command.opts). */
enum {
	CTL_OPT_JSON = 1u << 0,
	CTL_OPT_HEX = 1u << 1,
	CTL_OPT_LIMIT = 1u << 2,
	CTL_OPT_TIMEOUT = 1u << 3,
	CTL_OPT_NETKEY = 1u << 4,
	CTL_OPT_ID = 1u << 5,
	CTL_OPT_SINCE = 1u << 6,
	CTL_OPT_STRONG = 1u << 7,
	CTL_OPT_WAIT = 1u << 8,      /* --wait MS, --no-wait */
};

struct ctx;
struct store;

/* One row of the command table (main.c). */
struct command {
	const char *name;
	int (*fn)(struct ctx *x, int argc, char **argv);
	unsigned opts;
	const char *args;            /* positional arguments, for usage */
	const char *summary;
	const char *limit_help;      /* with CTL_OPT_LIMIT: what N counts */
	uint64_t limit_max;          /* with CTL_OPT_LIMIT: largest N */
};

/* One run of rumorctl: global and command options, and the connection. */
struct ctx {
	const struct command *cmd;   /* the command being run */
	const char *data;
	const char *socket;
	char socket_buf[PATH_MAX];
	int json;
	int hex;
	uint64_t limit;
	int have_limit;
	uint64_t since;              /* watch --since POS */
	int have_since;
	int strong;                  /* put/del/load --strong */
	/* put/del/load: wait for catch-up up to wait_ms (have_wait), not
	 * at all (no_wait), or up to the node's bound (neither). */
	int have_wait, no_wait;
	uint64_t wait_ms;
	int quiet;                   /* --quiet: no open-key warning */
	/* Set around a request in a form an older node may not know: its
	 * protocol ERROR comes back as the reply instead of being printed
	 * (client_recv_reply), so that the short form can be tried. */
	int want_proto_error;
	uint64_t timeout_ms;
	const char *network_key;
	int want_id;
	int fd;                      /* -1 until connected */
	uint8_t *frame;              /* the last reply frame's body */
	size_t frame_cap;
	/* --offline DATA (offline.c): the data dir, the private copy of its
	 * store and the store opened on it, the node's own origin (from
	 * DATA/node.key when readable). */
	const char *offline;
	char offline_tmp[PATH_MAX];
	struct store *offline_store;
	uint8_t offline_origin[32];
	int offline_have_origin;
};

/* ------------------------------------------------------------ format.c */

/* Prints "rumorctl: " and the message, escaped (convention 2), on
 * stderr; returns code. */
int fmt_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Valid UTF-8 without a control character (C0, DEL or C1). */
int fmt_is_text(const void *p, size_t n);

/* Writes s[0..n) with every control character, byte of invalid UTF-8
 * and backslash written as \xNN (a backslash as \\). */
void fmt_safe_put(FILE *f, const char *s, size_t n);
/* The same into out (size > 0 bytes with the NUL), cut at a whole
 * character or escape when it does not fit. Returns strlen(out). */
size_t fmt_safe(char *out, size_t size, const char *s, size_t n);

void fmt_hex(FILE *f, const void *p, size_t n);
/* Bytes for people: the text itself when fmt_is_text, else 0x and hex;
 * with hex set, always bare hex. */
void fmt_bytes(FILE *f, int hex, const void *p, size_t n);
/* The columns fmt_bytes takes. */
size_t fmt_bytes_width(int hex, const void *p, size_t n);

/* A JSON string of s[0..n): JSON escapes, and \u00NN for controls and
 * for bytes that are not UTF-8 (so the output is valid JSON and safe to
 * show). */
void fmt_json_string(FILE *f, const char *s, size_t n);
void fmt_json_cstr(FILE *f, const char *s);
/* A JSON string when the bytes are text, else {"hex":"..."}; null when
 * p is NULL. */
void fmt_json_bytes(FILE *f, const void *p, size_t n);

/* An origin as its id string (32-byte keys) or hex, into out. */
void fmt_origin(const uint8_t *o, size_t n, char *out, size_t size);
/* "2026-12-04 15:45:52.123Z" */
void fmt_wall(uint64_t ms, char *out, size_t size);
/* "250ms ago", "1.5s ago", "3m20s ago", "2h5m ago", "never" */
void fmt_ago(uint64_t ms, char *out, size_t size);

/* A KEY, VALUE or PREFIX argument: the text, or with hex set its hex
 * digits decoded. *out is malloc'd (never NULL on success, even when
 * empty); the caller frees it. Returns 0 or an exit code. */
int fmt_parse_bytes(int hex, const char *what, const char *s, uint8_t **out,
		    size_t *len);

/* ------------------------------------------------------------ write wait */

/* Sets a PUT's or DEL's wait from --wait / --no-wait (cmd_keys.c). */
void ctl_write_wait(const struct ctx *x, struct ctl_request *rq);
/* How long to wait for the reply of such a write. */
uint64_t ctl_write_timeout(const struct ctx *x);
/* For a node older than the wait: the write without it (the short
 * form, the to_short of client_call_ext). */
void ctl_write_short(struct ctl_request *rq);

/* ------------------------------------------------------------ warn.c */

/* After `status` (text) of a node on the built-in network key: the
 * warning on stderr, at most once per terminal (see warn.c), never when
 * stderr is not a terminal, never with --quiet. */
void warn_open_network(const struct ctx *x);

/* ------------------------------------------------------------ show.c */

/* A peer as one row of the `peers` table, every field escaped. */
struct show_peer_row {
	char id[16];
	char address[4 * sizeof(((struct ctl_peer_info *)0)->address)];
	char learned[4 * sizeof(((struct ctl_peer *)0)->learned)];
	char state[4 * sizeof(((struct ctl_peer *)0)->state) + 16];
	char contact[32];
	char sync[32];
	char lag[24];
};

void show_status(FILE *f, int json, const struct ctl_reply *r);
void show_peer_row(struct show_peer_row *row, const struct ctl_peer *p);
/* The table of rows, with a header (text form of `peers`). */
void show_peer_table(FILE *f, const struct show_peer_row *rows, size_t n);
/* One peer as a JSON object (no newline). */
void show_peer_json(FILE *f, const struct ctl_peer *p);
/* A RECORD as one JSON object (no newline); with_local adds "local". */
void show_record_json(FILE *f, const struct ctl_reply *r, int with_local);
/* A RECORD of `watch` as JSON: "pos" first, then show_record_json's
 * fields with "local". */
void show_change_json(FILE *f, const struct ctl_reply *r);
/* A RECORD as `version` shows it. */
void show_record_text(FILE *f, int hex, const struct ctl_reply *r);
/* A RECORD as one line of `watch`. */
void show_change(FILE *f, int hex, const struct ctl_reply *r);
/* The catch-up progress of an extended STATUS, as one line of text
 * ("1200 of at most 5000 entries, 400/s, about 12s left"). */
void show_catchup_progress(char *out, size_t size, const struct ctl_status *st);
/* A SYNC report; returns 1 when some peer did not complete. */
int show_sync(FILE *f, int json, const struct ctl_sync_report *s);

/* ------------------------------------------------------------ client.c */

/* From now on SIGINT and SIGTERM end a blocking read (no SA_RESTART) and
 * set the flag client_interrupted() reports. */
void client_catch_interrupts(void);
int client_interrupted(void);

/* Connects to the node and sends one request. */
int client_request(struct ctx *x, const struct ctl_request *rq);
/* Receives one reply into r (free with ctl_reply_free). An ERROR reply
 * is printed and turned into CTL_EXIT_FAIL. timeout_ms 0: wait forever.
 * Interrupted: returns 0 with client_interrupted() set. */
int client_recv_reply(struct ctx *x, struct ctl_reply *r,
		      uint64_t timeout_ms);
/* client_call, first with the extended form of rq (a STATUS asking
 * for progress, a write with a wait); when the node is older and
 * refuses that form as a protocol error, again on a new connection
 * with the short form (short says how: it clears the extension). */
int client_call_ext(struct ctx *x, struct ctl_request *rq,
		    void (*to_short)(struct ctl_request *rq),
		    enum ctl_reply_type want, struct ctl_reply *r,
		    uint64_t timeout_ms);
/* One request, one reply of type want. */
int client_call(struct ctx *x, const struct ctl_request *rq,
		enum ctl_reply_type want, struct ctl_reply *r,
		uint64_t timeout_ms);
/* The next reply of a listing (PEERS, SCAN, LOG): one of type want, or
 * END, which sets *done (r then holds END's count and truncated). */
int client_next(struct ctx *x, enum ctl_reply_type want,
		struct ctl_reply *r, int *done);
/* Says the node sent a reply of a type this command did not expect. */
int client_unexpected(const struct ctl_reply *r);
/* Whether a reply (or EOF, or an error) can be read within timeout_ms:
 * 0 when the time passed without one. */
int client_readable(struct ctx *x, int timeout_ms);
/* Closes the connection and frees the frame buffer. */
void client_close(struct ctx *x);

/* ------------------------------------------------------------ commands */

int cmd_status(struct ctx *x, int argc, char **argv);
int cmd_peers(struct ctx *x, int argc, char **argv);
int cmd_sync(struct ctx *x, int argc, char **argv);
int cmd_get(struct ctx *x, int argc, char **argv);
int cmd_put(struct ctx *x, int argc, char **argv);
int cmd_del(struct ctx *x, int argc, char **argv);
int cmd_version(struct ctx *x, int argc, char **argv);
int cmd_scan(struct ctx *x, int argc, char **argv);
int cmd_watch(struct ctx *x, int argc, char **argv);
int cmd_log(struct ctx *x, int argc, char **argv);
int cmd_keygen(struct ctx *x, int argc, char **argv);
int cmd_load(struct ctx *x, int argc, char **argv);
int cmd_why(struct ctx *x, int argc, char **argv);

/* ------------------------------------------------------------ offline */

/* offline.c: makes a private copy of DATA/db (refused while a process
 * holds its lock) and opens it as x->offline_store. Forks: the parent
 * waits for the child, removes the copy and exits with the child's code
 * (never returns); the child returns 0 with the store open, an exit
 * code with the reason printed, or -1 with err set by store_open. */
int offline_open(struct ctx *x, struct err *err);
/* Closes the store (the copy goes when the parent sees the child end). */
void offline_close(struct ctx *x);
/* cmd_offline.c: the commands --offline runs, and their usage lines. */
const struct command *offline_command_find(const char *name);
void offline_usage(FILE *f);

/* ------------------------------------------------------------ cmd_keys.c */
/* The renderings of the key commands, shared with offline.c. */

/* get's value (text, hex, JSON {"key","value"}) and a newline. */
void show_value(const struct ctx *x, const void *key, size_t key_len,
		const void *value, size_t value_len);
/* One log entry in text form, under a heading per origin (last_origin,
 * size bytes, keeps the heading's origin; n: entries shown before). */
void show_log_entry(const struct ctx *x, const struct rumor_version *v,
		    char *last_origin, size_t size, size_t n);
/* scan's output: begin, add each key, end (truncated: stopped at
 * --limit), free (whatever happened). The text form keeps the first
 * CTL_SCAN_ALIGN_ROWS rows to align the values on the widest key. */
struct scan_rows {
	struct scan_row {
		uint8_t *key, *value;
		size_t key_len, value_len;
	} *row;
	size_t n;
	size_t width;
	int aligned;
	size_t shown;                /* JSON: elements printed */
};
int scan_rows_begin(const struct ctx *x, struct scan_rows *s);
int scan_rows_add(const struct ctx *x, struct scan_rows *s, const void *key,
		  size_t key_len, const void *value, size_t value_len);
void scan_rows_end(const struct ctx *x, struct scan_rows *s, int truncated);
void scan_rows_free(struct scan_rows *s);

#endif
