/*
 * ctl_table.c - tablewriter-compatible rendering (ctl_table.h).
 *
 * Invariants:
 *  1. A table owns copies of its headers and cells.
 *  2. A column's width is the widest line of its header or any cell after
 *     wrapping; a cell that had to be wrapped makes its column exactly the
 *     wrap limit wide (or its longest word, if longer).
 */
#include "agent/ctl_table.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"

#define WRAP_LIMIT 30 /* tablewriter's MAX_ROW_WIDTH */
#define RAGGED_PENALTY 100000

/* One cell after wrapping: its lines, each NUL-terminated. */
struct cell {
	char **lines;
	size_t n_lines;
	size_t width;
};

struct ctl_table {
	size_t n_cols;
	struct cell *header; /* n_cols */
	struct cell **rows;  /* n_rows arrays of n_cols */
	size_t n_rows;
	size_t cap_rows;
};

static size_t text_width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			w++; /* count lead bytes only */
		}
	}
	return w;
}

static void cell_done(struct cell *c)
{
	for (size_t i = 0; i < c->n_lines; i++) {
		mem_free(c->lines[i]);
	}
	mem_free(c->lines);
	c->lines = NULL;
	c->n_lines = 0;
}

static int cell_push(struct cell *c, const char *s, size_t len)
{
	char **lines = mem_realloc(c->lines, (c->n_lines + 1) * sizeof(char *));
	char *line;

	if (lines == NULL) {
		return -ENOMEM;
	}
	c->lines = lines;
	line = mem_strndup(s, len);
	if (line == NULL) {
		return -ENOMEM;
	}
	c->lines[c->n_lines++] = line;
	if (text_width(s, len) > c->width) {
		c->width = text_width(s, len);
	}
	return 0;
}

struct word {
	const char *p;
	size_t len;
	size_t width;
};

/*
 * Break words into lines of at most lim columns minimising the sum of the
 * squared slack of every line but the last (Knuth-style minimal raggedness,
 * the rule tablewriter's WrapWords applies); a line longer than lim (one
 * long word) costs a large penalty.  brk[i] receives the index after the
 * last word of the line starting at word i.
 */
static int wrap_words(const struct word *w, size_t n, size_t lim, size_t *brk)
{
	long long *cost = mem_calloc(n + 1, sizeof(long long));

	if (cost == NULL) {
		return -ENOMEM;
	}
	for (size_t i = n; i-- > 0;) {
		size_t len = 0;

		for (size_t j = i; j < n; j++) {
			len += (j > i ? 1 : 0) + w[j].width;
		}
		if (len <= lim) {
			cost[i] = 0;
			brk[i] = n;
			continue;
		}
		cost[i] = LLONG_MAX;
		len = w[i].width;
		for (size_t j = i + 1; j < n; j++) {
			/* Line i..j-1 has width len; the rest starts at j. */
			long long d = (long long)lim - (long long)len;
			long long c = d * d + cost[j];

			if (len > lim) {
				c += RAGGED_PENALTY;
			}
			if (c < cost[i]) {
				cost[i] = c;
				brk[i] = j;
			}
			len += 1 + w[j].width;
		}
	}
	mem_free(cost);
	return 0;
}

/* Split text into the cell's lines the way tablewriter's parseDimension does. */
static int cell_set(struct cell *c, const char *text)
{
	struct word *words = NULL;
	size_t *brk = NULL;
	size_t n_words = 0, max_width = 0, lim, len = strlen(text);
	int r = -ENOMEM;

	memset(c, 0, sizeof(*c));
	/* Paragraphs are the text's lines; etcdctl cells have one. */
	for (const char *p = text;;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (text_width(p, l) > max_width) {
			max_width = text_width(p, l);
		}
		if (nl == NULL) {
			break;
		}
		p = nl + 1;
	}
	lim = max_width > WRAP_LIMIT ? WRAP_LIMIT : max_width;
	if (max_width <= lim) {
		/* Nothing to wrap: keep the lines as they are. */
		for (const char *p = text;;) {
			const char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) : strlen(p);
			if (cell_push(c, p, l) < 0) {
				goto fail;
			}
			if (nl == NULL) {
				break;
			}
			p = nl + 1;
		}
		return 0;
	}
	/* Words split on single spaces (newlines count as spaces). */
	words = mem_calloc(len + 1, sizeof(*words));
	brk = mem_calloc(len + 1, sizeof(*brk));
	if (words == NULL || brk == NULL) {
		goto fail;
	}
	for (size_t i = 0, start = 0; i <= len; i++) {
		if (i == len || text[i] == ' ' || text[i] == '\n') {
			words[n_words].p = text + start;
			words[n_words].len = i - start;
			words[n_words].width = text_width(text + start, i - start);
			if (words[n_words].width > lim) {
				lim = words[n_words].width;
			}
			n_words++;
			start = i + 1;
		}
	}
	if (wrap_words(words, n_words, lim, brk) < 0) {
		goto fail;
	}
	c->width = lim;
	for (size_t i = 0; i < n_words; i = brk[i]) {
		const char *start = words[i].p;
		const char *end = words[brk[i] - 1].p + words[brk[i] - 1].len;
		if (cell_push(c, start, (size_t)(end - start)) < 0) {
			goto fail;
		}
	}
	r = 0;
fail:
	mem_free(words);
	mem_free(brk);
	if (r < 0) {
		cell_done(c);
	}
	return r;
}

