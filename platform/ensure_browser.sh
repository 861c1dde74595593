#!/usr/bin/env bash
# Makes sure the e2e tests can drive a real headless Chromium: Debian's `chromium` package
# (installed with apt when running as root) and Playwright for Python in .venv. Playwright's own
# browser download (`playwright install`) is never used: the tests launch /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_PY="${VENV_PY:-.venv/bin/python}"
PLAYWRIGHT_PIN="$(grep -E '^playwright==' requirements-dev.txt | head -1 || true)"

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "ensure_browser: installing Debian's chromium with apt"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # A CJK font, so that screenshots of the Chinese interface show characters, not boxes.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
            fonts-wqy-microhei >/dev/null
    else
        echo "ensure_browser: Chromium is missing. Install it (Debian/Ubuntu: sudo apt-get install" \
             "chromium chromium-driver); the e2e tests are skipped until then." >&2
    fi
fi

if [ -x "$VENV_PY" ] && ! "$VENV_PY" -c "import playwright" >/dev/null 2>&1; then
    echo "ensure_browser: installing ${PLAYWRIGHT_PIN:-playwright} into .venv"
    "$VENV_PY" -m pip install -q "${PLAYWRIGHT_PIN:-playwright}"
fi

if command -v chromium >/dev/null 2>&1; then
    echo "ensure_browser: $(chromium --version 2>/dev/null | head -1)"
fi
