/*
 * tests/wal/test_snapfile.c - snapshot files: round trip, newest valid
 * wins, corrupt files become .broken, bit flips, faults on each call.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "testlib.h"
#include "wal/snapfile.h"
#include "waltest.h"

static raft_id voters[] = {1, 2, 3};
static raft_id learners[] = {4};
static raft_id outgoing[] = {1, 2, 5};
static raft_id next[] = {5};
static uint8_t data[] = "the application's state";

static struct raft_snapshot make_snap(raft_index index, raft_term term)
{
	struct raft_snapshot s;

	memset(&s, 0, sizeof(s));
	s.meta.index = index;
	s.meta.term = term;
	s.meta.conf.voters = voters;
	s.meta.conf.n_voters = 3;
	s.meta.conf.learners = learners;
	s.meta.conf.n_learners = 1;
	s.meta.conf.voters_outgoing = outgoing;
	s.meta.conf.n_voters_outgoing = 3;
	s.meta.conf.learners_next = next;
	s.meta.conf.n_learners_next = 1;
	s.meta.conf.auto_leave = true;
	s.data = data;
	s.len = sizeof(data);
	return s;
}

static void snap_path(char *out, size_t size, const char *dir, raft_term t,
		      raft_index i)
{
	int n = snprintf(out, size, "%s/%016llx-%016llx.snap", dir,
			 (unsigned long long)t, (unsigned long long)i);
	ck_assert(n > 0 && (size_t)n < size);
}

START_TEST(test_snapfile_round_trips_metadata_configuration_and_data)
{
	char dir[1024];
	struct raft_snapshot s = make_snap(42, 3), got;
	struct snapfile_report rep;

	snprintf(dir, sizeof(dir), "%s/member/snap", testlib_tmpdir());
	ck_assert_int_eq(snapfile_save(dir, &s), 0);
	ck_assert_int_eq(snapfile_load_newest(dir, &got, &rep), 0);
	ck_assert_uint_eq(got.meta.index, 42);
	ck_assert_uint_eq(got.meta.term, 3);
	ck_assert_uint_eq(got.meta.conf.n_voters, 3);
	ck_assert_uint_eq(got.meta.conf.voters[2], 3);
	ck_assert_uint_eq(got.meta.conf.n_learners, 1);
	ck_assert_uint_eq(got.meta.conf.learners[0], 4);
	ck_assert_uint_eq(got.meta.conf.n_voters_outgoing, 3);
	ck_assert_uint_eq(got.meta.conf.voters_outgoing[2], 5);
	ck_assert_uint_eq(got.meta.conf.n_learners_next, 1);
	ck_assert(got.meta.conf.auto_leave);
	ck_assert_uint_eq(got.len, sizeof(data));
	ck_assert_mem_eq(got.data, data, sizeof(data));
	raft_snapshot_done(&got);

	/* An empty snapshot (no data, no configuration) too. */
	memset(&s, 0, sizeof(s));
	s.meta.index = 50;
	s.meta.term = 3;
	ck_assert_int_eq(snapfile_save(dir, &s), 0);
	ck_assert_int_eq(snapfile_load_newest(dir, &got, &rep), 0);
	ck_assert_uint_eq(got.meta.index, 50);
	ck_assert_ptr_null(got.data);
	ck_assert_uint_eq(got.meta.conf.n_voters, 0);
	raft_snapshot_done(&got);
}
END_TEST

