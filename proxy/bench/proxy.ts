/**
 * Proxy overhead benchmark: a fast stub upstream (a fixed 1 s WAV, at once) measured directly and through the real
 * proxy in one run, at fixed arrival rates (open model), with auth, per-IP and per-key limits, metering and durable
 * ledger writes all on. Reports the latency the proxy adds (p50, p99) and the highest rate it sustains, then checks
 * that every 200 the proxy sent has its usage row in the SQLite ledger.
 *
 *   npm run bench:proxy -- [--rates 500,1000,2000,4000,8000,10000] [--duration 5] [--warmup 2]
 *                          [--search-from 4000] [--search-step 1000] [--search-max 20000] [--no-search]
 *                          [--p99-bound-ms 50] [--connections 256] [--max-in-flight 4096] [--profile] [--out bench-out]
 *                          [--entry proxy/bench/raw-relay.ts] [--pin]
 *   npm run bench:proxy -- --replicas N --db postgres [...]   (1 proxy on SQLite, then 1…N on Postgres + Redis:
 *                                                            proxy/bench/replicas.ts)
 *
 * Three processes, all on 127.0.0.1: the stub (proxy/bench/stub-upstream.ts, plain node:http), the proxy
 * (`node --import tsx proxy/src/entry.node.ts`, SQLite WAL in a fresh temp DATA_DIR) and this one, the load generator.
 * `--profile` runs the proxy under `node --cpu-prof` and prints where its CPU time went (the figures of such a run
 * carry the profiler's cost). `--entry` measures another process in the proxy's place, with the same generator, stub
 * and schedule: `proxy/bench/raw-relay.ts` (node:http + the same undici transport, no framework, no logic) or
 * `proxy/bench/relay.ts` (the same on Hono) give the floor any proxy on this stack pays; they keep no ledger, so the
 * usage-row check is skipped for them. `--pin` (Linux, `taskset`) gives the proxy CPU 0 to itself and puts the stub and
 * the generator on the others, so the proxy's latency is not the generator's queue for the same core.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { adminClient, benchCustomer } from "./admin.ts";
import { type Child, startChild } from "./children.ts";
import { cpuMeter } from "./cpu.ts";
import { formatProfile, type ProfileSummary, summarizeProfile } from "./cpuprofile.ts";
import { OpenLoopClient, type StepResult, type Target } from "./open-loop.ts";
import { type BenchReport, type Mode, renderMarkdown, renderText, type StepRow, type Targets } from "./proxy-report.ts";
import { directTarget, proxyTarget } from "./targets.ts";

const PROXY_ENTRY = "proxy/src/entry.node.ts";
// `--db postgres` (with `--replicas N`) is the replica benchmark, with options of its own.
if (process.argv.includes("--db") || process.argv.some((a) => a.startsWith("--db=") || a.startsWith("--replicas"))) {
  const { runReplicaBench } = await import("./replicas.ts");
  process.exit(await runReplicaBench());
}
const { values: args } = parseArgs({
  options: {
    rates: { type: "string", default: "500,1000,2000,4000,8000,10000" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    "search-from": { type: "string", default: "4000" },
    "search-step": { type: "string", default: "1000" },
    "search-max": { type: "string", default: "20000" },
    "no-search": { type: "boolean", default: false },
    "p99-bound-ms": { type: "string", default: "50" },
    connections: { type: "string", default: "256" },
    "max-in-flight": { type: "string", default: "4096" },
    "audio-ms": { type: "string", default: "1000" },
    profile: { type: "boolean", default: false },
    entry: { type: "string", default: PROXY_ENTRY },
    pin: { type: "boolean", default: false },
    out: { type: "string", default: "bench-out" },
  },
});

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const rates = args.rates
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const p99BoundMs = Number(args["p99-bound-ms"]);
const maxInFlight = Number(args["max-in-flight"]);
const audioMs = Number(args["audio-ms"]);
const outDir = join(REPO, args.out);
const PAUSE_MS = 750;
/** a WAV header plus 16-bit mono 22,050 Hz samples: what the stub sends and the proxy passes through */
const wavBytes = 44 + Math.round((22050 * audioMs) / 1000) * 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: REPO }).toString().trim() !== "";
    return dirty ? `${head} plus the working tree` : head;
  } catch {
    return "unknown";
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "bench-proxy-"));
const profDir = join(outDir, "proxy-cpuprofile");
const adminToken = randomBytes(16).toString("hex");
const children: Child[] = [];
const client = new OpenLoopClient(Number(args.connections));

