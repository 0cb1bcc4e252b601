"""IndexTTS2's UnifiedVoice GPT (indextts/gpt/model_v2.py) as three exportable graphs.

Module and parameter names follow the official checkpoint (`gpt.h.{i}.attn.c_attn.weight`, `mel_head`, ...), and
the projections use HF GPT-2's Conv1D layout (weight is (in, out), y = x @ W + b), so real weights would load
unchanged and the ONNX MatMuls need no transposes.

Graphs (see gpu-node/MODEL.md):
  GptConditioning  speaker_latent, emo_vec                     -> cond_prefix
  GptPrefill       cond_prefix, text_ids                       -> logits, hidden, present_*
  GptDecode        mel_ids, mel_pos, attention_mask, past_*    -> logits, hidden, new_*
  GptLatent        cond_prefix, text_ids, codes                -> latent   (the s2mel latents' teacher-forced pass)

gpt_decode does not concatenate the caches: the host keeps each layer's K/V in preallocated buffers of some
capacity P, passes them whole as past_* (slots with attention_mask 0 are ignored, whatever they hold), and writes
the step's new_key/new_value (B,H,1,hd) into a free slot itself. The graph scores the single query against the
past and against its own key separately and concatenates only those scores.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

# Additive attention bias for masked keys. -1e4 is representable in fp16 (the official TRT export uses the same
# value) and exp(-1e4 + O(10)) underflows to exactly 0 in fp32, so masked keys contribute nothing.
MASK_BIAS = -1.0e4


class Conv1D(nn.Module):
    """HF GPT-2 Conv1D: a linear layer whose weight is stored (in, out)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.c_attn = Conv1D(dim, 3 * dim)
        self.c_proj = Conv1D(dim, dim)

    def _qkv(self, x):
        b, t, d = x.shape
        q, k, v = (self.c_attn(x)).split(d, dim=-1)
        return (z.reshape(b, t, self.heads, self.head_dim).transpose(1, 2) for z in (q, k, v))

    def forward(self, x, bias):
        """Self-attention over x alone (prefill, teacher-forced pass). x (B,T,D); bias broadcastable to
        (B,H,T,T). Returns y, k, v with k/v (B,H,T,hd)."""
        b, t, d = x.shape
        q, k, v = self._qkv(x)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)) + bias
        y = torch.softmax(scores, dim=-1) @ v
        y = y.transpose(1, 2).reshape(b, t, d)
        return self.c_proj(y), k, v

    def step(self, x, past_k, past_v, bias):
        """One new token against a host-held cache, without concatenating it. x (B,1,D); past_k/v (B,H,P,hd);
        bias (B,1,1,P+1) additive (last column: the new token). Returns y, k_new, v_new with k/v (B,H,1,hd).

        scores = [q . past_k^T, q . k_new] * scale + bias -> softmax -> p[:P] @ past_v + p[P] * v_new. Masked
        slots get exactly zero weight, so whatever finite values they hold contribute nothing."""
        b, t, d = x.shape
        q, k, v = self._qkv(x)
        scale = 1.0 / math.sqrt(self.head_dim)
        s_past = (q @ past_k.transpose(-1, -2)) * scale  # (B,H,1,P)
        s_new = (q * k).sum(dim=-1, keepdim=True) * scale  # (B,H,1,1)
        p = torch.softmax(torch.cat([s_past, s_new], dim=-1) + bias, dim=-1)
        y = p[..., :-1] @ past_v + p[..., -1:] * v
        y = y.transpose(1, 2).reshape(b, t, d)
        return self.c_proj(y), k, v


