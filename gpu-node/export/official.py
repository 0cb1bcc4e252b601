"""Load the official IndexTTS2 components the way `indextts/infer_v2.py` (IndexTTS2.__init__) does.

Everything is imported from the `indextts` package of an index-tts checkout at run time; nothing of it is copied
here. QwenEmotion (the text-to-emotion model) and the text normaliser are not loaded: neither is exported.

Auxiliary models are looked up in the two layouts the official code has used:
* current `indextts/utils/model_download.py`: flat files under `<checkpoints>/hf_cache/` (w2v-bert-2.0/,
  semantic_codec_model.safetensors, campplus_cn_common.bin, bigvgan/);
* the IndexTTS2 release: a Hugging Face hub cache, which infer_v2.py points at `./checkpoints/hf_cache`.
Explicit paths given on the command line win over both.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

W2V_BERT = "facebook/w2v-bert-2.0"
MASKGCT = ("amphion/MaskGCT", "semantic_codec/model.safetensors")
CAMPPLUS = ("funasr/campplus", "campplus_cn_common.bin")


def add_indextts_to_path(root: str) -> None:
    """Make `import indextts` work when the script runs from outside the checkout's environment."""
    root = os.path.abspath(root)
    if os.path.isdir(os.path.join(root, "indextts")) and root not in sys.path:
        sys.path.insert(0, root)
    try:
        import indextts  # noqa: F401
    except ImportError as e:
        raise SystemExit(
            f"cannot import the official `indextts` package ({e}); run inside an index-tts checkout "
            "(`uv run python ...`) or pass --indextts-root"
        ) from e


def strip_weight_norm(module) -> None:
    """Fold weight normalisation into plain weights (old-style hooks and torch.nn.utils.parametrizations)."""
    import torch
    from torch.nn.utils import parametrize

    for m in module.modules():
        if parametrize.is_parametrized(m):
            for name in list(m.parametrizations.keys()):
                parametrize.remove_parametrizations(m, name, leave_parametrized=True)
        try:
            torch.nn.utils.remove_weight_norm(m)
        except (ValueError, AttributeError):
            pass


@dataclass
class AuxPaths:
    w2v_bert: str | None = None
    semantic_codec: str | None = None
    campplus: str | None = None
    bigvgan: str | None = None


