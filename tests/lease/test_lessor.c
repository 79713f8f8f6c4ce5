/*
 * test_lessor.c - the lease table (server/lessor.h) on a real MVCC store in
 * a temporary directory, with the clock passed in by the test.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "mvcc/mvcc.h"
#include "server/lessor.h"
#include "testlib.h"

static struct mvcc_store *open_store(const char *dir)
{
	struct mvcc_options o = {0, 0};
	struct mvcc_store *s;

	ck_assert_int_eq(mvcc_open(dir, &o, &s), 0);
	return s;
}

static int put(struct mvcc_store *s, const char *k, int64_t lease)
{
	struct mvcc_put_req q;
	struct mvcc_put_resp r;
	int ret;

	memset(&q, 0, sizeof(q));
	memset(&r, 0, sizeof(r));
	q.key = (const uint8_t *)k;
	q.key_len = strlen(k);
	q.value = (const uint8_t *)"v";
	q.value_len = 1;
	q.lease = lease;
	ret = mvcc_put(s, &q, &r);
	if (ret >= 0) {
		mvcc_put_resp_done(&r);
	}
	return ret;
}

/* The live value's mod revision of k, or 0 when absent. */
static mvcc_rev mod_rev(struct mvcc_store *s, const char *k)
{
	struct mvcc_range_req q;
	struct mvcc_range_resp r;
	mvcc_rev rev = 0;

	memset(&q, 0, sizeof(q));
	memset(&r, 0, sizeof(r));
	q.key = (const uint8_t *)k;
	q.key_len = strlen(k);
	ck_assert_int_eq(mvcc_range(s, &q, &r), 0);
	if (r.n_kvs == 1) {
		rev = r.kvs[0].mod_revision;
	}
	mvcc_range_resp_done(&r);
	return rev;
}

START_TEST(test_min_ttl_follows_etcds_rule)
{
	/* etcd defaults: 100 ms heartbeat, 1000 ms election = 10 ticks:
	 * 15 * 100 ms = 1.5 s, rounded up. */
	ck_assert_int_eq(lessor_min_ttl(10, 100), 2);
	/* 10 ms / 100 ms: 150 ms -> 1 s. */
	ck_assert_int_eq(lessor_min_ttl(10, 10), 1);
	/* 500 ms / 5000 ms: 7.5 s -> 8 s. */
	ck_assert_int_eq(lessor_min_ttl(10, 500), 8);
	/* Integer division by 2: 3 * 5 / 2 = 7 ticks of 100 ms -> 1 s. */
	ck_assert_int_eq(lessor_min_ttl(5, 100), 1);
	/* 3 * 7 / 2 = 10 ticks of 300 ms = 3 s exactly. */
	ck_assert_int_eq(lessor_min_ttl(7, 300), 3);
}
END_TEST

START_TEST(test_grant_raises_small_ttls_and_refuses_bad_ones)
{
	struct mvcc_store *s = open_store(testlib_tmpdir());
	struct lessor *l;
	int64_t ttl = 0;

	ck_assert_int_eq(lessor_new(s, 5, &l), 0);
	ck_assert_int_eq(lessor_grant(l, 7, 1, 0, &ttl), 0);
	ck_assert_int_eq(ttl, 5);
	ck_assert_int_eq(lessor_ttl(l, 7), 5);
	ck_assert_int_eq(lessor_grant(l, 8, 60, 0, &ttl), 0);
	ck_assert_int_eq(ttl, 60);
	ck_assert_int_eq(lessor_grant(l, 7, 60, 0, &ttl), -ERR_LEASE_EXISTS);
	ck_assert_int_eq(lessor_grant(l, 0, 60, 0, &ttl), -ERR_LEASE_NOT_FOUND);
	ck_assert_int_eq(lessor_grant(l, 9, LESSOR_MAX_TTL + 1, 0, &ttl),
			 -ERR_LEASE_TTL_TOO_LARGE);
	ck_assert_int_eq(lessor_grant(l, 9, LESSOR_MAX_TTL, 0, &ttl), 0);
	ck_assert_uint_eq(lessor_count(l), 3);
	/* A grant does not change the revision. */
	ck_assert_int_eq(mvcc_current_rev(s), 1);
	lessor_free(l);
	mvcc_close(s);
}
END_TEST

