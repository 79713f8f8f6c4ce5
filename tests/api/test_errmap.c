/*
 * test_errmap.c - the one table of client-visible errors.
 */
#include <errno.h>
#include <string.h>

#include "api/errmap.h"
#include "base/buf.h"
#include "base/err.h"
#include "testlib.h"

START_TEST(test_every_project_code_has_grpc_code_message_and_http_status)
{
	for (int c = ERR_FIRST_ + 1; c < ERR_LAST_; c++) {
		const struct errmap_entry *e = errmap_find(-c);
		int st;

		ck_assert_msg(e != NULL, "%s has no errmap entry",
			      err_name(-c));
		ck_assert_int_eq(e->err, c);
		ck_assert_int_gt((int)e->code, 0);
		ck_assert_int_le((int)e->code, GRPC_STATUS_UNAUTHENTICATED);
		ck_assert_ptr_nonnull(e->message);
		ck_assert_int_gt((int)strlen(e->message), 0);
		st = errmap_http_status(e->code);
		ck_assert_int_ge(st, 400);
		ck_assert_int_le(st, 599);
		ck_assert_ptr_eq(errmap_lookup(c), e);
	}
}
END_TEST

START_TEST(test_etcd_strings_codes_and_statuses_match_etcd)
{
	static const struct {
		int err;
		enum grpc_status code;
		int http;
		const char *msg;
	} want[] = {
	    {ERR_COMPACTED, GRPC_STATUS_OUT_OF_RANGE, 400,
	     "etcdserver: mvcc: required revision has been compacted"},
	    {ERR_FUTURE_REV, GRPC_STATUS_OUT_OF_RANGE, 400,
	     "etcdserver: mvcc: required revision is a future revision"},
	    {ERR_NO_LEADER, GRPC_STATUS_UNAVAILABLE, 503, "etcdserver: no leader"},
	    {ERR_TIMEOUT, GRPC_STATUS_UNAVAILABLE, 503,
	     "etcdserver: request timed out"},
	    {ERR_LEADER_CHANGED, GRPC_STATUS_UNAVAILABLE, 503,
	     "etcdserver: leader changed"},
	    {ERR_TOO_MANY_REQUESTS, GRPC_STATUS_RESOURCE_EXHAUSTED, 429,
	     "etcdserver: too many requests"},
	    {ERR_NO_SPACE, GRPC_STATUS_RESOURCE_EXHAUSTED, 429,
	     "etcdserver: mvcc: database space exceeded"},
	    {ERR_LEASE_NOT_FOUND, GRPC_STATUS_NOT_FOUND, 404,
	     "etcdserver: requested lease not found"},
	    {ERR_EMPTY_KEY, GRPC_STATUS_INVALID_ARGUMENT, 400,
	     "etcdserver: key is not provided"},
	    {ERR_REQUEST_TOO_LARGE, GRPC_STATUS_INVALID_ARGUMENT, 400,
	     "etcdserver: request is too large"},
	    {ERR_MEMBER_NOT_FOUND, GRPC_STATUS_NOT_FOUND, 404,
	     "etcdserver: member not found"},
	    {ERR_PEER_URL_EXISTS, GRPC_STATUS_FAILED_PRECONDITION, 400,
	     "etcdserver: Peer URLs already exists"},
	    {ERR_LEARNER_NOT_READY, GRPC_STATUS_FAILED_PRECONDITION, 400,
	     "etcdserver: can only promote a learner member which is in "
	     "sync with leader"},
	    {ERR_CORRUPT, GRPC_STATUS_DATA_LOSS, 500, "etcdserver: corrupt cluster"},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct errmap_entry *e = errmap_lookup(-want[i].err);

		ck_assert_str_eq(e->message, want[i].msg);
		ck_assert_int_eq(e->code, want[i].code);
		ck_assert_int_eq(errmap_http_status(e->code), want[i].http);
	}
	ck_assert_str_eq(errmap_code_name(GRPC_STATUS_FAILED_PRECONDITION),
			 "FailedPrecondition");
}
END_TEST

START_TEST(test_gateway_error_body_is_etcd_35s)
{
	struct buf b = BUF_INIT;

	/* grpc-gateway v1.16 (etcd 3.5): error, code, message. */
	ck_assert_int_eq(errmap_render_json(-ERR_COMPACTED, &b), 400);
	ck_assert_str_eq(
	    (char *)b.data,
	    "{\"error\":\"etcdserver: mvcc: required revision has "
	    "been compacted\",\"code\":11,\"message\":\"etcdserver: "
	    "mvcc: required revision has been compacted\"}");
	buf_reset(&b);
	ck_assert_int_eq(errmap_render_json_msg(GRPC_STATUS_INVALID_ARGUMENT,
						"invalid character 'b' \"x\"\n",
						&b),
			 400);
	ck_assert_str_eq((char *)b.data,
			 "{\"error\":\"invalid character 'b' \\\"x\\\"\\n\","
			 "\"code\":3,\"message\":\"invalid character 'b' "
			 "\\\"x\\\"\\n\"}");
	buf_reset(&b);
	ck_assert_int_eq(errmap_render_stream_error(-ERR_COMPACTED, &b), 0);
	ck_assert_str_eq(
	    (char *)b.data,
	    "{\"error\":{\"grpc_code\":11,\"http_code\":400,"
	    "\"message\":\"etcdserver: mvcc: required revision has "
	    "been compacted\",\"http_status\":\"Bad Request\"}}\n");
	buf_done(&b);
}
END_TEST

START_TEST(test_unmapped_errors_become_unknown_with_their_text)
{
	const struct errmap_entry *e;

	ck_assert_ptr_null(errmap_find(-EIO));
	e = errmap_lookup(-EIO);
	ck_assert_int_eq(e->code, GRPC_STATUS_UNKNOWN);
	ck_assert_str_eq(e->message, strerror(EIO));
	ck_assert_int_eq(errmap_http_status(e->code), 500);
	ck_assert_int_eq(errmap_lookup(-ETIMEDOUT)->code,
			 GRPC_STATUS_DEADLINE_EXCEEDED);
	ck_assert_int_eq(errmap_lookup(-(ERR_LAST_ + 3))->code, GRPC_STATUS_UNKNOWN);
}
END_TEST

static Suite *errmap_suite(void)
{
	Suite *s = suite_create("errmap");
	TCase *tc = tcase_create("core");

	tcase_add_test(
	    tc, test_every_project_code_has_grpc_code_message_and_http_status);
	tcase_add_test(tc, test_etcd_strings_codes_and_statuses_match_etcd);
	tcase_add_test(tc, test_gateway_error_body_is_etcd_35s);
	tcase_add_test(tc, test_unmapped_errors_become_unknown_with_their_text);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(errmap_suite)
