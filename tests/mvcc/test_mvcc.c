/*
 * test_mvcc.c - etcd's documented KV semantics, one transcript per test
 * (reference/etcd-v3.md 7.1-7.4): revisions, versions, tombstones, ranges,
 * txns, compaction, applied index, events, hash, quota.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/mem.h"
#include "helpers.h"

START_TEST(test_new_store_is_at_revision_one_and_first_put_gets_two)
{
	struct mvcc_store *s = h_open(testlib_tmpdir());
	ck_assert_int_eq(mvcc_current_rev(s), 1);
	ck_assert_int_eq(mvcc_compact_rev(s), -1);
	struct mvcc_range_req rq = h_rq("a", NULL);
	struct mvcc_range_resp rp;
	h_range(s, &rq, &rp);
	ck_assert_int_eq(rp.header_revision, 1);
	ck_assert_uint_eq(rp.n_kvs, 0);
	ck_assert_int_eq(rp.count, 0);
	mvcc_range_resp_done(&rp);
	ck_assert_int_eq(h_put(s, "a", "1"), 2);
	struct mvcc_kv kv;
	ck_assert_int_eq(h_get(s, "a", 0, &kv), 0);
	ck_assert_int_eq(kv.create_revision, 2);
	ck_assert_int_eq(kv.mod_revision, 2);
	ck_assert_int_eq(kv.version, 1);
	ck_assert_int_eq(kv.lease, 0);
	ck_assert_mem_eq(kv.value, "1", 1);
	mvcc_kv_done(&kv);
	mvcc_close(s);
}
END_TEST

START_TEST(test_versions_restart_after_delete_and_tombstones_keep_history)
{
	struct mvcc_store *s = h_open(testlib_tmpdir());
	ck_assert_int_eq(h_put(s, "k", "v1"), 2);
	ck_assert_int_eq(h_put(s, "k", "v2"), 3);
	struct mvcc_kv kv;
	ck_assert_int_eq(h_get(s, "k", 0, &kv), 0);
	ck_assert_int_eq(kv.create_revision, 2);
	ck_assert_int_eq(kv.mod_revision, 3);
	ck_assert_int_eq(kv.version, 2);
	mvcc_kv_done(&kv);
	mvcc_rev rev;
	ck_assert_int_eq(h_del(s, "k", NULL, &rev), 1);
	ck_assert_int_eq(rev, 4);
	ck_assert_int_eq(h_get(s, "k", 0, &kv), -ENOENT);
	/* A delete of a missing key does not bump the revision. */
	ck_assert_int_eq(h_del(s, "k", NULL, &rev), 0);
	ck_assert_int_eq(rev, 4);
	ck_assert_int_eq(mvcc_current_rev(s), 4);
	ck_assert_int_eq(h_put(s, "k", "v3"), 5);
	ck_assert_int_eq(h_get(s, "k", 0, &kv), 0);
	ck_assert_int_eq(kv.create_revision, 5);
	ck_assert_int_eq(kv.version, 1);
	mvcc_kv_done(&kv);
	/* History: at 3 the second version, at 4 nothing, at 2 the first. */
	ck_assert_int_eq(h_get(s, "k", 3, &kv), 0);
	ck_assert_mem_eq(kv.value, "v2", 2);
	ck_assert_int_eq(kv.version, 2);
	mvcc_kv_done(&kv);
	ck_assert_int_eq(h_get(s, "k", 4, &kv), -ENOENT);
	ck_assert_int_eq(h_get(s, "k", 2, &kv), 0);
	ck_assert_mem_eq(kv.value, "v1", 2);
	mvcc_kv_done(&kv);
	ck_assert_int_eq(h_get(s, "k", 1, &kv), -ENOENT);
	ck_assert_int_eq(h_get(s, "k", 6, &kv), -ERR_FUTURE_REV);
	mvcc_close(s);
}
END_TEST

START_TEST(test_put_options_prev_kv_ignore_value_ignore_lease)
{
	struct mvcc_store *s = h_open(testlib_tmpdir());
	struct mvcc_put_req rq = {.key = (const uint8_t *)"k",
				  .key_len = 1,
				  .value = (const uint8_t *)"v1",
				  .value_len = 2,
				  .lease = 7,
				  .prev_kv = true};
	struct mvcc_put_resp rp;
	ck_assert_int_eq(mvcc_put(s, &rq, &rp), 0);
	ck_assert(!rp.has_prev_kv);
	mvcc_put_resp_done(&rp);
	rq.value = (const uint8_t *)"v2";
	rq.lease = 0;
	rq.ignore_lease = true;
	ck_assert_int_eq(mvcc_put(s, &rq, &rp), 0);
	ck_assert(rp.has_prev_kv);
	ck_assert_int_eq(rp.header_revision, 3);
	ck_assert_mem_eq(rp.prev_kv.value, "v1", 2);
	ck_assert_int_eq(rp.prev_kv.lease, 7);
	ck_assert_int_eq(rp.prev_kv.mod_revision, 2);
	mvcc_put_resp_done(&rp);
	struct mvcc_kv kv;
	ck_assert_int_eq(h_get(s, "k", 0, &kv), 0);
	ck_assert_int_eq(kv.lease, 7);
	ck_assert_mem_eq(kv.value, "v2", 2);
	mvcc_kv_done(&kv);
	/* ignore_value keeps the value; a put without ignore_lease clears
	 * the lease. */
	struct mvcc_put_req rq2 = {
	    .key = (const uint8_t *)"k", .key_len = 1, .ignore_value = true};
	ck_assert_int_eq(mvcc_put(s, &rq2, &rp), 0);
	mvcc_put_resp_done(&rp);
	ck_assert_int_eq(h_get(s, "k", 0, &kv), 0);
	ck_assert_int_eq(kv.lease, 0);
	ck_assert_int_eq(kv.version, 3);
	ck_assert_mem_eq(kv.value, "v2", 2);
	mvcc_kv_done(&kv);
	/* ignore_* on a missing key: key not found, no revision used. */
	rq2.key = (const uint8_t *)"missing";
	rq2.key_len = 7;
	ck_assert_int_eq(mvcc_put(s, &rq2, &rp), -ERR_KEY_NOT_FOUND);
	ck_assert_int_eq(mvcc_current_rev(s), 4);
	rq2.key_len = 0;
	ck_assert_int_eq(mvcc_put(s, &rq2, &rp), -ERR_EMPTY_KEY);
	mvcc_close(s);
}
END_TEST

