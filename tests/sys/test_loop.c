/*
 * The loop wrapper with real timers and signals.  Delays are a few
 * milliseconds and nothing asserts how long anything took: only what ran,
 * how often, and in which order.  A guard timer stops a loop that would
 * otherwise hang and makes the test fail instead.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "base/list.h"
#include "base/mem.h"
#include "sys/loop.h"
#include "testlib.h"

#define GUARD_MS 10000

struct state {
	struct sys_loop *loop;
	int fired;
	int other;
	bool guard_fired;
	int signo;
	int signals;
	struct sys_timer *t;
};

static void on_guard(struct sys_timer *t, void *arg)
{
	struct state *s = arg;

	(void)t;
	s->guard_fired = true;
	sys_loop_stop(s->loop);
}

static struct sys_timer *guard(struct state *s)
{
	struct sys_timer *g;

	ck_assert_int_eq(sys_timer_new(s->loop, on_guard, s, &g), 0);
	ck_assert_int_eq(sys_timer_start(g, GUARD_MS, 0), 0);
	return g;
}

static void setup_state(struct state *s)
{
	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(sys_loop_new(&s->loop), 0);
}

static void on_stop(struct sys_timer *t, void *arg)
{
	struct state *s = arg;

	(void)t;
	sys_loop_stop(s->loop);
}

static void on_count(struct sys_timer *t, void *arg)
{
	struct state *s = arg;

	(void)t;
	s->fired++;
}

START_TEST(test_loop_one_shot_timer_fires_exactly_once)
{
	struct state s;
	struct sys_timer *t, *stop, *g;

	setup_state(&s);
	g = guard(&s);
	ck_assert_int_eq(sys_timer_new(s.loop, on_count, &s, &t), 0);
	ck_assert_int_eq(sys_timer_new(s.loop, on_stop, &s, &stop), 0);
	ck_assert(!sys_timer_is_active(t));
	ck_assert_int_eq(sys_timer_start(t, 1, 0), 0);
	ck_assert(sys_timer_is_active(t));
	ck_assert_int_eq(sys_timer_start(stop, 30, 0), 0);
	ck_assert_int_eq(sys_loop_run(s.loop), 0);
	ck_assert(!s.guard_fired);
	ck_assert_int_eq(s.fired, 1);
	ck_assert(!sys_timer_is_active(t));
	sys_timer_free(t);
	sys_timer_free(stop);
	sys_timer_free(g);
	sys_loop_free(s.loop);
}
END_TEST

static void on_periodic(struct sys_timer *t, void *arg)
{
	struct state *s = arg;

	if (++s->fired == 5) {
		ck_assert(sys_timer_is_active(t));
		sys_timer_stop(t);
		sys_loop_stop(s->loop);
	}
}

START_TEST(test_loop_periodic_timer_repeats_until_stopped)
{
	struct state s;
	struct sys_timer *t, *g;

	setup_state(&s);
	g = guard(&s);
	ck_assert_int_eq(sys_timer_new(s.loop, on_periodic, &s, &t), 0);
	ck_assert_int_eq(sys_timer_start(t, 2, 2), 0);
	ck_assert_int_eq(sys_loop_run(s.loop), 0);
	ck_assert(!s.guard_fired);
	ck_assert_int_eq(s.fired, 5);
	ck_assert(!sys_timer_is_active(t));
	sys_timer_free(t);
	sys_timer_free(g);
	sys_loop_free(s.loop);
}
END_TEST

START_TEST(test_loop_periodic_timer_with_a_different_first_delay)
{
	struct state s;
	struct sys_timer *t, *g;

	setup_state(&s);
	g = guard(&s);
	ck_assert_int_eq(sys_timer_new(s.loop, on_periodic, &s, &t), 0);
	ck_assert_int_eq(sys_timer_start(t, 0, 3), 0);
	ck_assert_int_eq(sys_loop_run(s.loop), 0);
	ck_assert(!s.guard_fired);
	ck_assert_int_eq(s.fired, 5);
	sys_timer_free(t);
	sys_timer_free(g);
	sys_loop_free(s.loop);
}
END_TEST

START_TEST(test_loop_stopped_timer_does_not_fire)
{
	struct state s;
	struct sys_timer *t, *stop, *g;

	setup_state(&s);
	g = guard(&s);
	ck_assert_int_eq(sys_timer_new(s.loop, on_count, &s, &t), 0);
	ck_assert_int_eq(sys_timer_new(s.loop, on_stop, &s, &stop), 0);
	ck_assert_int_eq(sys_timer_start(t, 1, 1), 0);
	sys_timer_stop(t);
	ck_assert(!sys_timer_is_active(t));
	ck_assert_int_eq(sys_timer_start(stop, 20, 0), 0);
	ck_assert_int_eq(sys_loop_run(s.loop), 0);
	ck_assert_int_eq(s.fired, 0);
	sys_timer_free(t);
	sys_timer_free(stop);
	sys_timer_free(g);
	sys_loop_free(s.loop);
}
END_TEST

START_TEST(test_loop_restart_replaces_the_schedule)
{
	struct state s;
	struct sys_timer *t, *stop, *g;

	setup_state(&s);
	g = guard(&s);
	ck_assert_int_eq(sys_timer_new(s.loop, on_count, &s, &t), 0);
	ck_assert_int_eq(sys_timer_new(s.loop, on_stop, &s, &stop), 0);
	ck_assert_int_eq(sys_timer_start(t, 60000, 0), 0);
	ck_assert_int_eq(sys_timer_start(t, 1, 0), 0);
	ck_assert_int_eq(sys_timer_start(stop, 30, 0), 0);
	ck_assert_int_eq(sys_loop_run(s.loop), 0);
	ck_assert(!s.guard_fired);
	ck_assert_int_eq(s.fired, 1);
	sys_timer_free(t);
	sys_timer_free(stop);
	sys_timer_free(g);
	sys_loop_free(s.loop);
}
END_TEST

static void on_free_self(struct sys_timer *t, void *arg)
{
	struct state *s = arg;

	s->fired++;
	sys_timer_free(t);
	s->t = NULL;
	sys_loop_stop(s->loop);
}

START_TEST(test_loop_timer_may_free_itself_in_its_callback)
{
	struct state s;
	struct sys_timer *g;

	setup_state(&s);
	g = guard(&s);
	ck_assert_int_eq(sys_timer_new(s.loop, on_free_self, &s, &s.t), 0);
	ck_assert_int_eq(sys_timer_start(s.t, 1, 1), 0);
	ck_assert_int_eq(sys_loop_run(s.loop), 0);
	ck_assert_int_eq(s.fired, 1);
	ck_assert_ptr_null(s.t);
	sys_timer_free(g);
	sys_loop_free(s.loop);
}
END_TEST

START_TEST(test_loop_stop_before_run_returns_at_once)
{
	struct state s;
	struct sys_timer *t;

	setup_state(&s);
	ck_assert_int_eq(sys_timer_new(s.loop, on_count, &s, &t), 0);
	ck_assert_int_eq(sys_timer_start(t, 60000, 0), 0);
	sys_loop_stop(s.loop);
	ck_assert_int_eq(sys_loop_run(s.loop), 0);
	ck_assert_int_eq(s.fired, 0);
	sys_timer_free(t);
	sys_loop_free(s.loop);
}
END_TEST

static void on_sig(int signo, void *arg)
{
	struct state *s = arg;

	s->signo = signo;
	s->signals++;
	sys_loop_stop(s->loop);
}

static void on_raise(struct sys_timer *t, void *arg)
{
	int signo = *(int *)arg;

	(void)t;
	kill(getpid(), signo);
}

START_TEST(test_loop_delivers_signals_as_loop_callbacks)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};

	for (size_t i = 0; i < 3; i++) {
		struct state s;
		struct sys_timer *t, *g;
		int signo = sigs[i];

		setup_state(&s);
		g = guard(&s);
		for (size_t j = 0; j < 3; j++) {
			ck_assert_int_eq(
			    sys_loop_on_signal(s.loop, sigs[j], on_sig, &s), 0);
		}
		ck_assert_int_eq(sys_timer_new(s.loop, on_raise, &signo, &t),
				 0);
		ck_assert_int_eq(sys_timer_start(t, 1, 0), 0);
		ck_assert_int_eq(sys_loop_run(s.loop), 0);
		ck_assert(!s.guard_fired);
		ck_assert_int_eq(s.signo, signo);
		ck_assert_int_eq(s.signals, 1);
		sys_timer_free(t);
		sys_timer_free(g);
		sys_loop_free(s.loop);
	}
}
END_TEST

/* An object released from inside one of its own callbacks. */
struct obj {
	struct sys_defer defer;
	int *freed;
	int *order;
	int *seq;
};

