/* SPDX-License-Identifier: MIT */
/* store gc: tombstone collection (store_collect_tombstones). */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ tombstones */

int store_collect_tombstones(struct store *s, store_covered_cb covered,
			     void *arg, size_t max, size_t *removed,
			     struct err *err)
{
	leveldb_iterator_t *it;
	const char *k, *v;
	size_t klen, vlen, examined = 0, n = 0;
	char *lerr = NULL, *cursor = NULL;
	size_t cursor_len = 0;
	char lk[LOG_KEY_BYTES];
	struct meta m;
	int rv = 0, at_end = 0;
	char hex[41];

	if (removed != NULL)
		*removed = 0;
	if (s == NULL || covered == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_collect_tombstones: NULL argument");
	rv = store__check_writable(s, "store_collect_tombstones", err);
	if (rv != 0)
		return rv;

	leveldb_writebatch_clear(s->batch);
	it = leveldb_create_iterator(s->db, s->ropts);
	if (s->collect_cursor != NULL)
		leveldb_iter_seek(it, s->collect_cursor, s->collect_cursor_len);
	else
		leveldb_iter_seek(it, "m", 1);
	/* covered() must not write: the batch is being built. */
	s->in_hook++;
	for (;; leveldb_iter_next(it)) {
		if (!leveldb_iter_valid(it)) {
			at_end = 1;
			break;
		}
		k = leveldb_iter_key(it, &klen);
		if (k[0] != PFX_META) {
			at_end = 1;
			break;
		}
		if ((max != 0 && n >= max) || examined >= STORE_COLLECT_SCAN_MAX) {
			cursor = malloc(klen);
			if (cursor == NULL) {
				rv = err_set(err, RUMOR_ENOMEM,
					     "store %s: out of memory", s->dir);
				break;
			}
			memcpy(cursor, k, klen);
			cursor_len = klen;
			break;
		}
		examined++;
		v = leveldb_iter_value(it, &vlen);
		if (format_meta_decode(v, vlen, &m) != 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable meta for key %s",
				     s->dir, format_key_hex(k + 1, klen - 1, hex));
			break;
		}
		if (!m.deleted || !covered(arg, m.origin, m.seq))
			continue;
		leveldb_writebatch_delete(s->batch, k, klen);
		format_log_key(lk, m.origin, m.seq);
		leveldb_writebatch_delete(s->batch, lk, sizeof lk);
		n++;
	}
	s->in_hook--;
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL && rv == 0)
		rv = store__db_error(s, lerr, "scanning tombstones", err);
	else
		leveldb_free(lerr);
	if (rv == 0 && n > 0)
		rv = store__commit(s, "tombstone collection", err);
	leveldb_writebatch_clear(s->batch);
	if (rv != 0) {
		free(cursor);
		return rv;
	}
	free(s->collect_cursor);
	s->collect_cursor = at_end ? NULL : cursor;
	s->collect_cursor_len = at_end ? 0 : cursor_len;
	if (at_end)
		free(cursor);
	s->stats.tombstones -= n;
	s->stats.log_entries -= n;
	s->stats.collected += n;
	if (removed != NULL)
		*removed = n;
	return 0;
}
