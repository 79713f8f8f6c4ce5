/*
 * test_pjson_decode.c - the JSON bodies etcd's gateway takes decode as etcd
 * decodes them, and bad ones fail with an error naming the field.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "testlib.h"

static ProtobufCMessage *decode_ok(const ProtobufCMessageDescriptor *d,
				   const char *json)
{
	ProtobufCMessage *m = NULL;
	char err[PJSON_ERR_SIZE];
	int r = pjson_decode(d, json, strlen(json), &m, err, sizeof(err));

	ck_assert_msg(r == 0, "decoding %s: %d %s", json, r, err);
	ck_assert_ptr_eq(m->descriptor, d);
	return m;
}

/* Decoding fails with code and an error text containing want. */
static void decode_err(const ProtobufCMessageDescriptor *d, const char *json,
		       int code, const char *want)
{
	ProtobufCMessage *m = NULL;
	char err[PJSON_ERR_SIZE];
	int r = pjson_decode(d, json, strlen(json), &m, err, sizeof(err));

	ck_assert_msg(r == code, "decoding %s: got %d (%s), want %d", json, r,
		      err, code);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"",
		      err, want);
}

static void assert_bytes(ProtobufCBinaryData b, const char *want)
{
	ck_assert_uint_eq(b.len, strlen(want));
	ck_assert_mem_eq(b.data, want, b.len);
}

START_TEST(test_put_body_from_etcds_docs_decodes)
{
	Etcdserverpb__PutRequest *p = (void *)decode_ok(
		&etcdserverpb__put_request__descriptor,
		"{\"key\": \"Zm9v\", \"value\": \"YmFy\"}");

	assert_bytes(p->key, "foo");
	assert_bytes(p->value, "bar");
	ck_assert_int_eq(p->lease, 0);
	ck_assert(!p->prev_kv);
	proto_free(&p->base);
}
END_TEST

START_TEST(test_proto_and_lower_camel_names_are_both_accepted)
{
	Etcdserverpb__PutRequest *p;

	p = (void *)decode_ok(&etcdserverpb__put_request__descriptor,
			      "{\"key\":\"YQ==\",\"prevKv\":true,"
			      "\"ignore_value\":true,\"ignoreLease\":true}");
	ck_assert(p->prev_kv && p->ignore_value && p->ignore_lease);
	proto_free(&p->base);
	/* Names that are already camel or upper case stay as they are. */
	Etcdserverpb__LeaseCheckpoint *lc = (void *)decode_ok(
		&etcdserverpb__lease_checkpoint__descriptor,
		"{\"ID\":\"5\",\"remainingTTL\":\"7\"}");
	ck_assert_int_eq(lc->id, 5);
	ck_assert_int_eq(lc->remaining_ttl, 7);
	proto_free(&lc->base);
	/* Other spellings are unknown keys, ignored like etcd does. */
	lc = (void *)decode_ok(&etcdserverpb__lease_checkpoint__descriptor,
			       "{\"id\":\"5\",\"Remaining_TTL\":\"7\"}");
	ck_assert_int_eq(lc->id, 0);
	ck_assert_int_eq(lc->remaining_ttl, 0);
	proto_free(&lc->base);
}
END_TEST

START_TEST(test_range_limit_is_accepted_as_string_or_number)
{
	static const char *bodies[] = {
		"{\"key\":\"YQ==\",\"range_end\":\"Yg==\",\"limit\":\"10\","
		"\"sort_order\":\"DESCEND\",\"sort_target\":\"MOD\"}",
		"{\"key\":\"YQ==\",\"rangeEnd\":\"Yg==\",\"limit\":10,"
		"\"sortOrder\":2,\"sortTarget\":3}",
	};

	for (size_t i = 0; i < 2; i++) {
		Etcdserverpb__RangeRequest *r = (void *)decode_ok(
			&etcdserverpb__range_request__descriptor, bodies[i]);

		assert_bytes(r->key, "a");
		assert_bytes(r->range_end, "b");
		ck_assert_int_eq(r->limit, 10);
		ck_assert_int_eq(r->sort_order,
				 ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND);
		ck_assert_int_eq(r->sort_target,
				 ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__MOD);
		proto_free(&r->base);
	}
}
END_TEST

