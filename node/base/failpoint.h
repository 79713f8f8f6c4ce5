/*
 * failpoint.h - named points where a test build can crash or stall the
 * member, and planted bugs that prove the fault suite catches them
 * (tests/faults).  Compiled in only with ./configure --enable-failpoints
 * (CETCD_FAILPOINTS); otherwise FAILPOINT() is nothing and FAILPOINT_BUG()
 * is false, so release builds carry neither.
 *
 * Arming, read once from the environment at the first hit:
 *   CETCD_FAILPOINTS="name=action[,name=action...]"
 *     action: crash | sleep(MS), optionally followed by @N (only the N-th
 *     hit fires) or %P (each hit fires with probability P percent, from a
 *     generator seeded by CETCD_FAILPOINTS_SEED or the pid).
 *     crash is SIGKILL to the process itself: what kill -9 does at that
 *     exact point.
 *   CETCD_TEST_BUG="name[,name...]" turns planted bugs on.
 *
 * Points (the names the code uses): wal_before_append, wal_after_append
 * (written, not yet fsynced), wal_after_fsync, mvcc_before_commit,
 * mvcc_after_commit, snap_during_save (the snapshot file written, not yet
 * synced and renamed), mvcc_during_compaction.
 * Bugs: local-reads, ack-before-fsync, split-applied-commit,
 * watch-skip-resume (a watch whose start revision is in the past, as on a
 * resume, skips that revision).
 *
 * Invariants:
 *  1. A point that is not armed costs one branch on a static flag.
 *  2. Unknown names in the variables are reported once on stderr and
 *     ignored, so a typo cannot silently disarm a test unnoticed.
 */
#ifndef CETCD_BASE_FAILPOINT_H
#define CETCD_BASE_FAILPOINT_H

#include <stdbool.h>

#ifdef CETCD_FAILPOINTS
void failpoint_hit(const char *name);
bool failpoint_bug(const char *name);
#define FAILPOINT(name) failpoint_hit(name)
#define FAILPOINT_BUG(name) failpoint_bug(name)
#else
#define FAILPOINT(name) ((void)0)
#define FAILPOINT_BUG(name) false
#endif

#endif
