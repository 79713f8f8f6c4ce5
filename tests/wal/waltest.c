/*
 * tests/wal/waltest.c - see waltest.h.
 */
#include "waltest.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "wal/walio.h"

struct waltest_io waltest_io;

static int inject(enum waltest_call kind)
{
	bool hit;

	waltest_io.calls[kind]++;
	if (waltest_io.fail_kind < 0) {
		hit = waltest_io.fail_at >= 0 &&
		      (long)waltest_io.total == waltest_io.fail_at;
	} else {
		hit = (int)kind == waltest_io.fail_kind &&
		      waltest_io.fail_at >= 0 &&
		      (long)waltest_io.n_kind == waltest_io.fail_at;
		if ((int)kind == waltest_io.fail_kind) {
			waltest_io.n_kind++;
		}
	}
	waltest_io.total++;
	if (hit) {
		waltest_io.failed = true;
		return -EIO;
	}
	return 0;
}

static int t_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	int r = inject(WALTEST_WRITE);
	return r < 0 ? r : walio_default_ops.pwrite_all(fd, p, n, off);
}

/*
 * Syncs are counted but not made unless CETCD_TEST_REAL_SYNC is set: a
 * unit test cannot cut the power, and on a busy shared disk the real ones
 * made the suite twenty times slower.
 */
static bool real_sync(void)
{
	static int on = -1;

	if (on < 0) {
		on = getenv("CETCD_TEST_REAL_SYNC") != NULL;
	}
	return on == 1;
}

static int t_fdatasync(int fd)
{
	int r = inject(WALTEST_FDATASYNC);
	if (r < 0 || !real_sync()) {
		return r;
	}
	return walio_default_ops.fdatasync(fd);
}

static int t_fsync(int fd)
{
	int r = inject(WALTEST_FSYNC);
	if (r < 0 || !real_sync()) {
		return r;
	}
	return walio_default_ops.fsync(fd);
}

static int t_rename(const char *from, const char *to)
{
	int r = inject(WALTEST_RENAME);
	return r < 0 ? r : walio_default_ops.rename(from, to);
}

static int t_preallocate(int fd, off_t len)
{
	int r = inject(WALTEST_PREALLOCATE);
	return r < 0 ? r : walio_default_ops.preallocate(fd, len);
}

static int t_ftruncate(int fd, off_t len)
{
	int r = inject(WALTEST_FTRUNCATE);
	return r < 0 ? r : walio_default_ops.ftruncate(fd, len);
}

static const struct walio_ops test_ops = {
    .pwrite_all = t_pwrite_all,
    .fdatasync = t_fdatasync,
    .fsync = t_fsync,
    .rename = t_rename,
    .preallocate = t_preallocate,
    .ftruncate = t_ftruncate,
};

void waltest_io_install(void)
{
	memset(&waltest_io, 0, sizeof(waltest_io));
	waltest_io.fail_at = -1;
	waltest_io.fail_kind = -1;
	walio_set_ops(&test_ops);
}

void waltest_io_fail(int kind, long n)
{
	waltest_io_install();
	waltest_io.fail_kind = kind;
	waltest_io.fail_at = n;
}

void waltest_io_uninstall(void)
{
	waltest_io_install();
}

void waltest_setup(void)
{
	waltest_io_install();
}

void waltest_teardown(void)
{
	walio_set_ops(NULL);
}

static uint8_t byte_at(raft_index index, size_t i)
{
	return (uint8_t)(index * 31 + i * 7 + 1);
}

void waltest_entry(struct raft_entry *e, raft_index index, raft_term term,
		   size_t len)
{
	e->index = index;
	e->term = term;
	e->type = (enum raft_entry_type)(index % 3);
	e->len = len;
	e->data = NULL;
	if (len > 0) {
		e->data = mem_alloc(len);
		ck_assert_ptr_nonnull(e->data);
		for (size_t i = 0; i < len; i++) {
			e->data[i] = byte_at(index, i);
		}
	}
}

bool waltest_entry_ok(const struct raft_entry *e, raft_index index,
		      raft_term term, size_t len)
{
	if (e->index != index || e->term != term || e->len != len ||
	    e->type != (enum raft_entry_type)(index % 3)) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (e->data[i] != byte_at(index, i)) {
			return false;
		}
	}
	return len > 0 || e->data == NULL;
}

uint8_t *waltest_read_file(const char *path, size_t *size)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	p = mem_alloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*size = (size_t)st.st_size;
	return p;
}

void waltest_write_file(const char *path, const void *p, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, size), (ssize_t)size);
	close(fd);
}

void waltest_copy_dir(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	mkdir(dst, 0700);
	while ((de = readdir(d)) != NULL) {
		char a[1024], b[1024];
		uint8_t *p;
		size_t n;

		if (de->d_type != DT_REG) {
			continue;
		}
		snprintf(a, sizeof(a), "%s/%s", src, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", dst, de->d_name);
		p = waltest_read_file(a, &n);
		waltest_write_file(b, p, n);
		mem_free(p);
	}
	closedir(d);
}
