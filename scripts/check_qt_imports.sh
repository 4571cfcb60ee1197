#!/usr/bin/env bash
# Qt may be imported only under app/ui/ and in app/main.py (qutebrowser-style
# confinement): logic stays testable without a QApplication.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bad=$(grep -rlE '^\s*(from|import)\s+(PySide6|qasync|shiboken6)\b' app drivers kiosk_config vocabulary devtools \
      --include='*.py' | grep -vE '^app/(ui/|main\.py$)' || true)
if [ -n "$bad" ]; then
  echo "Qt imported outside app/ui and app/main.py:"; echo "$bad"; exit 1
fi
echo "Qt confinement: ok"
