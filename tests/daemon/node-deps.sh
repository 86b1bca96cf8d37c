#!/bin/bash
# node-deps.sh CACHE_DIR - installs the npm packages the OpenAPI check
# needs (ajv, js-yaml) into CACHE_DIR/node_modules, only when missing.
set -euo pipefail
cache=$1
if [ -f "$cache/node_modules/ajv/package.json" ] &&
   [ -f "$cache/node_modules/js-yaml/package.json" ]; then
  exit 0
fi
command -v npm >/dev/null ||
  { echo "npm missing: install Debian packages nodejs npm" >&2; exit 1; }
mkdir -p "$cache"
echo "[deps] npm install ajv js-yaml into $cache" >&2
npm install --prefix "$cache" --no-audit --no-fund --silent \
  ajv@8.17.1 js-yaml@4.1.0 >&2
