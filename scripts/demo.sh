#!/usr/bin/env bash
# The main job on the bundled incident: run the leaking session server for
# 20 s under heapdrift, then print the ranked suspects: the call sites whose
# live memory keeps growing; and the same report as a page to open in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
recording=${TMPDIR:-/tmp}/session_leak.rec
./build/cli/heapdrift run -o "$recording" -- ./build/examples/session_leak --duration-sec 20
./build/cli/heapdrift report "$recording"
./build/cli/heapdrift report "$recording" --html "${TMPDIR:-/tmp}/session_leak.html"
