/* SPDX-License-Identifier: MIT */
/*
 * rumorctl's formatting primitives: bytes as text or hex, JSON strings,
 * times, and the escaping that keeps what a node or a peer supplied from
 * driving the operator's terminal (ctl.h, convention 2). Pure: writes
 * only to the FILE it is given.
 */
#include "config.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/identity.h"
#include "tools/ctl/ctl.h"

static const char hexdigits[] = "0123456789abcdef";

/* ------------------------------------------------------------ text */

/* The length (1..4) of the printable UTF-8 character at p[0..n), or 0
 * when p starts with a control character (U+0000..U+001F, U+007F,
 * U+0080..U+009F) or with bytes that are not UTF-8 (overlong forms,
 * surrogates, beyond U+10FFFF, cut short). */
static size_t utf8_printable(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t len, k;

	if (p[0] < 0x80)
		return p[0] < 0x20 || p[0] == 0x7f ? 0 : 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

int fmt_is_text(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i = 0;

	while (i < n) {
		size_t len = utf8_printable(b + i, n - i);

		if (len == 0)
			return 0;
		i += len;
	}
	return 1;
}

/* The escaped form of the next unit of p[0..n) (n > 0) into unit (at
 * most 4 characters, NUL-terminated); returns the input bytes it
 * stands for. */
static size_t safe_unit(const uint8_t *p, size_t n, char unit[5])
{
	size_t len = utf8_printable(p, n);

	if (len > 0 && p[0] != '\\') {
		memcpy(unit, p, len);
		unit[len] = '\0';
		return len;
	}
	if (p[0] == '\\') {
		memcpy(unit, "\\\\", 3);
		return 1;
	}
	unit[0] = '\\';
	unit[1] = 'x';
	unit[2] = hexdigits[p[0] >> 4];
	unit[3] = hexdigits[p[0] & 15];
	unit[4] = '\0';
	return 1;
}

void fmt_safe_put(FILE *f, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	char unit[5];

	while (n > 0) {
		size_t used = safe_unit(p, n, unit);

		fputs(unit, f);
		p += used;
		n -= used;
	}
}

size_t fmt_safe(char *out, size_t size, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len = 0;
	char unit[5];

	assert(size > 0);
	while (n > 0) {
		size_t used = safe_unit(p, n, unit), w = strlen(unit);

		if (w >= size - len)
			break;
		memcpy(out + len, unit, w);
		len += w;
		p += used;
		n -= used;
	}
	out[len] = '\0';
	return len;
}

int fmt_fail(int code, const char *fmt, ...)
{
	char msg[8192];          /* paths may be PATH_MAX long */
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	fputs("rumorctl: ", stderr);
	fmt_safe_put(stderr, msg, (size_t)n < sizeof(msg) ? (size_t)n :
		     sizeof(msg) - 1);
	fputc('\n', stderr);
	return code;
}

/* ------------------------------------------------------------ bytes */

void fmt_hex(FILE *f, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		fputc(hexdigits[b[i] >> 4], f);
		fputc(hexdigits[b[i] & 15], f);
	}
}

void fmt_bytes(FILE *f, int hex, const void *p, size_t n)
{
	if (!hex && n > 0 && fmt_is_text(p, n)) {
		fwrite(p, 1, n, f);
		return;
	}
	if (!hex)
		fputs("0x", f);
	fmt_hex(f, p, n);
}

size_t fmt_bytes_width(int hex, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i, w = 0;

	if (hex || n == 0 || !fmt_is_text(p, n))
		return 2 * n + (hex ? 0 : 2);
	for (i = 0; i < n; i++)   /* characters, not bytes */
		w += (b[i] & 0xc0) != 0x80;
	return w;
}

int fmt_parse_bytes(int hex, const char *what, const char *s, uint8_t **out,
		    size_t *len)
{
	size_t n = strlen(s), i;
	uint8_t *p;

	if (!hex) {
		p = malloc(n + 1);
		if (p == NULL)
			return fmt_fail(CTL_EXIT_FAIL, "out of memory");
		memcpy(p, s, n + 1);
		*out = p;
		*len = n;
		return 0;
	}
	if (n % 2 != 0)
		return fmt_fail(CTL_EXIT_USAGE, "%s: odd number of hex digits",
				what);
	p = malloc(n / 2 + 1);
	if (p == NULL)
		return fmt_fail(CTL_EXIT_FAIL, "out of memory");
	for (i = 0; i < n / 2; i++) {
		const char *hi = strchr(hexdigits, s[2 * i] | 0x20);
		const char *lo = strchr(hexdigits, s[2 * i + 1] | 0x20);

		if (s[2 * i] == '\0' || s[2 * i + 1] == '\0' || hi == NULL ||
		    lo == NULL) {
			free(p);
			return fmt_fail(CTL_EXIT_USAGE, "%s: '%s' is not hex",
					what, s);
		}
		p[i] = (uint8_t)((hi - hexdigits) << 4 | (lo - hexdigits));
	}
	*out = p;
	*len = n / 2;
	return 0;
}

/* ------------------------------------------------------------ JSON */

void fmt_json_string(FILE *f, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	fputc('"', f);
	while (i < n) {
		size_t len = utf8_printable(p + i, n - i);

		if (len > 0 && p[i] != '"' && p[i] != '\\') {
			fwrite(p + i, 1, len, f);
			i += len;
			continue;
		}
		if (p[i] == '"' || p[i] == '\\')
			fprintf(f, "\\%c", p[i]);
		else if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
			 p[i + 1] <= 0x9f)
			/* A C1 control, written as the character it is. */
			fprintf(f, "\\u%04x", p[++i]);
		else
			/* A control, or a byte that is not UTF-8: as the
			 * Latin-1 character of that value. */
			fprintf(f, "\\u%04x", p[i]);
		i++;
	}
	fputc('"', f);
}

void fmt_json_cstr(FILE *f, const char *s)
{
	fmt_json_string(f, s, strlen(s));
}

void fmt_json_bytes(FILE *f, const void *p, size_t n)
{
	if (p == NULL) {
		fputs("null", f);
		return;
	}
	if (fmt_is_text(p, n)) {
		fmt_json_string(f, p, n);
		return;
	}
	fputs("{\"hex\":\"", f);
	fmt_hex(f, p, n);
	fputs("\"}", f);
}

/* ------------------------------------------------------------ fields */

void fmt_origin(const uint8_t *o, size_t n, char *out, size_t size)
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

void fmt_wall(uint64_t ms, char *out, size_t size)
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

void fmt_ago(uint64_t ms, char *out, size_t size)
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
