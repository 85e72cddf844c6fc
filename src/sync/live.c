/* SPDX-License-Identifier: MIT */
/*
 * live: the live stream of one session (DESIGN 4.5): each change pushed
 * at once after the first complete round, gap-free HWM raises, and
 * Plumtree-style duplicate suppression per origin.
 *
 * Sending (sync_live_offer, sync_live_flush):
 *  - Offers come from the node for every version it applies, local or
 *    received from another peer. An offer is skipped when the peer is
 *    the version's origin or its last DIGEST holds the seq; it becomes an
 *    IHAVE (origin, highest seq) when the peer pruned the origin; else it
 *    joins the pending LIVE frame (an MBATCH with exchange id 0, entries
 *    in apply order, any origins, a key possibly twice).
 *  - IHAVEs are not urgent (they only serve repair): the node sends them
 *    every SYNC_LIVE_LAZY_MS (sync_live_flush_lazy), one frame per peer
 *    with every origin announced since, so their cost is bounded by time,
 *    not by writes (per write, a full mesh of n would carry n^2 of them).
 *  - The pending frame goes when no live frame is in flight (sent, not
 *    ACKed) and the transport is writable: so entries coalesce only while
 *    a frame is in flight, with no delay otherwise. A pending frame that
 *    reaches the frame bound goes too if SYNC_LIVE_CREDIT allows; else its
 *    entries are dropped and the node is asked for a round (the round,
 *    from a later snapshot, carries them).
 *  - Offers before live is ready (the peer lacks the capability, or no
 *    round completed yet on this session) are not sent; the first round's
 *    completion asks for another round, which covers them.
 *
 * Receiving (live_on_frame): a LIVE frame is checked whole (seq and clock
 * >= 1, the claims of claims.c), then applied in ONE store_apply_batch
 * with the HWM raises it earns: in frame order, an accepted entry of
 * origin O raises HWM[O] to its seq only when its seq is HWM[O] + 1
 * (HWM[O] as raised by the frame's earlier entries). Every entry at or
 * below HWM[O] is claimed already; every entry above HWM[O] + 1 leaves
 * a gap that only a DONE may close. So an HWM never claims what the node
 * lacks, whatever the order in which frames of several connections come,
 * wherever a stream is cut (DESIGN 4.4; sync.pml models it). Then ACK 0.
 *
 * Duplicates (Plumtree, Leitão et al. 2007; SSB's EBT per feed): a live
 * entry that is already held (STORE_IDENTICAL) came by a second path:
 * its sender gets PRUNE(origin) once (unless the sender is the origin)
 * and from then on sends that origin lazily. An IHAVE for an entry we lack starts a graft timer; if
 * the entry has not come when it fires (sync_live_tick), we send
 * GRAFT(origin), which makes the origin eager again at the peer, and ask
 * the node for a round with it, which repairs the loss. Paced rounds
 * stay the backstop.
 */
#include "sync/sync_int.h"

/* Live payload in flight to one peer, beyond which a full frame is not
 * sent but dropped (a round repairs it). */
#define SYNC_LIVE_CREDIT (2u * 1024u * 1024u)
/* Origins tracked per session in each of the live sets (lazy, ihave,
 * pruned, missing): a peer cannot grow them without bound. Past it, an
 * origin stays eager (no prune) and an IHAVE is not tracked. */
#define SYNC_LIVE_ORIGINS_MAX 1024u
/* The pending frame's buffer kept between frames. */
#define SYNC_LIVE_KEEP_BYTES (64u * 1024u)

static void want_round(struct sync_session *ss)
{
	if (ss->cb.on_want_round != NULL)
		ss->cb.on_want_round(ss->cb.arg);
}

int sync_live_enable(struct sync_session *ss, struct err *err)
{
	if (ss->lmb == NULL) {
		ss->lmb = calloc(1, sizeof(*ss->lmb));
		if (ss->lmb == NULL)
			return err_set(err, RUMOR_ENOMEM,
				       "sync: out of memory");
	}
	ss->live_peer = 1;
	return 0;
}

int sync_live_ready(const struct sync_session *ss)
{
	return ss->live_peer && ss->rounds > 0 && !ss->failed;
}

const struct sync_live_stats *sync_live_stats(const struct sync_session *ss)
{
	return &ss->ls;
}

