/* SPDX-License-Identifier: MIT */
/*
 * rumorctl: talks to a running node over its control socket
 * (DATA/control.sock, protocol in src/wire_ctl.h). One function per
 * command, listed in the command table at the bottom; every command has
 * --help and a --json form (format documented in rumorctl(1)).
 *
 * Exit codes: 0 ok, 1 not found / refused / the node reported an error,
 * 2 usage, 3 cannot reach the node (socket missing or refused, the
 * connection broke, or the node's reply made no sense).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto/identity.h"
#include "lib/array.h"
#include "wire/wire_ctl.h"

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
};

#define DEFAULT_DATA "./rumor-data"
#define REPLY_TIMEOUT_MS 30000
#define SYNC_TIMEOUT_MS 10000
#define LOG_LIMIT_DEFAULT 20
#define SCAN_ALIGN_ROWS 1024

/* Command options (a command accepts only those it lists). */
enum {
	OPT_JSON = 1u << 0,
	OPT_HEX = 1u << 1,
	OPT_LIMIT = 1u << 2,
	OPT_TIMEOUT = 1u << 3,
	OPT_NETKEY = 1u << 4,
	OPT_ID = 1u << 5,
};

struct ctx {
	const char *data;
	const char *socket;
	char socket_buf[PATH_MAX];
	int json;
	int hex;
	uint64_t limit;
	int have_limit;
	uint64_t timeout_ms;
	const char *network_key;
	int want_id;
	int fd;
	uint8_t *frame;              /* last reply frame body */
	size_t frame_cap;
};

struct command {
	const char *name;
	int (*fn)(struct ctx *x, int argc, char **argv);
	unsigned opts;
	const char *args;
	const char *summary;
};

static const struct command *current;
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static int fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("rumorctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* ------------------------------------------------------------ bytes */

static const char hexdigits[] = "0123456789abcdef";

/* Valid UTF-8 with no control character (U+0000..U+001F, U+007F,
 * U+0080..U+009F): such bytes print as text, others as hex. */
static int is_text(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len, k;
		uint8_t b = p[i];

		if (b < 0x80) {
			if (b < 0x20 || b == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			len = 2;
			cp = b & 0x1f;
		} else if (b >= 0xe0 && b <= 0xef) {
			len = 3;
			cp = b & 0x0f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			len = 4;
			cp = b & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond Unicode, C1 controls. */
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += len;
	}
	return 1;
}

static void put_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fputc(hexdigits[p[i] >> 4], f);
		fputc(hexdigits[p[i] & 15], f);
	}
}

/* Human form: the text itself, or 0x and hex digits (always hex with
 * --hex). */
static void fput_bytes(FILE *f, const struct ctx *x, const void *p,
		       size_t n)
{
	if (!x->hex && n > 0 && is_text(p, n)) {
		fwrite(p, 1, n, f);
		return;
	}
	if (!x->hex)
		fputs("0x", f);
	put_hex(f, p, n);
}

static void put_bytes(const struct ctx *x, const void *p, size_t n)
{
	fput_bytes(stdout, x, p, n);
}

static size_t bytes_width(const struct ctx *x, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i, w = 0;

	if (x->hex || n == 0 || !is_text(p, n))
		return 2 * n + (x->hex ? 0 : 2);
	for (i = 0; i < n; i++)   /* characters, not bytes */
		w += (b[i] & 0xc0) != 0x80;
	return w;
}