START_TEST(test_txn_with_compare_and_ops_decodes)
{
	Etcdserverpb__TxnRequest *t = (void *)decode_ok(
		&etcdserverpb__txn_request__descriptor,
		"{\"compare\":[{\"key\":\"Zm9v\",\"result\":\"EQUAL\","
		"\"target\":\"VALUE\",\"value\":\"YmFy\"},"
		"{\"key\":\"eA==\",\"target\":\"VERSION\",\"version\":\"0\"}],"
		"\"success\":[{\"request_put\":{\"key\":\"Zm9v\","
		"\"value\":\"YmF6\"}},{\"requestRange\":{\"key\":\"Zm9v\"}}],"
		"\"failure\":[{\"request_delete_range\":{\"key\":\"Zm9v\","
		"\"prev_kv\":true}}]}");
	Etcdserverpb__Compare *c;

	ck_assert_uint_eq(t->n_compare, 2);
	c = t->compare[0];
	assert_bytes(c->key, "foo");
	ck_assert_int_eq(c->result, ETCDSERVERPB__COMPARE__COMPARE_RESULT__EQUAL);
	ck_assert_int_eq(c->target, ETCDSERVERPB__COMPARE__COMPARE_TARGET__VALUE);
	ck_assert_int_eq(c->target_union_case,
			 ETCDSERVERPB__COMPARE__TARGET_UNION_VALUE);
	assert_bytes(c->value, "bar");
	/* version 0 still selects the oneof member. */
	c = t->compare[1];
	ck_assert_int_eq(c->target_union_case,
			 ETCDSERVERPB__COMPARE__TARGET_UNION_VERSION);
	ck_assert_int_eq(c->version, 0);

	ck_assert_uint_eq(t->n_success, 2);
	ck_assert_int_eq(t->success[0]->request_case,
			 ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT);
	assert_bytes(t->success[0]->request_put->value, "baz");
	ck_assert_int_eq(t->success[1]->request_case,
			 ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE);
	assert_bytes(t->success[1]->request_range->key, "foo");
	ck_assert_uint_eq(t->n_failure, 1);
	ck_assert(t->failure[0]->request_delete_range->prev_kv);
	proto_free(&t->base);
}
END_TEST

START_TEST(test_watch_create_with_filters_decodes)
{
	Etcdserverpb__WatchRequest *w = (void *)decode_ok(
		&etcdserverpb__watch_request__descriptor,
		"{\"create_request\":{\"key\":\"dw==\",\"range_end\":\"eA==\","
		"\"prev_kv\":true,\"filters\":[\"NOPUT\",1],"
		"\"start_revision\":\"15\"}}");
	Etcdserverpb__WatchCreateRequest *cr = w->create_request;

	ck_assert_int_eq(w->request_union_case,
			 ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST);
	assert_bytes(cr->key, "w");
	ck_assert(cr->prev_kv);
	ck_assert_int_eq(cr->start_revision, 15);
	ck_assert_uint_eq(cr->n_filters, 2);
	ck_assert_int_eq(cr->filters[0],
			 ETCDSERVERPB__WATCH_CREATE_REQUEST__FILTER_TYPE__NOPUT);
	ck_assert_int_eq(cr->filters[1],
			 ETCDSERVERPB__WATCH_CREATE_REQUEST__FILTER_TYPE__NODELETE);
	proto_free(&w->base);
}
END_TEST

