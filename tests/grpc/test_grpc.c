/*
 * gRPC transport against a real gRPC client (python3-grpcio, which
 * python3-etcd3 installs): unary, streams, errors, deadlines, limits,
 * cancellation and back-pressure, all on one loopback connection.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/grpc.h"
#include "base/mem.h"
#include "testlib.h"

static struct event_base *base;
static struct grpc_server *srv;
static int closes, opens;
static size_t max_queued;
static pid_t client;
static int client_status = -1;

static void count_close(struct grpc_call *call, void *arg)
{
	(void)call;
	(void)arg;
	closes++;
}

static void echo_reversed(struct grpc_call *call, const uint8_t *msg, size_t len,
			  void *arg)
{
	uint8_t *r = mem_alloc(len);

	(void)arg;
	opens++;
	for (size_t i = 0; i < len; i++) {
		r[i] = msg[len - 1 - i];
	}
	ck_assert_int_eq(grpc_call_send(call, r, len), 0);
	ck_assert_int_eq(grpc_call_finish(call, GRPC_STATUS_OK, NULL), 0);
	ck_assert_int_eq(grpc_call_finish(call, GRPC_STATUS_OK, NULL), -EPIPE);
	mem_free(r);
}

static void fail_call(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	(void)msg;
	(void)len;
	(void)arg;
	opens++;
	grpc_call_finish(call, GRPC_STATUS_FAILED_PRECONDITION,
			 "etcdserver: no leader \xc3\xa9%");
}

static void never(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	(void)call;
	(void)msg;
	(void)len;
	(void)arg;
	opens++;
	ck_assert_uint_gt(grpc_call_deadline_ns(call), 0);
}

/* Later: answer from a timer, the shape of a Raft-backed request. */
static struct grpc_call *later_call;
static uint8_t later_msg[16];
static size_t later_len;

static void later_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (later_call != NULL) {
		grpc_call_send(later_call, later_msg, later_len);
		grpc_call_finish(later_call, GRPC_STATUS_OK, NULL);
	}
}

static void later(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	static struct timeval tv = {0, 50000};

	(void)arg;
	opens++;
	later_call = call;
	later_len = len < sizeof(later_msg) ? len : sizeof(later_msg);
	memcpy(later_msg, msg, later_len);
	event_base_once(base, -1, EV_TIMEOUT, later_fire, NULL, &tv);
}

static void later_close(struct grpc_call *call, void *arg)
{
	if (call == later_call) {
		later_call = NULL;
	}
	count_close(call, arg);
}

static void stream_n(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	char m[16];
	int n;

	(void)arg;
	snprintf(m, sizeof(m), "%.*s", (int)(len < 15 ? len : 15), (const char *)msg);
	n = atoi(m);
	opens++;
	for (int i = 0; i < n; i++) {
		snprintf(m, sizeof(m), "%d", i);
		ck_assert_int_eq(grpc_call_send(call, (uint8_t *)m, strlen(m)), 0);
	}
	grpc_call_finish(call, GRPC_STATUS_OK, NULL);
}

static void bidi_msg(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	(void)arg;
	if (grpc_call_data(call) == NULL) {
		opens++;
		grpc_call_set_data(call, call);
	}
	grpc_call_send(call, msg, len);
}

static void bidi_half_close(struct grpc_call *call, void *arg)
{
	(void)arg;
	grpc_call_finish(call, GRPC_STATUS_OK, NULL);
}

/* Flood: 32 MB in 64 KiB messages, produced only while the queue has room. */
#define FLOOD_TOTAL (32u << 20)
#define FLOOD_MSG (64u << 10)
static size_t flood_sent;

static void flood_more(struct grpc_call *call, void *arg)
{
	static uint8_t chunk[FLOOD_MSG];

	(void)arg;
	while (flood_sent < FLOOD_TOTAL) {
		int r = grpc_call_send(call, chunk, sizeof(chunk));
		if (r == -ENOBUFS) {
			return; /* on_writable resumes */
		}
		ck_assert_int_eq(r, 0);
		flood_sent += sizeof(chunk);
		if (grpc_call_queued(call) > max_queued) {
			max_queued = grpc_call_queued(call);
		}
	}
	grpc_call_finish(call, GRPC_STATUS_OK, NULL);
}

static void flood(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	(void)msg;
	(void)len;
	opens++;
	flood_sent = 0;
	flood_more(call, arg);
}

static const struct grpc_method methods[] = {
	{"/test.Echo/Unary", GRPC_UNARY, echo_reversed, NULL, NULL, count_close, NULL},
	{"/test.Echo/Fail", GRPC_UNARY, fail_call, NULL, NULL, count_close, NULL},
	{"/test.Echo/Never", GRPC_UNARY, never, NULL, NULL, count_close, NULL},
	{"/test.Echo/Later", GRPC_UNARY, later, NULL, NULL, later_close, NULL},
	{"/test.Echo/Stream", GRPC_SERVER_STREAM, stream_n, NULL, NULL, count_close, NULL},
	{"/test.Echo/Bidi", GRPC_BIDI, bidi_msg, bidi_half_close, NULL, count_close, NULL},
	{"/test.Echo/Flood", GRPC_SERVER_STREAM, flood, NULL, flood_more, count_close, NULL},
};

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int len, void *arg)
{
	(void)l;
	(void)sa;
	(void)len;
	(void)arg;
	ck_assert_int_eq(grpc_server_adopt(srv, fd, NULL, 0), 0);
}

