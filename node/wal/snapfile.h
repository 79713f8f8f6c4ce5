/*
 * wal/snapfile.h - Raft snapshot files in <data-dir>/member/snap, named as
 * etcd names them: %016x-%016x.snap (term, index).
 *
 * A file is a 24-byte header and a raftpb Snapshot message (metadata with
 * index, term and configuration, then the application's data):
 *
 *     0  8 bytes  magic "cetcdsn1"
 *     8  u64 le   payload length
 *    16  u32 le   CRC-32C of the payload
 *    20  u32 le   CRC-32C of bytes 0..19
 *    24  payload
 *
 * Invariants:
 *  1. A file with a final name is complete and durable: it is written as
 *     <name>.tmp, fsynced, renamed, and the directory fsynced.
 *  2. Loading uses the newest file that verifies; one that does not is
 *     renamed <name>.broken (never deleted) and the next older one tried.
 *  3. The file's size must be exactly header + length: nothing is
 *     allocated from a length that the file cannot hold.
 */
#ifndef CETCD_WAL_SNAPFILE_H
#define CETCD_WAL_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "raft/types.h"

#define SNAPFILE_MAX_BROKEN 8

struct snapfile_report {
	char msg[1024];	 /* on failure: what and where */
	size_t n_broken; /* files renamed .broken during this load */
	char broken[SNAPFILE_MAX_BROKEN][512];
};

/*
 * Write snap (borrowed) to dir (created with its parents when missing).
 * 0 or -errno / -ENOMEM.
 */
int snapfile_save(const char *dir, const struct raft_snapshot *snap);

/*
 * Load the newest valid snapshot in dir into *out (owned; release with
 * raft_snapshot_done).  Corrupt files are renamed .broken and listed in
 * rep.  0, -ENOENT (none valid), -errno, -ENOMEM.
 */
int snapfile_load_newest(const char *dir, struct raft_snapshot *out,
			 struct snapfile_report *rep);

/* The same among the snapshots whose index is at most max_index. */
int snapfile_load_newest_upto(const char *dir, raft_index max_index,
			      struct raft_snapshot *out,
			      struct snapfile_report *rep);

/* Load one file.  0, -ERR_CORRUPT (rep->msg says why), -errno, -ENOMEM. */
int snapfile_load(const char *path, struct raft_snapshot *out,
		  struct snapfile_report *rep);

/* Keep the newest keep snapshot files, delete the older ones (etcd's
 * --max-snapshots).  0 or -errno. */
int snapfile_purge(const char *dir, size_t keep);

#endif