static struct mvcc_store *abc_store(void)
{
	struct mvcc_store *s = h_open(testlib_tmpdir());
	/* rev 2..7 */
	h_put(s, "a", "3");
	h_put(s, "b", "2");
	h_put(s, "c", "1");
	h_put(s, "a\xff", "5");
	h_put(s, "b", "2b");
	h_put(s, "d", "0");
	return s;
}

START_TEST(test_ranges_single_interval_prefix_from_key_and_all)
{
	struct mvcc_store *s = abc_store();
	char buf[256];
	struct mvcc_range_resp rp;
	struct mvcc_range_req rq = h_rq("b", NULL);
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "b");
	mvcc_range_resp_done(&rp);
	rq = h_rq("a", "c");
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a,a\xff,b");
	ck_assert_int_eq(rp.count, 3);
	ck_assert_int_eq(rp.header_revision, 7);
	mvcc_range_resp_done(&rp);
	/* Prefix "a": range_end "b". */
	rq = h_rq("a", "b");
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a,a\xff");
	mvcc_range_resp_done(&rp);
	/* From key: range_end "\0". */
	rq = h_rq("b", "");
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "b,c,d");
	mvcc_range_resp_done(&rp);
	/* All keys: key "\0", range_end "\0". */
	static const uint8_t zero[1] = {0};
	struct mvcc_range_req all = {
	    .key = zero, .key_len = 1, .range_end = zero, .range_end_len = 1};
	h_range(s, &all, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a,a\xff,b,c,d");
	mvcc_range_resp_done(&rp);
	/* range_end <= key is empty. */
	rq = h_rq("c", "b");
	h_range(s, &rq, &rp);
	ck_assert_uint_eq(rp.n_kvs, 0);
	mvcc_range_resp_done(&rp);
	rq = h_rq("c", "c");
	h_range(s, &rq, &rp);
	ck_assert_uint_eq(rp.n_kvs, 0);
	mvcc_range_resp_done(&rp);
	/* At a past revision: before "c" existed and b's second version. */
	rq = h_rq("a", "");
	rq.revision = 3;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a,b");
	ck_assert_int_eq(rp.header_revision, 7);
	ck_assert_mem_eq(rp.kvs[1].value, "2", 1);
	ck_assert_uint_eq(rp.kvs[1].value_len, 1);
	mvcc_range_resp_done(&rp);
	rq.revision = 8;
	ck_assert_int_eq(mvcc_range(s, &rq, &rp), -ERR_FUTURE_REV);
	mvcc_close(s);
}
END_TEST

START_TEST(test_range_limit_count_keys_only_and_sort)
{
	struct mvcc_store *s = abc_store();
	char buf[256];
	struct mvcc_range_resp rp;
	struct mvcc_range_req rq = h_rq("a", "");
	rq.limit = 2;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a,a\xff");
	ck_assert(rp.more);
	ck_assert_int_eq(rp.count, 5);
	mvcc_range_resp_done(&rp);
	rq.limit = 5;
	h_range(s, &rq, &rp);
	ck_assert(!rp.more);
	mvcc_range_resp_done(&rp);
	/* count_only */
	rq.limit = 0;
	rq.count_only = true;
	h_range(s, &rq, &rp);
	ck_assert_uint_eq(rp.n_kvs, 0);
	ck_assert_int_eq(rp.count, 5);
	mvcc_range_resp_done(&rp);
	rq.count_only = false;
	rq.keys_only = true;
	h_range(s, &rq, &rp);
	ck_assert_uint_eq(rp.kvs[0].value_len, 0);
	ck_assert_int_eq(rp.kvs[0].version, 1);
	mvcc_range_resp_done(&rp);
	rq.keys_only = false;
	/* Sort by value descending with limit 2: values 5,3 (a\xff, a). */
	rq.sort_target = MVCC_SORT_VALUE;
	rq.sort_order = MVCC_SORT_DESCEND;
	rq.limit = 2;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a\xff,a");
	ck_assert(rp.more);
	ck_assert_int_eq(rp.count, 5);
	mvcc_range_resp_done(&rp);
	/* Sort by mod ascending: a(2) c(4) a\xff(5) b(6) d(7). */
	rq.sort_target = MVCC_SORT_MOD;
	rq.sort_order = MVCC_SORT_ASCEND;
	rq.limit = 0;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a,c,a\xff,b,d");
	mvcc_range_resp_done(&rp);
	/* Version descending: b(2) first, then ties in key order. */
	rq.sort_target = MVCC_SORT_VERSION;
	rq.sort_order = MVCC_SORT_DESCEND;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "b,a,a\xff,c,d");
	mvcc_range_resp_done(&rp);
	/* Key descending. */
	rq.sort_target = MVCC_SORT_KEY;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "d,c,b,a\xff,a");
	mvcc_range_resp_done(&rp);
	/* Create ascending: b created at 3 keeps it. */
	rq.sort_target = MVCC_SORT_CREATE;
	rq.sort_order = MVCC_SORT_ASCEND;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a,b,c,a\xff,d");
	mvcc_range_resp_done(&rp);
	/* etcd compat: a non-key target with order NONE sorts ascending only
	 * the limit+1 keys fetched in key order. */
	rq.sort_target = MVCC_SORT_VALUE;
	rq.sort_order = MVCC_SORT_NONE;
	rq.limit = 2;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "b,a");
	ck_assert(rp.more);
	mvcc_range_resp_done(&rp);
	mvcc_close(s);
}
END_TEST

