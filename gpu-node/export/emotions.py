"""emotions.safetensors: IndexTTS2's emotion matrices for 8-vector emotion mixing.

infer_v2.py loads `feat1.pt` as spk_matrix (CAMPPlus styles, 73 x 192) and `feat2.pt` as emo_matrix (emotion
vectors already in GPT space, 73 x 1280), splits both by `emo_num`, and for each group picks the emo_matrix row whose
spk_matrix row is most cosine-similar to the speaker's style. The node does the picking and mixing; this module
only copies the two matrices out, in float32, after checking their shapes against config.yaml.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from safetensors_io import write_safetensors


def load_emotion_matrices(checkpoints: str, cfg: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    import torch

    rows = sum(int(n) for n in cfg["emo_num"])
    style_dim = int(cfg["s2mel"]["style_encoder"]["dim"])
    model_dim = int(cfg["gpt"]["model_dim"])
    spk = torch.load(os.path.join(checkpoints, cfg["spk_matrix"]), map_location="cpu")
    emo = torch.load(os.path.join(checkpoints, cfg["emo_matrix"]), map_location="cpu")
    spk = spk.detach().float().cpu().numpy()
    emo = emo.detach().float().cpu().numpy()
    if spk.shape != (rows, style_dim):
        raise ValueError(f"{cfg['spk_matrix']}: shape {spk.shape}, expected ({rows}, {style_dim})")
    if emo.shape != (rows, model_dim):
        raise ValueError(f"{cfg['emo_matrix']}: shape {emo.shape}, expected ({rows}, {model_dim})")
    if not (np.isfinite(spk).all() and np.isfinite(emo).all()):
        raise ValueError("emotion matrices contain non-finite values")
    return spk.astype(np.float32), emo.astype(np.float32)


def write_emotions(path: str, spk_matrix: np.ndarray, emo_matrix: np.ndarray, emo_num: list[int]) -> int:
    metadata = {"format": "indextts2-onnx/1", "emo_num": ",".join(str(n) for n in emo_num)}
    return write_safetensors(path, {"spk_matrix": spk_matrix, "emo_matrix": emo_matrix}, metadata)
