/**
 * `npm run capacity` end to end: against a running stack (real gpu-node on the tiny random-weight model behind the
 * real proxy, on 127.0.0.1) with --apply writing price versions through the admin API; with no --target (the
 * embedded stack as child processes); the `cost` command; --help and bad flags.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../capacity/src/cli.ts";
import type { Report } from "../../capacity/src/report/types.ts";
import { startQueueServer } from "../../capacity/src/testing/servers.ts";
import { createTestNode, listen } from "../../gpu-node/src/testing/harness.ts";
import { ADMIN_TOKEN, startProxy } from "../../proxy/src/testing/stack.ts";

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** command-line words from one string (no quoting needed: no value here holds a space) */
const argv = (line: string) => line.trim().split(/\s+/);

const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as Report;

describe("npm run capacity", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "capacity-cli-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("cost: the article's example without a load test: ≈ ¥14/day, ≈ ¥0.14 per million tokens, and the unit slip", async () => {
    const r = await capture(
      "cost --gpu-price 12000 --lifetime-years 3 --power-cost-per-day 3 --tokens-per-day 100000000 --currency CNY".split(
        " ",
      ),
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain("≈ ¥14/day");
    expect(r.out).toContain("≈ ¥0.14 per million tokens");
    expect(r.out).toContain("¥0.0014 per 10k tokens");
    expect(r.out).toContain("slipped a unit");
  });

  it("--help, and bad flags answered with exit code 2", async () => {
    const help = await capture(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("--target URL");
    expect(help.out).toContain("--apply");
    const bad = await capture(["--slo-percentile", "97"]);
    expect(bad.code).toBe(2);
    const unknown = await capture(["--no-such-flag"]);
    expect(unknown.code).toBe(2);
    expect((await capture(["cost", "--batch-discount", "0.2", "--tokens-per-day", "5"])).code).toBe(1);
  });

  describe("against a running stack", () => {
    let node: Awaited<ReturnType<typeof createTestNode>>;
    let nodeServer: Awaited<ReturnType<typeof listen>>;
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    beforeAll(async () => {
      node = await createTestNode({ maxBatch: 8 });
      nodeServer = await listen(node.app.fetch);
      proxy = await startProxy([nodeServer.url], { config: { ipPolicy: { ratePerSecond: 1000, burst: 1000 } } });
    });
    afterAll(async () => {
      await proxy.close();
      await nodeServer.close();
      await node.close();
    });

    it("measures a closed level and an open stretch, writes every report file, and --apply adds price versions", async () => {
      const c = await proxy.newCustomer();
      const out = join(dir, "target");
      const before = await proxy.admin("GET", "/admin/plans/basic/prices");
      const r = await capture(
        argv(
          `--target ${proxy.url} --api-key ${c.key} --node-url ${nodeServer.url} --phases table,open --table-users 1 --table-duration 2 --wait 0,0 --warmup 1 --rate 0.5 --duration 2 --slo-ms 30000 --currency USD --gpu-price 1500 --gpu-watts 350 --kwh-price 0.15 --apply --admin-token ${ADMIN_TOKEN} --out ${out} --quiet`,
        ),
      );
      expect(r.code, r.err).toBe(0);
      for (const f of ["report.md", "report.html", "report.json", "steps.csv", "windows.csv"]) {
        expect(readFileSync(join(out, f), "utf8").length).toBeGreaterThan(100);
      }
      const report = readReport(out);
      expect(report.model.randomWeights).toBe(true);
      expect(report.hardware.measured).toContain("CPU only");
      expect(report.articleTable).toHaveLength(1);
      expect(report.articleTable[0]?.users).toBe(1);
      expect(report.articleTable[0]?.msPerToken).toBeGreaterThan(0);
      expect(report.steps.map((x) => x.phase)).toEqual(["table", "open"]);
      expect(report.steps[1]?.unit).toBe("req/s");
      // no search: the capacity is the highest fixed-user level that met the SLO
      expect(report.capacity?.level).toBe(1);
      expect(report.capacity?.unit).toBe("users");
      expect(report.telemetry.node.length).toBeGreaterThan(0);
      expect(report.telemetry.proxy.length).toBeGreaterThan(0);
      expect(report.bottleneck.verdict).toBe("no-gpu-data");
      expect(report.cost?.currency).toBe("USD");
      expect(report.comparison?.rows.length).toBeGreaterThan(5);

      const html = readFileSync(join(out, "report.html"), "utf8");
      expect(html).toContain("<svg");
      expect(html).not.toMatch(/<script|<link|src="http|href="http/);
      const md = readFileSync(join(out, "report.md"), "utf8");
      expect(md).toContain("Random weights");
      expect(md).toContain("slipped a unit");

      // --apply: one new version per plan, in integer micros, as the report says
      expect(report.applied?.map((a) => [a.plan, a.status])).toEqual([
        ["basic", 201],
        ["batch", 201],
        ["enterprise", 201],
      ]);
      const after = await proxy.admin("GET", "/admin/plans/basic/prices");
      const versions = after.json.versions as {
        version: number;
        unitPriceMicrosPer1kTokens: number;
        peakMultiplierBp: number;
      }[];
      expect(versions.length).toBe((before.json.versions as unknown[]).length + 1);
      const latest = versions[versions.length - 1];
      expect(latest?.unitPriceMicrosPer1kTokens).toBe(report.cost?.basic.per1kTokensMicros);
      expect(Number.isInteger(latest?.unitPriceMicrosPer1kTokens)).toBe(true);
      expect(latest?.peakMultiplierBp).toBe(report.cost?.peak.multiplierBp);
      const ent = await proxy.admin("GET", "/admin/plans/enterprise/prices");
      const entLatest = (ent.json.versions as { monthlyFeeMicros: number }[]).pop();
      expect(entLatest?.monthlyFeeMicros).toBe(report.cost?.enterprise.monthlyFeeMicros);
    });

    it("--apply refuses prices in another currency than the plan's", async () => {
      const c = await proxy.newCustomer();
      const out = join(dir, "cny");
      const r = await capture(
        argv(
          `--target ${proxy.url} --api-key ${c.key} --phases closed --users 1 --duration 1 --wait 0,0 --warmup 1 --tokens-per-day 1000000 --currency CNY --gpu-price 12000 --apply --admin-token ${ADMIN_TOKEN} --out ${out} --quiet`,
        ),
      );
      expect(r.code).toBe(1);
      expect(readReport(out).applied?.every((a) => a.status === 0 && /priced in USD/.test(a.error ?? ""))).toBe(true);
    });
  });

  it("searches a server whose capacity is known (2 slots × 100 ms = 20 req/s) through the CLI", async () => {
    const server = await startQueueServer({ slots: 2, serviceMs: 100, audioMs: 2000 });
    const out = join(dir, "search");
    try {
      const r = await capture(
        argv(
          `--target ${server.url} --endpoint node --phases search --warmup 2 --search-start 5 --search-max 64 --search-precision 0.15 --probe-max-s 2.5 --window-ms 250 --min-per-window 3 --stability-tolerance 0.2 --slo-ms 400 --tokens-per-day 1000000 --out ${out} --quiet`,
        ),
      );
      expect(r.code, r.err).toBe(0);
    } finally {
      await server.close();
    }
    const report = readReport(out);
    expect(report.search?.probes.slice(0, 3).map((p) => p.level)).toEqual([5, 10, 20]);
    expect(report.capacity?.unit).toBe("req/s");
    expect(report.capacity?.level).toBeGreaterThan(20 * 0.7);
    expect(report.capacity?.level).toBeLessThanOrEqual(21);
    expect(report.search?.firstFail).toBeGreaterThan(report.capacity?.level ?? 0);
    // 2 s of audio per answer: tokens per second at capacity = 100 × answers per second
    expect(report.capacity?.tokensPerSecond).toBeCloseTo((report.capacity?.rps ?? 0) * 100, 0);
    expect(report.peakOffPeak?.offPeakLoad).toBe("5 req/s");
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("Latency against load");
    expect(html).toContain("knee:");
  });

  it("with no --target, starts the embedded stack (tiny random-weight model) and measures it", async () => {
    const out = join(dir, "embedded");
    const r = await capture(
      argv(
        `--phases closed --users 1 --duration 1 --wait 0,0 --warmup 1 --max-batch 4 --tokens-per-day 1000000 --out ${out} --quiet`,
      ),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("starting the embedded stack");
    const report = readReport(out);
    expect(report.target.embedded).toBe(true);
    expect(report.model.randomWeights).toBe(true);
    expect(report.steps[0]?.ok).toBeGreaterThan(0);
    expect(report.cost?.currency).toBe("CNY"); // the article's card, since no GPU price was given
  });
});
