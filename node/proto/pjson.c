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
 *  4. json-c parses (strict mode); a lexical prescan first handles what it
 *     gets wrong for us: integer literals beyond 64 bits, which it clamps
 *     silently, and the bare words NaN/Infinity, which it accepts.
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

static int encode_message(struct buf *b, const ProtobufCMessage *msg,
			  unsigned flags);

/* Write one value of field f stored at p. */
static int encode_value(struct buf *b, const ProtobufCFieldDescriptor *f,
			const void *p, unsigned flags)
{
	bool go = (flags & PJSON_GO_NUMBERS) != 0;

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
		return buf_printf(b, go ? "%" PRId64 : "\"%" PRId64 "\"",
				  *(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return buf_printf(b, go ? "%" PRIu64 : "\"%" PRIu64 "\"",
				  *(const uint64_t *)p);
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

		if (ev == NULL || go) {
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
				   : encode_message(b, sub, flags);
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

static int encode_message(struct buf *b, const ProtobufCMessage *msg,
			  unsigned flags)
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
				TRY(encode_value(b, f, arr + j * sz, flags));
			}
			TRY(buf_append_byte(b, ']'));
		} else {
			TRY(encode_value(b, f, cfield_ptr(msg, f), flags));
		}
	}
	return buf_append_byte(b, '}');
}

int pjson_encode(const ProtobufCMessage *msg, struct buf *out)
{
	return pjson_encode_flags(msg, out, 0);
}

int pjson_encode_flags(const ProtobufCMessage *msg, struct buf *out,
		       unsigned flags)
{
	size_t start = out->len;
	int r = encode_message(out, msg, flags);

	if (r < 0) {
		out->len = start;
		if (out->data != NULL) {
			out->data[start] = '\0';
		}
	}
	return r;
}

/* ---- decoding ---- */

/* Where we are in the message tree, for error texts. */
struct dctx {
	const ProtobufCMessageDescriptor *top;
	char path[160];
	size_t path_len;
	char *err;
	size_t err_size;
};

static int fail(struct dctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct dctx *c, int code, const char *fmt, ...)
{
	char why[PJSON_ERR_SIZE];
	va_list ap;

	if (c->err == NULL || c->err_size == 0) {
		return code;
	}
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->path_len == 0) {
		snprintf(c->err, c->err_size, "invalid value for message \"%s\": %s",
			 c->top->name, why);
	} else {
		snprintf(c->err, c->err_size,
			 "invalid value for field \"%s\": %s", c->path, why);
	}
	return code;
}

/* Append ".name", "name" at the top, or "[i]" to the path; returns the old
 * length for path_pop.  A path too long for the buffer is cut short. */
static size_t path_push(struct dctx *c, const char *name, long index)
{
	size_t old = c->path_len;
	size_t room = sizeof(c->path) - old;
	int n;

	if (name != NULL) {
		n = snprintf(c->path + old, room, "%s%s", old ? "." : "", name);
	} else {
		n = snprintf(c->path + old, room, "[%ld]", index);
	}
	c->path_len = n < 0 || (size_t)n >= room ? sizeof(c->path) - 1
						  : old + (size_t)n;
	return old;
}

static void path_pop(struct dctx *c, size_t old)
{
	c->path_len = old;
	c->path[old] = '\0';
}

static const char *type_name(const json_object *v)
{
	return v == NULL ? "null" : json_type_to_name(json_object_get_type(v));
}

/* Free whatever one singular value at p owns and reset it to f's default. */
static void clear_value(const ProtobufCFieldDescriptor *f, void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char **s = p;

		if (*s != NULL && *s != f->default_value) {
			mem_free(*s);
		}
		*s = (char *)(uintptr_t)f->default_value;
		return;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *bd = p;
		const ProtobufCBinaryData *def = f->default_value;

		/* A proto2 default points at static bytes. */
		if (def == NULL || bd->data != def->data) {
			mem_free(bd->data);
		}
		bd->data = NULL;
		bd->len = 0;
		return;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage **m = p;

		proto_free(*m);
		*m = NULL;
		return;
	}
	default:
		memset(p, 0, type_size(f->type));
		return;
	}
}

static void *field_ptr(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	return (char *)msg + f->offset;
}

static void *quant_ptr(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	return (char *)msg + f->quantifier_offset;
}

