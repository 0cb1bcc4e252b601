"""The safetensors format, written by hand: 8-byte little-endian header length, a JSON header, raw little-endian data.

The node reads these files with its own small reader (gpu-node/src/model/safetensors.ts), which accepts F32 only,
so the writer keeps to the few dtypes that matter and adds no dependency beyond numpy.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np

_DTYPES = {
    np.dtype("<f4"): "F32",
    np.dtype("<f2"): "F16",
    np.dtype("<i8"): "I64",
    np.dtype("<i4"): "I32",
}
_NUMPY = {name: dtype for dtype, name in _DTYPES.items()}


def write_safetensors(
    path: str | Path, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None
) -> int:
    """Write `tensors` (in insertion order) to `path`; returns the file size in bytes."""
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs: list[bytes] = []
    offset = 0
    for name, value in tensors.items():
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved")
        array = np.asarray(value)
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if dtype not in _DTYPES:
            raise TypeError(f"{name}: dtype {array.dtype} is not supported (F32, F16, I64, I32)")
        blob = np.ascontiguousarray(array, dtype=dtype).tobytes()
        header[name] = {
            "dtype": _DTYPES[dtype],
            "shape": [int(d) for d in array.shape],
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Pad the header with spaces so the data region starts 8-byte aligned (what the reference writer does).
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)
    return 8 + len(encoded) + offset


def read_safetensors(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a file written by `write_safetensors` (or any safetensors file with the dtypes above)."""
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (length,) = struct.unpack("<Q", data[:8])
    if 8 + length > len(data):
        raise ValueError(f"{path}: header length runs past the end of the file")
    header = json.loads(data[8 : 8 + length].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + length
    tensors: dict[str, np.ndarray] = {}
    for name, entry in header.items():
        dtype = _NUMPY.get(entry["dtype"])
        if dtype is None:
            raise TypeError(f"{path}: {name} has unsupported dtype {entry['dtype']}")
        start, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end - start != count * dtype.itemsize:
            raise ValueError(f"{path}: {name} byte range does not match its shape")
        tensors[name] = np.frombuffer(data, dtype=dtype, count=count, offset=base + start).reshape(shape).copy()
    return tensors, metadata
