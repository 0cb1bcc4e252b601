import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startNvidiaSmiSampler } from "./nvidia-smi-sampler.ts";

const dir = mkdtempSync(join(tmpdir(), "fake-nvidia-smi-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for `nvidia-smi --query-gpu ... -lms=N`: prints one CSV sample per GPU per interval, and records argv. */
function fakeNvidiaSmi(): string {
  const path = join(dir, "nvidia-smi");
  writeFileSync(
    path,
    `#!/bin/sh
echo "$@" > "${dir}/argv"
i=0
while [ $i -lt 200 ]; do
  echo "0, NVIDIA H200, $((50 + i % 10)), 30, 40000, 143771, 350.5, 1000"
  echo "1, NVIDIA H200, 3, 1, 500, 143771, [N/A], [N/A]"
  i=$((i + 1))
  sleep 0.02
done
`,
  );
  chmodSync(path, 0o755);
  return path;
}

const waitFor = async (cond: () => boolean) => {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("nvidia-smi sampler (the Node adapter behind the GPU gauges)", () => {
  it("runs nvidia-smi's query loop and keeps the latest sample of every GPU", async () => {
    const sampler = startNvidiaSmiSampler(20, fakeNvidiaSmi());
    try {
      await waitFor(() => sampler.latest().length === 2);
      const [a, b] = sampler.latest();
      expect(a).toMatchObject({
        index: 0,
        name: "NVIDIA H200",
        memPercent: 30,
        memoryUsedMiB: 40000,
        powerWatts: 350.5,
      });
      expect(a?.smPercent).toBeGreaterThanOrEqual(50);
      expect(b).toMatchObject({ index: 1, smPercent: 3 });
      expect(b?.powerWatts).toBeUndefined();
    } finally {
      sampler.close();
    }
  });

  it("reports no GPU when nvidia-smi does not exist", async () => {
    const sampler = startNvidiaSmiSampler(20, join(dir, "no-such-nvidia-smi"));
    await new Promise((r) => setTimeout(r, 100));
    expect(sampler.latest()).toEqual([]);
    sampler.close();
  });
});