START_TEST(test_put_with_unknown_lease_fails_without_effect)
{
	struct mvcc_store *s = open_store(testlib_tmpdir());
	struct lessor *l;
	struct mvcc_op ok_op, bad_op;
	struct mvcc_compare cmp;
	struct mvcc_txn_req t;
	struct mvcc_txn_resp tr;
	int64_t ttl;

	ck_assert_int_eq(lessor_new(s, 1, &l), 0);
	ck_assert_int_eq(lessor_grant(l, 42, 10, 0, &ttl), 0);
	ck_assert_int_eq(put(s, "a", 43), -ERR_LEASE_NOT_FOUND);
	ck_assert_int_eq(mvcc_current_rev(s), 1);
	ck_assert_int_eq(put(s, "a", 42), 0);
	ck_assert_int_eq(put(s, "b", 0), 0);

	/* A txn: only the branch taken is checked, as etcd's checkRequests. */
	memset(&ok_op, 0, sizeof(ok_op));
	ok_op.type = MVCC_OP_PUT;
	ok_op.u.put.key = (const uint8_t *)"c";
	ok_op.u.put.key_len = 1;
	ok_op.u.put.lease = 42;
	bad_op = ok_op;
	bad_op.u.put.lease = 99;
	memset(&cmp, 0, sizeof(cmp));
	cmp.result = MVCC_CMP_EQUAL;
	cmp.target = MVCC_TARGET_VERSION;
	cmp.key = (const uint8_t *)"a";
	cmp.key_len = 1;
	cmp.number = 1; /* true */
	memset(&t, 0, sizeof(t));
	t.compares = &cmp;
	t.n_compares = 1;
	t.success = &ok_op;
	t.n_success = 1;
	t.failure = &bad_op;
	t.n_failure = 1;
	memset(&tr, 0, sizeof(tr));
	ck_assert_int_eq(mvcc_txn(s, &t, &tr), 0);
	mvcc_txn_resp_done(&tr);
	t.success = &bad_op;
	t.failure = &ok_op;
	memset(&tr, 0, sizeof(tr));
	ck_assert_int_eq(mvcc_txn(s, &t, &tr), -ERR_LEASE_NOT_FOUND);
	ck_assert_int_eq(mvcc_current_rev(s), 4);

	/* Without a lessor the store does not check. */
	lessor_free(l);
	ck_assert_int_eq(put(s, "d", 77), 0);
	mvcc_close(s);
}
END_TEST

START_TEST(test_revoke_deletes_every_attached_key_in_one_revision)
{
	struct mvcc_store *s = open_store(testlib_tmpdir());
	struct lessor *l;
	struct mvcc_keys keys;
	int64_t ttl;
	mvcc_rev before;

	ck_assert_int_eq(lessor_new(s, 1, &l), 0);
	ck_assert_int_eq(lessor_grant(l, 1, 10, 0, &ttl), 0);
	ck_assert_int_eq(lessor_grant(l, 2, 10, 0, &ttl), 0);
	ck_assert_int_eq(put(s, "k3", 1), 0);
	ck_assert_int_eq(put(s, "k1", 1), 0);
	ck_assert_int_eq(put(s, "k2", 1), 0);
	ck_assert_int_eq(put(s, "other", 2), 0);
	/* Moved to no lease: not deleted with lease 1. */
	ck_assert_int_eq(put(s, "moved", 1), 0);
	ck_assert_int_eq(put(s, "moved", 0), 0);
	ck_assert_int_eq(mvcc_lease_keys(s, 1, &keys), 0);
	ck_assert_uint_eq(keys.n_keys, 3);
	mvcc_keys_done(&keys);
	before = mvcc_current_rev(s);
	ck_assert_int_eq(lessor_revoke(l, 1), 0);
	ck_assert_int_eq(mvcc_current_rev(s), before + 1);
	ck_assert_int_eq(mod_rev(s, "k1"), 0);
	ck_assert_int_eq(mod_rev(s, "k2"), 0);
	ck_assert_int_eq(mod_rev(s, "k3"), 0);
	ck_assert_int_ne(mod_rev(s, "other"), 0);
	ck_assert_int_ne(mod_rev(s, "moved"), 0);
	ck_assert(!lessor_exists(l, 1));
	ck_assert_int_eq(lessor_revoke(l, 1), -ERR_LEASE_NOT_FOUND);
	/* A lease without keys: no new revision. */
	ck_assert_int_eq(lessor_grant(l, 3, 10, 0, &ttl), 0);
	before = mvcc_current_rev(s);
	ck_assert_int_eq(lessor_revoke(l, 3), 0);
	ck_assert_int_eq(mvcc_current_rev(s), before);
	lessor_free(l);
	mvcc_close(s);
}
END_TEST

