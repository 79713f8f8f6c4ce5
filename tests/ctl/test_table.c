/* etcdctl's tables, byte for byte: the scenario's tables and etcd 3.4's
 * recorded NOSPACE table (reference/etcd-3.4-transcripts/nospace-3.4.23.txt). */
#include <stdio.h>
#include <string.h>

#include "agent/ctl_table.h"
#include "base/mem.h"
#include "testlib.h"

static const char *const status_headers[] = {
	"endpoint", "ID", "version", "db size", "is leader", "is learner",
	"raft term", "raft index", "raft applied index", "errors"};

static void check_table(struct ctl_table *t, const char *want)
{
	struct buf out = BUF_INIT;

	ck_assert_int_eq(ctl_table_render(t, &out), 0);
	ck_assert_str_eq((char *)out.data, want);
	buf_done(&out);
	ctl_table_free(t);
}

START_TEST(test_table_renders_the_scenario_endpoint_status_table)
{
	struct ctl_table *t = ctl_table_new(status_headers, 10);
	const char *row[] = {"127.0.0.1:2379", "17ac6c9b1b6e7f0c", "3.5.13", "20 kB",
			     "true", "false", "2", "4", "4", ""};

	ck_assert_int_eq(ctl_table_add_row(t, row), 0);
	check_table(t,
"+----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+\n"
"|    ENDPOINT    |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |\n"
"+----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+\n"
"| 127.0.0.1:2379 | 17ac6c9b1b6e7f0c |  3.5.13 |   20 kB |      true |      false |         2 |          4 |                  4 |        |\n"
"+----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+\n");
}
END_TEST

START_TEST(test_table_renders_the_scenario_health_and_member_tables)
{
	static const char *const hh[] = {"endpoint", "health", "took", "error"};
	static const char *const mh[] = {"ID", "Status", "Name", "Peer Addrs",
					 "Client Addrs", "Is Learner"};
	const char *hrow[] = {"127.0.0.1:2379", "true", "3.571276ms", ""};
	const char *mrow[] = {"17ac6c9b1b6e7f0c", "started", "apisix",
			      "http://0.0.0.0:2380,http://127.0.0.1:2380",
			      "http://0.0.0.0:2379,http://127.0.0.1:2379", "false"};
	struct ctl_table *t = ctl_table_new(hh, 4);

	ck_assert_int_eq(ctl_table_add_row(t, hrow), 0);
	check_table(t,
"+----------------+--------+------------+-------+\n"
"|    ENDPOINT    | HEALTH |    TOOK    | ERROR |\n"
"+----------------+--------+------------+-------+\n"
"| 127.0.0.1:2379 |   true | 3.571276ms |       |\n"
"+----------------+--------+------------+-------+\n");

	t = ctl_table_new(mh, 6);
	ck_assert_int_eq(ctl_table_add_row(t, mrow), 0);
	check_table(t,
"+------------------+---------+--------+-------------------------------------------+-------------------------------------------+------------+\n"
"|        ID        | STATUS  |  NAME  |                PEER ADDRS                 |               CLIENT ADDRS                | IS LEARNER |\n"
"+------------------+---------+--------+-------------------------------------------+-------------------------------------------+------------+\n"
"| 17ac6c9b1b6e7f0c | started | apisix | http://0.0.0.0:2380,http://127.0.0.1:2380 | http://0.0.0.0:2379,http://127.0.0.1:2379 |      false |\n"
"+------------------+---------+--------+-------------------------------------------+-------------------------------------------+------------+\n");
}
END_TEST

START_TEST(test_table_wraps_a_long_error_cell_like_etcdctl)
{
	struct ctl_table *t = ctl_table_new(status_headers, 10);
	const char *row[] = {"127.0.0.1:52379", "866e9665bbc7041f", "3.4.23", "307 kB",
			     "true", "false", "2", "18", "18",
			     "memberID:9686845212206760991 alarm:NOSPACE "};

	ck_assert_int_eq(ctl_table_add_row(t, row), 0);
	check_table(t,
"+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------------------------------+\n"
"|    ENDPOINT     |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX |             ERRORS             |\n"
"+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------------------------------+\n"
"| 127.0.0.1:52379 | 866e9665bbc7041f |  3.4.23 |  307 kB |      true |      false |         2 |         18 |                 18 |   memberID:9686845212206760991 |\n"
"|                 |                  |         |         |           |            |           |            |                    |                 alarm:NOSPACE  |\n"
"+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------------------------------+\n");
}
END_TEST

START_TEST(test_table_wraps_words_with_minimal_raggedness)
{
	static const char *const h[] = {"x"};
	/* 5 words of 9: greedy would put three on the first line (29) and
	 * two on the next; minimal raggedness splits them 2/3 or 3/2 the
	 * same way as tablewriter: lines of 29 and 19 cost 1 + 0 (last). */
	const char *row[] = {"aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee"};
	struct ctl_table *t = ctl_table_new(h, 1);

	ck_assert_int_eq(ctl_table_add_row(t, row), 0);
	check_table(t,
"+--------------------------------+\n"
"|               X                |\n"
"+--------------------------------+\n"
"|  aaaaaaaaa bbbbbbbbb ccccccccc |\n"
"|            ddddddddd eeeeeeeee |\n"
"+--------------------------------+\n");
}
END_TEST

START_TEST(test_humanize_bytes_matches_go_humanize)
{
	static const struct {
		uint64_t n;
		const char *want;
	} cases[] = {
		{0, "0 B"},         {9, "9 B"},          {10, "10 B"},
		{999, "999 B"},     {1000, "1.0 kB"},    {20480, "20 kB"},
		{24576, "25 kB"},   {307200, "307 kB"},  {2100000000, "2.1 GB"},
		{9940, "9.9 kB"},   {9950, "10 kB"},     {1500000, "1.5 MB"},
	};
	char out[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_humanize_bytes(cases[i].n, out, sizeof(out));
		ck_assert_msg(strcmp(out, cases[i].want) == 0, "%llu: got %s want %s",
			      (unsigned long long)cases[i].n, out, cases[i].want);
	}
}
END_TEST

START_TEST(test_table_survives_every_allocation_failure)
{
	const char *row[] = {"127.0.0.1:2379", "17ac6c9b1b6e7f0c", "3.5.13", "20 kB",
			     "true", "false", "2", "4", "4", "a b c d e f g h i j k l m n o p"};

	for (long n = 0; n < 200; n++) {
		struct ctl_table *t;
		struct buf out = BUF_INIT;

		mem_fail_after(n);
		t = ctl_table_new(status_headers, 10);
		if (t != NULL && ctl_table_add_row(t, row) == 0) {
			(void)ctl_table_render(t, &out);
		}
		mem_fail_reset();
		buf_done(&out);
		ctl_table_free(t);
	}
}
END_TEST

static Suite *table_suite(void)
{
	Suite *s = suite_create("ctl_table");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_table_renders_the_scenario_endpoint_status_table);
	tcase_add_test(tc, test_table_renders_the_scenario_health_and_member_tables);
	tcase_add_test(tc, test_table_wraps_a_long_error_cell_like_etcdctl);
	tcase_add_test(tc, test_table_wraps_words_with_minimal_raggedness);
	tcase_add_test(tc, test_humanize_bytes_matches_go_humanize);
	tcase_add_test(tc, test_table_survives_every_allocation_failure);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(table_suite)
