/*
 * raftmsg.h - struct raft_message to and from raftpb.Message bytes (the
 * payload of the peer transport's frames).
 *
 * Invariants:
 *  1. decode(encode(m)) equals m field by field (entries, snapshot with its
 *     conf state, context).
 *  2. Decoding never trusts the bytes: a malformed message, an unknown
 *     message or entry type is -ERR_PARSE and nothing is written to *out.
 */
#ifndef CETCD_SERVER_RAFTMSG_H
#define CETCD_SERVER_RAFTMSG_H

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

/* Encode m into a new buffer (*data owned by the caller). 0 or -ENOMEM. */
int raftmsg_encode(const struct raft_message *m, uint8_t **data, size_t *len);
/* Decode into *out (release with raft_message_done). 0, -ERR_PARSE, -ENOMEM. */
int raftmsg_decode(const uint8_t *data, size_t len, struct raft_message *out);

#endif
