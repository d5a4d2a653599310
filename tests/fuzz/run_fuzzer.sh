#!/usr/bin/env bash
# Builds the recording-reader fuzz target with clang's libFuzzer (and ASan,
# UBSan) and runs it for a bounded time from the seed corpus.
# usage: run_fuzzer.sh SOURCE_ROOT BUILD_ROOT SECONDS
set -euo pipefail
source_root=$1 build_root=$2 seconds=${3:-20}
out=$build_root/fuzz
mkdir -p "$out/corpus"
generated=$(dirname "$(find "$build_root/proto" -name heapdrift.pb.cc | head -n 1)")
clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
  -I"$source_root/recording" -I"$source_root/analysis" -I"$source_root/proto" -I"$generated" \
  "$source_root/tests/fuzz/recording_fuzzer.cc" \
  "$source_root/recording/recording.cc" "$source_root/recording/site_series.cc" "$source_root/analysis/trend.cc" \
  "$source_root/analysis/cohorts.cc" \
  "$generated/heapdrift.pb.cc" \
  -lprotobuf -o "$out/recording_fuzzer"
cp -n "$source_root"/tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
# Leak detection is off: protobuf's descriptor pool is a process-lifetime
# allocation, not a leak of the reader.
ASAN_OPTIONS=detect_leaks=0 "$out/recording_fuzzer" -max_total_time="$seconds" \
  -max_len=65536 -timeout=10 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" 2>&1 | tail -n 12