START_TEST(test_uint64_max_and_values_above_int64_max_are_exact)
{
	Etcdserverpb__MemberRemoveRequest *m;
	Etcdserverpb__ResponseHeader *h;

	m = (void *)decode_ok(&etcdserverpb__member_remove_request__descriptor,
			      "{\"ID\":\"18446744073709551615\"}");
	ck_assert_uint_eq(m->id, UINT64_MAX);
	proto_free(&m->base);
	m = (void *)decode_ok(&etcdserverpb__member_remove_request__descriptor,
			      "{\"ID\":\" 18446744073709551615\\n\"}");
	ck_assert_uint_eq(m->id, UINT64_MAX);
	proto_free(&m->base);
	m = (void *)decode_ok(&etcdserverpb__member_remove_request__descriptor,
			      "{\"ID\":18446744073709551615}");
	ck_assert_uint_eq(m->id, UINT64_MAX);
	proto_free(&m->base);
	h = (void *)decode_ok(&etcdserverpb__response_header__descriptor,
			      "{\"cluster_id\":9223372036854775808,"
			      "\"member_id\":\"14590032085621120027\","
			      "\"revision\":-9223372036854775808,"
			      "\"raft_term\":\"9223372036854775807\"}");
	ck_assert_uint_eq(h->cluster_id, (uint64_t)INT64_MAX + 1);
	ck_assert_uint_eq(h->member_id, 14590032085621120027ULL);
	ck_assert_int_eq(h->revision, INT64_MIN);
	ck_assert_uint_eq(h->raft_term, INT64_MAX);
	proto_free(&h->base);
}
END_TEST

START_TEST(test_out_of_range_integers_name_the_field)
{
	const ProtobufCMessageDescriptor *mr =
		&etcdserverpb__member_remove_request__descriptor;
	const ProtobufCMessageDescriptor *put =
		&etcdserverpb__put_request__descriptor;
	const ProtobufCMessageDescriptor *hash =
		&etcdserverpb__hash_response__descriptor;

	decode_err(mr, "{\"ID\":\"18446744073709551616\"}", -ERR_INVALID,
		   "invalid value for field \"ID\": 18446744073709551616 is "
		   "out of range");
	decode_err(mr, "{\"ID\":18446744073709551616}", -ERR_INVALID,
		   "\"ID\": number is out of range");
	decode_err(mr, "{\"ID\":99999999999999999999999999}", -ERR_INVALID,
		   "\"ID\": number is out of range");
	decode_err(mr, "{\"ID\":-1}", -ERR_INVALID, "\"ID\": -1 is out of range");
	decode_err(mr, "{\"ID\":\"-1\"}", -ERR_INVALID, "\"ID\"");
	decode_err(put, "{\"lease\":\"9223372036854775808\"}", -ERR_INVALID,
		   "invalid value for field \"lease\": 9223372036854775808 is "
		   "out of range");
	decode_err(put, "{\"lease\":9223372036854775808}", -ERR_INVALID,
		   "\"lease\"");
	decode_err(put, "{\"lease\":-9223372036854775809}", -ERR_INVALID,
		   "\"lease\": number is out of range");
	decode_err(put, "{\"lease\":1.5}", -ERR_INVALID,
		   "\"lease\": number is not an integer");
	decode_err(put, "{\"lease\":\"12a\"}", -ERR_INVALID,
		   "\"lease\": \"12a\" is not an integer");
	decode_err(put, "{\"lease\":\"012\"}", -ERR_INVALID, "\"lease\"");
	decode_err(put, "{\"lease\":\"\"}", -ERR_INVALID, "\"lease\"");
	decode_err(put, "{\"lease\":\"+5\"}", -ERR_INVALID, "\"lease\"");
	decode_err(put, "{\"lease\":\"1 2\"}", -ERR_INVALID, "\"lease\"");
	decode_err(hash, "{\"hash\":4294967296}", -ERR_INVALID,
		   "\"hash\": 4294967296 is out of range");
	decode_err(hash, "{\"hash\":-1}", -ERR_INVALID, "\"hash\"");
}
END_TEST

