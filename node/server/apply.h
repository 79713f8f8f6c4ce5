/*
 * apply.h - etcd's KV requests (etcdserverpb) checked, translated to the
 * MVCC store's requests (mvcc/mvcc.h) and their results translated back.
 *
 * Invariants:
 *  1. The apply_check_* functions are etcd's checks before a request is
 *     proposed (v3rpc key.go): they never touch the store, so every member
 *     would reach the same verdict.
 *  2. apply_* execute on the store's open write transaction (mvcc.h
 *     invariant 4) and produce a response whose header carries only the
 *     revision; the member fills cluster_id, member_id and raft_term.
 *  3. Responses are built from mem_alloc'd parts that apply_resp_free
 *     releases (kvs keep the store's one allocation per key and value).
 */
#ifndef CETCD_SERVER_APPLY_H
#define CETCD_SERVER_APPLY_H

#include <protobuf-c/protobuf-c.h>

#include "mvcc/mvcc.h"
#include "proto/proto.h"

int apply_check_range(const Etcdserverpb__RangeRequest *r);
int apply_check_put(const Etcdserverpb__PutRequest *r);
int apply_check_delete_range(const Etcdserverpb__DeleteRangeRequest *r);
/* max_ops: --max-txn-ops (compares, success and failure each). */
int apply_check_txn(const Etcdserverpb__TxnRequest *r, unsigned max_ops);

/*
 * Execute a request on s; on success *out is a new response message of the
 * matching type (apply_resp_free).  Errors are the store's (-ERR_*).
 */
int apply_range(struct mvcc_store *s, const Etcdserverpb__RangeRequest *req,
		Etcdserverpb__RangeResponse **out);
int apply_put(struct mvcc_store *s, const Etcdserverpb__PutRequest *req,
	      Etcdserverpb__PutResponse **out);
int apply_delete_range(struct mvcc_store *s,
		       const Etcdserverpb__DeleteRangeRequest *req,
		       Etcdserverpb__DeleteRangeResponse **out);
int apply_txn(struct mvcc_store *s, const Etcdserverpb__TxnRequest *req,
	      Etcdserverpb__TxnResponse **out);
int apply_compaction(struct mvcc_store *s,
		     const Etcdserverpb__CompactionRequest *req,
		     Etcdserverpb__CompactionResponse **out);

/* Whether a txn may write (its cost counts against the quota). */
bool apply_txn_has_put(const Etcdserverpb__TxnRequest *r);

/* Free a response built by this module (any of the types above). */
void apply_resp_free(ProtobufCMessage *resp);

/* A new empty response of desc's type with a header; NULL on -ENOMEM. */
ProtobufCMessage *apply_resp_new(const ProtobufCMessageDescriptor *desc);

/* The header of a response built here (never NULL). */
Etcdserverpb__ResponseHeader *apply_resp_header(ProtobufCMessage *resp);

#endif
