/*
 * fuzz_http1.c - libFuzzer target for HTTP/1.1 request handling
 * (configure --enable-fuzzing CC=clang; run with tests/api/corpus).
 */
#include <stddef.h>
#include <stdint.h>

#include "api/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return http1_fuzz_one(data, size);
}