/* Empty field f of msg (for a oneof: whichever member is set). */
static void clear_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = quant_ptr(msg, f);
		char **arr = field_ptr(msg, f);
		size_t sz = type_size(f->type);

		for (size_t i = 0; *arr != NULL && i < *n; i++) {
			/* Elements have no static default to keep. */
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				mem_free(*(char **)(void *)(*arr + i * sz));
			} else if (f->type == PROTOBUF_C_TYPE_BYTES ||
				   f->type == PROTOBUF_C_TYPE_MESSAGE) {
				clear_value(f, *arr + i * sz);
			}
		}
		mem_free(*arr);
		*arr = NULL;
		*n = 0;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = quant_ptr(msg, f);
		const ProtobufCFieldDescriptor *set;

		if (*which == 0) {
			return;
		}
		set = protobuf_c_message_descriptor_get_field(msg->descriptor,
							      *which);
		if (set != NULL) {
			clear_value(set, field_ptr(msg, set));
		}
		*which = 0;
		return;
	}
	clear_value(f, field_ptr(msg, f));
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
	    f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE) {
		*(protobuf_c_boolean *)quant_ptr(msg, f) = 0;
	}
}

static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Parse text as a JSON integer (-?(0|[1-9][0-9]*)) into sign and magnitude.
 * 0, -EINVAL for other text, -ERANGE beyond 64 bits.
 */
static int parse_int_text(const char *s, size_t n, bool *neg, uint64_t *mag)
{
	size_t i = 0;
	uint64_t v = 0;
	bool over = false;

	*neg = n > 0 && s[0] == '-';
	if (*neg) {
		i++;
	}
	if (i >= n || s[i] < '0' || s[i] > '9' || (s[i] == '0' && i + 1 < n)) {
		return -EINVAL;
	}
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9') {
			return -EINVAL;
		}
		if (v > (UINT64_MAX - d) / 10) {
			over = true;
		} else {
			v = v * 10 + d;
		}
	}
	if (over) {
		return -ERANGE;
	}
	*mag = v;
	return 0;
}

/* An integer given as a JSON number or string, as sign and magnitude. */
static int get_integer(struct dctx *c, json_object *v, bool *neg, uint64_t *mag)
{
	switch (json_object_get_type(v)) {
	case json_type_int: {
		/* json-c keeps values above INT64_MAX as uint64, exactly. */
		int64_t i = json_object_get_int64(v);

		*neg = i < 0;
		*mag = i < 0 ? (uint64_t)-(i + 1) + 1 : json_object_get_uint64(v);
		return 0;
	}
	case json_type_string: {
		const char *t = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);
		int r;

		/* etcd compat: jsonpb unquotes and parses the rest as JSON,
		 * so whitespace around the digits is allowed. */
		while (n > 0 && is_ws(*t)) {
			t++;
			n--;
		}
		while (n > 0 && is_ws(t[n - 1])) {
			n--;
		}
		r = parse_int_text(t, n, neg, mag);

		if (r == -ERANGE) {
			return fail(c, -ERR_INVALID, "%s is out of range",
				    json_object_get_string(v));
		}
		if (r < 0) {
			return fail(c, -ERR_INVALID, "\"%s\" is not an integer",
				    json_object_get_string(v));
		}
		return 0;
	}
	case json_type_double:
		/* Integer literals beyond 64 bits arrive here (see
		 * mark_big_ints); other doubles are fractions or exponents,
		 * which jsonpb rejects for integer fields too. */
		if (fabs(json_object_get_double(v)) >= 9223372036854775808.0) {
			return fail(c, -ERR_INVALID, "number is out of range");
		}
		return fail(c, -ERR_INVALID, "number is not an integer");
	default:
		return fail(c, -ERR_INVALID, "expected an integer, got %s",
			    type_name(v));
	}
}

