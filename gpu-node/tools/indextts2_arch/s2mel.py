"""IndexTTS2's semantic-to-mel stack: latent projector, length regulator and the DiT estimator.

Sources: indextts/infer_v2.py (gpt_layer + semantic_codec.quantizer.vq2emb), indextts/s2mel/modules/
length_regulator.py (InterpolateRegulator), diffusion_transformer.py (DiT), gpt_fast/model.py (Transformer with
AdaptiveLayerNorm + RMSNorm + RoPE + SwiGLU, UViT skips) and wavenet.py (WN).

Deliberate differences, all in favour of batch invariance (a row's output in a padded batch == its output alone):
  * every convolution input is multiplied by the x_lens mask first and convolutions pad with zeros (the original
    WN feeds the unmasked transformer output into its first conv and SConv1d pads by reflection);
  * RoPE angles are computed in fp32 on the fly (gpt-fast caches a bf16 table of block_size rows);
  * weight-normed layers are plain layers (weight norm is a reparametrisation; with random weights it is moot).
Unused training-only modules (x_embedder, cond_embedder, content_mask_embedder, mask_token) are omitted.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

MASK_BIAS = -1.0e4


def length_mask(lens, t, dtype):
    """(B,) lengths -> (B, t) with 1 for valid positions."""
    return (torch.arange(t, device=lens.device).unsqueeze(0) < lens.unsqueeze(1)).to(dtype)


# ---------------------------------------------------------------------------------------------- stage 10

class FactorizedVQ(nn.Module):
    """MaskGCT FactorizedVectorQuantize, decode side only: codebook lookup (8-dim) and the 1x1 out-projection."""

    def __init__(self, codebook_size, codebook_dim, hidden):
        super().__init__()
        self.codebook = nn.Embedding(codebook_size, codebook_dim)
        self.out_project = nn.Linear(codebook_dim, hidden)

    def vq2emb(self, codes):
        return self.out_project(self.codebook(codes))


class LatentProjector(nn.Module):
    """s_infer = gpt_layer(latent) + vq2emb(codes); gpt_layer is Linear D->256->128->S without activations."""

    def __init__(self, cfg):
        super().__init__()
        d, s = cfg["gpt"]["model_dim"], cfg["semantic"]["hidden_size"]
        self.gpt_layer = nn.Sequential(nn.Linear(d, 256), nn.Linear(256, 128), nn.Linear(128, s))
        sem = cfg["semantic"]
        self.quantizer = FactorizedVQ(sem["codebook_size"], sem["codebook_dim"], s)

    def forward(self, latent, codes):
        return self.gpt_layer(latent) + self.quantizer.vq2emb(codes)


# ---------------------------------------------------------------------------------------------- stage 11

class LengthRegulator(nn.Module):
    """InterpolateRegulator (continuous content): Linear S->C, nearest resize to target_len,
    N x (Conv1d k3 + GroupNorm + Mish), 1x1 conv."""

    def __init__(self, cfg):
        super().__init__()
        c, s = cfg["s2mel"]["content_dim"], cfg["semantic"]["hidden_size"]
        groups = cfg["s2mel"]["length_regulator_groups"]
        self.content_in_proj = nn.Linear(s, c)
        layers = []
        for _ in range(cfg["s2mel"]["length_regulator_blocks"]):
            layers += [nn.Conv1d(c, c, 3, 1, 1), nn.GroupNorm(groups, c), nn.Mish()]
        layers.append(nn.Conv1d(c, c, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, s_infer, target_len):
        x = self.content_in_proj(s_infer).transpose(1, 2)  # (B, C, T_in)
        t_in = torch._shape_as_tensor(x)[2]  # a tensor, so the trace keeps T_in dynamic
        t_out = target_len[0]
        # F.interpolate(mode="nearest") with a data-dependent size: src = min(floor(dst * (in/out)), in-1), computed
        # in fp32 exactly like ATen's nearest_idx, then gathered, so the graph keeps target_len dynamic.
        scale = t_in.to(torch.float32) / t_out.to(torch.float32)
        src = torch.floor(torch.arange(t_out).to(torch.float32) * scale).to(torch.int64)
        src = torch.minimum(src, t_in - 1)
        x = torch.index_select(x, 2, src)
        return self.model(x).transpose(1, 2)


# ---------------------------------------------------------------------------------------------- stage 12

class TimestepEmbedder(nn.Module):
    def __init__(self, hidden, freq_dim=256, max_period=10000, scale=1000):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(freq_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        half = freq_dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs)
        self.scale = scale

    def forward(self, t):
        args = self.scale * t.unsqueeze(1) * self.freqs.unsqueeze(0)
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(torch.mean(x * x, dim=-1, keepdim=True) + self.eps) * self.weight


class AdaptiveLayerNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.project_layer = nn.Linear(dim, 2 * dim)
        self.norm = RMSNorm(dim)
        self.dim = dim

    def forward(self, x, c):
        weight, bias = torch.split(self.project_layer(c), self.dim, dim=-1)
        return weight * self.norm(x) + bias


def rope(x, cos, sin):
    """gpt-fast apply_rotary_emb: rotates interleaved (even, odd) pairs. x (B,T,H,hd); cos/sin (T, hd/2)."""
    b, t, h, d = x.shape
    xs = x.reshape(b, t, h, d // 2, 2)
    x0, x1 = xs[..., 0], xs[..., 1]
    c, s = cos.reshape(1, t, 1, d // 2), sin.reshape(1, t, 1, d // 2)
    return torch.stack([x0 * c - x1 * s, x1 * c + x0 * s], dim=-1).reshape(b, t, h, d)


class DiTAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.wqkv = nn.Linear(dim, 3 * dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)

    def forward(self, x, cos, sin, bias):
        b, t, d = x.shape
        q, k, v = self.wqkv(x).split(d, dim=-1)
        q = rope(q.reshape(b, t, self.heads, self.head_dim), cos, sin).transpose(1, 2)
        k = rope(k.reshape(b, t, self.heads, self.head_dim), cos, sin).transpose(1, 2)
        v = v.reshape(b, t, self.heads, self.head_dim).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)) + bias
        y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        return self.wo(y)


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        n_hidden = int(2 * 4 * dim / 3)
        inter = ((n_hidden + 255) // 256) * 256  # gpt-fast find_multiple(n_hidden, 256)
        self.w1 = nn.Linear(dim, inter, bias=False)
        self.w3 = nn.Linear(dim, inter, bias=False)
        self.w2 = nn.Linear(inter, dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self, dim, heads, skip_in):
        super().__init__()
        self.attention = DiTAttention(dim, heads)
        self.feed_forward = FeedForward(dim)
        self.attention_norm = AdaptiveLayerNorm(dim)
        self.ffn_norm = AdaptiveLayerNorm(dim)
        self.skip_in_linear = nn.Linear(2 * dim, dim) if skip_in else None

    def forward(self, x, c, cos, sin, bias, skip=None):
        if skip is not None:
            x = self.skip_in_linear(torch.cat([x, skip], dim=-1))
        h = x + self.attention(self.attention_norm(x, c), cos, sin, bias)
        return h + self.feed_forward(self.ffn_norm(h, c))


class Transformer(nn.Module):
    """gpt-fast Transformer as configured by IndexTTS2: AdaLN(time) conditioning, non-causal, UViT skips
    (the first depth//2 layers emit, layers after depth//2 receive, last-in first-out)."""

    def __init__(self, dim, heads, depth, rope_base):
        super().__init__()
        self.emit = [i for i in range(depth) if i < depth // 2]
        self.receive = [i for i in range(depth) if i > depth // 2]
        self.layers = nn.ModuleList(TransformerBlock(dim, heads, i in self.receive) for i in range(depth))
        self.norm = AdaptiveLayerNorm(dim)
        hd = dim // heads
        self.register_buffer("inv_freq", 1.0 / (rope_base ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd)))

    def forward(self, x, c, bias):
        pos = torch.arange(x.shape[1]).to(torch.float32)
        angles = pos.unsqueeze(1) * self.inv_freq.unsqueeze(0)
        cos, sin = torch.cos(angles), torch.sin(angles)
        skips = []
        for i, layer in enumerate(self.layers):
            skip = skips.pop() if i in self.receive else None
            x = layer(x, c, cos, sin, bias, skip)
            if i in self.emit:
                skips.append(x)
        return self.norm(x, c)


class WN(nn.Module):
    """VITS WaveNet (gated tanh*sigmoid, global conditioning on the timestep), with masked zero-padded convs."""

    def __init__(self, hidden, kernel, dilation_rate, layers):
        super().__init__()
        self.hidden, self.n_layers = hidden, layers
        self.cond_layer = nn.Conv1d(hidden, 2 * hidden * layers, 1)
        self.in_layers, self.res_skip_layers = nn.ModuleList(), nn.ModuleList()
        for i in range(layers):
            dil = dilation_rate**i
            self.in_layers.append(nn.Conv1d(hidden, 2 * hidden, kernel, dilation=dil, padding=(kernel * dil - dil) // 2))
            out = 2 * hidden if i < layers - 1 else hidden
            self.res_skip_layers.append(nn.Conv1d(hidden, out, 1))

    def forward(self, x, mask, g):
        output = torch.zeros_like(x)
        g = self.cond_layer(g)
        n = self.hidden
        for i in range(self.n_layers):
            x_in = self.in_layers[i](x * mask)
            acts = x_in + g[:, i * 2 * n : (i + 1) * 2 * n, :]
            acts = torch.tanh(acts[:, :n]) * torch.sigmoid(acts[:, n:])
            res_skip = self.res_skip_layers[i](acts)
            if i < self.n_layers - 1:
                x = (x + res_skip[:, :n]) * mask
                output = output + res_skip[:, n:]
            else:
                output = output + res_skip
        return output * mask


def layer_norm_no_affine(x, eps):
    # nn.LayerNorm(elementwise_affine=False) exports (torch 1.13, opset 17) as a LayerNormalization node with an
    # empty scale input, which ONNX rejects; spell it out instead.
    mean = torch.mean(x, dim=-1, keepdim=True)
    var = torch.mean((x - mean) * (x - mean), dim=-1, keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps)


class FinalLayer(nn.Module):
    def __init__(self, hidden, out):
        super().__init__()
        self.eps = 1e-6
        self.linear = nn.Linear(hidden, out)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2 * hidden))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        return self.linear(layer_norm_no_affine(x, self.eps) * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1))


class DiT(nn.Module):
    """One estimator call: (x, prompt_x, x_lens, t, style, cond) -> velocity (B, 80, T), zero past x_lens."""

    def __init__(self, cfg):
        super().__init__()
        s = cfg["s2mel"]
        dim, wn = s["dit"]["hidden_dim"], s["wavenet"]
        m, y = s["n_mels"], s["style_dim"]
        self.t_embedder = TimestepEmbedder(dim, s["timestep_freq_dim"])
        self.cond_projection = nn.Linear(s["content_dim"], dim)
        # x (80) + prompt_x (80) + projected content (dim) + style (192): 864 -> 512 in IndexTTS2.
        self.cond_x_merge_linear = nn.Linear(2 * m + dim + y, dim)
        self.transformer = Transformer(dim, s["dit"]["num_heads"], s["dit"]["depth"], s["rope_base"])
        self.skip_linear = nn.Linear(dim + m, dim)  # long skip: [transformer out ; x]
        self.conv1 = nn.Linear(dim, wn["hidden_dim"])
        self.t_embedder2 = TimestepEmbedder(wn["hidden_dim"], s["timestep_freq_dim"])
        self.wavenet = WN(wn["hidden_dim"], wn["kernel_size"], wn["dilation_rate"], wn["num_layers"])
        self.res_projection = nn.Linear(dim, wn["hidden_dim"])
        # "official" (the `full` size): FinalLayer(wavenet hidden, 1, wavenet hidden) then Conv1d(hidden, 80, 1), as
        # diffusion_transformer.py builds it (512->512, 512->80). "compact" (tiny, small; the default, so the
        # committed tiny model still loads): hidden->80 then 80->80, cheaper at small widths.
        if s.get("dit_head", "compact") == "official":
            self.final_layer = FinalLayer(wn["hidden_dim"], wn["hidden_dim"])
            self.conv2 = nn.Conv1d(wn["hidden_dim"], m, 1)
        else:
            self.final_layer = FinalLayer(wn["hidden_dim"], m)
            self.conv2 = nn.Conv1d(m, m, 1)

    def forward(self, x, prompt_x, x_lens, t, style, cond):
        t_frames = x.shape[2]
        t1 = self.t_embedder(t)
        x_t = x.transpose(1, 2)
        style_t = style.unsqueeze(1).expand(-1, t_frames, -1)
        x_in = torch.cat([x_t, prompt_x.transpose(1, 2), self.cond_projection(cond), style_t], dim=-1)
        x_in = self.cond_x_merge_linear(x_in)
        mask = length_mask(x_lens, t_frames, x.dtype)  # (B, T)
        bias = ((1.0 - mask) * MASK_BIAS).unsqueeze(1).unsqueeze(1)  # keys only, like sequence_mask in DiT
        x_res = self.transformer(x_in, t1.unsqueeze(1), bias)
        x_res = self.skip_linear(torch.cat([x_res, x_t], dim=-1))
        mask_c = mask.unsqueeze(1)  # (B, 1, T)
        h = self.conv1(x_res).transpose(1, 2)
        t2 = self.t_embedder2(t).unsqueeze(2)
        h = self.wavenet(h, mask_c, t2).transpose(1, 2) + self.res_projection(x_res)
        h = self.final_layer(h, t1).transpose(1, 2)
        return self.conv2(h) * mask_c
