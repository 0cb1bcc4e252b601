/**
 * The replica benchmark (`npm run bench:proxy -- --replicas N --db postgres`): the same open-model load as the proxy
 * overhead bench, against 1 proxy on SQLite (the embedded default), then 1, 2, … N proxies on one Postgres and one
 * Redis (limits shared through Redis), all in one run so the figures share the machine's state. Postgres and Redis
 * are started by the bench itself (throwaway, 127.0.0.1, ports chosen at run time); each configuration gets a fresh
 * database. For N replicas the generator splits each rate evenly over them (one client per replica, run at once), the
 * way a round-robin load balancer would, and merges the latency histograms.
 *
 * Per configuration: added latency (p50, p99 against the stub measured directly in the same step pair) at fixed
 * rates, the highest sustained rate (step up, then bisect once), and after a SIGTERM of every replica: every 200 has
 * its usage row (by request id), in SQLite's file or in Postgres.
 *
 *   npm run bench:proxy -- --db postgres [--replicas 2] [--rates 250,500,1000] [--duration 4] [--warmup 2]
 *                          [--search-from 500] [--search-step 250] [--search-max 4000] [--p99-bound-ms 50]
 *                          [--out bench-out]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import type { Histogram } from "hdr-histogram-js";
import pg from "pg";
import { startPostgres } from "../../storage/testing/postgres-server.ts";
import { startRedisServer } from "../src/adapters/redis/testing/redis-server.ts";
import { adminClient, benchCustomer } from "./admin.ts";
import { type Child, startChild } from "./children.ts";
import { cpuMeter } from "./cpu.ts";
import { type LatencySummary, OpenLoopClient, type StepResult, summarize } from "./open-loop.ts";
import { directTarget, proxyTarget } from "./targets.ts";

const { values: args } = parseArgs({
  options: {
    db: { type: "string", default: "postgres" },
    replicas: { type: "string", default: "2" },
    rates: { type: "string", default: "250,500,1000" },
    duration: { type: "string", default: "4" },
    warmup: { type: "string", default: "2" },
    "search-from": { type: "string", default: "500" },
    "search-step": { type: "string", default: "250" },
    "search-max": { type: "string", default: "4000" },
    "p99-bound-ms": { type: "string", default: "50" },
    connections: { type: "string", default: "128" },
    out: { type: "string", default: "bench-out" },
  },
  strict: false,
});

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const str = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback);
if (str(args.db, "postgres") !== "postgres") throw new Error("--db: only postgres (SQLite is the other proxy bench)");
const maxReplicas = Math.max(1, Math.floor(Number(str(args.replicas, "2"))));
const rates = str(args.rates, "250,500,1000")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const durationMs = Number(str(args.duration, "4")) * 1000;
const warmupMs = Number(str(args.warmup, "2")) * 1000;
const p99BoundMs = Number(str(args["p99-bound-ms"], "50"));
const outDir = resolve(REPO, str(args.out, "bench-out"));
const AUDIO_MS = 1000;
const wavBytes = 44 + Math.round((22050 * AUDIO_MS) / 1000) * 2;
const ADMIN_TOKEN = "bench-replicas-admin-token-0123456789";
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Config {
  name: string;
  engine: "sqlite" | "postgres";
  replicas: number;
}

interface Step {
  rate: number;
  phase: "rate" | "search";
  achievedRps: number;
  errors: number;
  dropped: number;
  latency: LatencySummary;
  direct?: LatencySummary;
  cores: { proxies: number; postgres: number; redis: number; machine: number };
  /** CPU time per request sent, µs: a cost that the machine's other load changes much less than latency */
  cpuUsPerRequest: { proxies: number; postgres: number; redis: number };
  sustained: boolean;
}

interface ConfigResult {
  config: Config;
  steps: Step[];
  highestSustained: number;
  durable: { proxy200: number; rows: number; missing: number };
  exits: string[];
}

const client = new OpenLoopClient(Number(str(args.connections, "128")));

function merge(results: StepResult[], pick: (r: StepResult) => Histogram): LatencySummary {
  const [first, ...rest] = results.map(pick);
  if (!first) throw new Error("no results");
  for (const h of rest) first.add(h);
  return summarize(first);
}

