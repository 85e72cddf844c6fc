/* SPDX-License-Identifier: MIT */
/* prefixes: sets of key prefixes (contracts in prefixes.h). */
#include "lib/prefixes.h"
#include "lib/bytes.h"

#include <stdlib.h>
#include <string.h>

#include <rumor.h>

static int starts_with(const void *key, size_t len, const struct prefix *p)
{
	return len >= p->len && memcmp(key, p->bytes, p->len) == 0;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;

	return bytes_cmp(x->bytes, x->len, y->bytes, y->len);
}

/* Sorted bytewise, a prefix comes right before the keys it covers, so
 * one pass against the last kept prefix drops every covered one. */
static void normalise(struct prefixes *ps)
{
	size_t i, kept = 0;

	qsort(ps->v, ps->n, sizeof ps->v[0], prefix_cmp);
	for (i = 0; i < ps->n; i++) {
		if (kept > 0 && starts_with(ps->v[i].bytes, ps->v[i].len,
					    &ps->v[kept - 1])) {
			free(ps->v[i].bytes);
			continue;
		}
		ps->v[kept++] = ps->v[i];
	}
	for (i = kept; i < ps->n; i++)
		ps->v[i] = (struct prefix){NULL, 0};
	ps->n = kept;
}

static int add(struct prefixes *ps, const void *p, size_t len,
	       struct err *err)
{
	unsigned char *c = malloc(len);

	if (c == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	memcpy(c, p, len);
	ps->v[ps->n].bytes = c;
	ps->v[ps->n].len = len;
	ps->n++;
	return 0;
}

int prefixes_set(struct prefixes *ps, const void *const *p,
		 const size_t *len, size_t n, const char *what,
		 struct err *err)
{
	size_t i;

	ps->n = 0;
	if (n > PREFIXES_MAX)
		return err_set(err, RUMOR_EINVAL, "%s: %zu prefixes, at most %u",
			       what, n, PREFIXES_MAX);
	if (n > 0 && (p == NULL || len == NULL))
		return err_set(err, RUMOR_EINVAL, "%s: NULL prefix list", what);
	for (i = 0; i < n; i++) {
		if (p[i] == NULL || len[i] == 0 || len[i] > PREFIX_MAX_BYTES) {
			prefixes_free(ps);
			return err_set(err, RUMOR_EINVAL,
				       "%s: prefix %zu is %s (1 to %u bytes)",
				       what, i + 1, p[i] == NULL ? "NULL" :
				       len[i] == 0 ? "empty" : "too long",
				       PREFIX_MAX_BYTES);
		}
		if (add(ps, p[i], len[i], err) != 0) {
			prefixes_free(ps);
			return RUMOR_ENOMEM;
		}
	}
	normalise(ps);
	return 0;
}

void prefixes_free(struct prefixes *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i].bytes);
	memset(ps, 0, sizeof *ps);
}

int prefixes_copy(struct prefixes *dst, const struct prefixes *src,
		  struct err *err)
{
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++) {
		if (add(dst, src->v[i].bytes, src->v[i].len, err) != 0) {
			prefixes_free(dst);
			return RUMOR_ENOMEM;
		}
	}
	return 0;
}

int prefixes_match(const struct prefixes *ps, const void *key, size_t len)
{
	if (ps->n == 0)
		return 1;
	for (size_t i = 0; i < ps->n; i++)
		if (starts_with(key, len, &ps->v[i]))
			return 1;
	return 0;
}

int prefixes_within(const struct prefixes *r, const struct prefixes *s)
{
	if (s->n == 0)
		return 1;
	if (r->n == 0)
		return 0;
	for (size_t i = 0; i < r->n; i++)
		if (!prefixes_match(s, r->v[i].bytes, r->v[i].len))
			return 0;
	return 1;
}

int prefixes_equal(const struct prefixes *r, const struct prefixes *s)
{
	return prefixes_within(r, s) && prefixes_within(s, r);
}

size_t prefixes_encoded_len(const struct prefixes *ps)
{
	size_t len = 1;

	for (size_t i = 0; i < ps->n; i++)
		len += 2 + ps->v[i].len;
	return len;
}

void prefixes_encode(const struct prefixes *ps, uint8_t *out)
{
	*out++ = (uint8_t)ps->n;
	for (size_t i = 0; i < ps->n; i++) {
		out[0] = (uint8_t)(ps->v[i].len >> 8);
		out[1] = (uint8_t)ps->v[i].len;
		memcpy(out + 2, ps->v[i].bytes, ps->v[i].len);
		out += 2 + ps->v[i].len;
	}
}

int prefixes_decode(struct prefixes *ps, const void *buf, size_t len,
		    const char *what, struct err *err)
{
	const uint8_t *p = buf, *end = p + len;
	size_t n, i, plen;

	ps->n = 0;
	if (len < 1 || p[0] > PREFIXES_MAX)
		return err_set(err, RUMOR_ECORRUPT, "%s: bad prefix set", what);
	n = *p++;
	for (i = 0; i < n; i++) {
		if (end - p < 2)
			break;
		plen = (size_t)p[0] << 8 | p[1];
		p += 2;
		if (plen == 0 || plen > PREFIX_MAX_BYTES ||
		    (size_t)(end - p) < plen)
			break;
		if (add(ps, p, plen, err) != 0) {
			prefixes_free(ps);
			return RUMOR_ENOMEM;
		}
		p += plen;
	}
	if (i < n || p != end) {
		prefixes_free(ps);
		return err_set(err, RUMOR_ECORRUPT, "%s: bad prefix set", what);
	}
	normalise(ps);
	return 0;
}

int prefix_unescape(const char *text, unsigned char *out, size_t cap,
		    size_t *len, struct err *err)
{
	size_t n = 0;
	int hi, lo;

	for (const char *s = text; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\') {
			if (s[1] == '\\') {
				s++;
			} else if (s[1] == 'x' &&
				   (hi = bytes_hex_digit(s[2])) >= 0 &&
				   (lo = bytes_hex_digit(s[3])) >= 0) {
				c = (unsigned char)(hi << 4 | lo);
				s += 3;
			} else {
				return err_set(err, RUMOR_EINVAL,
					       "\"%s\": a backslash starts \\xHH "
					       "(two hex digits) or \\\\", text);
			}
		}
		if (n == cap)
			return err_set(err, RUMOR_EINVAL,
				       "\"%.40s...\": longer than %zu bytes",
				       text, cap);
		out[n++] = c;
	}
	*len = n;
	return 0;
}

void prefix_escape(const void *p, size_t len, char *out, size_t cap)
{
	const unsigned char *b = p;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char tmp[5];
		size_t t;

		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\') {
			tmp[0] = (char)b[i];
			t = 1;
		} else {
			static const char hex[] = "0123456789abcdef";

			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[b[i] >> 4];
			tmp[3] = hex[b[i] & 15];
			t = 4;
		}
		if (o + t >= cap)
			break;
		memcpy(out + o, tmp, t);
		o += t;
	}
	out[o] = '\0';
}
