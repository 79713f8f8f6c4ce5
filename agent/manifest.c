/*
 * manifest.c - load and validate the cluster manifest (manifest.h).
 *
 * Two passes.  First libyaml's event parser builds a small tree of our own
 * (struct ynode) that keeps every node's mark; aliases, a second document
 * and nesting deeper than YNODE_MAX_DEPTH are refused there, so the second
 * pass walks a finite tree of bounded depth whatever the input.  Then the
 * tree is checked against the schema section by section, filling struct
 * manifest; a problem becomes a diagnostic and the walk goes on with the
 * next key, so one run reports every mistake.  Cross-member checks
 * (duplicates, port clashes, shared paths) run last, on effective values.
 *
 * Invariants:
 *  1. Every diagnostic is "what is wrong; what to do" at the mark of the
 *     node that is wrong (the key's value, or the key for unknown keys).
 *  2. An allocation failure is sticky (struct loader.err) and ends the load
 *     with -ENOMEM; nothing leaks on any path.
 *  3. Strings stored in struct manifest hold no NUL, no control character
 *     and nothing the env-file or unit-file syntax would interpret
 *     (checked where they are parsed), so renderers copy them verbatim.
 */
#include "agent/manifest.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"

/* Enough to fix a manifest; bounds the work on hostile input. */
#define MANIFEST_MAX_DIAGS 100
/* Most keys any one section knows (check_keys). */
#define MAX_KNOWN_KEYS 32
/*
 * Limits that keep the pairwise checks cheap on hostile input: etcd
 * recommends 3, 5 or 7 members; nobody lists hundreds of addresses.
 */
#define MANIFEST_MAX_MEMBERS 100
#define MANIFEST_MAX_LIST 64
#define MANIFEST_MAX_ENV 256
/* Deeper than any manifest needs (5 levels); bounds the walk. */
#define YNODE_MAX_DEPTH 32
/* etcd's limits (embed/config.go): election >= 5 heartbeats, <= 50 s. */
#define ETCD_MAX_ELECTION_MS 50000
#define ETCD_DEFAULT_HEARTBEAT_MS 100
#define ETCD_DEFAULT_ELECTION_MS 1000
/* etcd warns above 8 GiB of quota ("exceeds maximum recommended"). */
#define ETCD_MAX_RECOMMENDED_QUOTA (8ULL << 30)

/* ---- diagnostics -------------------------------------------------------- */

void manifest_diags_init(struct manifest_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void manifest_diags_done(struct manifest_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		mem_free(d->v[i].msg);
	}
	mem_free(d->v);
	mem_free(d->file);
	manifest_diags_init(d);
}

static int diag_cmp(const void *a, const void *b)
{
	const struct manifest_diag *x = *(const struct manifest_diag *const *)a;
	const struct manifest_diag *y = *(const struct manifest_diag *const *)b;

	if (x->line != y->line) {
		return x->line < y->line ? -1 : 1;
	}
	if (x->col != y->col) {
		return x->col < y->col ? -1 : 1;
	}
	/* Stable: keep detection order for equal positions. */
	return x < y ? -1 : (x > y ? 1 : 0);
}

char *manifest_diag_format(const struct manifest_diags *d, size_t i)
{
	const struct manifest_diag *g = &d->v[i];
	const char *sev = g->severity == MANIFEST_WARNING ? "warning: " : "";
	const char *file = d->file ? d->file : "manifest";
	struct buf b = BUF_INIT;
	int r;

	if (g->line > 0) {
		r = buf_printf(&b, "%s:%u:%u: %s%s", file, g->line, g->col, sev,
			       g->msg);
	} else {
		r = buf_printf(&b, "%s: %s%s", file, sev, g->msg);
	}
	if (r < 0) {
		buf_done(&b);
		return NULL;
	}
	return (char *)buf_steal(&b, NULL);
}

void manifest_diags_print(const struct manifest_diags *d, FILE *out)
{
	const struct manifest_diag **order;
	size_t i;

	order = mem_calloc(d->n ? d->n : 1, sizeof(*order));
	for (i = 0; order && i < d->n; i++) {
		order[i] = &d->v[i];
	}
	if (order) {
		qsort(order, d->n, sizeof(*order), diag_cmp);
	}
	for (i = 0; i < d->n; i++) {
		size_t k = order ? (size_t)(order[i] - d->v) : i;
		char *line = manifest_diag_format(d, k);

		if (line) {
			fprintf(out, "%s\n", line);
		} else {
			fprintf(out, "%s\n", d->v[k].msg);
		}
		mem_free(line);
	}
	mem_free(order);
}

/* ---- the YAML tree ------------------------------------------------------ */

enum ynode_kind {
	YN_SCALAR,
	YN_SEQ,
	YN_MAP,
};

struct ynode {
	enum ynode_kind kind;
	unsigned line;
	unsigned col;
	bool plain; /* scalar written without quotes */
	char *text; /* scalar value, NUL-terminated */
	size_t len;
	struct ynode **kids; /* seq: items; map: key, value, key, value ... */
	size_t n_kids;
	size_t cap;
};

static void ynode_free(struct ynode *n)
{
	size_t i;

	if (!n) {
		return;
	}
	for (i = 0; i < n->n_kids; i++) {
		ynode_free(n->kids[i]);
	}
	mem_free(n->kids);
	mem_free(n->text);
	mem_free(n);
}

static int ynode_add(struct ynode *parent, struct ynode *kid)
{
	if (parent->n_kids == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct ynode **k = mem_realloc(parent->kids, cap * sizeof(*k));

		if (!k) {
			return -ENOMEM;
		}
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n_kids++] = kid;
	return 0;
}

struct loader {
	struct manifest_diags *d;
	int err; /* sticky -ENOMEM */
	struct manifest *m;
};

static unsigned mark_num(size_t v)
{
	return v >= UINT_MAX - 1 ? UINT_MAX - 1 : (unsigned)v + 1;
}

__attribute__((format(printf, 5, 0))) static void
vdiag_at(struct loader *L, enum manifest_severity sev, unsigned line,
	 unsigned col, const char *fmt, va_list ap)
{
	struct manifest_diags *d = L->d;
	struct buf b = BUF_INIT;
	size_t i;

	if (d->n > MANIFEST_MAX_DIAGS) {
		return;
	}
	if (d->n == MANIFEST_MAX_DIAGS) {
		/* One last line says why the list stops here. */
		sev = MANIFEST_ERROR;
		fmt = "too many problems; fix these first and validate again";
		line = 0;
		col = 0;
	}
	if (buf_vprintf(&b, fmt, ap) < 0) {
		L->err = -ENOMEM;
		return;
	}
	/* A default shared by every member is reported once, not per member. */
	for (i = 0; i < d->n; i++) {
		if (d->v[i].severity == sev && d->v[i].line == line &&
		    d->v[i].col == col &&
		    strcmp(d->v[i].msg, (char *)b.data) == 0) {
			buf_done(&b);
			return;
		}
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct manifest_diag *v = mem_realloc(d->v, cap * sizeof(*v));

		if (!v) {
			buf_done(&b);
			L->err = -ENOMEM;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n].severity = sev;
	d->v[d->n].line = line;
	d->v[d->n].col = col;
	d->v[d->n].msg = (char *)buf_steal(&b, NULL);
	d->n++;
	if (sev == MANIFEST_ERROR) {
		d->n_errors++;
	} else {
		d->n_warnings++;
	}
}

__attribute__((format(printf, 4, 5))) static void
err_at(struct loader *L, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag_at(L, MANIFEST_ERROR, line, col, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void
err_node(struct loader *L, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag_at(L, MANIFEST_ERROR, n->line, n->col, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5))) static void
warn_at(struct loader *L, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag_at(L, MANIFEST_WARNING, line, col, fmt, ap);
	va_end(ap);
}

/* Past the diagnostics cap, further checks would only burn time. */
static bool diags_full(const struct loader *L)
{
	return L->d->n > MANIFEST_MAX_DIAGS;
}

static const char *yaml_problem(const yaml_parser_t *p)
{
	return p->problem ? p->problem : "unreadable input";
}

/*
 * Build the tree from libyaml's events.  Returns 0 with *out (NULL for an
 * empty stream), 1 when a diagnostic was added, or -ENOMEM.
 */
static int ytree_build(struct loader *L, const uint8_t *data, size_t len,
		       struct ynode **out)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct ynode *stack[YNODE_MAX_DEPTH];
	size_t depth = 0;
	struct ynode *root = NULL;
	int n_docs = 0;
	int ret = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p)) {
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, data, len);
	while (!done) {
		struct ynode *n = NULL;
		unsigned line, col;

		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR) {
				ret = -ENOMEM;
			} else if (p.problem_mark.index < len &&
				   data[p.problem_mark.index] == '\t') {
				err_at(L, mark_num(p.problem_mark.line),
				       mark_num(p.problem_mark.column),
				       "invalid YAML: a tab character; YAML "
				       "indents with spaces only, so replace "
				       "the tab with spaces");
				ret = 1;
			} else if (p.context) {
				err_at(
				    L, mark_num(p.problem_mark.line),
				    mark_num(p.problem_mark.column),
				    "invalid YAML: %s %s (line %u); check the "
				    "indentation and quoting there",
				    yaml_problem(&p), p.context,
				    mark_num(p.context_mark.line));
				ret = 1;
			} else {
				err_at(
				    L, mark_num(p.problem_mark.line),
				    mark_num(p.problem_mark.column),
				    "invalid YAML: %s; check the indentation "
				    "and quoting there",
				    yaml_problem(&p));
				ret = 1;
			}
			break;
		}
		line = mark_num(ev.start_mark.line);
		col = mark_num(ev.start_mark.column);
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++n_docs > 1) {
				err_at(
				    L, line, col,
				    "a second YAML document; a manifest is "
				    "one document: remove this '---' and what "
				    "follows, or split the file");
				ret = 1;
				done = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			err_at(L, line, col,
			       "alias *%s: aliases are not supported; write "
			       "the value out in full",
			       (const char *)ev.data.alias.anchor);
			ret = 1;
			done = true;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			n = mem_calloc(1, sizeof(*n));
			if (!n) {
				ret = -ENOMEM;
				done = true;
				break;
			}
			n->line = line;
			n->col = col;
			if (ev.type == YAML_SCALAR_EVENT) {
				n->kind = YN_SCALAR;
				n->plain = ev.data.scalar.style ==
					   YAML_PLAIN_SCALAR_STYLE;
				n->len = ev.data.scalar.length;
				n->text = mem_strndup(
				    (const char *)ev.data.scalar.value, n->len);
				if (!n->text) {
					ynode_free(n);
					ret = -ENOMEM;
					done = true;
					break;
				}
			} else {
				n->kind = ev.type == YAML_SEQUENCE_START_EVENT
					      ? YN_SEQ
					      : YN_MAP;
			}
			if (depth > 0) {
				if (ynode_add(stack[depth - 1], n) < 0) {
					ynode_free(n);
					ret = -ENOMEM;
					done = true;
					break;
				}
			} else if (!root) {
				root = n;
			} else {
				/* libyaml never emits two roots in one doc. */
				ynode_free(n);
			}
			if (n->kind != YN_SCALAR) {
				if (depth == YNODE_MAX_DEPTH) {
					err_at(L, line, col,
					       "nesting deeper than %d levels; "
					       "a manifest needs at most 5",
					       YNODE_MAX_DEPTH);
					ret = 1;
					done = true;
					break;
				}
				stack[depth++] = n;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0) {
				depth--;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (ret != 0) {
		ynode_free(root);
		return ret;
	}
	*out = root;
	return 0;
}

static bool is_null(const struct ynode *n);

static const char *kind_name(const struct ynode *n)
{
	if (is_null(n)) {
		return "empty";
	}
	switch (n->kind) {
	case YN_SEQ:
		return "a list";
	case YN_MAP:
		return "a mapping";
	default:
		return "a single value";
	}
}

static bool is_null(const struct ynode *n)
{
	return n->kind == YN_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->text, "~") == 0 ||
		strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
		strcmp(n->text, "NULL") == 0);
}