struct ctl_table *ctl_table_new(const char *const *headers, size_t n_cols)
{
	struct ctl_table *t = mem_calloc(1, sizeof(*t));

	if (t == NULL) {
		return NULL;
	}
	t->n_cols = n_cols;
	t->header = mem_calloc(n_cols, sizeof(struct cell));
	if (t->header == NULL) {
		mem_free(t);
		return NULL;
	}
	for (size_t i = 0; i < n_cols; i++) {
		/* tablewriter's Title(): upper case, '_' as a space. */
		char *title = mem_strdup(headers[i]);
		int r;

		if (title == NULL) {
			ctl_table_free(t);
			return NULL;
		}
		for (char *p = title; *p; p++) {
			if (*p >= 'a' && *p <= 'z') {
				*p = (char)(*p - 'a' + 'A');
			} else if (*p == '_') {
				*p = ' ';
			}
		}
		r = cell_set(&t->header[i], title);
		mem_free(title);
		if (r < 0) {
			ctl_table_free(t);
			return NULL;
		}
	}
	return t;
}

void ctl_table_free(struct ctl_table *t)
{
	if (t == NULL) {
		return;
	}
	for (size_t i = 0; i < t->n_cols; i++) {
		cell_done(&t->header[i]);
	}
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t i = 0; i < t->n_cols; i++) {
			cell_done(&t->rows[r][i]);
		}
		mem_free(t->rows[r]);
	}
	mem_free(t->rows);
	mem_free(t->header);
	mem_free(t);
}

int ctl_table_add_row(struct ctl_table *t, const char *const *cells)
{
	struct cell *row;

	if (t->n_rows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 8;
		struct cell **rows = mem_realloc(t->rows, cap * sizeof(*rows));
		if (rows == NULL) {
			return -ENOMEM;
		}
		t->rows = rows;
		t->cap_rows = cap;
	}
	row = mem_calloc(t->n_cols, sizeof(*row));
	if (row == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n_cols; i++) {
		if (cell_set(&row[i], cells[i] != NULL ? cells[i] : "") < 0) {
			for (size_t k = 0; k < i; k++) {
				cell_done(&row[k]);
			}
			mem_free(row);
			return -ENOMEM;
		}
	}
	t->rows[t->n_rows++] = row;
	return 0;
}

static int put_spaces(struct buf *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf_append_byte(out, ' ') < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int put_rule(struct buf *out, const size_t *widths, size_t n)
{
	int r = buf_append_byte(out, '+');

	for (size_t i = 0; r == 0 && i < n; i++) {
		for (size_t k = 0; r == 0 && k < widths[i] + 2; k++) {
			r = buf_append_byte(out, '-');
		}
		if (r == 0) {
			r = buf_append_byte(out, '+');
		}
	}
	return r == 0 ? buf_append_byte(out, '\n') : r;
}

/* One row of cells; centred (headers) or right-aligned (data). */
static int put_row(struct buf *out, const struct cell *cells, const size_t *widths,
		   size_t n, bool centre)
{
	size_t height = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		if (cells[i].n_lines > height) {
			height = cells[i].n_lines;
		}
	}
	for (size_t line = 0; r == 0 && line < height; line++) {
		r = buf_append_byte(out, '|');
		for (size_t i = 0; r == 0 && i < n; i++) {
			const char *s = line < cells[i].n_lines ? cells[i].lines[line] : "";
			size_t w = text_width(s, strlen(s));
			size_t gap = widths[i] > w ? widths[i] - w : 0;
			size_t left = centre ? gap / 2 : gap;

			r = put_spaces(out, 1 + left);
			if (r == 0) {
				r = buf_append_str(out, s);
			}
			if (r == 0) {
				r = put_spaces(out, gap - left + 1);
			}
			if (r == 0) {
				r = buf_append_byte(out, '|');
			}
		}
		if (r == 0) {
			r = buf_append_byte(out, '\n');
		}
	}
	return r;
}

int ctl_table_render(const struct ctl_table *t, struct buf *out)
{
	size_t *widths = mem_calloc(t->n_cols, sizeof(size_t));
	int r;

	if (widths == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n_cols; i++) {
		widths[i] = t->header[i].width;
		for (size_t row = 0; row < t->n_rows; row++) {
			if (t->rows[row][i].width > widths[i]) {
				widths[i] = t->rows[row][i].width;
			}
		}
	}
	r = put_rule(out, widths, t->n_cols);
	if (r == 0) {
		r = put_row(out, t->header, widths, t->n_cols, true);
	}
	if (r == 0) {
		r = put_rule(out, widths, t->n_cols);
	}
	for (size_t row = 0; r == 0 && row < t->n_rows; row++) {
		r = put_row(out, t->rows[row], widths, t->n_cols, false);
	}
	if (r == 0) {
		r = put_rule(out, widths, t->n_cols);
	}
	mem_free(widths);
	return r;
}

void ctl_humanize_bytes(uint64_t n, char *out, size_t size)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	double e, val;

	if (n < 10) {
		snprintf(out, size, "%llu B", (unsigned long long)n);
		return;
	}
	/* etcd compat: go-humanize rounds to one decimal, then prints it
	 * below 10 and drops it from 10 on. */
	e = floor(log((double)n) / log(1000.0));
	val = floor((double)n / pow(1000.0, e) * 10 + 0.5) / 10;
	snprintf(out, size, val < 10 ? "%.1f %s" : "%.0f %s", val, units[(int)e]);
}
