/* SPDX-License-Identifier: MIT */
/*
 * sync.pml: a Promela model of the exchange (sync.c, push.c, claims.c,
 * store/apply.c) plus the live stream (issue 12, live.c as specified),
 * for spin to search exhaustively. src/sync/MODEL.md says how to run it,
 * what it abstracts and what it found.
 *
 * The world: 3 nodes; nodes 0 and 1 are origins (origin o is node o),
 * node 2 only relays. 2 keys. Origin 0 makes at most MAXW local writes
 * or deletes, origin 1 at most MAXW1 (seq <= 3 fits the byte fields).
 * Every pair of nodes has one connection with one session at each end; a
 * channel per directed pair carries DIGEST, BATCH, DONE, LIVE, PRUNE and
 * GRAFT (ACKs are abstracted, see sender_acked). At most MAXCUTS cuts,
 * each between any two steps: a cut empties both directions and resets
 * both sessions; a reconnect starts a new round on both sides. At the
 * start every pair is connected and has completed a round over empty
 * stores, so live frames may go from the first write.
 *
 * One process takes one atomic step at a time, chosen freely among the
 * enabled ones: a local write or delete, the handling of the first
 * message of any channel (the stream it triggers goes in the same step,
 * as sync_pump does inside on_digest and on_ack), a round the node asks
 * for (live lost; a periodic round, at most PERIODIC of them), a GRAFT
 * with its round, a cut, a reconnect. Every state after a step that can
 * move an HWM is checked (check_safety) for DESIGN 4.4: for each node N
 * and origin O, every write (O, q) with q <= HWM_N[O] is held by N or
 * superseded there by a newer version of its key, and no HWM is above
 * its origin's seq. When writes and faults stop (the "final" phase,
 * entered freely once no round is open and no message is in flight), the
 * model reconnects every pair and runs one round per pair, (0,1), (0,2),
 * (1,2) in turn, with live offers off; then every store must be equal and
 * every HWM equal to its origin's seq (check_convergence), and the
 * process ends. A state with nothing enabled before that end (a stuck
 * session) is an invalid end state to spin.
 *
 * Planted bugs, to show the checks have teeth (MODEL.md):
 *   -DBUG_LIVE_ANY     live_on_frame raises HWM[O] to any entry's seq
 *                      above it instead of only seq == h + 1;
 *   -DBUG_BATCH_RAISE  on_entries raises HWM[O] to each BATCH entry's
 *                      seq as it arrives, before DONE (a cut stream, or a
 *                      version still to come in the stream, leaves a
 *                      false claim).
 *   -DBUG_DONE_NO_RAISE on_done raises nothing: safe, but the HWMs stop
 *                      short, which the convergence check must catch.
 * Sizes and features: -DMAXW=n, -DMAXW1=n, -DMAXCUTS=n, -DPERIODIC=n,
 * -DGRAFTS=0 (no GRAFT steps), -DLOSTROUNDS=0 (live lost asks for no
 * round). MODEL.md lists the configurations that make check-model runs.
 *
 * Abstractions (MODEL.md has the list and why): one entry per BATCH and
 * LIVE frame; a credit window of 2 BATCHes (a whole snapshot); the ACK of
 * a BATCH or LIVE frame is delivered with its apply; a live frame of one
 * entry whose pending frame is full at once, so an offer while a frame is
 * in flight is "live lost"; IHAVE is not a message: a pruned receiver
 * may GRAFT whenever its peer holds an entry of the origin above its HWM
 * that it lacks (the sync_live_tick timeout); same-clock conflicts
 * resolve by origin (the default resolver with equal wall times); no
 * tombstone collection, no refused claims (all members honest), no heal,
 * no restarts.
 */

#ifndef MAXW
#define MAXW 2
#endif
#ifndef MAXW1
#define MAXW1 MAXW      /* writes of origin 1 (origin 0: MAXW) */
#endif
#ifndef MAXCUTS
#define MAXCUTS 1
#endif
#ifndef GRAFTS
#define GRAFTS 1
#endif
#ifndef LOSTROUNDS
#define LOSTROUNDS 1
#endif
#ifndef PERIODIC
#define PERIODIC 1
#endif