static const struct ynode *map_get(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; i + 1 < map->n_kids; i += 2) {
		const struct ynode *k = map->kids[i];

		if (k->kind == YN_SCALAR && strcmp(k->text, key) == 0) {
			return map->kids[i + 1];
		}
	}
	return NULL;
}

/* ---- suggestions -------------------------------------------------------- */

/* Lower case without '_' and '-', so clientPort matches client_port. */
static size_t fold_key(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++) {
		if (*s != '_' && *s != '-') {
			out[n++] = (char)tolower((unsigned char)*s);
		}
	}
	out[n] = '\0';
	return n;
}

/* Optimal string alignment distance (Levenshtein plus transpositions). */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t d[65][65];
	size_t i, j;

	for (i = 0; i <= la; i++) {
		d[i][0] = i;
	}
	for (j = 0; j <= lb; j++) {
		d[0][j] = j;
	}
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v) {
				v = d[i][j - 1] + 1;
			}
			if (d[i - 1][j - 1] + cost < v) {
				v = d[i - 1][j - 1] + cost;
			}
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v) {
				v = d[i - 2][j - 2] + 1;
			}
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *manifest_suggest(const char *word, const char *const *known,
			     size_t n_known)
{
	char w[65], k[65];
	size_t lw, lk, i, best_d = SIZE_MAX;
	const char *best = NULL;

	lw = fold_key(word, w, sizeof(w));
	if (lw == 0) {
		return NULL;
	}
	for (i = 0; i < n_known; i++) {
		size_t dist, limit;

		lk = fold_key(known[i], k, sizeof(k));
		/* A known key that begins with the word ("heartbeat"). */
		if (lw >= 4 && lw < lk && strncmp(w, k, lw) == 0) {
			dist = 1;
		} else {
			dist = edit_distance(w, lw, k, lk);
		}
		limit = lk < 6 ? 1 : (lk < 12 ? 2 : 3);
		if (dist <= limit && dist < best_d) {
			best_d = dist;
			best = known[i];
		}
	}
	return best;
}

static int known_list(const char *const *known, size_t n, struct buf *b)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf_printf(b, "%s%s", i ? ", " : "", known[i]) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Check a mapping's keys: each a plain value, known, given once.  Reports
 * every bad key; the caller then looks values up with map_get().
 */
_Static_assert(MK_N_KEYS_ <= MAX_KNOWN_KEYS && MD_N_KEYS_ <= MAX_KNOWN_KEYS,
	       "check_keys() tracks at most MAX_KNOWN_KEYS keys");

static void check_keys(struct loader *L, const struct ynode *map,
		       const char *section, const char *const *known,
		       size_t n_known)
{
	const struct ynode *first[MAX_KNOWN_KEYS] = {NULL};
	size_t i, k;

	for (i = 0; i + 1 < map->n_kids && !diags_full(L); i += 2) {
		const struct ynode *key = map->kids[i];

		if (key->kind != YN_SCALAR) {
			err_node(L, key,
				 "a key in %s is %s; keys are plain names "
				 "such as '%s'",
				 section, kind_name(key), known[0]);
			continue;
		}
		for (k = 0; k < n_known; k++) {
			if (strcmp(key->text, known[k]) == 0) {
				break;
			}
		}
		if (k == n_known) {
			const char *s =
			    manifest_suggest(key->text, known, n_known);
			struct buf b = BUF_INIT;

			if (s) {
				err_node(L, key,
					 "unknown key '%s' in %s; did you mean "
					 "'%s'?",
					 key->text, section, s);
			} else if (known_list(known, n_known, &b) < 0) {
				L->err = -ENOMEM;
			} else {
				err_node(L, key,
					 "unknown key '%s' in %s; the keys "
					 "there are: %s",
					 key->text, section, (char *)b.data);
			}
			buf_done(&b);
			continue;
		}
		if (k < MAX_KNOWN_KEYS && first[k]) {
			err_node(L, key,
				 "key '%s' given twice in %s (first at line "
				 "%u); keep one",
				 key->text, section, first[k]->line);
		} else if (k < MAX_KNOWN_KEYS) {
			first[k] = key;
		}
	}
}

/* ---- value parsers ------------------------------------------------------ */

/* A non-empty single value; reports and returns NULL otherwise. */
static const char *scalar(struct loader *L, const struct ynode *v,
			  const char *key, const char *expect)
{
	if (v->kind != YN_SCALAR) {
		err_node(L, v, "%s is %s; it must be %s", key, kind_name(v),
			 expect);
		return NULL;
	}
	if (is_null(v)) {
		err_node(L, v, "%s has no value; give %s", key, expect);
		return NULL;
	}
	if (strlen(v->text) != v->len) {
		err_node(L, v, "%s contains a NUL byte; remove it", key);
		return NULL;
	}
	return v->text;
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s) {
		return -EINVAL;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9') {
			return -EINVAL;
		}
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
			return -ERANGE;
		}
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Split "123abc" into a number and a unit suffix. */
static int split_number(const char *s, uint64_t *num, const char **unit)
{
	char digits[32];
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n + 1 >= sizeof(digits)) {
			return -ERANGE;
		}
		digits[n] = s[n];
		n++;
	}
	if (n == 0) {
		return -EINVAL;
	}
	digits[n] = '\0';
	*unit = s + n;
	return parse_u64(digits, num);
}

static int mul_check(uint64_t a, uint64_t b, uint64_t *out)
{
	if (b != 0 && a > UINT64_MAX / b) {
		return -ERANGE;
	}
	*out = a * b;
	return 0;
}

int manifest_parse_duration(const char *s, uint64_t *out_ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
	    {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
	};
	const char *unit;
	uint64_t n;
	size_t i;
	int r;

	r = split_number(s, &n, &unit);
	if (r < 0) {
		return r;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit) == 0) {
			return mul_check(n, units[i].ms, out_ms);
		}
	}
	return -EINVAL;
}

static int parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
	    {"", 1},
	    {"B", 1},
	    {"KB", 1000},
	    {"MB", 1000 * 1000},
	    {"GB", 1000 * 1000 * 1000},
	    {"KiB", 1ULL << 10},
	    {"MiB", 1ULL << 20},
	    {"GiB", 1ULL << 30},
	    {"TiB", 1ULL << 40},
	};
	const char *unit;
	uint64_t n;
	size_t i;
	int r;

	r = split_number(s, &n, &unit);
	if (r < 0) {
		return r;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit) == 0) {
			return mul_check(n, units[i].mult, out);
		}
	}
	return -EINVAL;
}

static bool get_bool(struct loader *L, const struct ynode *v, const char *key,
		     bool *out)
{
	const char *s = scalar(L, v, key, "true or false");

	if (!s) {
		return false;
	}
	if (strcmp(s, "true") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(s, "false") == 0) {
		*out = false;
		return true;
	}
	err_node(L, v,
		 "%s must be true or false, not '%s'; write true or false", key,
		 s);
	return false;
}

static bool get_uint(struct loader *L, const struct ynode *v, const char *key,
		     uint64_t min, uint64_t max, const char *what,
		     uint64_t *out)
{
	const char *s = scalar(L, v, key, what);
	uint64_t n;

	if (!s) {
		return false;
	}
	if (parse_u64(s, &n) < 0 || n < min || n > max) {
		err_node(L, v,
			 "%s must be %s, not '%s'; write a number from "
			 "%llu to %llu",
			 key, what, s, (unsigned long long)min,
			 (unsigned long long)max);
		return false;
	}
	*out = n;
	return true;
}

static bool get_duration(struct loader *L, const struct ynode *v,
			 const char *key, uint64_t min_ms, bool infinity,
			 uint64_t *out)
{
	const char *s = scalar(L, v, key, "a duration such as 500ms or 10s");
	uint64_t ms;

	if (!s) {
		return false;
	}
	if (infinity && strcmp(s, "infinity") == 0) {
		*out = 0;
		return true;
	}
	if (manifest_parse_duration(s, &ms) < 0 || ms > 7ULL * 24 * 3600000) {
		err_node(L, v,
			 "%s: '%s' is not a duration; write a number "
			 "with ms, s, m or h, e.g. 500ms or 10s%s",
			 key, s, infinity ? " (or infinity)" : "");
		return false;
	}
	if (ms < min_ms) {
		err_node(L, v, "%s: %s is too short; give at least %llums", key,
			 s, (unsigned long long)min_ms);
		return false;
	}
	*out = ms;
	return true;
}

/* Printable ASCII without quotes, backslash, '$', '`' or '%'. */
static bool is_safe_text(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ||
		    c == '$' || c == '`' || c == '%' || c == '\'') {
			return false;
		}
	}
	return true;
}

/* Letters, digits, '.', '_', '-'; first a letter or digit. */
static bool is_name(const char *s, size_t max)
{
	size_t n = 0;

	if (!isalnum((unsigned char)s[0])) {
		return false;
	}
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-') {
			return false;
		}
	}
	return n <= max;
}

/* RFC 1123 host name: labels of letters, digits and inner '-'. */
static bool is_hostname(const char *s)
{
	size_t label = 0, total = 0;
	char prev = '.';

	for (; *s; s++, total++) {
		if (*s == '.') {
			if (label == 0 || prev == '-') {
				return false;
			}
			label = 0;
		} else if (isalnum((unsigned char)*s) ||
			   (*s == '-' && label > 0)) {
			if (++label > 63) {
				return false;
			}
		} else {
			return false;
		}
		prev = *s;
	}
	return total > 0 && total <= 64 && prev != '-' && prev != '.';
}

