/* SPDX-License-Identifier: MIT */
/*
 * store intent: the pending intents of strong writes (i keyspace) and
 * the outcomes of the last ones that ended (o keyspace), written synced,
 * and the commits that end an intent in the same WriteBatch as their
 * versions (store.h, "strong writes").
 */
#include "store/store_int.h"
#include "lib/endian.h"

#include <stdlib.h>
#include <string.h>

/* The ring slot of the ith kept outcome (0: the oldest). */
static struct outcome_ref *outq_at(struct store *s, size_t i)
{
	return &s->outq[(s->outq_head + i) % s->outq_cap];
}

static int outq_alloc(struct store *s)
{
	if (s->outq == NULL)
		s->outq = calloc(s->outq_cap, sizeof *s->outq);
	return s->outq != NULL ? 0 : -1;
}

/* The kept outcome of txid, or NULL. Linear: ASKs and commits are rare
 * beside the writes they end. */
static struct outcome_ref *outq_find(struct store *s, const uint8_t *txid)
{
	size_t i;

	for (i = s->outq_n; i-- > 0;)
		if (memcmp(outq_at(s, i)->txid, txid, STORE_TXID_BYTES) == 0)
			return outq_at(s, i);
	return NULL;
}

/* After the commit of a batch that added outcome n of txid (and dropped
 * the oldest when the ring was full). */
static void outq_push(struct store *s, const uint8_t *txid, uint64_t n)
{
	struct outcome_ref *r;

	if (s->outq_n == s->outq_cap) {
		s->outq_head = (s->outq_head + 1) % s->outq_cap;
		s->outq_n--;
	}
	r = outq_at(s, s->outq_n);
	memcpy(r->txid, txid, STORE_TXID_BYTES);
	r->n = n;
	s->outq_n++;
	s->outcome_next = n + 1;
}

int store__intent_load(struct store *s, const char *k, size_t klen,
		       const char *v, size_t vlen, struct err *err)
{
	struct store_intent in;
	struct store_tx_outcome oc;
	const uint8_t *txid;
	uint64_t n;

	if (k[0] == PFX_INTENT) {
		if (klen != INTENT_KEY_BYTES ||
		    format_intent_decode(v, vlen, &in) != 0)
			return err_set(err, RUMOR_ECORRUPT,
				       "store %s: unreadable intent", s->dir);
		s->n_intents++;
		return 0;
	}
	if (format_outcome_key_decode(k, klen, &n) != 0 ||
	    format_outcome_decode(v, vlen, &txid, &oc) != 0)
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: unreadable outcome", s->dir);
	if (outq_alloc(s) != 0)
		return err_set(err, RUMOR_ENOMEM, "store %s: out of memory",
			       s->dir);
	/* Outcomes come in number order; a ring that overflows keeps the
	 * last ones (a crash cannot leave more: each add drops one). */
	outq_push(s, txid, n);
	return 0;
}

/* What a strong write adds to its batch: the intent's deletion and the
 * outcome (oc NULL: the clocks and version fields of the local batch
 * being committed). */
struct resolve {
	const uint8_t *txid;
	const struct store_tx_outcome *oc;
	size_t n_ops;                   /* local commit: ops of the batch */
	int had_intent;
	int add_outcome;
	uint64_t n;                     /* the outcome's number */
};

