/* SPDX-License-Identifier: MIT */
/*
 * sync: scuttlebutt reconciliation over one connection (see sync.h for
 * the exchange and its rules).
 *
 * Why HWMs move only on DONE. The log is compacted: it holds one entry
 * per key, the entry of the key's stored version. An origin's entries
 * therefore arrive with gaps, and the version that superseded a missing
 * (O, s) may come from another origin O' later in the stream. Were we to
 * raise HWM[O] to s as O's batches arrive and the stream were then cut
 * before O''s batch, this node would claim (by HWM[O] >= s) a version of
 * the key it neither holds nor holds anything newer for; no later
 * exchange would send it again (peers send only above our HWM) and the
 * key would stay stale for good (DESIGN 4.4). So the batches are applied
 * as they come (each one atomic, HWMs untouched), and only DONE, which
 * the sender sends after the whole stream of its snapshot, raises the
 * HWMs to the snapshot's. A cut stream leaves the HWMs where they were:
 * the next exchange sends the same entries again, and identical versions
 * are cheap no-ops in the store.
 *
 * Why DONE's HWMs are honest: for every (O, s) with s <= snapshot HWM[O],
 * the sender held that version or a newer one V' (its own invariant). V'
 * has a log entry in the snapshot: either its seq is above our digest's
 * HWM for its origin, and it was streamed, or it is not, and by our own
 * invariant we hold V' or newer already.
 *
 * Why we stream entries above our own HWM, and need every origin of the
 * log: a cut stream leaves us log entries above our HWM for their origin
 * (or of an origin we have no HWM for at all). Such an entry may be the
 * V' that supersedes a version our DONE claims, so for every origin with
 * log entries we send everything above the PEER's HWM, whatever our own
 * HWM says. store_hwms() lists every origin that has an HWM or log
 * entries (hwm 0 for the latter); that is what makes this complete.
 *
 * Key order, for a peer far behind (sync_push_key_order()). A log-order
 * stream reads each entry's value from its key's meta: one random point
 * read per entry, which makes the sender the bottleneck of a catch-up.
 * A key-order stream instead walks the m keyspace of the same snapshot
 * sequentially (values inline) and sends each version iff its seq is
 * above the peer's HWM for its origin, as MBATCH frames (entries carry
 * their origin). It sends exactly the same set of entries as the log
 * order would: the store keeps one log entry per key, the entry (O, s)
 * of the key's stored version, so within one snapshot the metas and the
 * log entries are in one-to-one correspondence (same key, origin, seq,
 * clock, wall time, flags, value); every origin of a meta has that log
 * entry and so is listed by store_hwms(), and "seq above the peer's HWM
 * for its origin" selects the same elements of both. Only the order
 * differs, and nothing above depends on the order: the receiver applies
 * each frame atomically without raising HWMs, and only DONE (after the
 * whole snapshot was streamed, with the same snapshot HWMs) raises them.
 * A cut leaves some subset of the entries applied and the HWMs where they
 * were, exactly as a cut log-order stream does, so DESIGN 4.4 holds under
 * cuts as before and the next exchange sends what is missing. The price
 * of key order is reading the metas the peer already has (skipped): hence
 * the rule, and SYNC_SKIP_MAX to bound the work per call.
 */
#include "sync/sync.h"
#include "lib/array.h"
#include "lib/bytes.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* A single entry of maximum size must always fit in one frame. */
_Static_assert(WIRE_BATCH_HEAD_MAX + WIRE_ENTRY_OVERHEAD_MAX +
	       WIRE_KEY_MAX + WIRE_VALUE_MAX <= SYNC_FRAME_MAX,
	       "a maximal entry must fit in a frame");
_Static_assert(WIRE_MBATCH_HEAD_MAX + WIRE_MBATCH_ORIGIN_BYTES +
	       WIRE_ENTRY_OVERHEAD_MAX + WIRE_MBATCH_INDEX_MAX +
	       WIRE_KEY_MAX + WIRE_VALUE_MAX <= SYNC_FRAME_MAX,
	       "a maximal MBATCH entry must fit in a frame");
_Static_assert(WIRE_ORIGIN_BYTES == STORE_ORIGIN_BYTES,
	       "wire and store origins differ in size");

enum push_state {
	PUSH_IDLE = 0,       /* no peer DIGEST to serve */
	PUSH_STREAMING,      /* sending BATCHes, then DONE */
	PUSH_DRAINING,       /* DONE sent, waiting for the last ACKs */
};

/* An origin whose entries the peer lacks: stream (cursor, snap_hwm]. */
struct push_origin {
	uint8_t origin[STORE_ORIGIN_BYTES];
	uint64_t cursor;     /* last seq sent; starts at the peer's HWM */
};

/* A growable array of HWMs. */
struct hwm_list {
	struct store_hwm *v;
	size_t n;
	size_t cap;
};