static bool get_name(struct loader *L, const struct ynode *v, const char *key,
		     const char *example, char **out)
{
	const char *s = scalar(L, v, key, "a name");

	if (!s) {
		return false;
	}
	if (!is_name(s, 63)) {
		err_node(L, v,
			 "%s '%s' is not a valid name; use up to 63 letters, "
			 "digits, '.', '_' or '-', starting with a letter or "
			 "digit (e.g. %s)",
			 key, s, example);
		return false;
	}
	*out = mem_strdup(s);
	if (!*out) {
		L->err = -ENOMEM;
		return false;
	}
	return true;
}

/*
 * An absolute path of safe characters; "{name}" stands for the member's
 * name and is expanded later.
 */
static bool is_path(const char *s)
{
	const char *c;

	if (s[0] != '/' || strlen(s) >= PATH_MAX) {
		return false;
	}
	for (c = s; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("/._-+@:{}", *c)) {
			return false;
		}
	}
	if (strstr(s, "//") || strstr(s, "/../") || strstr(s, "/./")) {
		return false;
	}
	c = strrchr(s, '/');
	if (strcmp(c, "/..") == 0 || strcmp(c, "/.") == 0) {
		return false;
	}
	for (c = strchr(s, '{'); c; c = strchr(c + 1, '{')) {
		if (strncmp(c, "{name}", 6) != 0) {
			return false;
		}
	}
	for (c = strchr(s, '}'); c; c = strchr(c + 1, '}')) {
		if (c < s + 5 || strncmp(c - 5, "{name}", 6) != 0) {
			return false;
		}
	}
	return true;
}

static bool get_path(struct loader *L, const struct ynode *v, const char *key,
		     char **out)
{
	const char *s = scalar(L, v, key, "an absolute path");
	size_t n;

	if (!s) {
		return false;
	}
	if (!is_path(s)) {
		err_node(L, v,
			 "%s '%s' is not a usable path; give an absolute path "
			 "of letters, digits and ._-+@: without '..' (use "
			 "{name} for the member's name)",
			 key, s);
		return false;
	}
	*out = mem_strdup(s);
	if (!*out) {
		L->err = -ENOMEM;
		return false;
	}
	n = strlen(*out);
	if (n > 1 && (*out)[n - 1] == '/') {
		(*out)[n - 1] = '\0';
	}
	return true;
}

static bool is_ip(const char *s, int *family)
{
	unsigned char tmp[16];

	if (inet_pton(AF_INET, s, tmp) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, tmp) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

static bool is_wildcard(const char *addr)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, addr, a) == 1) {
		return memcmp(a, "\0\0\0\0", 4) == 0;
	}
	if (inet_pton(AF_INET6, addr, a) == 1) {
		static const unsigned char zero[16];

		return memcmp(a, zero, 16) == 0;
	}
	return false;
}

static bool is_loopback(const char *addr)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, addr, a) == 1) {
		return a[0] == 127;
	}
	if (inet_pton(AF_INET6, addr, a) == 1) {
		static const unsigned char one[16] = {[15] = 1};

		return memcmp(a, one, 16) == 0;
	}
	return false;
}

/* Addresses compare by value, so ::1 and 0:0::1 are the same. */
static bool same_addr(const char *x, const char *y)
{
	unsigned char a[16], b[16];

	if (inet_pton(AF_INET, x, a) == 1 && inet_pton(AF_INET, y, b) == 1) {
		return memcmp(a, b, 4) == 0;
	}
	if (inet_pton(AF_INET6, x, a) == 1 && inet_pton(AF_INET6, y, b) == 1) {
		return memcmp(a, b, 16) == 0;
	}
	return strcmp(x, y) == 0;
}

static bool get_addr(struct loader *L, const struct ynode *v, const char *key,
		     char **out)
{
	const char *s = scalar(L, v, key, "an IP address");
	int family;

	if (!s) {
		return false;
	}
	if (!is_ip(s, &family)) {
		if (strchr(s, '/') || strchr(s, ':')) {
			err_node(L, v,
				 "%s '%s' is not an IP address; give the "
				 "address alone (no scheme, port or prefix), "
				 "e.g. 192.168.199.101",
				 key, s);
		} else {
			err_node(L, v,
				 "%s '%s' is not an IP address; the manifest "
				 "maps names to addresses, so give an IPv4 or "
				 "IPv6 address, e.g. 192.168.199.101",
				 key, s);
		}
		return false;
	}
	*out = mem_strdup(s);
	if (!*out) {
		L->err = -ENOMEM;
		return false;
	}
	return true;
}

static void strv_free(struct manifest_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++) {
		mem_free(sv->v[i]);
	}
	mem_free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

static int strv_copy(struct manifest_strv *dst, const struct manifest_strv *src)
{
	size_t i;

	dst->v = NULL;
	dst->n = 0;
	if (src->n == 0) {
		return 0;
	}
	dst->v = mem_calloc(src->n, sizeof(*dst->v));
	if (!dst->v) {
		return -ENOMEM;
	}
	for (i = 0; i < src->n; i++) {
		dst->v[i] = mem_strdup(src->v[i]);
		if (!dst->v[i]) {
			dst->n = i;
			strv_free(dst);
			return -ENOMEM;
		}
	}
	dst->n = src->n;
	return 0;
}

static bool get_addrs(struct loader *L, const struct ynode *v, const char *key,
		      struct manifest_strv *out)
{
	struct manifest_strv sv = {NULL, 0};
	bool ok = true;
	size_t i, j;

	if (v->kind != YN_SEQ) {
		err_node(L, v,
			 "%s is %s; it must be a list of IP addresses, e.g. "
			 "[127.0.0.1]",
			 key, kind_name(v));
		return false;
	}
	if (v->n_kids > MANIFEST_MAX_LIST) {
		err_node(L, v, "%s lists %zu addresses; give at most %d", key,
			 v->n_kids, MANIFEST_MAX_LIST);
		return false;
	}
	if (v->n_kids > 0) {
		sv.v = mem_calloc(v->n_kids, sizeof(*sv.v));
		if (!sv.v) {
			L->err = -ENOMEM;
			return false;
		}
	}
	for (i = 0; i < v->n_kids; i++) {
		char *a = NULL;

		if (!get_addr(L, v->kids[i], key, &a)) {
			ok = false;
			continue;
		}
		for (j = 0; j < sv.n; j++) {
			if (same_addr(sv.v[j], a)) {
				err_node(L, v->kids[i],
					 "%s lists %s twice; remove one", key,
					 a);
				ok = false;
			}
		}
		sv.v[sv.n++] = a;
	}
	if (!ok) {
		strv_free(&sv);
		return false;
	}
	*out = sv;
	return true;
}

/* ---- extra ETCD_* settings ---------------------------------------------- */

/* etcd 3.5's flags as ETCD_* variables (etcdmain/config.go). */
static const char *const etcd_vars[] = {
    "ETCD_ADVERTISE_CLIENT_URLS",
    "ETCD_AUTH_TOKEN",
    "ETCD_AUTH_TOKEN_TTL",
    "ETCD_AUTO_COMPACTION_MODE",
    "ETCD_AUTO_COMPACTION_RETENTION",
    "ETCD_AUTO_TLS",
    "ETCD_BACKEND_BATCH_INTERVAL",
    "ETCD_BACKEND_BATCH_LIMIT",
    "ETCD_BACKEND_BBOLT_FREELIST_TYPE",
    "ETCD_BCRYPT_COST",
    "ETCD_CERT_FILE",
    "ETCD_CIPHER_SUITES",
    "ETCD_CLIENT_CERT_ALLOWED_HOSTNAME",
    "ETCD_CLIENT_CERT_AUTH",
    "ETCD_CLIENT_CRL_FILE",
    "ETCD_CORS",
    "ETCD_DATA_DIR",
    "ETCD_DEBUG",
    "ETCD_DISCOVERY",
    "ETCD_DISCOVERY_FALLBACK",
    "ETCD_DISCOVERY_PROXY",
    "ETCD_DISCOVERY_SRV",
    "ETCD_DISCOVERY_SRV_NAME",
    "ETCD_ELECTION_TIMEOUT",
    "ETCD_ENABLE_GRPC_GATEWAY",
    "ETCD_ENABLE_LOG_ROTATION",
    "ETCD_ENABLE_PPROF",
    "ETCD_ENABLE_V2",
    "ETCD_EXPERIMENTAL_BACKEND_BBOLT_FREELIST_TYPE",
    "ETCD_EXPERIMENTAL_COMPACTION_BATCH_LIMIT",
    "ETCD_EXPERIMENTAL_CORRUPT_CHECK_TIME",
    "ETCD_EXPERIMENTAL_ENABLE_DISTRIBUTED_TRACING",
    "ETCD_EXPERIMENTAL_ENABLE_LEASE_CHECKPOINT",
    "ETCD_EXPERIMENTAL_ENABLE_V2V3",
    "ETCD_EXPERIMENTAL_INITIAL_CORRUPT_CHECK",
    "ETCD_EXPERIMENTAL_TXN_MODE_WRITE_WITH_SHARED_BUFFER",
    "ETCD_EXPERIMENTAL_WARNING_APPLY_DURATION",
    "ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL",
    "ETCD_FORCE_NEW_CLUSTER",
    "ETCD_GRPC_KEEPALIVE_INTERVAL",
    "ETCD_GRPC_KEEPALIVE_MIN_TIME",
    "ETCD_GRPC_KEEPALIVE_TIMEOUT",
    "ETCD_HEARTBEAT_INTERVAL",
    "ETCD_HOST_WHITELIST",
    "ETCD_INITIAL_ADVERTISE_PEER_URLS",
    "ETCD_INITIAL_CLUSTER",
    "ETCD_INITIAL_CLUSTER_STATE",
    "ETCD_INITIAL_CLUSTER_TOKEN",
    "ETCD_INITIAL_ELECTION_TICK_ADVANCE",
    "ETCD_KEY_FILE",
    "ETCD_LISTEN_CLIENT_HTTP_URLS",
    "ETCD_LISTEN_CLIENT_URLS",
    "ETCD_LISTEN_METRICS_URLS",
    "ETCD_LISTEN_PEER_URLS",
    "ETCD_LOG_FORMAT",
    "ETCD_LOG_LEVEL",
    "ETCD_LOG_OUTPUTS",
    "ETCD_LOGGER",
    "ETCD_MAX_CONCURRENT_STREAMS",
    "ETCD_MAX_REQUEST_BYTES",
    "ETCD_MAX_SNAPSHOTS",
    "ETCD_MAX_TXN_OPS",
    "ETCD_MAX_WALS",
    "ETCD_METRICS",
    "ETCD_NAME",
    "ETCD_PEER_AUTO_TLS",
    "ETCD_PEER_CERT_ALLOWED_CN",
    "ETCD_PEER_CERT_ALLOWED_HOSTNAME",
    "ETCD_PEER_CERT_FILE",
    "ETCD_PEER_CLIENT_CERT_AUTH",
    "ETCD_PEER_CRL_FILE",
    "ETCD_PEER_KEY_FILE",
    "ETCD_PEER_TRUSTED_CA_FILE",
    "ETCD_PRE_VOTE",
    "ETCD_PROXY",
    "ETCD_QUOTA_BACKEND_BYTES",
    "ETCD_SNAPSHOT_COUNT",
    "ETCD_SOCKET_REUSE_ADDRESS",
    "ETCD_SOCKET_REUSE_PORT",
    "ETCD_STRICT_RECONFIG_CHECK",
    "ETCD_TLS_MAX_VERSION",
    "ETCD_TLS_MIN_VERSION",
    "ETCD_TRUSTED_CA_FILE",
    "ETCD_UNSAFE_NO_FSYNC",
    "ETCD_WAL_DIR",
};

