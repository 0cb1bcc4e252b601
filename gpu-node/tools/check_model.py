#!/usr/bin/python3
"""Check a model directory against gpu-node/MODEL.md.

    /usr/bin/python3 gpu-node/tools/check_model.py gpu-node/models/tiny [--skip-gpt] [--dump DIR]

1. every graph passes onnx.checker, uses opset 17, and has exactly the contract's input/output names (in order),
   dtypes and dims (fixed dims equal the manifest's sizes, dynamic dims are symbolic);
2. voices/emotions safetensors and bpe.model match the manifest;
3. the graphs' weights are loaded back into the torch modules (by initializer name), and those modules are
   checked for batch invariance (a row in a padded batch == the row alone, within --tol) for dit_step (x_lens),
   vocoder (mel_lens) and latent_projector, and for gpt_decode over host-held caches (within --decode-tol: rows
   share caches of one capacity, history in packed and in scattered layouts with finite garbage in the masked
   slots, new_key/new_value appended in place after every step; logits, hidden and new_* == the row alone), plus
   KV-cache correctness of prefill/decode (host-appended new_*) against a teacher-forced pass.
onnxruntime is not available to Python here; --dump writes batch-2 reference inputs/outputs per graph (JSON,
base64 little-endian data) so a Node script can check the ONNX graphs against torch.
"""

import argparse
import base64
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

from indextts2_arch import graphs, invariance  # noqa: E402
from indextts2_arch.configs import config_for  # noqa: E402
from indextts2_arch.gpt import GptConditioning, GptDecode, GptLatent, GptPrefill, UnifiedVoice  # noqa: E402
from indextts2_arch.onnx_io import OPSET, load_into_module  # noqa: E402
from indextts2_arch.safetensors_io import read_safetensors  # noqa: E402

ONNX_DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}


class Report:
    def __init__(self):
        self.failures = 0

    def check(self, ok, label, detail=""):
        print(f"  {'PASS' if ok else 'FAIL'}  {label}{'  ' + detail if detail else ''}", flush=True)
        self.failures += 0 if ok else 1

    def within(self, label, diff, tol):
        self.check(diff <= tol, label, f"max |diff| = {diff:.3g}")


def load_config(model_dir, manifest):
    cfg = manifest.get("architecture") or config_for(manifest["size"])
    cfg["gpt"].setdefault("number_text_tokens", manifest["gpt"]["number_text_tokens"])
    for key in ("model_dim", "layers", "heads", "number_text_tokens", "number_mel_codes"):
        if cfg["gpt"][key] != manifest["gpt"][key]:
            raise SystemExit(f"{model_dir}: architecture.gpt.{key} disagrees with manifest.gpt.{key}")
    return cfg


def check_graph_io(rep, path, name, cfg):
    onnx.checker.check_model(path)
    model = onnx.load(path, load_external_data=False)
    opset = {o.domain: o.version for o in model.opset_import}.get("", None)
    rep.check(opset == OPSET, f"{name}: onnx.checker OK, opset {opset}")
    spec = graphs.contract(name, cfg)
    want_in = [t for t, direction, _, _ in spec if direction == "in"]
    want_out = [t for t, direction, _, _ in spec if direction == "out"]
    got_in, got_out = [v.name for v in model.graph.input], [v.name for v in model.graph.output]
    rep.check(got_in == want_in, f"{name}: input names", "" if got_in == want_in else f"got {got_in}")
    rep.check(got_out == want_out, f"{name}: output names", "" if got_out == want_out else f"got {got_out}")
    values = {v.name: v for v in list(model.graph.input) + list(model.graph.output)}
    expected_dims = graphs.io_dims(name, cfg)
    bad = []
    for tensor, _, _, dtype in spec:
        v = values.get(tensor)
        if v is None:
            continue
        tt = v.type.tensor_type
        got_dtype = ONNX_DTYPES.get(tt.elem_type, str(tt.elem_type))
        got_dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tt.shape.dim]
        if got_dtype != dtype or got_dims != expected_dims[tensor]:
            bad.append(f"{tensor}: {got_dtype}{got_dims} != {dtype}{expected_dims[tensor]}")
    rep.check(not bad, f"{name}: dtypes and shapes match the contract ({len(spec)} tensors)", "; ".join(bad))


