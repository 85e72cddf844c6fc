/* SPDX-License-Identifier: MIT */
/* lincheck_io: a history's storage and its file format (lincheck.h). */
#include "tests/lib/lincheck.h"
#include "lib/bytes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LC_KEY_MAX (1u << 20)
#define LC_LINE_MAX 65536

void lincheck_init(struct lincheck *h)
{
	memset(h, 0, sizeof(*h));
}

void lincheck_free(struct lincheck *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free((void *)h->ops[i].key);
		free((void *)h->ops[i].value);
	}
	free(h->ops);
	memset(h, 0, sizeof(*h));
}

static uint8_t *dup_bytes(const uint8_t *b, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d != NULL && n > 0)
		memcpy(d, b, n);
	return d;
}

int lincheck_add(struct lincheck *h, const struct lc_op *op)
{
	struct lc_op o = *op;

	if ((o.kind != LC_WRITE && o.kind != LC_READ) ||
	    (o.outcome != LC_OK && o.outcome != LC_FAIL &&
	     o.outcome != LC_INFO) ||
	    (o.outcome == LC_OK && o.complete < o.invoke) ||
	    o.key_len > LC_KEY_MAX || o.value_len > LC_KEY_MAX ||
	    (o.key == NULL && o.key_len > 0) ||
	    (!o.absent && o.value == NULL && o.value_len > 0))
		return -1;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct lc_op *p = realloc(h->ops, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		h->ops = p;
		h->cap = cap;
	}
	if (o.absent)
		o.value_len = 0;
	o.key = dup_bytes(op->key, o.key_len);
	o.value = dup_bytes(op->value, o.value_len);
	if (o.key == NULL || o.value == NULL) {
		free((void *)o.key);
		free((void *)o.value);
		return -1;
	}
	h->ops[h->n++] = o;
	return 0;
}

/* Decodes a token (%XX escapes) into out (capacity >= strlen(tok)).
 * Returns the length, or -1 on a bad escape. */
static long unescape(const char *tok, uint8_t *out)
{
	long n = 0;

	if (strcmp(tok, "\"\"") == 0)
		return 0;               /* the empty string */
	while (*tok != '\0') {
		if (*tok == '%') {
			int a, b;

			if (tok[1] == '\0' || tok[2] == '\0')
				return -1;
			a = bytes_hex_digit(tok[1]);
			b = bytes_hex_digit(tok[2]);
			if (a < 0 || b < 0)
				return -1;
			out[n++] = (uint8_t)(a * 16 + b);
			tok += 3;
		} else {
			out[n++] = (uint8_t)*tok++;
		}
	}
	return n;
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = (int64_t)x;
	return 0;
}

static int fail(char *err, size_t len, const char *msg)
{
	snprintf(err, len, "%s", msg);
	return -1;
}

int lincheck_parse_line(struct lincheck *h, const char *line, char *err,
			size_t errlen)
{
	char *copy, *tok[7], *save = NULL, *p;
	uint8_t *kbuf = NULL, *vbuf = NULL;
	struct lc_op o;
	long kl, vl = 0;
	int n = 0, rc = -1;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0' || *line == '\n' || *line == '#')
		return 0;
	if (strlen(line) > LC_LINE_MAX)
		return fail(err, errlen, "line too long");
	copy = strdup(line);
	if (copy == NULL)
		return fail(err, errlen, "out of memory");
	for (p = strtok_r(copy, " \t\r\n", &save); p != NULL && n < 7;
	     p = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = p;
	memset(&o, 0, sizeof(o));
	if (n != 6) {
		fail(err, errlen, "want 6 fields: invoke complete|- "
		     "ok|fail|info write|read KEY VALUE|-");
		goto out;
	}
	if (parse_i64(tok[0], &o.invoke) < 0) {
		fail(err, errlen, "invoke is not an integer");
		goto out;
	}
	if (strcmp(tok[2], "ok") == 0)
		o.outcome = LC_OK;
	else if (strcmp(tok[2], "fail") == 0)
		o.outcome = LC_FAIL;
	else if (strcmp(tok[2], "info") == 0)
		o.outcome = LC_INFO;
	else {
		fail(err, errlen, "outcome must be ok, fail or info");
		goto out;
	}
	if (strcmp(tok[1], "-") == 0) {
		if (o.outcome == LC_OK) {
			fail(err, errlen, "an ok op needs a complete time");
			goto out;
		}
		o.complete = o.invoke;
	} else if (parse_i64(tok[1], &o.complete) < 0) {
		fail(err, errlen, "complete is not an integer or -");
		goto out;
	} else if (o.outcome == LC_OK && o.complete < o.invoke) {
		fail(err, errlen, "complete before invoke");
		goto out;
	}
	if (strcmp(tok[3], "write") == 0)
		o.kind = LC_WRITE;
	else if (strcmp(tok[3], "read") == 0)
		o.kind = LC_READ;
	else {
		fail(err, errlen, "kind must be write or read");
		goto out;
	}
	kbuf = malloc(strlen(tok[4]) + 1);
	vbuf = malloc(strlen(tok[5]) + 1);
	if (kbuf == NULL || vbuf == NULL) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	kl = unescape(tok[4], kbuf);
	if (kl < 0) {
		fail(err, errlen, "bad %XX escape in KEY");
		goto out;
	}
	o.absent = strcmp(tok[5], "-") == 0;
	if (!o.absent) {
		vl = unescape(tok[5], vbuf);
		if (vl < 0) {
			fail(err, errlen, "bad %XX escape in VALUE");
			goto out;
		}
	}
	o.key = kbuf;
	o.key_len = (size_t)kl;
	o.value = vbuf;
	o.value_len = (size_t)vl;
	if (lincheck_add(h, &o) < 0) {
		fail(err, errlen, "op refused (too long, or out of memory)");
		goto out;
	}
	rc = 1;
out:
	free(copy);
	free(kbuf);
	free(vbuf);
	return rc;
}

int lincheck_read(struct lincheck *h, FILE *f, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t got;
	int rc = 0;

	while ((got = getline(&line, &cap, f)) >= 0) {
		char msg[160];

		lineno++;
		if (lincheck_parse_line(h, line, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "line %zu: %s", lineno, msg);
			rc = -1;
			break;
		}
	}
	free(line);
	return rc;
}

static void write_token(FILE *f, const uint8_t *b, size_t n)
{
	size_t i;

	if (n == 0) {
		fputs("\"\"", f);
		return;
	}
	if (n == 1 && b[0] == '-') {
		fputs("%2D", f);
		return;
	}
	for (i = 0; i < n; i++) {
		if (b[i] > 0x20 && b[i] < 0x7f && b[i] != '%' && b[i] != '#' &&
		    b[i] != '"')
			fputc(b[i], f);
		else
			fprintf(f, "%%%02X", b[i]);
	}
}

void lincheck_write_op(FILE *f, const struct lc_op *op)
{
	static const char *const out[] = { "ok", "fail", "info" };

	fprintf(f, "%" PRId64 " ", op->invoke);
	if (op->outcome == LC_OK)
		fprintf(f, "%" PRId64, op->complete);
	else
		fputc('-', f);
	fprintf(f, " %s %s ", out[op->outcome],
		op->kind == LC_WRITE ? "write" : "read");
	write_token(f, op->key, op->key_len);
	fputc(' ', f);
	if (op->absent)
		fputc('-', f);
	else
		write_token(f, op->value, op->value_len);
	fputc('\n', f);
}
