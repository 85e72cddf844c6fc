/* SPDX-License-Identifier: MIT */
/*
 * filter: partial replication in a session (issue 13): what a node with
 * a replicate set R (lib/prefixes.h; empty: every key) sends, keeps and
 * claims, and what it believes of a peer's DONE.
 *
 * The meaning of an HWM. A node's HWM[O] says "I hold every entry of O up
 * to HWM[O] whose key is in my R, or something newer for that key". For a
 * full node (R every key) that is DESIGN 4.4 as before.
 *
 * Sending. A round sends only entries whose key is in the peer's R (log
 * order skips the others as it reads them; key order seeks straight from
 * one of the peer's prefixes to the next, filter_key_seek). The live
 * stream sends, for an entry outside the peer's R, a SKIP marker (origin
 * and seq only; live.c) so that the peer's HWM moves live exactly like a
 * full node's: for its R, the entry is "held" by having nothing to hold.
 * The same selection of entries as before, restricted to the peer's R,
 * so the argument at the top of sync.c holds key by key for every key of
 * the peer's R, and keys outside it are none of the peer's claims.
 *
 * Receiving. An entry outside our R is not stored (an old sender does not
 * filter; counted). It still counts as held for the gap-free live raise,
 * as a SKIP does: our HWM claims nothing of keys outside R.
 *
 * DONE rules. A peer's DONE says it held every entry up to DONE[O] in
 * ITS R. That covers ours only when our R is within its R
 * (prefixes_within); then every HWM may rise as before. Otherwise only
 * HWM[peer's origin], and only when its HELLO said it is self-complete
 * (its store holds every write it ever made, so its own origin is
 * complete whatever the key). The sender's side: a receiver without the
 * FILTERS capability (an older node, which believes any DONE) whose R is
 * not within ours gets a clamped DONE (filter_done_out): every HWM at the
 * receiver's own DIGEST value (which raises nothing), but our own origin
 * when self-complete; so it is never raised past what a partial node
 * really held. A receiver WITH the capability gets the true values: it
 * applies the rule above itself, and needs them for its cover (below);
 * clamped, the cover could never grow past the receiver's own DIGEST and
 * every round would send the same entries again.
 *
 * The cover ("never receives them again and again"). A full node F next
 * to a partial node P gets from P's DONE no raise but HWM[P]; its next
 * DIGEST would again ask P for everything of other origins in R(P) above
 * F's HWMs, every round. So F remembers, per session, P's DONE HWMs (the
 * cover) and sends P a DIGEST of max(F's store HWMs, cover). Why that is
 * honest: the DIGEST goes to P only, and P reads it within R(P). P's DONE
 * claimed, for R(P), every entry of O up to cover[O] or something newer;
 * F received every such entry above its DIGEST of that round (the stream
 * was complete, else no DONE), and held the others by the same claim of
 * its DIGEST (by induction: store HWMs, or an earlier cover from P). F's
 * store keeps every applied version or something newer. So for every key
 * of R(P), F holds what the cover claims: exactly the meaning of an HWM
 * restricted to R(P), which is all P asks about. The cover stays in
 * memory, with the session: a new connection starts from the store HWMs
 * (one full round, as before). The store's HWMs are never raised by it,
 * nor are our claims checks (claims.c uses the store HWMs, ss->self).
 */
#include "sync/sync_int.h"

/* Origins a session's cover keeps: a peer naming new origins in every
 * DONE cannot grow it without bound. Past it the cover stops growing
 * (always safe: it only saves re-sends). */
#define SYNC_COVER_MAX 4096u

int sync_session_set_filters(struct sync_session *ss,
			     const struct sync_filters *f, struct err *err)
{
	struct err local;
	int rv;

	if (err == NULL)
		err = &local;
	if (ss->failed)
		return sync_failed(ss, err);
	prefixes_free(&ss->ours);
	prefixes_free(&ss->peers);
	rv = f->ours != NULL ? prefixes_copy(&ss->ours, f->ours, err) : 0;
	if (rv == 0 && f->peers != NULL)
		rv = prefixes_copy(&ss->peers, f->peers, err);
	if (rv != 0) {
		prefixes_free(&ss->ours);
		return sync_fail(ss, rv, err);
	}
	ss->peer_filters = f->peer_filters;
	ss->peer_self_complete = f->peer_filters && f->peer_self_complete;
	ss->self_complete = f->self_complete;
	ss->we_within = prefixes_within(&ss->ours, &ss->peers);
	ss->peer_within = prefixes_within(&ss->peers, &ss->ours);
	return 0;
}

void filter_release(struct sync_session *ss)
{
	prefixes_free(&ss->ours);
	prefixes_free(&ss->peers);
	free(ss->cover.v);
	free(ss->digest_out.v);
}

int filter_peer_takes(const struct sync_session *ss, const void *key,
		      size_t len)
{
	return ss->peers.n == 0 || prefixes_match(&ss->peers, key, len);
}

int filter_ours_takes(const struct sync_session *ss, const void *key,
		      size_t len)
{
	return ss->ours.n == 0 || prefixes_match(&ss->ours, key, len);
}

