/*
 * grpc_wire.h - gRPC message framing shared by the server (grpc.c) and the
 * client (grpc_client.c); internal to libgrpc.
 *
 * A message on the wire is 1 byte compressed flag, 4 bytes big-endian
 * length, then the bytes.  A queue is a struct buf of framed messages with a
 * read offset: bytes before off were already handed to nghttp2.
 */
#ifndef CETCD_SYS_GRPC_WIRE_H
#define CETCD_SYS_GRPC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#include <nghttp2/nghttp2.h>

struct grpc_queue {
	struct buf b;
	size_t off;
};

static inline size_t grpc_queue_len(const struct grpc_queue *q)
{
	return q->b.len - q->off;
}

/*
 * Frame msg onto the queue.  A message that would take the queue past
 * limit fails with -ENOBUFS unless the queue is empty (so one message
 * larger than the limit can still go).  0, -ENOBUFS, -EMSGSIZE, -ENOMEM.
 */
int grpc_queue_push(struct grpc_queue *q, const uint8_t *msg, size_t len,
		    size_t limit);
/* Copy up to n queued bytes into dst, dropping them; returns the count. */
size_t grpc_queue_take(struct grpc_queue *q, uint8_t *dst, size_t n);
void grpc_queue_done(struct grpc_queue *q);

/*
 * Cut complete messages off the front of in, calling fn for each (msg is
 * borrowed for the call).  Stops when fn returns non-zero, returning it.
 * -EMSGSIZE for a message longer than max (when max > 0), -ENOTSUP for a
 * compressed one; 0 when only a partial message (or nothing) is left.
 */
typedef int (*grpc_deframe_fn)(const uint8_t *msg, size_t len, void *arg);
int grpc_deframe(struct buf *in, size_t max, grpc_deframe_fn fn, void *arg,
		 size_t *too_big);

/* nghttp2's allocator for both sides: mem_alloc & co, so tests can fail it. */
extern nghttp2_mem grpc_h2_mem;

/* grpc-message encoding: percent-encode outside printable ASCII and '%'. */
char *grpc_percent_encode(const char *s);
/* Decode in place (invalid escapes are kept as they are). */
void grpc_percent_decode(char *s);

#endif
