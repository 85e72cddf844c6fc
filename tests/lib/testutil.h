/* SPDX-License-Identifier: MIT */
/* testutil: temporary directories and waiting with a deadline. */
#ifndef RUMOR_TESTUTIL_H
#define RUMOR_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Points TMPDIR at /dev/shm when TMPDIR is unset and /dev/shm is
 * writable: tests that make and drop stores by the thousand run ten times
 * faster on tmpfs. Call first in main. */
void tu_prefer_tmpfs(void);
/* A fresh empty directory under $TMPDIR (or /tmp); the returned string is
 * malloc'd. Aborts the test program on failure. */
char *tu_tmpdir(const char *tag);
/* Removes a directory tree (like rm -rf); returns 0 or -errno. */
int tu_rmrf(const char *path);
/* path joined with name, malloc'd. */
char *tu_join(const char *dir, const char *name);
/* Milliseconds on the monotonic clock. */
uint64_t tu_now_ms(void);
/* Writes len bytes to path with the given mode; returns 0 or -errno. */
int tu_write_file(const char *path, const void *buf, size_t len, int mode);
/* A fuzz seed file, rel to the source tree: with write, (re)writes it
 * with data[0..len); else reads it into buf (at most cap bytes). Returns
 * the bytes written or read, or -errno. */
ssize_t tu_seed_file(const char *rel, const void *data, size_t len,
		     int write, void *buf, size_t cap);
/* Path of a file in the build tree / source tree. */
char *tu_builddir_path(const char *rel);
char *tu_srcdir_path(const char *rel);

/* Polls cond(arg) every few ms until it is nonzero or timeout_ms pass;
 * returns 1 when cond held, 0 on timeout. step(arg) runs between polls
 * (e.g. one uv_run(UV_RUN_NOWAIT)); it may be NULL. */
int tu_wait_for(int (*cond)(void *arg), void (*step)(void *arg), void *arg,
		uint64_t timeout_ms);

#endif