START_TEST(test_range_min_max_filters_do_not_change_count)
{
	struct mvcc_store *s = abc_store();
	char buf[256];
	struct mvcc_range_resp rp;
	struct mvcc_range_req rq = h_rq("a", "");
	rq.min_mod_revision = 4;
	rq.max_mod_revision = 6;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a\xff,b,c");
	ck_assert_int_eq(rp.count, 5);
	mvcc_range_resp_done(&rp);
	rq = h_rq("a", "");
	rq.min_create_revision = 3;
	rq.max_create_revision = 5;
	rq.limit = 1;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "a\xff");
	ck_assert(rp.more);
	mvcc_range_resp_done(&rp);
	mvcc_close(s);
}
END_TEST

START_TEST(test_binary_and_long_keys_keep_order)
{
	struct mvcc_store *s = h_open(testlib_tmpdir());
	static const uint8_t k0[] = {'x', 0, 'y'};
	static const uint8_t k1[] = {'x', 0};
	static const uint8_t k2[] = {'x'};
	h_putb(s, k0, sizeof(k0), "0", 1, 0);
	h_putb(s, k1, sizeof(k1), "1", 1, 0);
	h_putb(s, k2, sizeof(k2), "2", 1, 0);
	/* Long keys sharing long prefixes: 511, 512, 100000 bytes. */
	size_t sizes[] = {399, 400, 401, 511, 512, 100000};
	size_t ns = sizeof(sizes) / sizeof(sizes[0]);
	uint8_t *big = mem_alloc(100001);
	ck_assert_ptr_nonnull(big);
	memset(big, 'y', 100001);
	for (size_t i = 0; i < ns; i++) {
		h_putb(s, big, sizes[i], &i, sizeof(i), 0);
	}
	/* A long key differing only in its last byte. */
	big[99999] = 'z';
	h_putb(s, big, 100000, "z", 1, 0);
	big[99999] = 'w';
	h_putb(s, big, 100000, "w", 1, 0);
	big[99999] = 'y';
	/* Update one: version 2. */
	h_putb(s, big, 512, "u", 1, 0);

	static const uint8_t zero[1] = {0};
	struct mvcc_range_req rq = {
	    .key = zero, .key_len = 1, .range_end = zero, .range_end_len = 1};
	struct mvcc_range_resp rp;
	h_range(s, &rq, &rp);
	ck_assert_uint_eq(rp.n_kvs, 3 + ns + 2);
	ck_assert_uint_eq(rp.kvs[0].key_len, 1);
	ck_assert_uint_eq(rp.kvs[1].key_len, 4 - 2);
	ck_assert_uint_eq(rp.kvs[2].key_len, 3);
	/* Order: 399, 400, 401, 511, 512, 100000 "w" < "y" < "z". */
	size_t want[] = {399, 400, 401, 511, 512, 100000, 100000, 100000};
	for (size_t i = 0; i < 8; i++) {
		ck_assert_uint_eq(rp.kvs[3 + i].key_len, want[i]);
	}
	ck_assert_uint_eq(rp.kvs[3 + 5].key[99999], 'w');
	ck_assert_uint_eq(rp.kvs[3 + 6].key[99999], 'y');
	ck_assert_uint_eq(rp.kvs[3 + 7].key[99999], 'z');
	ck_assert_int_eq(rp.kvs[3 + 4].version, 2);
	mvcc_range_resp_done(&rp);

	/* A range inside the shared 400-byte prefix: [y*401, y*513). */
	struct mvcc_range_req r2 = {
	    .key = big, .key_len = 401, .range_end = big, .range_end_len = 513};
	h_range(s, &r2, &rp);
	ck_assert_uint_eq(rp.n_kvs, 3);
	mvcc_range_resp_done(&rp);
	/* Delete the 100000-byte one and get it back by exact key. */
	struct mvcc_delete_req dq = {
	    .key = big, .key_len = 100000, .prev_kv = true};
	struct mvcc_delete_resp dp;
	ck_assert_int_eq(mvcc_delete_range(s, &dq, &dp), 0);
	ck_assert_int_eq(dp.deleted, 1);
	ck_assert_uint_eq(dp.prev_kvs[0].key_len, 100000);
	mvcc_delete_resp_done(&dp);
	struct mvcc_range_req r3 = {
	    .key = big, .key_len = 100000, .revision = mvcc_current_rev(s) - 1};
	h_range(s, &r3, &rp);
	ck_assert_uint_eq(rp.n_kvs, 1);
	mvcc_range_resp_done(&rp);
	r3.revision = 0;
	h_range(s, &r3, &rp);
	ck_assert_uint_eq(rp.n_kvs, 0);
	mvcc_range_resp_done(&rp);
	mem_free(big);
	mvcc_close(s);
}
END_TEST

