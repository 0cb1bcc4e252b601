#!/usr/bin/env python3
"""End-to-end proof against the official code, GPT stage (outside CI; issue 12 item 6, first part).

What it does, with random weights and no download:
1. builds the official `UnifiedVoice` (index-tts `indextts/gpt/model_v2.py`, imported from --official, a checkout at
   the pinned commit) from the release config.yaml, optionally narrowed (--dims small) so it runs on a CPU, and saves
   it in the official checkpoint layout: <work>/checkpoints/{config.yaml, gpt.pth, bpe.model};
2. loads it back through the exporter's own loader (`official.Official.gpt`: `UnifiedVoice(**cfg.gpt)` +
   `load_checkpoint`) and runs the exporter's GPT stage on it (`gpt_export.check_against_official`, then
   `export_gpt` with onnxruntime parity): <work>/model/gpt_{conditioning,prefill,decode}.onnx;
3. encodes --text with the node's own front end (`npm run text -- --bpe`), and decodes greedily (repetition
   penalty 10) with
   a. the exported ONNX graphs driven as the node drives them (code c_k at mel position k; the penalty over the
      generated codes only),
   b. the official inference path, `UnifiedVoice.inference_speech` (HF `generate` in index-tts's vendored
      GenerationMixin; do_sample=False, num_beams=1, repetition_penalty=10),
   and prints both code sequences, where they first differ, and why when the cause is known.

With --s2mel it also builds random official s2mel (`MyModel`) and semantic codec (`RepCodec`) weights in the official
layout and runs the exporter's s2mel stage on them (latent_projector, length_regulator, dit_step).

What it does not do yet (issue 12 item 6, rest): the vocoder and voice stages with random official weights, the node
started on the result, and audio compared with the official `infer`.

Environment: a scratch venv with torch, transformers, onnx, onnxruntime, numpy, pyyaml from the machine's local
wheels. index-tts pins transformers 4.52.1; with the 5.x wheels found here its vendored generation code does not
import, so --compat-shims stubs the ~30 names 5.x dropped (classes used only by beam search, TF/Flax, pruning and
deepspeed paths) and provides yaml-based `omegaconf`/`munch` stand-ins when those packages are missing. The shims
are printed; a run with the pinned versions should not need them.

    python3 -m venv /tmp/e2e && /tmp/e2e/bin/pip install --index-url file:///opt/pypi/simple \\
        --find-links /opt/wheels torch transformers onnx onnxruntime numpy pyyaml
    git clone https://github.com/index-tts/index-tts /tmp/index-tts && git -C /tmp/index-tts checkout 72c09ec
    /tmp/e2e/bin/python gpu-node/export/e2e_official.py --official /tmp/index-tts --bpe checkpoints/bpe.model \\
        --work /tmp/e2e-work --dims small --compat-shims
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PINNED_COMMIT = "72c09ec0b7c0d74c4c89862c8037d9fa9f6fca0c"  # "Indextts2 (#276)", the IndexTTS2 release
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# --dims small: the release architecture with a narrow GPT, so the proof runs on a 2-core CPU in minutes. Token ids,
# vocabulary sizes, tables and the conditioning modules stay as released.
SMALL_GPT = {"model_dim": 256, "layers": 2, "heads": 4}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official", required=True, help=f"index-tts checkout (pinned: {PINNED_COMMIT[:7]})")
    p.add_argument("--bpe", required=True, help="IndexTTS2's bpe.model (sha256 b2a5ce80...) or another SentencePiece model")
    p.add_argument("--work", required=True, help="scratch folder: checkpoints/ and model/ are written here")
    p.add_argument("--dims", choices=("small", "release"), default="small")
    p.add_argument("--text", default="欢迎使用IndexTTS2语音合成服务，支持情感调节和多音色选择。")
    p.add_argument("--max-codes", type=int, default=40)
    p.add_argument("--seed", type=int, default=20250908)
    p.add_argument("--compat-shims", action="store_true", help="stub what transformers 5.x dropped (see above)")
    p.add_argument("--s2mel", action="store_true", help="also build random official s2mel + semantic codec weights "
                   "and run the exporter's s2mel stage on them (latent_projector, length_regulator, dit_step)")
    return p.parse_args()


MISSING_FIELDS: set[str] = set()


class AttrDict(dict):
    """What the official code reads from OmegaConf/Munch configs: a dict with attribute access, recursively."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for k, v in self.items():
            self[k] = AttrDict.wrap(v)

    @staticmethod
    def wrap(v):
        if isinstance(v, dict) and not isinstance(v, AttrDict):
            return AttrDict(v)
        if isinstance(v, list):
            return [AttrDict.wrap(x) for x in v]
        return v

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e

    def __setattr__(self, name, value):
        self[name] = value


