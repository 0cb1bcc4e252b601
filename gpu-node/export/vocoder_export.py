"""Stage 13: BigVGAN v2 (nvidia/bigvgan_v2_22khz_80band_256x, loaded through indextts.s2mel.modules.bigvgan).

The official export (backends/trt/export/export_bigvgan_onnx.py) exports `BigVGAN.forward(mel)` as is: it has
no length input, so in a right-padded batch the end of a shorter row is computed from the padding. Every layer of
BigVGAN mixes time (zero-padded convolutions, transposed-conv upsamplers, and the anti-aliased activations, whose
kaiser-sinc resamplers *replicate* the edge sample), so the wrapper below re-runs `BigVGAN.forward`,
`AMPBlock1/2.forward` and `Activation1d.forward` over the same modules with the padding each layer would have
seen on the row alone:

* before every zero-padded convolution and transposed convolution the input is zeroed past the row's length;
* the up/down-sampling filters of each Activation1d get per-row replicate padding (row_padding.replicate_pad_rows);
* the output is zeroed past 256 * mel_lens.

With every row at full length this is exactly `BigVGAN.forward` (checked before export).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

import row_padding as rp
from onnx_io import ExportOptions, export_graph, ort_session, parity


def activation1d(act: nn.Module, x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """alias_free_activation/torch/act.py Activation1d: upsample x2 -> snake -> low-pass and downsample x2."""
    up, low = act.upsample, act.downsample.lowpass
    channels = act.export_channels  # static: the exporter must know the grouped filter's shape
    h = rp.replicate_pad_rows(x, lens, up.pad, up.pad)
    h = up.ratio * F.conv_transpose1d(h, up.filter.expand(channels, -1, -1), stride=up.stride, groups=channels)
    h = h[..., up.pad_left : -up.pad_right]
    h = act.act(h)
    if not low.padding or low.padding_mode != "replicate":
        raise ValueError("expected replicate-padded low-pass filters in BigVGAN's Activation1d")
    h = rp.replicate_pad_rows(h, lens * up.ratio, low.pad_left, low.pad_right)
    return F.conv1d(h, low.filter.expand(channels, -1, -1), stride=low.stride, groups=channels)


def amp_block(block: nn.Module, x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    if hasattr(block, "convs1"):  # AMPBlock1: (act, dilated conv, act, conv) per dilation, residual
        acts = block.activations
        for c1, c2, a1, a2 in zip(block.convs1, block.convs2, acts[::2], acts[1::2]):
            h = c1(rp.zero_tail(activation1d(a1, x, lens), lens))
            h = c2(rp.zero_tail(activation1d(a2, h, lens), lens))
            x = x + h
        return x
    for c, a in zip(block.convs, block.activations):  # AMPBlock2
        x = x + c(rp.zero_tail(activation1d(a, x, lens), lens))
    return x


class MaskedBigVGAN(nn.Module):
    """mel (B, 80, T), mel_lens (B,) -> audio (B, 1, 256 T), zero past 256 * mel_lens."""

    def __init__(self, vocoder: nn.Module):
        super().__init__()
        for stage in vocoder.ups:
            for up in stage:
                k, s, p = up.kernel_size[0], up.stride[0], up.padding[0]
                if k - 2 * p != s or up.output_padding[0] != 0:
                    raise ValueError("expected BigVGAN upsamplers with output length = stride * input length")
        for m in vocoder.modules():  # read each Activation1d's width once, outside the trace
            if hasattr(m, "upsample") and hasattr(m, "downsample"):
                m.export_channels = int(m.act.alpha.shape[0])
        self.v = vocoder

    def forward(self, mel: torch.Tensor, mel_lens: torch.Tensor) -> torch.Tensor:
        v, lens = self.v, mel_lens
        x = v.conv_pre(rp.zero_tail(mel, lens))
        for i in range(v.num_upsamples):
            for up in v.ups[i]:
                x = up(rp.zero_tail(x, lens))
                lens = lens * up.stride[0]
            xs = None
            for j in range(v.num_kernels):
                r = amp_block(v.resblocks[i * v.num_kernels + j], x, lens)
                xs = r if xs is None else xs + r
            x = xs / v.num_kernels
        x = activation1d(v.activation_post, x, lens)
        x = v.conv_post(rp.zero_tail(x, lens))
        x = torch.tanh(x) if v.use_tanh_at_final else torch.clamp(x, min=-1.0, max=1.0)
        return rp.zero_tail(x, lens)


@torch.no_grad()
def check_vocoder_against_official(vocoder: nn.Module, device: torch.device, frames: int = 48) -> None:
    wrapper = MaskedBigVGAN(vocoder).eval()
    g = torch.Generator(device="cpu").manual_seed(0)
    mel = (torch.randn(2, vocoder.h.num_mels, frames, generator=g) - 5.0).to(device)
    want = vocoder(mel[:1])
    got = wrapper(mel[:1], torch.tensor([frames], device=device))
    err = (got - want).abs().max().item()
    print(f"   vocoder wrapper vs BigVGAN.forward: max abs {err:.2e}")
    if err > 1e-4:
        raise AssertionError("vocoder wrapper does not reproduce BigVGAN.forward")
    short = frames - 11
    alone = vocoder(mel[1:, :, :short])
    batched = wrapper(mel, torch.tensor([frames, short], device=device))
    hop = batched.shape[2] // frames
    err = (batched[1:, :, : hop * short] - alone).abs().max().item()
    tail = batched[1:, :, hop * short :].abs().max().item()
    print(f"   vocoder padding invariance: max abs {err:.2e}, output past mel_lens {tail:.1e}")
    if err > 1e-4 or tail != 0.0:
        raise AssertionError("vocoder output depends on right padding")


def export_vocoder(vocoder: nn.Module, options: ExportOptions, device: torch.device) -> list[str]:
    if options.check:
        check_vocoder_against_official(vocoder, device)
    wrapper = MaskedBigVGAN(vocoder).to(device).eval()
    n_mels = vocoder.h.num_mels

    def inputs(lens: list[int]):
        return torch.randn(len(lens), n_mels, max(lens), device=device) - 5.0, torch.tensor(lens, device=device)

    ex = inputs([64, 40])
    names_in, names_out = ["mel", "mel_lens"], ["audio"]
    axes = {"mel": {0: "B", 2: "T"}, "mel_lens": {0: "B"}, "audio": {0: "B", 2: "samples"}}
    path = export_graph(wrapper, ex, "vocoder.onnx", names_in, names_out, axes, options)
    if options.check:
        session = ort_session(path)
        for i, feed in enumerate((ex, inputs([100, 100, 37]))):
            parity(wrapper, session, feed, names_in, names_out, f"vocoder #{i}", options.rtol)
    return [path]
