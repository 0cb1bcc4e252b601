#!/usr/bin/env python3
"""End-to-end proof against the official code, GPT stage (outside CI; issue 12 item 6, first part).

What it does, with random weights and no download:
1. builds the official `UnifiedVoice` (index-tts `indextts/gpt/model_v2.py`, imported from --official, a checkout at
   the pinned commit) from the release config.yaml, optionally narrowed (--dims small) so it runs on a CPU, and saves
   it in the official checkpoint layout: <work>/checkpoints/{config.yaml, gpt.pth, bpe.model};
2. loads it back through the exporter's own loader (`official.Official.gpt`: `UnifiedVoice(**cfg.gpt)` +
   `load_checkpoint`) and runs the exporter's GPT stage on it (`gpt_export.check_against_official`, then
   `export_gpt` with onnxruntime parity): <work>/model/gpt_{conditioning,prefill,decode}.onnx;
   and `export_gpt_latent` (the s2mel latents' teacher-forced pass, checked against `UnifiedVoice.forward`);
3. encodes --text with the node's own front end (`npm run text -- --bpe`), and decodes greedily (repetition
   penalty 10) with
   a. the exported ONNX graphs driven with code c_k at mel position k (the training / teacher-forced layout; the
      node's loop before issue 13) and the penalty over the generated codes only, and with c_k at k + 1 and the
      penalty over generate's prompt ids too (what the node does now),
   b. the official inference path, `UnifiedVoice.inference_speech` (HF `generate` in index-tts's vendored
      GenerationMixin; do_sample=False, num_beams=1, repetition_penalty=10),
   and prints both code sequences, where they first differ, and why when the cause is known.

With --s2mel it also builds random official s2mel (`MyModel`) and semantic codec (`RepCodec`) weights in the official
layout and runs the exporter's s2mel stage on them (latent_projector, length_regulator, dit_step).

With --node (implies --s2mel) it also builds a random official BigVGAN (the release architecture), CAMPPlus and
feat1/feat2, runs the exporter's vocoder and emotions stages and its manifest, writes one voice whose audio front end
is a labelled stand-in (`stub_voice`: no w2v-BERT weights or torchaudio here; the GPT conditioning is still the
official code's), starts the node on the directory (`npm run node`, one HTTP /synthesize), and compares the node
engine's greedy codes (node_codes.ts: 1 beam, top-k 1) with the official generate's for --texts.

With --audio (implies --node) the random GPT gets a stop-token bias (e2e_build.calibrate_stop_bias, printed), and
for each text the node's audio is compared with the official `IndexTTS2.infer` (infer_v2.py itself, on the same
random checkpoints, voice and ids, greedy, with the CFM drawing the node's noise; see e2e_compare.official_infer):
codes identical, s2mel latents identical to float tolerance, audio within AUDIO_SNR_DB.

The script is in three parts: e2e_build.py (shims, random GPT checkpoint), e2e_export.py (the other random
checkpoints and the exporter on them), e2e_compare.py (the node, and the comparisons).

Environment: a scratch venv with torch, transformers, onnx, onnxruntime, numpy, pyyaml from the machine's local
wheels. index-tts pins transformers 4.52.1; with the 5.x wheels found here its vendored generation code does not
import, so --compat-shims stubs the ~30 names 5.x dropped (classes used only by beam search, TF/Flax, pruning and
deepspeed paths) and provides yaml-based `omegaconf`/`munch` stand-ins when those packages are missing. The shims
are printed; a run with the pinned versions should not need them.

    python3 -m venv /tmp/e2e && /tmp/e2e/bin/pip install --index-url file:///opt/pypi/simple \\
        --find-links /opt/wheels torch transformers onnx onnxruntime numpy pyyaml \\
        safetensors librosa scipy matplotlib   # the last four for --s2mel / --node
    git clone https://github.com/index-tts/index-tts /tmp/index-tts && git -C /tmp/index-tts checkout 72c09ec
    /tmp/e2e/bin/python gpu-node/export/e2e_official.py --official /tmp/index-tts --bpe checkpoints/bpe.model \\
        --work /tmp/e2e-work --dims small --compat-shims
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from e2e_build import MISSING_FIELDS, PINNED_COMMIT, build_checkpoints, install_shims  # noqa: E402
from e2e_compare import latent_check, node_segments, node_stage, node_text_ids, penalize  # noqa: E402

DEFAULT_TEXTS = [
    "Hello there, this is a test of the speech service.",
    "会议将于2025年3月15日下午2点30分举行。",
    "The price is $3.50, about 25% off.",
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official", required=True, help=f"index-tts checkout (pinned: {PINNED_COMMIT[:7]})")
    p.add_argument("--bpe", required=True, help="IndexTTS2's bpe.model (sha256 b2a5ce80...) or another SentencePiece model")
    p.add_argument("--work", required=True, help="scratch folder: checkpoints/ and model/ are written here")
    p.add_argument("--dims", choices=("small", "release"), default="small")
    p.add_argument("--text", default="欢迎使用IndexTTS2语音合成服务，支持情感调节和多音色选择。")
    p.add_argument("--max-codes", type=int, default=40)
    p.add_argument("--seed", type=int, default=20250908)
    p.add_argument("--compat-shims", action="store_true", help="stub what transformers 5.x dropped (see above)")
    p.add_argument("--s2mel", action="store_true", help="also build random official s2mel + semantic codec weights "
                   "and run the exporter's s2mel stage on them (latent_projector, length_regulator, dit_step)")
    p.add_argument("--node", action="store_true", help="(implies --s2mel) also the vocoder, voices and emotions "
                   "stages and the manifest, then start the node on the export and compare its greedy codes with the "
                   "official generate's for --texts")
    p.add_argument("--audio", action="store_true", help="(implies --node and --stop-bias) also compare the node's "
                   "audio with the official IndexTTS2.infer's, from the same noise")
    p.add_argument("--stop-bias", action="store_true", help="give the random GPT a stop-token bias so greedy "
                   "decoding stops within --max-codes on every text (printed; see e2e_build.calibrate_stop_bias)")
    p.add_argument("--texts", nargs="*", default=None, help="texts for --node (default: --text and three more)")
    p.add_argument("--reuse", action="store_true", help="iteration aid: keep <work>'s checkpoints and GPT/s2mel graphs "
                   "from an earlier run with the same options instead of rebuilding them")
    p.add_argument("--reuse-vocoder", action="store_true", help="iteration aid: keep <work>/model/vocoder.onnx (its "
                   "random BigVGAN depends on --seed only)")
    a = p.parse_args()
    a.node = a.node or a.audio
    a.stop_bias = a.stop_bias or a.audio
    a.s2mel = a.s2mel or a.node
    a.texts = a.texts or [a.text, *DEFAULT_TEXTS]
    return a


def main(args) -> int:
    work = os.path.abspath(args.work)
    ckpt, model = os.path.join(work, "checkpoints"), os.path.join(work, "model")
    if args.compat_shims:
        stubbed = install_shims(args)
        print(f">> compatibility shims ({len(stubbed)}): {', '.join(stubbed)}")
    else:
        sys.path.insert(0, os.path.abspath(args.official))

    import numpy as np
    import torch

    from e2e_export import export_rest_stages, export_s2mel_stage
    from gpt_export import check_against_official, check_latent_against_official, export_gpt, export_gpt_latent
    from official import Official
    from onnx_io import ExportOptions, ort_session, strict_fp32

    torch.set_grad_enabled(False)
    strict_fp32()
    device = torch.device("cpu")
    reuse = args.reuse and os.path.exists(os.path.join(model, "dit_step.onnx"))
    if reuse:
        print(f">> --reuse: checkpoints, GPT and s2mel graphs of the earlier run in {work}")
    else:
        # the node's segments of every text: the stop bias is calibrated on them (--stop-bias)
        segments = [s for t in args.texts for s in node_segments(args.bpe, t)]
        build_checkpoints(args, ckpt, segments)
    gpt = Official(checkpoints=ckpt, device="cpu").gpt
    if not reuse:
        print(">> exporter: check_against_official + export_gpt, check_latent_against_official + export_gpt_latent")
        check_against_official(gpt, device)
        check_latent_against_official(gpt, device)
        os.makedirs(model, exist_ok=True)
        export_gpt(gpt, ExportOptions(out_dir=model), device)
        export_gpt_latent(gpt, ExportOptions(out_dir=model), device)
        if args.s2mel:
            export_s2mel_stage(args, ckpt, model)

    ids = node_text_ids(args.bpe, args.text)
    text = torch.tensor([[gpt.start_text_token, *ids, gpt.stop_text_token]])
    gen = torch.Generator().manual_seed(args.seed)
    # (1, frames, 1024): stands in for the w2v-BERT features of a reference clip (infer_v2.py's spk_cond_emb)
    spk = torch.randn(1, 120, 1024, generator=gen)
    lengths = torch.tensor([spk.shape[1]])
    speaker_latent = gpt.get_conditioning(spk.transpose(1, 2), lengths)
    emo_vec = gpt.merge_emovec(spk, spk, lengths, lengths, alpha=1.0)

    # a. the exported graphs with c_k at position k (the node before issue 13); c. the same graphs with the official generate's two habits
    sess = {n: ort_session(os.path.join(model, f"{n}.onnx")) for n in ("gpt_conditioning", "gpt_prefill", "gpt_decode")}
    cond = sess["gpt_conditioning"].run(None, {"speaker_latent": speaker_latent.numpy(), "emo_vec": emo_vec.numpy()})[0]

    def onnx_greedy(pos_offset: int, prompt_ids: list[int], hidden: list | None = None) -> list[int]:
        """Greedy decode over the exported graphs: c_k at mel position k + pos_offset; the repetition penalty over
        prompt_ids + the generated codes."""
        out = sess["gpt_prefill"].run(None, {"cond_prefix": cond, "text_ids": text.numpy()})
        past, codes = out[2:], []
        if hidden is not None:
            hidden.append(out[1][0])
        code = int(np.argmax(penalize(out[0][0], prompt_ids)))
        while code != gpt.stop_mel_token and len(codes) < args.max_codes:
            codes.append(code)
            feeds = {"mel_ids": np.array([[code]], np.int64),
                     "mel_pos": np.array([len(codes) + pos_offset], np.int64),
                     "attention_mask": np.ones((1, past[0].shape[2] + 1), np.int64)}
            feeds.update({f"past_{k}_{i}": past[2 * i + j] for i in range(gpt.layers)
                          for j, k in enumerate(("key", "value"))})
            out = sess["gpt_decode"].run(None, feeds)
            past = [np.concatenate([p, new], axis=2) for p, new in zip(past, out[2:])]
            if hidden is not None:
                hidden.append(out[1][0])
            code = int(np.argmax(penalize(out[0][0], prompt_ids + codes)))
        return codes

    onnx_codes = onnx_greedy(0, [])
    # prepare_gpt_inputs: generate's input_ids are 1 for every prompt position, then start_mel
    onnx_official_style = onnx_greedy(1, [1, gpt.start_mel_token])

    # b. the official inference path
    gpt.post_init_gpt2_config(use_deepspeed=False, kv_cache=True, half=False)
    try:
        official, _ = gpt.inference_speech(spk, text, spk, cond_lengths=lengths, emo_cond_lengths=lengths,
                                           emo_vec=emo_vec, do_sample=False, num_beams=1, repetition_penalty=10.0,
                                           num_return_sequences=1, max_generate_length=args.max_codes)
        official_codes = [int(c) for c in official[0] if int(c) != gpt.stop_mel_token]
    except Exception as e:  # report, do not hide: this is where transformers 5.x and the vendored code part ways
        print(f"!! official inference_speech failed: {type(e).__name__}: {e}")
        print(f"   GenerationConfig fields read that 5.x lacks: {sorted(MISSING_FIELDS)}")
        print(f"   position-k ONNX codes ({len(onnx_codes)}): {onnx_codes}")
        print(f"   position k+1 + prompt penalty ({len(onnx_official_style)}): {onnx_official_style}")
        return 2

    if MISSING_FIELDS:
        print(f">> GenerationConfig fields read that 5.x lacks (4.52 defaults used): {sorted(MISSING_FIELDS)}")
    print(f">> ONNX, mel position k (teacher-forced layout) ({len(onnx_codes)}): {onnx_codes}")
    print(f">> official generate ({len(official_codes)}): {official_codes}")
    print(f">> ONNX, mel position k+1 and penalty over the prompt ids too ({len(onnx_official_style)}): "
          f"{onnx_official_style}")

    def first_difference(a: list[int], b: list[int]) -> str:
        if a == b:
            return "identical"
        i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return f"differ from index {i}"

    print(f"== ONNX with position k vs official generate: {first_difference(onnx_codes, official_codes)}")
    print(f"== ONNX with position k+1 only vs official generate: "
          f"{first_difference(onnx_greedy(1, []), official_codes)}")
    print(f"== ONNX with the prompt penalty only vs official generate: "
          f"{first_difference(onnx_greedy(0, [1, gpt.start_mel_token]), official_codes)}")
    print(f"== ONNX with position k+1 + prompt penalty vs official generate: "
          f"{first_difference(onnx_official_style, official_codes)}")
    ok = onnx_official_style == official_codes
    hidden: list = []
    if onnx_greedy(1, [1, gpt.start_mel_token], hidden) == official_codes:
        ok = latent_check(gpt, ort_session(os.path.join(model, "gpt_latent.onnx")), speaker_latent, emo_vec, cond,
                          ids, official_codes, hidden) and ok
    if args.node:
        voice = export_rest_stages(args, ckpt, model, spk)
        ok = node_stage(args, ckpt, gpt, spk, lengths, speaker_latent, emo_vec, voice, args.texts) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(parse_args()))
