/*
 * raft/log.c - the stable + unstable log (raft/log.h).
 */
#include "raft/log.h"

#include <stdio.h>
#include <stdlib.h>

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

static int sticky(struct raft_log *l, int r)
{
	if (r < 0 && r != -ERR_COMPACTED && r != -ERR_UNAVAILABLE &&
	    l->err == 0) {
		l->err = r;
	}
	return r;
}

int raft_log_init(struct raft_log *l, const struct raft_storage *st,
		  uint64_t max_committed_size)
{
	raft_index first, last;
	int r;

	memset(l, 0, sizeof(*l));
	l->st = *st;
	l->max_committed_size = max_committed_size;
	r = st->first_index(st->ctx, &first);
	if (r < 0) {
		return r;
	}
	r = st->last_index(st->ctx, &last);
	if (r < 0) {
		return r;
	}
	l->offset = last + 1;
	/* Everything up to the snapshot is committed and applied. */
	l->committed = first - 1;
	l->applied = first - 1;
	return 0;
}

static void drop_unstable_entries(struct raft_log *l, size_t from)
{
	for (size_t i = from; i < l->n_ents; i++) {
		raft_entry_done(&l->ents[i]);
	}
	l->n_ents = from;
}

void raft_log_done(struct raft_log *l)
{
	drop_unstable_entries(l, 0);
	mem_free(l->ents);
	raft_snapshot_done(&l->snap);
	memset(l, 0, sizeof(*l));
}

raft_index raft_log_first_index(struct raft_log *l)
{
	raft_index i = 0;

	if (l->has_snap) {
		return l->snap.meta.index + 1;
	}
	sticky(l, l->st.first_index(l->st.ctx, &i));
	return i;
}

raft_index raft_log_last_index(struct raft_log *l)
{
	raft_index i = 0;

	if (l->n_ents > 0) {
		return l->offset + l->n_ents - 1;
	}
	if (l->has_snap) {
		return l->snap.meta.index;
	}
	sticky(l, l->st.last_index(l->st.ctx, &i));
	return i;
}

raft_index raft_log_stable_last(struct raft_log *l)
{
	raft_index i = 0;

	if (l->has_snap) {
		return 0;
	}
	sticky(l, l->st.last_index(l->st.ctx, &i));
	return i < l->offset - 1 ? i : l->offset - 1;
}

/* The unstable part's answer for term(i), if it has one. */
static bool unstable_term(struct raft_log *l, raft_index i, raft_term *out)
{
	if (i < l->offset) {
		if (l->has_snap && l->snap.meta.index == i) {
			*out = l->snap.meta.term;
			return true;
		}
		return false;
	}
	if (i - l->offset >= l->n_ents) {
		return false;
	}
	*out = l->ents[i - l->offset].term;
	return true;
}

int raft_log_term(struct raft_log *l, raft_index i, raft_term *out)
{
	raft_index first = raft_log_first_index(l);

	if (l->err) {
		return l->err;
	}
	if (first > 0 && i < first - 1) {
		return -ERR_COMPACTED;
	}
	if (i > raft_log_last_index(l)) {
		return -ERR_UNAVAILABLE;
	}
	if (unstable_term(l, i, out)) {
		return 0;
	}
	return sticky(l, l->st.term(l->st.ctx, i, out));
}

raft_term raft_log_term_or_zero(struct raft_log *l, raft_index i)
{
	raft_term t = 0;

	if (raft_log_term(l, i, &t) < 0) {
		return 0;
	}
	return t;
}

raft_term raft_log_last_term(struct raft_log *l)
{
	return raft_log_term_or_zero(l, raft_log_last_index(l));
}

bool raft_log_match_term(struct raft_log *l, raft_index i, raft_term t)
{
	raft_term got;

	if (raft_log_term(l, i, &got) < 0) {
		return false;
	}
	return got == t;
}

bool raft_log_is_up_to_date(struct raft_log *l, raft_index last, raft_term term)
{
	raft_term mine = raft_log_last_term(l);

	return term > mine || (term == mine && last >= raft_log_last_index(l));
}

/* The index of the first entry of ents that is new or conflicts; 0: none. */
static raft_index find_conflict(struct raft_log *l,
				const struct raft_entry *ents, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!raft_log_match_term(l, ents[i].index, ents[i].term)) {
			return ents[i].index;
		}
	}
	return 0;
}

static int reserve_unstable(struct raft_log *l, size_t n)
{
	size_t cap = l->cap ? l->cap : 16;
	struct raft_entry *grown;

	if (n <= l->cap) {
		return 0;
	}
	while (cap < n) {
		cap *= 2;
	}
	grown = mem_realloc(l->ents, cap * sizeof(*grown));
	if (!grown) {
		return -ENOMEM;
	}
	l->ents = grown;
	l->cap = cap;
	return 0;
}