static void json_string(const char *s, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_cstr(const char *s)
{
	json_string(s, strlen(s));
}

/* Bytes: a JSON string when they are text (see is_text), else
 * {"hex":"..."}. null when p is NULL. */
static void json_bytes(const void *p, size_t n)
{
	if (p == NULL) {
		fputs("null", stdout);
		return;
	}
	if (is_text(p, n)) {
		json_string(p, n);
		return;
	}
	fputs("{\"hex\":\"", stdout);
	put_hex(stdout, p, n);
	fputs("\"}", stdout);
}

static void origin_string(const uint8_t *o, size_t n, char *out, size_t size)
{
	size_t i;

	if (n == IDENTITY_PUBLIC_BYTES && size >= IDENTITY_ID_STRLEN) {
		identity_id_string(o, out);
		return;
	}
	for (i = 0; i < n && 2 * i + 2 < size; i++) {
		out[2 * i] = hexdigits[o[i] >> 4];
		out[2 * i + 1] = hexdigits[o[i] & 15];
	}
	out[2 * i] = '\0';
}

static void wall_string(uint64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, size, "%" PRIu64 " ms", ms);
		return;
	}
	snprintf(out, size, "%04d-%02d-%02d %02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

static void ago_string(uint64_t ms, char *out, size_t size)
{
	if (ms == UINT64_MAX)
		snprintf(out, size, "never");
	else if (ms < 1000)
		snprintf(out, size, "%" PRIu64 "ms ago", ms);
	else if (ms < 60000)
		snprintf(out, size, "%.1fs ago", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, size, "%" PRIu64 "m%" PRIu64 "s ago",
			 ms / 60000, ms / 1000 % 60);
	else
		snprintf(out, size, "%" PRIu64 "h%" PRIu64 "m ago",
			 ms / 3600000, ms / 60000 % 60);
}

/* A KEY or VALUE argument: text, or hex digits with --hex. The result
 * is malloc'd (never NULL on success, even when empty). */
static int parse_arg_bytes(const struct ctx *x, const char *what,
			   const char *s, uint8_t **out, size_t *len)
{
	size_t n = strlen(s), i;
	uint8_t *p;

	if (!x->hex) {
		p = malloc(n + 1);
		if (p == NULL)
			return fail(EXIT_FAIL, "out of memory");
		memcpy(p, s, n + 1);
		*out = p;
		*len = n;
		return 0;
	}
	if (n % 2 != 0)
		return fail(EXIT_USAGE, "%s: odd number of hex digits", what);
	p = malloc(n / 2 + 1);
	if (p == NULL)
		return fail(EXIT_FAIL, "out of memory");
	for (i = 0; i < n / 2; i++) {
		const char *hi = strchr(hexdigits, s[2 * i] | 0x20);
		const char *lo = strchr(hexdigits, s[2 * i + 1] | 0x20);

		if (s[2 * i] == '\0' || s[2 * i + 1] == '\0' || hi == NULL ||
		    lo == NULL) {
			free(p);
			return fail(EXIT_USAGE, "%s: '%s' is not hex", what, s);
		}
		p[i] = (uint8_t)((hi - hexdigits) << 4 | (lo - hexdigits));
	}
	*out = p;
	*len = n / 2;
	return 0;
}

/* ------------------------------------------------------------ talking */

static const char *socket_path(struct ctx *x)
{
	if (x->socket != NULL)
		return x->socket;
	snprintf(x->socket_buf, sizeof(x->socket_buf), "%s/%s", x->data,
		 NODE_CTL_SOCKET);
	return x->socket_buf;
}

static int ctl_connect(struct ctx *x)
{
	const char *path = socket_path(x);
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(EXIT_USAGE, "socket path too long: %s", path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(EXIT_UNREACHABLE, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		return fail(EXIT_UNREACHABLE, "cannot reach the node at %s: %s%s",
			    path, strerror(e),
			    e == ENOENT || e == ECONNREFUSED ?
			    " (is rumord running with this data dir?)" : "");
	}
	x->fd = fd;
	return 0;
}

static int send_all(struct ctx *x, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(x->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR && !interrupted)
			continue;
		if (w < 0)
			return fail(EXIT_UNREACHABLE, "sending to the node: %s",
				    strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads exactly n bytes before the deadline (0: none). Returns 0, -1 on
 * EOF before the first byte (eof_ok), or an exit code. SIGINT gives
 * EXIT_OK with interrupted set. */
static int recv_all(struct ctx *x, uint8_t *p, size_t n, uint64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = {.fd = x->fd, .events = POLLIN};
		int wait = -1, rv;
		ssize_t r;

		if (interrupted)
			return EXIT_OK;
		if (deadline != 0) {
			uint64_t now = now_ms();

			if (now >= deadline)
				return fail(EXIT_UNREACHABLE, "the node did not "
					    "answer in time");
			wait = (int)(deadline - now);
		}
		rv = poll(&pfd, 1, wait);
		if (rv < 0 && errno == EINTR)
			continue;
		if (rv < 0)
			return fail(EXIT_UNREACHABLE, "poll: %s",
				    strerror(errno));
		if (rv == 0)
			continue;
		r = recv(x->fd, p + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail(EXIT_UNREACHABLE, "reading from the node: "
				    "%s", strerror(errno));
		if (r == 0)
			return fail(EXIT_UNREACHABLE, "the node closed the "
				    "connection");
		got += (size_t)r;
	}
	return 0;
}

/* Receives one reply into r (free with ctl_reply_free). An ERROR reply
 * is printed and turned into EXIT_FAIL. timeout_ms 0: wait forever. */
static int recv_reply(struct ctx *x, struct ctl_reply *r, uint64_t timeout_ms)
{
	uint64_t deadline = timeout_ms != 0 ? now_ms() + timeout_ms : 0;
	uint8_t hdr[CTL_FRAME_HEADER];
	struct err err;
	uint32_t len;
	int rv;

	memset(r, 0, sizeof(*r));
	rv = recv_all(x, hdr, sizeof(hdr), deadline);
	if (rv != 0 || interrupted)
		return rv;
	len = ctl_frame_length(hdr);
	if (len == 0 || len > CTL_REPLY_MAX)
		return fail(EXIT_UNREACHABLE, "the node sent a frame of %u "
			    "bytes", len);
	if (len > x->frame_cap) {
		uint8_t *p = realloc(x->frame, len);

		if (p == NULL)
			return fail(EXIT_FAIL, "out of memory");
		x->frame = p;
		x->frame_cap = len;
	}
	rv = recv_all(x, x->frame, len, deadline);
	if (rv != 0 || interrupted)
		return rv;
	err_clear(&err);
	if (ctl_decode_reply(x->frame, len, r, &err) != 0)
		return fail(EXIT_UNREACHABLE, "bad reply: %s", err.msg);
	if (r->type == CTL_R_ERROR) {
		rv = fail(EXIT_FAIL, "%s", r->message);
		ctl_reply_free(r);
		return rv;
	}
	return 0;
}

/* Connects and sends one request. */
static int request(struct ctx *x, const struct ctl_request *rq)
{
	struct wire_buf b;
	struct err err;
	int rv;

	wire_buf_init(&b);
	err_clear(&err);
	rv = ctl_encode_request(&b, rq, &err);
	if (rv != 0) {
		wire_buf_free(&b);
		return fail(rv == RUMOR_ENOMEM ? EXIT_FAIL : EXIT_USAGE, "%s",
			    err.msg);
	}
	rv = ctl_connect(x);
	if (rv == 0)
		rv = send_all(x, b.data, b.len);
	wire_buf_free(&b);
	return rv;
}

static int unexpected(const struct ctl_reply *r)
{
	return fail(EXIT_UNREACHABLE, "unexpected %s reply from the node",
		    ctl_reply_name(r->type));
}

/* One request, one reply of type want. */
static int call(struct ctx *x, const struct ctl_request *rq,
		enum ctl_reply_type want, struct ctl_reply *r,
		uint64_t timeout_ms)
{
	int rv = request(x, rq);

	if (rv != 0)
		return rv;
	rv = recv_reply(x, r, timeout_ms);
	if (rv != 0)
		return rv;
	if (r->type != want) {
		ctl_reply_free(r);
		return unexpected(r);
	}
	return 0;
}

/* ------------------------------------------------------------ commands */

static int cmd_status(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_STATUS};
	struct ctl_reply r;
	const struct node_status *st = &r.status;
	char origin[IDENTITY_ID_STRLEN + 2];
	size_t i;
	int rv;

	rv = call(x, &rq, CTL_R_STATUS, &r, REPLY_TIMEOUT_MS);
	if (rv != 0)
		return rv;
	if (x->json) {
		printf("{\"id\":");
		json_cstr(st->id);
		printf(",\"mode\":\"%s\",\"listen\":",
		       st->mode == RUMOR_MODE_REPLICA ? "replica" : "peer");
		json_cstr(st->listen);
		printf(",\"data_dir\":");
		json_cstr(st->data_dir);
		printf(",\"resolver\":");
		json_cstr(st->resolver);
		printf(",\"open_network\":%s,\"catching_up\":%s,"
		       "\"catchup_left_ms\":%" PRIu64 ",\"velocity\":%.3f,"
		       "\"interval_ms\":%" PRIu32 ",\"local_seq\":%" PRIu64 ","
		       "\"peers\":{\"known\":%" PRIu64 ",\"alive\":%" PRIu64
		       ",\"suspect\":%" PRIu64 ",\"connected\":%" PRIu64 "},"
		       "\"counters\":{",
		       st->open_network ? "true" : "false",
		       st->catching_up ? "true" : "false", st->catchup_left_ms,
		       st->velocity, st->interval_ms, st->local_seq,
		       st->peers_known, st->peers_alive, st->peers_suspect,
		       st->peers_connected);
		{
			const char *sep = "";
#define PRINT_COUNTER(name)                                            \
			printf("%s\"" #name "\":%" PRIu64, sep,         \
			       st->stats.name);                         \
			sep = ",";
			CTL_COUNTERS(PRINT_COUNTER)
#undef PRINT_COUNTER
		}
		printf("},\"hwm_total\":%" PRIu64 ",\"hwm\":[", r.hwm_total);
		for (i = 0; i < r.n_hwm; i++) {
			origin_string(r.hwm[i].origin, r.hwm[i].origin_len,
				      origin, sizeof(origin));
			printf("%s{\"origin\":\"%s\",\"seq\":%" PRIu64 "}",
			       i ? "," : "", origin, r.hwm[i].seq);
		}
		printf("]}\n");
		ctl_reply_free(&r);
		return 0;
	}
	printf("id:          %s\n", st->id);
	printf("mode:        %s\n",
	       st->mode == RUMOR_MODE_REPLICA ? "replica" : "peer");
	printf("listen:      %s\n", st->listen[0] ? st->listen :
	       "(not listening)");
	printf("data:        %s\n", st->data_dir);
	printf("network:     %s\n", st->open_network ?
	       "OPEN: built-in network key, anyone on the network can join" :
	       "private network key");
	printf("resolver:    %s\n", st->resolver[0] ? st->resolver : "default");
	if (st->catching_up)
		printf("catch-up:    in progress, writes refused for up to "
		       "%" PRIu64 " ms more\n", st->catchup_left_ms);
	else
		printf("catch-up:    done\n");
	printf("velocity:    %.2f writes/s\n", st->velocity);
	printf("interval:    %" PRIu32 " ms\n", st->interval_ms);
	printf("local seq:   %" PRIu64 "\n", st->local_seq);
	printf("peers:       %" PRIu64 " known, %" PRIu64 " alive, %" PRIu64
	       " suspect, %" PRIu64 " connected\n", st->peers_known,
	       st->peers_alive, st->peers_suspect, st->peers_connected);
	printf("keys:        %" PRIu64 " live, %" PRIu64 " tombstones\n",
	       st->stats.keys, st->stats.tombstones);
	printf("writes:      %" PRIu64 " local\n", st->stats.local_writes);
	printf("entries:     %" PRIu64 " sent, %" PRIu64 " received, %"
	       PRIu64 " applied, %" PRIu64 " stale, %" PRIu64 " identical\n",
	       st->stats.entries_sent, st->stats.entries_received,
	       st->stats.remote_applied, st->stats.remote_stale,
	       st->stats.remote_identical);
	printf("conflicts:   %" PRIu64 " by default order, %" PRIu64
	       " by resolver, %" PRIu64 " symmetry violations\n",
	       st->stats.conflicts_default, st->stats.conflicts_resolver,
	       st->stats.symmetry_violations);
	printf("bytes:       %" PRIu64 " in, %" PRIu64 " out\n",
	       st->stats.bytes_in, st->stats.bytes_out);
	printf("announcements dropped: %" PRIu64 "\n",
	       st->stats.announcements_dropped);
	printf("hwm:         %" PRIu64 " origin%s%s\n", r.hwm_total,
	       r.hwm_total == 1 ? "" : "s",
	       r.n_hwm < r.hwm_total ? " (first ones shown)" : "");
	for (i = 0; i < r.n_hwm; i++) {
		origin_string(r.hwm[i].origin, r.hwm[i].origin_len, origin,
			      sizeof(origin));
		printf("  %-44s %" PRIu64 "%s\n", origin, r.hwm[i].seq,
		       strcmp(origin, st->id) == 0 ? "  (this node)" : "");
	}
	if (st->open_network)
		fprintf(stderr, "rumorctl: warning: this node uses the built-in "
			"network key; anyone who can reach it can join (see "
			"rumord(8) --network-key)\n");
	ctl_reply_free(&r);
	return 0;
}

struct peer_row {
	char id[16];
	char address[96];
	char learned[32];
	char state[48];
	char contact[32];
	char sync[32];
	char lag[24];
};

static int cmd_peers(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_PEERS};
	struct ctl_reply r;
	struct peer_row *rows = NULL, *row;
	size_t n = 0, cap = 0, i;
	int w[7] = {2, 7, 7, 5, 12, 9, 3};
	int rv;

	rv = request(x, &rq);
	if (rv != 0)
		return rv;
	if (x->json)
		printf("[");
	for (;;) {
		rv = recv_reply(x, &r, REPLY_TIMEOUT_MS);
		if (rv != 0)
			goto out;
		if (r.type == CTL_R_END)
			break;
		if (r.type != CTL_R_PEER) {
			rv = unexpected(&r);
			goto out;
		}
		if (x->json) {
			const struct node_peer_info *p = &r.peer.info;
			char id[IDENTITY_ID_STRLEN];

			identity_id_string(p->id, id);
			printf("%s\n{\"id\":\"%s\",\"address\":", n ? "," : "",
			       id);
			json_cstr(p->address);
			printf(",\"learned\":");
			json_cstr(p->learned);
			printf(",\"state\":");
			json_cstr(p->state);
			printf(",\"connected\":%s", p->connected ? "true" :
			       "false");
			if (p->last_contact_ago_ms == UINT64_MAX)
				printf(",\"last_contact_ms_ago\":null");
			else
				printf(",\"last_contact_ms_ago\":%" PRIu64,
				       p->last_contact_ago_ms);
			if (p->last_sync_ago_ms == UINT64_MAX)
				printf(",\"last_sync_ms_ago\":null");
			else
				printf(",\"last_sync_ms_ago\":%" PRIu64,
				       p->last_sync_ago_ms);
			printf(",\"lag\":%" PRIu64 "}", p->lag);
			n++;
			continue;
		}
		if (n == cap) {
			struct peer_row *nr = array_grow(rows, &cap, n + 1,
							 sizeof(*nr), 16);

			if (nr == NULL) {
				rv = fail(EXIT_FAIL, "out of memory");
				goto out;
			}
			rows = nr;
		}
		row = &rows[n++];
		{
			char id[IDENTITY_ID_STRLEN];

			identity_id_string(r.peer.info.id, id);
			/* The first 12 characters tell peers apart. */
			snprintf(row->id, sizeof(row->id), "%.12s", id);
		}
		snprintf(row->address, sizeof(row->address), "%s",
			 r.peer.info.address[0] ? r.peer.info.address : "-");
		snprintf(row->learned, sizeof(row->learned), "%s",
			 r.peer.learned);
		snprintf(row->state, sizeof(row->state), "%s%s",
			 r.peer.state, r.peer.info.connected ?
			 ", connected" : "");
		ago_string(r.peer.info.last_contact_ago_ms, row->contact,
			   sizeof(row->contact));
		ago_string(r.peer.info.last_sync_ago_ms, row->sync,
			   sizeof(row->sync));
		snprintf(row->lag, sizeof(row->lag), "%" PRIu64,
			 r.peer.info.lag);
	}
	if (x->json) {
		printf("%s]\n", n ? "\n" : "");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *cols[7] = {rows[i].id, rows[i].address,
				       rows[i].learned, rows[i].state,
				       rows[i].contact, rows[i].sync,
				       rows[i].lag};
		int k;

		for (k = 0; k < 7; k++)
			if ((int)strlen(cols[k]) > w[k])
				w[k] = (int)strlen(cols[k]);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %*s\n", w[0], "ID",
	       w[1], "ADDRESS", w[2], "LEARNED", w[3], "STATE", w[4],
	       "LAST CONTACT", w[5], "LAST SYNC", w[6], "LAG");
	for (i = 0; i < n; i++)
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %*s\n", w[0],
		       rows[i].id, w[1], rows[i].address, w[2],
		       rows[i].learned, w[3], rows[i].state, w[4],
		       rows[i].contact, w[5], rows[i].sync, w[6], rows[i].lag);
	if (n == 0)
		printf("(no peers known)\n");
	if (r.truncated)
		printf("(more peers than shown)\n");
out:
	free(rows);
	return rv;
}

/* GET PUT DEL VERSION: one key argument (and PUT's value). */
static int key_request(struct ctx *x, int argc, char **argv,
		       struct ctl_request *rq, uint8_t **key, uint8_t **value)
{
	int want = rq->cmd == CTL_CMD_PUT ? 3 : 2;
	int rv;

	*key = *value = NULL;
	if (argc != want)
		return fail(EXIT_USAGE, "usage: rumorctl %s %s", current->name,
			    current->args);
	rv = parse_arg_bytes(x, "KEY", argv[1], key, &rq->key_len);
	if (rv == 0 && rq->key_len == 0)
		rv = fail(EXIT_USAGE, "KEY must not be empty");
	if (rv == 0 && want == 3)
		rv = parse_arg_bytes(x, "VALUE", argv[2], value,
				     &rq->value_len);
	rq->key = *key;
	rq->value = *value;
	return rv;
}

static int cmd_get(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_GET};
	struct ctl_reply r;
	uint8_t *key, *value;
	int rv;

	rv = key_request(x, argc, argv, &rq, &key, &value);
	if (rv == 0)
		rv = call(x, &rq, CTL_R_VALUE, &r, REPLY_TIMEOUT_MS);
	if (rv == 0) {
		if (x->json) {
			printf("{\"key\":");
			json_bytes(rq.key, rq.key_len);
			printf(",\"value\":");
			json_bytes(r.rec.value, r.rec.value_len);
			printf("}\n");
		} else if (x->hex) {
			put_hex(stdout, r.rec.value, r.rec.value_len);
			putchar('\n');
		} else {
			/* The value itself, so `get k > file` keeps bytes. */
			fwrite(r.rec.value, 1, r.rec.value_len, stdout);
			putchar('\n');
		}
		ctl_reply_free(&r);
	}
	free(key);
	free(value);
	return rv;
}