/* Variables the agent writes itself, and the manifest key that sets them. */
static const struct {
	const char *var;
	const char *key;
} derived_vars[] = {
    {"ETCD_NAME", "the member's name"},
    {"ETCD_DATA_DIR", "data_dir"},
    {"ETCD_LISTEN_PEER_URLS", "address, listen and peer_port"},
    {"ETCD_LISTEN_CLIENT_URLS", "address, listen and client_port"},
    {"ETCD_INITIAL_ADVERTISE_PEER_URLS", "address, advertise and peer_port"},
    {"ETCD_INITIAL_CLUSTER", "the members list"},
    {"ETCD_INITIAL_CLUSTER_TOKEN", "cluster.token"},
    {"ETCD_ADVERTISE_CLIENT_URLS", "address, advertise and client_port"},
    {"ETCD_HEARTBEAT_INTERVAL", "heartbeat_interval"},
    {"ETCD_ELECTION_TIMEOUT", "election_timeout"},
    {"ETCD_SNAPSHOT_COUNT", "snapshot_count"},
    {"ETCD_QUOTA_BACKEND_BYTES", "quota_backend_bytes"},
};

static const char *const etcd_bool_vars[] = {
    "ETCD_AUTO_TLS",
    "ETCD_CLIENT_CERT_AUTH",
    "ETCD_DEBUG",
    "ETCD_ENABLE_GRPC_GATEWAY",
    "ETCD_ENABLE_LOG_ROTATION",
    "ETCD_ENABLE_PPROF",
    "ETCD_ENABLE_V2",
    "ETCD_EXPERIMENTAL_INITIAL_CORRUPT_CHECK",
    "ETCD_FORCE_NEW_CLUSTER",
    "ETCD_PEER_AUTO_TLS",
    "ETCD_PEER_CLIENT_CERT_AUTH",
    "ETCD_PRE_VOTE",
    "ETCD_SOCKET_REUSE_ADDRESS",
    "ETCD_SOCKET_REUSE_PORT",
    "ETCD_STRICT_RECONFIG_CHECK",
    "ETCD_UNSAFE_NO_FSYNC",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(s, list[i]) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * One URL as etcd takes it in a *_URLS variable: http or https (unix and
 * unixs too), a host (IP literal, IPv6 in brackets, or a host name) and a
 * port, nothing after.  why explains a failure.
 */
static bool is_url(const char *u, const char **why)
{
	static const char *const schemes[] = {"http://", "https://", "unix://",
					      "unixs://"};
	const char *host = NULL, *end, *port;
	char h[256];
	uint64_t p;
	size_t i;
	int family;

	for (i = 0; i < ARRAY_LEN(schemes); i++) {
		if (strncmp(u, schemes[i], strlen(schemes[i])) == 0) {
			host = u + strlen(schemes[i]);
		}
	}
	if (!host) {
		*why = "the scheme must be http:// or https://";
		return false;
	}
	if (*host == '[') {
		end = strchr(host, ']');
		if (!end || (size_t)(end - host - 1) >= sizeof(h)) {
			*why = "an IPv6 address needs a closing ']'";
			return false;
		}
		memcpy(h, host + 1, (size_t)(end - host - 1));
		h[end - host - 1] = '\0';
		if (!is_ip(h, &family) || family != AF_INET6) {
			*why = "the address in brackets is not IPv6";
			return false;
		}
		port = end + 1;
	} else {
		end = strchr(host, ':');
		if (!end) {
			*why = "the port is missing";
			return false;
		}
		if (end == host || (size_t)(end - host) >= sizeof(h)) {
			*why = "the host is missing";
			return false;
		}
		memcpy(h, host, (size_t)(end - host));
		h[end - host] = '\0';
		if (!is_ip(h, &family) && !is_hostname(h)) {
			*why = "the host is neither an IP address nor a host "
			       "name";
			return false;
		}
		port = end;
	}
	if (*port != ':' || parse_u64(port + 1, &p) < 0 || p == 0 ||
	    p > 65535) {
		*why = "it must end with :PORT (1-65535) and have no path";
		return false;
	}
	return true;
}

static bool check_env_value(struct loader *L, const struct ynode *v,
			    const char *key, const char *val)
{
	const char *why = NULL;

	if (!is_safe_text(val)) {
		err_node(L, v,
			 "%s's value holds a quote, backslash, '$', '`', '%%' "
			 "or control character; the env file cannot carry it, "
			 "so remove it",
			 key);
		return false;
	}
	if (strlen(key) > 5 && strcmp(key + strlen(key) - 5, "_URLS") == 0) {
		char *copy = mem_strdup(val), *tok, *save = NULL;
		bool ok = true;

		if (!copy) {
			L->err = -ENOMEM;
			return false;
		}
		for (tok = strtok_r(copy, ",", &save); tok && ok;
		     tok = strtok_r(NULL, ",", &save)) {
			if (!is_url(tok, &why)) {
				err_node(L, v,
					 "bad URL '%s' in %s: %s; write "
					 "http://ADDRESS:PORT, several "
					 "separated by commas",
					 tok, key, why);
				ok = false;
			}
		}
		if (ok && (val[0] == '\0' || val[0] == ',' ||
			   val[strlen(val) - 1] == ',' || strstr(val, ",,"))) {
			err_node(L, v,
				 "%s has an empty URL; separate URLs with "
				 "single commas",
				 key);
			ok = false;
		}
		mem_free(copy);
		return ok;
	}
	if (in_list(key, etcd_bool_vars, ARRAY_LEN(etcd_bool_vars)) &&
	    strcmp(val, "true") != 0 && strcmp(val, "false") != 0) {
		err_node(L, v,
			 "%s must be true or false, not '%s'; write true "
			 "or false",
			 key, val);
		return false;
	}
	if (strcmp(key, "ETCD_INITIAL_CLUSTER_STATE") == 0 &&
	    strcmp(val, "new") != 0 && strcmp(val, "existing") != 0) {
		err_node(L, v,
			 "ETCD_INITIAL_CLUSTER_STATE must be new or existing, "
			 "not '%s'; write new (a new cluster) or existing "
			 "(joining one)",
			 val);
		return false;
	}
	return true;
}

static void env_free(struct manifest_env *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		mem_free(e->v[i].key);
		mem_free(e->v[i].value);
	}
	mem_free(e->v);
	e->v = NULL;
	e->n = 0;
}