def check_assets(rep, model_dir, manifest, cfg):
    d, y, c = cfg["gpt"]["model_dim"], cfg["s2mel"]["style_dim"], cfg["s2mel"]["content_dim"]
    voices = read_safetensors(os.path.join(model_dir, manifest["files"]["voices"]))
    problems = []
    for v in manifest["voices"]:
        k, t = v["id"], v["ref_frames"]
        want = {"speaker_latent": (32, d), "emo_vec": (d,), "style": (y,), "prompt_condition": (t, c), "ref_mel": (80, t)}
        for key, shape in want.items():
            arr = voices.get(f"voice.{k}.{key}")
            if arr is None or tuple(arr.shape) != shape or not np.isfinite(arr).all():
                problems.append(f"voice.{k}.{key}: {None if arr is None else arr.shape} != {shape}")
    extra = set(voices) - {f"voice.{v['id']}.{k}" for v in manifest["voices"]
                           for k in ("speaker_latent", "emo_vec", "style", "prompt_condition", "ref_mel")}
    rep.check(not problems and not extra, f"voices.safetensors: {len(manifest['voices'])} voices match MODEL.md",
              "; ".join(problems + sorted(extra)))
    mel_range = [(float(voices[f"voice.{v['id']}.ref_mel"].min()), float(voices[f"voice.{v['id']}.ref_mel"].max()))
                 for v in manifest["voices"] if f"voice.{v['id']}.ref_mel" in voices]
    rep.check(all(-12.0 <= lo and hi <= 3.0 for lo, hi in mel_range), "voices: ref_mel in log-mel range", str(mel_range[:2]))
    emo = read_safetensors(os.path.join(model_dir, manifest["files"]["emotions"]))
    rows = sum(manifest["emotion"]["emo_num"])
    ok = (rows == 73 and set(emo) == {"spk_matrix", "emo_matrix"} and emo["spk_matrix"].shape == (rows, y)
          and emo["emo_matrix"].shape == (rows, d))
    rep.check(ok, f"emotions.safetensors: spk_matrix ({rows},{y}), emo_matrix ({rows},{d})")
    try:
        import sentencepiece as spm
    except ImportError:
        rep.check(True, "bpe.model: sentencepiece module missing, skipped")
        return
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, manifest["files"]["bpe"]))
    g = manifest["gpt"]
    ok = (sp.get_piece_size() == g["number_text_tokens"] and sp.id_to_piece(g["start_text_token"]) == "<s>"
          and sp.id_to_piece(g["stop_text_token"]) == "</s>" and sp.unk_id() == 2)
    rep.check(ok, f"bpe.model: {sp.get_piece_size()} pieces, 0=<s> 1=</s> 2=<unk>")


def encode(t):
    arr = t.detach().numpy()
    dtype = {np.dtype("float32"): "float32", np.dtype("int64"): "int64"}[arr.dtype]
    return {"dtype": dtype, "dims": list(arr.shape), "data": base64.b64encode(arr.astype("<" + arr.dtype.str[1:]).tobytes()).decode()}


