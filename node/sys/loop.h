/*
 * loop.h - the member's one event loop: libevent underneath, with timers
 * on the monotonic clock, signals delivered as loop callbacks, and frees
 * deferred to a safe point.
 *
 * Invariants:
 *  1. Everything here is used from the loop thread only.
 *  2. Timers use libevent's monotonic clock (CLOCK_MONOTONIC, precise
 *     variant): wall-clock jumps never fire or delay them.
 *  3. A signal registered with sys_loop_on_signal is handled by a normal
 *     loop callback, never inside the asynchronous signal handler, so the
 *     callback may touch any state.
 *  4. A deferred free runs after the callback that queued it has returned
 *     and after every callback that was already active at that moment
 *     (libevent's active queue is FIFO), never inside that callback: so an
 *     object can be released from one of its own callbacks (Redis'
 *     "close asynchronously" rule).  Deferred frees still queued when the
 *     loop is freed run in sys_loop_free.
 *  5. Other layers create their events (bufferevents, listeners) on
 *     sys_loop_base() at the default priority.
 */
#ifndef CETCD_SYS_LOOP_H
#define CETCD_SYS_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"

struct event_base;
struct sys_loop;
struct sys_timer;

/* A new loop.  0, -ENOMEM or -EIO (libevent refused). */
int sys_loop_new(struct sys_loop **out);
/*
 * Free the loop: run the deferred frees still queued, release the signal
 * registrations (restoring the previous dispositions).  Timers must have
 * been freed before.  NULL is a no-op.
 */
void sys_loop_free(struct sys_loop *l);
/*
 * Run until sys_loop_stop() (the loop does not exit merely because
 * nothing is pending).  Returns 0 once stopped, -EIO if libevent fails.
 * Deferred frees queued before the stop have run when it returns.
 */
int sys_loop_run(struct sys_loop *l);
/* Make sys_loop_run return after the current callback; also before run. */
void sys_loop_stop(struct sys_loop *l);
/* The libevent base, for bufferevents and listeners of other layers. */
struct event_base *sys_loop_base(struct sys_loop *l);

/* ---- timers ---- */

typedef void (*sys_timer_fn)(struct sys_timer *t, void *arg);

/* A stopped timer calling fn(t, arg).  0, -ENOMEM. */
int sys_timer_new(struct sys_loop *l, sys_timer_fn fn, void *arg,
		  struct sys_timer **out);
/*
 * (Re)start t: first call after delay_ms, then every period_ms when
 * period_ms > 0 (one-shot when 0).  Replaces any earlier schedule.  May be
 * called from t's own callback.  0 or -EIO.
 */
int sys_timer_start(struct sys_timer *t, uint64_t delay_ms, uint64_t period_ms);
/* Cancel; the callback will not run until started again. */
void sys_timer_stop(struct sys_timer *t);
/* True while a call is scheduled. */
bool sys_timer_is_active(const struct sys_timer *t);
/* Stop and free; allowed from t's own callback.  NULL is a no-op. */
void sys_timer_free(struct sys_timer *t);

/* ---- signals ---- */

typedef void (*sys_signal_fn)(int signo, void *arg);

/*
 * Call fn(signo, arg) from the loop each time signo arrives (SIGTERM,
 * SIGINT, SIGHUP, ...), until the loop is freed.  0, -ENOMEM or -EIO.
 */
int sys_loop_on_signal(struct sys_loop *l, int signo, sys_signal_fn fn,
		       void *arg);

/* ---- deferred frees ---- */

/*
 * Embed in an object that may have to be freed from inside one of its own
 * callbacks; zero-initialise it (or sys_defer_init).
 */
struct sys_defer {
	struct list_node node;
	void (*fn)(struct sys_defer *d);
	bool queued;
};

static inline void sys_defer_init(struct sys_defer *d)
{
	list_init(&d->node);
	d->fn = 0;
	d->queued = false;
}

/*
 * Queue fn(d) to run at the loop's next safe point (invariant 4); fn
 * usually does container_of(d, ...) and frees the object.  Cannot fail.
 * Queuing an already queued d does nothing.
 */
void sys_loop_defer(struct sys_loop *l, struct sys_defer *d,
		    void (*fn)(struct sys_defer *d));

#endif
