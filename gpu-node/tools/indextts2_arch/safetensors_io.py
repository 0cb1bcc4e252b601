"""Minimal safetensors writer/reader (F32 only), so the generator needs no `safetensors` package.

Layout: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}}
(offsets relative to the byte after the header), then the raw little-endian tensor bytes. The header is padded
with spaces to a multiple of 8 so every tensor starts 8-byte aligned (Float32Array views need 4).
"""

import json
import struct

import numpy as np


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: array-like}, written in the given order as float32."""
    header = {}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        arr = np.ascontiguousarray(np.asarray(value, dtype="<f4"))
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[base + begin : base + end], dtype="<f4").reshape(info["shape"]).copy()
    return out
