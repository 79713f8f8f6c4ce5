/*
 * fuzz_pjson.c - the fuzz target body for pjson_decode (fuzz_pjson.h).
 */
#include "fuzz_pjson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "protogen.h"

/* Abort with a note: the fuzzer (or the test) reports the input. */
static void fuzz_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "pjson_fuzz_one: %s\n", what);
		abort();
	}
}

static const ProtobufCMessageDescriptor *pick_type(const uint8_t *name,
						   size_t n)
{
	const ProtobufCMessageDescriptor *all[PROTOGEN_N_MESSAGES];
	size_t count = protogen_all(all);
	char tmp[128];
	unsigned sum = 0;
	const ProtobufCMessageDescriptor *d;

	if (n < sizeof(tmp)) {
		memcpy(tmp, name, n);
		tmp[n] = '\0';
		d = protogen_find(tmp);
		if (d != NULL) {
			return d;
		}
	}
	for (size_t i = 0; i < n; i++) {
		sum = sum * 31 + name[i];
	}
	return all[sum % count];
}

/* m decoded fine: it must survive encode -> decode -> encode exactly. */
static void check_stable(const ProtobufCMessage *m)
{
	struct buf j1 = BUF_INIT, j2 = BUF_INIT;
	ProtobufCMessage *back = NULL;
	size_t l1, l2;
	uint8_t *p1, *p2;
	int r;

	r = pjson_encode(m, &j1);
	if (r == -ENOMEM) {
		buf_done(&j1);
		return;
	}
	fuzz_check(r == 0, "encode failed");
	r = pjson_decode(m->descriptor, (const char *)j1.data, j1.len, &back,
			 NULL, 0);
	if (r == -ENOMEM) {
		buf_done(&j1);
		return;
	}
	fuzz_check(r == 0, "own output does not decode");
	l1 = protobuf_c_message_get_packed_size(m);
	l2 = protobuf_c_message_get_packed_size(back);
	fuzz_check(l1 == l2, "protobuf size changed");
	p1 = malloc(l1 + 1);
	p2 = malloc(l2 + 1);
	fuzz_check(p1 != NULL && p2 != NULL, "out of memory");
	protobuf_c_message_pack(m, p1);
	protobuf_c_message_pack(back, p2);
	fuzz_check(memcmp(p1, p2, l1) == 0, "protobuf bytes changed");
	if (pjson_encode(back, &j2) == 0) {
		fuzz_check(strcmp((char *)j1.data, (char *)j2.data) == 0,
			   "JSON changed");
	}
	free(p1);
	free(p2);
	buf_done(&j1);
	buf_done(&j2);
	proto_free(back);
}

int pjson_fuzz_one(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t name_len = nl != NULL ? (size_t)(nl - data) : 0;
	const char *text = (const char *)data + (nl != NULL ? name_len + 1 : 0);
	size_t len = size - (size_t)(text - (const char *)data);
	const ProtobufCMessageDescriptor *d = pick_type(data, name_len);
	char err[PJSON_ERR_SIZE];
	ProtobufCMessage *m = NULL;
	size_t off = 0;
	int r;

	r = pjson_decode(d, text, len, &m, err, sizeof(err));
	fuzz_check(r == 0 || r == -ERR_PARSE || r == -ERR_INVALID ||
			   r == -ENOMEM,
		   "unexpected error code");
	fuzz_check(r == 0 || m == NULL, "output set on error");
	fuzz_check(r != -ERR_PARSE && r != -ERR_INVALID ? 1 : err[0] != '\0',
		   "error without text");
	if (r == 0) {
		check_stable(m);
		proto_free(m);
	}

	/* The same text as a stream of messages. */
	for (int i = 0; i < 64 && off < len; i++) {
		size_t used = 0;

		m = NULL;
		r = pjson_decode_prefix(d, text + off, len - off, &used, &m,
					err, sizeof(err));
		if (r < 0) {
			break;
		}
		fuzz_check(used > 0 && used <= len - off, "bad consumed count");
		proto_free(m);
		off += used;
	}
	return 0;
}
