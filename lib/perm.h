/* SPDX-License-Identifier: MIT */
/*
 * perm: who owns a file and who else may touch it (issue 11, part 5).
 * The checks that the data dir, the key files and a resolver object
 * pass before rumor trusts them, and private directories whose files
 * come out 0600 without touching the process umask.
 *
 * Every refusal names the problem and the fix in its message, e.g.
 * "data dir /x is group-writable (mode 0775): chmod 700 /x".
 */
#ifndef RUMOR_LIB_PERM_H
#define RUMOR_LIB_PERM_H

#include <sys/stat.h>
#include <sys/types.h>

#include "lib/err.h"

/* Who may own a checked file: the effective uid only, or also root (a
 * file root installed, such as a resolver in /usr/lib or a network key
 * in /etc, is as trusted as root itself). */
enum perm_owner {
	PERM_OWNER_SELF,
	PERM_OWNER_SELF_OR_ROOT,
};

/* What a check asks of st, the stat of path. */
struct perm_rule {
	const char *what;         /* "data dir", "node key", ... */
	enum perm_owner owner;
	mode_t forbidden;         /* bits nobody but the owner may hold,
				     e.g. 022 (writable), 077 (private) */
	const char *fix_mode;     /* chmod argument in the fix: "700" */
};

/* Refuses st when it is owned by another user than the rule allows, or
 * has one of rule->forbidden's bits. Returns 0, or code with a message
 * that says what is wrong with path and the command that fixes it.
 * Changes nothing. */
int perm_check(const char *path, const struct stat *st,
	       const struct perm_rule *rule, int code, struct err *err);

/* The rule of a directory that holds rumor's state (the data dir, the
 * store): owned by the effective uid, not group- or world-writable. */
extern const struct perm_rule perm_rule_state_dir;

/* Creates dir mode 0700 when it is missing (its parent must exist);
 * else refuses (code, via perm_check) an existing dir that another user
 * owns or others may write, or a path that is not a directory. Nothing
 * is changed when it refuses. *created says whether it made dir. */
int perm_state_dir(const char *what, const char *dir, int *created,
		   int code, struct err *err);

/* Makes the files in dir (an existing directory that passed
 * perm_state_dir) private to the owner, whatever the process umask:
 *  - with use_acl, a default POSIX ACL (user::rwx, group::---,
 *    other::---) on dir, so that the kernel masks the create mode of
 *    every file made in dir later with it and ignores the umask: a file
 *    created 0644 or 0666 comes out 0600;
 *  - dir itself chmod 0700 when it had any group or other bit (with no
 *    ACL, that is what keeps later files unreachable to others);
 *  - every regular file already in dir with a group or other bit, chmod
 *    0600 (files from before, or from a filesystem without ACLs).
 * An existing default ACL on dir is replaced. *acl is set to 1 when the
 * ACL is in place, 0 when use_acl was 0 or the filesystem has no POSIX
 * ACLs (EOPNOTSUPP: the fallback above). Returns 0 or RUMOR_EIO. */
int perm_private_dir(const char *dir, int use_acl, int *acl,
		     struct err *err);

#endif
