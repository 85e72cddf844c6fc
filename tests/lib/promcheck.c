/* SPDX-License-Identifier: MIT */
/*
 * promcheck: exposition format 0.0.4 validator (promcheck.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/promcheck.h"

#define PC_FAMILIES_MAX 512
#define PC_SERIES_MAX 8192
#define PC_NAME_MAX 200
#define PC_LINE_MAX 4096

struct pc_family {
	char name[PC_NAME_MAX];
	char type[16];
	int help, samples_done;
	unsigned long samples;
};

struct pc {
	struct pc_family fam[PC_FAMILIES_MAX];
	size_t n_fam;
	char **series;
	size_t n_series;
	int current;             /* family whose samples are being read */
	/* The histogram being read: last le, last cumulative count. */
	double last_le;
	double last_bucket;
	int saw_inf;
	double inf_count;
	char *msg;
	size_t msglen;
	unsigned lineno;
};

static int pc_fail(struct pc *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int pc_fail(struct pc *p, const char *fmt, ...)
{
	char buf[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	snprintf(p->msg, p->msglen, "line %u: %s", p->lineno, buf);
	return -1;
}

static int is_name_start(char c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':');
}

static int is_name_char(char c, int colon)
{
	return is_name_start(c, colon) || (c >= '0' && c <= '9');
}

/* Reads a name at *s into out; advances *s. */
static int pc_name(const char **s, char *out, size_t cap, int colon)
{
	size_t n = 0;

	if (!is_name_start(**s, colon))
		return -1;
	while (is_name_char(**s, colon)) {
		if (n + 1 >= cap)
			return -1;
		out[n++] = *(*s)++;
	}
	out[n] = '\0';
	return 0;
}

static int pc_float(const char *s, double *out)
{
	char *end;

	if (strcmp(s, "+Inf") == 0) {
		*out = INFINITY;
		return 0;
	}
	if (strcmp(s, "-Inf") == 0) {
		*out = -INFINITY;
		return 0;
	}
	if (strcmp(s, "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	if (*s == '\0')
		return -1;
	*out = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

static struct pc_family *pc_find(struct pc *p, const char *name)
{
	for (size_t i = 0; i < p->n_fam; i++)
		if (strcmp(p->fam[i].name, name) == 0)
			return &p->fam[i];
	return NULL;
}

static struct pc_family *pc_add(struct pc *p, const char *name)
{
	struct pc_family *f = pc_find(p, name);

	if (f != NULL || p->n_fam == PC_FAMILIES_MAX)
		return f;
	f = &p->fam[p->n_fam++];
	memset(f, 0, sizeof *f);
	snprintf(f->name, sizeof f->name, "%s", name);
	return f;
}

static int pc_comment(struct pc *p, const char *line)
{
	char kind[8], name[PC_NAME_MAX];
	const char *s = line + 2;
	struct pc_family *f;

	if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0)
		return 0;    /* another comment */
	memcpy(kind, line + 2, 4);
	kind[4] = '\0';
	s = line + 7;
	if (pc_name(&s, name, sizeof name, 1) != 0)
		return pc_fail(p, "bad metric name in %s", kind);
	f = pc_add(p, name);
	if (f == NULL)
		return pc_fail(p, "too many families");
	if (f->samples > 0)
		return pc_fail(p, "%s after the samples of %s", kind, name);
	if (strcmp(kind, "HELP") == 0) {
		if (f->help)
			return pc_fail(p, "second HELP for %s", name);
		if (*s != ' ' && *s != '\0')
			return pc_fail(p, "HELP %s: no space before text", name);
		for (; *s != '\0'; s++)
			if (*s == '\\' && s[1] != '\\' && s[1] != 'n')
				return pc_fail(p, "HELP %s: bad escape", name);
			else if (*s == '\\')
				s++;
		f->help = 1;
		return 0;
	}
	if (f->type[0] != '\0')
		return pc_fail(p, "second TYPE for %s", name);
	if (*s++ != ' ')
		return pc_fail(p, "TYPE %s: no type", name);
	if (strcmp(s, "counter") != 0 && strcmp(s, "gauge") != 0 &&
	    strcmp(s, "histogram") != 0 && strcmp(s, "summary") != 0 &&
	    strcmp(s, "untyped") != 0)
		return pc_fail(p, "TYPE %s: unknown type '%s'", name, s);
	snprintf(f->type, sizeof f->type, "%s", s);
	return 0;
}

/* The family a sample belongs to: a histogram's _bucket, _sum, _count
 * belong to the base name. */
static struct pc_family *pc_family_of(struct pc *p, const char *name,
				      const char **suffix)
{
	static const char *const sfx[] = {"_bucket", "_sum", "_count"};
	struct pc_family *f;
	char base[PC_NAME_MAX];

	*suffix = "";
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(name), k = strlen(sfx[i]);

		if (n > k && strcmp(name + n - k, sfx[i]) == 0) {
			snprintf(base, sizeof base, "%.*s", (int)(n - k), name);
			f = pc_find(p, base);
			if (f != NULL && strcmp(f->type, "histogram") == 0) {
				*suffix = sfx[i];
				return f;
			}
		}
	}
	return pc_find(p, name);
}

static int pc_sample(struct pc *p, const char *line)
{
	char name[PC_NAME_MAX], label[PC_NAME_MAX], le[64] = "";
	const char *s = line, *suffix;
	struct pc_family *f;
	double v;
	size_t n_le = 0;
	int idx;

	if (pc_name(&s, name, sizeof name, 1) != 0)
		return pc_fail(p, "bad metric name");
	if (*s == '{') {
		s++;
		while (*s != '}') {
			int is_le;

			if (pc_name(&s, label, sizeof label, 0) != 0)
				return pc_fail(p, "bad label name");
			if (*s++ != '=' || *s++ != '"')
				return pc_fail(p, "label %s: expected =\"", label);
			is_le = strcmp(label, "le") == 0;
			n_le = 0;
			while (*s != '"') {
				char c = *s;

				if (c == '\0')
					return pc_fail(p, "unterminated label value");
				if (c == '\\') {
					if (s[1] != '\\' && s[1] != '"' && s[1] != 'n')
						return pc_fail(p, "bad escape in label %s", label);
					c = s[1];
					s++;
				}
				if (is_le && n_le + 1 < sizeof le)
					le[n_le++] = c;
				s++;
			}
			if (is_le)
				le[n_le] = '\0';
			s++;
			if (*s == ',')
				s++;
			else if (*s != '}')
				return pc_fail(p, "expected , or } after a label");
		}
		s++;
	}
	if (*s++ != ' ')
		return pc_fail(p, "no space before the value");
	{
		char val[64];
		size_t k = strcspn(s, " ");

		if (k == 0 || k >= sizeof val)
			return pc_fail(p, "bad value");
		memcpy(val, s, k);
		val[k] = '\0';
		if (pc_float(val, &v) != 0)
			return pc_fail(p, "value '%s' is not a float", val);
		if (s[k] == ' ') {   /* a timestamp: an integer */
			char *end;

			(void)strtoll(s + k + 1, &end, 10);
			if (*end != '\0' || end == s + k + 1)
				return pc_fail(p, "bad timestamp");
		}
	}
	/* The series (name and labels) once only. */
	{
		size_t k = strcspn(line, " ");

		for (size_t i = 0; i < p->n_series; i++)
			if (strlen(p->series[i]) == k &&
			    memcmp(p->series[i], line, k) == 0)
				return pc_fail(p, "series %.*s twice", (int)k,
					       line);
		if (p->n_series == PC_SERIES_MAX)
			return pc_fail(p, "too many series");
		p->series[p->n_series] = strndup(line, k);
		if (p->series[p->n_series] == NULL)
			return pc_fail(p, "out of memory");
		p->n_series++;
	}
	f = pc_family_of(p, name, &suffix);
	if (f == NULL) {
		f = pc_add(p, name);   /* untyped, no HELP: allowed */
		if (f == NULL)
			return pc_fail(p, "too many families");
	}
	if (f->samples_done)
		return pc_fail(p, "samples of %s not contiguous", f->name);
	f->samples++;
	idx = (int)(f - p->fam);
	if (p->current != idx) {
		if (p->current >= 0)
			p->fam[p->current].samples_done = 1;
		p->current = idx;
		p->last_le = -INFINITY;
		p->last_bucket = 0;
		p->saw_inf = 0;
	}
	if (strcmp(f->type, "histogram") == 0) {
		if (*suffix == '\0')
			return pc_fail(p, "histogram %s: bare sample", f->name);
		if (strcmp(suffix, "_bucket") == 0) {
			double b;

			if (le[0] == '\0' || pc_float(le, &b) != 0)
				return pc_fail(p, "bucket without a float le");
			if (p->saw_inf || b <= p->last_le)
				return pc_fail(p, "buckets not ascending in le");
			if (v < p->last_bucket)
				return pc_fail(p, "buckets not cumulative");
			p->last_le = b;
			p->last_bucket = v;
			if (isinf(b)) {
				p->saw_inf = 1;
				p->inf_count = v;
			}
		} else if (strcmp(suffix, "_count") == 0) {
			if (!p->saw_inf)
				return pc_fail(p, "histogram %s: no +Inf bucket",
					       f->name);
			if (v != p->inf_count)
				return pc_fail(p, "histogram %s: _count is not "
					       "the +Inf bucket", f->name);
		}
	}
	if (strcmp(f->type, "counter") == 0 && (v < 0 || isnan(v)))
		return pc_fail(p, "counter %s below 0", name);
	return 0;
}

/* Whether s[0..n) is valid UTF-8 (RFC 3629). */
static int pc_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = u[i];
		size_t k, len;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

int promcheck(const char *text, size_t len, char *msg, size_t msglen)
{
	struct pc *p = calloc(1, sizeof *p);
	size_t off = 0;
	int rv = 0;

	if (p == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	p->series = calloc(PC_SERIES_MAX, sizeof *p->series);
	if (p->series == NULL) {
		free(p);
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	p->msg = msg;
	p->msglen = msglen;
	p->current = -1;
	if (len > 0 && text[len - 1] != '\n') {
		snprintf(msg, msglen, "the text does not end with a newline");
		rv = -1;
	}
	while (rv == 0 && off < len) {
		char line[PC_LINE_MAX];
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = (size_t)(nl - (text + off));

		p->lineno++;
		if (n >= sizeof line) {
			rv = pc_fail(p, "line too long");
			break;
		}
		if (memchr(text + off, '\0', n) != NULL) {
			rv = pc_fail(p, "NUL in a line");
			break;
		}
		if (!pc_utf8(text + off, n)) {
			rv = pc_fail(p, "not UTF-8");
			break;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + 1;
		if (line[0] == '\0')
			continue;
		rv = line[0] == '#' ? pc_comment(p, line) : pc_sample(p, line);
	}
	for (size_t i = 0; i < p->n_series; i++)
		free(p->series[i]);
	free(p->series);
	free(p);
	return rv;
}

int promcheck_value(const char *text, const char *series, double *out)
{
	size_t k = strlen(series);
	const char *s = text;

	while (s != NULL && *s != '\0') {
		if (strncmp(s, series, k) == 0 && s[k] == ' ') {
			char val[64];
			size_t n = strcspn(s + k + 1, " \n");

			if (n == 0 || n >= sizeof val)
				return -1;
			memcpy(val, s + k + 1, n);
			val[n] = '\0';
			return pc_float(val, out);
		}
		s = strchr(s, '\n');
		if (s != NULL)
			s++;
	}
	return -1;
}
