/*
 * tests/faults/checker.c - checks a history written by faults.py.
 *
 * Input: JSON lines.  An operation line has op (read, put, delete, cas),
 * key, client, member, invoke and complete (monotonic ns), status (ok,
 * fail, unknown) and, when ok, rev (the header revision) and the result:
 * found/rvalue/mod_rev/version for reads and failed CAS, deleted for
 * deletes, succeeded for CAS; put and cas carry value, cas its expect (null:
 * the key must be absent).  Lines with "fault" are ignored; lines with
 * "final" are the end state: "member" (revision, hash), "at" (the key
 * read at an acknowledged write's revision; "of" names the write), "event"
 * (one event of the final history: a full watch from revision 1 on one
 * healed member, in its order: key, type PUT or DELETE, mod_rev,
 * create_rev, version, value) and "watch_end" (revision: how far that
 * watch read; error if it could not).  Lines with "watch" are a watcher's
 * (the id), in its order: kind "start" or "resume" (frm: the revision
 * asked for; key and range_end, null for a single key, on start), "event"
 * (as the final ones), "progress" (rev: everything up to it was sent),
 * "compacted" (frm, compact_revision: the revisions in between are gone)
 * and "broken" (ignored).
 *
 * Checks, each reported with the operations involved:
 *  1. Linearizability per key (operations on different keys commute, so
 *     the history is linearizable iff each key's is: P-compositionality),
 *     by the Wing & Gong search with Lowe's memoisation of (linearized set,
 *     state), over a versioned register: value (or absent), version, and
 *     mod revision (unknown after a write whose reply was lost).  Failed
 *     operations are dropped; unknown ones may take effect at any time after
 *     their invocation, or never.
 *  2. Revisions: acknowledged writes have distinct revisions; if a
 *     completes before b is invoked, b's revision is >= a's, and > a's when
 *     b wrote; a read's mod_revision is <= its header revision and equals
 *     the revision of the acknowledged write of the value it returned;
 *     no read returns a value nobody wrote.
 *  3. Durability: every acknowledged write is found at its revision at the
 *     end (the value and mod_revision, or the key's absence for a delete).
 *  4. Convergence: every member reports the same revision and HashKV.
 *  5. Watches.  The final history is in strictly increasing revision order
 *     with no (revision, key) twice, holds every acknowledged write (put
 *     and CAS with their value, deletes as DELETE) and no value nobody
 *     wrote.  Each watcher's events are events of the final history (same
 *     type, value, create revision and version) in its range, from its
 *     start on, in the final history's order (revision, then position
 *     within the revision): none twice, none out of order; and complete:
 *     every event of the final history in its range from its first start
 *     revision to the last revision it saw (event or progress), except
 *     those it was told were compacted, is in its stream.
 *
 * Exit status: 0 no violation, 1 violations, 2 bad input, 3 the search
 * gave up (budget exhausted; nothing proven either way).
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define T_INF INT64_MAX
#define ABSENT (-1)
#define MEMO_BYTES ((size_t)256 << 20) /* memo size per key before giving up */

enum op_kind { OP_READ, OP_PUT, OP_DELETE, OP_CAS };
enum op_status { ST_OK, ST_FAIL, ST_UNKNOWN };

struct op {
	int64_t id;
	int64_t client;
	enum op_kind kind;
	enum op_status status;
	int key;
	int value;  /* put/cas: the value written (interned) */
	int expect; /* cas: ABSENT or the value compared */
	int64_t invoke, complete;
	int64_t rev;
	bool found;
	int rvalue;
	int64_t mod_rev, version;
	int64_t deleted;
	bool succeeded;
	/* Set by check_linearizable: an unknown write of a value nobody saw
	 * was dropped before this operation completed, so its version (and,
	 * for a delete, the key's presence) may count that write. */
	bool lenient;
	/* Set by check_linearizable: the completion the search uses, which is
	 * complete, or for an unknown write whose value an acknowledged
	 * operation observed, the earliest such observer's completion: values
	 * are unique, so the write took effect before that operation did. */
	int64_t lin_complete;
};

struct at_check {
	int64_t of;
	int key;
	int64_t rev;
	bool found, error;
	int rvalue;
	int64_t mod_rev;
};

struct member_final {
	int64_t member, revision, hash;
	bool error;
};

enum wrec_kind { WR_START, WR_RESUME, WR_EVENT, WR_PROGRESS, WR_COMPACTED, WR_BROKEN };

/* A watcher's record, or (watch < 0) an event of the final history. */
struct wrec {
	int64_t watch;
	enum wrec_kind kind;
	int64_t member;
	int key;       /* event key; start: the range's key */
	int range_end; /* start: ABSENT for a single key */
	bool is_delete;
	int value;
	int64_t mod_rev, create_rev, version;
	int64_t from;	 /* start, resume, compacted */
	int64_t rev;	 /* progress */
	int64_t compact; /* compacted */
	size_t line;
};

struct history {
	struct wrec *wrecs; /* watchers' records, in file order */
	size_t n_wrecs, cap_wrecs;
	struct wrec *fevs; /* the final history */
	size_t n_fevs, cap_fevs;
	int64_t final_watch_rev; /* -1: no final watch */
	bool final_watch_error;
	struct op *ops;
	size_t n_ops, cap_ops;
	struct at_check *ats;
	size_t n_ats, cap_ats;
	struct member_final *members;
	size_t n_members, cap_members;
	char **strs; /* interned strings: keys and values share one table */
	size_t n_strs, cap_strs;
};

static unsigned violations;
static bool gave_up;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void violation(const char *fmt, ...)
{
	va_list ap;

	violations++;
	if (violations > 50) {
		return;
	}
	printf("VIOLATION: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap) {
		return p;
	}
	*cap = *cap ? *cap * 2 : 64;
	p = mem_realloc(p, *cap * size);
	if (p == NULL) {
		fprintf(stderr, "checker: out of memory\n");
		exit(2);
	}
	return p;
}

/* Linear interning is fine: a run has a few thousand values at most, and
 * ids are needed only once per line. */
