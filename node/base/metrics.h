/*
 * metrics.h - a Prometheus metrics registry: counters, gauges and
 * histograms, rendered in the text exposition format (version 0.0.4) for
 * /metrics.
 *
 * A family is a metric name with its help text and type; a series is one
 * labelled instance of it ("To=\"8dc9f79502ff52fe\""), or the unlabelled one.
 * Families render in registration order, series in creation order.
 *
 * Invariants:
 *  1. Names and label strings are copied at registration; handles stay valid
 *     until metrics_free().
 *  2. Registering the same name twice with the same type adds a series to
 *     the one family; with another type it fails (-EEXIST).
 *  3. Updates are plain stores: the registry belongs to the loop thread.
 */
#ifndef CETCD_BASE_METRICS_H
#define CETCD_BASE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct metrics;
struct metrics_counter;
struct metrics_gauge;
struct metrics_histogram;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/*
 * Register a series.  labels is NULL or the inside of the braces, already
 * escaped (`To="abc",Type="x"`).  Returns NULL on -ENOMEM, on a name that
 * is not a valid Prometheus name, or on a type clash.
 */
struct metrics_counter *metrics_counter(struct metrics *m, const char *name,
					const char *help, const char *labels);
struct metrics_gauge *metrics_gauge(struct metrics *m, const char *name,
				    const char *help, const char *labels);
/*
 * A gauge whose value is read by fn(arg) at render time (resident memory,
 * open fds, db size).
 */
typedef double (*metrics_gauge_fn)(void *arg);
struct metrics_gauge *metrics_gauge_func(struct metrics *m, const char *name,
					 const char *help, const char *labels,
					 metrics_gauge_fn fn, void *arg);
/* bounds: n ascending upper bounds; +Inf is implicit. */
struct metrics_histogram *metrics_histogram(struct metrics *m, const char *name,
					    const char *help, const char *labels,
					    const double *bounds, size_t n);

void metrics_counter_add(struct metrics_counter *c, double v);
static inline void metrics_counter_inc(struct metrics_counter *c)
{
	metrics_counter_add(c, 1);
}
double metrics_counter_value(const struct metrics_counter *c);
void metrics_gauge_set(struct metrics_gauge *g, double v);
void metrics_gauge_add(struct metrics_gauge *g, double v);
double metrics_gauge_value(const struct metrics_gauge *g);
void metrics_histogram_observe(struct metrics_histogram *h, double v);

/*
 * Exponential bucket bounds as Prometheus' ExponentialBuckets(start,
 * factor, n): start, start*factor, ... (n values) into out.
 */
void metrics_exp_buckets(double start, double factor, size_t n, double *out);

/* Append the whole registry in text format to out. 0 or -ENOMEM. */
int metrics_render(const struct metrics *m, struct buf *out);

#endif
