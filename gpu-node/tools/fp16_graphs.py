"""fp16 GPT weights and KV cache, an option for GPU execution providers (issue 13, gpu-node/MODEL.md).

Writes OUT, a model directory whose GPT graphs (gpt_prefill, gpt_decode, gpt_latent and the resident loop's graphs) compute in
float16 and whose KV-cache inputs and outputs (`past_*`, `present_*`, `new_*`, `tail_*`, `tail_out_*`, `in_*`,
`out_*`, `a_*`, `b_*`) are float16: half the cache memory and half the bytes a step reads. Every other input and
output stays float32 (conditioning, logits, hidden), so the node's host-side contract does not change. The other
graphs and files are not copied: OUT's manifest names them by their path relative to OUT. The manifest gains
`precision: {"gpt": "float16", "kv_cache": "float16"}`; the node then runs the resident loop only (the host loop
keeps its cache in float32 host arrays).

The CPU provider has no float16 kernels for most of these operators: onnxruntime inserts casts around them, so on
the CPU the fp16 graphs run (slower), which is what the correctness checks here and in
`gpu-node/src/engine/fp16.test.ts` use; the speed is a GPU matter (`bench/gpu_decode_check.py`).

    /tmp/genvenv/bin/python gpu-node/tools/fp16_graphs.py gpu-node/models/tiny gpu-node/models/tiny-fp16
"""

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.transformers.float16 import convert_float_to_float16

GRAPHS = ("gpt_prefill", "gpt_decode", "gpt_latent", "gpt_decode_resident", "cache_gather", "cache_pad", "cache_concat", "cache_flush")
CACHE = re.compile(r"^(past|present|new|tail|tail_out|in|out|a|b)_(key|value)_\d+$")


def toposort(graph: onnx.GraphProto) -> None:
    """the converter appends the casts of kept float32 inputs after their consumers; ONNX wants producers first"""
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        rest = []
        for n in pending:
            (ordered if all(i in ready for i in n.input) else rest).append(n)
            if ordered and ordered[-1] is n:
                ready.update(n.output)
        if len(rest) == len(pending):
            raise ValueError(f"graph {graph.name} has a cycle or a missing input: {rest[0].name}")
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)


def convert(src: Path, dst: Path) -> None:
    model = onnx.load(str(src))  # external data loaded too
    names = [v.name for v in (*model.graph.input, *model.graph.output)]
    keep = [n for n in names if not CACHE.match(n)]
    half = convert_float_to_float16(model, keep_io_types=keep, disable_shape_infer=True)
    toposort(half.graph)
    if half.ByteSize() > 1.8e9 or (src.parent / f"{src.name}.data").exists():
        onnx.save(half, str(dst), save_as_external_data=True, all_tensors_to_one_file=True, location=f"{dst.name}.data")
    else:
        onnx.save(half, str(dst))
    onnx.checker.check_model(str(dst))


def check_decode(src_dir: Path, dst_dir: Path) -> float:
    """fp16 vs fp32 resident decode step on the CPU provider (casts inserted by onnxruntime): max relative error of
    logits and hidden over a batch of 2 rows with random caches."""
    a = ort.InferenceSession(str(src_dir / "gpt_decode_resident.onnx"), providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(dst_dir / "gpt_decode_resident.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    shape = {i.name: i.shape for i in a.get_inputs()}
    heads, hd = shape["past_key_0"][1], shape["past_key_0"][3]
    feeds = {"mel_ids": np.array([[7], [300]], np.int64), "mel_pos": np.array([4, 9], np.int64),
             "lengths": np.array([40, 25], np.int64), "tail_lengths": np.array([3, 0], np.int64),
             "rows": np.array([1, 0], np.int64), "groups": np.array([[0], [1]], np.int64),
             "group_slot": np.array([[0, 0], [1, 0]], np.int64)}
    for name in shape:
        if CACHE.match(name):
            slots = 48 if name.startswith("past") else 16
            feeds[name] = (rng.standard_normal((2, heads, slots, hd)) * 0.5).astype(np.float32)
    want = dict(zip([o.name for o in a.get_outputs()], a.run(None, feeds)))
    half = {k: (v.astype(np.float16) if CACHE.match(k) else v) for k, v in feeds.items()}
    got = dict(zip([o.name for o in b.get_outputs()], b.run(None, half)))
    return max(float(np.abs(want[k] - got[k]).max() / np.abs(want[k]).max()) for k in ("logits", "hidden"))


def main(src: str, dst: str) -> None:
    s, d = Path(src), Path(dst)
    d.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((s / "manifest.json").read_text())
    for g in GRAPHS:
        path = s / (manifest["files"].get(g) or f"{g}.onnx")
        if path.exists():
            convert(path, d / f"{g}.onnx")
            print(f"  {g}: {os.path.getsize(path) / 1e6:.2f} MB -> {os.path.getsize(d / f'{g}.onnx') / 1e6:.2f} MB")
    for key, name in manifest["files"].items():
        if key not in GRAPHS:
            manifest["files"][key] = os.path.relpath(s / name, d)
    manifest["precision"] = {"gpt": "float16", "kv_cache": "float16"}
    manifest["name"] = f"{manifest['name']}-fp16"
    (d / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    err = check_decode(s, d)
    print(f"wrote {d}: fp16 resident decode step vs fp32 on the CPU provider: logits/hidden relative {err:.2e}")
    if err > 2e-2:
        raise SystemExit("fp16 decode step is too far from fp32")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