static int intern(struct history *h, const char *s)
{
	for (size_t i = h->n_strs; i-- > 0;) {
		if (strcmp(h->strs[i], s) == 0) {
			return (int)i;
		}
	}
	h->strs = grow(h->strs, &h->cap_strs, h->n_strs, sizeof(char *));
	h->strs[h->n_strs] = mem_strdup(s);
	if (h->strs[h->n_strs] == NULL) {
		exit(2);
	}
	return (int)h->n_strs++;
}

static const char *str_of(const struct history *h, int v)
{
	return v == ABSENT ? "<absent>" : h->strs[v];
}

static int64_t get_i64(json_object *o, const char *k, int64_t dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null)) {
		return dflt;
	}
	return json_object_get_int64(v);
}

static bool get_bool(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static const char *get_str(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string)) {
		return NULL;
	}
	return json_object_get_string(v);
}

static int intern_opt(struct history *h, json_object *o, const char *k)
{
	const char *s = get_str(o, k);

	return s == NULL ? ABSENT : intern(h, s);
}

static int parse_op(struct history *h, json_object *o, size_t line)
{
	const char *kind = get_str(o, "op"), *st = get_str(o, "status");
	const char *key = get_str(o, "key");
	struct op *op;

	if (kind == NULL || st == NULL || key == NULL) {
		fprintf(stderr, "checker: line %zu: an operation needs op, status and key\n", line);
		return -EINVAL;
	}
	h->ops = grow(h->ops, &h->cap_ops, h->n_ops, sizeof(*h->ops));
	op = &h->ops[h->n_ops];
	memset(op, 0, sizeof(*op));
	op->id = get_i64(o, "id", (int64_t)h->n_ops);
	op->client = get_i64(o, "client", 0);
	if (strcmp(kind, "read") == 0) {
		op->kind = OP_READ;
	} else if (strcmp(kind, "put") == 0) {
		op->kind = OP_PUT;
	} else if (strcmp(kind, "delete") == 0) {
		op->kind = OP_DELETE;
	} else if (strcmp(kind, "cas") == 0) {
		op->kind = OP_CAS;
	} else {
		fprintf(stderr, "checker: line %zu: unknown op %s\n", line, kind);
		return -EINVAL;
	}
	if (strcmp(st, "ok") == 0) {
		op->status = ST_OK;
	} else if (strcmp(st, "fail") == 0) {
		op->status = ST_FAIL;
	} else if (strcmp(st, "unknown") == 0) {
		op->status = ST_UNKNOWN;
	} else {
		fprintf(stderr, "checker: line %zu: unknown status %s\n", line, st);
		return -EINVAL;
	}
	op->key = intern(h, key);
	op->value = intern_opt(h, o, "value");
	op->expect = intern_opt(h, o, "expect");
	op->invoke = get_i64(o, "invoke", 0);
	op->complete = op->status == ST_UNKNOWN ? T_INF : get_i64(o, "complete", 0);
	op->rev = get_i64(o, "rev", 0);
	op->found = get_bool(o, "found");
	op->rvalue = op->found ? intern_opt(h, o, "rvalue") : ABSENT;
	op->mod_rev = get_i64(o, "mod_rev", 0);
	op->version = get_i64(o, "version", 0);
	op->deleted = get_i64(o, "deleted", 0);
	op->succeeded = get_bool(o, "succeeded");
	if ((op->kind == OP_PUT || op->kind == OP_CAS) && op->value == ABSENT) {
		fprintf(stderr, "checker: line %zu: a write needs a value\n", line);
		return -EINVAL;
	}
	if (op->status != ST_UNKNOWN && op->complete < op->invoke) {
		fprintf(stderr, "checker: line %zu: completes before its invocation\n", line);
		return -EINVAL;
	}
	h->n_ops++;
	return 0;
}

/* The event fields of a watcher's or the final history's event line. */
static int parse_event(struct history *h, json_object *o, struct wrec *w, size_t line)
{
	const char *key = get_str(o, "key"), *type = get_str(o, "type");

	if (key == NULL || type == NULL) {
		fprintf(stderr, "checker: line %zu: an event needs key and type\n", line);
		return -EINVAL;
	}
	if (strcmp(type, "DELETE") == 0) {
		w->is_delete = true;
	} else if (strcmp(type, "PUT") != 0) {
		fprintf(stderr, "checker: line %zu: unknown event type %s\n", line, type);
		return -EINVAL;
	}
	w->key = intern(h, key);
	w->value = intern_opt(h, o, "value");
	w->mod_rev = get_i64(o, "mod_rev", 0);
	w->create_rev = get_i64(o, "create_rev", 0);
	w->version = get_i64(o, "version", 0);
	if (w->mod_rev <= 0) {
		fprintf(stderr, "checker: line %zu: an event needs a mod_rev\n", line);
		return -EINVAL;
	}
	return 0;
}

static int parse_watch(struct history *h, json_object *o, size_t line)
{
	static const char *const kinds[] = {"start",    "resume",    "event",
					    "progress", "compacted", "broken"};
	const char *kind = get_str(o, "kind");
	struct wrec *w;
	size_t k;

	for (k = 0; kind != NULL && k < sizeof(kinds) / sizeof(*kinds); k++) {
		if (strcmp(kind, kinds[k]) == 0) {
			break;
		}
	}
	if (kind == NULL || k == sizeof(kinds) / sizeof(*kinds)) {
		fprintf(stderr, "checker: line %zu: a watch line needs a known kind\n", line);
		return -EINVAL;
	}
	h->wrecs = grow(h->wrecs, &h->cap_wrecs, h->n_wrecs, sizeof(*h->wrecs));
	w = &h->wrecs[h->n_wrecs];
	memset(w, 0, sizeof(*w));
	w->watch = get_i64(o, "watch", -1);
	w->kind = (enum wrec_kind)k;
	w->member = get_i64(o, "member", -1);
	w->key = ABSENT;
	w->range_end = ABSENT;
	w->value = ABSENT;
	w->line = line;
	w->from = get_i64(o, "frm", 0);
	w->rev = get_i64(o, "rev", 0);
	w->compact = get_i64(o, "compact_revision", 0);
	if (w->watch < 0) {
		fprintf(stderr, "checker: line %zu: a watch line needs a watch id\n", line);
		return -EINVAL;
	}
	if (w->kind == WR_EVENT && parse_event(h, o, w, line) < 0) {
		return -EINVAL;
	}
	if (w->kind == WR_START) {
		const char *key = get_str(o, "key");

		if (key == NULL || w->from <= 0) {
			fprintf(stderr, "checker: line %zu: a watch start needs key and frm\n",
				line);
			return -EINVAL;
		}
		w->key = intern(h, key);
		w->range_end = intern_opt(h, o, "range_end");
	}
	h->n_wrecs++;
	return 0;
}