/* Set key to value, replacing an earlier entry in place.  0 or -ENOMEM. */
static int env_set(struct manifest_env *e, const char *key, const char *value)
{
	struct manifest_env_entry *v;
	char *k, *val;
	size_t i;

	val = mem_strdup(value);
	if (!val) {
		return -ENOMEM;
	}
	for (i = 0; i < e->n; i++) {
		if (strcmp(e->v[i].key, key) == 0) {
			mem_free(e->v[i].value);
			e->v[i].value = val;
			return 0;
		}
	}
	k = mem_strdup(key);
	v = k ? mem_realloc(e->v, (e->n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		mem_free(k);
		mem_free(val);
		return -ENOMEM;
	}
	e->v = v;
	e->v[e->n].key = k;
	e->v[e->n].value = val;
	e->n++;
	return 0;
}

static bool get_env(struct loader *L, const struct ynode *v, const char *key,
		    struct manifest_env *out)
{
	struct manifest_env e = {NULL, 0};
	bool ok = true;
	size_t i, j;

	if (v->kind != YN_MAP) {
		err_node(L, v,
			 "%s is %s; it must be a mapping of ETCD_* variables, "
			 "e.g. ETCD_ENABLE_V2: true",
			 key, kind_name(v));
		return false;
	}
	if (v->n_kids / 2 > MANIFEST_MAX_ENV) {
		err_node(L, v, "%s holds %zu variables; give at most %d", key,
			 v->n_kids / 2, MANIFEST_MAX_ENV);
		return false;
	}
	for (i = 0; i + 1 < v->n_kids; i += 2) {
		const struct ynode *k = v->kids[i], *val = v->kids[i + 1];
		const char *name, *s;
		bool derived = false;

		name = scalar(L, k, "an env key", "an ETCD_* variable name");
		if (!name) {
			ok = false;
			continue;
		}
		if (strncmp(name, "ETCD_", 5) != 0 || name[5] == '\0' ||
		    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
			strlen(name)) {
			err_node(L, k,
				 "'%s' is not an ETCD_* variable; write etcd's "
				 "flag in upper case with ETCD_ in front, e.g. "
				 "ETCD_ENABLE_V2",
				 name);
			ok = false;
			continue;
		}
		for (j = 0; j < ARRAY_LEN(derived_vars); j++) {
			if (strcmp(name, derived_vars[j].var) == 0) {
				err_node(L, k,
					 "%s is written by the agent from %s; "
					 "set that instead of %s",
					 name, derived_vars[j].key, name);
				derived = true;
			}
		}
		if (derived) {
			ok = false;
			continue;
		}
		for (j = 0; j < i; j += 2) {
			if (v->kids[j]->kind == YN_SCALAR &&
			    strcmp(v->kids[j]->text, name) == 0) {
				err_node(L, k,
					 "%s given twice (first at line %u); "
					 "keep one",
					 name, v->kids[j]->line);
				ok = false;
			}
		}
		if (!in_list(name, etcd_vars, ARRAY_LEN(etcd_vars))) {
			const char *best = manifest_suggest(
			    name, etcd_vars, ARRAY_LEN(etcd_vars));

			if (best) {
				warn_at(L, k->line, k->col,
					"%s is not an etcd setting; did you "
					"mean %s?",
					name, best);
			} else {
				warn_at(L, k->line, k->col,
					"%s is not an etcd 3.5 setting; check "
					"its spelling (etcd ignores unknown "
					"variables)",
					name);
			}
		}
		if (val->kind == YN_SCALAR && is_null(val)) {
			s = "";
		} else {
			s = scalar(L, val, name, "a single value");
		}
		if (!s) {
			ok = false;
			continue;
		}
		if (!check_env_value(L, val, name, s)) {
			ok = false;
			continue;
		}
		if (env_set(&e, name, s) < 0) {
			L->err = -ENOMEM;
			ok = false;
		}
	}
	if (!ok) {
		env_free(&e);
		return false;
	}
	*out = e;
	return true;
}

/* ---- settings (defaults: and overrides:) -------------------------------- */

enum vkind {
	V_PORT,
	V_SCHEME,
	V_PATH,
	V_USER,
	V_UNIT,
	V_TIMEOUT,
	V_HEARTBEAT,
	V_ELECTION,
	V_COUNT,
	V_SIZE,
	V_BOOL,
	V_ADDRS,
	V_ENV,
};

static const struct {
	const char *name;
	enum vkind kind;
} setting_defs[MK_N_KEYS_] = {
    [MK_CLIENT_PORT] = {"client_port", V_PORT},
    [MK_PEER_PORT] = {"peer_port", V_PORT},
    [MK_CLIENT_SCHEME] = {"client_scheme", V_SCHEME},
    [MK_PEER_SCHEME] = {"peer_scheme", V_SCHEME},
    [MK_INSTALL_DIR] = {"install_dir", V_PATH},
    [MK_BINARY] = {"binary", V_PATH},
    [MK_CONFIG_FILE] = {"config_file", V_PATH},
    [MK_DATA_DIR] = {"data_dir", V_PATH},
    [MK_USER] = {"user", V_USER},
    [MK_UNIT] = {"unit", V_UNIT},
    [MK_START_TIMEOUT] = {"start_timeout", V_TIMEOUT},
    [MK_HEARTBEAT_INTERVAL] = {"heartbeat_interval", V_HEARTBEAT},
    [MK_ELECTION_TIMEOUT] = {"election_timeout", V_ELECTION},
    [MK_SNAPSHOT_COUNT] = {"snapshot_count", V_COUNT},
    [MK_QUOTA_BACKEND_BYTES] = {"quota_backend_bytes", V_SIZE},
    [MK_HOSTNAME] = {"hostname", V_BOOL},
    [MK_HOSTS] = {"hosts", V_BOOL},
    [MK_LISTEN] = {"listen", V_ADDRS},
    [MK_ADVERTISE] = {"advertise", V_ADDRS},
    [MK_ENV] = {"env", V_ENV},
};

static char **str_field(struct manifest_settings *s, enum manifest_key k)
{
	switch (k) {
	case MK_CLIENT_SCHEME:
		return &s->client_scheme;
	case MK_PEER_SCHEME:
		return &s->peer_scheme;
	case MK_INSTALL_DIR:
		return &s->install_dir;
	case MK_BINARY:
		return &s->binary;
	case MK_CONFIG_FILE:
		return &s->config_file;
	case MK_DATA_DIR:
		return &s->data_dir;
	case MK_USER:
		return &s->user;
	case MK_UNIT:
		return &s->unit;
	default:
		return NULL;
	}
}

static uint64_t *u64_field(struct manifest_settings *s, enum manifest_key k)
{
	switch (k) {
	case MK_CLIENT_PORT:
		return &s->client_port;
	case MK_PEER_PORT:
		return &s->peer_port;
	case MK_START_TIMEOUT:
		return &s->start_timeout_ms;
	case MK_HEARTBEAT_INTERVAL:
		return &s->heartbeat_ms;
	case MK_ELECTION_TIMEOUT:
		return &s->election_ms;
	case MK_SNAPSHOT_COUNT:
		return &s->snapshot_count;
	case MK_QUOTA_BACKEND_BYTES:
		return &s->quota_bytes;
	default:
		return NULL;
	}
}

static void settings_done(struct manifest_settings *s)
{
	int k;

	for (k = 0; k < MK_N_KEYS_; k++) {
		char **f = str_field(s, (enum manifest_key)k);

		if (f) {
			mem_free(*f);
		}
	}
	strv_free(&s->listen);
	strv_free(&s->advertise);
	env_free(&s->env);
	memset(s, 0, sizeof(*s));
}

static bool is_user(const char *s)
{
	size_t n;

	if (!(islower((unsigned char)s[0]) || s[0] == '_')) {
		return false;
	}
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");
	return s[n] == '\0' && n <= 31;
}

static bool is_unit(const char *s)
{
	size_t n = strlen(s);
	const char *at = strchr(s, '@');

	if (n <= 8 || n > 255 || strcmp(s + n - 8, ".service") != 0) {
		return false;
	}
	if (at && at + 1 == s + n - 8) {
		return false; /* a bare template cannot run */
	}
	if (!isalnum((unsigned char)s[0])) {
		return false;
	}
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr(":_.-@{}", *s)) {
			return false;
		}
	}
	return true;
}

/*
 * The directory of path that the rendered unit hides (PrivateTmp= gives
 * the member its own /tmp and /var/tmp, ProtectHome= hides home
 * directories), or NULL.
 */
static const char *hidden_by_sandbox(const char *path)
{
	static const char *const hidden[] = {"/tmp", "/var/tmp", "/home",
					     "/root", "/run/user"};
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(hidden); i++) {
		n = strlen(hidden[i]);
		if (strncmp(path, hidden[i], n) == 0 &&
		    (path[n] == '/' || path[n] == '\0')) {
			return hidden[i];
		}
	}
	return NULL;
}

/* Parse one settings value into s; false when it was reported. */
static bool parse_setting(struct loader *L, struct manifest_settings *s,
			  enum manifest_key k, const struct ynode *v)
{
	const char *key = setting_defs[k].name;
	char **sf = str_field(s, k);
	uint64_t *uf = u64_field(s, k);
	const char *txt;
	char *dup = NULL;
	uint64_t n;
	bool b;

	switch (setting_defs[k].kind) {
	case V_PORT:
		if (!get_uint(L, v, key, 1, 65535, "a port number", &n)) {
			return false;
		}
		*uf = n;
		break;
	case V_SCHEME:
		txt = scalar(L, v, key, "http or https");
		if (!txt) {
			return false;
		}
		if (strcmp(txt, "http") != 0 && strcmp(txt, "https") != 0) {
			err_node(L, v,
				 "%s must be http or https, not '%s'; "
				 "write http or https",
				 key, txt);
			return false;
		}
		dup = mem_strdup(txt);
		break;
	case V_PATH:
		if (!get_path(L, v, key, &dup)) {
			return false;
		}
		if (k == MK_DATA_DIR && strcmp(dup, "/") == 0) {
			err_node(L, v,
				 "data_dir is /; give the member a directory "
				 "of its own, e.g. /var/lib/cetcd");
			mem_free(dup);
			return false;
		}
		if (k == MK_DATA_DIR && hidden_by_sandbox(dup)) {
			err_node(L, v,
				 "data_dir %s is under %s, which the unit's "
				 "sandbox hides from the member; choose a "
				 "directory such as /var/lib/cetcd/{name}",
				 dup, hidden_by_sandbox(dup));
			mem_free(dup);
			return false;
		}
		break;
	case V_USER:
		txt = scalar(L, v, key, "a user name");
		if (!txt) {
			return false;
		}
		if (!is_user(txt)) {
			err_node(L, v,
				 "user '%s' is not a valid user name; use "
				 "lower-case letters, digits, '_' and '-' "
				 "(e.g. cetcd)",
				 txt);
			return false;
		}
		if (strcmp(txt, "root") == 0) {
			warn_at(L, v->line, v->col,
				"the member runs as root; use a dedicated "
				"user (the default, cetcd, is created by "
				"systemd/cetcd.sysusers)");
		}
		dup = mem_strdup(txt);
		break;
	case V_UNIT:
		txt = scalar(L, v, key, "a unit name");
		if (!txt) {
			return false;
		}
		if (!is_unit(txt)) {
			err_node(L, v,
				 "unit '%s' is not a service unit name; write "
				 "NAME.service (e.g. cetcd.service, or "
				 "cetcd@{name}.service)",
				 txt);
			return false;
		}
		dup = mem_strdup(txt);
		break;
	case V_TIMEOUT:
		if (!get_duration(L, v, key, 1000, true, &n)) {
			return false;
		}
		*uf = n;
		break;
	case V_HEARTBEAT:
		if (!get_duration(L, v, key, 1, false, &n)) {
			return false;
		}
		*uf = n;
		break;
	case V_ELECTION:
		if (!get_duration(L, v, key, 1, false, &n)) {
			return false;
		}
		if (n > ETCD_MAX_ELECTION_MS) {
			err_node(L, v,
				 "election_timeout %llums is longer than "
				 "etcd's limit; give at most %dms",
				 (unsigned long long)n, ETCD_MAX_ELECTION_MS);
			return false;
		}
		*uf = n;
		break;
	case V_COUNT:
		if (!get_uint(L, v, key, 1, UINT64_MAX, "a count", &n)) {
			return false;
		}
		*uf = n;
		break;
	case V_SIZE:
		txt = scalar(L, v, key, "a size such as 8GiB");
		if (!txt) {
			return false;
		}
		if (parse_size(txt, &n) < 0 || n > INT64_MAX) {
			err_node(L, v,
				 "%s: '%s' is not a size; write bytes or a "
				 "number with KB, MB, GB, KiB, MiB, GiB or TiB "
				 "(e.g. 8GiB)",
				 key, txt);
			return false;
		}
		if (n > ETCD_MAX_RECOMMENDED_QUOTA) {
			warn_at(L, v->line, v->col,
				"%s is above 8 GiB, etcd's recommended "
				"maximum; keep it at 8GiB or less",
				key);
		}
		*uf = n;
		break;
	case V_BOOL:
		if (!get_bool(L, v, key, &b)) {
			return false;
		}
		if (k == MK_HOSTNAME) {
			s->hostname = b;
		} else {
			s->hosts = b;
		}
		break;
	case V_ADDRS: {
		struct manifest_strv sv;

		if (!get_addrs(L, v, key, &sv)) {
			return false;
		}
		if (k == MK_LISTEN) {
			strv_free(&s->listen);
			s->listen = sv;
		} else {
			strv_free(&s->advertise);
			s->advertise = sv;
		}
		break;
	}
	case V_ENV: {
		struct manifest_env e;

		if (!get_env(L, v, key, &e)) {
			return false;
		}
		env_free(&s->env);
		s->env = e;
		break;
	}
	}
	if (sf) {
		if (!dup) {
			L->err = -ENOMEM;
			return false;
		}
		mem_free(*sf);
		*sf = dup;
	}
	s->set |= 1u << k;
	s->line[k] = v->line;
	s->col[k] = v->col;
	return true;
}

static void parse_settings(struct loader *L, const struct ynode *map,
			   const char *section, struct manifest_settings *s)
{
	const char *known[MK_N_KEYS_];
	int k;

	if (map->kind != YN_MAP) {
		if (!is_null(map)) {
			err_node(L, map,
				 "%s is %s; it must be a mapping of "
				 "settings such as client_port: 2379",
				 section, kind_name(map));
		}
		return;
	}
	for (k = 0; k < MK_N_KEYS_; k++) {
		known[k] = setting_defs[k].name;
	}
	check_keys(L, map, section, known, MK_N_KEYS_);
	for (k = 0; k < MK_N_KEYS_; k++) {
		const struct ynode *v = map_get(map, known[k]);

		if (v) {
			parse_setting(L, s, (enum manifest_key)k, v);
		}
	}
}

