/*
 * diff.c - unified diff of two small texts (diff.h).
 *
 * Invariant: applying the printed hunks to a gives exactly b, including
 * whether the last line ends with a newline.
 */
#include "agent/diff.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/mem.h"

#define CONTEXT 3

struct line {
	const char *p;
	size_t len; /* without the newline */
	bool nl;    /* ends with a newline */
};

/* An edit script entry: ' ' same, '-' only in a, '+' only in b. */
struct op {
	char kind;
	size_t ai; /* index in a (for ' ' and '-') */
	size_t bi; /* index in b (for ' ' and '+') */
};

static int split_lines(const char *s, size_t n, struct line **out,
		       size_t *count)
{
	size_t cap = 16, k = 0, i = 0;
	struct line *v = mem_alloc(cap * sizeof(*v));

	if (!v) {
		return -ENOMEM;
	}
	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - s) : n;

		if (k == cap) {
			struct line *w = mem_realloc(v, 2 * cap * sizeof(*v));

			if (!w) {
				mem_free(v);
				return -ENOMEM;
			}
			v = w;
			cap *= 2;
		}
		v[k].p = s + i;
		v[k].len = end - i;
		v[k].nl = nl != NULL;
		k++;
		i = nl ? end + 1 : n;
	}
	*out = v;
	*count = k;
	return 0;
}

static bool line_eq(const struct line *x, const struct line *y)
{
	return x->len == y->len && x->nl == y->nl &&
	       memcmp(x->p, y->p, x->len) == 0;
}

static int push(struct op **ops, size_t *n, size_t *cap, char kind, size_t ai,
		size_t bi)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct op *w = mem_realloc(*ops, c * sizeof(*w));

		if (!w) {
			return -ENOMEM;
		}
		*ops = w;
		*cap = c;
	}
	(*ops)[*n].kind = kind;
	(*ops)[*n].ai = ai;
	(*ops)[*n].bi = bi;
	(*n)++;
	return 0;
}

/* The edit script for a[lo_a..hi_a) against b[lo_b..hi_b). */
static int middle_ops(const struct line *a, size_t lo_a, size_t hi_a,
		      const struct line *b, size_t lo_b, size_t hi_b,
		      struct op **ops, size_t *n, size_t *cap)
{
	size_t na = hi_a - lo_a, nb = hi_b - lo_b, i, j;
	uint32_t *t;
	int r = 0;

	if (na == 0 || nb == 0 || (na + 1) * (nb + 1) > DIFF_MAX_CELLS) {
		for (i = lo_a; i < hi_a && r == 0; i++) {
			r = push(ops, n, cap, '-', i, lo_b);
		}
		for (j = lo_b; j < hi_b && r == 0; j++) {
			r = push(ops, n, cap, '+', hi_a, j);
		}
		return r;
	}
	/* t[i][j]: LCS length of a[lo_a+i..] and b[lo_b+j..]. */
	t = mem_calloc((na + 1) * (nb + 1), sizeof(*t));
	if (!t) {
		return -ENOMEM;
	}
#define T(i, j) t[(i) * (nb + 1) + (j)]
	for (i = na; i-- > 0;) {
		for (j = nb; j-- > 0;) {
			if (line_eq(&a[lo_a + i], &b[lo_b + j])) {
				T(i, j) = T(i + 1, j + 1) + 1;
			} else {
				T(i, j) = T(i + 1, j) > T(i, j + 1)
					      ? T(i + 1, j)
					      : T(i, j + 1);
			}
		}
	}
	i = 0;
	j = 0;
	while ((i < na || j < nb) && r == 0) {
		if (i < na && j < nb && line_eq(&a[lo_a + i], &b[lo_b + j])) {
			r = push(ops, n, cap, ' ', lo_a + i, lo_b + j);
			i++;
			j++;
		} else if (i < na && (j == nb || T(i + 1, j) >= T(i, j + 1))) {
			/* Removals before additions, as diff -u prints them. */
			r = push(ops, n, cap, '-', lo_a + i, lo_b + j);
			i++;
		} else {
			r = push(ops, n, cap, '+', lo_a + i, lo_b + j);
			j++;
		}
	}
#undef T
	mem_free(t);
	return r;
}

