/*
 * test_services.c - node/api's etcd services (api.h) over real sockets,
 * against the fake member (fake_member.h): the JSON gateway and gRPC give
 * the same answers, errors map as etcd's, /health, /version, /metrics,
 * UNIMPLEMENTED methods, cancellation when the client goes away, bind
 * errors.  The clients are Python (http.client, grpcio with etcd3's
 * generated messages, python3-etcd3) in services_client.py, spawned while
 * this process runs the loop.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/api.h"
#include "api/errmap.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "fake_member.h"
#include "server/config.h"
#include "sys/loop.h"
#include "testlib.h"

#define SELF_ID 1259761490123835750ull
#define PEER_ID 0x8dc9f79502ff52feull

struct fix {
	struct sys_loop *loop;
	char addr[32];
	char url_text[2][64];
	struct config_url url[2];
	struct config_member members[2];
	struct config cfg[2];
	struct member *m[2];
	struct api *api[2];
	char target[2][64];
	int n;
	/* The client being waited for. */
	pid_t pid;
	int status;
	struct sys_timer *poll;
	int waited_ms;
};

static bool have_python_grpc(void)
{
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import grpc, etcd3.etcdrpc' "
		   "2>/dev/null") != 0) {
		fprintf(
		    stderr,
		    "skipped: python3-grpcio or python3-etcd3 not installed\n");
		return false;
	}
	return true;
}

static void fix_start(struct fix *f, int n)
{
	char *msg = NULL;

	memset(f, 0, sizeof(*f));
	f->n = n;
	ck_assert_int_eq(sys_loop_new(&f->loop), 0);
	ck_assert_int_eq(testlib_loopback_addr(f->addr, sizeof(f->addr)), 0);
	f->members[0].name = (char *)"n1";
	f->members[0].id = SELF_ID;
	f->members[1].name = (char *)"n2";
	f->members[1].id = PEER_ID;
	for (int i = 0; i < n; i++) {
		struct config *c = &f->cfg[i];

		snprintf(f->url_text[i], sizeof(f->url_text[i]), "http://%s:0",
			 f->addr);
		f->url[i].url = f->url_text[i];
		f->url[i].scheme = (char *)"http";
		f->url[i].host = f->addr;
		f->url[i].port = 0;
		c->listen_client_urls.v = &f->url[i];
		c->listen_client_urls.n = 1;
		c->max_request_bytes = 1572864;
		c->members = f->members;
		c->n_members = 2;
		c->member_id = SELF_ID;
		ck_assert_int_eq(member_new(f->loop, c, &f->m[i], &msg), 0);
		ck_assert_int_eq(
		    api_serve(f->loop, f->m[i], c, &f->api[i], &msg), 0);
		ck_assert_int_gt(api_port(f->api[i], 0), 0);
		snprintf(f->target[i], sizeof(f->target[i]), "%s:%d", f->addr,
			 api_port(f->api[i], 0));
	}
}

static void fix_stop(struct fix *f)
{
	for (int i = 0; i < f->n; i++) {
		if (f->api[i]) {
			api_shutdown(f->api[i]);
		}
		api_free(f->api[i]);
		member_free(f->m[i]);
	}
	sys_loop_free(f->loop);
}

static void on_poll(struct sys_timer *t, void *arg)
{
	struct fix *f = arg;
	int st = f->pid > 0 ? testlib_wait(f->pid, 0) : 0;

	(void)t;
	f->waited_ms += 20;
	if (st >= 0) {
		f->status = st;
		f->pid = 0;
		sys_loop_stop(f->loop);
	} else if (f->waited_ms > 60000) {
		testlib_kill(f->pid, SIGKILL);
	}
}

/* Run the loop for about ms (the client side is already finished). */
static void fix_pump(struct fix *f, int ms)
{
	struct sys_timer *t;

	ck_assert_int_eq(sys_timer_new(f->loop, on_poll, f, &t), 0);
	f->pid = 0;
	sys_timer_start(t, (uint64_t)ms, 0);
	sys_loop_run(f->loop);
	sys_timer_free(t);
}

/*
 * Run services_client.py mode against target(s) while serving; returns
 * its output in out (NUL-terminated) and its wait status.
 */