/*
 * dst = base with every key given in over applied on top (env merged by
 * variable).  Marks follow the value that won.
 */
static int settings_merge(struct manifest_settings *dst,
			  const struct manifest_settings *base,
			  const struct manifest_settings *over)
{
	const struct manifest_settings *srcs[2] = {base, over};
	int i, k;
	size_t j;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < 2; i++) {
		const struct manifest_settings *src = srcs[i];

		for (k = 0; k < MK_N_KEYS_; k++) {
			struct manifest_settings *w = (void *)(uintptr_t)src;
			char **sf;
			uint64_t *uf;

			/* The base carries every value, given or not. */
			if (!(src->set & (1u << k)) && i > 0) {
				continue;
			}
			sf = str_field(w, (enum manifest_key)k);
			uf = u64_field(w, (enum manifest_key)k);
			if (sf && *sf) {
				char **df =
				    str_field(dst, (enum manifest_key)k);

				mem_free(*df);
				*df = mem_strdup(*sf);
				if (!*df) {
					return -ENOMEM;
				}
			} else if (uf) {
				*u64_field(dst, (enum manifest_key)k) = *uf;
			} else if (k == MK_HOSTNAME) {
				dst->hostname = src->hostname;
			} else if (k == MK_HOSTS) {
				dst->hosts = src->hosts;
			} else if (k == MK_LISTEN || k == MK_ADVERTISE) {
				struct manifest_strv *d2 =
				    k == MK_LISTEN ? &dst->listen
						   : &dst->advertise;
				const struct manifest_strv *s2 =
				    k == MK_LISTEN ? &src->listen
						   : &src->advertise;

				strv_free(d2);
				if (strv_copy(d2, s2) < 0) {
					return -ENOMEM;
				}
			} else if (k == MK_ENV) {
				for (j = 0; j < src->env.n; j++) {
					if (env_set(&dst->env,
						    src->env.v[j].key,
						    src->env.v[j].value) < 0) {
						return -ENOMEM;
					}
				}
			}
			if (src->set & (1u << k)) {
				dst->set |= 1u << k;
				dst->line[k] = src->line[k];
				dst->col[k] = src->col[k];
			}
		}
	}
	return 0;
}

/* Built-in values for every key (design.md), with no `set` bit. */
static int settings_builtin(struct manifest_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->client_port = MANIFEST_DEFAULT_CLIENT_PORT;
	s->peer_port = MANIFEST_DEFAULT_PEER_PORT;
	s->start_timeout_ms = MANIFEST_DEFAULT_START_TIMEOUT_MS;
	s->heartbeat_ms = ETCD_DEFAULT_HEARTBEAT_MS;
	s->election_ms = ETCD_DEFAULT_ELECTION_MS;
	s->snapshot_count = 100000;
	s->quota_bytes = 0;
	s->hostname = true;
	s->hosts = true;
	s->client_scheme = mem_strdup("http");
	s->peer_scheme = mem_strdup("http");
	s->install_dir = mem_strdup(MANIFEST_DEFAULT_INSTALL_DIR);
	s->config_file = mem_strdup(MANIFEST_DEFAULT_CONFIG_FILE);
	s->data_dir = mem_strdup(MANIFEST_DEFAULT_DATA_DIR);
	s->user = mem_strdup(MANIFEST_DEFAULT_USER);
	s->unit = mem_strdup(MANIFEST_DEFAULT_UNIT);
	if (!s->client_scheme || !s->peer_scheme || !s->install_dir ||
	    !s->config_file || !s->data_dir || !s->user || !s->unit) {
		settings_done(s);
		return -ENOMEM;
	}
	return 0;
}

/* Replace every "{name}" in *p by name.  0 or -ENOMEM. */
static int expand_name(char **p, const char *name)
{
	struct buf b = BUF_INIT;
	const char *s = *p, *hit;

	if (!s || !strstr(s, "{name}")) {
		return 0;
	}
	while ((hit = strstr(s, "{name}"))) {
		if (buf_append(&b, s, (size_t)(hit - s)) < 0 ||
		    buf_append_str(&b, name) < 0) {
			buf_done(&b);
			return -ENOMEM;
		}
		s = hit + 6;
	}
	if (buf_append_str(&b, s) < 0) {
		buf_done(&b);
		return -ENOMEM;
	}
	mem_free(*p);
	*p = (char *)buf_steal(&b, NULL);
	return 0;
}

/* ---- sections ----------------------------------------------------------- */

static void parse_cluster(struct loader *L, const struct ynode *root)
{
	static const char *const known[] = {"name", "token"};
	const struct ynode *c = map_get(root, "cluster"), *v;
	struct manifest *m = L->m;

	if (!c) {
		err_at(L, root->line, root->col,
		       "no cluster section; add cluster: with name: (and "
		       "token:)");
		return;
	}
	if (c->kind != YN_MAP) {
		err_node(L, c,
			 "cluster is %s; it must be a mapping with name: "
			 "and token:",
			 kind_name(c));
		return;
	}
	check_keys(L, c, "cluster", known, ARRAY_LEN(known));
	v = map_get(c, "name");
	if (!v) {
		err_node(L, c,
			 "cluster has no name; add name: (e.g. "
			 "etcd-cluster)");
	} else {
		get_name(L, v, "cluster name", "etcd-cluster",
			 &m->cluster_name);
	}
	v = map_get(c, "token");
	if (v) {
		const char *s = scalar(L, v, "token", "a token string");

		if (s &&
		    (!is_safe_text(s) || strchr(s, ' ') || strlen(s) > 255)) {
			err_node(L, v,
				 "token '%s' holds a space, quote, backslash, "
				 "'$', '`', '%%' or control character; use "
				 "letters, digits and punctuation such as - "
				 "and _",
				 s);
		} else if (s) {
			m->token = mem_strdup(s);
			if (!m->token) {
				L->err = -ENOMEM;
			}
		}
	}
}

static void parse_drill(struct loader *L, const struct ynode *root)
{
	static const char *const known[MD_N_KEYS_] = {
	    [MD_MODE] = "mode",
	    [MD_PAUSE] = "pause",
	    [MD_WRITE_INTERVAL] = "write_interval",
	    [MD_LEADER_TIMEOUT] = "leader_timeout",
	    [MD_STABLE_TIME] = "stable_time",
	    [MD_CLOCK_SKEW_MAX] = "clock_skew_max",
	    [MD_KEY_PREFIX] = "key_prefix",
	    [MD_SSH_USER] = "ssh_user",
	};
	const struct ynode *dn = map_get(root, "drill");
	struct manifest_drill *d = &L->m->drill;
	const struct ynode *v;
	uint64_t *durs[MD_N_KEYS_] = {
	    [MD_PAUSE] = &d->pause_ms,
	    [MD_WRITE_INTERVAL] = &d->write_interval_ms,
	    [MD_LEADER_TIMEOUT] = &d->leader_timeout_ms,
	    [MD_STABLE_TIME] = &d->stable_time_ms,
	    [MD_CLOCK_SKEW_MAX] = &d->clock_skew_max_ms,
	};
	int k;

	if (!dn || is_null(dn)) {
		return;
	}
	if (dn->kind != YN_MAP) {
		err_node(L, dn,
			 "drill is %s; it must be a mapping of drill "
			 "settings such as mode: kill",
			 kind_name(dn));
		return;
	}
	check_keys(L, dn, "drill", known, MD_N_KEYS_);
	for (k = 0; k < MD_N_KEYS_; k++) {
		const char *s;

		v = map_get(dn, known[k]);
		if (!v) {
			continue;
		}
		if (durs[k]) {
			if (!get_duration(L, v, known[k], 1, false, durs[k])) {
				continue;
			}
		} else if (k == MD_MODE) {
			s = scalar(L, v, "mode", "kill, stop or pause");
			if (!s) {
				continue;
			}
			if (manifest_drill_mode_parse(s, &d->mode) < 0) {
				err_node(L, v,
					 "drill mode '%s' is unknown; "
					 "write kill, stop or pause",
					 s);
				continue;
			}
		} else if (k == MD_KEY_PREFIX) {
			s = scalar(L, v, "key_prefix", "a key prefix");
			if (!s) {
				continue;
			}
			if (!is_safe_text(s) || strchr(s, ' ')) {
				err_node(L, v,
					 "key_prefix '%s' holds spaces, "
					 "quotes or control characters; use "
					 "a plain prefix such as /cetcd-drill/",
					 s);
				continue;
			}
			d->key_prefix = mem_strdup(s);
			if (!d->key_prefix) {
				L->err = -ENOMEM;
				continue;
			}
		} else if (k == MD_SSH_USER) {
			s = scalar(L, v, "ssh_user", "a user name");
			if (!s) {
				continue;
			}
			if (!is_user(s)) {
				err_node(
				    L, v,
				    "ssh_user '%s' is not a valid user "
				    "name; use lower-case letters, digits, "
				    "'_' and '-'",
				    s);
				continue;
			}
			d->ssh_user = mem_strdup(s);
			if (!d->ssh_user) {
				L->err = -ENOMEM;
				continue;
			}
		}
		d->set |= 1u << k;
	}
}

static void parse_member(struct loader *L, const struct ynode *mn,
			 struct manifest_member *mem)
{
	static const char *const known[] = {"name", "address", "listen",
					    "advertise", "overrides"};
	struct manifest_settings over, merged;
	const struct ynode *v, *ov;

	mem->line = mn->line;
	mem->col = mn->col;
	if (mn->kind != YN_MAP) {
		err_node(L, mn,
			 "a member is %s; each member is a mapping with name: "
			 "and address:",
			 kind_name(mn));
		return;
	}
	check_keys(L, mn, "a member", known, ARRAY_LEN(known));
	v = map_get(mn, "name");
	if (!v) {
		err_node(L, mn,
			 "member has no name; add name: (e.g. "
			 "etcd-node01)");
	} else {
		get_name(L, v, "member name", "etcd-node01", &mem->name);
	}
	v = map_get(mn, "address");
	if (!v) {
		err_node(L, mn,
			 "member has no address; add address: with its "
			 "IP address (e.g. 192.168.199.101)");
	} else {
		get_addr(L, v, "address", &mem->address);
	}
	memset(&over, 0, sizeof(over));
	ov = map_get(mn, "overrides");
	if (ov && !is_null(ov)) {
		if (ov->kind == YN_MAP &&
		    (map_get(ov, "listen") || map_get(ov, "advertise"))) {
			const struct ynode *bad = map_get(ov, "listen");

			if (!bad) {
				bad = map_get(ov, "advertise");
			}
			err_node(L, bad,
				 "listen and advertise belong to the member "
				 "itself, not to overrides; move them up one "
				 "level");
		}
		parse_settings(L, ov, "overrides", &over);
	}
	v = map_get(mn, "listen");
	if (v) {
		parse_setting(L, &over, MK_LISTEN, v);
	}
	v = map_get(mn, "advertise");
	if (v) {
		parse_setting(L, &over, MK_ADVERTISE, v);
	}
	if (settings_merge(&merged, &L->m->defaults, &over) < 0) {
		L->err = -ENOMEM;
		settings_done(&merged);
	} else {
		mem->s = merged;
	}
	settings_done(&over);
}