void live_release(struct sync_session *ss)
{
	if (ss->lmb != NULL && ss->lmb->open)
		wire_mbatch_cancel(ss->lmb);
	free(ss->lmb);
	ss->lmb = NULL;
	wire_buf_free(&ss->live_out);
	free(ss->lazy.v);
	free(ss->ihave.v);
	free(ss->pruned.v);
	free(ss->missing.v);
	free(ss->miss_ms);
}

/* ------------------------------------------------------------ sending */

static int in_flight(const struct sync_session *ss)
{
	return ss->live_sent != ss->live_acked || ss->live_frames_out > 0;
}

/* Sends the pending frame (one must be open with entries). */
static int send_frame(struct sync_session *ss, struct err *err)
{
	struct wire_mbatch_builder *b = ss->lmb;
	uint64_t payload = wire_mbatch_payload(b);
	size_t n = wire_mbatch_count(b);
	int rv;

	assert(b->open && n > 0);
	wire_mbatch_end(b);
	rv = ss->t.send(ss->t.arg, ss->live_out.data, ss->live_out.len);
	ss->st.wire_bytes_sent += ss->live_out.len;
	/* A burst grew the buffer to a frame: give it back, so that an idle
	 * connection holds little (256 connections x 256 KiB otherwise). */
	if (ss->live_out.cap > SYNC_LIVE_KEEP_BYTES)
		wire_buf_free(&ss->live_out);
	wire_buf_reset(&ss->live_out);
	if (rv != 0)
		return err_set(err, rv > 0 ? RUMOR_EIO : rv, "sync: the "
			       "transport refused a live frame (%d)", rv);
	ss->live_sent += payload;
	ss->live_frames_out++;
	ss->ls.entries_sent += n;
	ss->ls.frames_sent++;
	return 0;
}

static int send_ihave(struct sync_session *ss, struct err *err)
{
	int rv;

	if (ss->ihave.n == 0)
		return 0;
	rv = sync_wire_view(ss, &ss->ihave, err);
	if (rv != 0)
		return rv;
	wire_buf_reset(&ss->out);
	rv = wire_encode_lazy(&ss->out, WIRE_IHAVE, ss->whwms, ss->ihave.n,
			      err);
	if (rv != 0)
		return rv;
	ss->ls.lazy_sent += ss->ihave.n;
	ss->ihave.n = 0;
	return sync_send_out(ss, err);
}

int sync_live_flush(struct sync_session *ss, struct err *err)
{
	struct err local;
	int rv;

	if (err == NULL)
		err = &local;
	if (ss->failed)
		return sync_failed(ss, err);
	if (!ss->live_peer || in_flight(ss) || !sync_writable(ss))
		return 0;
	if (ss->lmb->open && wire_mbatch_count(ss->lmb) > 0) {
		rv = send_frame(ss, err);
		if (rv != 0)
			return sync_fail(ss, rv, err);
	}
	return 0;
}

int sync_live_lazy_pending(const struct sync_session *ss)
{
	return !ss->failed && ss->ihave.n > 0;
}

int sync_live_flush_lazy(struct sync_session *ss, struct err *err)
{
	struct err local;
	int rv;

	if (err == NULL)
		err = &local;
	if (ss->failed)
		return sync_failed(ss, err);
	if (!sync_writable(ss))
		return 0;
	rv = send_ihave(ss, err);
	if (rv != 0)
		return sync_fail(ss, rv, err);
	return 0;
}

/* The pending frame cannot take the next entry: send it now if the
 * credit allows (the stream is busy: pipeline), else drop it. */
static int frame_full(struct sync_session *ss, struct err *err)
{
	struct wire_mbatch_builder *b = ss->lmb;

	if (ss->live_sent - ss->live_acked + wire_mbatch_payload(b) <=
	    SYNC_LIVE_CREDIT && sync_writable(ss))
		return send_frame(ss, err);
	ss->ls.lost += wire_mbatch_count(b);
	wire_mbatch_cancel(b);
	want_round(ss);
	return 0;
}

static int offer(struct sync_session *ss, const struct rumor_version *v,
		 struct err *err)
{
	struct wire_mbatch_builder *b = ss->lmb;
	struct wire_entry e;
	int rv;