struct sync_session {
	struct store *store;
	struct sync_transport t;
	struct sync_callbacks cb;
	struct sync_config cfg;
	struct wire_decoder dec;
	struct wire_buf out;

	int failed;                  /* 0 or the sticky error code */
	struct err failure;

	/* The round. */
	int round_open;
	int pull_done;
	int push_done;
	uint64_t next_exchange_id;
	uint64_t rounds;
	struct sync_round_stats st;

	/* Pull: our DIGEST and the peer's stream to us. */
	int pull_open;
	uint64_t pull_id;
	struct rumor_version *vs;
	int *outcomes;
	size_t vs_cap;
	struct hwm_list raise;       /* a DONE's HWMs, sorted */
	struct hwm_list self;        /* our HWMs for our DIGEST */
	struct wire_hwm *whwms;      /* wire view of self or snap */
	size_t whwms_cap;

	/* Push: our stream to the peer. */
	enum push_state push;
	uint64_t push_id;
	struct store_snapshot *snap;
	struct hwm_list snap_hwms;   /* the snapshot's HWMs, for DONE */
	struct push_origin *po;      /* origins to stream, in origin order */
	size_t po_n;
	size_t po_cap;
	size_t po_next;              /* origin being streamed */
	uint64_t sent;               /* payload bytes sent this exchange */
	uint64_t acked;
	struct hwm_list peer;        /* the peer's last DIGEST, sorted */
	int have_peer;

	/* Push in key order (push_key): the m keyspace after kcur. */
	int push_key;
	int key_done;                /* the scan ran past the last key */
	int kcur_set;                /* 0: from the first key */
	size_t kcur_len;
	struct wire_mbatch_builder *mb;
	uint8_t peer_last_origin[STORE_ORIGIN_BYTES]; /* a lookup cache */
	uint64_t peer_last_hwm;
	int peer_last_set;
	uint8_t kcur[RUMOR_KEY_MAX]; /* last key examined */
};

/* ------------------------------------------------------------ helpers */

static uint64_t now_ms(const struct sync_session *ss)
{
	return ss->t.now_ms != NULL ? ss->t.now_ms(ss->t.arg) : 0;
}

static int writable(const struct sync_session *ss)
{
	return ss->t.writable == NULL || ss->t.writable(ss->t.arg);
}

/* Records the first error; the session stays failed (sync.h, 1). */
static int fail(struct sync_session *ss, int rv, struct err *err)
{
	assert(rv < 0);
	ss->failed = rv;
	ss->failure = *err;
	ss->failure.code = rv;
	return rv;
}

static int failed(const struct sync_session *ss, struct err *err)
{
	if (err != NULL)
		*err = ss->failure;
	return ss->failed;
}

static int proto(struct err *err, const char *what)
{
	return err_set(err, RUMOR_EPROTO, "sync: %s", what);
}

static int hwm_list_reserve(struct hwm_list *l, size_t n, struct err *err)
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
static int hwm_list_load(struct sync_session *ss, struct hwm_list *l,
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

static int hwm_cmp(const void *a, const void *b)
{
	const struct store_hwm *x = a, *y = b;

	return memcmp(x->origin, y->origin, STORE_ORIGIN_BYTES);
}

/* Copies a DIGEST's or DONE's HWMs into l, sorted by origin; duplicate
 * origins are a protocol error. O(n log n). */
static int hwm_list_from_wire(struct hwm_list *l, const struct wire_digest *d,
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
			return proto(err, "an origin appears twice in a "
				     "digest");
		}
	return 0;
}

/* The HWM of origin in a sorted list (0 when absent). */
static uint64_t hwm_list_find(const struct hwm_list *l, const uint8_t *origin)
{
	struct store_hwm key;
	const struct store_hwm *hit;

	if (l->n == 0)
		return 0;
	memcpy(key.origin, origin, STORE_ORIGIN_BYTES);
	hit = bsearch(&key, l->v, l->n, sizeof(*l->v), hwm_cmp);
	return hit != NULL ? hit->seq : 0;
}

/* The peer's HWM for origin: key-order streams ask for every meta, and
 * runs of one origin are the rule. */
static uint64_t peer_hwm(struct sync_session *ss, const uint8_t *origin)
{
	if (ss->peer_last_set &&
	    memcmp(ss->peer_last_origin, origin, STORE_ORIGIN_BYTES) == 0)
		return ss->peer_last_hwm;
	memcpy(ss->peer_last_origin, origin, STORE_ORIGIN_BYTES);
	ss->peer_last_hwm = hwm_list_find(&ss->peer, origin);
	ss->peer_last_set = 1;
	return ss->peer_last_hwm;
}

/* A wire view of l (pointers into l). */
static int wire_view(struct sync_session *ss, const struct hwm_list *l,
		     struct err *err)
{
	struct wire_hwm *w;
	size_t i;

