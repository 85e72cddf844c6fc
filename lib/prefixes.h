/* SPDX-License-Identifier: MIT */
/*
 * prefixes: a set of key prefixes (a node's --replicate set, or its
 * --namespace as a set of one): validation, matching, containment, the
 * \xHH escapes of the command line, and the bytes stored and sent.
 *
 * An empty set (n == 0) stands for every key: a full node.
 */
#ifndef RUMOR_LIB_PREFIXES_H
#define RUMOR_LIB_PREFIXES_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Bounds, public as RUMOR_PREFIXES_MAX and RUMOR_PREFIX_MAX. */
#define PREFIXES_MAX 16u
#define PREFIX_MAX_BYTES 1024u

struct prefix {
	unsigned char *bytes;
	size_t len;                /* 1..PREFIX_MAX_BYTES */
};

struct prefixes {
	struct prefix v[PREFIXES_MAX];
	size_t n;                  /* 0: every key */
};

/* Sets ps (empty, as from a zeroed struct) to copies of the n prefixes
 * p[i] of len[i] bytes, normalised: sorted bytewise, duplicates and
 * prefixes covered by a shorter one dropped ("a/" covers "a/b"), so two
 * sets with the same keys compare equal. RUMOR_EINVAL (naming the
 * problem, prefixed by what) when n > PREFIXES_MAX or a prefix is empty
 * or longer than PREFIX_MAX_BYTES; RUMOR_ENOMEM. On error ps stays
 * empty. */
int prefixes_set(struct prefixes *ps, const void *const *p,
		 const size_t *len, size_t n, const char *what,
		 struct err *err);
/* Frees the copies; ps is empty afterwards. */
void prefixes_free(struct prefixes *ps);
/* Copies src into dst (empty). RUMOR_ENOMEM. */
int prefixes_copy(struct prefixes *dst, const struct prefixes *src,
		  struct err *err);

/* Nonzero when key starts with one of the prefixes, or the set is
 * empty. */
int prefixes_match(const struct prefixes *ps, const void *key, size_t len);
/* Nonzero when every key r matches, s matches too (r is within s): s
 * empty, or each prefix of r starts with a prefix of s. An empty r is
 * within an empty s only. */
int prefixes_within(const struct prefixes *r, const struct prefixes *s);
/* Nonzero when r and s match the same keys. */
int prefixes_equal(const struct prefixes *r, const struct prefixes *s);

/* The stored and sent form: a count byte, then per prefix a 2-byte
 * big-endian length and the bytes. prefixes_encoded_len() bytes; encode
 * writes exactly that many. */
size_t prefixes_encoded_len(const struct prefixes *ps);
void prefixes_encode(const struct prefixes *ps, uint8_t *out);
/* Decodes buf into ps (empty) and normalises it; RUMOR_ECORRUPT (what
 * names the source) for anything but a well-formed set within the
 * bounds, trailing bytes included; RUMOR_ENOMEM. */
int prefixes_decode(struct prefixes *ps, const void *buf, size_t len,
		    const char *what, struct err *err);

/* Text: the command line's form of one prefix. Bytes stand for
 * themselves except "\xHH" (two hex digits: that byte) and "\\" (one
 * backslash); any other backslash is an error. Writes up to cap bytes
 * to out and their number to *len. RUMOR_EINVAL naming the problem. */
int prefix_unescape(const char *text, unsigned char *out, size_t cap,
		    size_t *len, struct err *err);
/* The reverse, for messages: printable ASCII but '\\' as is, every
 * other byte as \xHH; NUL-terminated, truncated to fit cap (cap > 0). */
void prefix_escape(const void *p, size_t len, char *out, size_t cap);

#endif