def dump_reference(out_dir, name, module, cfg):
    args = graphs.example_inputs(name, cfg, batch=2, gen=torch.Generator().manual_seed(99), alt=True)
    with torch.no_grad():
        outs = module(*args)
    outs = outs if isinstance(outs, tuple) else (outs,)
    ins_names, out_names = graphs.io_names(name, cfg)
    doc = {"graph": name, "inputs": {n: encode(t) for n, t in zip(ins_names, args)},
           "outputs": {n: encode(t) for n, t in zip(out_names, outs)}}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(doc, f)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--decode-tol", type=float, default=1e-5,
                    help="tolerance of the gpt_decode batched-caches == alone checks")
    ap.add_argument("--skip-gpt", action="store_true", help="skip the torch GPT checks (memory/time on `full`)")
    ap.add_argument("--dump", metavar="DIR", help="write batch-2 torch reference I/O per graph for a Node check")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with open(os.path.join(args.model_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    cfg = load_config(args.model_dir, manifest)
    path = lambda name: os.path.join(args.model_dir, manifest["files"][name])  # noqa: E731
    rep = Report()
    t0 = time.time()
    print(f"{args.model_dir}: {manifest['name']} (size {manifest['size']})")

    print("graphs vs MODEL.md contract:")
    for name in graphs.GRAPHS:
        check_graph_io(rep, path(name), name, cfg)
    print("assets:")
    check_assets(rep, args.model_dir, manifest, cfg)

    print(f"torch modules with the graphs' weights (tolerance {args.tol:g}, gpt_decode batch {args.decode_tol:g}):")
    gen = torch.Generator().manual_seed(7)
    mods = {}
    with torch.no_grad():
        for name, ctor in (("latent_projector", graphs.LatentProjector), ("length_regulator", graphs.LengthRegulator),
                           ("dit_step", graphs.DiT), ("vocoder", graphs.BigVGAN)):
            mods[name] = ctor(cfg).eval()
            loaded, missing, unknown = load_into_module(mods[name], [path(name)])
            rep.check(not unknown and not missing, f"{name}: {len(loaded)} tensors loaded, every parameter present",
                      f"missing {missing[:5]}, unknown {unknown[:5]}" if missing or unknown else "")
        for label, diff in invariance.projector_checks(mods["latent_projector"], cfg, gen):
            rep.within(label, diff, args.tol)
        for label, diff in invariance.length_regulator_checks(mods["length_regulator"], cfg, gen):
            rep.within(label, diff, args.tol)
        for label, diff in invariance.dit_checks(mods["dit_step"], cfg, gen):
            rep.within(label, diff, args.tol)
        for label, diff in invariance.vocoder_checks(mods["vocoder"], cfg, gen):
            rep.within(label, diff, args.tol)
        if not args.skip_gpt:
            uv = UnifiedVoice(cfg).eval()
            cond, prefill, decode = GptConditioning(uv), GptPrefill(uv), GptDecode(uv)
            # The three graphs share UnifiedVoice's tensors (named uv.*; prefill adds start_mel_embedding): load
            # their union into one module tree; a tensor two graphs disagree on is an error.
            # gpt_latent carries the same tensors again: load_into_module raises if it disagrees with the others
            gpt_paths = [path("gpt_conditioning"), path("gpt_prefill"), path("gpt_decode"), path("gpt_latent")]
            loaded, missing, unknown = load_into_module(prefill, gpt_paths)
            rep.check(not unknown and not missing, f"gpt_*: {len(loaded)} tensors loaded from 4 graphs, shared ones identical",
                      f"missing {missing[:5]}, unknown {unknown[:5]}" if missing or unknown else "")
            for label, diff in invariance.gpt_checks(cond, prefill, decode, uv, cfg, gen):
                rep.within(label, diff, args.decode_tol if label.startswith("gpt_decode batch") else args.tol)
            import onnxruntime

            latent = GptLatent(uv)
            session = onnxruntime.InferenceSession(path("gpt_latent"), providers=["CPUExecutionProvider"])
            for label, diff in invariance.latent_checks(cond, latent, uv, cfg, gen, session):
                rep.within(label, diff, args.tol)
            mods.update(gpt_conditioning=cond, gpt_prefill=prefill, gpt_decode=decode, gpt_latent=latent)
    if args.dump:
        for name in graphs.GRAPHS:
            if name in mods:
                dump_reference(args.dump, name, mods[name], cfg)
        print(f"reference I/O written to {args.dump}")
    print(f"{'OK' if rep.failures == 0 else f'{rep.failures} FAILED'} in {time.time() - t0:.1f}s")
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