	if (l->n > ss->whwms_cap) {
		w = realloc(ss->whwms, l->n * sizeof(*w));
		if (w == NULL)
			return err_set(err, RUMOR_ENOMEM,
				       "sync: out of memory");
		ss->whwms = w;
		ss->whwms_cap = l->n;
	}
	for (i = 0; i < l->n; i++) {
		ss->whwms[i].origin = l->v[i].origin;
		ss->whwms[i].hwm = l->v[i].seq;
	}
	return 0;
}

/* Sends the frame in ss->out and forgets it. */
static int send_out(struct sync_session *ss, struct err *err)
{
	int rv;

	assert(ss->out.len > 0 && ss->out.len <= SYNC_FRAME_MAX);
	rv = ss->t.send(ss->t.arg, ss->out.data, ss->out.len);
	if (rv != 0) {
		if (rv > 0)
			rv = RUMOR_EIO;
		wire_buf_reset(&ss->out);
		return err_set(err, rv, "sync: the transport refused a "
			       "frame (%d)", rv);
	}
	ss->st.frames_sent++;
	ss->st.wire_bytes_sent += ss->out.len;
	wire_buf_reset(&ss->out);
	return 0;
}

/* ------------------------------------------------------------ the round */

static void round_begin(struct sync_session *ss)
{
	assert(!ss->round_open);
	memset(&ss->st, 0, sizeof(ss->st));
	ss->st.started_ms = now_ms(ss);
	ss->round_open = 1;
	ss->pull_done = 0;
	ss->push_done = 0;
}

static void round_maybe_complete(struct sync_session *ss)
{
	if (!ss->round_open || !ss->pull_done || !ss->push_done)
		return;
	assert(!ss->pull_open && ss->push == PUSH_IDLE);
	ss->st.finished_ms = now_ms(ss);
	ss->round_open = 0;
	ss->rounds++;
	if (ss->cb.on_complete != NULL)
		ss->cb.on_complete(ss->cb.arg, &ss->st);
}

/* Sends our DIGEST: the start of our pull. */
static int pull_begin(struct sync_session *ss, struct err *err)
{
	int rv;

	assert(ss->round_open && !ss->pull_open && !ss->pull_done);
	rv = hwm_list_load(ss, &ss->self, NULL, err);
	if (rv != 0)
		return rv;
	rv = wire_view(ss, &ss->self, err);
	if (rv != 0)
		return rv;
	ss->pull_id = ss->next_exchange_id++;
	ss->st.exchange_id = ss->pull_id;
	wire_buf_reset(&ss->out);
	rv = wire_encode_digest(&ss->out, ss->pull_id, ss->whwms,
				ss->self.n, err);
	if (rv != 0)
		return rv;
	rv = send_out(ss, err);
	if (rv != 0)
		return rv;
	ss->pull_open = 1;
	return 0;
}

/* ------------------------------------------------------------ push */

static void push_release(struct sync_session *ss)
{
	if (ss->snap != NULL) {
		store_snapshot_free(ss->store, ss->snap);
		ss->snap = NULL;
	}
}

/* The peer's DIGEST: snapshot, and list what it lacks. */
static int push_begin(struct sync_session *ss, uint64_t exchange_id,
		      struct err *err)
{
	struct push_origin *po;
	uint64_t theirs;
	size_t i;
	int rv;

	assert(ss->push == PUSH_IDLE && ss->snap == NULL);
	ss->snap = store_snapshot_new(ss->store);
	if (ss->snap == NULL)
		return err_set(err, RUMOR_ENOMEM, "sync: no snapshot");
	rv = hwm_list_load(ss, &ss->snap_hwms, ss->snap, err);
	if (rv != 0)
		goto err_after_snapshot;
	if (ss->snap_hwms.n > ss->po_cap) {
		po = realloc(ss->po, ss->snap_hwms.n * sizeof(*po));
		if (po == NULL) {
			rv = err_set(err, RUMOR_ENOMEM, "sync: out of memory");
			goto err_after_snapshot;
		}
		ss->po = po;
		ss->po_cap = ss->snap_hwms.n;
	}
	ss->po_n = 0;
	for (i = 0; i < ss->snap_hwms.n; i++) {
		/* Even when our HWM is not above theirs: a cut stream may
		 * have left us log entries above our own HWM (see the top of
		 * this file). Scanning an origin with nothing to send costs
		 * one seek. */
		theirs = hwm_list_find(&ss->peer, ss->snap_hwms.v[i].origin);
		memcpy(ss->po[ss->po_n].origin, ss->snap_hwms.v[i].origin,
		       STORE_ORIGIN_BYTES);
		ss->po[ss->po_n].cursor = theirs;
		ss->po_n++;
	}
	ss->po_next = 0;
	switch (ss->cfg.order) {
	case SYNC_ORDER_LOG:
		ss->push_key = 0;
		break;
	case SYNC_ORDER_KEY:
		ss->push_key = 1;
		break;
	default: {
		struct store_stats st;

		store_get_stats(ss->store, &st);
		ss->push_key = sync_push_key_order(ss->snap_hwms.v,
						   ss->snap_hwms.n,
						   ss->peer.v, ss->peer.n,
						   st.log_entries);
		break;
	}
	}
	if (ss->push_key && ss->mb == NULL) {
		ss->mb = malloc(sizeof(*ss->mb));
		if (ss->mb == NULL) {
			rv = err_set(err, RUMOR_ENOMEM, "sync: out of memory");
			goto err_after_snapshot;
		}
	}
	ss->st.key_order = ss->push_key;
	ss->key_done = 0;
	ss->kcur_set = 0;
	ss->kcur_len = 0;
	ss->peer_last_set = 0;
	ss->push_id = exchange_id;
	ss->sent = 0;
	ss->acked = 0;
	ss->push = PUSH_STREAMING;
	return 0;

err_after_snapshot:
	push_release(ss);
	return rv;
}

