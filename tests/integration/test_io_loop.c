/* SPDX-License-Identifier: MIT */
/* Integration tests of the loop services of src/io/io_uv.c through the
 * io vtable: timers (order, repeat, stop, free inside the own callback,
 * weak timers), background work, name resolution, clocks and random. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "io/io_uv.h"

struct fix {
	uv_loop_t loop;
	struct io *io;
	int order[8];
	int n_order;
	int fired;
	struct io_timer *self;  /* a timer that frees itself */
	int work_ran;           /* set off the loop */
	int done_calls;
	int done_status;
	uv_thread_t loop_thread;
	uv_thread_t work_thread;
	int resolved;
	int resolve_status;
	int resolve_family;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(io_uv_new(&f->io, &f->loop, NULL), 0);
	f->loop_thread = uv_thread_self();
	*state = f;
	return 0;
}

/* Every object of a test is gone by now: the loop has nothing left and
 * io_uv_free's assertion holds. */
static int teardown(void **state)
{
	struct fix *f = *state;

	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	io_uv_free(f->io);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

/* ------------------------------------------------------------ timers */

static void record(struct io_timer *t)
{
	struct fix *f = t->data;

	f->order[f->n_order++] = f->fired++;
}

struct tagged {
	struct fix *f;
	int tag;
};

static void record_tag(struct io_timer *t)
{
	struct tagged *x = t->data;

	x->f->order[x->f->n_order++] = x->tag;
	io_timer_free(t);
}

static void test_timers_fire_in_order(void **state)
{
	struct fix *f = *state;
	struct tagged tags[3] = {{f, 30}, {f, 10}, {f, 20}};
	uint64_t start = io_now_ms(f->io);
	int i;

	for (i = 0; i < 3; i++) {
		struct io_timer *t = io_timer_new(f->io, record_tag, &tags[i]);

		assert_non_null(t);
		io_timer_start(t, (uint64_t)tags[i].tag, 0);
		assert_true(io_timer_active(t));
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->n_order, 3);
	assert_int_equal(f->order[0], 10);
	assert_int_equal(f->order[1], 20);
	assert_int_equal(f->order[2], 30);
	assert_true(io_now_ms(f->io) >= start + 30);
}

/* Repeats until stopped; a stopped timer is inactive and fires no more. */
static void stop_at_three(struct io_timer *t)
{
	struct fix *f = t->data;

	if (++f->fired == 3)
		io_timer_stop(t);
}

static void test_timer_repeat_and_stop(void **state)
{
	struct fix *f = *state;
	struct io_timer *t = io_timer_new(f->io, stop_at_three, f);

	assert_non_null(t);
	io_timer_start(t, 0, 2);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->fired, 3);
	assert_false(io_timer_active(t));
	io_timer_free(t);
}

static void test_timer_stop_before_firing(void **state)
{
	struct fix *f = *state;
	struct io_timer *t = io_timer_new(f->io, record, f);

	io_timer_start(t, 1, 0);
	io_timer_stop(t);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->fired, 0);
	/* Restart works after a stop, then free from outside. */
	io_timer_start(t, 0, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->fired, 1);
	io_timer_free(t);
}

/* A repeating timer freeing itself in its first callback fires once. */
static void free_self(struct io_timer *t)
{
	struct fix *f = t->data;

	f->fired++;
	io_timer_free(t);
}

static void test_timer_free_inside_callback(void **state)
{
	struct fix *f = *state;
	struct io_timer *t = io_timer_new(f->io, free_self, f);

	io_timer_start(t, 0, 1);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->fired, 1);
}

/* A freed pending timer never fires. */
static void test_timer_free_pending(void **state)
{
	struct fix *f = *state;
	struct io_timer *t = io_timer_new(f->io, record, f);

	io_timer_start(t, 0, 0);
	io_timer_free(t);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->fired, 0);
}

/* uv_run returns with a weak timer still armed far ahead: it does not
 * keep the loop alive, while a strong one would. */
