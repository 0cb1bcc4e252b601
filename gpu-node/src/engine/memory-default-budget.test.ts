import { describe, expect, it } from "vitest";
import { availableMemoryBytes } from "../adapters/host-memory.ts";
import { readModelDir } from "../adapters/model-dir.ts";
import { isNodeError } from "../core/errors.ts";
import type { Voice } from "../model/voices.ts";
import { TINY_MODEL_DIR } from "../testing/harness.ts";
import { SMALL_GRAPH_BYTES, withSmallDims } from "../testing/small-dims.ts";
import { AdmitStage } from "./admit-stage.ts";
import type { SynthesisJob } from "./api.ts";
import type { InferenceBackend } from "./backend.ts";
import { Engine } from "./engine.ts";
import type { GptStage } from "./gpt-stage.ts";
import { defaultMemoryBudgetBytes, MemoryBudget, memoryModel, requestShare, setBytes } from "./memory-budget.ts";
import { planCodes, requestState } from "./request-state.ts";
import type { RequestState } from "./types.ts";

/**
 * Issue 14: the budget a node gets by default (from this host's memory) actually limits admission on the `small`
 * model at the node's maximum request size; admission's own policy and the real budget, the GPT faked (its
 * conditioning and prefill do nothing), no clock (the queue delay is 0 and time stands still).
 */
describe("the default memory budget limits admission on small at the maximum request size", async () => {
  const { manifest: tiny } = await readModelDir(TINY_MODEL_DIR);
  const manifest = withSmallDims(tiny);
  const model = memoryModel(manifest);
  const shape = { maxBatch: 16 };
  // what `npm start` gives a node on this host, small's graphs counted as loaded
  const budgetBytes = defaultMemoryBudgetBytes(availableMemoryBytes(), SMALL_GRAPH_BYTES);
  const sampling = {
    topK: 30,
    topP: 0.8,
    temperature: 0.8,
    repetitionPenalty: 10,
    numBeams: 3,
    lengthPenalty: 1,
  };

  /** the node's largest request: 16 segments of 120 text tokens (random weights: 1,200 codes each), 3 beams */
  const job = (id: string, segments = 16): SynthesisJob => ({
    id,
    segments: Array.from({ length: segments }, () => new Array(120).fill(5)),
    voice: {} as Voice,
    emoVec: new Float32Array(0),
    speed: 1,
    seed: 1,
    priority: "interactive",
  });
  const state = (id: string): RequestState =>
    requestState(manifest, job(id), planCodes(manifest, job(id)), { sampling, now: 0, timeoutMs: 60_000 });

  it("requests whose estimates sum above it wait in the queue; one settling lets the next in", async () => {
    const memory = new MemoryBudget(model, budgetBytes, shape);
    const one = requestShare(model, state("probe"));
    // enough requests that all of them at once would be over the budget, whatever this host's memory
    let n = 16;
    while (setBytes(model, new Array(n).fill(one), shape) <= budgetBytes) n++;
    n += 2;
    const gpt = {
      occupancy: 0,
      countByPriority: () => 0,
      condition: async () => {},
      prefill: async () => false,
    } as unknown as GptStage;
    const admit = new AdmitStage({
      gpt,
      memory,
      options: { maxBatch: 16, reservedInteractiveSlots: 4, maxQueueDelayMs: 0 },
      downstreamRows: () => 0,
      now: () => 0,
      timed: (_stage, _batch, fn) => fn(),
    });
    const requests = Array.from({ length: n }, (_, i) => state(`r${i}`));
    for (const r of requests) for (const seg of r.segments) admit.accept(seg);
    const drain = async () => {
      while (admit.readiness(0).ready) await admit.step();
    };
    await drain();

    const admitted = requests.filter((r) => r.admittedAt !== null);
    // exactly as many as fit: the first k (in arrival order) whose set estimate is under the budget
    let k = 0;
    while (k < n && setBytes(model, new Array(k + 1).fill(one), shape) <= budgetBytes) k++;
    expect(admitted.length).toBe(k);
    expect(admitted).toEqual(requests.slice(0, k));
    expect(k).toBeGreaterThan(0);
    expect(k).toBeLessThan(n);
    expect(memory.reservedBytes).toBeLessThanOrEqual(budgetBytes);
    // the rest keep all their segments in the queue
    expect(admit.size).toBe((n - k) * 16);

    memory.release("r0");
    await drain();
    expect(requests[k]?.admittedAt).not.toBeNull();
    expect(requests[k + 1]?.admittedAt).toBeNull();
    expect(memory.reservedBytes).toBeLessThanOrEqual(budgetBytes);
  });

  it("a request over the whole default budget of a smaller host is refused with 413 before it is queued", async () => {
    // the default budget of an 8 GiB host with small loaded: under one maximum request's estimate
    const small = defaultMemoryBudgetBytes(8 * 2 ** 30, SMALL_GRAPH_BYTES);
    expect(setBytes(model, [requestShare(model, state("probe"))], shape)).toBeGreaterThan(small);
    const backend: InferenceBackend = {
      run: () => Promise.reject(new Error("no graph may run")),
      signature: () => ({ inputs: [], outputs: [] }),
      close: async () => {},
    };
    const engine = new Engine({
      backend,
      manifest,
      options: {
        maxBatch: 16,
        maxQueueDelayMs: 0,
        maxPadRatio: 1.5,
        maxQueue: 64,
        reservedInteractiveSlots: 4,
        requestTimeoutMs: 60_000,
        numBeams: 3,
        memoryBudgetBytes: small,
      },
    });
    try {
      const error = await engine.submit(job("huge")).catch((e: unknown) => e);
      expect(isNodeError(error) && [error.code, error.status]).toEqual(["REQUEST_TOO_LARGE", 413]);
      expect(engine.stats()).toMatchObject({ queued: 0, inFlight: 0, memoryReservedBytes: 0 });
      // a shorter request on the same node is accepted (it is queued, not refused)
      const accepted = engine.submit(job("short", 1));
      expect(engine.stats().inFlight).toBe(1);
      accepted.catch(() => {});
    } finally {
      await engine.destroy();
    }
  });
});
