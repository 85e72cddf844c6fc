/* SPDX-License-Identifier: MIT */
/* sim_evil: an adversarial peer on a simulated host (sim_evil.h). */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tests/lib/sim_evil.h"

static void evil_on_open(struct io_conn *c)
{
	struct evil *e = c->data;

	e->open = 1;
}

static void record_hwms(const struct wire_digest *d, uint64_t *id,
			size_t *n, uint8_t (*origin)[WIRE_ORIGIN_BYTES],
			uint64_t *hwm)
{
	size_t i;

	*id = d->exchange_id;
	*n = d->n < EVIL_DIGEST_MAX ? d->n : EVIL_DIGEST_MAX;
	for (i = 0; i < *n; i++) {
		memcpy(origin[i], d->hwms[i].origin, WIRE_ORIGIN_BYTES);
		hwm[i] = d->hwms[i].hwm;
	}
}

/* With auto_ack: ACKs a frame of the node's stream as applied. */
static void evil_ack(struct evil *e, uint64_t exchange_id, uint64_t bytes)
{
	struct wire_msg a;

	if (!e->auto_ack)
		return;
	memset(&a, 0, sizeof a);
	a.type = WIRE_ACK;
	a.u.ack.exchange_id = exchange_id;
	a.u.ack.bytes = bytes;
	(void)evil_send(e, &a);
}

static void record_vote(struct evil *e, const struct wire_strong *v)
{
	if (v->yes)
		e->votes_yes++;
	else
		e->votes_no[v->reason < EVIL_REASONS ? v->reason :
			    EVIL_REASONS - 1]++;
	memcpy(e->vote_txid, v->txid, WIRE_TXID_BYTES);
	e->vote_clock = v->yes && v->n_clocks > 0 ? v->clocks[0] : 0;
}

static void record_why_ask(struct evil *e, const struct wire_why *w)
{
	size_t i;

	e->why_id = w->id;
	e->n_why_origins = w->n_origins < EVIL_DIGEST_MAX ? w->n_origins :
		EVIL_DIGEST_MAX;
	for (i = 0; i < e->n_why_origins; i++)
		memcpy(e->why_origins[i], w->origins[i], WIRE_ORIGIN_BYTES);
}

static void evil_on_message(struct io_conn *c, const uint8_t *msg, size_t len)
{
	struct evil *e = c->data;
	struct wire_msg m;
	struct err err;

	err_clear(&err);
	if (wire_decode(&e->dec, msg, len, &m, &err) != 0)
		return;
	if ((int)m.type >= 0 && m.type <= WIRE_TYPE_MAX)
		e->received[m.type]++;
	switch (m.type) {
	case WIRE_DIGEST:
		record_hwms(&m.u.digest, &e->digest_id, &e->n_digest,
			    e->digest_origin, e->digest_hwm);
		break;
	case WIRE_DONE:
		record_hwms(&m.u.digest, &e->done_id, &e->n_done,
			    e->done_origin, e->done_hwm);
		break;
	case WIRE_BATCH:
		e->entries_in += m.u.batch.n;
		evil_ack(e, m.u.batch.exchange_id, m.u.batch.payload_bytes);
		break;
	case WIRE_MBATCH:
		e->entries_in += m.u.mbatch.n;
		evil_ack(e, m.u.mbatch.exchange_id, m.u.mbatch.payload_bytes);
		break;
	case WIRE_VOTE:
		record_vote(e, &m.u.strong);
		break;
	case WIRE_WHY_ASK:
		record_why_ask(e, &m.u.why);
		break;
	default:
		break;
	}
}

static void evil_on_drained(struct io_conn *c)
{
	(void)c;
}

static void evil_on_closed(struct io_conn *c, int reason, const char *detail)
{
	struct evil *e = c->data;

	e->closed = 1;
	e->open = 0;
	e->close_reason = reason;
	snprintf(e->close_detail, sizeof e->close_detail, "%s",
		 detail != NULL ? detail : "");
}

int evil_dial(struct evil **out, struct sim *s, int host, int target_host,
	      int port, const uint8_t network_key[32], uint64_t key_seed)
{
	struct sockaddr_in sin;
	uint8_t seed[crypto_sign_SEEDBYTES];
	char addr[32];
	struct evil *e;
	struct err err;
	int rv;

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return RUMOR_ENOMEM;
	e->sim = s;
	e->host = host;
	e->target_host = target_host;
	memset(seed, 0, sizeof seed);
	memcpy(seed, &key_seed, sizeof key_seed);
	seed[sizeof seed - 1] = 0xe7;     /* never a node's seed */
	crypto_sign_seed_keypair(e->id.public_key, e->id.secret_key, seed);
	memcpy(e->network_key, network_key, NETWORK_KEY_BYTES);
	e->cfg.identity = &e->id;
	e->cfg.network_key = e->network_key;
	wire_decoder_init(&e->dec);
	wire_buf_init(&e->out);
	sim_host_addr(target_host, addr, sizeof addr);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		evil_free(e);
		return RUMOR_EINVAL;
	}
	err_clear(&err);
	rv = sim_host_io(s, host)->ops->dial(sim_host_io(s, host), &e->cfg,
					     (const struct sockaddr *)&sin,
					     NULL, &e->conn, &err);
	if (rv != 0) {
		e->conn = NULL;
		evil_free(e);
		return rv;
	}
	e->conn->data = e;
	e->conn->handlers.open = evil_on_open;
	e->conn->handlers.message = evil_on_message;
	e->conn->handlers.drained = evil_on_drained;
	e->conn->handlers.closed = evil_on_closed;
	*out = e;
	return 0;
}

