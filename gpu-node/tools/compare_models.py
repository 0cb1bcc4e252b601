"""Is a regenerated model directory the same model as another? (e.g. the committed `tiny` against one written by a
newer torch, whose exporter writes different but equivalent graphs.)

    python gpu-node/tools/compare_models.py gpu-node/models/tiny /tmp/tiny-regen [--tol 1e-5]

For every file of the manifest: byte-identical files pass at once. Otherwise
  * graphs: the weights (initializers named after torch parameters, fp16 storage undone) must be equal exactly,
    and onnxruntime's outputs on the reference inputs (graphs.example_inputs, both trace shapes) within --tol;
  * safetensors: every tensor within --tol (they are computed by torch modules, so float rounding may differ);
  * anything else (manifest, bpe.model) must be byte-identical.
Needs numpy, onnx, onnxruntime and torch (for the example inputs). Exit 1 on any difference.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

from indextts2_arch import graphs  # noqa: E402
from indextts2_arch.onnx_io import load_initializers  # noqa: E402
from indextts2_arch.safetensors_io import read_safetensors  # noqa: E402


def resident_inputs(cfg, alt):
    """gpt_decode's reference inputs with the attention mask replaced by per-row frozen lengths, plus a window of
    8 slots with per-row fill, read swapped (resident_graphs.py)."""
    ids, mel_pos, mask, *pasts = graphs.example_inputs("gpt_decode", cfg, batch=2, alt=alt)
    p = pasts[0].shape[2]
    g = torch.Generator().manual_seed(1 if alt else 0)
    tails = [torch.randn(t.shape[0], t.shape[1], 8, t.shape[3], generator=g) for t in pasts]
    lengths, fill = torch.tensor([p - 5, p - 1], dtype=torch.int64), torch.tensor([3, 0], dtype=torch.int64)
    rows = torch.tensor([1, 0], dtype=torch.int64)  # the windows swapped, as a beam reorder
    groups = torch.tensor([[0], [1]], dtype=torch.int64)  # one frozen row per row (two one-beam sequences)
    group_slot = torch.tensor([[0, 0], [1, 0]], dtype=torch.int64)
    return (ids, mel_pos, lengths, fill, rows, groups, group_slot, *pasts, *tails)


def reference_inputs(name, cfg):
    if name in graphs.GRAPHS:
        return [graphs.example_inputs(name, cfg, batch=2, alt=alt) for alt in (False, True)]
    if name == "gpt_decode_resident":
        return [resident_inputs(cfg, alt) for alt in (False, True)]
    return []


def run(path, inputs):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {i.name: t.numpy() for i, t in zip(sess.get_inputs(), inputs)}
    return [o.name for o in sess.get_outputs()], sess.run(None, feeds)


def max_diff(a, b):
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


def compare_graph(name, a, b, cfg, tol):
    wa, wb = load_initializers(a)[0], load_initializers(b)[0]
    named = lambda w: {k: v for k, v in w.items() if not k.startswith("onnx::")}  # noqa: E731
    na, nb = named(wa), named(wb)
    if set(na) != set(nb):
        return False, f"weights differ in name: {sorted(set(na) ^ set(nb))[:5]}"
    # Parameters come from the seeded generator and must be equal; buffers torch computes (e.g. sinusoidal
    # frequencies) may differ in the last bit between torch versions.
    unequal = {k: max_diff(na[k], nb[k]) for k in na if not np.array_equal(na[k], nb[k])}
    if any(d > tol for d in unequal.values()):
        return False, f"weights differ: {unequal}"
    weights = f"{len(na) - len(unequal)} weights equal" + (f", {unequal} within tol" if unequal else "")
    cases = reference_inputs(name, cfg)
    if not cases:
        return False, "bytes differ and no reference inputs for this graph"
    worst = 0.0
    for inputs in cases:
        names_a, outs_a = run(a, inputs)
        names_b, outs_b = run(b, inputs)
        if names_a != names_b:
            return False, f"outputs differ: {names_a} vs {names_b}"
        worst = max([worst] + [max_diff(x, y) for x, y in zip(outs_a, outs_b)])
    return worst <= tol, f"{weights}; outputs max |diff| = {worst:.3g} over {len(cases)} cases"


def compare_safetensors(a, b, tol):
    ta, tb = read_safetensors(a), read_safetensors(b)
    if set(ta) != set(tb):
        return False, f"tensors differ in name: {sorted(set(ta) ^ set(tb))[:5]}"
    worst = max((max_diff(ta[k], tb[k]) for k in ta), default=0.0)
    return worst <= tol, f"{len(ta)} tensors, max |diff| = {worst:.3g}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tol", type=float, default=1e-5)
    args = ap.parse_args(argv)
    with open(os.path.join(args.a, "manifest.json"), encoding="utf-8") as f:
        cfg = json.load(f)["architecture"]
    ok = True
    for fname in sorted(set(os.listdir(args.a)) | set(os.listdir(args.b))):
        a, b = os.path.join(args.a, fname), os.path.join(args.b, fname)
        if not (os.path.exists(a) and os.path.exists(b)):
            good, why = False, "missing on one side"
        elif open(a, "rb").read() == open(b, "rb").read():
            good, why = True, "byte-identical"
        elif fname.endswith(".onnx"):
            good, why = compare_graph(fname[: -len(".onnx")], a, b, cfg, args.tol)
        elif fname.endswith(".safetensors"):
            good, why = compare_safetensors(a, b, args.tol)
        elif fname.endswith(".onnx.data"):
            good, why = True, "external data: compared with its graph"
        else:
            good, why = False, "bytes differ"
        ok &= good
        print(f"  {'PASS' if good else 'FAIL'}  {fname:28s} {why}")
    print("OK: same model" if ok else "DIFFERENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