START_TEST(test_leases_persist_with_the_store_commit)
{
	const char *dir = testlib_tmpdir();
	struct mvcc_store *s = open_store(dir);
	struct lessor *l;
	int64_t ttl, *ids;
	size_t n;

	ck_assert_int_eq(lessor_new(s, 1, &l), 0);
	ck_assert_int_eq(lessor_grant(l, -5, 30, 0, &ttl), 0);
	ck_assert_int_eq(lessor_grant(l, 700, 20, 0, &ttl), 0);
	ck_assert_int_eq(lessor_grant(l, 12, 10, 0, &ttl), 0);
	ck_assert_int_eq(lessor_revoke(l, 12), 0);
	ck_assert_int_eq(mvcc_commit(s), 0);
	/* Not committed: lost as a crash would lose it (replayed from the
	 * WAL then). */
	ck_assert_int_eq(lessor_grant(l, 13, 10, 0, &ttl), 0);
	lessor_free(l);
	mvcc_close(s);

	s = open_store(dir);
	ck_assert_int_eq(lessor_new(s, 1, &l), 0);
	ck_assert_int_eq(lessor_ids(l, &ids, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(ids[0], -5);
	ck_assert_int_eq(ids[1], 700);
	mem_free(ids);
	ck_assert_int_eq(lessor_ttl(l, 700), 20);
	ck_assert_int_eq(lessor_ttl(l, -5), 30);
	ck_assert_int_eq(lessor_ttl(l, 13), -ERR_LEASE_NOT_FOUND);
	ck_assert(!lessor_is_primary(l));
	lessor_free(l);
	mvcc_close(s);
}
END_TEST

START_TEST(test_only_a_primary_expires_and_promotion_extends)
{
	struct mvcc_store *s = open_store(testlib_tmpdir());
	struct lessor *l;
	int64_t ttl, ids[4];

	ck_assert_int_eq(lessor_new(s, 1, &l), 0);
	ck_assert_int_eq(lessor_grant(l, 1, 10, 0, &ttl), 0);
	/* Not primary: lives forever, renew and remaining refuse. */
	ck_assert_uint_eq(lessor_expired(l, 1000000, ids, 4), 0);
	ck_assert_int_eq(lessor_renew(l, 1, 0), -ERR_NOT_LEADER);
	ck_assert_int_eq(lessor_remaining(l, 1, 0), -ERR_NOT_LEADER);

	/* Promoted at t=100 s with a 1 s extension: expires at 111 s. */
	lessor_promote(l, 100000, 1000);
	ck_assert_int_eq(lessor_remaining(l, 1, 100000), 11);
	ck_assert_uint_eq(lessor_expired(l, 110999, ids, 4), 0);
	/* Kept alive at 105 s: now 115 s. */
	ck_assert_int_eq(lessor_renew(l, 1, 105000), 10);
	ck_assert_int_eq(lessor_remaining(l, 1, 105500), 9);
	ck_assert_uint_eq(lessor_expired(l, 114999, ids, 4), 0);
	/* A grant on a primary expires TTL from now. */
	ck_assert_int_eq(lessor_grant(l, 2, 3, 112000, &ttl), 0);
	ck_assert_uint_eq(lessor_expired(l, 115000, ids, 4), 2);
	ck_assert_int_eq(ids[0], 1);
	ck_assert_int_eq(ids[1], 2);
	/* Offered once, then again after the retry interval. */
	ck_assert_uint_eq(lessor_expired(l, 116000, ids, 4), 0);
	ck_assert_uint_eq(
	    lessor_expired(l, 115000 + LESSOR_REVOKE_RETRY_MS, ids, 4), 2);
	/* An expired lease is not renewed: its revoke is pending. */
	ck_assert_int_eq(lessor_renew(l, 1, 120000), -EAGAIN);
	ck_assert_int_eq(lessor_remaining(l, 1, 120000), 0);
	ck_assert_int_eq(lessor_renew(l, 99, 120000), -ERR_LEASE_NOT_FOUND);

	/* Demoted: forever again; a new primary gives full TTLs. */
	lessor_demote(l);
	ck_assert_uint_eq(lessor_expired(l, 999999999, ids, 4), 0);
	lessor_promote(l, 200000, 500);
	ck_assert_int_eq(lessor_remaining(l, 1, 200000), 10);
	ck_assert_int_eq(lessor_renew(l, 1, 200000), 10);
	lessor_free(l);
	mvcc_close(s);
}
END_TEST

static Suite *lessor_suite(void)
{
	Suite *s = suite_create("lessor");
	TCase *tc = tcase_create("lessor");

	tcase_add_test(tc, test_min_ttl_follows_etcds_rule);
	tcase_add_test(tc, test_grant_raises_small_ttls_and_refuses_bad_ones);
	tcase_add_test(tc, test_put_with_unknown_lease_fails_without_effect);
	tcase_add_test(tc,
		       test_revoke_deletes_every_attached_key_in_one_revision);
	tcase_add_test(tc, test_leases_persist_with_the_store_commit);
	tcase_add_test(tc, test_only_a_primary_expires_and_promotion_extends);
	suite_add_tcase(s, tc);
	return s;
}

TEST_SUITE(lessor_suite)
