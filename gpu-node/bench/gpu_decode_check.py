"""GPU check of the GPT decode loop (issue 13 §6), ready to run on a GPU machine; nothing was run on a GPU yet.

Times one decode step of the full-size IndexTTS2 GPT (24 layers, D 1280, 20 heads; random weights) — the very
modules `gpu-node/tools/generate_model.py` exports as `gpt_decode.onnx` — at batch 1, 8, 16 and 32 with ~800 tokens
of history (capacity 832, as the node rounds it), three ways:

- **device cache** (the physical anchor): the KV cache lives on the GPU and the step reads it there; logits, hidden
  and the new K/V come back;
- **resident cache** (the node's new loop, `--decode-loop resident`, gpu-node/MODEL.md): the cache stays on the GPU
  as a frozen part plus a 16-slot window per row; each step rewrites the window (the scatter output onnxruntime
  makes: a copy of the window with the new K/V in it), every 16 steps the window is flushed into the frozen part
  (device to device), and only logits and hidden come back;
- **host cache** (the old loop, `--decode-loop host`): the cache lives in host memory (pageable, as the JS typed
  arrays) and the whole of it is copied to the device before every step; logits, hidden and the new K/V come back.

and prints per step: milliseconds, bytes across PCIe, tokens/s, the GPT's real-time factor per stream
(step time × 50 codes per audio second) and in aggregate (÷ batch), and peak GPU memory; fp32 and fp16.

    python3 gpu-node/bench/gpu_decode_check.py                      # on the GPU machine (CUDA), < 5 min on an H100
    python3 gpu-node/bench/gpu_decode_check.py --device cpu --size tiny --batches 1,2 --steps 3   # smoke test here

Needs only PyTorch (the GPU machine's image has it) and this repository: no model files, no Node, no onnxruntime,
so it fits the 64 MiB that can travel. It measures the host-boundary cost the issue is about; the node's own loop on
a GPU execution provider (WebGPU/CUDA through onnxruntime-node) is not exercised by it.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from indextts2_arch.configs import config_for  # noqa: E402
from indextts2_arch.gpt import GptDecode, UnifiedVoice  # noqa: E402

CODES_PER_AUDIO_SECOND = 50
WINDOW = 16  # gpu-node/src/engine/graph-cache-ops.ts WINDOW_STEP (device memory)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, steps):
    fn()  # warm-up (kernels, allocator)
    sync(device)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", default="full")
    ap.add_argument("--batches", default="1,8,16,32")
    ap.add_argument("--history", type=int, default=800)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--dtypes", default="float32,float16")
    ap.add_argument("--loops", default="device,resident,host")
    args = ap.parse_args()
    device = torch.device(args.device)
    cfg = config_for(args.size)
    g = cfg["gpt"]
    # the text table is not used by a decode step; IndexTTS2's size (the generator sets it from the BPE model)
    g.setdefault("number_text_tokens", 12000)
    heads, d, layers = g["heads"], g["model_dim"], g["layers"]
    hd = d // heads
    capacity = ((args.history + 1 + 31) // 32) * 32
    print(f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}), "
          f"torch {torch.__version__}, model {args.size} (L {layers}, D {d}, H {heads}), history {args.history} "
          f"(capacity {capacity}), random weights")
    print("| dtype | batch | loop | ms/step | MB across PCIe/step | tokens/s | GPT RTF per stream | aggregate RTF | peak GPU MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    gen = torch.Generator().manual_seed(20250908)
    uv = UnifiedVoice(cfg)
    uv.init_random(gen)
    for dtype_name in args.dtypes.split(","):
        dtype = getattr(torch, dtype_name)
        if device.type == "cpu" and dtype == torch.float16:
            continue
        step = GptDecode(uv).to(device=device, dtype=dtype).eval()
        for batch in [int(b) for b in args.batches.split(",")]:
            shape = (batch, heads, capacity, hd)
            mask = torch.zeros(batch, capacity + 1, dtype=torch.int64)
            mask[:, : args.history] = 1
            mask[:, -1] = 1
            ids = torch.randint(0, g["codebook_size"], (batch, 1))
            pos = torch.full((batch,), min(args.history - 40, g["mel_position_table"] - 1), dtype=torch.int64)
            host = [torch.randn(shape, dtype=dtype) * 0.1 for _ in range(2 * layers)]
            inputs_dev = [ids.to(device), pos.to(device), mask.to(device)]
            for loop in args.loops.split(","):
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats(device)
                dev_cache = [t.to(device) for t in host] if loop != "host" else None
                window = [torch.zeros(batch, heads, WINDOW, hd, dtype=dtype, device=device) for _ in host]
                out_bytes = 0
                calls = 0

                def run():
                    nonlocal out_bytes, calls, window
                    with torch.no_grad():
                        if loop == "host":
                            pasts = [t.to(device) for t in host]  # the whole cache, every step
                            feeds = [ids.to(device), pos.to(device), mask.to(device)]
                        else:
                            pasts = dev_cache
                            feeds = inputs_dev
                        outs = step(*feeds, *pasts)
                        if loop == "resident":
                            slot = calls % WINDOW
                            # the window rewritten (the scatter's output is a new tensor), the new K/V in its slot
                            window = [w.clone() for w in window]
                            for w, new in zip(window, outs[2:]):
                                w[:, :, slot] = new[:, :, 0]
                            if slot == WINDOW - 1:  # flush: the window into the frozen slots, on the device
                                start = args.history - WINDOW
                                for c, w in zip(dev_cache, window):
                                    c[:, :, start : start + WINDOW] = w
                            outs = outs[:2]  # only logits and hidden come back
                        calls += 1
                        host_outs = [o.to("cpu") for o in outs]
                        out_bytes = sum(o.numel() * o.element_size() for o in host_outs)

                seconds = timed(run, device, args.steps)
                # the resident loop feeds ids, positions, frozen and window lengths, window rows (int64 each), each
                # row's place among its sequence's beams (2) and the sequences' rows (1 per row with one beam)
                small_in = (8 * batch * 8 if loop == "resident"
                            else sum(t.numel() * t.element_size() for t in (ids, pos, mask)))
                cache_in = sum(t.numel() * t.element_size() for t in host) if loop == "host" else 0
                pcie_mb = (small_in + cache_in + out_bytes) / 1e6
                peak = torch.cuda.max_memory_allocated(device) / 1e6 if device.type == "cuda" else float("nan")
                rtf = seconds * CODES_PER_AUDIO_SECOND
                print(f"| {dtype_name} | {batch} | {loop} cache | {seconds * 1000:.2f} | {pcie_mb:.1f} | "
                      f"{batch / seconds:.0f} | {rtf:.3f} | {rtf / batch:.4f} | {peak:.0f} |")
                del dev_cache


if __name__ == "__main__":
    main()