/* State of one BATCH being filled by store_log_scan(). */
struct fill {
	struct sync_session *ss;
	struct wire_batch_builder *b;
	struct push_origin *o;
	size_t given;        /* entries the scan gave us */
	int full;            /* the batch took all it can */
	int rv;
	struct err *err;
};

static int fill_cb(void *arg, const struct rumor_version *v)
{
	struct fill *f = arg;
	struct wire_entry e;
	int rv;

	f->given++;
	wire_entry_from_version(v, &e);
	/* The first entry always goes in: it fits a frame (asserted at the
	 * top), whatever batch_bytes says. */
	if (wire_batch_count(f->b) > 0 &&
	    (wire_batch_count(f->b) >= WIRE_BATCH_MAX ||
	     wire_batch_bytes(f->b) + wire_entry_size(&e) >
	     f->ss->cfg.batch_bytes)) {
		f->full = 1;
		return 1;
	}
	rv = wire_batch_add(f->b, &e, f->err);
	if (rv != 0) {
		f->rv = rv;
		return 1;
	}
	f->o->cursor = v->seq;
	return 0;
}

/* Sends our DONE with the snapshot's HWMs; the snapshot is no longer
 * needed. */
static int push_done_send(struct sync_session *ss, struct err *err)
{
	int rv;

	rv = wire_view(ss, &ss->snap_hwms, err);
	if (rv != 0)
		return rv;
	wire_buf_reset(&ss->out);
	rv = wire_encode_done(&ss->out, ss->push_id, ss->whwms,
			      ss->snap_hwms.n, err);
	if (rv != 0)
		return rv;
	rv = send_out(ss, err);
	if (rv != 0)
		return rv;
	push_release(ss);
	ss->push = PUSH_DRAINING;
	if (ss->acked == ss->sent) {
		ss->push = PUSH_IDLE;
		ss->push_done = 1;
	}
	return 0;
}

/* Sends at most one BATCH of the log-order stream: 1 (go on) or a
 * negative code. */
static int push_step_log(struct sync_session *ss, struct err *err)
{
	struct wire_batch_builder b;
	struct push_origin *o;
	struct fill f;
	uint64_t last;
	size_t skipped;
	int rv, exhausted;

	for (skipped = 0; ss->po_next < ss->po_n; ss->po_next++) {
		/* Bounded work: many origins with nothing left to send are
		 * skipped over several calls. */
		if (skipped++ >= ss->cfg.scan_max)
			return 1;
		o = &ss->po[ss->po_next];
		wire_buf_reset(&ss->out);
		rv = wire_batch_begin(&b, &ss->out, ss->push_id, o->origin,
				      err);
		if (rv != 0)
			return rv;
		memset(&f, 0, sizeof(f));
		f.ss = ss;
		f.b = &b;
		f.o = o;
		f.err = err;
		exhausted = 0;
		/* Scan in bounded steps until the batch is full or the
		 * origin has no more entries; a batch is at most batch_bytes,
		 * so this is bounded work too. */
		for (;;) {
			f.given = 0;
			rv = store_log_scan(ss->store, ss->snap, o->origin,
					    o->cursor, ss->cfg.scan_max,
					    fill_cb, &f, &last, err);
			if (rv == 0)
				rv = f.rv;
			if (rv != 0) {
				wire_batch_end(&b);
				wire_buf_reset(&ss->out);
				return rv;
			}
			if (f.full)
				break;
			if (f.given < ss->cfg.scan_max) {
				exhausted = 1;
				break;
			}
		}
		wire_batch_end(&b);
		if (wire_batch_count(&b) == 0) {
			/* Every entry of this origin above the peer's HWM
			 * was superseded: nothing to send for it. */
			wire_buf_reset(&ss->out);
			continue;
		}
		ss->sent += wire_batch_payload(&b);
		ss->st.entries_sent += wire_batch_count(&b);
		ss->st.payload_sent += wire_batch_payload(&b);
		rv = send_out(ss, err);
		if (rv != 0)
			return rv;
		if (exhausted)
			ss->po_next++;
		return 1;
	}
	/* Only skipped origins were left: DONE next time. */
	return 1;
}

