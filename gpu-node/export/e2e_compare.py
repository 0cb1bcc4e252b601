"""e2e_official.py, part 3: the node on the export, and the comparisons with the official code.

- `node_text_ids`, `node_codes`, `node_http_check`: the node's front end, its engine in-process (node_codes.ts) and
  `npm run node` over HTTP;
- `latent_check`: the s2mel latents (the node's `gpt_latent` graph, and the decode steps' hidden states the node
  used before) against the official teacher-forced pass, `UnifiedVoice.forward` itself;
- `official_infer`: the official `IndexTTS2.infer` (infer_v2.py, unmodified) on the same voice, text and noise;
- `node_stage`: codes and audio, node against official.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VOICE_KEY = "e2e-stand-in-voice"  # the name infer_v2.py caches the voice under (see official_infer)
# Audio tolerance, stated before the comparison: the official infer's int16 output against the node's float output
# quantised the same way (clamp(32767 x), truncated), signal-to-error ratio >= 60 dB per text.
AUDIO_SNR_DB = 60.0

def node_codes(model: str, texts: list[str], max_codes: int, audio_dir: str) -> list[dict]:
    """The node's engine (gpu-node/export/node_codes.ts: front end, voice bank, onnxruntime engine) on the export,
    greedy (1 beam, top-k 1)."""
    os.makedirs(audio_dir, exist_ok=True)
    out = subprocess.run(["npx", "tsx", os.path.join(HERE, "node_codes.ts"), "--model", model, "--max-tokens",
                          str(max_codes), "--audio-dir", audio_dir], input="\n".join(texts) + "\n", text=True,
                         capture_output=True, cwd=REPO, timeout=1200)
    if out.returncode != 0:
        raise SystemExit(f"node_codes.ts failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def node_http_check(model: str, text: str) -> None:
    """`npm run node -- --model DIR` on the export: it must start and answer /synthesize with audio."""
    import urllib.request

    proc = subprocess.Popen(["npm", "run", "--silent", "node", "--", "--model", model, "--port", "0",
                             "--max-batch", "2", "--intra-op-threads", "2"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        port = None
        for line in proc.stdout:
            print(f"   node: {line.rstrip()[:200]}")
            m = re.search(r"listening on http://[\d.]+:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            raise SystemExit("the node exited before listening")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/synthesize", method="POST",
                                     data=json.dumps({"text": text, "speaker_id": 0, "max_tokens": 40,
                                                      "num_beams": 1, "seed": 1}).encode(),
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=900) as res:
            body = res.read()
            print(f">> node HTTP /synthesize: {res.status} {res.headers.get('content-type')}, {len(body)} bytes")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def node_segments(bpe: str, text: str) -> list[list[int]]:
    """The node's own front end: each segment's ids, as `npm run text` prints them."""
    out = subprocess.run(["npm", "run", "--silent", "text", "--", "--bpe", bpe], input=text + "\n", text=True,
                         capture_output=True, check=True, cwd=REPO).stdout
    return [s["ids"] for s in json.loads(out.splitlines()[0])["segments"]]


def node_text_ids(bpe: str, text: str) -> list[int]:
    """The node's own front end: the ids `npm run text` prints for the text (all segments joined)."""
    out = subprocess.run(["npm", "run", "--silent", "text", "--", "--bpe", bpe], input=text + "\n", text=True,
                         capture_output=True, check=True, cwd=REPO).stdout
    line = json.loads(out.splitlines()[0])
    print(f">> node front end: {line['normalized']!r}")
    return [i for s in line["segments"] for i in s["ids"]]


def penalize(logits, seen):
    """HF RepetitionPenaltyLogitsProcessor(10) over `seen`."""
    logits = logits.copy()
    for c in set(seen):
        logits[c] = logits[c] / 10.0 if logits[c] > 0 else logits[c] * 10.0
    return logits



def cosine_rows(a, b) -> float:
    import numpy as np

    return float(np.mean(np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))))


