/* SPDX-License-Identifier: MIT */
/* hwm: growable, sorted lists of HWMs for digests, DONEs and snapshots. */
#include "sync/sync_int.h"

int hwm_list_reserve(struct hwm_list *l, size_t n, struct err *err)
{
	struct store_hwm *v;

	if (n <= l->cap)
		return 0;
	v = array_grow(l->v, &l->cap, n, sizeof(*v), 16);
	if (v == NULL)
		return err_set(err, RUMOR_ENOMEM, "sync: out of memory");
	l->v = v;
	return 0;
}

struct hwm_load {
	struct hwm_list *l;
	int oom;
};

static int hwm_list_add_cb(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct hwm_load *ld = arg;
	struct hwm_list *l = ld->l;

	if (hwm_list_reserve(l, l->n + 1, NULL) != 0) {
		ld->oom = 1;
		return 1;
	}
	memcpy(l->v[l->n].origin, origin, STORE_ORIGIN_BYTES);
	l->v[l->n].seq = seq;
	l->n++;
	return 0;
}

/* Fills l with the store's HWMs (of snap if not NULL), in origin order. */
int hwm_list_load(struct sync_session *ss, struct hwm_list *l,
			 const struct store_snapshot *snap, struct err *err)
{
	struct hwm_load ld = { l, 0 };
	int rv;

	l->n = 0;
	rv = store_hwms(ss->store, snap, hwm_list_add_cb, &ld, err);
	if (rv != 0)
		return rv;
	if (ld.oom)
		return err_set(err, RUMOR_ENOMEM, "sync: out of memory");
	return 0;
}

int hwm_cmp(const void *a, const void *b)
{
	const struct store_hwm *x = a, *y = b;

	return memcmp(x->origin, y->origin, STORE_ORIGIN_BYTES);
}

/* Copies a DIGEST's or DONE's HWMs into l, sorted by origin; duplicate
 * origins are a protocol error. O(n log n). */
int hwm_list_from_wire(struct hwm_list *l, const struct wire_digest *d,
			      struct err *err)
{
	size_t i;
	int rv;

	rv = hwm_list_reserve(l, d->n, err);
	if (rv != 0)
		return rv;
	for (i = 0; i < d->n; i++) {
		memcpy(l->v[i].origin, d->hwms[i].origin, STORE_ORIGIN_BYTES);
		l->v[i].seq = d->hwms[i].hwm;
	}
	l->n = d->n;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), hwm_cmp);
	for (i = 1; i < l->n; i++)
		if (hwm_cmp(&l->v[i - 1], &l->v[i]) == 0) {
			l->n = 0;
			return sync_proto(err, "an origin appears twice "
					  "in a digest");
		}
	return 0;
}

/* The HWM of origin in a sorted list (0 when absent). */
uint64_t hwm_list_find(const struct hwm_list *l, const uint8_t *origin)
{
	struct store_hwm key;
	const struct store_hwm *hit;

	if (l->n == 0)
		return 0;
	memcpy(key.origin, origin, STORE_ORIGIN_BYTES);
	hit = bsearch(&key, l->v, l->n, sizeof(*l->v), hwm_cmp);
	return hit != NULL ? hit->seq : 0;
}

/* The index where origin is or would go in a sorted list. */
static size_t hwm_list_index(const struct hwm_list *l, const uint8_t *origin,
			     int *found)
{
	size_t lo = 0, hi = l->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(l->v[mid].origin, origin, STORE_ORIGIN_BYTES);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int hwm_list_raise(struct hwm_list *l, const uint8_t *origin, uint64_t seq,
		   size_t max)
{
	int found;
	size_t i = hwm_list_index(l, origin, &found);

	if (found) {
		if (seq > l->v[i].seq)
			l->v[i].seq = seq;
		return 0;
	}
	if (l->n >= max || hwm_list_reserve(l, l->n + 1, NULL) != 0)
		return -1;
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*l->v));
	memcpy(l->v[i].origin, origin, STORE_ORIGIN_BYTES);
	l->v[i].seq = seq;
	l->n++;
	return 1;
}

int hwm_list_remove(struct hwm_list *l, const uint8_t *origin)
{
	int found;
	size_t i = hwm_list_index(l, origin, &found);

	if (!found)
		return 0;
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
	return 1;
}

int hwm_list_has(const struct hwm_list *l, const uint8_t *origin)
{
	int found;

	(void)hwm_list_index(l, origin, &found);
	return found;
}

int hwm_list_merge_max(struct hwm_list *dst, const struct hwm_list *a,
		       const struct hwm_list *b, struct err *err)
{
	size_t i = 0, j = 0;
	int rv, c;

	assert(dst != a && dst != b);
	rv = hwm_list_reserve(dst, a->n + b->n, err);
	if (rv != 0)
		return rv;
	dst->n = 0;
	while (i < a->n || j < b->n) {
		if (i == a->n)
			c = 1;
		else if (j == b->n)
			c = -1;
		else
			c = hwm_cmp(&a->v[i], &b->v[j]);
		if (c < 0) {
			dst->v[dst->n++] = a->v[i++];
		} else if (c > 0) {
			dst->v[dst->n++] = b->v[j++];
		} else {
			dst->v[dst->n] = a->v[i];
			if (b->v[j].seq > a->v[i].seq)
				dst->v[dst->n].seq = b->v[j].seq;
			dst->n++;
			i++;
			j++;
		}
	}
	return 0;
}
