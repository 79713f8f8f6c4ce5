/*
 * tests/wal/test_walstore.c - the WAL-backed Raft storage: a member
 * restarts from disk with the same log, hard state and snapshot.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "testlib.h"
#include "wal/snapfile.h"
#include "wal/walstore.h"
#include "waltest.h"

static const struct wal_metadata md = {0x8dc9f79502ff52feULL, 42};

struct dirs {
	char wal[1024];
	char snap[1024];
};

static struct walstore_options make_opts(struct dirs *d)
{
	const char *base = testlib_tmpdir();
	struct walstore_options o;

	snprintf(d->wal, sizeof(d->wal), "%s/member/wal", base);
	snprintf(d->snap, sizeof(d->snap), "%s/member/snap", base);
	o.wal_dir = d->wal;
	o.snap_dir = d->snap;
	o.segment_size = 4096;
	return o;
}

static void save_entries(struct walstore *ws, raft_index first, raft_index last,
			 raft_term term)
{
	for (raft_index i = first; i <= last; i++) {
		struct raft_entry e;
		waltest_entry(&e, i, term, 30);
		ck_assert_int_eq(walstore_save(ws, NULL, &e, 1), 0);
		mem_free(e.data);
	}
}

static void check_log(struct walstore *ws, raft_index first, raft_index last,
		      raft_term term)
{
	struct raft_storage st = walstore_storage(ws);
	struct raft_entry *ents;
	raft_index fi, li;
	size_t n;

	ck_assert_int_eq(st.first_index(st.ctx, &fi), 0);
	ck_assert_int_eq(st.last_index(st.ctx, &li), 0);
	ck_assert_uint_eq(fi, first);
	ck_assert_uint_eq(li, last);
	ck_assert_int_eq(
	    st.entries(st.ctx, first, last + 1, RAFT_NO_LIMIT, &ents, &n), 0);
	ck_assert_uint_eq(n, last - first + 1);
	for (size_t i = 0; i < n; i++) {
		ck_assert(waltest_entry_ok(&ents[i], first + i, term, 30));
	}
	raft_entries_free(ents, n);
}

START_TEST(test_walstore_member_restarts_from_disk)
{
	struct dirs d;
	struct walstore_options o = make_opts(&d);
	struct walstore *ws;
	struct walstore_report rep;
	struct wal_metadata got_md;
	struct raft_hard_state hs = {2, 1, 40}, got_hs;
	struct raft_conf_state cs, got_cs;
	raft_id voters[] = {1, 2, 3};
	struct raft_storage st;
	struct raft_snapshot snap;
	raft_term t;

	memset(&cs, 0, sizeof(cs));
	cs.voters = voters;
	cs.n_voters = 3;
	ck_assert_int_eq(walstore_open(&o, &md, &ws, &got_md, &rep), 0);
	ck_assert(rep.created);
	save_entries(ws, 1, 60, 2);
	ck_assert_int_eq(walstore_save(ws, &hs, NULL, 0), 0);
	ck_assert_int_eq(
	    walstore_create_snapshot(ws, 40, &cs, (const uint8_t *)"state", 5),
	    0);
	ck_assert_int_eq(walstore_compact(ws, 30, 3), 0);
	check_log(ws, 31, 60, 2);
	save_entries(ws, 61, 70, 2);
	walstore_close(ws);

	ck_assert_int_eq(walstore_open(&o, &md, &ws, &got_md, &rep), 0);
	ck_assert(!rep.created);
	ck_assert_uint_eq(rep.snap_index, 40);
	ck_assert_uint_eq(got_md.member_id, md.member_id);
	/* Restarted from the snapshot: entries after it, from disk. */
	check_log(ws, 41, 70, 2);
	st = walstore_storage(ws);
	ck_assert_int_eq(st.term(st.ctx, 40, &t), 0);
	ck_assert_uint_eq(t, 2);
	ck_assert_int_eq(st.initial_state(st.ctx, &got_hs, &got_cs), 0);
	ck_assert_uint_eq(got_hs.term, 2);
	ck_assert_uint_eq(got_hs.vote, 1);
	ck_assert_uint_eq(got_hs.commit, 40);
	ck_assert(raft_conf_state_equal(&got_cs, &cs));
	raft_conf_state_done(&got_cs);
	ck_assert_int_eq(st.snapshot(st.ctx, &snap), 0);
	ck_assert_uint_eq(snap.meta.index, 40);
	ck_assert_uint_eq(snap.len, 5);
	ck_assert_mem_eq(snap.data, "state", 5);
	raft_snapshot_done(&snap);
	walstore_close(ws);
}
END_TEST

