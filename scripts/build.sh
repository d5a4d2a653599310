#!/usr/bin/env bash
# Configures (once) and builds into DIR (default: build), passing extra meson options.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [[ ! -f "$dir/build.ninja" ]]; then
  meson setup "$dir" "$@" >/dev/null
fi
# Quiet when it works; the compiler's or linker's words when it does not.
if ! ninja -C "$dir" > "$dir/ninja.log" 2>&1; then
  grep -A 12 '^FAILED' "$dir/ninja.log" | head -60 >&2
  exit 1
fi
