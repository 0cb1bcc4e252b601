#!/bin/sh
# A Python for the model tools when Debian's python3-torch is not installed: a venv in .tools/gpu-node-python with
# pip's torch, onnx and numpy (pip finds them offline in the local wheel index where there is one). python.ts picks
# it up without GPU_NODE_PYTHON. generate_model.py exports with the TorchScript exporter on any torch (onnx_io.py).
set -eu
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DEST="${1:-$ROOT/.tools/gpu-node-python}"
python3 -m venv "$DEST"
"$DEST/bin/pip" install -q torch onnx onnxscript numpy onnxruntime sentencepiece
"$DEST/bin/python" -c "import torch, onnx, numpy; print('torch', torch.__version__, 'onnx', onnx.__version__, 'numpy', numpy.__version__)"
echo "GPU_NODE_PYTHON=$DEST/bin/python (picked up automatically from this path)"