@dataclass
class Official:
    checkpoints: str
    device: str
    aux: AuxPaths = field(default_factory=AuxPaths)

    def __post_init__(self) -> None:
        # infer_v2.py does this at import time; hub look-ups below then find the release-era cache.
        os.environ.setdefault("HF_HUB_CACHE", os.path.join(self.checkpoints, "hf_cache"))

    # ---- configuration -------------------------------------------------------------------------------------
    @cached_property
    def cfg(self):
        from omegaconf import OmegaConf

        return OmegaConf.load(os.path.join(self.checkpoints, "config.yaml"))

    @cached_property
    def cfg_dict(self) -> dict[str, Any]:
        from omegaconf import OmegaConf

        return OmegaConf.to_container(self.cfg, resolve=True)

    def _flat(self, name: str) -> str | None:
        path = os.path.join(self.checkpoints, "hf_cache", name)
        return path if os.path.exists(path) else None

    def _hub_file(self, repo: str, filename: str) -> str:
        from huggingface_hub import hf_hub_download

        return hf_hub_download(repo, filename=filename)

    # ---- models ----------------------------------------------------------------------------------------------
    @cached_property
    def gpt(self):
        """UnifiedVoice with gpt.pth, float32, eval (infer_v2.py; no post_init_gpt2_config: the HF generate
        wrapper is not exported)."""
        from indextts.gpt.model_v2 import UnifiedVoice
        from indextts.utils.checkpoint import load_checkpoint

        gpt = UnifiedVoice(**self.cfg.gpt)
        load_checkpoint(gpt, os.path.join(self.checkpoints, self.cfg.gpt_checkpoint))
        return gpt.to(self.device).eval()

    @cached_property
    def s2mel(self):
        from indextts.s2mel.modules.commons import MyModel, load_checkpoint2

        model = MyModel(self.cfg.s2mel, use_gpt_latent=True)
        model, _, _, _ = load_checkpoint2(
            model, None, os.path.join(self.checkpoints, self.cfg.s2mel_checkpoint),
            load_only_params=True, ignore_modules=[], is_distributed=False,
        )
        model = model.to(self.device).eval()
        model.models["cfm"].estimator.setup_caches(max_batch_size=1, max_seq_length=8192)
        return model

    @cached_property
    def semantic_codec(self):
        import safetensors.torch
        from indextts.utils.maskgct_utils import build_semantic_codec

        path = self.aux.semantic_codec or self._flat("semantic_codec_model.safetensors") or self._hub_file(*MASKGCT)
        codec = build_semantic_codec(self.cfg.semantic_codec)
        safetensors.torch.load_model(codec, path)
        return codec.to(self.device).eval()

    @cached_property
    def _w2v_source(self) -> str:
        return self.aux.w2v_bert or self._flat("w2v-bert-2.0") or W2V_BERT

    @cached_property
    def feature_extractor(self):
        from transformers import SeamlessM4TFeatureExtractor

        return SeamlessM4TFeatureExtractor.from_pretrained(self._w2v_source)

    @cached_property
    def semantic_model(self):
        """w2v-BERT 2.0 and the wav2vec2bert_stats.pt normalisation (maskgct_utils.build_semantic_model)."""
        import torch
        from transformers import Wav2Vec2BertModel

        model = Wav2Vec2BertModel.from_pretrained(self._w2v_source).to(self.device).eval()
        stats = torch.load(os.path.join(self.checkpoints, self.cfg.w2v_stat), map_location="cpu")
        mean = stats["mean"].to(self.device)
        std = torch.sqrt(stats["var"]).to(self.device)
        return model, mean, std

    @cached_property
    def campplus(self):
        import torch
        from indextts.s2mel.modules.campplus.DTDNN import CAMPPlus

        path = self.aux.campplus or self._flat("campplus_cn_common.bin") or self._hub_file(*CAMPPLUS)
        model = CAMPPlus(feat_dim=80, embedding_size=192)
        model.load_state_dict(torch.load(path, map_location="cpu"))
        return model.to(self.device).eval()

    @cached_property
    def bigvgan(self):
        from indextts.s2mel.modules.bigvgan import bigvgan

        source = self.aux.bigvgan or self._flat("bigvgan") or self.cfg.vocoder.name
        model = bigvgan.BigVGAN.from_pretrained(source, use_cuda_kernel=False)  # torch activations: exportable
        model = model.to(self.device)
        model.remove_weight_norm()
        return model.eval()

    # ---- front-end helpers (infer_v2.py) -------------------------------------------------------------------
    def semantic_embedding(self, input_features, attention_mask):
        """IndexTTS2.get_emb: w2v-BERT hidden_states[17], normalised."""
        model, mean, std = self.semantic_model
        out = model(input_features=input_features, attention_mask=attention_mask, output_hidden_states=True)
        return (out.hidden_states[17] - mean) / std

    @cached_property
    def mel_fn(self):
        from indextts.s2mel.modules.audio import mel_spectrogram

        pre = self.cfg.s2mel["preprocess_params"]
        spect = pre["spect_params"]
        args = {
            "n_fft": spect["n_fft"],
            "win_size": spect["win_length"],
            "hop_size": spect["hop_length"],
            "num_mels": spect["n_mels"],
            "sampling_rate": pre["sr"],
            "fmin": spect.get("fmin", 0),
            # sic: infer_v2.py maps any fmax other than the string "None" to 8000
            "fmax": None if spect.get("fmax", "None") == "None" else 8000,
            "center": False,
        }
        return lambda wav: mel_spectrogram(wav, **args)

    def prepare_for_export(self) -> None:
        """Weight norm folded everywhere an exported graph reaches (the TRT exports do the same)."""
        strip_weight_norm(self.s2mel)
        strip_weight_norm(self.semantic_codec.quantizer)