START_TEST(test_delete_range_counts_and_returns_prev_kvs)
{
	struct mvcc_store *s = abc_store();
	struct mvcc_delete_req dq = {.key = (const uint8_t *)"a",
				     .key_len = 1,
				     .range_end = (const uint8_t *)"c",
				     .range_end_len = 1,
				     .prev_kv = true};
	struct mvcc_delete_resp dp;
	ck_assert_int_eq(mvcc_delete_range(s, &dq, &dp), 0);
	ck_assert_int_eq(dp.deleted, 3);
	ck_assert_int_eq(dp.header_revision, 8);
	ck_assert_uint_eq(dp.n_prev_kvs, 3);
	ck_assert_mem_eq(dp.prev_kvs[2].value, "2b", 2);
	mvcc_delete_resp_done(&dp);
	char buf[64];
	struct mvcc_range_req rq = h_rq("a", "");
	struct mvcc_range_resp rp;
	h_range(s, &rq, &rp);
	ck_assert_str_eq(h_keys(&rp, buf, sizeof(buf)), "c,d");
	mvcc_range_resp_done(&rp);
	/* All three tombstones share revision 8 with subs 0..2. */
	struct mvcc_events ev;
	ck_assert_int_eq(mvcc_events_from(s, 8, 0, true, &ev), 0);
	ck_assert_uint_eq(ev.n_evs, 3);
	ck_assert_int_eq(ev.evs[0].type, MVCC_EVENT_DELETE);
	ck_assert_int_eq(ev.evs[0].kv.mod_revision, 8);
	ck_assert_int_eq(ev.evs[0].kv.version, 0);
	ck_assert(ev.evs[1].has_prev_kv);
	ck_assert_int_eq(ev.next_rev, 9);
	mvcc_events_done(&ev);
	mvcc_close(s);
}
END_TEST

static struct mvcc_compare cmp_num(const char *k, enum mvcc_compare_target t,
				   enum mvcc_compare_result r, int64_t n)
{
	struct mvcc_compare c = {.result = r,
				 .target = t,
				 .key = (const uint8_t *)k,
				 .key_len = strlen(k),
				 .number = n};
	return c;
}

static struct mvcc_op op_put(const char *k, const char *v)
{
	struct mvcc_op o = {.type = MVCC_OP_PUT};
	o.u.put.key = (const uint8_t *)k;
	o.u.put.key_len = strlen(k);
	o.u.put.value = (const uint8_t *)v;
	o.u.put.value_len = strlen(v);
	return o;
}

static struct mvcc_op op_get(const char *k)
{
	struct mvcc_op o = {.type = MVCC_OP_RANGE};
	o.u.range = h_rq(k, NULL);
	return o;
}

static struct mvcc_op op_del(const char *k, const char *end)
{
	struct mvcc_op o = {.type = MVCC_OP_DELETE};
	o.u.del.key = (const uint8_t *)k;
	o.u.del.key_len = strlen(k);
	o.u.del.range_end = (const uint8_t *)end;
	o.u.del.range_end_len = end ? strlen(end) : 0;
	return o;
}

START_TEST(test_txn_compare_on_missing_key_and_branches)
{
	struct mvcc_store *s = h_open(testlib_tmpdir());
	/* create-if-absent: CREATE == 0 on a missing key is true. */
	struct mvcc_compare c =
	    cmp_num("k", MVCC_TARGET_CREATE, MVCC_CMP_EQUAL, 0);
	struct mvcc_op succ[] = {op_put("k", "v"), op_get("k")};
	struct mvcc_op fail[] = {op_get("k")};
	struct mvcc_txn_req t = {&c, 1, succ, 2, fail, 1};
	struct mvcc_txn_resp r;
	ck_assert_int_eq(mvcc_txn(s, &t, &r), 0);
	ck_assert(r.succeeded);
	ck_assert_int_eq(r.header_revision, 2);
	ck_assert_uint_eq(r.n_responses, 2);
	ck_assert_int_eq(r.responses[0].u.put.header_revision, 2);
	/* A read after a write in the same txn sees it. */
	ck_assert_uint_eq(r.responses[1].u.range.n_kvs, 1);
	ck_assert_int_eq(r.responses[1].u.range.header_revision, 2);
	mvcc_txn_resp_done(&r);
	/* Second time the key exists: failure branch, read-only, rev 2. */
	ck_assert_int_eq(mvcc_txn(s, &t, &r), 0);
	ck_assert(!r.succeeded);
	ck_assert_int_eq(r.header_revision, 2);
	ck_assert_uint_eq(r.n_responses, 1);
	ck_assert_int_eq(r.responses[0].u.range.kvs[0].version, 1);
	mvcc_txn_resp_done(&r);
	/* VALUE != on a missing key is false (etcd compat). */
	struct mvcc_compare cv = {.result = MVCC_CMP_NOT_EQUAL,
				  .target = MVCC_TARGET_VALUE,
				  .key = (const uint8_t *)"nope",
				  .key_len = 4,
				  .value = (const uint8_t *)"x",
				  .value_len = 1};
	struct mvcc_txn_req t2 = {&cv, 1, NULL, 0, NULL, 0};
	ck_assert_int_eq(mvcc_txn(s, &t2, &r), 0);
	ck_assert(!r.succeeded);
	mvcc_txn_resp_done(&r);
	/* VERSION < 1 on a missing key: compares with 0, true. */
	struct mvcc_compare cl =
	    cmp_num("nope", MVCC_TARGET_VERSION, MVCC_CMP_LESS, 1);
	struct mvcc_txn_req t3 = {&cl, 1, NULL, 0, NULL, 0};
	ck_assert_int_eq(mvcc_txn(s, &t3, &r), 0);
	ck_assert(r.succeeded);
	mvcc_txn_resp_done(&r);
	mvcc_close(s);
}
END_TEST

