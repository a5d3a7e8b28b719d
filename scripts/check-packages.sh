#!/usr/bin/env bash
# Checks what each publishable package under packages/ exports, as a consumer's tools will see it:
# - @arethetypeswrong/cli packs the package and resolves every entry point the way TypeScript
#   does for a CommonJS and an ESM consumer (node16) and for bundlers. `--profile node16` leaves
#   out the legacy `node10` resolution, which cannot see subpath exports (`@tiercache/core/http`)
#   of any package;
# - publint checks package.json against the files the package ships.
# Run after `pnpm run build` (both read dist/). Fails on the first package with a problem.
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in packages/*/; do
  if [ "$(node -p "require('./${dir}package.json').private === true")" = true ]; then continue; fi
  echo "== ${dir}"
  (cd "$dir" && attw --pack . --profile node16 --format table-flipped && publint --strict)
done
