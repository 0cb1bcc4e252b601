"""e2e_official.py, part 1: the environment and the random official checkpoints.

- `install_shims`: stand-ins for what this machine lacks (omegaconf, munch, the names transformers 5.x dropped,
  audiotools/argbind, and with --audio the modules infer_v2.py imports but the cached-voice path never calls:
  torchaudio, modelscope, ...). Every one is returned, and printed by the caller.
- `build_checkpoints`: a random official `UnifiedVoice` in the official layout (config.yaml, gpt.pth, bpe.model).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PINNED_COMMIT = "72c09ec0b7c0d74c4c89862c8037d9fa9f6fca0c"  # "Indextts2 (#276)", the IndexTTS2 release
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# --dims small: the release architecture with a shallow GPT, so the proof runs on a 2-core CPU in minutes. Token ids,
# vocabulary sizes, tables, the conditioning modules and the width stay as released: the s2mel's gpt_layer takes
# Linear(1280, ...) (hard-coded in commons.MyModel), so a narrower GPT would not fit the rest of the pipeline.
SMALL_GPT = {"model_dim": 1280, "layers": 2, "heads": 20}


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


def install_shims(args) -> list[str]:
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

    sys.path.insert(0, os.path.abspath(args.official))
    if args.s2mel:
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
    if args.s2mel:
        try:
            import argbind  # noqa: F401
        except ImportError:  # dac/utils decorates its CLI download helper with argbind.bind
            mod = types.ModuleType("argbind")
            mod.bind = lambda *a, **k: (lambda f: f)
            sys.modules["argbind"] = mod
            stubbed.append("module argbind (bind = identity decorator)")
    targets = ["indextts.gpt.model_v2"]
    if args.s2mel:  # RepCodec's module imports torchaudio's mel helpers at import time (unused by the codec)
        targets += ["indextts.utils.maskgct.models.codec.kmeans.repcodec_model", "indextts.s2mel.modules.commons",
                    "indextts.s2mel.modules.length_regulator", "indextts.s2mel.modules.flow_matching"]
    # --audio: IndexTTS2.infer itself. Its module imports what only __init__ and the uncached voice path use
    # (torchaudio, modelscope's Qwen emotion model, w2v-BERT's builder); the e2e run never reaches those calls.
    late = ["indextts.infer_v2"] if getattr(args, "audio", False) else []
    for _ in range(100):
        try:
            for target in targets:
                importlib.import_module(target)
            if args.s2mel:
                # maskgct_utils also imports MaskGCT's S2A model, whose LlamaConfig(...) call 5.x rejects; the exporter
                # needs only its build_semantic_codec, whose whole body is `RepCodec(cfg=cfg)` in eval mode.
                repcodec = importlib.import_module("indextts.utils.maskgct.models.codec.kmeans.repcodec_model")
                utils = types.ModuleType("indextts.utils.maskgct_utils")
                utils.build_semantic_codec = lambda cfg: repcodec.RepCodec(cfg=cfg).eval()

                def no_semantic_model(*a, **k):
                    raise RuntimeError("stand-in: w2v-BERT is not built by the e2e run (its features are `spk`)")

                utils.build_semantic_model = no_semantic_model
                sys.modules["indextts.utils.maskgct_utils"] = utils
                label = ("indextts.utils.maskgct_utils -> build_semantic_codec only (RepCodec(cfg).eval()); "
                         "build_semantic_model raises")
                if label not in stubbed:
                    stubbed.append(label)
            for target in late:
                importlib.import_module(target)
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




def build_checkpoints(args, ckpt: str, texts_ids: list[list[int]]) -> float:
    """A random official UnifiedVoice, saved as the release layout. Returns the stop-token bias it was given."""
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
    bias = 0.0
    if args.stop_bias:
        bias = calibrate_stop_bias(gpt, texts_ids, args.max_codes, args.seed)
        with torch.no_grad():
            gpt.mel_head.bias[gpt.stop_mel_token] += bias
    torch.save({"model": gpt.state_dict()}, os.path.join(ckpt, cfg["gpt_checkpoint"]))
    n = sum(p.numel() for p in gpt.parameters())
    print(f">> random official UnifiedVoice ({n / 1e6:.1f} M parameters, {args.dims} dims) -> {ckpt}")
    return bias


def calibrate_stop_bias(gpt, texts_ids: list[list[int]], max_codes: int, seed: int, earliest: int = 8) -> float:
    """A random GPT never picks `stop_mel`, and the official infer cannot finish a segment that runs to
    `max_mel_tokens` (infer_v2.py then appends its code length twice, and s2mel gets a batch of 2). So the random
    model gets one more random-weight choice: `mel_head.bias[stop_mel]` raised just enough that greedy decoding
    (IndexTTS2's generate layout: code k at mel position k + 1, penalty 10 over the prompt ids and the codes) stops
    within `max_codes` on every text, and not before `earliest` codes. Adding to the stop logit changes no other
    choice, so the margins of one unbiased decode per text decide it. Printed, labelled RANDOM."""
    import torch

    from gpt_export import GptConditioning, GptDecode, GptPrefill

    gpt = gpt.eval()
    cond_m, prefill, decode = GptConditioning(gpt), GptPrefill(gpt), GptDecode(gpt)
    gen = torch.Generator().manual_seed(seed)
    spk = torch.randn(1, 120, 1024, generator=gen)  # the same stand-in features main() draws
    lengths = torch.tensor([spk.shape[1]])
    with torch.no_grad():
        cond = cond_m(gpt.get_conditioning(spk.transpose(1, 2), lengths),
                      gpt.merge_emovec(spk, spk, lengths, lengths, alpha=1.0))
        margins = []
        for ids in texts_ids:
            text = torch.tensor([[gpt.start_text_token, *ids, gpt.stop_text_token]])
            out = prefill(cond, text)
            past, codes, row = list(out[2:]), [], []
            logits = out[0][0]
            while True:
                seen = torch.tensor(sorted({1, gpt.start_mel_token, *codes}))
                pen = logits.clone()
                pen[seen] = torch.where(pen[seen] > 0, pen[seen] / 10.0, pen[seen] * 10.0)
                others = pen.clone()
                others[gpt.stop_mel_token] = -float("inf")
                row.append(float(pen[gpt.stop_mel_token] - others.max()))
                if len(codes) == max_codes:
                    break
                codes.append(int(others.argmax()))
                mask = torch.ones(1, past[0].shape[2] + 1, dtype=torch.long)
                out = decode(torch.tensor([[codes[-1]]]), torch.tensor([len(codes) + 1]), mask, *past)
                past = [torch.cat([p, n], dim=2) for p, n in zip(past, out[2:])]
                logits = out[0][0]
            margins.append(row)
    for lo in range(earliest, 0, -1):
        # stop must not win before `lo` codes on any text, and must win somewhere in lo..max_codes-1 on every text
        ceiling = min(-max(m[:lo]) for m in margins)
        needed = max(-max(m[lo:max_codes]) for m in margins)
        if needed < ceiling:
            bias = needed + min(1e-3, (ceiling - needed) / 2)
            stops = [next(k for k, v in enumerate(m) if v + bias > 0) for m in margins]
            print(f">> RANDOM weights: mel_head.bias[stop_mel] += {bias:.4f}, so the random GPT stops (greedy) after "
                  f"{stops} codes; without it, it never stops and the official infer fails at max_mel_tokens")
            return bias
    raise SystemExit("no stop bias stops every text within --max-codes; try other --texts or --max-codes")