static int cmd_put_del(struct ctx *x, int argc, char **argv, int cmd)
{
	struct ctl_request rq = {.cmd = cmd};
	struct ctl_reply r;
	uint8_t *key, *value;
	int rv;

	rv = key_request(x, argc, argv, &rq, &key, &value);
	if (rv == 0)
		rv = call(x, &rq, CTL_R_OK, &r, REPLY_TIMEOUT_MS);
	if (rv == 0 && x->json)
		printf("{\"ok\":true}\n");
	free(key);
	free(value);
	return rv;
}

static int cmd_put(struct ctx *x, int argc, char **argv)
{
	return cmd_put_del(x, argc, argv, CTL_CMD_PUT);
}

static int cmd_del(struct ctx *x, int argc, char **argv)
{
	return cmd_put_del(x, argc, argv, CTL_CMD_DEL);
}

/* A version as one JSON object (no newline). */
static void json_record(const struct ctl_reply *r, int with_local)
{
	const struct rumor_version *v = &r->rec;
	char origin[IDENTITY_ID_STRLEN + 2 * CTL_ORIGIN_MAX];

	origin_string(v->origin, v->origin_len, origin, sizeof(origin));
	printf("{\"key\":");
	json_bytes(v->key, v->key_len);
	printf(",\"value\":");
	json_bytes(v->value, v->value_len);
	printf(",\"value_len\":%zu,\"deleted\":%s,\"clock\":%" PRIu64
	       ",\"origin\":\"%s\",\"seq\":%" PRIu64 ",\"wall_ms\":%" PRIu64,
	       v->value_len, v->deleted ? "true" : "false", v->clock, origin,
	       v->seq, v->wall_ms);
	if (with_local)
		printf(",\"local\":%s", r->local ? "true" : "false");
	putchar('}');
}

