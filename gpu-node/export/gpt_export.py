"""Stages 7-8: the GPT conditioning prefix and the autoregressive GPT as prefill + decode graphs with a KV cache.

The official backend (backends/trt) leaves the GPT to TensorRT-LLM; these wrappers are written from
`indextts/gpt/model_v2.py` (class UnifiedVoice) instead:

* conditioning: `inference_speech` builds `[speaker_latent + emo_vec] [speed_emb(1)] [speed_emb(0)]` (34 tokens).
* prefill: `prepare_gpt_inputs` embeds `[start_text] text [stop_text]` with `text_pos_embedding` positions
  0..Lt-1, conditioning tokens get no position, and `GPT2InferenceModel.forward` adds `start_mel` with
  `mel_pos_embedding` position 0.
* decode: one token `mel_embedding(code) + mel_pos_embedding(mel_pos)`; the host passes the position. The KV cache
  is the host's (MODEL.md): past_* are its buffers of some capacity P (slots with attention_mask 0 are ignored,
  whatever they hold), and the graph returns only the step's new_key/new_value (B, H, 1, hd), which the host
  writes into a free slot. The query is scored against the past and against its own key separately; only the
  scores are concatenated, never the caches.
* latent: infer_v2.py's second, teacher-forced pass for the s2mel latents (`UnifiedVoice.forward`): `[cond]
  [text] [start_mel, c_0 .. c_{T-2}]` with mel positions 0..T-1, one causal pass, the final-normed hidden states
  of the mel part. Its own graph (`gpt_latent`), so the decode graphs stay as they are.
* every hidden state goes through the GPT-2 stack's own `ln_f` (HF GPT2Model applies it to last_hidden_state),
  then UnifiedVoice's `final_norm`, then `mel_head` (`GPT2InferenceModel.lm_head = Sequential(final_norm,
  mel_head)`). The `hidden` output is that final-normed state: what `UnifiedVoice.forward` returns as the
  latent (`get_logits(..., return_latent=True)`).

The GPT-2 blocks are run by hand (ln_1 -> causal self-attention with an explicit cache -> ln_2 -> MLP), reusing each
block's own modules, so the KV cache is plain tensors in and out and the graph does not depend on the cache
classes of a particular transformers release. Masks are additive -1e4 (exact in fp32, safe in fp16).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from onnx_io import ExportOptions, export_graph, ort_session, parity

NEG = -1.0e4


def _blocks(uv) -> tuple[nn.ModuleList, nn.Module, int, int]:
    gpt = uv.gpt  # transformers GPT2Model with wpe nulled and wte unused
    config = gpt.config
    if getattr(config, "scale_attn_by_inverse_layer_idx", False) or getattr(config, "add_cross_attention", False):
        raise ValueError("unexpected GPT-2 config: scale_attn_by_inverse_layer_idx / add_cross_attention")
    if not getattr(config, "scale_attn_weights", True):
        raise ValueError("unexpected GPT-2 config: scale_attn_weights is off")
    return gpt.h, gpt.ln_f, int(config.n_head), int(config.n_embd)


class _Stack(nn.Module):
    """GPT-2 blocks with an explicit per-layer cache, over the official modules."""

    def __init__(self, uv):
        super().__init__()
        self.blocks, self.ln_f, self.heads, self.dim = _blocks(uv)
        self.head_dim = self.dim // self.heads
        self.final_norm = uv.final_norm
        self.mel_head = uv.mel_head

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        return t.view(t.shape[0], t.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def run(self, x: torch.Tensor, bias: torch.Tensor, past: list[torch.Tensor] | None):
        """x (B, S, D); past = [k0, v0, k1, v1, ...] each (B, H, P, hd) or None.

        Without past (prefill): causal self-attention over x, bias broadcastable to (B, H, S, S); returns every
        position's key/value per layer (B, H, S, hd). With past (decode, S = 1): bias (B, 1, 1, P + 1), last column
        the new token; returns only the new token's key/value per layer (B, H, 1, hd) and never concatenates the
        caches: scores = [q.past_k^T, q.k_new] -> softmax p -> p[:P] @ past_v + p[P] * v_new."""
        kvs: list[torch.Tensor] = []
        scale = self.head_dim**-0.5
        for i, block in enumerate(self.blocks):
            h = block.ln_1(x)
            q, k, v = block.attn.c_attn(h).split(self.dim, dim=2)
            q, k, v = self._split(q), self._split(k), self._split(v)
            kvs += [k, v]
            if past is None:
                scores = torch.matmul(q, k.transpose(-1, -2)) * scale + bias
                context = torch.matmul(torch.softmax(scores, dim=-1), v)
            else:
                past_k, past_v = past[2 * i], past[2 * i + 1]
                s_past = torch.matmul(q, past_k.transpose(-1, -2)) * scale  # (B, H, 1, P)
                s_new = (q * k).sum(dim=-1, keepdim=True) * scale  # (B, H, 1, 1)
                p = torch.softmax(torch.cat([s_past, s_new], dim=-1) + bias, dim=-1)
                context = torch.matmul(p[..., :-1], past_v) + p[..., -1:] * v
            context = context.transpose(1, 2).reshape(x.shape[0], x.shape[1], self.dim)
            x = x + block.attn.c_proj(context)
            x = x + block.mlp(block.ln_2(x))
        return x, kvs

    def head(self, last: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.final_norm(self.ln_f(last))
        return self.mel_head(hidden), hidden


class GptConditioning(nn.Module):
    """(B, 32, D) speaker latent + (B, D) emotion vector -> (B, 34, D) conditioning prefix."""

    def __init__(self, uv):
        super().__init__()
        weight = uv.speed_emb.weight.detach().clone()
        # inference_speech: duration_ctrl = speed_emb(1), duration_free = speed_emb(0), in that order
        self.register_buffer("speed", torch.stack([weight[1], weight[0]]).unsqueeze(0))

    def forward(self, speaker_latent: torch.Tensor, emo_vec: torch.Tensor) -> torch.Tensor:
        # a broadcast add, not expand(): keeps the output's token axis a fixed 34 in the graph's shape inference
        speed = self.speed + torch.zeros_like(speaker_latent[:, :2])
        return torch.cat([speaker_latent + emo_vec.unsqueeze(1), speed], dim=1)


class GptPrefill(nn.Module):
    """Prompt pass: cond_prefix (B, 34, D), text_ids (B, Lt) -> logits, hidden, present_key/value per layer."""

    def __init__(self, uv):
        super().__init__()
        self.stack = _Stack(uv)
        self.text_embedding = uv.text_embedding
        self.text_pos = uv.text_pos_embedding.emb
        start = uv.mel_embedding.weight[uv.start_mel_token] + uv.mel_pos_embedding.emb.weight[0]
        self.register_buffer("start_mel", start.detach().clone().view(1, 1, -1))

    def forward(self, cond_prefix: torch.Tensor, text_ids: torch.Tensor):
        positions = torch.arange(text_ids.shape[1], device=text_ids.device)
        text = self.text_embedding(text_ids) + self.text_pos(positions).unsqueeze(0)
        start = self.start_mel.expand(cond_prefix.shape[0], -1, -1)
        x = torch.cat([cond_prefix, text, start], dim=1)
        steps = torch.arange(x.shape[1], device=x.device)
        future = (steps.unsqueeze(0) > steps.unsqueeze(1)).to(x.dtype)  # (S, S): 1 above the diagonal
        x, presents = self.stack.run(x, (future * NEG).unsqueeze(0).unsqueeze(0), None)
        logits, hidden = self.stack.head(x[:, -1])
        return (logits, hidden, *presents)


class GptDecode(nn.Module):
    """One step over the host's caches: mel_ids (B, 1), mel_pos (B,), attention_mask (B, P + 1), past_key/value
    per layer (B, H, P, hd) -> logits, hidden, new_key/new_value per layer (B, H, 1, hd)."""

    def __init__(self, uv):
        super().__init__()
        self.stack = _Stack(uv)
        self.mel_embedding = uv.mel_embedding
        self.mel_pos = uv.mel_pos_embedding.emb

    def forward(self, mel_ids: torch.Tensor, mel_pos: torch.Tensor, attention_mask: torch.Tensor, *past: torch.Tensor):
        x = self.mel_embedding(mel_ids) + self.mel_pos(mel_pos).unsqueeze(1)
        bias = ((1.0 - attention_mask.to(x.dtype)) * NEG).view(attention_mask.shape[0], 1, 1, -1)
        x, new_kv = self.stack.run(x, bias, list(past))
        logits, hidden = self.stack.head(x[:, 0])
        return (logits, hidden, *new_kv)


class GptLatent(nn.Module):
    """infer_v2.py's second GPT pass: cond_prefix (B, 34, D), text_ids (B, Lt) `[start_text] ids [stop_text]`,
    codes (B, T) without stop -> latent (B, T, D), what `UnifiedVoice.forward` returns (`mel_logits[:, :-2]` of
    `get_logits(..., return_latent=True)`): hidden states at `[start_mel, c_0 .. c_{T-2}]`, positions 0..T-1."""

    def __init__(self, uv):
        super().__init__()
        self.stack = _Stack(uv)
        self.text_embedding = uv.text_embedding
        self.text_pos = uv.text_pos_embedding.emb
        self.mel_embedding = uv.mel_embedding
        self.mel_pos = uv.mel_pos_embedding.emb
        self.start_mel_token = int(uv.start_mel_token)

    def forward(self, cond_prefix: torch.Tensor, text_ids: torch.Tensor, codes: torch.Tensor):
        n = codes.shape[1]
        text = self.text_embedding(text_ids) + self.text_pos(torch.arange(text_ids.shape[1], device=text_ids.device))
        mel_ids = torch.cat([torch.full_like(codes[:, :1], self.start_mel_token), codes[:, :-1]], dim=1)
        mel = self.mel_embedding(mel_ids) + self.mel_pos(torch.arange(n, device=codes.device))
        x = torch.cat([cond_prefix, text, mel], dim=1)
        steps = torch.arange(x.shape[1], device=x.device)
        future = (steps.unsqueeze(0) > steps.unsqueeze(1)).to(x.dtype)
        x, _ = self.stack.run(x, (future * NEG).unsqueeze(0).unsqueeze(0), None)
        return self.stack.final_norm(self.stack.ln_f(x[:, -n:]))


@torch.no_grad()
def check_latent_against_official(uv, device: torch.device, codes_len: int = 11) -> float:
    """gpt_latent against the official `UnifiedVoice.forward` itself (the call infer_v2.py makes, B = 1, lengths
    = the full tensors, use_speed 0), and right-padded codes against the row alone. Returns the relative error."""
    wrapper = GptLatent(uv).to(device).eval()
    cond_wrap = GptConditioning(uv).to(device).eval()
    d = uv.model_dim
    g = torch.Generator(device="cpu").manual_seed(1)
    latent = (torch.randn(1, uv.cond_num, d, generator=g) * 0.5).to(device)
    emo = (torch.randn(1, d, generator=g) * 0.5).to(device)
    ids = torch.randint(2, uv.number_text_tokens, (1, 10), generator=g).to(device)
    codes = torch.randint(0, uv.start_mel_token, (1, codes_len), generator=g).to(device)
    lengths = lambda t: torch.tensor([t.shape[1]], device=device)  # noqa: E731
    want = uv(latent, ids, lengths(ids), codes, lengths(codes), None, emo_vec=emo,
              use_speed=torch.zeros(1, dtype=torch.long, device=device))
    text = torch.cat([ids.new_full((1, 1), uv.start_text_token), ids, ids.new_full((1, 1), uv.stop_text_token)], 1)
    got = wrapper(cond_wrap(latent, emo), text, codes)
    err = (got - want).abs().max().item() / max(want.abs().max().item(), 1e-6)
    padded = torch.cat([codes, torch.randint(0, uv.start_mel_token, (1, 4), generator=g).to(device)], dim=1)
    pad_err = (wrapper(cond_wrap(latent, emo), text, padded)[:, :codes_len] - got).abs().max().item()
    print(f"   gpt_latent wrapper vs official UnifiedVoice.forward (infer_v2.py's s2mel latents): relative {err:.2e}; "
          f"right-padded codes vs alone: abs {pad_err:.2e}")
    if err > 1e-4 or pad_err > 1e-4:
        raise AssertionError("gpt_latent does not reproduce UnifiedVoice.forward")
    return err


def export_gpt_latent(uv, options: ExportOptions, device: torch.device) -> str:
    """gpt_latent.onnx: its own file (carrying the GPT weights once more), so the decode graphs are untouched."""
    latent = GptLatent(uv).to(device).eval()
    d, cond_tokens = uv.model_dim, uv.cond_num + 2

    def example(text_len: int, codes_len: int):
        text = torch.randint(2, uv.number_text_tokens, (1, text_len), device=device)
        text[:, 0], text[:, -1] = uv.start_text_token, uv.stop_text_token
        return (torch.randn(1, cond_tokens, d, device=device) * 0.5, text,
                torch.randint(0, uv.start_mel_token, (1, codes_len), device=device))

    ex = example(9, 13)
    names_in, names_out = ["cond_prefix", "text_ids", "codes"], ["latent"]
    axes = {"cond_prefix": {0: "B"}, "text_ids": {0: "B", 1: "Lt"}, "codes": {0: "B", 1: "T"},
            "latent": {0: "B", 1: "T"}}
    path = export_graph(latent, ex, "gpt_latent.onnx", names_in, names_out, axes, options, external_data=True)
    if options.check:
        session = ort_session(path)
        for i, inputs in enumerate((ex, example(6, 5))):
            parity(latent, session, inputs, names_in, names_out, f"gpt_latent #{i}", options.rtol)
        del session
    return path


def kv_names(prefix: str, layers: int) -> list[str]:
    return [f"{prefix}_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]


def _scatter_cache(past: list[torch.Tensor], capacity: int, slots: torch.Tensor, g: torch.Generator):
    """Host-style caches of one row: `past` (1, H, n, hd) per layer written into `slots` of (1, H, capacity, hd)
    buffers whose other slots hold junk; returns the buffers and the (1, capacity) slot mask."""
    bufs = []
    for t in past:
        junk = (torch.randn(t.shape[0], t.shape[1], capacity, t.shape[3], generator=g) * 3).to(t.device)
        junk[:, :, slots] = t
        bufs.append(junk)
    mask = torch.zeros(1, capacity, dtype=torch.long, device=past[0].device)
    mask[:, slots] = 1
    return bufs, mask


@torch.no_grad()
def check_against_official(uv, device: torch.device, steps: int = 8) -> None:
    """The wrappers must reproduce the official teacher-forced latents and logits (UnifiedVoice.forward's layout)
    step by step, decoding the way the node does: the host appends each step's new_key/new_value to its cache.
    The host-appended cache must equal one causal pass's keys/values, and rows of a batch whose caches share one
    capacity (history packed at the start / scattered, junk in every masked slot, new_* written in place) must
    equal the same row alone."""
    prefill, decode = GptPrefill(uv).to(device).eval(), GptDecode(uv).to(device).eval()
    d = uv.model_dim
    g = torch.Generator(device="cpu").manual_seed(0)
    cond = (torch.randn(1, uv.cond_num + 2, d, generator=g) * 0.5).to(device)
    text = torch.randint(2, uv.number_text_tokens, (1, 12), generator=g).to(device)
    codes = torch.randint(0, uv.start_mel_token, (1, steps), generator=g).to(device)
    # official layout: UnifiedVoice.forward -> build_aligned_inputs_and_targets -> get_logits(return_latent=True)
    def wrap(ids: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        return torch.cat([ids.new_full((1, 1), start), ids, ids.new_full((1, 1), stop)], dim=1)

    full_text = wrap(text, uv.start_text_token, uv.stop_text_token)
    mel_in = wrap(codes, uv.start_mel_token, uv.stop_mel_token)
    text_emb = uv.text_embedding(full_text) + uv.text_pos_embedding(full_text)
    mel_emb = uv.mel_embedding(mel_in) + uv.mel_pos_embedding(mel_in)
    _, latents = uv.get_logits(cond, text_emb, uv.text_head, mel_emb, uv.mel_head, return_latent=True)
    want = latents[:, :steps]  # hidden states at [start_mel, c1 .. c(steps-1)]

    out = prefill(cond, full_text)
    got, past = [out[1]], list(out[2:])
    for k in range(1, steps):
        length = past[0].shape[2]
        mask = torch.ones(1, length + 1, dtype=torch.long, device=device)
        pos = torch.tensor([k], device=device)
        out = decode(codes[:, k - 1 : k], pos, mask, *past)
        got.append(out[1])
        past = [torch.cat([p, n], dim=2) for p, n in zip(past, out[2:])]  # the host's append
    got_t = torch.stack(got, dim=1)
    err = (got_t - want).abs().max().item() / max(want.abs().max().item(), 1e-6)
    logit_err = (uv.mel_head(got_t) - uv.mel_head(want)).abs().max().item()
    print(f"   gpt wrappers (host-appended new_key/new_value) vs official teacher-forced latents: relative {err:.2e}, "
          f"logits abs {logit_err:.2e}")
    if err > 1e-3:
        raise AssertionError("GPT wrappers do not reproduce UnifiedVoice.forward's latents")

    # the cache the host built from prefill's present_* and decode's new_* == one causal pass's keys/values
    mel_pos = torch.arange(1, steps, device=device)
    x = torch.cat([cond, prefill.text_embedding(full_text) + prefill.text_pos(torch.arange(full_text.shape[1],
                   device=device)).unsqueeze(0), prefill.start_mel,
                   decode.mel_embedding(codes[:, : steps - 1]) + decode.mel_pos(mel_pos).unsqueeze(0)], dim=1)
    n = x.shape[1]
    future = (torch.arange(n, device=device).unsqueeze(0) > torch.arange(n, device=device).unsqueeze(1)).to(x.dtype)
    _, full_kv = prefill.stack.run(x, (future * NEG).unsqueeze(0).unsqueeze(0), None)
    kv_err = max((a - b).abs().max().item() / max(b.abs().max().item(), 1e-6) for a, b in zip(past, full_kv))
    print(f"   host-appended KV cache vs one causal pass: relative {kv_err:.2e}")
    if kv_err > 1e-3:
        raise AssertionError("gpt_decode's new_key/new_value do not build the causal pass's cache")

    # batch invariance over host caches: the same row twice in caches of one capacity, history packed at the
    # start (row 0) or scattered among junk slots (row 1); two steps, new_* written in place into a free slot
    length = past[0].shape[2]
    spare = 6
    capacity = length + spare
    layouts = [torch.arange(capacity), torch.randperm(capacity, generator=g)]
    rows = [_scatter_cache(past, capacity, order[:length].sort().values.to(device), g) for order in layouts]
    caches = [torch.cat([rows[0][0][i], rows[1][0][i]], dim=0) for i in range(len(past))]
    slot_mask = torch.cat([rows[0][1], rows[1][1]], dim=0)
    alone_past, worst = past, 0.0
    for step, code in enumerate((codes[:, steps - 1 :], codes[:, :1])):
        pos = torch.tensor([steps + step], device=device)
        alone = decode(code, pos, torch.ones(1, alone_past[0].shape[2] + 1, dtype=torch.long, device=device),
                       *alone_past)
        mask = torch.cat([slot_mask, torch.ones(2, 1, dtype=torch.long, device=device)], dim=1)
        batched = decode(code.expand(2, 1), pos.expand(2), mask, *caches)
        for b in range(2):
            for o_b, o_a in zip(batched, alone):
                worst = max(worst, (o_b[b] - o_a[0]).abs().max().item() / max(o_a.abs().max().item(), 1e-6))
            slot = int(layouts[b][length + step])
            for c, n_kv in zip(caches, batched[2:]):
                c[b, :, slot] = n_kv[b, :, 0]
            slot_mask[b, slot] = 1
        alone_past = [torch.cat([p, n_kv], dim=2) for p, n_kv in zip(alone_past, alone[2:])]
    print(f"   gpt_decode rows in shared-capacity caches (packed / scattered, junk in masked slots) vs alone: "
          f"relative {worst:.2e}")
    if worst > 1e-4:
        raise AssertionError("gpt_decode output depends on the cache layout or on masked slots")


def export_gpt(uv, options: ExportOptions, device: torch.device) -> list[str]:
    layers, d, heads = uv.layers, uv.model_dim, uv.heads
    hd = d // heads
    cond_tokens = uv.cond_num + 2
    paths = []

    conditioning = GptConditioning(uv).to(device).eval()
    ex = (torch.randn(2, uv.cond_num, d, device=device), torch.randn(2, d, device=device))
    names_in, names_out = ["speaker_latent", "emo_vec"], ["cond_prefix"]
    paths.append(export_graph(conditioning, ex, "gpt_conditioning.onnx", names_in, names_out,
                              {"speaker_latent": {0: "B"}, "emo_vec": {0: "B"}, "cond_prefix": {0: "B"}}, options))
    if options.check:
        parity(conditioning, ort_session(paths[-1]), ex, names_in, names_out, "gpt_conditioning", options.rtol)

    prefill = GptPrefill(uv).to(device).eval()
    text = torch.randint(2, uv.number_text_tokens, (1, 9), device=device)
    text[:, 0], text[:, -1] = uv.start_text_token, uv.stop_text_token
    ex = (torch.randn(1, cond_tokens, d, device=device) * 0.5, text)
    names_in = ["cond_prefix", "text_ids"]
    names_out = ["logits", "hidden", *kv_names("present", layers)]
    axes = {"cond_prefix": {0: "B"}, "text_ids": {0: "B", 1: "Lt"}, "logits": {0: "B"}, "hidden": {0: "B"}}
    axes.update({n: {0: "B", 2: "prefill_len"} for n in kv_names("present", layers)})
    paths.append(export_graph(prefill, ex, "gpt_prefill.onnx", names_in, names_out, axes, options, external_data=True))
    if options.check:
        session = ort_session(paths[-1])
        other = (torch.randn(1, cond_tokens, d, device=device) * 0.5, text[:, :6].clone())
        other[1][:, -1] = uv.stop_text_token
        for i, inputs in enumerate((ex, other)):
            parity(prefill, session, inputs, names_in, names_out, f"gpt_prefill #{i}", options.rtol)
        del session

    decode = GptDecode(uv).to(device).eval()
    # P is the host's cache capacity: row 0's history fills the first slots (spare, masked slots after it), row 1's
    # masked slots are scattered, before and between its history
    p = cond_tokens + 9 + 1 + 4
    past = [torch.randn(2, heads, p, hd, device=device) for _ in range(2 * layers)]
    mask = torch.ones(2, p + 1, dtype=torch.long, device=device)
    mask[0, p - 4 : p] = 0
    mask[1, [0, 1, 5, 20]] = 0
    ex = (torch.randint(0, uv.start_mel_token, (2, 1), device=device), torch.tensor([1, 4], device=device), mask, *past)
    names_in = ["mel_ids", "mel_pos", "attention_mask", *kv_names("past", layers)]
    names_out = ["logits", "hidden", *kv_names("new", layers)]
    axes = {"mel_ids": {0: "B"}, "mel_pos": {0: "B"}, "attention_mask": {0: "B", 1: "P_plus_1"},
            "logits": {0: "B"}, "hidden": {0: "B"}}
    axes.update({n: {0: "B", 2: "P"} for n in kv_names("past", layers)})
    axes.update({n: {0: "B"} for n in kv_names("new", layers)})
    paths.append(export_graph(decode, ex, "gpt_decode.onnx", names_in, names_out, axes, options, external_data=True))
    if options.check:
        session = ort_session(paths[-1])
        q = p + 7
        other_mask = torch.ones(3, q + 1, dtype=torch.long, device=device)
        other_mask[2, 3 : q : 4] = 0
        other = (torch.randint(0, uv.start_mel_token, (3, 1), device=device), torch.tensor([2, 9, 30], device=device),
                 other_mask, *[torch.randn(3, heads, q, hd, device=device) for _ in range(2 * layers)])
        for i, inputs in enumerate((ex, other)):
            parity(decode, session, inputs, names_in, names_out, f"gpt_decode #{i}", options.rtol)
        del session
    return paths
