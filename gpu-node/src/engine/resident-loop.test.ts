import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestNode } from "../testing/harness.ts";
import type { SynthesisJob } from "./api.ts";
import type { InferenceBackend } from "./backend.ts";
import { CountingBackend } from "./boundary-bytes.ts";
import { GptStage } from "./gpt-stage.ts";
import { planCodes, requestState } from "./request-state.ts";
import { ResidentCache } from "./resident-cache.ts";

type TestNode = Awaited<ReturnType<typeof createTestNode>>;

/** the same backend as a GPU provider's: no row views, no host memory, so the cache operations are graphs */
const inDeviceMemory = (b: InferenceBackend, run: InferenceBackend["run"] = b.run.bind(b)): InferenceBackend => ({
  run,
  signature: b.signature.bind(b),
  release: b.release?.bind(b),
  close: b.close.bind(b),
});

const TEXTS = ["Hello there, this is a short test.", "今天天气很好。", "The quick brown fox jumps over the lazy dog."];

describe("the resident-cache decode loop (issue 13)", () => {
  let host: TestNode;
  let resident: TestNode;
  beforeAll(async () => {
    host = await createTestNode({ maxBatch: 8, maxQueueDelayMs: 20 });
    resident = await createTestNode({ maxBatch: 8, maxQueueDelayMs: 20, decodeLoop: "resident" });
  });
  afterAll(async () => {
    await host.close();
    await resident.close();
  });

  const job = (node: TestNode, i: number, beams: number): SynthesisJob => {
    const voice = node.voices.get(i % 3);
    return {
      id: `r${i}`,
      segments: node.text.segments(TEXTS[i % TEXTS.length] ?? "").map((s) => s.ids),
      voice,
      emoVec: node.voices.emotionVector(voice, { kind: "none" }),
      speed: 1,
      seed: 300 + i,
      priority: "interactive",
      maxTokens: 20 + 7 * i,
      sampling: { numBeams: beams },
    };
  };

  it("gives the host loop's codes and audio, with beams, rows joining and leaving a running batch", async () => {
    const beams = [3, 1, 2, 3];
    const run = (node: TestNode) => Promise.all(beams.map((b, i) => node.engine.submit(job(node, i, b))));
    const [a, b] = [await run(host), await run(resident)];
    b.forEach((r, i) => {
      expect(r.codes).toEqual(a[i]?.codes);
      const ref = a[i]?.audio ?? new Float32Array(0);
      let diff = 0;
      for (let k = 0; k < r.audio.length; k++) diff = Math.max(diff, Math.abs((r.audio[k] ?? 0) - (ref[k] ?? 0)));
      expect(diff).toBeLessThan(1e-3);
    });
    expect(Math.max(...b.map((r) => r.maxBatch))).toBeGreaterThan(3);
    // the windows were flushed into the frozen cache on the way (20–41 codes per request, 4-slot windows): in host
    // memory by copies of what moves, counted as resident traffic, no cache graph called
    const boundary = resident.engine.stats().boundary;
    expect(boundary.cache_host?.calls ?? 0).toBeGreaterThan(0);
    expect(boundary.cache_host?.residentIn ?? 0).toBeGreaterThan(0);
    expect(boundary.cache_host?.bytesIn ?? 0).toBe(0);
    for (const g of ["cache_flush", "cache_pad", "cache_gather", "cache_concat"] as const)
      expect(boundary[g]).toBeUndefined();
  });

  it("gives the same codes where the tensors live in device memory: the cache operations are graphs", async () => {
    // the same backend without `rows` and `hostMemory`, as a GPU provider's: no spare rows, every join and leave a
    // whole-cache graph, a flush a graph
    const noViews = await createTestNode({ maxBatch: 8, maxQueueDelayMs: 20, decodeLoop: "resident" }, undefined, (b) =>
      inDeviceMemory(b),
    );
    try {
      const beams = [3, 1, 2, 3];
      const run = (node: TestNode) => Promise.all(beams.map((b, i) => node.engine.submit(job(node, i, b))));
      const [a, b] = [await run(resident), await run(noViews)];
      expect(b.map((r) => r.codes)).toEqual(a.map((r) => r.codes));
      // in host memory rows join into spare rows (no concat); in device memory each join after the first concatenates
      expect(resident.engine.stats().boundary.cache_concat?.calls ?? 0).toBe(0);
      const graphs = noViews.engine.stats().boundary;
      expect(graphs.cache_concat?.calls ?? 0).toBeGreaterThan(0);
      expect(graphs.cache_flush?.calls ?? 0).toBeGreaterThan(0);
      expect(graphs.cache_host).toBeUndefined();
    } finally {
      await noViews.close();
    }
  });

  it("feeds a sequence's beams one frozen row, so a step reads their shared history once", async () => {
    const fed: { sequences: number; rows: number; groups: number[] }[] = [];
    const spied = await createTestNode({ maxBatch: 8, maxQueueDelayMs: 20, decodeLoop: "resident" }, undefined, (b) =>
      inDeviceMemory(b, (graph, feeds, keep, into) => {
        const [past, tail, groups] = [feeds.past_key_0, feeds.tail_key_0, feeds.groups];
        if (graph === "gpt_decode_resident" && past && tail && groups?.type === "int64")
          fed.push({ sequences: past.dims[0] ?? 0, rows: tail.dims[0] ?? 0, groups: [...groups.dims] });
        return b.run(graph, feeds, keep, into);
      }),
    );
    try {
      const beams = [3, 1, 2];
      const codes = await Promise.all(beams.map((n, i) => spied.engine.submit(job(spied, i, n))));
      const ref = await Promise.all(beams.map((n, i) => host.engine.submit(job(host, i, n))));
      expect(codes.map((r) => r.codes)).toEqual(ref.map((r) => r.codes));
      // all three sequences running: 6 rows (beams) over 3 frozen rows, grouped 3 wide (the most beams)
      expect(fed).toContainEqual({ sequences: 3, rows: 6, groups: [3, 3] });
      for (const f of fed) expect(f.sequences).toBeLessThan(f.rows + 1);
      expect(fed.some((f) => f.sequences < f.rows)).toBe(true);
    } finally {
      await spied.close();
    }
  });

  it("refuses at start resident graphs older than one frozen row per sequence, naming the tool that rewrites them", () => {
    const b = resident.backend;
    const old = {
      run: b.run.bind(b),
      release: b.release?.bind(b),
      close: async () => {},
      signature: (graph: Parameters<typeof b.signature>[0]) => {
        const s = b.signature(graph);
        return graph === "gpt_decode_resident" ? { ...s, inputs: s.inputs.filter((n) => n !== "groups") } : s;
      },
    };
    expect(() => new GptStage(old, resident.files.manifest, "resident")).toThrow(
      /gpt_decode_resident\.onnx lacks the inputs groups .*resident_graphs\.py/,
    );
    expect(() => new GptStage(b, resident.files.manifest, "resident")).not.toThrow();
  });

  it("gives the host loop's codes when the longest row leaves first and the frozen cache shrinks", async () => {
    // one segment of ~110 text tokens (bench/loops.ts's --long text): a prompt of ~145 frozen slots
    const long =
      "The quarterly report shows that revenue grew in every region, while costs stayed flat. Our team shipped the new " +
      "billing portal, moved the ledger to a durable store, and cut the median latency of the speech service by a " +
      "third. Next quarter we will add two voices, open the batch endpoint to every plan, and publish the prices.";
    const jobs = (node: TestNode) => [
      { ...job(node, 0, 1), id: "long", segments: [node.text.segments(long)[0]?.ids ?? []], maxTokens: 4 },
      { ...job(node, 1, 3), id: "short1", segments: [node.text.segments("Hi.")[0]?.ids ?? []], maxTokens: 70 },
      { ...job(node, 2, 1), id: "short2", segments: [node.text.segments("Yes.")[0]?.ids ?? []], maxTokens: 70 },
    ];
    const a = await Promise.all(jobs(host).map((j) => host.engine.submit(j)));
    const device = await createTestNode({ maxBatch: 8, maxQueueDelayMs: 20, decodeLoop: "resident" }, undefined, (b) =>
      inDeviceMemory(b),
    );
    // every shrink that crops (a capacity below the frozen slots the cache has)
    const crops: number[] = [];
    const original = ResidentCache.prototype.shrink;
    const shrink = vi.spyOn(ResidentCache.prototype, "shrink").mockImplementation(async function (
      this: ResidentCache,
      capacity: number,
    ) {
      if (capacity < this.capacity) crops.push(this.capacity);
      return original.call(this, capacity);
    });
    try {
      for (const node of [resident, device]) {
        const before = crops.length;
        const b = await Promise.all(jobs(node).map((j) => node.engine.submit(j)));
        for (const [i, r] of b.entries()) expect(r.codes).toEqual(a[i]?.codes);
        expect(crops.length).toBeGreaterThan(before);
      }
    } finally {
      shrink.mockRestore();
      await device.close();
    }
  });

  it.each([
    ["host memory (cache operations are copies)", false],
    ["device memory (cache operations are graphs)", true],
  ])(
    "moves the same bytes across the host boundary per generated token at 100 and 1,000 tokens of history: %s",
    async (_, device) => {
      const m = resident.files.manifest;
      const b = resident.backend;
      const counted = new CountingBackend(device ? inDeviceMemory(b) : b);
      const gpt = new GptStage(counted, m, "resident");
      const voice = resident.voices.get(0);
      const one = { ...job(resident, 0, 1), maxTokens: 1100 };
      const plan = { ...planCodes(m, one), codesFor: () => 1100 };
      const state = requestState(m, one, plan, {
        sampling: { topK: 30, topP: 0.8, temperature: 0.8, repetitionPenalty: 10, numBeams: 1, lengthPenalty: 0 },
        now: 0,
        timeoutMs: 60_000,
      });
      const seg = state.segments[0];
      if (!seg || voice.id !== 0) throw new Error("setup");
      await gpt.condition(state);
      await gpt.prefill(seg);
      const perToken = new Map<number, number>();
      let h = m.gpt.cond_tokens + seg.textIds.length + 1;
      const crossed = () => {
        const s = counted.snapshot();
        return Object.values(s).reduce((n, t) => n + (t ? t.bytesIn + t.bytesOut : 0), 0);
      };
      while (h < 1000) {
        const start = crossed();
        await gpt.decodeStep();
        perToken.set(h, crossed() - start);
        h++;
      }
      // every graph call of the step counted (decode, plus in device memory a cache_flush every 16 tokens: lengths and
      // shifts; in host memory the flush copies resident bytes only)
      const at = (x: number) => perToken.get(x) ?? Number.NaN;
      const flat = [100, 101, 102].map(at);
      const late = [997, 998, 999].map(at);
      const ratio = Math.max(...late) / Math.min(...flat);
      expect(ratio).toBeGreaterThan(0.95);
      expect(ratio).toBeLessThan(1.05);
      // and the decode graph itself: bytes in are ids, positions, frozen and window lengths and window rows (int64 per
      // row), the row's place among its sequence's beams (2 per row) and the sequence's rows (one beam: 1); out, logits
      // and hidden
      const decode = counted.snapshot().gpt_decode_resident;
      expect(decode?.lastIn).toBe(5 * 8 + 2 * 8 + 1 * 8);
      expect(decode?.lastOut).toBe(4 * (m.gpt.number_mel_codes + m.gpt.model_dim));
      expect(decode?.residentIn).toBeGreaterThan(0);
    },
  );
});
