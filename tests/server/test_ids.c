#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/mem.h"
#include "server/ids.h"
#include "testlib.h"

static uint64_t member(const char *const *urls, size_t n, const char *token)
{
	uint64_t id = 0;

	ck_assert_int_eq(ids_member_id(urls, n, token, -1, &id), 0);
	return id;
}

static void assert_hex(uint64_t id, const char *want)
{
	char hex[IDS_HEX_LEN];

	ck_assert_str_eq(ids_format(id, hex), want);
}

START_TEST(test_ids_reproduce_scenario_a_member_id)
{
	const char *urls[] = {"http://0.0.0.0:2380", "http://127.0.0.1:2380"};
	const char *reversed[] = {"http://127.0.0.1:2380",
				  "http://0.0.0.0:2380"};

	assert_hex(member(urls, 2, "etcd-cluster"), "17ac6c9b1b6e7f0c");
	/* The URLs are sorted before hashing. */
	assert_hex(member(reversed, 2, "etcd-cluster"), "17ac6c9b1b6e7f0c");
}
END_TEST

START_TEST(test_ids_reproduce_scenario_b_member_ids)
{
	const char *u1[] = {"http://192.168.199.101:2380"};
	const char *u2[] = {"http://192.168.199.102:2380"};
	const char *u3[] = {"http://192.168.199.103:2380"};

	assert_hex(member(u1, 1, "etcd-cluster"), "8dc9f79502ff52fe");
	assert_hex(member(u2, 1, "etcd-cluster"), "8fdf9dd965ff87d5");
	assert_hex(member(u3, 1, "etcd-cluster"), "fc380e2e4f60630e");
}
END_TEST

/*
 * A live etcd 3.4.23 cluster (reference etcd-v3.md §3, "Classic 3-node
 * member") reported these member IDs and this cluster ID.
 */
START_TEST(test_ids_match_a_live_etcd_cluster)
{
	const char *u1[] = {"http://127.0.0.1:22380"};
	const char *u2[] = {"http://127.0.0.1:32380"};
	const char *u3[] = {"http://127.0.0.1:42380"};
	uint64_t ids[3], rev[3], cid = 0;

	ids[0] = member(u1, 1, "tok");
	ids[1] = member(u2, 1, "tok");
	ids[2] = member(u3, 1, "tok");
	assert_hex(ids[0], "117b9266988c4966");
	assert_hex(ids[1], "ca7a34e16cff9c1b");
	assert_hex(ids[2], "30cf319feadb6b70");
	ck_assert_int_eq(ids_cluster_id(ids, 3, &cid), 0);
	assert_hex(cid, "c1989089373513ff");
	/* The member IDs are sorted before hashing. */
	rev[0] = ids[2];
	rev[1] = ids[0];
	rev[2] = ids[1];
	cid = 0;
	ck_assert_int_eq(ids_cluster_id(rev, 3, &cid), 0);
	assert_hex(cid, "c1989089373513ff");
}
END_TEST

/*
 * Checked against /usr/bin/etcd 3.4.23 on 2026-11-23: started with
 * --name n1 --initial-advertise-peer-urls
 * http://127.0.0.77:12380,http://127.0.0.1:12381 --initial-cluster-token
 * tokx (initial cluster derived), `etcdctl member list` reported these.
 */
START_TEST(test_ids_match_a_live_etcd_member_with_two_peer_urls)
{
	const char *u[] = {"http://127.0.0.77:12380", "http://127.0.0.1:12381"};
	uint64_t id = member(u, 2, "tokx"), cid = 0;

	assert_hex(id, "d916f55478b6a858");
	ck_assert_int_eq(ids_cluster_id(&id, 1, &cid), 0);
	assert_hex(cid, "9b4b8c275acc78c");
}
END_TEST

/* etcd's well-known IDs of a member started with no flags at all. */
START_TEST(test_ids_of_etcd_default_member)
{
	const char *u[] = {"http://localhost:2380"};
	uint64_t id = member(u, 1, "etcd-cluster"), cid = 0;

	assert_hex(id, "8e9e05c52164694d");
	ck_assert_int_eq(ids_cluster_id(&id, 1, &cid), 0);
	assert_hex(cid, "cdf818194e3a8c32");
}
END_TEST

START_TEST(test_ids_member_add_appends_unix_seconds)
{
	const char *u[] = {"http://127.0.0.1:2380"};
	uint64_t id = 0;

	/* sha1("http://127.0.0.1:2380" "" "1700000000") */
	ck_assert_int_eq(ids_member_id(u, 1, "", 1700000000LL, &id), 0);
	assert_hex(id, "71b3e183c260adbe");
	ck_assert_int_eq(ids_member_id(u, 1, "", -1, &id), 0);
	assert_hex(id, "8927110dc66458af");
}
END_TEST

START_TEST(test_ids_format_and_parse_round_trip)
{
	char hex[IDS_HEX_LEN];
	uint64_t v = 0;

	ck_assert_str_eq(ids_format(0xa, hex), "a");
	ck_assert_str_eq(ids_format(UINT64_MAX, hex), "ffffffffffffffff");
	ck_assert_int_eq(ids_parse("17AC6c9b1b6e7f0c", &v), 0);
	ck_assert(v == 0x17ac6c9b1b6e7f0cULL);
	ck_assert_int_lt(ids_parse("", &v), 0);
	ck_assert_int_lt(ids_parse("12345678901234567", &v), 0);
	ck_assert_int_lt(ids_parse("xyz", &v), 0);
}
END_TEST

START_TEST(test_ids_report_allocation_failure)
{
	const char *u[] = {"http://127.0.0.1:2380"};
	uint64_t id = 7, ids[1] = {1};

	mem_fail_after(0);
	ck_assert_int_eq(ids_member_id(u, 1, "t", -1, &id), -ENOMEM);
	ck_assert_int_eq(ids_cluster_id(ids, 1, &id), -ENOMEM);
	mem_fail_reset();
	ck_assert(id == 7);
}
END_TEST

static Suite *ids_suite(void)
{
	Suite *s = suite_create("ids");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ids_reproduce_scenario_a_member_id);
	tcase_add_test(tc, test_ids_reproduce_scenario_b_member_ids);
	tcase_add_test(tc, test_ids_match_a_live_etcd_cluster);
	tcase_add_test(tc,
		       test_ids_match_a_live_etcd_member_with_two_peer_urls);
	tcase_add_test(tc, test_ids_of_etcd_default_member);
	tcase_add_test(tc, test_ids_member_add_appends_unix_seconds);
	tcase_add_test(tc, test_ids_format_and_parse_round_trip);
	tcase_add_test(tc, test_ids_report_allocation_failure);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(ids_suite)