static void test_weak_timer(void **state)
{
	struct fix *f = *state;
	struct io_timer *weak = io_timer_new(f->io, record, f);
	struct io_timer *strong = io_timer_new(f->io, free_self, f);

	io_timer_weak(weak);
	io_timer_start(weak, 60000, 60000);
	io_timer_start(strong, 1, 0);
	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f->fired, 1);          /* the strong one only */
	assert_true(io_timer_active(weak));
	io_timer_free(weak);
}

/* ------------------------------------------------------------ work */

static void work_fn(void *arg)
{
	struct fix *f = arg;

	f->work_thread = uv_thread_self();
	f->work_ran++;
}

static void work_done(void *arg, int status)
{
	struct fix *f = arg;

	assert_true(uv_thread_equal(&f->loop_thread,
				    &(uv_thread_t){uv_thread_self()}));
	f->done_calls++;
	f->done_status = status;
}

static void test_work_done_once_on_loop(void **state)
{
	struct fix *f = *state;

	assert_int_equal(f->io->ops->work(f->io, work_fn, work_done, f), 0);
	/* Never synchronously. */
	assert_int_equal(f->done_calls, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->work_ran, 1);
	assert_int_equal(f->done_calls, 1);
	assert_int_equal(f->done_status, 0);
	assert_false(uv_thread_equal(&f->loop_thread, &f->work_thread));
}

/* ------------------------------------------------------------ resolve */

static void resolved(struct io_resolve *r, int status,
		     const struct sockaddr *const *addrs, size_t n)
{
	struct fix *f = io_resolve_data(r);

	f->resolved++;
	f->resolve_status = status;
	f->resolve_family = n > 0 ? addrs[0]->sa_family : -1;
	if (n > 0 && addrs[0]->sa_family == AF_INET) {
		const struct sockaddr_in *in =
			(const struct sockaddr_in *)addrs[0];

		assert_int_equal(ntohs(in->sin_port), 7000);
		assert_int_equal(ntohl(in->sin_addr.s_addr), 0x7f000001u);
	}
}

static void test_resolve_numeric(void **state)
{
	struct fix *f = *state;
	struct io_resolve *r = NULL;

	assert_int_equal(f->io->ops->resolve(f->io, "127.0.0.1", "7000",
					     resolved, f, &r, NULL), 0);
	assert_non_null(r);
	assert_int_equal(f->resolved, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->resolved, 1);
	assert_int_equal(f->resolve_status, 0);
	assert_int_equal(f->resolve_family, AF_INET);
}

/* After a cancel the callback never fires, whether or not the lookup had
 * already started; the request is still freed (teardown checks). */
static void test_resolve_cancel(void **state)
{
	struct fix *f = *state;
	struct io_resolve *r = NULL;

	assert_int_equal(f->io->ops->resolve(f->io, "127.0.0.1", "7000",
					     resolved, f, &r, NULL), 0);
	f->io->ops->resolve_cancel(r);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->resolved, 0);
}

/* ------------------------------------------------------------ clocks */

static void test_clocks_and_random(void **state)
{
	struct fix *f = *state;
	uint64_t wall = io_wall_ms(f->io);
	int i, seen[4] = {0};

	/* After 2020-01-01 and before 2100: milliseconds since the epoch. */
	assert_true(wall > 1577836800000ull && wall < 4102444800000ull);
	for (i = 0; i < 400; i++) {
		uint32_t x = io_random(f->io, 4);

		assert_true(x < 4);
		seen[x]++;
	}
	for (i = 0; i < 4; i++)
		assert_true(seen[i] > 0);
	assert_int_equal(io_random(f->io, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_timers_fire_in_order),
		T(test_timer_repeat_and_stop),
		T(test_timer_stop_before_firing),
		T(test_timer_free_inside_callback),
		T(test_timer_free_pending),
		T(test_weak_timer),
		T(test_work_done_once_on_loop),
		T(test_resolve_numeric),
		T(test_resolve_cancel),
		T(test_clocks_and_random),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
