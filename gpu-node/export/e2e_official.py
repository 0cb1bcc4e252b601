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
   a. the exported ONNX graphs driven with code c_k at mel position k (the training / teacher-forced layout; the
      node's loop before issue 13) and the penalty over the generated codes only, and with c_k at k + 1 and the
      penalty over generate's prompt ids too (what the node does now),
   b. the official inference path, `UnifiedVoice.inference_speech` (HF `generate` in index-tts's vendored
      GenerationMixin; do_sample=False, num_beams=1, repetition_penalty=10),
   and prints both code sequences, where they first differ, and why when the cause is known.

With --s2mel it also builds random official s2mel (`MyModel`) and semantic codec (`RepCodec`) weights in the official
layout and runs the exporter's s2mel stage on them (latent_projector, length_regulator, dit_step).

With --node (implies --s2mel) it also builds a random official BigVGAN (the release architecture), CAMPPlus and
feat1/feat2, runs the exporter's vocoder and emotions stages and its manifest, writes one voice whose audio front end
is a labelled stand-in (`stub_voice`: no w2v-BERT weights or torchaudio here; the GPT conditioning is still the
official code's), starts the node on the directory (`npm run node`, one HTTP /synthesize), and compares the node
engine's greedy codes (node_codes.ts: 1 beam, top-k 1) with the official generate's for --texts.

What it does not do (issue 12 item 6, rest): audio compared with the official `infer` (see export/README.md).

Environment: a scratch venv with torch, transformers, onnx, onnxruntime, numpy, pyyaml from the machine's local
wheels. index-tts pins transformers 4.52.1; with the 5.x wheels found here its vendored generation code does not
import, so --compat-shims stubs the ~30 names 5.x dropped (classes used only by beam search, TF/Flax, pruning and
deepspeed paths) and provides yaml-based `omegaconf`/`munch` stand-ins when those packages are missing. The shims
are printed; a run with the pinned versions should not need them.

    python3 -m venv /tmp/e2e && /tmp/e2e/bin/pip install --index-url file:///opt/pypi/simple \\
        --find-links /opt/wheels torch transformers onnx onnxruntime numpy pyyaml \\
        safetensors librosa scipy matplotlib   # the last four for --s2mel / --node
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

# --dims small: the release architecture with a shallow GPT, so the proof runs on a 2-core CPU in minutes. Token ids,
# vocabulary sizes, tables, the conditioning modules and the width stay as released: the s2mel's gpt_layer takes
# Linear(1280, ...) (hard-coded in commons.MyModel), so a narrower GPT would not fit the rest of the pipeline.
SMALL_GPT = {"model_dim": 1280, "layers": 2, "heads": 20}


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
    p.add_argument("--node", action="store_true", help="(implies --s2mel) also the vocoder, voices and emotions "
                   "stages and the manifest, then start the node on the export and compare its greedy codes with the "
                   "official generate's for --texts")
    p.add_argument("--texts", nargs="*", default=None, help="texts for --node (default: --text and three more)")
    p.add_argument("--reuse", action="store_true", help="iteration aid: keep <work>'s checkpoints and GPT/s2mel graphs "
                   "from an earlier run with the same --dims and --seed instead of rebuilding them")
    p.add_argument("--reuse-vocoder", action="store_true", help="iteration aid: keep <work>/model/vocoder.onnx (its "
                   "random BigVGAN depends on --seed only)")
    a = p.parse_args()
    a.s2mel = a.s2mel or a.node
    return a


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


# nvidia/bigvgan_v2_22khz_80band_256x config.json (cfg.vocoder.name in the release config.yaml), the fields BigVGAN
# reads, written out here because nothing can be downloaded: the release vocoder's architecture, random weights.
BIGVGAN_22K_80BAND_256X = {
    "resblock": "1", "upsample_rates": [4, 4, 2, 2, 2, 2], "upsample_kernel_sizes": [8, 8, 4, 4, 4, 4],
    "upsample_initial_channel": 1536, "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "use_tanh_at_final": False,
    "use_bias_at_final": False, "activation": "snakebeta", "snake_logscale": True, "num_mels": 80, "n_fft": 1024,
    "hop_size": 256, "win_size": 1024, "sampling_rate": 22050, "fmin": 0, "fmax": None,
}
DEFAULT_TEXTS = [
    "Hello there, this is a test of the speech service.",
    "会议将于2025年3月15日下午2点30分举行。",
    "The price is $3.50, about 25% off.",
]


def export_rest_stages(args, ckpt: str, model: str, spk) -> None:
    """--node: random official BigVGAN (local from_pretrained layout), CAMPPlus and feat1/feat2, loaded back through
    official.Official, and the exporter's vocoder, voices and emotions stages plus its manifest. The voice's front end
    is a labelled stand-in (see `stub_voice`): w2v-BERT and torchaudio are not here."""
    import torch
    import yaml
    from indextts.s2mel.modules.bigvgan.bigvgan import BigVGAN
    from indextts.s2mel.modules.bigvgan.env import AttrDict as BigVganConfig
    from indextts.s2mel.modules.campplus.DTDNN import CAMPPlus

    import manifest as mf
    from emotions import load_emotion_matrices, write_emotions
    from official import AuxPaths, Official
    from onnx_io import ExportOptions
    from vocoder_export import export_vocoder
    from voices import write_voices

    import inspect

    if ARGS.compat_shims and "proxies" in inspect.signature(BigVGAN._from_pretrained).parameters:
        # huggingface_hub 1.x (with transformers 5.x) no longer passes `proxies`/`resume_download` to the mixin's
        # _from_pretrained, whose 2024 signature requires them; the local-directory path reads neither.
        original = BigVGAN._from_pretrained.__func__

        def from_pretrained_compat(cls, *, proxies=None, resume_download=False, **kwargs):
            return original(cls, proxies=proxies, resume_download=resume_download, **kwargs)

        BigVGAN._from_pretrained = classmethod(from_pretrained_compat)
        print(">> compatibility shim: BigVGAN._from_pretrained defaults proxies=None, resume_download=False "
              "(huggingface_hub 1.x)")
    with open(os.path.join(ckpt, "config.yaml"), encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    torch.manual_seed(args.seed + 2)
    bigvgan_dir = os.path.join(ckpt, "bigvgan")
    os.makedirs(bigvgan_dir, exist_ok=True)
    with open(os.path.join(bigvgan_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(BIGVGAN_22K_80BAND_256X, f)
    vocoder = BigVGAN(BigVganConfig(BIGVGAN_22K_80BAND_256X), use_cuda_kernel=False)
    torch.save({"generator": vocoder.state_dict()}, os.path.join(bigvgan_dir, "bigvgan_generator.pt"))
    campplus_path = os.path.join(ckpt, "campplus_cn_common.bin")
    torch.save(CAMPPlus(feat_dim=80, embedding_size=192).state_dict(), campplus_path)
    rows = sum(int(n) for n in cfg["emo_num"])
    torch.save(torch.randn(rows, int(cfg["s2mel"]["style_encoder"]["dim"])), os.path.join(ckpt, cfg["spk_matrix"]))
    torch.save(torch.randn(rows, int(cfg["gpt"]["model_dim"])), os.path.join(ckpt, cfg["emo_matrix"]))
    print(f">> random official BigVGAN ({sum(p.numel() for p in vocoder.parameters()) / 1e6:.1f} M parameters, "
          f"release architecture), CAMPPlus, {cfg['spk_matrix']} / {cfg['emo_matrix']} -> {ckpt}")

    off = Official(checkpoints=ckpt, device="cpu", aux=AuxPaths(
        semantic_codec=os.path.join(ckpt, "semantic_codec_model.safetensors"), campplus=campplus_path,
        bigvgan=bigvgan_dir))
    off.prepare_for_export()
    if (args.reuse or args.reuse_vocoder) and os.path.exists(os.path.join(model, "vocoder.onnx")):
        print(">> --reuse: vocoder.onnx of the earlier run")
    else:
        print(">> exporter: export_vocoder")
        export_vocoder(off.bigvgan, ExportOptions(out_dir=model), torch.device("cpu"))
    print(">> voices (STAND-IN front end, see stub_voice) + exporter: write_voices")
    voice = stub_voice(off, spk)
    write_voices(os.path.join(model, mf.FILES["voices"]), [voice])
    print(">> exporter: emotions")
    spk_m, emo_m = load_emotion_matrices(ckpt, cfg)
    write_emotions(os.path.join(model, mf.FILES["emotions"]), spk_m, emo_m, list(cfg["emo_num"]))
    shutil.copyfile(os.path.join(ckpt, cfg["dataset"]["bpe_model"]), os.path.join(model, mf.FILES["bpe"]))
    manifest = mf.build_manifest(cfg, [mf.VoiceEntry(0, voice.name, voice.description, voice.ref_frames)],
                                 "e2e-random-official")
    mf.write_manifest(os.path.join(model, "manifest.json"), manifest)
    print(f">> model directory {model} (manifest: size {manifest['size']}, RANDOM weights)")


def stub_voice(off, spk):
    """voices.extract_voice after its audio front end, with stand-ins where this machine lacks the parts:
    - spk_cond_emb / emo_cond_emb: `spk`, random (1, T, 1024) in place of normalised w2v-BERT hidden_states[17] (the
      same tensor the official generate gets below), so the GPT conditioning is the official code's;
    - S_ref: the official semantic codec's `quantize(spk)`, prompt_condition: the official length_regulator;
    - ref_mel: the official s2mel `mel_spectrogram` of a fixed random waveform as long as `spk` (50 Hz frames);
    - style: the official CAMPPlus (random weights) over that mel's frames, mean-subtracted, in place of Kaldi fbank
      (torchaudio.compliance.kaldi, not installable here).
    The speaker_latent and emo_vec, the only voice tensors the codes depend on, are exactly the official ones."""
    import torch

    from voices import VoiceTensors, _check, _f32

    gen = torch.Generator().manual_seed(7)
    wave = 0.1 * torch.randn(1, spk.shape[1] * 22050 // 50, generator=gen)
    lengths = torch.tensor([spk.shape[1]])
    _, s_ref = off.semantic_codec.quantize(spk)
    ref_mel = off.mel_fn(wave)  # (1, 80, T_ref)
    feats = ref_mel[0].transpose(0, 1)
    style = off.campplus((feats - feats.mean(dim=0, keepdim=True)).unsqueeze(0))
    ref_frames = torch.LongTensor([ref_mel.size(2)])
    prompt_condition = off.s2mel.models["length_regulator"](s_ref, ylens=ref_frames, n_quantizers=3, f0=None)[0]
    gpt = off.gpt
    speaker_latent = gpt.get_conditioning(spk.transpose(1, 2), lengths)
    emo_vec = gpt.merge_emovec(spk, spk, lengths, lengths, alpha=1.0)
    voice = VoiceTensors(name="e2e", description="RANDOM stand-in voice (e2e_official.py)",
                         speaker_latent=_f32(speaker_latent[0]), emo_vec=_f32(emo_vec[0]), style=_f32(style[0]),
                         prompt_condition=_f32(prompt_condition[0]), ref_mel=_f32(ref_mel[0]))
    _check(voice, off.cfg_dict)
    return voice


def node_codes(model: str, texts: list[str], max_codes: int, audio_dir: str) -> list[dict]:
    """The node's engine (gpu-node/export/node_codes.ts: front end, voice bank, onnxruntime engine) on the export,
    greedy (1 beam, top-k 1)."""
    os.makedirs(audio_dir, exist_ok=True)
    out = subprocess.run(["npx", "tsx", os.path.join(HERE, "node_codes.ts"), "--model", model, "--max-tokens",
                          str(max_codes), "--audio-dir", audio_dir], input="\n".join(texts) + "\n", text=True,
                         capture_output=True, cwd=REPO, timeout=1200)
    if out.returncode != 0:
        raise SystemExit(f"node_codes.ts failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def node_http_check(model: str, text: str) -> None:
    """`npm run node -- --model DIR` on the export: it must start and answer /synthesize with audio."""
    import urllib.request

    proc = subprocess.Popen(["npm", "run", "--silent", "node", "--", "--model", model, "--port", "0",
                             "--max-batch", "2", "--intra-op-threads", "2"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        port = None
        for line in proc.stdout:
            print(f"   node: {line.rstrip()[:200]}")
            m = re.search(r"listening on http://[\d.]+:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            raise SystemExit("the node exited before listening")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/synthesize", method="POST",
                                     data=json.dumps({"text": text, "speaker_id": 0, "max_tokens": 40,
                                                      "num_beams": 1, "seed": 1}).encode(),
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=900) as res:
            body = res.read()
            print(f">> node HTTP /synthesize: {res.status} {res.headers.get('content-type')}, {len(body)} bytes")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


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
    reuse = args.reuse and os.path.exists(os.path.join(model, "dit_step.onnx"))
    if reuse:
        print(f">> --reuse: checkpoints, GPT and s2mel graphs of the earlier run in {work}")
    else:
        build_checkpoints(args, ckpt)
    gpt = Official(checkpoints=ckpt, device="cpu").gpt
    if not reuse:
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

    # a. the exported graphs with c_k at position k (the node before issue 13); c. the same graphs with the official generate's two habits
    sess = {n: ort_session(os.path.join(model, f"{n}.onnx")) for n in ("gpt_conditioning", "gpt_prefill", "gpt_decode")}
    cond = sess["gpt_conditioning"].run(None, {"speaker_latent": speaker_latent.numpy(), "emo_vec": emo_vec.numpy()})[0]

    def onnx_greedy(pos_offset: int, prompt_ids: list[int], hidden: list | None = None) -> list[int]:
        """Greedy decode over the exported graphs: c_k at mel position k + pos_offset; the repetition penalty over
        prompt_ids + the generated codes."""
        out = sess["gpt_prefill"].run(None, {"cond_prefix": cond, "text_ids": text.numpy()})
        past, codes = out[2:], []
        if hidden is not None:
            hidden.append(out[1][0])
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
            if hidden is not None:
                hidden.append(out[1][0])
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
        print(f"   position-k ONNX codes ({len(onnx_codes)}): {onnx_codes}")
        print(f"   position k+1 + prompt penalty ({len(onnx_official_style)}): {onnx_official_style}")
        return 2

    if MISSING_FIELDS:
        print(f">> GenerationConfig fields read that 5.x lacks (4.52 defaults used): {sorted(MISSING_FIELDS)}")
    print(f">> ONNX, mel position k (teacher-forced layout) ({len(onnx_codes)}): {onnx_codes}")
    print(f">> official generate ({len(official_codes)}): {official_codes}")
    print(f">> ONNX, mel position k+1 and penalty over the prompt ids too ({len(onnx_official_style)}): "
          f"{onnx_official_style}")

    def first_difference(a: list[int], b: list[int]) -> str:
        if a == b:
            return "identical"
        i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return f"differ from index {i}"

    print(f"== ONNX with position k vs official generate: {first_difference(onnx_codes, official_codes)}")
    print(f"== ONNX with position k+1 only vs official generate: "
          f"{first_difference(onnx_greedy(1, []), official_codes)}")
    print(f"== ONNX with the prompt penalty only vs official generate: "
          f"{first_difference(onnx_greedy(0, [1, gpt.start_mel_token]), official_codes)}")
    print(f"== ONNX with position k+1 + prompt penalty vs official generate: "
          f"{first_difference(onnx_official_style, official_codes)}")
    ok = onnx_official_style == official_codes
    latent_gap(gpt, cond, text, official_codes, onnx_greedy)
    if args.node:
        ok = node_stage(args, ckpt, model, gpt, spk, lengths, emo_vec) and ok
    return 0 if ok else 1


def latent_gap(gpt, cond, text, codes: list[int], onnx_greedy) -> None:
    """What the missing second GPT pass costs: infer_v2.py feeds s2mel the latents of a teacher-forced pass over the
    generated codes (`UnifiedVoice.forward`: c_k at position k, `[:, :-2]`), while the decode steps (c_k at k + 1, as
    generate and the node sample) give slightly different hidden states. Same codes, same weights, both compared."""
    import numpy as np
    import torch

    hidden: list = []
    if onnx_greedy(1, [1, gpt.start_mel_token], hidden) != codes:
        print("   (latent gap skipped: the ONNX codes differ)")
        return
    n = len(codes)
    mel_in = torch.tensor([[gpt.start_mel_token, *codes, gpt.stop_mel_token]])
    text_emb = gpt.text_embedding(text) + gpt.text_pos_embedding(text)
    mel_emb = gpt.mel_embedding(mel_in) + gpt.mel_pos_embedding(mel_in)
    _, latents = gpt.get_logits(torch.from_numpy(cond), text_emb, gpt.text_head, mel_emb, gpt.mel_head,
                                return_latent=True)
    want = latents[0, :n].numpy()  # forward's latent[:, :-2]: the states at start_mel, c_1 .. c_(n-1)
    got = np.stack(hidden[:n])
    scale = np.abs(want).max()
    first = np.abs(got[0] - want[0]).max() / scale
    rest = np.abs(got[1:] - want[1:]).max() / scale if n > 1 else 0.0
    cos = float(np.mean(np.sum(got[1:] * want[1:], -1) / (np.linalg.norm(got[1:], axis=-1) *
                                                          np.linalg.norm(want[1:], axis=-1)))) if n > 1 else 1.0
    print(f"== s2mel latents, decode-step hidden states (c_k at k+1, the node's) vs the official teacher-forced pass "
          f"(c_k at k), {n} codes: start_mel row relative {first:.1e}; rows 1..{n - 1} relative {rest:.2e}, "
          f"mean cosine {cos:.4f}")


def node_stage(args, ckpt, model, gpt, spk, lengths, emo_vec) -> bool:
    """--node: finish the export, start the node on it, and compare its greedy codes with the official generate's."""
    import torch

    export_rest_stages(args, ckpt, model, spk)
    texts = args.texts or [args.text, *DEFAULT_TEXTS]
    node_http_check(model, texts[0])
    results = node_codes(model, texts, args.max_codes, os.path.join(args.work, "audio"))
    same = 0
    total = 0
    for r in results:
        for k, ids in enumerate(r["segments"]):
            text = torch.tensor([[gpt.start_text_token, *ids, gpt.stop_text_token]])
            official, _ = gpt.inference_speech(spk, text, spk, cond_lengths=lengths, emo_cond_lengths=lengths,
                                               emo_vec=emo_vec, do_sample=False, num_beams=1,
                                               repetition_penalty=10.0, num_return_sequences=1,
                                               max_generate_length=args.max_codes)
            want = [int(c) for c in official[0] if int(c) != gpt.stop_mel_token]
            got = r["codes"][k]
            total += 1
            same += got == want
            verdict = "identical" if got == want else f"DIFFER ({len(got)} node / {len(want)} official codes)"
            print(f"== node vs official generate, {r['text']!r} segment {k} ({len(ids)} text ids): {verdict}")
            if got != want:
                print(f"   node:     {got}\n   official: {want}")
        print(f"   node audio: {r['samples']} samples ({r['samples'] / 22050:.2f} s) -> {r['audio']}")
    print(f"== node codes identical to the official generate's on {same} of {total} segments")
    return same == total


if __name__ == "__main__":
    ARGS = parse_args()
    sys.exit(main())
