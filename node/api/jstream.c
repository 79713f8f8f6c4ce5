/*
 * jstream.c - reading the gateway's streamed request bodies (api_int.h):
 * consecutive JSON messages, each decoded as soon as its last byte is in.
 *
 * Invariants:
 *  1. in[off..len) holds exactly the bytes not yet decoded; what was
 *     decoded is dropped once it is more than half the buffer, so the
 *     buffer holds at most one unfinished message plus one piece.
 *  2. An unfinished message never exceeds JSTREAM_MAX bytes.
 */
#include <errno.h>
#include <stdio.h>

#include "api/api_int.h"
#include "base/err.h"
#include "proto/pjson.h"

/* etcd compat: --max-request-bytes plus gRPC's slack, as the body limit. */
#define JSTREAM_MAX (1572864 + 512 * 1024)

void api_jstream_init(struct api_jstream *js)
{
	buf_init(&js->in);
	js->off = 0;
}

void api_jstream_done(struct api_jstream *js)
{
	buf_done(&js->in);
	js->off = 0;
}

int api_jstream_push(struct api_jstream *js, const uint8_t *data, size_t len)
{
	if (js->off > 0 && js->off * 2 >= js->in.len) {
		buf_consume(&js->in, js->off);
		js->off = 0;
	}
	if (js->in.len - js->off + len > JSTREAM_MAX) {
		return -ERR_REQUEST_TOO_LARGE;
	}
	return len > 0 ? buf_append(&js->in, data, len) : 0;
}

static bool only_space(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
		    p[i] != '\n') {
			return false;
		}
	}
	return true;
}

int api_jstream_next(struct api_jstream *js,
		     const ProtobufCMessageDescriptor *desc, bool end,
		     ProtobufCMessage **out, char *err, size_t err_size)
{
	const char *p = (const char *)js->in.data + js->off;
	size_t n = js->in.len - js->off, used = 0;
	int r;

	if (n == 0) {
		return 0;
	}
	r = pjson_decode_prefix(desc, p, n, &used, out, err, err_size);
	if (r == -EAGAIN) {
		if (!end || only_space((const uint8_t *)p, n)) {
			return 0;
		}
		/* etcd compat: Go's json.Decoder on a cut-off message. */
		snprintf(err, err_size, "unexpected EOF");
		return -ERR_PARSE;
	}
	if (r < 0) {
		return r;
	}
	js->off += used;
	return 1;
}