def install_shims() -> list[str]:
    """Stand-ins for packages and names missing here; returns what was stubbed (printed, never silent)."""
    import yaml

    stubbed: list[str] = []
    try:
        import omegaconf  # noqa: F401
    except ImportError:
        mod = types.ModuleType("omegaconf")

        class OmegaConf:
            @staticmethod
            def load(path):
                with open(path, encoding="utf-8") as f:
                    return AttrDict(yaml.safe_load(f))

            @staticmethod
            def to_container(cfg, resolve=True):
                return json.loads(json.dumps(cfg))

        mod.OmegaConf, mod.DictConfig = OmegaConf, AttrDict
        sys.modules["omegaconf"] = mod
        stubbed.append("module omegaconf (yaml + AttrDict)")
    try:
        import munch  # noqa: F401
    except ImportError:
        mod = types.ModuleType("munch")
        mod.Munch = AttrDict
        sys.modules["munch"] = mod
        stubbed.append("module munch (AttrDict)")

    # Methods 4.52's PretrainedConfig had and the vendored generate calls. GPT2Config sets no generation parameter
    # beyond its defaults, so the 4.52 answer is an empty dict.
    from transformers import PretrainedConfig

    import torch
    import transformers.pytorch_utils as pytorch_utils

    if not hasattr(pytorch_utils, "isin_mps_friendly"):  # 4.52: torch.isin, with an MPS work-around
        pytorch_utils.isin_mps_friendly = lambda elements, test_elements: torch.isin(elements, test_elements)
        stubbed.append("transformers.pytorch_utils.isin_mps_friendly -> torch.isin")
    if not hasattr(PretrainedConfig, "_get_non_default_generation_parameters"):
        PretrainedConfig._get_non_default_generation_parameters = lambda self: {}
        stubbed.append("PretrainedConfig._get_non_default_generation_parameters -> {}")

    # GenerationConfig fields 5.x dropped, read by the vendored generate: their 4.52 defaults; any other missing
    # field still raises. Which ones were read is reported at the end of the run.
    from transformers import GenerationConfig

    defaults_452 = {"forced_decoder_ids": None, "num_beam_groups": 1, "diversity_penalty": 0.0, "constraints": None,
                    "force_words_ids": None, "low_memory": None, "return_legacy_cache": True, "typical_p": 1.0,
                    "epsilon_cutoff": 0.0, "eta_cutoff": 0.0, "encoder_repetition_penalty": 1.0,
                    "no_repeat_ngram_size": 0, "encoder_no_repeat_ngram_size": 0, "renormalize_logits": False,
                    "remove_invalid_values": False, "token_healing": False, "penalty_alpha": None,
                    "dola_layers": None, "sequence_bias": None, "guidance_scale": None, "watermarking_config": None}

    def missing_field(self, name):
        if name not in defaults_452:
            raise AttributeError(name)
        MISSING_FIELDS.add(name)
        return defaults_452[name]

    if not hasattr(GenerationConfig, "__getattr__"):
        GenerationConfig.__getattr__ = missing_field
        stubbed.append("GenerationConfig: 4.52 defaults for dropped fields")

    sys.path.insert(0, os.path.abspath(ARGS.official))
    if ARGS.s2mel:
        try:
            import audiotools  # noqa: F401
        except ImportError:
            # indextts/s2mel/dac/__init__.py registers itself with descript-audiotools' model packager at import
            # time; nothing on the inference path uses audiotools.
            mod = types.ModuleType("audiotools")
            mod.__path__ = []
            mod.ml = types.ModuleType("audiotools.ml")
            mod.ml.BaseModel = type("BaseModel", (), {"INTERN": [], "EXTERN": []})
            sys.modules["audiotools.ml"] = mod.ml
            # any other name (AudioSignal, ml.Accelerator, ...) is an inert class: only DAC's training tools use them
            def inert(name):
                if name.startswith("_"):
                    raise AttributeError(name)
                return type(name, (), {})

            mod.__getattr__ = mod.ml.__getattr__ = inert
            sys.modules["audiotools"] = mod
            stubbed.append("module audiotools (packager registry only)")
    if ARGS.s2mel:
        try:
            import argbind  # noqa: F401
        except ImportError:  # dac/utils decorates its CLI download helper with argbind.bind
            mod = types.ModuleType("argbind")
            mod.bind = lambda *a, **k: (lambda f: f)
            sys.modules["argbind"] = mod
            stubbed.append("module argbind (bind = identity decorator)")
    targets = ["indextts.gpt.model_v2"]
    if ARGS.s2mel:  # RepCodec's module imports torchaudio's mel helpers at import time (unused by the codec)
        targets += ["indextts.utils.maskgct.models.codec.kmeans.repcodec_model", "indextts.s2mel.modules.commons",
                    "indextts.s2mel.modules.length_regulator", "indextts.s2mel.modules.flow_matching"]
    for _ in range(100):
        try:
            for target in targets:
                importlib.import_module(target)
            if ARGS.s2mel:
                # maskgct_utils also imports MaskGCT's S2A model, whose LlamaConfig(...) call 5.x rejects; the exporter
                # needs only its build_semantic_codec, whose whole body is `RepCodec(cfg=cfg)` in eval mode.
                repcodec = importlib.import_module("indextts.utils.maskgct.models.codec.kmeans.repcodec_model")
                utils = types.ModuleType("indextts.utils.maskgct_utils")
                utils.build_semantic_codec = lambda cfg: repcodec.RepCodec(cfg=cfg).eval()
                sys.modules["indextts.utils.maskgct_utils"] = utils
                stubbed.append("indextts.utils.maskgct_utils -> build_semantic_codec only (RepCodec(cfg).eval())")
            return stubbed
        except ImportError as e:
            msg = str(e)
            name = re.search(r"cannot import name '(\w+)' from '([\w.]+)'", msg)
            module = re.search(r"No module named '([\w.]+)'", msg)
            if name:
                setattr(importlib.import_module(name.group(2)), name.group(1), type(name.group(1), (), {}))
                stubbed.append(f"{name.group(2)}.{name.group(1)}")
            elif module:
                parts = module.group(1).split(".")
                for i in range(1, len(parts) + 1):  # packages all the way down, so submodules import
                    name_i = ".".join(parts[:i])
                    if name_i not in sys.modules:
                        sys.modules[name_i] = types.ModuleType(name_i)
                        sys.modules[name_i].__path__ = []
                        if i > 1:
                            setattr(sys.modules[".".join(parts[: i - 1])], parts[i - 1], sys.modules[name_i])
                stubbed.append(f"module {module.group(1)}")
            else:
                raise
            for k in [k for k in sys.modules if k.startswith("indextts")]:
                del sys.modules[k]
    raise SystemExit(f"could not import {targets} with shims")


