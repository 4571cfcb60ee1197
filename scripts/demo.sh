#!/usr/bin/env bash
# One command for a newcomer: set everything up, then run the demo. With a
# screen (DISPLAY or WAYLAND_DISPLAY) the kiosk opens windowed; without one it
# plays a scripted patient headless and writes screenshots and a report.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
cd "$here"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/kiosk demo "$@"
else
  echo "demo: no screen found, running headless (screenshots and report in demo-out/)"
  exec .venv/bin/kiosk demo --headless --out demo-out "$@"
fi
