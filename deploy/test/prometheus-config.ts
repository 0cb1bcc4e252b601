import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

export const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), "..");
export const RULES_DIR = join(DEPLOY, "prometheus", "rules");
export const ruleFiles = () =>
  readdirSync(RULES_DIR)
    .filter((f) => f.endsWith(".yml"))
    .map((f) => join(RULES_DIR, f));

interface ScrapeConfig {
  job_name: string;
  authorization?: { credentials_file?: string };
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
}
interface PromConfig {
  global: Record<string, string>;
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

/**
 * deploy/prometheus/prometheus.yml as a test runs it: the same jobs, authorization and rules, with the targets on this
 * machine's ports, the token file and rule files at real paths, and a 1 s scrape and evaluation interval.
 */
export function writeTestPrometheusConfig(
  dir: string,
  targets: Record<string, string[]>,
  token: string,
  labels: Record<string, Record<string, string>> = {},
): { configFile: string } {
  mkdirSync(dir, { recursive: true });
  const config = parse(readFileSync(join(DEPLOY, "prometheus", "prometheus.yml"), "utf8")) as PromConfig;
  const tokenFile = join(dir, "metrics-token");
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  config.global = { ...config.global, scrape_interval: "1s", evaluation_interval: "1s" };
  config.rule_files = ruleFiles();
  for (const job of config.scrape_configs) {
    const t = targets[job.job_name];
    if (!t) throw new Error(`no test target for job ${job.job_name}`);
    const extra = labels[job.job_name];
    job.static_configs = [extra ? { targets: t, labels: extra } : { targets: t }];
    if (job.authorization?.credentials_file) job.authorization.credentials_file = tokenFile;
  }
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, stringify(config));
  return { configFile };
}

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}
export const allRules = (): Rule[] =>
  ruleFiles().flatMap((f) =>
    (parse(readFileSync(f, "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules),
  );
