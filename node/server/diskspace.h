/*
 * diskspace.h - telling a full disk from other write errors, and the one
 * message an operator needs when the member's data dir fills up.
 *
 * A full filesystem is not the NOSPACE alarm: the alarm is the store
 * reaching --quota-backend-bytes (mvcc's -ERR_NO_SPACE), a state the
 * cluster keeps serving reads in.  A full disk means a write the member
 * needs for durability (a WAL append or fsync, a segment cut, an LMDB
 * commit) failed; the member stops and is restarted once space is freed.
 *
 * Invariants:
 *  1. -ENOSPC and -EDQUOT always mean full.  -EIO means full only while
 *     statvfs shows less than DISKSPACE_LOW_BYTES available (LMDB turns a
 *     short write into EIO; a real I/O error on a disk with room must not
 *     be blamed on space).  Nothing else does.
 *  2. These functions only look (stat, statvfs); they never write.
 */
#ifndef CETCD_SERVER_DISKSPACE_H
#define CETCD_SERVER_DISKSPACE_H

#include <stdbool.h>
#include <stdint.h>

/* Below this much available space an -EIO is taken for a short write on a
 * full filesystem (a few LMDB pages, a WAL batch). */
#define DISKSPACE_LOW_BYTES (1024 * 1024)

/*
 * True when err (negative errno) returned by a write to file (which may
 * no longer exist: its directory is looked at then) means that the file's
 * filesystem is out of space or quota (invariant 1).
 */
bool diskspace_is_full(int err, const char *file);

/*
 * The operator's message for a full disk (mem_free; NULL on -ENOMEM):
 * what failed on which file with which error, the filesystem's mount
 * point, its free and total space, the data dir, and the fix: "free space
 * on <mount point> or move the data dir, then restart the member".
 * what is a short phrase ("writing the WAL"); data_dir may be NULL.
 */
char *diskspace_message(int err, const char *what, const char *file,
			const char *data_dir);

#endif
