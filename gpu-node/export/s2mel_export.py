"""Stages 10-12: latent projector, length regulator and one DiT step of the flow-matching decoder.

Written from `indextts/infer_v2.py` (the s2mel part of infer_generator), `indextts/s2mel/modules/
{length_regulator,diffusion_transformer,wavenet,flow_matching}.py` and the official exports in
`backends/trt/export/export_{latent_projector,length_regulator,dit}_onnx.py`, with these differences:

* latent_projector: `vq2emb` takes codes as (n_q, B, T), so the codes are `unsqueeze(0)`-ed as in the TRT export
  (infer_v2.py's `unsqueeze(1)` is only right at B = 1). Codes are clamped into the codebook so that padding
  (e.g. stop_mel) in a padded row cannot index out of range; valid codes are unaffected.
* length_regulator: the target length is an input, as in the TRT export; `F.interpolate(mode="nearest")` is written
  as the index gather PyTorch computes (`floor(i * T_in / T_out)` in float32), which traces to a dynamic Gather.
  GroupNorm spans time, so the graph runs one request at a time (B = 1).
* dit_step: the official DiT masks attention keys past `x_lens` but not its WaveNet head, whose kernel-5 SConv1d
  layers reflect-pad at the end of the *tensor*, nor its output. The wrapper re-runs `DiT.forward` over the same
  modules with (a) an additive (B, 1, 1, T) key mask (-1e4, instead of the (B, 1, T, T) boolean repeat),
  (b) per-row reflection padding in the WaveNet, (c) the output zeroed past `x_lens`. At B = 1 and full length it
  is `DiT.forward`. CFG (the 2B batch of conditional + zeroed rows and the mix) stays on the host.
"""

from __future__ import annotations

import torch
import torch.nn as nn

import row_padding as rp
from onnx_io import ExportOptions, export_graph, ort_session, parity

NEG = -1.0e4