static int fix_client(struct fix *f, const char *mode, struct buf *out)
{
	char log[512], script[512], mode_arg[32];
	char *argv[6];
	FILE *fp;
	char chunk[4096];
	size_t n;
	int i = 0;

	snprintf(log, sizeof(log), "%s/client-%s-%d.log", testlib_tmpdir(),
		 mode, (int)getpid());
	unlink(log);
	snprintf(script, sizeof(script), "%s",
		 testlib_src_path("tests/api/services_client.py"));
	argv[i++] = (char *)"/usr/bin/python3";
	argv[i++] = script;
	snprintf(mode_arg, sizeof(mode_arg), "%s", mode);
	argv[i++] = mode_arg;
	argv[i++] = f->target[0];
	if (f->n > 1) {
		argv[i++] = f->target[1];
	}
	argv[i] = NULL;
	f->pid = testlib_spawn(argv, NULL, log);
	ck_assert_int_gt(f->pid, 0);
	f->waited_ms = 0;
	ck_assert_int_eq(sys_timer_new(f->loop, on_poll, f, &f->poll), 0);
	sys_timer_start(f->poll, 20, 20);
	sys_loop_run(f->loop);
	sys_timer_free(f->poll);
	fp = fopen(log, "re");
	ck_assert_ptr_nonnull(fp);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		ck_assert_int_eq(buf_append(out, chunk, n), 0);
	}
	fclose(fp);
	ck_assert_int_eq(buf_append_byte(out, 0), 0);
	out->len--;
	fputs((const char *)out->data, stderr);
	return f->status;
}

static void expect_client_ok(struct fix *f, const char *mode)
{
	struct buf out = BUF_INIT;
	int st = fix_client(f, mode, &out);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "services_client.py %s failed (its output is above)",
		      mode);
	buf_done(&out);
}

START_TEST(test_gateway_and_grpc_give_identical_answers_to_a_table_of_requests)
{
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 2);
	expect_client_ok(&f, "diff");
	fix_stop(&f);
}
END_TEST

START_TEST(test_health_version_metrics_v2_and_unimplemented_methods)
{
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	expect_client_ok(&f, "http");
	fix_stop(&f);
}
END_TEST

/*
 * Shut down once the client's "hold" call reached the member (not merely
 * any call: the put before it may still be pending, and a GOAWAY then
 * would turn the hold call away before it is sent).
 */
static void on_shutdown_timer(struct sys_timer *t, void *arg)
{
	struct fix *f = arg;

	if (fake_member_held(f->m[0]) > 0) {
		api_shutdown(f->api[0]);
		sys_timer_stop(t);
	}
}

START_TEST(test_api_shutdown_stops_new_calls_and_lets_calls_in_flight_finish)
{
	struct sys_timer *t;
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	ck_assert_int_eq(sys_timer_new(f.loop, on_shutdown_timer, &f, &t), 0);
	sys_timer_start(t, 20, 20);
	expect_client_ok(&f, "goaway");
	sys_timer_free(t);
	fix_stop(&f);
}
END_TEST

START_TEST(test_many_calls_in_flight_on_both_protocols)
{
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	expect_client_ok(&f, "burst");
	ck_assert_int_eq(fake_member_received(f.m[0]), 401);
	ck_assert_int_eq(fake_member_pending(f.m[0]), 0);
	fix_stop(&f);
}
END_TEST

START_TEST(test_health_fails_without_leader_unless_serializable)
{
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	fake_member_set_leader(f.m[0], 0);
	expect_client_ok(&f, "noleader");
	fake_member_set_leader(f.m[0], SELF_ID);
	fake_member_set_nospace(f.m[0], true);
	expect_client_ok(&f, "nospace");
	fix_stop(&f);
}
END_TEST

/* A member error, as each protocol must show it (reference §2, §1.9). */
struct err_case {
	int err;
	const char *grpc;
	const char *http;
	const char *health;
};

static const struct err_case err_cases[] = {
    {-ERR_COMPACTED,
     "grpc 11 etcdserver: mvcc: required revision has been compacted\n",
     "http 400 {\"error\":\"etcdserver: mvcc: required revision has been "
     "compacted\","
     "\"code\":11,\"message\":\"etcdserver: mvcc: required revision has been "
     "compacted\"}\n",
     "health 503 {\"health\":\"false\",\"reason\":\"RANGE ERROR:etcdserver: "
     "mvcc: "
     "required revision has been compacted\"}\n"},
    {-ERR_NO_LEADER, "grpc 14 etcdserver: no leader\n",
     "http 503 {\"error\":\"etcdserver: no leader\",\"code\":14,\"message\":"
     "\"etcdserver: no leader\"}\n",
     "health 503 {\"health\":\"false\",\"reason\":\"RANGE ERROR:etcdserver: no "
     "leader\"}\n"},
    {-ERR_TIMEOUT, "grpc 14 etcdserver: request timed out\n",
     "http 503 {\"error\":\"etcdserver: request timed "
     "out\",\"code\":14,\"message\":"
     "\"etcdserver: request timed out\"}\n",
     NULL},
    {-ERR_TOO_MANY_REQUESTS, "grpc 8 etcdserver: too many requests\n",
     "http 429 {\"error\":\"etcdserver: too many "
     "requests\",\"code\":8,\"message\":"
     "\"etcdserver: too many requests\"}\n",
     NULL},
};

