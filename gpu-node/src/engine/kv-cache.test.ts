import { describe, expect, it } from "vitest";
import { appendStep, CAPACITY_STEP, capacityFor, packCache } from "./kv-cache.ts";

const shape = { layers: 2, heads: 2, headDim: 3 };

/** a (1, H, len, hd) prefill cache whose values encode (layer, head, slot, dim) */
function prefill(tag: number, len: number) {
  const make = (l: number, kind: number) =>
    Float32Array.from({ length: shape.heads * len * shape.headDim }, (_, i) => {
      const h = Math.floor(i / (len * shape.headDim));
      const slot = Math.floor(i / shape.headDim) % len;
      return tag * 1000 + kind * 100 + l * 10 + h + slot / 100;
    });
  return {
    keys: [make(0, 0), make(1, 0)],
    values: [make(0, 1), make(1, 1)],
    index: 0,
    capacity: len,
    length: len,
  };
}

const slot = (buf: Float32Array | undefined, capacity: number, b: number, h: number, s: number) =>
  Array.from(
    buf?.subarray(
      ((b * shape.heads + h) * capacity + s) * shape.headDim,
      ((b * shape.heads + h) * capacity + s + 1) * shape.headDim,
    ) ?? [],
  );

describe("host-side KV cache", () => {
  it("capacity leaves room for the next token, in steps", () => {
    expect(capacityFor([5, 31])).toBe(CAPACITY_STEP);
    expect(capacityFor([32])).toBe(2 * CAPACITY_STEP);
    expect(capacityFor([])).toBe(CAPACITY_STEP);
  });

  it("packs rows of different lengths from slot 0 and leaves the rest zero", () => {
    const a = prefill(1, 4);
    const b = prefill(2, 7);
    const cache = packCache(shape, [a, b], 8);
    expect(slot(cache.keys[1], 8, 0, 1, 3)).toEqual(slot(a.keys[1], 4, 0, 1, 3));
    expect(slot(cache.values[0], 8, 1, 0, 6)).toEqual(slot(b.values[0], 7, 0, 0, 6));
    expect(slot(cache.keys[0], 8, 0, 0, 4)).toEqual([0, 0, 0]);
    expect(slot(cache.keys[0], 8, 1, 1, 7)).toEqual([0, 0, 0]);
  });

  it("appends a step's keys and values in place at each row's own length, and repacks rows unchanged", () => {
    const cache = packCache(shape, [prefill(1, 4), prefill(2, 7)], 8);
    const newKeys = Float32Array.from({ length: 2 * shape.heads * shape.headDim }, (_, i) => -1 - i);
    const newValues = newKeys.map((x) => x * 10);
    appendStep(shape, cache, 1, newKeys, newValues, [4, 7]);
    expect(slot(cache.keys[1], 8, 0, 1, 4)).toEqual([-4, -5, -6]);
    expect(slot(cache.values[1], 8, 1, 0, 7)).toEqual([-70, -80, -90]);
    // a leave (row 0) and a capacity change keep the survivor's history intact
    const moved = packCache(shape, [{ ...cache, index: 1, length: 8 }], 32);
    expect(slot(moved.values[1], 32, 0, 0, 7)).toEqual([-70, -80, -90]);
    expect(slot(moved.keys[0], 32, 0, 1, 2)).toEqual(slot(cache.keys[0], 8, 1, 1, 2));
  });

  it("refuses a row that does not fit", () => {
    expect(() => packCache(shape, [prefill(1, 9)], 8)).toThrow(/does not fit/);
  });
});