START_TEST(test_txn_compares_every_target_and_over_a_range)
{
	struct mvcc_store *s = h_open(testlib_tmpdir());
	h_put(s, "a", "1");	      /* 2 */
	h_putb(s, "b", 1, "2", 1, 9); /* 3 */
	h_put(s, "b", "3");	      /* 4, lease cleared */
	struct {
		struct mvcc_compare c;
		bool want;
	} cases[] = {
	    {cmp_num("a", MVCC_TARGET_VERSION, MVCC_CMP_EQUAL, 1), true},
	    {cmp_num("b", MVCC_TARGET_VERSION, MVCC_CMP_GREATER, 1), true},
	    {cmp_num("b", MVCC_TARGET_CREATE, MVCC_CMP_EQUAL, 3), true},
	    {cmp_num("b", MVCC_TARGET_MOD, MVCC_CMP_LESS, 4), false},
	    {cmp_num("b", MVCC_TARGET_MOD, MVCC_CMP_NOT_EQUAL, 3), true},
	    {cmp_num("b", MVCC_TARGET_LEASE, MVCC_CMP_EQUAL, 0), true},
	    {cmp_num("a", MVCC_TARGET_LEASE, MVCC_CMP_GREATER, 0), false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mvcc_txn_req t = {&cases[i].c, 1, NULL, 0, NULL, 0};
		struct mvcc_txn_resp r;
		ck_assert_int_eq(mvcc_txn(s, &t, &r), 0);
		ck_assert_msg(r.succeeded == cases[i].want, "case %zu", i);
		mvcc_txn_resp_done(&r);
	}
	struct mvcc_compare v = {.result = MVCC_CMP_GREATER,
				 .target = MVCC_TARGET_VALUE,
				 .key = (const uint8_t *)"a",
				 .key_len = 1,
				 .range_end = (const uint8_t *)"c",
				 .range_end_len = 1,
				 .value = (const uint8_t *)"0",
				 .value_len = 1};
	struct mvcc_txn_req t = {&v, 1, NULL, 0, NULL, 0};
	struct mvcc_txn_resp r;
	ck_assert_int_eq(mvcc_txn(s, &t, &r), 0);
	ck_assert(r.succeeded); /* "1" and "3" both > "0" */
	mvcc_txn_resp_done(&r);
	v.value = (const uint8_t *)"2";
	ck_assert_int_eq(mvcc_txn(s, &t, &r), 0);
	ck_assert(!r.succeeded); /* "1" is not */
	mvcc_txn_resp_done(&r);
	mvcc_close(s);
}
END_TEST

START_TEST(test_txn_nested_and_duplicate_key_rule)
{
	struct mvcc_store *s = h_open(testlib_tmpdir());
	h_put(s, "x", "0"); /* 2 */
	/* Nested: inner compare sees the state before the outer ops. */
	struct mvcc_compare inner_c =
	    cmp_num("y", MVCC_TARGET_VERSION, MVCC_CMP_EQUAL, 0);
	struct mvcc_op inner_succ[] = {op_put("z", "1")};
	struct mvcc_txn_req inner = {&inner_c, 1, inner_succ, 1, NULL, 0};
	struct mvcc_op outer_succ[] = {op_put("y", "1"),
				       {.type = MVCC_OP_TXN, .u.txn = &inner},
				       op_del("x", NULL)};
	struct mvcc_txn_req outer = {NULL, 0, outer_succ, 3, NULL, 0};
	struct mvcc_txn_resp r;
	ck_assert_int_eq(mvcc_txn(s, &outer, &r), 0);
	ck_assert(r.succeeded);
	ck_assert_int_eq(r.header_revision, 3);
	ck_assert_uint_eq(r.n_responses, 3);
	ck_assert_int_eq(r.responses[1].type, MVCC_OP_TXN);
	ck_assert(r.responses[1].u.txn->succeeded);
	ck_assert_int_eq(r.responses[1].u.txn->header_revision, 0);
	ck_assert_int_eq(r.responses[2].u.del.deleted, 1);
	mvcc_txn_resp_done(&r);
	struct mvcc_events ev;
	ck_assert_int_eq(mvcc_events_from(s, 3, 0, false, &ev), 0);
	ck_assert_uint_eq(ev.n_evs, 3); /* y, z, x deleted: subs 0..2 */
	ck_assert_mem_eq(ev.evs[1].kv.key, "z", 1);
	ck_assert_int_eq(ev.evs[2].type, MVCC_EVENT_DELETE);
	mvcc_events_done(&ev);

	/* Two puts of one key: duplicate; put inside a deleted range too. */
	struct mvcc_op dup[] = {op_put("k", "1"), op_put("k", "2")};
	struct mvcc_txn_req td = {NULL, 0, dup, 2, NULL, 0};
	ck_assert_int_eq(mvcc_txn(s, &td, &r), -ERR_DUPLICATE_KEY);
	struct mvcc_op dd[] = {op_del("a", "m"), op_put("k", "2")};
	struct mvcc_txn_req tdd = {NULL, 0, dd, 2, NULL, 0};
	ck_assert_int_eq(mvcc_txn(s, &tdd, &r), -ERR_DUPLICATE_KEY);
	/* The same key in success and failure is fine. */
	struct mvcc_op f1[] = {op_put("k", "2")};
	struct mvcc_txn_req tsf = {NULL, 0, dup, 1, f1, 1};
	ck_assert_int_eq(mvcc_txn(s, &tsf, &r), 0);
	mvcc_txn_resp_done(&r);
	/* Nested then/else may both put k, but not with an outer put. */
	struct mvcc_txn_req in2 = {NULL, 0, dup, 1, f1, 1};
	struct mvcc_op o2[] = {{.type = MVCC_OP_TXN, .u.txn = &in2}};
	struct mvcc_txn_req t2 = {NULL, 0, o2, 1, NULL, 0};
	ck_assert_int_eq(mvcc_txn(s, &t2, &r), 0);
	mvcc_txn_resp_done(&r);
	struct mvcc_op o3[] = {{.type = MVCC_OP_TXN, .u.txn = &in2},
			       op_put("k", "3")};
	struct mvcc_txn_req t3 = {NULL, 0, o3, 2, NULL, 0};
	ck_assert_int_eq(mvcc_txn(s, &t3, &r), -ERR_DUPLICATE_KEY);
	/* An empty op. */
	struct mvcc_op empty[] = {{.type = MVCC_OP_NONE}};
	struct mvcc_txn_req te = {NULL, 0, empty, 1, NULL, 0};
	ck_assert_int_eq(mvcc_txn(s, &te, &r), -ERR_KEY_NOT_FOUND);
	/* Failed validation used no revision. */
	ck_assert_int_eq(mvcc_current_rev(s), 5);
	mvcc_close(s);
}
END_TEST

/* Maintenance.Hash: equal for equal contents, whatever the applied index. */
START_TEST(test_hash_covers_contents_but_not_the_applied_index)
{
	char d1[512], d2[512];
	struct mvcc_store *a, *b;
	uint32_t ha, hb, hc;
	mvcc_rev ra, rb;

	snprintf(d1, sizeof(d1), "%s/a", testlib_tmpdir());
	snprintf(d2, sizeof(d2), "%s/b", testlib_tmpdir());
	ck_assert_int_eq(mkdir(d1, 0700), 0);
	ck_assert_int_eq(mkdir(d2, 0700), 0);
	a = h_open(d1);
	b = h_open(d2);
	ck_assert_int_eq(mvcc_apply_begin(a, 10, 2), 0);
	h_put(a, "k", "v");
	h_put(a, "l", "w");
	ck_assert_int_eq(mvcc_apply_begin(b, 77, 5), 0);
	h_put(b, "k", "v");
	h_put(b, "l", "w");
	ck_assert_int_eq(mvcc_hash(a, &ha, &ra), 0);
	ck_assert_int_eq(mvcc_hash(b, &hb, &rb), 0);
	ck_assert_uint_eq(ha, hb);
	ck_assert_int_eq(ra, 3);
	ck_assert_int_eq(rb, 3);
	h_put(b, "k", "x");
	ck_assert_int_eq(mvcc_hash(b, &hc, &rb), 0);
	ck_assert_uint_ne(hc, hb);
	ck_assert_int_eq(rb, 4);
	/* Committed and reopened: the same hash. */
	ck_assert_int_eq(mvcc_commit(a), 0);
	mvcc_close(a);
	a = h_open(d1);
	ck_assert_int_eq(mvcc_hash(a, &hc, &ra), 0);
	ck_assert_uint_eq(hc, ha);
	mvcc_close(a);
	mvcc_close(b);
}
END_TEST

START_TEST(test_compaction_keeps_newest_and_rejects_older_reads)
{
	const char *dir = testlib_tmpdir();
	struct mvcc_store *s = h_open(dir);
	h_put(s, "a", "1");	   /* 2 */
	h_put(s, "a", "2");	   /* 3 */
	h_put(s, "b", "1");	   /* 4 */
	h_del(s, "b", NULL, NULL); /* 5 */
	h_put(s, "c", "1");	   /* 6 */
	h_put(s, "a", "3");	   /* 7 */
	uint32_t h_before, h_after;
	mvcc_rev hr, cr;
	ck_assert_int_eq(mvcc_compact(s, 8), -ERR_FUTURE_REV);
	ck_assert_int_eq(mvcc_hash_kv(s, 0, &h_before, &hr, &cr), 0);
	ck_assert_int_eq(mvcc_compact(s, 5), 0);
	ck_assert_int_eq(mvcc_compact(s, 5), -ERR_COMPACTED);
	ck_assert_int_eq(mvcc_compact(s, 3), -ERR_COMPACTED);
	uint32_t h_logical;
	ck_assert_int_eq(mvcc_hash_kv(s, 0, &h_logical, &hr, &cr), 0);
	ck_assert_int_eq(cr, 5);
	ck_assert_int_ne(h_logical, h_before);
	struct mvcc_kv kv;
	ck_assert_int_eq(h_get(s, "a", 4, &kv), -ERR_COMPACTED);
	ck_assert_int_eq(h_get(s, "a", 5, &kv), 0); /* at R is allowed */
	ck_assert_mem_eq(kv.value, "2", 1);
	mvcc_kv_done(&kv);
	bool done = false;
	int steps = 0;
	while (!done) {
		ck_assert_int_eq(mvcc_compact_step(s, 1, &done), 0);
		steps++;
	}
	ck_assert_int_gt(steps, 2);
	ck_assert_int_eq(mvcc_hash_kv(s, 0, &h_after, &hr, &cr), 0);
	ck_assert_int_eq(h_after, h_logical);
	ck_assert_int_eq(h_get(s, "a", 5, &kv), 0);
	ck_assert_mem_eq(kv.value, "2", 1);
	mvcc_kv_done(&kv);
	ck_assert_int_eq(h_get(s, "b", 5, &kv), -ENOENT);
	struct mvcc_events ev;
	ck_assert_int_eq(mvcc_events_from(s, 4, 0, false, &ev), -ERR_COMPACTED);
	ck_assert_int_eq(mvcc_events_from(s, 5, 0, true, &ev), 0);
	ck_assert_uint_eq(ev.n_evs, 2); /* c at 6, a at 7 */
	ck_assert(ev.evs[1].has_prev_kv);
	ck_assert_int_eq(ev.evs[1].prev_kv.mod_revision, 3);
	mvcc_events_done(&ev);
	/* The compacted revision survives a reopen once committed. */
	ck_assert_int_eq(mvcc_commit(s), 0);
	mvcc_close(s);
	s = h_open(dir);
	ck_assert_int_eq(mvcc_compact_rev(s), 5);
	ck_assert_int_eq(mvcc_current_rev(s), 7);
	ck_assert_int_eq(mvcc_hash_kv(s, 0, &h_after, &hr, &cr), 0);
	ck_assert_int_eq(h_after, h_logical);
	mvcc_close(s);
}
END_TEST

static bool lease_has(struct mvcc_store *s, int64_t lease, const char *want)
{
	struct mvcc_keys k;
	ck_assert_int_eq(mvcc_lease_keys(s, lease, &k), 0);
	char buf[128] = "";
	size_t n = 0;
	/* Sorted for a stable comparison. */
	for (size_t i = 0; i < k.n_keys; i++) {
		for (size_t j = i + 1; j < k.n_keys; j++) {
			size_t lj = k.keys[j].key_len, li = k.keys[i].key_len;
			int c = memcmp(k.keys[j].key, k.keys[i].key,
				       lj < li ? lj : li);
			if (c < 0 || (c == 0 && lj < li)) {
				struct mvcc_key t = k.keys[i];
				k.keys[i] = k.keys[j];
				k.keys[j] = t;
			}
		}
	}
	for (size_t i = 0; i < k.n_keys; i++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%.*s",
				      i ? "," : "", (int)k.keys[i].key_len,
				      (char *)k.keys[i].key);
	}
	mvcc_keys_done(&k);
	return strcmp(buf, want) == 0;
}

