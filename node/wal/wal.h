/*
 * wal/wal.h - the member's write-ahead log: segment files of framed,
 * CRC-chained records (walrec.h) in one directory, etcd's
 * <data-dir>/member/wal (or --wal-dir).
 *
 * Segments are named %016x-%016x.wal: sequence number, then the index of the
 * first entry the segment may hold (etcd's naming).  Each is preallocated to
 * segment_size and starts with a CRC record, the metadata and the current
 * hard state; once a batch carries it past segment_size it is truncated to
 * its records, synced, and a new segment is cut.
 *
 * Invariants:
 *  1. A batch that wal_save() reports durable survives a crash at any
 *     instant: it is written with one pwrite and made durable with one
 *     fdatasync; a new file is synced before it is renamed into place and
 *     the directory is synced after every create, rename and removal.
 *  2. Errors are sticky: after a failed write, sync, truncation or rename
 *     every later append returns the first error; the caller stops the
 *     member.  Nothing is retried.
 *  3. Only a torn tail of the last segment is repaired on open (the original
 *     kept as <name>.broken); damage anywhere else refuses to open.
 *  4. One process at a time: wal_create/wal_open take an exclusive flock on
 *     <dir>/lock, held until wal_close.
 *  5. Not thread-safe; one owner (the loop thread).
 */
#ifndef CETCD_WAL_WAL_H
#define CETCD_WAL_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/types.h"
#include "wal/walrec.h"

#define WAL_DEFAULT_SEGMENT_SIZE (64ULL * 1024 * 1024)

struct wal;

struct wal_options {
	const char *dir;       /* the WAL directory (member/wal) */
	uint64_t segment_size; /* 0: WAL_DEFAULT_SEGMENT_SIZE */
};

/*
 * What wal_create/wal_open tell the caller beyond the return code.  On
 * failure msg says what went wrong where (file and offset) and what the
 * operator can do; it is meant to be printed as is.  On success repaired
 * tells whether a torn tail was cut (file, offset: where the valid records
 * end; the original is file + ".broken").
 */
struct wal_report {
	char msg[1024];
	bool repaired;
	char repaired_file[512];
	uint64_t repaired_offset;
	bool marker_missing; /* -ERR_CORRUPT because from is not in the log */
};

/* What wal_open read back (owned; release with wal_read_done). */
struct wal_read {
	struct wal_metadata meta;
	struct raft_hard_state hs;
	struct raft_entry *ents; /* the entries after the snapshot, in order */
	size_t n_ents;
};

void wal_read_done(struct wal_read *rd);

/* true when dir holds at least one segment. */
bool wal_exists(const char *dir);

/*
 * Create a new WAL in dir (created with its parents when missing; it must
 * hold no segment) with its first segment 0-0, synced.  0, -EEXIST (a WAL
 * is there already), -EBUSY (locked), -errno.
 */
int wal_create(const struct wal_options *o, const struct wal_metadata *md,
	       struct wal **out, struct wal_report *rep);

/*
 * Open the WAL in dir for appending and read it back from the snapshot
 * marker from (index 0, term 0: from the beginning) forward, verifying
 * every record.  The marker must be in the log unless its index is 0.
 * Entries at or below from->index are skipped; a later entry whose index is
 * not above the previous one replaces the entries from its index on (Raft
 * overwrote them).  0, -ERR_CORRUPT (rep->msg says where), -ENOENT (no
 * WAL or no segment for the snapshot), -EBUSY (locked), -errno, -ENOMEM.
 */
int wal_open(const struct wal_options *o, const struct wal_snap_marker *from,
	     struct wal **out, struct wal_read *rd, struct wal_report *rep);

/* Close (does not sync: everything acknowledged already is).  NULL ok. */
void wal_close(struct wal *w);

/*
 * Append entries (borrowed) and, when hs is not NULL and differs from the
 * last one written, the hard state; one write, then one fdatasync when
 * Raft's rule asks for it (any entry, or a new term or vote: a commit index
 * alone need not be durable).  Cuts a new segment when the current one is
 * full.  0 or the sticky error.
 */
int wal_save(struct wal *w, const struct raft_hard_state *hs,
	     const struct raft_entry *ents, size_t n_ents);

/*
 * Append a marker for the application's own snapshot at m (the log stays
 * as it is) and sync.  0 or the sticky error.
 */
int wal_save_snapshot(struct wal *w, const struct wal_snap_marker *m);

/*
 * Append a marker for a snapshot received from the leader, which replaces
 * the whole log: read-back drops the entries above m->index written before
 * it (a follower's stale, conflicting tail must not come back after a
 * restart).  Sync.  0 or the sticky error.
 */
int wal_reset_to_snapshot(struct wal *w, const struct wal_snap_marker *m);

/* fdatasync the current segment.  0 or the sticky error. */
int wal_sync(struct wal *w);

/*
 * Delete the segments that hold only entries below snap_index (which must
 * be the index of a snapshot that is already durable, file and marker),
 * keeping the one a later wal_open(from = that snapshot) starts at.
 * Removal failures are returned but are not sticky.
 */
int wal_release(struct wal *w, raft_index snap_index);

/* The sticky error (0 when healthy). */
int wal_error(const struct wal *w);
/* The file the sticky error came from (a segment, or the .tmp of one a
 * cut failed to create), borrowed until wal_close; NULL when healthy. */
const char *wal_error_file(const struct wal *w);
/* The index of the last entry written (0 when none). */
raft_index wal_last_index(const struct wal *w);
/* How many segment files the WAL holds. */
size_t wal_segment_count(const struct wal *w);

#endif
