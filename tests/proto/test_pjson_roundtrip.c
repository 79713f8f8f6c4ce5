/*
 * test_pjson_roundtrip.c - every etcd v3 message type survives protobuf ->
 * JSON -> protobuf unchanged, and the recorded gateway responses of etcd
 * 3.4.23 decode and encode back to the same bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "protogen.h"
#include "testlib.h"

/* Packed protobuf bytes of m, in a new buffer (test memory). */
static uint8_t *packed(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *p;

	*len = protobuf_c_message_get_packed_size(m);
	p = malloc(*len + 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(protobuf_c_message_pack(m, p), *len);
	return p;
}

START_TEST(test_every_message_type_is_catalogued)
{
	const ProtobufCMessageDescriptor *all[PROTOGEN_N_MESSAGES];
	size_t n = protogen_all(all);
	size_t rpc = 0, kv = 0, auth = 0;

	ck_assert_uint_eq(n, PROTOGEN_N_MESSAGES);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(all[i]->name, "etcdserverpb.", 13) == 0) {
			rpc++;
		} else if (strncmp(all[i]->name, "mvccpb.", 7) == 0) {
			kv++;
		} else if (strncmp(all[i]->name, "authpb.", 7) == 0) {
			auth++;
		}
	}
	/* As many as the .proto files declare. */
	ck_assert_uint_eq(rpc, 95);
	ck_assert_uint_eq(kv, 2);
	ck_assert_uint_eq(auth, 4);
}
END_TEST

/* One round trip of a random instance of d; fails the test on mismatch. */
static void round_trip(const ProtobufCMessageDescriptor *d, uint64_t *rng)
{
	ProtobufCMessage *orig = protogen_random(d, rng), *back = NULL;
	struct buf j1 = BUF_INIT, j2 = BUF_INIT;
	char err[PJSON_ERR_SIZE];
	uint8_t *p1, *p2;
	size_t l1, l2;
	int r;

	ck_assert_ptr_nonnull(orig);
	ck_assert_int_eq(pjson_encode(orig, &j1), 0);
	r = pjson_decode(d, (const char *)j1.data, j1.len, &back, err,
			 sizeof(err));
	ck_assert_msg(r == 0, "%s: decoding %s: %s", d->name,
		      (const char *)j1.data, err);
	p1 = packed(orig, &l1);
	p2 = packed(back, &l2);
	ck_assert_msg(l1 == l2 && memcmp(p1, p2, l1) == 0,
		      "%s: protobuf differs after JSON %s", d->name,
		      (const char *)j1.data);
	ck_assert_int_eq(pjson_encode(back, &j2), 0);
	ck_assert_str_eq((const char *)j2.data, (const char *)j1.data);
	free(p1);
	free(p2);
	buf_done(&j1);
	buf_done(&j2);
	proto_free(orig);
	proto_free(back);
}

START_TEST(test_every_message_type_round_trips_through_json)
{
	const ProtobufCMessageDescriptor *all[PROTOGEN_N_MESSAGES];
	size_t n = protogen_all(all);
	uint64_t rng = testlib_seed();

	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < 25; k++) {
			round_trip(all[i], &rng);
		}
	}
}
END_TEST

START_TEST(test_lower_camel_json_decodes_to_the_same_message)
{
	const ProtobufCMessageDescriptor *all[PROTOGEN_N_MESSAGES];
	size_t n = protogen_all(all);
	uint64_t rng = testlib_seed() ^ 0x5eed;

	/* Rewrite every key of the encoded JSON to its lowerCamel name. */
	for (size_t i = 0; i < n; i++) {
		ProtobufCMessage *orig = protogen_random(all[i], &rng);
		ProtobufCMessage *back = NULL;
		struct buf j = BUF_INIT, camel = BUF_INIT;
		bool in_str = false, key = false;
		uint8_t *p1, *p2;
		size_t l1, l2;

		ck_assert_int_eq(pjson_encode(orig, &j), 0);
		for (size_t k = 0; k < j.len; k++) {
			char ch = (char)j.data[k];

			if (!in_str && ch == '"') {
				/* A key follows '{' or ','. */
				key = k > 0 && (j.data[k - 1] == '{' ||
						j.data[k - 1] == ',');
				in_str = true;
			} else if (in_str && ch == '\\') {
				ck_assert_int_eq(buf_append(&camel, &ch, 1), 0);
				ch = (char)j.data[++k];
			} else if (in_str && ch == '"') {
				in_str = false;
			} else if (in_str && key && ch == '_' &&
				   j.data[k + 1] >= 'a' && j.data[k + 1] <= 'z') {
				ch = (char)(j.data[++k] - 'a' + 'A');
			}
			ck_assert_int_eq(buf_append(&camel, &ch, 1), 0);
		}
		ck_assert_int_eq(pjson_decode(all[i], (const char *)camel.data,
					      camel.len, &back, NULL, 0),
				 0);
		p1 = packed(orig, &l1);
		p2 = packed(back, &l2);
		ck_assert_msg(l1 == l2 && memcmp(p1, p2, l1) == 0,
			      "%s: %s", all[i]->name, (char *)camel.data);
		free(p1);
		free(p2);
		buf_done(&j);
		buf_done(&camel);
		proto_free(orig);
		proto_free(back);
	}
}
END_TEST