static int resolve_add(struct store *s, void *arg, struct err *err)
{
	struct resolve *r = arg;
	struct store_tx_outcome local;
	const struct store_tx_outcome *oc = r->oc;
	char ik[INTENT_KEY_BYTES], ok[OUTCOME_KEY_BYTES];
	uint64_t *clocks = NULL;
	uint8_t *buf;
	size_t i, len;

	format_intent_key(ik, r->txid);
	leveldb_writebatch_delete(s->batch, ik, sizeof ik);
	if (!r->add_outcome)
		return 0;
	if (oc == NULL) {
		clocks = malloc(r->n_ops * sizeof *clocks);
		if (clocks == NULL)
			goto nomem;
		for (i = 0; i < r->n_ops; i++)
			clocks[i] = s->wb[i].clock;
		local.state = STORE_TX_COMMITTED;
		local.first_seq = s->local_seq + 1;
		local.wall_ms = s->last_wall_ms;
		local.clocks = clocks;
		local.n_clocks = r->n_ops;
		oc = &local;
	}
	buf = malloc(OUTCOME_HEAD_BYTES + 8 * oc->n_clocks);
	if (buf == NULL)
		goto nomem;
	len = format_outcome_encode(buf, r->txid, oc);
	format_outcome_key(ok, r->n);
	leveldb_writebatch_put(s->batch, ok, sizeof ok, (const char *)buf, len);
	free(buf);
	free(clocks);
	/* The ring is full: its oldest goes in the same batch. */
	if (s->outq_n == s->outq_cap) {
		format_outcome_key(ok, outq_at(s, 0)->n);
		leveldb_writebatch_delete(s->batch, ok, sizeof ok);
	}
	return 0;
nomem:
	free(clocks);
	return err_set(err, RUMOR_ENOMEM, "store %s: out of memory", s->dir);
}

/* Whether txid has a stored intent (a LevelDB read). */
static int intent_exists(struct store *s, const uint8_t *txid, int *found,
			 struct err *err)
{
	char ik[INTENT_KEY_BYTES], *lerr = NULL, *v;
	size_t vlen;

	format_intent_key(ik, txid);
	v = leveldb_get(s->db, s->ropts, ik, sizeof ik, &vlen, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "intent read", err);
	*found = v != NULL;
	leveldb_free(v);
	return 0;
}

static int resolve_begin(struct store *s, struct resolve *r,
			 const uint8_t *txid, struct err *err)
{
	int rv;

	memset(r, 0, sizeof *r);
	r->txid = txid;
	if (outq_alloc(s) != 0)
		return err_set(err, RUMOR_ENOMEM, "store %s: out of memory",
			       s->dir);
	rv = intent_exists(s, txid, &r->had_intent, err);
	if (rv != 0)
		return rv;
	r->add_outcome = outq_find(s, txid) == NULL;
	r->n = s->outcome_next;
	return 0;
}

static void resolve_end(struct store *s, struct resolve *r)
{
	if (r->had_intent && s->n_intents > 0)
		s->n_intents--;
	if (r->add_outcome)
		outq_push(s, r->txid, r->n);
}

/* Checks in (its ops, counts and bounds) and that txid is new here. */
static int intent_check(struct store *s, const struct store_intent *in,
			struct err *err)
{
	size_t i, bytes = 0;
	int rv, found;