START_TEST(test_snapfile_corrupt_newest_is_renamed_broken_and_older_used)
{
	const char *dir = testlib_tmpdir();
	struct raft_snapshot s1 = make_snap(10, 1), s2 = make_snap(20, 2), got;
	struct snapfile_report rep;
	char path[1100], broken[1200];
	uint8_t *p;
	size_t n;

	ck_assert_int_eq(snapfile_save(dir, &s1), 0);
	ck_assert_int_eq(snapfile_save(dir, &s2), 0);
	snap_path(path, sizeof(path), dir, 2, 20);
	p = waltest_read_file(path, &n);
	p[n - 3] ^= 0x01;
	waltest_write_file(path, p, n);
	mem_free(p);

	ck_assert_int_eq(snapfile_load_newest(dir, &got, &rep), 0);
	ck_assert_uint_eq(got.meta.index, 10);
	ck_assert_uint_eq(rep.n_broken, 1);
	snprintf(broken, sizeof(broken), "%s.broken", path);
	ck_assert_str_eq(rep.broken[0], broken);
	ck_assert_int_eq(access(broken, F_OK), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	raft_snapshot_done(&got);

	/* With every file broken there is no snapshot at all. */
	snap_path(path, sizeof(path), dir, 1, 10);
	ck_assert_int_eq(truncate(path, 30), 0);
	ck_assert_int_eq(snapfile_load_newest(dir, &got, &rep), -ENOENT);
	ck_assert_uint_eq(rep.n_broken, 1);
}
END_TEST

START_TEST(test_snapfile_every_single_bit_flip_is_detected)
{
	const char *dir = testlib_tmpdir();
	struct raft_snapshot s = make_snap(7, 1), got;
	struct snapfile_report rep;
	char path[1100];
	uint8_t *p;
	size_t n;

	ck_assert_int_eq(snapfile_save(dir, &s), 0);
	snap_path(path, sizeof(path), dir, 1, 7);
	p = waltest_read_file(path, &n);
	for (size_t off = 0; off < n; off++) {
		for (int bit = 0; bit < 8; bit++) {
			p[off] ^= (uint8_t)(1u << bit);
			waltest_write_file(path, p, n);
			p[off] ^= (uint8_t)(1u << bit);
			ck_assert_int_eq(snapfile_load(path, &got, &rep),
					 -ERR_CORRUPT);
			ck_assert_ptr_nonnull(strstr(rep.msg, path));
		}
	}
	waltest_write_file(path, p, n);
	ck_assert_int_eq(snapfile_load(path, &got, &rep), 0);
	raft_snapshot_done(&got);
	mem_free(p);
}
END_TEST

START_TEST(test_snapfile_fault_on_each_call_keeps_the_previous_snapshot)
{
	struct raft_snapshot s1 = make_snap(10, 1), s2 = make_snap(20, 1), got;
	struct snapfile_report rep;
	unsigned long total;

	waltest_io_install();
	ck_assert_int_eq(snapfile_save(testlib_tmpdir(), &s1), 0);
	total = waltest_io.total;
	ck_assert_uint_eq(waltest_io.calls[WALTEST_WRITE], 1);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_RENAME], 1);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_FSYNC], 2);
	for (unsigned long k = 0; k < total; k++) {
		const char *dir = testlib_tmpdir();
		int r;

		waltest_io_uninstall();
		ck_assert_int_eq(snapfile_save(dir, &s1), 0);
		waltest_io_fail(-1, (long)k);
		r = snapfile_save(dir, &s2);
		waltest_io_uninstall();
		ck_assert_int_eq(r, -EIO);
		ck_assert_int_eq(snapfile_load_newest(dir, &got, &rep), 0);
		/* The directory fsync failed after the rename: the new file
		 * may be there; otherwise the old one is used. */
		ck_assert(got.meta.index == 10 ||
			  (got.meta.index == 20 && k == total - 1));
		ck_assert_uint_eq(rep.n_broken, 0);
		raft_snapshot_done(&got);
	}
}
END_TEST

START_TEST(test_snapfile_purge_keeps_the_newest)
{
	const char *dir = testlib_tmpdir();
	struct raft_snapshot got;
	struct snapfile_report rep;
	char path[1100];

	for (raft_index i = 1; i <= 6; i++) {
		struct raft_snapshot s = make_snap(i * 10, 1);
		ck_assert_int_eq(snapfile_save(dir, &s), 0);
	}
	ck_assert_int_eq(snapfile_purge(dir, 2), 0);
	snap_path(path, sizeof(path), dir, 1, 40);
	ck_assert_int_ne(access(path, F_OK), 0);
	snap_path(path, sizeof(path), dir, 1, 50);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(snapfile_load_newest(dir, &got, &rep), 0);
	ck_assert_uint_eq(got.meta.index, 60);
	raft_snapshot_done(&got);
}
END_TEST

static Suite *snapfile_suite(void)
{
	Suite *s = suite_create("snapfile");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, waltest_setup, waltest_teardown);

	tcase_add_test(
	    tc, test_snapfile_round_trips_metadata_configuration_and_data);
	tcase_add_test(
	    tc, test_snapfile_corrupt_newest_is_renamed_broken_and_older_used);
	tcase_add_test(tc, test_snapfile_every_single_bit_flip_is_detected);
	tcase_add_test(
	    tc, test_snapfile_fault_on_each_call_keeps_the_previous_snapshot);
	tcase_add_test(tc, test_snapfile_purge_keeps_the_newest);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(snapfile_suite)
