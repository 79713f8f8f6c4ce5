/*
 * raft/storage.h - where the Raft library reads the stable log from, and an
 * in-memory implementation of it.
 *
 * The library only ever READS through struct raft_storage.  Writing is the
 * application's job, driven by the Ready contract (raft/raft.h): it appends
 * Ready's entries, saves its hard state and applies its snapshot to the
 * storage (the in-memory one below, or node/wal's on-disk one) before it
 * calls raft_advance().  The shape follows etcd-io/raft's Storage.
 *
 * Log model.  The storage holds a snapshot (index S, term T, possibly the
 * empty snapshot S = T = 0) followed by the entries S+1 .. last.  Then:
 *   first_index() = S + 1          (the first entry that is still stored)
 *   last_index()  = S + number of entries   (= S when there are none)
 *   term(S)       = T              (the term of the compacted boundary is kept)
 *
 * Invariants every implementation keeps:
 *  1. Entries are contiguous: entry i has index i, for first_index <= i <=
 *     last_index, and terms never decrease with the index.
 *  2. Reads have no side effects; a read that fails writes no output.
 *  3. Errors: an index below the snapshot boundary (i < S for term(), lo <= S
 *     for entries()) is -ERR_COMPACTED; an index beyond last_index is
 *     -ERR_UNAVAILABLE; a snapshot that is being produced and not ready yet
 *     is -EAGAIN (the leader retries later); I/O errors are -errno and are
 *     sticky in the implementation, not hidden.
 *  4. Ownership: everything a read returns is owned by the CALLER, as a
 *     deep copy: the array from entries() and each entry's data are freed
 *     with raft_entries_free(ents, n); the conf state from initial_state()
 *     with raft_conf_state_done(); the snapshot from snapshot() with
 *     raft_snapshot_done().  The storage may change freely afterwards.
 *  5. Functions are called on the thread that owns the raft node only.
 */
#ifndef CETCD_RAFT_STORAGE_H
#define CETCD_RAFT_STORAGE_H

#include "raft/types.h"

/* No limit for raft_storage.entries' max_size (and the config's limits). */
#define RAFT_NO_LIMIT UINT64_MAX

struct raft_storage {
	/*
	 * The saved hard state and the membership of the latest snapshot
	 * (what a restarted node starts from).  Outputs owned by the caller
	 * (invariant 4); both written only on success.
	 */
	int (*initial_state)(void *ctx, struct raft_hard_state *hs,
			     struct raft_conf_state *cs);
	/*
	 * Entries with index in [lo, hi), first_index <= lo <= hi <=
	 * last_index + 1.  The result is cut after the last entry that keeps
	 * the total raft_entry_size() within max_size, but holds at least one
	 * entry when lo < hi (RAFT_NO_LIMIT: everything).  *ents is a new
	 * array owned by the caller (NULL when *n_ents == 0).
	 */
	int (*entries)(void *ctx, raft_index lo, raft_index hi,
		       uint64_t max_size, struct raft_entry **ents,
		       size_t *n_ents);
	/* Term of entry i, S <= i <= last_index (term(S) is the snapshot's). */
	int (*term)(void *ctx, raft_index i, raft_term *out);
	int (*first_index)(void *ctx, raft_index *out);
	int (*last_index)(void *ctx, raft_index *out);
	/* The most recent snapshot (a deep copy owned by the caller). */
	int (*snapshot)(void *ctx, struct raft_snapshot *out);
	/* Passed to every function above; owned by whoever built the struct. */
	void *ctx;
};

/*
 * The in-memory storage: tests, the simulator and the benchmark use it as the
 * node's storage; a real member uses node/wal's.  Nothing is durable; a
 * "crash" in tests keeps whatever was appended to it.
 */
struct raft_mem_storage;

struct raft_mem_storage *raft_mem_storage_new(void);
void raft_mem_storage_free(struct raft_mem_storage *ms);

/* The read interface; valid while ms lives. */
struct raft_storage raft_mem_storage_storage(struct raft_mem_storage *ms);

/* The hard state returned by initial_state (copied). */
void raft_mem_storage_set_hard_state(struct raft_mem_storage *ms,
				     const struct raft_hard_state *hs);
/*
 * Bootstrap: the membership initial_state reports before any snapshot was
 * applied (a new cluster's initial members).  Copied.  0 or -ENOMEM.
 */
int raft_mem_storage_set_conf_state(struct raft_mem_storage *ms,
				    const struct raft_conf_state *cs);

/*
 * Append entries (copied; ents[i].index must be contiguous).  Entries that
 * overlap the stored log replace the stored ones from the first overlapping
 * index on (a new leader overwrote them); entries at or below the snapshot
 * boundary are ignored.  A gap after last_index is -ERR_INVALID.
 * 0, -ERR_INVALID or -ENOMEM; on error the storage is unchanged.
 */
int raft_mem_storage_append(struct raft_mem_storage *ms,
			    const struct raft_entry *ents, size_t n);

/*
 * Replace the whole log by a snapshot (copied): used when a follower receives
 * one.  -ERR_SNAP_OUT_OF_DATE when snap is not newer than the stored one.
 */
int raft_mem_storage_apply_snapshot(struct raft_mem_storage *ms,
				    const struct raft_snapshot *snap);

/*
 * Record a snapshot of the application's state at index i (<= last_index,
 * > the stored snapshot's index, else -ERR_SNAP_OUT_OF_DATE or
 * -ERR_UNAVAILABLE), with membership cs (copied, NULL: keep the current
 * one) and data (copied).  The entries stay until raft_mem_storage_compact.
 */
int raft_mem_storage_create_snapshot(struct raft_mem_storage *ms, raft_index i,
				     const struct raft_conf_state *cs,
				     const uint8_t *data, size_t len);

/*
 * Discard the entries up to and including i (the application has a snapshot
 * that covers them).  i <= S is -ERR_COMPACTED, i > last_index is
 * -ERR_UNAVAILABLE, i beyond the latest snapshot's index is -ERR_INVALID (a
 * follower sent that snapshot could never catch up).  Afterwards
 * first_index() = i + 1 and term(i) is kept.
 */
int raft_mem_storage_compact(struct raft_mem_storage *ms, raft_index i);

/*
 * The smallest k (>= the compaction boundary S) for which the entries
 * k+1 .. i hold at most max_size in total raft_entry_size(): compacting up
 * to k keeps at most max_size of the log up to i in memory.  i beyond
 * last_index counts from last_index.
 */
raft_index raft_mem_storage_window(const struct raft_mem_storage *ms,
				   raft_index i, uint64_t max_size);

#endif
