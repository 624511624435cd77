#!/usr/bin/env bash
# Usage: scripts/test-node-red-5.sh [node-version] [--no-browser]      (npm run test:nr5 -- 22.9.0)
#
# Runs the suites that depend on the Node-RED generation - the node tests (node-red-node-test-helper),
# the end-to-end test with the packed package, the editor tests in Chromium - and the package load
# check on Node-RED 5 under an exact Node.js release (default 24.0.0, the first release of the active
# LTS line). Node-RED 5 needs Node.js >= 22.9; CI runs this on 22.9.0 and 24.0.0, the lowest release
# of each line `engines` names for it. Node-RED 5 lives in .nr5/, apart from the Node-RED 4.1 in
# node_modules that `npm test` runs on Node.js 20; the Node.js binary in .nodejs/ (scripts/with-node.sh).
# --no-browser leaves out the editor tests: the editor runs in the browser, so what they check depends
# on the Node-RED generation and not on the Node.js line; CI runs them on one Node.js line only.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION="${1:-24.0.0}"
BROWSER_SUITE='.build/test/browser/**/*.test.js'
if [ "${2:-}" = "--no-browser" ]; then
  BROWSER_SUITE=''
elif [ -n "${2:-}" ]; then
  echo "unknown option: $2 (expected --no-browser)" >&2
  exit 2
fi
# Exact versions, so that a CI run can be repeated.
NODE_RED_VERSION=5.0.7
# mocha 12 (ours) needs Node.js ^20.19 || >= 22.12; mocha 11 still supports 22.9-22.11.
MOCHA_11_VERSION=11.8.0

NR5_DIR="$PWD/.nr5"
installed() { node -p "try { require('$NR5_DIR/node_modules/$1/package.json').version } catch { '' }"; }
if [ "$(installed node-red)" != "$NODE_RED_VERSION" ] || [ "$(installed mocha)" != "$MOCHA_11_VERSION" ]; then
  echo "Installing Node-RED $NODE_RED_VERSION into .nr5/"
  npm install --prefix "$NR5_DIR" --no-save --no-audit --no-fund --loglevel=error \
    "node-red@$NODE_RED_VERSION" "mocha@$MOCHA_11_VERSION"
fi

MOCHA="$PWD/node_modules/mocha/bin/mocha.js"
IFS=. read -r major minor _ <<<"$NODE_VERSION"
if [ "$major" -eq 22 ] && [ "$minor" -lt 12 ]; then
  MOCHA="$NR5_DIR/node_modules/mocha/bin/mocha.js"
fi

# The same build and test compilation as `npm test`.
npm run pretest --silent

export ONENET_NODE_RED="$NR5_DIR/node_modules/node-red"
run() { scripts/with-node.sh "$NODE_VERSION" "$@"; }
echo "Node-RED $(run node -p "require('$ONENET_NODE_RED/package.json').version") on Node.js $(run node --version)," \
  "mocha $(run node "$MOCHA" --version)"
# Two test files at a time, as `npm test` (.mocharc.json): most suites wait on sockets and timers.
exec scripts/with-node.sh "$NODE_VERSION" node "$MOCHA" --no-config --timeout 20000 --exit --parallel --jobs 2 \
  '.build/test/nr5/**/*.test.js' \
  '.build/test/platform/**/*.test.js' \
  '.build/test/nodes/**/*.test.js' \
  '.build/test/e2e/**/*.test.js' \
  ${BROWSER_SUITE:+"$BROWSER_SUITE"}
