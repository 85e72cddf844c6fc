/* SPDX-License-Identifier: MIT */
/*
 * rumorctl --offline DATA: the store of a stopped node, read without
 * writing a byte in DATA. LevelDB's C API has no read-only open (an open
 * takes DATA/db/LOCK, writes a LOG and a new MANIFEST, and may turn the
 * write-ahead log into a table), so the store is copied, file by file,
 * into a private directory under $TMPDIR, and the copy is opened with
 * the store layer (store_options.inspect: as it is, nothing created,
 * the replicate set it holds kept). The copy goes when rumorctl ends:
 * a parent process waits for the one that works and removes it, also
 * when that one fails, crashes or is interrupted.
 *
 * Copied, not linked: a hard link shares the file with DATA, so any
 * write LevelDB makes in place (appending to the MANIFEST and the log it
 * recovers, with reuse_logs; its file handling is not a contract) would
 * land in DATA. A plain copy costs the store's size in $TMPDIR and the
 * time to read it once.
 *
 * What is read: DATA is only opened for reading, and only regular
 * files are read from it: a symbolic link (which could lead outside
 * DATA), a FIFO, a device or a directory in DATA/db is refused before
 * anything is copied. The copy is all or nothing: its size is checked
 * against the free space of $TMPDIR first (a clear refusal), and each
 * file must copy whole, as big as it was when opened.
 *
 * In use: a node holds a POSIX record lock on DATA/db/LOCK (LevelDB's
 * posix env takes it with fcntl) while its store is open. F_GETLK asks
 * whether another process holds it, without taking it; the file is
 * opened read-only and never created. Asked before the copy and again
 * after it (a node started meanwhile: refused, the copy may be torn).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/identity.h"
#include "store/store.h"
#include "tools/ctl/ctl.h"

#define OFFLINE_STORE_DIR "db"      /* NODE_DB_DIR */
#define OFFLINE_KEY_FILE_MAX 4096u
/* Room beyond the store's files that the opened copy may take. */
#define OFFLINE_COPY_SLACK (1u << 20)

/* The files of LevelDB's directory the copy leaves out: the lock (the
 * open takes its own) and LevelDB's info logs (text for people). */
static int offline_skipped(const char *name)
{
	return strcmp(name, "LOCK") == 0 || strcmp(name, "LOG") == 0 ||
	       strcmp(name, "LOG.old") == 0;
}

/* Opens the regular file name of dirfd read-only, never anything else:
 * not through a symbolic link (it could lead outside DATA), not a FIFO
 * or a device (opening one may block or act), refused on its lstat
 * before any open, and again if the file opened is not the one seen.
 * Access times stay where the kernel lets us (our own files). *st gets
 * its status. -1 with errno set: ELOOP for a link, EINVAL for a file
 * that is not regular, or the system's reason. */
static int open_regular(int dirfd, const char *name, struct stat *st)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	struct stat seen;
	int fd;

	if (fstatat(dirfd, name, &seen, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISREG(seen.st_mode)) {
		errno = S_ISLNK(seen.st_mode) ? ELOOP : EINVAL;
		return -1;
	}
	fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
	    st->st_dev != seen.st_dev || st->st_ino != seen.st_ino) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* Why open_regular failed, for a message after the file's name. */
static const char *open_why(int e)
{
	if (e == ELOOP)
		return "a symbolic link: refused (a store's files are regular "
		       "files; a link could make rumorctl read outside DATA)";
	if (e == EINVAL)
		return "not a regular file: refused (a store holds only "
		       "regular files)";
	return strerror(e);
}

/* ------------------------------------------------------------ in use */

/* 0 when no process holds DATA/db/LOCK (or there is none), else an exit
 * code with the reason printed. */
static int offline_check_lock(const struct ctx *x, int dbfd)
{
	struct flock fl;
	struct stat st;
	int fd, rv = 0;

	fd = open_regular(dbfd, "LOCK", &st);
	if (fd < 0 && errno == ENOENT)
		return 0;               /* never opened: nobody holds it */
	if (fd < 0)
		return fmt_fail(CTL_EXIT_UNREACHABLE, "%s/%s/LOCK: cannot open "
				"it to see whether a node holds it: %s",
				x->offline, OFFLINE_STORE_DIR, open_why(errno));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) != 0)
		rv = fmt_fail(CTL_EXIT_UNREACHABLE, "%s/%s/LOCK: cannot test "
			      "the lock: %s", x->offline, OFFLINE_STORE_DIR,
			      strerror(errno));
	else if (fl.l_type != F_UNLCK)
		rv = fmt_fail(CTL_EXIT_UNREACHABLE, "%s is in use: process %ld "
			      "holds its store open (a running rumord or "
			      "program). Stop it first, or drop --offline to "
			      "ask it through its control socket", x->offline,
			      (long)fl.l_pid);
	close(fd);
	return rv;
}

