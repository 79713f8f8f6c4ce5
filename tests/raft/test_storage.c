/*
 * test_storage.c - the in-memory raft_storage and the type helpers.
 */
#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "raft/storage.h"
#include "testlib.h"

/* Entries (index, term) with a one-byte payload equal to the index. */
static void make_ents(struct raft_entry *ents, uint8_t *bytes, raft_index first,
		      const raft_term *terms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bytes[i] = (uint8_t)(first + i);
		ents[i] = (struct raft_entry){.index = first + i,
					      .term = terms[i],
					      .data = &bytes[i],
					      .len = 1};
	}
}

/* Storage holding snapshot boundary 3 (term 3) then entries 4(4) 5(5). */
static struct raft_mem_storage *storage_345(void)
{
	struct raft_mem_storage *ms = raft_mem_storage_new();
	struct raft_entry ents[5];
	uint8_t bytes[5];
	raft_term terms[] = {1, 2, 3, 4, 5};

	ck_assert_ptr_nonnull(ms);
	make_ents(ents, bytes, 1, terms, 5);
	ck_assert_int_eq(raft_mem_storage_append(ms, ents, 5), 0);
	ck_assert_int_eq(raft_mem_storage_create_snapshot(ms, 3, NULL, NULL, 0),
			 0);
	ck_assert_int_eq(raft_mem_storage_compact(ms, 3), 0);
	return ms;
}

START_TEST(test_storage_term_reports_compacted_and_unavailable)
{
	struct raft_mem_storage *ms = storage_345();
	struct raft_storage st = raft_mem_storage_storage(ms);
	raft_term t = 99;

	ck_assert_int_eq(st.term(st.ctx, 2, &t), -ERR_COMPACTED);
	ck_assert_uint_eq(t, 99);
	ck_assert_int_eq(st.term(st.ctx, 3, &t), 0);
	ck_assert_uint_eq(t, 3);
	ck_assert_int_eq(st.term(st.ctx, 5, &t), 0);
	ck_assert_uint_eq(t, 5);
	ck_assert_int_eq(st.term(st.ctx, 6, &t), -ERR_UNAVAILABLE);
	raft_mem_storage_free(ms);
}
END_TEST

