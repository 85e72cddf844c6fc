/* SPDX-License-Identifier: MIT */
/*
 * push: our stream to the peer, from a snapshot taken at its DIGEST: in
 * log order (BATCH per origin) or, for a peer far behind, in key order
 * (MBATCH), then DONE with the snapshot's HWMs (see sync.c for why).
 */
#include "sync/sync_int.h"

/* The peer's HWM for origin: key-order streams ask for every meta, and
 * runs of one origin are the rule. */
uint64_t sync_peer_hwm(struct sync_session *ss, const uint8_t *origin)
{
	if (ss->peer_last_set &&
	    memcmp(ss->peer_last_origin, origin, STORE_ORIGIN_BYTES) == 0)
		return ss->peer_last_hwm;
	memcpy(ss->peer_last_origin, origin, STORE_ORIGIN_BYTES);
	ss->peer_last_hwm = hwm_list_find(&ss->peer, origin);
	ss->peer_last_set = 1;
	return ss->peer_last_hwm;
}


/* ------------------------------------------------------------ push */

void sync_push_release(struct sync_session *ss)
{
	if (ss->snap != NULL) {
		store_snapshot_free(ss->store, ss->snap);
		ss->snap = NULL;
	}
}

/* The peer's DIGEST: snapshot, and list what it lacks. */
int sync_push_begin(struct sync_session *ss, uint64_t exchange_id,
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
	ss->kprefix = 0;
	/* Straight to the peer's first prefix. */
	if (ss->push_key && ss->peers.n > 0)
		filter_key_seek(ss);
	ss->peer_last_set = 0;
	ss->push_id = exchange_id;
	ss->sent = 0;
	ss->acked = 0;
	ss->push = PUSH_STREAMING;
	return 0;

err_after_snapshot:
	sync_push_release(ss);
	return rv;
}

/* State of one BATCH being filled by store_log_scan(). */
struct fill {
	struct sync_session *ss;
	struct wire_batch_builder *b;
	struct push_origin *o;
	size_t given;        /* entries the scan gave us */
	size_t filtered;     /* of those, outside the peer's R */
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
	/* Not in the peer's R: passed over (read cost only). */
	if (!filter_peer_takes(f->ss, v->key, v->key_len)) {
		f->o->cursor = v->seq;
		f->filtered++;
		return f->filtered >= SYNC_SKIP_MAX;
	}
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

/* Sends our DONE with the snapshot's HWMs, each lowered to our DIGEST's
 * of the round; the snapshot is no longer needed. */
static int push_done_send(struct sync_session *ss, struct err *err)
{
	int rv;

	/* Never above our own DIGEST: the peer refuses more (claims.c). */
	claims_done_out(ss);
	/* Clamped for a receiver whose R is not within ours (filter.c). */
	filter_done_out(ss);
	rv = sync_wire_view(ss, &ss->snap_hwms, err);
	if (rv != 0)
		return rv;
	wire_buf_reset(&ss->out);
	rv = wire_encode_done(&ss->out, ss->push_id, ss->whwms,
			      ss->snap_hwms.n, err);
	if (rv != 0)
		return rv;
	rv = sync_send_out(ss, err);
	if (rv != 0)
		return rv;
	sync_push_release(ss);
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
			if (f.full || f.filtered >= SYNC_SKIP_MAX)
				break;
			if (f.given < ss->cfg.scan_max) {
				exhausted = 1;
				break;
			}
		}
		wire_batch_end(&b);
		if (wire_batch_count(&b) == 0 && !exhausted && !f.full)
			return 1;       /* bounded: go on next time */
		if (wire_batch_count(&b) == 0) {
			/* Every entry of this origin above the peer's HWM
			 * was superseded (or is outside its R): nothing to
			 * send for it. */
			wire_buf_reset(&ss->out);
			continue;
		}
		ss->sent += wire_batch_payload(&b);
		ss->st.entries_sent += wire_batch_count(&b);
		ss->st.payload_sent += wire_batch_payload(&b);
		rv = sync_send_out(ss, err);
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
	int reseek;          /* a key outside the peer's R stopped it */
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

	if (!filter_peer_takes(ss, v->key, v->key_len)) {
		/* Past the peer's prefix: seek to its next (filter.c). */
		f->reseek = 1;
		f->skipped++;
	} else if (v->seq > sync_peer_hwm(ss, v->origin)) {
		e.skip = 0;
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
	return f->reseek || f->skipped >= SYNC_SKIP_MAX;
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
		if (f.reseek) {
			f.reseek = 0;
			filter_key_seek(ss);
			if (ss->key_done || f.full ||
			    f.skipped >= SYNC_SKIP_MAX)
				break;
			continue;
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
	return sync_send_out(ss, err);
}

/* Nothing of the stream is left to send but DONE. */
int sync_push_exhausted(const struct sync_session *ss)
{
	return ss->push_key ? ss->key_done : ss->po_next == ss->po_n;
}

/* Sends at most one frame of the stream. Returns 1 when a frame went or
 * work was done, 0 when blocked or nothing is left, or a negative code. */
static int push_step(struct sync_session *ss, struct err *err)
{
	int rv;

	if (ss->push != PUSH_STREAMING || !sync_writable(ss))
		return 0;
	if (sync_push_exhausted(ss)) {
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

int sync_pump(struct sync_session *ss, struct err *err)
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
	sync_round_maybe_complete(ss);
	return 0;
}

