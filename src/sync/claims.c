/* SPDX-License-Identifier: MIT */
/*
 * claims: what a peer may claim in an exchange (issue 11). A member may
 * be buggy or compromised; the rules here keep it from stopping our
 * writes or hiding an origin's future writes from us. Each refusal goes
 * to cb.on_refuse (the node counts it by reason and logs it); none fails
 * the session, since an honest peer with a fast clock trips some of them.
 *
 * 1. The bound (REFUSE_CLOCK_LIMIT, _SEQ_LIMIT, _HWM_LIMIT). A clock or
 *    seq near 2^64 leaves no room: every later local write of the key (or
 *    of the origin) would overflow. A fixed bound B is not enough alone:
 *    a liar writes clock = B exactly, and an honest write above it (B + 1)
 *    is refused by every peer for good. So the bound grows with wall time:
 *    limit(now) = 8192 * (wall_ms + 1 hour). No key or origin is honestly
 *    written 8 M times a second since 1970, so no honest value comes near
 *    it; it is ~2^54 today, so a key or origin at the limit keeps ~2^63
 *    writes of room; and it grows by 8192 a millisecond, faster than any
 *    honest counter, so an honest write above a forged maximum (clock =
 *    limit + 1) passes a millisecond later. The hour absorbs skew between
 *    wall clocks. A refused entry is not stored, and the DONE of its pull
 *    raises HWM[O] at most to its seq - 1 (the first refused of O), so the
 *    next exchange sends it again: once the bound has grown past it, it
 *    is applied. DIGEST HWMs above the bound are clamped to it.
 *
 * 2. Our own origin (REFUSE_OWN_SEQ, REFUSE_HWM_OWN). We are the
 *    authority on our seq: an entry of our origin above our local seq,
 *    or a DONE HWM for it above our local seq, is a lie once this node
 *    has written since its store opened: the entry is not stored, the
 *    HWM is clamped to the local seq. Before the first local write (a
 *    node refuses writes while it catches up after a start) such claims
 *    are accepted, within the bound: that is how a node restored from an
 *    old copy relearns its own writes and moves its seq counter past
 *    them (store.h, store_apply_batch) before it writes again; a liar
 *    gains nothing there, since the bound leaves ~2^63 seqs of room.
 *
 * 3. A DONE raises no HWM above the sender's own DIGEST of the round
 *    (REFUSE_HWM_DIGEST): the sender claims to hold no more than it said
 *    it held. Its snapshot may be newer than its DIGEST (it sent the
 *    DIGEST at the start of its round and took the snapshot when ours
 *    arrived), so an honest sender sends DONE = min(snapshot HWMs, its
 *    DIGEST's) (claims_done_out): an honest DONE never trips the check,
 *    and the counter means a lie. A DONE before the peer's DIGEST of the
 *    round raises nothing.
 *
 * 4. Heal (REFUSE_HWM_HEALED). A node's origin is its node id; a peer
 *    whose id is O is the authority on O's seq, and its DIGEST's HWM[O]
 *    is O's local seq. Our HWM[O] above it was forged, or O was restored
 *    from an old copy, or (a rare honest race) we learned O's newer
 *    writes through a third node while O's DIGEST was in flight. Our DONE
 *    tells O our HWM[O] (claims_done_out notes the value): a restored O
 *    that has not written yet adopts it (rule 2) and moves its seq
 *    counter past every seq it ever used, which it must (the value is
 *    the only trace left of its superseded and collected writes); a
 *    healthy O refuses it (REFUSE_HWM_OWN there). So when O's next
 *    DIGEST on this connection is still below what we told it, O has
 *    kept its word against ours, and we lower HWM[O] to 0
 *    (store_lower_hwm); the honest race never gets there (what we told
 *    O came from O). A forged HWM[O] thus hides O's writes for at most
 *    two rounds with O plus the pull that follows. We cannot know how
 *    far below the forged value we really hold, and lowering is always
 *    safe: it only makes us pull O's entries again (identical versions
 *    are no-ops). A DONE of a pull whose DIGEST carried the higher value
 *    (of this or any session) must then not raise HWM[O]: the stream
 *    started above what we hold. So a DONE never raises an origin whose
 *    HWM went below what our DIGEST of that pull said (HWMs go down only
 *    here), and the node runs another round with O, whose DIGEST asks
 *    from 0. O's writes are hidden at most until that round completes.
 */
