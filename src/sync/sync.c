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
 *
 * What a peer may claim (claims.c has the whole argument). A member may
 * be buggy or compromised, so nothing above may rest on its word alone:
 *  - No clock, seq or HWM above limit(now) = 8192 * (wall_ms + 1 hour)
 *    (SYNC_CLAIM_PER_MS, SYNC_CLAIM_AHEAD_MS). A value near 2^64 would
 *    leave no room for later writes of its key or origin; a fixed bound
 *    alone would not do, since a liar writes exactly at it and honest
 *    writes above it are refused for good. This one is ~2^54 today (room
 *    for ~2^63 more writes), no counter honestly comes near it (8 M
 *    writes a second since 1970), and it grows by 8192 a millisecond, so
 *    an honest write above a forged maximum passes a millisecond later.
 *  - A refused entry is not stored, and its pull's DONE raises its origin
 *    at most to the first refused seq - 1: the next exchange sends it
 *    again, so an honest entry refused for skew is not lost.
 *  - No entry or HWM of our own origin above our local seq, once this
 *    node has written since it opened (before, it is how a node restored
 *    from an old copy relearns its writes).
 *  - A DONE raises no HWM above the sender's DIGEST of the round, and
 *    ours never claims more than our DIGEST did (an honest DONE never
 *    trips the check). A DONE before the peer's DIGEST raises nothing.
 *  - The peer is the authority on its own origin: told our HWM for it and
 *    still below it, its DIGEST makes us lower ours to 0 and pull again.
 *    HWMs go down only there, so a DONE never raises an origin whose HWM
 *    went below what our DIGEST of that pull said.
 * Each refusal reaches cb.on_refuse, counted by reason (lib/refuse.h).
 */
#include "sync/sync_int.h"

/* ------------------------------------------------------------ helpers */

uint64_t sync_now(const struct sync_session *ss)
{
	return ss->t.now_ms != NULL ? ss->t.now_ms(ss->t.arg) : 0;
}

int sync_writable(const struct sync_session *ss)
{
	return ss->t.writable == NULL || ss->t.writable(ss->t.arg);
}

/* Records the first error; the session stays sync_failed (sync.h, 1). */
int sync_fail(struct sync_session *ss, int rv, struct err *err)
{
	assert(rv < 0);
	ss->failed = rv;
	ss->failure = *err;
	ss->failure.code = rv;
	return rv;
}

int sync_failed(const struct sync_session *ss, struct err *err)
{
	if (err != NULL)
		*err = ss->failure;
	return ss->failed;
}

int sync_proto(struct err *err, const char *what)
{
	return err_set(err, RUMOR_EPROTO, "sync: %s", what);
}

/* A wire view of l (pointers into l). */
int sync_wire_view(struct sync_session *ss, const struct hwm_list *l,
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
int sync_send_out(struct sync_session *ss, struct err *err)
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
	ss->st.started_ms = sync_now(ss);
	ss->round_open = 1;
	ss->peer_digested = 0;
	ss->pull_done = 0;
	ss->push_done = 0;
}

void sync_round_maybe_complete(struct sync_session *ss)
{
	if (!ss->round_open || !ss->pull_done || !ss->push_done)
		return;
	assert(!ss->pull_open && ss->push == PUSH_IDLE);
	ss->st.finished_ms = sync_now(ss);
	ss->round_open = 0;
	ss->rounds++;
	if (ss->cb.on_complete != NULL)
		ss->cb.on_complete(ss->cb.arg, &ss->st);
	/* Offers that came before the live stream was ready are in no
	 * round yet when they came after this one's snapshot. */
	if (ss->live_missed) {
		ss->live_missed = 0;
		if (ss->cb.on_want_round != NULL)
			ss->cb.on_want_round(ss->cb.arg);
	}
}

/* Sends our DIGEST: the start of our pull. */
static int pull_begin(struct sync_session *ss, struct err *err)
{
	int rv;
	size_t n;

	assert(ss->round_open && !ss->pull_open && !ss->pull_done);
	rv = hwm_list_load(ss, &ss->self, NULL, err);
	if (rv != 0)
		return rv;
	/* The store's HWMs, raised to a narrower peer's cover (filter.c). */
	rv = filter_digest_view(ss, &n, err);
	if (rv != 0)
		return rv;
	claims_pull_begin(ss);
	ss->pull_id = ss->next_exchange_id++;
	ss->st.exchange_id = ss->pull_id;
	wire_buf_reset(&ss->out);
	rv = wire_encode_digest(&ss->out, ss->pull_id, ss->whwms, n, err);
	if (rv != 0)
		return rv;
	rv = sync_send_out(ss, err);
	if (rv != 0)
		return rv;
	ss->pull_open = 1;
	return 0;
}

/* ------------------------------------------------------------ receiving */

static int on_digest(struct sync_session *ss, const struct wire_digest *d,
		     struct err *err)
{
	int rv;

