/*
 * fuzz_manifest.c - libFuzzer entry for the manifest loader:
 *   ./tests/agent/fuzz_manifest tests/agent/corpus
 * (configure --enable-fuzzing CC=clang).  make check replays the corpus
 * through the same manifest_fuzz_one() in tests/agent/test_manifest.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "agent/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return manifest_fuzz_one(data, size);
}
