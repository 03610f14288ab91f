#!/usr/bin/env bash
# THE test command: every test, unit and integration, against real PostgreSQL servers that the test
# setup starts itself. Works on a fresh machine of this kind (bootstrap installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
npx --no-install tsc --noEmit -p tsconfig.json
npx --no-install tsc --noEmit -p console/tsconfig.json   # the browser console (its operations typed by the bootstrap's build)
# The layers (cli -> api -> modules -> base, modules in one order, product apart from tools): .dependency-cruiser.js
npx --no-install depcruise --config .dependency-cruiser.js src dev bench test
npx --no-install tsc -p tsconfig.tools.json
mkdir -p .local
rc=0
npx --no-install jest --runInBand --json --outputFile=.local/jest-results.json "$@" || rc=$?
node -e '
  const r = require("./.local/jest-results.json");
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' || true
# The benchmark harness end to end, small sizes (bench/run.ts --quick): it must never rot. It starts its own
# services, after the test run's are gone. Its figures are printed, not judged: targets are for the full run.
if [ "$rc" = 0 ]; then
  node --max-old-space-size=4096 dist/bench/run.js --quick > .local/bench-quick.txt 2>&1 || { rc=$?; cat .local/bench-quick.txt; echo "bench --quick: FAILED"; }
  [ "$rc" = 0 ] && echo "bench --quick: ok ($(grep -c '^| ' .local/bench-quick.txt) table rows; .local/bench-quick.txt)"
fi
exit "$rc"
