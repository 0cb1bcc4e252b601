"""Batch-invariance and KV-cache checks on torch modules (weights loaded from a model directory's graphs).

Each check returns a list of (label, max_abs_diff) pairs; check_model.py compares them with the tolerance.
Padded regions are filled with random garbage rather than zeros, so the checks prove the graphs mask padding
instead of relying on the host to zero it.
"""

import torch
from torch.nn import functional as F


def _diff(a, b):
    return float((a - b).abs().max()) if a.numel() else 0.0


def _garbage(gen, *shape):
    return torch.randn(*shape, generator=gen) * 3.0


def gpt_checks(cond, prefill, decode, uv, cfg, gen, text_lens=(5, 9, 2), warmup_steps=(3, 0, 1), steps=4):
    """Rows with different text lengths and different numbers of already-generated codes (so different KV lengths
    and mel positions) are decoded alone and together (left-padded, garbage in the padding). Also checks the
    cached decode against a teacher-forced full pass, and prefill's precomputed start_mel row."""
    g = cfg["gpt"]
    layers, codebook, d = g["layers"], g["codebook_size"], g["model_dim"]
    results = []
    start = torch.tensor([[g["start_mel_token"]]])
    results.append(("prefill start_mel_embedding == mel_embedding[start_mel] + mel_pos[0]",
                    _diff(prefill.start_mel_embedding, uv.mel_embeds(start, torch.zeros_like(start))[0, 0])))
    rows = []
    for lt, warm in zip(text_lens, warmup_steps):
        cp = cond(torch.randn(1, 32, d, generator=gen), torch.randn(1, d, generator=gen))
        text = torch.randint(2, g["number_text_tokens"], (1, lt), generator=gen)
        text[0, 0], text[0, -1] = g["start_text_token"], g["stop_text_token"]
        out = prefill(cp, text)
        pasts = list(out[2:])
        codes = torch.randint(0, codebook, (1, warm + steps), generator=gen)
        hidden_alone, logits_alone, pasts_alone = [out[1]], [out[0]], []
        for s in range(warm + steps):
            if s >= warm:
                pasts_alone.append(pasts)
            mask = torch.ones(1, pasts[0].shape[2] + 1, dtype=torch.int64)
            o = decode(codes[:, s : s + 1], torch.tensor([s + 1]), mask, *pasts)
            logits_alone.append(o[0])
            hidden_alone.append(o[1])
            pasts = list(o[2:])
        # KV-cache correctness: hidden states at [start_mel, c1..cn] from the cached path vs one causal pass.
        all_codes = torch.cat([start, codes[:, :-1]], dim=1)
        ref_logits, ref_hidden = uv.forward_full(cp, text, all_codes)
        cached = torch.stack(hidden_alone[:-1], dim=1)
        results.append((f"decode vs teacher-forced pass, hidden (text {lt}, {warm + steps} codes)", _diff(cached, ref_hidden)))
        results.append((f"decode vs teacher-forced pass, logits (text {lt})",
                        _diff(torch.stack(logits_alone[:-1], dim=1), ref_logits)))
        rows.append({"codes": codes, "warm": warm, "pasts": pasts_alone, "logits": logits_alone[warm + 1 :],
                     "hidden": hidden_alone[warm + 1 :]})

    # Batched decode, `steps` steps, each step built from the rows' alone caches at that step.
    h, hd = g["heads"], d // g["heads"]
    for s in range(steps):
        lens = [r["pasts"][s][0].shape[2] for r in rows]
        p = max(lens)
        pasts, mask = [], torch.zeros(len(rows), p + 1, dtype=torch.int64)
        for i in range(2 * layers):
            layer = []
            for r, n in zip(rows, lens):
                layer.append(torch.cat([_garbage(gen, 1, h, p - n, hd), r["pasts"][s][i]], dim=2))
            pasts.append(torch.cat(layer, dim=0))
        for j, n in enumerate(lens):
            mask[j, p - n :] = 1
        mel_ids = torch.cat([r["codes"][:, r["warm"] + s : r["warm"] + s + 1] for r in rows], dim=0)
        mel_pos = torch.tensor([r["warm"] + s + 1 for r in rows])
        o = decode(mel_ids, mel_pos, mask, *pasts)
        worst_l = max(_diff(o[0][j], r["logits"][s][0]) for j, r in enumerate(rows))
        worst_h = max(_diff(o[1][j], r["hidden"][s][0]) for j, r in enumerate(rows))
        worst_kv = 0.0
        for j, (r, n) in enumerate(zip(rows, lens)):
            alone_next = r["pasts"][s + 1] if s + 1 < steps else None
            if alone_next is None:
                continue
            for i in range(2 * layers):
                worst_kv = max(worst_kv, _diff(o[2 + i][j : j + 1, :, p - n :], alone_next[i]))
        results.append((f"gpt_decode padded batch == alone, step {s} (P={p}, rows {lens}): logits", worst_l))
        results.append((f"gpt_decode padded batch == alone, step {s}: hidden", worst_h))
        if s + 1 < steps:
            results.append((f"gpt_decode padded batch == alone, step {s}: present_* (valid part)", worst_kv))
    return results