#include "sync/sync_int.h"

#include <stdint.h>

uint64_t sync_claim_limit(uint64_t wall_ms)
{
	uint64_t t = wall_ms + SYNC_CLAIM_AHEAD_MS;

	if (t < wall_ms || t > UINT64_MAX / SYNC_CLAIM_PER_MS)
		return UINT64_MAX;
	return t * SYNC_CLAIM_PER_MS;
}

void sync_session_set_peer_origin(struct sync_session *ss,
				  const uint8_t *origin)
{
	memcpy(ss->peer_origin, origin, STORE_ORIGIN_BYTES);
	ss->have_peer_origin = 1;
}

void claims_refuse(struct sync_session *ss, enum refuse_reason why,
		   const uint8_t *origin, uint64_t claimed, uint64_t allowed)
{
	ss->st.claims_refused++;
	if (ss->cb.on_refuse != NULL)
		ss->cb.on_refuse(ss->cb.arg, why, origin, claimed, allowed);
}

void claims_pull_begin(struct sync_session *ss)
{
	ss->refused.n = 0;
	ss->refused_overflow = 0;
}

static int own_origin(const struct sync_session *ss, const uint8_t *origin)
{
	const uint8_t *own = store_origin(ss->store);

	return memcmp(origin, own, STORE_ORIGIN_BYTES) == 0;
}

void claims_bounds_get(struct sync_session *ss, struct claims_bounds *b)
{
	struct store_stats st;

	b->limit = sync_claim_limit(store_wall_ms(ss->store));
	store_get_stats(ss->store, &st);
	b->own_max = st.local_writes > 0 ? store_local_seq(ss->store) :
		     UINT64_MAX;
}

/* Notes the first refused seq of origin in this pull. Bounded: past
 * SYNC_REFUSED_ORIGINS_MAX origins the DONE raises nothing at all. */
static void refused_note(struct sync_session *ss, const uint8_t *origin,
			 uint64_t seq)
{
	struct hwm_list *l = &ss->refused;
	size_t i;

	if (ss->refused_overflow)
		return;
	for (i = 0; i < l->n; i++)
		if (memcmp(l->v[i].origin, origin, STORE_ORIGIN_BYTES) == 0) {
			if (seq < l->v[i].seq)
				l->v[i].seq = seq;
			return;
		}
	if (l->n >= SYNC_REFUSED_ORIGINS_MAX ||
	    hwm_list_reserve(l, l->n + 1, NULL) != 0) {
		ss->refused_overflow = 1;
		return;
	}
	memcpy(l->v[l->n].origin, origin, STORE_ORIGIN_BYTES);
	l->v[l->n].seq = seq;
	l->n++;
}

int claims_entry_refused(struct sync_session *ss,
			 const struct claims_bounds *b,
			 const struct rumor_version *v)
{
	enum refuse_reason why;
	uint64_t claimed;

	if (v->clock > b->limit) {
		why = REFUSE_CLOCK_LIMIT;
		claimed = v->clock;
	} else if (v->seq > b->limit) {
		why = REFUSE_SEQ_LIMIT;
		claimed = v->seq;
	} else if (v->seq > b->own_max && own_origin(ss, v->origin)) {
		why = REFUSE_OWN_SEQ;
		claimed = v->seq;
	} else {
		return 0;
	}
	refused_note(ss, v->origin, v->seq);
	claims_refuse(ss, why, v->origin, claimed, 0);
	return 1;
}

