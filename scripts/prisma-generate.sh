#!/usr/bin/env bash
# `prisma generate` needs no native engine, but the CLI insists on a path: give it any existing file.
set -euo pipefail
cd "$(dirname "$0")/.."
PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$(type -P true)}" node node_modules/prisma/build/index.js generate >/dev/null