static int parse_final(struct history *h, json_object *o, const char *what, size_t line)
{
	if (strcmp(what, "event") == 0) {
		struct wrec *w;

		h->fevs = grow(h->fevs, &h->cap_fevs, h->n_fevs, sizeof(*h->fevs));
		w = &h->fevs[h->n_fevs];
		memset(w, 0, sizeof(*w));
		w->watch = -1;
		w->kind = WR_EVENT;
		w->line = line;
		if (parse_event(h, o, w, line) < 0) {
			return -EINVAL;
		}
		h->n_fevs++;
		return 0;
	}
	if (strcmp(what, "watch_end") == 0) {
		h->final_watch_rev = get_i64(o, "revision", -1);
		h->final_watch_error = get_str(o, "error") != NULL;
		return 0;
	}
	if (strcmp(what, "at") == 0) {
		struct at_check *a;
		const char *key = get_str(o, "key");

		if (key == NULL) {
			fprintf(stderr, "checker: line %zu: final at needs a key\n", line);
			return -EINVAL;
		}
		h->ats = grow(h->ats, &h->cap_ats, h->n_ats, sizeof(*h->ats));
		a = &h->ats[h->n_ats++];
		a->of = get_i64(o, "of", -1);
		a->key = intern(h, key);
		a->rev = get_i64(o, "rev", 0);
		a->found = get_bool(o, "found");
		a->error = get_str(o, "error") != NULL;
		a->rvalue = a->found ? intern_opt(h, o, "rvalue") : ABSENT;
		a->mod_rev = get_i64(o, "mod_rev", 0);
		return 0;
	}
	if (strcmp(what, "member") == 0) {
		struct member_final *m;

		h->members = grow(h->members, &h->cap_members, h->n_members, sizeof(*h->members));
		m = &h->members[h->n_members++];
		m->member = get_i64(o, "member", -1);
		m->revision = get_i64(o, "revision", -1);
		m->hash = get_i64(o, "hash", -1);
		m->error = get_str(o, "error") != NULL;
		return 0;
	}
	fprintf(stderr, "checker: line %zu: unknown final %s\n", line, what);
	return -EINVAL;
}

static int read_history(FILE *f, struct history *h)
{
	char *lbuf = NULL;
	size_t lcap = 0, line = 0;
	ssize_t n;
	int r = 0;

	while (r >= 0 && (n = getline(&lbuf, &lcap, f)) >= 0) {
		json_object *o;
		const char *fin;

		line++;
		if (n <= 1) {
			continue;
		}
		o = json_tokener_parse(lbuf);
		if (o == NULL || !json_object_is_type(o, json_type_object)) {
			fprintf(stderr, "checker: line %zu: not a JSON object\n", line);
			json_object_put(o);
			r = -EINVAL;
			break;
		}
		fin = get_str(o, "final");
		if (fin != NULL) {
			r = parse_final(h, o, fin, line);
		} else if (json_object_object_get_ex(o, "watch", NULL)) {
			r = parse_watch(h, o, line);
		} else if (!json_object_object_get_ex(o, "fault", NULL)) {
			r = parse_op(h, o, line);
		}
		json_object_put(o);
	}
	free(lbuf); /* getline's buffer comes from libc */
	return r;
}

/* ------------------------------------------------------------ the model */

struct reg {
	int value;       /* ABSENT or an interned value */
	int64_t version; /* 0 when absent */
	int64_t mod_rev; /* 0: unknown (written by an unknown operation) */
};

static bool reg_matches_read(const struct reg *s, const struct op *op)
{
	if (!op->found) {
		return s->value == ABSENT;
	}
	return s->value == op->rvalue && (op->lenient || s->version == op->version) &&
	       (s->mod_rev == 0 || s->mod_rev == op->mod_rev);
}

static struct reg reg_write(const struct reg *s, int value, int64_t rev)
{
	struct reg n = {value, s->version + 1, rev};

	return n;
}

/* One step of the model: can op take effect in state s, and into what?
 * An unknown operation is only tried with its effect: not taking effect at
 * all is the search leaving it unlinearized. */
static bool reg_step(const struct reg *s, const struct op *op, struct reg *out)
{
	bool ok = op->status == ST_OK;
	bool pre;

	switch (op->kind) {
	case OP_READ:
		if (!reg_matches_read(s, op)) {
			return false;
		}
		*out = *s;
		if (op->found) {
			out->mod_rev = op->mod_rev;
			out->version = op->version;
		}
		return true;
	case OP_PUT:
		if (ok && s->mod_rev != 0 && op->rev <= s->mod_rev) {
			return false;
		}
		*out = reg_write(s, op->value, ok ? op->rev : 0);
		return true;
	case OP_DELETE:
		if (ok && op->deleted == 0) {
			if (s->value != ABSENT) {
				return false;
			}
			*out = *s;
			return true;
		}
		if (ok && s->value == ABSENT && !op->lenient) {
			return false;
		}
		out->value = ABSENT;
		out->version = 0;
		out->mod_rev = 0;
		return true;
	case OP_CAS:
		pre = s->value == op->expect;
		if (!ok || op->succeeded) {
			if (!pre) {
				return false;
			}
			if (ok && s->mod_rev != 0 && op->rev <= s->mod_rev) {
				return false;
			}
			*out = reg_write(s, op->value, ok ? op->rev : 0);
			return true;
		}
		if (pre || !reg_matches_read(s, op)) {
			return false;
		}
		*out = *s;
		if (op->found) {
			out->mod_rev = op->mod_rev;
			out->version = op->version;
		}
		return true;
	}
	return false;
}

/* Did o return a value of the key (a read, or a CAS that failed)? */
static bool op_read_value_any(const struct op *o)
{
	return o->status == ST_OK && o->found &&
	       (o->kind == OP_READ || (o->kind == OP_CAS && !o->succeeded));
}

/* ------------------------------------------------ Wing & Gong with memo */

