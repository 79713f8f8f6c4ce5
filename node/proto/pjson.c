/*
 * pjson.c - proto3 JSON encoding and decoding over protobuf-c descriptors
 * (pjson.h).
 *
 * Invariants:
 *  1. Only descriptors are consulted: a field is found by its offset, its
 *     quantifier_offset (repeated count, oneof case or has_ flag) and its
 *     type, never by generated per-message code.
 *  2. Encoding writes into the caller's buf and rolls it back to its
 *     original length on failure.
 *  3. While decoding, the message under construction is always in a state
 *     protobuf_c_message_free_unpacked can free: every pointer stored in it
 *     is owned by it (or is the field's static default), a repeated field's
 *     count never exceeds what its array holds, and a oneof's storage only
 *     ever holds the member its case names.  So an error at any point frees
 *     the whole message and leaks nothing.
 */
#include "proto/pjson.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/err.h"
#include "base/mem.h"
#include "proto/proto.h"

#define TRY(expr)                                                              \
	do {                                                                   \
		int r_ = (expr);                                               \
		if (r_ < 0) {                                                  \
			return r_;                                             \
		}                                                              \
	} while (0)

/* The address of a field's storage (or its quantifier) inside a message. */
static const void *cfield_ptr(const ProtobufCMessage *msg,
			      const ProtobufCFieldDescriptor *f)
{
	return (const char *)msg + f->offset;
}

static const void *cquant_ptr(const ProtobufCMessage *msg,
			      const ProtobufCFieldDescriptor *f)
{
	return (const char *)msg + f->quantifier_offset;
}

/* Bytes one value of type t takes in a message or a repeated array. */
static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return sizeof(int32_t);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(int64_t);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* ---- encoding ---- */

static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_base64(struct buf *b, const uint8_t *p, size_t n)
{
	size_t out_len = (n + 2) / 3 * 4;
	char *o;

	TRY(buf_reserve(b, out_len + 2));
	o = (char *)b->data + b->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n) {
			v |= (uint32_t)p[i + 1] << 8;
		}
		if (i + 2 < n) {
			v |= p[i + 2];
		}
		*o++ = b64_std[(v >> 18) & 63];
		*o++ = b64_std[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64_std[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64_std[v & 63] : '=';
	}
	*o++ = '"';
	b->len += out_len + 2;
	b->data[b->len] = '\0';
	return 0;
}

/*
 * Length of the valid UTF-8 sequence at s (n bytes left), or 0 when the
 * bytes there are not one; *cp gets the code point.
 */
static size_t utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t len;
	uint32_t min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len) {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		return 0;
	}
	*cp = c;
	return len;
}

/*
 * etcd compat: Go's encoding/json escapes <, > and & (HTML safety) and
 * U+2028/U+2029, and replaces invalid UTF-8 with U+FFFD; the gateway
 * marshals strings through it.
 */
static int put_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	TRY(buf_append_byte(b, '"'));
	while (i < n) {
		size_t run = i;
		uint32_t cp;
		size_t len;

		/* Copy the longest run needing no escape in one append. */
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 &&
		       p[run] != '"' && p[run] != '\\' && p[run] != '<' &&
		       p[run] != '>' && p[run] != '&') {
			run++;
		}
		if (run > i) {
			TRY(buf_append(b, p + i, run - i));
			i = run;
			continue;
		}
		len = utf8_seq(p + i, n - i, &cp);
		if (len == 0) {
			TRY(buf_append_str(b, "\\ufffd"));
			i++;
			continue;
		}
		if (len > 1) {
			if (cp == 0x2028 || cp == 0x2029) {
				TRY(buf_printf(b, "\\u%04" PRIx32, cp));
			} else {
				TRY(buf_append(b, p + i, len));
			}
			i += len;
			continue;
		}
		switch (cp) {
		case '"':
			TRY(buf_append_str(b, "\\\""));
			break;
		case '\\':
			TRY(buf_append_str(b, "\\\\"));
			break;
		case '\n':
			TRY(buf_append_str(b, "\\n"));
			break;
		case '\r':
			TRY(buf_append_str(b, "\\r"));
			break;
		case '\t':
			TRY(buf_append_str(b, "\\t"));
			break;
		default: {
			char esc[6] = {'\\', 'u', '0', '0', hex[cp >> 4],
				       hex[cp & 15]};

			TRY(buf_append(b, esc, sizeof(esc)));
			break;
		}
		}
		i++;
	}
	return buf_append_byte(b, '"');
}

