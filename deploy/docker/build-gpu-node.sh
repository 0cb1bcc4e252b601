#!/usr/bin/env bash
# Builds the gpu-node's runtime tree into OUT (default /out): gpu-node.mjs, node_modules/onnxruntime-node (this
# platform's binaries only). With --cuda, onnxruntime-node's own installer then fetches its CUDA 12 execution providers
# (libonnxruntime_providers_cuda.so, _shared, _tensorrt) next to the CPU library: they are too big for the npm package.
# The model is never copied: it is a volume mounted at GPU_NODE_MODEL.
set -euo pipefail
CUDA=0
ARGS=()
for a in "$@"; do
  if [ "$a" = "--cuda" ]; then CUDA=1; else ARGS+=("$a"); fi
done
OUT="${ARGS[0]:-/out}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
node deploy/docker/bundle.mjs --root "$ROOT" --entry gpu-node/src/entry.node.ts --name gpu-node --out "$OUT" \
  --external onnxruntime-node
cp deploy/docker/healthcheck.mjs "$OUT/healthcheck.mjs"
if [ "$CUDA" = 1 ]; then
  (cd "$OUT/node_modules/onnxruntime-node" && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js)
  test -f "$OUT"/node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime_providers_cuda.so || {
    echo "build-gpu-node: the CUDA execution provider was not installed" >&2
    exit 1
  }
fi