START_TEST(test_member_errors_map_to_grpc_status_and_gateway_body)
{
	const struct err_case *c = &err_cases[_i];
	struct buf out = BUF_INIT;
	char want[512];
	struct fix f;
	int st;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	fake_member_fail_next(f.m[0], c->err, 5);
	st = fix_client(&f, "fail", &out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client failed");
	ck_assert_msg(strstr((const char *)out.data, c->grpc), "want %s",
		      c->grpc);
	ck_assert_msg(strstr((const char *)out.data, c->http), "want %s",
		      c->http);
	if (c->health) {
		ck_assert_msg(strstr((const char *)out.data, c->health),
			      "want %s", c->health);
	}
	snprintf(
	    want, sizeof(want),
	    "readyz 503 [+]data_corruption ok|[-]serializable_read failed: %s|"
	    "[-]linearizable_read failed: %s||\n",
	    errmap_lookup(c->err)->message, errmap_lookup(c->err)->message);
	ck_assert_msg(strstr((const char *)out.data, want), "want %s", want);
	buf_done(&out);
	fix_stop(&f);
}
END_TEST

START_TEST(test_a_client_that_goes_away_gets_its_member_request_cancelled)
{
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	expect_client_ok(&f, "cancel");
	fix_pump(&f, 200);
	/* One gRPC call past its deadline, one gateway client that hung up. */
	ck_assert_int_eq(fake_member_received(f.m[0]), 2);
	ck_assert_int_eq(fake_member_cancelled(f.m[0]), 2);
	ck_assert_int_eq(fake_member_pending(f.m[0]), 0);
	fix_stop(&f);
}
END_TEST

START_TEST(test_api_free_cancels_requests_still_waiting_for_the_member)
{
	static const char req[] =
	    "POST /v3/kv/range HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 18\r\n\r\n{\"key\":\"aG9sZA==\"}";
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct fix f;
	int fd;

	fix_start(&f, 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, f.addr, &sa.sin_addr);
	sa.sin_port = htons((uint16_t)api_port(f.api[0], 0));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(send(fd, req, sizeof(req) - 1, 0),
			 (ssize_t)sizeof(req) - 1);
	for (int i = 0; i < 100 && fake_member_pending(f.m[0]) == 0; i++) {
		fix_pump(&f, 20);
	}
	ck_assert_int_eq(fake_member_pending(f.m[0]), 1);
	api_free(f.api[0]);
	f.api[0] = NULL;
	ck_assert_int_eq(fake_member_cancelled(f.m[0]), 1);
	ck_assert_int_eq(fake_member_pending(f.m[0]), 0);
	close(fd);
	fix_stop(&f);
}
END_TEST

START_TEST(test_python_etcd3_client_works_against_the_services)
{
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	expect_client_ok(&f, "etcd3");
	fix_stop(&f);
}
END_TEST

START_TEST(test_debian_etcdctl_works_against_the_services)
{
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	expect_client_ok(&f, "etcdctl");
	fix_stop(&f);
}
END_TEST

START_TEST(test_snapshot_streams_the_store_and_its_sha256_on_both_protocols)
{
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	expect_client_ok(&f, "snapshot");
	fix_stop(&f);
}
END_TEST

START_TEST(test_python_etcd3gw_works_through_the_gateway)
{
	struct fix f;

	if (!have_python_grpc()) {
		return;
	}
	fix_start(&f, 1);
	expect_client_ok(&f, "etcd3gw");
	fix_stop(&f);
}
END_TEST

static double metric_value(struct api *a, const char *name)
{
	struct buf b = BUF_INIT;
	char key[160];
	const char *p;
	double v = -1;

	ck_assert_int_eq(metrics_render(api_metrics(a), &b), 0);
	snprintf(key, sizeof(key), "\n%s ", name);
	p = strstr((const char *)b.data, key);
	if (p) {
		v = strtod(p + strlen(key), NULL);
	}
	buf_done(&b);
	return v;
}

START_TEST(test_leader_changes_are_counted_as_etcd_counts_them)
{
	struct fix f;

	fix_start(&f, 1);
	/* The first leader counts, as etcd's first election does. */
	ck_assert(metric_value(f.api[0],
			       "etcd_server_leader_changes_seen_total") == 1);
	ck_assert(metric_value(f.api[0], "etcd_server_quota_backend_bytes") ==
		  2147483648.0);
	fake_member_set_leader(f.m[0], 0);
	fix_pump(&f, 250);
	ck_assert(metric_value(f.api[0],
			       "etcd_server_leader_changes_seen_total") == 1);
	ck_assert(metric_value(f.api[0], "etcd_server_has_leader") == 0);
	fake_member_set_leader(f.m[0], PEER_ID);
	fix_pump(&f, 250);
	ck_assert(metric_value(f.api[0],
			       "etcd_server_leader_changes_seen_total") == 2);
	fix_pump(&f, 250);
	ck_assert(metric_value(f.api[0],
			       "etcd_server_leader_changes_seen_total") == 2);
	ck_assert(metric_value(f.api[0], "etcd_server_is_leader") == 0);
	fix_stop(&f);
}
END_TEST

START_TEST(test_a_listen_url_that_cannot_be_bound_names_the_url_and_the_fix)
{
	struct sys_loop *loop;
	struct member *m;
	struct api *a = NULL;
	struct config cfg;
	struct config_url url;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char addr[32], text[64];
	char *msg = NULL;
	int fd, port, one = 1;

	ck_assert_int_eq(testlib_loopback_addr(addr, sizeof(addr)), 0);
	port = testlib_free_port(addr);
	ck_assert_int_gt(port, 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, addr, &sa.sin_addr);
	sa.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);

	memset(&cfg, 0, sizeof(cfg));
	snprintf(text, sizeof(text), "http://%s:%d", addr, port);
	url.url = text;
	url.scheme = (char *)"http";
	url.host = addr;
	url.port = (uint16_t)port;
	cfg.listen_client_urls.v = &url;
	cfg.listen_client_urls.n = 1;
	ck_assert_int_eq(sys_loop_new(&loop), 0);
	ck_assert_int_eq(member_new(loop, &cfg, &m, &msg), 0);
	ck_assert_int_eq(api_serve(loop, m, &cfg, &a, &msg), -EADDRINUSE);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, text) && strstr(msg, "listen-client-urls") &&
			  strstr(msg, "choose another port"),
		      "message: %s", msg);
	mem_free(msg);
	member_free(m);
	sys_loop_free(loop);
	close(fd);
}
END_TEST