START_TEST(test_wrong_types_name_the_field)
{
	const ProtobufCMessageDescriptor *put =
		&etcdserverpb__put_request__descriptor;
	const ProtobufCMessageDescriptor *txn =
		&etcdserverpb__txn_request__descriptor;

	decode_err(put, "{\"lease\":{}}", -ERR_INVALID,
		   "invalid value for field \"lease\": expected an integer, "
		   "got object");
	decode_err(put, "{\"lease\":true}", -ERR_INVALID, "\"lease\"");
	decode_err(put, "{\"key\":5}", -ERR_INVALID,
		   "invalid value for field \"key\": expected a base64 string, "
		   "got int");
	decode_err(put, "{\"prev_kv\":\"true\"}", -ERR_INVALID,
		   "invalid value for field \"prev_kv\": expected a boolean");
	decode_err(put, "{\"prevKv\":1}", -ERR_INVALID, "\"prev_kv\"");
	decode_err(txn, "{\"compare\":{}}", -ERR_INVALID,
		   "invalid value for field \"compare\": expected an array, "
		   "got object");
	decode_err(txn, "{\"compare\":[{\"key\":\"YQ==\"},{\"result\":7.5}]}",
		   -ERR_INVALID, "field \"compare[1].result\"");
	decode_err(txn, "{\"compare\":[{\"result\":\"BIGGER\"}]}", -ERR_INVALID,
		   "\"compare[0].result\": unknown value \"BIGGER\" for enum "
		   "etcdserverpb.Compare.CompareResult");
	decode_err(txn,
		   "{\"success\":[{},{\"request_put\":{\"lease\":\"x\"}}]}",
		   -ERR_INVALID, "field \"success[1].request_put.lease\"");
	decode_err(txn, "{\"success\":[{\"request_txn\":[]}]}", -ERR_INVALID,
		   "\"success[0].request_txn\": expected an object, got array");
	decode_err(&etcdserverpb__authenticate_request__descriptor,
		   "{\"name\":[\"root\"]}", -ERR_INVALID,
		   "\"name\": expected a string, got array");
	decode_err(&etcdserverpb__authenticate_request__descriptor,
		   "{\"name\":\"a\\u0000b\"}", -ERR_INVALID,
		   "\"name\": string contains a NUL");
	decode_err(put, "[]", -ERR_INVALID,
		   "invalid value for message \"etcdserverpb.PutRequest\": "
		   "expected an object, got array");
	decode_err(put, "5", -ERR_INVALID, "expected an object, got int");
}
END_TEST

START_TEST(test_invalid_base64_names_the_field_and_byte)
{
	const ProtobufCMessageDescriptor *put =
		&etcdserverpb__put_request__descriptor;

	decode_err(put, "{\"key\":\"Zm9v!\"}", -ERR_INVALID,
		   "invalid value for field \"key\": illegal base64 data at "
		   "input byte 4");
	decode_err(put, "{\"value\":\"Z\"}", -ERR_INVALID,
		   "field \"value\": illegal base64");
	decode_err(put, "{\"value\":\"Zg=\"}", -ERR_INVALID, "\"value\"");
	decode_err(put, "{\"value\":\"Zg==Zg==\"}", -ERR_INVALID,
		   "illegal base64 data at input byte 4");
	decode_err(put, "{\"value\":\"Zg===\"}", -ERR_INVALID, "\"value\"");
	decode_err(&etcdserverpb__txn_request__descriptor,
		   "{\"compare\":[{\"key\":\"%%%\"}]}", -ERR_INVALID,
		   "field \"compare[0].key\": illegal base64 data at input "
		   "byte 0");
}
END_TEST