static int cmd_version(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_VERSION};
	struct ctl_reply r;
	uint8_t *key, *value;
	char origin[IDENTITY_ID_STRLEN + 2 * CTL_ORIGIN_MAX], wall[48];
	int rv;

	rv = key_request(x, argc, argv, &rq, &key, &value);
	if (rv == 0)
		rv = call(x, &rq, CTL_R_RECORD, &r, REPLY_TIMEOUT_MS);
	if (rv == 0) {
		if (x->json) {
			json_record(&r, 0);
			putchar('\n');
		} else {
			origin_string(r.rec.origin, r.rec.origin_len, origin,
				      sizeof(origin));
			wall_string(r.rec.wall_ms, wall, sizeof(wall));
			printf("key:       ");
			put_bytes(x, r.rec.key, r.rec.key_len);
			printf("\nclock:     %" PRIu64 "\n", r.rec.clock);
			printf("origin:    %s\n", origin);
			printf("seq:       %" PRIu64 "\n", r.rec.seq);
			printf("wall time: %s (%" PRIu64 ")\n", wall,
			       r.rec.wall_ms);
			printf("deleted:   %s\n", r.rec.deleted ? "yes" : "no");
			if (!r.rec.deleted)
				printf("size:      %zu bytes\n",
				       r.rec.value_len);
		}
		ctl_reply_free(&r);
	}
	free(key);
	free(value);
	return rv;
}