int claims_digest(struct sync_session *ss, struct err *err)
{
	struct claims_bounds b;
	uint64_t ours, word;
	size_t i;
	int rv;

	claims_bounds_get(ss, &b);
	for (i = 0; i < ss->peer.n; i++) {
		if (ss->peer.v[i].seq <= b.limit)
			continue;
		claims_refuse(ss, REFUSE_HWM_LIMIT, ss->peer.v[i].origin,
			      ss->peer.v[i].seq, b.limit);
		ss->peer.v[i].seq = b.limit;
	}
	if (!ss->have_peer_origin || own_origin(ss, ss->peer_origin))
		return 0;
	ours = store_hwm(ss->store, ss->peer_origin);
	word = hwm_list_find(&ss->peer, ss->peer_origin);
	/* Only once our DONE told the peer a value above its word (and it
	 * kept its word): a node restored from an old copy adopts the value
	 * instead (see the top of this file). */
	if (ours <= word || ss->told_peer_origin <= word)
		return 0;
	rv = store_lower_hwm(ss->store, ss->peer_origin, 0, err);
	if (rv != 0)
		return rv;
	claims_refuse(ss, REFUSE_HWM_HEALED, ss->peer_origin, ours, 0);
	return 0;
}

/* The first refused seq of origin in this pull, or 0. */
static uint64_t refused_first(const struct sync_session *ss,
			      const uint8_t *origin)
{
	size_t i;

	for (i = 0; i < ss->refused.n; i++)
		if (memcmp(ss->refused.v[i].origin, origin,
			   STORE_ORIGIN_BYTES) == 0)
			return ss->refused.v[i].seq;
	return 0;
}

/* The highest value the DONE entry r may raise its origin to (r->seq
 * when nothing objects), counting what it refuses. */
static uint64_t done_allowed(struct sync_session *ss,
			     const struct claims_bounds *b,
			     const struct store_hwm *r)
{
	uint64_t v = r->seq, said, first;

	if (v > b->limit) {
		claims_refuse(ss, REFUSE_HWM_LIMIT, r->origin, v, 0);
		return 0;
	}
	said = ss->peer_digested ? hwm_list_find(&ss->peer, r->origin) : 0;
	if (v > said) {
		claims_refuse(ss, REFUSE_HWM_DIGEST, r->origin, v, said);
		v = said;
	}
	if (v > b->own_max && own_origin(ss, r->origin)) {
		claims_refuse(ss, REFUSE_HWM_OWN, r->origin, v, b->own_max);
		v = b->own_max;
	}
	/* Not over an entry refused in this pull: it must come again. */
	first = refused_first(ss, r->origin);
	if (first > 0 && v >= first)
		v = first - 1;
	/* Healed since our DIGEST: the stream began above what we hold. */
	if (store_hwm(ss->store, r->origin) <
	    hwm_list_find(&ss->self, r->origin))
		v = 0;
	return v;
}

void claims_done(struct sync_session *ss)
{
	struct claims_bounds b;
	size_t i, k = 0;
	uint64_t v;

	claims_bounds_get(ss, &b);
	for (i = 0; i < ss->raise.n; i++) {
		v = done_allowed(ss, &b, &ss->raise.v[i]);
		if (v == 0 || ss->refused_overflow)
			continue;
		ss->raise.v[k] = ss->raise.v[i];
		ss->raise.v[k].seq = v;
		k++;
	}
	ss->raise.n = k;
}

void claims_done_out(struct sync_session *ss)
{
	struct hwm_list *l = &ss->snap_hwms;
	size_t i, k = 0;
	uint64_t said;

	/* Both lists are sorted by origin; self is the DIGEST we sent this
	 * round (pull_begin runs before sync_push_begin in every round). */
	for (i = 0; i < l->n; i++) {
		said = hwm_list_find(&ss->self, l->v[i].origin);
		if (said < l->v[i].seq)
			l->v[i].seq = said;
		if (l->v[i].seq == 0)
			continue;
		l->v[k++] = l->v[i];
	}
	l->n = k;
	if (ss->have_peer_origin)
		ss->told_peer_origin = hwm_list_find(l, ss->peer_origin);
}