/** the postmaster listening on `port` and its backends (one per connection): their CPU is the database's cost */
function pgrep(...a: string[]): number[] {
  try {
    return execFileSync("pgrep", a, { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function postgresPids(port: number): number[] {
  const main = pgrep("-f", `postgres -D .* -p ${port} `);
  return [...main, ...main.flatMap((pid) => pgrep("-P", String(pid)))];
}

async function runConfig(config: Config, stub: Child, pgUrl: string, pgPort: number, redisUrl: string) {
  const redisPid = pgrep("-f", `redis-server 127.0.0.1:${new URL(redisUrl).port}`)[0] ?? 0;
  const dataDirs: string[] = [];
  const replicas: Child[] = [];
  let dbUrl: string | null = null;
  if (config.engine === "postgres") {
    const name = `bench_${config.replicas}r_${Date.now()}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    dbUrl = pgUrl.replace(/\/postgres$/, `/${name}`);
  }
  try {
    for (let i = 0; i < config.replicas; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), "bench-replica-"));
      dataDirs.push(dataDir);
      replicas.push(
        await startChild(`proxy${i}`, ["--import", "tsx", "proxy/src/entry.node.ts"], {
          cwd: REPO,
          env: {
            PORT: "0",
            HOST: "127.0.0.1",
            DATA_DIR: dataDir,
            GPU_NODES: stub.ready,
            ADMIN_TOKEN,
            IP_RATE_PER_SECOND: "1000000000",
            IP_BURST: "1000000000",
            SQLITE_SYNCHRONOUS: "NORMAL",
            BILLING_SCHEDULE_MINUTES: "0",
            ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
            ...(config.engine === "postgres" ? { REDIS_URL: redisUrl } : {}),
          },
          ready: /proxy listening on (http:\/\/127\.0\.0\.1:\d+)/,
          timeoutMs: 60_000,
        }),
      );
    }
    const customer = await benchCustomer(adminClient(replicas[0]?.ready ?? "", ADMIN_TOKEN));
    const targets = replicas.map((r) => proxyTarget(r.ready, customer.key, wavBytes));
    const direct = directTarget(stub.ready, wavBytes);
    const ids200 = new Set<string>();
    let proxy200 = 0;
    for (const t of targets) {
      const r = await client.once(t);
      if (r.status !== 200 || r.bytes !== wavBytes) throw new Error(`smoke ${t.origin}: ${r.status}`);
      proxy200++;
    }
    const steps: Step[] = [];
    const step = async (rate: number, phase: Step["phase"] | "warmup", ms = durationMs): Promise<Step> => {
      const pids: Record<string, number> = { generator: 0 };
      replicas.forEach((r, i) => {
        pids[`proxy${i}`] = r.proc.pid ?? 0;
      });
      postgresPids(pgPort).forEach((pid, i) => {
        pids[`pg${i}`] = pid;
      });
      if (config.engine === "postgres") pids.redis = redisPid;
      const meter = cpuMeter(pids);
      const options = { rate: rate / targets.length, durationMs: ms, maxInFlight: 2048, requestTimeoutMs: 10_000 };
      const results = await Promise.all(targets.map((t) => client.run(t, options)));
      const cpu = meter();
      for (const r of results) {
        proxy200 += r.http200;
        for (const id of r.ids200) ids200.add(id);
      }
      const achievedRps = results.reduce((a, r) => a + r.achievedRps, 0);
      const errors = results.reduce((a, r) => a + r.errorCount, 0);
      const dropped = results.reduce((a, r) => a + r.dropped, 0);
      const latency = merge(results, (r) => r.histograms.latency);
      const sent = results.reduce((a, r) => a + r.sent, 0);
      const cpuMs = (prefix: string) =>
        Object.entries(cpu.processes)
          .filter(([k]) => k.startsWith(prefix))
          .reduce((a, [, v]) => a + Math.max(0, v), 0); // a backend that exited meanwhile reads < 0
      const sum = (prefix: string) => cpuMs(prefix) / cpu.wallMs;
      const perRequest = (prefix: string) => (cpuMs(prefix) * 1000) / Math.max(1, sent);
      const row: Step = {
        rate,
        phase: phase === "warmup" ? "rate" : phase,
        achievedRps,
        errors,
        dropped,
        latency,
        cores: {
          proxies: sum("proxy"),
          postgres: sum("pg"),
          redis: sum("redis"),
          machine: cpu.machineBusyMs / cpu.wallMs,
        },
        cpuUsPerRequest: { proxies: perRequest("proxy"), postgres: perRequest("pg"), redis: perRequest("redis") },
        sustained: achievedRps >= 0.99 * rate && errors === 0 && dropped === 0 && latency.p99 < p99BoundMs,
      };
      if (phase === "rate") {
        await sleep(300);
        const d = await client.run(direct, { rate, durationMs: ms, maxInFlight: 2048, requestTimeoutMs: 10_000 });
        row.direct = d.latency;
      }
      if (phase !== "warmup") steps.push(row);
      log(
        `${config.name.padEnd(16)} ${phase.padEnd(6)} ${String(rate).padStart(5)}/s achieved ${achievedRps.toFixed(0).padStart(5)} ` +
          `p50 ${latency.p50.toFixed(2)} p99 ${latency.p99.toFixed(2)} ms` +
          (row.direct ? ` (direct p50 ${row.direct.p50.toFixed(2)} p99 ${row.direct.p99.toFixed(2)})` : "") +
          ` err ${errors} drop ${dropped} cpu/request µs: proxies ${row.cpuUsPerRequest.proxies.toFixed(0)} ` +
          `postgres ${row.cpuUsPerRequest.postgres.toFixed(0)} redis ${row.cpuUsPerRequest.redis.toFixed(0)}; cores: proxies ${row.cores.proxies.toFixed(2)} postgres ${row.cores.postgres.toFixed(2)} ` +
          `machine ${row.cores.machine.toFixed(2)}${row.sustained ? "" : " (not sustained)"}`,
      );
      await sleep(row.sustained ? 500 : 1500);
      return row;
    };

    // Warm-up (JIT, pools, caches) at the lowest rate: a warm-up past what the machine sustains leaves a backlog.
    await step(Math.min(...rates), "warmup", warmupMs);
    for (const rate of rates) await step(rate, "rate");
    let best = 0;
    let fail = Number.POSITIVE_INFINITY;
    const by = Number(str(args["search-step"], "250"));
    for (
      let rate = Number(str(args["search-from"], "500"));
      rate <= Number(str(args["search-max"], "4000"));
      rate += by
    ) {
      if ((await step(rate, "search")).sustained) best = rate;
      else {
        fail = rate;
        break;
      }
    }
    const mid = Math.round((best + fail) / 2 / 125) * 125;
    if (Number.isFinite(fail) && mid > best && mid < fail && (await step(mid, "search")).sustained) best = mid;

    const exits: string[] = [];
    for (const r of replicas.splice(0)) exits.push(await r.stop(30_000));
    const stored = await storedIds(config, customer.id, dataDirs[0] ?? "", dbUrl);
    const missing = [...ids200].filter((id) => !stored.has(id)).length;
    return { config, steps, highestSustained: best, durable: { proxy200, rows: stored.size, missing }, exits };
  } finally {
    for (const r of replicas) await r.stop(5_000);
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  }
}

async function storedIds(config: Config, customerId: string, dataDir: string, dbUrl: string | null) {
  if (config.engine === "sqlite") {
    const db = new Database(join(dataDir, "proxy.db"), { readonly: true, fileMustExist: true });
    const rows = db.prepare("select request_id as id from usage_events where customer_id = ?").all(customerId);
    db.close();
    return new Set((rows as { id: string }[]).map((r) => r.id));
  }
  const c = new pg.Client({ connectionString: dbUrl ?? "" });
  await c.connect();
  const { rows } = await c.query<{ id: string }>("select request_id as id from usage_events where customer_id = $1", [
    customerId,
  ]);
  await c.end();
  return new Set(rows.map((r) => r.id));
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${ms(Math.abs(x))}`;

function render(results: ConfigResult[], when: string, load: number[]): string {
  const head = [
    `\`npm run bench:proxy -- ${process.argv.slice(2).join(" ")}\` — ${when}, ${cpus().length} × ${cpus()[0]?.model}, ` +
      `Node ${process.version}; load average before ${load.map((x) => x.toFixed(2)).join(" ")}. Stub, generator, ` +
      "proxies, Postgres and Redis all share these cores.",
    "",
    `Each step ${durationMs / 1000} s at a fixed arrival rate (split evenly over the replicas); latency from the ` +
      "intended send time, ms; added = through the proxies − the stub directly, measured right after.",
    "",
    "| configuration | rate (req/s) | achieved | p50 / p99 | **added p50 / p99** | errors | **CPU per request (µs): proxies / postgres / redis** | cores: proxies / postgres / machine |",
    "|---|---|---|---|---|---|---|---|",
  ];
  const rows = results.flatMap((r) =>
    r.steps
      .filter((s) => s.phase === "rate")
      .map(
        (s) =>
          `| ${r.config.name} | ${s.rate} | ${s.achievedRps.toFixed(0)} | ${ms(s.latency.p50)} / ${ms(s.latency.p99)} | ` +
          `**${s.direct ? `${signed(s.latency.p50 - s.direct.p50)} / ${signed(s.latency.p99 - s.direct.p99)}` : "—"}** | ` +
          `${s.errors + s.dropped} | **${s.cpuUsPerRequest.proxies.toFixed(0)} / ${s.cpuUsPerRequest.postgres.toFixed(0)} / ${s.cpuUsPerRequest.redis.toFixed(0)}** | ` +
          `${s.cores.proxies.toFixed(2)} / ${s.cores.postgres.toFixed(2)} / ${s.cores.machine.toFixed(2)} |`,
      ),
  );
  const summary = [
    "",
    `| configuration | highest sustained (≥ 99 % achieved, no error, p99 < ${p99BoundMs} ms) | search steps (rate: achieved, p99) | 200s | rows | 200s without a row | exits |`,
    "|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.config.name} | **${r.highestSustained > 0 ? r.highestSustained : `< ${str(args["search-from"], "500")}`} req/s** | ${r.steps
          .filter((s) => s.phase === "search")
          .map((s) => `${s.rate}: ${s.achievedRps.toFixed(0)}, ${ms(s.latency.p99)}${s.sustained ? "" : " ✗"}`)
          .join("; ")} | ${r.durable.proxy200} | ${r.durable.rows} | ${r.durable.missing} | ${r.exits.join(", ")} |`,
    ),
  ];
  return [...head, ...rows, ...summary, ""].join("\n");
}

export async function runReplicaBench(): Promise<number> {
  mkdirSync(outDir, { recursive: true });
  const load = loadavg();
  const started: { stop(): Promise<unknown> }[] = [];
  try {
    const stub = await startChild(
      "stub",
      ["--import", "tsx", "proxy/bench/stub-upstream.ts", "--audio-ms", String(AUDIO_MS)],
      { cwd: REPO, ready: /stub listening on (http:\/\/127\.0\.0\.1:\d+)/ },
    );
    started.push(stub);
    const postgres = await startPostgres();
    started.push(postgres);
    const redis = await startRedisServer();
    started.push(redis);
    log(`stub ${stub.ready}, postgres ${postgres.url}, redis ${redis.url}`);
    const configs: Config[] = [{ name: "SQLite × 1", engine: "sqlite", replicas: 1 }];
    for (let n = 1; n <= maxReplicas; n++)
      configs.push({ name: `Postgres+Redis × ${n}`, engine: "postgres", replicas: n });
    const results: ConfigResult[] = [];
    for (const c of configs) results.push(await runConfig(c, stub, postgres.url, postgres.port, redis.url));
    const when = new Date().toISOString();
    const md = render(results, when, load);
    writeFileSync(join(outDir, "replicas.json"), `${JSON.stringify({ when, results }, null, 2)}\n`);
    writeFileSync(join(outDir, "replicas.md"), md);
    console.log(md);
    const ok = results.every((r) => r.durable.missing === 0 && r.exits.every((e) => e === "0"));
    return ok ? 0 : 1;
  } finally {
    await client.close();
    for (const s of started.reverse()) await s.stop();
  }
}