static int decode_int(struct dctx *c, const ProtobufCFieldDescriptor *f,
		      json_object *v, void *p)
{
	bool neg;
	uint64_t mag;
	bool is_signed = f->type == PROTOBUF_C_TYPE_INT32 ||
			 f->type == PROTOBUF_C_TYPE_SINT32 ||
			 f->type == PROTOBUF_C_TYPE_SFIXED32 ||
			 f->type == PROTOBUF_C_TYPE_INT64 ||
			 f->type == PROTOBUF_C_TYPE_SINT64 ||
			 f->type == PROTOBUF_C_TYPE_SFIXED64;
	bool is_32 = type_size(f->type) == 4;
	uint64_t max_pos, max_neg;

	TRY(get_integer(c, v, &neg, &mag));
	if (is_signed) {
		max_pos = is_32 ? INT32_MAX : INT64_MAX;
		max_neg = is_32 ? (uint64_t)INT32_MAX + 1
				: (uint64_t)INT64_MAX + 1;
	} else {
		max_pos = is_32 ? UINT32_MAX : UINT64_MAX;
		max_neg = 0;
	}
	if (mag > (neg ? max_neg : max_pos)) {
		return fail(c, -ERR_INVALID, "%s%" PRIu64 " is out of range",
			    neg ? "-" : "", mag);
	}
	if (is_32) {
		*(uint32_t *)p = neg ? (uint32_t)(0 - (uint32_t)mag)
				     : (uint32_t)mag;
	} else {
		*(uint64_t *)p = neg ? 0 - mag : mag;
	}
	return 0;
}

static int decode_float(struct dctx *c, const ProtobufCFieldDescriptor *f,
			json_object *v, void *p)
{
	double d;

	switch (json_object_get_type(v)) {
	case json_type_int:
	case json_type_double:
		d = json_object_get_double(v);
		break;
	case json_type_string: {
		const char *s = json_object_get_string(v);
		char *end;

		if (strcmp(s, "NaN") == 0) {
			d = NAN;
		} else if (strcmp(s, "Infinity") == 0) {
			d = INFINITY;
		} else if (strcmp(s, "-Infinity") == 0) {
			d = -INFINITY;
		} else {
			d = strtod(s, &end);
			if (end == s || *end != '\0' || !isfinite(d) ||
			    !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) {
				return fail(c, -ERR_INVALID,
					    "\"%s\" is not a number", s);
			}
		}
		break;
	}
	default:
		return fail(c, -ERR_INVALID, "expected a number, got %s",
			    type_name(v));
	}
	if (f->type == PROTOBUF_C_TYPE_FLOAT) {
		if (isfinite(d) && fabs(d) > FLT_MAX) {
			return fail(c, -ERR_INVALID, "number is out of range");
		}
		/* Rounding the text straight to float, not through double,
		 * reads back exactly what put_double wrote. */
		if (isfinite(d) && json_object_get_type(v) != json_type_string) {
			d = strtof(json_object_get_string(v), NULL);
		}
		*(float *)p = (float)d;
	} else {
		if (!isfinite(d) && json_object_get_type(v) != json_type_string) {
			return fail(c, -ERR_INVALID, "number is out of range");
		}
		*(double *)p = d;
	}
	return 0;
}

/* Standard and URL-safe alphabets both. */
static int b64_digit(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z') {
		return ch - 'A';
	}
	if (ch >= 'a' && ch <= 'z') {
		return ch - 'a' + 26;
	}
	if (ch >= '0' && ch <= '9') {
		return ch - '0' + 52;
	}
	if (ch == '+' || ch == '-') {
		return 62;
	}
	if (ch == '/' || ch == '_') {
		return 63;
	}
	return -1;
}

/*
 * Decode base64 (either alphabet, padding optional; CR and LF skipped as Go
 * does) into a new buffer.  0, -ENOMEM, or -EINVAL with *bad the offset of
 * the first byte that makes it invalid.
 */
static int base64_decode(const char *s, size_t n, ProtobufCBinaryData *out,
			 size_t *bad)
{
	size_t sig = 0, pad = 0, last = 0;
	uint8_t *data;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r' || ch == '\n') {
			continue;
		}
		if (ch == '=') {
			pad++;
			last = i;
			continue;
		}
		if (pad > 0 || b64_digit(ch) < 0) {
			*bad = i;
			return -EINVAL;
		}
		sig++;
		last = i;
	}
	if (sig % 4 == 1 || pad > 2 || (pad > 0 && (sig + pad) % 4 != 0)) {
		*bad = last;
		return -EINVAL;
	}
	out->len = sig / 4 * 3 + (sig % 4 ? sig % 4 - 1 : 0);
	if (out->len == 0) {
		out->data = NULL;
		return 0;
	}
	data = mem_alloc(out->len);
	if (data == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && o < out->len; i++) {
		int d = b64_digit((unsigned char)s[i]);

		if (d < 0) {
			continue;
		}
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			data[o++] = (uint8_t)(acc >> bits);
		}
	}
	out->data = data;
	return 0;
}