struct scan_row {
	uint8_t *key, *value;
	size_t key_len, value_len;
};

static void print_scan_row(const struct ctx *x, const struct scan_row *row,
			   size_t width)
{
	size_t w = bytes_width(x, row->key, row->key_len);

	put_bytes(x, row->key, row->key_len);
	for (; w < width + 2; w++)
		putchar(' ');
	put_bytes(x, row->value, row->value_len);
	putchar('\n');
}

static int cmd_scan(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_SCAN};
	struct ctl_reply r;
	struct scan_row *rows = NULL;
	uint8_t *prefix = NULL;
	size_t n = 0, i, width = 0, shown = 0;
	int aligned = 0, rv;

	if (argc > 2)
		return fail(EXIT_USAGE, "usage: rumorctl scan [PREFIX]");
	if (argc == 2) {
		rv = parse_arg_bytes(x, "PREFIX", argv[1], &prefix,
				     &rq.key_len);
		if (rv != 0)
			return rv;
		rq.key = prefix;
	}
	rq.limit = x->have_limit ? x->limit : 0;
	rv = request(x, &rq);
	if (rv != 0)
		goto out;
	if (x->json)
		printf("[");
	/* Text: align values on the widest of the first rows; later rows
	 * stream out with that width. */
	rows = calloc(SCAN_ALIGN_ROWS, sizeof(*rows));
	if (rows == NULL) {
		rv = fail(EXIT_FAIL, "out of memory");
		goto out;
	}
	for (;;) {
		rv = recv_reply(x, &r, REPLY_TIMEOUT_MS);
		if (rv != 0)
			goto out;
		if (r.type == CTL_R_END)
			break;
		if (r.type != CTL_R_ITEM) {
			rv = unexpected(&r);
			goto out;
		}
		if (x->json) {
			printf("%s\n{\"key\":", shown ? "," : "");
			json_bytes(r.rec.key, r.rec.key_len);
			printf(",\"value\":");
			json_bytes(r.rec.value, r.rec.value_len);
			printf("}");
			shown++;
			continue;
		}
		if (!aligned && n < SCAN_ALIGN_ROWS) {
			struct scan_row *row = &rows[n];

			row->key = malloc(r.rec.key_len);
			row->value = malloc(r.rec.value_len + 1);
			if (row->key == NULL || row->value == NULL) {
				free(row->key);
				free(row->value);
				rv = fail(EXIT_FAIL, "out of memory");
				goto out;
			}
			memcpy(row->key, r.rec.key, r.rec.key_len);
			if (r.rec.value_len > 0)
				memcpy(row->value, r.rec.value,
				       r.rec.value_len);
			row->key_len = r.rec.key_len;
			row->value_len = r.rec.value_len;
			n++;
			continue;
		}
		if (!aligned) {
			for (i = 0; i < n; i++) {
				size_t w = bytes_width(x, rows[i].key,
						       rows[i].key_len);
				width = w > width ? w : width;
			}
			width = width > 40 ? 40 : width;
			for (i = 0; i < n; i++)
				print_scan_row(x, &rows[i], width);
			aligned = 1;
		}
		{
			struct scan_row row = {
				(uint8_t *)r.rec.key, (uint8_t *)r.rec.value,
				r.rec.key_len, r.rec.value_len};

			print_scan_row(x, &row, width);
		}
	}
	if (x->json) {
		printf("%s]\n", shown ? "\n" : "");
	} else {
		if (!aligned) {
			for (i = 0; i < n; i++) {
				size_t w = bytes_width(x, rows[i].key,
						       rows[i].key_len);
				width = w > width ? w : width;
			}
			width = width > 40 ? 40 : width;
			for (i = 0; i < n; i++)
				print_scan_row(x, &rows[i], width);
		}
		if (r.truncated)
			fprintf(stderr, "rumorctl: stopped at the limit of %"
				PRIu64 " keys\n", x->limit);
	}