START_TEST(test_failing_each_allocation_of_any_message_type_is_clean)
{
	const ProtobufCMessageDescriptor *all[PROTOGEN_N_MESSAGES];
	size_t n = protogen_all(all);
	uint64_t rng = testlib_seed() ^ 0xfa11;

	for (size_t i = 0; i < n; i++) {
		ProtobufCMessage *orig = protogen_random(all[i], &rng);
		struct buf j = BUF_INIT;
		long steps = 0;

		ck_assert_int_eq(pjson_encode(orig, &j), 0);
		for (long f = 0;; f++) {
			ProtobufCMessage *back = NULL;
			struct buf again = BUF_INIT;
			int r1, r2;

			mem_fail_after(f);
			r1 = pjson_decode(all[i], (const char *)j.data, j.len,
					  &back, NULL, 0);
			r2 = r1 == 0 ? pjson_encode(back, &again) : -ENOMEM;
			mem_fail_reset();
			ck_assert(r1 == 0 || r1 == -ENOMEM);
			ck_assert(r2 == 0 || r2 == -ENOMEM);
			if (r1 == 0 && r2 == 0) {
				ck_assert_str_eq((char *)again.data,
						 (char *)j.data);
			}
			proto_free(back);
			buf_done(&again);
			if (r1 == 0 && r2 == 0) {
				break;
			}
			ck_assert_int_lt(++steps, 100000);
		}
		buf_done(&j);
		proto_free(orig);
	}
}
END_TEST

START_TEST(test_recorded_gateway_responses_encode_back_identically)
{
	const char *path =
		testlib_src_path("tests/proto/data/gateway-3.4.23-responses.txt");
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int checked = 0;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	while ((len = getline(&line, &cap, f)) > 0) {
		const ProtobufCMessageDescriptor *d;
		ProtobufCMessage *m = NULL;
		struct buf out = BUF_INIT;
		char err[PJSON_ERR_SIZE];
		char *sp;

		if (line[len - 1] == '\n') {
			line[--len] = '\0';
		}
		if (line[0] == '#' || line[0] == '\0') {
			continue;
		}
		sp = strchr(line, ' ');
		ck_assert_ptr_nonnull(sp);
		*sp = '\0';
		d = protogen_find(line);
		ck_assert_msg(d != NULL, "unknown type %s", line);
		ck_assert_msg(pjson_decode(d, sp + 1, strlen(sp + 1), &m, err,
					   sizeof(err)) == 0,
			      "%s: %s", line, err);
		ck_assert_int_eq(pjson_encode(m, &out), 0);
		ck_assert_str_eq((char *)out.data, sp + 1);
		buf_done(&out);
		proto_free(m);
		checked++;
	}
	free(line);
	fclose(f);
	ck_assert_int_ge(checked, 25);
}
END_TEST

START_TEST(test_etcdctl_json_with_numbers_reencodes_in_gateway_form)
{
	/* etcdctl -w json prints 64-bit values and enums as numbers
	 * (auth-3.4.23.txt, role get); the decoder takes them all. */
	static const char in[] =
		"{\"header\":{\"cluster_id\":4696313804825311451,"
		"\"member_id\":9686845212206760991,\"revision\":1,"
		"\"raft_term\":2},\"perm\":[{\"permType\":2,\"key\":\"L2FwcC8=\","
		"\"range_end\":\"L2FwcDA=\"},{\"key\":\"azE=\"}]}";
	static const char want[] =
		"{\"header\":{\"cluster_id\":\"4696313804825311451\","
		"\"member_id\":\"9686845212206760991\",\"revision\":\"1\","
		"\"raft_term\":\"2\"},\"perm\":[{\"permType\":\"READWRITE\","
		"\"key\":\"L2FwcC8=\",\"range_end\":\"L2FwcDA=\"},"
		"{\"key\":\"azE=\"}]}";
	ProtobufCMessage *m = NULL;
	struct buf out = BUF_INIT;

	ck_assert_int_eq(
		pjson_decode(&etcdserverpb__auth_role_get_response__descriptor,
			     in, strlen(in), &m, NULL, 0),
		0);
	ck_assert_int_eq(pjson_encode(m, &out), 0);
	ck_assert_str_eq((char *)out.data, want);
	buf_done(&out);
	proto_free(m);
}
END_TEST

static Suite *pjson_roundtrip_suite(void)
{
	Suite *s = suite_create("pjson_roundtrip");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_every_message_type_is_catalogued);
	tcase_add_test(tc, test_every_message_type_round_trips_through_json);
	tcase_add_test(tc, test_lower_camel_json_decodes_to_the_same_message);
	tcase_add_test(tc,
		       test_failing_each_allocation_of_any_message_type_is_clean);
	tcase_add_test(tc, test_recorded_gateway_responses_encode_back_identically);
	tcase_add_test(tc, test_etcdctl_json_with_numbers_reencodes_in_gateway_form);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(pjson_roundtrip_suite)