#define NN 3            /* nodes */
#define NO 2            /* origins: nodes 0 and 1 */
#define NK 2            /* keys */
#define NS 6            /* sessions = directed pairs */
#define QCAP 8          /* messages in flight per direction (send asserts room) */
#define CREDIT 2        /* BATCH frames in flight (cfg.credit_bytes) */
#define NOBODY 3        /* "no peer": the source of a local write */

/* Session of node n with peer m (n != m), also the channel n -> m. */
#define D(n, m) ((n) * 2 + (m) - ((m) > (n)))
/* Connection of the pair {n, m}: (0,1) 0, (0,2) 1, (1,2) 2. */
#define P(n, m) ((n) + (m) - 1)
#define SK(n, k) ((n) * NK + (k))   /* key k in node n's store */
#define HW(n, o) ((n) * NO + (o))   /* HWM of node n for origin o */
#define SO(d, o) ((d) * NO + (o))   /* per session, per origin */
#define SD(d, k) ((d) * NK + (k))   /* per session, per key */
#define WQ(o, q) ((o) * (MAXW + 1) + (q))  /* ghost: write (o, q) */

/* Version (c1, o1, s1) beats (c2, o2, s2): store/apply.c apply_one via
 * resolver_order: higher clock wins; same clock, the resolver (here by
 * origin); same (clock, origin) is the same write, or (same origin, a
 * later seq) a newer one. An absent key has clock 0. */
#define NEWER(c1, o1, s1, c2, o2, s2) \
	((c1) > (c2) || ((c1) == (c2) && ((o1) > (o2) || \
	 ((o1) == (o2) && (s1) > (s2)))))

mtype = { DIGEST, BATCH, DONE, LIVE, PRUNE, GRAFT };
chan q[NS] = [QCAP] of { mtype, byte, byte, byte, byte, byte };

/* ---- per node store (store/store.c, apply.c). The log holds one entry
 * per key, the entry (ko, ks) of the key's stored version: compaction of
 * superseded entries is built into the representation. */
byte kc[NN * NK];       /* clock; 0: key absent */
byte ko[NN * NK];       /* origin */
byte ks[NN * NK];       /* seq */
bit  kd[NN * NK];       /* deleted (tombstone) */
byte hwm[NN * NO];      /* store_hwm */
byte lseq[NO];          /* each origin's local seq (its own HWM) */

/* ---- ghost: what each origin wrote, for the safety check */
byte wk[NO * (MAXW + 1)];   /* key of write (o, q) */
byte wc[NO * (MAXW + 1)];   /* clock of write (o, q) */

/* ---- connections and sessions (struct sync_session) */
bit  up[3];             /* connection of the pair is open */
bit  ro[NS];            /* round_open */
bit  pullo[NS];         /* pull_open: our DIGEST sent, DONE not yet */
bit  pulld[NS];         /* pull_done */
byte push[NS];          /* 0 PUSH_IDLE, 1 PUSH_STREAMING, 2 PUSH_DRAINING */
bit  pushd[NS];         /* push_done */
bit  rounds[NS];        /* completed at least one round (live may go) */
byte unacked[NS];       /* BATCH frames sent, not yet ACKed */
byte pdig[NS * NO];     /* the peer's last DIGEST (ss->peer) */
byte sdig[NS * NO];     /* our DIGEST of this round (ss->self) */
byte sh[NS * NO];       /* snapshot HWMs (ss->snap_hwms) */
byte spend[NS];         /* keys of the snapshot still to stream (bits) */
byte sc[NS * NK];       /* the snapshot's versions of those keys */
byte so[NS * NK];
byte ss[NS * NK];
bit  sdl[NS * NK];
bit  linf[NS];          /* a LIVE frame in flight (sent, not ACKed) */
bit  lazy[NS * NO];     /* we send origin o to this peer lazily */
bit  pruned[NS * NO];   /* we sent PRUNE(o) to this peer */
bit  wantr[NS];         /* live lost: the node asks for a round */
byte periodic;          /* periodic rounds started (the backstop) */

byte cuts;              /* cuts so far */
bit  final;             /* writes and faults have stopped */
byte fstep;             /* final phase: pair whose round runs */
bit  fstarted;          /* its round was started */