	if (ss->have_peer_origin &&
	    memcmp(v->origin, ss->peer_origin, STORE_ORIGIN_BYTES) == 0)
		return 0;
	if (sync_peer_hwm(ss, v->origin) >= v->seq)
		return 0;
	if (!filter_peer_takes(ss, v->key, v->key_len)) {
		/* Not in the peer's R: a SKIP marker keeps its HWM moving
		 * live (filter.c); only a peer that knows them gets one.
		 * Sent eagerly even for a pruned origin: it is a few bytes,
		 * and an IHAVE would make the peer graft for nothing. */
		if (!ss->peer_filters)
			return 0;
		memset(&e, 0, sizeof(e));
		e.seq = v->seq;
		e.skip = 1;
		ss->ls.skips_sent++;
	} else if (ss->lazy.n > 0 && hwm_list_has(&ss->lazy, v->origin)) {
		/* The set is bounded by lazy's: it cannot be full here. */
		(void)hwm_list_raise(&ss->ihave, v->origin, v->seq,
				     SYNC_LIVE_ORIGINS_MAX);
		return 0;
	} else {
		wire_entry_from_version(v, &e);
	}
	if (b->open && wire_mbatch_count(b) > 0 &&
	    (wire_mbatch_count(b) >= WIRE_BATCH_MAX ||
	     !wire_mbatch_has_origin_room(b, v->origin) ||
	     wire_mbatch_bytes(b) + wire_mbatch_entry_size(b, v->origin, &e) >
	     ss->cfg.batch_bytes)) {
		rv = frame_full(ss, err);
		if (rv != 0)
			return rv;
	}
	if (!b->open) {
		wire_buf_reset(&ss->live_out);
		rv = wire_mbatch_begin(b, &ss->live_out, WIRE_LIVE_EXCHANGE,
				       err);
		if (rv != 0)
			return rv;
	}
	return wire_mbatch_add(b, v->origin, &e, err);
}

int sync_live_offer(struct sync_session *ss, const struct rumor_version *v,
		    struct err *err)
{
	struct err local;
	int rv;

	if (err == NULL)
		err = &local;
	if (ss->failed)
		return sync_failed(ss, err);
	if (!ss->live_peer)
		return 0;
	if (ss->rounds == 0) {
		ss->live_missed = 1;
		return 0;
	}
	rv = offer(ss, v, err);
	if (rv != 0)
		return sync_fail(ss, rv, err);
	return 0;
}

/* ------------------------------------------------------------ receiving */

/* The frame's HWM raises (see the top of this file), one per origin of
 * its table, into ss->raise. */
static int live_raises(struct sync_session *ss, const struct wire_mbatch *b,
		       const unsigned char *accepted, struct err *err)
{
	uint64_t h[WIRE_MBATCH_ORIGINS_MAX];
	unsigned char up[WIRE_MBATCH_ORIGINS_MAX];
	size_t i, k = 0;
	int rv;

	for (i = 0; i < b->n_origins; i++) {
		h[i] = store_hwm(ss->store, b->origins[i]);
		up[i] = 0;
	}
	for (i = 0; i < b->n; i++) {
		size_t o = b->entries[i].origin_index;

		if (accepted[i] && b->entries[i].seq == h[o] + 1) {
			h[o] = b->entries[i].seq;
			up[o] = 1;
		}
	}
	rv = hwm_list_reserve(&ss->raise, b->n_origins, err);
	if (rv != 0)
		return rv;
	for (i = 0; i < b->n_origins; i++) {
		if (!up[i])
			continue;
		memcpy(ss->raise.v[k].origin, b->origins[i],
		       STORE_ORIGIN_BYTES);
		ss->raise.v[k].seq = h[i];
		k++;
	}
	ss->raise.n = k;
	ss->ls.raised += k;
	return 0;
}

static int send_lazy(struct sync_session *ss, enum wire_type type,
		     const uint8_t *origin, uint64_t seq, struct err *err)
{
	struct wire_hwm w = { origin, seq };
	int rv;

	wire_buf_reset(&ss->out);
	rv = wire_encode_lazy(&ss->out, type, &w, 1, err);
	if (rv != 0)
		return rv;
	return sync_send_out(ss, err);
}

/* A duplicate of origin came from this peer: prune it, once. The origin
 * itself is never pruned for its own entries: it is the root of their
 * tree, one hop from us, so a full mesh settles on each origin pushing
 * to everyone and nobody relaying (and no cycle of pruned links can
 * leave an origin with no eager path to a node it is connected to). */
static int prune(struct sync_session *ss, const uint8_t *origin,
		 uint64_t seq, struct err *err)
{
	if (ss->have_peer_origin &&
	    memcmp(origin, ss->peer_origin, STORE_ORIGIN_BYTES) == 0)
		return 0;
	if (hwm_list_raise(&ss->pruned, origin, seq,
			   SYNC_LIVE_ORIGINS_MAX) != 1)
		return 0;
	ss->ls.prunes_sent++;
	return send_lazy(ss, WIRE_PRUNE, origin, seq, err);
}

