/*
 * raft/storage.c - the in-memory raft_storage (raft/storage.h).
 *
 * Invariants:
 *  1. ents[k] has index off_index + 1 + k; off_index/off_term are the
 *     compaction boundary S and its term.
 *  2. snap.meta.index >= off_index (compact never passes the snapshot).
 *  3. Every mutator either succeeds completely or leaves ms unchanged.
 */
#include "raft/storage.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

struct raft_mem_storage {
	struct raft_hard_state hs;
	struct raft_snapshot snap; /* snap.meta.conf: the membership */
	raft_index off_index;
	raft_term off_term;
	struct raft_entry *ents;
	size_t n_ents;
	size_t cap;
};

struct raft_mem_storage *raft_mem_storage_new(void)
{
	return mem_calloc(1, sizeof(struct raft_mem_storage));
}

void raft_mem_storage_free(struct raft_mem_storage *ms)
{
	if (!ms) {
		return;
	}
	raft_entries_free(ms->ents, ms->n_ents);
	raft_snapshot_done(&ms->snap);
	mem_free(ms);
}

static raft_index last_index(const struct raft_mem_storage *ms)
{
	return ms->off_index + ms->n_ents;
}

static int ms_initial_state(void *ctx, struct raft_hard_state *hs,
			    struct raft_conf_state *cs)
{
	struct raft_mem_storage *ms = ctx;
	struct raft_conf_state c;

	if (raft_conf_state_copy(&c, &ms->snap.meta.conf) < 0) {
		return -ENOMEM;
	}
	*hs = ms->hs;
	*cs = c;
	return 0;
}

static int ms_entries(void *ctx, raft_index lo, raft_index hi,
		      uint64_t max_size, struct raft_entry **ents,
		      size_t *n_ents)
{
	struct raft_mem_storage *ms = ctx;
	uint64_t size = 0;
	size_t n = 0;
	struct raft_entry *out;
	int r;

	if (lo <= ms->off_index) {
		return -ERR_COMPACTED;
	}
	if (hi > last_index(ms) + 1 || lo > hi) {
		return -ERR_UNAVAILABLE;
	}
	while (lo + n < hi) {
		const struct raft_entry *e =
		    &ms->ents[lo + n - ms->off_index - 1];

		size += raft_entry_size(e);
		if (n > 0 && size > max_size) {
			break;
		}
		n++;
	}
	r = raft_entries_copy(&ms->ents[lo - ms->off_index - 1], n, &out);
	if (r < 0) {
		return r;
	}
	*ents = out;
	*n_ents = n;
	return 0;
}

static int ms_term(void *ctx, raft_index i, raft_term *out)
{
	struct raft_mem_storage *ms = ctx;

	if (i < ms->off_index) {
		return -ERR_COMPACTED;
	}
	if (i > last_index(ms)) {
		return -ERR_UNAVAILABLE;
	}
	*out = i == ms->off_index ? ms->off_term
				  : ms->ents[i - ms->off_index - 1].term;
	return 0;
}

static int ms_first_index(void *ctx, raft_index *out)
{
	struct raft_mem_storage *ms = ctx;

	*out = ms->off_index + 1;
	return 0;
}

static int ms_last_index(void *ctx, raft_index *out)
{
	*out = last_index(ctx);
	return 0;
}

static int ms_snapshot(void *ctx, struct raft_snapshot *out)
{
	struct raft_mem_storage *ms = ctx;

	return raft_snapshot_copy(out, &ms->snap);
}

struct raft_storage raft_mem_storage_storage(struct raft_mem_storage *ms)
{
	return (struct raft_storage){
	    .initial_state = ms_initial_state,
	    .entries = ms_entries,
	    .term = ms_term,
	    .first_index = ms_first_index,
	    .last_index = ms_last_index,
	    .snapshot = ms_snapshot,
	    .ctx = ms,
	};
}

void raft_mem_storage_set_hard_state(struct raft_mem_storage *ms,
				     const struct raft_hard_state *hs)
{
	ms->hs = *hs;
}

int raft_mem_storage_set_conf_state(struct raft_mem_storage *ms,
				    const struct raft_conf_state *cs)
{
	struct raft_conf_state c;

	if (raft_conf_state_copy(&c, cs) < 0) {
		return -ENOMEM;
	}
	raft_conf_state_done(&ms->snap.meta.conf);
	ms->snap.meta.conf = c;
	return 0;
}