/* Scratch of one step: written before read in every step. */
hidden byte mt_b, a1, a2, a3, a4, a5;
hidden byte t_n, t_o, t_q, t_k, t_m, t_d, t_v, outc;
hidden mtype mt;

/* ------------------------------------------------------------ checks */

/* DESIGN 4.4, in every state. */
inline check_safety()
{
	t_n = 0;
	do
	:: t_n < NN ->
		t_o = 0;
		do
		:: t_o < NO ->
			assert(hwm[HW(t_n, t_o)] <= lseq[t_o]);
			t_q = 1;
			do
			:: t_q <= hwm[HW(t_n, t_o)] ->
				t_k = wk[WQ(t_o, t_q)];
				assert(!NEWER(wc[WQ(t_o, t_q)], t_o, t_q,
					      kc[SK(t_n, t_k)], ko[SK(t_n, t_k)],
					      ks[SK(t_n, t_k)]));
				t_q++
			:: else -> break
			od;
			t_o++
		:: else -> break
		od;
		t_n++
	:: else -> break
	od;
	t_n = 0; t_o = 0; t_q = 0; t_k = 0
}

/* After the final rounds: every store equal, every HWM at its origin's
 * seq. */
inline check_convergence()
{
	t_n = 1;
	do
	:: t_n < NN ->
		t_k = 0;
		do
		:: t_k < NK ->
			assert(kc[SK(t_n, t_k)] == kc[SK(0, t_k)] &&
			       ko[SK(t_n, t_k)] == ko[SK(0, t_k)] &&
			       ks[SK(t_n, t_k)] == ks[SK(0, t_k)] &&
			       kd[SK(t_n, t_k)] == kd[SK(0, t_k)]);
			t_k++
		:: else -> break
		od;
		t_n++
	:: else -> break
	od;
	t_n = 0;
	do
	:: t_n < NN ->
		t_o = 0;
		do
		:: t_o < NO ->
			assert(hwm[HW(t_n, t_o)] == lseq[t_o]);
			t_o++
		:: else -> break
		od;
		t_n++
	:: else -> break
	od;
	t_n = 0; t_o = 0; t_k = 0
}

/* ------------------------------------------------------------ helpers */

inline send(c, ty, x1, x2, x3, x4, x5)
{
	assert(nfull(q[c]));
	q[c]!ty, x1, x2, x3, x4, x5
}

/* store/apply.c: store_apply_batch (apply_decide, apply_one) for one
 * version of key k at node n, HWMs untouched. outc: 2 STORE_APPLIED,
 * 1 STORE_STALE, 0 STORE_IDENTICAL. The key's previous log entry goes
 * with its version (compaction). */
inline apply(n, k, c, o, s, dl)
{
	if
	:: kc[SK(n, k)] == c && ko[SK(n, k)] == o && ks[SK(n, k)] == s ->
		outc = 0
	:: NEWER(c, o, s, kc[SK(n, k)], ko[SK(n, k)], ks[SK(n, k)]) ->
		kc[SK(n, k)] = c; ko[SK(n, k)] = o; ks[SK(n, k)] = s;
		kd[SK(n, k)] = dl;
		outc = 2
	:: else -> outc = 1
	fi
}

/* live.c: sync_live_offer. Node n applied its version of key k (from
 * peer src, or NOBODY for a local write): offer it to every other
 * connected session that completed a round, unless the peer is the
 * origin, its last DIGEST covers the seq, or the origin is lazy for it
 * (then an IHAVE would go: not modelled, see GRAFT). A frame in flight
 * means the one-entry pending frame is full: "live lost", the session
 * asks for a round (rounds start freely in this model). */
inline offer(n, src, k)
{
	t_m = 0;
	do
	:: t_m < NN ->
		if
		:: t_m != n && t_m != src && !final ->
			t_d = D(n, t_m);
			if
			:: up[P(n, t_m)] && rounds[t_d] &&
			   t_m != ko[SK(n, k)] &&
			   pdig[SO(t_d, ko[SK(n, k)])] < ks[SK(n, k)] &&
			   !lazy[SO(t_d, ko[SK(n, k)])] ->
				if
				:: !linf[t_d] ->
					send(t_d, LIVE, k, kc[SK(n, k)],
					     ko[SK(n, k)], ks[SK(n, k)],
					     kd[SK(n, k)]);
					linf[t_d] = 1
				:: else -> wantr[t_d] = 1
				fi
			:: else -> skip
			fi
		:: else -> skip
		fi;
		t_m++
	:: else -> break
	od;
	t_m = 0; t_d = 0
}