static void poll_client(evutil_socket_t fd, short what, void *arg)
{
	int st = testlib_wait(client, 0);

	(void)fd;
	(void)what;
	(void)arg;
	if (st >= 0) {
		client_status = st;
		grpc_server_shutdown(srv);
		event_base_loopexit(base, NULL);
	}
}

START_TEST(test_grpc_serves_a_real_grpc_client)
{
	struct grpc_server_config cfg = {methods, sizeof(methods) / sizeof(methods[0]),
					 1u << 20 /* 1 MiB + framing */ , 100};
	char addr[32], target[64];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct evconnlistener *l;
	struct event *poll_ev;
	struct timeval tick = {0, 20000};
	int port;
	char *argv[4];
	char script[4096];

	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import grpc' 2>/dev/null") != 0) {
		fprintf(stderr, "skipped: python3-grpcio not installed\n");
		return;
	}
	cfg.max_recv_msg = (1u << 20) + 16;
	ck_assert_int_eq(testlib_loopback_addr(addr, sizeof(addr)), 0);
	port = testlib_free_port(addr);
	ck_assert_int_gt(port, 0);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	sa.sin_port = htons((uint16_t)port);
	base = event_base_new();
	srv = grpc_server_new(base, &cfg);
	l = evconnlistener_new_bind(base, on_accept, NULL,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
				    (struct sockaddr *)&sa, sizeof(sa));
	ck_assert_ptr_nonnull(l);
	snprintf(target, sizeof(target), "%s:%d", addr, port);
	snprintf(script, sizeof(script), "%s", testlib_src_path("tests/grpc/client.py"));
	argv[0] = "/usr/bin/python3";
	argv[1] = script;
	argv[2] = target;
	argv[3] = NULL;
	client = testlib_spawn(argv, NULL, NULL);
	ck_assert_int_gt(client, 0);
	poll_ev = event_new(base, -1, EV_PERSIST, poll_client, NULL);
	event_add(poll_ev, &tick);
	event_base_dispatch(base);
	event_free(poll_ev);
	evconnlistener_free(l);
	grpc_server_free(srv);
	event_base_free(base);

	ck_assert_msg(WIFEXITED(client_status) && WEXITSTATUS(client_status) == 0,
		      "the gRPC client reported failures (see above)");
	/*
	 * Every dispatched call ended with exactly one on_close: the calls the
	 * handlers saw, plus the oversized request refused before on_message.
	 */
	ck_assert_int_eq(closes, opens + 1);
	ck_assert_uint_eq(flood_sent, FLOOD_TOTAL);
	ck_assert_uint_le(max_queued, GRPC_CALL_MAX_QUEUED + FLOOD_MSG + 5);
}
END_TEST

START_TEST(test_grpc_timeout_header_parses_every_unit)
{
	uint64_t ns;

	ck_assert_int_eq(grpc_parse_timeout("100m", &ns), 0);
	ck_assert_uint_eq(ns, 100000000ull);
	ck_assert_int_eq(grpc_parse_timeout("5S", &ns), 0);
	ck_assert_uint_eq(ns, 5000000000ull);
	ck_assert_int_eq(grpc_parse_timeout("2M", &ns), 0);
	ck_assert_uint_eq(ns, 120000000000ull);
	ck_assert_int_eq(grpc_parse_timeout("1H", &ns), 0);
	ck_assert_int_eq(grpc_parse_timeout("7u", &ns), 0);
	ck_assert_uint_eq(ns, 7000);
	ck_assert_int_eq(grpc_parse_timeout("9n", &ns), 0);
	ck_assert_uint_eq(ns, 9);
	ck_assert_int_lt(grpc_parse_timeout("100", &ns), 0);
	ck_assert_int_lt(grpc_parse_timeout("m", &ns), 0);
	ck_assert_int_lt(grpc_parse_timeout("123456789S", &ns), 0);
	ck_assert_int_lt(grpc_parse_timeout("1x", &ns), 0);
	ck_assert_int_lt(grpc_parse_timeout("-1S", &ns), 0);
}
END_TEST

static Suite *grpc_suite(void)
{
	Suite *s = suite_create("grpc");
	TCase *tc = tcase_create("core");

	signal(SIGPIPE, SIG_IGN);
	tcase_add_test(tc, test_grpc_serves_a_real_grpc_client);
	tcase_add_test(tc, test_grpc_timeout_header_parses_every_unit);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(grpc_suite)