static void obj_release(struct sys_defer *d)
{
	struct obj *o = container_of(d, struct obj, defer);

	(*o->freed)++;
	*o->order = ++*o->seq;
	mem_free(o);
}

struct defer_state {
	struct state s;
	struct obj *o;
	int freed;
	int seq;
	int freed_at;
	int freed_seen_in_callback;
	int later_at;
	struct sys_timer *later;
};

static void on_defer_now(struct sys_timer *t, void *arg)
{
	struct defer_state *d = arg;

	(void)t;
	sys_loop_defer(d->s.loop, &d->o->defer, obj_release);
	sys_loop_defer(d->s.loop, &d->o->defer, obj_release); /* no-op */
	/* Still alive here: the free waits for the safe point. */
	d->freed_seen_in_callback = d->freed;
	/*
	 * Scheduled from here, so that it cannot already be active: the free
	 * must come before it however busy the machine is.
	 */
	ck_assert_int_eq(sys_timer_start(d->later, 0, 0), 0);
}

static void on_later(struct sys_timer *t, void *arg)
{
	struct defer_state *d = arg;

	(void)t;
	d->later_at = ++d->seq;
	sys_loop_stop(d->s.loop);
}

START_TEST(test_loop_defers_frees_past_the_current_callback)
{
	struct defer_state d;
	struct sys_timer *t, *later, *g;

	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(sys_loop_new(&d.s.loop), 0);
	g = guard(&d.s);
	d.o = mem_calloc(1, sizeof(*d.o));
	ck_assert_ptr_nonnull(d.o);
	d.o->freed = &d.freed;
	d.o->order = &d.freed_at;
	d.o->seq = &d.seq;
	ck_assert_int_eq(sys_timer_new(d.s.loop, on_defer_now, &d, &t), 0);
	ck_assert_int_eq(sys_timer_new(d.s.loop, on_later, &d, &later), 0);
	d.later = later;
	ck_assert_int_eq(sys_timer_start(t, 1, 0), 0);
	ck_assert_int_eq(sys_loop_run(d.s.loop), 0);
	ck_assert_int_eq(d.freed_seen_in_callback, 0);
	ck_assert_int_eq(d.freed, 1);
	/* Freed at the loop's safe point, before the next timer ran. */
	ck_assert_int_lt(d.freed_at, d.later_at);
	sys_timer_free(t);
	sys_timer_free(later);
	sys_timer_free(g);
	sys_loop_free(d.s.loop);
}
END_TEST

