/*
 * test_descriptors.c - the generated etcd v3 descriptors exist with etcd's
 * names and numbers, and gRPC paths resolve to the right methods.
 */
#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "proto/proto.h"
#include "testlib.h"

static const ProtobufCMethodDescriptor *lookup(const char *path)
{
	const ProtobufCServiceDescriptor *svc = NULL;
	const ProtobufCMethodDescriptor *m = NULL;

	if (proto_method_lookup(path, strlen(path), &svc, &m) < 0) {
		return NULL;
	}
	return m;
}

START_TEST(test_services_have_etcds_names_and_method_counts)
{
	static const struct {
		const char *name;
		unsigned n_methods;
	} want[] = {
		{"etcdserverpb.KV", 5},      {"etcdserverpb.Watch", 1},
		{"etcdserverpb.Lease", 5},   {"etcdserverpb.Cluster", 5},
		{"etcdserverpb.Maintenance", 8}, {"etcdserverpb.Auth", 17},
	};

	ck_assert_uint_eq(proto_n_services, 6);
	for (size_t i = 0; i < proto_n_services; i++) {
		ck_assert_str_eq(proto_services[i]->name, want[i].name);
		ck_assert_uint_eq(proto_services[i]->n_methods,
				  want[i].n_methods);
	}
}
END_TEST

START_TEST(test_grpc_paths_resolve_to_their_methods)
{
	const ProtobufCMethodDescriptor *m;

	m = lookup("/etcdserverpb.KV/Range");
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_eq(m->input, &etcdserverpb__range_request__descriptor);
	ck_assert_ptr_eq(m->output, &etcdserverpb__range_response__descriptor);
	m = lookup("/etcdserverpb.KV/Compact");
	ck_assert_ptr_eq(m->input,
			 &etcdserverpb__compaction_request__descriptor);
	m = lookup("/etcdserverpb.Watch/Watch");
	ck_assert_ptr_eq(m->input, &etcdserverpb__watch_request__descriptor);
	m = lookup("/etcdserverpb.Lease/LeaseKeepAlive");
	ck_assert_ptr_eq(m->output,
			 &etcdserverpb__lease_keep_alive_response__descriptor);
	m = lookup("/etcdserverpb.Cluster/MemberPromote");
	ck_assert_ptr_eq(m->input,
			 &etcdserverpb__member_promote_request__descriptor);
	m = lookup("/etcdserverpb.Maintenance/HashKV");
	ck_assert_ptr_eq(m->input, &etcdserverpb__hash_kvrequest__descriptor);
	m = lookup("/etcdserverpb.Maintenance/Downgrade");
	ck_assert_ptr_eq(m->input, &etcdserverpb__downgrade_request__descriptor);
	m = lookup("/etcdserverpb.Auth/UserGrantRole");
	ck_assert_ptr_eq(m->input,
			 &etcdserverpb__auth_user_grant_role_request__descriptor);
	m = lookup("/etcdserverpb.Auth/AuthStatus");
	ck_assert_ptr_eq(m->output,
			 &etcdserverpb__auth_status_response__descriptor);
}
END_TEST

START_TEST(test_unknown_or_malformed_paths_are_not_found)
{
	static const char *bad[] = {
		"",
		"/",
		"etcdserverpb.KV/Range",
		"/etcdserverpb.KV/",
		"/etcdserverpb.KV/Rang",
		"/etcdserverpb.KV/RangeX",
		"/etcdserverpb.KVX/Range",
		"/etcdserverpb.KV",
		"/v3lockpb.Lock/Lock",
	};
	const ProtobufCServiceDescriptor *svc;
	const ProtobufCMethodDescriptor *m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(proto_method_lookup(bad[i], strlen(bad[i]),
						     &svc, &m),
				 -ENOENT);
	}
}
END_TEST

static const ProtobufCFieldDescriptor *
field(const ProtobufCMessageDescriptor *d, const char *name)
{
	return protobuf_c_message_descriptor_get_field_by_name(d, name);
}

