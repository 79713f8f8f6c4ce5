/*
 * proto.h - node/proto: the protobuf-c messages generated from the .proto
 * files beside this header (etcd's v3 API in etcdserverpb, mvccpb, authpb;
 * cetcd's raftpb), the allocator every decoder uses, and the gRPC method
 * table.  The generic proto3-JSON codec is in proto/pjson.h.
 *
 * Invariants:
 *  1. Every message this layer allocates (proto_unpack, pjson_decode) comes
 *     from proto_allocator, i.e. from mem_alloc, so tests can fail the N-th
 *     allocation; free such messages with proto_free (or
 *     protobuf_c_message_free_unpacked with &proto_allocator; since mem_alloc
 *     is malloc underneath, a NULL allocator works too).
 *  2. proto_services lists etcd's six v3 services in a fixed order; method
 *     paths are "/" service full name "/" method name, as gRPC builds them.
 */
#ifndef CETCD_PROTO_PROTO_H
#define CETCD_PROTO_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "auth.pb-c.h"
#include "kv.pb-c.h"
#include "raftpb.pb-c.h"
#include "rpc.pb-c.h"

/* A protobuf-c allocator over mem_alloc/mem_free. */
extern ProtobufCAllocator proto_allocator;

/* Free a message unpacked or decoded by this layer; NULL is a no-op. */
void proto_free(ProtobufCMessage *msg);

/*
 * Unpack len bytes of protobuf into a new message of type desc.
 * 0 and *out set, -ENOMEM, or -ERR_PARSE for bytes that are not a desc.
 * Loop thread only: telling -ENOMEM from -ERR_PARSE uses a global count.
 */
int proto_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
		 size_t len, ProtobufCMessage **out);

/* etcd's six v3 services: KV, Watch, Lease, Cluster, Maintenance, Auth. */
extern const ProtobufCServiceDescriptor *const proto_services[];
extern const size_t proto_n_services;

/*
 * Find the method a gRPC path names ("/etcdserverpb.KV/Range"; len bytes,
 * not NUL-terminated).  0 with *svc and *method set, or -ENOENT.
 */
int proto_method_lookup(const char *path, size_t len,
			const ProtobufCServiceDescriptor **svc,
			const ProtobufCMethodDescriptor **method);

#endif