START_TEST(test_lease_keys_follow_puts_deletes_and_reopen)
{
	const char *dir = testlib_tmpdir();
	struct mvcc_store *s = h_open(dir);
	h_putb(s, "k1", 2, "v", 1, 5);
	h_putb(s, "k2", 2, "v", 1, 5);
	h_putb(s, "k3", 2, "v", 1, 6);
	ck_assert(lease_has(s, 5, "k1,k2"));
	ck_assert(lease_has(s, 6, "k3"));
	ck_assert(lease_has(s, 7, ""));
	h_putb(s, "k1", 2, "v", 1, 0); /* a put without lease detaches */
	struct mvcc_put_req rq = {
	    .key = (const uint8_t *)"k2", .key_len = 2, .ignore_lease = true};
	struct mvcc_put_resp rp;
	ck_assert_int_eq(mvcc_put(s, &rq, &rp), 0);
	mvcc_put_resp_done(&rp);
	ck_assert(lease_has(s, 5, "k2"));
	h_putb(s, "k3", 2, "v", 1, 5); /* moves from 6 to 5 */
	ck_assert(lease_has(s, 5, "k2,k3"));
	ck_assert(lease_has(s, 6, ""));
	h_del(s, "k2", NULL, NULL);
	ck_assert(lease_has(s, 5, "k3"));
	h_putb(s, "k2", 2, "v", 1, 5); /* re-created after delete */
	ck_assert(lease_has(s, 5, "k2,k3"));
	ck_assert_int_eq(mvcc_commit(s), 0);
	mvcc_close(s);
	s = h_open(dir);
	ck_assert(lease_has(s, 5, "k2,k3"));
	mvcc_close(s);
}
END_TEST

