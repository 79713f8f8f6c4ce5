/*
 * raft/log.h - a node's view of its log: the stable part read through
 * struct raft_storage, followed by the unstable part (a snapshot and/or
 * entries received or proposed but not yet reported durable by the
 * application through the Ready cycle).
 *
 *   storage: [snapshot S] S+1 ........ stable_last
 *   unstable:            [snap]   offset ........ last_index
 *
 * Invariants:
 *  1. The unstable entries are contiguous from offset; when a snapshot is
 *     unstable, offset = snap.index + 1.
 *  2. applied <= committed <= last_index; committed never decreases.
 *  3. Entries at or below committed are never truncated (a conflict there
 *     is reported as -ERR_CORRUPT, a broken safety property, never hidden).
 *  4. The first storage error other than -ERR_COMPACTED/-ERR_UNAVAILABLE is
 *     kept in err and returned by every later call that touches storage.
 */
#ifndef CETCD_RAFT_LOG_H
#define CETCD_RAFT_LOG_H

#include "raft/storage.h"

struct raft_log {
	struct raft_storage st;
	bool has_snap;
	struct raft_snapshot snap;
	struct raft_entry *ents;
	size_t n_ents, cap;
	raft_index offset;
	raft_index committed, applied;
	uint64_t max_committed_size; /* per raft_log_next_committed() */
	int err;
};

int raft_log_init(struct raft_log *l, const struct raft_storage *st,
		  uint64_t max_committed_size);
void raft_log_done(struct raft_log *l);

raft_index raft_log_first_index(struct raft_log *l);
raft_index raft_log_last_index(struct raft_log *l);
/* The last index the application has made durable (and that still holds). */
raft_index raft_log_stable_last(struct raft_log *l);
/* 0, -ERR_COMPACTED, -ERR_UNAVAILABLE or a storage error. */
int raft_log_term(struct raft_log *l, raft_index i, raft_term *out);
/* The term of i, 0 when it is unknown. */
raft_term raft_log_term_or_zero(struct raft_log *l, raft_index i);
raft_term raft_log_last_term(struct raft_log *l);
bool raft_log_match_term(struct raft_log *l, raft_index i, raft_term t);
/* Raft 5.4.1: (term, index) at least as recent as our last entry. */
bool raft_log_is_up_to_date(struct raft_log *l, raft_index last,
			    raft_term term);

/*
 * AppendEntries receiver rules (Raft Figure 2, 3-5): when our entry at
 * index has log_term, the conflicting suffix is replaced by ents, commit
 * moves to min(committed, index of the last new entry), *last_new is set
 * and 1 is returned; 0 when the terms do not match (reject); < 0 on error.
 */
int raft_log_maybe_append(struct raft_log *l, raft_index index,
			  raft_term log_term, raft_index committed,
			  const struct raft_entry *ents, size_t n,
			  raft_index *last_new);
/* Append (copies) after truncating what conflicts; returns last index. */
int raft_log_append(struct raft_log *l, const struct raft_entry *ents,
		    size_t n);
/*
 * Fast backtracking: the largest index <= index whose term is <= term (the
 * first place where a leader with log term "term" at "index" can match).
 */
raft_index raft_log_find_conflict_by_term(struct raft_log *l, raft_index index,
					  raft_term term);
/* Entries [lo, hi) up to max_size bytes (at least one); caller owns them. */
int raft_log_slice(struct raft_log *l, raft_index lo, raft_index hi,
		   uint64_t max_size, struct raft_entry **ents, size_t *n);
/* Entries from next to the end (max_size bytes); caller owns them. */
int raft_log_entries_from(struct raft_log *l, raft_index next,
			  uint64_t max_size, struct raft_entry **ents,
			  size_t *n);
bool raft_log_has_next_committed(struct raft_log *l);
/* The committed entries not applied yet (bounded by max_committed_size). */
int raft_log_next_committed(struct raft_log *l, struct raft_entry **ents,
			    size_t *n);
int raft_log_commit_to(struct raft_log *l, raft_index c);
/* Leader: commit max_index if its entry is of term (Raft 5.4.2). */
bool raft_log_maybe_commit(struct raft_log *l, raft_index max_index,
			   raft_term term);
void raft_log_applied_to(struct raft_log *l, raft_index i);
/* The application made entries up to (i, t) durable. */
void raft_log_stable_to(struct raft_log *l, raft_index i, raft_term t);
void raft_log_stable_snap_to(struct raft_log *l, raft_index i);
/* Replace everything by snapshot s (copied); committed = s.index. */
int raft_log_restore(struct raft_log *l, const struct raft_snapshot *s);
/* The latest snapshot, unstable or stored (a copy the caller owns). */
int raft_log_snapshot(struct raft_log *l, struct raft_snapshot *out);


#ifdef CETCD_DEBUG
/* --enable-debug: abort with a message when an invariant above is broken. */
void raft_log_check(struct raft_log *l);
#define RAFT_LOG_CHECK(l) raft_log_check(l)
#else
#define RAFT_LOG_CHECK(l) ((void)0)
#endif

#endif
