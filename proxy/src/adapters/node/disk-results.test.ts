import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runResultStoreContract } from "../../jobs/results.contract.ts";
import { DiskResultStore } from "./disk-results.ts";

runResultStoreContract({
  name: "disk",
  make: () => {
    const dir = mkdtempSync(join(tmpdir(), "job-results-"));
    return { results: new DiskResultStore(dir), close: () => rmSync(dir, { recursive: true, force: true }) };
  },
});

describe("DiskResultStore", () => {
  it("leaves no temporary file behind and keeps objects inside its folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "job-results-"));
    try {
      const store = new DiskResultStore(join(dir, "root"));
      await store.put("job_a/0.wav", new Uint8Array([1, 2]));
      await store.put("job_a/0.wav", new Uint8Array([3]));
      expect(readdirSync(join(dir, "root", "job_a"))).toEqual(["0.wav"]);
      expect(readdirSync(join(dir, "root", "~tmp"))).toEqual([]);
      expect(readdirSync(dir)).toEqual(["root"]);
      // A write that never finished (the process was killed) leaves a file in ~tmp; the next start clears it.
      writeFileSync(join(dir, "root", "~tmp", "orphan"), "x");
      await store.clearTemporaries();
      expect(readdirSync(join(dir, "root")).sort()).toEqual(["job_a"]);
      await store.put("job_a/1.wav", new Uint8Array([4]));
      expect(await store.get("job_a/1.wav")).toEqual(new Uint8Array([4]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