int raft_log_append(struct raft_log *l, const struct raft_entry *ents, size_t n)
{
	raft_index after;
	size_t keep;
	struct raft_entry *copies;
	int r;

	if (n == 0) {
		return 0;
	}
	after = ents[0].index;
	if (after - 1 < l->committed) {
		return sticky(l, -ERR_CORRUPT);
	}
	r = raft_entries_copy(ents, n, &copies);
	if (r < 0) {
		return sticky(l, r);
	}
	if (after == l->offset + l->n_ents) {
		keep = l->n_ents;
	} else if (after <= l->offset) {
		/* Replaces part of the stable log too: storage truncates it
		 * when the application appends these entries. */
		keep = 0;
		drop_unstable_entries(l, 0);
		l->offset = after;
	} else {
		keep = after - l->offset;
	}
	r = reserve_unstable(l, keep + n);
	if (r < 0) {
		raft_entries_free(copies, n);
		return sticky(l, r);
	}
	drop_unstable_entries(l, keep);
	memcpy(&l->ents[keep], copies, n * sizeof(*copies));
	mem_free(copies);
	l->n_ents = keep + n;
	return 0;
}

int raft_log_maybe_append(struct raft_log *l, raft_index index,
			  raft_term log_term, raft_index committed,
			  const struct raft_entry *ents, size_t n,
			  raft_index *last_new)
{
	raft_index ci, lastnew = index + n;
	int r;

	if (!raft_log_match_term(l, index, log_term)) {
		return l->err ? l->err : 0;
	}
	ci = find_conflict(l, ents, n);
	if (ci != 0) {
		if (ci <= l->committed) {
			return sticky(l, -ERR_CORRUPT);
		}
		r = raft_log_append(l, ents + (ci - index - 1),
				    n - (ci - index - 1));
		if (r < 0) {
			return r;
		}
	}
	r = raft_log_commit_to(l, committed < lastnew ? committed : lastnew);
	if (r < 0) {
		return r;
	}
	*last_new = lastnew;
	return 1;
}

raft_index raft_log_find_conflict_by_term(struct raft_log *l, raft_index index,
					  raft_term term)
{
	raft_index li = raft_log_last_index(l);

	if (index > li) {
		return index;
	}
	for (;;) {
		raft_term t;

		if (raft_log_term(l, index, &t) < 0 || t <= term) {
			return index;
		}
		index--;
	}
}

int raft_log_slice(struct raft_log *l, raft_index lo, raft_index hi,
		   uint64_t max_size, struct raft_entry **ents, size_t *n)
{
	struct raft_entry *out = NULL, *st_ents = NULL;
	size_t cnt = 0, n_st = 0;
	uint64_t size = 0;
	raft_index first = raft_log_first_index(l);
	int r;

	if (l->err) {
		return l->err;
	}
	if (lo < first) {
		return -ERR_COMPACTED;
	}
	if (hi > raft_log_last_index(l) + 1 || lo > hi) {
		return -ERR_UNAVAILABLE;
	}
	if (lo == hi) {
		*ents = NULL;
		*n = 0;
		return 0;
	}
	if (lo < l->offset) {
		raft_index shi = hi < l->offset ? hi : l->offset;

		r = l->st.entries(l->st.ctx, lo, shi, max_size, &st_ents,
				  &n_st);
		if (r < 0) {
			return sticky(l, r);
		}
		for (size_t i = 0; i < n_st; i++) {
			size += raft_entry_size(&st_ents[i]);
		}
		/* Cut short by the size limit: stop there. */
		if (lo + n_st < shi || shi == hi) {
			*ents = st_ents;
			*n = n_st;
			return 0;
		}
	}
	/* Unstable part: from max(lo, offset) to hi within the budget. */
	{
		raft_index ulo = lo > l->offset ? lo : l->offset;
		size_t take = 0;

		while (ulo + take < hi) {
			uint64_t es =
			    raft_entry_size(&l->ents[ulo + take - l->offset]);

			if ((n_st + take) > 0 && size + es > max_size) {
				break;
			}
			size += es;
			take++;
		}
		out = mem_calloc(n_st + take ? n_st + take : 1, sizeof(*out));
		if (!out) {
			raft_entries_free(st_ents, n_st);
			return sticky(l, -ENOMEM);
		}
		if (n_st > 0) {
			memcpy(out, st_ents, n_st * sizeof(*out));
		}
		for (size_t i = 0; i < take; i++) {
			r = raft_entry_copy(&out[n_st + i],
					    &l->ents[ulo + i - l->offset]);
			if (r < 0) {
				raft_entries_free(out, n_st + i);
				mem_free(st_ents);
				return sticky(l, r);
			}
		}
		cnt = n_st + take;
		mem_free(st_ents);
	}
	*ents = out;
	*n = cnt;
	return 0;
}

