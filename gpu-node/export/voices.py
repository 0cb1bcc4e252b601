"""voices.safetensors: the official front-end run once per preset reference clip (stages 2-7 of the pipeline).

Follows `IndexTTS2.infer_generator` in indextts/infer_v2.py step by step for a speaker prompt that is also its own
emotion prompt (no emo_audio_prompt, emo_alpha = 1):

* speaker path: librosa.load at its default 22,050 Hz, cut to 15 s, torchaudio Resample to 22,050 and 16,000 Hz;
  SeamlessM4T features -> w2v-BERT hidden_states[17], normalised with wav2vec2bert_stats.pt -> spk_cond_emb;
  semantic codec `quantize` -> S_ref; ref_mel = s2mel mel_spectrogram of the 22 kHz audio; Kaldi fbank of the
  16 kHz audio, mean-subtracted -> CAMPPlus style; length_regulator(S_ref, ylens = ref mel frames) ->
  prompt_condition;
* emotion path: the same file loaded by librosa directly at 16 kHz (as `_load_and_cut_audio(..., sr=16000)`),
  same features -> emo_cond_emb;
* GPT: `get_conditioning(spk_cond_emb)` -> speaker_latent (32, D); `merge_emovec(spk, emo, alpha=1)` -> emo_vec.

Conditioning lengths are the true frame counts. infer_v2.py passes `spk_cond_emb.shape[-1]` (1024, the feature
width) instead; the conformer masks are identical while a clip has at most 1024 frames, which the 15 s cap
(about 750 frames) guarantees.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from safetensors_io import write_safetensors

MAX_SECONDS = 15  # infer_v2.py: _load_and_cut_audio(spk_audio_prompt, 15, ...)


@dataclass
class VoiceTensors:
    name: str
    description: str
    speaker_latent: np.ndarray  # (32, D)
    emo_vec: np.ndarray  # (D,)
    style: np.ndarray  # (Y,)
    prompt_condition: np.ndarray  # (T_ref, C)
    ref_mel: np.ndarray  # (M, T_ref)

    @property
    def ref_frames(self) -> int:
        return int(self.ref_mel.shape[1])


def _f32(t) -> np.ndarray:
    return t.detach().float().cpu().numpy().astype(np.float32)


def _load_cut(path: str, sr: int | None):
    import librosa
    import torch

    audio, rate = librosa.load(path) if sr is None else librosa.load(path, sr=sr)
    audio = torch.tensor(audio).unsqueeze(0)
    return audio[:, : int(MAX_SECONDS * rate)], rate


def extract_voice(off, name: str, wav_path: str, description: str | None = None) -> VoiceTensors:
    """`off` is official.Official."""
    import torch
    import torchaudio

    device = off.device
    with torch.no_grad():
        audio, sr = _load_cut(wav_path, None)
        if audio.shape[1] < sr // 2:
            raise ValueError(f"{wav_path}: reference clip is shorter than 0.5 s")
        audio_22k = torchaudio.transforms.Resample(sr, 22050)(audio)
        audio_16k = torchaudio.transforms.Resample(sr, 16000)(audio)

        inputs = off.feature_extractor(audio_16k, sampling_rate=16000, return_tensors="pt")
        spk_cond = off.semantic_embedding(inputs["input_features"].to(device), inputs["attention_mask"].to(device))
        _, s_ref = off.semantic_codec.quantize(spk_cond)
        ref_mel = off.mel_fn(audio_22k.to(device).float())  # (1, 80, T_ref)
        fbank = torchaudio.compliance.kaldi.fbank(
            audio_16k.to(device), num_mel_bins=80, dither=0, sample_frequency=16000
        )
        fbank = fbank - fbank.mean(dim=0, keepdim=True)
        style = off.campplus(fbank.unsqueeze(0))  # (1, 192)
        ref_frames = torch.LongTensor([ref_mel.size(2)]).to(device)
        prompt_condition = off.s2mel.models["length_regulator"](s_ref, ylens=ref_frames, n_quantizers=3, f0=None)[0]

        emo_audio, _ = _load_cut(wav_path, 16000)
        emo_inputs = off.feature_extractor(emo_audio, sampling_rate=16000, return_tensors="pt")
        emo_cond = off.semantic_embedding(
            emo_inputs["input_features"].to(device), emo_inputs["attention_mask"].to(device)
        )

        gpt = off.gpt
        spk_len = torch.tensor([spk_cond.shape[1]], device=device)
        emo_len = torch.tensor([emo_cond.shape[1]], device=device)
        speaker_latent = gpt.get_conditioning(spk_cond.transpose(1, 2), spk_len)  # (1, 32, D)
        emo_vec = gpt.merge_emovec(spk_cond, emo_cond, spk_len, emo_len, alpha=1.0)  # (1, D)

    voice = VoiceTensors(
        name=name,
        description=description or f"preset voice from {os.path.basename(wav_path)}",
        speaker_latent=_f32(speaker_latent[0]),
        emo_vec=_f32(emo_vec[0]),
        style=_f32(style[0]),
        prompt_condition=_f32(prompt_condition[0]),
        ref_mel=_f32(ref_mel[0]),
    )
    _check(voice, off.cfg_dict)
    return voice


def _check(v: VoiceTensors, cfg: dict) -> None:
    d = int(cfg["gpt"]["model_dim"])
    y = int(cfg["s2mel"]["style_encoder"]["dim"])
    c = int(cfg["s2mel"]["DiT"]["content_dim"])
    latents = int(cfg["gpt"].get("condition_num_latent", 32))
    expected = {
        "speaker_latent": (latents, d),
        "emo_vec": (d,),
        "style": (y,),
        "prompt_condition": (v.ref_frames, c),
        "ref_mel": (80, v.ref_frames),
    }
    for key, shape in expected.items():
        value = getattr(v, key)
        if value.shape != shape:
            raise ValueError(f"voice {v.name}: {key} has shape {value.shape}, expected {shape}")
        if not np.isfinite(value).all():
            raise ValueError(f"voice {v.name}: {key} has non-finite values")


def write_voices(path: str, voices: list[VoiceTensors]) -> int:
    tensors: dict[str, np.ndarray] = {}
    metadata = {"format": "indextts2-onnx/1"}
    for k, v in enumerate(voices):
        tensors[f"voice.{k}.speaker_latent"] = v.speaker_latent
        tensors[f"voice.{k}.emo_vec"] = v.emo_vec
        tensors[f"voice.{k}.style"] = v.style
        tensors[f"voice.{k}.prompt_condition"] = v.prompt_condition
        tensors[f"voice.{k}.ref_mel"] = v.ref_mel
        metadata[f"voice.{k}.name"] = v.name
        metadata[f"voice.{k}.description"] = v.description
    return write_safetensors(path, tensors, metadata)