static int aux_collect(void *arg, const void *key, size_t key_len,
		       const void *val, size_t val_len)
{
	struct buf *b = arg;
	buf_printf(b, "%.*s=%.*s;", (int)key_len, (const char *)key,
		   (int)val_len, (const char *)val);
	return 0;
}

START_TEST(test_aux_records_share_the_write_transaction)
{
	const char *dir = testlib_tmpdir();
	struct mvcc_store *s = h_open(dir);
	ck_assert_int_eq(mvcc_aux_put(s, "lease/1", 7, "ttl10", 5), 0);
	ck_assert_int_eq(mvcc_aux_put(s, "lease/2", 7, "ttl20", 5), 0);
	ck_assert_int_eq(mvcc_aux_put(s, "member/1", 8, "m", 1), 0);
	ck_assert_int_eq(mvcc_current_rev(s), 1);
	ck_assert_int_eq(mvcc_aux_del(s, "lease/1", 7), 0);
	ck_assert_int_eq(mvcc_aux_del(s, "lease/1", 7), -ENOENT);
	struct buf b = BUF_INIT;
	ck_assert_int_eq(mvcc_aux_scan(s, "lease/", 6, aux_collect, &b), 0);
	ck_assert_str_eq((char *)b.data, "lease/2=ttl20;");
	buf_reset(&b);
	/* Uncommitted aux writes are lost with the transaction. */
	ck_assert_int_eq(mvcc_commit(s), 0);
	ck_assert_int_eq(mvcc_aux_put(s, "lease/3", 7, "x", 1), 0);
	mvcc_close(s);
	s = h_open(dir);
	ck_assert_int_eq(mvcc_aux_scan(s, "", 0, aux_collect, &b), 0);
	ck_assert_str_eq((char *)b.data, "lease/2=ttl20;member/1=m;");
	buf_done(&b);
	mvcc_close(s);
}
END_TEST

