/*
 * wal/walio.c - the system calls behind node/wal's durability, routed
 * through a table tests can replace (walio.h).
 *
 * Invariants:
 *  1. The default table retries EINTR and turns short writes into -EIO.
 *  2. walio_fsync_dir opens, fsyncs and closes; its fsync goes through the
 *     table, so tests see and can fail it.
 */
#include "wal/walio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"

static int real_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = pwrite(fd, c, n, off);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (w == 0) {
			return -EIO;
		}
		c += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static int real_fdatasync(int fd)
{
	return fdatasync(fd) < 0 ? -errno : 0;
}

static int real_fsync(int fd)
{
	return fsync(fd) < 0 ? -errno : 0;
}

static int real_rename(const char *from, const char *to)
{
	return rename(from, to) < 0 ? -errno : 0;
}

static int real_preallocate(int fd, off_t len)
{
	int r;

	do {
		r = fallocate(fd, 0, 0, len);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		/* Only speed is lost where the filesystem cannot reserve. */
		if (errno == EOPNOTSUPP || errno == ENOSYS) {
			return 0;
		}
		return -errno;
	}
	return 0;
}

static int real_ftruncate(int fd, off_t len)
{
	return ftruncate(fd, len) < 0 ? -errno : 0;
}

const struct walio_ops walio_default_ops = {
    .pwrite_all = real_pwrite_all,
    .fdatasync = real_fdatasync,
    .fsync = real_fsync,
    .rename = real_rename,
    .preallocate = real_preallocate,
    .ftruncate = real_ftruncate,
};

static const struct walio_ops *ops = &walio_default_ops;

void walio_set_ops(const struct walio_ops *o)
{
	ops = o != NULL ? o : &walio_default_ops;
}

int walio_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	return ops->pwrite_all(fd, p, n, off);
}

int walio_fdatasync(int fd)
{
	return ops->fdatasync(fd);
}

int walio_fsync(int fd)
{
	return ops->fsync(fd);
}

int walio_rename(const char *from, const char *to)
{
	return ops->rename(from, to);
}

int walio_preallocate(int fd, off_t len)
{
	return ops->preallocate(fd, len);
}

int walio_ftruncate(int fd, off_t len)
{
	return ops->ftruncate(fd, len);
}

int walio_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0) {
		return -errno;
	}
	r = walio_fsync(fd);
	close(fd);
	return r;
}

/* mkdir p; when it was created, fsync its parent directory. */
static int mkdir_one(char *p)
{
	char *slash;
	int r;

	if (mkdir(p, 0700) < 0) {
		return errno == EEXIST ? 0 : -errno;
	}
	slash = strrchr(p, '/');
	if (slash == NULL) {
		return walio_fsync_dir(".");
	}
	if (slash == p) {
		return walio_fsync_dir("/");
	}
	*slash = '\0';
	r = walio_fsync_dir(p);
	*slash = '/';
	return r;
}

int walio_mkdir_p(const char *dir)
{
	char *p = mem_strdup(dir);
	int r = 0;

	if (p == NULL) {
		return -ENOMEM;
	}
	for (char *s = p + 1; *s != '\0' && r == 0; s++) {
		if (*s != '/') {
			continue;
		}
		*s = '\0';
		r = mkdir_one(p);
		*s = '/';
	}
	if (r == 0) {
		r = mkdir_one(p);
	}
	mem_free(p);
	return r;
}
