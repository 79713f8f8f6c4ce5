/*
 * pjson.h - the proto3 JSON mapping of any protobuf-c message, as etcd's
 * grpc-gateway speaks it (reference/etcd-v3.md 1.9).  One codec walks the
 * descriptors; there is no per-message code.
 *
 * Output (pjson_encode), like grpc-gateway's JSONPb{OrigName: true}:
 *  - keys are the .proto field names ("cluster_id", "dbSize", "ID"), in
 *    field-number order, no whitespace, no trailing newline;
 *  - 64-bit integers are JSON strings ("revision":"13"); 32-bit ones and
 *    bools are plain JSON; floats are numbers or "NaN"/"Infinity"/
 *    "-Infinity";
 *  - bytes are standard padded base64; enums are their value names (a
 *    number when the value has no name);
 *  - proto3 defaults (0, false, "", empty bytes, empty repeated, unset
 *    message) are omitted; a oneof's set member is always written, even
 *    when it holds the default value (a Compare on version 0 keeps
 *    "version":"0");
 *  - strings are escaped as Go's encoding/json does (", \, control
 *    characters, and <, >, &, U+2028, U+2029 as \u escapes; invalid UTF-8
 *    as U+FFFD).
 *
 * Input (pjson_decode), like grpc-gateway's jsonpb unmarshal:
 *  - keys may be the .proto name or its lowerCamelCase JSON name
 *    ("prev_kv" or "prevKv"); unknown keys are ignored; null means the
 *    default; when a field (or a oneof) is given twice the last one wins;
 *  - integers may be JSON numbers or strings holding a JSON integer; all
 *    values up to 2^64-1 (uint64) and down to -2^63 (int64) are exact, and
 *    anything outside the field's range is an error;
 *  - enums may be names or numbers; bytes accept standard or URL-safe
 *    base64, padded or not;
 *  - strings keep their UTF-8; bytes that are not valid UTF-8 become
 *    U+FFFD (as Go's decoder does); a string holding NUL is refused;
 *  - nesting is limited to PJSON_MAX_DEPTH JSON levels;
 *  - proto3 semantics: proto2 required fields are not checked.
 *
 * Errors: every decode error has a text for the client.  A wrong type or
 * value names the field by its path from the top message, with array
 * indexes: invalid value for field "compare[0].key": illegal base64 data at
 * input byte 3.  Malformed JSON names the byte offset and the last key seen
 * before it.
 *
 * Memory: decoded messages are allocated through proto_allocator (so the
 * N-th allocation can be made to fail); free them with proto_free().
 * json-c's own parse tree uses malloc directly and is freed before return.
 */
#ifndef CETCD_PROTO_PJSON_H
#define CETCD_PROTO_PJSON_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "base/buf.h"

/* JSON nesting allowed on input (objects and arrays both count). */
#define PJSON_MAX_DEPTH 64

/* Enough for any error text pjson produces (longer ones are truncated). */
#define PJSON_ERR_SIZE 256

/*
 * Append msg as JSON to out.  0, or -ENOMEM with out as it was.
 * Any message the generated code can build is encodable.
 */
int pjson_encode(const ProtobufCMessage *msg, struct buf *out);

/*
 * PJSON_GO_NUMBERS: 64-bit integers and enums as bare JSON numbers, as Go's
 * encoding/json writes etcd's generated structs (etcdctl -w json); names,
 * bytes and omitted defaults as above.
 */
#define PJSON_GO_NUMBERS 0x1u
int pjson_encode_flags(const ProtobufCMessage *msg, struct buf *out,
		       unsigned flags);

/*
 * Decode len bytes of text (one JSON object, or null for an empty message,
 * with optional whitespace around it) into a new message of type desc.
 * Returns 0 with *out set, or:
 *  -ERR_PARSE    the text is not one well-formed JSON value;
 *  -ERR_INVALID  the JSON does not fit desc (wrong type, bad base64, out of
 *                range, unknown enum name);
 *  -ENOMEM.
 * On an error, a NUL-terminated description goes to err (err_size bytes,
 * PJSON_ERR_SIZE is enough; err may be NULL; "" for -ENOMEM) and *out is
 * untouched.
 */
int pjson_decode(const ProtobufCMessageDescriptor *desc, const char *text,
		 size_t len, ProtobufCMessage **out, char *err,
		 size_t err_size);

/*
 * For streams of concatenated JSON messages (a watch request body): decode
 * the first JSON value in text like pjson_decode and set *consumed to the
 * bytes it and the whitespace before it took; text after it is left alone.
 * -EAGAIN when text holds only whitespace or an unfinished value (read
 * more and call again with the longer text).
 */
int pjson_decode_prefix(const ProtobufCMessageDescriptor *desc,
			const char *text, size_t len, size_t *consumed,
			ProtobufCMessage **out, char *err, size_t err_size);

#endif