/* ------------------------------------------------------------ the copy */

/* Copies in to out; the bytes copied in *copied. */
static int copy_fd(int in, int out, off_t *copied)
{
	char buf[65536];
	ssize_t got, put, off;

	*copied = 0;
	for (;;) {
		got = read(in, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? -1 : 0;
		for (off = 0; off < got; off += put) {
			put = write(out, buf + off, (size_t)(got - off));
			if (put < 0 && errno == EINTR)
				put = 0;
			else if (put < 0)
				return -1;
		}
		*copied += got;
	}
}

/* Copies the file name of dbfd into the directory tofd: all of it, as
 * it was when opened, or an exit code with the reason printed. */
static int copy_one(const struct ctx *x, int dbfd, int tofd, const char *name)
{
	struct stat st;
	off_t copied = 0;
	int in, out, rv = 0;

	in = open_regular(dbfd, name, &st);
	if (in < 0)
		return fmt_fail(CTL_EXIT_UNREACHABLE, "%s/%s/%s: %s", x->offline,
				OFFLINE_STORE_DIR, name, open_why(errno));
	out = openat(tofd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0 || copy_fd(in, out, &copied) != 0)
		rv = fmt_fail(CTL_EXIT_UNREACHABLE, "copying %s/%s/%s to %s: "
			      "%s%s", x->offline, OFFLINE_STORE_DIR, name,
			      x->offline_tmp, strerror(errno),
			      errno == ENOSPC ? " (set TMPDIR to a file system "
			      "with room for a copy of the store)" : "");
	else if (copied != st.st_size)
		rv = fmt_fail(CTL_EXIT_UNREACHABLE, "%s/%s/%s changed while it "
			      "was copied (is a node running on it?)",
			      x->offline, OFFLINE_STORE_DIR, name);
	if (out >= 0 && close(out) != 0 && rv == 0)
		rv = fmt_fail(CTL_EXIT_UNREACHABLE, "copying %s: %s", name,
			      strerror(errno));
	close(in);
	return rv;
}

/* The bytes the copy of the store takes, every file checked as
 * open_regular will (nothing copied yet when one is refused). */
static int copy_size(const struct ctx *x, int dbfd, DIR *d, uint64_t *need,
		     uint64_t *files)
{
	struct dirent *e;
	struct stat st;
	size_t len;

	*need = *files = 0;
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || offline_skipped(e->d_name))
			continue;
		if (fstatat(dbfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return fmt_fail(CTL_EXIT_UNREACHABLE, "%s/%s/%s: %s",
					x->offline, OFFLINE_STORE_DIR,
					e->d_name, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return fmt_fail(CTL_EXIT_UNREACHABLE, "%s/%s/%s: %s",
					x->offline, OFFLINE_STORE_DIR, e->d_name,
					open_why(S_ISLNK(st.st_mode) ? ELOOP
								    : EINVAL));
		*need += (uint64_t)st.st_size;
		(*files)++;
		/* Opening the copy replays a write-ahead log into a table
		 * beside it: room for that too. */
		len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".log") == 0)
			*need += (uint64_t)st.st_size;
	}
	if (errno != 0)
		return fmt_fail(CTL_EXIT_UNREACHABLE, "listing %s/%s: %s",
				x->offline, OFFLINE_STORE_DIR, strerror(errno));
	return 0;
}

/* The copy must fit where it goes: a clear refusal before a byte is
 * written, not a copy cut short. need: bytes, files: files to make. */
static int copy_fits(const struct ctx *x, const char *to, uint64_t need,
		     uint64_t files)
{
	struct statvfs vfs;
	uint64_t room, inodes;

	/* LevelDB's MANIFEST, LOG and CURRENT of the open copy. */
	need += OFFLINE_COPY_SLACK;
	if (statvfs(to, &vfs) != 0)
		return fmt_fail(CTL_EXIT_UNREACHABLE, "%s: %s", to,
				strerror(errno));
	room = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	inodes = vfs.f_favail;
	if (room < need || (vfs.f_files > 0 && inodes < files + 8))
		return fmt_fail(CTL_EXIT_UNREACHABLE, "the copy of %s/%s needs "
				"%" PRIu64 " bytes in %" PRIu64 " files, and the "
				"file system of %s has %" PRIu64 " bytes free "
				"(set TMPDIR to a file system with room for a "
				"copy of the store)", x->offline,
				OFFLINE_STORE_DIR, need, files,
				x->offline_tmp, room);
	return 0;
}

