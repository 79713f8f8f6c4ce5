/*
 * The gRPC client against the gRPC server, both on one loop over loopback:
 * unary, errors, bidi ordering, unknown methods, refused connections, a
 * server that goes away mid-stream, cancellation, freeing from callbacks.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "sys/grpc.h"
#include "sys/grpc_client.h"
#include "testlib.h"

static struct event_base *base;
static struct grpc_server *srv;
static struct evconnlistener *lst;
static char addr[32];
static int port;
static int server_closes;

/* --- server side ---------------------------------------------------------- */

static void s_reverse(struct grpc_call *call, const uint8_t *m, size_t n, void *a)
{
	uint8_t tmp[256];

	(void)a;
	ck_assert_uint_le(n, sizeof(tmp));
	for (size_t i = 0; i < n; i++) {
		tmp[i] = m[n - 1 - i];
	}
	grpc_call_send(call, tmp, n);
	grpc_call_finish(call, GRPC_STATUS_OK, NULL);
}

static void s_fail(struct grpc_call *call, const uint8_t *m, size_t n, void *a)
{
	(void)m;
	(void)n;
	(void)a;
	grpc_call_finish(call, GRPC_STATUS_FAILED_PRECONDITION,
			 "etcdserver: no leader \xc3\xa9%");
}

static void s_echo(struct grpc_call *call, const uint8_t *m, size_t n, void *a)
{
	(void)a;
	ck_assert_int_eq(grpc_call_send(call, m, n), 0);
}

static void s_half(struct grpc_call *call, void *a)
{
	(void)a;
	grpc_call_finish(call, GRPC_STATUS_OK, NULL);
}

static void s_close(struct grpc_call *call, void *a)
{
	(void)call;
	(void)a;
	server_closes++;
}

static const struct grpc_method methods[] = {
	{"/t.S/Reverse", GRPC_UNARY, s_reverse, NULL, NULL, s_close, NULL},
	{"/t.S/Fail", GRPC_UNARY, s_fail, NULL, NULL, s_close, NULL},
	{"/t.S/Echo", GRPC_BIDI, s_echo, s_half, NULL, s_close, NULL},
};

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int len, void *arg)
{
	(void)l;
	(void)sa;
	(void)len;
	(void)arg;
	grpc_server_adopt(srv, fd, NULL, 0);
}

static void server_start(void)
{
	struct grpc_server_config cfg = {methods, 3, 1 << 20, 100};
	struct sockaddr_in sa = {.sin_family = AF_INET};

	ck_assert_int_eq(testlib_loopback_addr(addr, sizeof(addr)), 0);
	port = testlib_free_port(addr);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	sa.sin_port = htons((uint16_t)port);
	srv = grpc_server_new(base, &cfg);
	lst = evconnlistener_new_bind(base, on_accept, NULL,
				      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
				      (struct sockaddr *)&sa, sizeof(sa));
	ck_assert_ptr_nonnull(lst);
}

static void server_stop(void)
{
	if (lst != NULL) {
		evconnlistener_free(lst);
		lst = NULL;
	}
	grpc_server_free(srv);
	srv = NULL;
}

/* --- client side ------------------------------------------------------------ */

struct result {
	int n_msgs;
	uint8_t last[256];
	size_t last_len;
	bool in_order;
	bool closed;
	enum grpc_status status;
	char message[128];
};

static int state_changes;
static bool connected_seen, disconnected_seen;
static bool free_in_callback;
static struct grpc_client *cli;

static void c_state(struct grpc_client *c, bool up, int err, void *arg)
{
	(void)arg;
	(void)err;
	state_changes++;
	if (up) {
		connected_seen = true;
	} else {
		disconnected_seen = true;
		if (free_in_callback) {
			grpc_client_free(c);
			cli = NULL;
		}
		event_base_loopbreak(base);
	}
}

static const struct grpc_client_ops cops = {c_state};

static void r_msg(struct grpc_client_call *call, const uint8_t *m, size_t n, void *a)
{
	struct result *r = a;
	char want[16];

	(void)call;
	snprintf(want, sizeof(want), "%d", r->n_msgs);
	if (n != strlen(want) || memcmp(m, want, n) != 0) {
		r->in_order = false;
	}
	r->n_msgs++;
	r->last_len = n < sizeof(r->last) ? n : sizeof(r->last);
	memcpy(r->last, m, r->last_len);
}

static void r_close(struct grpc_client_call *call, enum grpc_status st,
		    const char *msg, void *a)
{
	struct result *r = a;

	(void)call;
	r->closed = true;
	r->status = st;
	snprintf(r->message, sizeof(r->message), "%s", msg ? msg : "");
	event_base_loopbreak(base);
}

static const struct grpc_client_call_ops rops = {r_msg, r_close, NULL};

