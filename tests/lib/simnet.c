/* SPDX-License-Identifier: MIT */
/* simnet: an in-memory connection between two sync sessions (simnet.h). */
#include "simnet.h"

#include <stdlib.h>
#include <string.h>

#include "resolver/resolver.h"

struct simnet_frame {
	struct simnet_frame *next;
	size_t len;
	uint8_t data[];
};

static int end_send(void *arg, const uint8_t *frame, size_t len)
{
	struct simnet_end *e = arg;
	struct simnet_frame *f;

	if (len > SYNC_FRAME_MAX)
		return RUMOR_ETOOBIG;
	if (len > e->max_frame)
		e->max_frame = len;
	e->frames_sent++;
	if (e->link->cut)
		return 0;   /* the bytes go nowhere, as on a dead socket */
	f = malloc(sizeof(*f) + len);
	if (f == NULL)
		return RUMOR_ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	if (e->tail != NULL)
		e->tail->next = f;
	else
		e->head = f;
	e->tail = f;
	e->queued_bytes += len;
	if (e->queued_bytes > e->peak_queued_bytes)
		e->peak_queued_bytes = e->queued_bytes;
	return 0;
}

static int end_writable(void *arg)
{
	struct simnet_end *e = arg;

	return e->high_water == 0 || e->queued_bytes < e->high_water;
}

static void end_complete(void *arg, const struct sync_round_stats *st)
{
	struct simnet_end *e = arg;

	e->rounds++;
	e->last = *st;
}

static void end_applied(void *arg, uint64_t n)
{
	struct simnet_end *e = arg;

	e->applied += n;
}

static void end_drop_all(struct simnet_end *e)
{
	struct simnet_frame *f, *next;

	for (f = e->head; f != NULL; f = next) {
		next = f->next;
		free(f);
	}
	e->head = e->tail = NULL;
	e->queued_bytes = 0;
}

static struct simnet_frame *end_pop(struct simnet_end *e)
{
	struct simnet_frame *f = e->head;

	if (f == NULL)
		return NULL;
	e->head = f->next;
	if (e->head == NULL)
		e->tail = NULL;
	e->queued_bytes -= f->len;
	return f;
}

int simnet_link_new(struct simnet_link **out, struct store *a,
		    struct store *b, const struct sync_config *cfg,
		    uint64_t rng_seed, struct err *err)
{
	struct simnet_link *l;
	struct sync_transport t;
	struct sync_callbacks cb;
	int i, rv;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return err_set(err, RUMOR_ENOMEM, "simnet: out of memory");
	l->rng = rng_seed;
	for (i = 0; i < 2; i++) {
		struct simnet_end *e = &l->end[i];

		e->link = l;
		e->side = i;
		e->store = i == 0 ? a : b;
		memset(&t, 0, sizeof(t));
		t.send = end_send;
		t.writable = end_writable;
		t.arg = e;
		memset(&cb, 0, sizeof(cb));
		cb.on_complete = end_complete;
		cb.on_applied = end_applied;
		cb.arg = e;
		rv = sync_session_new(&e->ss, e->store, &t, cfg, &cb, err);
		if (rv != 0) {
			simnet_link_free(l);
			return rv;
		}
	}
	*out = l;
	return 0;
}

void simnet_link_free(struct simnet_link *l)
{
	int i;

	if (l == NULL)
		return;
	for (i = 0; i < 2; i++) {
		sync_session_free(l->end[i].ss);
		end_drop_all(&l->end[i]);
	}
	free(l);
}

void simnet_cut(struct simnet_link *l)
{
	l->cut = 1;
	end_drop_all(&l->end[0]);
	end_drop_all(&l->end[1]);
}

size_t simnet_queued(const struct simnet_link *l, int side)
{
	const struct simnet_frame *f;
	size_t n = 0;

	for (f = l->end[side].head; f != NULL; f = f->next)
		n++;
	return n;
}

