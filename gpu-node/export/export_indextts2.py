#!/usr/bin/env python3
"""Export the official IndexTTS2 checkpoints into the gpu-node model-directory contract (gpu-node/MODEL.md).

Run inside an index-tts checkout with its environment (plus `onnx`, and `onnxruntime` for the parity checks):

    uv run python /path/to/gpu-node/export/export_indextts2.py \\
        --checkpoints checkpoints --out /models/indextts2 \\
        --voice alice=examples/voice_01.wav --voice bob=examples/voice_02.wav

Writes manifest.json, bpe.model, the seven ONNX graphs (the GPT ones with a .onnx.data weight file each),
voices.safetensors, emotions.safetensors, and the resident decode loop's graphs (tools/resident_graphs.py). See README.md beside this file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

STAGES = ("gpt", "s2mel", "vocoder", "voices", "emotions")
GLOSSARY = "glossary.yaml"  # the file infer_v2.py reads from the model directory (and the node)


def _pairs(values: list[str], flag: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise SystemExit(f"{flag} expects NAME=VALUE, got {value!r}")
        pairs.append((name.strip(), rest))
    return pairs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="export_indextts2.py",
        description="Export the official IndexTTS2 checkpoints (IndexTeam/IndexTTS-2) to the gpu-node ONNX "
        "model directory: manifest.json, bpe.model, 7 ONNX graphs, voices.safetensors, emotions.safetensors.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--checkpoints", required=True, help="folder with config.yaml, gpt.pth, s2mel.pth, bpe.model, "
                   "wav2vec2bert_stats.pt, feat1.pt, feat2.pt (and hf_cache/ with the auxiliary models)")
    p.add_argument("--out", required=True, help="model directory to write (created if missing)")
    p.add_argument("--voice", action="append", default=[], metavar="NAME=WAV",
                   help="a preset voice from a reference clip (cut to 15 s); repeat for more; ids follow the order")
    p.add_argument("--voice-description", action="append", default=[], metavar="NAME=TEXT",
                   help="description shown for a voice in /voices")
    p.add_argument("--device", default="cuda", help="torch device for loading, checking and tracing")
    p.add_argument("--fp16", choices=("no", "yes"), default="no",
                   help="store fp16 weights/activations inside the graphs (inputs and outputs stay float32); "
                   "needs onnxconverter-common; experimental")
    p.add_argument("--name", default="indextts2-official", help="manifest name")
    p.add_argument("--only", default=",".join(STAGES),
                   help=f"comma-separated subset of {','.join(STAGES)} to (re)do; manifest.json is always written")
    p.add_argument("--no-check", action="store_true",
                   help="skip the wrapper-vs-official checks and the onnxruntime parity runs")
    p.add_argument("--indextts-root", default=os.getcwd(), help="index-tts checkout to import `indextts` from")
    p.add_argument("--w2v-bert", help="local facebook/w2v-bert-2.0 folder (default: hf_cache/ or the hub cache)")
    p.add_argument("--semantic-codec", help="local amphion/MaskGCT semantic_codec/model.safetensors")
    p.add_argument("--campplus", help="local funasr/campplus campplus_cn_common.bin")
    p.add_argument("--bigvgan", help="local nvidia/bigvgan_v2_22khz_80band_256x folder (config.json, "
                   "bigvgan_generator.pt)")
    args = p.parse_args(argv)
    args.voices = _pairs(args.voice, "--voice")
    args.descriptions = dict(_pairs(args.voice_description, "--voice-description"))
    if not args.voices:
        p.error("at least one --voice NAME=WAV is required (the manifest needs one voice)")
    names = [n for n, _ in args.voices]
    if len(set(names)) != len(names):
        p.error("voice names must be unique")
    args.stages = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.stages) - set(STAGES)
    if unknown:
        p.error(f"--only: unknown stage(s) {sorted(unknown)}")
    return args


def _step(title: str) -> float:
    print(f">> {title}", flush=True)
    return time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for _, wav in args.voices:
        if not os.path.isfile(wav):
            raise SystemExit(f"reference clip not found: {wav}")
    for needed in ("config.yaml", "bpe.model"):
        if not os.path.isfile(os.path.join(args.checkpoints, needed)):
            raise SystemExit(f"{args.checkpoints} has no {needed}: download IndexTeam/IndexTTS-2 first")
    os.makedirs(args.out, exist_ok=True)

    from official import AuxPaths, Official, add_indextts_to_path

    add_indextts_to_path(args.indextts_root)
    import torch

    import manifest as mf
    from onnx_io import ExportOptions, file_size, remove_scratch, strict_fp32

    device = torch.device(args.device)
    torch.set_grad_enabled(False)
    strict_fp32()
    off = Official(
        checkpoints=os.path.abspath(args.checkpoints),
        device=str(device),
        aux=AuxPaths(args.w2v_bert, args.semantic_codec, args.campplus, args.bigvgan),
    )
    options = ExportOptions(
        out_dir=args.out, fp16=args.fp16 == "yes", check=not args.no_check, rtol=5e-2 if args.fp16 == "yes" else 1e-3
    )
    cfg = off.cfg_dict
    started = time.perf_counter()
    try:
        if "gpt" in args.stages:
            t = _step("GPT: gpt_conditioning, gpt_prefill, gpt_decode, gpt_latent")
            from gpt_export import check_against_official, check_latent_against_official, export_gpt, export_gpt_latent

            if options.check:
                check_against_official(off.gpt, device)
                check_latent_against_official(off.gpt, device)
            export_gpt(off.gpt, options, device)
            export_gpt_latent(off.gpt, options, device)
            print(f"   done in {time.perf_counter() - t:.0f} s")
        if "s2mel" in args.stages:
            t = _step("s2mel: latent_projector, length_regulator, dit_step")
            from s2mel_export import export_s2mel

            off.prepare_for_export()
            export_s2mel(off.s2mel, off.semantic_codec, int(cfg["semantic_codec"]["codebook_size"]), options, device)
            print(f"   done in {time.perf_counter() - t:.0f} s")
        if "vocoder" in args.stages:
            t = _step("vocoder: BigVGAN")
            from vocoder_export import export_vocoder

            export_vocoder(off.bigvgan, options, device)
            print(f"   done in {time.perf_counter() - t:.0f} s")
    finally:
        remove_scratch(args.out)

    from safetensors_io import read_safetensors
    from voices import extract_voice, write_voices

    voices_path = os.path.join(args.out, mf.FILES["voices"])
    if "voices" in args.stages:
        t = _step(f"voices: {len(args.voices)} reference clip(s)")
        voices = []
        for name, wav in args.voices:
            voice = extract_voice(off, name, wav, args.descriptions.get(name))
            print(f"   {name}: {voice.ref_frames} reference mel frames from {wav}")
            voices.append(voice)
        write_voices(voices_path, voices)
        print(f"   done in {time.perf_counter() - t:.0f} s")
    if not os.path.isfile(voices_path):
        raise SystemExit("voices.safetensors is missing: include 'voices' in --only")
    stored, meta = read_safetensors(voices_path)
    entries = []
    for k, (name, _) in enumerate(args.voices):
        if meta.get(f"voice.{k}.name") != name or f"voice.{k}.ref_mel" not in stored:
            raise SystemExit(f"voices.safetensors does not hold voice {k} = {name}: re-run with 'voices' in --only")
        frames = int(stored[f"voice.{k}.ref_mel"].shape[1])
        description = args.descriptions.get(name) or meta.get(f"voice.{k}.description") or f"voice {name}"
        entries.append(mf.VoiceEntry(k, name, description, frames))

    if "emotions" in args.stages:
        _step("emotions: feat1.pt / feat2.pt")
        from emotions import load_emotion_matrices, write_emotions

        spk, emo = load_emotion_matrices(args.checkpoints, cfg)
        write_emotions(os.path.join(args.out, mf.FILES["emotions"]), spk, emo, list(cfg["emo_num"]))

    bpe = cfg.get("dataset", {}).get("bpe_model", "bpe.model")
    shutil.copyfile(os.path.join(args.checkpoints, bpe), os.path.join(args.out, mf.FILES["bpe"]))
    # infer_v2.py applies <model_dir>/glossary.yaml (term readings) when present; the node reads the same file. It
    # mirrors the checkpoints: a glossary left in --out by an earlier export would change the text without them.
    glossary_src, glossary_out = os.path.join(args.checkpoints, GLOSSARY), os.path.join(args.out, GLOSSARY)
    if os.path.isfile(glossary_src):
        shutil.copyfile(glossary_src, glossary_out)
        print(f">> {GLOSSARY} copied from the checkpoints")
    elif os.path.exists(glossary_out):
        os.remove(glossary_out)
        print(f">> stale {GLOSSARY} removed from {args.out} (the checkpoints have none)")
    manifest = mf.build_manifest(cfg, entries, args.name)
    mf.write_manifest(os.path.join(args.out, "manifest.json"), manifest)
    if os.path.isfile(os.path.join(args.out, "gpt_decode.onnx")):
        # the resident decode loop's graphs, derived from gpt_decode.onnx: the node's default loop where they exist
        # (gpu-node/MODEL.md "The decode loop on a GPU")
        sys.path.insert(0, os.path.join(HERE, "..", "tools"))
        from resident_graphs import main as write_resident_graphs

        write_resident_graphs(args.out)

    print(f">> model directory {args.out} ({time.perf_counter() - started:.0f} s)")
    missing = []
    for key, name in mf.FILES.items():
        path = os.path.join(args.out, name)
        if os.path.isfile(path):
            print(f"   {name:28s} {file_size(path) / 2**20:10.1f} MiB")
        else:
            missing.append(name)
    if missing:
        print(f"   missing (export them with --only): {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