static int decode_message_into(struct dctx *c, ProtobufCMessage *msg,
			       json_object *obj);

/*
 * A NUL-terminated copy of s with each byte that is not part of valid
 * UTF-8 replaced by U+FFFD.  etcd compat: Go's encoding/json does the same
 * when it decodes, so a string reads back the same after encoding.
 */
static char *utf8_sanitized_copy(const char *s, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t bad = 0, o = 0;
	uint32_t cp;
	char *copy;

	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq(u + i, n - i, &cp);

		bad += len == 0;
		i += len == 0 ? 1 : len;
	}
	if (bad == 0) {
		return mem_strndup(s, n);
	}
	copy = mem_alloc(n + 2 * bad + 1);
	if (copy == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq(u + i, n - i, &cp);

		if (len == 0) {
			memcpy(copy + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(copy + o, s + i, len);
			o += len;
			i += len;
		}
	}
	copy[o] = '\0';
	return copy;
}

/* Decode one value of field f into p, which holds f's default or zeros. */
static int decode_value(struct dctx *c, const ProtobufCFieldDescriptor *f,
			json_object *v, void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return v == NULL ? 0 : decode_int(c, f, v, p);
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return v == NULL ? 0 : decode_float(c, f, v, p);
	case PROTOBUF_C_TYPE_BOOL:
		if (v == NULL) {
			return 0;
		}
		if (!json_object_is_type(v, json_type_boolean)) {
			return fail(c, -ERR_INVALID, "expected a boolean, got %s",
				    type_name(v));
		}
		*(protobuf_c_boolean *)p = json_object_get_boolean(v) ? 1 : 0;
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		const ProtobufCEnumValue *ev;
		bool neg;
		uint64_t mag;

		if (v == NULL) {
			return 0;
		}
		if (json_object_is_type(v, json_type_string)) {
			ev = protobuf_c_enum_descriptor_get_value_by_name(
				ed, json_object_get_string(v));
			if (ev == NULL) {
				return fail(c, -ERR_INVALID,
					    "unknown value \"%s\" for enum %s",
					    json_object_get_string(v), ed->name);
			}
			*(int *)p = ev->value;
			return 0;
		}
		if (!json_object_is_type(v, json_type_int)) {
			return fail(c, -ERR_INVALID,
				    "expected an enum name or number, got %s",
				    type_name(v));
		}
		TRY(get_integer(c, v, &neg, &mag));
		if (mag > (neg ? (uint64_t)INT32_MAX + 1 : INT32_MAX)) {
			return fail(c, -ERR_INVALID, "enum value is out of range");
		}
		/* proto3 enums are open: numbers without a name are kept. */
		*(int *)p = neg ? (int)(0 - (int64_t)mag) : (int)mag;
		return 0;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s;
		size_t n;
		char *copy;

		if (v == NULL) {
			s = "";
			n = 0;
		} else if (!json_object_is_type(v, json_type_string)) {
			return fail(c, -ERR_INVALID, "expected a string, got %s",
				    type_name(v));
		} else {
			s = json_object_get_string(v);
			n = (size_t)json_object_get_string_len(v);
		}
		/* A C string cannot carry NUL; cutting it would change it. */
		if (memchr(s, '\0', n) != NULL) {
			return fail(c, -ERR_INVALID,
				    "string contains a NUL character");
		}
		copy = utf8_sanitized_copy(s, n);
		if (copy == NULL) {
			return -ENOMEM;
		}
		*(char **)p = copy;
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		size_t bad = 0;
		int r;

		if (v == NULL) {
			return 0;
		}
		if (!json_object_is_type(v, json_type_string)) {
			return fail(c, -ERR_INVALID,
				    "expected a base64 string, got %s",
				    type_name(v));
		}
		r = base64_decode(json_object_get_string(v),
				  (size_t)json_object_get_string_len(v), p,
				  &bad);
		if (r == -EINVAL) {
			return fail(c, -ERR_INVALID,
				    "illegal base64 data at input byte %zu",
				    bad);
		}
		return r;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *md = f->descriptor;
		ProtobufCMessage *sub;

		if (v != NULL && !json_object_is_type(v, json_type_object)) {
			return fail(c, -ERR_INVALID, "expected an object, got %s",
				    type_name(v));
		}
		sub = mem_alloc(md->sizeof_message);
		if (sub == NULL) {
			return -ENOMEM;
		}
		protobuf_c_message_init(md, sub);
		/* Owned by the parent from here on (invariant 3). */
		*(ProtobufCMessage **)p = sub;
		return decode_message_into(c, sub, v);
	}
	}
	return fail(c, -ERR_INVALID, "unsupported field type");
}

