/*
 * test_durability.c - the applied Raft index kept with the data (replay is
 * idempotent), a child killed while applying, the quota and a full map,
 * defragmentation, and the event feed in batches.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "helpers.h"

/* The operation of log entry i, the same on every replay. */
static void apply_entry(struct mvcc_store *s, uint64_t i)
{
	int r = mvcc_apply_begin(s, i, 1 + i / 50);
	ck_assert_int_ge(r, 0);
	if (r == 1) {
		return;
	}
	char k[32], v[32];
	snprintf(k, sizeof(k), "k%03llu", (unsigned long long)(i * 7919 % 211));
	snprintf(v, sizeof(v), "v%llu", (unsigned long long)i);
	if (i % 10 == 0) {
		char end[32];
		snprintf(end, sizeof(end), "k%03llu",
			 (unsigned long long)(i * 7919 % 211 + 5));
		h_del(s, k, end, NULL);
	} else if (i % 7 == 0) {
		struct mvcc_compare c = {.result = MVCC_CMP_GREATER,
					 .target = MVCC_TARGET_VERSION,
					 .key = (const uint8_t *)k,
					 .key_len = strlen(k),
					 .number = 1};
		struct mvcc_op ops[1] = {{.type = MVCC_OP_PUT}};
		ops[0].u.put.key = (const uint8_t *)"counter";
		ops[0].u.put.key_len = 7;
		ops[0].u.put.value = (const uint8_t *)v;
		ops[0].u.put.value_len = strlen(v);
		struct mvcc_txn_req t = {&c, 1, ops, 1, NULL, 0};
		struct mvcc_txn_resp tr;
		ck_assert_int_eq(mvcc_txn(s, &t, &tr), 0);
		mvcc_txn_resp_done(&tr);
	} else if (i % 13 == 0) {
		mvcc_rev at = mvcc_current_rev(s) - 20;
		if (at > mvcc_compact_rev(s)) {
			ck_assert_int_eq(mvcc_compact(s, at), 0);
		}
		bool done;
		ck_assert_int_eq(mvcc_compact_step(s, 10, &done), 0);
	} else {
		h_put(s, k, v);
	}
}

static uint32_t state_hash(struct mvcc_store *s)
{
	uint32_t h;
	mvcc_rev hr, cr;
	ck_assert_int_eq(mvcc_hash_kv(s, 0, &h, &hr, &cr), 0);
	return h ^ (uint32_t)mvcc_current_rev(s) ^ ((uint32_t)cr << 16);
}

START_TEST(test_replaying_applied_entries_is_a_no_op)
{
	const char *dir = testlib_tmpdir();
	struct mvcc_store *s = h_open(dir);
	for (uint64_t i = 1; i <= 50; i++) {
		apply_entry(s, i);
	}
	ck_assert_uint_ge(mvcc_uncommitted(s), 50);
	ck_assert_int_eq(mvcc_commit(s), 0);
	ck_assert_uint_eq(mvcc_uncommitted(s), 0);
	mvcc_rev rev50 = mvcc_current_rev(s);
	for (uint64_t i = 51; i <= 80; i++) {
		apply_entry(s, i);
	}
	/* Applied but not committed: visible here, lost by close. */
	ck_assert_int_gt(mvcc_current_rev(s), rev50);
	mvcc_close(s);
	s = h_open(dir);
	uint64_t idx, term;
	mvcc_applied(s, &idx, &term);
	ck_assert_uint_eq(idx, 50);
	ck_assert_uint_eq(term, 2);
	ck_assert_int_eq(mvcc_current_rev(s), rev50);
	ck_assert_int_eq(mvcc_apply_begin(s, 50, 2), 1);
	ck_assert_int_eq(mvcc_apply_begin(s, 3, 1), 1);
	for (uint64_t i = 1; i <= 100; i++) {
		apply_entry(s, i);
	}
	uint32_t h = state_hash(s);
	mvcc_close(s);

	struct mvcc_store *ref = h_open(testlib_tmpdir());
	for (uint64_t i = 1; i <= 100; i++) {
		apply_entry(ref, i);
	}
	ck_assert_uint_eq(state_hash(ref), h);
	mvcc_close(ref);
}
END_TEST

#define CRASH_ENTRIES 200

