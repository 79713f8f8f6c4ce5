/*
 * The same command line given to a real etcd 3.4 (Debian's /usr/bin/etcd)
 * and to config_parse gives the same member and cluster IDs.  etcd logs
 * "starting member <id> in cluster <id>" while bootstrapping, before it
 * contacts any peer, so one etcd process checks a three-member cluster.
 * Skipped (with a note) when etcd is not installed.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "server/config.h"
#include "server/ids.h"
#include "testlib.h"

#define ETCD "/usr/bin/etcd"

/* Wait up to ~20 s for etcd's bootstrap line; 0 when found. */
static int wait_ids(const char *log, char *member, char *cluster)
{
	for (int i = 0; i < 400; i++) {
		char line[1024];
		FILE *f = fopen(log, "r");

		while (f && fgets(line, sizeof(line), f)) {
			const char *p = strstr(line, "starting member ");

			if (p &&
			    sscanf(p, "starting member %16s in cluster %16s",
				   member, cluster) == 2) {
				fclose(f);
				return 0;
			}
		}
		if (f) {
			fclose(f);
		}
		usleep(50 * 1000);
	}
	return -1;
}

START_TEST(test_config_ids_equal_those_of_a_live_etcd)
{
	char addr[32], peer[64], client[64], cluster[512], dir[512], log[512];
	char apu[128];
	char member_hex[17] = "", cluster_hex[17] = "";
	struct config *c = NULL;
	char *msg = NULL;
	pid_t pid;
	int status;

	if (access(ETCD, X_OK) != 0) {
		fprintf(stderr,
			"note: %s not installed; live ID check skipped\n",
			ETCD);
		return;
	}
	ck_assert_int_eq(testlib_loopback_addr(addr, sizeof(addr)), 0);
	snprintf(peer, sizeof(peer), "http://%s:%d", addr,
		 testlib_free_port(addr));
	snprintf(client, sizeof(client), "http://%s:%d", addr,
		 testlib_free_port(addr));
	/* The other two members are never started: etcd need not reach them. */
	snprintf(cluster, sizeof(cluster),
		 "n1=http://%s:1,n2=%s,n3=http://%s:3,n3=http://127.0.0.1:3",
		 addr, peer, addr);
	snprintf(dir, sizeof(dir), "%s/etcd", testlib_tmpdir());
	snprintf(log, sizeof(log), "%s/etcd.log", testlib_tmpdir());
	snprintf(apu, sizeof(apu), "--initial-advertise-peer-urls=%s", peer);
	{
		/* Go spellings of both kinds, as an operator may write them. */
		char *argv[] = {ETCD,
				"--name",
				"n2",
				"--data-dir",
				dir,
				"-listen-peer-urls",
				peer,
				apu,
				"--listen-client-urls",
				client,
				"--advertise-client-urls",
				client,
				"--initial-cluster",
				cluster,
				"--initial-cluster-token",
				"cetcd-live-check",
				NULL};
		int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

		ck_assert_int_eq(config_parse(argc, argv, NULL, &c, &msg), 0);
		pid = testlib_spawn(argv, NULL, log);
		ck_assert_int_gt(pid, 0);
	}
	ck_assert_msg(wait_ids(log, member_hex, cluster_hex) == 0,
		      "etcd logged no IDs; see %s", log);
	testlib_kill(pid, SIGKILL);
	status = testlib_wait(pid, 10000);
	ck_assert_int_ge(status, 0);
	{
		char want[IDS_HEX_LEN], cwant[IDS_HEX_LEN];

		ck_assert_str_eq(ids_format(c->member_id, want), member_hex);
		ck_assert_str_eq(ids_format(c->cluster_id, cwant), cluster_hex);
	}
	config_free(c);
}
END_TEST

static Suite *etcd_ids_suite(void)
{
	Suite *s = suite_create("etcd_ids");
	TCase *tc = tcase_create("live");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_config_ids_equal_those_of_a_live_etcd);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(etcd_ids_suite)
