/* SPDX-License-Identifier: MIT */
/*
 * identity: a node's Ed25519 key pair (node.key in the data dir, mode
 * 0600, made at first start), the cluster's 32-byte network key, the
 * printable form of node ids, and the optional trusted-keys file.
 * Knows nothing of sockets or CBOR.
 */
#ifndef RUMOR_CRYPTO_IDENTITY_H
#define RUMOR_CRYPTO_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define IDENTITY_PUBLIC_BYTES 32
#define IDENTITY_SECRET_BYTES 64
#define IDENTITY_ID_STRLEN 44           /* base64url, no padding, + NUL */
#define NETWORK_KEY_BYTES 32
#define IDENTITY_FILE "node.key"

struct identity {
	uint8_t public_key[IDENTITY_PUBLIC_BYTES];
	uint8_t secret_key[IDENTITY_SECRET_BYTES];
};

/* Loads dir/node.key, or creates it (mode 0600) when absent. Refuses with
 * RUMOR_EKEYFILE (message naming the file, the fault and the fix) a
 * symbolic link (never followed), a file owned by another user than the
 * effective uid, one with any group or other permission bit, one of the
 * wrong size or format, or one whose public half does not match its
 * secret. Creation never replaces an existing
 * file and a crash never leaves half a key (format: crypto/README.md);
 * a failure to create is RUMOR_EIO. */
int identity_load_or_create(struct identity *id, const char *dir,
			    struct err *err);
/* Parses the len bytes of a node.key file (path names it in messages):
 * 0 with id filled, or RUMOR_EKEYFILE saying what is wrong, with no
 * secret left in id. Pure: no I/O (the fuzz target fuzz_keyfile calls
 * it; identity_load_or_create reads the file, then calls it). */
int identity_parse(struct identity *id, const uint8_t *buf, size_t len,
		   const char *path, struct err *err);
/* Zeroes the secret key. */
void identity_wipe(struct identity *id);

/* Printable id of a public key: base64url without padding. */
void identity_id_string(const uint8_t pk[static IDENTITY_PUBLIC_BYTES],
			char out[static IDENTITY_ID_STRLEN]);
/* Parses a printable id; RUMOR_EINVAL when s is not one (only the
 * canonical 43-character spelling is accepted). */
int identity_id_parse(const char *s,
		      uint8_t pk[static IDENTITY_PUBLIC_BYTES]);

/* The built-in network key of open, zero-config clusters. */
extern const uint8_t identity_default_network_key[NETWORK_KEY_BYTES];

/* Writes a fresh random network key to path as 64 hex digits and a
 * newline (mode 0600). An existing file is never overwritten:
 * RUMOR_EKEYFILE. */
int network_key_generate(const char *path, struct err *err);
/* Loads a network key file (32 raw bytes, or 64 hex digits and an
 * optional newline); refuses (RUMOR_EKEYFILE, naming the fix) a missing
 * or malformed file, one owned by another user than the effective uid or
 * root, or one that is group-writable or has any bit for others. Group
 * read is allowed (0640), so that a group of service accounts can share
 * the cluster's key; a symbolic link is followed. */
int network_key_load(const char *path, uint8_t key[static NETWORK_KEY_BYTES],
		     struct err *err);
/* The parsing half of network_key_load: the len bytes of a network key
 * file into key; RUMOR_EKEYFILE (key zeroed) when malformed. No I/O. */
int network_key_parse(const uint8_t *buf, size_t len,
		      uint8_t key[static NETWORK_KEY_BYTES], const char *path,
		      struct err *err);

/* A trusted-keys file: one printable id per line, '#' comments and blank
 * lines allowed. A file owned by another user than the effective uid or
 * root, or writable by group or others, is refused (RUMOR_EKEYFILE).
 * Any malformed line fails the whole load with
 * RUMOR_EKEYFILE (its line number in the message) and leaves tk empty.
 * An empty file trusts nobody. Free with trusted_keys_free(). */
struct trusted_keys {
	size_t n;
	uint8_t (*keys)[IDENTITY_PUBLIC_BYTES];
};
int trusted_keys_load(struct trusted_keys *tk, const char *path,
		      struct err *err);
/* The parsing half of trusted_keys_load: the len bytes of a trusted-keys
 * file into tk, with the same refusals. No I/O. */
int trusted_keys_parse(struct trusted_keys *tk, const uint8_t *buf,
		       size_t len, const char *path, struct err *err);
int trusted_keys_contains(const struct trusted_keys *tk,
			  const uint8_t pk[static IDENTITY_PUBLIC_BYTES]);
void trusted_keys_free(struct trusted_keys *tk);

#endif