/* ---- cross checks on effective values ----------------------------------- */

static unsigned key_line(const struct manifest_member *mb, enum manifest_key k)
{
	return (mb->s.set & (1u << k)) ? mb->s.line[k] : mb->line;
}

static unsigned key_col(const struct manifest_member *mb, enum manifest_key k)
{
	return (mb->s.set & (1u << k)) ? mb->s.col[k] : mb->col;
}

/* Does member a listen on addr:port (counting wildcards)? */
static bool listens_on(const struct manifest_member *a, const char *addr,
		       uint64_t port)
{
	size_t i;

	if (a->s.client_port != port && a->s.peer_port != port) {
		return false;
	}
	if (is_wildcard(addr) || is_wildcard(a->address) ||
	    same_addr(a->address, addr)) {
		return true;
	}
	for (i = 0; i < a->s.listen.n; i++) {
		if (is_wildcard(a->s.listen.v[i]) ||
		    same_addr(a->s.listen.v[i], addr)) {
			return true;
		}
	}
	return false;
}

/* The first address:port that b listens on and a also does, or false. */
static bool listen_clash(const struct manifest_member *a,
			 const struct manifest_member *b, const char **addr,
			 uint64_t *port)
{
	uint64_t ports[2] = {b->s.client_port, b->s.peer_port};
	size_t i, p;

	for (p = 0; p < 2; p++) {
		if (listens_on(a, b->address, ports[p])) {
			*addr = b->address;
			*port = ports[p];
			return true;
		}
		for (i = 0; i < b->s.listen.n; i++) {
			if (listens_on(a, b->s.listen.v[i], ports[p])) {
				*addr = b->s.listen.v[i];
				*port = ports[p];
				return true;
			}
		}
	}
	return false;
}

static void check_member_alone(struct loader *L, struct manifest_member *mb)
{
	struct manifest_settings *s = &mb->s;
	size_t i;

	if (s->client_port == s->peer_port) {
		enum manifest_key k = (s->set & (1u << MK_PEER_PORT))
					  ? MK_PEER_PORT
					  : MK_CLIENT_PORT;

		err_at(L, key_line(mb, k), key_col(mb, k),
		       "port clash: client_port and peer_port are both %llu; "
		       "give them different ports (default 2379 and 2380)",
		       (unsigned long long)s->client_port);
	}
	if (s->election_ms < 5 * s->heartbeat_ms) {
		enum manifest_key k = (s->set & (1u << MK_ELECTION_TIMEOUT))
					  ? MK_ELECTION_TIMEOUT
					  : MK_HEARTBEAT_INTERVAL;

		err_at(L, key_line(mb, k), key_col(mb, k),
		       "election_timeout %llums is less than 5 times "
		       "heartbeat_interval %llums (etcd refuses it); raise "
		       "election_timeout to at least %llums",
		       (unsigned long long)s->election_ms,
		       (unsigned long long)s->heartbeat_ms,
		       (unsigned long long)(5 * s->heartbeat_ms));
	}
	for (i = 0; i < s->listen.n; i++) {
		if (same_addr(s->listen.v[i], mb->address)) {
			err_at(L, key_line(mb, MK_LISTEN),
			       key_col(mb, MK_LISTEN),
			       "listen repeats %s, the member's own address "
			       "(it always listens there); remove it",
			       mb->address);
		} else if (is_wildcard(s->listen.v[i]) ||
			   is_wildcard(mb->address)) {
			err_at(L, key_line(mb, MK_LISTEN),
			       key_col(mb, MK_LISTEN),
			       "port clash: the wildcard address %s covers "
			       "every other address on the same ports; keep "
			       "only the wildcard or only specific addresses",
			       is_wildcard(mb->address) ? mb->address
							: s->listen.v[i]);
			break;
		}
	}
	for (i = 0; i < s->advertise.n; i++) {
		if (same_addr(s->advertise.v[i], mb->address)) {
			err_at(L, key_line(mb, MK_ADVERTISE),
			       key_col(mb, MK_ADVERTISE),
			       "advertise repeats %s, the member's own address "
			       "(always advertised first); remove it",
			       mb->address);
		}
	}
	if (strcmp(s->client_scheme, "https") == 0) {
		bool has = false;

		for (i = 0; i < s->env.n; i++) {
			has |= strcmp(s->env.v[i].key, "ETCD_CERT_FILE") == 0;
		}
		if (!has) {
			warn_at(L, key_line(mb, MK_CLIENT_SCHEME),
				key_col(mb, MK_CLIENT_SCHEME),
				"client_scheme is https but env sets no "
				"ETCD_CERT_FILE; add ETCD_CERT_FILE and "
				"ETCD_KEY_FILE to env");
		}
	}
	if (strcmp(s->peer_scheme, "https") == 0) {
		bool has = false;

		for (i = 0; i < s->env.n; i++) {
			has |=
			    strcmp(s->env.v[i].key, "ETCD_PEER_CERT_FILE") == 0;
		}
		if (!has) {
			warn_at(L, key_line(mb, MK_PEER_SCHEME),
				key_col(mb, MK_PEER_SCHEME),
				"peer_scheme is https but env sets no "
				"ETCD_PEER_CERT_FILE; add ETCD_PEER_CERT_FILE "
				"and ETCD_PEER_KEY_FILE to env");
		}
	}
	if (s->hostname && !is_hostname(mb->name)) {
		err_at(L, key_line(mb, MK_HOSTNAME), key_col(mb, MK_HOSTNAME),
		       "member name '%s' is not a valid host name, and "
		       "hostname is true; rename the member (letters, digits, "
		       "inner '-') or set hostname: false",
		       mb->name);
	} else if (s->hosts && !is_hostname(mb->name)) {
		err_at(L, key_line(mb, MK_HOSTS), key_col(mb, MK_HOSTS),
		       "member name '%s' is not a valid host name, and hosts "
		       "is true; rename the member (letters, digits, inner "
		       "'-') or set hosts: false",
		       mb->name);
	}
}

/* Paths two members on one host must not share. */
static const enum manifest_key own_keys[] = {MK_DATA_DIR, MK_CONFIG_FILE,
					     MK_UNIT};
static const char *const own_examples[] = {
    "/var/lib/cetcd/{name}", "/etc/cetcd/{name}.conf", "cetcd@{name}.service"};

/*
 * Did b's value for k come from the member itself (overrides or its own
 * keys) rather than from defaults or the built-in value?
 */
static bool own_value(const struct loader *L, const struct manifest_member *b,
		      enum manifest_key k)
{
	const struct manifest_settings *d = &L->m->defaults;

	if (!(b->s.set & (1u << k))) {
		return false;
	}
	return !((d->set & (1u << k)) && d->line[k] == b->s.line[k] &&
		 d->col[k] == b->s.col[k]);
}

/*
 * Checks between two members.  A clash caused by a shared default is
 * reported once (done[k]), not for every pair.
 */
static void check_pair(struct loader *L, const struct manifest_member *a,
		       struct manifest_member *b, bool *done)
{
	const char *addr;
	uint64_t port;
	bool same_host;
	size_t i;

	if (strcmp(a->name, b->name) == 0) {
		err_at(L, b->line, b->col,
		       "duplicate member name '%s' (first at line %u); give "
		       "every member its own name",
		       b->name, a->line);
	}
	if (same_addr(a->address, b->address) &&
	    (a->s.client_port == b->s.client_port ||
	     a->s.peer_port == b->s.client_port ||
	     a->s.client_port == b->s.peer_port ||
	     a->s.peer_port == b->s.peer_port)) {
		port = (a->s.client_port == b->s.client_port ||
			a->s.peer_port == b->s.client_port)
			   ? b->s.client_port
			   : b->s.peer_port;
		err_at(L, b->line, b->col,
		       "duplicate address %s:%llu: member %s (line %u) uses "
		       "it too; give every member its own address (or its own "
		       "client_port and peer_port)",
		       b->address, (unsigned long long)port, a->name, a->line);
		return;
	}
	/* Loopback members, or two sharing an address, run on one host. */
	same_host = (is_loopback(a->address) && is_loopback(b->address)) ||
		    same_addr(a->address, b->address);
	if (!same_host) {
		return;
	}
	if ((own_value(L, b, MK_LISTEN) || !done[MK_LISTEN]) &&
	    listen_clash(a, b, &addr, &port)) {
		done[MK_LISTEN] |= !own_value(L, b, MK_LISTEN);
		err_at(L, key_line(b, MK_LISTEN), key_col(b, MK_LISTEN),
		       "port clash: members %s and %s run on one host and "
		       "both listen on %s:%llu; give each its own listen "
		       "addresses or ports",
		       a->name, b->name, addr, (unsigned long long)port);
	}
	for (i = 0; i < ARRAY_LEN(own_keys); i++) {
		enum manifest_key k = own_keys[i];
		const char *pa = *str_field((void *)(uintptr_t)&a->s, k);
		const char *pb = *str_field(&b->s, k);

		if (strcmp(pa, pb) == 0 && (own_value(L, b, k) || !done[k])) {
			done[k] |= !own_value(L, b, k);
			err_at(L, key_line(b, k), key_col(b, k),
			       "members %s and %s run on one host but share "
			       "%s %s; put {name} in it (e.g. %s: %s)",
			       a->name, b->name, setting_defs[k].name, pa,
			       setting_defs[k].name, own_examples[i]);
		}
	}
	if (a->s.hostname && b->s.hostname &&
	    (own_value(L, b, MK_HOSTNAME) || !done[MK_HOSTNAME])) {
		done[MK_HOSTNAME] |= !own_value(L, b, MK_HOSTNAME);
		err_at(L, key_line(b, MK_HOSTNAME), key_col(b, MK_HOSTNAME),
		       "members %s and %s run on one host, which cannot take "
		       "both names; set hostname: false",
		       a->name, b->name);
	}
}