START_TEST(test_api_serve_survives_allocation_failures)
{
	struct sys_loop *loop;
	struct member *m;
	struct config cfg;
	struct config_url url;
	char addr[32], text[64];
	char *msg = NULL;
	bool ok = false;

	ck_assert_int_eq(testlib_loopback_addr(addr, sizeof(addr)), 0);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(text, sizeof(text), "http://%s:0", addr);
	url.url = text;
	url.scheme = (char *)"http";
	url.host = addr;
	url.port = 0;
	cfg.listen_client_urls.v = &url;
	cfg.listen_client_urls.n = 1;
	ck_assert_int_eq(sys_loop_new(&loop), 0);
	ck_assert_int_eq(member_new(loop, &cfg, &m, &msg), 0);
	for (long n = 0; n < 2000 && !ok; n++) {
		struct api *a = NULL;
		int r;

		mem_fail_after(n);
		r = api_serve(loop, m, &cfg, &a, &msg);
		mem_fail_reset();
		if (r == 0) {
			ok = true;
			api_free(a);
		} else {
			ck_assert_int_eq(r, -ENOMEM);
			ck_assert_ptr_null(a);
			mem_free(msg);
			msg = NULL;
		}
	}
	ck_assert(ok);
	member_free(m);
	sys_loop_free(loop);
}
END_TEST

static Suite *services_suite(void)
{
	Suite *s = suite_create("api_services");
	TCase *tc = tcase_create("services");

	tcase_set_timeout(tc, 120);
	tcase_add_test(
	    tc,
	    test_gateway_and_grpc_give_identical_answers_to_a_table_of_requests);
	tcase_add_test(
	    tc, test_health_version_metrics_v2_and_unimplemented_methods);
	tcase_add_test(tc, test_many_calls_in_flight_on_both_protocols);
	tcase_add_test(
	    tc,
	    test_api_shutdown_stops_new_calls_and_lets_calls_in_flight_finish);
	tcase_add_test(tc,
		       test_health_fails_without_leader_unless_serializable);
	tcase_add_loop_test(
	    tc, test_member_errors_map_to_grpc_status_and_gateway_body, 0,
	    (int)(sizeof(err_cases) / sizeof(err_cases[0])));
	tcase_add_test(
	    tc, test_a_client_that_goes_away_gets_its_member_request_cancelled);
	tcase_add_test(
	    tc, test_api_free_cancels_requests_still_waiting_for_the_member);
	tcase_add_test(tc, test_python_etcd3_client_works_against_the_services);
	tcase_add_test(tc, test_debian_etcdctl_works_against_the_services);
	tcase_add_test(tc, test_python_etcd3gw_works_through_the_gateway);
	tcase_add_test(
	    tc, test_snapshot_streams_the_store_and_its_sha256_on_both_protocols);
	tcase_add_test(tc, test_leader_changes_are_counted_as_etcd_counts_them);
	tcase_add_test(
	    tc,
	    test_a_listen_url_that_cannot_be_bound_names_the_url_and_the_fix);
	tcase_add_test(tc, test_api_serve_survives_allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

TEST_SUITE(services_suite)