START_TEST(test_messages_keep_etcds_field_numbers)
{
	const ProtobufCFieldDescriptor *f;

	ck_assert_str_eq(etcdserverpb__range_request__descriptor.name,
			 "etcdserverpb.RangeRequest");
	ck_assert_str_eq(mvccpb__key_value__descriptor.name, "mvccpb.KeyValue");
	ck_assert_str_eq(authpb__permission__descriptor.name,
			 "authpb.Permission");
	ck_assert_uint_eq(
		field(&etcdserverpb__compare__descriptor, "range_end")->id, 64);
	ck_assert_uint_eq(field(&etcdserverpb__compare__descriptor, "lease")->id,
			  8);
	ck_assert_uint_eq(
		field(&etcdserverpb__watch_response__descriptor, "events")->id,
		11);
	ck_assert_uint_eq(
		field(&etcdserverpb__range_request__descriptor,
		      "max_create_revision")
			->id,
		13);
	ck_assert_uint_eq(
		field(&etcdserverpb__status_response__descriptor, "isLearner")
			->id,
		10);
	ck_assert_uint_eq(field(&etcdserverpb__lease_time_to_live_response__descriptor,
				"grantedTTL")
				  ->id,
			  4);
	f = field(&etcdserverpb__response_header__descriptor, "revision");
	ck_assert_uint_eq(f->id, 3);
	ck_assert_int_eq(f->type, PROTOBUF_C_TYPE_INT64);
	f = field(&etcdserverpb__response_header__descriptor, "cluster_id");
	ck_assert_int_eq(f->type, PROTOBUF_C_TYPE_UINT64);
	f = field(&mvccpb__key_value__descriptor, "lease");
	ck_assert_uint_eq(f->id, 6);
	f = field(&etcdserverpb__auth_user_add_request__descriptor,
		  "hashedPassword");
	ck_assert_uint_eq(f->id, 4);
	ck_assert_uint_eq(
		field(&etcdserverpb__member_list_request__descriptor,
		      "linearizable")
			->id,
		1);
}
END_TEST

START_TEST(test_a_put_request_packs_to_etcds_bytes)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	/* key=1 "foo", value=2 "bar", lease=3 5 */
	static const uint8_t want[] = {0x0a, 3,   'f', 'o', 'o', 0x12, 3,
				       'b',  'a', 'r', 0x18, 5};
	uint8_t out[32];
	ProtobufCMessage *back = NULL;

	req.key.data = (uint8_t *)"foo";
	req.key.len = 3;
	req.value.data = (uint8_t *)"bar";
	req.value.len = 3;
	req.lease = 5;
	ck_assert_uint_eq(protobuf_c_message_get_packed_size(&req.base),
			  sizeof(want));
	protobuf_c_message_pack(&req.base, out);
	ck_assert_mem_eq(out, want, sizeof(want));

	ck_assert_int_eq(proto_unpack(&etcdserverpb__put_request__descriptor,
				      want, sizeof(want), &back),
			 0);
	ck_assert_int_eq(((Etcdserverpb__PutRequest *)back)->lease, 5);
	proto_free(back);
}
END_TEST

START_TEST(test_unpack_tells_bad_bytes_from_out_of_memory)
{
	static const uint8_t garbage[] = {0x0a, 0x7f, 'x'};
	static const uint8_t good[] = {0x0a, 3, 'f', 'o', 'o'};
	ProtobufCMessage *m = NULL;

	ck_assert_int_eq(proto_unpack(&etcdserverpb__put_request__descriptor,
				      garbage, sizeof(garbage), &m),
			 -ERR_PARSE);
	ck_assert_ptr_null(m);
	mem_fail_after(0);
	ck_assert_int_eq(proto_unpack(&etcdserverpb__put_request__descriptor,
				      good, sizeof(good), &m),
			 -ENOMEM);
	mem_fail_reset();
	ck_assert_ptr_null(m);
	proto_free(NULL);
}
END_TEST

static Suite *descriptors_suite(void)
{
	Suite *s = suite_create("proto_descriptors");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_services_have_etcds_names_and_method_counts);
	tcase_add_test(tc, test_grpc_paths_resolve_to_their_methods);
	tcase_add_test(tc, test_unknown_or_malformed_paths_are_not_found);
	tcase_add_test(tc, test_messages_keep_etcds_field_numbers);
	tcase_add_test(tc, test_a_put_request_packs_to_etcds_bytes);
	tcase_add_test(tc, test_unpack_tells_bad_bytes_from_out_of_memory);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(descriptors_suite)