out:
	if (rows != NULL)
		for (i = 0; i < n; i++) {
			free(rows[i].key);
			free(rows[i].value);
		}
	free(rows);
	free(prefix);
	return rv;
}

static void print_change(const struct ctx *x, const struct ctl_reply *r)
{
	const struct rumor_version *v = &r->rec;
	char origin[IDENTITY_ID_STRLEN + 2 * CTL_ORIGIN_MAX], wall[48];

	origin_string(v->origin, v->origin_len, origin, sizeof(origin));
	wall_string(v->wall_ms, wall, sizeof(wall));
	printf("%s  %-6s %.12s  clock %" PRIu64 "  seq %" PRIu64 "  %s ",
	       wall, r->local ? "local" : "remote", origin, v->clock, v->seq,
	       v->deleted ? "del" : "put");
	put_bytes(x, v->key, v->key_len);
	if (!v->deleted) {
		printf(" = ");
		put_bytes(x, v->value, v->value_len);
	}
	putchar('\n');
	fflush(stdout);
}

static int cmd_watch(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_WATCH};
	struct ctl_reply r;
	struct sigaction sa;
	uint8_t *prefix = NULL;
	int rv;

	if (argc > 2)
		return fail(EXIT_USAGE, "usage: rumorctl watch [PREFIX]");
	if (argc == 2) {
		rv = parse_arg_bytes(x, "PREFIX", argv[1], &prefix,
				     &rq.key_len);
		if (rv != 0)
			return rv;
		rq.key = prefix;
	}
	/* No SA_RESTART: an interrupt must break the blocking read. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rv = call(x, &rq, CTL_R_OK, &r, REPLY_TIMEOUT_MS);
	if (rv != 0 || interrupted)
		goto out;
	if (!x->json) {
		/* Says the watch is in place: later changes will show. */
		fprintf(stderr, "# watching %s", rq.key_len ?
			"keys starting with " : "every key");
		if (rq.key_len)
			fput_bytes(stderr, x, rq.key, rq.key_len);
		fprintf(stderr, " (interrupt to stop)\n");
	}
	fflush(stderr);
	for (;;) {
		rv = recv_reply(x, &r, 0);
		if (rv != 0 || interrupted)
			break;
		if (r.type == CTL_R_GAP) {
			if (x->json)
				printf("{\"gap\":%" PRIu64 "}\n", r.count);
			else
				printf("# %" PRIu64 " changes not shown: this "
				       "reader was too slow\n", r.count);
			fflush(stdout);
			continue;
		}
		if (r.type != CTL_R_RECORD) {
			rv = unexpected(&r);
			break;
		}
		if (x->json) {
			json_record(&r, 1);
			putchar('\n');
			fflush(stdout);
		} else {
			print_change(x, &r);
		}
	}
out:
	free(prefix);
	/* Interrupted by the user: the normal way to end a watch. */
	return interrupted ? EXIT_OK : rv;
}

static int cmd_log(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_LOG};
	struct ctl_reply r;
	char origin[IDENTITY_ID_STRLEN + 2 * CTL_ORIGIN_MAX];
	char last_origin[sizeof(origin)] = "";
	char wall[48];
	size_t n = 0;
	int rv;

	if (argc != 1)
		return fail(EXIT_USAGE, "usage: rumorctl log [--limit N]");
	rq.limit = x->have_limit ? x->limit : LOG_LIMIT_DEFAULT;
	rv = request(x, &rq);
	if (rv != 0)
		return rv;
	if (x->json)
		printf("[");
	for (;;) {
		rv = recv_reply(x, &r, REPLY_TIMEOUT_MS);
		if (rv != 0)
			return rv;
		if (r.type == CTL_R_END)
			break;
		if (r.type != CTL_R_RECORD)
			return unexpected(&r);
		if (x->json) {
			printf("%s\n", n ? "," : "");
			json_record(&r, 0);
			n++;
			continue;
		}
		origin_string(r.rec.origin, r.rec.origin_len, origin,
			      sizeof(origin));
		if (strcmp(origin, last_origin) != 0) {
			printf("%sorigin %s\n", n ? "\n" : "", origin);
			printf("  %8s  %8s  %-24s  %-3s  %s\n", "SEQ", "CLOCK",
			       "WALL TIME", "OP", "KEY");
			snprintf(last_origin, sizeof(last_origin), "%s",
				 origin);
		}
		wall_string(r.rec.wall_ms, wall, sizeof(wall));
		printf("  %8" PRIu64 "  %8" PRIu64 "  %-24s  %-3s  ", r.rec.seq,
		       r.rec.clock, wall, r.rec.deleted ? "del" : "put");
		put_bytes(x, r.rec.key, r.rec.key_len);
		if (!r.rec.deleted)
			printf("  (%zu bytes)", r.rec.value_len);
		putchar('\n');
		n++;
	}
	if (x->json)
		printf("%s]\n", n ? "\n" : "");
	else if (n == 0)
		printf("(the log is empty)\n");
	if (r.truncated)
		fprintf(stderr, "rumorctl: the log was cut short (too large "
			"for one reply); use a smaller --limit\n");
	return 0;
}

