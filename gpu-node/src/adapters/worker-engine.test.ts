import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SynthesisJob } from "../engine/api.ts";
import { createTestNode, defaultTestOptions, TINY_MODEL_DIR } from "../testing/harness.ts";
import { WorkerEngine } from "./worker-engine.ts";

type TestNode = Awaited<ReturnType<typeof createTestNode>>;

describe("WorkerEngine (the engine on its own thread)", () => {
  let node: TestNode;
  let worker: WorkerEngine;
  const stages: string[] = [];

  beforeAll(async () => {
    node = await createTestNode({ maxBatch: 4 });
    worker = await WorkerEngine.start(
      {
        modelDir: TINY_MODEL_DIR,
        runtime: { executionProviders: ["cpu"], intraOpThreads: 1, interOpThreads: 1, intraOpSpinning: false },
        options: { ...defaultTestOptions, maxBatch: 4, maxQueue: 1 },
        statsIntervalMs: 20,
      },
      {
        stageRun: (stage) => stages.push(stage),
        rejected: () => {},
        completed: () => {},
        failed: () => {},
      },
    );
  });
  afterAll(async () => {
    await worker.destroy();
    await node.close();
  });

  const job = (id: string, extra: Partial<SynthesisJob> = {}): SynthesisJob => {
    const voice = node.voices.get(1);
    return {
      id,
      segments: node.text.segments("Hello there, this is a short test.").map((s) => s.ids),
      voice,
      emoVec: node.voices.emotionVector(voice, { kind: "label", label: "sad", alpha: 0.5 }),
      speed: 1,
      seed: 77,
      priority: "interactive",
      maxTokens: 24,
      sampling: { numBeams: 3 },
      ...extra,
    };
  };

  it("gives the same codes and audio as the engine on the calling thread, and reports its stages", async () => {
    const [here, there] = await Promise.all([node.engine.submit(job("a")), worker.submit(job("a"))]);
    expect(there.codes).toEqual(here.codes);
    expect(Array.from(there.audio)).toEqual(Array.from(here.audio));
    expect(stages).toContain("decode");
    expect(stages).toContain("vocoder");
  });

  it("streams segments across the thread in text order, before the result, the same audio as the joined answer", async () => {
    const three = ["One two three.", "Four five six seven.", "Eight."].flatMap((t) =>
      node.text.segments(t).map((s) => s.ids),
    );
    const seen: { index: number; audio: Float32Array }[] = [];
    let resolvedAfter = -1;
    const result = await worker
      .submit(job("s", { segments: three, onSegment: (index, audio) => seen.push({ index, audio }) }))
      .then((r) => {
        resolvedAfter = seen.length;
        return r;
      });
    expect(seen.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(resolvedAfter).toBe(3);
    const gap = Math.round(0.2 * 22_050);
    expect(seen.reduce((n, s) => n + s.audio.length, 0) + 2 * gap).toBe(result.audio.length);
    expect(Array.from(result.audio.subarray(0, seen[0]?.audio.length))).toEqual(Array.from(seen[0]?.audio ?? []));
  });

  it("passes cancellation through, and NodeErrors back with their code and Retry-After", async () => {
    const controller = new AbortController();
    const cancelled = worker.submit(job("c", { maxTokens: 1000 }), controller.signal);
    const queued = Promise.allSettled([worker.submit(job("q1")), worker.submit(job("q2"))]);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: "CLIENT_CLOSED", status: 499 });
    // maxQueue 1: of the two queued behind, at least the second is refused with 503 QUEUE_FULL
    const settled = await queued;
    const rejected = settled.filter((s) => s.status === "rejected").map((s) => (s as PromiseRejectedResult).reason);
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect(rejected[0]).toMatchObject({ code: "QUEUE_FULL", status: 503 });
    expect(rejected[0].retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });
});
