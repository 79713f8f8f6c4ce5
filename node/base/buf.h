/*
 * buf.h - a growable byte buffer.
 *
 * Invariants: len <= cap; data is NULL exactly when cap == 0; after any
 * successful call data[len] is a NUL byte (so text can be used as a C string),
 * which is why cap counts one byte more than the bytes stored.
 * A failed call leaves the buffer as it was.
 */
#ifndef CETCD_BASE_BUF_H
#define CETCD_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void buf_init(struct buf *b);
/* Free the storage; the buffer is empty and reusable afterwards. */
void buf_done(struct buf *b);
/* Make room for at least n more bytes. 0 or -ENOMEM. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_byte(struct buf *b, uint8_t c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Little- and big-endian fixed-width appends. */
int buf_append_u32le(struct buf *b, uint32_t v);
int buf_append_u64le(struct buf *b, uint64_t v);
int buf_append_u64be(struct buf *b, uint64_t v);
/* Drop the first n bytes (n <= len), keeping the rest. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Hand the storage to the caller (NUL-terminated, may be NULL when empty). */
uint8_t *buf_steal(struct buf *b, size_t *len);

#endif