/* The shortest %g form of v that reads back as the same double. */
static int put_double(struct buf *b, double v, bool is_float)
{
	char tmp[40];

	if (isnan(v)) {
		return buf_append_str(b, "\"NaN\"");
	}
	if (isinf(v)) {
		return buf_append_str(b, v > 0 ? "\"Infinity\""
					       : "\"-Infinity\"");
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (is_float ? strtof(tmp, NULL) == (float)v
			     : strtod(tmp, NULL) == v) {
			break;
		}
	}
	return buf_append_str(b, tmp);
}

static int encode_message(struct buf *b, const ProtobufCMessage *msg);

/* Write one value of field f stored at p. */
static int encode_value(struct buf *b, const ProtobufCFieldDescriptor *f,
			const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return buf_printf(b, "%" PRId32, *(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return buf_printf(b, "%" PRIu32, *(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return buf_printf(b, "\"%" PRId64 "\"", *(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return buf_printf(b, "\"%" PRIu64 "\"", *(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return put_double(b, *(const float *)p, true);
	case PROTOBUF_C_TYPE_DOUBLE:
		return put_double(b, *(const double *)p, false);
	case PROTOBUF_C_TYPE_BOOL:
		return buf_append_str(b, *(const protobuf_c_boolean *)p
						 ? "true"
						 : "false");
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, v);

		if (ev == NULL) {
			return buf_printf(b, "%d", v);
		}
		return put_string(b, ev->name, strlen(ev->name));
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		return s == NULL ? put_string(b, "", 0)
				 : put_string(b, s, strlen(s));
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = p;

		return put_base64(b, bd->data, bd->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;

		return sub == NULL ? buf_append_str(b, "{}")
				   : encode_message(b, sub);
	}
	}
	return -EINVAL;
}

/* True when a proto3 singular field holds its default and is omitted. */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return *(const uint32_t *)p == 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p == 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p == 0;
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)p;
	case PROTOBUF_C_TYPE_ENUM:
		return *(const int *)p == 0;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		return s == NULL || s[0] == '\0';
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p == NULL;
	}
	return true;
}

/* True when field f of msg is written at all. */
static bool is_present(const ProtobufCMessage *msg,
		       const ProtobufCFieldDescriptor *f)
{
	const void *p = cfield_ptr(msg, f);

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		return *(const size_t *)cquant_ptr(msg, f) > 0;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (*(const uint32_t *)cquant_ptr(msg, f) != f->id) {
			return false;
		}
		/* etcd compat: jsonpb writes a set oneof member even at 0. */
		return f->type != PROTOBUF_C_TYPE_MESSAGE ||
		       *(ProtobufCMessage *const *)p != NULL;
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return true;
	case PROTOBUF_C_LABEL_OPTIONAL:
		/* proto2 / proto3 optional: strings and messages use NULL. */
		if (f->type == PROTOBUF_C_TYPE_STRING ||
		    f->type == PROTOBUF_C_TYPE_MESSAGE) {
			return *(void *const *)p != NULL;
		}
		return *(const protobuf_c_boolean *)cquant_ptr(msg, f);
	default:
		return !is_default(f, p);
	}
}

static int encode_message(struct buf *b, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	bool first = true;

	TRY(buf_append_byte(b, '{'));
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (!is_present(msg, f)) {
			continue;
		}
		if (!first) {
			TRY(buf_append_byte(b, ','));
		}
		first = false;
		TRY(put_string(b, f->name, strlen(f->name)));
		TRY(buf_append_byte(b, ':'));
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)cquant_ptr(msg, f);
			const char *arr = *(char *const *)cfield_ptr(msg, f);
			size_t sz = type_size(f->type);

			TRY(buf_append_byte(b, '['));
			for (size_t j = 0; j < n; j++) {
				if (j > 0) {
					TRY(buf_append_byte(b, ','));
				}
				TRY(encode_value(b, f, arr + j * sz));
			}
			TRY(buf_append_byte(b, ']'));
		} else {
			TRY(encode_value(b, f, cfield_ptr(msg, f)));
		}
	}
	return buf_append_byte(b, '}');
}

int pjson_encode(const ProtobufCMessage *msg, struct buf *out)
{
	size_t start = out->len;
	int r = encode_message(out, msg);

	if (r < 0) {
		out->len = start;
		if (out->data != NULL) {
			out->data[start] = '\0';
		}
	}
	return r;
}
