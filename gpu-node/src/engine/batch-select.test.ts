import { describe, expect, it } from "vitest";
import { type Batchable, selectBatch } from "./batch-select.ts";

type Row = Batchable & { id: string };
const row = (id: string, frames: number, extra: Partial<Batchable> = {}): Row => ({
  id,
  frames,
  priority: "interactive",
  started: false,
  enqueuedAt: 0,
  ...extra,
});
const ids = (rows: Row[]) => rows.map((r) => r.id);

describe("selectBatch: length buckets for the DiT and the vocoder", () => {
  it("keeps the padding within maxPadRatio (longest / shortest) and skips rows that would break it", () => {
    const rows = [row("a", 100), row("b", 400), row("c", 140), row("d", 150), row("e", 151)];
    // a=100 opens the bucket; b (4x) is skipped; c, d fit (1.5x); e would make 1.51x
    expect(ids(selectBatch(rows, 8, 1.5))).toEqual(["a", "c", "d"]);
    // the skipped rows form the next bucket
    expect(ids(selectBatch([row("b", 400), row("e", 151)], 8, 1.5))).toEqual(["b"]);
    expect(ids(selectBatch(rows, 8, 10))).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("takes at most maxBatch rows, oldest first", () => {
    const rows = [
      row("late", 100, { enqueuedAt: 9 }),
      row("early", 100, { enqueuedAt: 1 }),
      row("mid", 100, { enqueuedAt: 5 }),
    ];
    expect(ids(selectBatch(rows, 2, 1.5))).toEqual(["early", "mid"]);
    expect(ids(selectBatch(rows, 1, 1.5))).toEqual(["early"]);
  });

  it("rows already under way go before new ones, even newer ones", () => {
    const rows = [row("new", 100, { enqueuedAt: 0 }), row("running", 300, { enqueuedAt: 5, started: true })];
    expect(ids(selectBatch(rows, 4, 1.5))).toEqual(["running"]);
  });

  it("batch-priority rows only run when no interactive row waits", () => {
    const rows = [row("b1", 100, { priority: "batch", enqueuedAt: 0 }), row("i1", 100, { enqueuedAt: 3 })];
    expect(ids(selectBatch(rows, 4, 1.5))).toEqual(["i1"]);
    expect(
      ids(selectBatch([row("b1", 100, { priority: "batch" }), row("b2", 120, { priority: "batch" })], 4, 1.5)),
    ).toEqual(["b1", "b2"]);
  });

  it("an empty stage selects nothing", () => {
    expect(selectBatch([], 4, 1.5)).toEqual([]);
  });
});
