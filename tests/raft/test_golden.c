/*
 * test_golden.c - golden transcripts: a fixed scenario's messages in their
 * one-line text form, compared byte for byte with tests/raft/testdata/.
 * The library is deterministic, so any change in behaviour shows up here as
 * a readable diff.  CETCD_UPDATE_GOLDEN=1 rewrites the files (review the
 * diff before committing it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "harness.h"
#include "testlib.h"

static void compare_golden(const char *name, const struct buf *got)
{
	char rel[256];
	const char *path;
	FILE *f;
	char *want;
	long len;

	snprintf(rel, sizeof(rel), "tests/raft/testdata/%s", name);
	path = testlib_src_path(rel);
	if (getenv("CETCD_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fwrite(got->data, 1, got->len, f);
		fclose(f);
		return;
	}
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "missing golden file %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	want = calloc(1, (size_t)len + 1);
	ck_assert_ptr_nonnull(want);
	ck_assert_uint_eq(fread(want, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	if ((size_t)len != got->len || memcmp(want, got->data, got->len) != 0) {
		fprintf(stderr, "--- want %s\n%s--- got\n%s", path, want,
			(const char *)got->data);
		free(want);
		ck_abort_msg("transcript differs from %s", path);
	}
	free(want);
}

/* Election, a proposal, a partitioned follower catching up, a read. */
START_TEST(test_golden_election_replication_catch_up_and_read)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct buf trace = BUF_INIT;

	net->trace = &trace;
	buf_append_str(&trace, "# campaign 1\n");
	tnet_campaign(net, 1);
	buf_append_str(&trace, "# propose 'a' at 1 with 3 cut off\n");
	tnet_isolate(net, 3);
	ck_assert_int_eq(tnet_propose(net, 1, "a"), 0);
	buf_append_str(&trace, "# heal, heartbeat\n");
	tnet_heal(net);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	buf_append_str(&trace, "# read at 2\n");
	ck_assert_int_eq(
	    raft_read_index(tnet_raft(net, 2), (const uint8_t *)"r", 1), 0);
	tnet_settle(net);
	compare_golden("election.txt", &trace);
	buf_done(&trace);
	tnet_free(net);
}
END_TEST

static Suite *golden_suite(void)
{
	Suite *s = suite_create("raft_golden");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_golden_election_replication_catch_up_and_read);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(golden_suite)
