/* SPDX-License-Identifier: MIT */
/*
 * tail: change positions and change streams (rumor_position,
 * rumor_changes, rumor_tail_*; include/rumor.h), over the store's change
 * feed (src/store/feed.c).
 *
 * A stream is a cursor: pos, the last position it gave or passed over.
 * Until it has caught up it reads the feed after pos on the node's loop,
 * TAIL_BATCH entries a turn (a short timer through the io, so that it
 * runs in the simulator too, and a long history neither blocks the loop
 * nor fills memory). Once a read finds the end of the feed, the stream is
 * live: each change the store reports (node_on_change, after it is
 * durable) is given at once. Both paths see the same order: a change is
 * reported right after its commit, and reports go in position order, so
 * a live stream gets position pos + 1 next. A paused stream stops being
 * live and keeps nothing: resumed, it reads the feed again from pos; a
 * key changed meanwhile is found once, at its latest position (the
 * changes it superseded are counted in skipped, for the control socket's
 * GAP).
 */
#include "node/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Feed entries one loop turn of a catching-up stream reads, and the
 * pause between two reads. Not 0 ms: libuv runs a timer restarted with 0
 * from its own callback again in the same pass, before any I/O, so that
 * a long history would hold the loop; 1 ms lets the loop poll between
 * batches (256 entries a ms is far above what a consumer takes). */
#define TAIL_BATCH 256u
#define TAIL_PAUSE_MS 1u

struct rumor_tail {
	struct rumor *n;             /* NULL once the node closed */
	struct rumor_tail *next;     /* n->tails */
	uint8_t *prefix;
	size_t prefix_len;
	rumor_change_pos_cb cb;
	void *arg;
	uint64_t pos;
	uint64_t skipped;            /* positions passed that the feed no
					longer held */
	struct io_timer *timer;      /* the next read of the feed */
	int paused, live, in_cb, closed;
};

static int tail_match(const struct rumor_tail *t, const void *key,
		      size_t key_len)
{
	return key_len >= t->prefix_len &&
	       memcmp(key, t->prefix, t->prefix_len) == 0;
}

/* RUMOR_ETOOOLD unless since is 0 or at least the floor. */
static int check_since(struct rumor *n, uint64_t since, struct err *err)
{
	uint64_t floor = store_feed_floor(n->store);

	if (since != 0 && since < floor)
		return err_set(err, RUMOR_ETOOOLD,
			       "position %llu is older than the oldest this node can serve: the floor is %llu (positions at or above it, or 0 for the whole store)",
			       (unsigned long long)since,
			       (unsigned long long)floor);
	return 0;
}

int rumor_position(struct rumor *n, uint64_t *head, uint64_t *floor)
{
	if (n == NULL)
		return RUMOR_EINVAL;
	if (head != NULL)
		*head = store_feed_head(n->store);
	if (floor != NULL)
		*floor = store_feed_floor(n->store);
	return 0;
}

/* ------------------------------------------------------------ rumor_changes */

struct changes_walk {
	const void *prefix;
	size_t prefix_len;
	uint64_t max, given;
	rumor_change_pos_cb cb;
	void *arg;
};

static int changes_one(void *arg, uint64_t pos, const struct rumor_version *v)
{
	struct changes_walk *w = arg;
	struct rumor_change c;

	if (v->key_len < w->prefix_len ||
	    memcmp(v->key, w->prefix, w->prefix_len) != 0)
		return 0;
	c.pos = pos;
	c.v = *v;
	w->cb(w->arg, &c);
	w->given++;
	return w->max != 0 && w->given >= w->max;
}

int rumor_changes(struct rumor *n, const void *prefix, size_t prefix_len,
		  uint64_t since, uint64_t max, rumor_change_pos_cb cb,
		  void *arg, uint64_t *next)
{
	struct changes_walk w;
	struct err err;
	uint64_t last = since;
	int rv;

	if (n == NULL)
		return RUMOR_EINVAL;
	err_clear(&err);
	if (cb == NULL || (prefix == NULL && prefix_len > 0))
		rv = err_set(&err, RUMOR_EINVAL, "rumor_changes: NULL argument");
	else
		rv = check_since(n, since, &err);
	if (rv == 0) {
		w.prefix = prefix;
		w.prefix_len = prefix_len;
		w.max = max;
		w.given = 0;
		w.cb = cb;
		w.arg = arg;
		rv = store_feed_scan(n->store, since, 0, changes_one, &w, &last,
				     NULL, &err);
	}
	if (rv != 0)
		return node_fail(n, &err);
	if (next != NULL)
		*next = last;
	return 0;
}

/* ------------------------------------------------------------ streams */

static void tail_free(struct rumor_tail *t)
{
	io_timer_free(t->timer);
	free(t->prefix);
	free(t);
}

/* Gives c to the callback. Returns nonzero when the stream must stop
 * (paused or closed from the callback; a closed one is freed by the
 * caller once it is done with it). */
static int tail_give(struct rumor_tail *t, uint64_t pos,
		     const struct rumor_version *v)
{
	struct rumor_change c;

	c.pos = pos;
	c.v = *v;
	t->pos = pos;
	t->in_cb = 1;
	t->cb(t->arg, &c);
	t->in_cb = 0;
	return t->paused || t->closed;
}

/* A feed entry read by a catching-up stream. */
static int tail_feed_one(void *arg, uint64_t pos,
			 const struct rumor_version *v)
{
	struct rumor_tail *t = arg;

	if (pos > t->pos + 1)
		t->skipped += pos - t->pos - 1;
	if (!tail_match(t, v->key, v->key_len)) {
		t->pos = pos;
		return 0;
	}
	return tail_give(t, pos, v);
}

