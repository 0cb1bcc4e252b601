#!/usr/bin/env bash
# Builds the proxy's runtime tree into OUT (default /out): proxy.mjs, backup.mjs, migrations/sql,
# node_modules/better-sqlite3.
# Run from the repository root after `npm ci` (the Dockerfile's build stage; deploy/test/images.test.ts runs it too).
set -euo pipefail
OUT="${1:-/out}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
node deploy/docker/bundle.mjs --root "$ROOT" --entry proxy/src/entry.node.ts --name proxy --out "$OUT" \
  --external better-sqlite3
# the online SQLite backup (docs/operations.md): kubectl exec deploy/proxy -- node /app/backup.mjs --out /data/backups/x.db
node deploy/docker/bundle.mjs --root "$ROOT" --entry deploy/tools/sqlite-backup.ts --name backup --out "$OUT" \
  --external better-sqlite3
cp deploy/docker/healthcheck.mjs "$OUT/healthcheck.mjs"