	if (in->ops == NULL && in->n_ops > 0)
		return err_set(err, RUMOR_EINVAL, "store_intent_put: NULL argument");
	if (in->participants == NULL)
		return err_set(err, RUMOR_EINVAL, "store_intent_put: NULL argument");
	if (in->n_participants == 0 ||
	    in->n_participants > STORE_INTENT_PARTICIPANTS_MAX)
		return err_set(err, RUMOR_EINVAL,
			       "store_intent_put: %zu participants (1..%u)",
			       in->n_participants,
			       STORE_INTENT_PARTICIPANTS_MAX);
	if (in->n_ops > STORE_WRITE_BATCH_MAX)
		return err_set(err, RUMOR_ETOOBIG,
			       "store_intent_put: %zu ops (at most %u)",
			       in->n_ops, STORE_WRITE_BATCH_MAX);
	for (i = 0; i < in->n_ops; i++) {
		rv = store__check_key(in->ops[i].key, in->ops[i].key_len, err);
		if (rv == 0 && !in->ops[i].del)
			rv = store__check_value(in->ops[i].value,
						in->ops[i].value_len, err);
		if (rv == 0 && in->ops[i].del && in->ops[i].value_len != 0)
			rv = err_set(err, RUMOR_EINVAL,
				     "store_intent_put: a delete with a value");
		if (rv != 0)
			return rv;
		bytes += in->ops[i].key_len + in->ops[i].value_len;
		if (bytes > STORE_WRITE_BATCH_BYTES)
			return err_set(err, RUMOR_ETOOBIG,
				       "store_intent_put: more than %u bytes",
				       STORE_WRITE_BATCH_BYTES);
	}
	rv = intent_exists(s, in->txid, &found, err);
	if (rv != 0)
		return rv;
	if (found || outq_find(s, in->txid) != NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_intent_put: the transaction is known already");
	return 0;
}

int store_intent_put(struct store *s, const struct store_intent *in,
		     struct err *err)
{
	if (in == NULL)
		return err_set(err, RUMOR_EINVAL, "store_intent_put: NULL argument");
	return store_intents_put(s, in, 1, err);
}

int store_intents_put(struct store *s, const struct store_intent *ins,
		      size_t n, struct err *err)
{
	char ik[INTENT_KEY_BYTES];
	uint8_t *buf;
	size_t i, j, len;
	int rv;

	if (s == NULL || ins == NULL || n == 0)
		return err_set(err, RUMOR_EINVAL, "store_intent_put: NULL argument");
	rv = store__check_writable(s, "store_intent_put", err);
	if (rv != 0)
		return rv;
	if (outq_alloc(s) != 0)
		return err_set(err, RUMOR_ENOMEM, "store %s: out of memory",
			       s->dir);
	for (i = 0; i < n; i++) {
		rv = intent_check(s, &ins[i], err);
		if (rv != 0)
			return rv;
		for (j = 0; j < i; j++)
			if (memcmp(ins[j].txid, ins[i].txid,
				   STORE_TXID_BYTES) == 0)
				return err_set(err, RUMOR_EINVAL,
					       "store_intent_put: a transaction twice in one batch");
	}
	leveldb_writebatch_clear(s->batch);
	for (i = 0; i < n; i++) {
		buf = malloc(format_intent_size(&ins[i]));
		if (buf == NULL) {
			leveldb_writebatch_clear(s->batch);
			return err_set(err, RUMOR_ENOMEM,
				       "store %s: out of memory", s->dir);
		}
		len = format_intent_encode(buf, &ins[i]);
		format_intent_key(ik, ins[i].txid);
		leveldb_writebatch_put(s->batch, ik, sizeof ik,
				       (const char *)buf, len);
		free(buf);
	}
	/* Synced: the votes that follow promise the intents are kept. */
	rv = store__commit_sync(s, "intent", err);
	if (rv != 0)
		return rv;
	s->n_intents += n;
	return 0;
}

int store_intent_abort(struct store *s, const uint8_t *txid,
		       struct err *err)
{
	struct store_tx_outcome oc = {STORE_TX_ABORTED, 0, 0, NULL, 0};
	struct resolve r;
	int rv;

	if (s == NULL || txid == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_intent_abort: NULL argument");
	rv = store__check_writable(s, "store_intent_abort", err);
	if (rv == 0)
		rv = resolve_begin(s, &r, txid, err);
	if (rv != 0)
		return rv;
	if (!r.had_intent && !r.add_outcome)
		return 0;
	r.oc = &oc;
	leveldb_writebatch_clear(s->batch);
	rv = resolve_add(s, &r, err);
	if (rv == 0)
		rv = store__commit_sync(s, "intent abort", err);
	if (rv != 0) {
		leveldb_writebatch_clear(s->batch);
		return rv;
	}
	resolve_end(s, &r);
	return 0;
}

int store_intent_drop(struct store *s, const uint8_t *txid,
		      struct err *err)
{
	struct resolve r;
	int rv;

	if (s == NULL || txid == NULL)
		return err_set(err, RUMOR_EINVAL,
			       "store_intent_drop: NULL argument");
	rv = store__check_writable(s, "store_intent_drop", err);
	if (rv == 0)
		rv = resolve_begin(s, &r, txid, err);
	if (rv != 0)
		return rv;
	if (!r.had_intent)
		return 0;
	r.add_outcome = 0;
	leveldb_writebatch_clear(s->batch);
	rv = resolve_add(s, &r, err);
	if (rv == 0)
		rv = store__commit_sync(s, "intent drop", err);
	if (rv != 0) {
		leveldb_writebatch_clear(s->batch);
		return rv;
	}
	resolve_end(s, &r);
	return 0;
}

int store_intent_commit_local(struct store *s, const uint8_t *txid,
			      const struct store_op *ops, size_t n,
			      const uint64_t *clock_min, uint64_t *clocks,
			      uint64_t *first_seq, uint64_t *wall_ms,
			      struct err *err)
{
	struct store_extra extra = {resolve_add, NULL, "strong commit"};
	struct resolve r;
	uint64_t first = 0;
	size_t i;
	int rv;