START_TEST(test_storage_entries_respects_bounds_and_max_size)
{
	struct raft_mem_storage *ms = storage_345();
	struct raft_storage st = raft_mem_storage_storage(ms);
	struct raft_entry *ents = NULL;
	size_t n = 0;
	struct raft_entry one = {.len = 1};
	uint64_t sz = raft_entry_size(&one);

	ck_assert_int_eq(st.entries(st.ctx, 3, 5, RAFT_NO_LIMIT, &ents, &n),
			 -ERR_COMPACTED);
	ck_assert_int_eq(st.entries(st.ctx, 4, 7, RAFT_NO_LIMIT, &ents, &n),
			 -ERR_UNAVAILABLE);
	ck_assert_int_eq(st.entries(st.ctx, 4, 6, RAFT_NO_LIMIT, &ents, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(ents[0].index, 4);
	ck_assert_uint_eq(ents[1].term, 5);
	ck_assert_uint_eq(ents[1].data[0], 5);
	raft_entries_free(ents, n);

	/* At least one entry even when it alone exceeds the limit. */
	ck_assert_int_eq(st.entries(st.ctx, 4, 6, 0, &ents, &n), 0);
	ck_assert_uint_eq(n, 1);
	raft_entries_free(ents, n);
	ck_assert_int_eq(st.entries(st.ctx, 4, 6, 2 * sz - 1, &ents, &n), 0);
	ck_assert_uint_eq(n, 1);
	raft_entries_free(ents, n);
	ck_assert_int_eq(st.entries(st.ctx, 4, 6, 2 * sz, &ents, &n), 0);
	ck_assert_uint_eq(n, 2);
	raft_entries_free(ents, n);

	/* Empty range. */
	ck_assert_int_eq(st.entries(st.ctx, 6, 6, RAFT_NO_LIMIT, &ents, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ents);
	raft_mem_storage_free(ms);
}
END_TEST

/* Each entry of storage_345 costs raft_entry_size: one byte plus the
 * overhead. */
START_TEST(test_storage_window_keeps_at_most_max_size_of_the_log)
{
	struct raft_mem_storage *ms = storage_345();
	uint64_t one = 1 + raft_entry_size(&(struct raft_entry){0});

	/* Both entries fit: nothing to compact past the boundary 3. */
	ck_assert_uint_eq(raft_mem_storage_window(ms, 5, 2 * one), 3);
	/* One fits: compact up to 4, entry 5 stays. */
	ck_assert_uint_eq(raft_mem_storage_window(ms, 5, 2 * one - 1), 4);
	ck_assert_uint_eq(raft_mem_storage_window(ms, 5, one), 4);
	/* None fits: compact up to i itself. */
	ck_assert_uint_eq(raft_mem_storage_window(ms, 5, one - 1), 5);
	ck_assert_uint_eq(raft_mem_storage_window(ms, 4, 0), 4);
	/* Counted from i, and from last_index when i is beyond it. */
	ck_assert_uint_eq(raft_mem_storage_window(ms, 4, one), 3);
	ck_assert_uint_eq(raft_mem_storage_window(ms, 9, one), 4);
	raft_mem_storage_free(ms);
}
END_TEST

START_TEST(test_storage_first_and_last_index_follow_append_and_compact)
{
	struct raft_mem_storage *ms = storage_345();
	struct raft_storage st = raft_mem_storage_storage(ms);
	raft_index fi, li;

	ck_assert_int_eq(st.first_index(st.ctx, &fi), 0);
	ck_assert_int_eq(st.last_index(st.ctx, &li), 0);
	ck_assert_uint_eq(fi, 4);
	ck_assert_uint_eq(li, 5);
	ck_assert_int_eq(raft_mem_storage_compact(ms, 3), -ERR_COMPACTED);
	ck_assert_int_eq(raft_mem_storage_compact(ms, 6), -ERR_UNAVAILABLE);
	/* Past the snapshot: refused. */
	ck_assert_int_eq(raft_mem_storage_compact(ms, 4), -ERR_INVALID);
	ck_assert_int_eq(raft_mem_storage_create_snapshot(ms, 4, NULL, NULL, 0),
			 0);
	ck_assert_int_eq(raft_mem_storage_compact(ms, 4), 0);
	ck_assert_int_eq(st.first_index(st.ctx, &fi), 0);
	ck_assert_uint_eq(fi, 5);
	raft_mem_storage_free(ms);
}
END_TEST

START_TEST(test_storage_append_truncates_conflicts_and_refuses_gaps)
{
	struct raft_mem_storage *ms = storage_345();
	struct raft_storage st = raft_mem_storage_storage(ms);
	struct raft_entry ents[4];
	uint8_t bytes[4];
	raft_term t;
	raft_index li;

	/* Overlapping the boundary: entries 2..3 ignored, 4 replaced by term 6.
	 */
	make_ents(ents, bytes, 2, (raft_term[]){6, 6, 6}, 3);
	ck_assert_int_eq(raft_mem_storage_append(ms, ents, 3), 0);
	ck_assert_int_eq(st.last_index(st.ctx, &li), 0);
	ck_assert_uint_eq(li, 4);
	ck_assert_int_eq(st.term(st.ctx, 3, &t), 0);
	ck_assert_uint_eq(t, 3);
	ck_assert_int_eq(st.term(st.ctx, 4, &t), 0);
	ck_assert_uint_eq(t, 6);

	/* Extends at the end. */
	make_ents(ents, bytes, 5, (raft_term[]){6, 7}, 2);
	ck_assert_int_eq(raft_mem_storage_append(ms, ents, 2), 0);
	ck_assert_int_eq(st.last_index(st.ctx, &li), 0);
	ck_assert_uint_eq(li, 6);

	/* A gap, or non-contiguous input, is refused and changes nothing. */
	make_ents(ents, bytes, 8, (raft_term[]){7}, 1);
	ck_assert_int_eq(raft_mem_storage_append(ms, ents, 1), -ERR_INVALID);
	make_ents(ents, bytes, 5, (raft_term[]){8, 8}, 2);
	ents[1].index = 7;
	ck_assert_int_eq(raft_mem_storage_append(ms, ents, 2), -ERR_INVALID);
	ck_assert_int_eq(st.last_index(st.ctx, &li), 0);
	ck_assert_uint_eq(li, 6);
	ck_assert_int_eq(st.term(st.ctx, 5, &t), 0);
	ck_assert_uint_eq(t, 6);
	raft_mem_storage_free(ms);
}
END_TEST

START_TEST(test_storage_apply_snapshot_replaces_log_and_conf_state)
{
	struct raft_mem_storage *ms = storage_345();
	struct raft_storage st = raft_mem_storage_storage(ms);
	raft_id voters[] = {1, 2, 3};
	uint8_t data[] = "state";
	struct raft_snapshot snap = {
	    .meta = {.index = 10,
		     .term = 7,
		     .conf = {.voters = voters, .n_voters = 3}},
	    .data = data,
	    .len = 5,
	};
	struct raft_snapshot got;
	struct raft_hard_state hs = {.term = 7, .vote = 2, .commit = 10}, hs2;
	struct raft_conf_state cs;
	raft_index fi, li;
	raft_term t;

	ck_assert_int_eq(raft_mem_storage_apply_snapshot(ms, &snap), 0);
	ck_assert_int_eq(st.first_index(st.ctx, &fi), 0);
	ck_assert_int_eq(st.last_index(st.ctx, &li), 0);
	ck_assert_uint_eq(fi, 11);
	ck_assert_uint_eq(li, 10);
	ck_assert_int_eq(st.term(st.ctx, 10, &t), 0);
	ck_assert_uint_eq(t, 7);
	ck_assert_int_eq(st.snapshot(st.ctx, &got), 0);
	ck_assert_uint_eq(got.meta.index, 10);
	ck_assert_uint_eq(got.len, 5);
	ck_assert_mem_eq(got.data, "state", 5);
	ck_assert(raft_conf_state_equal(&got.meta.conf, &snap.meta.conf));
	ck_assert_ptr_ne(got.data, data);
	raft_snapshot_done(&got);

	raft_mem_storage_set_hard_state(ms, &hs);
	ck_assert_int_eq(st.initial_state(st.ctx, &hs2, &cs), 0);
	ck_assert_uint_eq(hs2.term, 7);
	ck_assert_uint_eq(hs2.vote, 2);
	ck_assert_uint_eq(cs.n_voters, 3);
	raft_conf_state_done(&cs);

	/* Older or equal snapshots are refused. */
	ck_assert_int_eq(raft_mem_storage_apply_snapshot(ms, &snap),
			 -ERR_SNAP_OUT_OF_DATE);
	ck_assert_int_eq(
	    raft_mem_storage_create_snapshot(ms, 10, NULL, NULL, 0),
	    -ERR_SNAP_OUT_OF_DATE);
	raft_mem_storage_free(ms);
}
END_TEST

START_TEST(test_storage_survives_every_failed_allocation)
{
	/* Each mutator either succeeds or leaves the storage unchanged. */
	for (long k = 0; k < 40; k++) {
		struct raft_mem_storage *ms = raft_mem_storage_new();
		struct raft_storage st;
		struct raft_entry ents[3];
		uint8_t bytes[3];
		struct raft_entry *got = NULL;
		size_t n = 0;
		raft_index li = 0;
		int r;

		ck_assert_ptr_nonnull(ms);
		st = raft_mem_storage_storage(ms);
		make_ents(ents, bytes, 1, (raft_term[]){1, 1, 2}, 3);
		mem_fail_after(k);
		r = raft_mem_storage_append(ms, ents, 3);
		if (r == 0) {
			r = st.entries(st.ctx, 1, 4, RAFT_NO_LIMIT, &got, &n);
		}
		mem_fail_reset();
		ck_assert(r == 0 || r == -ENOMEM);
		ck_assert_int_eq(st.last_index(st.ctx, &li), 0);
		ck_assert(li == 0 || li == 3);
		if (r == 0) {
			ck_assert_uint_eq(n, 3);
		}
		raft_entries_free(got, n);
		raft_mem_storage_free(ms);
	}
}
END_TEST

START_TEST(test_conf_state_equal_ignores_order)
{
	raft_id a[] = {1, 2, 3}, b[] = {3, 1, 2}, c[] = {1, 2, 4};
	struct raft_conf_state x = {.voters = a, .n_voters = 3};
	struct raft_conf_state y = {.voters = b, .n_voters = 3};
	struct raft_conf_state z = {.voters = c, .n_voters = 3};
	struct raft_conf_state w;

	ck_assert(raft_conf_state_equal(&x, &y));
	ck_assert(!raft_conf_state_equal(&x, &z));
	ck_assert_int_eq(raft_conf_state_copy(&w, &z), 0);
	ck_assert(raft_conf_state_equal(&w, &z));
	w.auto_leave = true;
	ck_assert(!raft_conf_state_equal(&w, &z));
	raft_conf_state_done(&w);
}
END_TEST

static Suite *storage_suite(void)
{
	Suite *s = suite_create("raft_storage");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_storage_term_reports_compacted_and_unavailable);
	tcase_add_test(tc, test_storage_entries_respects_bounds_and_max_size);
	tcase_add_test(
	    tc, test_storage_first_and_last_index_follow_append_and_compact);
	tcase_add_test(
	    tc, test_storage_append_truncates_conflicts_and_refuses_gaps);
	tcase_add_test(tc,
		       test_storage_apply_snapshot_replaces_log_and_conf_state);
	tcase_add_test(tc, test_storage_window_keeps_at_most_max_size_of_the_log);
	tcase_add_test(tc, test_storage_survives_every_failed_allocation);
	tcase_add_test(tc, test_conf_state_equal_ignores_order);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(storage_suite)
