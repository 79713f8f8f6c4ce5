/*
 * metrics.c - Prometheus registry and text rendering (metrics.h).
 *
 * Storage is two levels of singly linked lists (families, then series),
 * appended at the tail so that rendering keeps registration order; a member
 * has a few dozen series, so lookups by name are linear on purpose.
 */
#include "base/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

enum metric_type { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM };

struct series {
	struct series *next;
	char *labels; /* NULL: unlabelled */
	double value; /* counter or gauge */
	metrics_gauge_fn fn;
	void *fn_arg;
	/* histogram */
	double *bounds;
	uint64_t *counts; /* n_bounds + 1, the last is +Inf */
	size_t n_bounds;
	double sum;
	uint64_t count;
};

struct family {
	struct family *next;
	char *name;
	char *help;
	enum metric_type type;
	struct series *first, *last;
};

struct metrics {
	struct family *first, *last;
};

/* The handle types are series; they are distinct types only for callers. */
struct metrics_counter {
	struct series s;
};
struct metrics_gauge {
	struct series s;
};
struct metrics_histogram {
	struct series s;
};

struct metrics *metrics_new(void)
{
	return mem_calloc(1, sizeof(struct metrics));
}

static void series_free(struct series *s)
{
	mem_free(s->labels);
	mem_free(s->bounds);
	mem_free(s->counts);
	mem_free(s);
}

void metrics_free(struct metrics *m)
{
	struct family *f, *fnext;
	struct series *s, *snext;

	if (m == NULL) {
		return;
	}
	for (f = m->first; f != NULL; f = fnext) {
		fnext = f->next;
		for (s = f->first; s != NULL; s = snext) {
			snext = s->next;
			series_free(s);
		}
		mem_free(f->name);
		mem_free(f->help);
		mem_free(f);
	}
	mem_free(m);
}

static bool valid_name(const char *name)
{
	if (name == NULL || *name == '\0' || (*name >= '0' && *name <= '9')) {
		return false;
	}
	for (const char *p = name; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == ':')) {
			return false;
		}
	}
	return true;
}

static struct family *family_get(struct metrics *m, const char *name,
				 const char *help, enum metric_type type)
{
	struct family *f;

	for (f = m->first; f != NULL; f = f->next) {
		if (strcmp(f->name, name) == 0) {
			return f->type == type ? f : NULL;
		}
	}
	f = mem_calloc(1, sizeof(*f));
	if (f == NULL) {
		return NULL;
	}
	f->name = mem_strdup(name);
	f->help = mem_strdup(help != NULL ? help : "");
	if (f->name == NULL || f->help == NULL) {
		mem_free(f->name);
		mem_free(f->help);
		mem_free(f);
		return NULL;
	}
	f->type = type;
	if (m->last != NULL) {
		m->last->next = f;
	} else {
		m->first = f;
	}
	m->last = f;
	return f;
}

static struct series *series_add(struct metrics *m, const char *name,
				 const char *help, const char *labels,
				 enum metric_type type)
{
	struct family *f;
	struct series *s;

	if (!valid_name(name)) {
		return NULL;
	}
	f = family_get(m, name, help, type);
	if (f == NULL) {
		return NULL;
	}
	/* Sized for the largest handle type; all are one struct series. */
	s = mem_calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	if (labels != NULL && *labels != '\0') {
		s->labels = mem_strdup(labels);
		if (s->labels == NULL) {
			mem_free(s);
			return NULL;
		}
	}
	if (f->last != NULL) {
		f->last->next = s;
	} else {
		f->first = s;
	}
	f->last = s;
	return s;
}

struct metrics_counter *metrics_counter(struct metrics *m, const char *name,
					const char *help, const char *labels)
{
	return (struct metrics_counter *)series_add(m, name, help, labels, MT_COUNTER);
}

struct metrics_gauge *metrics_gauge(struct metrics *m, const char *name,
				    const char *help, const char *labels)
{
	return (struct metrics_gauge *)series_add(m, name, help, labels, MT_GAUGE);
}

struct metrics_gauge *metrics_gauge_func(struct metrics *m, const char *name,
					 const char *help, const char *labels,
					 metrics_gauge_fn fn, void *arg)
{
	struct series *s = series_add(m, name, help, labels, MT_GAUGE);

	if (s != NULL) {
		s->fn = fn;
		s->fn_arg = arg;
	}
	return (struct metrics_gauge *)s;
}

struct metrics_histogram *metrics_histogram(struct metrics *m, const char *name,
					    const char *help, const char *labels,
					    const double *bounds, size_t n)
{
	struct series *s;

	for (size_t i = 1; i < n; i++) {
		if (!(bounds[i] > bounds[i - 1])) {
			return NULL; /* bounds must ascend */
		}
	}
	s = series_add(m, name, help, labels, MT_HISTOGRAM);
	if (s == NULL) {
		return NULL;
	}
	/*
	 * On failure the series stays registered with no buckets: it renders
	 * as an empty histogram rather than leaving a dangling list entry.
	 */
	s->bounds = mem_dup(bounds, n * sizeof(double));
	s->counts = mem_calloc(n + 1, sizeof(uint64_t));
	if (s->bounds == NULL || s->counts == NULL) {
		mem_free(s->bounds);
		mem_free(s->counts);
		s->bounds = NULL;
		s->counts = NULL;
		return NULL;
	}
	s->n_bounds = n;
	return (struct metrics_histogram *)s;
}