START_TEST(test_walstore_snapshot_from_the_leader_replaces_the_log)
{
	struct dirs d;
	struct walstore_options o = make_opts(&d);
	struct walstore *ws;
	struct walstore_report rep;
	struct raft_snapshot snap;

	memset(&snap, 0, sizeof(snap));
	snap.meta.index = 100;
	snap.meta.term = 3;
	ck_assert_int_eq(walstore_open(&o, &md, &ws, NULL, &rep), 0);
	save_entries(ws, 1, 110, 1); /* a stale tail beyond the snapshot */
	ck_assert_int_eq(walstore_apply_snapshot(ws, &snap), 0);
	walstore_close(ws);
	ck_assert_int_eq(walstore_open(&o, &md, &ws, NULL, &rep), 0);
	ck_assert_uint_eq(rep.snap_index, 100);
	{
		struct raft_storage st = walstore_storage(ws);
		raft_index li;
		ck_assert_int_eq(st.last_index(st.ctx, &li), 0);
		ck_assert_uint_eq(li, 100);
	}
	ck_assert_int_eq(walstore_apply_snapshot(ws, &snap),
			 -ERR_SNAP_OUT_OF_DATE);
	save_entries(ws, 101, 105, 3);
	/* A gap is refused before anything is written. */
	{
		struct raft_entry e;
		waltest_entry(&e, 200, 3, 30);
		ck_assert_int_eq(walstore_save(ws, NULL, &e, 1), -ERR_INVALID);
		mem_free(e.data);
	}
	walstore_close(ws);
	ck_assert_int_eq(walstore_open(&o, &md, &ws, NULL, &rep), 0);
	ck_assert_uint_eq(rep.snap_index, 100);
	check_log(ws, 101, 105, 3);
	walstore_close(ws);
}
END_TEST

START_TEST(test_walstore_snapshot_file_without_wal_marker_is_not_used)
{
	struct dirs d;
	struct walstore_options o = make_opts(&d);
	struct walstore *ws;
	struct walstore_report rep;
	struct raft_snapshot orphan;

	ck_assert_int_eq(walstore_open(&o, &md, &ws, NULL, &rep), 0);
	save_entries(ws, 1, 30, 1);
	ck_assert_int_eq(walstore_create_snapshot(ws, 10, NULL, NULL, 0), 0);
	walstore_close(ws);
	/* A crash after the file of snapshot 20 but before its marker. */
	memset(&orphan, 0, sizeof(orphan));
	orphan.meta.index = 20;
	orphan.meta.term = 1;
	ck_assert_int_eq(snapfile_save(d.snap, &orphan), 0);
	ck_assert_int_eq(walstore_open(&o, &md, &ws, NULL, &rep), 0);
	ck_assert_uint_eq(rep.snap_index, 10);
	check_log(ws, 11, 30, 1);
	walstore_close(ws);
}
END_TEST

START_TEST(test_walstore_corrupt_newest_snapshot_falls_back_to_older)
{
	struct dirs d;
	struct walstore_options o = make_opts(&d);
	struct walstore *ws;
	struct walstore_report rep;
	char path[1200];

	ck_assert_int_eq(walstore_open(&o, &md, &ws, NULL, &rep), 0);
	save_entries(ws, 1, 30, 1);
	ck_assert_int_eq(walstore_create_snapshot(ws, 10, NULL, NULL, 0), 0);
	ck_assert_int_eq(walstore_create_snapshot(ws, 20, NULL, NULL, 0), 0);
	walstore_close(ws);
	snprintf(path, sizeof(path), "%s/%016x-%016x.snap", d.snap, 1, 20);
	ck_assert_int_eq(truncate(path, 10), 0);
	ck_assert_int_eq(walstore_open(&o, &md, &ws, NULL, &rep), 0);
	ck_assert_uint_eq(rep.snap_index, 10);
	ck_assert_uint_eq(rep.n_broken_snaps, 1);
	check_log(ws, 11, 30, 1);
	walstore_close(ws);
}
END_TEST

