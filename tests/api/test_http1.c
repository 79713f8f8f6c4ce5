/*
 * test_http1.c - the HTTP/1.1 server and the listener over real loopback
 * sockets.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apitest.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "testlib.h"

static const char *body_str(struct apitest_client *c, int i)
{
	return c->resp[i].body.data != NULL ? (const char *)c->resp[i].body.data
					    : "";
}

static char *post(const char *path, const char *body, const char *extra)
{
	static char req[8192];

	snprintf(
	    req, sizeof(req),
	    "POST %s HTTP/1.1\r\nHost: t\r\n%sContent-Length: %zu\r\n\r\n%s",
	    path, extra ? extra : "", strlen(body), body);
	return req;
}

START_TEST(test_keep_alive_serves_several_requests_on_one_connection)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	for (int i = 0; i < 3; i++) {
		char body[32];

		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		apitest_send_str(&c, post("/v3/kv/range", body, NULL));
		ck_assert(apitest_wait_responses(&c, &s, i + 1));
		ck_assert_int_eq(c.resp[i].status, 200);
		ck_assert_str_eq(body_str(&c, i), body);
		ck_assert_str_eq(apitest_header(&c, i, "Content-Type"),
				 "application/json");
		ck_assert_str_eq(
		    apitest_header(&c, i, "Access-Control-Allow-Origin"), "*");
	}
	ck_assert(!c.eof);
	ck_assert_uint_eq(http1_server_conn_count(s.http), 1);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_pipelined_requests_are_answered_in_request_order)
{
	struct apitest_srv s;
	struct apitest_client c;
	char all[32768];

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	/* held, immediate, held: the immediate answer must wait. */
	snprintf(all, sizeof(all), "%s", post("/v3/kv/put", "A", NULL));
	strcat(all, post("/v3/kv/range", "B", NULL));
	strcat(all, post("/v3/kv/put", "C", NULL));
	apitest_send_str(&c, all);
	for (int i = 0; i < 50 && s.n_held < 2; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_int_eq(s.n_held, 2);
	ck_assert_int_eq(s.n_calls, 3); /* all dispatched at once */
	apitest_read_some(&c);
	ck_assert_int_eq(c.n_resp, 0);
	/* Answer the last first. */
	ck_assert_int_eq(
	    http1_reply(s.held[1], 200, "application/json", "c", 1), 0);
	apitest_pump(&s, 5);
	apitest_read_some(&c);
	ck_assert_int_eq(c.n_resp, 0);
	ck_assert_int_eq(
	    http1_reply(s.held[0], 201, "application/json", "a", 1), 0);
	s.n_held = 0;
	ck_assert(apitest_wait_responses(&c, &s, 3));
	ck_assert_int_eq(c.resp[0].status, 201);
	ck_assert_str_eq(body_str(&c, 0), "a");
	ck_assert_str_eq(body_str(&c, 1), "B");
	ck_assert_str_eq(body_str(&c, 2), "c");
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_chunked_request_body_is_reassembled)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "POST /v3/kv/range HTTP/1.1\r\nHost: t\r\n"
			     "Transfer-Encoding: chunked\r\n\r\n"
			     "5\r\n{\"key\r\n");
	apitest_pump(&s, 5);
	apitest_send_str(&c, "6\r\n\":\"YQ\"\r\n1;ext=1\r\n}\r\n0\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_int_eq(c.resp[0].status, 200);
	ck_assert_str_eq(body_str(&c, 0), "{\"key\":\"YQ\"}");
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_oversized_body_gets_413_with_etcd_error_and_close)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct http1_limits lim;

	http1_limits_default(&lim);
	lim.max_body_bytes = 1000;
	apitest_srv_start(&s, &lim);
	/* Declared too large: refused before the body arrives. */
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "POST /v3/kv/range HTTP/1.1\r\nHost: t\r\n"
			     "Content-Length: 5000\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_int_eq(c.resp[0].status, 413);
	ck_assert_str_eq(body_str(&c, 0),
			 "{\"error\":\"etcdserver: request is too large\","
			 "\"code\":3,\"message\":\"etcdserver: request is too "
			 "large\"}");
	ck_assert_str_eq(apitest_header(&c, 0, "Connection"), "close");
	ck_assert(apitest_wait_eof(&c, &s));
	ck_assert_int_eq(s.n_calls, 0);
	apitest_close(&c);
	/* Chunked: refused when the chunks pass the limit. */
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "POST /v3/kv/range HTTP/1.1\r\nHost: t\r\n"
			     "Transfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 3; i++) {
		char chunk[600];

		memset(chunk, 'x', sizeof(chunk));
		snprintf(chunk, 10, "%x\r\n", 500);
		chunk[5] = 'x';
		memcpy(chunk + 505, "\r\n", 2);
		apitest_send(&c, chunk, 507);
	}
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_int_eq(c.resp[0].status, 413);
	ck_assert(apitest_wait_eof(&c, &s));
	ck_assert_int_eq(s.n_calls, 0);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_oversized_headers_get_431_and_close)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct http1_limits lim;
	char big[2100];

	http1_limits_default(&lim);
	lim.max_header_bytes = 1024;
	apitest_srv_start(&s, &lim);
	apitest_connect(&c, &s, 0);
	memset(big, 'v', sizeof(big));
	memcpy(big, "X-Big: ", 7);
	memcpy(big + sizeof(big) - 3, "\r\n", 3);
	apitest_send_str(&c, "GET /health HTTP/1.1\r\nHost: t\r\n");
	apitest_send_str(&c, big);
	apitest_send_str(&c, "\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_int_eq(c.resp[0].status, 431);
	ck_assert(apitest_wait_eof(&c, &s));
	ck_assert_int_eq(s.n_calls, 0);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_malformed_request_gets_400_and_close_after_earlier_answers)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
			     "GARBAGE\x01 / HTTP/9\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 2));
	ck_assert_int_eq(c.resp[0].status, 200);
	ck_assert_int_eq(c.resp[1].status, 400);
	ck_assert_str_eq(apitest_header(&c, 1, "Connection"), "close");
	ck_assert(apitest_wait_eof(&c, &s));
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_wrong_method_gets_405_with_allow_and_unknown_path_404)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "GET /v3/kv/range HTTP/1.1\r\nHost: t\r\n\r\n");
	apitest_send_str(&c, post("/health", "", NULL));
	apitest_send_str(&c, "GET /nothere HTTP/1.1\r\nHost: t\r\n\r\n");
	apitest_send_str(&c, "GET /v2/keys/foo HTTP/1.1\r\nHost: t\r\n\r\n");
	apitest_send_str(&c,
			 "OPTIONS /v3/kv/range HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 5));
	ck_assert_int_eq(c.resp[0].status, 405);
	ck_assert_str_eq(apitest_header(&c, 0, "Allow"), "POST");
	ck_assert_str_eq(body_str(&c, 0), "Method Not Allowed\n");
	ck_assert_int_eq(c.resp[1].status, 405);
	ck_assert_str_eq(apitest_header(&c, 1, "Allow"), "GET");
	ck_assert_int_eq(c.resp[2].status, 404);
	ck_assert_str_eq(body_str(&c, 2), "404 page not found\n");
	ck_assert_int_eq(c.resp[3].status, 404);
	ck_assert_ptr_nonnull(
	    strstr(body_str(&c, 3), "v2 API is not available"));
	ck_assert_int_eq(c.resp[4].status, 200);
	ck_assert_int_eq(s.n_calls, 0);
	ck_assert(!c.eof);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_v3beta_and_v3alpha_prefixes_reach_v3_handlers)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, post("/v3beta/kv/range", "b", NULL));
	apitest_send_str(&c, post("/v3alpha/kv/range?x=1", "a", NULL));
	apitest_send_str(&c, post("/v3/kv/range", "v", NULL));
	ck_assert(apitest_wait_responses(&c, &s, 3));
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(c.resp[i].status, 200);
		ck_assert_str_eq(apitest_header(&c, i, "X-Path"),
				 "/v3/kv/range");
	}
	ck_assert_str_eq(body_str(&c, 1), "a");
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_handler_reads_query_and_headers_including_empty_ones)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "POST /v3/kv/range?a=1&b HTTP/1.1\r\nHost: t\r\n"
			     "X-Empty:\r\nx-tEST: v1\r\nX-Test: v2\r\n"
			     "Content-Length: 0\r\n\r\n");
	apitest_send_str(&c, "POST /v3/kv/range HTTP/1.1\r\nHost: t\r\n"
			     "X-Empty: \r\nContent-Length: 0\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 2));
	ck_assert_str_eq(apitest_header(&c, 0, "X-Query"), "a=1&b");
	ck_assert_str_eq(apitest_header(&c, 0, "X-Seen-Test"), "v1");
	ck_assert_str_eq(apitest_header(&c, 0, "X-Seen-Empty"), "empty");
	ck_assert_str_eq(apitest_header(&c, 1, "X-Query"), "");
	ck_assert_str_eq(apitest_header(&c, 1, "X-Seen-Test"), "-");
	ck_assert_str_eq(apitest_header(&c, 1, "X-Seen-Empty"), "empty");
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_head_sends_headers_without_body)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	c.head_next[0] = true;
	apitest_send_str(&c, "HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n");
	apitest_send_str(&c, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 2));
	ck_assert_int_eq(c.resp[0].status, 200);
	ck_assert_str_eq(apitest_header(&c, 0, "Content-Length"), "17");
	ck_assert_uint_eq(c.resp[0].body.len, 0);
	ck_assert_str_eq(body_str(&c, 1), "{\"health\":\"true\"}");
	ck_assert(!c.parse_error);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_connection_close_and_http10_close_after_the_answer)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "GET /health HTTP/1.1\r\nHost: t\r\n"
			     "Connection: close\r\n\r\n"
			     "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(apitest_wait_eof(&c, &s));
	ck_assert_int_eq(c.n_complete, 1);
	ck_assert_str_eq(apitest_header(&c, 0, "Connection"), "close");
	apitest_close(&c);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "GET /health HTTP/1.0\r\n\r\n");
	ck_assert(apitest_wait_eof(&c, &s));
	ck_assert_int_eq(c.n_complete, 1);
	ck_assert_int_eq(c.resp[0].status, 200);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_gateway_error_reply_uses_errmap)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, post("/v3/lease/revoke", "{\"ID\":1}", NULL));
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_int_eq(c.resp[0].status, 404);
	ck_assert_str_eq(apitest_header(&c, 0, "Content-Type"),
			 "application/json");
	ck_assert_str_eq(body_str(&c, 0),
			 "{\"error\":\"etcdserver: requested lease not found\","
			 "\"code\":5,\"message\":\"etcdserver: requested lease "
			 "not found\"}");
	apitest_send_str(&c, post("/v3/maintenance/status", "{}", NULL));
	apitest_send_str(&c, post("/v3/kv/txn", "{bad", NULL));
	ck_assert(apitest_wait_responses(&c, &s, 3));
	ck_assert_int_eq(c.resp[1].status, 200);
	ck_assert_str_eq(apitest_header(&c, 1, "Content-Type"),
			 "application/json");
	ck_assert_str_eq(apitest_header(&c, 1, "Grpc-Metadata-Content-Type"),
			 "application/grpc");
	ck_assert_str_eq(body_str(&c, 1), "{\"version\":\"3.5.13\"}");
	ck_assert_int_eq(c.resp[2].status, 400);
	ck_assert_str_eq(body_str(&c, 2),
			 "{\"error\":\"invalid character 'b' looking for "
			 "beginning of object key string\",\"code\":3,"
			 "\"message\":\"invalid character 'b' looking for "
			 "beginning of object key string\"}");
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_stream_sends_one_chunk_per_result_and_ends)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct http1_req *w;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(
	    &c,
	    post("/v3/watch", "{\"create_request\":{\"key\":\"YQ==\"}}", NULL));
	ck_assert(apitest_wait_raw(&c, &s, "{\"created\":true}"));
	ck_assert_int_eq(s.n_held, 1);
	w = s.held[0];
	ck_assert_int_eq(http1_stream_result(w, "{\"events\":[]}", 13), 0);
	ck_assert_int_eq(http1_stream_error(w, -ERR_NO_LEADER), 0);
	ck_assert(apitest_wait_raw(&c, &s, "Service Unavailable"));
	ck_assert_int_eq(c.n_complete, 0);
	/* One chunk per message, each ending in a newline (etcd3gw). */
	ck_assert_ptr_nonnull(
	    strstr((char *)c.raw.data,
		   "\r\n\r\n1c\r\n{\"result\":{\"created\":true}}\n\r\n"
		   "19\r\n{\"result\":{\"events\":[]}}\n\r\n"));
	ck_assert_str_eq(apitest_header(&c, 0, "Transfer-Encoding"), "chunked");
	s.n_held = 0;
	ck_assert_int_eq(http1_stream_end(w), 0);
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_str_eq(body_str(&c, 0),
			 "{\"result\":{\"created\":true}}\n"
			 "{\"result\":{\"events\":[]}}\n"
			 "{\"error\":{\"grpc_code\":14,\"http_code\":503,"
			 "\"message\":\"etcdserver: no leader\","
			 "\"http_status\":\"Service Unavailable\"}}\n");
	/* The connection stays usable after the stream. */
	apitest_send_str(&c, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 2));
	ck_assert_int_eq(c.resp[1].status, 200);
	ck_assert_int_eq(s.n_gone, 0);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_stream_to_an_http10_client_is_raw_and_ends_with_close)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "POST /v3/watch HTTP/1.0\r\nContent-Length: 2\r\n"
			     "\r\n{}");
	ck_assert(apitest_wait_raw(&c, &s, "{\"created\":true}"));
	ck_assert_int_eq(s.n_held, 1);
	ck_assert_int_eq(http1_stream_result(s.held[0], "{\"n\":1}", 7), 0);
	ck_assert_int_eq(http1_stream_end(s.held[0]), 0);
	s.n_held = 0;
	ck_assert(apitest_wait_eof(&c, &s));
	ck_assert_int_eq(c.n_complete, 1);
	ck_assert_str_eq(apitest_header(&c, 0, "Transfer-Encoding"), "");
	ck_assert_str_eq(body_str(&c, 0), "{\"result\":{\"created\":true}}\n"
					  "{\"result\":{\"n\":1}}\n");
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_stream_handler_learns_when_the_client_goes_away)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, post("/v3/watch", "{}", NULL));
	ck_assert(apitest_wait_raw(&c, &s, "{\"created\":true}"));
	ck_assert_int_eq(s.n_held, 1);
	apitest_close(&c);
	for (int i = 0; i < 500 && s.n_gone == 0; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_int_eq(s.n_gone, 1);
	ck_assert_int_eq(s.n_held, 0);
	ck_assert_uint_eq(http1_server_conn_count(s.http), 0);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_held_request_of_a_vanished_client_is_released_on_reply)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct http1_req *held;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, post("/v3/watch", "{}", NULL));
	apitest_send_str(&c, post("/v3/kv/put", "{}", NULL));
	for (int i = 0; i < 500 && s.n_held < 2; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_int_eq(s.n_held, 2);
	held = s.held[1];
	/* Keep the put without a close callback: it must still be freed by
	 * its late reply (ASan checks the rest). */
	http1_req_on_close(held, NULL, NULL);
	apitest_close(&c);
	for (int i = 0; i < 500 && s.n_gone == 0; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_int_eq(s.n_gone, 1);
	ck_assert(http1_req_client_gone(held));
	ck_assert_int_eq(http1_reply(held, 200, NULL, "x", 1), -EPIPE);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_slow_reader_pauses_reading_instead_of_buffering)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct http1_limits lim;
	const size_t big_size = 512 * 1024;
	int n, bound, big = 4 * 1024 * 1024;
	char req[] = "GET /big HTTP/1.1\r\nHost: t\r\n\r\n";
	struct buf all = BUF_INIT;
	unsigned long wmin, wdef, wmax = 4 * 1024 * 1024;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");

	/* The kernel may hold up to tcp_wmem's maximum for the server's
	 * socket; beyond that (plus out_limit and our small receive buffer)
	 * the server must stop taking requests. */
	if (f != NULL) {
		if (fscanf(f, "%lu %lu %lu", &wmin, &wdef, &wmax) != 3) {
			wmax = 4 * 1024 * 1024;
		}
		fclose(f);
	}
	bound = (int)((wmax + 256 * 1024) / big_size) + 3;
	n = bound + 8;
	ck_assert_int_lt(n, APITEST_MAX_RESP);
	http1_limits_default(&lim);
	lim.out_limit = 64 * 1024;
	lim.max_pipelined = (unsigned)n + 1;
	apitest_srv_start(&s, &lim);
	s.big_size = big_size;
	apitest_connect(&c, &s, 16 * 1024);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(buf_append_str(&all, req), 0);
	}
	apitest_send(&c, (const char *)all.data, all.len);
	buf_done(&all);
	apitest_pump(&s, 300);
	ck_assert_int_gt(s.n_big, 0);
	ck_assert_int_le(s.n_big, bound);
	ck_assert_int_eq(
	    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
	ck_assert(apitest_wait_responses(&c, &s, n));
	ck_assert_int_eq(s.n_big, n);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(c.resp[i].body.len, s.big_size);
		ck_assert_int_eq(c.resp[i].body.data[0], 'a' + i % 26);
	}
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