/*
 * An allocation failure inside a write either comes before its first change
 * (the store goes on as it was) or after it (the store stops with the error,
 * and reopened it is at its last commit): never a partial write (mvcc.h, 6).
 */
START_TEST(test_failed_allocations_leave_no_partial_write)
{
	const char *dir = testlib_tmpdir();
	struct mvcc_store *s = h_open(dir);
	h_put(s, "a", "3");
	h_put(s, "b", "2");
	h_put(s, "c", "1");
	ck_assert_int_eq(mvcc_commit(s), 0);
	uint32_t h0;
	mvcc_rev hr, cr;
	ck_assert_int_eq(mvcc_hash_kv(s, 0, &h0, &hr, &cr), 0);
	struct mvcc_op ops[3] = {{.type = MVCC_OP_PUT},
				 {.type = MVCC_OP_DELETE},
				 {.type = MVCC_OP_RANGE}};
	ops[0].u.put.key = (const uint8_t *)"new";
	ops[0].u.put.key_len = 3;
	ops[0].u.put.prev_kv = true;
	ops[1].u.del =
	    (struct mvcc_delete_req){.key = (const uint8_t *)"a",
				     .key_len = 1,
				     .range_end = (const uint8_t *)"c",
				     .range_end_len = 1,
				     .prev_kv = true};
	ops[2].u.range = h_rq("a", "");
	struct mvcc_txn_req t = {NULL, 0, ops, 3, NULL, 0};
	int ret = -ENOMEM, before = 0, after = 0;
	long n;
	for (n = 0; n < 1000 && ret == -ENOMEM; n++) {
		struct mvcc_txn_resp r;
		mem_fail_after(n);
		ret = mvcc_txn(s, &t, &r);
		mem_fail_reset();
		if (ret == 0) {
			mvcc_txn_resp_done(&r);
			break;
		}
		ck_assert_int_eq(ret, -ENOMEM);
		uint32_t h;
		int hret = mvcc_hash_kv(s, 0, &h, &hr, &cr);
		if (hret == 0) {
			before++;
		} else {
			/* Stopped: every call fails; reopen at the commit. */
			ck_assert_int_eq(hret, -ENOMEM);
			ck_assert_int_eq(mvcc_commit(s), -ENOMEM);
			after++;
			mvcc_close(s);
			s = h_open(dir);
			ck_assert_int_eq(mvcc_hash_kv(s, 0, &h, &hr, &cr), 0);
		}
		ck_assert_int_eq(mvcc_current_rev(s), 4);
		ck_assert_uint_eq(h, h0);
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_int_gt(before, 2);
	ck_assert_int_gt(after, 2);
	ck_assert_int_eq(mvcc_current_rev(s), 5);
	mvcc_close(s);
}
END_TEST

static Suite *mvcc_suite(void)
{
	Suite *s = suite_create("mvcc");
	TCase *tc = tcase_create("semantics");
	tcase_set_timeout(tc, 60);
	tcase_add_test(
	    tc, test_new_store_is_at_revision_one_and_first_put_gets_two);
	tcase_add_test(
	    tc, test_versions_restart_after_delete_and_tombstones_keep_history);
	tcase_add_test(tc, test_put_options_prev_kv_ignore_value_ignore_lease);
	tcase_add_test(tc, test_ranges_single_interval_prefix_from_key_and_all);
	tcase_add_test(tc, test_range_limit_count_keys_only_and_sort);
	tcase_add_test(tc, test_range_min_max_filters_do_not_change_count);
	tcase_add_test(tc, test_binary_and_long_keys_keep_order);
	tcase_add_test(tc, test_delete_range_counts_and_returns_prev_kvs);
	tcase_add_test(tc, test_txn_compare_on_missing_key_and_branches);
	tcase_add_test(tc, test_txn_compares_every_target_and_over_a_range);
	tcase_add_test(tc, test_txn_nested_and_duplicate_key_rule);
	tcase_add_test(tc,
		       test_compaction_keeps_newest_and_rejects_older_reads);
	tcase_add_test(tc, test_lease_keys_follow_puts_deletes_and_reopen);
	tcase_add_test(tc, test_aux_records_share_the_write_transaction);
	tcase_add_test(tc, test_hash_covers_contents_but_not_the_applied_index);
	tcase_add_test(tc, test_failed_allocations_leave_no_partial_write);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(mvcc_suite)