/* State of one MBATCH being filled by store_meta_scan(). */
struct kfill {
	struct sync_session *ss;
	size_t skipped;      /* metas the peer has, this frame */
	int full;
	int rv;
	struct err *err;
};

static int kfill_cb(void *arg, const struct rumor_version *v)
{
	struct kfill *f = arg;
	struct sync_session *ss = f->ss;
	struct wire_mbatch_builder *mb = ss->mb;
	struct wire_entry e;
	int rv;

	if (v->seq > peer_hwm(ss, v->origin)) {
		e.seq = v->seq;
		e.clock = v->clock;
		e.wall_ms = v->wall_ms;
		e.deleted = v->deleted ? 1 : 0;
		e.key = v->key;
		e.key_len = v->key_len;
		e.value = v->deleted ? NULL : v->value;
		e.value_len = v->deleted ? 0 : v->value_len;
		e.origin_index = 0;
		/* As in fill_cb: the first entry always goes in. */
		if (wire_mbatch_count(mb) > 0 &&
		    (wire_mbatch_count(mb) >= WIRE_BATCH_MAX ||
		     !wire_mbatch_has_origin_room(mb, v->origin) ||
		     wire_mbatch_bytes(mb) +
		     wire_mbatch_entry_size(mb, v->origin, &e) >
		     ss->cfg.batch_bytes)) {
			f->full = 1;
			return 1;
		}
		rv = wire_mbatch_add(mb, v->origin, &e, f->err);
		if (rv != 0) {
			f->rv = rv;
			return 1;
		}
	} else {
		f->skipped++;
	}
	assert(v->key_len <= sizeof(ss->kcur));
	memcpy(ss->kcur, v->key, v->key_len);
	ss->kcur_len = v->key_len;
	ss->kcur_set = 1;
	return f->skipped >= SYNC_SKIP_MAX;
}

/* Sends at most one MBATCH of the key-order stream: 1 (go on) or a
 * negative code. A frame ends when full, when the keyspace ends, or
 * after SYNC_SKIP_MAX metas the peer has (then perhaps with no frame). */
static int push_step_key(struct sync_session *ss, struct err *err)
{
	struct wire_mbatch_builder *mb = ss->mb;
	struct kfill f;
	size_t given;
	int rv;

	wire_buf_reset(&ss->out);
	rv = wire_mbatch_begin(mb, &ss->out, ss->push_id, err);
	if (rv != 0)
		return rv;
	memset(&f, 0, sizeof(f));
	f.ss = ss;
	f.err = err;
	for (;;) {
		rv = store_meta_scan(ss->store, ss->snap,
				     ss->kcur_set ? ss->kcur : NULL,
				     ss->kcur_len, ss->cfg.scan_max, kfill_cb,
				     &f, &given, err);
		if (rv == 0)
			rv = f.rv;
		if (rv != 0) {
			wire_mbatch_cancel(mb);
			wire_buf_reset(&ss->out);
			return rv;
		}
		if (f.full || f.skipped >= SYNC_SKIP_MAX)
			break;
		if (given < ss->cfg.scan_max) {
			ss->key_done = 1;
			break;
		}
	}
	if (wire_mbatch_count(mb) == 0) {
		wire_mbatch_cancel(mb);
		wire_buf_reset(&ss->out);
		return 1;
	}
	wire_mbatch_end(mb);
	ss->sent += wire_mbatch_payload(mb);
	ss->st.entries_sent += wire_mbatch_count(mb);
	ss->st.payload_sent += wire_mbatch_payload(mb);
	return send_out(ss, err);
}

/* Nothing of the stream is left to send but DONE. */
static int push_exhausted(const struct sync_session *ss)
{
	return ss->push_key ? ss->key_done : ss->po_next == ss->po_n;
}

/* Sends at most one frame of the stream. Returns 1 when a frame went or
 * work was done, 0 when blocked or nothing is left, or a negative code. */
static int push_step(struct sync_session *ss, struct err *err)
{
	int rv;

	if (ss->push != PUSH_STREAMING || !writable(ss))
		return 0;
	if (push_exhausted(ss)) {
		rv = push_done_send(ss, err);
		return rv != 0 ? rv : 1;
	}
	if (ss->sent - ss->acked >= ss->cfg.credit_bytes)
		return 0;
	if (ss->push_key) {
		rv = push_step_key(ss, err);
		return rv != 0 ? rv : 1;
	}
	return push_step_log(ss, err);
}