struct entry {
	bool is_call;
	size_t op; /* index into the key's op array */
	int64_t time;
	struct entry *match; /* a call's return entry */
	struct entry *prev, *next;
};

struct memo {
	uint64_t *slots; /* n_slots records of (words + 3) u64: used flag+hash, bits, state */
	size_t n_slots, used, words;
};

static uint64_t memo_hash(const uint64_t *bits, size_t words, const struct reg *s)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < words; i++) {
		h = (h ^ bits[i]) * 1099511628211ull;
		h ^= h >> 29;
	}
	h = (h ^ (uint64_t)(uint32_t)s->value) * 1099511628211ull;
	h = (h ^ (uint64_t)s->version) * 1099511628211ull;
	h = (h ^ (uint64_t)s->mod_rev) * 1099511628211ull;
	return h | 1; /* 0 marks a free slot */
}

static int memo_grow(struct memo *m);

/* Adds (bits, s); returns 1 if new, 0 if seen, -ENOMEM. */
static int memo_add(struct memo *m, const uint64_t *bits, const struct reg *s)
{
	size_t rec = m->words + 3;
	uint64_t h = memo_hash(bits, m->words, s);
	size_t i;

	if ((m->used + 1) * 2 > m->n_slots && memo_grow(m) < 0) {
		return -ENOMEM;
	}
	for (i = h & (m->n_slots - 1);; i = (i + 1) & (m->n_slots - 1)) {
		uint64_t *slot = &m->slots[i * rec];

		if (slot[0] == 0) {
			slot[0] = h;
			memcpy(&slot[1], bits, m->words * 8);
			slot[1 + m->words] = (uint64_t)(uint32_t)s->value;
			slot[2 + m->words] = (uint64_t)s->version;
			slot[2 + m->words] ^= (uint64_t)s->mod_rev << 32;
			m->used++;
			return 1;
		}
		if (slot[0] == h && memcmp(&slot[1], bits, m->words * 8) == 0 &&
		    slot[1 + m->words] == (uint64_t)(uint32_t)s->value &&
		    slot[2 + m->words] == ((uint64_t)s->version ^ ((uint64_t)s->mod_rev << 32))) {
			return 0;
		}
	}
}

static int memo_grow(struct memo *m)
{
	size_t rec = m->words + 3, old_n = m->n_slots;
	uint64_t *old = m->slots;

	m->n_slots = old_n ? old_n * 2 : 1024;
	m->slots = mem_calloc(m->n_slots, rec * 8);
	if (m->slots == NULL) {
		m->slots = old;
		m->n_slots = old_n;
		return -ENOMEM;
	}
	m->used = 0;
	for (size_t i = 0; i < old_n; i++) {
		uint64_t *slot = &old[i * rec];

		if (slot[0] != 0) {
			size_t j;

			for (j = slot[0] & (m->n_slots - 1); m->slots[j * rec] != 0;
			     j = (j + 1) & (m->n_slots - 1)) {
			}
			memcpy(&m->slots[j * rec], slot, rec * 8);
			m->used++;
		}
	}
	mem_free(old);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;

	if (x->time != y->time) {
		return x->time < y->time ? -1 : 1;
	}
	/* Equal times: calls first, so the two operations count as concurrent. */
	if (x->is_call != y->is_call) {
		return x->is_call ? -1 : 1;
	}
	return x->op < y->op ? -1 : x->op > y->op;
}

static void lift(struct entry *call)
{
	call->prev->next = call->next;
	if (call->next != NULL) {
		call->next->prev = call->prev;
	}
	call->match->prev->next = call->match->next;
	if (call->match->next != NULL) {
		call->match->next->prev = call->match->prev;
	}
}

static void unlift(struct entry *call)
{
	call->match->prev->next = call->match;
	if (call->match->next != NULL) {
		call->match->next->prev = call->match;
	}
	call->prev->next = call;
	if (call->next != NULL) {
		call->next->prev = call;
	}
}

struct frame {
	struct entry *call;
	struct reg state;
};

/* Prints the longest linearized prefix found and the operation that could
 * not follow it: the usual way to read a failed search. */
static void report_key(const struct history *h, struct op *const *ops,
		       const struct frame *best, size_t n_best, const struct reg *st,
		       const struct op *stuck)
{
	violation("key %s is not linearizable (%zu operations linearized, state then "
		  "value %s version %" PRId64 " mod_rev %" PRId64 ")",
		  str_of(h, ops[0]->key), n_best, str_of(h, st->value), st->version,
		  st->mod_rev);
	for (size_t i = n_best > 5 ? n_best - 5 : 0; i < n_best; i++) {
		const struct op *o = ops[best[i].call->op];
		printf("  linearized: id %" PRId64 " client %" PRId64 "\n", o->id, o->client);
	}
	if (stuck != NULL) {
		printf("  could not linearize: id %" PRId64 " client %" PRId64
		       " (invoke %" PRId64 " complete %" PRId64 ") nor any operation "
		       "concurrent with it\n",
		       stuck->id, stuck->client, stuck->invoke, stuck->complete);
	}
}