static void child_apply(const char *dir, int fd)
{
	struct mvcc_store *s = NULL;
	if (mvcc_open(dir, NULL, &s) < 0) {
		_exit(2);
	}
	bool told = false;
	for (uint64_t i = 1; i <= CRASH_ENTRIES; i++) {
		apply_entry(s, i);
		if (i % 23 == 0) {
			if (mvcc_commit(s) < 0) {
				_exit(3);
			}
			if (!told) {
				told = write(fd, "x", 1) == 1;
			}
		}
	}
	mvcc_commit(s);
	mvcc_close(s);
	_exit(0);
}

START_TEST(test_child_killed_during_apply_replays_to_the_same_state)
{
	struct mvcc_store *ref = h_open(testlib_tmpdir());
	for (uint64_t i = 1; i <= CRASH_ENTRIES; i++) {
		apply_entry(ref, i);
	}
	uint32_t want = state_hash(ref);
	mvcc_close(ref);

	uint64_t rng = testlib_seed();
	for (int round = 0; round < 2; round++) {
		const char *dir = testlib_tmpdir();
		int p[2];
		ck_assert_int_eq(pipe(p), 0);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(p[0]);
			child_apply(dir, p[1]);
		}
		close(p[1]);
		char c;
		ck_assert_int_eq(read(p[0], &c, 1), 1);
		close(p[0]);
		struct timespec ts = {0, (long)testlib_rand_below(&rng, 40) *
					     1000000L};
		nanosleep(&ts, NULL);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		int st;
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);

		struct mvcc_store *s = h_open(dir);
		uint64_t idx, term;
		mvcc_applied(s, &idx, &term);
		ck_assert_uint_ge(idx, 23);
		for (uint64_t i = 1; i <= CRASH_ENTRIES; i++) {
			apply_entry(s, i);
		}
		ck_assert_uint_eq(state_hash(s), want);
		mvcc_close(s);
	}
}
END_TEST

/* A put of a 64 KiB value at key big<i>: 0 or the store's error. */
static int put_big(struct mvcc_store *s, int i)
{
	static uint8_t val[65536];
	char k[16];
	snprintf(k, sizeof(k), "big%02d", i);
	struct mvcc_put_req rq = {.key = (const uint8_t *)k,
				  .key_len = strlen(k),
				  .value = val,
				  .value_len = sizeof(val)};
	struct mvcc_put_resp rp;
	int ret = mvcc_put(s, &rq, &rp);
	if (ret == 0) {
		mvcc_put_resp_done(&rp);
	}
	return ret;
}

/*
 * Past the quota, the NOSPACE alarm refuses puts at apply and the store
 * goes on: a refused request changes nothing (mvcc.h, 6).
 */
START_TEST(test_nospace_refuses_puts_and_the_store_stays_usable)
{
	struct mvcc_options o = {.quota_bytes = 1 << 20};
	struct mvcc_store *s = NULL;
	ck_assert_int_eq(mvcc_open(testlib_tmpdir(), &o, &s), 0);
	ck_assert_int_eq(mvcc_quota(s), 1 << 20);
	int i;
	for (i = 0; i < 100 && mvcc_quota_check(s, 0) == 0; i++) {
		ck_assert_int_eq(put_big(s, i), 0);
		ck_assert_int_eq(mvcc_commit(s), 0);
	}
	ck_assert_int_gt(i, 5);
	ck_assert_int_lt(i, 100);
	ck_assert_int_eq(mvcc_quota_check(s, 0), -ERR_NO_SPACE);
	mvcc_set_nospace(s, true);
	struct mvcc_put_req pq = {.key = (const uint8_t *)"x", .key_len = 1};
	struct mvcc_put_resp pr;
	ck_assert_int_eq(mvcc_put(s, &pq, &pr), -ERR_NO_SPACE);
	ck_assert_int_eq(mvcc_current_rev(s), 1 + i);
	/* Reads and deletes still work. */
	struct mvcc_range_req rq = h_rq("big", "");
	rq.count_only = true;
	struct mvcc_range_resp rp;
	h_range(s, &rq, &rp);
	ck_assert_int_eq(rp.count, i);
	mvcc_range_resp_done(&rp);
	ck_assert_int_eq(h_del(s, "big00", NULL, NULL), 1);
	mvcc_set_nospace(s, false);
	ck_assert_int_eq(mvcc_put(s, &pq, &pr), 0);
	mvcc_put_resp_done(&pr);
	ck_assert_int_eq(mvcc_commit(s), 0);
	ck_assert_int_eq(mvcc_current_rev(s), 3 + i);
	mvcc_close(s);
}
END_TEST