class MLP(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.c_fc = Conv1D(dim, 4 * dim)
        self.c_proj = Conv1D(4 * dim, dim)

    def forward(self, x):
        # GPT-2's "gelu_new" is the tanh approximation.
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    """GPT-2 pre-LN block."""

    def __init__(self, dim, heads, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.ln_2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLP(dim)

    def forward(self, x, past_k, past_v, bias):
        """Without a past: self-attention over x, returns x, k, v (B,H,T,hd). With one (decode, T = 1): returns
        x and only the new token's k, v (B,H,1,hd)."""
        h = self.ln_1(x)
        a, k, v = self.attn(h, bias) if past_k is None else self.attn.step(h, past_k, past_v, bias)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, k, v


class GPT2(nn.Module):
    """HF GPT2Model minus its token/position tables (IndexTTS2 nulls `wpe` and feeds inputs_embeds)."""

    def __init__(self, dim, layers, heads, eps):
        super().__init__()
        self.h = nn.ModuleList(Block(dim, heads, eps) for _ in range(layers))
        self.ln_f = nn.LayerNorm(dim, eps=eps)

    def forward(self, x, pasts, bias):
        """pasts None: full causal pass, returns (h, [k0, v0, k1, ...]) over all T positions (prefill's
        present_*). pasts = host caches (decode): returns (h, [k0, v0, ...]) of the new token only (new_*)."""
        kvs = []
        for i, block in enumerate(self.h):
            pk, pv = (pasts[2 * i], pasts[2 * i + 1]) if pasts is not None else (None, None)
            x, k, v = block(x, pk, pv, bias)
            kvs += [k, v]
        return self.ln_f(x), kvs


class LearnedPositionEmbeddings(nn.Module):
    def __init__(self, rows, dim):
        super().__init__()
        self.emb = nn.Embedding(rows, dim)

    def forward(self, positions):
        return self.emb(positions)


class UnifiedVoice(nn.Module):
    """The parameters of UnifiedVoice that inference touches after conditioning."""

    def __init__(self, cfg):
        super().__init__()
        g = cfg["gpt"]
        d = g["model_dim"]
        self.cfg = g
        # number_text_tokens * types + 1 rows, as in model_v2.py (the extra row is never indexed).
        self.text_embedding = nn.Embedding(g["number_text_tokens"] + 1, d)
        self.mel_embedding = nn.Embedding(g["number_mel_codes"], d)
        self.text_pos_embedding = LearnedPositionEmbeddings(g["text_position_table"], d)
        self.mel_pos_embedding = LearnedPositionEmbeddings(g["mel_position_table"], d)
        self.speed_emb = nn.Embedding(2, d)
        self.gpt = GPT2(d, g["layers"], g["heads"], g["layer_norm_eps"])
        self.final_norm = nn.LayerNorm(d, eps=g["layer_norm_eps"])
        self.mel_head = nn.Linear(d, g["number_mel_codes"])

    def init_random(self, generator):
        """GPT-2 initialisation (N(0, 0.02); residual projections scaled by 1/sqrt(2L)); LayerNorms identity."""
        std = 0.02
        resid_std = std / math.sqrt(2 * self.cfg["layers"])
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                p.data.normal_(0.0, resid_std, generator=generator)
            elif p.dim() >= 2:
                p.data.normal_(0.0, std, generator=generator)
            elif "ln_" in name or "norm" in name:
                p.data.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.data.zero_()

    def conditioning(self, speaker_latent, emo_vec):
        b = speaker_latent.shape[0]
        # model_v2.inference_speech: cat(latent + emo_vec, speed_emb(ones), speed_emb(zeros)).
        half = self.speed_emb.weight[1].reshape(1, 1, -1).expand(b, 1, -1)
        full = self.speed_emb.weight[0].reshape(1, 1, -1).expand(b, 1, -1)
        return torch.cat([speaker_latent + emo_vec.unsqueeze(1), half, full], dim=1)

    def text_embeds(self, text_ids):
        pos = torch.arange(text_ids.shape[1], device=text_ids.device)
        return self.text_embedding(text_ids) + self.text_pos_embedding(pos).unsqueeze(0)

    def mel_embeds(self, mel_ids, mel_pos):
        """mel_ids (B,T), mel_pos (B,T): embedding + per-row mel position (0 at start_mel)."""
        return self.mel_embedding(mel_ids) + self.mel_pos_embedding(mel_pos)

    def heads(self, h):
        hidden = self.final_norm(h)
        return self.mel_head(hidden), hidden

    def forward_full(self, cond_prefix, text_ids, mel_ids):
        """Teacher-forced reference pass over [cond][text][start_mel, c1..]: (logits, hidden) at the mel
        positions, (B,T_mel,V) and (B,T_mel,D). Not exported; check_model.py compares the KV-cached graphs to it."""
        b, n = mel_ids.shape
        pos = torch.arange(n).unsqueeze(0).expand(b, n)
        x = torch.cat([cond_prefix, self.text_embeds(text_ids), self.mel_embeds(mel_ids, pos)], dim=1)
        t = x.shape[1]
        bias = causal_bias(t, x.dtype)
        h, _ = self.gpt(x, None, bias)
        logits, hidden = self.heads(h[:, -n:])
        return logits, hidden


def causal_bias(t, dtype):
    idx = torch.arange(t)
    future = (idx.unsqueeze(0) > idx.unsqueeze(1)).to(dtype)
    return (future * MASK_BIAS).reshape(1, 1, t, t)


class GptConditioning(nn.Module):
    def __init__(self, uv):
        super().__init__()
        self.uv = uv

    def forward(self, speaker_latent, emo_vec):
        return self.uv.conditioning(speaker_latent, emo_vec)


class GptPrefill(nn.Module):
    """The prompt pass. Its only mel input is start_mel at position 0, so instead of carrying the whole mel
    embedding and mel position tables (8194 + 1818 rows) the graph carries their one summed row as the buffer
    `start_mel_embedding`; call sync_start_embedding() after changing the weights."""

    def __init__(self, uv):
        super().__init__()
        self.uv = uv
        self.register_buffer("start_mel_embedding", torch.zeros(uv.cfg["model_dim"]))
        self.sync_start_embedding()

    def sync_start_embedding(self):
        with torch.no_grad():
            start = torch.tensor([[self.uv.cfg["start_mel_token"]]])
            self.start_mel_embedding.copy_(self.uv.mel_embeds(start, torch.zeros_like(start))[0, 0])

    def forward(self, cond_prefix, text_ids):
        mel = self.start_mel_embedding.reshape(1, 1, -1).expand(text_ids.shape[0], 1, -1)
        x = torch.cat([cond_prefix, self.uv.text_embeds(text_ids), mel], dim=1)
        h, presents = self.uv.gpt(x, None, causal_bias(x.shape[1], x.dtype))
        logits, hidden = self.uv.heads(h[:, -1])
        return (logits, hidden, *presents)


class GptDecode(nn.Module):
    """One step over host-held caches: mel_ids (B,1), mel_pos (B,), attention_mask (B,P+1), past_* (B,H,P,hd)
    -> logits (B,V), hidden (B,D), new_key/new_value per layer (B,H,1,hd). P is the host's cache capacity; the
    host appends new_* into a free slot and sets its mask column to 1 for the next step."""

    def __init__(self, uv):
        super().__init__()
        self.uv = uv

    def forward(self, mel_ids, mel_pos, attention_mask, *pasts):
        x = self.uv.mel_embeds(mel_ids, mel_pos.unsqueeze(1))
        # Mask 0 marks cache slots that are not this row's history (spare capacity, other layouts, stale data):
        # they get MASK_BIAS and weigh exactly 0. The last column is the new token itself.
        bias = ((1 - attention_mask).to(x.dtype) * MASK_BIAS).unsqueeze(1).unsqueeze(1)
        h, new_kv = self.uv.gpt(x, list(pasts), bias)
        logits, hidden = self.uv.heads(h[:, -1])
        return (logits, hidden, *new_kv)


class GptLatent(nn.Module):
    """The second, teacher-forced GPT pass infer_v2.py runs after generation for the s2mel latents
    (`UnifiedVoice.forward`, `get_logits(..., return_latent=True)`, `[:, :-2]`): cond_prefix (B,34,D), text_ids
    (B,Lt) `[start_text] ids [stop_text]`, codes (B,T) the generated codes without stop -> latent (B,T,D), the
    final-normed hidden states at `[start_mel, c_0 .. c_{T-2}]` with mel positions 0..T-1. Causal, so right-padding
    `codes` leaves the real rows unchanged."""

    def __init__(self, uv):
        super().__init__()
        self.uv = uv

    def forward(self, cond_prefix, text_ids, codes):
        b, n = codes.shape
        start = torch.full_like(codes[:, :1], self.uv.cfg["start_mel_token"])
        mel_ids = torch.cat([start, codes[:, :-1]], dim=1)
        pos = torch.arange(n, device=codes.device).unsqueeze(0).expand(b, n)
        x = torch.cat([cond_prefix, self.uv.text_embeds(text_ids), self.uv.mel_embeds(mel_ids, pos)], dim=1)
        h, _ = self.uv.gpt(x, None, causal_bias(x.shape[1], x.dtype))
        return self.uv.final_norm(h[:, -n:])


def kv_names(prefix, layers):
    out = []
    for i in range(layers):
        out += [f"{prefix}_key_{i}", f"{prefix}_value_{i}"]
    return out
