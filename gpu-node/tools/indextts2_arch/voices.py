"""Random preset voices and emotion matrices (voices.safetensors / emotions.safetensors, see MODEL.md).

Values are random but of realistic scale, so host code sees plausible numbers: log-mels in IndexTTS2's range
(log(clamp(mel, 1e-5)) -> about -11.5 .. 2), O(1) conditioning vectors, and a prompt_condition that really is the
length regulator applied to semantic-codec embeddings of random codes (what IndexTTS2 computes for a clip).
"""

import numpy as np
import torch

NAMES = ["Aster", "Birch", "Cobalt", "Dune", "Ember", "Fjord", "Garnet", "Heron"]
CODE_TO_FRAME_RATIO = 1.72
EMO_NUM = [3, 17, 2, 8, 4, 5, 10, 24]  # happy, angry, sad, afraid, disgusted, melancholic, surprised, calm


def ref_frame_counts(lo, hi, n):
    if n == 1:
        return [lo]
    return [int(round(lo + (hi - lo) * i / (n - 1))) for i in range(n)]


def synthetic_log_mel(rng, n_mels, frames):
    """A speech-like log-mel: a falling spectral envelope with a few formant-ish bumps, syllable-rate energy
    modulation, low-level noise, and silence (log 1e-5) at the edges."""
    f = np.arange(n_mels)[:, None] / n_mels
    envelope = -1.0 - 6.0 * f
    for _ in range(3):
        centre, width, gain = rng.uniform(0.05, 0.6), rng.uniform(0.03, 0.08), rng.uniform(1.0, 3.0)
        envelope = envelope + gain * np.exp(-((f - centre) ** 2) / (2 * width**2))
    t = np.arange(frames)[None, :]
    syllables = 0.5 + 0.5 * np.sin(2 * np.pi * t / rng.uniform(14, 22) + rng.uniform(0, 6.3))
    energy = np.log(np.clip(syllables, 0.02, 1.0)) * 1.5
    mel = envelope + energy + rng.normal(0.0, 0.4, size=(n_mels, frames))
    edge = max(2, frames // 12)
    mel[:, :edge] = -11.5 + rng.normal(0.0, 0.2, size=(n_mels, edge))
    mel[:, -edge:] = -11.5 + rng.normal(0.0, 0.2, size=(n_mels, edge))
    return np.clip(mel, -11.5, 2.0).astype(np.float32)


def make_voices(cfg, n_voices, seed, latent_projector, length_regulator):
    """Returns ({tensor name: array}, [manifest voice entries])."""
    d, y = cfg["gpt"]["model_dim"], cfg["s2mel"]["style_dim"]
    m, codebook = cfg["s2mel"]["n_mels"], cfg["semantic"]["codebook_size"]
    lo, hi = cfg["voices"]["ref_frames"]
    tensors, entries = {}, []
    for k, frames in enumerate(ref_frame_counts(lo, hi, n_voices)):
        rng = np.random.RandomState(seed + 1000 + k)
        # Semantic codes at 50 Hz for the clip, embedded by the codec's vq2emb, then regulated to mel frames.
        t50 = max(1, int(round(frames / CODE_TO_FRAME_RATIO)))
        codes = torch.from_numpy(rng.randint(0, codebook, size=(1, t50)).astype(np.int64))
        with torch.no_grad():
            s_ref = latent_projector.quantizer.vq2emb(codes)
            prompt_condition = length_regulator(s_ref, torch.tensor([frames], dtype=torch.int64))[0].numpy()
        tensors[f"voice.{k}.speaker_latent"] = rng.normal(0.0, 1.0, size=(32, d))
        tensors[f"voice.{k}.emo_vec"] = rng.normal(0.0, 1.0, size=(d,))
        tensors[f"voice.{k}.style"] = rng.normal(0.0, 1.0, size=(y,))
        tensors[f"voice.{k}.prompt_condition"] = prompt_condition
        tensors[f"voice.{k}.ref_mel"] = synthetic_log_mel(rng, m, frames)
        name = NAMES[k % len(NAMES)] + ("" if k < len(NAMES) else f" {k // len(NAMES) + 1}")
        entries.append({
            "id": k,
            "name": name,
            "description": (f"Random-weight preset {k}: a synthetic speaker (random conditioning, "
                            f"{frames / 86.13:.2f} s reference of {frames} mel frames). The audio is noise."),
            "ref_frames": frames,
        })
    return tensors, entries


def make_emotions(cfg, seed):
    rng = np.random.RandomState(seed + 2000)
    rows = sum(EMO_NUM)
    return {
        "spk_matrix": rng.normal(0.0, 1.0, size=(rows, cfg["s2mel"]["style_dim"])),
        "emo_matrix": rng.normal(0.0, 1.0, size=(rows, cfg["gpt"]["model_dim"])),
    }
