"""ONNX plumbing shared by the stage exporters: export, optional fp16, external data, and a parity check.

Export uses the TorchScript-based exporter (`dynamo=False`) at opset 17 with named dynamic axes: the wrappers are
written for it (no data-dependent Python control flow), and it keeps input/output names exactly as given.
Graphs over 2 GiB of weights cannot live in one protobuf, so the GPT graphs are saved with their weights in one
side file `<name>.onnx.data` (onnxruntime finds it next to the .onnx when the session is created from a path).
"""

from __future__ import annotations

import inspect
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

OPSET = 17


@dataclass
class ExportOptions:
    out_dir: str
    fp16: bool = False
    check: bool = True
    # largest |onnx - torch| accepted by the parity check, relative to max |torch| (fp32 graphs)
    rtol: float = 1e-3


def _export_kwargs() -> dict:
    # torch >= 2.5 has the `dynamo` switch (default False up to 2.8, True from 2.9): always ask for the tracer.
    return {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def export_graph(
    module: torch.nn.Module,
    example: Sequence[torch.Tensor],
    file_name: str,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Mapping[str, Mapping[int, str]],
    options: ExportOptions,
    external_data: bool = False,
) -> str:
    """Export `module(*example)` to `options.out_dir/file_name`; returns the path."""
    import onnx

    path = os.path.join(options.out_dir, file_name)
    data_name = file_name + ".data"
    for stale in (path, os.path.join(options.out_dir, data_name)):
        if os.path.exists(stale):
            os.remove(stale)
    module.eval()
    # The tracer writes >2 GiB models as one file per tensor next to its output: let it do that in a scratch
    # folder on the same disk, then consolidate.
    with tempfile.TemporaryDirectory(dir=options.out_dir, prefix=".export-") as scratch:
        scratch_path = os.path.join(scratch, file_name)
        with torch.no_grad():
            torch.onnx.export(
                module,
                tuple(example),
                scratch_path,
                input_names=list(input_names),
                output_names=list(output_names),
                dynamic_axes={k: dict(v) for k, v in dynamic_axes.items()},
                opset_version=OPSET,
                do_constant_folding=True,
                **_export_kwargs(),
            )
        model = onnx.load(scratch_path, load_external_data=True)
        if options.fp16:
            model = to_fp16(model)
        if external_data:
            onnx.save_model(
                model,
                path,
                save_as_external_data=True,
                all_tensors_to_one_file=True,
                location=data_name,
                size_threshold=1024,
            )
        else:
            onnx.save_model(model, path)
        del model
    for written in (path, os.path.join(options.out_dir, data_name)):
        if os.path.exists(written):
            os.chmod(written, 0o644)  # onnx creates the weight file owner-only; the node may run as another user
    onnx.checker.check_model(path)  # by path: works past 2 GiB
    return path


def to_fp16(model):
    """fp16 weights and activations inside, float32 inputs and outputs (the node's contract stays float32)."""
    try:
        from onnxconverter_common import float16
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise SystemExit("--fp16 yes needs onnxconverter-common: `uv pip install onnxconverter-common`") from e
    return float16.convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=True)


def file_size(path: str) -> int:
    total = os.path.getsize(path)
    data = path + ".data"
    return total + (os.path.getsize(data) if os.path.exists(data) else 0)


def ort_session(path: str):
    import onnxruntime as ort

    available = ort.get_available_providers()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if "CUDAExecutionProvider" in available:
        try:  # full fp32 matmuls, so parity is measured against the export and not against TF32 rounding
            return ort.InferenceSession(path, options, providers=[("CUDAExecutionProvider", {"use_tf32": 0}),
                                                                  "CPUExecutionProvider"])
        except Exception:  # older onnxruntime without the option
            return ort.InferenceSession(path, options, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def strict_fp32() -> None:
    """Turn off TF32 in torch (cuDNN convolutions use it by default on Ampere and later) for the comparisons."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def parity(
    module: torch.nn.Module,
    session,
    inputs: Sequence[torch.Tensor],
    input_names: Sequence[str],
    output_names: Sequence[str],
    label: str,
    rtol: float,
) -> float:
    """Run the torch wrapper and the ONNX graph on the same inputs; raise if they disagree. Returns the worst
    relative difference (max |a - b| / max |a|) over all outputs."""
    with torch.no_grad():
        expected = module(*inputs)
    if isinstance(expected, torch.Tensor):
        expected = (expected,)
    feeds = {name: to_numpy(t) for name, t in zip(input_names, inputs)}
    actual = session.run(list(output_names), feeds)
    worst = 0.0
    for name, want, got in zip(output_names, expected, actual):
        want = to_numpy(want)
        if want.shape != got.shape:
            raise AssertionError(f"{label}: {name} has shape {got.shape}, torch gives {want.shape}")
        scale = max(float(np.abs(want).max(initial=0.0)), 1e-6)
        rel = float(np.abs(want - got).max(initial=0.0)) / scale
        worst = max(worst, rel)
        if not np.isfinite(got).all() or rel > rtol:
            raise AssertionError(f"{label}: {name} differs from torch by {rel:.2e} (relative), limit {rtol:.0e}")
    print(f"   parity {label}: worst relative difference {worst:.2e}")
    return worst


def remove_scratch(out_dir: str) -> None:
    for entry in os.listdir(out_dir):
        if entry.startswith(".export-"):
            shutil.rmtree(os.path.join(out_dir, entry), ignore_errors=True)
