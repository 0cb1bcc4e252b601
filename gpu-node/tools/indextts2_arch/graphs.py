"""The eight graphs of the model contract: module construction, I/O names, dynamic axes, example inputs, and the
contract table (gpu-node/MODEL.md) that check_model.py verifies the exported files against."""

import torch

from .bigvgan import BigVGAN
from .gpt import GptConditioning, GptDecode, GptLatent, GptPrefill, UnifiedVoice, kv_names
from .s2mel import DiT, LatentProjector, LengthRegulator

GRAPHS = ("gpt_conditioning", "gpt_prefill", "gpt_decode", "gpt_latent", "latent_projector", "length_regulator", "dit_step", "vocoder")
F32, I64 = "float32", "int64"


def build_modules(cfg, seed):
    """Construct every graph's module with deterministic random weights. The three GPT graphs share one
    UnifiedVoice (gpt_latent too), so their common initializers are identical (check_model.py verifies that)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    uv = UnifiedVoice(cfg)
    uv.init_random(gen)
    mods = {
        "gpt_conditioning": GptConditioning(uv),
        "gpt_prefill": GptPrefill(uv),
        "gpt_decode": GptDecode(uv),
        "gpt_latent": GptLatent(uv),
        "latent_projector": LatentProjector(cfg),
        "length_regulator": LengthRegulator(cfg),
        "dit_step": DiT(cfg),
        "vocoder": BigVGAN(cfg),
    }
    with torch.no_grad():
        # Trained DiTs/BigVGANs are far from PyTorch's default init; nudge the few places where the default init
        # would make the random model degenerate (AdaLN gains near 0 silence the transformer, the VQ codebook
        # default N(0,1) is fine, Snake alphas/betas vary per channel in trained models).
        for name, p in mods["dit_step"].named_parameters():
            if name.endswith("project_layer.bias"):
                p[: p.shape[0] // 2] += 1.0
        for name, p in mods["vocoder"].named_parameters():
            if name.endswith(".alpha") or name.endswith(".beta"):
                p.normal_(0.0, 0.1, generator=gen)
        # Constant tensors (LayerNorm/GroupNorm/RMSNorm gains of 1, zero biases) get a little noise: trained
        # weights are never constant, and torch.onnx deduplicates equal-valued initializers, which would merge
        # e.g. every LayerNorm's weight into one tensor and lose the names check_model.py loads weights by.
        seen = set()
        for m in mods.values():
            for p in m.parameters():
                if id(p) not in seen and p.numel() > 1 and bool((p == p.flatten()[0]).all()):
                    p.add_(torch.randn(p.shape, generator=gen) * 0.02)
                seen.add(id(p))
    for m in mods.values():
        m.eval()
    return mods


def round_to_fp16(module, min_elements):
    """Make large float parameters exactly representable in fp16, so fp16 storage in the ONNX file is lossless
    with respect to the torch module (used by `tiny`)."""
    with torch.no_grad():
        for p in module.parameters():
            if p.dtype == torch.float32 and p.numel() >= min_elements:
                p.copy_(p.half().float())


def io_names(name, cfg):
    layers = cfg["gpt"]["layers"]
    if name == "gpt_conditioning":
        return ["speaker_latent", "emo_vec"], ["cond_prefix"]
    if name == "gpt_prefill":
        return ["cond_prefix", "text_ids"], ["logits", "hidden", *kv_names("present", layers)]
    if name == "gpt_decode":
        return (["mel_ids", "mel_pos", "attention_mask", *kv_names("past", layers)],
                ["logits", "hidden", *kv_names("new", layers)])
    if name == "gpt_latent":
        return ["cond_prefix", "text_ids", "codes"], ["latent"]
    if name == "latent_projector":
        return ["latent", "codes"], ["s_infer"]
    if name == "length_regulator":
        return ["s_infer", "target_len"], ["cond"]
    if name == "dit_step":
        return ["x", "prompt_x", "x_lens", "t", "style", "cond"], ["output"]
    if name == "vocoder":
        return ["mel", "mel_lens"], ["audio"]
    raise KeyError(name)


def contract(name, cfg):
    """[(tensor, 'in'|'out', dims, dtype)] with ints for fixed dims and strings for dynamic ones (MODEL.md)."""
    g, sem, s = cfg["gpt"], cfg["semantic"], cfg["s2mel"]
    d, h, v = g["model_dim"], g["heads"], g["number_mel_codes"]
    hd, ct = d // h, g["cond_tokens"]
    S, C, Y, M = sem["hidden_size"], s["content_dim"], s["style_dim"], s["n_mels"]
    kv = lambda prefix, t: [(n, "in" if prefix == "past" else "out", ["B", h, t, hd], F32) for n in kv_names(prefix, g["layers"])]  # noqa: E731
    if name == "gpt_conditioning":
        return [("speaker_latent", "in", ["B", 32, d], F32), ("emo_vec", "in", ["B", d], F32),
                ("cond_prefix", "out", ["B", ct, d], F32)]
    if name == "gpt_prefill":
        return [("cond_prefix", "in", ["B", ct, d], F32), ("text_ids", "in", ["B", "Lt"], I64),
                ("logits", "out", ["B", v], F32), ("hidden", "out", ["B", d], F32), *kv("present", f"{ct}+Lt+1")]
    if name == "gpt_decode":
        return [("mel_ids", "in", ["B", 1], I64), ("mel_pos", "in", ["B"], I64),
                ("attention_mask", "in", ["B", "P+1"], I64), *kv("past", "P"),
                ("logits", "out", ["B", v], F32), ("hidden", "out", ["B", d], F32), *kv("new", 1)]
    if name == "gpt_latent":
        return [("cond_prefix", "in", ["B", ct, d], F32), ("text_ids", "in", ["B", "Lt"], I64),
                ("codes", "in", ["B", "T"], I64), ("latent", "out", ["B", "T", d], F32)]
    if name == "latent_projector":
        return [("latent", "in", ["B", "T", d], F32), ("codes", "in", ["B", "T"], I64),
                ("s_infer", "out", ["B", "T", S], F32)]
    if name == "length_regulator":
        # One request per call (GroupNorm spans time), so the batch axis is fixed at 1.
        return [("s_infer", "in", [1, "T", S], F32), ("target_len", "in", [1], I64),
                ("cond", "out", [1, "target_len", C], F32)]
    if name == "dit_step":
        return [("x", "in", ["B", M, "T"], F32), ("prompt_x", "in", ["B", M, "T"], F32), ("x_lens", "in", ["B"], I64),
                ("t", "in", ["B"], F32), ("style", "in", ["B", Y], F32), ("cond", "in", ["B", "T", C], F32),
                ("output", "out", ["B", M, "T"], F32)]
    if name == "vocoder":
        return [("mel", "in", ["B", M, "T"], F32), ("mel_lens", "in", ["B"], I64),
                ("audio", "out", ["B", 1, "256*T"], F32)]
    raise KeyError(name)


def dynamic_axes(name, cfg):
    """torch.onnx dynamic_axes derived from the contract's symbolic dims (symbol names become ONNX dim_params)."""
    axes = {}
    for tensor, _, dims, _ in contract(name, cfg):
        dyn = {i: _symbol(dim) for i, dim in enumerate(dims) if isinstance(dim, str)}
        if dyn:
            axes[tensor] = dyn
    return axes


