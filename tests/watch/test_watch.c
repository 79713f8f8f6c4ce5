/*
 * test_watch.c - etcd's Watch service end to end: real cetcd member
 * processes (one, or three with a leader SIGKILLed under load) and
 * tests/watch/watch_client.py, a grpcio and raw HTTP client whose messages
 * protoc generates from cetcd's own node/proto files (so the etcd 3.5
 * fields fragment, watch_id and progress_request are there).
 *
 * What each mode checks is listed by the client's output ("ok ..." lines);
 * a test fails when any check fails.  Skipped with a message when
 * /usr/bin/python3 with grpcio, or protoc, is missing.
 */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define MAX_MEMBERS 3

struct cluster {
	int n;
	char addr[MAX_MEMBERS][32];
	int peer_port[MAX_MEMBERS];
	int client_port[MAX_MEMBERS];
	pid_t pid[MAX_MEMBERS];
	char pbdir[512];
	const char *dir; /* one temporary directory for everything */
};

static bool have_deps(void)
{
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import grpc' 2>/dev/null") != 0) {
		fprintf(stderr, "skipped: /usr/bin/python3 with grpcio "
				"(python3-grpcio) not installed\n");
		return false;
	}
	if (system("protoc --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "skipped: protoc (protobuf-compiler) not "
				"installed\n");
		return false;
	}
	return true;
}

/* Python modules for etcd's messages, from cetcd's .proto files. */
static void gen_pb(struct cluster *c)
{
	char cmd[2048];
	const char *src = testlib_src_path("node/proto");

	snprintf(c->pbdir, sizeof(c->pbdir), "%s/pb", c->dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && protoc -I '%s' --python_out='%s' "
		 "'%s/rpc.proto' '%s/kv.proto' '%s/auth.proto'",
		 c->pbdir, src, c->pbdir, src, src, src);
	ck_assert_msg(system(cmd) == 0, "protoc failed: %s", cmd);
}

static void start_cluster(struct cluster *c, int n, char *const env[],
			  const char *extra)
{
	char ic[1024] = "";
	char token[64];

	memset(c, 0, sizeof(*c));
	c->n = n;
	c->dir = testlib_tmpdir();
	gen_pb(c);
	snprintf(token, sizeof(token), "watch-%d", (int)getpid());
	for (int i = 0; i < n; i++) {
		size_t l = strlen(ic);

		ck_assert_int_eq(
		    testlib_loopback_addr(c->addr[i], sizeof(c->addr[i])), 0);
		c->peer_port[i] = testlib_free_port(c->addr[i]);
		c->client_port[i] = testlib_free_port(c->addr[i]);
		ck_assert_int_gt(c->peer_port[i], 0);
		ck_assert_int_gt(c->client_port[i], 0);
		snprintf(ic + l, sizeof(ic) - l, "%sw%d=http://%s:%d",
			 i ? "," : "", i, c->addr[i], c->peer_port[i]);
	}
	for (int i = 0; i < n; i++) {
		char name[32], dir[600], lp[96], ap[96], lc[96], ac[96],
		    icl[1100], tok[96], log[600];
		char *argv[16];
		int k = 0;

		snprintf(name, sizeof(name), "--name=w%d", i);
		snprintf(dir, sizeof(dir), "--data-dir=%s/d%d", c->dir, i);
		snprintf(lp, sizeof(lp), "--listen-peer-urls=http://%s:%d",
			 c->addr[i], c->peer_port[i]);
		snprintf(ap, sizeof(ap),
			 "--initial-advertise-peer-urls=http://%s:%d",
			 c->addr[i], c->peer_port[i]);
		snprintf(lc, sizeof(lc), "--listen-client-urls=http://%s:%d",
			 c->addr[i], c->client_port[i]);
		snprintf(ac, sizeof(ac),
			 "--advertise-client-urls=http://%s:%d", c->addr[i],
			 c->client_port[i]);
		snprintf(icl, sizeof(icl), "--initial-cluster=%s", ic);
		snprintf(tok, sizeof(tok), "--initial-cluster-token=%s", token);
		snprintf(log, sizeof(log), "%s/member%d.log", c->dir, i);
		argv[k++] = (char *)(uintptr_t)testlib_build_path("node/cetcd");
		argv[k++] = name;
		argv[k++] = dir;
		argv[k++] = lp;
		argv[k++] = ap;
		argv[k++] = lc;
		argv[k++] = ac;
		argv[k++] = icl;
		argv[k++] = tok;
		argv[k++] = (char *)"--heartbeat-interval=50";
		argv[k++] = (char *)"--election-timeout=500";
		if (extra) {
			argv[k++] = (char *)(uintptr_t)extra;
		}
		argv[k] = NULL;
		c->pid[i] = testlib_spawn(argv, env, log);
		ck_assert_int_gt(c->pid[i], 0);
	}
}

