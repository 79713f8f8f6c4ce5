/*
 * fuzz_pjson_main.c - libFuzzer entry point for pjson_fuzz_one.  Not built
 * by make; with clang, from a configured build directory:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -include config.h \
 *     -I../node -Inode -Inode/proto -I../tests/lib -I../tests/proto \
 *     ../tests/proto/fuzz_pjson_main.c ../tests/proto/fuzz_pjson.c \
 *     ../tests/proto/protogen.c ../tests/lib/testlib.c \
 *     ../node/proto/pjson.c ../node/proto/proto.c node/proto/*.pb-c.c \
 *     ../node/base/mem.c ../node/base/buf.c ../node/base/err.c \
 *     -lprotobuf-c -ljson-c -o fuzz_pjson
 *   ./fuzz_pjson ../tests/proto/corpus
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_pjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pjson_fuzz_one(data, size);
}
