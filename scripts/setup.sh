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

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python dependencies into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[dev]"
  rm -f .venv/.installed-* && touch "$stamp"
fi
echo "setup: ready (.venv/bin/kiosk)"