def dit_checks(dit, cfg, gen, lens=(17, 40, 29)):
    s = cfg["s2mel"]
    m, c, y = s["n_mels"], s["content_dim"], s["style_dim"]
    t = max(lens)
    b = len(lens)
    x, px, cond = _garbage(gen, b, m, t), _garbage(gen, b, m, t), _garbage(gen, b, t, c)
    style, tt = torch.randn(b, y, generator=gen), torch.rand(b, generator=gen)
    out = dit(x, px, torch.tensor(lens), tt, style, cond)
    worst, tail = 0.0, 0.0
    for j, n in enumerate(lens):
        alone = dit(x[j : j + 1, :, :n], px[j : j + 1, :, :n], torch.tensor([n]), tt[j : j + 1], style[j : j + 1],
                    cond[j : j + 1, :n])
        worst = max(worst, _diff(out[j : j + 1, :, :n], alone))
        tail = max(tail, float(out[j, :, n:].abs().max()) if n < t else 0.0)
    return [(f"dit_step padded batch == alone (x_lens {list(lens)})", worst), ("dit_step output zero past x_lens", tail)]


def vocoder_checks(voc, cfg, gen, lens=(7, 16, 11)):
    t, b = max(lens), len(lens)
    mel = _garbage(gen, b, cfg["s2mel"]["n_mels"], t) - 5.0
    out = voc(mel, torch.tensor(lens))
    worst, tail = 0.0, 0.0
    for j, n in enumerate(lens):
        alone = voc(mel[j : j + 1, :, :n], torch.tensor([n]))
        worst = max(worst, _diff(out[j : j + 1, :, : 256 * n], alone))
        tail = max(tail, float(out[j, :, 256 * n :].abs().max()) if n < t else 0.0)
    peak = float(out.abs().max())
    return [(f"vocoder padded batch == alone (mel_lens {list(lens)})", worst), ("vocoder audio zero past 256*mel_lens", tail),
            (f"vocoder audio within [-1, 1] (peak {peak:.3f})", max(0.0, peak - 1.0))]


def projector_checks(proj, cfg, gen, lens=(6, 13)):
    d, t = cfg["gpt"]["model_dim"], max(lens)
    lat = _garbage(gen, len(lens), t, d)
    codes = torch.randint(0, cfg["semantic"]["codebook_size"], (len(lens), t), generator=gen)
    out = proj(lat, codes)
    worst = max(_diff(out[j : j + 1, :n], proj(lat[j : j + 1, :n], codes[j : j + 1, :n])) for j, n in enumerate(lens))
    return [("latent_projector padded batch == alone", worst)]


def length_regulator_checks(lr, cfg, gen):
    """The graph's index-based nearest resize must equal F.interpolate(mode='nearest') as IndexTTS2 runs it."""
    worst = 0.0
    for t_in, t_out in ((10, 17), (29, 50), (50, 86), (7, 7), (8, 16), (33, 12)):
        s_infer = torch.randn(1, t_in, cfg["semantic"]["hidden_size"], generator=gen)
        ours = lr(s_infer, torch.tensor([t_out]))
        x = F.interpolate(lr.content_in_proj(s_infer).transpose(1, 2), size=t_out, mode="nearest")
        ref = lr.model(x).transpose(1, 2)
        worst = max(worst, _diff(ours, ref))
    return [("length_regulator nearest resize == F.interpolate(nearest)", worst)]
