import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isNodeError } from "../core/errors.ts";
import { createTestNode } from "../testing/harness.ts";
import type { SynthesisJob, SynthesisResult } from "./engine.ts";
import type { EngineObserver } from "./observer.ts";

type TestNode = Awaited<ReturnType<typeof createTestNode>>;

const TEXTS = [
  "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。",
  "Hello there, this is a short test.",
  "今天天气很好。",
  "The quick brown fox jumps over the lazy dog, again and again, until the sun goes down over the hills.",
];

function job(node: TestNode, id: string, text: string, extra: Partial<SynthesisJob> = {}): SynthesisJob {
  const voice = node.voices.get(extra.voice?.id ?? 0);
  return {
    id,
    segments: node.text.segments(text).map((s) => s.ids),
    voice,
    emoVec: node.voices.emotionVector(voice, { kind: "label", label: "happy", alpha: 0.8 }),
    speed: 1,
    seed: 1234,
    priority: "interactive",
    ...extra,
    // one beam unless a test asks for more: the scheduling tests count batch rows
    sampling: { numBeams: 1, ...extra.sampling },
  };
}

/** Call `onStage` after every graph call the engine reports, next to the engine's own observer. */
function onStageRun(node: TestNode, onStage: (stage: string, batch: number) => void): void {
  const engine = node.engine as unknown as { observer: EngineObserver };
  const inner = engine.observer;
  engine.observer = {
    stageRun(stage, seconds, batch) {
      onStage(stage, batch);
      inner.stageRun(stage, seconds, batch);
    },
    rejected: (reason) => inner.rejected(reason),
    completed: (r) => inner.completed(r),
    failed: (code) => inner.failed(code),
  };
}

/** Record every decode step's batch size. */
function recordBatches(node: TestNode): number[] {
  const sizes: number[] = [];
  onStageRun(node, (stage, batch) => {
    if (stage === "decode") sizes.push(batch);
  });
  return sizes;
}

const waitFor = async (cond: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 2));
  }
};

/** beams per request of the batch-invariance test: a request's beams are rows of the same running batch */
const BEAMS = [3, 1, 3, 2];