async function main(): Promise<number> {
  mkdirSync(outDir, { recursive: true });
  if (args.profile) {
    rmSync(profDir, { recursive: true, force: true });
    mkdirSync(profDir, { recursive: true });
  }
  const loadBefore = loadavg();

  const stub = await startChild(
    "stub",
    ["--import", "tsx", "proxy/bench/stub-upstream.ts", "--audio-ms", String(audioMs)],
    { cwd: REPO, ready: /stub listening on (http:\/\/127\.0\.0\.1:\d+)/ },
  );
  children.push(stub);
  const proxy = await startChild(
    "proxy",
    [...(args.profile ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : []), "--import", "tsx", args.entry],
    {
      cwd: REPO,
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: dataDir,
        GPU_NODES: stub.ready,
        ADMIN_TOKEN: adminToken,
        // One client IP sends everything: the per-IP limiter still runs on every request but never refuses.
        IP_RATE_PER_SECOND: "1000000000",
        IP_BURST: "1000000000",
        SQLITE_SYNCHRONOUS: "NORMAL",
      },
      ready: /proxy listening on (http:\/\/127\.0\.0\.1:\d+)/,
    },
  );
  children.push(proxy);
  const proxyUrl = proxy.ready;
  if (args.pin) pinCpus(proxy.proc.pid ?? 0, [stub.proc.pid ?? 0, process.pid]);
  log(`stub ${stub.ready} (pid ${stub.proc.pid}), proxy ${proxyUrl} (pid ${proxy.proc.pid}), data ${dataDir}`);

  // A customer on a plan whose limits never bind, so key lookup, key rate limit and in-flight limit all run.
  const customer = await benchCustomer(adminClient(proxyUrl, adminToken));
  const { key } = customer;

  const targets: Record<Mode, Target> = {
    direct: directTarget(stub.ready, wavBytes),
    proxy: proxyTarget(proxyUrl, key, wavBytes),
  };

  let proxy200 = 0;
  const ids200 = new Set<string>();
  for (const mode of ["direct", "proxy"] as const) {
    const r = await client.once(targets[mode]);
    if (r.status !== 200 || r.bytes !== wavBytes) throw new Error(`smoke ${mode}: ${r.status}, ${r.bytes} bytes`);
    if (mode === "proxy") {
      proxy200++;
      log(
        `smoke: proxy 200, ${r.bytes} bytes, x-tokens ${r.headers["x-tokens"]}, x-amount-micros ${r.headers["x-amount-micros"]}`,
      );
    }
  }

  const steps: StepRow[] = [];
  const step = async (mode: Mode, rate: number, phase: StepRow["phase"], ms = durationMs): Promise<StepRow> => {
    const meter = cpuMeter({ generator: "self", proxy: proxy.proc.pid ?? 0, stub: stub.proc.pid ?? 0 });
    const r: StepResult = await client.run(targets[mode], {
      rate,
      durationMs: ms,
      maxInFlight,
      requestTimeoutMs: 10_000,
    });
    const cpu = meter();
    if (mode === "proxy") {
      proxy200 += r.http200;
      for (const id of r.ids200) ids200.add(id);
    }
    const { histograms: _h, ids200: _ids, ...result } = r;
    const row: StepRow = {
      phase,
      mode,
      ...result,
      cpu,
      sustained: r.achievedRps >= 0.99 * rate && r.errorCount === 0 && r.dropped === 0 && r.latency.p99 < p99BoundMs,
    };
    if (phase !== "warmup") steps.push(row);
    const cores = (name: string) => ((cpu.processes[name] ?? 0) / cpu.wallMs).toFixed(2);
    log(
      `${phase.padEnd(6)} ${mode.padEnd(6)} ${String(rate).padStart(6)}/s  achieved ${r.achievedRps.toFixed(0).padStart(6)}  ` +
        `p50 ${r.latency.p50.toFixed(3)}  p99 ${r.latency.p99.toFixed(3)}  max ${r.latency.max.toFixed(1)} ms  ` +
        `err ${r.errorCount} drop ${r.dropped}  cores: proxy ${cores("proxy")} stub ${cores("stub")} gen ${cores("generator")} ` +
        `machine ${(cpu.machineBusyMs / cpu.wallMs).toFixed(2)}${row.sustained ? "" : "  (not sustained)"}`,
    );
    await sleep(row.sustained ? PAUSE_MS : 2 * PAUSE_MS);
    return row;
  };

  // Warm-up: JIT, connection pools, SQLite page cache, on both paths.
  for (const rate of [1000, 4000])
    for (const mode of ["direct", "proxy"] as const) await step(mode, rate, "warmup", warmupMs);

  // Direct and through the proxy, alternating, at each rate.
  for (const rate of rates) for (const mode of ["direct", "proxy"] as const) await step(mode, rate, "rate");

  // The highest sustained rate through the proxy: step up until a step fails, then bisect twice.
  let best = 0;
  if (!args["no-search"]) {
    const from = Number(args["search-from"]);
    const by = Number(args["search-step"]);
    let fail = Number.POSITIVE_INFINITY;
    for (let rate = from; rate <= Number(args["search-max"]); rate += by) {
      if ((await step("proxy", rate, "search")).sustained) best = rate;
      else {
        fail = rate;
        break;
      }
    }
    if (best === 0) {
      for (let rate = from - by; rate > 0; rate -= by) {
        if ((await step("proxy", rate, "search")).sustained) {
          best = rate;
          break;
        }
        fail = rate;
      }
    }
    let lo = best;
    let hi = fail;
    for (let i = 0; i < 2 && Number.isFinite(hi); i++) {
      const mid = Math.round((lo + hi) / 2 / 250) * 250;
      if (mid <= lo || mid >= hi) break;
      if ((await step("proxy", mid, "search")).sustained) lo = mid;
      else hi = mid;
    }
    best = lo;
  }

  // Stop the proxy cleanly (SIGTERM: it closes the server, flushes the ledger and closes SQLite), then count rows.
  const proxyExit = await proxy.stop(30_000);
  const stubExit = await stub.stop();
  const durable = args.entry === PROXY_ENTRY ? countRows(customer.id, ids200, proxy200) : null;

  let profile: ProfileSummary | null = null;
  if (args.profile) {
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    if (file) {
      profile = summarizeProfile(join(profDir, file), 20);
      writeFileSync(join(outDir, "proxy-profile.txt"), `${formatProfile(profile)}\n`);
    } else log(`no .cpuprofile written in ${profDir}`);
  }

  const rateRows = steps.filter((s) => s.phase === "rate");
  const at = (mode: Mode, rate: number) => rateRows.find((s) => s.mode === mode && s.rate === rate);
  const d2k = at("direct", 2000);
  const p2k = at("proxy", 2000);
  const targetsMet: Targets = {
    addedP50At2k: d2k && p2k ? p2k.latency.p50 - d2k.latency.p50 : null,
    addedP99At2k: d2k && p2k ? p2k.latency.p99 - d2k.latency.p99 : null,
    highestSustained: args["no-search"] ? null : best,
    durable,
  };
  const report: BenchReport = {
    command: `npm run bench:proxy${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    when: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      node: process.version,
      loadAverageBefore: loadBefore,
      commit: gitCommit(),
    },
    settings: {
      durationS: durationMs / 1000,
      warmupS: warmupMs / 1000,
      connections: Number(args.connections),
      maxInFlight,
      p99BoundMs,
      audioMs,
      wavBytes,
      profiled: args.profile,
      entry: args.entry,
      pinned: args.pin,
    },
    steps,
    targets: targetsMet,
    exits: { proxy: proxyExit, stub: stubExit },
    profile,
  };
  writeFileSync(join(outDir, "proxy.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, "proxy.md"), renderMarkdown(report));
  console.log(renderText(report));
  if (profile) console.log(`\n${formatProfile(profile)}`);
  console.log(`\nwrote ${join(args.out, "proxy.json")} and ${join(args.out, "proxy.md")}`);
  return (durable === null || durable.equal) && proxyExit === "0" ? 0 : 1;
}

/** The proxy (all its threads) on CPU 0; the others on the remaining CPUs. */
function pinCpus(proxyPid: number, others: number[]): void {
  const n = cpus().length;
  if (n < 2) throw new Error("--pin needs at least 2 CPUs");
  execFileSync("taskset", ["-a", "-p", "-c", "0", String(proxyPid)], { stdio: "ignore" });
  for (const pid of others) execFileSync("taskset", ["-a", "-p", "-c", `1-${n - 1}`, String(pid)], { stdio: "ignore" });
  log(`pinned: proxy on CPU 0, stub and generator on CPU 1-${n - 1}`);
}

/** Every 200 the generator saw must have its row (the smoke request's id is not collected: one row more). */
function countRows(customerId: string, ids200: Set<string>, proxy200: number): NonNullable<Targets["durable"]> {
  const db = new Database(join(dataDir, "proxy.db"), { readonly: true, fileMustExist: true });
  const stored = new Set(
    (
      db.prepare("SELECT request_id AS id FROM usage_events WHERE customer_id = ?").all(customerId) as { id: string }[]
    ).map((r) => r.id),
  );
  db.close();
  const rows = stored.size;
  const missing = [...ids200].filter((id) => !stored.has(id)).length;
  const withoutResponse = Math.max(0, rows - 1 - ids200.size);
  return { rows, proxy200, missing, withoutResponse, equal: missing === 0 };
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(e);
  for (const c of children) console.error(c.output().slice(-4000));
  process.exitCode = 1;
} finally {
  await client.close();
  for (const c of children) await c.stop(5_000);
  rmSync(dataDir, { recursive: true, force: true });
}