static int evil_settled(void *arg)
{
	struct evil *e = arg;

	return e->open || e->closed;
}

int evil_wait_open(struct evil *e, uint64_t deadline)
{
	sim_run_while_not(e->sim, evil_settled, e, deadline);
	if (!e->open)
		return 0;
	return evil_hello(e) == 0;
}

int evil_send(struct evil *e, const struct wire_msg *m)
{
	struct err err;
	int rv;

	if (e->conn == NULL || e->closed)
		return RUMOR_ECLOSED;
	err_clear(&err);
	wire_buf_reset(&e->out);
	rv = wire_encode_msg(&e->out, m, &err);
	if (rv != 0)
		return rv;
	return io_conn_send(e->conn, e->out.data, e->out.len, &err);
}

int evil_hello(struct evil *e)
{
	struct wire_msg m;

	memset(&m, 0, sizeof m);
	m.type = WIRE_HELLO;
	m.u.hello.proto_version = WIRE_PROTO_VERSION;
	m.u.hello.mode = WIRE_MODE_PEER;
	m.u.hello.wall_ms = io_wall_ms(sim_host_io(e->sim, e->host));
	m.u.hello.flags = e->hello_flags;
	return evil_send(e, &m);
}

int evil_send_hwms(struct evil *e, enum wire_type type, uint64_t exchange_id,
		   const uint8_t (*origins)[WIRE_ORIGIN_BYTES],
		   const uint64_t *hwms, size_t n)
{
	struct wire_hwm *h;
	struct wire_msg m;
	size_t i;
	int rv;

	if (n > WIRE_DIGEST_MAX)
		return RUMOR_EINVAL;
	h = calloc(n ? n : 1, sizeof(*h));
	if (h == NULL)
		return RUMOR_ENOMEM;
	for (i = 0; i < n; i++) {
		h[i].origin = origins[i];
		h[i].hwm = hwms[i];
	}
	memset(&m, 0, sizeof m);
	m.type = type;
	m.u.digest.exchange_id = exchange_id;
	m.u.digest.hwms = h;
	m.u.digest.n = n;
	rv = evil_send(e, &m);
	free(h);
	return rv;
}

int evil_send_entry(struct evil *e, uint64_t exchange_id,
		    const uint8_t *origin, const uint8_t *key, size_t key_len,
		    const uint8_t *value, size_t value_len, uint64_t seq,
		    uint64_t clock, int deleted)
{
	struct wire_entry en;
	struct wire_msg m;

	memset(&en, 0, sizeof en);
	en.key = key;
	en.key_len = key_len;
	en.value = deleted ? NULL : value;
	en.value_len = deleted ? 0 : value_len;
	en.seq = seq;
	en.clock = clock;
	en.wall_ms = io_wall_ms(sim_host_io(e->sim, e->host));
	en.deleted = deleted;
	memset(&m, 0, sizeof m);
	m.type = WIRE_BATCH;
	m.u.batch.exchange_id = exchange_id;
	m.u.batch.origin = origin;
	m.u.batch.entries = &en;
	m.u.batch.n = 1;
	m.u.batch.payload_bytes = key_len + en.value_len;
	return evil_send(e, &m);
}

void evil_pause(struct evil *e)
{
	if (e->conn != NULL && !e->closed) {
		io_conn_pause(e->conn);
		e->paused = 1;
	}
}

void evil_resume(struct evil *e)
{
	if (e->conn != NULL && !e->closed) {
		io_conn_resume(e->conn);
		e->paused = 0;
	}
}

int64_t evil_digest_hwm(const struct evil *e, const uint8_t *origin)
{
	size_t i;

	for (i = 0; i < e->n_digest; i++)
		if (memcmp(e->digest_origin[i], origin, WIRE_ORIGIN_BYTES) == 0)
			return (int64_t)e->digest_hwm[i];
	return -1;
}

size_t evil_backlog(const struct evil *e)
{
	size_t i, n = sim_conn_count(e->sim);

	for (i = 0; i < n; i++) {
		struct io_conn *c = sim_conn_at(e->sim, i);

		if (sim_conn_host(c) == e->target_host && c->is_open &&
		    memcmp(c->peer_key, e->id.public_key,
			   sizeof e->id.public_key) == 0)
			return io_conn_queued(c);
	}
	return 0;
}

static void evil_closed_cb(struct io_conn *c)
{
	(void)c;
}

void evil_free(struct evil *e)
{
	if (e == NULL)
		return;
	if (e->conn != NULL)
		io_conn_close(e->conn, evil_closed_cb);
	wire_decoder_free(&e->dec);
	wire_buf_free(&e->out);
	sodium_memzero(&e->id, sizeof e->id);
	free(e);
}