def latent_check(gpt, session, speaker_latent, emo_vec, cond, ids: list[int], codes: list[int], hidden) -> bool:
    """infer_v2.py's s2mel latents are `UnifiedVoice.forward` over the codes (teacher-forced, `[:, :-2]`). Compared
    with the node's `gpt_latent` graph (onnxruntime) on the same codes, and, for the record, with the decode steps'
    hidden states (c_k at k + 1, as generate samples), which the node fed s2mel before it ran the second pass."""
    import numpy as np
    import torch

    n = len(codes)
    t = lambda v: torch.tensor([v])  # noqa: E731
    want = gpt(speaker_latent, t(ids), t(len(ids)), t(codes), t(n), None, emo_vec=emo_vec,
               use_speed=torch.zeros(1, dtype=torch.long))[0].numpy()
    text = np.array([[gpt.start_text_token, *ids, gpt.stop_text_token]], np.int64)
    got = session.run(None, {"cond_prefix": cond, "text_ids": text, "codes": np.array([codes], np.int64)})[0][0]
    scale = np.abs(want).max()
    rel = np.abs(got - want).max() / scale
    print(f"== s2mel latents, gpt_latent (the node's second pass) vs official UnifiedVoice.forward, {n} codes: "
          f"relative {rel:.2e}, mean cosine {cosine_rows(got, want):.7f}")
    old = np.stack(hidden[:n])
    print(f"   (decode-step hidden states, what the node used before: rows 1..{n - 1} relative "
          f"{np.abs(old[1:] - want[1:]).max() / scale:.2e}, mean cosine {cosine_rows(old[1:], want[1:]):.4f})")
    return rel < 1e-4


class NodeSegments:
    """COMPATIBILITY SHIM for `IndexTTS2.tokenizer`: the official TextNormalizer needs WeTextProcessing (pynini),
    which is not installable here, so infer() gets the node's segments (ids) for the text. Their parity with the
    official front end is measured on its own (gpu-node/FIDELITY.md); here the same ids go to both sides."""

    def __init__(self, segments: list[list[int]]):
        self.segments = segments

    def tokenize(self, text):
        return [list(s) for s in self.segments]

    def split_sentences(self, tokens, max_tokens):
        return tokens

    def convert_tokens_to_ids(self, sentence):
        return list(sentence)


def official_infer(ckpt: str, spk, voice: dict, segments: list[list[int]], noises: list, max_codes: int):
    """The official `IndexTTS2.infer` (indextts/infer_v2.py at the pinned commit, not a copy), greedy: top_k 1 and
    1 beam (infer() always samples; top-k 1 leaves only the argmax), max_mel_tokens = max_codes. Its __init__ needs
    the downloads, so the object is made without it and given what __init__ would load, from the same random
    checkpoints through the exporter's loader (no weight-norm folding: as infer_v2.py loads them). The voice is
    given the way infer() caches one after its audio front end (`cache_spk_cond` = the w2v-BERT stand-in `spk`,
    `cache_s2mel_style`, `cache_s2mel_prompt`, `cache_mel` = the stand-in voice's tensors), so infer() skips
    librosa/torchaudio/w2v-BERT/CAMPPlus. The CFM's `torch.randn` returns the node's noise for each segment."""
    import torch
    from indextts.infer_v2 import IndexTTS2

    from official import AuxPaths, Official

    off = Official(checkpoints=ckpt, device="cpu", aux=AuxPaths(
        semantic_codec=os.path.join(ckpt, "semantic_codec_model.safetensors"), bigvgan=os.path.join(ckpt, "bigvgan")))
    tts = object.__new__(IndexTTS2)
    gpt = off.gpt
    gpt.post_init_gpt2_config(use_deepspeed=False, kv_cache=True, half=False)  # as IndexTTS2.__init__
    tts.__dict__.update(device="cpu", dtype=None, gr_progress=None, stop_mel_token=gpt.stop_mel_token, gpt=gpt,
                        s2mel=off.s2mel, semantic_codec=off.semantic_codec, bigvgan=off.bigvgan,
                        tokenizer=NodeSegments(segments), cache_spk_cond=spk, cache_emo_cond=spk,
                        cache_spk_audio_prompt=VOICE_KEY, cache_emo_audio_prompt=VOICE_KEY,
                        cache_s2mel_style=voice["style"], cache_s2mel_prompt=voice["prompt_condition"],
                        cache_mel=voice["ref_mel"])
    queue = [torch.from_numpy(z).unsqueeze(0) for z in noises]
    cfm = tts.s2mel.models["cfm"]
    inference = cfm.inference
    used = []

    def with_node_noise(mu, x_lens, prompt, style, f0, n_timesteps, temperature=1.0, inference_cfg_rate=0.5):
        real = torch.randn

        def randn(*size, **kwargs):  # flow_matching.CFM.inference's one call: randn([B, 80, T])
            shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
            z = queue.pop(0)
            if shape != tuple(z.shape):
                raise AssertionError(f"official noise shape {shape} != the node's {tuple(z.shape)}")
            used.append(shape)
            return z.clone().to(kwargs.get("device") or "cpu")

        torch.randn = randn
        try:
            return inference(mu, x_lens, prompt, style, f0, n_timesteps, temperature, inference_cfg_rate)
        finally:
            torch.randn = real

    cfm.inference = with_node_noise
    sr, wav = tts.infer(VOICE_KEY, "(text given as ids, see NodeSegments)", None, top_k=1, num_beams=1,
                        max_mel_tokens=max_codes)
    if queue or len(used) != len(segments):
        raise AssertionError(f"the official infer drew noise {len(used)} times for {len(segments)} segments")
    return sr, wav[:, 0]