static int emit_line(struct buf *out, char kind, const struct line *l)
{
	int r = buf_append_byte(out, (uint8_t)kind);

	if (r == 0) {
		r = buf_append(out, l->p, l->len);
	}
	if (r == 0) {
		r = buf_append_str(
		    out, l->nl ? "\n" : "\n\\ No newline at end of file\n");
	}
	return r;
}

/* GNU diff's range: "start,count", start being the line before when empty. */
static int emit_range(struct buf *out, char sign, size_t first, size_t count)
{
	if (count == 1) {
		return buf_printf(out, "%c%zu", sign, first + 1);
	}
	return buf_printf(out, "%c%zu,%zu", sign, count ? first + 1 : first,
			  count);
}

static int emit_hunks(const struct op *ops, size_t n, const struct line *a,
		      const struct line *b, struct buf *out)
{
	size_t i = 0;
	int r = 0;

	while (i < n && r == 0) {
		size_t start, end, k, a_first, b_first, a_count = 0,
							b_count = 0;

		while (i < n && ops[i].kind == ' ') {
			i++;
		}
		if (i == n) {
			break;
		}
		start = i >= CONTEXT ? i - CONTEXT : 0;
		/* Extend while the next change is within 2*CONTEXT lines. */
		end = i;
		for (;;) {
			size_t same = 0;

			while (end < n && ops[end].kind != ' ') {
				end++;
			}
			k = end;
			while (k < n && ops[k].kind == ' ') {
				k++;
				same++;
			}
			if (k < n && same <= 2 * CONTEXT) {
				end = k;
				continue;
			}
			end = end + (same < CONTEXT ? same : CONTEXT);
			break;
		}
		a_first = ops[start].ai;
		b_first = ops[start].bi;
		for (k = start; k < end; k++) {
			a_count += ops[k].kind != '+';
			b_count += ops[k].kind != '-';
		}
		r = buf_append_str(out, "@@ ");
		if (r == 0) {
			r = emit_range(out, '-', a_first, a_count);
		}
		if (r == 0) {
			r = buf_append_byte(out, ' ');
		}
		if (r == 0) {
			r = emit_range(out, '+', b_first, b_count);
		}
		if (r == 0) {
			r = buf_append_str(out, " @@\n");
		}
		for (k = start; k < end && r == 0; k++) {
			if (ops[k].kind == '+') {
				r = emit_line(out, '+', &b[ops[k].bi]);
			} else {
				r = emit_line(out, ops[k].kind, &a[ops[k].ai]);
			}
		}
		i = end;
	}
	return r;
}

int diff_unified(const char *a_label, const char *a, size_t a_len,
		 const char *b_label, const char *b, size_t b_len,
		 struct buf *out)
{
	struct line *la = NULL, *lb = NULL;
	size_t na = 0, nb = 0, head = 0, tail = 0, i, n_ops = 0, cap = 0;
	struct op *ops = NULL;
	int r;

	if (a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0)) {
		return 0;
	}
	r = split_lines(a, a_len, &la, &na);
	if (r == 0) {
		r = split_lines(b, b_len, &lb, &nb);
	}
	if (r < 0) {
		goto out;
	}
	while (head < na && head < nb && line_eq(&la[head], &lb[head])) {
		head++;
	}
	while (tail < na - head && tail < nb - head &&
	       line_eq(&la[na - 1 - tail], &lb[nb - 1 - tail])) {
		tail++;
	}
	for (i = 0; i < head && r == 0; i++) {
		r = push(&ops, &n_ops, &cap, ' ', i, i);
	}
	if (r == 0) {
		r = middle_ops(la, head, na - tail, lb, head, nb - tail, &ops,
			       &n_ops, &cap);
	}
	for (i = 0; i < tail && r == 0; i++) {
		r = push(&ops, &n_ops, &cap, ' ', na - tail + i, nb - tail + i);
	}
	if (r == 0) {
		r = buf_printf(out, "--- %s\n+++ %s\n", a_label, b_label);
	}
	if (r == 0) {
		r = emit_hunks(ops, n_ops, la, lb, out);
	}
out:
	mem_free(ops);
	mem_free(la);
	mem_free(lb);
	return r;
}
