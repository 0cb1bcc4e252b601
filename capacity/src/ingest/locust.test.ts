import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { locustSteps, parseCsv, readLocustCsv, statusOf } from "./locust.ts";

// Headers exactly as python3-locust 2.12 writes them (test/node/capacity-locust.test.ts runs the real thing).
const HISTORY_HEAD =
  "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";
const row = (t: number, users: number, count: number, fails: number, avg: number, bytes: number, p95: number) =>
  `${t},${users},,Aggregated,0,0,${p95},${p95},${p95},${p95},${p95},${p95},${p95},${p95},${p95},${p95},${p95},${count},${fails},${avg},${avg},1,${p95},${bytes}`;

const dir = mkdtempSync(join(tmpdir(), "locust-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Locust CSV ingest", () => {
  it("parses quoted fields and finds statuses in failure messages", () => {
    const rows = parseCsv(
      'Method,Name,Error,Occurrences\nPOST,/synthesize,"HTTPError(\'503 Server Error, ""busy""\')",4\n',
    );
    expect(rows[0]?.Error).toBe(`HTTPError('503 Server Error, "busy"')`);
    expect(statusOf(rows[0]?.Error ?? "")).toBe(503);
    expect(statusOf("HTTP 429")).toBe(429);
    expect(statusOf("ConnectionRefusedError(111)")).toBe(0);
  });

  it("turns cumulative totals into exact per-level rates, mean latencies, audio seconds and failures", () => {
    const prefix = join(dir, "run");
    // 0 → 10 users, then 20; a 2 s WAV is 44 + 88,200 bytes
    const wav = 44 + 88_200;
    writeFileSync(
      `${prefix}_stats_history.csv`,
      [
        HISTORY_HEAD,
        row(100, 0, 0, 0, 0, 0, 0),
        row(101, 10, 10, 0, 1000, wav, 1100),
        row(102, 10, 30, 0, 1500, wav, 2000), // 20 more at a mean of (1500·30 − 1000·10) / 20 = 1750 ms
        row(103, 20, 60, 3, 2000, wav, 3000), // 30 more, 3 failed, mean (2000·60 − 1500·30) / 30 = 2500 ms
        row(104, 10, 70, 3, 2000, wav, 3000), // users being stopped at the end: still the 20-user level
        "",
      ].join("\n"),
    );
    writeFileSync(`${prefix}_failures.csv`, 'Method,Name,Error,Occurrences\nPOST,/synthesize,"HTTP 503",3\n');
    const run = readLocustCsv(prefix);
    const steps = locustSteps(run, { wavBytesPerSecond: 44_100, tokensPerSecond: 50, goodMs: 3000, inputChars: 33 });
    expect(steps.map((s) => [s.load, s.sent, s.ok])).toEqual([
      [10, 30, 30],
      [20, 40, 37],
    ]);
    const [ten, twenty] = steps;
    expect(ten?.latency.mean).toBeCloseTo(1500, 6); // (1500·30 − 0) / 30
    expect(ten?.rps).toBeCloseTo(15, 6); // 30 in 2 s
    expect(twenty?.latency.mean).toBeCloseTo((2000 * 70 - 1500 * 30) / 40, 6);
    expect(twenty?.failures).toMatchObject({ total: 3, http5xx: 3 });
    expect(twenty?.errorRate).toBeCloseTo(3 / 40, 9);
    expect(ten?.tokensPerRequest).toBeCloseTo(100, 6); // 2 s of audio each
    expect(ten?.msPerInputChar).toBeCloseTo(1500 / 33, 6);
    expect(ten?.windows).toHaveLength(2);
  });

  it("falls back to the final totals when the history holds no data, and says what is missing", () => {
    const prefix = join(dir, "short");
    writeFileSync(
      `${prefix}_stats.csv`,
      "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n" +
        "POST,/synthesize,4,0,900,950,800,1100,88244,2,0,900,900,1000,1000,1100,1100,1100,1100,1100,1100,1100\n" +
        ",Aggregated,4,0,900,950,800,1100,88244,2,0,900,900,1000,1000,1100,1100,1100,1100,1100,1100,1100\n",
    );
    const steps = locustSteps(readLocustCsv(prefix), {
      wavBytesPerSecond: 44_100,
      tokensPerSecond: 50,
      goodMs: 3000,
      inputChars: 33,
    });
    expect(steps).toHaveLength(1);
    expect(steps[0]?.ok).toBe(4);
    expect(steps[0]?.durationS).toBeCloseTo(2, 6); // 4 requests at 2 req/s
    expect(steps[0]?.step).toContain("totals only");
    expect(() => readLocustCsv(join(dir, "missing"))).toThrow(/no Locust CSV/);
  });
});