static int cmd_sync(struct ctx *x, int argc, char **argv)
{
	struct ctl_request rq = {.cmd = CTL_CMD_SYNC};
	struct ctl_reply r;
	const struct node_sync_report *s = &r.sync;
	int rv;

	if (argc != 1)
		return fail(EXIT_USAGE, "usage: rumorctl sync [--timeout MS]");
	rq.timeout_ms = x->timeout_ms != 0 ? x->timeout_ms : SYNC_TIMEOUT_MS;
	rv = call(x, &rq, CTL_R_SYNC, &r, rq.timeout_ms + REPLY_TIMEOUT_MS);
	if (rv != 0)
		return rv;
	if (x->json) {
		printf("{\"peers_tried\":%" PRIu32 ",\"peers_completed\":%"
		       PRIu32 ",\"entries_sent\":%" PRIu64
		       ",\"entries_received\":%" PRIu64
		       ",\"entries_applied\":%" PRIu64 ",\"bytes_in\":%" PRIu64
		       ",\"bytes_out\":%" PRIu64 "}\n", s->peers_tried,
		       s->peers_completed, s->entries_sent,
		       s->entries_received, s->entries_applied, s->bytes_in,
		       s->bytes_out);
		return 0;
	}
	if (s->peers_tried == 0) {
		printf("no alive peer to reconcile with\n");
		return 0;
	}
	printf("reconciled with %" PRIu32 " of %" PRIu32 " peers\n",
	       s->peers_completed, s->peers_tried);
	printf("entries:  %" PRIu64 " sent, %" PRIu64 " received, %" PRIu64
	       " applied\n", s->entries_sent, s->entries_received,
	       s->entries_applied);
	printf("bytes:    %" PRIu64 " in, %" PRIu64 " out\n", s->bytes_in,
	       s->bytes_out);
	return s->peers_completed < s->peers_tried ? EXIT_FAIL : 0;
}

static int cmd_keygen(struct ctx *x, int argc, char **argv)
{
	struct identity id;
	struct err err;
	struct stat st;
	char path[PATH_MAX], idstr[IDENTITY_ID_STRLEN];

	if (argc != 1 || (x->network_key != NULL) == x->want_id)
		return fail(EXIT_USAGE, "usage: rumorctl keygen --network-key "
			    "FILE | --id");
	err_clear(&err);
	if (x->network_key != NULL) {
		if (network_key_generate(x->network_key, &err) != 0)
			return fail(EXIT_FAIL, "%s", err.msg);
		if (x->json) {
			printf("{\"network_key_file\":");
			json_cstr(x->network_key);
			printf("}\n");
		} else {
			printf("wrote a new network key to %s (mode 0600); give "
			       "it to every node with --network-key\n",
			       x->network_key);
		}
		return 0;
	}
	/* Only read: a missing key must not be created from here. */
	snprintf(path, sizeof(path), "%s/%s", x->data, IDENTITY_FILE);
	if (stat(path, &st) != 0)
		return fail(EXIT_FAIL, "no node key at %s (%s); rumord creates "
			    "it at first start", path, strerror(errno));
	if (identity_load_or_create(&id, x->data, &err) != 0)
		return fail(EXIT_FAIL, "%s", err.msg);
	identity_id_string(id.public_key, idstr);
	identity_wipe(&id);
	if (x->json)
		printf("{\"id\":\"%s\"}\n", idstr);
	else
		printf("%s\n", idstr);
	return 0;
}

/* ------------------------------------------------------------ main */

static const struct command commands[] = {
	{"status", cmd_status, OPT_JSON, "",
	 "Shows the node's id, mode, pace, catch-up state, HWM vector and "
	 "counters"},
	{"peers", cmd_peers, OPT_JSON, "",
	 "Lists known peers: address, how learned, state, last contact and "
	 "sync, lag"},
	{"get", cmd_get, OPT_JSON | OPT_HEX, "KEY", "Prints a key's value"},
	{"put", cmd_put, OPT_JSON | OPT_HEX, "KEY VALUE", "Writes a key"},
	{"del", cmd_del, OPT_JSON | OPT_HEX, "KEY", "Deletes a key"},
	{"scan", cmd_scan, OPT_JSON | OPT_HEX | OPT_LIMIT, "[PREFIX]",
	 "Lists live keys (starting with PREFIX) and values in key order"},
	{"watch", cmd_watch, OPT_JSON | OPT_HEX, "[PREFIX]",
	 "Prints every applied change (of keys starting with PREFIX) until "
	 "interrupted"},
	{"log", cmd_log, OPT_JSON | OPT_HEX | OPT_LIMIT, "",
	 "Prints the write log per origin, newest first"},
	{"version", cmd_version, OPT_JSON | OPT_HEX, "KEY",
	 "Shows a key's version: clock, origin, seq, wall time, deleted"},
	{"sync", cmd_sync, OPT_JSON | OPT_TIMEOUT, "",
	 "Reconciles now with every alive peer and reports what moved"},
	{"keygen", cmd_keygen, OPT_JSON | OPT_NETKEY | OPT_ID,
	 "--network-key FILE | --id",
	 "Writes a new network key file, or prints this node's id (no node "
	 "needed)"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: rumorctl [--data DIR | --socket PATH] [--json] [--hex] "
		"COMMAND [ARGS]\n"
		"\n"
		"Talks to a running rumord through DATA/control.sock.\n"
		"\n"
		"  --data DIR     the node's data dir (default: $RUMOR_DATA, else "
		"./rumor-data)\n"
		"  --socket PATH  the control socket (default: DATA/control.sock)\n"
		"  --json         machine-readable output (see rumorctl(1))\n"
		"  --hex          KEY, VALUE and PREFIX arguments and output in "
		"hex\n"
		"  --help         this text; COMMAND --help for a command\n"
		"  --version      the version\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\nExit codes: 0 ok, 1 not found / refused, 2 usage, 3 "
		"cannot reach the node.\n");
}

