/*
 * wal/walstore.h - the member's Raft storage on disk: the WAL (wal.h) and
 * the snapshot files (snapfile.h) for durability, and an in-memory copy of
 * the log since the last compaction (raft/storage.h's raft_mem_storage)
 * that serves every read, as etcd pairs its WAL with a MemoryStorage.
 *
 * Layout: <data-dir>/member/wal (or --wal-dir) and <data-dir>/member/snap.
 *
 * Invariants:
 *  1. Every write reaches the disk before the in-memory copy: what the
 *     storage returns to Raft is durable (entries, hard state, snapshot),
 *     except a hard state whose only change is the commit index (Raft's
 *     rule; wal_save).
 *  2. A snapshot is written as a file first, then as a marker in the WAL;
 *     a restart uses the newest snapshot file whose marker is in the WAL,
 *     so a crash between the two leaves an unused file, never a WAL that
 *     cannot be read.
 *  3. Errors of the WAL are sticky (wal.h); after one, every write fails
 *     and the caller stops the member.
 *  4. Reads never touch the disk; memory holds the entries from the last
 *     compaction on (walstore_compact bounds it).
 */
#ifndef CETCD_WAL_WALSTORE_H
#define CETCD_WAL_WALSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/storage.h"
#include "raft/types.h"
#include "wal/wal.h"

struct walstore;

struct walstore_options {
	const char *wal_dir;   /* member/wal */
	const char *snap_dir;  /* member/snap */
	uint64_t segment_size; /* 0: 64 MiB */
};

/* What opening found, for the daemon to log (msg on failure). */
struct walstore_report {
	char msg[1024];
	bool created;  /* a new WAL was made */
	bool repaired; /* a torn WAL tail was cut (wal_report) */
	char repaired_file[512];
	uint64_t repaired_offset;
	size_t n_broken_snaps; /* snapshot files renamed .broken */
	char broken_snap[512]; /* the last of them */
	raft_index snap_index; /* the snapshot restarted from (0: none) */
	raft_term snap_term;
};

/*
 * Open the member's storage: when wal_dir holds no WAL, create one with
 * metadata md; otherwise load the newest usable snapshot and read the WAL
 * from it (*md_out gets the stored metadata; NULL ok).  0, -ERR_CORRUPT,
 * -EBUSY, -errno, -ENOMEM; rep->msg says what to do.
 */
int walstore_open(const struct walstore_options *o,
		  const struct wal_metadata *md, struct walstore **out,
		  struct wal_metadata *md_out, struct walstore_report *rep);
void walstore_close(struct walstore *ws);

/* The read interface for raft; valid while ws lives. */
struct raft_storage walstore_storage(struct walstore *ws);

/*
 * Ready's entries (borrowed) and hard state (NULL: unchanged): durable in
 * one fdatasync, then in memory.  Entries overlapping the log replace it
 * from their first index.  0 or -errno (sticky), -ERR_INVALID, -ENOMEM.
 */
int walstore_save(struct walstore *ws, const struct raft_hard_state *hs,
		  const struct raft_entry *ents, size_t n_ents);

/*
 * A snapshot received from the leader (borrowed): file, WAL marker, then it
 * replaces the in-memory log.  -ERR_SNAP_OUT_OF_DATE when not newer.
 */
int walstore_apply_snapshot(struct walstore *ws,
			    const struct raft_snapshot *snap);

/*
 * The application's own snapshot at applied index i with membership cs
 * (NULL: unchanged) and data: file, then WAL marker.  The entries stay
 * until walstore_compact.
 */
int walstore_create_snapshot(struct walstore *ws, raft_index i,
			     const struct raft_conf_state *cs,
			     const uint8_t *data, size_t len);

/*
 * Drop the in-memory entries up to i (<= the latest snapshot's index; keep
 * some for slow followers as etcd keeps 5000), delete the WAL segments
 * wholly older than the latest snapshot and all but the newest
 * keep_snaps snapshot files.  Removal failures are returned, not sticky.
 */
int walstore_compact(struct walstore *ws, raft_index i, size_t keep_snaps);

/*
 * Where to compact so that at most max_size bytes of the log up to i stay
 * in memory (raft_mem_storage_window).
 */
raft_index walstore_window(const struct walstore *ws, raft_index i,
			   uint64_t max_size);

/*
 * etcd's layout: *wal_out = wal_dir when given (--wal-dir, non-empty), else
 * <data_dir>/member/wal; *snap_out = <data_dir>/member/snap (the LMDB file
 * goes beside the snapshots).  Both new strings (mem_free).  0 or -ENOMEM.
 */
int walstore_dirs(const char *data_dir, const char *wal_dir, char **wal_out,
		  char **snap_out);

/* The WAL's sticky error (0 when healthy). */
int walstore_error(const struct walstore *ws);
/* The WAL underneath (for sync counts and stats; do not write to it). */
struct wal *walstore_wal(struct walstore *ws);

#endif
