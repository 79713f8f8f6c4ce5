/*
 * fuzz_pjson.h - one fuzz input through the JSON decoder (libFuzzer's
 * LLVMFuzzerTestOneInput calls it in fuzz_pjson_main.c; make check replays
 * tests/proto/corpus through it).
 */
#ifndef CETCD_TESTS_FUZZ_PJSON_H
#define CETCD_TESTS_FUZZ_PJSON_H

#include <stddef.h>
#include <stdint.h>

/*
 * Input: a message type name ("etcdserverpb.TxnRequest"), a newline, then
 * JSON text.  An unknown name picks a type from the name's bytes, so
 * mutated names still reach the decoder.  Decodes the text whole and as a
 * stream; whatever decodes must encode, decode again to the same protobuf
 * bytes and encode to the same JSON, or the process aborts.  Always
 * returns 0, as libFuzzer wants.
 */
int pjson_fuzz_one(const uint8_t *data, size_t size);

#endif
