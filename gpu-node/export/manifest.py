"""manifest.json for an exported official model (schema: gpu-node/src/model/manifest.ts).

Every dimension comes from the checkpoint's config.yaml; the few values IndexTTS2 hard-codes in infer_v2.py
(the 1.72 code-to-frame ratio, 25 CFM steps, CFG rate 0.7, the sampling defaults, 120 tokens per segment) are
spelled out here with where they come from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = "indextts2-onnx/1"
EMOTIONS = ("happy", "angry", "sad", "afraid", "disgusted", "melancholic", "surprised", "calm")

FILES = {
    "bpe": "bpe.model",
    "gpt_conditioning": "gpt_conditioning.onnx",
    "gpt_prefill": "gpt_prefill.onnx",
    "gpt_decode": "gpt_decode.onnx",
    "gpt_latent": "gpt_latent.onnx",
    "latent_projector": "latent_projector.onnx",
    "length_regulator": "length_regulator.onnx",
    "dit_step": "dit_step.onnx",
    "vocoder": "vocoder.onnx",
    "voices": "voices.safetensors",
    "emotions": "emotions.safetensors",
}

# infer_v2.py: `target_lengths = (code_lens * 1.72).long()`, `diffusion_steps = 25`, `inference_cfg_rate = 0.7`
CODE_TO_FRAME_RATIO = 1.72
CFM_STEPS = 25
CFG_RATE = 0.7
# infer_v2.py: `max_mel_tokens = generation_kwargs.pop("max_mel_tokens", 1500)`. config.yaml's gpt.max_mel_tokens
# (1815) sizes the mel position table, not generation: official inference never produces more than 1500 codes.
OFFICIAL_MAX_MEL_TOKENS = 1500
# infer_v2.py generation defaults (num_beams=3 is not reproduced: the node samples one sequence)
SAMPLING = {"top_k": 30, "top_p": 0.8, "temperature": 0.8, "repetition_penalty": 10.0}
LIMITS = {"max_text_chars": 2000, "max_text_tokens_per_segment": 120, "max_segments": 16}


@dataclass(frozen=True)
class VoiceEntry:
    id: int
    name: str
    description: str
    ref_frames: int


def _get(cfg: Mapping[str, Any], dotted: str, default: Any = None) -> Any:
    node: Any = cfg
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            if default is not None:
                return default
            raise KeyError(f"config.yaml has no '{dotted}'")
        node = node[key]
    return node


def build_manifest(cfg: Mapping[str, Any], voices: Sequence[VoiceEntry], name: str) -> dict[str, Any]:
    """`cfg` is config.yaml as plain dicts (OmegaConf.to_container)."""
    sr = int(_get(cfg, "s2mel.preprocess_params.sr"))
    hop = int(_get(cfg, "s2mel.preprocess_params.spect_params.hop_length"))
    n_mels = int(_get(cfg, "s2mel.preprocess_params.spect_params.n_mels"))
    if (sr, hop, n_mels) != (22050, 256, 80):
        raise ValueError(
            f"the node contract fixes 22050 Hz / hop 256 / 80 mels; config.yaml has {sr} / {hop} / {n_mels}"
        )
    content_dim = int(_get(cfg, "s2mel.DiT.content_dim"))
    regulator_channels = int(_get(cfg, "s2mel.length_regulator.channels", content_dim))
    if regulator_channels != content_dim:
        raise ValueError(f"length_regulator.channels {regulator_channels} != DiT.content_dim {content_dim}")
    emo_num = [int(n) for n in _get(cfg, "emo_num")]
    if len(emo_num) != len(EMOTIONS):
        raise ValueError(f"emo_num has {len(emo_num)} groups, expected {len(EMOTIONS)}")
    gpt = _get(cfg, "gpt")
    model_dim, heads = int(gpt["model_dim"]), int(gpt["heads"])
    if model_dim % heads:
        raise ValueError(f"gpt.model_dim {model_dim} is not divisible by gpt.heads {heads}")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "size": "official",
        "random_weights": False,
        # real weights stop at stop_mel_token; the node must not cap codes per text token
        "semantic_tokens_per_text_token": None,
        "sample_rate": sr,
        "hop_length": hop,
        "files": dict(FILES),
        "gpt": {
            "model_dim": model_dim,
            "layers": int(gpt["layers"]),
            "heads": heads,
            "number_text_tokens": int(gpt["number_text_tokens"]),
            "number_mel_codes": int(gpt["number_mel_codes"]),
            "start_text_token": int(gpt["start_text_token"]),
            "stop_text_token": int(gpt["stop_text_token"]),
            "start_mel_token": int(gpt["start_mel_token"]),
            "stop_mel_token": int(gpt["stop_mel_token"]),
            # perceiver latents + the two speed embeddings
            "cond_tokens": int(gpt.get("condition_num_latent", 32)) + 2,
            "max_text_tokens": int(gpt["max_text_tokens"]),
            "max_mel_tokens": OFFICIAL_MAX_MEL_TOKENS,
        },
        "semantic": {
            "hidden_size": int(_get(cfg, "semantic_codec.hidden_size")),
            "codebook_size": int(_get(cfg, "semantic_codec.codebook_size")),
        },
        "s2mel": {
            "n_mels": n_mels,
            "content_dim": content_dim,
            "style_dim": int(_get(cfg, "s2mel.style_encoder.dim")),
            "code_to_frame_ratio": CODE_TO_FRAME_RATIO,
            "cfm_steps": CFM_STEPS,
            "cfg_rate": CFG_RATE,
        },
        "sampling": dict(SAMPLING),
        "limits": dict(LIMITS),
        "emotion": {"labels": list(EMOTIONS), "emo_num": emo_num},
        "voices": [
            {"id": v.id, "name": v.name, "description": v.description, "ref_frames": int(v.ref_frames)} for v in voices
        ],
    }
    check_manifest(manifest)
    return manifest


def check_manifest(m: Mapping[str, Any]) -> None:
    """The parts of the zod schema that an export can get wrong."""
    problems = []
    if m.get("format") != FORMAT:
        problems.append("format")
    if m.get("sample_rate") != 22050 or m.get("hop_length") != 256:
        problems.append("sample_rate/hop_length")
    gpt = m["gpt"]
    if gpt["number_mel_codes"] != m["semantic"]["codebook_size"] + 2:
        problems.append("number_mel_codes must be codebook_size + 2")
    if gpt["start_mel_token"] != m["semantic"]["codebook_size"] or gpt["stop_mel_token"] != gpt["start_mel_token"] + 1:
        problems.append("start_mel/stop_mel must be codebook, codebook + 1")
    if not 0 < m["sampling"]["top_p"] <= 1:
        problems.append("sampling.top_p")
    if not m["voices"]:
        problems.append("at least one voice is required")
    ids = [v["id"] for v in m["voices"]]
    if ids != list(range(len(ids))):
        problems.append("voice ids must be 0..n-1 in order")
    if any(v["ref_frames"] <= 0 for v in m["voices"]):
        problems.append("ref_frames must be positive")
    if problems:
        raise ValueError("manifest does not fit the schema: " + "; ".join(problems))


def write_manifest(path: str | Path, manifest: Mapping[str, Any]) -> None:
    Path(path).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
