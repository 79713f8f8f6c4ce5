/*
 * protogen.h - test helpers for node/proto: every etcd v3 message type, and
 * seeded random instances of any of them built from the descriptor alone.
 */
#ifndef CETCD_TESTS_PROTOGEN_H
#define CETCD_TESTS_PROTOGEN_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Every message type of rpc.proto, kv.proto and auth.proto. */
#define PROTOGEN_N_MESSAGES 101

/*
 * Fill out (PROTOGEN_N_MESSAGES entries) with every message descriptor
 * reachable from etcd's six services, plus the ones no RPC carries;
 * returns how many were found.
 */
size_t protogen_all(const ProtobufCMessageDescriptor **out);

/* The descriptor named name ("etcdserverpb.RangeResponse"), or NULL. */
const ProtobufCMessageDescriptor *protogen_find(const char *name);

/*
 * A new message of type d with fields set from *rng: each singular field
 * set or left default, repeated fields of 0-3 elements, one member (or
 * none) of each oneof, nested messages down to a few levels, strings with
 * characters JSON must escape.  Allocated with mem_alloc, so proto_free
 * frees it; NULL only when an allocation fails.
 */
ProtobufCMessage *protogen_random(const ProtobufCMessageDescriptor *d,
				  uint64_t *rng);

#endif
