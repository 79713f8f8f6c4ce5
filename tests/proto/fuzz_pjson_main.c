/*
 * fuzz_pjson_main.c - libFuzzer entry point for pjson_fuzz_one.  Not built
 * by make yet; with clang, from a configured build directory (PB names
 * node/proto/{raftpb,kv,auth,rpc}.pb-c.c):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -include config.h \
 *     -I../node -Inode -Inode/proto -I../tests/lib -I../tests/proto \
 *     $(pkg-config --cflags check) ../tests/proto/fuzz_pjson_main.c \
 *     ../tests/proto/fuzz_pjson.c ../tests/proto/protogen.c \
 *     ../tests/lib/testlib.c ../node/proto/pjson.c ../node/proto/proto.c \
 *     $PB ../node/base/mem.c ../node/base/buf.c ../node/base/err.c \
 *     -lprotobuf-c -ljson-c $(pkg-config --libs check) -o fuzz_pjson
 *   ./fuzz_pjson -max_len=2048 CORPUS_COPY_DIR
 *
 * (750k runs over the seed corpus in 2 minutes found nothing, 2026-11-23.)
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_pjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pjson_fuzz_one(data, size);
}