const uint8_t *simnet_peek(const struct simnet_link *l, int side,
			   size_t *len)
{
	const struct simnet_frame *f = l->end[side].head;

	if (f == NULL)
		return NULL;
	*len = f->len;
	return f->data;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static int fail_end(struct simnet_link *l, int side, int rv)
{
	struct simnet_end *e = &l->end[side];

	if (e->error == 0)
		e->error = rv;
	simnet_cut(l);
	return rv;
}

/* Delivers the head frame of side `from`: 1 delivered (or dropped),
 * 0 held, negative error. */
static int deliver(struct simnet_link *l, int from)
{
	struct simnet_end *src = &l->end[from], *dst = &l->end[!from];
	enum simnet_verdict v = SIMNET_DELIVER;
	struct simnet_frame *f = src->head;
	int rv;

	if (l->filter != NULL)
		v = l->filter(l->filter_arg, l, from, f->data, f->len);
	if (l->cut)
		return 0;   /* the filter cut the link itself */
	switch (v) {
	case SIMNET_HOLD:
		return 0;
	case SIMNET_CUT:
		simnet_cut(l);
		return 0;
	case SIMNET_DROP:
		free(end_pop(src));
		return 1;
	case SIMNET_DELIVER:
		break;
	}
	f = end_pop(src);
	l->delivered++;
	rv = sync_session_receive(dst->ss, f->data, f->len, &dst->err);
	free(f);
	if (rv != 0)
		return fail_end(l, !from, rv);
	return 1;
}

int simnet_step(struct simnet_link *l)
{
	int i, side, rv;

	if (l->cut)
		return 0;
	/* A session with more to send goes first: that is the transport
	 * draining, or the next loop turn. */
	for (i = 0; i < 2; i++) {
		if (sync_session_pending(l->end[i].ss)) {
			rv = sync_session_pump(l->end[i].ss, &l->end[i].err);
			if (rv != 0)
				return fail_end(l, i, rv);
			return 1;
		}
	}
	if (l->rng != 0)
		l->turn = (int)(xorshift(&l->rng) >> 32) & 1;
	else
		l->turn = !l->turn;
	for (i = 0; i < 2; i++) {
		side = i == 0 ? l->turn : !l->turn;
		if (l->end[side].head == NULL)
			continue;
		rv = deliver(l, side);
		if (rv != 0)
			return rv;
		if (l->cut)
			return 0;
	}
	return 0;
}

int simnet_run(struct simnet_link *l, uint64_t max_steps)
{
	uint64_t i;
	int rv;

	for (i = 0; i < max_steps; i++) {
		rv = simnet_step(l);
		if (rv <= 0)
			return rv;
	}
	return RUMOR_ETIMEDOUT;
}

int simnet_exchange(struct store *a, struct store *b,
		    const struct sync_config *cfg, struct err *err)
{
	struct simnet_link *l;
	int rv;

	rv = simnet_link_new(&l, a, b, cfg, 0, err);
	if (rv != 0)
		return rv;
	rv = sync_session_start(l->end[0].ss, err);
	if (rv == 0)
		rv = simnet_run(l, UINT64_C(1) << 32);
	if (rv != 0) {
		if (err != NULL && l->end[0].error)
			*err = l->end[0].err;
		else if (err != NULL && l->end[1].error)
			*err = l->end[1].err;
	} else if (l->end[0].rounds != 1 || l->end[1].rounds != 1) {
		rv = err_set(err, RUMOR_EPROTO,
			     "simnet: quiescent but rounds %llu/%llu",
			     (unsigned long long)l->end[0].rounds,
			     (unsigned long long)l->end[1].rounds);
	}
	simnet_link_free(l);
	return rv;
}

/* ------------------------------------------------------------ checks */

int simnet_version_copy(struct simnet_version *dst,
			const struct rumor_version *v)
{
	memset(dst, 0, sizeof(*dst));
	memcpy(dst->origin, v->origin, STORE_ORIGIN_BYTES);
	dst->seq = v->seq;
	dst->clock = v->clock;
	dst->wall_ms = v->wall_ms;
	dst->deleted = v->deleted;
	dst->key = malloc(v->key_len);
	dst->value = malloc(v->value_len + 1);
	if (dst->key == NULL || dst->value == NULL) {
		simnet_version_free(dst);
		return RUMOR_ENOMEM;
	}
	memcpy(dst->key, v->key, v->key_len);
	dst->key_len = v->key_len;
	if (v->value_len > 0)
		memcpy(dst->value, v->value, v->value_len);
	dst->value_len = v->value_len;
	return 0;
}

void simnet_version_free(struct simnet_version *v)
{
	free(v->key);
	free(v->value);
	v->key = NULL;
	v->value = NULL;
}

void simnet_version_view(const struct simnet_version *sv,
			 struct rumor_version *v)
{
	v->key = sv->key;
	v->key_len = sv->key_len;
	v->value = sv->deleted ? NULL : sv->value;
	v->value_len = sv->deleted ? 0 : sv->value_len;
	v->deleted = sv->deleted;
	v->clock = sv->clock;
	v->wall_ms = sv->wall_ms;
	v->origin = sv->origin;
	v->origin_len = STORE_ORIGIN_BYTES;
	v->seq = sv->seq;
}

int simnet_version_of(struct store *s, const void *key, size_t key_len,
		      struct simnet_version *dst)
{
	struct store_record *rec;
	int rv;

	rv = store_get_version(s, key, key_len, &rec, NULL);
	if (rv != 0)
		return rv;
	rv = simnet_version_copy(dst, &rec->v);
	store_record_free(rec);
	return rv;
}

struct dump {
	uint8_t *data;
	size_t len, cap;
	int oom;
	struct store_hwm *hwms;
	size_t n_hwms, cap_hwms;
};

static void dump_put(struct dump *d, const void *p, size_t n)
{
	uint8_t *data;
	size_t cap;

	if (d->oom)
		return;
	if (d->len + n > d->cap) {
		cap = d->cap ? d->cap : 4096;
		while (cap < d->len + n)
			cap *= 2;
		data = realloc(d->data, cap);
		if (data == NULL) {
			d->oom = 1;
			return;
		}
		d->data = data;
		d->cap = cap;
	}
	if (n > 0)
		memcpy(d->data + d->len, p, n);
	d->len += n;
}

static void dump_u64(struct dump *d, uint64_t x)
{
	dump_put(d, &x, sizeof(x));
}

static int dump_hwm_cb(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct dump *d = arg;
	struct store_hwm *h;

	if (d->n_hwms == d->cap_hwms) {
		d->cap_hwms = d->cap_hwms ? 2 * d->cap_hwms : 16;
		h = realloc(d->hwms, d->cap_hwms * sizeof(*h));
		if (h == NULL) {
			d->oom = 1;
			return 1;
		}
		d->hwms = h;
	}
	memcpy(d->hwms[d->n_hwms].origin, origin, STORE_ORIGIN_BYTES);
	d->hwms[d->n_hwms].seq = seq;
	d->n_hwms++;
	dump_put(d, origin, STORE_ORIGIN_BYTES);
	dump_u64(d, seq);
	return 0;
}

static int dump_log_cb(void *arg, const struct rumor_version *v)
{
	struct dump *d = arg;

	dump_u64(d, v->seq);
	dump_u64(d, v->clock);
	dump_u64(d, v->wall_ms);
	dump_u64(d, (uint64_t)v->deleted);
	dump_u64(d, v->key_len);
	dump_put(d, v->key, v->key_len);
	dump_u64(d, v->value_len);
	dump_put(d, v->value, v->value_len);
	return 0;
}

int simnet_dump(struct store *s, uint8_t **buf, size_t *len)
{
	struct dump d;
	size_t i;
	int rv;

	memset(&d, 0, sizeof(d));
	rv = store_hwms(s, NULL, dump_hwm_cb, &d, NULL);
	for (i = 0; rv == 0 && i < d.n_hwms; i++) {
		dump_put(&d, d.hwms[i].origin, STORE_ORIGIN_BYTES);
		rv = store_log_scan(s, NULL, d.hwms[i].origin, 0, 0,
				    dump_log_cb, &d, NULL, NULL);
	}
	free(d.hwms);
	if (rv == 0 && d.oom)
		rv = RUMOR_ENOMEM;
	if (rv != 0) {
		free(d.data);
		return rv;
	}
	*buf = d.data;
	*len = d.len;
	return 0;
}

int simnet_same_state(struct store *a, struct store *b)
{
	uint8_t *da = NULL, *db = NULL;
	size_t la = 0, lb = 0;
	int same;

	if (simnet_dump(a, &da, &la) != 0 || simnet_dump(b, &db, &lb) != 0) {
		free(da);
		free(db);
		return 0;
	}
	same = la == lb && (la == 0 || memcmp(da, db, la) == 0);
	free(da);
	free(db);
	return same;
}

int simnet_check_hwm_invariant(struct store *s, struct resolver *r,
			       const struct simnet_version *all, size_t n,
			       struct err *err)
{
	struct store_record *rec;
	struct rumor_version v;
	size_t i;
	int rv, order;

	for (i = 0; i < n; i++) {
		if (store_hwm(s, all[i].origin) < all[i].seq)
			continue;
		rv = store_get_version(s, all[i].key, all[i].key_len, &rec,
				       NULL);
		if (rv == RUMOR_ENOTFOUND)
			return err_set(err, RUMOR_ECORRUPT,
				       "HWM covers seq %llu of origin %02x "
				       "but its key is absent",
				       (unsigned long long)all[i].seq,
				       all[i].origin[0]);
		if (rv != 0)
			return err_set(err, rv, "store_get_version failed");
		simnet_version_view(&all[i], &v);
		order = resolver_order(r, &rec->v, &v, NULL);
		if (order > 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "HWM %llu covers (%02x, %llu, clock %llu, "
				     "wall %llu%s) but (%02x, %llu, clock %llu, "
				     "wall %llu%s) is held",
				     (unsigned long long)store_hwm(s,
						all[i].origin),
				     all[i].origin[0],
				     (unsigned long long)all[i].seq,
				     (unsigned long long)v.clock,
				     (unsigned long long)v.wall_ms,
				     v.deleted ? ", deleted" : "",
				     rec->v.origin[0],
				     (unsigned long long)rec->v.seq,
				     (unsigned long long)rec->v.clock,
				     (unsigned long long)rec->v.wall_ms,
				     rec->v.deleted ? ", deleted" : "");
			store_record_free(rec);
			return rv;
		}
		store_record_free(rec);
	}
	return 0;
}
