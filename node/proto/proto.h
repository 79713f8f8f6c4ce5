/*
 * proto.h - node/proto: the protobuf-c messages generated from the .proto
 * files beside this header, and the generic proto3-JSON codec.
 */
#ifndef CETCD_PROTO_PROTO_H
#define CETCD_PROTO_PROTO_H

#include "raftpb.pb-c.h"

#endif