static void check_members(struct loader *L, const struct ynode *list)
{
	struct manifest *m = L->m;
	bool done[MK_N_KEYS_] = {false};
	size_t i, j, n_loop = 0;

	for (i = 0; i < m->n_members; i++) {
		struct manifest_member *mb = &m->members[i];

		if (!mb->name || !mb->address || !mb->s.unit) {
			return; /* already reported */
		}
		n_loop += is_loopback(mb->address);
	}
	for (i = 0; i < m->n_members; i++) {
		struct manifest_member *mb = &m->members[i];

		check_member_alone(L, mb);
		for (j = 0; j < i; j++) {
			check_pair(L, &m->members[j], mb, done);
		}
		if (is_wildcard(mb->address)) {
			if (m->n_members > 1) {
				err_at(L, mb->line, mb->col,
				       "member %s's address %s is a wildcard, "
				       "which its peers cannot reach; give the "
				       "member's own IP address",
				       mb->name, mb->address);
			} else {
				warn_at(L, mb->line, mb->col,
					"member %s advertises the wildcard "
					"address %s, which clients on other "
					"hosts cannot use; give the host's IP "
					"address",
					mb->name, mb->address);
			}
		} else if (is_loopback(mb->address) && n_loop < m->n_members) {
			warn_at(
			    L, mb->line, mb->col,
			    "member %s's address %s is loopback while other "
			    "members are on other hosts, so they cannot "
			    "reach it; give the host's own IP address",
			    mb->name, mb->address);
		}
	}
	if (m->n_members % 2 == 0) {
		warn_at(L, list->line, list->col,
			"%zu members tolerate as few failures as %zu would; "
			"use an odd number of members (add or remove one)",
			m->n_members, m->n_members - 1);
	}
}

static void parse_members(struct loader *L, const struct ynode *root)
{
	const struct ynode *list = map_get(root, "members");
	struct manifest *m = L->m;
	size_t i;
	int k;

	if (!list) {
		err_at(L, root->line, root->col,
		       "no members section; add members: with one entry "
		       "(name:, address:) per member");
		return;
	}
	if (list->kind != YN_SEQ) {
		err_node(L, list,
			 "members is %s; it must be a list of members, each "
			 "'- name: ...' with address:",
			 kind_name(list));
		return;
	}
	if (list->n_kids == 0) {
		err_node(L, list, "members is empty; list at least one member");
		return;
	}
	if (list->n_kids > MANIFEST_MAX_MEMBERS) {
		err_node(L, list,
			 "%zu members are more than the %d a manifest may "
			 "list; a cluster has 3, 5 or 7 (etcd's advice)",
			 list->n_kids, MANIFEST_MAX_MEMBERS);
		return;
	}
	m->members = mem_calloc(list->n_kids, sizeof(*m->members));
	if (!m->members) {
		L->err = -ENOMEM;
		return;
	}
	m->n_members = list->n_kids;
	for (i = 0; i < list->n_kids && !L->err; i++) {
		parse_member(L, list->kids[i], &m->members[i]);
	}
	if (L->err) {
		return;
	}
	for (i = 0; i < m->n_members; i++) {
		struct manifest_member *mb = &m->members[i];

		if (!mb->name) {
			continue;
		}
		for (k = 0; k < MK_N_KEYS_; k++) {
			char **f = str_field(&mb->s, (enum manifest_key)k);

			if (f && expand_name(f, mb->name) < 0) {
				L->err = -ENOMEM;
				return;
			}
		}
		if (!mb->s.binary) {
			struct buf b = BUF_INIT;

			if (buf_printf(&b, "%s/bin/cetcd",
				       strcmp(mb->s.install_dir, "/") == 0
					   ? ""
					   : mb->s.install_dir) < 0) {
				L->err = -ENOMEM;
				return;
			}
			mb->s.binary = (char *)buf_steal(&b, NULL);
		}
	}
	check_members(L, list);
}

static void load_tree(struct loader *L, const struct ynode *root)
{
	static const char *const known[] = {"cluster", "defaults", "members",
					    "drill"};
	struct manifest *m = L->m;
	struct manifest_settings user;
	const struct ynode *dn;

	if (root->kind != YN_MAP) {
		err_node(L, root,
			 "the manifest is %s; it must be a mapping with "
			 "cluster:, members: and optionally defaults: and "
			 "drill:",
			 kind_name(root));
		return;
	}
	check_keys(L, root, "the manifest", known, ARRAY_LEN(known));
	parse_cluster(L, root);
	if (settings_builtin(&m->defaults) < 0) {
		L->err = -ENOMEM;
		return;
	}
	memset(&user, 0, sizeof(user));
	dn = map_get(root, "defaults");
	if (dn) {
		parse_settings(L, dn, "defaults", &user);
	}
	if (user.set) {
		struct manifest_settings merged;

		if (settings_merge(&merged, &m->defaults, &user) < 0) {
			L->err = -ENOMEM;
			settings_done(&merged);
		} else {
			settings_done(&m->defaults);
			m->defaults = merged;
		}
	}
	settings_done(&user);
	if (L->err) {
		return;
	}
	parse_members(L, root);
	parse_drill(L, root);
	if (!L->err && m->cluster_name && !m->token) {
		m->token = mem_strdup(m->cluster_name);
		if (!m->token) {
			L->err = -ENOMEM;
		}
	}
}

/* ---- entry points ------------------------------------------------------- */

void manifest_free(struct manifest *m)
{
	size_t i;

	if (!m) {
		return;
	}
	for (i = 0; i < m->n_members; i++) {
		mem_free(m->members[i].name);
		mem_free(m->members[i].address);
		settings_done(&m->members[i].s);
	}
	mem_free(m->members);
	settings_done(&m->defaults);
	mem_free(m->drill.key_prefix);
	mem_free(m->drill.ssh_user);
	mem_free(m->cluster_name);
	mem_free(m->token);
	mem_free(m->file);
	mem_free(m);
}

static void drill_defaults(struct manifest_drill *d)
{
	d->mode = MANIFEST_DRILL_KILL;
	d->pause_ms = 5000;
	d->write_interval_ms = 10;
	d->leader_timeout_ms = 10000;
	d->stable_time_ms = 10000;
	d->clock_skew_max_ms = 500;
}

int manifest_load_buf(const char *name, const uint8_t *data, size_t len,
		      struct manifest **out, struct manifest_diags *d)
{
	struct loader L = {d, 0, NULL};
	struct ynode *root = NULL;
	struct manifest *m;
	int r;

	if (!d->file) {
		d->file = mem_strdup(name);
		if (!d->file) {
			return -ENOMEM;
		}
	}
	if (len > MANIFEST_MAX_SIZE) {
		err_at(&L, 0, 0,
		       "the manifest is %zu bytes, more than the %d allowed; "
		       "is this the right file?",
		       len, MANIFEST_MAX_SIZE);
		return L.err ? L.err : -ERR_CONFIG;
	}
	r = ytree_build(&L, data, len, &root);
	if (r < 0 || L.err) {
		ynode_free(root);
		return r < 0 ? r : L.err;
	}
	if (r > 0) {
		return -ERR_CONFIG;
	}
	if (!root || is_null(root)) {
		err_at(&L, 1, 1,
		       "the manifest is empty; start from "
		       "etc/cluster.example.yaml");
		ynode_free(root);
		return L.err ? L.err : -ERR_CONFIG;
	}
	m = mem_calloc(1, sizeof(*m));
	if (!m || !(m->file = mem_strdup(name))) {
		mem_free(m);
		ynode_free(root);
		return -ENOMEM;
	}
	drill_defaults(&m->drill);
	L.m = m;
	load_tree(&L, root);
	ynode_free(root);
	if (L.err) {
		manifest_free(m);
		return L.err;
	}
	if (d->n_errors > 0) {
		manifest_free(m);
		return -ERR_CONFIG;
	}
	*out = m;
	return 0;
}

int manifest_load_file(const char *path, struct manifest **out,
		       struct manifest_diags *d)
{
	struct loader L = {d, 0, NULL};
	struct buf b = BUF_INIT;
	struct stat st;
	int fd, r = 0;

	if (!d->file) {
		d->file = mem_strdup(path);
		if (!d->file) {
			return -ENOMEM;
		}
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		err_at(&L, 0, 0,
		       "cannot read the manifest: %s; check the path "
		       "(-f MANIFEST)",
		       strerror(-r));
		if (fd >= 0) {
			close(fd);
		}
		return L.err ? L.err : r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		err_at(&L, 0, 0,
		       "the manifest is not a regular file; give the path of "
		       "a YAML file (-f MANIFEST)");
		return L.err ? L.err : -EINVAL;
	}
	for (;;) {
		ssize_t n;

		if (b.len > MANIFEST_MAX_SIZE) {
			break; /* load_buf reports the size */
		}
		if (buf_reserve(&b, 65536) < 0) {
			r = -ENOMEM;
			break;
		}
		n = read(fd, b.data + b.len, 65536);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			r = -errno;
			err_at(&L, 0, 0,
			       "cannot read the manifest: %s; check the file",
			       strerror(-r));
			break;
		}
		if (n == 0) {
			break;
		}
		b.len += (size_t)n;
	}
	close(fd);
	if (r == 0) {
		r = manifest_load_buf(
		    path, b.data ? b.data : (const uint8_t *)"", b.len, out, d);
	}
	buf_done(&b);
	return L.err ? L.err : r;
}

const struct manifest_member *manifest_find_member(const struct manifest *m,
						   const char *name)
{
	size_t i;

	for (i = 0; i < m->n_members; i++) {
		if (strcmp(m->members[i].name, name) == 0) {
			return &m->members[i];
		}
	}
	return NULL;
}

int manifest_url(const char *scheme, const char *addr, uint64_t port, char *out,
		 size_t size)
{
	int n;

	if (strchr(addr, ':')) {
		n = snprintf(out, size, "%s://[%s]:%llu", scheme, addr,
			     (unsigned long long)port);
	} else {
		n = snprintf(out, size, "%s://%s:%llu", scheme, addr,
			     (unsigned long long)port);
	}
	if (n < 0 || (size_t)n >= size) {
		return -ENAMETOOLONG;
	}
	return 0;
}

const char *manifest_drill_mode_name(enum manifest_drill_mode mode)
{
	switch (mode) {
	case MANIFEST_DRILL_STOP:
		return "stop";
	case MANIFEST_DRILL_PAUSE:
		return "pause";
	default:
		return "kill";
	}
}

int manifest_drill_mode_parse(const char *s, enum manifest_drill_mode *out)
{
	if (strcmp(s, "kill") == 0) {
		*out = MANIFEST_DRILL_KILL;
	} else if (strcmp(s, "stop") == 0) {
		*out = MANIFEST_DRILL_STOP;
	} else if (strcmp(s, "pause") == 0) {
		*out = MANIFEST_DRILL_PAUSE;
	} else {
		return -EINVAL;
	}
	return 0;
}

int manifest_fuzz_one(const uint8_t *data, size_t size)
{
	struct manifest_diags d;
	struct manifest *m = NULL;

	manifest_diags_init(&d);
	if (manifest_load_buf("fuzz.yaml", data, size, &m, &d) == 0) {
		manifest_free(m);
	}
	manifest_diags_done(&d);
	return 0;
}