/* 1 linearizable, 0 not, -ENOMEM or -E2BIG (gave up). */
static int check_key(const struct history *h, struct op *const *ops, size_t n)
{
	struct entry *ents = mem_calloc(2 * n + 1, sizeof(*ents));
	struct entry **order = mem_calloc(2 * n, sizeof(*order));
	struct frame *stack = mem_calloc(n + 1, sizeof(*stack));
	struct frame *best = mem_calloc(n + 1, sizeof(*best));
	struct memo memo = {.words = (n + 63) / 64};
	uint64_t *bits = mem_calloc(memo.words + 1, 8);
	struct entry *head, *e;
	struct reg state = {ABSENT, 0, 0}, best_state = state;
	const struct op *stuck = NULL;
	size_t depth = 0, n_best = 0;
	int ret = 1;

	if (ents == NULL || order == NULL || stack == NULL || best == NULL || bits == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct entry *c = &ents[2 * i], *r = &ents[2 * i + 1];

		c->is_call = true;
		c->op = r->op = i;
		c->time = ops[i]->invoke;
		r->time = ops[i]->lin_complete;
		c->match = r;
		order[2 * i] = c;
		order[2 * i + 1] = r;
	}
	qsort(order, 2 * n, sizeof(*order), cmp_entry);
	head = &ents[2 * n];
	head->prev = NULL;
	e = head;
	for (size_t i = 0; i < 2 * n; i++) {
		e->next = order[i];
		order[i]->prev = e;
		e = order[i];
	}
	e->next = NULL;

	e = head->next;
	while (e != NULL) {
		if (e->is_call) {
			struct reg next;
			const struct op *op = ops[e->op];

			if (reg_step(&state, op, &next)) {
				int added;

				bits[e->op / 64] |= 1ull << (e->op % 64);
				added = memo_add(&memo, bits, &next);
				if (added < 0 || memo.n_slots * (memo.words + 3) * 8 > MEMO_BYTES) {
					ret = -E2BIG;
					goto out;
				}
				if (added) {
					stack[depth].call = e;
					stack[depth].state = state;
					depth++;
					if (depth > n_best) {
						n_best = depth;
						memcpy(best, stack, depth * sizeof(*stack));
						best_state = next;
						stuck = NULL;
					}
					state = next;
					lift(e);
					e = head->next;
					continue;
				}
				bits[e->op / 64] &= ~(1ull << (e->op % 64));
			}
			e = e->next;
			continue;
		}
		if (e->time == T_INF) {
			break; /* only unknown operations are left: done */
		}
		if (depth == n_best && stuck == NULL) {
			stuck = ops[e->op];
		}
		if (depth == 0) {
			report_key(h, ops, best, n_best, &best_state, stuck);
			ret = 0;
			goto out;
		}
		depth--;
		state = stack[depth].state;
		bits[stack[depth].call->op / 64] &= ~(1ull << (stack[depth].call->op % 64));
		unlift(stack[depth].call);
		e = stack[depth].call->next;
	}
out:
	mem_free(memo.slots);
	mem_free(bits);
	mem_free(best);
	mem_free(stack);
	mem_free(order);
	mem_free(ents);
	return ret;
}

/*
 * An unknown put or CAS whose value no operation saw (no read returned it,
 * no acknowledged CAS compared against it) changes nothing observable but
 * the key's version and presence, yet each one doubles the states the
 * search may visit.  Such writes are dropped; the operations completing
 * after the first of them are checked without their version (and a delete
 * may find the key present).  Sound: it can only accept more histories.
 */
static bool droppable(const struct op *o, const int64_t *seen_by)
{
	return o->status == ST_UNKNOWN && (o->kind == OP_PUT || o->kind == OP_CAS) &&
	       seen_by[o->value] == T_INF;
}

static void observe(int64_t *seen_by, int value, int64_t at)
{
	if (at < seen_by[value]) {
		seen_by[value] = at;
	}
}

static void check_linearizable(struct history *h, size_t *n_checked)
{
	struct op **ops = mem_calloc(h->n_ops + 1, sizeof(*ops));
	/* By value: the earliest completion of an operation that saw it. */
	int64_t *seen_by = mem_calloc(h->n_strs + 1, sizeof(*seen_by));
	bool *is_key = mem_calloc(h->n_strs + 1, sizeof(*is_key));

	if (ops == NULL || seen_by == NULL || is_key == NULL) {
		exit(2);
	}
	for (size_t v = 0; v <= h->n_strs; v++) {
		seen_by[v] = T_INF;
	}
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct op *o = &h->ops[i];

		is_key[o->key] = true;
		if (op_read_value_any(o)) {
			observe(seen_by, o->rvalue, o->complete);
		}
		if (o->kind == OP_CAS && o->status == ST_OK && o->succeeded &&
		    o->expect != ABSENT) {
			observe(seen_by, o->expect, o->complete);
		}
	}
	for (size_t i = 0; i < h->n_ops; i++) {
		struct op *o = &h->ops[i];
		bool write = o->kind == OP_PUT || o->kind == OP_CAS;

		o->lin_complete = o->complete;
		/* An observer that completed before the write was invoked is a
		 * violation: the search is left to find it. */
		if (o->status == ST_UNKNOWN && write && seen_by[o->value] < o->complete &&
		    seen_by[o->value] >= o->invoke) {
			o->lin_complete = seen_by[o->value];
		}
	}
	for (size_t k = 0; k < h->n_strs; k++) {
		size_t n = 0, dropped = 0;
		int64_t first_drop = T_INF;
		int r;

		if (!is_key[k]) {
			continue;
		}
		for (size_t i = 0; i < h->n_ops; i++) {
			const struct op *o = &h->ops[i];

			if (o->key == (int)k && droppable(o, seen_by) && o->invoke < first_drop) {
				first_drop = o->invoke;
			}
		}
		for (size_t i = 0; i < h->n_ops; i++) {
			struct op *o = &h->ops[i];

			if (o->key != (int)k || o->status == ST_FAIL) {
				continue;
			}
			if (droppable(o, seen_by)) {
				dropped++;
				continue;
			}
			o->lenient = o->complete > first_drop;
			ops[n++] = o;
		}
		if (n == 0) {
			continue;
		}
		(*n_checked)++;
		if (dropped > 0) {
			printf("key %s: %zu unknown writes nobody saw are left out\n",
			       str_of(h, (int)k), dropped);
		}
		r = check_key(h, ops, n);
		if (r < 0) {
			printf("GAVE UP: key %s: %zu operations, the search exceeded its "
			       "budget (%s)\n",
			       str_of(h, (int)k), n, r == -ENOMEM ? "memory" : "memo entries");
			gave_up = true;
		} else {
			printf("key %s: %zu operations: %s\n", str_of(h, (int)k), n,
			       r ? "linearizable" : "NOT linearizable");
		}
	}
	mem_free(is_key);
	mem_free(seen_by);
	mem_free(ops);
}

/* ------------------------------------------------------------ revisions */

static bool op_wrote(const struct op *o)
{
	return o->status == ST_OK &&
	       (o->kind == OP_PUT || (o->kind == OP_CAS && o->succeeded) ||
		(o->kind == OP_DELETE && o->deleted > 0));
}

static bool op_read_value(const struct op *o)
{
	return o->status == ST_OK && o->found &&
	       (o->kind == OP_READ || (o->kind == OP_CAS && !o->succeeded));
}