	if (s == NULL || txid == NULL || n == 0)
		return err_set(err, RUMOR_EINVAL,
			       "store_intent_commit_local: NULL argument or no op");
	rv = store__check_writable(s, "store_intent_commit_local", err);
	if (rv == 0)
		rv = resolve_begin(s, &r, txid, err);
	if (rv != 0)
		return rv;
	r.n_ops = n;
	extra.arg = &r;
	s->extra = &extra;
	s->clock_min = clock_min;
	rv = store_write_batch(s, ops, n, &first, err);
	s->extra = NULL;
	s->clock_min = NULL;
	if (rv != 0)
		return rv;
	resolve_end(s, &r);
	for (i = 0; clocks != NULL && i < n; i++)
		clocks[i] = s->wb[i].clock;
	if (first_seq != NULL)
		*first_seq = first;
	if (wall_ms != NULL)
		*wall_ms = s->last_wall_ms;
	return 0;
}

int store_intent_commit_remote(struct store *s, const uint8_t *txid,
			       const struct rumor_version *vs, size_t n,
			       const struct store_tx_outcome *oc, int *outcomes,
			       struct err *err)
{
	struct store_extra extra = {resolve_add, NULL, "strong apply"};
	struct resolve r;
	int rv;

	if (s == NULL || txid == NULL || oc == NULL ||
	    oc->state != STORE_TX_COMMITTED)
		return err_set(err, RUMOR_EINVAL,
			       "store_intent_commit_remote: bad argument");
	rv = store__check_writable(s, "store_intent_commit_remote", err);
	if (rv == 0)
		rv = resolve_begin(s, &r, txid, err);
	if (rv != 0)
		return rv;
	r.oc = oc;
	extra.arg = &r;
	s->extra = &extra;
	rv = store_apply_batch(s, vs, n, NULL, 0, outcomes, err);
	s->extra = NULL;
	if (rv != 0)
		return rv;
	resolve_end(s, &r);
	return 0;
}

int store_intents_scan(struct store *s, store_intent_cb cb, void *arg,
		       struct err *err)
{
	struct store_intent in;
	struct store_intent_op *ops = NULL;
	leveldb_iterator_t *it;
	const char *k, *v;
	char *lerr = NULL;
	size_t klen, vlen, i, pos;
	int rv = 0;

	it = leveldb_create_iterator(s->db, s->ropts);
	for (leveldb_iter_seek(it, "i", 1); rv == 0 && leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen == 0 || k[0] != PFX_INTENT)
			break;
		v = leveldb_iter_value(it, &vlen);
		if (klen != INTENT_KEY_BYTES ||
		    format_intent_decode(v, vlen, &in) != 0) {
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: unreadable intent", s->dir);
			break;
		}
		memcpy(in.txid, k + 1, STORE_TXID_BYTES);
		free(ops);
		ops = malloc((in.n_ops > 0 ? in.n_ops : 1) * sizeof *ops);
		if (ops == NULL) {
			rv = err_set(err, RUMOR_ENOMEM,
				     "store %s: out of memory", s->dir);
			break;
		}
		pos = INTENT_HEAD_BYTES + in.n_participants * STORE_ORIGIN_BYTES;
		for (i = 0; i < in.n_ops; i++)
			(void)format_intent_op(v, vlen, &pos, &ops[i]);
		in.ops = ops;
		if (cb(arg, &in) != 0)
			break;
	}
	free(ops);
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr != NULL && rv == 0)
		return store__db_error(s, lerr, "intent scan", err);
	leveldb_free(lerr);
	return rv;
}

