import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "./processes.ts";
import { allRules, DEPLOY, ruleFiles, writeTestPrometheusConfig } from "./prometheus-config.ts";

/** Debian's promtool (package prometheus, installed by .ci/run) checks the rules, runs their unit tests and the config. */
describe("Prometheus rules and configuration (promtool)", () => {
  const dir = mkdtempSync(join(tmpdir(), "promtool-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("promtool check rules: every recording and alert rule parses", async () => {
    const r = await run("promtool", ["check", "rules", ...ruleFiles()]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("promtool test rules: each alert fires on its condition and stays quiet otherwise", async () => {
    const r = await run("promtool", ["test", "rules", join(DEPLOY, "prometheus", "tests", "alerts.test.yml")]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain("SUCCESS");
  });

  it("every alert has a unit test that expects it to fire", async () => {
    const { readFileSync } = await import("node:fs");
    const tests = readFileSync(join(DEPLOY, "prometheus", "tests", "alerts.test.yml"), "utf8");
    for (const rule of allRules().filter((r) => r.alert)) {
      expect(tests, rule.alert).toMatch(new RegExp(`alertname: ${rule.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
    }
  });

  it("promtool check config: the scrape configuration (targets and token file as a test runs it)", async () => {
    const { configFile } = writeTestPrometheusConfig(
      dir,
      { proxy: ["127.0.0.1:1"], "gpu-node": ["127.0.0.1:2"], dcgm: ["127.0.0.1:3"] },
      "token",
    );
    const r = await run("promtool", ["check", "config", configFile]);
    expect(r.code, r.output).toBe(0);
  });
});

describe("the runbook answers every alert", () => {
  it("each alert's runbook_url names a section of docs/operations.md", async () => {
    const { readFileSync } = await import("node:fs");
    const { parse } = await import("yaml");
    const runbook = readFileSync(join(DEPLOY, "..", "docs", "operations.md"), "utf8");
    // GitHub's anchors: the heading lowercased
    const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => (m[1] as string).toLowerCase()));
    const groups = parse(readFileSync(join(DEPLOY, "prometheus", "rules", "alerts.yml"), "utf8")).groups as {
      rules: { alert: string; annotations: { runbook_url: string } }[];
    }[];
    for (const rule of groups.flatMap((g) => g.rules)) {
      const anchor = rule.annotations.runbook_url.split("#")[1];
      expect(anchors.has(anchor ?? ""), `${rule.alert} → #${anchor}`).toBe(true);
    }
  });
});
