#!/usr/bin/env bash
# Soak: the real windowed kiosk (its own Xvfb) runs back-to-back sessions with calls.
#   scripts/soak.sh                          # 120 minutes, figures in /tmp/soak-<time>/
#   scripts/soak.sh --minutes 10 --out DIR   # the CI length
#   nohup scripts/soak.sh --minutes 120 --out /tmp/soak-2h > /tmp/soak-2h.out 2>&1 &
# Figures: OUT/soak.json (rewritten at every sample: a running soak can be read),
# the kiosk's log OUT/kiosk.log, a table at the end. Exit 0 when it passed.
# Needs: Xvfb, pcscd + vpcd (scripts/setup.sh installs them). See docs/runtime.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
unset QT_QPA_PLATFORM  # the soak's kiosk is a real X window, never offscreen
# The allocator setting of the cabin's unit (packaging/systemd/telecabine-kiosk.service): the
# soak measures the kiosk as the cabin runs it. MALLOC_ARENA_MAX=8 (or unset it) to compare.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export PATH="$PATH:/usr/sbin:/sbin"  # pcscd
exec .venv/bin/python -m tests.soak.soak_kiosk --verbose "$@"