START_TEST(test_url_safe_and_unpadded_base64_are_accepted)
{
	Etcdserverpb__PutRequest *p = (void *)decode_ok(
		&etcdserverpb__put_request__descriptor,
		"{\"key\":\"-_8\",\"value\":\"Zm8\"}");
	static const uint8_t want[] = {0xfb, 0xff};

	ck_assert_uint_eq(p->key.len, 2);
	ck_assert_mem_eq(p->key.data, want, 2);
	assert_bytes(p->value, "fo");
	proto_free(&p->base);
	p = (void *)decode_ok(&etcdserverpb__put_request__descriptor,
			      "{\"key\":\"+/8=\",\"value\":\"Zm9v\\nYmFy\"}");
	ck_assert_mem_eq(p->key.data, want, 2);
	assert_bytes(p->value, "foobar");
	proto_free(&p->base);
	p = (void *)decode_ok(&etcdserverpb__put_request__descriptor,
			      "{\"key\":\"\",\"value\":\"Zg\"}");
	ck_assert_uint_eq(p->key.len, 0);
	assert_bytes(p->value, "f");
	proto_free(&p->base);
}
END_TEST

START_TEST(test_malformed_json_is_a_parse_error_near_the_field)
{
	const ProtobufCMessageDescriptor *range =
		&etcdserverpb__range_request__descriptor;

	/* etcd's gateway: {bad} -> invalid character 'b' looking for ... */
	decode_err(range, "{bad}", -ERR_PARSE, "invalid JSON at byte 1");
	decode_err(range, "{\"key\":\"YQ==\",\"limit\": }", -ERR_PARSE,
		   "(after field \"limit\")");
	decode_err(range, "{\"key\":\"YQ==\"", -ERR_PARSE,
		   "unexpected end of JSON input");
	decode_err(range, "", -ERR_PARSE, "invalid JSON");
	decode_err(range, "{\"key\":\"YQ==\",}", -ERR_PARSE, "invalid JSON");
	decode_err(range, "{} {}", -ERR_PARSE, "invalid JSON at byte 3");
	decode_err(range, "{}x", -ERR_PARSE, "invalid JSON at byte 2");
	decode_err(range, "{'key':'YQ=='}", -ERR_PARSE, "invalid JSON");
	decode_err(range, "{\"limit\":NaN}", -ERR_PARSE, "invalid JSON");
}
END_TEST

START_TEST(test_unknown_fields_and_nulls_are_ignored)
{
	Etcdserverpb__RangeRequest *r = (void *)decode_ok(
		&etcdserverpb__range_request__descriptor,
		" {\"bogus\":1,\"key\":\"YQ==\",\"nested\":{\"a\":[1,{}]},"
		"\"limit\":null,\"range_end\":null,\"sort_order\":null} \n");

	assert_bytes(r->key, "a");
	ck_assert_int_eq(r->limit, 0);
	ck_assert_uint_eq(r->range_end.len, 0);
	proto_free(&r->base);

	Etcdserverpb__TxnRequest *t =
		(void *)decode_ok(&etcdserverpb__txn_request__descriptor,
				  "{\"compare\":null,\"success\":[]}");
	ck_assert_uint_eq(t->n_compare, 0);
	ck_assert_uint_eq(t->n_success, 0);
	proto_free(&t->base);

	ProtobufCMessage *m =
		decode_ok(&etcdserverpb__status_request__descriptor, "null");
	proto_free(m);
}
END_TEST

START_TEST(test_the_last_member_of_a_oneof_wins_without_leaking)
{
	Etcdserverpb__RequestOp *op = (void *)decode_ok(
		&etcdserverpb__request_op__descriptor,
		"{\"request_put\":{\"key\":\"YQ==\"},"
		"\"request_range\":{\"key\":\"Yg==\"}}");
	Etcdserverpb__PutRequest *p;

	ck_assert_int_eq(op->request_case,
			 ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE);
	assert_bytes(op->request_range->key, "b");
	proto_free(&op->base);

	/* The same field under both spellings: the later one counts. */
	p = (void *)decode_ok(&etcdserverpb__put_request__descriptor,
			      "{\"prev_kv\":false,\"prevKv\":true,"
			      "\"key\":\"YQ==\",\"key\":\"Yg==\"}");
	ck_assert(p->prev_kv);
	assert_bytes(p->key, "b");
	proto_free(&p->base);

	Etcdserverpb__AuthenticateRequest *a = (void *)decode_ok(
		&etcdserverpb__authenticate_request__descriptor,
		"{\"name\":\"x\",\"password\":\"p\\u00e9\",\"name\":null}");
	ck_assert_str_eq(a->name, "");
	ck_assert_str_eq(a->password, "p\xc3\xa9");
	proto_free(&a->base);
}
END_TEST