	if (ss->push != PUSH_IDLE || (ss->round_open && ss->push_done))
		return sync_proto(err, "DIGEST while our answer to the "
				  "previous one is still open");
	rv = hwm_list_from_wire(&ss->peer, d, err);
	if (rv != 0)
		return rv;
	/* Before our DIGEST goes (when the peer opened the round): a healed
	 * HWM is then pulled in this very exchange. */
	rv = claims_digest(ss, err);
	if (rv != 0)
		return rv;
	ss->have_peer = 1;
	ss->peer_digested = 1;
	if (ss->cb.on_peer_digest != NULL)
		ss->cb.on_peer_digest(ss->cb.arg, ss->peer.v, ss->peer.n);
	/* A peer may start a round alone: answer with our DIGEST. */
	if (!ss->pull_open && !ss->pull_done) {
		rv = pull_begin(ss, err);
		if (rv != 0)
			return rv;
	}
	rv = sync_push_begin(ss, d->exchange_id, err);
	if (rv != 0)
		return rv;
	return sync_pump(ss, err);
}

int sync_reserve_versions(struct sync_session *ss, size_t n,
			  struct err *err)
{
	struct rumor_version *vs;
	int *outcomes;
	unsigned char *acc;
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
	acc = realloc(ss->accepted, cap);
	if (acc == NULL)
		return err_set(err, RUMOR_ENOMEM, "sync: out of memory");
	ss->accepted = acc;
	ss->vs_cap = cap;
	return 0;
}

/* Applies the n versions in ss->vs (checked; n may be 0 when every entry
 * of the frame was refused) in one batch, counts them and the frame's
 * received entries, and ACKs the frame's payload bytes. */
static int apply_and_ack(struct sync_session *ss, size_t n, size_t received,
			 uint64_t payload, struct err *err)
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
	ss->st.entries_received += received;
	ss->st.payload_received += payload;
	if (applied > 0 && ss->cb.on_applied != NULL)
		ss->cb.on_applied(ss->cb.arg, applied);
	/* ACK after the batch is durable in the store: the credit it frees
	 * is buffer space the sender may fill again. */
	wire_buf_reset(&ss->out);
	rv = wire_encode_ack(&ss->out, ss->pull_id, payload, err);
	if (rv != 0)
		return rv;
	return sync_send_out(ss, err);
}

/* The entries of a BATCH (one origin, log order: seqs increase) or an
 * MBATCH (origins: per-entry origin table, key order: keys increase),
 * checked whole before anything is applied, then applied atomically and
 * acknowledged. The exchange must be our open one. */
struct entries {
	const char *what;               /* "BATCH" or "MBATCH" */
	uint64_t exchange_id;
	const struct wire_entry *e;
	size_t n;
	const uint8_t *origin;          /* BATCH */
	const uint8_t *const *origins;  /* MBATCH (the decoder checked the
					   indexes) */
	size_t n_origins;
	uint64_t payload_bytes;
};

static int entries_out_of_order(const struct entries *b, size_t i)
{
	const struct wire_entry *p = &b->e[i - 1], *e = &b->e[i];

	if (b->origins == NULL)
		return e->seq <= p->seq;
	return bytes_cmp(p->key, p->key_len, e->key, e->key_len) >= 0;
}

static int on_entries(struct sync_session *ss, const struct entries *b,
		      struct err *err)
{
	struct claims_bounds bounds;
	size_t i, k = 0;
	int rv;

	if (!ss->pull_open || b->exchange_id != ss->pull_id)
		return err_set(err, RUMOR_EPROTO, "sync: %s for no open "
			       "exchange", b->what);
	if (b->n == 0)
		return err_set(err, RUMOR_EPROTO, "sync: empty %s", b->what);
	rv = sync_reserve_versions(ss, b->n, err);
	if (rv != 0)
		return rv;
	claims_bounds_get(ss, &bounds);
	for (i = 0; i < b->n; i++) {
		const struct wire_entry *e = &b->e[i];

		if (e->seq == 0 || e->clock == 0)
			return err_set(err, RUMOR_EPROTO, "sync: %s entry "
				       "with %s 0", b->what,
				       e->seq == 0 ? "seq" : "clock");
		if (i > 0 && entries_out_of_order(b, i))
			return err_set(err, RUMOR_EPROTO, "sync: %s entries "
				       "not in increasing %s order", b->what,
				       b->origins == NULL ? "seq" : "key");
		assert(b->origins == NULL || e->origin_index < b->n_origins);
		/* Outside our R: not ours to store (an old sender does not
		 * filter); the DONE rules keep the HWMs honest. */
		if (!filter_ours_takes(ss, e->key, e->key_len)) {
			ss->st.entries_outside++;
			continue;
		}
		wire_entry_to_version(b->origins == NULL ? b->origin :
				      b->origins[e->origin_index], e,
				      &ss->vs[k]);
		/* A refused claim is not stored; the rest of the frame is
		 * (claims.c). */
		if (!claims_entry_refused(ss, &bounds, &ss->vs[k]))
			k++;
	}
	return apply_and_ack(ss, k, b->n, b->payload_bytes, err);
}