static int pump(struct sync_session *ss, struct err *err)
{
	unsigned i;
	int rv;

	for (i = 0; i < ss->cfg.pump_frames; i++) {
		rv = push_step(ss, err);
		if (rv < 0)
			return rv;
		if (rv == 0)
			break;
	}
	round_maybe_complete(ss);
	return 0;
}

/* ------------------------------------------------------------ receiving */

static int on_digest(struct sync_session *ss, const struct wire_digest *d,
		     struct err *err)
{
	int rv;

	if (ss->push != PUSH_IDLE || (ss->round_open && ss->push_done))
		return proto(err, "DIGEST while our answer to the previous "
			     "one is still open");
	rv = hwm_list_from_wire(&ss->peer, d, err);
	if (rv != 0)
		return rv;
	ss->have_peer = 1;
	if (ss->cb.on_peer_digest != NULL)
		ss->cb.on_peer_digest(ss->cb.arg, ss->peer.v, ss->peer.n);
	/* A peer may start a round alone: answer with our DIGEST. */
	if (!ss->pull_open && !ss->pull_done) {
		rv = pull_begin(ss, err);
		if (rv != 0)
			return rv;
	}
	rv = push_begin(ss, d->exchange_id, err);
	if (rv != 0)
		return rv;
	return pump(ss, err);
}

static int reserve_versions(struct sync_session *ss, size_t n,
			    struct err *err)
{
	struct rumor_version *vs;
	int *outcomes;
	size_t cap;

	if (n <= ss->vs_cap)
		return 0;
	cap = ss->vs_cap ? ss->vs_cap : 64;
	while (cap < n)
		cap *= 2;
	vs = realloc(ss->vs, cap * sizeof(*vs));
	if (vs == NULL)
		return err_set(err, RUMOR_ENOMEM, "sync: out of memory");
	ss->vs = vs;
	outcomes = realloc(ss->outcomes, cap * sizeof(*outcomes));
	if (outcomes == NULL)
		return err_set(err, RUMOR_ENOMEM, "sync: out of memory");
	ss->outcomes = outcomes;
	ss->vs_cap = cap;
	return 0;
}

/* Applies the n versions in ss->vs (checked) in one batch, counts them
 * and ACKs payload bytes. */
static int apply_and_ack(struct sync_session *ss, size_t n, uint64_t payload,
			 struct err *err)
{
	uint64_t applied = 0;
	size_t i;
	int rv;

	rv = store_apply_batch(ss->store, ss->vs, n, NULL, 0, ss->outcomes,
			       err);
	if (rv == RUMOR_EINVAL || rv == RUMOR_ETOOBIG) {
		err_wrap(err, "sync: peer sent an invalid version");
		err->code = RUMOR_EPROTO;
		return RUMOR_EPROTO;
	}
	if (rv != 0)
		return rv;
	for (i = 0; i < n; i++) {
		switch (ss->outcomes[i]) {
		case STORE_APPLIED:
			ss->st.entries_applied++;
			applied++;
			break;
		case STORE_STALE:
			ss->st.entries_stale++;
			break;
		default:
			ss->st.entries_identical++;
			break;
		}
	}
	ss->st.entries_received += n;
	ss->st.payload_received += payload;
	if (applied > 0 && ss->cb.on_applied != NULL)
		ss->cb.on_applied(ss->cb.arg, applied);
	/* ACK after the batch is durable in the store: the credit it frees
	 * is buffer space the sender may fill again. */
	wire_buf_reset(&ss->out);
	rv = wire_encode_ack(&ss->out, ss->pull_id, payload, err);
	if (rv != 0)
		return rv;
	return send_out(ss, err);
}

static int on_batch(struct sync_session *ss, const struct wire_batch *b,
		    struct err *err)
{
	uint64_t prev = 0;
	size_t i;
	int rv;

	if (!ss->pull_open || b->exchange_id != ss->pull_id)
		return proto(err, "BATCH for no open exchange");
	if (b->n == 0)
		return proto(err, "empty BATCH");
	rv = reserve_versions(ss, b->n, err);
	if (rv != 0)
		return rv;
	/* Check everything before anything is applied. */
	for (i = 0; i < b->n; i++) {
		const struct wire_entry *e = &b->entries[i];

		if (e->seq <= prev)
			return proto(err, "BATCH entries not in increasing "
				     "seq order");
		if (e->clock == 0)
			return proto(err, "BATCH entry with clock 0");
		prev = e->seq;
		wire_entry_to_version(b->origin, e, &ss->vs[i]);
	}
	return apply_and_ack(ss, b->n, b->payload_bytes, err);
}

static int on_mbatch(struct sync_session *ss, const struct wire_mbatch *b,
		     struct err *err)
{
	size_t i;
	int rv;