START_TEST(test_invalid_utf8_in_strings_becomes_replacement_characters)
{
	/* Go's decoder replaces each bad byte with U+FFFD; so do we. */
	Etcdserverpb__AuthenticateRequest *a = (void *)decode_ok(
		&etcdserverpb__authenticate_request__descriptor,
		"{\"name\":\"a\x80" "b\xc3\",\"password\":\"\xc3\xa9\"}");

	ck_assert_str_eq(a->name, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	ck_assert_str_eq(a->password, "\xc3\xa9");
	proto_free(&a->base);
}
END_TEST

START_TEST(test_prefix_decoding_walks_a_stream_of_messages)
{
	static const char stream[] =
		"{\"create_request\":{\"key\":\"YQ==\"}}\n"
		" {\"cancel_request\":{\"watch_id\":\"3\"}}{\"progress_request\"";
	const ProtobufCMessageDescriptor *d =
		&etcdserverpb__watch_request__descriptor;
	Etcdserverpb__WatchRequest *w;
	size_t off = 0, used = 0;
	char err[PJSON_ERR_SIZE];

	ck_assert_int_eq(pjson_decode_prefix(d, stream, strlen(stream), &used,
					     (ProtobufCMessage **)&w, err,
					     sizeof(err)),
			 0);
	ck_assert_int_eq(w->request_union_case,
			 ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST);
	proto_free(&w->base);
	off += used;
	ck_assert_int_eq(pjson_decode_prefix(d, stream + off,
					     strlen(stream) - off, &used,
					     (ProtobufCMessage **)&w, err,
					     sizeof(err)),
			 0);
	ck_assert_int_eq(w->cancel_request->watch_id, 3);
	proto_free(&w->base);
	off += used;
	ck_assert_int_eq(pjson_decode_prefix(d, stream + off,
					     strlen(stream) - off, &used,
					     (ProtobufCMessage **)&w, err,
					     sizeof(err)),
			 -EAGAIN);
	ck_assert_int_eq(pjson_decode_prefix(d, " \n", 2, &used,
					     (ProtobufCMessage **)&w, err,
					     sizeof(err)),
			 -EAGAIN);
	ck_assert_int_eq(pjson_decode_prefix(d, "{\"a\":\"}\"", 8, &used,
					     (ProtobufCMessage **)&w, err,
					     sizeof(err)),
			 -EAGAIN);
	ck_assert_int_eq(pjson_decode_prefix(d, "}{}", 3, &used,
					     (ProtobufCMessage **)&w, err,
					     sizeof(err)),
			 -ERR_PARSE);
}
END_TEST

START_TEST(test_deep_nesting_is_refused_not_crashed)
{
	struct buf b = BUF_INIT;
	ProtobufCMessage *m = NULL;
	char err[PJSON_ERR_SIZE];
	int depth = 200;

	for (int i = 0; i < depth; i++) {
		ck_assert_int_eq(buf_append_str(&b, "{\"success\":[{\"request_"
						    "txn\":"),
				 0);
	}
	ck_assert_int_eq(buf_append_str(&b, "{}"), 0);
	for (int i = 0; i < depth; i++) {
		ck_assert_int_eq(buf_append_str(&b, "}]}"), 0);
	}
	ck_assert_int_eq(pjson_decode(&etcdserverpb__txn_request__descriptor,
				      (char *)b.data, b.len, &m, err,
				      sizeof(err)),
			 -ERR_PARSE);
	ck_assert_ptr_null(m);
	buf_done(&b);
}
END_TEST

START_TEST(test_errors_fit_any_buffer_and_null_is_allowed)
{
	ProtobufCMessage *m = NULL;
	char small[8];
	const char *bad = "{\"lease\":{}}";

	ck_assert_int_eq(pjson_decode(&etcdserverpb__put_request__descriptor,
				      bad, strlen(bad), &m, small,
				      sizeof(small)),
			 -ERR_INVALID);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(pjson_decode(&etcdserverpb__put_request__descriptor,
				      bad, strlen(bad), &m, NULL, 0),
			 -ERR_INVALID);
	ck_assert_int_eq(pjson_decode(&etcdserverpb__put_request__descriptor,
				      "{", 1, &m, NULL, 0),
			 -ERR_PARSE);
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_failing_each_allocation_never_crashes_or_leaks)
{
	static const char *bodies[] = {
		"{\"compare\":[{\"key\":\"Zm9v\",\"target\":\"VALUE\","
		"\"value\":\"YmFy\",\"range_end\":\"eg==\"}],"
		"\"success\":[{\"request_put\":{\"key\":\"Zm9v\","
		"\"value\":\"YmF6\",\"lease\":\"18446744073\"}},"
		"{\"request_txn\":{\"success\":[{\"request_range\":"
		"{\"key\":\"YQ==\",\"limit\":99999999999999999999}}]}}],"
		"\"failure\":[{\"request_delete_range\":{\"key\":\"Zm9v\"}},"
		"{\"request_put\":{\"key\":\"Zm9v\"},"
		"\"request_range\":{\"key\":\"Zm9v\"}}]}",
		"{\"compare\":[{\"key\":\"Zm9v\"},{\"key\":\"!!\"}]}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		int want = -1;

		for (long n = 0;; n++) {
			ProtobufCMessage *m = NULL;
			char err[PJSON_ERR_SIZE];
			int r;

			mem_fail_after(n);
			r = pjson_decode(&etcdserverpb__txn_request__descriptor,
					 bodies[i], strlen(bodies[i]), &m, err,
					 sizeof(err));
			mem_fail_reset();
			if (r == -ENOMEM) {
				ck_assert_ptr_null(m);
				continue;
			}
			proto_free(m);
			want = r;
			break;
		}
		/* The first body fails on its limit; the second on "!!". */
		ck_assert_int_eq(want, -ERR_INVALID);
	}
}
END_TEST

static Suite *pjson_decode_suite(void)
{
	Suite *s = suite_create("pjson_decode");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_put_body_from_etcds_docs_decodes);
	tcase_add_test(tc, test_proto_and_lower_camel_names_are_both_accepted);
	tcase_add_test(tc, test_range_limit_is_accepted_as_string_or_number);
	tcase_add_test(tc, test_txn_with_compare_and_ops_decodes);
	tcase_add_test(tc, test_watch_create_with_filters_decodes);
	tcase_add_test(tc, test_uint64_max_and_values_above_int64_max_are_exact);
	tcase_add_test(tc, test_out_of_range_integers_name_the_field);
	tcase_add_test(tc, test_wrong_types_name_the_field);
	tcase_add_test(tc, test_invalid_base64_names_the_field_and_byte);
	tcase_add_test(tc, test_url_safe_and_unpadded_base64_are_accepted);
	tcase_add_test(tc, test_malformed_json_is_a_parse_error_near_the_field);
	tcase_add_test(tc, test_unknown_fields_and_nulls_are_ignored);
	tcase_add_test(tc, test_the_last_member_of_a_oneof_wins_without_leaking);
	tcase_add_test(tc,
		       test_invalid_utf8_in_strings_becomes_replacement_characters);
	tcase_add_test(tc, test_prefix_decoding_walks_a_stream_of_messages);
	tcase_add_test(tc, test_deep_nesting_is_refused_not_crashed);
	tcase_add_test(tc, test_errors_fit_any_buffer_and_null_is_allowed);
	tcase_add_test(tc, test_failing_each_allocation_never_crashes_or_leaks);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(pjson_decode_suite)