/*
 * A full LMDB map in the middle of a put cannot be undone: the store stops
 * (-EFBIG, sticky) and loses its uncommitted operations, as in a crash;
 * opened again, it has room to replay them (mvcc.h, 6).
 */
START_TEST(test_full_map_stops_the_store_and_a_reopen_has_room)
{
	const char *dir = testlib_tmpdir();
	struct mvcc_options o = {.quota_bytes = 1 << 20, .map_size = 2 << 20};
	struct mvcc_store *s = NULL;
	ck_assert_int_eq(mvcc_open(dir, &o, &s), 0);
	int ret = 0, i, committed = 0;
	for (i = 0; i < 100; i++) {
		ret = put_big(s, i);
		if (ret < 0) {
			break;
		}
		if (i % 4 == 3) {
			ck_assert_int_eq(mvcc_commit(s), 0);
			committed = i + 1;
		}
	}
	ck_assert_int_eq(ret, -EFBIG);
	ck_assert_int_gt(committed, 4);
	/* Sticky: nothing more is read, written or committed. */
	struct mvcc_put_req pq = {.key = (const uint8_t *)"x", .key_len = 1};
	struct mvcc_put_resp pr;
	ck_assert_int_eq(mvcc_put(s, &pq, &pr), -EFBIG);
	struct mvcc_range_req rq = h_rq("big", "");
	rq.count_only = true;
	struct mvcc_range_resp rp;
	ck_assert_int_eq(mvcc_range(s, &rq, &rp), -EFBIG);
	ck_assert_int_eq(mvcc_commit(s), -EFBIG);
	mvcc_close(s);

	ck_assert_int_eq(mvcc_open(dir, &o, &s), 0);
	ck_assert_int_eq(mvcc_current_rev(s), 1 + committed);
	h_range(s, &rq, &rp);
	ck_assert_int_eq(rp.count, committed);
	mvcc_range_resp_done(&rp);
	/* The lost puts replay, and the failed one goes in. */
	for (int j = committed; j <= i; j++) {
		ck_assert_int_eq(put_big(s, j), 0);
	}
	ck_assert_int_eq(mvcc_commit(s), 0);
	ck_assert_int_eq(mvcc_current_rev(s), 2 + i);
	mvcc_close(s);
}
END_TEST

START_TEST(test_defrag_shrinks_the_file_and_keeps_the_data)
{
	const char *dir = testlib_tmpdir();
	struct mvcc_store *s = h_open(dir);
	uint8_t val[1024] = {0};
	for (int i = 0; i < 400; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%03d", i);
		h_putb(s, k, strlen(k), val, sizeof(val), 0);
	}
	h_put(s, "other", "me");
	h_del(s, "k", "l", NULL);
	ck_assert_int_eq(mvcc_compact(s, mvcc_current_rev(s)), 0);
	bool done = false;
	while (!done) {
		ck_assert_int_eq(mvcc_compact_step(s, 1000, &done), 0);
	}
	ck_assert_int_eq(mvcc_commit(s), 0);
	int64_t size, used, size2, used2;
	ck_assert_int_eq(mvcc_db_size(s, &size, &used), 0);
	ck_assert_int_le(used, size);
	uint32_t h = state_hash(s);
	ck_assert_int_eq(mvcc_defrag(s), 0);
	ck_assert_int_eq(mvcc_db_size(s, &size2, &used2), 0);
	ck_assert_int_lt(size2, size / 4);
	ck_assert_uint_eq(state_hash(s), h);
	struct mvcc_kv kv;
	ck_assert_int_eq(h_get(s, "other", 0, &kv), 0);
	ck_assert_mem_eq(kv.value, "me", 2);
	mvcc_kv_done(&kv);
	h_put(s, "after", "defrag");
	ck_assert_int_eq(mvcc_commit(s), 0);
	mvcc_close(s);
	s = h_open(dir);
	ck_assert_int_eq(h_get(s, "after", 0, &kv), 0);
	mvcc_kv_done(&kv);
	mvcc_close(s);
}
END_TEST

/*
 * mvcc_release_pages reopens the environment only after a transaction
 * that wrote at least min_writes records, only between transactions, and
 * the store goes on as before.
 */
