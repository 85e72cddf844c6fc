/* SPDX-License-Identifier: MIT */
/*
 * filters: partial replication, a node's side (issue 13; src/sync/
 * filter.c has the session's rules): the HELLO it sends (capabilities
 * and its replicate set), what it learns of a peer's, and which members
 * a tombstone waits for.
 */
#include "node/net_int.h"

#include <stdlib.h>
#include <string.h>

int net_self_complete(const struct node_net *net)
{
	/* 0 for good once a narrower set dropped one of our own writes:
	 * our DONE then no longer speaks for our origin. */
	return store_self_complete(net->n->store);
}

int net_hello_filters(struct node_net *net, struct wire_hello *h,
		      uint8_t **buf, struct err *err)
{
	const struct prefixes *r = store_filter(net->n->store);

	*buf = NULL;
	h->flags |= WIRE_HELLO_FILTERS;
	if (net_self_complete(net))
		h->flags |= WIRE_HELLO_SELF_COMPLETE;
	h->replicate = NULL;
	h->replicate_len = 0;
	if (r->n == 0)
		return 0;       /* a full node's HELLO: no set */
	h->replicate_len = prefixes_encoded_len(r);
	*buf = malloc(h->replicate_len);
	if (*buf == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	prefixes_encode(r, *buf);
	h->replicate = *buf;
	return 0;
}

int net_hello_replicate(const struct wire_hello *h, struct prefixes *out,
			struct err *err)
{
	int rv;

	if (h->replicate == NULL)
		return 0;
	if ((h->flags & WIRE_HELLO_FILTERS) == 0)
		return err_set(err, RUMOR_EPROTO, "HELLO has a replicate set "
			       "without the FILTERS capability");
	rv = prefixes_decode(out, h->replicate, h->replicate_len,
			     "HELLO replicate set", err);
	if (rv == RUMOR_ECORRUPT)
		err->code = rv = RUMOR_EPROTO;
	if (rv != 0)
		return rv;
	if (out->n == 0)
		return err_set(err, RUMOR_EPROTO, "HELLO has an empty "
			       "replicate set (a full node sends none)");
	return 0;
}

/* Our HELLO: capabilities, and our replicate set for a partial node. */
void peer_send_hello(struct peer *p)
{
	struct node_net *net = p->net;
	struct wire_hello h;
	uint8_t *repl = NULL;
	struct err err;

	memset(&h, 0, sizeof h);
	h.proto_version = WIRE_PROTO_VERSION;
	h.listen_port = net->listen_port > 0 ? (uint16_t)net->listen_port : 0;
	h.mode = net->n->opt.mode == RUMOR_MODE_REPLICA ? WIRE_MODE_REPLICA
							 : WIRE_MODE_PEER;
	h.wall_ms = node_wall_ms(net->n);
	h.flags = net->n->opt.no_live ? 0 : WIRE_HELLO_LIVE;
	h.flags |= WIRE_HELLO_STRONG;
	if (!net->n->no_why)
		h.flags |= WIRE_HELLO_WHY;
	if (net_hello_filters(net, &h, &repl, &err) != 0) {
		peer_close(p, err.code, err.msg);
		return;
	}
	if (wire_encode_hello(&net->out, &h, &err) == 0)
		peer_send(p, &net->out);
	free(repl);
}

int peer_hello_filters(struct peer *p, const struct wire_hello *h,
		       struct err *err)
{
	struct prefixes got = { .n = 0 };
	struct sync_filters f;
	int rv;

	rv = net_hello_replicate(h, &got, err);
	if (rv != 0)
		return rv;
	memset(&f, 0, sizeof(f));
	f.ours = store_filter(p->net->n->store);
	f.peers = &got;
	f.peer_filters = (h->flags & WIRE_HELLO_FILTERS) != 0;
	f.peer_self_complete = (h->flags & WIRE_HELLO_SELF_COMPLETE) != 0;
	f.self_complete = net_self_complete(p->net);
	rv = sync_session_set_filters(p->sync, &f, err);
	if (rv != 0) {
		prefixes_free(&got);
		return rv;
	}
	prefixes_free(&p->repl);
	p->repl = got;
	p->filters = f.peer_filters;
	p->self_complete = f.peer_self_complete;
	return 0;
}

int net_peer_has_seen(struct peer *p, const uint8_t *origin, uint64_t seq)
{
	const struct store_hwm *h;
	size_t k, n;

	h = sync_session_peer_hwms(p->sync, &n);
	for (k = 0; k < n; k++)
		if (memcmp(h[k].origin, origin, STORE_ORIGIN_BYTES) == 0)
			return h[k].seq >= seq;
	return 0;
}

/* The second stage of tombstone_covered (sched.c): a member whose
 * replicate set does not take the key never needs the tombstone, so it
 * does not hold it back; every other must have seen it. */
int net_tombstone_covered_key(void *arg, const uint8_t *origin,
			      uint64_t seq, const void *key, size_t len)
{
	struct node_net *net = arg;
	size_t i;

	/* A key locked by a strong write keeps its tombstone until the
	 * write ends here: the intent may carry an older version of the key,
	 * which the tombstone must still beat when it is applied. */
	if (node_key_locked(net->n, key, len))
		return 0;
	for (i = 0; i < members_count(&net->members); i++) {
		const struct member *m = members_at(&net->members, i);
		struct peer *p = peer_find_open(net, m->id, NULL);

		if (p == NULL || p->sync == NULL)
			return 0;
		if (p->repl.n > 0 && !prefixes_match(&p->repl, key, len))
			continue;
		if (!net_peer_has_seen(p, origin, seq))
			return 0;
	}
	return members_count(&net->members) > 0;
}
