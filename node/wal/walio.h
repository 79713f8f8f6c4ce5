/*
 * wal/walio.h - the few system calls that make node/wal durable, behind a
 * replaceable table so that tests can count them and fail the N-th one.
 *
 * Invariants:
 *  1. Every write, sync, rename, preallocation and truncation node/wal does
 *     goes through walio_*(); nothing in node/wal calls them directly.
 *  2. Each function returns 0 (or the byte count for walio_pwrite) or
 *     -errno; a short write is reported as -EIO, never as a success.
 *  3. The table is process-global and meant for single-threaded tests.
 */
#ifndef CETCD_WAL_WALIO_H
#define CETCD_WAL_WALIO_H

#include <stddef.h>
#include <sys/types.h>

struct walio_ops {
	/* Write all n bytes at off; 0 or -errno. */
	int (*pwrite_all)(int fd, const void *p, size_t n, off_t off);
	int (*fdatasync)(int fd);
	int (*fsync)(int fd);
	int (*rename)(const char *from, const char *to);
	/* Reserve len bytes from offset 0 (fallocate; a filesystem without it
	 * falls back to doing nothing, which only costs speed). */
	int (*preallocate)(int fd, off_t len);
	int (*ftruncate)(int fd, off_t len);
};

/* The real system calls. */
extern const struct walio_ops walio_default_ops;

/* Tests: route every call through ops (NULL restores the defaults).  The
 * table is borrowed until it is replaced. */
void walio_set_ops(const struct walio_ops *ops);

int walio_pwrite_all(int fd, const void *p, size_t n, off_t off);
int walio_fdatasync(int fd);
int walio_fsync(int fd);
int walio_rename(const char *from, const char *to);
int walio_preallocate(int fd, off_t len);
int walio_ftruncate(int fd, off_t len);

/* fsync a directory by path (after creating, renaming or removing one of its
 * files, so that the name itself is durable). */
int walio_fsync_dir(const char *dir);

/*
 * Create dir and its missing parents (mode 0700); each directory created is
 * made durable by an fsync of its parent.  0 or -errno / -ENOMEM.
 */
int walio_mkdir_p(const char *dir);

#endif