START_TEST(test_walstore_save_costs_one_fdatasync_and_errors_stick)
{
	struct dirs d;
	struct walstore_options o = make_opts(&d);
	struct walstore *ws;
	struct walstore_report rep;
	struct raft_entry ents[16];
	struct raft_hard_state hs = {1, 1, 0};

	ck_assert_int_eq(walstore_open(&o, &md, &ws, NULL, &rep), 0);
	for (size_t i = 0; i < 16; i++) {
		waltest_entry(&ents[i], i + 1, 1, 30);
	}
	waltest_io_install();
	ck_assert_int_eq(walstore_save(ws, &hs, ents, 8), 0);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_FDATASYNC], 1);
	waltest_io_fail(WALTEST_FDATASYNC, 0);
	ck_assert_int_eq(walstore_save(ws, &hs, ents + 8, 8), -EIO);
	waltest_io_uninstall();
	ck_assert_int_eq(walstore_error(ws), -EIO);
	ck_assert_int_eq(walstore_create_snapshot(ws, 8, NULL, NULL, 0), -EIO);
	/* Memory did not take the failed batch. */
	check_log(ws, 1, 8, 1);
	for (size_t i = 0; i < 16; i++) {
		mem_free(ents[i].data);
	}
	walstore_close(ws);
}
END_TEST

/*
 * Create, save, snapshot, compact, close, reopen.  Returns 0, or the first
 * error, which must be -ENOMEM while allocations are failing.
 */
static int alloc_scenario(const struct walstore_options *o)
{
	struct walstore *ws;
	struct walstore_report rep;
	struct raft_entry ents[4];
	struct raft_hard_state hs = {1, 1, 3};
	int r;

	r = walstore_open(o, &md, &ws, NULL, &rep);
	if (r < 0) {
		return r;
	}
	for (size_t i = 0; i < 4; i++) {
		ents[i].index = i + 1;
		ents[i].term = 1;
		ents[i].type = RAFT_ENTRY_NORMAL;
		ents[i].data = (uint8_t *)"abcdefgh";
		ents[i].len = 8;
	}
	r = walstore_save(ws, &hs, ents, 4);
	if (r == 0) {
		r = walstore_create_snapshot(ws, 3, NULL, (const uint8_t *)"s",
					     1);
	}
	if (r == 0) {
		r = walstore_compact(ws, 2, 2);
	}
	walstore_close(ws);
	if (r < 0) {
		return r;
	}
	r = walstore_open(o, &md, &ws, NULL, &rep);
	if (r == 0) {
		walstore_close(ws);
	}
	return r;
}

START_TEST(test_walstore_allocation_failure_at_each_call_is_handled)
{
	bool done = false;

	for (long n = 0; !done; n++) {
		struct dirs d;
		struct walstore_options o = make_opts(&d);
		int r;

		mem_fail_after(n);
		r = alloc_scenario(&o);
		done = mem_fail_count() == 0;
		mem_fail_reset();
		if (!done) {
			ck_assert_msg(r == -ENOMEM || r == 0,
				      "allocation %ld: %s", n, err_name(r));
		} else {
			ck_assert_int_eq(r, 0);
		}
		/* Whatever failed, the disk state opens cleanly afterwards
		 * (or holds no WAL yet). */
		{
			struct walstore *ws;
			struct walstore_report rep;
			r = walstore_open(&o, &md, &ws, NULL, &rep);
			ck_assert_msg(r == 0, "allocation %ld: reopen: %s", n,
				      rep.msg);
			walstore_close(ws);
		}
		ck_assert_int_lt(n, 10000);
	}
}
END_TEST

START_TEST(test_walstore_dirs_follow_etcds_layout)
{
	char *w, *sn;

	ck_assert_int_eq(walstore_dirs("/var/lib/cetcd", NULL, &w, &sn), 0);
	ck_assert_str_eq(w, "/var/lib/cetcd/member/wal");
	ck_assert_str_eq(sn, "/var/lib/cetcd/member/snap");
	mem_free(w);
	mem_free(sn);
	ck_assert_int_eq(walstore_dirs("/d", "/fast/wal", &w, &sn), 0);
	ck_assert_str_eq(w, "/fast/wal");
	ck_assert_str_eq(sn, "/d/member/snap");
	mem_free(w);
	mem_free(sn);
}
END_TEST

static Suite *walstore_suite(void)
{
	Suite *s = suite_create("walstore");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, waltest_setup, waltest_teardown);

	tcase_add_test(tc, test_walstore_member_restarts_from_disk);
	tcase_add_test(tc,
		       test_walstore_snapshot_from_the_leader_replaces_the_log);
	tcase_add_test(
	    tc, test_walstore_snapshot_file_without_wal_marker_is_not_used);
	tcase_add_test(
	    tc, test_walstore_corrupt_newest_snapshot_falls_back_to_older);
	tcase_add_test(tc,
		       test_walstore_save_costs_one_fdatasync_and_errors_stick);
	tcase_add_test(
	    tc, test_walstore_allocation_failure_at_each_call_is_handled);
	tcase_add_test(tc, test_walstore_dirs_follow_etcds_layout);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(walstore_suite)