/* sync.c: round_begin */
inline round_begin(d)
{
	assert(!ro[d]);
	ro[d] = 1; pulld[d] = 0; pushd[d] = 0
}

/* sync.c: pull_begin (claims.c: claims_pull_begin): DIGEST(our HWMs). */
inline pull_begin(n, m, d)
{
	assert(ro[d] && !pullo[d] && !pulld[d]);
	sdig[SO(d, 0)] = hwm[HW(n, 0)];
	sdig[SO(d, 1)] = hwm[HW(n, 1)];
	send(d, DIGEST, hwm[HW(n, 0)], hwm[HW(n, 1)], 0, 0, 0);
	pullo[d] = 1
}

/* sync.c: sync_session_start */
inline session_start(n, m, d)
{
	if
	:: !ro[d] -> round_begin(d); pull_begin(n, m, d)
	:: else -> skip
	fi
}

/* sync.c: sync_round_maybe_complete */
inline maybe_complete(d)
{
	if
	:: ro[d] && pulld[d] && pushd[d] ->
		assert(!pullo[d] && push[d] == 0);
		ro[d] = 0; pulld[d] = 0; pushd[d] = 0; rounds[d] = 1;
		sdig[SO(d, 0)] = 0; sdig[SO(d, 1)] = 0
	:: else -> skip
	fi
}

/* push.c: sync_push_begin: snapshot the store (its HWMs and every log
 * entry above the peer's HWM for its origin, whatever our own HWM says). */
inline push_begin(n, d)
{
	assert(push[d] == 0 && spend[d] == 0);
	sh[SO(d, 0)] = hwm[HW(n, 0)];
	sh[SO(d, 1)] = hwm[HW(n, 1)];
	t_k = 0;
	do
	:: t_k < NK ->
		if
		:: kc[SK(n, t_k)] > 0 &&
		   ks[SK(n, t_k)] > pdig[SO(d, ko[SK(n, t_k)])] ->
			spend[d] = spend[d] | (1 << t_k);
			sc[SD(d, t_k)] = kc[SK(n, t_k)];
			so[SD(d, t_k)] = ko[SK(n, t_k)];
			ss[SD(d, t_k)] = ks[SK(n, t_k)];
			sdl[SD(d, t_k)] = kd[SK(n, t_k)]
		:: else -> skip
		fi;
		t_k++
	:: else -> break
	od;
	t_k = 0;
	unacked[d] = 0;
	push[d] = 1
}

/* A session's state when its connection is gone (sync_session_free, and
 * sync_session_new for the next connection). */
inline session_reset(d)
{
	ro[d] = 0; pullo[d] = 0; pulld[d] = 0; push[d] = 0; pushd[d] = 0;
	rounds[d] = 0; unacked[d] = 0; spend[d] = 0; linf[d] = 0;
	wantr[d] = 0;
	t_o = 0;
	do
	:: t_o < NO ->
		pdig[SO(d, t_o)] = 0; sdig[SO(d, t_o)] = 0;
		sh[SO(d, t_o)] = 0; lazy[SO(d, t_o)] = 0;
		pruned[SO(d, t_o)] = 0;
		t_o++
	:: else -> break
	od;
	t_k = 0;
	do
	:: t_k < NK ->
		sc[SD(d, t_k)] = 0; so[SD(d, t_k)] = 0; ss[SD(d, t_k)] = 0;
		sdl[SD(d, t_k)] = 0;
		t_k++
	:: else -> break
	od;
	t_o = 0; t_k = 0
}

/* push.c: push_step_key: one MBATCH of one snapshot entry, the lowest
 * pending key (key order; with 2 keys whose roles are symmetric in this
 * model, key order also covers either order of two log entries). */
inline push_key(d, k)
{
	send(d, BATCH, k, sc[SD(d, k)], so[SD(d, k)], ss[SD(d, k)],
	     sdl[SD(d, k)]);
	spend[d] = spend[d] & ~(1 << k);
	sc[SD(d, k)] = 0; so[SD(d, k)] = 0; ss[SD(d, k)] = 0;
	sdl[SD(d, k)] = 0;
	unacked[d]++
}