static int decode_repeated(struct dctx *c, ProtobufCMessage *msg,
			   const ProtobufCFieldDescriptor *f, json_object *v)
{
	size_t *count = quant_ptr(msg, f);
	char **arr = field_ptr(msg, f);
	size_t sz = type_size(f->type);
	size_t n;

	if (!json_object_is_type(v, json_type_array)) {
		return fail(c, -ERR_INVALID, "expected an array, got %s",
			    type_name(v));
	}
	n = json_object_array_length(v);
	if (n == 0) {
		return 0;
	}
	*arr = mem_calloc(n, sz);
	if (*arr == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		size_t old = path_push(c, NULL, (long)i);
		int r;

		/* Count the element first: a half-decoded one is still in a
		 * state free_unpacked handles (zeros or owned pointers). */
		*count = i + 1;
		r = decode_value(c, f, json_object_array_get_idx(v, i),
				 *arr + i * sz);
		path_pop(c, old);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static int decode_field(struct dctx *c, ProtobufCMessage *msg,
			const ProtobufCFieldDescriptor *f, json_object *v)
{
	bool oneof = (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;

	if (v == NULL) {
		/* null: the default.  For a oneof, only its own member. */
		if (!oneof || *(uint32_t *)quant_ptr(msg, f) == f->id) {
			clear_field(msg, f);
		}
		return 0;
	}
	/* The last value given for a field or oneof wins. */
	clear_field(msg, f);
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		return decode_repeated(c, msg, f, v);
	}
	if (oneof) {
		*(uint32_t *)quant_ptr(msg, f) = f->id;
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		   f->type != PROTOBUF_C_TYPE_STRING &&
		   f->type != PROTOBUF_C_TYPE_MESSAGE) {
		*(protobuf_c_boolean *)quant_ptr(msg, f) = 1;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		/* The default is static; decode_value stores a new copy. */
		*(char **)field_ptr(msg, f) = NULL;
	}
	return decode_value(c, f, v, field_ptr(msg, f));
}

/* key equals protoc's JSON name of name: '_' dropped, next letter upper. */
static bool json_name_eq(const char *name, const char *key)
{
	bool upper = false;

	for (; *name != '\0'; name++) {
		char want = *name;

		if (want == '_') {
			upper = true;
			continue;
		}
		if (upper && want >= 'a' && want <= 'z') {
			want = (char)(want - 'a' + 'A');
		}
		upper = false;
		if (*key++ != want) {
			return false;
		}
	}
	return *key == '\0';
}

static const ProtobufCFieldDescriptor *
find_field(const ProtobufCMessageDescriptor *d, const char *key)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(d, key);

	if (f != NULL) {
		return f;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (json_name_eq(d->fields[i].name, key)) {
			return &d->fields[i];
		}
	}
	return NULL;
}

static int decode_message_into(struct dctx *c, ProtobufCMessage *msg,
			       json_object *obj)
{
	struct json_object_iterator it, end;

	if (obj == NULL) {
		return 0;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		return fail(c, -ERR_INVALID, "expected an object, got %s",
			    type_name(obj));
	}
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		const ProtobufCFieldDescriptor *f =
			find_field(msg->descriptor, key);
		size_t old;
		int r;

		if (f == NULL) {
			continue; /* unknown fields are ignored */
		}
		old = path_push(c, f->name, 0);
		r = decode_field(c, msg, f, json_object_iter_peek_value(&it));
		path_pop(c, old);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

/* An integer literal outside [-2^63, 2^64-1], which json-c would clamp. */
static bool is_big_int(const char *s, size_t n)
{
	bool neg;
	uint64_t mag;
	int r = parse_int_text(s, n, &neg, &mag);

	return r == -ERANGE || (r == 0 && neg && mag > (uint64_t)INT64_MAX + 1);
}

static bool is_json_word(const char *s, size_t n)
{
	return (n == 4 && (memcmp(s, "true", 4) == 0 ||
			   memcmp(s, "null", 4) == 0)) ||
	       (n == 5 && memcmp(s, "false", 5) == 0);
}

/*
 * json-c clamps integer literals beyond 64 bits to INT64_MIN/UINT64_MAX
 * without telling.  So find such literals first (outside strings) and, in
 * a copy of the text, append "e0" to each: json-c then reads them as
 * doubles, which integer fields reject as out of range while float fields
 * still take them.  *out is NULL when no literal needed it.
 * Bare words other than true, false and null are refused here (-ERR_PARSE,
 * *bad their offset).
 */
static int mark_big_ints(const char *text, size_t len, char **out,
			 size_t *out_len, size_t *bad)
{
	size_t marks = 0;
	char *copy = NULL;
	size_t o = 0;

	for (int pass = 0; pass < 2; pass++) {
		size_t i = 0;

		while (i < len) {
			size_t start = i;
			bool frac = false;

			if (text[i] == '"') {
				for (i++; i < len && text[i] != '"'; i++) {
					if (text[i] == '\\') {
						i++;
					}
				}
				i = i < len ? i + 1 : len;
			} else if (text[i] == '-' ||
				   (text[i] >= '0' && text[i] <= '9')) {
				for (i++; i < len && text[i] >= '0' &&
					  text[i] <= '9';
				     i++) {
				}
				frac = i < len && (text[i] == '.' ||
						   text[i] == 'e' ||
						   text[i] == 'E');
				/* A fraction or exponent: leave it to json-c. */
				while (frac && i < len &&
				       strchr("0123456789.eE+-", text[i]) !=
					       NULL &&
				       text[i] != '\0') {
					i++;
				}
				if (!frac && is_big_int(text + start,
							i - start)) {
					if (copy != NULL) {
						memcpy(copy + o, text + start,
						       i - start);
						o += i - start;
						memcpy(copy + o, "e0", 2);
						o += 2;
						continue;
					}
					marks++;
				}
			} else if ((text[i] >= 'a' && text[i] <= 'z') ||
				   (text[i] >= 'A' && text[i] <= 'Z')) {
				/* json-c takes NaN and Infinity even when
				 * strict; JSON (and etcd) do not. */
				while (i < len && ((text[i] >= 'a' &&
						    text[i] <= 'z') ||
						   (text[i] >= 'A' &&
						    text[i] <= 'Z'))) {
					i++;
				}
				if (!is_json_word(text + start, i - start)) {
					*bad = start;
					mem_free(copy);
					return -ERR_PARSE;
				}
			} else {
				i++;
			}
			if (copy != NULL) {
				memcpy(copy + o, text + start, i - start);
				o += i - start;
			}
		}
		if (marks == 0) {
			*out = NULL;
			return 0;
		}
		if (copy == NULL) {
			copy = mem_alloc(len + 2 * marks + 1);
			if (copy == NULL) {
				return -ENOMEM;
			}
		}
	}
	copy[o] = '\0';
	*out = copy;
	*out_len = o;
	return 0;
}

/* The last object key that ends before offset, for malformed-JSON texts. */
static void last_key_before(const char *text, size_t offset, char *key,
			    size_t key_size)
{
	size_t i = 0;

	key[0] = '\0';
	while (i < offset) {
		if (text[i] == '"') {
			size_t start = ++i, j;

			while (i < offset && text[i] != '"') {
				i += text[i] == '\\' ? 2 : 1;
			}
			if (i >= offset) {
				return;
			}
			j = i + 1;
			while (j < offset && strchr(" \t\r\n", text[j]) != NULL) {
				j++;
			}
			if (j < offset && text[j] == ':') {
				size_t n = i - start < key_size - 1
						   ? i - start
						   : key_size - 1;

				memcpy(key, text + start, n);
				key[n] = '\0';
			}
		}
		i++;
	}
}

static int parse_error(struct dctx *c, const char *text, size_t offset,
		       const char *why)
{
	char key[64];

	if (c->err == NULL || c->err_size == 0) {
		return -ERR_PARSE;
	}
	last_key_before(text, offset, key, sizeof(key));
	if (key[0] != '\0') {
		snprintf(c->err, c->err_size,
			 "invalid JSON at byte %zu (after field \"%s\"): %s",
			 offset, key, why);
	} else {
		snprintf(c->err, c->err_size, "invalid JSON at byte %zu: %s",
			 offset, why);
	}
	return -ERR_PARSE;
}

/* Parse text (len bytes, all of it one JSON value) into a json-c tree. */
static int parse_json(struct dctx *c, const char *text, size_t len,
		      json_object **out)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *root;
	size_t end;

	if (len > INT32_MAX) {
		return parse_error(c, text, 0, "text too long");
	}
	tok = json_tokener_new_ex(PJSON_MAX_DEPTH);
	if (tok == NULL) {
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (root == NULL && jerr == json_tokener_continue) {
		/* A bare number only ends at a delimiter: give it one. */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		if (root == NULL && jerr != json_tokener_success) {
			json_tokener_free(tok);
			return parse_error(c, text, len,
					   "unexpected end of JSON input");
		}
		end = len;
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	if (root == NULL && jerr != json_tokener_success) {
		size_t at = json_tokener_get_parse_end(tok);

		json_tokener_free(tok);
		return parse_error(c, text, at < len ? at : len,
				   json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	while (end < len && is_ws(text[end])) {
		end++;
	}
	if (end < len) {
		json_object_put(root);
		return parse_error(c, text, end,
				   "invalid character after the JSON value");
	}
	*out = root;
	return 0;
}

int pjson_decode(const ProtobufCMessageDescriptor *desc, const char *text,
		 size_t len, ProtobufCMessage **out, char *err,
		 size_t err_size)
{
	struct dctx c = {.top = desc, .err = err, .err_size = err_size};
	_cleanup_free_ char *marked = NULL;
	json_object *root = NULL;
	ProtobufCMessage *msg;
	size_t bad = 0;
	int r;

	if (err != NULL && err_size > 0) {
		err[0] = '\0';
	}
	r = mark_big_ints(text, len, &marked, &len, &bad);
	if (r == -ERR_PARSE) {
		return parse_error(&c, text, bad, "invalid character");
	}
	if (r < 0) {
		return r;
	}
	if (marked != NULL) {
		text = marked;
	}
	r = parse_json(&c, text, len, &root);
	if (r < 0) {
		return r;
	}
	msg = mem_alloc(desc->sizeof_message);
	if (msg == NULL) {
		json_object_put(root);
		return -ENOMEM;
	}
	protobuf_c_message_init(desc, msg);
	r = decode_message_into(&c, msg, root);
	json_object_put(root);
	if (r < 0) {
		proto_free(msg);
		return r;
	}
	*out = msg;
	return 0;
}

/*
 * Bytes from text to the end of the first JSON value after leading
 * whitespace, by bracket counting outside strings; 0 when text ends first.
 * Malformed input still yields a span, which the parser then rejects.
 */
static size_t first_value_span(const char *text, size_t len)
{
	size_t i = 0;
	long depth = 0;

	while (i < len && is_ws(text[i])) {
		i++;
	}
	if (i == len) {
		return 0;
	}
	if (text[i] != '{' && text[i] != '[' && text[i] != '"') {
		/* A scalar ends at a delimiter; a stray delimiter is a value
		 * of its own, for the parser to reject. */
		size_t start = i;

		while (i < len && !is_ws(text[i]) &&
		       strchr(",:]}{[\"", text[i]) == NULL) {
			i++;
		}
		if (i == start) {
			return start + 1;
		}
		return i < len ? i : 0;
	}
	for (; i < len; i++) {
		char ch = text[i];

		if (ch == '"') {
			for (i++; i < len && text[i] != '"'; i++) {
				if (text[i] == '\\') {
					i++;
				}
			}
			if (i >= len) {
				return 0;
			}
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
		if (depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

int pjson_decode_prefix(const ProtobufCMessageDescriptor *desc,
			const char *text, size_t len, size_t *consumed,
			ProtobufCMessage **out, char *err, size_t err_size)
{
	size_t span = first_value_span(text, len);
	int r;

	if (span == 0) {
		return -EAGAIN;
	}
	r = pjson_decode(desc, text, span, out, err, err_size);
	if (r >= 0) {
		*consumed = span;
	}
	return r;
}
