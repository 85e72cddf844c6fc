/* SPDX-License-Identifier: MIT */
/*
 * store fsync: store_sync, the durability point of rumord's everysec
 * policy, without stalling the loop's writes.
 *
 * It used to be an empty LevelDB write with sync=true. LevelDB runs
 * writers one at a time, so every loop write that came during that
 * fsync queued behind it: once a second a put took as long as the fsync
 * (rumor-bench store fsync: the puts that overlapped a sync had a p99 of
 * 33 ms, the fsync's own length, and only ~30 of them got through per
 * sync). Now no LevelDB writer waits: store_sync fsyncs LevelDB's
 * write-ahead log files itself, from outside LevelDB (the puts during a
 * sync: p99 50-80 us, ~800 per sync, as many as the writer's pace).
 *
 * Why that is durable. A write that returned before store_sync was called
 * is in the page cache (LevelDB's log writer flushes each record to the
 * kernel before the write returns), in the log file that was current
 * when it was written; an fdatasync of any descriptor of a file makes
 * all of its written data durable. That log is one of three:
 *  - still on disk and numbered at or above sync_floor (the newest log
 *    the last call saw): this call lists the directory and syncs every
 *    such NNNNNN.log, oldest first;
 *  - numbered below sync_floor: LevelDB had moved on to a newer log
 *    before the last call listed the directory, so nothing was written
 *    to it after that call synced it;
 *  - gone (listed, then deleted before it could be opened, or deleted
 *    before the listing): LevelDB deletes a log only after the memtable
 *    it held is written to a table it synced and recorded in a MANIFEST
 *    it synced, so its writes are durable there.
 * LevelDB switching to a new log between the listing and the syncs only
 * puts later writes in it, which this call does not promise. Last, the
 * directory is synced: a log created since the last call must survive by
 * name too (recovery finds logs by listing the directory; LevelDB syncs
 * the directory only with its MANIFEST).
 */
#include "store/store_int.h"
#include "lib/array.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The number of a LevelDB log file name (digits, then ".log"); 0 when
 * name is not one. */
static uint64_t log_number(const char *name)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; name[i] >= '0' && name[i] <= '9'; i++) {
		if (n > (UINT64_MAX - 9) / 10)
			return 0;
		n = n * 10 + (uint64_t)(name[i] - '0');
	}
	if (i == 0 || strcmp(name + i, ".log") != 0)
		return 0;
	return n;
}

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return (a > b) - (a < b);
}

/* The numbers of the log files in s->dir at or above s->sync_floor, in
 * *logs (malloc'd, caller frees; sorted), their count in *n. */
static int list_logs(struct store *s, uint64_t **logs, size_t *n,
		     struct err *err)
{
	size_t cap = 0;
	uint64_t num, *grown;
	struct dirent *de;
	DIR *d;

	*logs = NULL;
	*n = 0;
	d = opendir(s->dir);
	if (d == NULL)
		return err_set(err, RUMOR_EIO, "store %s: sync: cannot list: %s",
			       s->dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		num = log_number(de->d_name);
		if (num == 0 || num < s->sync_floor)
			continue;
		if (*n == cap) {
			grown = array_grow(*logs, &cap, *n + 1, sizeof *grown, 4);
			if (grown == NULL) {
				closedir(d);
				free(*logs);
				*logs = NULL;
				return err_set(err, RUMOR_ENOMEM,
					       "store %s: out of memory", s->dir);
			}
			*logs = grown;
		}
		(*logs)[(*n)++] = num;
	}
	closedir(d);
	qsort(*logs, *n, sizeof **logs, cmp_u64);
	return 0;
}

/* fdatasync (or fsync, for a directory) of path. A file that is gone is
 * fine when missing_ok. */
static int sync_path(struct store *s, const char *path, int dir,
		     int missing_ok, struct err *err)
{
	int fd, rv;

	fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
	if (fd < 0) {
		if (missing_ok && errno == ENOENT)
			return 0;
		return err_set(err, RUMOR_EIO, "store %s: sync: open %s: %s",
			       s->dir, path, strerror(errno));
	}
	rv = dir ? fsync(fd) : fdatasync(fd);
	if (rv != 0)
		rv = err_set(err, RUMOR_EIO, "store %s: sync: %s: %s", s->dir,
			     path, strerror(errno));
	close(fd);
	return rv;
}

static int sync_logs(struct store *s, struct err *err)
{
	uint64_t *logs;
	size_t n, i, len = strlen(s->dir) + 32;
	char *path;
	int rv;

	rv = list_logs(s, &logs, &n, err);
	if (rv != 0)
		return rv;
	path = malloc(len);
	if (path == NULL) {
		free(logs);
		return err_set(err, RUMOR_ENOMEM, "store %s: out of memory",
			       s->dir);
	}
	for (i = 0; i < n && rv == 0; i++) {
		snprintf(path, len, "%s/%06llu.log", s->dir,
			 (unsigned long long)logs[i]);
		rv = sync_path(s, path, 0, 1, err);
	}
	if (rv == 0)
		rv = sync_path(s, s->dir, 1, 0, err);
	/* Every log below the newest was closed before the listing, and is
	 * synced now: the next call starts at the newest. */
	if (rv == 0 && n > 0)
		s->sync_floor = logs[n - 1];
	free(path);
	free(logs);
	return rv;
}

int store_sync(struct store *s, struct err *err)
{
	int rv;

	if (s == NULL)
		return err_set(err, RUMOR_EINVAL, "store_sync: no store");
	pthread_mutex_lock(&s->sync_lock);
	rv = sync_logs(s, err);
	pthread_mutex_unlock(&s->sync_lock);
	return rv;
}