void metrics_counter_add(struct metrics_counter *c, double v)
{
	if (c != NULL && v > 0) {
		c->s.value += v; /* counters only go up */
	}
}

double metrics_counter_value(const struct metrics_counter *c)
{
	return c != NULL ? c->s.value : 0;
}

void metrics_gauge_set(struct metrics_gauge *g, double v)
{
	if (g != NULL) {
		g->s.value = v;
	}
}

void metrics_gauge_add(struct metrics_gauge *g, double v)
{
	if (g != NULL) {
		g->s.value += v;
	}
}

double metrics_gauge_value(const struct metrics_gauge *g)
{
	if (g == NULL) {
		return 0;
	}
	return g->s.fn != NULL ? g->s.fn(g->s.fn_arg) : g->s.value;
}

void metrics_histogram_observe(struct metrics_histogram *h, double v)
{
	struct series *s;
	size_t i;

	if (h == NULL || h->s.counts == NULL) {
		return;
	}
	s = &h->s;
	/* Non-cumulative counts here; render accumulates. */
	for (i = 0; i < s->n_bounds && v > s->bounds[i]; i++) {
	}
	s->counts[i]++;
	s->sum += v;
	s->count++;
}

void metrics_exp_buckets(double start, double factor, size_t n, double *out)
{
	for (size_t i = 0; i < n; i++) {
		out[i] = start;
		start *= factor;
	}
}

/* Go's strconv 'g'-like shortest form, with Prometheus' +Inf/-Inf/NaN. */
static int put_value(struct buf *out, double v)
{
	if (isnan(v)) {
		return buf_append_str(out, "NaN");
	}
	if (isinf(v)) {
		return buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
	}
	if (v == (double)(int64_t)v && fabs(v) < 1e15) {
		return buf_printf(out, "%lld", (long long)v);
	}
	/* The shortest precision that reads back exactly, as Go prints floats. */
	for (int prec = 1; prec < 17; prec++) {
		char tmp[64];
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v) {
			return buf_append_str(out, tmp);
		}
	}
	return buf_printf(out, "%.17g", v);
}

static int put_sample(struct buf *out, const char *name, const char *suffix,
		      const char *labels, const char *extra, double v)
{
	int r = buf_printf(out, "%s%s", name, suffix);
	bool any = (labels != NULL) || (extra != NULL);

	if (r == 0 && any) {
		r = buf_printf(out, "{%s%s%s}", labels ? labels : "",
			       labels && extra ? "," : "", extra ? extra : "");
	}
	if (r == 0) {
		r = buf_append_byte(out, ' ');
	}
	if (r == 0) {
		r = put_value(out, v);
	}
	if (r == 0) {
		r = buf_append_byte(out, '\n');
	}
	return r;
}

/* HELP text escapes backslash and newline. */
static int put_help(struct buf *out, const struct family *f)
{
	int r = buf_printf(out, "# HELP %s ", f->name);

	for (const char *p = f->help; r == 0 && *p; p++) {
		if (*p == '\\') {
			r = buf_append_str(out, "\\\\");
		} else if (*p == '\n') {
			r = buf_append_str(out, "\\n");
		} else {
			r = buf_append_byte(out, (uint8_t)*p);
		}
	}
	if (r == 0) {
		static const char *const types[] = {"counter", "gauge", "histogram"};
		r = buf_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
	}
	return r;
}

static int put_histogram(struct buf *out, const char *name, const struct series *s)
{
	uint64_t cum = 0;
	char le[64];
	int r = 0;

	for (size_t i = 0; r == 0 && i <= s->n_bounds && s->counts != NULL; i++) {
		struct buf tmp = BUF_INIT;
		cum += s->counts[i];
		if (i < s->n_bounds) {
			if (put_value(&tmp, s->bounds[i]) < 0) {
				buf_done(&tmp);
				return -ENOMEM;
			}
			snprintf(le, sizeof(le), "le=\"%s\"", (char *)tmp.data);
		} else {
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		}
		buf_done(&tmp);
		r = put_sample(out, name, "_bucket", s->labels, le, (double)cum);
	}
	if (r == 0) {
		r = put_sample(out, name, "_sum", s->labels, NULL, s->sum);
	}
	if (r == 0) {
		r = put_sample(out, name, "_count", s->labels, NULL, (double)s->count);
	}
	return r;
}

int metrics_render(const struct metrics *m, struct buf *out)
{
	int r = 0;

	for (const struct family *f = m->first; r == 0 && f != NULL; f = f->next) {
		r = put_help(out, f);
		for (const struct series *s = f->first; r == 0 && s != NULL;
		     s = s->next) {
			if (f->type == MT_HISTOGRAM) {
				r = put_histogram(out, f->name, s);
			} else {
				double v = s->fn != NULL ? s->fn(s->fn_arg) : s->value;
				r = put_sample(out, f->name, "", s->labels, NULL, v);
			}
		}
	}
	return r < 0 ? -ENOMEM : 0;
}