/* Every LevelDB file of DATA/db into the private directory, once it is
 * known to fit. */
static int offline_copy(const struct ctx *x, int dbfd, const char *to)
{
	struct dirent *e;
	uint64_t need, files;
	DIR *d;
	int dupfd, tofd, rv = 0;

	tofd = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dupfd = dup(dbfd);
	d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	if (tofd < 0 || d == NULL) {
		rv = fmt_fail(CTL_EXIT_UNREACHABLE, "listing %s/%s: %s",
			      x->offline, OFFLINE_STORE_DIR, strerror(errno));
		if (d == NULL && dupfd >= 0)
			close(dupfd);
		goto out;
	}
	rewinddir(d);
	rv = copy_size(x, dbfd, d, &need, &files);
	if (rv == 0)
		rv = copy_fits(x, to, need, files);
	rewinddir(d);
	while (rv == 0 && (errno = 0, e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || offline_skipped(e->d_name))
			continue;
		rv = copy_one(x, dbfd, tofd, e->d_name);
	}
	if (rv == 0 && errno != 0)
		rv = fmt_fail(CTL_EXIT_UNREACHABLE, "listing %s/%s: %s",
			      x->offline, OFFLINE_STORE_DIR, strerror(errno));
	closedir(d);
out:
	if (tofd >= 0)
		close(tofd);
	return rv;
}

/* Removes the private directory: its db/ (LevelDB's files, no
 * subdirectory) and itself. */
static void offline_remove(const char *tmp)
{
	char path[PATH_MAX + sizeof(OFFLINE_STORE_DIR) + 1];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", tmp, OFFLINE_STORE_DIR);
	d = opendir(path);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0)
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
		rmdir(path);
	}
	if (rmdir(tmp) != 0 && errno != ENOENT)
		fprintf(stderr, "rumorctl: could not remove the private copy "
			"%s: %s\n", tmp, strerror(errno));
}

/* ------------------------------------------------------------ the worker */

static volatile sig_atomic_t offline_child;

static void offline_forward(int sig)
{
	if (offline_child > 0)
		kill((pid_t)offline_child, sig);
}

/* Forwards sig to the worker, unless sig is ignored (under nohup,
 * SIGHUP): the worker inherited the ignoring, so a forwarded signal
 * would end nothing while the parent went on waiting. */
static void offline_catch(int sig, const struct sigaction *sa)
{
	struct sigaction was;

	if (sigaction(sig, NULL, &was) == 0 && was.sa_handler == SIG_IGN)
		return;
	sigaction(sig, sa, NULL);
}

/* The parent's part: waits for the worker, removes the copy, and ends
 * the process with the worker's exit code (128 + the signal that ended
 * it). Never returns. */