describe("Engine on the tiny model", () => {
  let alone: TestNode;
  let batched: TestNode;

  beforeAll(async () => {
    alone = await createTestNode({ maxBatch: 1 });
    batched = await createTestNode({ maxBatch: 8, maxQueueDelayMs: 50 });
  });
  afterAll(async () => {
    await alone.close();
    await batched.close();
  });

  it("batch invariance: each request's audio with batching equals its audio run alone (1, 2 and 3 beams)", async () => {
    const jobs = (node: TestNode) =>
      TEXTS.map((t, i) =>
        job(node, `r${i}`, t, {
          seed: 100 + i,
          voice: node.voices.get(i % 3),
          sampling: { numBeams: BEAMS[i] ?? 1 },
          maxTokens: 48,
        }),
      );
    const reference: SynthesisResult[] = [];
    for (const j of jobs(alone)) reference.push(await alone.engine.submit(j));
    const sizes = recordBatches(batched);
    const together = await Promise.all(jobs(batched).map((j) => batched.engine.submit(j)));
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    together.forEach((r, i) => {
      const ref = reference[i];
      if (!ref) throw new Error("missing reference");
      expect(r.codes).toEqual(ref.codes);
      expect(r.audio.length).toBe(ref.audio.length);
      let maxDiff = 0;
      for (let k = 0; k < r.audio.length; k++)
        maxDiff = Math.max(maxDiff, Math.abs((r.audio[k] ?? 0) - (ref.audio[k] ?? 0)));
      expect(maxDiff).toBeLessThan(1e-3);
    });
  });

  it("a request's beams are rows of the running batch: two 3-beam requests decode as 6 rows", async () => {
    const sizes = recordBatches(batched);
    const beams = { sampling: { numBeams: 3 } };
    const both = ["x", "y"].map((id) =>
      batched.engine.submit(job(batched, id, TEXTS[1] ?? "", { maxTokens: 12, ...beams })),
    );
    await waitFor(() => batched.engine.stats().gptBatch === 6);
    const [x, y] = await Promise.all(both);
    expect(Math.max(...sizes)).toBe(6);
    expect(sizes.every((n) => n % 3 === 0)).toBe(true);
    expect(x?.codes.flat().length).toBe(12);
    expect(y?.maxBatch).toBe(6);
  });

  it("the same seed reproduces the same audio; another seed changes it", async () => {
    const a = await alone.engine.submit(job(alone, "s1", TEXTS[1] ?? "", { seed: 7 }));
    const b = await alone.engine.submit(job(alone, "s2", TEXTS[1] ?? "", { seed: 7 }));
    const c = await alone.engine.submit(job(alone, "s3", TEXTS[1] ?? "", { seed: 8 }));
    expect(b.codes).toEqual(a.codes);
    expect(Array.from(b.audio)).toEqual(Array.from(a.audio));
    expect(c.codes).not.toEqual(a.codes);
  });

  it("a random-weight model produces its declared number of semantic tokens per text token", async () => {
    const ratio = alone.files.manifest.semantic_tokens_per_text_token ?? 0;
    const ids = alone.text.segments(TEXTS[2] ?? "").map((s) => s.ids);
    const r = await alone.engine.submit(job(alone, "len", TEXTS[2] ?? ""));
    expect(r.semanticTokens).toBe(ids.reduce((n, s) => n + Math.round(s.length * ratio), 0));
    // 1.72 mel frames per code, 256 samples per frame
    const frames = Math.floor(1.72 * r.semanticTokens);
    expect(r.audio.length).toBe(frames * 256);
  });

  it("long text is split into segments that decode side by side and are joined with 200 ms of silence", async () => {
    const long = Array.from({ length: 12 }, (_, i) => `这是第${i + 1}个句子,我们用它来测试长文本的分段合成。`).join("");
    const segments = batched.text.segments(long);
    expect(segments.length).toBeGreaterThan(1);
    const sizes = recordBatches(batched);
    const r = await batched.engine.submit(job(batched, "segments", long, { maxTokens: 8 }));
    expect(r.segments).toBe(segments.length);
    expect(r.codes.every((c) => c.length === 8)).toBe(true);
    // all segments of the request share decode steps
    expect(Math.max(...sizes)).toBe(Math.min(segments.length, 8));
    const perSegment = Math.floor(1.72 * 8) * 256;
    expect(r.audio.length).toBe(segments.length * perSegment + (segments.length - 1) * Math.round(0.2 * 22050));
  });

  it("sequences join a running batch at a step boundary and leave it at their stop", async () => {
    const sizes = recordBatches(batched);
    const order: string[] = [];
    const long = batched.engine
      .submit(job(batched, "long", TEXTS[3] ?? "", { maxTokens: 400 }))
      .then(() => order.push("long"));
    await waitFor(() => sizes.length >= 5);
    const short = batched.engine
      .submit(job(batched, "short", TEXTS[2] ?? "", { maxTokens: 20 }))
      .then(() => order.push("short"));
    await Promise.all([long, short]);
    expect(order).toEqual(["short", "long"]);
    const firstTwo = sizes.indexOf(2);
    expect(sizes[0]).toBe(1);
    expect(firstTwo).toBeGreaterThan(0);
    // after the short one left, the long one decoded alone again
    expect(sizes.slice(firstTwo).lastIndexOf(1)).toBeGreaterThan(0);
    expect(sizes.at(-1)).toBe(1);
  });

  it("an idle GPT waits up to max_queue_delay for company and starts at once when a full batch waits", async () => {
    const node = await createTestNode({ maxBatch: 4, maxQueueDelayMs: 300 });
    try {
      const sizes = recordBatches(node);
      // one request alone: it waits the whole delay, then decodes alone
      const alone = await node.engine.submit(job(node, "a", TEXTS[1] ?? "", { maxTokens: 5 }));
      expect(alone.queueWaitMs).toBeGreaterThanOrEqual(290);
      expect(alone.maxBatch).toBe(1);
      // a second request inside the window joins the first before the first step
      const first = node.engine.submit(job(node, "b", TEXTS[1] ?? "", { maxTokens: 5 }));
      await new Promise((r) => setTimeout(r, 60));
      const second = node.engine.submit(job(node, "c", TEXTS[2] ?? "", { maxTokens: 5 }));
      sizes.length = 0;
      const [b, c] = await Promise.all([first, second]);
      expect(b.queueWaitMs).toBeGreaterThanOrEqual(290);
      expect(c.queueWaitMs).toBeLessThan(b.queueWaitMs);
      expect(sizes[0]).toBe(2);
      // a full batch does not wait
      sizes.length = 0;
      const full = await Promise.all(
        [0, 1, 2, 3].map((i) => node.engine.submit(job(node, `f${i}`, TEXTS[i] ?? "", { maxTokens: 5 }))),
      );
      for (const r of full) {
        expect(r.queueWaitMs).toBeLessThan(250);
        expect(r.maxBatch).toBe(4);
      }
      expect(sizes[0]).toBe(4);
    } finally {
      await node.close();
    }
  });

  it("bounds the segments waiting between the GPT and the audio (memory), and still completes everything", async () => {
    // 2-code segments leave the GPT after two steps but need 25 CFM steps: without a bound they would pile up.
    const node = await createTestNode({ maxBatch: 2, maxQueueDelayMs: 0 });
    try {
      let most = 0;
      onStageRun(node, () => {
        const s = node.engine.stats();
        most = Math.max(most, s.s2melRows + s.vocoderRows);
      });
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => node.engine.submit(job(node, `m${i}`, TEXTS[1] ?? "", { maxTokens: 2 }))),
      );
      expect(results.every((r) => r.semanticTokens === 2)).toBe(true);
      expect(most).toBeGreaterThanOrEqual(2);
      expect(most).toBeLessThanOrEqual(4);
    } finally {
      await node.close();
    }
  });

  it("interactive requests go before queued batch work", async () => {
    const node = await createTestNode({ maxBatch: 1, reservedInteractiveSlots: 0, maxQueueDelayMs: 0 });
    try {
      const done: string[] = [];
      const track = (id: string, p: Promise<unknown>) => p.then(() => done.push(id));
      const all = [0, 1, 2].map((i) =>
        track(`b${i}`, node.engine.submit(job(node, `b${i}`, TEXTS[0] ?? "", { priority: "batch", maxTokens: 30 }))),
      );
      await waitFor(() => node.engine.stats().gptBatch > 0);
      // the interactive request runs 3 beams: with max batch 1 it still gets the GPT, alone
      all.push(
        track("i", node.engine.submit(job(node, "i", TEXTS[0] ?? "", { maxTokens: 30, sampling: { numBeams: 3 } }))),
      );
      await Promise.all(all);
      expect(done.indexOf("i")).toBeLessThan(done.indexOf("b1"));
      expect(done.indexOf("i")).toBeLessThan(done.indexOf("b2"));
    } finally {
      await node.close();
    }
  });

  it("batch-priority work never takes the slots reserved for interactive traffic", async () => {
    const node = await createTestNode({ maxBatch: 4, reservedInteractiveSlots: 2, maxQueueDelayMs: 0 });
    try {
      const sizes = recordBatches(node);
      await Promise.all(
        [0, 1, 2, 3].map((i) =>
          node.engine.submit(job(node, `b${i}`, TEXTS[1] ?? "", { priority: "batch", maxTokens: 25 })),
        ),
      );
      expect(Math.max(...sizes)).toBe(2);
    } finally {
      await node.close();
    }
  });

  it("backpressure: a full queue refuses new work with QUEUE_FULL and a Retry-After", async () => {
    const node = await createTestNode({ maxBatch: 1, maxQueue: 2 });
    try {
      const results = await Promise.allSettled(
        [0, 1, 2, 3, 4].map((i) => node.engine.submit(job(node, `q${i}`, TEXTS[1] ?? "", { maxTokens: 10 }))),
      );
      expect(results.slice(0, 2).every((r) => r.status === "fulfilled")).toBe(true);
      for (const r of results.slice(2)) {
        expect(r.status).toBe("rejected");
        const reason = (r as PromiseRejectedResult).reason;
        expect(isNodeError(reason) && reason.code).toBe("QUEUE_FULL");
        expect(reason.status).toBe(503);
        expect(reason.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await node.close();
    }
  });

  it("a cancelled request leaves the batch (all its beams) and the others complete", async () => {
    const controller = new AbortController();
    const cancelled = batched.engine.submit(
      job(batched, "c1", TEXTS[3] ?? "", { maxTokens: 600, sampling: { numBeams: 3 } }),
      controller.signal,
    );
    const other = batched.engine.submit(job(batched, "c2", TEXTS[1] ?? "", { maxTokens: 40 }));
    await waitFor(() => batched.engine.stats().gptBatch === 4);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: "CLIENT_CLOSED" });
    const r = await other;
    expect(r.semanticTokens).toBeGreaterThan(0);
    await waitFor(() => batched.engine.stats().inFlight === 0 && batched.engine.stats().gptBatch === 0);
  });

  it("a deadline the node cannot meet by its own estimate is refused at once with 503 and Retry-After", async () => {
    // `batched` has completed requests by now, so it has a throughput estimate.
    const refused = batched.engine.submit(
      job(batched, "hopeless", TEXTS[3] ?? "", { maxTokens: 1400, deadlineMs: 50 }),
    );
    await expect(refused).rejects.toMatchObject({ code: "DEADLINE_UNMEETABLE", status: 503 });
    await refused.catch((e: { retryAfterSeconds: number }) => expect(e.retryAfterSeconds).toBeGreaterThanOrEqual(1));
    expect(batched.engine.stats().inFlight).toBe(0);
  });

  it("a request past its deadline fails with DEADLINE_EXCEEDED and leaves nothing behind", async () => {
    const node = await createTestNode({ maxBatch: 4 });
    try {
      // a fresh node has no throughput estimate, so the request is admitted and then runs out of time
      await expect(
        node.engine.submit(job(node, "late", TEXTS[3] ?? "", { maxTokens: 800, deadlineMs: 30 })),
      ).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED", status: 504 });
      await waitFor(() => node.engine.stats().inFlight === 0 && node.engine.stats().gptBatch === 0);
      const after = await node.engine.submit(job(node, "next", TEXTS[1] ?? "", { maxTokens: 10 }));
      expect(after.semanticTokens).toBe(10);
    } finally {
      await node.close();
    }
  });
});
