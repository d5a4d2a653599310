#!/usr/bin/env bash
# Regenerates the README's picture of the HTML report: the bundled session
# server recorded for 20 s, its report as a page, the top of that page as
# headless Chromium draws it (examples/session_leak/report.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
heapdrift=$PWD/build/cli/heapdrift
(cd "$work" && "$heapdrift" run -o session_leak.rec -- "$OLDPWD/build/examples/session_leak" \
  --duration-sec 20 && "$heapdrift" report session_leak.rec --html report.html)
# As root Chromium needs --no-sandbox; a throwaway profile leaves nothing behind.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --user-data-dir="$work/profile" --window-size=1100,1250 --virtual-time-budget=5000 \
  --screenshot="$work/report.png" "file://$work/report.html" 2>/dev/null
cp "$work/report.png" examples/session_leak/report.png
echo "wrote examples/session_leak/report.png"