static void tail_schedule(struct rumor_tail *t)
{
	if (t->timer != NULL && !t->closed && !t->paused)
		io_timer_start(t->timer, TAIL_PAUSE_MS, 0);
}

/* A loop turn of a catching-up stream: the next TAIL_BATCH entries of
 * the feed; at its end, the stream goes live. */
static void tail_step(struct io_timer *tm)
{
	struct rumor_tail *t = tm->data;
	uint64_t last = t->pos, head;
	struct err err;
	int at_end = 0, rv;

	if (t->n == NULL || t->paused || t->closed || t->live)
		return;
	err_clear(&err);
	t->in_cb = 1;
	rv = store_feed_scan(t->n->store, t->pos, TAIL_BATCH, tail_feed_one,
			     t, &last, &at_end, &err);
	t->in_cb = 0;
	if (t->closed) {
		tail_free(t);
		return;
	}
	if (rv != 0) {
		/* The store is unreadable: say so, and try again later
		 * rather than end the consumer's stream silently. */
		node_log(t->n, RUMOR_LOG_ERROR, "change stream: %s", err.msg);
		if (!t->paused)
			io_timer_start(t->timer, 1000, 0);
		return;
	}
	/* Entries replaced while the scan ran, after the last one given. */
	if (last > t->pos) {
		t->skipped += last - t->pos;
		t->pos = last;
	}
	if (t->paused)
		return;
	if (!at_end) {
		tail_schedule(t);
		return;
	}
	/* Positions after the last entry were collected tombstones. */
	head = store_feed_head(t->n->store);
	if (head > t->pos) {
		t->skipped += head - t->pos;
		t->pos = head;
	}
	t->live = 1;
}

void node_tails_on_change(struct rumor *n, const struct rumor_version *v,
			  uint64_t pos)
{
	struct rumor_tail *t, *next;

	for (t = n->tails; t != NULL; t = next) {
		next = t->next;
		/* since above the head: the stream waits for it. */
		if (!t->live || t->paused || pos <= t->pos)
			continue;
		if (!tail_match(t, v->key, v->key_len)) {
			t->pos = pos;
			continue;
		}
		(void)tail_give(t, pos, v);
		if (t->closed)
			tail_free(t);
	}
}

int rumor_tail_open(struct rumor *n, const void *prefix, size_t prefix_len,
		    uint64_t since, rumor_change_pos_cb cb, void *arg,
		    struct rumor_tail **out)
{
	struct rumor_tail *t;
	struct err err;
	int rv;

	if (n == NULL)
		return RUMOR_EINVAL;
	err_clear(&err);
	if (cb == NULL || out == NULL || (prefix == NULL && prefix_len > 0) ||
	    prefix_len > RUMOR_KEY_MAX)
		rv = err_set(&err, RUMOR_EINVAL, "rumor_tail_open: bad argument");
	else
		rv = check_since(n, since, &err);
	if (rv != 0)
		return node_fail(n, &err);
	t = calloc(1, sizeof *t);
	if (t != NULL)
		t->prefix = malloc(prefix_len > 0 ? prefix_len : 1);
	if (t != NULL && t->prefix != NULL)
		t->timer = io_timer_new(n->io, tail_step, t);
	if (t == NULL || t->prefix == NULL || t->timer == NULL) {
		if (t != NULL)
			tail_free(t);
		err_set(&err, RUMOR_ENOMEM, "rumor_tail_open: out of memory");
		return node_fail(n, &err);
	}
	if (prefix_len > 0)
		memcpy(t->prefix, prefix, prefix_len);
	t->prefix_len = prefix_len;
	t->n = n;
	t->cb = cb;
	t->arg = arg;
	t->pos = since;
	t->next = n->tails;
	n->tails = t;
	/* Nothing stored after since: live at once, so that every later
	 * change is given as it comes, none compacted away. */
	if (since >= store_feed_head(n->store))
		t->live = 1;
	else
		tail_schedule(t);
	*out = t;
	return 0;
}

void rumor_tail_pause(struct rumor_tail *t)
{
	if (t == NULL || t->paused)
		return;
	t->paused = 1;
	t->live = 0;
	if (t->timer != NULL)
		io_timer_stop(t->timer);
}

void rumor_tail_resume(struct rumor_tail *t)
{
	if (t == NULL || !t->paused)
		return;
	t->paused = 0;
	tail_schedule(t);
}

uint64_t rumor_tail_position(const struct rumor_tail *t)
{
	return t != NULL ? t->pos : 0;
}

uint64_t node_tail_take_skipped(struct rumor_tail *t)
{
	uint64_t k = t->skipped;

	t->skipped = 0;
	return k;
}

int node_is_own_origin(struct rumor *n, const uint8_t *origin, size_t len)
{
	return len == STORE_ORIGIN_BYTES &&
	       memcmp(origin, store_origin(n->store), len) == 0;
}

void rumor_tail_close(struct rumor_tail *t)
{
	struct rumor_tail **pp;

	if (t == NULL || t->closed)
		return;
	if (t->n != NULL) {
		for (pp = &t->n->tails; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == t) {
				*pp = t->next;
				break;
			}
		}
	}
	t->closed = 1;
	if (t->timer != NULL)
		io_timer_stop(t->timer);
	/* From its own callback: freed once the callback returns. */
	if (!t->in_cb)
		tail_free(t);
}

void node_tails_detach(struct rumor *n)
{
	struct rumor_tail *t;

	while ((t = n->tails) != NULL) {
		n->tails = t->next;
		io_timer_free(t->timer);
		t->timer = NULL;
		t->n = NULL;
	}
}
