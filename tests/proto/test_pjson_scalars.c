/*
 * test_pjson_scalars.c - the scalar types and proto2 presence that etcd's
 * API does not use (floats, sint/fixed integers, has_ flags) follow the
 * proto3 JSON mapping too.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "protogen.h"
#include "testlib.h"
#include "testpb.pb-c.h"
#include "testpb2.pb-c.h"

static void assert_json(const ProtobufCMessage *msg, const char *want)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(pjson_encode(msg, &b), 0);
	ck_assert_str_eq((const char *)b.data, want);
	buf_done(&b);
}

static ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d,
				const char *json, int want)
{
	ProtobufCMessage *m = NULL;
	char err[PJSON_ERR_SIZE];
	int r = pjson_decode(d, json, strlen(json), &m, err, sizeof(err));

	ck_assert_msg(r == want, "%s: got %d (%s)", json, r, err);
	return m;
}

START_TEST(test_floats_and_fixed_width_integers_encode)
{
	Testpb__Scalars s = TESTPB__SCALARS__INIT;
	double ds[] = {1, -0.5, 1e300};
	int32_t i32s[] = {-1, INT32_MAX};

	s.f = 1.5f;
	s.d = 0.1;
	s.i32 = -5;
	s.s32 = INT32_MIN;
	s.sf32 = 7;
	s.fx32 = UINT32_MAX;
	s.s64 = INT64_MIN;
	s.sf64 = -2;
	s.fx64 = UINT64_MAX;
	s.ds = ds;
	s.n_ds = 3;
	s.i32s = i32s;
	s.n_i32s = 2;
	assert_json(&s.base,
		    "{\"f\":1.5,\"d\":0.1,\"i32\":-5,\"s32\":-2147483648,"
		    "\"sf32\":7,\"fx32\":4294967295,"
		    "\"s64\":\"-9223372036854775808\",\"sf64\":\"-2\","
		    "\"fx64\":\"18446744073709551615\",\"ds\":[1,-0.5,1e+300],"
		    "\"i32s\":[-1,2147483647]}");
	memset(&s, 0, sizeof(s));
	testpb__scalars__init(&s);
	s.f = NAN;
	s.d = -INFINITY;
	assert_json(&s.base, "{\"f\":\"NaN\",\"d\":\"-Infinity\"}");
}
END_TEST

START_TEST(test_floats_and_int32_decode_with_range_checks)
{
	const ProtobufCMessageDescriptor *d = &testpb__scalars__descriptor;
	Testpb__Scalars *s;

	s = (void *)decode(d,
			   "{\"f\":\"NaN\",\"d\":\"Infinity\",\"i32\":"
			   "\"-2147483648\",\"s32\":2147483647,\"fx32\":"
			   "\"4294967295\",\"ds\":[\"-Infinity\",\"1.5\",2,"
			   "-3e-5],\"i32s\":[1,\"2\",null]}",
			   0);
	ck_assert(isnan(s->f));
	ck_assert(isinf(s->d) && s->d > 0);
	ck_assert_int_eq(s->i32, INT32_MIN);
	ck_assert_int_eq(s->s32, INT32_MAX);
	ck_assert_uint_eq(s->fx32, UINT32_MAX);
	ck_assert_uint_eq(s->n_ds, 4);
	ck_assert(isinf(s->ds[0]) && s->ds[0] < 0);
	ck_assert(s->ds[1] == 1.5 && s->ds[2] == 2 && s->ds[3] == -3e-5);
	ck_assert_uint_eq(s->n_i32s, 3);
	ck_assert_int_eq(s->i32s[2], 0);
	proto_free(&s->base);

	decode(d, "{\"i32\":2147483648}", -ERR_INVALID);
	decode(d, "{\"i32\":-2147483649}", -ERR_INVALID);
	decode(d, "{\"fx32\":-1}", -ERR_INVALID);
	decode(d, "{\"f\":1e39}", -ERR_INVALID);
	decode(d, "{\"d\":1e400}", -ERR_INVALID);
	decode(d, "{\"d\":\"abc\"}", -ERR_INVALID);
	decode(d, "{\"d\":\"Inf\"}", -ERR_INVALID);
	decode(d, "{\"d\":true}", -ERR_INVALID);
	decode(d, "{\"ds\":[1,\"x\"]}", -ERR_INVALID);
}
END_TEST

START_TEST(test_scalar_messages_round_trip_exactly)
{
	uint64_t rng = testlib_seed();

	for (int k = 0; k < 300; k++) {
		ProtobufCMessage *orig =
			protogen_random(&testpb__scalars__descriptor, &rng);
		ProtobufCMessage *back = NULL;
		struct buf j1 = BUF_INIT, j2 = BUF_INIT;

		ck_assert_int_eq(pjson_encode(orig, &j1), 0);
		ck_assert_int_eq(pjson_decode(orig->descriptor,
					      (char *)j1.data, j1.len, &back,
					      NULL, 0),
				 0);
		ck_assert_int_eq(pjson_encode(back, &j2), 0);
		ck_assert_str_eq((char *)j2.data, (char *)j1.data);
		ck_assert_uint_eq(protobuf_c_message_get_packed_size(orig),
				  protobuf_c_message_get_packed_size(back));
		buf_done(&j1);
		buf_done(&j2);
		proto_free(orig);
		proto_free(back);
	}
}
END_TEST

START_TEST(test_proto2_optional_fields_follow_their_has_flags)
{
	Testpb2__Opt o = TESTPB2__OPT__INIT;
	Testpb2__Opt *back;

	assert_json(&o.base, "{}");
	o.has_a = 1;
	o.a = 0;
	o.has_b = 1;
	o.b = 0;
	o.s = "";
	assert_json(&o.base, "{\"a\":\"0\",\"b\":false,\"s\":\"\"}");

	back = (void *)decode(&testpb2__opt__descriptor,
			      "{\"a\":\"0\",\"y\":\"eA==\",\"s\":null}", 0);
	ck_assert(back->has_a);
	ck_assert_int_eq(back->a, 0);
	ck_assert(!back->has_b);
	ck_assert(back->has_y);
	ck_assert_uint_eq(back->y.len, 1);
	ck_assert_ptr_null(back->s);
	proto_free(&back->base);
	back = (void *)decode(&testpb2__opt__descriptor,
			      "{\"a\":\"1\",\"a\":null,\"s\":\"x\",\"s\":\"yz\"}",
			      0);
	ck_assert(!back->has_a);
	ck_assert_str_eq(back->s, "yz");
	proto_free(&back->base);
}
END_TEST

static Suite *pjson_scalars_suite(void)
{
	Suite *s = suite_create("pjson_scalars");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_floats_and_fixed_width_integers_encode);
	tcase_add_test(tc, test_floats_and_int32_decode_with_range_checks);
	tcase_add_test(tc, test_scalar_messages_round_trip_exactly);
	tcase_add_test(tc, test_proto2_optional_fields_follow_their_has_flags);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(pjson_scalars_suite)
