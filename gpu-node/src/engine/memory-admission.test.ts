import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isNodeError } from "../core/errors.ts";
import { createTestNode } from "../testing/harness.ts";
import type { SynthesisJob } from "./engine.ts";
import { memoryModel, requestShare, setBytes } from "./memory-budget.ts";
import type { EngineObserver } from "./observer.ts";
import { planCodes } from "./request-state.ts";

type TestNode = Awaited<ReturnType<typeof createTestNode>>;
const TEXT = "The quick brown fox jumps over the lazy dog, again and again, until the sun goes down over the hills.";

/** Issue 14 #1: admitted requests' estimated peak memory stays under the node's budget; the rest wait their turn. */
describe("the engine keeps admitted requests under its memory budget", () => {
  let probe: TestNode;
  let node: TestNode;
  let budget: number;

  // 40 codes per segment keep the test short on a loaded machine; the estimate uses the same cap
  const job = (n: TestNode, id: string, text = TEXT, maxTokens: number | undefined = 40): SynthesisJob => {
    const voice = n.voices.get(0);
    return {
      id,
      segments: n.text.segments(text).map((s) => s.ids),
      voice,
      emoVec: n.voices.emotionVector(voice, { kind: "label", label: "happy", alpha: 0.8 }),
      speed: 1,
      seed: 1,
      priority: "interactive",
      ...(maxTokens !== undefined ? { maxTokens } : {}),
    };
  };

  beforeAll(async () => {
    probe = await createTestNode();
    const j = job(probe, "probe");
    const plan = planCodes(probe.files.manifest, j);
    const model = memoryModel(probe.files.manifest);
    const share = requestShare(model, {
      speed: 1,
      // the engine's default beams: each beam is a batch row with its own cache
      sampling: { numBeams: probe.files.manifest.sampling.num_beams },
      segments: j.segments.map((ids) => ({ textIds: [0, ...ids, 1], maxCodes: plan.codesFor(ids) })),
    });
    // room for two such requests at once, not three
    const two = setBytes(model, [share, share], { maxBatch: 8 });
    const three = setBytes(model, [share, share, share], { maxBatch: 8 });
    expect(three).toBeGreaterThan(two);
    budget = Math.floor((two + three) / 2);
    node = await createTestNode({ maxBatch: 8, memoryBudgetBytes: budget });
  });
  afterAll(async () => {
    await probe.close();
    await node.close();
  });

  it("six concurrent requests all finish, never more than two admitted at once", async () => {
    const engine = node.engine as unknown as { observer: EngineObserver };
    const inner = engine.observer;
    let peakReserved = 0;
    let peakInFlightAdmitted = 0;
    // the node's own observer, with every graph call also sampling the engine's state
    engine.observer = Object.assign(Object.create(inner) as EngineObserver, {
      stageRun(stage: string, seconds: number, batch: number) {
        const stats = node.engine.stats();
        peakReserved = Math.max(peakReserved, stats.memoryReservedBytes);
        peakInFlightAdmitted = Math.max(peakInFlightAdmitted, stats.inFlight - stats.queued);
        inner.stageRun(stage as Parameters<EngineObserver["stageRun"]>[0], seconds, batch);
      },
    });
    try {
      const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => node.engine.submit(job(node, `r${i}`))));
      expect(results.every((r) => r.audio.length > 0)).toBe(true);
    } finally {
      engine.observer = inner;
    }
    expect(peakReserved).toBeGreaterThan(0);
    expect(peakReserved).toBeLessThanOrEqual(budget);
    expect(peakInFlightAdmitted).toBe(2);
    expect(node.engine.stats().memoryReservedBytes).toBe(0);
  });

  it("a request larger than the whole budget is refused up front with REQUEST_TOO_LARGE (413)", async () => {
    const long = Array.from({ length: 8 }, () => TEXT).join(" ");
    const error = await node.engine.submit(job(node, "huge", long, undefined)).catch((e: unknown) => e);
    expect(isNodeError(error) && [error.code, error.status]).toEqual(["REQUEST_TOO_LARGE", 413]);
  });
});
