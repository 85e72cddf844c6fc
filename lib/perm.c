/* SPDX-License-Identifier: MIT */
/* perm: ownership and mode checks, private directories (see perm.h). */
#include "lib/perm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

const struct perm_rule perm_rule_state_dir = {
	.what = "data dir",
	.owner = PERM_OWNER_SELF,
	.forbidden = S_IWGRP | S_IWOTH,
	.fix_mode = "700",
};

/* "group-writable", "world-readable", "group- and world-writable"...:
 * the worst kind of access in bad (write, then read, then execute) and
 * who has it. */
static void perm_describe(mode_t bad, char *buf, size_t cap)
{
	const char *kind = "executable";
	mode_t g = S_IXGRP, o = S_IXOTH;

	if (bad & (S_IWGRP | S_IWOTH)) {
		kind = "writable";
		g = S_IWGRP;
		o = S_IWOTH;
	} else if (bad & (S_IRGRP | S_IROTH)) {
		kind = "readable";
		g = S_IRGRP;
		o = S_IROTH;
	}
	if ((bad & g) && (bad & o))
		snprintf(buf, cap, "group- and world-%s", kind);
	else
		snprintf(buf, cap, "%s-%s", (bad & g) ? "group" : "world", kind);
}

int perm_check(const char *path, const struct stat *st,
	       const struct perm_rule *rule, int code, struct err *err)
{
	uid_t me = geteuid();
	mode_t bad = st->st_mode & rule->forbidden & 07777;
	char problem[48];

	if (st->st_uid != me &&
	    !(rule->owner == PERM_OWNER_SELF_OR_ROOT && st->st_uid == 0)) {
		if (rule->owner == PERM_OWNER_SELF_OR_ROOT)
			return err_set(err, code,
				       "%s %s is owned by uid %u, neither this "
				       "process's uid %u nor root: chown %u %s",
				       rule->what, path, (unsigned)st->st_uid,
				       (unsigned)me, (unsigned)me, path);
		/* Running as the owner comes first: chown of a service's
		 * state to whoever ran a tool by hand would break the
		 * service. */
		return err_set(err, code,
			       "%s %s is owned by uid %u, not by this "
			       "process's uid %u: run as uid %u, or chown %u %s",
			       rule->what, path, (unsigned)st->st_uid,
			       (unsigned)me, (unsigned)st->st_uid,
			       (unsigned)me, path);
	}
	if (bad == 0)
		return 0;
	perm_describe(bad, problem, sizeof problem);
	return err_set(err, code, "%s %s is %s (mode %04o): chmod %s %s",
		       rule->what, path, problem,
		       (unsigned)(st->st_mode & 07777), rule->fix_mode, path);
}

int perm_state_dir(const char *what, const char *dir, int *created,
		   int code, struct err *err)
{
	struct perm_rule rule = perm_rule_state_dir;
	struct stat st;

	*created = 0;
	rule.what = what;
	if (mkdir(dir, 0700) == 0) {
		/* The umask may have taken bits from 0700; the owner needs
		 * them all, and nobody else gets any. */
		if (chmod(dir, 0700) != 0)
			return err_set(err, RUMOR_EIO, "%s %s: chmod: %s", what,
				       dir, strerror(errno));
		*created = 1;
		return 0;
	}
	if (errno != EEXIST)
		return err_set(err, RUMOR_EIO, "%s %s: cannot create: %s", what,
			       dir, strerror(errno));
	if (stat(dir, &st) != 0)
		return err_set(err, RUMOR_EIO, "%s %s: cannot stat: %s", what,
			       dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(err, code, "%s %s is not a directory: move it away "
			       "or choose another path", what, dir);
	return perm_check(dir, &st, &rule, code, err);
}

/* The default ACL user::rwx, group::---, other::---, in the kernel's
 * xattr format (linux/posix_acl_xattr.h: a little-endian version 2
 * header, then entries of tag (16 bits), perm (16), id (32), sorted by
 * tag; the three base entries carry the undefined id). The user entry
 * keeps x so that a directory made inside stays enterable; a file gets
 * only the bits its create mode asks for. */
static const uint8_t perm_default_acl[] = {
	0x02, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x07, 0x00, 0xff, 0xff, 0xff, 0xff,   /* ACL_USER_OBJ */
	0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,   /* ACL_GROUP_OBJ */
	0x20, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,   /* ACL_OTHER */
};

/* chmod 0600 each regular file in the directory dfd that has a group or
 * other bit. Symbolic links are left alone (O_NOFOLLOW): the store
 * makes none, and one planted there must not redirect a chmod. */
static int perm_private_files(int dfd, const char *dir, struct err *err)
{
	struct dirent *de;
	DIR *d;
	int fd, rv = 0;

	fd = dup(dfd);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		rv = err_set(err, RUMOR_EIO, "%s: cannot list: %s", dir,
			     strerror(errno));
		if (fd >= 0)
			close(fd);
		return rv;
	}
	while (rv == 0 && (errno = 0, de = readdir(d)) != NULL) {
		struct stat st;
		int f;

		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0)
			continue;
		f = openat(dfd, de->d_name,
			   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (f < 0)
			continue;     /* gone since, or not ours to read */
		if (fchmod(f, 0600) != 0)
			rv = err_set(err, RUMOR_EIO, "%s/%s: chmod 600: %s", dir,
				     de->d_name, strerror(errno));
		close(f);
	}
	if (rv == 0 && errno != 0)
		rv = err_set(err, RUMOR_EIO, "%s: cannot list: %s", dir,
			     strerror(errno));
	closedir(d);
	return rv;
}

int perm_private_dir(const char *dir, int use_acl, int *acl,
		     struct err *err)
{
	struct stat st;
	int dfd, rv;

	*acl = 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(err, RUMOR_EIO, "%s: cannot open: %s", dir,
			       strerror(errno));
	if (fstat(dfd, &st) != 0) {
		rv = err_set(err, RUMOR_EIO, "%s: cannot stat: %s", dir,
			     strerror(errno));
		goto out;
	}
	/* Any failure (no ACLs on this filesystem: EOPNOTSUPP; a mount or
	 * a security module that refuses them) leaves the fallback, which is
	 * as safe for the files: a 0700 directory. */
	if (use_acl && fsetxattr(dfd, "system.posix_acl_default",
				 perm_default_acl, sizeof perm_default_acl,
				 0) == 0)
		*acl = 1;
	if ((st.st_mode & 077) != 0 && fchmod(dfd, 0700) != 0) {
		rv = err_set(err, RUMOR_EIO, "%s: chmod 700: %s", dir,
			     strerror(errno));
		goto out;
	}
	rv = perm_private_files(dfd, dir, err);
out:
	close(dfd);
	return rv;
}
