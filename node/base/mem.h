/*
 * mem.h - the one allocation wrapper every cetcd module uses.
 *
 * All heap allocation goes through mem_alloc() and friends so that tests can
 * make the N-th allocation fail (mem_fail_after) and check that every caller
 * handles -ENOMEM without leaking or crashing.
 *
 * Invariants:
 *  1. mem_alloc/mem_calloc/mem_realloc/mem_strdup/mem_dup return NULL only on
 *     failure (a real one or an injected one); a size of 0 is treated as 1 so
 *     that NULL always means failure.
 *  2. mem_free(NULL) is a no-op.
 *  3. Fault injection is process-global and meant for single-threaded tests.
 */
#ifndef CETCD_BASE_MEM_H
#define CETCD_BASE_MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t size);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);
void *mem_dup(const void *p, size_t size);
void mem_free(void *p);

/*
 * Tests only: the next n allocations succeed, every later one fails until
 * mem_fail_reset().  n < 0 disables injection (the default).
 */
void mem_fail_after(long n);
void mem_fail_reset(void);
/* Number of allocations refused by injection since the last reset. */
unsigned long mem_fail_count(void);

/* Free *p and set it to NULL; for use with __attribute__((cleanup)). */
static inline void mem_freep(void *p)
{
	mem_free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(mem_freep)))

/* Take ownership out of a cleanup variable: returns it and sets it to NULL. */
#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _take_ = (p);                                    \
		(p) = NULL;                                                    \
		_take_;                                                        \
	})

#endif
