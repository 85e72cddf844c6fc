/* SPDX-License-Identifier: MIT */
/*
 * The open-key warning. `status` always says "network: OPEN" on stdout
 * (and "open_network": true in JSON); the louder warning on stderr is
 * for a person at a terminal, once: a script that polls status must not
 * fill its log with it, and a person told once has been told.
 *
 * "Once per terminal" is a terminal session: the terminal device of
 * stderr and the session id (getsid), so that a new login or a new tab
 * on a reused pty is told again, while every command of one shell
 * session is told once. The mark is an empty file named for the user,
 * the device and the session, made with O_CREAT | O_EXCL | O_NOFOLLOW,
 * mode 0600, in $XDG_RUNTIME_DIR (private to the user, emptied at
 * logout) when that is a directory the user owns, else in /tmp. A file
 * there owned by someone else does not count (it would silence us); any
 * failure to make the mark errs on the side of warning.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/ctl/ctl.h"

/* The directory for marks: $XDG_RUNTIME_DIR when it is ours. */
static const char *mark_dir(void)
{
	const char *d = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (d != NULL && d[0] == '/' && stat(d, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
	    (st.st_mode & 0022) == 0)
		return d;
	return "/tmp";
}

/* 1 when this terminal session was warned already; else makes the mark
 * and returns 0. */
static int warned_before(void)
{
	char path[PATH_MAX];
	struct stat tty, st;
	pid_t sid = getsid(0);
	int fd;

	if (fstat(STDERR_FILENO, &tty) != 0 || sid < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/rumorctl-open-key-%lu-%lx-%ld",
		 mark_dir(), (unsigned long)getuid(),
		 (unsigned long)tty.st_rdev, (long)sid);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != EEXIST)
		return 0;
	/* Someone's mark: only ours, a plain file, counts. */
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_uid == getuid();
}

void warn_open_network(const struct ctx *x)
{
	if (x->quiet || x->json || !isatty(STDERR_FILENO) ||
	    !isatty(STDOUT_FILENO))
		return;
	if (warned_before())
		return;
	fprintf(stderr, "rumorctl: warning: this node uses the built-in "
		"network key; anyone who can reach it can join (see "
		"rumord(8) --network-key; said once per terminal, --quiet "
		"silences it)\n");
}
