/* SPDX-License-Identifier: MIT */
/*
 * identity: key files on disk. The formats are in crypto/README.md:
 *
 *   node.key      "rumor-node-key v1\n" + base64 (standard alphabet,
 *                 padded) of the 64-byte libsodium Ed25519 secret key
 *                 (seed || public key) + "\n"; mode 0600.
 *   network key   32 raw bytes, or 64 hex digits and an optional "\n";
 *                 mode 0600, or 0640 to share it with a group.
 *   trusted keys  one printable id a line; '#' starts a comment.
 *
 * Who may own them and who else may touch them (lib/perm.h), checked on
 * the open file before a byte is read:
 *   node.key      the effective uid only; no group or other bit; opened
 *                 with O_NOFOLLOW, so a symbolic link is refused.
 *   network key   the effective uid or root; no group write, nothing for
 *                 others. Group read is allowed: ops share one cluster
 *                 key among the service accounts of a group (root:rumor
 *                 0640 in /etc), and every member holds it anyway. The
 *                 path is the operator's, so a symbolic link is followed
 *                 (the file it leads to is checked).
 *   trusted keys  the effective uid or root; not group- or
 *                 world-writable (whoever could write it could trust
 *                 himself). Not secret, so reading is free.
 *
 * Secret files are written to "<path>.tmp" (O_EXCL, 0600), synced, and
 * then hard-linked to their name, so a crash leaves either no key or a
 * whole one, and an existing key is never replaced.
 */
#include "crypto/identity.h"
#include "lib/array.h"
#include "lib/perm.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define NODE_KEY_HEADER "rumor-node-key v1\n"
#define NODE_KEY_B64_VARIANT sodium_base64_VARIANT_ORIGINAL
#define NODE_KEY_B64_LEN \
	(sodium_base64_ENCODED_LEN(IDENTITY_SECRET_BYTES, NODE_KEY_B64_VARIANT) - 1)
/* header + base64 + "\n" */
#define NODE_KEY_FILE_LEN (sizeof NODE_KEY_HEADER - 1 + NODE_KEY_B64_LEN + 1)
#define NETWORK_KEY_HEX_LEN (2 * NETWORK_KEY_BYTES)
#define ID_B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define TRUSTED_KEYS_MAX_FILE (1u << 20)

_Static_assert(IDENTITY_PUBLIC_BYTES == crypto_sign_PUBLICKEYBYTES, "pk");
_Static_assert(IDENTITY_SECRET_BYTES == crypto_sign_SECRETKEYBYTES, "sk");
_Static_assert(IDENTITY_ID_STRLEN ==
		       sodium_base64_ENCODED_LEN(IDENTITY_PUBLIC_BYTES,
						 ID_B64_VARIANT),
	       "id string length");

/* BLAKE2b-256 (unkeyed) of the ASCII string "rumor open network v1":
 * a nothing-up-my-sleeve constant that anyone can recompute, e.g.
 * python3 -c 'import hashlib; print(hashlib.blake2b(
 *     b"rumor open network v1", digest_size=32).hexdigest())' */
const uint8_t identity_default_network_key[NETWORK_KEY_BYTES] = {
	0xe5, 0x82, 0x93, 0xc3, 0xc7, 0x2d, 0x34, 0x12,
	0xd4, 0x82, 0x3b, 0x1e, 0x0c, 0x47, 0xfe, 0xac,
	0x72, 0x40, 0xd9, 0x21, 0x92, 0xf9, 0x53, 0xe6,
	0xb4, 0x56, 0x01, 0xfa, 0xc5, 0x18, 0x54, 0x44,
};

/* ------------------------------------------------------------------ */
/* Files */

static const struct perm_rule node_key_rule = {
	"node key", PERM_OWNER_SELF, 077, "600",
};
static const struct perm_rule network_key_rule = {
	"network key", PERM_OWNER_SELF_OR_ROOT, S_IWGRP | S_IRWXO, "640",
};
static const struct perm_rule trusted_keys_rule = {
	"trusted keys file", PERM_OWNER_SELF_OR_ROOT, S_IWGRP | S_IWOTH, "644",
};

/* Reads the whole of path (at most cap bytes) into buf. Refuses (code)
 * a file that breaks rule (lib/perm.h: owner and mode), checked on the
 * open descriptor so that the file checked is the file read. With
 * nofollow, a symbolic link at path is refused. Missing file:
 * RUMOR_ENOTFOUND; every other fault: code. */
