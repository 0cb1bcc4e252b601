"""Per-row padding for right-padded batches, so a row's output in a batch equals its output alone.

The official modules run one utterance at a time, so their convolutions pad at the true end of the signal: zeros
(nn.Conv1d), reflection (the DiT's WaveNet, encodec-style SConv1d) or replication (BigVGAN's anti-aliased
resamplers). In a right-padded batch the "end" of a shorter row is somewhere inside the tensor, and a plain pad
only happens at the end of the tensor. These helpers rebuild, for every row, exactly the frames the official
module would have seen past that row's length: zeros, a reflection or a replica of the last valid frame.
Frames further out than the convolution can reach are left as they are (they only feed padding outputs, which
the wrappers zero at the end).

All helpers take `x` as (B, C, T) and `lens` as (B,) int64 valid lengths, trace to plain ONNX ops (Pad, Where,
GatherElements on a (B, C, 1) index, Range), and reduce to the official padding when every row is full length.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sequence_mask(lens: torch.Tensor, length: int | torch.Tensor) -> torch.Tensor:
    """(B, T) bool, True at valid frames (commons.sequence_mask in the official code)."""
    steps = torch.arange(length, device=lens.device, dtype=lens.dtype)
    return steps.unsqueeze(0) < lens.unsqueeze(1)


def keep(x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """(B, 1, T) float mask for a (B, C, T) tensor."""
    return sequence_mask(lens, x.shape[2]).unsqueeze(1).to(x.dtype)


def zero_tail(x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """Zero every frame at or past a row's length: the official zero padding for a conv that follows."""
    return x * keep(x, lens)


def _frame(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x[b, :, index[b]] as (B, C, 1); callers keep index <= T - 1, negatives are clamped to 0."""
    index = index.clamp(min=0)
    return torch.gather(x, 2, index.view(-1, 1, 1).expand(x.shape[0], x.shape[1], 1))


def _padded_positions(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """Original frame index of every column of x padded by (left, right): -left .. T-1+right, as (1, T')."""
    total = x.shape[2] + left + right
    return (torch.arange(total, device=x.device) - left).unsqueeze(0)


def replicate_pad_rows(x: torch.Tensor, lens: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """F.pad(x, (left, right), mode="replicate") as if each row ended at lens[b]."""
    padded = F.pad(x, (left, right), mode="replicate")
    if right == 0:
        return padded
    positions = _padded_positions(x, left, right)
    inside = (positions < lens.unsqueeze(1)).unsqueeze(1)  # (B, 1, T'); the left pad is "inside" (already right)
    return torch.where(inside, padded, _frame(x, lens - 1))


def reflect_pad_rows(x: torch.Tensor, lens: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """F.pad(x, (left, right), mode="reflect") as if each row ended at lens[b] (rows must be longer than `right`)."""
    padded = F.pad(x, (left, right), mode="reflect")
    if right == 0:
        return padded
    positions = _padded_positions(x, left, right)
    last = lens.unsqueeze(1) - 1  # (B, 1)
    for k in range(1, right + 1):
        # frame last+k reflects frame last-k
        hit = (positions == last + k).unsqueeze(1)
        padded = torch.where(hit, _frame(x, lens - 1 - k), padded)
    return padded