static void run_until(bool *flag)
{
	uint64_t guard = 0;

	while (!*flag && guard++ < 2000) {
		struct timeval tv = {0, 5000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	ck_assert_msg(*flag, "timed out waiting for the loop");
}

static void setup(void)
{
	base = event_base_new();
	server_start();
	state_changes = 0;
	connected_seen = disconnected_seen = free_in_callback = false;
	server_closes = 0;
	cli = grpc_client_new(base, NULL, addr, port, &cops, NULL);
	ck_assert_ptr_nonnull(cli);
}

static void teardown(void)
{
	grpc_client_free(cli);
	cli = NULL;
	server_stop();
	event_base_free(base);
}

START_TEST(test_grpc_client_unary_call_and_error_status)
{
	struct result r = {.in_order = true}, e = {.in_order = true};
	struct grpc_client_call *call;

	call = grpc_client_start(cli, "/t.S/Reverse", NULL, &rops, &r);
	ck_assert_int_eq(grpc_client_send(call, (const uint8_t *)"abc", 3), 0);
	ck_assert_int_eq(grpc_client_close_send(call), 0);
	run_until(&r.closed);
	ck_assert_int_eq(r.status, GRPC_STATUS_OK);
	ck_assert_int_eq(r.n_msgs, 1);
	ck_assert_mem_eq(r.last, "cba", 3);
	ck_assert(connected_seen);

	call = grpc_client_start(cli, "/t.S/Fail", NULL, &rops, &e);
	grpc_client_send(call, (const uint8_t *)"x", 1);
	grpc_client_close_send(call);
	run_until(&e.closed);
	ck_assert_int_eq(e.status, GRPC_STATUS_FAILED_PRECONDITION);
	ck_assert_str_eq(e.message, "etcdserver: no leader \xc3\xa9%");
}
END_TEST

START_TEST(test_grpc_client_bidi_stream_keeps_order)
{
	struct result r = {.in_order = true};
	const char *hdrs[] = {"cetcd-from", "1", NULL};
	struct grpc_client_call *call =
		grpc_client_start(cli, "/t.S/Echo", hdrs, &rops, &r);

	for (int i = 0; i < 2000; i++) {
		char m[16];
		snprintf(m, sizeof(m), "%d", i);
		ck_assert_int_eq(grpc_client_send(call, (uint8_t *)m, strlen(m)), 0);
	}
	grpc_client_close_send(call);
	run_until(&r.closed);
	ck_assert_int_eq(r.status, GRPC_STATUS_OK);
	ck_assert_int_eq(r.n_msgs, 2000);
	ck_assert(r.in_order);
}
END_TEST

START_TEST(test_grpc_client_unknown_method_is_unimplemented)
{
	struct result r = {.in_order = true};
	struct grpc_client_call *call = grpc_client_start(cli, "/t.S/Nope", NULL, &rops, &r);

	grpc_client_send(call, (const uint8_t *)"", 0);
	grpc_client_close_send(call);
	run_until(&r.closed);
	ck_assert_int_eq(r.status, GRPC_STATUS_UNIMPLEMENTED);
}
END_TEST

START_TEST(test_grpc_client_cancel_reaches_the_server)
{
	struct result r = {.in_order = true};
	struct grpc_client_call *call = grpc_client_start(cli, "/t.S/Echo", NULL, &rops, &r);

	grpc_client_send(call, (const uint8_t *)"0", 1);
	while (r.n_msgs == 0) {
		event_base_loop(base, EVLOOP_ONCE);
	}
	grpc_client_cancel(call);
	run_until(&r.closed);
	ck_assert_int_eq(r.status, GRPC_STATUS_CANCELLED);
	while (server_closes == 0) {
		event_base_loop(base, EVLOOP_ONCE);
	}
	ck_assert_int_eq(server_closes, 1);
}
END_TEST

START_TEST(test_grpc_client_reports_a_server_that_goes_away)
{
	struct result r = {.in_order = true};
	struct grpc_client_call *call = grpc_client_start(cli, "/t.S/Echo", NULL, &rops, &r);

	grpc_client_send(call, (const uint8_t *)"0", 1);
	while (r.n_msgs == 0) {
		event_base_loop(base, EVLOOP_ONCE);
	}
	free_in_callback = true; /* the owner frees the client in on_state */
	server_stop();
	run_until(&r.closed);
	ck_assert_int_eq(r.status, GRPC_STATUS_UNAVAILABLE);
	run_until(&disconnected_seen);
	ck_assert_ptr_null(cli);
}
END_TEST

START_TEST(test_grpc_client_refused_connection_closes_waiting_calls)
{
	struct result r = {.in_order = true};
	struct grpc_client_call *call;

	grpc_client_free(cli);
	server_stop(); /* nothing listens on the port any more */
	cli = grpc_client_new(base, NULL, addr, port, &cops, NULL);
	call = grpc_client_start(cli, "/t.S/Echo", NULL, &rops, &r);
	ck_assert_ptr_nonnull(call);
	grpc_client_send(call, (const uint8_t *)"0", 1);
	run_until(&disconnected_seen);
	ck_assert(r.closed);
	ck_assert_int_eq(r.status, GRPC_STATUS_UNAVAILABLE);
	ck_assert(!connected_seen);
	ck_assert_int_eq(state_changes, 1);
	ck_assert_ptr_null(grpc_client_start(cli, "/t.S/Echo", NULL, &rops, &r));
}
END_TEST

static Suite *grpc_client_suite(void)
{
	Suite *s = suite_create("grpc_client");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_grpc_client_unary_call_and_error_status);
	tcase_add_test(tc, test_grpc_client_bidi_stream_keeps_order);
	tcase_add_test(tc, test_grpc_client_unknown_method_is_unimplemented);
	tcase_add_test(tc, test_grpc_client_cancel_reaches_the_server);
	tcase_add_test(tc, test_grpc_client_reports_a_server_that_goes_away);
	tcase_add_test(tc, test_grpc_client_refused_connection_closes_waiting_calls);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(grpc_client_suite)
