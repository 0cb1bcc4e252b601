import { describe, expect, it } from "vitest";
import { parseDmon, parseQueryGpuCsv } from "./gpu.ts";

describe("nvidia-smi parsers", () => {
  it("parses the article's `nvidia-smi dmon -s u` output by column name", () => {
    const text = [
      "# gpu    sm   mem   enc   dec",
      "# Idx     %     %     %     %",
      "    0    98    71     0     0",
      "    1    45    12     0     0",
    ].join("\n");
    expect(parseDmon(text, 5)).toEqual([
      { index: 0, smPercent: 98, memPercent: 71, at: 5 },
      { index: 1, smPercent: 45, memPercent: 12, at: 5 },
    ]);
  });

  it("parses `dmon -s pu` (power and temperature columns first) and skips '-' values", () => {
    const text = [
      "# gpu   pwr  gtemp  mtemp    sm   mem   enc   dec",
      "# Idx     W      C      C     %     %     %     %",
      "    0   301     62      -   100    93     0     0",
    ].join("\n");
    expect(parseDmon(text, 1)).toEqual([{ index: 0, smPercent: 100, memPercent: 93, powerWatts: 301, at: 1 }]);
  });

  it("parses the --query-gpu CSV, energy in joules, and drops [N/A] fields", () => {
    const text =
      "0, NVIDIA H100 80GB HBM3, 87, 41, 30123, 81559, 512.34, 123456789\n1, NVIDIA A10G, 5, 1, 300, 23028, [N/A], [N/A]\n";
    const [a, b] = parseQueryGpuCsv(text, 7);
    expect(a).toEqual({
      index: 0,
      name: "NVIDIA H100 80GB HBM3",
      smPercent: 87,
      memPercent: 41,
      memoryUsedMiB: 30123,
      memoryTotalMiB: 81559,
      powerWatts: 512.34,
      energyJoules: 123456.789,
      at: 7,
    });
    expect(b?.powerWatts).toBeUndefined();
    expect(b?.energyJoules).toBeUndefined();
  });

  it("ignores garbage lines", () => {
    expect(parseQueryGpuCsv("No devices were found\n", 0)).toEqual([]);
    expect(parseDmon("nvidia-smi: command not found", 0)).toEqual([]);
  });
});
