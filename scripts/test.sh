#!/usr/bin/env bash
# Builds and runs every test: the full suite in the normal build, the unit
# suite again under `heapdrift check`, and under ThreadSanitizer and
# AddressSanitizer.
# Ends with one line: "N passed, N failed", summed over all test cases.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
status=0
bash scripts/build.sh build || exit 1
meson test -C build --print-errorlogs --num-processes 2 || status=1
logs=(build/meson-logs)
# The project eats its own cooking: its unit suite, run by meson, under
# `heapdrift check` (every process of the run is a test case in the count).
build/cli/heapdrift check --junit build/self-check.junit.xml -- \
  meson test -C build --suite unit --no-rebuild --logbase self-check >/dev/null || status=1
logs+=(build/self-check.junit.xml)
for sanitizer in thread address; do
  dir=build-$sanitizer
  bash scripts/build.sh "$dir" -Db_sanitize=$sanitizer -Db_lundef=false || exit 1
  meson test -C "$dir" --suite unit --print-errorlogs || status=1
  logs+=("$dir/meson-logs")
done
python3 scripts/count_tests.py "${logs[@]}" || status=1
exit $status