	if (!ss->pull_open || b->exchange_id != ss->pull_id)
		return proto(err, "MBATCH for no open exchange");
	if (b->n == 0)
		return proto(err, "empty MBATCH");
	rv = reserve_versions(ss, b->n, err);
	if (rv != 0)
		return rv;
	/* Check everything before anything is applied. The decoder checked
	 * the origin indexes. */
	for (i = 0; i < b->n; i++) {
		const struct wire_entry *e = &b->entries[i];

		assert(e->origin_index < b->n_origins);
		if (e->seq == 0)
			return proto(err, "MBATCH entry with seq 0");
		if (e->clock == 0)
			return proto(err, "MBATCH entry with clock 0");
		if (i > 0 && bytes_cmp(b->entries[i - 1].key,
				       b->entries[i - 1].key_len, e->key,
				       e->key_len) >= 0)
			return proto(err, "MBATCH entries not in increasing "
				     "key order");
		wire_entry_to_version(b->origins[e->origin_index], e,
				      &ss->vs[i]);
	}
	return apply_and_ack(ss, b->n, b->payload_bytes, err);
}

static int on_done(struct sync_session *ss, const struct wire_digest *d,
		   struct err *err)
{
	int rv;

	if (!ss->pull_open || d->exchange_id != ss->pull_id)
		return proto(err, "DONE for no open exchange");
	rv = hwm_list_from_wire(&ss->raise, d, err);
	if (rv != 0)
		return rv;
	/* The whole stream is in: now, and only now, the HWMs may claim it
	 * (see the top of this file). */
	rv = store_apply_batch(ss->store, NULL, 0, ss->raise.v, ss->raise.n,
			       NULL, err);
	if (rv != 0)
		return rv;
	ss->pull_open = 0;
	ss->pull_done = 1;
	round_maybe_complete(ss);
	return 0;
}

static int on_ack(struct sync_session *ss, const struct wire_ack *a,
		  struct err *err)
{
	if (ss->push == PUSH_IDLE || a->exchange_id != ss->push_id)
		return proto(err, "ACK for no open exchange");
	if (a->bytes > ss->sent - ss->acked)
		return proto(err, "ACK for more bytes than were sent");
	ss->acked += a->bytes;
	if (ss->push == PUSH_DRAINING && ss->acked == ss->sent) {
		ss->push = PUSH_IDLE;
		ss->push_done = 1;
	}
	return pump(ss, err);
}

/* ------------------------------------------------------------ public */

int sync_session_new(struct sync_session **out, struct store *s,
		     const struct sync_transport *t,
		     const struct sync_config *cfg,
		     const struct sync_callbacks *cb, struct err *err)
{
	struct sync_session *ss;

	if (out == NULL || s == NULL || t == NULL || t->send == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "sync_session_new: NULL argument");
	if (cfg != NULL && cfg->batch_bytes > SYNC_FRAME_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "sync_session_new: batch_bytes %zu above the "
			       "frame bound %u", cfg->batch_bytes,
			       SYNC_FRAME_MAX);
	if (cfg != NULL && (cfg->order < SYNC_ORDER_AUTO ||
			    cfg->order > SYNC_ORDER_KEY))
		return err_set(err, RUMOR_EINVAL,
			       "sync_session_new: order %d unknown",
			       (int)cfg->order);
	ss = calloc(1, sizeof(*ss));
	if (ss == NULL)
		return err_set(err, RUMOR_ENOMEM, "sync: out of memory");
	ss->store = s;
	ss->t = *t;
	if (cb != NULL)
		ss->cb = *cb;
	if (cfg != NULL)
		ss->cfg = *cfg;
	if (ss->cfg.batch_bytes == 0)
		ss->cfg.batch_bytes = SYNC_BATCH_BYTES;
	if (ss->cfg.credit_bytes == 0)
		ss->cfg.credit_bytes = SYNC_CREDIT_BYTES;
	if (ss->cfg.scan_max == 0)
		ss->cfg.scan_max = SYNC_SCAN_MAX;
	if (ss->cfg.pump_frames == 0)
		ss->cfg.pump_frames = SYNC_PUMP_FRAMES;
	ss->next_exchange_id = ss->cfg.first_exchange_id ?
			       ss->cfg.first_exchange_id : 1;
	wire_decoder_init(&ss->dec);
	wire_buf_init(&ss->out);
	*out = ss;
	return 0;
}

void sync_session_free(struct sync_session *ss)
{
	if (ss == NULL)
		return;
	push_release(ss);
	wire_decoder_free(&ss->dec);
	wire_buf_free(&ss->out);
	free(ss->vs);
	free(ss->outcomes);
	free(ss->raise.v);
	free(ss->self.v);
	free(ss->whwms);
	free(ss->snap_hwms.v);
	free(ss->po);
	free(ss->peer.v);
	free(ss->mb);
	free(ss);
}