static int cmp_rev(const void *a, const void *b)
{
	const struct op *x = *(struct op *const *)a, *y = *(struct op *const *)b;

	return x->rev < y->rev ? -1 : x->rev > y->rev;
}

static int cmp_invoke(const void *a, const void *b)
{
	const struct op *x = *(struct op *const *)a, *y = *(struct op *const *)b;

	return x->invoke < y->invoke ? -1 : x->invoke > y->invoke;
}

static int cmp_complete(const void *a, const void *b)
{
	const struct op *x = *(struct op *const *)a, *y = *(struct op *const *)b;

	return x->complete < y->complete ? -1 : x->complete > y->complete;
}

/* The write (any status) that wrote value v, or NULL. */
static const struct op *writer_of(const struct history *h, int v)
{
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct op *o = &h->ops[i];

		if ((o->kind == OP_PUT || o->kind == OP_CAS) && o->value == v) {
			return o;
		}
	}
	return NULL;
}

static void check_revisions(const struct history *h)
{
	struct op **w = mem_calloc(h->n_ops + 1, sizeof(*w));
	struct op **inv = mem_calloc(h->n_ops + 1, sizeof(*inv));
	struct op **cpl = mem_calloc(h->n_ops + 1, sizeof(*cpl));
	size_t nw = 0, n = 0, j = 0;
	const struct op *max_op = NULL;

	if (w == NULL || inv == NULL || cpl == NULL) {
		exit(2);
	}
	for (size_t i = 0; i < h->n_ops; i++) {
		struct op *o = &h->ops[i];

		if (op_wrote(o)) {
			w[nw++] = o;
		}
		if (o->status == ST_OK) {
			inv[n] = cpl[n] = o;
			n++;
		}
		if (op_read_value(o)) {
			const struct op *wr = writer_of(h, o->rvalue);

			if (o->mod_rev > o->rev) {
				violation("op %" PRId64 " read mod_revision %" PRId64
					  " above its header revision %" PRId64,
					  o->id, o->mod_rev, o->rev);
			}
			if (wr == NULL) {
				violation("op %" PRId64 " read value %s that no operation wrote",
					  o->id, str_of(h, o->rvalue));
			} else if (wr->key != o->key) {
				violation("op %" PRId64 " read value %s of key %s under key %s",
					  o->id, str_of(h, o->rvalue), str_of(h, wr->key),
					  str_of(h, o->key));
			} else if (op_wrote(wr) && wr->rev != o->mod_rev) {
				violation("op %" PRId64 " read %s at mod_revision %" PRId64
					  " but op %" PRId64 " wrote it at revision %" PRId64,
					  o->id, str_of(h, o->rvalue), o->mod_rev, wr->id, wr->rev);
			}
		}
	}
	qsort(w, nw, sizeof(*w), cmp_rev);
	for (size_t i = 1; i < nw; i++) {
		if (w[i]->rev == w[i - 1]->rev) {
			violation("ops %" PRId64 " and %" PRId64 " both wrote at revision %" PRId64,
				  w[i - 1]->id, w[i]->id, w[i]->rev);
		}
	}
	/* Real time: sweep by invocation over the operations completed before. */
	qsort(inv, n, sizeof(*inv), cmp_invoke);
	qsort(cpl, n, sizeof(*cpl), cmp_complete);
	for (size_t i = 0; i < n; i++) {
		const struct op *b = inv[i];

		while (j < n && cpl[j]->complete < b->invoke) {
			if (max_op == NULL || cpl[j]->rev > max_op->rev) {
				max_op = cpl[j];
			}
			j++;
		}
		if (max_op == NULL) {
			continue;
		}
		if (b->rev < max_op->rev) {
			violation("op %" PRId64 " (client %" PRId64 ") saw revision %" PRId64
				  " after op %" PRId64 " (client %" PRId64 ") had completed "
				  "at revision %" PRId64,
				  b->id, b->client, b->rev, max_op->id, max_op->client, max_op->rev);
		} else if (op_wrote(b) && b->rev == max_op->rev) {
			violation("op %" PRId64 " wrote at revision %" PRId64
				  ", which op %" PRId64 " had already seen",
				  b->id, b->rev, max_op->id);
		}
	}
	printf("revisions: %zu acknowledged writes, %zu acknowledged operations\n", nw, n);
	mem_free(cpl);
	mem_free(inv);
	mem_free(w);
}

/* ------------------------------------------------- durability, convergence */

static const struct op *op_by_id(const struct history *h, int64_t id)
{
	for (size_t i = 0; i < h->n_ops; i++) {
		if (h->ops[i].id == id) {
			return &h->ops[i];
		}
	}
	return NULL;
}

static void check_durability(const struct history *h)
{
	size_t checked = 0;

	for (size_t i = 0; i < h->n_ats; i++) {
		const struct at_check *a = &h->ats[i];
		const struct op *w = op_by_id(h, a->of);

		if (w == NULL || !op_wrote(w)) {
			violation("final at names op %" PRId64
				  ", which is not an acknowledged write", a->of);
			continue;
		}
		checked++;
		if (a->error) {
			violation("acknowledged write op %" PRId64 " (revision %" PRId64
				  ") could not be read back at its revision",
				  w->id, w->rev);
		} else if (w->kind == OP_DELETE) {
			if (a->found) {
				violation("acknowledged delete op %" PRId64 " of %s at revision %" PRId64
					  ": the key is there at that revision (%s)",
					  w->id, str_of(h, w->key), w->rev, str_of(h, a->rvalue));
			}
		} else if (!a->found || a->rvalue != w->value || a->mod_rev != w->rev) {
			violation("acknowledged write op %" PRId64 " %s=%s at revision %" PRId64
				  " is lost: at that revision the key %s",
				  w->id, str_of(h, w->key), str_of(h, w->value), w->rev,
				  a->found ? str_of(h, a->rvalue) : "is absent");
		}
	}
	printf("durability: %zu acknowledged writes read back\n", checked);
}

static void check_convergence(const struct history *h)
{
	for (size_t i = 0; i < h->n_members; i++) {
		const struct member_final *m = &h->members[i], *m0 = &h->members[0];

		if (m->error || m->revision < 0) {
			violation("member %" PRId64 " gave no final revision or hash", m->member);
		} else if (m->revision != m0->revision || m->hash != m0->hash) {
			violation("member %" PRId64 " ends at revision %" PRId64 " hash %" PRId64
				  ", member %" PRId64 " at revision %" PRId64 " hash %" PRId64,
				  m->member, m->revision, m->hash, m0->member, m0->revision,
				  m0->hash);
		}
	}
	if (h->n_members > 0) {
		printf("convergence: %zu members compared\n", h->n_members);
	}
}

