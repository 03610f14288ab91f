#!/usr/bin/env bash
# THE run command: the GraphQL gateway on PORT (default 4000). With DATABASE_URL unset it starts a
# local PostgreSQL for its own database (and a demo PostgreSQL + pgaudit service, DEV_TARGET=0 to skip).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
npx --no-install tsc -p tsconfig.tools.json
exec node dist/dev/launcher.js