int sync_session_start(struct sync_session *ss, struct err *err)
{
	struct err local;
	int rv;

	if (err == NULL)
		err = &local;
	if (ss->failed)
		return failed(ss, err);
	if (ss->round_open)
		return 0;
	round_begin(ss);
	rv = pull_begin(ss, err);
	if (rv != 0)
		return fail(ss, rv, err);
	return 0;
}

int sync_is_sync_type(int type)
{
	return type == WIRE_DIGEST || type == WIRE_BATCH ||
	       type == WIRE_MBATCH || type == WIRE_ACK || type == WIRE_DONE;
}

int sync_push_key_order(const struct store_hwm *ours, size_t n_ours,
			const struct store_hwm *theirs, size_t n_theirs,
			uint64_t log_entries)
{
	uint64_t lack = 0, t;
	size_t i, j = 0;
	int c;

	if (log_entries == 0)
		return 0;       /* nothing to send: the log order is free */
	if (n_theirs == 0)
		return 1;
	/* Both sorted by origin: one merge walk. */
	for (i = 0; i < n_ours && lack < log_entries; i++) {
		t = 0;
		while (j < n_theirs) {
			c = memcmp(theirs[j].origin, ours[i].origin,
				   STORE_ORIGIN_BYTES);
			if (c > 0)
				break;
			j++;
			if (c == 0) {
				t = theirs[j - 1].seq;
				break;
			}
		}
		if (ours[i].seq > t)
			lack += ours[i].seq - t;
	}
	if (lack > log_entries)
		lack = log_entries;
	return lack >= log_entries - log_entries / 2;
}

/* Counts and handles one decoded message of len wire bytes. */
static int receive(struct sync_session *ss, const struct wire_msg *m,
		   size_t len, struct err *err)
{
	/* A peer DIGEST may open the round: open it before counting, so its
	 * figures include the DIGEST. */
	if (m->type == WIRE_DIGEST && !ss->round_open &&
	    ss->push == PUSH_IDLE)
		round_begin(ss);
	ss->st.frames_received++;
	ss->st.wire_bytes_received += len;
	switch (m->type) {
	case WIRE_DIGEST:
		return on_digest(ss, &m->u.digest, err);
	case WIRE_BATCH:
		return on_batch(ss, &m->u.batch, err);
	case WIRE_MBATCH:
		return on_mbatch(ss, &m->u.mbatch, err);
	case WIRE_ACK:
		return on_ack(ss, &m->u.ack, err);
	case WIRE_DONE:
		return on_done(ss, &m->u.digest, err);
	default:
		return err_set(err, RUMOR_EPROTO, "sync: %s is not a sync "
			       "message", wire_type_name(m->type));
	}
}

int sync_session_receive_msg(struct sync_session *ss,
			     const struct wire_msg *m, size_t frame_len,
			     struct err *err)
{
	struct err local;
	int rv;

	if (err == NULL)
		err = &local;
	if (ss->failed)
		return failed(ss, err);
	rv = receive(ss, m, frame_len, err);
	if (rv != 0)
		return fail(ss, rv, err);
	return 0;
}

int sync_session_receive(struct sync_session *ss, const uint8_t *frame,
			 size_t len, struct err *err)
{
	struct wire_msg m;
	struct err local;
	int rv;

	if (err == NULL)
		err = &local;
	if (ss->failed)
		return failed(ss, err);
	rv = wire_decode(&ss->dec, frame, len, &m, err);
	if (rv == 0)
		rv = receive(ss, &m, len, err);
	if (rv != 0)
		return fail(ss, rv, err);
	return 0;
}

int sync_session_pump(struct sync_session *ss, struct err *err)
{
	struct err local;
	int rv;

	if (err == NULL)
		err = &local;
	if (ss->failed)
		return failed(ss, err);
	rv = pump(ss, err);
	if (rv != 0)
		return fail(ss, rv, err);
	return 0;
}

int sync_session_pending(const struct sync_session *ss)
{
	if (ss->failed || ss->push != PUSH_STREAMING || !writable(ss))
		return 0;
	return push_exhausted(ss) ||
	       ss->sent - ss->acked < ss->cfg.credit_bytes;
}

int sync_session_busy(const struct sync_session *ss)
{
	return ss->round_open;
}

uint64_t sync_session_rounds(const struct sync_session *ss)
{
	return ss->rounds;
}

const struct store_hwm *sync_session_peer_hwms(const struct sync_session *ss,
					       size_t *n)
{
	if (!ss->have_peer) {
		*n = 0;
		return NULL;
	}
	*n = ss->peer.n;
	return ss->peer.v;
}

uint64_t sync_session_unacked(const struct sync_session *ss)
{
	return ss->sent - ss->acked;
}

const struct sync_round_stats *
sync_session_stats(const struct sync_session *ss)
{
	return &ss->st;
}
