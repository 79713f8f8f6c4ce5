/*
 * grpc_wire.c - gRPC message framing (grpc_wire.h).
 */
#include "sys/grpc_wire.h"

#include <errno.h>
#include <string.h>

#include "base/mem.h"

int grpc_queue_push(struct grpc_queue *q, const uint8_t *msg, size_t len,
		    size_t limit)
{
	uint8_t hdr[5];
	size_t queued = grpc_queue_len(q);
	int r;

	if (len > UINT32_MAX) {
		return -EMSGSIZE;
	}
	if (queued > 0 && queued + len + 5 > limit) {
		return -ENOBUFS;
	}
	hdr[0] = 0; /* not compressed */
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
	r = buf_reserve(&q->b, len + 5);
	if (r < 0) {
		return r;
	}
	buf_append(&q->b, hdr, 5);
	buf_append(&q->b, msg, len);
	return 0;
}

size_t grpc_queue_take(struct grpc_queue *q, uint8_t *dst, size_t n)
{
	size_t avail = grpc_queue_len(q);

	if (n > avail) {
		n = avail;
	}
	if (n == 0) {
		return 0; /* an empty queue has no storage to copy from */
	}
	memcpy(dst, q->b.data + q->off, n);
	q->off += n;
	if (q->off == q->b.len) {
		buf_reset(&q->b);
		q->off = 0;
	} else if (q->off > q->b.len / 2) {
		/* Compact once the sent part dominates, keeping copies amortised. */
		buf_consume(&q->b, q->off);
		q->off = 0;
	}
	return n;
}

void grpc_queue_done(struct grpc_queue *q)
{
	buf_done(&q->b);
	q->off = 0;
}

int grpc_deframe(struct buf *in, size_t max, grpc_deframe_fn fn, void *arg,
		 size_t *too_big)
{
	while (in->len >= 5) {
		const uint8_t *p = in->data;
		size_t len = (size_t)p[1] << 24 | (size_t)p[2] << 16 |
			     (size_t)p[3] << 8 | p[4];
		int r;

		if (p[0] != 0) {
			return -ENOTSUP;
		}
		if (max > 0 && len > max) {
			if (too_big != NULL) {
				*too_big = len;
			}
			return -EMSGSIZE;
		}
		if (in->len < 5 + len) {
			return 0;
		}
		r = fn(p + 5, len, arg);
		buf_consume(in, 5 + len);
		if (r != 0) {
			return r;
		}
	}
	return 0;
}

char *grpc_percent_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = mem_alloc(strlen(s) * 3 + 1), *p = out;

	if (out == NULL) {
		return NULL;
	}
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		if (*q < 0x20 || *q > 0x7e || *q == '%') {
			*p++ = '%';
			*p++ = hex[*q >> 4];
			*p++ = hex[*q & 15];
		} else {
			*p++ = (char)*q;
		}
	}
	*p = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

void grpc_percent_decode(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
			*w++ = (char)(hexval(r[1]) << 4 | hexval(r[2]));
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* nghttp2's allocations go through mem_alloc so tests can fail them. */
static void *h2_malloc(size_t size, void *ud)
{
	(void)ud;
	return mem_alloc(size);
}
static void h2_free(void *p, void *ud)
{
	(void)ud;
	mem_free(p);
}
static void *h2_calloc(size_t n, size_t size, void *ud)
{
	(void)ud;
	return mem_calloc(n, size);
}
static void *h2_realloc(void *p, size_t size, void *ud)
{
	(void)ud;
	return mem_realloc(p, size);
}

nghttp2_mem grpc_h2_mem = {NULL, h2_malloc, h2_free, h2_calloc, h2_realloc};