START_TEST(test_loop_free_runs_frees_still_queued)
{
	struct defer_state d;
	struct obj *o;

	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(sys_loop_new(&d.s.loop), 0);
	o = mem_calloc(1, sizeof(*o));
	ck_assert_ptr_nonnull(o);
	o->freed = &d.freed;
	o->order = &d.freed_at;
	o->seq = &d.seq;
	sys_loop_defer(d.s.loop, &o->defer, obj_release);
	ck_assert_int_eq(d.freed, 0);
	sys_loop_free(d.s.loop);
	ck_assert_int_eq(d.freed, 1);
}
END_TEST

START_TEST(test_loop_reports_allocation_failure)
{
	struct sys_loop *l = NULL;
	struct sys_timer *t = NULL;
	struct state s;

	mem_fail_after(0);
	ck_assert_int_eq(sys_loop_new(&l), -ENOMEM);
	mem_fail_reset();
	setup_state(&s);
	mem_fail_after(0);
	ck_assert_int_eq(sys_timer_new(s.loop, on_count, &s, &t), -ENOMEM);
	ck_assert_int_eq(sys_loop_on_signal(s.loop, SIGHUP, on_sig, &s),
			 -ENOMEM);
	mem_fail_reset();
	ck_assert_ptr_null(t);
	sys_loop_free(s.loop);
	sys_loop_free(NULL);
	sys_timer_free(NULL);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_loop_one_shot_timer_fires_exactly_once);
	tcase_add_test(tc, test_loop_periodic_timer_repeats_until_stopped);
	tcase_add_test(tc,
		       test_loop_periodic_timer_with_a_different_first_delay);
	tcase_add_test(tc, test_loop_stopped_timer_does_not_fire);
	tcase_add_test(tc, test_loop_restart_replaces_the_schedule);
	tcase_add_test(tc, test_loop_timer_may_free_itself_in_its_callback);
	tcase_add_test(tc, test_loop_stop_before_run_returns_at_once);
	tcase_add_test(tc, test_loop_delivers_signals_as_loop_callbacks);
	tcase_add_test(tc, test_loop_defers_frees_past_the_current_callback);
	tcase_add_test(tc, test_loop_free_runs_frees_still_queued);
	tcase_add_test(tc, test_loop_reports_allocation_failure);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(loop_suite)
