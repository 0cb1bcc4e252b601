#!/usr/bin/env python3
"""Check an exported model directory against the official PyTorch stages on one sentence, and check that the graphs
are batch invariant. Run in the same environment as export_indextts2.py (index-tts checkout + onnxruntime):

    uv run python /path/to/gpu-node/export/validate_export.py --checkpoints checkpoints --model /models/indextts2 \\
        --text "The quick brown fox jumps over the lazy dog." --wav /tmp/onnx.wav

1. GPT: codes are decoded with the ONNX graphs (greedy with IndexTTS2's repetition penalty, so the run is
   deterministic); `gpt_latent` over its codes must equal the official teacher-forced latents (`UnifiedVoice.forward`).
2. s2mel: latent_projector, length_regulator, one DiT step, then the 25-step CFM with CFG run through dit_step on
   the host, against `CFM.inference` from the same noise (same seed, same device).
3. vocoder against `BigVGAN.forward`.
4. batch invariance: gpt_decode rows in host caches of one capacity (history packed / scattered, junk in the
   masked slots), dit_step and vocoder with right-padded rows, each row compared with the same row run alone.
Exit status 0 when every comparison is inside its tolerance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoints", required=True)
    p.add_argument("--model", required=True, help="exported model directory")
    p.add_argument("--text", default="The quick brown fox jumps over the lazy dog, then takes a long nap.")
    p.add_argument("--voice-id", type=int, default=0)
    p.add_argument("--max-codes", type=int, default=600)
    p.add_argument("--device", default="cuda")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--wav", help="also write the ONNX pipeline's audio here (16-bit PCM)")
    p.add_argument("--indextts-root", default=os.getcwd())
    return p.parse_args()


class Report:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def rel(self, label: str, got, want, limit: float) -> None:
        import numpy as np

        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            self.failed.append(label)
            print(f"FAIL {label}: shape {got.shape} vs {want.shape}")
            return
        err = float(np.abs(got - want).max(initial=0.0) / max(np.abs(want).max(initial=0.0), 1e-9))
        ok = bool(np.isfinite(got).all()) and err <= limit
        if not ok:
            self.failed.append(label)
        print(f"{'ok  ' if ok else 'FAIL'} {label}: relative difference {err:.2e} (limit {limit:.0e})")


def main() -> int:
    args = parse_args()
    from official import Official, add_indextts_to_path

    add_indextts_to_path(args.indextts_root)
    import numpy as np
    import torch

    from onnx_io import ort_session, strict_fp32
    from safetensors_io import read_safetensors

    torch.set_grad_enabled(False)
    strict_fp32()
    dev = torch.device(args.device)
    off = Official(checkpoints=os.path.abspath(args.checkpoints), device=str(dev))
    man = json.load(open(os.path.join(args.model, "manifest.json"), encoding="utf-8"))
    g = man["gpt"]
    sess = {k: ort_session(os.path.join(args.model, f)) for k, f in man["files"].items() if f.endswith(".onnx")}
    voices, _ = read_safetensors(os.path.join(args.model, man["files"]["voices"]))
    v = {k.split(".", 2)[2]: a for k, a in voices.items() if k.startswith(f"voice.{args.voice_id}.")}
    rep = Report()
    f32 = np.float32

    def t(a, dtype=torch.float32):
        return torch.as_tensor(np.asarray(a), dtype=dtype, device=dev)

    # ---- text (official normaliser + tokenizer, first segment) -------------------------------------------------
    from indextts.utils.front import TextNormalizer, TextTokenizer

    normalizer = TextNormalizer()
    normalizer.load()
    tokenizer = TextTokenizer(os.path.join(args.model, man["files"]["bpe"]), normalizer)
    segment = tokenizer.split_segments(tokenizer.tokenize(args.text), man["limits"]["max_text_tokens_per_segment"])[0]
    ids = tokenizer.convert_tokens_to_ids(segment)
    text_ids = np.array([[g["start_text_token"], *ids, g["stop_text_token"]]], dtype=np.int64)

    # ---- stage 7: conditioning ----------------------------------------------------------------------------------
    gpt = off.gpt
    speed = gpt.speed_emb.weight
    feeds = {"speaker_latent": v["speaker_latent"][None], "emo_vec": v["emo_vec"][None]}
    cond = sess["gpt_conditioning"].run(None, feeds)[0]
    want = torch.cat([t(v["speaker_latent"][None]) + t(v["emo_vec"][None]).unsqueeze(1),
                      speed[1].view(1, 1, -1), speed[0].view(1, 1, -1)], 1)
    rep.rel("gpt_conditioning", cond, want.cpu().numpy(), 1e-5)

    # ---- stage 8: ONNX decode (greedy + repetition penalty 10), then the latents pass (gpt_latent) ---------------
    def pick(logits, seen):
        logits = logits.copy()
        for c in seen:  # HF RepetitionPenaltyLogitsProcessor
            logits[c] = logits[c] / 10.0 if logits[c] > 0 else logits[c] * 10.0
        return int(np.argmax(logits))

    out = sess["gpt_prefill"].run(None, {"cond_prefix": cond, "text_ids": text_ids})
    layers = g["layers"]
    past = out[2:]
    codes: list[int] = []
    code = pick(out[0][0], codes)
    while code != g["stop_mel_token"] and len(codes) < args.max_codes:
        codes.append(code)
        length = past[0].shape[2]
        # code k (1-based) at mel position k + 1, as IndexTTS2's generate feeds it (MODEL.md "Mel positions")
        feeds = {"mel_ids": np.array([[code]], np.int64), "mel_pos": np.array([len(codes) + 1], np.int64),
                 "attention_mask": np.ones((1, length + 1), np.int64)}
        feeds.update({f"past_{k}_{i}": past[2 * i + j] for i in range(layers) for j, k in enumerate(("key", "value"))})
        out = sess["gpt_decode"].run(None, feeds)
        past = [np.concatenate([p, new], axis=2) for p, new in zip(past, out[2:])]  # the host appends new_*
        code = pick(out[0][0], codes)
    n = len(codes)
    # the s2mel latents: infer_v2.py's second, teacher-forced pass, as the node runs it (gpt_latent)
    latent = sess["gpt_latent"].run(None, {"cond_prefix": cond, "text_ids": text_ids,
                                           "codes": np.array([codes], np.int64)})[0].astype(f32)
    print(f"     decoded {n} codes ({'stopped' if code == g['stop_mel_token'] else 'hit --max-codes'})")
    codes_t = t([codes], torch.long)
    official_latent = gpt(t(v["speaker_latent"][None]), t([ids], torch.long), t([len(ids)], torch.long), codes_t,
                          t([n], torch.long), None, emo_vec=t(v["emo_vec"][None]), use_speed=t([0], torch.long))
    rep.rel("gpt_latent vs UnifiedVoice.forward latents", latent, official_latent.cpu().numpy(), 2e-3)

    # ---- stages 10-12 -------------------------------------------------------------------------------------------
    s2mel, codec = off.s2mel, off.semantic_codec
    s_infer = sess["latent_projector"].run(None, {"latent": latent, "codes": np.array([codes], np.int64)})[0]
    want = s2mel.models["gpt_layer"](t(latent)) + codec.quantizer.vq2emb(codes_t.unsqueeze(1)).transpose(1, 2)
    rep.rel("latent_projector", s_infer, want.cpu().numpy(), 1e-4)
    target = int(n * man["s2mel"]["code_to_frame_ratio"])
    cond_gen = sess["length_regulator"].run(None, {"s_infer": s_infer, "target_len": np.array([target], np.int64)})[0]
    want = s2mel.models["length_regulator"](t(s_infer), ylens=t([target], torch.long), n_quantizers=3, f0=None)[0]
    rep.rel("length_regulator", cond_gen, want.cpu().numpy(), 1e-4)

    ref_mel, prompt = v["ref_mel"][None], v["prompt_condition"][None]
    p_len, frames = ref_mel.shape[2], ref_mel.shape[2] + target
    cat_cond = np.concatenate([prompt, cond_gen], axis=1).astype(f32)
    prompt_x = np.zeros((1, 80, frames), f32)
    prompt_x[..., :p_len] = ref_mel
    style = v["style"][None]
    dit = s2mel.models["cfm"].estimator
    cfg_rate, steps = man["s2mel"]["cfg_rate"], man["s2mel"]["cfm_steps"]

    def dit_onnx(x, px, lens, tt, st, cc):
        return sess["dit_step"].run(None, {"x": x, "prompt_x": px, "x_lens": np.asarray(lens, np.int64),
                                           "t": np.asarray(tt, f32), "style": st, "cond": cc})[0]

    x0 = np.random.default_rng(args.seed).standard_normal((1, 80, frames)).astype(f32)
    x0[..., :p_len] = 0
    two = lambda a: np.concatenate([a, np.zeros_like(a)], 0)  # noqa: E731  (conditional + unconditional rows)
    got = dit_onnx(np.concatenate([x0, x0]), two(prompt_x), [frames, frames], [0.5, 0.5], two(style), two(cat_cond))
    want = dit(t(np.concatenate([x0, x0])), t(two(prompt_x)), t([frames], torch.long), t([0.5, 0.5]), t(two(style)),
               t(two(cat_cond)))
    rep.rel("dit_step (one CFG step)", got, want.cpu().numpy(), 1e-3)

    torch.manual_seed(args.seed)
    official_mel = s2mel.models["cfm"].inference(t(cat_cond), t([frames], torch.long), t(ref_mel), t(style), None,
                                                 steps, inference_cfg_rate=cfg_rate)
    torch.manual_seed(args.seed)  # CFM.inference draws its noise with torch.randn([B, 80, T]) on the device
    x = (torch.randn([1, 80, frames], device=dev)).cpu().numpy().astype(f32)
    x[..., :p_len] = 0
    t_span = np.linspace(0, 1, steps + 1, dtype=f32)
    for k in range(1, steps + 1):
        v2 = dit_onnx(np.concatenate([x, x]), two(prompt_x), [frames, frames], [t_span[k - 1]] * 2, two(style),
                      two(cat_cond))
        x = x + (t_span[k] - t_span[k - 1]) * ((1 + cfg_rate) * v2[:1] - cfg_rate * v2[1:])
        x[..., :p_len] = 0
    rep.rel(f"CFM {steps} steps via dit_step vs CFM.inference", x, official_mel.cpu().numpy(), 2e-2)
    mel = np.ascontiguousarray(x[..., p_len:]).astype(f32)

    # ---- stage 13 -----------------------------------------------------------------------------------------------
    audio = sess["vocoder"].run(None, {"mel": mel, "mel_lens": np.array([target], np.int64)})[0]
    rep.rel("vocoder", audio, off.bigvgan(t(mel)).cpu().numpy(), 1e-3)
    if args.wav:
        import wave

        pcm = np.clip(audio[0, 0] * 32767, -32767, 32767).astype("<i2")
        with wave.open(args.wav, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(22050)
            w.writeframes(pcm.tobytes())
        print(f"     wrote {args.wav} ({len(pcm) / 22050:.2f} s)")

    # ---- batch invariance ---------------------------------------------------------------------------------------
    short = max(target // 2, 16)
    rows = dit_onnx(np.concatenate([x0, x0]), np.concatenate([prompt_x, prompt_x]), [frames, p_len + short],
                    [0.3, 0.3], np.concatenate([style, style]), np.concatenate([cat_cond, cat_cond]))
    alone = dit_onnx(x0[..., : p_len + short], prompt_x[..., : p_len + short], [p_len + short], [0.3], style,
                     cat_cond[:, : p_len + short])
    rep.rel("dit_step padded row vs alone", rows[1:, :, : p_len + short], alone, 1e-4)
    mels = np.concatenate([mel, np.zeros_like(mel)], 0)
    mels[1, :, :short] = mel[0, :, :short]
    rows = sess["vocoder"].run(None, {"mel": mels, "mel_lens": np.array([target, short], np.int64)})[0]
    alone = sess["vocoder"].run(None, {"mel": mel[..., :short].copy(), "mel_lens": np.array([short], np.int64)})[0]
    rep.rel("vocoder padded row vs alone", rows[1:, :, : 256 * short], alone, 1e-4)
    if n > 2:  # the same cache twice in host caches of capacity length + 9: packed (junk after) and scattered
        length = past[0].shape[2]
        capacity = length + 9
        rng = np.random.default_rng(args.seed)
        layouts = [np.arange(capacity), rng.permutation(capacity)]
        slots = [np.sort(order[:length]) for order in layouts]
        mask = np.zeros((2, capacity + 1), np.int64)
        mask[:, capacity] = 1
        feeds = {"mel_ids": np.array([[codes[-1]], [codes[-1]]], np.int64), "mel_pos": np.array([n, n], np.int64)}
        alone_feeds = {"mel_ids": feeds["mel_ids"][:1], "mel_pos": feeds["mel_pos"][:1],
                       "attention_mask": np.ones((1, length + 1), np.int64)}
        for row, row_slots in enumerate(slots):
            mask[row, row_slots] = 1
        feeds["attention_mask"] = mask
        for i, p in enumerate(past):
            name = f"past_{'key' if i % 2 == 0 else 'value'}_{i // 2}"
            buf = (rng.standard_normal((2, p.shape[1], capacity, p.shape[3])) * 3).astype(f32)
            for row, row_slots in enumerate(slots):
                buf[row][:, row_slots] = p[0]
            feeds[name] = buf
            alone_feeds[name] = p
        both = sess["gpt_decode"].run(None, feeds)
        alone = sess["gpt_decode"].run(None, alone_feeds)
        for row, layout in enumerate(("packed", "scattered")):
            rep.rel(f"gpt_decode row in {layout} capacity cache (junk in masked slots) vs alone: logits", both[0][row:row + 1],
                    alone[0], 1e-4)
            rep.rel(f"gpt_decode row in {layout} capacity cache vs alone: new_key/new_value",
                    np.concatenate([o[row:row + 1].ravel() for o in both[2:]]),
                    np.concatenate([o.ravel() for o in alone[2:]]), 1e-4)

    print("all checks passed" if not rep.failed else f"{len(rep.failed)} check(s) failed: {', '.join(rep.failed)}")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
