#!/usr/bin/python3
"""Write an architecture-faithful IndexTTS2 model directory with random weights (gpu-node/MODEL.md contract).

    npm run model:generate -- --size tiny --out gpu-node/models/tiny [--seed N] [--voices N]

Sizes (indextts2_arch/configs.py): full = IndexTTS2's real dimensions; small = CPU benchmark model; tiny = the
committed test fixture. The same seed always produces the same files (for one torch version). Needs torch + onnx
(gpu-node/tools/README.md, "Which Python"), and the SentencePiece model from train_bpe.sh (trained on demand when missing).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from indextts2_arch import graphs  # noqa: E402
from indextts2_arch.configs import SIZES, config_for  # noqa: E402
from indextts2_arch.onnx_io import FP16_MIN_ELEMENTS, export_graph  # noqa: E402
from indextts2_arch.safetensors_io import write_safetensors  # noqa: E402
from indextts2_arch.voices import EMO_NUM, make_emotions, make_voices  # noqa: E402

DEFAULT_SEED = 20250908  # IndexTTS2's release date
DEFAULT_BPE = os.path.join(HERE, "corpus", "bpe.model")
FILES = {name: f"{name}.onnx" for name in graphs.GRAPHS}
FILES.update(bpe="bpe.model", voices="voices.safetensors", emotions="emotions.safetensors")


def piece_count(bpe_path):
    try:
        import sentencepiece as spm

        return spm.SentencePieceProcessor(model_file=bpe_path).get_piece_size()
    except ImportError:  # Debian's CLI is always there when train_bpe.sh could run
        out = subprocess.run(["spm_export_vocab", f"--model={bpe_path}"], check=True, capture_output=True, text=True)
        return len(out.stdout.splitlines())


def calibrate_vocoder(vocoder, cfg, seed, target_rms=0.1):
    """Random BigVGAN weights give an arbitrary output level. conv_post is linear without bias, so scaling it
    sets the pre-clamp RMS exactly: aim for audible, mostly unclipped noise (nicer for listening tests and for
    tests that assert non-silence)."""
    from indextts2_arch.voices import synthetic_log_mel

    mel = torch.from_numpy(synthetic_log_mel(np.random.RandomState(seed + 3000), cfg["s2mel"]["n_mels"], 24))[None]
    with torch.no_grad():
        post = vocoder.conv_post
        handle = post.register_forward_hook(lambda m, i, o: setattr(m, "_last", o))
        vocoder(mel, torch.tensor([24]))
        handle.remove()
        rms = float(post._last.pow(2).mean().sqrt())
        del post._last
        if rms > 0:
            post.weight.mul_(target_rms / rms)


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def manifest_for(size, cfg, seed, voices):
    g, s = cfg["gpt"], cfg["s2mel"]
    return {
        "format": "indextts2-onnx/1",
        "name": f"indextts2-random-{size}",
        "size": size,
        "random_weights": True,
        # ~0.2 s of audio per text token at 50 codes/s.
        "semantic_tokens_per_text_token": 10,
        "sample_rate": 22050,
        "hop_length": 256,
        "files": FILES,
        "gpt": {k: g[k] for k in ("model_dim", "layers", "heads", "number_text_tokens", "number_mel_codes",
                                  "start_text_token", "stop_text_token", "start_mel_token", "stop_mel_token",
                                  "cond_tokens", "max_text_tokens", "max_mel_tokens")},
        "semantic": {"hidden_size": cfg["semantic"]["hidden_size"], "codebook_size": cfg["semantic"]["codebook_size"]},
        "s2mel": {"n_mels": s["n_mels"], "content_dim": s["content_dim"], "style_dim": s["style_dim"],
                  "code_to_frame_ratio": 1.72, "cfm_steps": 25, "cfg_rate": 0.7},
        "sampling": {"top_k": 30, "top_p": 0.8, "temperature": 0.8, "repetition_penalty": 10},
        "limits": {"max_text_chars": 2000, "max_text_tokens_per_segment": 120, "max_segments": 16},
        "emotion": {"labels": ["happy", "angry", "sad", "afraid", "disgusted", "melancholic", "surprised", "calm"],
                    "emo_num": EMO_NUM},
        "voices": voices,
        # Not part of manifest.ts (zod ignores unknown keys): the full architecture, so check_model.py can rebuild
        # the torch modules, and the generator inputs, so the directory can be regenerated bit for bit.
        "architecture": cfg,
        "generator": {"tool": "gpu-node/tools/generate_model.py", "seed": seed, "size": size},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=SIZES, required=True)
    ap.add_argument("--out", required=True, help="model directory to (re)write")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--voices", type=int, default=4, help="number of preset voices (>= 1)")
    ap.add_argument("--bpe", default=DEFAULT_BPE, help="SentencePiece model (default: train_bpe.sh output)")
    ap.add_argument("--only", nargs="*", choices=graphs.GRAPHS, help="export only these graphs (debugging)")
    args = ap.parse_args(argv)
    if args.voices < 1:
        ap.error("--voices must be >= 1")

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if not os.path.exists(args.bpe):
        if args.bpe != DEFAULT_BPE:
            ap.error(f"{args.bpe} does not exist")
        subprocess.run([os.path.join(HERE, "train_bpe.sh")], check=True)

    cfg = config_for(args.size)
    pieces = piece_count(args.bpe)
    # `full` keeps the official text vocabulary (12000 rows, so its cost is the real model's); the smaller sizes
    # size it to the tokenizer they ship.
    cfg["gpt"].setdefault("number_text_tokens", pieces)
    if pieces > cfg["gpt"]["number_text_tokens"]:
        ap.error(f"{args.bpe} has {pieces} pieces, more than number_text_tokens {cfg['gpt']['number_text_tokens']}")
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    mods = graphs.build_modules(cfg, args.seed)
    calibrate_vocoder(mods["vocoder"], cfg, args.seed)
    fp16 = cfg["storage"]["fp16_weights"]
    if fp16:
        for m in mods.values():
            graphs.round_to_fp16(m, FP16_MIN_ELEMENTS)
    mods["gpt_prefill"].sync_start_embedding()

    uv = mods["gpt_prefill"].uv
    params = {"gpt_total": count_params(uv), "gpt_transformer": count_params(uv.gpt)}
    params.update({name: count_params(mods[name]) for name in graphs.GRAPHS if not name.startswith("gpt_")})
    print(f"[{args.size}] parameters: " + ", ".join(f"{k}={v / 1e6:.2f}M" for k, v in params.items()), flush=True)

    for name in args.only or graphs.GRAPHS:
        t = time.time()
        ins, outs = graphs.io_names(name, cfg)
        export_graph(mods[name], graphs.example_inputs(name, cfg), os.path.join(args.out, FILES[name]), ins, outs,
                     graphs.dynamic_axes(name, cfg), graphs.io_dims(name, cfg), fp16_weights=fp16,
                     external_data=cfg["storage"]["external_data"] and name in ("gpt_prefill", "gpt_decode", "gpt_latent"))
        print(f"[{args.size}] {FILES[name]} exported in {time.time() - t:.1f}s", flush=True)

    voice_tensors, voice_entries = make_voices(cfg, args.voices, args.seed, mods["latent_projector"],
                                               mods["length_regulator"])
    write_safetensors(os.path.join(args.out, FILES["voices"]), voice_tensors, {"random_weights": "true"})
    write_safetensors(os.path.join(args.out, FILES["emotions"]), make_emotions(cfg, args.seed),
                      {"random_weights": "true"})
    shutil.copyfile(args.bpe, os.path.join(args.out, FILES["bpe"]))
    manifest = manifest_for(args.size, cfg, args.seed, voice_entries)
    manifest["generator"]["parameters"] = params
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")

    # the resident-cache decode loop's graphs, derived from gpt_decode.onnx (issue 13; gpu-node/MODEL.md)
    from resident_graphs import main as write_resident_graphs

    write_resident_graphs(args.out)

    total = 0
    for fname in sorted(os.listdir(args.out)):
        size = os.path.getsize(os.path.join(args.out, fname))
        total += size
        print(f"  {fname:32s} {size / 1e6:10.3f} MB")
    print(f"[{args.size}] wrote {args.out}: {total / 1e6:.2f} MB in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
