#!/usr/bin/env bash
# THE test command: every test, unit and integration, against real PostgreSQL servers that the test
# setup starts itself. Works on a fresh machine of this kind (bootstrap installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
npx --no-install tsc --noEmit -p tsconfig.json
npx --no-install tsc -p tsconfig.build.json
mkdir -p .local
rc=0
npx --no-install jest --runInBand --json --outputFile=.local/jest-results.json "$@" || rc=$?
node -e '
  const r = require("./.local/jest-results.json");
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' || true
exit "$rc"
