"""The node's sampler against Hugging Face's, outside CI (issue 13 §1).

Runs HF `generate` (transformers 5.x: `_beam_search` with do_sample for num_beams > 1, `_sample` for 1) on a small
random GPT-2 with IndexTTS2's processors (top_k 30, top_p 0.8, temperature 0.8, repetition_penalty 10,
length_penalty 0, eos as the stop token), and the node's `SequenceSearch` (gpu-node/bench/beam-oracle.ts, run by
tsx) on the same model's logits, both drawing from the same uniform stream: torch.multinomial is replaced by the
exponential race the node uses (candidates with probability > 1e-30, one uniform each in ascending flat index,
the k largest log p − log(−log(1 − u))), which is how torch itself samples without replacement (p / Exp(1)).
Everything else — processors, beam scores, finished hypotheses, the early-stop heuristic, the end — is HF's own code.

    python3 -m venv /tmp/hfcheck && /tmp/hfcheck/bin/pip install torch transformers numpy
    /tmp/hfcheck/bin/python gpu-node/bench/hf_beam_check.py [--trials 40]

Exit status 0 when every trial's codes are identical.
"""

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import GPT2Config, GPT2LMHeadModel

ROOT = Path(__file__).resolve().parents[2]
FLOOR = 1e-30


class UniformStream:
    def __init__(self, values):
        self.values = values
        self.used = 0

    def next(self):
        u = self.values[self.used]
        self.used += 1
        return u


STREAM: UniformStream | None = None
PADDED = 0


def race_multinomial(probs, num_samples, replacement=False, generator=None, out=None):
    """torch.multinomial without replacement, by the exponential race, from the shared uniform stream."""
    global PADDED
    assert not replacement
    rows = []
    for row in probs.detach().to(torch.float64).cpu().numpy():
        keys = []
        for f, p in enumerate(row):
            if not p > FLOOR:
                continue
            e = -math.log1p(-STREAM.next())
            keys.append((math.log(p) - math.log(e), f))
        keys.sort(key=lambda k: (-k[0], k[1]))
        picked = [f for _, f in keys[:num_samples]]
        if len(picked) < num_samples:
            PADDED += 1
            taken = set(picked)
            picked += [f for f in range(len(row)) if f not in taken][: num_samples - len(picked)]
        rows.append(picked)
    return torch.tensor(rows, dtype=torch.long, device=probs.device)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--max-new", type=int, default=40)
    args = ap.parse_args()
    global STREAM
    torch.multinomial = race_multinomial  # transformers calls torch.multinomial at run time

    oracle = subprocess.Popen(
        ["npx", "tsx", str(ROOT / "gpu-node/bench/beam-oracle.ts")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )

    def ask(msg):
        oracle.stdin.write(json.dumps(msg) + "\n")
        oracle.stdin.flush()
        return json.loads(oracle.stdout.readline())

    vocab, stop = args.vocab, args.vocab - 1
    failures = 0
    for trial in range(args.trials):
        beams = [1, 3][trial % 2]
        # a larger init spread every few trials makes peaked rows (top-p and min_tokens_to_keep at work)
        init = [0.02, 0.3, 1.0][trial % 3]
        torch.manual_seed(trial)
        cfg = GPT2Config(vocab_size=vocab, n_positions=128, n_embd=32, n_layer=2, n_head=2,
                         initializer_range=init, bos_token_id=0, eos_token_id=stop)
        model = GPT2LMHeadModel(cfg).eval()
        prompt = torch.tensor([[0, 1, 2, 3]])
        uniforms = np.random.default_rng(1000 + trial).random(200_000).tolist()
        params = dict(topK=30, topP=0.8, temperature=0.8, repetitionPenalty=10.0, numBeams=beams, lengthPenalty=0.0)

        STREAM = UniformStream(uniforms)
        with torch.no_grad():
            out = model.generate(prompt, do_sample=True, num_beams=beams, top_k=30, top_p=0.8, temperature=0.8,
                                 repetition_penalty=10.0, length_penalty=0.0, max_new_tokens=args.max_new,
                                 eos_token_id=stop, pad_token_id=stop, num_return_sequences=1)
        hf_codes = out[0, prompt.shape[1]:].tolist()
        while hf_codes and hf_codes[-1] == stop:
            hf_codes.pop()
        hf_used = STREAM.used

        msg = ask({"params": params, "uniforms": uniforms,
                   "setup": {"vocab": vocab, "stopToken": stop, "maxTokens": args.max_new,
                             "promptTokens": prompt[0].tolist()}})
        while "need" in msg:
            seqs = [prompt[0].tolist() + s for s in msg["need"]]
            with torch.no_grad():
                logits = model(torch.tensor(seqs)).logits[:, -1, :].float()
            msg = ask({"logits": logits.tolist()})
        same = msg["codes"] == hf_codes and msg["uniformsUsed"] == hf_used
        failures += 0 if same else 1
        print(f"trial {trial:2d} beams {beams} init {init:<4} codes {len(hf_codes):2d} uniforms {hf_used:5d} "
              f"{'identical' if same else 'DIFFERENT'}"
              + ("" if same else f"\n  hf   {hf_codes} ({hf_used})\n  node {msg['codes']} ({msg['uniformsUsed']})"))
    oracle.stdin.close()
    oracle.wait()
    print(f"{args.trials - failures}/{args.trials} trials identical; draws padded with zero-probability entries: {PADDED}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