int live_on_frame(struct sync_session *ss, const struct wire_mbatch *b,
		  struct err *err)
{
	struct claims_bounds bounds;
	unsigned char *acc;
	uint64_t applied = 0;
	size_t i, k = 0;
	int rv;

	if (b->n == 0)
		return sync_proto(err, "empty LIVE frame");
	rv = sync_reserve_versions(ss, b->n, err);
	if (rv != 0)
		return rv;
	acc = ss->accepted;
	claims_bounds_get(ss, &bounds);
	for (i = 0; i < b->n; i++) {
		const struct wire_entry *e = &b->entries[i];
		int ours;

		if (e->skip && ss->ours.n == 0)
			return sync_proto(err, "SKIP entry to a full node");
		if (e->seq == 0 || (e->clock == 0 && !e->skip))
			return err_set(err, RUMOR_EPROTO, "sync: LIVE entry "
				       "with %s 0", e->seq == 0 ? "seq" :
				       "clock");
		wire_entry_to_version(b->origins[e->origin_index], e,
				      &ss->vs[k]);
		acc[i] = !claims_entry_refused(ss, &bounds, &ss->vs[k]);
		/* A SKIP, or an entry outside our R (an old sender), is
		 * held for the gap-free raise (our HWM claims nothing of
		 * its key) but not stored; a refused one is neither. */
		ours = !e->skip && filter_ours_takes(ss, e->key, e->key_len);
		if (e->skip)
			ss->ls.skips_received++;
		else if (!ours)
			ss->ls.outside++;
		if (acc[i] && ours)
			k++;
	}
	rv = live_raises(ss, b, acc, err);
	if (rv != 0)
		return rv;
	rv = store_apply_batch(ss->store, ss->vs, k, ss->raise.v,
			       ss->raise.n, ss->outcomes, err);
	ss->raise.n = 0;
	if (rv == RUMOR_EINVAL || rv == RUMOR_ETOOBIG) {
		err_wrap(err, "sync: peer sent an invalid version");
		err->code = RUMOR_EPROTO;
		return RUMOR_EPROTO;
	}
	if (rv != 0)
		return rv;
	ss->ls.entries_received += b->n;
	for (i = 0; i < k; i++) {
		if (ss->outcomes[i] == STORE_APPLIED) {
			applied++;
		} else if (ss->outcomes[i] == STORE_IDENTICAL) {
			ss->ls.duplicates++;
			rv = prune(ss, ss->vs[i].origin, ss->vs[i].seq, err);
			if (rv != 0)
				return rv;
		}
	}
	ss->ls.entries_applied += applied;
	if (applied > 0 && ss->cb.on_applied != NULL)
		ss->cb.on_applied(ss->cb.arg, applied);
	wire_buf_reset(&ss->out);
	rv = wire_encode_ack(&ss->out, WIRE_LIVE_EXCHANGE, b->payload_bytes,
			     err);
	if (rv != 0)
		return rv;
	return sync_send_out(ss, err);
}

int live_on_ack(struct sync_session *ss, const struct wire_ack *a,
		struct err *err)
{
	if (a->bytes > ss->live_sent - ss->live_acked)
		return sync_proto(err, "live ACK for more bytes than were "
				  "sent");
	ss->live_acked += a->bytes;
	if (ss->live_frames_out > 0)
		ss->live_frames_out--;
	return 0;
}

static int first_entry(void *arg, const struct rumor_version *v)
{
	(void)v;
	*(int *)arg = 1;
	return 1;
}

/* Whether this node lacks (origin, seq): its HWM is below and it holds
 * no log entry of origin at or above seq (one that superseded seq's key
 * or came after it on the same path: then seq came too, or a round will
 * bring it). A read error counts as lacking: a graft costs a round. */
static int lacks(struct sync_session *ss, const uint8_t *origin, uint64_t seq)
{
	struct err err;
	int held = 0;

	if (store_hwm(ss->store, origin) >= seq)
		return 0;
	err_clear(&err);
	if (store_log_scan(ss->store, NULL, origin, seq - 1, 1, first_entry,
			   &held, NULL, &err) != 0)
		return 1;
	return !held;
}

