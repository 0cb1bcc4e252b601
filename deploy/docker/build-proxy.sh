#!/usr/bin/env bash
# Builds the proxy's runtime tree into OUT (default /out): proxy.mjs, backup.mjs, assets/migrations/{sql,pg/sql}
# (whatever folders the code references), node_modules/better-sqlite3 (native), and the files of the packages the code
# resolves at run time: opusscript (reads its .wasm from its own folder, so it stays a package), swagger-ui-dist (the
# /docs page's assets), libflacjs (FLAC: asm.js + its .mem file) and wasm-media-encoders' mp3.wasm (LAME, read by
# audio/encoders/mp3-wasm.node.ts through require.resolve and compiled once per process).
# Run from the repository root after `npm ci` (the Dockerfile's build stage; deploy/test/images.test.ts runs it too).
set -euo pipefail
OUT="${1:-/out}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
node deploy/docker/bundle.mjs --root "$ROOT" --entry proxy/src/entry.node.ts --name proxy --out "$OUT" \
  --external better-sqlite3 --external opusscript \
  --copy swagger-ui-dist:swagger-ui-bundle.js,swagger-ui.css \
  --copy libflacjs:lib,dist/libflac.min.js,dist/libflac.min.js.mem \
  --copy wasm-media-encoders:wasm/mp3.wasm
# the schema the proxy migrates at start-up: the bundle must have found and copied it (a moved or renamed constant
# would otherwise ship a proxy that cannot create its tables)
test -d "$OUT/assets/migrations/sql" || {
  echo "build-proxy: migrations/sql was not copied beside the bundle" >&2
  exit 1
}
# the online SQLite backup (docs/operations.md): kubectl exec deploy/proxy -- node /app/backup.mjs --out /data/backups/x.db
node deploy/docker/bundle.mjs --root "$ROOT" --entry deploy/tools/sqlite-backup.ts --name backup --out "$OUT" \
  --external better-sqlite3
cp deploy/docker/healthcheck.mjs "$OUT/healthcheck.mjs"