def build_checkpoints(args, ckpt: str) -> None:
    import torch
    import yaml

    with open(os.path.join(args.official, "checkpoints", "config.yaml"), encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    if args.dims == "small":
        cfg["gpt"].update(SMALL_GPT)
    os.makedirs(ckpt, exist_ok=True)
    with open(os.path.join(ckpt, "config.yaml"), "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, allow_unicode=True, sort_keys=False)
    shutil.copyfile(args.bpe, os.path.join(ckpt, cfg["dataset"]["bpe_model"]))
    from indextts.gpt.model_v2 import UnifiedVoice

    torch.manual_seed(args.seed)
    gpt = UnifiedVoice(**cfg["gpt"])
    torch.save({"model": gpt.state_dict()}, os.path.join(ckpt, cfg["gpt_checkpoint"]))
    n = sum(p.numel() for p in gpt.parameters())
    print(f">> random official UnifiedVoice ({n / 1e6:.1f} M parameters, {args.dims} dims) -> {ckpt}")


def export_s2mel_stage(args, ckpt: str, model: str) -> None:
    """Random official s2mel (`MyModel`, as s2mel.pth) and MaskGCT semantic codec (`RepCodec`, safetensors), loaded
    back and exported by the exporter's own s2mel stage."""
    import safetensors.torch
    import torch
    import yaml
    from indextts.s2mel.modules.commons import MyModel
    from indextts.utils.maskgct_utils import build_semantic_codec

    from official import AuxPaths, Official
    from onnx_io import ExportOptions
    from s2mel_export import export_s2mel

    with open(os.path.join(ckpt, "config.yaml"), encoding="utf-8") as f:
        cfg = AttrDict(yaml.safe_load(f))
    torch.manual_seed(args.seed + 1)
    s2mel = MyModel(cfg.s2mel, use_gpt_latent=True)
    torch.save({"net": {k: m.state_dict() for k, m in s2mel.models.items()}}, os.path.join(ckpt, cfg.s2mel_checkpoint))
    codec_path = os.path.join(ckpt, "semantic_codec_model.safetensors")
    safetensors.torch.save_model(build_semantic_codec(cfg.semantic_codec), codec_path)
    print(f">> random official s2mel ({sum(p.numel() for p in s2mel.parameters()) / 1e6:.1f} M parameters) and "
          f"semantic codec -> {ckpt}")
    off = Official(checkpoints=ckpt, device="cpu", aux=AuxPaths(semantic_codec=codec_path))
    off.prepare_for_export()
    print(">> exporter: export_s2mel")
    export_s2mel(off.s2mel, off.semantic_codec, int(cfg.semantic_codec.codebook_size), ExportOptions(out_dir=model),
                 torch.device("cpu"))


def node_text_ids(bpe: str, text: str) -> list[int]:
    """The node's own front end: the ids `npm run text` prints for the text (all segments joined)."""
    out = subprocess.run(["npm", "run", "--silent", "text", "--", "--bpe", bpe], input=text + "\n", text=True,
                         capture_output=True, check=True, cwd=REPO).stdout
    line = json.loads(out.splitlines()[0])
    print(f">> node front end: {line['normalized']!r}")
    return [i for s in line["segments"] for i in s["ids"]]


def penalize(logits, seen):
    """HF RepetitionPenaltyLogitsProcessor(10) over `seen`."""
    logits = logits.copy()
    for c in set(seen):
        logits[c] = logits[c] / 10.0 if logits[c] > 0 else logits[c] * 10.0
    return logits


def main() -> int:
    args = ARGS
    work = os.path.abspath(args.work)
    ckpt, model = os.path.join(work, "checkpoints"), os.path.join(work, "model")
    if args.compat_shims:
        stubbed = install_shims()
        print(f">> compatibility shims ({len(stubbed)}): {', '.join(stubbed)}")
    else:
        sys.path.insert(0, os.path.abspath(args.official))

    import numpy as np
    import torch

    from gpt_export import check_against_official, export_gpt
    from official import Official
    from onnx_io import ExportOptions, ort_session, strict_fp32

    torch.set_grad_enabled(False)
    strict_fp32()
    device = torch.device("cpu")
    build_checkpoints(args, ckpt)
    gpt = Official(checkpoints=ckpt, device="cpu").gpt
    print(">> exporter: check_against_official + export_gpt")
    check_against_official(gpt, device)
    os.makedirs(model, exist_ok=True)
    export_gpt(gpt, ExportOptions(out_dir=model), device)

    if args.s2mel:
        export_s2mel_stage(args, ckpt, model)

    ids = node_text_ids(args.bpe, args.text)
    text = torch.tensor([[gpt.start_text_token, *ids, gpt.stop_text_token]])
    gen = torch.Generator().manual_seed(args.seed)
    # (1, frames, 1024): stands in for the w2v-BERT features of a reference clip (infer_v2.py's spk_cond_emb)
    spk = torch.randn(1, 120, 1024, generator=gen)
    lengths = torch.tensor([spk.shape[1]])
    speaker_latent = gpt.get_conditioning(spk.transpose(1, 2), lengths)
    emo_vec = gpt.merge_emovec(spk, spk, lengths, lengths, alpha=1.0)

    # a. the exported graphs, driven like the node; c. the same graphs with the official generate's two habits
    sess = {n: ort_session(os.path.join(model, f"{n}.onnx")) for n in ("gpt_conditioning", "gpt_prefill", "gpt_decode")}
    cond = sess["gpt_conditioning"].run(None, {"speaker_latent": speaker_latent.numpy(), "emo_vec": emo_vec.numpy()})[0]

    def onnx_greedy(pos_offset: int, prompt_ids: list[int]) -> list[int]:
        """Greedy decode over the exported graphs: c_k at mel position k + pos_offset; the repetition penalty over
        prompt_ids + the generated codes."""
        out = sess["gpt_prefill"].run(None, {"cond_prefix": cond, "text_ids": text.numpy()})
        past, codes = out[2:], []
        code = int(np.argmax(penalize(out[0][0], prompt_ids)))
        while code != gpt.stop_mel_token and len(codes) < args.max_codes:
            codes.append(code)
            feeds = {"mel_ids": np.array([[code]], np.int64),
                     "mel_pos": np.array([len(codes) + pos_offset], np.int64),
                     "attention_mask": np.ones((1, past[0].shape[2] + 1), np.int64)}
            feeds.update({f"past_{k}_{i}": past[2 * i + j] for i in range(gpt.layers)
                          for j, k in enumerate(("key", "value"))})
            out = sess["gpt_decode"].run(None, feeds)
            past = [np.concatenate([p, new], axis=2) for p, new in zip(past, out[2:])]
            code = int(np.argmax(penalize(out[0][0], prompt_ids + codes)))
        return codes

    onnx_codes = onnx_greedy(0, [])
    # prepare_gpt_inputs: generate's input_ids are 1 for every prompt position, then start_mel
    onnx_official_style = onnx_greedy(1, [1, gpt.start_mel_token])

    # b. the official inference path
    gpt.post_init_gpt2_config(use_deepspeed=False, kv_cache=True, half=False)
    try:
        official, _ = gpt.inference_speech(spk, text, spk, cond_lengths=lengths, emo_cond_lengths=lengths,
                                           emo_vec=emo_vec, do_sample=False, num_beams=1, repetition_penalty=10.0,
                                           num_return_sequences=1, max_generate_length=args.max_codes)
        official_codes = [int(c) for c in official[0] if int(c) != gpt.stop_mel_token]
    except Exception as e:  # report, do not hide: this is where transformers 5.x and the vendored code part ways
        print(f"!! official inference_speech failed: {type(e).__name__}: {e}")
        print(f"   GenerationConfig fields read that 5.x lacks: {sorted(MISSING_FIELDS)}")
        print(f"   node-style ONNX codes ({len(onnx_codes)}): {onnx_codes}")
        print(f"   position k+1 + prompt penalty ({len(onnx_official_style)}): {onnx_official_style}")
        return 2

    if MISSING_FIELDS:
        print(f">> GenerationConfig fields read that 5.x lacks (4.52 defaults used): {sorted(MISSING_FIELDS)}")
    print(f">> ONNX, node-style ({len(onnx_codes)}): {onnx_codes}")
    print(f">> official generate ({len(official_codes)}): {official_codes}")
    print(f">> ONNX, mel position k+1 and penalty over the prompt ids too ({len(onnx_official_style)}): "
          f"{onnx_official_style}")

    def first_difference(a: list[int], b: list[int]) -> str:
        if a == b:
            return "identical"
        i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return f"differ from index {i}"

    print(f"== node-style ONNX vs official generate: {first_difference(onnx_codes, official_codes)}")
    print(f"== ONNX with position k+1 only vs official generate: "
          f"{first_difference(onnx_greedy(1, []), official_codes)}")
    print(f"== ONNX with the prompt penalty only vs official generate: "
          f"{first_difference(onnx_greedy(0, [1, gpt.start_mel_token]), official_codes)}")
    print(f"== ONNX with position k+1 + prompt penalty vs official generate: "
          f"{first_difference(onnx_official_style, official_codes)}")
    return 0 if onnx_codes == official_codes else 1


if __name__ == "__main__":
    ARGS = parse_args()
    sys.exit(main())