static void offline_parent(struct ctx *x, pid_t pid, const sigset_t *old)
{
	struct sigaction sa;
	int status, code;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = offline_forward;
	sigemptyset(&sa.sa_mask);
	offline_child = pid;
	offline_catch(SIGHUP, &sa);
	offline_catch(SIGINT, &sa);
	offline_catch(SIGTERM, &sa);
	/* A signal that came since the copy's directory was made is passed
	 * on now. */
	sigprocmask(SIG_SETMASK, old, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	offline_child = 0;              /* reaped: its pid may be reused */
	offline_remove(x->offline_tmp);
	if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		code = 128 + WTERMSIG(status);
	else
		code = CTL_EXIT_FAIL;
	exit(code);
}

/* The node's key, read (never created): its public half is the store's
 * own origin. Absent or unreadable: a warning, and origin stays zero. */
static void offline_read_key(struct ctx *x, int datafd)
{
	uint8_t buf[OFFLINE_KEY_FILE_MAX];
	struct identity id;
	struct stat st;
	struct err err;
	char path[PATH_MAX];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", x->offline, IDENTITY_FILE);
	fd = open_regular(datafd, IDENTITY_FILE, &st);
	if (fd < 0) {
		fprintf(stderr, "rumorctl: warning: %s: %s; this node's own "
			"origin is unknown\n", path, open_why(errno));
		return;
	}
	len = read(fd, buf, sizeof(buf));
	close(fd);
	err_clear(&err);
	if (len < 0 || identity_parse(&id, buf, (size_t)len, path, &err) != 0) {
		fprintf(stderr, "rumorctl: warning: %s; this node's own origin "
			"is unknown\n", len < 0 ? strerror(errno) : err.msg);
		memset(buf, 0, sizeof(buf));
		return;
	}
	memcpy(x->offline_origin, id.public_key, sizeof(x->offline_origin));
	x->offline_have_origin = 1;
	identity_wipe(&id);
	memset(buf, 0, sizeof(buf));
}

/* DATA must be a directory with a db/ directory in it. Opens both. */
static int offline_open_dirs(const struct ctx *x, int *datafd, int *dbfd)
{
	struct stat st;

	*dbfd = -1;
	*datafd = open(x->offline, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*datafd < 0) {
		if (errno == ENOTDIR)
			return fmt_fail(CTL_EXIT_UNREACHABLE, "%s is not a "
					"directory (give a node's data dir)",
					x->offline);
		return fmt_fail(CTL_EXIT_UNREACHABLE, "%s: %s", x->offline,
				strerror(errno));
	}
	if (fstatat(*datafd, OFFLINE_STORE_DIR, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISDIR(st.st_mode) ||
	    faccessat(*datafd, OFFLINE_STORE_DIR "/CURRENT", F_OK, 0) != 0) {
		if (errno == EACCES)
			return fmt_fail(CTL_EXIT_UNREACHABLE, "%s/%s: %s",
					x->offline, OFFLINE_STORE_DIR,
					strerror(errno));
		return fmt_fail(CTL_EXIT_UNREACHABLE, "%s is not a rumor data "
				"dir: it holds no store (%s/CURRENT)",
				x->offline, OFFLINE_STORE_DIR);
	}
	*dbfd = openat(*datafd, OFFLINE_STORE_DIR,
		       O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (*dbfd < 0)
		return fmt_fail(CTL_EXIT_UNREACHABLE, "%s/%s: %s", x->offline,
				OFFLINE_STORE_DIR, strerror(errno));
	return 0;
}

/* The worker's part: the checks, the copy, the open. */
static int offline_prepare(struct ctx *x, struct err *err)
{
	struct store_options so;
	char db[PATH_MAX + sizeof(OFFLINE_STORE_DIR) + 1];
	int datafd, dbfd, rv;

	rv = offline_open_dirs(x, &datafd, &dbfd);
	if (rv == 0)
		rv = offline_check_lock(x, dbfd);
	if (rv == 0)
		offline_read_key(x, datafd);
	snprintf(db, sizeof(db), "%s/%s", x->offline_tmp, OFFLINE_STORE_DIR);
	if (rv == 0 && mkdir(db, 0700) != 0)
		rv = fmt_fail(CTL_EXIT_UNREACHABLE, "%s: %s", db,
			      strerror(errno));
	if (rv == 0)
		rv = offline_copy(x, dbfd, db);
	/* A node that started during the copy may have changed it. */
	if (rv == 0)
		rv = offline_check_lock(x, dbfd);
	if (dbfd >= 0)
		close(dbfd);
	if (datafd >= 0)
		close(datafd);
	if (rv != 0)
		return rv;
	memset(&so, 0, sizeof(so));
	so.origin = x->offline_origin;
	so.inspect = 1;
	err_clear(err);
	rv = store_open(&x->offline_store, db, &so, err);
	return rv == 0 ? 0 : -1;
}

int offline_open(struct ctx *x, struct err *err)
{
	const char *tmpdir = getenv("TMPDIR");
	sigset_t stop, old;
	pid_t pid;

	if (tmpdir == NULL || tmpdir[0] == '\0')
		tmpdir = "/tmp";
	if (strlen(tmpdir) + 32 > sizeof(x->offline_tmp))
		return fmt_fail(CTL_EXIT_USAGE, "TMPDIR is too long");
	snprintf(x->offline_tmp, sizeof(x->offline_tmp),
		 "%s/rumorctl-offline.XXXXXX", tmpdir);
	/* From the directory's making on, an interrupt must reach the
	 * parent's handler, never kill the parent before it (the copy would
	 * stay): held until the handler is in place. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	if (mkdtemp(x->offline_tmp) == NULL) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		x->offline_tmp[0] = '\0';
		return fmt_fail(CTL_EXIT_UNREACHABLE, "cannot make a private "
				"directory for the copy of the store under %s "
				"(set TMPDIR): %s", tmpdir, strerror(errno));
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		offline_remove(x->offline_tmp);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return fmt_fail(CTL_EXIT_FAIL, "fork: %s", strerror(errno));
	}
	if (pid > 0)
		offline_parent(x, pid, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return offline_prepare(x, err);
}

void offline_close(struct ctx *x)
{
	store_close(x->offline_store);
	x->offline_store = NULL;
}
