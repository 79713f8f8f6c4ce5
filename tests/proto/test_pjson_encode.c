/*
 * test_pjson_encode.c - messages encode to the JSON etcd's gateway writes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "testlib.h"

/* Encode msg and compare with want exactly. */
static void assert_json(const ProtobufCMessage *msg, const char *want)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(pjson_encode(msg, &b), 0);
	ck_assert_str_eq((const char *)b.data, want);
	buf_done(&b);
}

static ProtobufCBinaryData bin(const char *s)
{
	ProtobufCBinaryData d = {strlen(s), (uint8_t *)(uintptr_t)s};

	return d;
}

START_TEST(test_empty_message_encodes_as_empty_object)
{
	Etcdserverpb__AlarmResponse resp = ETCDSERVERPB__ALARM_RESPONSE__INIT;

	assert_json(&resp.base, "{}");
}
END_TEST

START_TEST(test_range_response_matches_etcds_gateway_bytes)
{
	Etcdserverpb__ResponseHeader h = ETCDSERVERPB__RESPONSE_HEADER__INIT;
	Etcdserverpb__RangeResponse resp = ETCDSERVERPB__RANGE_RESPONSE__INIT;
	Mvccpb__KeyValue kv = MVCCPB__KEY_VALUE__INIT;
	Mvccpb__KeyValue *kvs[] = {&kv};

	h.cluster_id = 13950058764791256063ULL;
	h.member_id = 1259761490123835750ULL;
	h.revision = 13;
	h.raft_term = 2;
	kv.key = bin("gw");
	kv.create_revision = 13;
	kv.mod_revision = 13;
	kv.version = 1;
	kv.value = bin("val");
	resp.header = &h;
	resp.kvs = kvs;
	resp.n_kvs = 1;
	resp.count = 1;
	assert_json(&resp.base,
		    "{\"header\":{\"cluster_id\":\"13950058764791256063\","
		    "\"member_id\":\"1259761490123835750\",\"revision\":\"13\","
		    "\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"Z3c=\","
		    "\"create_revision\":\"13\",\"mod_revision\":\"13\","
		    "\"version\":\"1\",\"value\":\"dmFs\"}],\"count\":\"1\"}");
}
END_TEST

START_TEST(test_sixty_four_bit_extremes_are_exact_strings)
{
	Etcdserverpb__ResponseHeader h = ETCDSERVERPB__RESPONSE_HEADER__INIT;
	Mvccpb__KeyValue kv = MVCCPB__KEY_VALUE__INIT;

	h.cluster_id = UINT64_MAX;
	h.member_id = (uint64_t)INT64_MAX + 1;
	h.revision = INT64_MIN;
	assert_json(&h.base, "{\"cluster_id\":\"18446744073709551615\","
			     "\"member_id\":\"9223372036854775808\","
			     "\"revision\":\"-9223372036854775808\"}");
	kv.lease = -1;
	assert_json(&kv.base, "{\"lease\":\"-1\"}");
}
END_TEST

START_TEST(test_uint32_is_a_number_and_enums_are_names)
{
	Etcdserverpb__HashResponse hr = ETCDSERVERPB__HASH_RESPONSE__INIT;
	Mvccpb__Event ev = MVCCPB__EVENT__INIT;
	Etcdserverpb__AlarmMember am = ETCDSERVERPB__ALARM_MEMBER__INIT;

	hr.hash = 4294967295U;
	assert_json(&hr.base, "{\"hash\":4294967295}");
	ev.type = MVCCPB__EVENT__EVENT_TYPE__DELETE;
	assert_json(&ev.base, "{\"type\":\"DELETE\"}");
	ev.type = MVCCPB__EVENT__EVENT_TYPE__PUT;
	assert_json(&ev.base, "{}");
	am.alarm = ETCDSERVERPB__ALARM_TYPE__NOSPACE;
	am.memberid = 7;
	assert_json(&am.base, "{\"memberID\":\"7\",\"alarm\":\"NOSPACE\"}");
	/* A value without a name is written as its number. */
	am.alarm = (Etcdserverpb__AlarmType)42;
	assert_json(&am.base, "{\"memberID\":\"7\",\"alarm\":42}");
}
END_TEST

