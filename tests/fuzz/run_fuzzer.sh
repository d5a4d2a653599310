#!/usr/bin/env bash
# libFuzzer on the recording reader and the growth statistics, for a bounded
# time: meson configures a clang build of the tree beside this one (fuzz
# instrumentation, ASan, UBSan) and builds the fuzz target alone; the run
# starts from the checked-in seed corpus and writes what it finds to the
# build directory, never to the source tree.
# usage: run_fuzzer.sh SOURCE_ROOT BUILD_ROOT SECONDS
set -euo pipefail
source_root=$1 build_root=$2 seconds=${3:-20}
fuzz_build=$build_root/fuzz-build
seeds=$source_root/tests/fuzz/corpus
[ -n "$(ls -A "$seeds" 2>/dev/null)" ] || { echo "run_fuzzer: no seed corpus in $seeds" >&2; exit 1; }
if [ ! -f "$fuzz_build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$fuzz_build" "$source_root" -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false >"$build_root/fuzz-setup.log" 2>&1 ||
    { cat "$build_root/fuzz-setup.log" >&2; exit 1; }
fi
ninja -C "$fuzz_build" tests/fuzz/recording_fuzzer >/dev/null
mkdir -p "$fuzz_build/found"
# Leak detection is off: protobuf's descriptor pool is a process-lifetime
# allocation, not a leak of the reader.
ASAN_OPTIONS=detect_leaks=0 "$fuzz_build/tests/fuzz/recording_fuzzer" \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$fuzz_build/" "$fuzz_build/found" "$seeds" 2>&1 | tail -n 12
