#!/usr/bin/env bash
# Installs what tests/review/test_docs_render.py needs to render the docs' diagrams in a real browser:
# Debian's chromium (when missing; needs root) and the pinned mermaid from tests/browser/package-lock.json.
# Prints one line per step; exits non-zero with the reason when something cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser-deps: chromium missing and apt-get cannot run here (needs root on Debian)" >&2
    exit 3
  fi
  echo "install-browser-deps: apt-get install chromium"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if [ ! -f tests/browser/node_modules/mermaid/dist/mermaid.min.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-browser-deps: npm missing, cannot install mermaid" >&2
    exit 3
  fi
  echo "install-browser-deps: npm ci (mermaid, pinned in tests/browser/package-lock.json)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "install-browser-deps: ok"
