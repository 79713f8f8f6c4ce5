/*
 * protogen.c - message type catalogue and random instances (protogen.h).
 */
#include "protogen.h"

#include <string.h>

#include "base/mem.h"
#include "proto/proto.h"
#include "testlib.h"

/* Message types no RPC request or response reaches. */
static const ProtobufCMessageDescriptor *const extra_roots[] = {
	&etcdserverpb__lease_checkpoint__descriptor,
	&etcdserverpb__lease_checkpoint_request__descriptor,
	&etcdserverpb__lease_checkpoint_response__descriptor,
	&authpb__user__descriptor,
	&authpb__role__descriptor,
};

static void add(const ProtobufCMessageDescriptor **out, size_t *n,
		const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < *n; i++) {
		if (out[i] == d) {
			return;
		}
	}
	if (*n >= PROTOGEN_N_MESSAGES + 16) {
		return;
	}
	out[(*n)++] = d;
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE) {
			add(out, n, d->fields[i].descriptor);
		}
	}
}

size_t protogen_all(const ProtobufCMessageDescriptor **out)
{
	static const ProtobufCMessageDescriptor *all[PROTOGEN_N_MESSAGES + 16];
	static size_t n_all;

	if (n_all == 0) {
		for (size_t s = 0; s < proto_n_services; s++) {
			const ProtobufCServiceDescriptor *svc = proto_services[s];

			for (unsigned m = 0; m < svc->n_methods; m++) {
				add(all, &n_all, svc->methods[m].input);
				add(all, &n_all, svc->methods[m].output);
			}
		}
		for (size_t i = 0; i < sizeof(extra_roots) / sizeof(*extra_roots);
		     i++) {
			add(all, &n_all, extra_roots[i]);
		}
	}
	for (size_t i = 0; i < n_all && i < PROTOGEN_N_MESSAGES; i++) {
		out[i] = all[i];
	}
	return n_all;
}

const ProtobufCMessageDescriptor *protogen_find(const char *name)
{
	const ProtobufCMessageDescriptor *all[PROTOGEN_N_MESSAGES];
	size_t n = protogen_all(all);

	for (size_t i = 0; i < n && i < PROTOGEN_N_MESSAGES; i++) {
		if (strcmp(all[i]->name, name) == 0) {
			return all[i];
		}
	}
	return NULL;
}

static size_t value_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 4;
	}
}

/* Values worth trying for integers, as 64-bit patterns. */
static uint64_t pick_int(uint64_t *rng, ProtobufCType t)
{
	static const uint64_t wide[] = {
		0, 1, 13, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
		0xffffffffffffffffULL, 0xfffffffffffffffeULL,
		14590032085621120027ULL,
	};
	uint64_t v = testlib_rand_below(rng, 2)
			     ? wide[testlib_rand_below(rng, 8)]
			     : testlib_rand_next(rng);
	bool is_32 = value_size(t) == 4;

	if (is_32) {
		v &= 0xffffffffu;
	}
	return v;
}

/* Characters a JSON encoder must get right, some several bytes long. */
static const char *const pieces[] = {
	"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f",
	"<", ">", "&", "\xc3\xa9", "\xe2\x82\xac", "\xe2\x80\xa8",
	"\xf0\x9f\x98\x80", "\x7f", "{", "}",
};

static char *random_string(uint64_t *rng)
{
	size_t n = testlib_rand_below(rng, 10);
	char buf[10 * 4 + 1];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[testlib_rand_below(
			rng, sizeof(pieces) / sizeof(pieces[0]))];

		memcpy(buf + len, p, strlen(p));
		len += strlen(p);
	}
	buf[len] = '\0';
	return mem_strdup(buf);
}

static ProtobufCMessage *random_message(const ProtobufCMessageDescriptor *d,
					uint64_t *rng, int depth);