def io_dims(name, cfg):
    """{tensor: dims} with the ONNX dim_param spelling of the symbolic dims."""
    return {t: [d if isinstance(d, int) else _symbol(d) for d in dims] for t, _, dims, _ in contract(name, cfg)}


def _symbol(dim):
    return {"P+1": "P_plus_1", "256*T": "samples", "34+Lt+1": "prefill_len"}.get(dim, dim.replace("+", "_plus_"))


def example_inputs(name, cfg, batch=3, gen=None, alt=False):
    """Inputs used to trace the export (batch 3) and, with alt=True, the reference cases check_model.py --dump
    writes (other lengths, batch 2 by default), so a dimension the trace froze by mistake shows up as a failure.
    Every dynamic dim gets a distinct size, so the tracer cannot confuse two axes."""
    gen = gen or torch.Generator().manual_seed(1234)
    g, sem, s = cfg["gpt"], cfg["semantic"], cfg["s2mel"]
    d, h = g["model_dim"], g["heads"]
    hd = d // h
    rn = lambda *shape: torch.randn(*shape, generator=gen)  # noqa: E731
    ri = lambda hi, *shape: torch.randint(0, hi, shape, generator=gen)  # noqa: E731
    if name == "gpt_conditioning":
        return (rn(batch, 32, d), rn(batch, d))
    if name == "gpt_prefill":
        return (rn(batch, g["cond_tokens"], d), ri(g["number_text_tokens"], batch, 12 if alt else 7))
    if name == "gpt_decode":
        # P is the host's cache capacity: row 0's history fills slots 0..p-6 (spare capacity after it), row 1's
        # history is scattered with masked slots before and between (layouts are the host's business).
        p = 61 if alt else 45
        mask = torch.ones(batch, p + 1, dtype=torch.int64)
        mask[0, p - 5 : p] = 0
        if batch > 1:
            mask[1, [0, 1, 7, 20]] = 0
        pasts = [rn(batch, h, p, hd) for _ in range(2 * g["layers"])]
        mel_pos = torch.tensor([3 + 5 * i for i in range(batch)])
        return (ri(g["codebook_size"], batch, 1), mel_pos, mask, *pasts)
    if name == "gpt_latent":
        t = 9 if alt else 13
        return (rn(batch, g["cond_tokens"], d), ri(g["number_text_tokens"], batch, 12 if alt else 7),
                ri(g["codebook_size"], batch, t))
    if name == "latent_projector":
        t = 5 if alt else 11
        return (rn(batch, t, d), ri(sem["codebook_size"], batch, t))
    if name == "length_regulator":
        t_in, t_out = (30, 52) if alt else (11, 19)
        return (rn(1, t_in, sem["hidden_size"]), torch.tensor([t_out], dtype=torch.int64))
    if name == "dit_step":
        t = 37 if alt else 23
        lens = torch.tensor([t - 6] + [t] * (batch - 1), dtype=torch.int64)
        return (rn(batch, s["n_mels"], t), rn(batch, s["n_mels"], t), lens, torch.rand(batch, generator=gen),
                rn(batch, s["style_dim"]), rn(batch, t, s["content_dim"]))
    if name == "vocoder":
        t = 14 if alt else 9
        lens = torch.tensor([t - 3] + [t] * (batch - 1), dtype=torch.int64)
        return (rn(batch, s["n_mels"], t) - 5.0, lens)
    raise KeyError(name)
