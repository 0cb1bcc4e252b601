"""BigVGAN v2 generator (nvidia/bigvgan_v2_22khz_80band_256x layout) with length masks.

conv_pre (k7) -> per stage: ConvTranspose1d upsampling, mean of AMPBlock1 residual blocks (anti-aliased SnakeBeta
activations, dilated convs) -> anti-aliased SnakeBeta -> conv_post (k7, no bias) -> clamp to [-1, 1].

Batch invariance: every time-mixing op (conv, transposed conv, anti-aliasing up/down filters) sees its input
multiplied by the length mask at its own sample rate, and every padding is zero padding (BigVGAN's
anti-aliasing filters pad by replication, which would make the last valid samples depend on the padded length).
So a row's audio in a padded batch equals its audio alone.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F


def kaiser_sinc_filter1d(cutoff, half_width, kernel_size):
    """alias_free_activation/torch/filter.py, verbatim maths."""
    even = kernel_size % 2 == 0
    half_size = kernel_size // 2
    delta_f = 4 * half_width
    a = 2.285 * (half_size - 1) * math.pi * delta_f + 7.95
    if a > 50.0:
        beta = 0.1102 * (a - 8.7)
    elif a >= 21.0:
        beta = 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21.0)
    else:
        beta = 0.0
    window = torch.kaiser_window(kernel_size, beta=beta, periodic=False)
    time = torch.arange(-half_size, half_size) + 0.5 if even else torch.arange(kernel_size) - half_size
    filt = 2 * cutoff * window * torch.special.sinc(2 * cutoff * time)
    return (filt / filt.sum()).view(1, 1, kernel_size)


class SnakeBeta(nn.Module):
    """x + 1/beta * sin^2(alpha x), alpha and beta stored as logs (snake_logscale: true)."""

    def __init__(self, channels):
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        alpha = torch.exp(self.alpha).reshape(1, -1, 1)
        beta = torch.exp(self.beta).reshape(1, -1, 1)
        return x + (1.0 / (beta + 1e-9)) * torch.pow(torch.sin(x * alpha), 2)


class Activation1d(nn.Module):
    """2x upsample (kaiser-sinc, k12) -> SnakeBeta -> 2x downsample, with masks and zero padding."""

    def __init__(self, channels, ratio=2, kernel_size=12):
        super().__init__()
        self.act = SnakeBeta(channels)
        self.ratio, self.channels = ratio, channels
        self.register_buffer("up_filter", kaiser_sinc_filter1d(0.5 / ratio, 0.6 / ratio, kernel_size))
        self.register_buffer("down_filter", kaiser_sinc_filter1d(0.5 / ratio, 0.6 / ratio, kernel_size))
        self.pad = kernel_size // ratio - 1
        self.crop_left = self.pad * ratio + (kernel_size - ratio) // 2
        self.crop_right = self.pad * ratio + (kernel_size - ratio + 1) // 2
        self.down_pad = (kernel_size // 2 - int(kernel_size % 2 == 0), kernel_size // 2)

    def forward(self, x, mask, mask2x):
        c = self.channels
        x = F.pad(x * mask, (self.pad, self.pad))
        x = self.ratio * F.conv_transpose1d(x, self.up_filter.expand(c, -1, -1), stride=self.ratio, groups=c)
        x = x[..., self.crop_left : x.shape[-1] - self.crop_right]
        x = self.act(x)
        x = F.pad(x * mask2x, self.down_pad)
        return F.conv1d(x, self.down_filter.expand(c, -1, -1), stride=self.ratio, groups=c)


class AMPBlock1(nn.Module):
    def __init__(self, channels, kernel_size, dilations):
        super().__init__()
        pad = lambda k, d: (k * d - d) // 2  # noqa: E731
        self.convs1 = nn.ModuleList(nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=pad(kernel_size, d)) for d in dilations)
        self.convs2 = nn.ModuleList(nn.Conv1d(channels, channels, kernel_size, padding=pad(kernel_size, 1)) for _ in dilations)
        self.activations = nn.ModuleList(Activation1d(channels) for _ in range(2 * len(dilations)))

    def forward(self, x, mask, mask2x):
        for i, (c1, c2) in enumerate(zip(self.convs1, self.convs2)):
            xt = self.activations[2 * i](x, mask, mask2x)
            xt = c1(xt * mask)
            xt = self.activations[2 * i + 1](xt, mask, mask2x)
            xt = c2(xt * mask)
            x = xt + x
        return x


class BigVGAN(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        v = cfg["vocoder"]
        ch = v["initial_channels"]
        self.rates = v["upsample_rates"]
        self.num_kernels = len(v["resblock_kernel_sizes"])
        self.conv_pre = nn.Conv1d(cfg["s2mel"]["n_mels"], ch, 7, 1, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (u, k) in enumerate(zip(v["upsample_rates"], v["upsample_kernel_sizes"])):
            c_in, c_out = ch // (2**i), ch // (2 ** (i + 1))
            self.ups.append(nn.ModuleList([nn.ConvTranspose1d(c_in, c_out, k, u, padding=(k - u) // 2)]))
            for rk, rd in zip(v["resblock_kernel_sizes"], v["resblock_dilations"]):
                self.resblocks.append(AMPBlock1(c_out, rk, rd))
        ch_out = ch // (2 ** len(self.rates))
        self.activation_post = Activation1d(ch_out)
        self.conv_post = nn.Conv1d(ch_out, 1, 7, 1, padding=3, bias=False)  # use_bias_at_final: false

    @staticmethod
    def _mask(lens, factor, t, dtype):
        valid = lens * factor
        return (torch.arange(t).unsqueeze(0) < valid.unsqueeze(1)).to(dtype).unsqueeze(1)

    def forward(self, mel, mel_lens):
        t = mel.shape[2]
        factor = 1
        m = self._mask(mel_lens, 1, t, mel.dtype)
        x = self.conv_pre(mel * m)
        for i, u in enumerate(self.rates):
            x = self.ups[i][0](x * m)
            factor *= u
            m = self._mask(mel_lens, factor, x.shape[2], x.dtype)
            m2 = self._mask(mel_lens, 2 * factor, 2 * x.shape[2], x.dtype)
            xs = None
            for j in range(self.num_kernels):
                y = self.resblocks[i * self.num_kernels + j](x, m, m2)
                xs = y if xs is None else xs + y
            x = xs / self.num_kernels
        m2 = self._mask(mel_lens, 2 * factor, 2 * x.shape[2], x.dtype)
        x = self.activation_post(x, m, m2)
        x = self.conv_post(x * m)
        return torch.clamp(x, -1.0, 1.0) * m
