/*
 * test_diskspace.c - node/server/diskspace: which write errors mean a full
 * disk, and the operator's message.  A real full filesystem (a tiny tmpfs
 * in a private mount namespace, so nothing outlives the test) needs root;
 * without it that test says so and passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "server/diskspace.h"
#include "testlib.h"

START_TEST(test_enospc_and_edquot_always_mean_a_full_disk)
{
	ck_assert(diskspace_is_full(-ENOSPC, "/nonexistent/x"));
	ck_assert(diskspace_is_full(-EDQUOT, testlib_tmpdir()));
	ck_assert(diskspace_is_full(-ENOSPC, NULL));
}
END_TEST

START_TEST(test_other_errors_on_a_disk_with_room_are_not_a_full_disk)
{
	char f[600];

	snprintf(f, sizeof(f), "%s/gone/data.mdb", testlib_tmpdir());
	/* The test's own temporary directory has more than a MiB free. */
	ck_assert(!diskspace_is_full(-EIO, f));
	ck_assert(!diskspace_is_full(-EIO, testlib_tmpdir()));
	ck_assert(!diskspace_is_full(-EFBIG, f));
	ck_assert(!diskspace_is_full(-EACCES, f));
	ck_assert(!diskspace_is_full(-ERR_NO_SPACE, f)); /* the quota alarm */
	ck_assert(!diskspace_is_full(-EIO, NULL));
}
END_TEST

START_TEST(test_message_names_what_file_error_space_data_dir_and_fix)
{
	char f[600], want[800];
	char *msg;

	/* A file that no longer exists (a removed .tmp): its directory. */
	snprintf(f, sizeof(f), "%s/member/wal/1-2.wal.tmp", testlib_tmpdir());
	msg = diskspace_message(-ENOSPC, "writing the WAL", f, "/data/x");
	ck_assert_ptr_nonnull(msg);
	snprintf(want, sizeof(want),
		 "the disk is full: writing the WAL failed on %s: %s; the "
		 "filesystem at /",
		 f, err_str(-ENOSPC));
	ck_assert_msg(strncmp(msg, want, strlen(want)) == 0, "%s", msg);
	ck_assert_msg(strstr(msg, " free of ") != NULL, "%s", msg);
	ck_assert_msg(strstr(msg, " (data dir /data/x); free space on /") !=
			  NULL,
		      "%s", msg);
	ck_assert_msg(strstr(msg, " or move the data dir, then restart the "
				  "member") != NULL,
		      "%s", msg);
	mem_free(msg);
	msg = diskspace_message(-EDQUOT, "committing the store", f, NULL);
	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_null(strstr(msg, "(data dir"));
	ck_assert_ptr_nonnull(strstr(msg, err_str(-EDQUOT)));
	mem_free(msg);
}
END_TEST

/*
 * LMDB reports a short write on a full filesystem as EIO: on a tmpfs
 * filled to the last byte, EIO counts as full, and the message names the
 * tmpfs's mount point and its size.
 */
START_TEST(test_eio_on_a_really_full_filesystem_is_a_full_disk)
{
	char mnt[600], f[700], want[2048];
	static char block[4096];
	char *msg;
	int fd;

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fprintf(stderr, "skipped: a tmpfs of our own needs root\n");
		return;
	}
	snprintf(mnt, sizeof(mnt), "%s/disk", testlib_tmpdir());
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	ck_assert_int_eq(mount("tmpfs", mnt, "tmpfs", 0, "size=4m"), 0);
	snprintf(f, sizeof(f), "%s/member/snap/data.mdb", mnt);
	ck_assert(!diskspace_is_full(-EIO, f));

	snprintf(f, sizeof(f), "%s/filler", mnt);
	fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block)) {
	}
	ck_assert_int_eq(errno, ENOSPC);
	close(fd);
	ck_assert(diskspace_is_full(-EIO, f));
	msg = diskspace_message(-EIO, "committing the store", f, mnt);
	ck_assert_ptr_nonnull(msg);
	snprintf(want, sizeof(want),
		 "the filesystem at %s has 0 B free of 4.0 MiB (data dir "
		 "%s); free space on %s or move the data dir, then restart "
		 "the member",
		 mnt, mnt, mnt);
	ck_assert_msg(strstr(msg, want) != NULL, "%s", msg);
	mem_free(msg);
	ck_assert_int_eq(umount2(mnt, MNT_DETACH), 0);
}
END_TEST

static Suite *diskspace_suite(void)
{
	Suite *s = suite_create("diskspace");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_enospc_and_edquot_always_mean_a_full_disk);
	tcase_add_test(
	    tc, test_other_errors_on_a_disk_with_room_are_not_a_full_disk);
	tcase_add_test(
	    tc, test_message_names_what_file_error_space_data_dir_and_fix);
	tcase_add_test(tc, test_eio_on_a_really_full_filesystem_is_a_full_disk);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(diskspace_suite)