/* Fill one value of field f at p; -1 when an allocation fails. */
static int random_value(const ProtobufCFieldDescriptor *f, void *p,
			uint64_t *rng, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = 1;
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;

		/* Mostly named values; sometimes one without a name. */
		if (testlib_rand_below(rng, 8) == 0) {
			*(int *)p = 100 + (int)testlib_rand_below(rng, 100);
		} else {
			*(int *)p = ed->values[testlib_rand_below(
						      rng, ed->n_values)]
					    .value;
		}
		return 0;
	}
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)p = (float)(int32_t)testlib_rand_next(rng) / 7.0f;
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)p = (double)(int64_t)testlib_rand_next(rng) / 7.0;
		return 0;
	case PROTOBUF_C_TYPE_STRING:
		*(char **)p = random_string(rng);
		return *(char **)p == NULL ? -1 : 0;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *bd = p;
		size_t n = 1 + testlib_rand_below(rng, 12);

		bd->data = mem_alloc(n);
		if (bd->data == NULL) {
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			bd->data[i] = (uint8_t)testlib_rand_next(rng);
		}
		bd->len = n;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)p =
			random_message(f->descriptor, rng, depth + 1);
		return *(ProtobufCMessage **)p == NULL ? -1 : 0;
	default:
		if (value_size(f->type) == 4) {
			*(uint32_t *)p = (uint32_t)pick_int(rng, f->type);
		} else {
			*(uint64_t *)p = pick_int(rng, f->type);
		}
		return 0;
	}
}

/* Position of f among the members of its oneof, and their number. */
static unsigned oneof_index(const ProtobufCMessageDescriptor *d,
			    const ProtobufCFieldDescriptor *f, unsigned *n)
{
	unsigned idx = 0;

	*n = 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *g = &d->fields[i];

		if ((g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    g->quantifier_offset == f->quantifier_offset) {
			if (g == f) {
				idx = *n;
			}
			(*n)++;
		}
	}
	return idx;
}

static ProtobufCMessage *random_message(const ProtobufCMessageDescriptor *d,
					uint64_t *rng, int depth)
{
	ProtobufCMessage *m = mem_alloc(d->sizeof_message);
	/* Which member each oneof gets, by the oneof's quantifier offset. */
	struct {
		unsigned offset, pick;
	} oneofs[8];
	size_t n_oneofs = 0;

	if (m == NULL) {
		return NULL;
	}
	protobuf_c_message_init(d, m);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *base = (char *)m;
		unsigned n, idx, pick = 0;
		int r;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = depth >= 3 ? 0 : testlib_rand_below(rng, 4);
			size_t sz = value_size(f->type);
			char *arr;

			if (cnt == 0) {
				continue;
			}
			arr = mem_calloc(cnt, sz);
			if (arr == NULL) {
				proto_free(m);
				return NULL;
			}
			*(char **)(base + f->offset) = arr;
			for (size_t j = 0; j < cnt; j++) {
				*(size_t *)(base + f->quantifier_offset) = j + 1;
				if (random_value(f, arr + j * sz, rng, depth) <
				    0) {
					proto_free(m);
					return NULL;
				}
			}
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			size_t k;

			idx = oneof_index(d, f, &n);
			for (k = 0; k < n_oneofs; k++) {
				if (oneofs[k].offset == f->quantifier_offset) {
					pick = oneofs[k].pick;
					break;
				}
			}
			if (k == n_oneofs && n_oneofs < 8) {
				/* n means "none of them". */
				pick = (unsigned)testlib_rand_below(rng, n + 1);
				oneofs[n_oneofs].offset = f->quantifier_offset;
				oneofs[n_oneofs++].pick = pick;
			}
			if (pick != idx) {
				continue;
			}
			*(uint32_t *)(base + f->quantifier_offset) = f->id;
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				*(char **)(base + f->offset) = NULL;
			}
		} else if (testlib_rand_below(rng, 4) == 0 ||
			   (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 3)) {
			continue;
		}
		r = random_value(f, base + f->offset, rng, depth);
		if (r < 0) {
			proto_free(m);
			return NULL;
		}
	}
	return m;
}

ProtobufCMessage *protogen_random(const ProtobufCMessageDescriptor *d,
				  uint64_t *rng)
{
	return random_message(d, rng, 0);
}