int raft_mem_storage_append(struct raft_mem_storage *ms,
			    const struct raft_entry *ents, size_t n)
{
	struct raft_entry *copies = NULL;
	size_t keep, skip = 0;
	int r;

	for (size_t i = 1; i < n; i++) {
		if (ents[i].index != ents[i - 1].index + 1) {
			return -ERR_INVALID;
		}
	}
	/* Entries already covered by the compaction boundary are dropped. */
	while (skip < n && ents[skip].index <= ms->off_index) {
		skip++;
	}
	ents += skip;
	n -= skip;
	if (n == 0) {
		return 0;
	}
	if (ents[0].index > last_index(ms) + 1) {
		return -ERR_INVALID;
	}
	keep = ents[0].index - ms->off_index - 1;
	if (keep + n > ms->cap) {
		size_t cap = ms->cap ? ms->cap : 16;
		struct raft_entry *grown;

		while (cap < keep + n) {
			cap *= 2;
		}
		grown = mem_realloc(ms->ents, cap * sizeof(*grown));
		if (!grown) {
			return -ENOMEM;
		}
		ms->ents = grown;
		ms->cap = cap;
	}
	r = raft_entries_copy(ents, n, &copies);
	if (r < 0) {
		return r;
	}
	for (size_t i = keep; i < ms->n_ents; i++) {
		raft_entry_done(&ms->ents[i]);
	}
	memcpy(&ms->ents[keep], copies, n * sizeof(*copies));
	mem_free(copies);
	ms->n_ents = keep + n;
	return 0;
}

int raft_mem_storage_apply_snapshot(struct raft_mem_storage *ms,
				    const struct raft_snapshot *snap)
{
	struct raft_snapshot c;

	if (snap->meta.index <= ms->snap.meta.index) {
		return -ERR_SNAP_OUT_OF_DATE;
	}
	if (raft_snapshot_copy(&c, snap) < 0) {
		return -ENOMEM;
	}
	raft_snapshot_done(&ms->snap);
	ms->snap = c;
	raft_entries_free(ms->ents, ms->n_ents);
	ms->ents = NULL;
	ms->n_ents = ms->cap = 0;
	ms->off_index = snap->meta.index;
	ms->off_term = snap->meta.term;
	return 0;
}

int raft_mem_storage_create_snapshot(struct raft_mem_storage *ms, raft_index i,
				     const struct raft_conf_state *cs,
				     const uint8_t *data, size_t len)
{
	struct raft_snapshot c = {0};
	raft_term t;
	int r;

	if (i <= ms->snap.meta.index) {
		return -ERR_SNAP_OUT_OF_DATE;
	}
	r = ms_term(ms, i, &t);
	if (r < 0) {
		return r;
	}
	r = raft_conf_state_copy(&c.meta.conf, cs ? cs : &ms->snap.meta.conf);
	if (r < 0) {
		return r;
	}
	if (len > 0) {
		c.data = mem_dup(data, len);
		if (!c.data) {
			raft_snapshot_done(&c);
			return -ENOMEM;
		}
		c.len = len;
	}
	c.meta.index = i;
	c.meta.term = t;
	raft_snapshot_done(&ms->snap);
	ms->snap = c;
	return 0;
}

int raft_mem_storage_compact(struct raft_mem_storage *ms, raft_index i)
{
	size_t drop;

	if (i <= ms->off_index) {
		return -ERR_COMPACTED;
	}
	if (i > last_index(ms)) {
		return -ERR_UNAVAILABLE;
	}
	if (i > ms->snap.meta.index) {
		return -ERR_INVALID;
	}
	drop = i - ms->off_index;
	ms->off_term = ms->ents[drop - 1].term;
	for (size_t k = 0; k < drop; k++) {
		raft_entry_done(&ms->ents[k]);
	}
	memmove(ms->ents, ms->ents + drop,
		(ms->n_ents - drop) * sizeof(*ms->ents));
	ms->n_ents -= drop;
	ms->off_index = i;
	return 0;
}

raft_index raft_mem_storage_window(const struct raft_mem_storage *ms,
				   raft_index i, uint64_t max_size)
{
	uint64_t size = 0;

	if (i > last_index(ms)) {
		i = last_index(ms);
	}
	for (raft_index k = i; k > ms->off_index; k--) {
		size += raft_entry_size(&ms->ents[k - ms->off_index - 1]);
		if (size > max_size) {
			return k;
		}
	}
	return ms->off_index;
}