static void on_drain(struct http1_req *req, void *arg)
{
	(void)req;
	(*(int *)arg)++;
}

START_TEST(test_stream_is_told_to_slow_down_and_when_to_go_on)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct http1_limits lim;
	struct http1_req *w;
	char msg[8192];
	int r = 0, sent = 0, drained = 0;
	size_t want;

	http1_limits_default(&lim);
	lim.out_limit = 32 * 1024;
	apitest_srv_start(&s, &lim);
	apitest_connect(&c, &s, 8 * 1024);
	apitest_send_str(&c, post("/v3/watch", "{}", NULL));
	for (int i = 0; i < 500 && s.n_held == 0; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_int_eq(s.n_held, 1);
	w = s.held[0];
	http1_req_on_drain(w, on_drain, &drained);
	memset(msg, '1', sizeof(msg));
	/* The client reads nothing: sooner or later the server says 1. */
	while (r == 0 && sent < 10000) {
		r = http1_stream_result(w, msg, sizeof(msg));
		sent++;
	}
	ck_assert_int_eq(r, 1);
	ck_assert_int_eq(drained, 0);
	/* {"result":<msg>}\n per message, after the created message. */
	want = 28 + (size_t)sent * (sizeof(msg) + 12);
	for (int i = 0; i < 2000 && drained == 0; i++) {
		apitest_read_some(&c);
		apitest_pump(&s, 1);
	}
	ck_assert_int_eq(drained, 1);
	s.n_held = 0;
	ck_assert_int_eq(http1_stream_end(w), 0);
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_uint_eq(c.resp[0].body.len, want);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_request_not_completed_in_time_gets_408)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct http1_limits lim;

	http1_limits_default(&lim);
	lim.request_timeout_ms = 200;
	apitest_srv_start(&s, &lim);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "POST /v3/kv/range HTTP/1.1\r\nHost: t\r\n"
			     "Content-Length: 10\r\n\r\nabc");
	ck_assert(apitest_wait_eof(&c, &s));
	ck_assert_int_eq(c.n_complete, 1);
	ck_assert_int_eq(c.resp[0].status, 408);
	ck_assert_int_eq(s.n_calls, 0);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_idle_keep_alive_connection_is_closed)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct http1_limits lim;

	http1_limits_default(&lim);
	lim.idle_timeout_ms = 150;
	apitest_srv_start(&s, &lim);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert(apitest_wait_eof(&c, &s));
	apitest_close(&c);
	apitest_pump(&s, 5);
	ck_assert_uint_eq(http1_server_conn_count(s.http), 0);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_h2_preface_goes_to_the_h2_hook)
{
	struct apitest_srv s;
	struct apitest_client c;
	const char *preface = LISTENER_H2_PREFACE;

	apitest_srv_start(&s, NULL);
	listener_set_h2(s.lis, NULL, NULL);
	/* Without a hook: SETTINGS, then GOAWAY, then close. */
	apitest_connect(&c, &s, 0);
	c.parse_error = true; /* not HTTP/1.1 */
	apitest_send(&c, preface, 10);
	apitest_pump(&s, 5);
	apitest_send(&c, preface + 10, LISTENER_H2_PREFACE_LEN - 10);
	ck_assert(apitest_wait_eof(&c, &s));
	ck_assert_uint_ge(c.raw.len, 9 + 9 + 8);
	ck_assert_int_eq(c.raw.data[3], 0x4);	      /* SETTINGS */
	ck_assert_int_eq(c.raw.data[12], 0x7);	      /* GOAWAY */
	ck_assert_int_eq(c.raw.data[9 + 9 + 7], 0xd); /* HTTP_1_1_REQUIRED */
	apitest_close(&c);
	ck_assert_uint_eq(http1_server_conn_count(s.http), 0);
	/* With a hook: the socket and every byte read go to it. */
	apitest_install_h2(&s);
	apitest_connect(&c, &s, 0);
	apitest_send(&c, preface, LISTENER_H2_PREFACE_LEN);
	apitest_send(&c, "\0\0\0\4\0\0\0\0\0", 9);
	for (int i = 0; i < 500 && s.h2_fd < 0; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_int_ge(s.h2_fd, 0);
	ck_assert_uint_ge(s.h2_pre.len, LISTENER_H2_PREFACE_LEN);
	ck_assert_int_eq(
	    memcmp(s.h2_pre.data, preface, LISTENER_H2_PREFACE_LEN), 0);
	ck_assert_uint_eq(http1_server_conn_count(s.http), 0);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_listener_reports_a_port_in_use)
{
	struct apitest_srv s;
	struct listener *l2;

	apitest_srv_start(&s, NULL);
	ck_assert_int_eq(listener_new(s.base, s.http, &l2), 0);
	ck_assert_int_eq(listener_add(l2, s.addr, (unsigned)s.port),
			 -EADDRINUSE);
	ck_assert_int_eq(listener_add(l2, "no.such.host.invalid", 0), -EINVAL);
	ck_assert_uint_eq(listener_count(l2), 0);
	listener_free(l2);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_expect_100_continue_is_answered_before_the_body)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c,
			 "POST /v3/kv/range HTTP/1.1\r\nHost: t\r\n"
			 "Expect: 100-continue\r\nContent-Length: 4\r\n\r\n");
	ck_assert(apitest_wait_raw(&c, &s, "HTTP/1.1 100 Continue\r\n\r\n"));
	ck_assert_int_eq(c.n_complete, 0);
	apitest_send_str(&c, "body");
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_int_eq(c.resp[0].status, 200);
	ck_assert_str_eq(body_str(&c, 0), "body");
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_server_free_releases_requests_their_owners_never_finish)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, post("/v3/kv/put", "{}", NULL));
	apitest_send_str(&c, post("/v3/kv/put", "{}", NULL));
	for (int i = 0; i < 500 && s.n_held < 2; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_int_eq(s.n_held, 2);
	/* Owners that ignore the close: http1_server_free frees them (ASan
	 * reports a leak or a double free otherwise). */
	http1_req_on_close(s.held[0], NULL, NULL);
	http1_req_on_close(s.held[1], NULL, NULL);
	s.n_held = 0;
	apitest_srv_stop(&s);
	apitest_close(&c);
}
END_TEST

