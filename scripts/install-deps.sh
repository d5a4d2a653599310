#!/usr/bin/env bash
# Installs what heapdrift needs to build and test, from Debian 12 packages.
set -euo pipefail
packages=(
  g++ meson ninja-build pkg-config python3 binutils procps
  libfmt-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libbenchmark-dev libdw-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
  libjemalloc2   # tests: the agent over another malloc
  golang-go      # tests: `go tool pprof` reads our pprof export
  libcpp-httplib-dev  # heapdrift serve: its HTTP server
  chromium fonts-dejavu-core  # tests: the HTML report opened in a real (headless) browser
  prometheus prometheus-alertmanager  # tests: a real Prometheus scrapes `serve`, promtool lints and tests the shipped rules
  clang libclang-rt-14-dev  # tests: the libFuzzer target
  sqlite3 git redis-server redis-tools memcached libmemcached-tools nginx-light wrk  # tests: real programs
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "heapdrift: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