/* ---------------------------------------------------------------- watches */

static const char *ev_type(const struct wrec *e)
{
	return e->is_delete ? "DELETE" : "PUT";
}

/* The index of the final event of key at rev, or -1. */
static ssize_t final_find(const struct history *h, int64_t rev, int key)
{
	size_t lo = 0, hi = h->n_fevs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->fevs[mid].mod_rev < rev) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	for (; lo < h->n_fevs && h->fevs[lo].mod_rev == rev; lo++) {
		if (h->fevs[lo].key == key) {
			return (ssize_t)lo;
		}
	}
	return -1;
}

static bool in_range(const struct history *h, const struct wrec *start, int key)
{
	const char *k = h->strs[key];

	if (start->range_end == ABSENT) {
		return key == start->key;
	}
	return strcmp(k, h->strs[start->key]) >= 0 &&
	       strcmp(k, h->strs[start->range_end]) < 0;
}

/* The final history: ordered, holding every acknowledged write, no value
 * nobody wrote.  false when it cannot serve as the reference. */
static bool check_final_history(const struct history *h)
{
	bool ok = true;

	if (h->final_watch_rev < 0 || h->final_watch_error) {
		violation("watchers were recorded but the final watch history is %s",
			  h->final_watch_rev < 0 ? "missing" : "incomplete");
		return false;
	}
	for (size_t i = 1; i < h->n_fevs; i++) {
		const struct wrec *a = &h->fevs[i - 1], *b = &h->fevs[i];

		if (b->mod_rev < a->mod_rev || (b->mod_rev == a->mod_rev && b->key == a->key)) {
			violation("final history: line %zu (%s@%" PRId64 ") does not follow "
				  "line %zu (%s@%" PRId64 ")",
				  b->line, str_of(h, b->key), b->mod_rev, a->line,
				  str_of(h, a->key), a->mod_rev);
			ok = false;
		}
	}
	if (!ok) {
		return false;
	}
	for (size_t i = 0; i < h->n_fevs; i++) {
		const struct wrec *e = &h->fevs[i];
		const struct op *w;

		if (e->is_delete) {
			continue;
		}
		w = e->value == ABSENT ? NULL : writer_of(h, e->value);
		if (w == NULL || w->key != e->key) {
			violation("final history: %s@%" PRId64 " has value %s, which no "
				  "operation wrote to that key",
				  str_of(h, e->key), e->mod_rev, str_of(h, e->value));
		} else if (op_wrote(w) && w->rev != e->mod_rev) {
			violation("final history: %s=%s at revision %" PRId64
				  ", but op %" PRId64 " wrote it at %" PRId64,
				  str_of(h, e->key), str_of(h, e->value), e->mod_rev, w->id,
				  w->rev);
		}
	}
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct op *o = &h->ops[i];
		ssize_t f;

		if (!op_wrote(o) || o->client < 0 || o->rev > h->final_watch_rev) {
			continue;
		}
		f = final_find(h, o->rev, o->key);
		if (f < 0) {
			violation("acknowledged write op %" PRId64 " (%s at revision %" PRId64
				  ") is missing from the final watch history",
				  o->id, str_of(h, o->key), o->rev);
		} else if (h->fevs[f].is_delete != (o->kind == OP_DELETE) ||
			   (o->kind != OP_DELETE && h->fevs[f].value != o->value)) {
			violation("acknowledged write op %" PRId64 " (%s=%s at revision %" PRId64
				  ") is a %s of %s in the final watch history",
				  o->id, str_of(h, o->key),
				  o->kind == OP_DELETE ? "<delete>" : str_of(h, o->value), o->rev,
				  ev_type(&h->fevs[f]), str_of(h, h->fevs[f].value));
		}
	}
	return true;
}

struct gap {
	int64_t lo, hi;
};

