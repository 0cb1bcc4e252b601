"""Architecture-faithful IndexTTS2 modules (random weights) and their ONNX export; see gpu-node/tools/README.md."""