static int read_small_file(const char *path, uint8_t *buf, size_t cap,
			   size_t *len, const struct perm_rule *rule,
			   int nofollow, int code, struct err *err)
{
	struct stat st;
	size_t got = 0;
	int fd, rv;

	/* O_NONBLOCK: a FIFO planted at path must not hang the open; it is
	 * refused below as not a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
				(nofollow ? O_NOFOLLOW : 0));
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(err, RUMOR_ENOTFOUND, "%s: no such file",
				       path);
		if (nofollow && errno == ELOOP)
			return err_set(err, code,
				       "%s %s is a symbolic link, which rumor "
				       "does not follow: put the file itself "
				       "there",
				       rule->what, path);
		return err_set(err, code, "%s: cannot open: %s", path,
			       strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rv = err_set(err, code, "%s: cannot stat: %s", path,
			     strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rv = err_set(err, code, "%s: not a regular file", path);
		goto out;
	}
	rv = perm_check(path, &st, rule, code, err);
	if (rv != 0)
		goto out;
	/* Read one byte past cap so that a file that grew after fstat is
	 * still caught as too large. */
	for (;;) {
		uint8_t extra;
		ssize_t n;

		if (got < cap)
			n = read(fd, buf + got, cap - got);
		else
			n = read(fd, &extra, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = err_set(err, code, "%s: cannot read: %s", path,
				     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (got >= cap) {
			rv = err_set(err, code,
				     "%s: too large (more than %zu bytes)",
				     path, cap);
			goto out;
		}
		got += (size_t)n;
	}
	*len = got;
	rv = 0;
out:
	close(fd);
	return rv;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Makes the rename/link of a file in the directory of path durable. */
static void sync_parent_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd;

	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof dir)
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/* Creates path holding exactly data, mode 0600, never replacing an
 * existing file: RUMOR_EKEYFILE (with errno EEXIST kept in *exists) when
 * path exists, RUMOR_EIO on a write fault. */
static int write_new_secret_file(const char *path, const uint8_t *data,
				 size_t len, int *exists, struct err *err)
{
	char tmp[4096];
	int fd, rv;

	*exists = 0;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return err_set(err, RUMOR_EINVAL, "%s: path too long", path);
	/* A leftover temp file is from a crash before the link: it never
	 * became the key, so it is garbage. */
	if (unlink(tmp) != 0 && errno != ENOENT)
		return err_set(err, RUMOR_EIO, "%s: cannot remove: %s", tmp,
			       strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return err_set(err, RUMOR_EIO, "%s: cannot create: %s", tmp,
			       strerror(errno));
	/* umask may only have removed bits; make sure of the exact mode. */
	if (fchmod(fd, 0600) != 0 || write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		rv = err_set(err, RUMOR_EIO, "%s: cannot write: %s", tmp,
			     strerror(errno));
		close(fd);
		goto err_after_create;
	}
	if (close(fd) != 0) {
		rv = err_set(err, RUMOR_EIO, "%s: cannot write: %s", tmp,
			     strerror(errno));
		goto err_after_create;
	}
	/* link() fails with EEXIST instead of replacing, unlike rename();
	 * that is what makes "never overwrite" atomic. */
	if (link(tmp, path) != 0) {
		if (errno == EEXIST) {
			*exists = 1;
			rv = err_set(err, RUMOR_EKEYFILE,
				     "%s: already exists; refusing to "
				     "overwrite it", path);
		} else {
			rv = err_set(err, RUMOR_EIO, "%s: cannot create: %s",
				     path, strerror(errno));
		}
		goto err_after_create;
	}
	unlink(tmp);
	sync_parent_dir(path);
	return 0;

err_after_create:
	unlink(tmp);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Node identity */

int identity_parse(struct identity *id, const uint8_t *buf, size_t len,
		   const char *path, struct err *err)
{
	const size_t hl = sizeof NODE_KEY_HEADER - 1;
	uint8_t seed_pk[IDENTITY_PUBLIC_BYTES];
	uint8_t seed_sk[IDENTITY_SECRET_BYTES];
	char again[NODE_KEY_B64_LEN + 1];
	size_t bin_len = 0;
	const char *end = NULL;
	int rv, canonical;

	/* The final newline may be missing (an editor may drop it). */
	if (len != NODE_KEY_FILE_LEN && len != NODE_KEY_FILE_LEN - 1)
		return err_set(err, RUMOR_EKEYFILE,
			       "%s: wrong size (%zu bytes, expected %zu)", path,
			       len, (size_t)NODE_KEY_FILE_LEN);
	if (memcmp(buf, NODE_KEY_HEADER, hl) != 0)
		return err_set(err, RUMOR_EKEYFILE,
			       "%s: not a rumor node key (first line is not "
			       "\"rumor-node-key v1\")",
			       path);
	if (len == NODE_KEY_FILE_LEN && buf[len - 1] != '\n')
		return err_set(err, RUMOR_EKEYFILE,
			       "%s: malformed (trailing bytes)", path);
	if (sodium_base642bin(id->secret_key, sizeof id->secret_key,
			      (const char *)buf + hl, NODE_KEY_B64_LEN, NULL,
			      &bin_len, &end, NODE_KEY_B64_VARIANT) != 0 ||
	    bin_len != IDENTITY_SECRET_BYTES ||
	    end != (const char *)buf + hl + NODE_KEY_B64_LEN) {
		/* The decoder may have written part of the secret. */
		sodium_memzero(id->secret_key, sizeof id->secret_key);
		return err_set(err, RUMOR_EKEYFILE,
			       "%s: malformed (bad base64 secret key)", path);
	}
	/* libsodium 1.0.18 decodes a byte with its top bit set as the ASCII
	 * character below it (0xaf as '/'; found by fuzz_keyfile): only the
	 * spelling we write is a key file. */
	sodium_bin2base64(again, sizeof again, id->secret_key,
			  IDENTITY_SECRET_BYTES, NODE_KEY_B64_VARIANT);
	canonical = sodium_memcmp(again, buf + hl, NODE_KEY_B64_LEN) == 0;
	sodium_memzero(again, sizeof again);
	if (!canonical) {
		sodium_memzero(id->secret_key, sizeof id->secret_key);
		return err_set(err, RUMOR_EKEYFILE,
			       "%s: malformed (bad base64 secret key)", path);
	}

	/* The file holds seed || public key; a public half that is not the
	 * seed's would make us sign with one key and announce another. */
	crypto_sign_seed_keypair(seed_pk, seed_sk, id->secret_key);
	if (sodium_memcmp(seed_pk, id->secret_key + 32,
			  IDENTITY_PUBLIC_BYTES) != 0) {
		rv = err_set(err, RUMOR_EKEYFILE,
			     "%s: public half does not match the secret seed",
			     path);
		sodium_memzero(id->secret_key, sizeof id->secret_key);
	} else {
		memcpy(id->public_key, seed_pk, IDENTITY_PUBLIC_BYTES);
		rv = 0;
	}
	sodium_memzero(seed_sk, sizeof seed_sk);
	return rv;
}

static int identity_load_file(struct identity *id, const char *path,
			      struct err *err)
{
	uint8_t buf[NODE_KEY_FILE_LEN];
	size_t len = 0;
	int rv;

	rv = read_small_file(path, buf, sizeof buf, &len, &node_key_rule, 1,
			     RUMOR_EKEYFILE, err);
	if (rv == 0)
		rv = identity_parse(id, buf, len, path, err);
	sodium_memzero(buf, sizeof buf);
	return rv;
}

static int identity_create_file(struct identity *id, const char *path,
				int *exists, struct err *err)
{
	char text[NODE_KEY_FILE_LEN + 1];
	const size_t hl = sizeof NODE_KEY_HEADER - 1;
	int rv;

	crypto_sign_keypair(id->public_key, id->secret_key);
	memcpy(text, NODE_KEY_HEADER, hl);
	sodium_bin2base64(text + hl, NODE_KEY_B64_LEN + 1, id->secret_key,
			  IDENTITY_SECRET_BYTES, NODE_KEY_B64_VARIANT);
	text[hl + NODE_KEY_B64_LEN] = '\n';
	rv = write_new_secret_file(path, (const uint8_t *)text,
				   NODE_KEY_FILE_LEN, exists, err);
	sodium_memzero(text, sizeof text);
	if (rv != 0)
		identity_wipe(id);
	return rv;
}

int identity_load_or_create(struct identity *id, const char *dir,
			    struct err *err)
{
	char path[4096];
	int exists = 0;
	int rv;

	assert(id != NULL && dir != NULL);
	if (sodium_init() < 0)
		return err_set(err, RUMOR_EIO, "libsodium cannot initialise");
	memset(id, 0, sizeof *id);
	if (snprintf(path, sizeof path, "%s/%s", dir, IDENTITY_FILE) >=
	    (int)sizeof path)
		return err_set(err, RUMOR_EINVAL, "%s: path too long", dir);

	rv = identity_load_file(id, path, err);
	if (rv != RUMOR_ENOTFOUND)
		return rv;
	err_clear(err);
	rv = identity_create_file(id, path, &exists, err);
	if (rv != 0 && exists) {
		/* Another process made it between our open and our link:
		 * theirs is the key. */
		err_clear(err);
		rv = identity_load_file(id, path, err);
	}
	return rv;
}

void identity_wipe(struct identity *id)
{
	sodium_memzero(id->secret_key, sizeof id->secret_key);
}

/* ------------------------------------------------------------------ */
/* Printable ids */

void identity_id_string(const uint8_t pk[static IDENTITY_PUBLIC_BYTES],
			char out[static IDENTITY_ID_STRLEN])
{
	sodium_bin2base64(out, IDENTITY_ID_STRLEN, pk, IDENTITY_PUBLIC_BYTES,
			  ID_B64_VARIANT);
}

int identity_id_parse(const char *s, uint8_t pk[static IDENTITY_PUBLIC_BYTES])
{
	uint8_t bin[IDENTITY_PUBLIC_BYTES];
	char again[IDENTITY_ID_STRLEN];
	size_t bin_len = 0;
	const char *end = NULL;

	if (s == NULL || strlen(s) != IDENTITY_ID_STRLEN - 1)
		return RUMOR_EINVAL;
	if (sodium_base642bin(bin, sizeof bin, s, IDENTITY_ID_STRLEN - 1, NULL,
			      &bin_len, &end, ID_B64_VARIANT) != 0 ||
	    bin_len != sizeof bin || end != s + IDENTITY_ID_STRLEN - 1)
		return RUMOR_EINVAL;
	/* The last character carries 2 unused bits; insisting on the
	 * canonical spelling gives every key exactly one id string. */
	identity_id_string(bin, again);
	if (memcmp(again, s, IDENTITY_ID_STRLEN) != 0)
		return RUMOR_EINVAL;
	memcpy(pk, bin, sizeof bin);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Network key */

int network_key_generate(const char *path, struct err *err)
{
	uint8_t key[NETWORK_KEY_BYTES];
	char hex[NETWORK_KEY_HEX_LEN + 2];
	int exists;
	int rv;

	assert(path != NULL);
	if (sodium_init() < 0)
		return err_set(err, RUMOR_EIO, "libsodium cannot initialise");
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, NETWORK_KEY_HEX_LEN + 1, key, sizeof key);
	hex[NETWORK_KEY_HEX_LEN] = '\n';
	rv = write_new_secret_file(path, (const uint8_t *)hex,
				   NETWORK_KEY_HEX_LEN + 1, &exists, err);
	sodium_memzero(key, sizeof key);
	sodium_memzero(hex, sizeof hex);
	return rv;
}

int network_key_parse(const uint8_t *buf, size_t len,
		      uint8_t key[static NETWORK_KEY_BYTES], const char *path,
		      struct err *err)
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (len == NETWORK_KEY_BYTES) {
		memcpy(key, buf, NETWORK_KEY_BYTES);
		return 0;
	}
	if ((len == NETWORK_KEY_HEX_LEN ||
	     (len == NETWORK_KEY_HEX_LEN + 1 && buf[len - 1] == '\n')) &&
	    sodium_hex2bin(key, NETWORK_KEY_BYTES, (const char *)buf,
			   NETWORK_KEY_HEX_LEN, NULL, &bin_len, &end) == 0 &&
	    bin_len == NETWORK_KEY_BYTES &&
	    end == (const char *)buf + NETWORK_KEY_HEX_LEN)
		return 0;
	sodium_memzero(key, NETWORK_KEY_BYTES);
	return err_set(err, RUMOR_EKEYFILE,
		       "%s: malformed network key (%zu bytes; expected "
		       "32 raw bytes or 64 hex digits)",
		       path, len);
}

int network_key_load(const char *path, uint8_t key[static NETWORK_KEY_BYTES],
		     struct err *err)
{
	uint8_t buf[NETWORK_KEY_HEX_LEN + 1];
	size_t len = 0;
	int rv;

	assert(path != NULL);
	rv = read_small_file(path, buf, sizeof buf, &len, &network_key_rule, 0,
			     RUMOR_EKEYFILE, err);
	if (rv == RUMOR_ENOTFOUND)
		return err_set(err, RUMOR_EKEYFILE, "%s: no such file", path);
	if (rv != 0)
		return rv;
	rv = network_key_parse(buf, len, key, path, err);
	sodium_memzero(buf, sizeof buf);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Trusted keys */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int trusted_keys_add(struct trusted_keys *tk, size_t *cap,
			    const uint8_t pk[IDENTITY_PUBLIC_BYTES])
{
	if (tk->n == *cap) {
		void *p = array_grow(tk->keys, cap, tk->n + 1, sizeof *tk->keys, 8);

		if (p == NULL)
			return RUMOR_ENOMEM;
		tk->keys = p;
	}
	memcpy(tk->keys[tk->n++], pk, IDENTITY_PUBLIC_BYTES);
	return 0;
}

int trusted_keys_parse(struct trusted_keys *tk, const uint8_t *buf,
		       size_t len, const char *path, struct err *err)
{
	size_t cap = 0, pos = 0, line = 0;
	int rv;

	tk->n = 0;
	tk->keys = NULL;
	while (pos < len) {
		char text[IDENTITY_ID_STRLEN];
		uint8_t pk[IDENTITY_PUBLIC_BYTES];
		size_t start = pos, stop, n;

		line++;
		while (pos < len && buf[pos] != '\n')
			pos++;
		stop = pos;
		pos++;          /* past the newline (or the end) */

		/* Cut a comment, then the blanks around the id. */
		for (n = start; n < stop; n++)
			if (buf[n] == '#')
				break;
		stop = n;
		while (start < stop && is_space((char)buf[start]))
			start++;
		while (stop > start && is_space((char)buf[stop - 1]))
			stop--;
		if (start == stop)
			continue;

		n = stop - start;
		if (n == IDENTITY_ID_STRLEN - 1) {
			memcpy(text, buf + start, n);
			text[n] = '\0';
		}
		if (n != IDENTITY_ID_STRLEN - 1 ||
		    identity_id_parse(text, pk) != 0) {
			rv = err_set(err, RUMOR_EKEYFILE,
				     "%s: line %zu: not a node id "
				     "(expected %d base64url characters)",
				     path, line, IDENTITY_ID_STRLEN - 1);
			goto err_after_parse;
		}
		rv = trusted_keys_add(tk, &cap, pk);
		if (rv != 0) {
			rv = err_set(err, rv, "%s: out of memory", path);
			goto err_after_parse;
		}
	}
	return 0;

err_after_parse:
	trusted_keys_free(tk);
	return rv;
}

int trusted_keys_load(struct trusted_keys *tk, const char *path,
		      struct err *err)
{
	uint8_t *buf;
	size_t len = 0;
	int rv;

	assert(tk != NULL && path != NULL);
	tk->n = 0;
	tk->keys = NULL;
	if (sodium_init() < 0)
		return err_set(err, RUMOR_EIO, "libsodium cannot initialise");
	buf = malloc(TRUSTED_KEYS_MAX_FILE);
	if (buf == NULL)
		return err_set(err, RUMOR_ENOMEM, "%s: out of memory", path);
	rv = read_small_file(path, buf, TRUSTED_KEYS_MAX_FILE, &len,
			     &trusted_keys_rule, 0, RUMOR_EKEYFILE, err);
	if (rv == RUMOR_ENOTFOUND)
		rv = err_set(err, RUMOR_EKEYFILE, "%s: no such file", path);
	if (rv == 0)
		rv = trusted_keys_parse(tk, buf, len, path, err);
	free(buf);
	return rv;
}

int trusted_keys_contains(const struct trusted_keys *tk,
			  const uint8_t pk[static IDENTITY_PUBLIC_BYTES])
{
	size_t i;

	for (i = 0; i < tk->n; i++)
		if (memcmp(tk->keys[i], pk, IDENTITY_PUBLIC_BYTES) == 0)
			return 1;
	return 0;
}

void trusted_keys_free(struct trusted_keys *tk)
{
	free(tk->keys);
	tk->keys = NULL;
	tk->n = 0;
}