START_TEST(test_defaults_are_omitted_but_a_set_oneof_is_not)
{
	Etcdserverpb__Compare c = ETCDSERVERPB__COMPARE__INIT;
	Etcdserverpb__RequestOp op = ETCDSERVERPB__REQUEST_OP__INIT;
	Etcdserverpb__PutRequest put = ETCDSERVERPB__PUT_REQUEST__INIT;

	c.key = bin("k");
	assert_json(&c.base, "{\"key\":\"aw==\"}");
	/* Compare version == 0 ("key does not exist") keeps its target. */
	c.target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VERSION;
	c.version = 0;
	assert_json(&c.base, "{\"key\":\"aw==\",\"version\":\"0\"}");
	c.target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__VALUE;
	c.target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VALUE;
	c.value = bin("ab");
	c.range_end = bin("z");
	assert_json(&c.base, "{\"target\":\"VALUE\",\"key\":\"aw==\","
			     "\"value\":\"YWI=\",\"range_end\":\"eg==\"}");

	op.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
	op.request_put = &put;
	assert_json(&op.base, "{\"request_put\":{}}");
}
END_TEST

START_TEST(test_repeated_strings_and_bools_encode)
{
	Etcdserverpb__Member m = ETCDSERVERPB__MEMBER__INIT;
	char *peers[] = {"http://127.0.0.1:2380", "http://[::1]:2380"};

	m.id = 14590032085621120027ULL;
	m.name = "n2";
	m.peerurls = peers;
	m.n_peerurls = 2;
	m.islearner = 1;
	assert_json(&m.base,
		    "{\"ID\":\"14590032085621120027\",\"name\":\"n2\","
		    "\"peerURLs\":[\"http://127.0.0.1:2380\","
		    "\"http://[::1]:2380\"],\"isLearner\":true}");
}
END_TEST

START_TEST(test_strings_are_escaped_as_go_does)
{
	Etcdserverpb__AuthenticateResponse r =
		ETCDSERVERPB__AUTHENTICATE_RESPONSE__INIT;

	r.token = "a\"b\\c\n\t\r\x01<>&\xe2\x80\xa8\xc3\xa9\xff";
	assert_json(&r.base,
		    "{\"token\":\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u003c\\u003e"
		    "\\u0026\\u2028\xc3\xa9\\ufffd\"}");
}
END_TEST

START_TEST(test_bytes_use_padded_standard_base64)
{
	Mvccpb__KeyValue kv = MVCCPB__KEY_VALUE__INIT;
	static uint8_t raw[] = {0xfb, 0xff, 0xfe};

	kv.key = bin("f");
	kv.value = bin("fo");
	assert_json(&kv.base, "{\"key\":\"Zg==\",\"value\":\"Zm8=\"}");
	kv.key.data = raw;
	kv.key.len = sizeof(raw);
	kv.value = bin("foobar");
	assert_json(&kv.base, "{\"key\":\"+//+\",\"value\":\"Zm9vYmFy\"}");
}
END_TEST

START_TEST(test_failed_allocation_leaves_the_buffer_as_it_was)
{
	Etcdserverpb__Member m = ETCDSERVERPB__MEMBER__INIT;
	char *peers[] = {"http://127.0.0.1:2380"};
	struct buf b = BUF_INIT;
	int r;

	m.id = 1;
	m.name = "name";
	m.peerurls = peers;
	m.n_peerurls = 1;
	ck_assert_int_eq(buf_append_str(&b, "keep"), 0);
	for (long n = 0;; n++) {
		mem_fail_after(n);
		r = pjson_encode(&m.base, &b);
		mem_fail_reset();
		if (r == 0) {
			break;
		}
		ck_assert_int_eq(r, -ENOMEM);
		ck_assert_uint_eq(b.len, 4);
		ck_assert_str_eq((const char *)b.data, "keep");
	}
	ck_assert_str_eq((const char *)b.data,
			 "keep{\"ID\":\"1\",\"name\":\"name\","
			 "\"peerURLs\":[\"http://127.0.0.1:2380\"]}");
	buf_done(&b);
}
END_TEST

static Suite *pjson_encode_suite(void)
{
	Suite *s = suite_create("pjson_encode");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty_message_encodes_as_empty_object);
	tcase_add_test(tc, test_range_response_matches_etcds_gateway_bytes);
	tcase_add_test(tc, test_sixty_four_bit_extremes_are_exact_strings);
	tcase_add_test(tc, test_uint32_is_a_number_and_enums_are_names);
	tcase_add_test(tc, test_defaults_are_omitted_but_a_set_oneof_is_not);
	tcase_add_test(tc, test_repeated_strings_and_bools_encode);
	tcase_add_test(tc, test_strings_are_escaped_as_go_does);
	tcase_add_test(tc, test_bytes_use_padded_standard_base64);
	tcase_add_test(tc, test_failed_allocation_leaves_the_buffer_as_it_was);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(pjson_encode_suite)
