/*
 * loop.c - the libevent loop wrapper (loop.h).
 *
 * Deferred frees hang on one list; a single user-triggered event is made
 * active when the list becomes non-empty.  Because libevent runs active
 * callbacks of one priority in FIFO order, that event runs after every
 * callback that was already active, which is the safe point of
 * invariant 4.
 */
#include "sys/loop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <event2/event.h>

#include "base/mem.h"

struct sys_signal {
	struct list_node node;
	struct event *ev;
	sys_signal_fn fn;
	void *arg;
};

struct sys_loop {
	struct event_base *base;
	struct event *defer_ev;
	struct list_node deferred; /* of struct sys_defer */
	struct list_node signals;  /* of struct sys_signal */
	bool stop;
};

struct sys_timer {
	struct sys_loop *loop;
	struct event *ev;
	sys_timer_fn fn;
	void *arg;
	uint64_t period_ms;
	bool persistent; /* ev is EV_PERSIST with period_ms */
};

static void run_deferred(struct sys_loop *l)
{
	/* A free may queue further frees: take them until none are left. */
	while (!list_is_empty(&l->deferred)) {
		struct sys_defer *d = list_entry(list_first(&l->deferred),
						 struct sys_defer, node);

		list_remove(&d->node);
		d->queued = false;
		d->fn(d);
	}
}

static void on_defer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_deferred(arg);
}

int sys_loop_new(struct sys_loop **out)
{
	struct sys_loop *l;
	struct event_config *cfg;

	l = mem_calloc(1, sizeof(*l));
	if (!l) {
		return -ENOMEM;
	}
	list_init(&l->deferred);
	list_init(&l->signals);
	cfg = event_config_new();
	if (!cfg) {
		mem_free(l);
		return -ENOMEM;
	}
	/* CLOCK_MONOTONIC rather than the coarse clock: ticks of 10 ms. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	l->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (!l->base) {
		mem_free(l);
		return -EIO;
	}
	l->defer_ev = event_new(l->base, -1, 0, on_defer, l);
	if (!l->defer_ev) {
		event_base_free(l->base);
		mem_free(l);
		return -ENOMEM;
	}
	*out = l;
	return 0;
}

void sys_loop_free(struct sys_loop *l)
{
	struct list_node *pos, *tmp;

	if (!l) {
		return;
	}
	run_deferred(l);
	list_for_each_safe(pos, tmp, &l->signals)
	{
		struct sys_signal *s = list_entry(pos, struct sys_signal, node);

		event_free(s->ev);
		mem_free(s);
	}
	event_free(l->defer_ev);
	event_base_free(l->base);
	mem_free(l);
}

int sys_loop_run(struct sys_loop *l)
{
	int r = 0;

	while (!l->stop) {
		if (event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY) < 0) {
			r = -EIO;
			break;
		}
	}
	run_deferred(l);
	l->stop = false;
	return r;
}

void sys_loop_stop(struct sys_loop *l)
{
	l->stop = true;
	event_base_loopbreak(l->base);
}

struct event_base *sys_loop_base(struct sys_loop *l)
{
	return l->base;
}

/* ---- timers ---- */

static void ms_to_tv(uint64_t ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000 * 1000);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sys_timer *t = arg;

	(void)fd;
	(void)what;
	/* Re-arm before the callback: it may stop, restart or free t. */
	if (t->period_ms && !t->persistent) {
		sys_timer_start(t, t->period_ms, t->period_ms);
	}
	t->fn(t, t->arg);
}

int sys_timer_new(struct sys_loop *l, sys_timer_fn fn, void *arg,
		  struct sys_timer **out)
{
	struct sys_timer *t = mem_calloc(1, sizeof(*t));

	if (!t) {
		return -ENOMEM;
	}
	t->loop = l;
	t->fn = fn;
	t->arg = arg;
	t->ev = event_new(l->base, -1, 0, on_timer, t);
	if (!t->ev) {
		mem_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

int sys_timer_start(struct sys_timer *t, uint64_t delay_ms, uint64_t period_ms)
{
	struct timeval tv;
	bool persist = period_ms && delay_ms == period_ms;

	event_del(t->ev);
	/*
	 * EV_PERSIST reschedules from the planned time, so a periodic timer
	 * does not drift by its callbacks' run time.
	 */
	if (event_assign(t->ev, t->loop->base, -1, persist ? EV_PERSIST : 0,
			 on_timer, t) < 0) {
		return -EIO;
	}
	t->period_ms = period_ms;
	t->persistent = persist;
	ms_to_tv(delay_ms, &tv);
	return event_add(t->ev, &tv) < 0 ? -EIO : 0;
}

void sys_timer_stop(struct sys_timer *t)
{
	event_del(t->ev);
	t->period_ms = 0;
}

bool sys_timer_is_active(const struct sys_timer *t)
{
	return event_pending(t->ev, EV_TIMEOUT, NULL) != 0;
}

void sys_timer_free(struct sys_timer *t)
{
	if (!t) {
		return;
	}
	event_free(t->ev);
	mem_free(t);
}

/* ---- signals ---- */

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct sys_signal *s = arg;

	(void)what;
	s->fn((int)fd, s->arg);
}

int sys_loop_on_signal(struct sys_loop *l, int signo, sys_signal_fn fn,
		       void *arg)
{
	struct sys_signal *s = mem_calloc(1, sizeof(*s));

	if (!s) {
		return -ENOMEM;
	}
	s->fn = fn;
	s->arg = arg;
	s->ev = evsignal_new(l->base, signo, on_signal, s);
	if (!s->ev) {
		mem_free(s);
		return -ENOMEM;
	}
	if (event_add(s->ev, NULL) < 0) {
		event_free(s->ev);
		mem_free(s);
		return -EIO;
	}
	list_push_back(&l->signals, &s->node);
	return 0;
}

/* ---- deferred frees ---- */

void sys_loop_defer(struct sys_loop *l, struct sys_defer *d,
		    void (*fn)(struct sys_defer *d))
{
	if (d->queued) {
		return;
	}
	d->fn = fn;
	d->queued = true;
	list_push_back(&l->deferred, &d->node);
	event_active(l->defer_ev, EV_TIMEOUT, 0);
}