static void stop_cluster(struct cluster *c)
{
	for (int i = 0; i < c->n; i++) {
		testlib_kill(c->pid[i], SIGKILL);
		testlib_wait(c->pid[i], 5000);
	}
}

/* Run the client in mode against the cluster; fail on a failed check. */
static void run_client(struct cluster *c, const char *mode)
{
	char log[600], script[600], tg[MAX_MEMBERS][96];
	char *argv[8];
	int k = 0, st;
	FILE *fp;
	char line[1024];

	snprintf(log, sizeof(log), "%s/client-%s.log", c->dir, mode);
	snprintf(script, sizeof(script), "%s",
		 testlib_src_path("tests/watch/watch_client.py"));
	argv[k++] = (char *)"/usr/bin/python3";
	argv[k++] = script;
	argv[k++] = c->pbdir;
	argv[k++] = (char *)(uintptr_t)mode;
	for (int i = 0; i < c->n; i++) {
		snprintf(tg[i], sizeof(tg[i]), "%s:%d:%d", c->addr[i],
			 c->client_port[i], (int)c->pid[i]);
		argv[k++] = tg[i];
	}
	argv[k] = NULL;
	pid_t pid = testlib_spawn(argv, NULL, log);
	ck_assert_int_gt(pid, 0);
	st = testlib_wait(pid, 110000);
	fp = fopen(log, "re");
	if (fp) {
		while (fgets(line, sizeof(line), fp)) {
			fputs(line, stderr);
		}
		fclose(fp);
	}
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		for (int i = 0; i < c->n; i++) {
			snprintf(log, sizeof(log), "%s/member%d.log", c->dir,
				 i);
			fprintf(stderr, "--- %s (last lines)\n", log);
			snprintf(line, sizeof(line), "tail -n 15 '%s' >&2", log);
			if (system(line) != 0) {
				fprintf(stderr, "(no log)\n");
			}
		}
	}
	ck_assert_msg(st >= 0, "watch_client.py %s timed out", mode);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "watch_client.py %s failed (its output is above)", mode);
}

START_TEST(test_one_member_serves_every_watch_feature_on_grpc_and_gateway)
{
	struct cluster c;

	if (!have_deps()) {
		return;
	}
	start_cluster(&c, 1, NULL, NULL);
	run_client(&c, "single");
	stop_cluster(&c);
}
END_TEST

START_TEST(test_progress_notify_fragments_and_slow_watcher_cancel)
{
	struct cluster c;
	char *env[] = {(char *)"ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL="
			       "300ms",
		       (char *)"CETCD_WATCH_SLOW_CANCEL_MS=1500", NULL};

	if (!have_deps()) {
		return;
	}
	start_cluster(&c, 1, env, "--max-request-bytes=200000");
	run_client(&c, "tuned");
	stop_cluster(&c);
}
END_TEST

START_TEST(test_three_members_resume_without_gap_across_a_leader_kill)
{
	struct cluster c;

	if (!have_deps()) {
		return;
	}
	start_cluster(&c, 3, NULL, NULL);
	run_client(&c, "cluster");
	stop_cluster(&c);
}
END_TEST

static Suite *watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *one = tcase_create("one");
	TCase *tuned = tcase_create("tuned");
	TCase *three = tcase_create("three");

	tcase_set_timeout(one, 120);
	tcase_set_timeout(tuned, 120);
	tcase_set_timeout(three, 120);
	tcase_add_test(
	    one, test_one_member_serves_every_watch_feature_on_grpc_and_gateway);
	tcase_add_test(tuned,
		       test_progress_notify_fragments_and_slow_watcher_cancel);
	tcase_add_test(three,
		       test_three_members_resume_without_gap_across_a_leader_kill);
	suite_add_tcase(s, one);
	suite_add_tcase(s, tuned);
	suite_add_tcase(s, three);
	return s;
}

TEST_SUITE(watch_suite)
