import { describe, expect, it } from "vitest";
import { PieceFeed } from "./piece-feed.ts";

/** a start function whose calls the test finishes by hand */
function manual() {
  const calls: { index: number; finish: () => void }[] = [];
  const start = (index: number) =>
    new Promise<number>((resolve) => {
      calls.push({ index, finish: () => resolve(index) });
    });
  return { calls, start };
}

describe("PieceFeed", () => {
  it("asks for the first piece alone, then keeps two in flight, and hands results out in order", async () => {
    const { calls, start } = manual();
    const feed = new PieceFeed(4, start, 2);
    expect(calls.map((c) => c.index)).toEqual([0]);
    calls[0]?.finish();
    expect(await feed.get(0)).toBe(0);
    expect(calls.map((c) => c.index)).toEqual([0, 1, 2]);
    calls[2]?.finish();
    await Promise.resolve();
    expect(calls.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    calls[1]?.finish();
    calls[3]?.finish();
    expect([await feed.get(1), await feed.get(2), await feed.get(3)]).toEqual([1, 2, 3]);
  });

  it("a failed piece fails its own get and stops nothing else by itself", async () => {
    const feed = new PieceFeed(2, (i) => (i === 0 ? Promise.reject(new Error("boom")) : Promise.resolve(i)));
    await expect(feed.get(0)).rejects.toThrow("boom");
  });
});
