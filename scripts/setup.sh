#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for the kiosk: the system packages the
# simulators and tests need (through apt, only those missing), then the Python
# environment in .venv at the repository root. Safe to run again.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

APT_PACKAGES=(
  python3-venv python3-dev gcc
  pcscd libpcsclite-dev vsmartcard-vpcd   # PC/SC daemon + virtual reader driver
  socat                                   # serial pty pairs
  xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
  libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-shape0
  libegl1 libgl1 libfontconfig1 libdbus-1-3
  fonts-dejavu-core fonts-noto-core       # Latin + Arabic glyphs
  libportaudio2 espeak-ng sox             # audio and offline speech
  coturn chromium                         # TURN relay, doctor's browser
  xdotool imagemagick                     # the person tests' hand and screenshots
  cups-daemon cups-client cups-filters poppler-utils  # printing: a private cupsd, PDFs read back
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if ! command -v sudo >/dev/null; then
      echo "setup: these system packages are missing: ${missing[*]}" >&2
      echo "setup: run this script as root, or install sudo, or ask an administrator to run:" >&2
      echo "  apt-get install ${missing[*]}" >&2
      exit 1
    fi
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python 3.13 (the cabin's, Debian 13): on 3.11 PySide6 6.12 leaks references to None
# until the process aborts (docs/runtime.md); 3.12+ makes None immortal.
PY=""
for cand in "${PYTHON:-}" python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python3.13 /usr/bin/python3.13 python3.12 python3; do
  [ -n "$cand" ] || continue
  if "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
    PY="$cand"; break
  fi
done
if [ -z "$PY" ]; then
  echo "setup: Python 3.12 or newer is needed (3.13 preferred); set PYTHON=/path/to/python3.13" >&2
  exit 1
fi
if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
  echo "setup: .venv runs an older Python; making it anew"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
# Two projects (docs/architecture.md, "Two installs"): the cabin's (app, drivers,
# kiosk_config: what `pip install .` puts on a cabin) with the dev tools, then the
# demo and the reference platform (kiosk_demo/pyproject.toml: kiosk_demo/, devtools/),
# which adds `kiosk demo` to .venv/bin/kiosk.
stamp=.venv/.installed-$(cat pyproject.toml kiosk_demo/pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python dependencies into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[dev]"
  .venv/bin/pip install -q -e ./kiosk_demo
  rm -f .venv/.installed-* && touch "$stamp"
fi
echo "setup: ready (.venv/bin/kiosk)"