int store_outcome_get(struct store *s, const uint8_t *txid,
		      struct store_tx_outcome *oc, struct err *err)
{
	struct outcome_ref *r = s->outq != NULL ? outq_find(s, txid) : NULL;
	char ok[OUTCOME_KEY_BYTES], *lerr = NULL, *v;
	const uint8_t *id;
	uint64_t *clocks = NULL;
	size_t vlen, i;

	if (r == NULL)
		return err_set(err, RUMOR_ENOTFOUND, "no outcome kept");
	format_outcome_key(ok, r->n);
	v = leveldb_get(s->db, s->ropts, ok, sizeof ok, &vlen, &lerr);
	if (lerr != NULL)
		return store__db_error(s, lerr, "outcome read", err);
	if (v == NULL || format_outcome_decode(v, vlen, &id, oc) != 0 ||
	    memcmp(id, txid, STORE_TXID_BYTES) != 0) {
		leveldb_free(v);
		return err_set(err, RUMOR_ECORRUPT,
			       "store %s: outcome %llu unreadable", s->dir,
			       (unsigned long long)r->n);
	}
	if (oc->n_clocks > 0) {
		clocks = malloc(oc->n_clocks * sizeof *clocks);
		if (clocks == NULL) {
			leveldb_free(v);
			return err_set(err, RUMOR_ENOMEM, "out of memory");
		}
		for (i = 0; i < oc->n_clocks; i++)
			clocks[i] = format_outcome_clock(v, i);
	}
	oc->clocks = clocks;
	leveldb_free(v);
	return 0;
}

size_t store_intents_count(const struct store *s)
{
	return s->n_intents;
}

size_t store_outcomes_count(const struct store *s)
{
	return s->outq_n;
}

int store__intent_check(struct store *s, struct err *err)
{
	struct store_intent in;
	struct store_tx_outcome oc;
	leveldb_readoptions_t *ro = leveldb_readoptions_create();
	leveldb_iterator_t *it;
	const uint8_t *txid;
	const char *k, *v;
	char *lerr = NULL;
	size_t klen, vlen, intents = 0, outcomes = 0;
	uint64_t n;
	int rv = 0;

	leveldb_readoptions_set_fill_cache(ro, 0);
	it = leveldb_create_iterator(s->db, ro);
	for (leveldb_iter_seek(it, "i", 1); rv == 0 && leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		v = leveldb_iter_value(it, &vlen);
		if (klen == 0 || k[0] != PFX_INTENT)
			break;
		if (klen != INTENT_KEY_BYTES ||
		    format_intent_decode(v, vlen, &in) != 0)
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: check: an unreadable intent",
				     s->dir);
		intents++;
	}
	for (leveldb_iter_seek(it, "o", 1); rv == 0 && leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		v = leveldb_iter_value(it, &vlen);
		if (klen == 0 || k[0] != PFX_OUTCOME)
			break;
		if (format_outcome_key_decode(k, klen, &n) != 0 ||
		    format_outcome_decode(v, vlen, &txid, &oc) != 0)
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: check: an unreadable outcome",
				     s->dir);
		else if (outcomes >= s->outq_n ||
			 outq_at(s, outcomes)->n != n ||
			 memcmp(outq_at(s, outcomes)->txid, txid,
				STORE_TXID_BYTES) != 0)
			rv = err_set(err, RUMOR_ECORRUPT,
				     "store %s: check: outcome %llu is not the one kept in memory",
				     s->dir, (unsigned long long)n);
		outcomes++;
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	leveldb_readoptions_destroy(ro);
	if (lerr != NULL) {
		leveldb_free(lerr);
		if (rv == 0)
			rv = err_set(err, RUMOR_ECORRUPT, "store %s: check: iterator",
				     s->dir);
	}
	if (rv == 0 && (intents != s->n_intents || outcomes != s->outq_n))
		rv = err_set(err, RUMOR_ECORRUPT,
			     "store %s: check: %zu intents and %zu outcomes stored, %zu and %zu in memory",
			     s->dir, intents, outcomes, s->n_intents, s->outq_n);
	if (rv == 0 && s->outq_n > s->outq_cap)
		rv = err_set(err, RUMOR_ECORRUPT, "store %s: check: too many outcomes", s->dir);
	return rv;
}