/* push.c: push_done_send (claims.c: claims_done_out): DONE(snapshot
 * HWMs, each lowered to our DIGEST of the round). */
inline push_done(d)
{
	t_v = (sh[SO(d, 0)] < sdig[SO(d, 0)] -> sh[SO(d, 0)] : sdig[SO(d, 0)]);
	t_q = (sh[SO(d, 1)] < sdig[SO(d, 1)] -> sh[SO(d, 1)] : sdig[SO(d, 1)]);
	send(d, DONE, t_v, t_q, 0, 0, 0);
	t_v = 0; t_q = 0;
	sh[SO(d, 0)] = 0; sh[SO(d, 1)] = 0;
	push[d] = 2;
	if
	:: unacked[d] == 0 -> push[d] = 0; pushd[d] = 1
	:: else -> skip
	fi
}

/* push.c: sync_pump -> push_step: frames while the credit allows (one
 * BATCH in flight here); DONE as soon as the snapshot is exhausted. */
inline pump(d)
{
	do
	:: push[d] == 1 && spend[d] == 0 -> push_done(d)
	:: push[d] == 1 && spend[d] != 0 && unacked[d] < CREDIT ->
		if
		:: spend[d] & 1 -> push_key(d, 0)
		:: else -> push_key(d, 1)
		fi
	:: else -> break
	od;
	maybe_complete(d)
}

/* ------------------------------------------------------------ receiving */

/* ACK(exchange, bytes) of one BATCH, abstracted: delivered with the
 * apply (the ACK's transit is not a separate step). sync.c: on_ack at
 * the sender, session d: credit back, the stream goes on (sync_pump),
 * the push is done once DONE went and every frame is ACKed. */
inline sender_acked(d)
{
	assert(push[d] != 0 && unacked[d] > 0);            /* EPROTO */
	unacked[d]--;
	if
	:: push[d] == 2 && unacked[d] == 0 -> push[d] = 0; pushd[d] = 1
	:: else -> skip
	fi;
	pump(d)
}

/* Node n handles the first message of channel m -> n; d = D(n, m). */
inline on_msg(n, m, d)
{
	q[D(m, n)]?mt, a1, a2, a3, a4, a5;
	if
	:: mt == DIGEST ->
		/* sync.c: receive (a DIGEST may open the round), on_digest
		 * (claims.c: claims_digest; no heal among honest nodes). */
		if
		:: !ro[d] && push[d] == 0 -> round_begin(d)
		:: else -> skip
		fi;
		assert(push[d] == 0 && !(ro[d] && pushd[d]));  /* EPROTO */
		pdig[SO(d, 0)] = a1; pdig[SO(d, 1)] = a2;
		if
		:: !pullo[d] && !pulld[d] -> pull_begin(n, m, d)
		:: else -> skip
		fi;
		push_begin(n, d);
		pump(d)
	:: mt == BATCH ->
		/* sync.c: on_entries -> apply_and_ack -> store_apply_batch,
		 * without HWMs; then ACK (exchange_id of the pull). */
		assert(pullo[d]);                               /* EPROTO */
		apply(n, a1, a2, a3, a4, a5);
#ifdef BUG_BATCH_RAISE
		if
		:: a4 > hwm[HW(n, a3)] -> hwm[HW(n, a3)] = a4
		:: else -> skip
		fi;
#endif
		sender_acked(D(m, n));
		if
		:: outc == 2 -> offer(n, m, a1)
		:: else -> skip
		fi
	:: mt == DONE ->
		/* sync.c: on_done; claims.c: claims_done (done_allowed: no
		 * more than the peer's DIGEST said); the raise is one
		 * store_apply_batch with no versions. */
		assert(pullo[d]);                               /* EPROTO */
#ifdef BUG_DONE_NO_RAISE
		a1 = 0; a2 = 0;
#endif
		t_v = (a1 < pdig[SO(d, 0)] -> a1 : pdig[SO(d, 0)]);
		if
		:: t_v > hwm[HW(n, 0)] -> hwm[HW(n, 0)] = t_v
		:: else -> skip
		fi;
		t_v = (a2 < pdig[SO(d, 1)] -> a2 : pdig[SO(d, 1)]);
		if
		:: t_v > hwm[HW(n, 1)] -> hwm[HW(n, 1)] = t_v
		:: else -> skip
		fi;
		t_v = 0;
		pullo[d] = 0; pulld[d] = 1;
		maybe_complete(d)
	:: mt == LIVE ->
		/* live.c: live_on_frame (live_raises): check, apply with ONE
		 * store_apply_batch carrying the gap-free HWM raise, PRUNE
		 * the origin on a duplicate, ACK(0, bytes); then offer what
		 * was applied to the other sessions. */
		apply(n, a1, a2, a3, a4, a5);
#ifdef BUG_LIVE_ANY
		if
		:: a4 > hwm[HW(n, a3)] -> hwm[HW(n, a3)] = a4
		:: else -> skip
		fi;
#else
		if
		:: a4 == hwm[HW(n, a3)] + 1 -> hwm[HW(n, a3)] = a4
		:: else -> skip
		fi;
#endif
		if
		:: outc == 0 && !pruned[SO(d, a3)] ->
			send(D(n, m), PRUNE, a3, 0, 0, 0, 0);
			pruned[SO(d, a3)] = 1
		:: else -> skip
		fi;
		/* ACK(0, bytes): the sender's frame is no longer in flight */
		linf[D(m, n)] = 0;
		if
		:: outc == 2 -> offer(n, m, a1)
		:: else -> skip
		fi
	:: mt == PRUNE ->
		/* live.c: the peer has origin a1 from elsewhere: lazy */
		lazy[SO(d, a1)] = 1
	:: mt == GRAFT ->
		/* live.c: the peer missed origin a1: eager again */
		lazy[SO(d, a1)] = 0
	fi;
	mt = DIGEST; a1 = 0; a2 = 0; a3 = 0; a4 = 0; a5 = 0; outc = 0
}

