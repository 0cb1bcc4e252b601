/** The ResultStore contract: every implementation must pass it (memory, disk; R2 on the edge). */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ResultStore } from "./ports.ts";

export interface ResultStoreContractOptions {
  name: string;
  make: () =>
    | { results: ResultStore; close?(): void | Promise<void> }
    | Promise<{
        results: ResultStore;
        close?(): void | Promise<void>;
      }>;
}

const bytes = (...values: number[]) => new Uint8Array(values);

export function runResultStoreContract({ name, make }: ResultStoreContractOptions): void {
  describe(`ResultStore contract (${name})`, () => {
    let results: ResultStore;
    let close: (() => void | Promise<void>) | undefined;

    beforeEach(async () => {
      const made = await make();
      results = made.results;
      close = made.close;
    });
    afterEach(async () => {
      await close?.();
    });

    it("stores, replaces and reads objects by key", async () => {
      expect(await results.get("job_a/0.wav")).toBeNull();
      await results.put("job_a/0.wav", bytes(1, 2, 3));
      expect(await results.get("job_a/0.wav")).toEqual(bytes(1, 2, 3));
      await results.put("job_a/0.wav", bytes(9));
      expect(await results.get("job_a/0.wav")).toEqual(bytes(9));
    });

    it("keeps a copy: changing the buffer after put does not change the object", async () => {
      const body = bytes(1, 2);
      await results.put("job_a/1.wav", body);
      body[0] = 7;
      expect(await results.get("job_a/1.wav")).toEqual(bytes(1, 2));
    });

    it("stores a large object whole", async () => {
      const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
      await results.put("job_big/0.wav", big);
      const got = await results.get("job_big/0.wav");
      // Compared by hand: a deep equality over millions of elements takes the test runner tens of seconds.
      expect(got?.byteLength).toBe(big.byteLength);
      expect(got?.every((v, i) => v === big[i])).toBe(true);
    });

    it("deletes one key (twice is fine) and every key under a prefix", async () => {
      await results.put("job_a/0.wav", bytes(1));
      await results.put("job_a/1.wav", bytes(2));
      await results.put("job_ab/0.wav", bytes(3));
      await results.delete("job_a/0.wav");
      await results.delete("job_a/0.wav");
      expect(await results.get("job_a/0.wav")).toBeNull();
      await results.put("job_a/2.wav", bytes(4));
      expect(await results.deletePrefix("job_a/")).toBe(2);
      expect(await results.get("job_a/1.wav")).toBeNull();
      expect(await results.get("job_ab/0.wav")).toEqual(bytes(3));
      expect(await results.deletePrefix("job_a/")).toBe(0);
      await expect(results.deletePrefix("job_a")).rejects.toThrow(RangeError);
    });

    it("refuses keys that could leave the store", async () => {
      for (const key of ["../x", "job_a/../../x", "/abs", "a//b", "a\\b", "", ".", "job_a/.."]) {
        await expect(results.put(key, bytes(1)), key).rejects.toThrow(RangeError);
      }
    });
  });
}
