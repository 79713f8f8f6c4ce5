/*
 * diskspace.c - a full disk told apart from other write errors, and the
 * operator's message for it (diskspace.h).
 *
 * Invariants:
 *  1. A path is examined as given and, when it cannot be (a temporary
 *     file already removed), through its nearest existing ancestor.
 *  2. The mount point is found by walking up while the device stays the
 *     same, so it needs no /proc and reads no mount table.
 */
#include "server/diskspace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"

/* The nearest existing ancestor of path (path itself when it exists),
 * resolved (mem_free); NULL when nothing can be resolved. */
static char *existing_ancestor(const char *path)
{
	char *p = mem_strdup(path), *slash, *real;

	if (p == NULL) {
		return NULL;
	}
	for (;;) {
		real = realpath(p, NULL);
		if (real != NULL) {
			char *out = mem_strdup(real);
			free(real); /* realpath's, from malloc */
			mem_free(p);
			return out;
		}
		slash = strrchr(p, '/');
		if (slash == NULL) {
			mem_free(p);
			return mem_strdup(".");
		}
		if (slash == p) {
			mem_free(p);
			return mem_strdup("/");
		}
		*slash = '\0';
	}
}

/* Available bytes and total size of the filesystem holding path. */
static int space_of(const char *path, uint64_t *avail, uint64_t *total)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0) {
		return -errno;
	}
	/* root may use the blocks reserved for it; others may not */
	*avail =
	    (uint64_t)(geteuid() == 0 ? sv.f_bfree : sv.f_bavail) * sv.f_frsize;
	*total = (uint64_t)sv.f_blocks * sv.f_frsize;
	return 0;
}

bool diskspace_is_full(int err, const char *file)
{
	_cleanup_free_ char *at = NULL;
	uint64_t avail, total;

	if (err == -ENOSPC || err == -EDQUOT) {
		return true;
	}
	if (err != -EIO || file == NULL) {
		return false;
	}
	at = existing_ancestor(file);
	return at != NULL && space_of(at, &avail, &total) >= 0 &&
	       avail < DISKSPACE_LOW_BYTES;
}

/* Walk up from the resolved directory dir while the device stays the
 * same: the last directory on it is the mount point (mem_free). */
static char *mount_point(const char *dir)
{
	char *cur = mem_strdup(dir);
	struct stat st, up;

	if (cur == NULL || stat(cur, &st) < 0) {
		return cur;
	}
	for (;;) {
		char *slash = strrchr(cur, '/');
		_cleanup_free_ char *parent = NULL;

		if (slash == NULL || strcmp(cur, "/") == 0) {
			return cur;
		}
		parent = slash == cur ? mem_strdup("/")
				      : mem_strndup(cur, (size_t)(slash - cur));
		if (parent == NULL || stat(parent, &up) < 0 ||
		    up.st_dev != st.st_dev) {
			return cur; /* the parent is on another filesystem */
		}
		mem_free(cur);
		cur = TAKE_PTR(parent);
	}
}

/* "0 B", "512 KiB", "1.5 GiB" */
static void human(uint64_t n, char *out, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0) {
		snprintf(out, len, "%llu B", (unsigned long long)n);
	} else {
		snprintf(out, len, "%.1f %s", v, units[u]);
	}
}

char *diskspace_message(int err, const char *what, const char *file,
			const char *data_dir)
{
	_cleanup_free_ char *at = existing_ancestor(file);
	_cleanup_free_ char *mnt = NULL;
	struct buf b = BUF_INIT;
	uint64_t avail = 0, total = 0;
	char a[32], t[32];
	int r;

	if (at == NULL) {
		return NULL;
	}
	mnt = mount_point(at);
	if (mnt == NULL) {
		return NULL;
	}
	r = buf_printf(&b, "the disk is full: %s failed on %s: %s; ", what,
		       file, err_str(err));
	if (r >= 0 && space_of(at, &avail, &total) >= 0) {
		human(avail, a, sizeof(a));
		human(total, t, sizeof(t));
		r = buf_printf(&b, "the filesystem at %s has %s free of %s",
			       mnt, a, t);
	} else if (r >= 0) {
		r = buf_printf(&b, "the filesystem at %s is full", mnt);
	}
	if (r >= 0 && data_dir != NULL) {
		r = buf_printf(&b, " (data dir %s)", data_dir);
	}
	if (r >= 0) {
		r = buf_printf(&b,
			       "; free space on %s or move the data dir, then "
			       "restart the member",
			       mnt);
	}
	if (r < 0) {
		buf_done(&b);
		return NULL;
	}
	return (char *)buf_steal(&b, NULL); /* NUL-terminated (buf.h) */
}