int raft_log_entries_from(struct raft_log *l, raft_index next,
			  uint64_t max_size, struct raft_entry **ents,
			  size_t *n)
{
	raft_index last = raft_log_last_index(l);

	if (next > last) {
		if (l->err) {
			return l->err;
		}
		*ents = NULL;
		*n = 0;
		return 0;
	}
	return raft_log_slice(l, next, last + 1, max_size, ents, n);
}

static raft_index next_committed_lo(struct raft_log *l)
{
	raft_index first = raft_log_first_index(l);

	return l->applied + 1 > first ? l->applied + 1 : first;
}

bool raft_log_has_next_committed(struct raft_log *l)
{
	return l->committed + 1 > next_committed_lo(l);
}

int raft_log_next_committed(struct raft_log *l, struct raft_entry **ents,
			    size_t *n)
{
	raft_index lo = next_committed_lo(l);

	if (l->committed + 1 <= lo) {
		*ents = NULL;
		*n = 0;
		return 0;
	}
	return raft_log_slice(l, lo, l->committed + 1, l->max_committed_size,
			      ents, n);
}

int raft_log_commit_to(struct raft_log *l, raft_index c)
{
	if (c <= l->committed) {
		return 0;
	}
	if (c > raft_log_last_index(l)) {
		/* The leader says commit what we do not have: corrupt log. */
		return sticky(l, -ERR_CORRUPT);
	}
	l->committed = c;
	return 0;
}

bool raft_log_maybe_commit(struct raft_log *l, raft_index max_index,
			   raft_term term)
{
	/*
	 * Raft 5.4.2 (Figure 8): only entries of the leader's current term
	 * are committed by counting replicas; older ones follow implicitly.
	 */
	if (max_index > l->committed &&
	    raft_log_term_or_zero(l, max_index) == term) {
		raft_log_commit_to(l, max_index);
		return true;
	}
	return false;
}

void raft_log_applied_to(struct raft_log *l, raft_index i)
{
	if (i > l->applied && i <= l->committed) {
		l->applied = i;
	}
}

void raft_log_stable_to(struct raft_log *l, raft_index i, raft_term t)
{
	raft_term got;
	size_t drop;

	if (i < l->offset || !unstable_term(l, i, &got) || got != t) {
		return;
	}
	drop = i + 1 - l->offset;
	for (size_t k = 0; k < drop; k++) {
		raft_entry_done(&l->ents[k]);
	}
	memmove(l->ents, l->ents + drop, (l->n_ents - drop) * sizeof(*l->ents));
	l->n_ents -= drop;
	l->offset = i + 1;
}

void raft_log_stable_snap_to(struct raft_log *l, raft_index i)
{
	if (l->has_snap && l->snap.meta.index == i) {
		raft_snapshot_done(&l->snap);
		l->has_snap = false;
	}
}

int raft_log_restore(struct raft_log *l, const struct raft_snapshot *s)
{
	struct raft_snapshot c;

	if (raft_snapshot_copy(&c, s) < 0) {
		return sticky(l, -ENOMEM);
	}
	raft_snapshot_done(&l->snap);
	l->snap = c;
	l->has_snap = true;
	drop_unstable_entries(l, 0);
	l->offset = s->meta.index + 1;
	l->committed = s->meta.index;
	return 0;
}

int raft_log_snapshot(struct raft_log *l, struct raft_snapshot *out)
{
	if (l->has_snap) {
		return sticky(l, raft_snapshot_copy(out, &l->snap));
	}
	return l->st.snapshot(l->st.ctx, out);
}

#ifdef CETCD_DEBUG
static void check_failed(const char *what, raft_index a, raft_index b)
{
	fprintf(stderr, "raft log invariant broken (log.h): %s (%llu, %llu)\n",
		what, (unsigned long long)a, (unsigned long long)b);
	abort();
}

void raft_log_check(struct raft_log *l)
{
	raft_index last = raft_log_last_index(l);

	if (l->err) {
		return; /* a failed log refuses work; nothing more to check */
	}
	/* 1. Unstable entries are contiguous from offset, terms never drop. */
	for (size_t i = 0; i < l->n_ents; i++) {
		if (l->ents[i].index != l->offset + i) {
			check_failed("unstable entries not contiguous",
				     l->ents[i].index, l->offset + i);
		}
		if (i > 0 && l->ents[i].term < l->ents[i - 1].term) {
			check_failed("unstable terms decrease", l->ents[i].term,
				     l->ents[i - 1].term);
		}
	}
	if (l->has_snap && l->offset != l->snap.meta.index + 1) {
		check_failed("offset is not after the unstable snapshot",
			     l->offset, l->snap.meta.index);
	}
	/* 2. applied <= committed <= last_index. */
	if (l->applied > l->committed) {
		check_failed("applied beyond committed", l->applied,
			     l->committed);
	}
	if (l->committed > last) {
		check_failed("committed beyond the last index", l->committed,
			     last);
	}
}
#endif
