/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *tu_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;
	size_t len;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	len = strlen(base) + strlen(tag) + 32;
	path = malloc(len);
	if (path == NULL)
		abort();
	snprintf(path, len, "%s/rumor-%s-XXXXXX", base, tag);
	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return path;
}

static int rmrf_one(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -errno;
}

int tu_rmrf(const char *path)
{
	return nftw(path, rmrf_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_join(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);

	if (p == NULL)
		abort();
	snprintf(p, len, "%s/%s", dir, name);
	return p;
}

uint64_t tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int tu_write_file(const char *path, const void *buf, size_t len, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	const char *p = buf;

	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, (mode_t)mode) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return close(fd) == 0 ? 0 : -errno;
}

char *tu_builddir_path(const char *rel)
{
	return tu_join(RUMOR_TOP_BUILDDIR, rel);
}

char *tu_srcdir_path(const char *rel)
{
	return tu_join(RUMOR_TOP_SRCDIR, rel);
}

int tu_wait_for(int (*cond)(void *arg), void (*step)(void *arg), void *arg,
		uint64_t timeout_ms)
{
	uint64_t deadline = tu_now_ms() + timeout_ms;
	struct timespec pause = {0, 2 * 1000 * 1000};

	for (;;) {
		if (cond(arg))
			return 1;
		if (tu_now_ms() >= deadline)
			return 0;
		if (step != NULL)
			step(arg);
		else
			nanosleep(&pause, NULL);
	}
}

void tu_prefer_tmpfs(void)
{
	if (getenv("TMPDIR") == NULL && access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 0);
}

ssize_t tu_seed_file(const char *rel, const void *data, size_t len,
		     int write, void *buf, size_t cap)
{
	char *path = tu_srcdir_path(rel);
	FILE *fp = fopen(path, write ? "wb" : "rb");
	ssize_t n;

	free(path);
	if (fp == NULL)
		return -errno;
	if (write)
		n = fwrite(data, 1, len, fp) == len ? (ssize_t)len : -EIO;
	else
		n = (ssize_t)fread(buf, 1, cap, fp);
	if (fclose(fp) != 0 && n >= 0)
		n = -EIO;
	return n;
}