/* ------------------------------------------------------------ steps */

/* store/write.c: store_put / store_del at origin o (node o), then
 * live.c: sync_live_offer. */
inline local_write(o, k, dl)
{
	lseq[o]++;
	kc[SK(o, k)] = kc[SK(o, k)] + 1;
	ko[SK(o, k)] = o; ks[SK(o, k)] = lseq[o]; kd[SK(o, k)] = dl;
	hwm[HW(o, o)] = lseq[o];
	wk[WQ(o, lseq[o])] = k; wc[WQ(o, lseq[o])] = kc[SK(o, k)];
	offer(o, NOBODY, k);
	check_safety()
}

/* The connection of pair {a, b} is cut (either side's close): both
 * directions lose what is in flight, both sessions go. */
inline cut(a, b)
{
	do
	:: nempty(q[D(a, b)]) -> q[D(a, b)]?_, _, _, _, _, _
	:: empty(q[D(a, b)]) -> break
	od;
	do
	:: nempty(q[D(b, a)]) -> q[D(b, a)]?_, _, _, _, _, _
	:: empty(q[D(b, a)]) -> break
	od;
	session_reset(D(a, b));
	session_reset(D(b, a));
	up[P(a, b)] = 0;
	cuts++
}

#define QUIET (empty(q[0]) && empty(q[1]) && empty(q[2]) && \
	       empty(q[3]) && empty(q[4]) && empty(q[5]))
#define NO_ROUND (!ro[0] && !ro[1] && !ro[2] && !ro[3] && !ro[4] && !ro[5])

/* IHAVE, abstracted: node n's peer m holds an entry of origin o above
 * n's HWM (the IHAVE(o, s) that m would send lazily, with s above n's
 * HWM[o]) and n does not hold it. sync_live_tick GRAFTs only then. */
#define PEER_HAS_MORE(n, m, o) \
	(hwm[HW(m, o)] > hwm[HW(n, o)] || \
	 (ko[SK(m, 0)] == o && ks[SK(m, 0)] > hwm[HW(n, o)] && \
	  (kc[SK(n, 0)] != kc[SK(m, 0)] || ks[SK(n, 0)] != ks[SK(m, 0)])) || \
	 (ko[SK(m, 1)] == o && ks[SK(m, 1)] > hwm[HW(n, o)] && \
	  (kc[SK(n, 1)] != kc[SK(m, 1)] || ks[SK(n, 1)] != ks[SK(m, 1)])))

