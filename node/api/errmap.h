/*
 * errmap.h - the one table from project error codes to what clients see:
 * the gRPC status code, etcd's exact error string, and the HTTP status
 * etcd's JSON gateway returns.
 *
 * Both protocols of the client port use it: the gRPC layer sends
 * grpc-status and grpc-message from an entry, the HTTP/1.1 gateway renders
 * the JSON error body from the same entry.  Clients match on the strings
 * (clientv3's errStringToError, etcd3gw, python-etcd3), so they are
 * byte-for-byte etcd's [reference §2].
 *
 * Invariants:
 *  1. Every project code of node/base/err.h has an entry (a test checks).
 *  2. errmap_lookup() never returns NULL: an unmapped code or an errno
 *     becomes Unknown with err_str()'s text, as etcd turns an unmapped Go
 *     error into codes.Unknown with its text.
 *  3. HTTP statuses follow grpc-gateway v1.16 (etcd 3.5): FailedPrecondition
 *     is 400, not the 412 of Debian's 3.4 binary (design.md: follow 3.5).
 */
#ifndef CETCD_API_ERRMAP_H
#define CETCD_API_ERRMAP_H

#include <stdbool.h>

#include "base/buf.h"
#include "sys/grpc.h" /* enum grpc_status: the one list of gRPC codes */

struct errmap_entry {
	int err;	     /* the project code, positive (ERR_NO_LEADER) */
	enum grpc_status code; /* gRPC status */
	const char *message; /* etcd's exact string, the grpc-message */
};

/*
 * The entry for err (negative or positive), or NULL when the table has
 * none (errno values, unknown codes).  For tests and for callers that want
 * to know.
 */
const struct errmap_entry *errmap_find(int err);

/*
 * The entry for err; never NULL (invariant 2).  For a code outside the
 * table it is a per-thread fallback (message err_str(err)) valid until the
 * next errmap_lookup() on the same thread.
 */
const struct errmap_entry *errmap_lookup(int err);

/* The HTTP status grpc-gateway (v1.16, etcd 3.5) maps code to. */
int errmap_http_status(enum grpc_status code);

/* Go's name of the code ("InvalidArgument"), for logs and tests. */
const char *errmap_code_name(enum grpc_status code);

/*
 * Append the gateway's unary error body for err:
 * {"error":"<msg>","code":<grpc code>,"message":"<msg>"} (grpc-gateway
 * v1.16 field order: error, code, message; no details; no newline).
 * Returns the HTTP status to send (> 0) or -ENOMEM (out unchanged).
 */
int errmap_render_json(int err, struct buf *out);

/* The same for a message that is not in the table (JSON parse errors). */
int errmap_render_json_msg(enum grpc_status code, const char *message,
			   struct buf *out);

/*
 * Append a stream error object as the gateway sends it inside a chunked
 * stream: {"error":{"grpc_code":N,"http_code":N,"message":"...",
 * "http_status":"Service Unavailable"}} followed by "\n".
 * Returns 0 or -ENOMEM (out unchanged).
 */
int errmap_render_stream_error(int err, struct buf *out);

/* Append s as a JSON string literal (with quotes).  0 or -ENOMEM. */
int errmap_json_quote(struct buf *out, const char *s);

#endif