static void command_usage(const struct command *c)
{
	printf("usage: rumorctl [global options] %s%s%s%s%s%s%s\n\n%s.\n",
	       c->name, c->args[0] ? " " : "", c->args,
	       c->opts & OPT_LIMIT ? " [--limit N]" : "",
	       c->opts & OPT_TIMEOUT ? " [--timeout MS]" : "",
	       c->opts & OPT_HEX ? " [--hex]" : "",
	       c->opts & OPT_JSON ? " [--json]" : "", c->summary);
	if (c->opts & OPT_HEX)
		printf("\n  --hex         arguments and output bytes in hex");
	if (c->opts & OPT_LIMIT)
		printf("\n  --limit N     %s", c->fn == cmd_log ?
		       "entries per origin (default 20, at most 10000)" :
		       "stop after N keys");
	if (c->opts & OPT_TIMEOUT)
		printf("\n  --timeout MS  give up on a peer after MS ms "
		       "(default 10000)");
	if (c->opts & OPT_NETKEY)
		printf("\n  --network-key FILE  write a new random network "
		       "key to FILE (never overwrites)");
	if (c->opts & OPT_ID)
		printf("\n  --id          print this node's id, read from "
		       "DATA/node.key");
	printf("\n  --json        machine-readable output (see rumorctl(1))"
	       "\n  --help        this text\n");
}

static int parse_u64(const char *what, const char *s, uint64_t max,
		     uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return fail(EXIT_USAGE, "%s: '%s' is not a number", what, s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
		return fail(EXIT_USAGE, "%s: '%s' is not a number from 1 to %"
			    PRIu64, what, s, max);
	*out = v;
	return 0;
}

/* Options after the command name; leaves the positional arguments at
 * argv[optind...] with argv[0] the command. */
static int parse_command_options(struct ctx *x, const struct command *c,
				 int *argc, char ***argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'},
		{"hex", no_argument, NULL, 'x'},
		{"limit", required_argument, NULL, 'l'},
		{"timeout", required_argument, NULL, 't'},
		{"network-key", required_argument, NULL, 'k'},
		{"id", no_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	unsigned need;
	int ch, rv;

	optind = 0;    /* GNU getopt: start over */
	opterr = 0;
	/* Options may follow arguments; "--" ends them (for a KEY that
	 * starts with '-'). */
	while ((ch = getopt_long(*argc, *argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			command_usage(c);
			return -1;
		case 'j': need = OPT_JSON; break;
		case 'x': need = OPT_HEX; break;
		case 'l': need = OPT_LIMIT; break;
		case 't': need = OPT_TIMEOUT; break;
		case 'k': need = OPT_NETKEY; break;
		case 'i': need = OPT_ID; break;
		default:
			return fail(EXIT_USAGE, "%s: unknown option '%s' (see "
				    "rumorctl %s --help)", c->name,
				    (*argv)[optind - 1], c->name);
		}
		if (!(c->opts & need))
			return fail(EXIT_USAGE, "%s does not take '%s'",
				    c->name, (*argv)[optind - 1]);
		switch (ch) {
		case 'j': x->json = 1; break;
		case 'x': x->hex = 1; break;
		case 'l':
			rv = parse_u64("--limit", optarg, c->fn == cmd_log ?
				       CTL_LOG_LIMIT_MAX : UINT64_MAX,
				       &x->limit);
			if (rv != 0)
				return rv;
			x->have_limit = 1;
			break;
		case 't':
			rv = parse_u64("--timeout", optarg,
				       CTL_SYNC_TIMEOUT_MAX, &x->timeout_ms);
			if (rv != 0)
				return rv;
			break;
		case 'k': x->network_key = optarg; break;
		case 'i': x->want_id = 1; break;
		}
	}
	/* argv[optind - 1] becomes the new argv[0] (the command). */
	(*argv)[optind - 1] = (char *)c->name;
	*argv += optind - 1;
	*argc -= optind - 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"data", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"hex", no_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct ctx x;
	const char *env;
	size_t i;
	int ch, rv;

	memset(&x, 0, sizeof(x));
	x.fd = -1;
	env = getenv("RUMOR_DATA");
	x.data = env != NULL && env[0] ? env : DEFAULT_DATA;

	opterr = 0;
	/* "+": stop at the command; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': x.data = optarg; break;
		case 's': x.socket = optarg; break;
		case 'j': x.json = 1; break;
		case 'x': x.hex = 1; break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("rumorctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			fprintf(stderr, "rumorctl: unknown option '%s'\n\n",
				argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			break;
	if (i == N_COMMANDS) {
		fprintf(stderr, "rumorctl: unknown command '%s'\n\n",
			argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	current = &commands[i];
	argc -= optind;
	argv += optind;
	rv = parse_command_options(&x, current, &argc, &argv);
	if (rv < 0)
		return EXIT_OK;    /* --help */
	if (rv == 0)
		rv = current->fn(&x, argc, argv);
	if (x.fd >= 0)
		close(x.fd);
	free(x.frame);
	if (fflush(stdout) != 0 && rv == 0)
		rv = fail(EXIT_FAIL, "writing output: %s", strerror(errno));
	return rv;
}