int filter_digest_view(struct sync_session *ss, size_t *n, struct err *err)
{
	int rv;

	/* No cover, or one that would make the DIGEST too long: the store's
	 * HWMs alone (always honest). */
	if (ss->cover.n == 0 || ss->self.n + ss->cover.n > WIRE_DIGEST_MAX) {
		*n = ss->self.n;
		return sync_wire_view(ss, &ss->self, err);
	}
	rv = hwm_list_merge_max(&ss->digest_out, &ss->self, &ss->cover, err);
	if (rv != 0)
		return rv;
	*n = ss->digest_out.n;
	return sync_wire_view(ss, &ss->digest_out, err);
}

int filter_done_in(struct sync_session *ss, struct err *err)
{
	uint64_t own = 0;
	int rv;

	if (ss->we_within)
		return 0;
	/* The cover: what the DONE honestly claims within the peer's R
	 * (see the top of this file). */
	rv = hwm_list_merge_max(&ss->digest_out, &ss->cover, &ss->raise, err);
	if (rv != 0)
		return rv;
	/* Past the bound the cover stays as it was. */
	if (ss->digest_out.n <= SYNC_COVER_MAX) {
		rv = hwm_list_reserve(&ss->cover, ss->digest_out.n, err);
		if (rv != 0)
			return rv;
		memcpy(ss->cover.v, ss->digest_out.v,
		       ss->digest_out.n * sizeof(*ss->cover.v));
		ss->cover.n = ss->digest_out.n;
	}
	ss->digest_out.n = 0;
	/* Only the peer's own origin, and only from a self-complete peer:
	 * its store holds every write it made, whatever the key. */
	if (ss->peer_self_complete && ss->have_peer_origin)
		own = hwm_list_find(&ss->raise, ss->peer_origin);
	ss->raise.n = 0;
	if (own > 0) {
		memcpy(ss->raise.v[0].origin, ss->peer_origin,
		       STORE_ORIGIN_BYTES);
		ss->raise.v[0].seq = own;
		ss->raise.n = 1;
	}
	return 0;
}

void filter_done_out(struct sync_session *ss)
{
	struct hwm_list *l = &ss->snap_hwms;
	const uint8_t *own = store_origin(ss->store);
	size_t i, k = 0;
	uint64_t theirs;

	/* A receiver with FILTERS applies the DONE rules itself and needs
	 * the true values for its cover (see the top of this file). */
	if (ss->peer_within || ss->peer_filters)
		return;
	for (i = 0; i < l->n; i++) {
		if (!(ss->self_complete &&
		      memcmp(l->v[i].origin, own, STORE_ORIGIN_BYTES) == 0)) {
			theirs = hwm_list_find(&ss->peer, l->v[i].origin);
			if (l->v[i].seq > theirs)
				l->v[i].seq = theirs;
		}
		if (l->v[i].seq == 0)
			continue;
		l->v[k++] = l->v[i];
	}
	l->n = k;
	if (ss->have_peer_origin)
		ss->told_peer_origin = hwm_list_find(l, ss->peer_origin);
}

/* Sets kcur so that a scan "after kcur" starts at the first key >= p:
 * the largest key below p (keys are at most RUMOR_KEY_MAX bytes), or no
 * cursor at all when p is one 0x00 byte. p[last] 0x00: p without it is
 * the largest key below p; else p with its last byte lowered by one and
 * padded with 0xff up to the longest key. */
static void seek_before(struct sync_session *ss, const struct prefix *p)
{
	size_t len = p->len;

	assert(len >= 1 && len <= sizeof(ss->kcur));
	if (p->bytes[len - 1] == 0x00) {
		memcpy(ss->kcur, p->bytes, len - 1);
		ss->kcur_len = len - 1;
		ss->kcur_set = len > 1;
		return;
	}
	memcpy(ss->kcur, p->bytes, len);
	ss->kcur[len - 1] = (uint8_t)(p->bytes[len - 1] - 1);
	memset(ss->kcur + len, 0xff, sizeof(ss->kcur) - len);
	ss->kcur_len = sizeof(ss->kcur);
	ss->kcur_set = 1;
}

void filter_key_seek(struct sync_session *ss)
{
	const struct prefixes *ps = &ss->peers;
	const struct prefix *p;

	assert(ps->n > 0);
	/* The next prefix above the cursor: a key that matches none of
	 * the (sorted) prefixes is below every key of those after it, and
	 * above every key of those before it. */
	while (ss->kprefix < ps->n) {
		p = &ps->v[ss->kprefix];
		if (!ss->kcur_set ||
		    bytes_cmp(p->bytes, p->len, ss->kcur, ss->kcur_len) > 0) {
			seek_before(ss, p);
			return;
		}
		if (ss->kcur_len >= p->len &&
		    memcmp(ss->kcur, p->bytes, p->len) == 0)
			return;         /* inside this prefix: go on */
		ss->kprefix++;
	}
	ss->key_done = 1;
}