START_TEST(test_release_pages_reopens_after_an_outsized_transaction_only)
{
	const char *dir = testlib_tmpdir();
	struct mvcc_store *s = h_open(dir);
	struct mvcc_kv kv;

	for (int i = 0; i < 300; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%03d", i);
		h_put(s, k, "v");
	}
	ck_assert_int_eq(mvcc_commit(s), 0);
	/* 300 puts write fewer than 3000 records; 300 more. */
	ck_assert_int_eq(mvcc_release_pages(s, 3000), 0);
	ck_assert_int_eq(mvcc_release_pages(s, 300), 1);
	ck_assert_int_eq(mvcc_release_pages(s, 1), 0);

	/* One DeleteRange of the 300: pending until it is committed. */
	ck_assert_int_eq(h_del(s, "k", "l", NULL), 300);
	ck_assert_int_eq(mvcc_release_pages(s, 300), 0);
	ck_assert_int_eq(mvcc_commit(s), 0);
	ck_assert_int_eq(mvcc_release_pages(s, 300), 1);

	ck_assert_int_eq(mvcc_current_rev(s), 302);
	ck_assert_int_eq(h_get(s, "k000", 0, &kv), -ENOENT);
	ck_assert_int_eq(h_get(s, "k000", 300, &kv), 0);
	mvcc_kv_done(&kv);
	ck_assert_int_eq(h_put(s, "after", "release"), 303);
	ck_assert_int_eq(mvcc_commit(s), 0);
	mvcc_close(s);
	s = h_open(dir);
	ck_assert_int_eq(mvcc_current_rev(s), 303);
	mvcc_close(s);
}
END_TEST

START_TEST(test_event_feed_returns_whole_revisions_in_order)
{
	struct mvcc_store *s = h_open(testlib_tmpdir());
	h_put(s, "a", "1");	  /* 2 */
	h_put(s, "b", "1");	  /* 3 */
	h_put(s, "a", "2");	  /* 4 */
	h_del(s, "a", "c", NULL); /* 5: two events */
	h_put(s, "a", "3");	  /* 6 */
	struct mvcc_events e;
	ck_assert_int_eq(mvcc_events_from(s, 4, 2, true, &e), 0);
	/* Revision 4, then revision 5 whole although over the limit. */
	ck_assert_uint_eq(e.n_evs, 3);
	ck_assert_int_eq(e.next_rev, 6);
	ck_assert_int_eq(e.evs[0].type, MVCC_EVENT_PUT);
	ck_assert_int_eq(e.evs[0].kv.version, 2);
	ck_assert_int_eq(e.evs[0].prev_kv.mod_revision, 2);
	ck_assert_int_eq(e.evs[1].type, MVCC_EVENT_DELETE);
	ck_assert_int_eq(e.evs[1].prev_kv.mod_revision, 4);
	ck_assert_int_eq(e.evs[2].prev_kv.mod_revision, 3);
	mvcc_events_done(&e);
	ck_assert_int_eq(mvcc_events_from(s, 6, 2, true, &e), 0);
	ck_assert_uint_eq(e.n_evs, 1);
	ck_assert(!e.evs[0].has_prev_kv); /* re-created after delete */
	ck_assert_int_eq(e.evs[0].kv.create_revision, 6);
	ck_assert_int_eq(e.next_rev, 7);
	mvcc_events_done(&e);
	ck_assert_int_eq(mvcc_events_from(s, 7, 2, true, &e), 0);
	ck_assert_uint_eq(e.n_evs, 0);
	ck_assert_int_eq(e.next_rev, 7);
	mvcc_events_done(&e);
	mvcc_close(s);
}
END_TEST

static Suite *durability_suite(void)
{
	Suite *s = suite_create("mvcc-durability");
	TCase *tc = tcase_create("durability");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_replaying_applied_entries_is_a_no_op);
	tcase_add_test(
	    tc, test_child_killed_during_apply_replays_to_the_same_state);
	tcase_add_test(tc,
		       test_nospace_refuses_puts_and_the_store_stays_usable);
	tcase_add_test(tc,
		       test_full_map_stops_the_store_and_a_reopen_has_room);
	tcase_add_test(tc, test_defrag_shrinks_the_file_and_keeps_the_data);
	tcase_add_test(
	    tc, test_release_pages_reopens_after_an_outsized_transaction_only);
	tcase_add_test(tc, test_event_feed_returns_whole_revisions_in_order);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(durability_suite)
