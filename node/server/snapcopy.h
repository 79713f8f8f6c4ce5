/*
 * snapcopy.h - a consistent copy of the member's store, made on a thread
 * of its own so that the loop never waits for it, and handed back to the
 * loop as an open, unnamed file (Maintenance.Snapshot streams it to a
 * client; the leader sends it to a follower that fell behind its log).
 *
 * Invariants:
 *  1. Loop thread only, except the copy itself: the thread calls only
 *     mvcc_copy_fd() and plain system calls (no mem_* allocation, no
 *     logging), so fail-injection counters and the log stay single-threaded.
 *  2. The copy thread reads the store through a transaction of its own:
 *     the owner keeps applying, but must call snapcopy_wait_all() before
 *     mvcc_close(), mvcc_defrag() or replacing the store file.
 *  3. fn runs exactly once per copy, from the loop, unless the copy was
 *     cancelled or freed first; the file is unnamed (O_TMPFILE, or
 *     unlinked at once), so nothing is left behind by a crash.
 */
#ifndef CETCD_SERVER_SNAPCOPY_H
#define CETCD_SERVER_SNAPCOPY_H

#include <stdint.h>

#include "base/list.h"

struct event_base;
struct mvcc_store;
struct snapcopy;

/*
 * The result: err 0, fd (read with pread from offset 0; the callee owns
 * it and closes it) and the file's size; or err < 0 and fd -1.
 */
typedef void (*snapcopy_fn)(void *arg, int err, int fd, uint64_t size);

/*
 * Start copying s into a new unnamed file in dir; the copy is linked into
 * set (a list the owner keeps for snapcopy_wait_all/free_all).  The
 * caller commits the store first if it wants its applied writes in the
 * copy.  0, -errno or -ENOMEM (fn will not run then).
 */
int snapcopy_start(struct event_base *base, struct list_node *set,
		   struct mvcc_store *s, const char *dir, snapcopy_fn fn,
		   void *arg, struct snapcopy **out);
/* fn will not run; the copy finishes and is discarded from the loop. */
void snapcopy_cancel(struct snapcopy *c);
/* Block until no copy in set reads the store (invariant 2). */
void snapcopy_wait_all(struct list_node *set);
/* Wait, then free every copy in set without calling fn. */
void snapcopy_free_all(struct list_node *set);

#endif
