#!/bin/sh
# A short libFuzzer run of every fuzz target inside `make check`, when
# clang's libFuzzer is installed (Debian: clang, libclang-rt-14-dev); the
# long runs are `make fuzz` in a --enable-fuzzing build.  Each target is
# compiled here from its sources with clang, ASan and UBSan, then fed
# FUZZ_RUNS inputs mutated from its seed corpus.  Any crash, leak or
# sanitizer report fails the test and leaves the input in the log.
. "${CETCD_SRCDIR:-.}/tests/lib/testlib.sh"

RUNS=${FUZZ_RUNS:-3000}
if ! command -v clang >/dev/null 2>&1; then
	echo "skipped: clang not installed"
	exit 77
fi
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$T/probe.c"
if ! clang -fsanitize=fuzzer "$T/probe.c" -o "$T/probe" 2>/dev/null; then
	echo "skipped: clang has no libFuzzer (install libclang-rt-14-dev)"
	exit 77
fi

CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-include $BUILD/config.h -I$SRC -I$SRC/node -I$BUILD/node -I$BUILD/node/proto
	-I$SRC/tests/lib -w"
BASE=$(echo "$SRC"/node/base/buf.c "$SRC"/node/base/crc32c.c "$SRC"/node/base/err.c \
	"$SRC"/node/base/log.c "$SRC"/node/base/mem.c "$SRC"/node/base/timeutil.c \
	"$SRC"/node/base/failpoint.c)
PB=$(echo "$BUILD"/node/proto/raftpb.pb-c.c "$BUILD"/node/proto/kv.pb-c.c \
	"$BUILD"/node/proto/auth.pb-c.c "$BUILD"/node/proto/rpc.pb-c.c)
PROTO="$SRC/node/proto/proto.c $SRC/node/proto/pjson.c $PB"

# name | extra sources | libraries | max input length
targets() {
	echo "wal|$SRC/tests/wal/fuzz_wal.c $(ls "$SRC"/node/wal/*.c "$SRC"/node/raft/*.c | tr '\n' ' ') $PROTO|-lprotobuf-c -ljson-c -lm|8192|$SRC/tests/wal/corpus"
	echo "pjson|$SRC/tests/proto/fuzz_pjson_main.c $SRC/tests/proto/fuzz_pjson.c $SRC/tests/proto/protogen.c $SRC/tests/lib/testlib.c $PROTO|-lprotobuf-c -ljson-c $(pkg-config --libs check) -lm|2048|$SRC/tests/proto/corpus"
	echo "http1|$SRC/tests/api/fuzz_http1.c $SRC/node/api/http1.c $SRC/node/api/route.c $SRC/node/api/errmap.c|-levent_core -lhttp_parser -lm|4096|$SRC/tests/api/corpus"
}

fails=0
targets | while IFS='|' read -r name srcs libs maxlen corpus; do
	# shellcheck disable=SC2086
	if ! clang $CFLAGS $(pkg-config --cflags check) $srcs $BASE $libs \
		-o "$T/fuzz_$name" 2>"$T/$name.build.log"; then
		echo "FAIL: fuzz target $name does not build with clang:"
		tail -n 20 "$T/$name.build.log"
		echo 1 >>"$T/failed"
		continue
	fi
	mkdir -p "$T/corpus_$name"
	cp "$corpus"/* "$T/corpus_$name/" 2>/dev/null || true
	if ! (cd "$T" && "./fuzz_$name" -runs="$RUNS" -max_len="$maxlen" -seed=1 \
		"corpus_$name" >"$name.run.log" 2>&1); then
		echo "FAIL: fuzz target $name found a problem:"
		tail -n 40 "$T/$name.run.log"
		echo 1 >>"$T/failed"
		continue
	fi
	echo "ok: $name ($(grep -c . "$T/$name.run.log") log lines, $RUNS runs)"
done
[ ! -s "$T/failed" ] || fail "libFuzzer smoke run failed"
echo "libfuzzer_smoke: ok"