/* One watcher's records (recs[0..n), its id's, in order). */
static void check_watcher(const struct history *h, const struct wrec *const *recs, size_t n,
			  bool *seen, size_t *n_events)
{
	const struct wrec *start = NULL;
	struct gap *gaps = mem_calloc(n + 1, sizeof(*gaps));
	size_t n_gaps = 0, got = 0;
	ssize_t last = -1;
	int64_t id = recs[0]->watch, last_seen = 0, upto;

	if (gaps == NULL) {
		exit(2);
	}
	memset(seen, 0, h->n_fevs * sizeof(*seen));
	for (size_t i = 0; i < n; i++) {
		const struct wrec *r = recs[i];
		ssize_t f;

		if (start == NULL && r->kind == WR_BROKEN) {
			continue; /* no stream was created yet */
		}
		if (start == NULL && r->kind != WR_START) {
			violation("watcher %" PRId64 ": line %zu comes before its start", id,
				  r->line);
			mem_free(gaps);
			return;
		}
		switch (r->kind) {
		case WR_START:
			if (start != NULL) {
				violation("watcher %" PRId64 " started twice (line %zu)", id,
					  r->line);
			} else {
				start = r;
				last_seen = r->from - 1;
			}
			break;
		case WR_RESUME:
			/* A resume past what was seen leaves revisions unasked. */
			if (r->from > last_seen + 1) {
				gaps[n_gaps++] = (struct gap){last_seen + 1, r->from - 1};
			}
			break;
		case WR_COMPACTED:
			gaps[n_gaps++] = (struct gap){r->from, r->compact - 1};
			if (r->compact - 1 > last_seen) {
				last_seen = r->compact - 1;
			}
			break;
		case WR_PROGRESS:
			if (r->rev > last_seen) {
				last_seen = r->rev;
			}
			break;
		case WR_BROKEN:
			break;
		case WR_EVENT:
			(*n_events)++;
			got++;
			if (r->mod_rev > last_seen) {
				last_seen = r->mod_rev;
			}
			if (r->mod_rev < start->from) {
				violation("watcher %" PRId64 " got %s@%" PRId64
					  " before its start revision %" PRId64 " (line %zu)",
					  id, str_of(h, r->key), r->mod_rev, start->from, r->line);
			}
			if (!in_range(h, start, r->key)) {
				violation("watcher %" PRId64 " got an event of key %s outside its "
					  "range (line %zu)",
					  id, str_of(h, r->key), r->line);
			}
			if (r->mod_rev > h->final_watch_rev) {
				break;
			}
			f = final_find(h, r->mod_rev, r->key);
			if (f < 0) {
				violation("watcher %" PRId64 " got %s %s=%s at revision %" PRId64
					  " (member %" PRId64 ", line %zu), which the final "
					  "history does not have",
					  id, ev_type(r), str_of(h, r->key), str_of(h, r->value),
					  r->mod_rev, r->member, r->line);
				break;
			}
			if (h->fevs[f].is_delete != r->is_delete || h->fevs[f].value != r->value ||
			    h->fevs[f].create_rev != r->create_rev ||
			    h->fevs[f].version != r->version) {
				violation("watcher %" PRId64 " got %s %s=%s (create %" PRId64
					  " version %" PRId64 ") at revision %" PRId64
					  " (member %" PRId64 ", line %zu); the final history "
					  "has %s %s (create %" PRId64 " version %" PRId64 ")",
					  id, ev_type(r), str_of(h, r->key), str_of(h, r->value),
					  r->create_rev, r->version, r->mod_rev, r->member, r->line,
					  ev_type(&h->fevs[f]), str_of(h, h->fevs[f].value),
					  h->fevs[f].create_rev, h->fevs[f].version);
			}
			if (seen[f]) {
				violation("watcher %" PRId64 " got %s@%" PRId64
					  " twice (again on member %" PRId64 ", line %zu)",
					  id, str_of(h, r->key), r->mod_rev, r->member, r->line);
			} else if (f < last) {
				violation("watcher %" PRId64 " got %s@%" PRId64
					  " after %s@%" PRId64 " (member %" PRId64
					  ", line %zu): out of order",
					  id, str_of(h, r->key), r->mod_rev,
					  str_of(h, h->fevs[last].key), h->fevs[last].mod_rev,
					  r->member, r->line);
			}
			seen[f] = true;
			if (f > last) {
				last = f;
			}
			break;
		}
	}
	if (start == NULL) {
		mem_free(gaps);
		return;
	}
	upto = last_seen < h->final_watch_rev ? last_seen : h->final_watch_rev;
	for (size_t f = 0; f < h->n_fevs; f++) {
		const struct wrec *e = &h->fevs[f];
		bool gone = false;

		if (e->mod_rev < start->from || e->mod_rev > upto || seen[f] ||
		    !in_range(h, start, e->key)) {
			continue;
		}
		for (size_t g = 0; g < n_gaps; g++) {
			gone |= e->mod_rev >= gaps[g].lo && e->mod_rev <= gaps[g].hi;
		}
		if (!gone) {
			violation("watcher %" PRId64 " (from revision %" PRId64
				  ", saw up to %" PRId64 ") missed %s %s=%s at revision %" PRId64,
				  id, start->from, last_seen, ev_type(e), str_of(h, e->key),
				  str_of(h, e->value), e->mod_rev);
		}
	}
	printf("watcher %" PRId64 ": %zu events, revisions %" PRId64 "..%" PRId64 "\n", id,
	       got, start->from, last_seen);
	mem_free(gaps);
}

static void check_watches(const struct history *h)
{
	const struct wrec **recs;
	int64_t *ids;
	bool *seen;
	size_t n_watchers = 0, n_events = 0, n_resumes = 0;

	if (h->n_wrecs == 0 && h->final_watch_rev < 0) {
		return;
	}
	if (!check_final_history(h)) {
		return;
	}
	recs = mem_calloc(h->n_wrecs + 1, sizeof(*recs));
	seen = mem_calloc(h->n_fevs + 1, sizeof(*seen));
	if (recs == NULL || seen == NULL) {
		exit(2);
	}
	ids = mem_calloc(h->n_wrecs + 1, sizeof(*ids));
	if (ids == NULL) {
		exit(2);
	}
	for (size_t i = 0; i < h->n_wrecs; i++) {
		size_t k = 0;

		n_resumes += h->wrecs[i].kind == WR_RESUME;
		while (k < n_watchers && ids[k] != h->wrecs[i].watch) {
			k++;
		}
		if (k == n_watchers) {
			ids[n_watchers++] = h->wrecs[i].watch;
		}
	}
	for (size_t k = 0; k < n_watchers; k++) {
		size_t n = 0;

		for (size_t j = 0; j < h->n_wrecs; j++) {
			if (h->wrecs[j].watch == ids[k]) {
				recs[n++] = &h->wrecs[j];
			}
		}
		check_watcher(h, recs, n, seen, &n_events);
	}
	printf("watches: %zu watchers, %zu events, %zu resumes, final history %zu events "
	       "up to revision %" PRId64 "\n",
	       n_watchers, n_events, n_resumes, h->n_fevs, h->final_watch_rev);
	mem_free(ids);
	mem_free(seen);
	mem_free(recs);
}

static void history_done(struct history *h)
{
	for (size_t i = 0; i < h->n_strs; i++) {
		mem_free(h->strs[i]);
	}
	mem_free(h->strs);
	mem_free(h->ops);
	mem_free(h->ats);
	mem_free(h->members);
	mem_free(h->wrecs);
	mem_free(h->fevs);
}

int main(int argc, char **argv)
{
	struct history h = {.final_watch_rev = -1};
	size_t n_keys = 0;
	FILE *f;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s HISTORY.jsonl\n", argv[0]);
		return 2;
	}
	f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "r");
	if (f == NULL) {
		fprintf(stderr, "checker: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	r = read_history(f, &h);
	if (f != stdin) {
		fclose(f);
	}
	if (r < 0) {
		history_done(&h);
		return 2;
	}
	check_linearizable(&h, &n_keys);
	check_revisions(&h);
	check_durability(&h);
	check_convergence(&h);
	check_watches(&h);
	printf("checker: %zu operations on %zu keys, %u violations%s\n", h.n_ops, n_keys,
	       violations, gave_up ? ", search gave up" : "");
	history_done(&h);
	return violations > 0 ? 1 : gave_up ? 3 : 0;
}
