/*
 * proto.c - the allocator, unpacking and gRPC method table of node/proto
 * (proto.h).
 */
#include "proto/proto.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

/* Allocations proto_allocator could not satisfy, to tell -ENOMEM apart. */
static unsigned long alloc_failures;

static void *proto_alloc_cb(void *data, size_t size)
{
	void *p = mem_alloc(size);

	(void)data;
	if (p == NULL) {
		alloc_failures++;
	}
	return p;
}

static void proto_free_cb(void *data, void *p)
{
	(void)data;
	mem_free(p);
}

ProtobufCAllocator proto_allocator = {
	.alloc = proto_alloc_cb,
	.free = proto_free_cb,
	.allocator_data = NULL,
};

void proto_free(ProtobufCMessage *msg)
{
	if (msg != NULL) {
		protobuf_c_message_free_unpacked(msg, &proto_allocator);
	}
}

int proto_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
		 size_t len, ProtobufCMessage **out)
{
	unsigned long failed = alloc_failures;
	ProtobufCMessage *m;

	m = protobuf_c_message_unpack(desc, &proto_allocator, len, data);
	if (m == NULL) {
		/*
		 * protobuf-c reports every failure as NULL; an allocation
		 * refused meanwhile means out of memory, not bad bytes.
		 */
		return alloc_failures != failed ? -ENOMEM : -ERR_PARSE;
	}
	*out = m;
	return 0;
}

const ProtobufCServiceDescriptor *const proto_services[] = {
	&etcdserverpb__kv__descriptor,
	&etcdserverpb__watch__descriptor,
	&etcdserverpb__lease__descriptor,
	&etcdserverpb__cluster__descriptor,
	&etcdserverpb__maintenance__descriptor,
	&etcdserverpb__auth__descriptor,
};
const size_t proto_n_services =
	sizeof(proto_services) / sizeof(proto_services[0]);

int proto_method_lookup(const char *path, size_t len,
			const ProtobufCServiceDescriptor **svc,
			const ProtobufCMethodDescriptor **method)
{
	const char *slash;
	size_t svc_len;

	if (len < 3 || path[0] != '/') {
		return -ENOENT;
	}
	slash = memchr(path + 1, '/', len - 1);
	if (slash == NULL) {
		return -ENOENT;
	}
	svc_len = (size_t)(slash - (path + 1));
	for (size_t i = 0; i < proto_n_services; i++) {
		const ProtobufCServiceDescriptor *s = proto_services[i];
		const char *mname = slash + 1;
		size_t mlen = len - svc_len - 2;

		if (strlen(s->name) != svc_len ||
		    memcmp(s->name, path + 1, svc_len) != 0) {
			continue;
		}
		for (unsigned j = 0; j < s->n_methods; j++) {
			const ProtobufCMethodDescriptor *m = &s->methods[j];

			if (strlen(m->name) == mlen &&
			    memcmp(m->name, mname, mlen) == 0) {
				*svc = s;
				*method = m;
				return 0;
			}
		}
		return -ENOENT;
	}
	return -ENOENT;
}
