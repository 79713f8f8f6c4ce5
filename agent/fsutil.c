/*
 * fsutil.c - atomic writes and small file helpers (fsutil.h).
 */
#include "agent/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"

int fsutil_read(const char *path, size_t max, struct buf *out)
{
	size_t start = out->len;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	for (;;) {
		ssize_t n;

		if (out->len - start > max) {
			r = -EFBIG;
			break;
		}
		r = buf_reserve(out, 16384);
		if (r < 0) {
			break;
		}
		n = read(fd, out->data + out->len, 16384);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0) {
			break;
		}
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
	close(fd);
	if (r < 0) {
		out->len = start;
		if (out->data) {
			out->data[start] = '\0';
		}
	}
	return r;
}

int fsutil_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path), i;
	struct stat st;

	if (n == 0 || n >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0') {
			continue;
		}
		tmp[i] = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST) {
			return -errno;
		}
		if (stat(tmp, &st) < 0) {
			return -errno;
		}
		if (!S_ISDIR(st.st_mode)) {
			return -ENOTDIR;
		}
		if (i < n) {
			tmp[i] = '/';
		}
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd, r = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (fsync(fd) < 0) {
		r = -errno;
	}
	close(fd);
	return r;
}

static int write_atomic(const char *path, const void *data, size_t len,
			mode_t mode);

int fsutil_write_atomic(const char *path, const void *data, size_t len,
			mode_t mode)
{
	char real[PATH_MAX];
	struct stat st;

	/*
	 * Some systems link /etc/hosts elsewhere: replace the file the link
	 * points to, not the link.
	 */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (!realpath(path, real)) {
			return -errno;
		}
		return write_atomic(real, data, len, mode);
	}
	return write_atomic(path, data, len, mode);
}

static int write_atomic(const char *path, const void *data, size_t len,
			mode_t mode)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const unsigned char *p = data;
	struct stat st;
	bool have_old;
	int fd, r;

	if (!slash || (size_t)(slash - path) >= sizeof(dir) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.cetcd-tmp.XXXXXX", path) >=
		sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	if (slash == path) {
		strcpy(dir, "/");
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	r = fsutil_mkdir_p(dir, 0755);
	if (r < 0) {
		return r;
	}
	have_old = stat(path, &st) == 0;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			r = -errno;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, have_old ? (st.st_mode & 07777) : mode) < 0) {
		r = -errno;
		goto fail;
	}
	/* Keep an existing file's owner (root may render for another). */
	if (have_old && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM) {
		r = -errno;
		goto fail;
	}
	if (fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	return fsync_dir(dir);
fail:
	if (fd >= 0) {
		close(fd);
	}
	unlink(tmp);
	return r;
}

char *fsutil_join_root(const char *root, const char *abs)
{
	size_t n;
	char *out;

	if (!root || !*root || strcmp(root, "/") == 0) {
		return mem_strdup(abs);
	}
	n = strlen(root);
	while (n > 1 && root[n - 1] == '/') {
		n--;
	}
	out = mem_alloc(n + strlen(abs) + 2);
	if (!out) {
		return NULL;
	}
	memcpy(out, root, n);
	strcpy(out + n, abs[0] == '/' ? abs : "/");
	if (abs[0] != '/') {
		strcat(out, abs);
	}
	return out;
}
