/*
 * fsutil.h - the file operations the agent's renders need.
 *
 * Invariants:
 *  1. fsutil_write_atomic() never leaves a partly written target: the new
 *     content goes to a temporary file in the same directory, is fsynced,
 *     renamed over the target, and the directory is fsynced, so after a
 *     crash the target holds either the old or the new content.
 *  2. A failed call removes its temporary file.
 */
#ifndef CETCD_AGENT_FSUTIL_H
#define CETCD_AGENT_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"

/*
 * Read the whole file at path into out (appended).  0, -ENOENT when it
 * does not exist, -EFBIG above max bytes, or -errno.
 */
int fsutil_read(const char *path, size_t max, struct buf *out);

/* mkdir -p with mode for the directories it creates.  0 or -errno. */
int fsutil_mkdir_p(const char *path, mode_t mode);

/*
 * Replace path's content atomically (invariant 1), creating missing parent
 * directories (0755).  An existing file keeps its mode and owner; a new
 * one gets mode.  When path is a symbolic link, the file it points to is
 * replaced and the link stays.  0 or -errno.
 */
int fsutil_write_atomic(const char *path, const void *data, size_t len,
			mode_t mode);

/*
 * root joined with the absolute path abs ("/x" + "/etc/hosts" gives
 * "/x/etc/hosts"; a NULL, empty or "/" root gives abs).  NULL on ENOMEM.
 */
char *fsutil_join_root(const char *root, const char *abs);

#endif