START_TEST(test_drain_closes_idle_connections_and_answers_busy_ones_last)
{
	struct apitest_srv s;
	struct apitest_client idle, busy;

	apitest_srv_start(&s, NULL);
	apitest_connect(&idle, &s, 0);
	apitest_connect(&busy, &s, 0);
	apitest_send_str(&idle, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(apitest_wait_responses(&idle, &s, 1));
	apitest_send_str(&busy, post("/v3/kv/put", "{}", NULL));
	for (int i = 0; i < 500 && s.n_held == 0; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_int_eq(s.n_held, 1);
	listener_free(s.lis);
	s.lis = NULL;
	http1_server_drain(s.http);
	ck_assert(apitest_wait_eof(&idle, &s));
	apitest_pump(&s, 5);
	apitest_read_some(&busy);
	ck_assert(!busy.eof);
	ck_assert_int_eq(http1_reply_json(s.held[0], "{}", 2), 0);
	s.n_held = 0;
	ck_assert(apitest_wait_eof(&busy, &s));
	ck_assert_int_eq(busy.n_complete, 1);
	ck_assert_str_eq(apitest_header(&busy, 0, "Connection"), "close");
	apitest_close(&idle);
	apitest_close(&busy);
	for (int i = 0; i < 500 && http1_server_conn_count(s.http) > 0; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_uint_eq(http1_server_conn_count(s.http), 0);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_out_of_descriptors_pauses_accepting_instead_of_spinning)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct rlimit rl;
	int fds[64], n = 0, fd;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	/* Leave no descriptor for accept(). */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	fd = dup(0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	rl.rlim_cur = (rlim_t)fd + 16;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (n < 64 && (fd = dup(0)) >= 0) {
		fds[n++] = fd;
	}
	ck_assert_int_lt(n, 64);
	apitest_pump(&s, 300);
	ck_assert_uint_gt(listener_accept_errors(s.lis), 0);
	ck_assert_uint_lt(listener_accept_errors(s.lis), 20);
	while (n > 0) {
		close(fds[--n]);
	}
	apitest_send_str(&c, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_int_eq(c.resp[0].status, 200);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_curl_posts_a_large_body_with_expect_continue)
{
	struct apitest_srv s;
	char url[128], data[3000], path[512], out[4096];
	const char *dir = testlib_tmpdir();
	FILE *f;
	pid_t pid;
	int st = -ETIMEDOUT;
	size_t n;

	if (access("/usr/bin/curl", X_OK) != 0) {
		printf("skipped: curl not installed\n");
		return;
	}
	apitest_srv_start(&s, NULL);
	memset(data, 'q', sizeof(data) - 1);
	data[sizeof(data) - 1] = '\0';
	snprintf(url, sizeof(url), "http://%s:%d/v3beta/kv/range", s.addr,
		 s.port);
	snprintf(path, sizeof(path), "%s/out", dir);
	{
		char *argv[] = {"curl",
				"-sS",
				"-o",
				path,
				"--data-binary",
				data,
				"-H",
				"Content-Type: application/json",
				url,
				NULL};

		pid = testlib_spawn(argv, NULL, NULL);
	}
	ck_assert_int_gt(pid, 0);
	for (int i = 0; i < 1000 && st == -ETIMEDOUT; i++) {
		apitest_pump(&s, 5);
		st = testlib_wait(pid, 1);
	}
	ck_assert_int_eq(st, 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	fclose(f);
	out[n] = '\0';
	ck_assert_str_eq(out, data);
	apitest_srv_stop(&s);
}
END_TEST

#define KA_HEAD                                                                \
	"POST /v3beta/lease/keepalive HTTP/1.1\r\nHost: t\r\n"                 \
	"Transfer-Encoding: chunked\r\n"

START_TEST(test_streamed_body_reaches_the_handler_piece_by_piece)
{
	struct apitest_srv s;
	struct apitest_client c;
	struct http1_limits lim;

	/* A short request timeout: a streamed body is not bound by it. */
	http1_limits_default(&lim);
	lim.request_timeout_ms = 300;
	apitest_srv_start(&s, &lim);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, KA_HEAD "\r\n");
	/* The handler runs before any byte of the body. */
	ck_assert(apitest_wait_raw(&c, &s, "Transfer-Encoding: chunked"));
	ck_assert_int_eq(s.n_calls, 1);
	apitest_send_str(&c, "1\r\na\r\n");
	ck_assert(apitest_wait_raw(&c, &s, "[a]"));
	apitest_pump(&s, 500);
	apitest_send_str(&c, "2\r\nbc\r\n");
	ck_assert(apitest_wait_raw(&c, &s, "[bc]"));
	ck_assert_int_eq(c.n_complete, 0);
	apitest_send_str(&c, "0\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_str_eq(body_str(&c, 0), "[a][bc]<end>");
	ck_assert_int_eq(s.n_pieces, 2);
	/* The connection goes on with the next request. */
	apitest_send_str(&c, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 2));
	ck_assert_int_eq(c.resp[1].status, 200);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_streamed_body_after_the_handler_finished_is_dropped)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	/* A pipelined request waits behind the unfinished body. */
	apitest_send_str(&c, KA_HEAD "\r\n3\r\nFIN\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 1));
	ck_assert_str_eq(body_str(&c, 0), "[FIN]");
	apitest_send_str(&c, "1\r\nx\r\n");
	apitest_send_str(&c, "0\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n"
			     "Connection: close\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 2));
	ck_assert_int_eq(c.resp[1].status, 200);
	ck_assert_int_eq(s.n_pieces, 1);
	ck_assert(apitest_wait_eof(&c, &s));
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_streamed_body_with_connection_close_is_read_to_its_end)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, KA_HEAD "Connection: close\r\n\r\n1\r\na\r\n");
	ck_assert(apitest_wait_raw(&c, &s, "[a]"));
	apitest_send_str(&c, "1\r\nb\r\n0\r\n\r\n");
	ck_assert(apitest_wait_eof(&c, &s));
	ck_assert_int_eq(c.n_complete, 1);
	ck_assert_str_eq(body_str(&c, 0), "[a][b]<end>");
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_trailer_after_a_streamed_body_is_dropped)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, KA_HEAD "\r\n1\r\na\r\n0\r\nX-Trailer: y\r\n\r\n"
				     "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(apitest_wait_responses(&c, &s, 2));
	ck_assert_str_eq(body_str(&c, 0), "[a]<end>");
	ck_assert_int_eq(c.resp[1].status, 200);
	apitest_close(&c);
	apitest_srv_stop(&s);
}
END_TEST

START_TEST(test_client_leaving_mid_body_reaches_the_close_callback)
{
	struct apitest_srv s;
	struct apitest_client c;

	apitest_srv_start(&s, NULL);
	apitest_connect(&c, &s, 0);
	apitest_send_str(&c, KA_HEAD "\r\n1\r\na\r\n");
	ck_assert(apitest_wait_raw(&c, &s, "[a]"));
	apitest_close(&c);
	for (int i = 0; i < 500 && s.n_gone == 0; i++) {
		apitest_pump(&s, 2);
	}
	ck_assert_int_eq(s.n_gone, 1);
	ck_assert_int_eq(s.n_held, 0);
	ck_assert_uint_eq(http1_server_conn_count(s.http), 0);
	apitest_srv_stop(&s);
}
END_TEST

static Suite *http1_suite(void)
{
	Suite *s = suite_create("http1");
	TCase *tc = tcase_create("sockets");

	tcase_set_timeout(tc, 60);
	tcase_add_test(
	    tc, test_keep_alive_serves_several_requests_on_one_connection);
	tcase_add_test(tc,
		       test_pipelined_requests_are_answered_in_request_order);
	tcase_add_test(tc, test_chunked_request_body_is_reassembled);
	tcase_add_test(tc,
		       test_oversized_body_gets_413_with_etcd_error_and_close);
	tcase_add_test(tc, test_oversized_headers_get_431_and_close);
	tcase_add_test(
	    tc,
	    test_malformed_request_gets_400_and_close_after_earlier_answers);
	tcase_add_test(
	    tc, test_wrong_method_gets_405_with_allow_and_unknown_path_404);
	tcase_add_test(tc, test_v3beta_and_v3alpha_prefixes_reach_v3_handlers);
	tcase_add_test(
	    tc, test_handler_reads_query_and_headers_including_empty_ones);
	tcase_add_test(tc, test_head_sends_headers_without_body);
	tcase_add_test(tc,
		       test_connection_close_and_http10_close_after_the_answer);
	tcase_add_test(tc, test_gateway_error_reply_uses_errmap);
	tcase_add_test(tc, test_stream_sends_one_chunk_per_result_and_ends);
	tcase_add_test(
	    tc, test_stream_to_an_http10_client_is_raw_and_ends_with_close);
	tcase_add_test(tc,
		       test_stream_handler_learns_when_the_client_goes_away);
	tcase_add_test(
	    tc, test_held_request_of_a_vanished_client_is_released_on_reply);
	tcase_add_test(tc,
		       test_slow_reader_pauses_reading_instead_of_buffering);
	tcase_add_test(tc, test_stream_is_told_to_slow_down_and_when_to_go_on);
	tcase_add_test(tc, test_request_not_completed_in_time_gets_408);
	tcase_add_test(tc, test_idle_keep_alive_connection_is_closed);
	tcase_add_test(tc, test_h2_preface_goes_to_the_h2_hook);
	tcase_add_test(tc, test_listener_reports_a_port_in_use);
	tcase_add_test(tc,
		       test_expect_100_continue_is_answered_before_the_body);
	tcase_add_test(
	    tc, test_server_free_releases_requests_their_owners_never_finish);
	tcase_add_test(
	    tc, test_drain_closes_idle_connections_and_answers_busy_ones_last);
	tcase_add_test(
	    tc, test_out_of_descriptors_pauses_accepting_instead_of_spinning);
	tcase_add_test(tc, test_curl_posts_a_large_body_with_expect_continue);
	tcase_add_test(tc,
		       test_streamed_body_reaches_the_handler_piece_by_piece);
	tcase_add_test(tc,
		       test_streamed_body_after_the_handler_finished_is_dropped);
	tcase_add_test(
	    tc, test_streamed_body_with_connection_close_is_read_to_its_end);
	tcase_add_test(tc,
		       test_client_leaving_mid_body_reaches_the_close_callback);
	tcase_add_test(tc, test_trailer_after_a_streamed_body_is_dropped);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(http1_suite)