static int on_batch(struct sync_session *ss, const struct wire_batch *b,
		    struct err *err)
{
	struct entries en = {
		.what = "BATCH", .exchange_id = b->exchange_id,
		.e = b->entries, .n = b->n, .origin = b->origin,
		.payload_bytes = b->payload_bytes,
	};

	return on_entries(ss, &en, err);
}

static int on_mbatch(struct sync_session *ss, const struct wire_mbatch *b,
		     struct err *err)
{
	struct entries en = {
		.what = "MBATCH", .exchange_id = b->exchange_id,
		.e = b->entries, .n = b->n, .origins = b->origins,
		.n_origins = b->n_origins, .payload_bytes = b->payload_bytes,
	};

	return on_entries(ss, &en, err);
}

static int on_done(struct sync_session *ss, const struct wire_digest *d,
		   struct err *err)
{
	int rv;

	if (!ss->pull_open || d->exchange_id != ss->pull_id)
		return sync_proto(err, "DONE for no open exchange");
	rv = hwm_list_from_wire(&ss->raise, d, err);
	if (rv != 0)
		return rv;
	/* Only what the peer may claim (claims.c), and only what covers
	 * our replicate set (filter.c). */
	claims_done(ss);
	rv = filter_done_in(ss, err);
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
	sync_round_maybe_complete(ss);
	return 0;
}

static int on_ack(struct sync_session *ss, const struct wire_ack *a,
		  struct err *err)
{
	if (ss->push == PUSH_IDLE || a->exchange_id != ss->push_id)
		return sync_proto(err, "ACK for no open exchange");
	if (a->bytes > ss->sent - ss->acked)
		return sync_proto(err, "ACK for more bytes than were sent");
	ss->acked += a->bytes;
	if (ss->push == PUSH_DRAINING && ss->acked == ss->sent) {
		ss->push = PUSH_IDLE;
		ss->push_done = 1;
	}
	return sync_pump(ss, err);
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
	/* Both replicate sets empty (full nodes) until set_filters. */
	ss->we_within = 1;
	ss->peer_within = 1;
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
	sync_push_release(ss);
	wire_decoder_free(&ss->dec);
	wire_buf_free(&ss->out);
	live_release(ss);
	filter_release(ss);
	free(ss->vs);
	free(ss->outcomes);
	free(ss->accepted);
	free(ss->raise.v);
	free(ss->refused.v);
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
		return sync_failed(ss, err);
	if (ss->round_open)
		return 0;
	round_begin(ss);
	rv = pull_begin(ss, err);
	if (rv != 0)
		return sync_fail(ss, rv, err);
	return 0;
}

int sync_is_sync_type(int type)
{
	return type == WIRE_DIGEST || type == WIRE_BATCH ||
	       type == WIRE_MBATCH || type == WIRE_ACK || type == WIRE_DONE ||
	       type == WIRE_IHAVE || type == WIRE_PRUNE || type == WIRE_GRAFT;
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
		if (m->u.mbatch.exchange_id == WIRE_LIVE_EXCHANGE)
			return live_on_frame(ss, &m->u.mbatch, err);
		return on_mbatch(ss, &m->u.mbatch, err);
	case WIRE_ACK:
		if (m->u.ack.exchange_id == WIRE_LIVE_EXCHANGE) {
			int rv = live_on_ack(ss, &m->u.ack, err);

			if (rv != 0)
				return rv;
			return sync_live_flush(ss, err);
		}
		return on_ack(ss, &m->u.ack, err);
	case WIRE_DONE:
		return on_done(ss, &m->u.digest, err);
	case WIRE_IHAVE:
	case WIRE_PRUNE:
	case WIRE_GRAFT:
		return live_on_lazy(ss, m, err);
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
		return sync_failed(ss, err);
	rv = receive(ss, m, frame_len, err);
	if (rv != 0)
		return sync_fail(ss, rv, err);
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
		return sync_failed(ss, err);
	rv = wire_decode(&ss->dec, frame, len, &m, err);
	if (rv == 0)
		rv = receive(ss, &m, len, err);
	if (rv != 0)
		return sync_fail(ss, rv, err);
	return 0;
}

int sync_session_pump(struct sync_session *ss, struct err *err)
{
	struct err local;
	int rv;

	if (err == NULL)
		err = &local;
	if (ss->failed)
		return sync_failed(ss, err);
	rv = sync_pump(ss, err);
	if (rv != 0)
		return sync_fail(ss, rv, err);
	/* A drained transport also lets the pending live frame go. */
	return sync_live_flush(ss, err);
}

int sync_session_pending(const struct sync_session *ss)
{
	if (ss->failed || ss->push != PUSH_STREAMING || !sync_writable(ss))
		return 0;
	return sync_push_exhausted(ss) ||
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
