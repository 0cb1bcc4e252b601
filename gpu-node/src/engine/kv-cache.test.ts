import { describe, expect, it } from "vitest";
import { BatchKvCache, CAPACITY_STEP, capacityFor } from "./kv-cache.ts";

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

  it("adds rows of different lengths from slot 0 and feeds views of exactly the rows in use", () => {
    const a = prefill(1, 4);
    const b = prefill(2, 7);
    const cache = new BatchKvCache(shape);
    cache.resize(8, []);
    expect(cache.addRow(a)).toBe(0);
    expect(cache.addRow(b)).toBe(1);
    expect(cache.rows).toBe(2);
    const rowSize = shape.heads * 8 * shape.headDim;
    expect(cache.keys(0).length).toBe(2 * rowSize);
    expect(slot(cache.keys(1), 8, 0, 1, 3)).toEqual(slot(a.keys[1], 4, 0, 1, 3));
    expect(slot(cache.values(0), 8, 1, 0, 6)).toEqual(slot(b.values[0], 7, 0, 0, 6));
    expect(slot(cache.keys(0), 8, 0, 0, 4)).toEqual([0, 0, 0]);
  });

  it("appends a step's keys and values in place at each row's own length", () => {
    const cache = new BatchKvCache(shape);
    cache.resize(8, []);
    cache.addRow(prefill(1, 4));
    cache.addRow(prefill(2, 7));
    const before = cache.keys(1);
    const newKeys = Float32Array.from({ length: 2 * shape.heads * shape.headDim }, (_, i) => -1 - i);
    const newValues = newKeys.map((x) => x * 10);
    cache.appendStep(1, newKeys, newValues, [4, 7]);
    expect(slot(cache.keys(1), 8, 0, 1, 4)).toEqual([-4, -5, -6]);
    expect(slot(cache.values(1), 8, 1, 0, 7)).toEqual([-70, -80, -90]);
    // in place: the fed view sees the write, nothing was reallocated
    expect(slot(before, 8, 0, 1, 4)).toEqual([-4, -5, -6]);
    expect(() => cache.appendStep(1, newKeys, newValues, [4, 8])).toThrow(/full/);
  });

  it("a leaving row is replaced by the last row; a capacity change keeps every history intact", () => {
    const rows = [prefill(1, 4), prefill(2, 7), prefill(3, 5)];
    const cache = new BatchKvCache(shape);
    cache.resize(8, []);
    for (const r of rows) cache.addRow(r);
    expect(cache.removeRow(0)).toBe(2);
    expect(cache.rows).toBe(2);
    expect(slot(cache.keys(1), 8, 0, 1, 4)).toEqual(slot(rows[2]?.keys[1], 5, 0, 1, 4));
    expect(slot(cache.values(0), 8, 1, 0, 6)).toEqual(slot(rows[1]?.values[0], 7, 0, 0, 6));
    expect(cache.removeRow(1)).toBeNull();
    expect(cache.rows).toBe(1);
    cache.resize(32, [5]);
    expect(cache.capacity).toBe(32);
    expect(slot(cache.keys(0), 32, 0, 1, 4)).toEqual(slot(rows[2]?.keys[0], 5, 0, 1, 4));
    expect(slot(cache.keys(0), 32, 0, 1, 5)).toEqual([0, 0, 0]);
  });

  it("grows its row slots without losing rows", () => {
    const cache = new BatchKvCache(shape);
    cache.resize(8, []);
    const rows = Array.from({ length: 9 }, (_, i) => prefill(i + 1, 3 + (i % 5)));
    for (const r of rows) cache.addRow(r);
    expect(cache.rows).toBe(9);
    rows.forEach((r, b) => {
      expect(slot(cache.values(1), 8, b, 1, r.length - 1)).toEqual(slot(r.values[1], r.length, 0, 1, r.length - 1));
    });
  });

  it("refuses a row that does not fit", () => {
    const cache = new BatchKvCache(shape);
    cache.resize(8, []);
    expect(() => cache.addRow(prefill(1, 9))).toThrow(/does not fit/);
  });
});