def compare_audio(node_f32, official_i16) -> tuple[bool, str]:
    """The node's float audio quantised as infer() does (clamp(32767 x) then int16), against infer()'s int16."""
    import numpy as np

    node_i16 = np.clip(32767.0 * node_f32, -32767.0, 32767.0).astype(np.int16)
    if node_i16.shape != official_i16.shape:
        return False, f"lengths differ: node {node_i16.shape[0]}, official {official_i16.shape[0]} samples"
    err = node_i16.astype(np.float64) - official_i16.astype(np.float64)
    sig = np.sqrt(np.mean(official_i16.astype(np.float64) ** 2))
    rms = np.sqrt(np.mean(err ** 2))
    snr = 20 * np.log10(sig / max(rms, 1e-12))
    exact = float(np.mean(err == 0))
    return snr >= AUDIO_SNR_DB, (f"{node_i16.shape[0]} samples, max |diff| {np.abs(err).max():.0f} LSB, error RMS "
                                 f"{rms:.3f} LSB against signal RMS {sig:.1f} LSB: {snr:.1f} dB; {exact:.1%} samples "
                                 f"equal")


def node_stage(args, ckpt, gpt, spk, lengths, speaker_latent, emo_vec, voice, texts) -> bool:
    """--node: the node's greedy codes (and, per segment, the latents it fed s2mel) against the official code on the
    same ids; --audio: its audio against the official `IndexTTS2.infer` from the same noise."""
    import numpy as np
    import torch

    model = os.path.join(args.work, "model")
    node_http_check(model, texts[0])
    results = node_codes(model, texts, args.max_codes, os.path.join(args.work, "audio"))
    same = total = audio_ok = 0
    latents_ok = True
    for r in results:
        for k, ids in enumerate(r["segments"]):
            text = torch.tensor([[gpt.start_text_token, *ids, gpt.stop_text_token]])
            official, _ = gpt.inference_speech(spk, text, spk, cond_lengths=lengths, emo_cond_lengths=lengths,
                                               emo_vec=emo_vec, do_sample=False, num_beams=1,
                                               repetition_penalty=10.0, num_return_sequences=1,
                                               max_generate_length=args.max_codes)
            want = [int(c) for c in official[0] if int(c) != gpt.stop_mel_token]
            got = r["codes"][k]
            total += 1
            same += got == want
            verdict = "identical" if got == want else f"DIFFER ({len(got)} node / {len(want)} official codes)"
            stopped = "stopped" if len(got) < args.max_codes else "ran to the cap"
            print(f"== node vs official generate, {r['text']!r} segment {k} ({len(ids)} text ids, {len(got)} codes, "
                  f"{stopped}): {verdict}")
            if got != want:
                print(f"   node:     {got}\n   official: {want}")
            t = lambda v: torch.tensor([v])  # noqa: E731
            ref = gpt(speaker_latent, t(ids), t(len(ids)), t(got), t(len(got)), None, emo_vec=emo_vec,
                      use_speed=torch.zeros(1, dtype=torch.long))[0].numpy()
            spec = r["latents"][k]
            node_latent = np.fromfile(spec["path"], dtype=np.float32).reshape(spec["dims"])
            rel = np.abs(node_latent - ref).max() / np.abs(ref).max()
            latents_ok = latents_ok and rel < 1e-4
            print(f"   node's s2mel latents vs official UnifiedVoice.forward on its codes: relative {rel:.2e}, "
                  f"mean cosine {cosine_rows(node_latent, ref):.7f}")
        node_audio = np.fromfile(r["audio"], dtype=np.float32)
        print(f"   node audio: {r['samples']} samples ({r['samples'] / 22050:.2f} s) -> {r['audio']}")
        if args.audio:
            noises = [np.fromfile(z["path"], dtype=np.float32).reshape(z["dims"]) for z in r["noise"]]
            _, wav = official_infer(ckpt, spk, voice, r["segments"], noises, args.max_codes)
            ok, figures = compare_audio(node_audio, wav)
            audio_ok += ok
            print(f"== node audio vs official IndexTTS2.infer (same noise), {r['text']!r}: "
                  f"{'within' if ok else 'OUTSIDE'} {AUDIO_SNR_DB:.0f} dB: {figures}")
    print(f"== node codes identical to the official generate's on {same} of {total} segments")
    if args.audio:
        print(f"== node audio within {AUDIO_SNR_DB:.0f} dB of the official infer's on {audio_ok} of {len(results)} "
              f"texts")
    return same == total and latents_ok and (not args.audio or audio_ok == len(results))