/* Steps of session d (node n, peer m): receive (which also streams:
 * sync_pump runs inside on_digest and on_ack), a round the node asks for
 * (live lost, or the periodic backstop within its budget), a GRAFT
 * (live.c: sync_live_tick) with the round it runs. */
#define SESSION_STEPS(n, m, d) \
	:: nempty(q[D(m, n)]) -> d_step { on_msg(n, m, d); check_safety() } \
	:: !final && LOSTROUNDS && up[P(n, m)] && !ro[d] && wantr[d] -> \
		d_step { wantr[d] = 0; session_start(n, m, d) } \
	:: !final && up[P(n, m)] && !ro[d] && periodic < PERIODIC -> \
		d_step { periodic++; session_start(n, m, d) } \
	:: !final && GRAFTS && up[P(n, m)] && pruned[SO(d, 0)] && \
	   PEER_HAS_MORE(n, m, 0) -> \
		d_step { pruned[SO(d, 0)] = 0; \
			 send(d, GRAFT, 0, 0, 0, 0, 0); \
			 session_start(n, m, d) } \
	:: !final && GRAFTS && up[P(n, m)] && pruned[SO(d, 1)] && \
	   PEER_HAS_MORE(n, m, 1) -> \
		d_step { pruned[SO(d, 1)] = 0; \
			 send(d, GRAFT, 1, 0, 0, 0, 0); \
			 session_start(n, m, d) }

#define WMAX(o) ((o) == 0 -> MAXW : MAXW1)
#define WRITE_STEPS(o, k) \
	:: !final && lseq[o] < WMAX(o) -> d_step { local_write(o, k, 0) } \
	:: !final && lseq[o] < WMAX(o) && kc[SK(o, k)] > 0 && \
	   !kd[SK(o, k)] -> \
		d_step { local_write(o, k, 1) }

#define LINK_STEPS(a, b) \
	:: !final && up[P(a, b)] && cuts < MAXCUTS -> d_step { cut(a, b) } \
	:: !final && !up[P(a, b)] -> \
		d_step { up[P(a, b)] = 1; session_start(a, b, D(a, b)); \
			 session_start(b, a, D(b, a)) }

/* The final phase: pair p = {a, b} runs one round, started by a; the
 * next pair starts when both sessions are idle again. */
#define FINAL_STEPS(p, a, b) \
	:: final && fstep == p && !fstarted && !ro[D(a, b)] && \
	   !ro[D(b, a)] -> d_step { fstarted = 1; \
				    session_start(a, b, D(a, b)) } \
	:: final && fstep == p && fstarted && !ro[D(a, b)] && \
	   !ro[D(b, a)] -> d_step { fstarted = 0; fstep++ }

active proctype world()
{
	/* Every pair is connected and has completed a round over empty
	 * stores (which moves nothing): live frames may go from the start. */
	d_step {
		up[0] = 1; up[1] = 1; up[2] = 1;
		rounds[0] = 1; rounds[1] = 1; rounds[2] = 1;
		rounds[3] = 1; rounds[4] = 1; rounds[5] = 1
	};
	do
	WRITE_STEPS(0, 0)
	WRITE_STEPS(0, 1)
	WRITE_STEPS(1, 0)
	WRITE_STEPS(1, 1)
	SESSION_STEPS(0, 1, 0)
	SESSION_STEPS(0, 2, 1)
	SESSION_STEPS(1, 0, 2)
	SESSION_STEPS(1, 2, 3)
	SESSION_STEPS(2, 0, 4)
	SESSION_STEPS(2, 1, 5)
	LINK_STEPS(0, 1)
	LINK_STEPS(0, 2)
	LINK_STEPS(1, 2)
	:: !final && QUIET && NO_ROUND ->
		d_step {
			final = 1;
			up[0] = 1; up[1] = 1; up[2] = 1
		}
	FINAL_STEPS(0, 0, 1)
	FINAL_STEPS(1, 0, 2)
	FINAL_STEPS(2, 1, 2)
	/* In one d_step: its loop counters are hidden, so outside an atomic
	 * sequence spin would take two iterations for one state. */
	:: final && fstep == 3 && QUIET -> d_step { check_convergence() }; break
	od;
end:
	skip
}
