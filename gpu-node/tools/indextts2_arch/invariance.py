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


def gpt_checks(cond, prefill, decode, uv, cfg, gen, text_lens=(5, 9, 2), warmup_steps=(3, 0, 1), steps=4, spare=3):
    """gpt_decode over host-held caches (MODEL.md): the host appends each step's new_key/new_value itself.

    Alone: each row (different text lengths and numbers of already-generated codes, so different history
    lengths and mel positions) is decoded at batch 1 with its exact cache, appending new_* after every step;
    that path must equal a teacher-forced full pass (KV-cache correctness).
    Batched: the rows share caches of one capacity P (> every row's history, so every row has spare slots);
    each row's history sits in a layout of masked slots filled with finite garbage, and after every step the
    batch's own new_* are written in place into a free slot of each row (as the host does). Every step's
    logits, hidden and new_* of each row must equal the row alone. Layouts: `packed` (history at 0..len-1,
    garbage after it: the host's layout) and `scattered` (history and appended slots at random positions, with
    garbage before and between them), so the graph provably depends on the mask, not on a layout."""
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
        hidden_alone, logits_alone, new_alone, start_pasts = [out[1]], [out[0]], [], None
        for s in range(warm + steps):
            if s == warm:
                start_pasts = pasts
            mask = torch.ones(1, pasts[0].shape[2] + 1, dtype=torch.int64)
            o = decode(codes[:, s : s + 1], torch.tensor([s + 1]), mask, *pasts)
            logits_alone.append(o[0])
            hidden_alone.append(o[1])
            new_alone.append(list(o[2:]))
            # the host's append: the step's (B,H,1,hd) key/value after the history
            pasts = [torch.cat([p, n], dim=2) for p, n in zip(pasts, o[2:])]
        # KV-cache correctness: hidden states at [start_mel, c1..cn] from the cached path vs one causal pass.
        all_codes = torch.cat([start, codes[:, :-1]], dim=1)
        ref_logits, ref_hidden = uv.forward_full(cp, text, all_codes)
        cached = torch.stack(hidden_alone[:-1], dim=1)
        results.append((f"decode (host-appended new_k/v) vs teacher-forced pass, hidden (text {lt}, {warm + steps} codes)",
                        _diff(cached, ref_hidden)))
        results.append((f"decode (host-appended new_k/v) vs teacher-forced pass, logits (text {lt})",
                        _diff(torch.stack(logits_alone[:-1], dim=1), ref_logits)))
        rows.append({"codes": codes, "warm": warm, "pasts": start_pasts, "logits": logits_alone[warm + 1 :],
                     "hidden": hidden_alone[warm + 1 :], "new": new_alone[warm:]})

    h, hd = g["heads"], d // g["heads"]
    lens = [r["pasts"][0].shape[2] for r in rows]
    cap = max(lens) + steps + spare
    for layout in ("packed", "scattered"):
        # Slot order per row: the first len slots receive the history, the next `steps` the appended tokens.
        if layout == "packed":
            order = [torch.arange(cap) for _ in rows]
        else:
            order = [torch.randperm(cap, generator=gen) for _ in rows]
        caches = [_garbage(gen, len(rows), h, cap, hd) for _ in range(2 * layers)]
        mask = torch.zeros(len(rows), cap, dtype=torch.int64)
        for j, (r, n) in enumerate(zip(rows, lens)):
            slots = order[j][:n].sort().values  # history keeps its order (attention does not care, but be plain)
            for i in range(2 * layers):
                caches[i][j, :, slots] = r["pasts"][i][0]
            mask[j, slots] = 1
        worst_l = worst_h = worst_kv = 0.0
        for s in range(steps):
            mel_ids = torch.cat([r["codes"][:, r["warm"] + s : r["warm"] + s + 1] for r in rows], dim=0)
            mel_pos = torch.tensor([r["warm"] + s + 1 for r in rows])
            step_mask = torch.cat([mask, torch.ones(len(rows), 1, dtype=torch.int64)], dim=1)
            o = decode(mel_ids, mel_pos, step_mask, *caches)
            for j, (r, n) in enumerate(zip(rows, lens)):
                worst_l = max(worst_l, _diff(o[0][j], r["logits"][s][0]))
                worst_h = max(worst_h, _diff(o[1][j], r["hidden"][s][0]))
                for i in range(2 * layers):
                    worst_kv = max(worst_kv, _diff(o[2 + i][j], r["new"][s][i][0]))
                # in-place append into this row's next free slot
                slot = int(order[j][n + s])
                for i in range(2 * layers):
                    caches[i][j, :, slot] = o[2 + i][j, :, 0]
                mask[j, slot] = 1
        label = f"gpt_decode batch with {layout} caches (capacity {cap}, histories {lens}, {steps} steps) == alone"
        results.append((f"{label}: logits", worst_l))
        results.append((f"{label}: hidden", worst_h))
        results.append((f"{label}: new_key/new_value", worst_kv))
    return results


def latent_checks(cond, latent, uv, cfg, gen, session=None, text_len=6, codes_len=9, pad=4):
    """gpt_latent (infer_v2.py's teacher-forced pass) against the reference causal pass (`forward_full` over
    `[start_mel, c_0 .. c_{T-2}]`), right-padded codes against the row alone, and, given an onnxruntime session of
    the exported graph, the graph against the module."""
    g = cfg["gpt"]
    d = g["model_dim"]
    cp = cond(torch.randn(1, 32, d, generator=gen), torch.randn(1, d, generator=gen))
    text = torch.randint(2, g["number_text_tokens"], (1, text_len), generator=gen)
    text[0, 0], text[0, -1] = g["start_text_token"], g["stop_text_token"]
    codes = torch.randint(0, g["codebook_size"], (1, codes_len), generator=gen)
    got = latent(cp, text, codes)
    start = torch.tensor([[g["start_mel_token"]]])
    _, ref = uv.forward_full(cp, text, torch.cat([start, codes[:, :-1]], dim=1))
    padded = torch.cat([codes, torch.randint(0, g["codebook_size"], (1, pad), generator=gen)], dim=1)
    results = [("gpt_latent == teacher-forced causal pass", _diff(got, ref)),
               ("gpt_latent right-padded codes == alone", _diff(latent(cp, text, padded)[:, :codes_len], got))]
    if session is not None:
        feeds = {"cond_prefix": cp.numpy(), "text_ids": text.numpy(), "codes": padded.numpy()}
        out = torch.from_numpy(session.run(["latent"], feeds)[0])
        results.append(("gpt_latent.onnx (onnxruntime) == module", _diff(out, latent(cp, text, padded))))
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