class LatentProjector(nn.Module):
    """latent (B, T, D), codes (B, T) -> s_infer (B, T, S) = gpt_layer(latent) + vq2emb(codes)."""

    def __init__(self, gpt_layer: nn.Module, quantizer: nn.Module, codebook_size: int):
        super().__init__()
        self.gpt_layer, self.quantizer, self.codebook_size = gpt_layer, quantizer, codebook_size

    def forward(self, latent: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        codes = codes.clamp(min=0, max=self.codebook_size - 1)
        emb = self.quantizer.vq2emb(codes.unsqueeze(0))  # (B, S, T)
        return self.gpt_layer(latent) + emb.transpose(1, 2)


class LengthRegulator(nn.Module):
    """s_infer (1, T, S), target_len (1,) -> cond (1, target_len, C) (InterpolateRegulator.forward at B = 1)."""

    def __init__(self, regulator: nn.Module):
        super().__init__()
        if regulator.is_discrete or not regulator.interpolate or hasattr(regulator, "vq"):
            raise ValueError("expected the continuous, interpolating length regulator of IndexTTS2")
        self.regulator = regulator

    def forward(self, s_infer: torch.Tensor, target_len: torch.Tensor) -> torch.Tensor:
        r = self.regulator
        x = r.content_in_proj(s_infer)  # (1, T_in, C)
        t_in = torch._shape_as_tensor(x)[1].to(x.device)  # stays a traced value (torch.tensor() would freeze it)
        t_out = target_len[0]
        scale = t_in.to(torch.float32) / t_out.to(torch.float32)
        source = torch.floor(torch.arange(t_out, device=x.device).to(torch.float32) * scale).to(torch.long)
        source = torch.minimum(source, t_in - 1)
        x = x.index_select(1, source).transpose(1, 2)  # (1, C, T_out)
        if r.f0_condition:  # no f0 at inference: the learned "no f0" vector is added
            x = x + r.f0_mask.unsqueeze(-1)
        return r.model(x).transpose(1, 2)


def _reflect_conv(layer: nn.Module, x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """One WaveNet dilated conv as for a row alone: SConv1d reflect-pads, plain Conv1d zero-pads."""
    if isinstance(layer, nn.Conv1d):
        return layer(rp.zero_tail(x, lens))
    conv = layer.conv.conv  # SConv1d -> NormConv1d -> Conv1d
    if layer.causal or layer.pad_mode != "reflect" or conv.stride[0] != 1:
        raise ValueError("expected non-causal, stride-1, reflect-padded SConv1d layers in the DiT WaveNet")
    total = (conv.kernel_size[0] - 1) * conv.dilation[0]
    right = total // 2
    return layer.conv(rp.reflect_pad_rows(x, lens, total - right, right))


def _pointwise(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    conv = layer if isinstance(layer, nn.Conv1d) else layer.conv.conv
    if conv.kernel_size[0] != 1 or conv.stride[0] != 1:
        raise ValueError("expected a 1x1 convolution")
    return layer(x) if isinstance(layer, nn.Conv1d) else layer.conv(x)


def wavenet(wn: nn.Module, x: torch.Tensor, mask: torch.Tensor, lens: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """modules/wavenet.py WN.forward with per-row padding (the fused tanh-sigmoid written out, as the TRT export
    does for its @torch.jit.script version)."""
    hidden = wn.hidden_channels
    output = torch.zeros_like(x)
    g = _pointwise(wn.cond_layer, g)
    for i in range(wn.n_layers):
        x_in = _reflect_conv(wn.in_layers[i], x, lens)
        acts = x_in + g[:, i * 2 * hidden : (i + 1) * 2 * hidden, :]
        acts = torch.tanh(acts[:, :hidden]) * torch.sigmoid(acts[:, hidden:])
        res_skip = _pointwise(wn.res_skip_layers[i], acts)
        if i < wn.n_layers - 1:
            x = (x + res_skip[:, :hidden]) * mask
            output = output + res_skip[:, hidden:]
        else:
            output = output + res_skip
    return output * mask


class DitStep(nn.Module):
    """x, prompt_x (B, M, T), x_lens (B,), t (B,), style (B, Y), cond (B, T, C) -> velocity (B, M, T)."""

    def __init__(self, dit: nn.Module):
        super().__init__()
        expected = {
            "time_as_token": False,
            "style_as_token": False,
            "transformer_style_condition": True,
            "long_skip_connection": True,
            "final_layer_type": "wavenet",
            "is_causal": False,
        }
        wrong = {k: getattr(dit, k, None) for k, v in expected.items() if getattr(dit, k, None) != v}
        if wrong or getattr(dit.wavenet, "gin_channels", 0) == 0:
            raise ValueError(f"unexpected DiT configuration {wrong}; this wrapper follows IndexTTS2's s2mel config")
        self.dit = dit

    def forward(self, x, prompt_x, x_lens, t, style, cond):
        d = self.dit
        frames = x.shape[2]
        valid = rp.sequence_mask(x_lens, frames).to(x.dtype)  # (B, T)
        t1 = d.t_embedder(t)
        x_t = x.transpose(1, 2)
        merged = torch.cat(
            [x_t, prompt_x.transpose(1, 2), d.cond_projection(cond), style.unsqueeze(1).expand(-1, frames, -1)], dim=-1
        )
        x_in = d.cond_x_merge_linear(merged)
        key_bias = ((1.0 - valid) * NEG)[:, None, None, :]  # every query sees only its row's valid keys
        x_res = d.transformer(x_in, t1.unsqueeze(1), d.input_pos[:frames], key_bias)
        x_res = d.skip_linear(torch.cat([x_res, x_t], dim=-1))
        h = d.conv1(x_res).transpose(1, 2)
        h = wavenet(d.wavenet, h, valid.unsqueeze(1), x_lens, d.t_embedder2(t).unsqueeze(2))
        h = h.transpose(1, 2) + d.res_projection(x_res)
        h = d.final_layer(h, t1).transpose(1, 2)
        return d.conv2(h) * valid.unsqueeze(1)


@torch.no_grad()
def check_dit_against_official(dit: nn.Module, device: torch.device, frames: int = 300) -> None:
    """At full length the wrapper must be DiT.forward; in a padded batch a row must match itself alone."""
    step = DitStep(dit).eval()
    mels = dit.in_channels
    style_dim = dit.cond_x_merge_linear.in_features - 2 * mels - dit.cond_projection.out_features
    g = torch.Generator(device="cpu").manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=g).to(device)

    x, px, cond = rand(2, mels, frames), rand(2, mels, frames), rand(2, frames, dit.cond_projection.in_features)
    t, style = torch.tensor([0.3, 0.3], device=device), rand(2, style_dim)
    lens = torch.tensor([frames, frames], device=device)
    want = dit(x, px, lens, t, style, cond)
    err = ((step(x, px, lens, t, style, cond) - want).abs().max() / want.abs().max()).item()
    print(f"   dit_step wrapper vs DiT.forward: relative {err:.2e}")
    if err > 1e-4:
        raise AssertionError("dit_step wrapper does not reproduce DiT.forward")
    short = frames - 37
    alone = step(x[1:, :, :short], px[1:, :, :short], lens[1:] - 37, t[1:], style[1:], cond[1:, :short])
    padded = step(x, px, torch.tensor([frames, short], device=device), t, style, cond)
    err = ((padded[1:, :, :short] - alone).abs().max() / alone.abs().max()).item()
    tail = padded[1:, :, short:].abs().max().item()
    print(f"   dit_step padding invariance: relative {err:.2e}, output past x_lens {tail:.1e}")
    if err > 1e-4 or tail != 0.0:
        raise AssertionError("dit_step output depends on right padding")


def export_s2mel(s2mel, semantic_codec, codebook_size: int, options: ExportOptions, device: torch.device) -> list[str]:
    paths = []
    d_in = s2mel.models["gpt_layer"][0].in_features
    projector = LatentProjector(s2mel.models["gpt_layer"], semantic_codec.quantizer, codebook_size).to(device).eval()
    ex = (torch.randn(2, 40, d_in, device=device), torch.randint(0, codebook_size, (2, 40), device=device))
    names_in, names_out = ["latent", "codes"], ["s_infer"]
    paths.append(export_graph(projector, ex, "latent_projector.onnx", names_in, names_out,
                              {"latent": {0: "B", 1: "T"}, "codes": {0: "B", 1: "T"}, "s_infer": {0: "B", 1: "T"}},
                              options))
    if options.check:
        session = ort_session(paths[-1])
        other = (torch.randn(3, 17, d_in, device=device), torch.randint(0, codebook_size, (3, 17), device=device))
        for i, inputs in enumerate((ex, other)):
            parity(projector, session, inputs, names_in, names_out, f"latent_projector #{i}", options.rtol)

    regulator = s2mel.models["length_regulator"]
    wrapper = LengthRegulator(regulator).to(device).eval()
    s_dim = regulator.content_in_proj.in_features
    ex = (torch.randn(1, 50, s_dim, device=device), torch.tensor([86], device=device))
    if options.check:  # the gather must be F.interpolate(mode="nearest"), and the graph InterpolateRegulator
        for t_in, t_out in ((50, 86), (50, 50), (50, 100), (123, 211), (7, 3)):
            s = torch.randn(1, t_in, s_dim, device=device)
            want = regulator(s, ylens=torch.tensor([t_out], device=device), n_quantizers=3, f0=None)[0]
            got = wrapper(s, torch.tensor([t_out], device=device))
            if want.shape != got.shape or (want - got).abs().max() > 1e-4 * want.abs().max():
                raise AssertionError(f"length_regulator wrapper differs from the official module at {t_in}->{t_out}")
    names_in, names_out = ["s_infer", "target_len"], ["cond"]
    paths.append(export_graph(wrapper, ex, "length_regulator.onnx", names_in, names_out,
                              {"s_infer": {1: "T"}, "cond": {1: "target_len"}}, options))
    if options.check:
        session = ort_session(paths[-1])
        other = (torch.randn(1, 123, s_dim, device=device), torch.tensor([211], device=device))
        for i, inputs in enumerate((ex, other)):
            parity(wrapper, session, inputs, names_in, names_out, f"length_regulator #{i}", options.rtol)

    dit = s2mel.models["cfm"].estimator
    if options.check:
        check_dit_against_official(dit, device)
    step = DitStep(dit).to(device).eval()
    mels, c_in = dit.in_channels, dit.cond_projection.in_features
    y = dit.cond_x_merge_linear.in_features - 2 * mels - dit.cond_projection.out_features

    def dit_inputs(b: int, frames: int, lens: list[int]):
        return (torch.randn(b, mels, frames, device=device), torch.randn(b, mels, frames, device=device),
                torch.tensor(lens, device=device), torch.rand(b, device=device), torch.randn(b, y, device=device),
                torch.randn(b, frames, c_in, device=device))

    ex = dit_inputs(2, 160, [160, 121])
    names_in = ["x", "prompt_x", "x_lens", "t", "style", "cond"]
    axes = {"x": {0: "B", 2: "T"}, "prompt_x": {0: "B", 2: "T"}, "x_lens": {0: "B"}, "t": {0: "B"},
            "style": {0: "B"}, "cond": {0: "B", 1: "T"}, "output": {0: "B", 2: "T"}}
    paths.append(export_graph(step, ex, "dit_step.onnx", names_in, ["output"], axes, options))
    if options.check:
        session = ort_session(paths[-1])
        for i, inputs in enumerate((ex, dit_inputs(4, 333, [333, 300, 64, 200]))):
            parity(step, session, inputs, names_in, ["output"], f"dit_step #{i}", options.rtol)
    return paths
