/*
 * mem.c - allocation wrapper with countdown fault injection (mem.h).
 */
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

static long fail_after = -1; /* < 0: injection off */
static unsigned long fail_count;

void mem_fail_after(long n)
{
	fail_after = n;
	fail_count = 0;
}

void mem_fail_reset(void)
{
	fail_after = -1;
	fail_count = 0;
}

unsigned long mem_fail_count(void)
{
	return fail_count;
}

/* True when this allocation must fail by injection. */
static int injected_failure(void)
{
	if (fail_after < 0) {
		return 0;
	}
	if (fail_after == 0) {
		fail_count++;
		return 1;
	}
	fail_after--;
	return 0;
}

void *mem_alloc(size_t size)
{
	if (injected_failure()) {
		return NULL;
	}
	return malloc(size ? size : 1);
}

void *mem_calloc(size_t n, size_t size)
{
	if (injected_failure()) {
		return NULL;
	}
	if (n == 0 || size == 0) {
		n = 1;
		size = 1;
	}
	return calloc(n, size);
}

void *mem_realloc(void *p, size_t size)
{
	if (injected_failure()) {
		return NULL;
	}
	return realloc(p, size ? size : 1);
}

char *mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

char *mem_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = mem_alloc(len + 1);

	if (d == NULL) {
		return NULL;
	}
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

void *mem_dup(const void *p, size_t size)
{
	void *d = mem_alloc(size);

	if (d != NULL && size > 0) {
		memcpy(d, p, size);
	}
	return d;
}

void mem_free(void *p)
{
	free(p);
}