static int reserve_miss(struct sync_session *ss, struct err *err)
{
	uint64_t *m;

	if (ss->missing.cap <= ss->miss_cap)
		return 0;
	m = realloc(ss->miss_ms, ss->missing.cap * sizeof(*m));
	if (m == NULL)
		return err_set(err, RUMOR_ENOMEM, "sync: out of memory");
	ss->miss_ms = m;
	ss->miss_cap = ss->missing.cap;
	return 0;
}

static int on_ihave(struct sync_session *ss, const struct wire_digest *d,
		    struct err *err)
{
	uint64_t deadline = sync_now(ss) + SYNC_LIVE_GRAFT_MS;
	size_t i, j;
	int rv;

	for (i = 0; i < d->n; i++) {
		const struct wire_hwm *w = &d->hwms[i];

		/* From memory only: the log is read when the timer fires
		 * (sync_live_tick), so an IHAVE costs no read however many
		 * origins it lists. */
		if (w->hwm == 0 || store_hwm(ss->store, w->origin) >= w->hwm)
			continue;
		rv = hwm_list_raise(&ss->missing, w->origin, w->hwm,
				    SYNC_LIVE_ORIGINS_MAX);
		if (rv < 0)
			continue;
		if (reserve_miss(ss, err) != 0)
			return RUMOR_ENOMEM;
		for (j = 0; j < ss->missing.n; j++)
			if (memcmp(ss->missing.v[j].origin, w->origin,
				   STORE_ORIGIN_BYTES) == 0)
				break;
		if (rv == 1) {
			/* Inserted at j: keep miss_ms in step. */
			memmove(&ss->miss_ms[j + 1], &ss->miss_ms[j],
				(ss->missing.n - 1 - j) * sizeof(uint64_t));
			ss->miss_ms[j] = deadline;
		}
	}
	return 0;
}

int live_on_lazy(struct sync_session *ss, const struct wire_msg *m,
		 struct err *err)
{
	const struct wire_digest *d = &m->u.digest;
	size_t i;

	if (d->exchange_id != WIRE_LIVE_EXCHANGE)
		return sync_proto(err, "IHAVE, PRUNE or GRAFT with an "
				  "exchange id");
	switch (m->type) {
	case WIRE_IHAVE:
		return on_ihave(ss, d, err);
	case WIRE_PRUNE:
		for (i = 0; i < d->n; i++)
			(void)hwm_list_raise(&ss->lazy, d->hwms[i].origin, 0,
					     SYNC_LIVE_ORIGINS_MAX);
		return 0;
	case WIRE_GRAFT:
		for (i = 0; i < d->n; i++)
			hwm_list_remove(&ss->lazy, d->hwms[i].origin);
		return 0;
	default:
		return sync_proto(err, "not a lazy message");
	}
}

uint64_t sync_live_tick(struct sync_session *ss, uint64_t now_ms)
{
	struct hwm_list *g = &ss->raise;       /* scratch: the grafts */
	uint64_t next = 0;
	struct err err;
	size_t i, w = 0;
	int rv;

	if (ss->failed)
		return 0;
	g->n = 0;
	for (i = 0; i < ss->missing.n; i++) {
		struct store_hwm *m = &ss->missing.v[i];

		if (ss->miss_ms[i] > now_ms) {
			if (next == 0 || ss->miss_ms[i] < next)
				next = ss->miss_ms[i];
			ss->missing.v[w] = *m;
			ss->miss_ms[w++] = ss->miss_ms[i];
			continue;
		}
		/* The eager path lost it: make this peer eager for the
		 * origin again, and let a round repair. */
		if (lacks(ss, m->origin, m->seq) &&
		    hwm_list_reserve(g, g->n + 1, NULL) == 0) {
			hwm_list_remove(&ss->pruned, m->origin);
			g->v[g->n++] = *m;
		}
	}
	ss->missing.n = w;
	if (g->n == 0)
		return next;
	/* One GRAFT for them all, however many origins an IHAVE listed. */
	err_clear(&err);
	rv = sync_wire_view(ss, g, &err);
	if (rv == 0) {
		wire_buf_reset(&ss->out);
		rv = wire_encode_lazy(&ss->out, WIRE_GRAFT, ss->whwms, g->n,
				      &err);
	}
	if (rv == 0)
		rv = sync_send_out(ss, &err);
	ss->ls.grafts_sent += g->n;
	g->n = 0;
	if (rv != 0) {
		(void)sync_fail(ss, rv, &err);
		return 0;
	}
	want_round(ss);
	return next;
}
