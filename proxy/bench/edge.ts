/**
 * Edge benchmark: the latency the proxy adds on local workerd (`wrangler dev`: D1, Durable Objects and the Queue all
 * local) next to the Node proxy (SQLite), against the same fast stub upstream, with the same open-loop generator, in
 * the same run. Then every 200 of each proxy is matched against the usage rows it stored (the Worker's go through
 * the Queue into D1, so the check waits for the consumer).
 *
 *   npm run bench:edge -- [--rates 25,50,100,200] [--duration 5] [--warmup 2] [--out bench-out]
 *
 * Local workerd is not the edge: there every Durable Object call and D1 query crosses the network (and the
 * rate-limit objects live near the first isolate that used them), so these figures are a floor on the compute the
 * Worker adds, not a prediction of production latency.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import {
  applyLocalMigrations,
  queryLocalD1,
  REPO,
  startWranglerDev,
  type WranglerDev,
} from "../../scripts/edge-local.ts";
import { adminClient, benchCustomer } from "./admin.ts";
import { type Child, startChild } from "./children.ts";
import { cpuMeter } from "./cpu.ts";
import { OpenLoopClient, type StepResult, type Target } from "./open-loop.ts";

const { values: args } = parseArgs({
  options: {
    rates: { type: "string", default: "25,50,100,200" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    port: { type: "string", default: "8788" },
    connections: { type: "string", default: "64" },
    out: { type: "string", default: "bench-out" },
  },
});
const rates = args.rates
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const outDir = join(REPO, args.out);
const AUDIO_MS = 1000;
const wavBytes = 44 + Math.round((22050 * AUDIO_MS) / 1000) * 2;
const TEXT = "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。";
const MODES = ["direct", "node", "edge"] as const;
type Mode = (typeof MODES)[number];

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const adminToken = randomBytes(16).toString("hex");
const dataDir = mkdtempSync(join(tmpdir(), "bench-edge-node-"));
const edgeState = mkdtempSync(join(process.env.EDGE_STATE_DIR ?? tmpdir(), "bench-edge-state-"));
const children: Child[] = [];
const running: { edge: WranglerDev | null } = { edge: null };
const client = new OpenLoopClient(Number(args.connections));

/** workerd is wrangler's grandchild: find it by the socket it serves, for CPU accounting. */
function workerdPid(port: number): number {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes("workerd") && cmd.includes(`127.0.0.1:${port}`)) return Number(pid);
    } catch {}
  }
  return 0;
}

/** Limits that never bind: the key lookup and both limiters still run on every request. */
const customerOn = (base: string) => benchCustomer(adminClient(base, adminToken));

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: REPO }).toString().trim() !== "";
    return dirty ? `${head} plus the working tree` : head;
  } catch {
    return "unknown";
  }
}

interface Row {
  phase: "warmup" | "rate";
  mode: Mode;
  rate: number;
  r: Omit<StepResult, "histograms" | "ids200">;
  cores: { target: number; stub: number; generator: number; machine: number };
}

async function main(): Promise<number> {
  mkdirSync(outDir, { recursive: true });
  const loadBefore = loadavg();
  const stub = await startChild(
    "stub",
    ["--import", "tsx", "proxy/bench/stub-upstream.ts", "--audio-ms", String(AUDIO_MS)],
    {
      cwd: REPO,
      ready: /stub listening on (http:\/\/127\.0\.0\.1:\d+)/,
    },
  );
  children.push(stub);
  const generous = { IP_RATE_PER_SECOND: "1000000000", IP_BURST: "1000000000" };
  const node = await startChild("node-proxy", ["--import", "tsx", "proxy/src/entry.node.ts"], {
    cwd: REPO,
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      GPU_NODES: stub.ready,
      ADMIN_TOKEN: adminToken,
      ...generous,
    },
    ready: /proxy listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
  children.push(node);
  applyLocalMigrations(edgeState);
  const edge = await startWranglerDev({
    port: Number(args.port),
    persistTo: edgeState,
    logLevel: "warn",
    vars: { GPU_NODES: stub.ready, ADMIN_TOKEN: adminToken, ROUTING_TTL_MS: "1000", ...generous },
  });
  running.edge = edge;
  const pids = { node: node.proc.pid ?? 0, edge: workerdPid(Number(args.port)), stub: stub.proc.pid ?? 0 };
  log(`stub ${stub.ready}, node proxy ${node.ready}, edge (wrangler dev) ${edge.url}; pids ${JSON.stringify(pids)}`);

  const nodeCustomer = await customerOn(node.ready);
  const edgeCustomer = await customerOn(edge.url);
  const tts = (origin: string, key: string): Target => ({
    origin,
    path: "/v1/tts",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ text: TEXT, voice: 0, emotion: "happy" }),
    expectBytes: wavBytes,
    collectRequestIds: true,
  });
  const targets: Record<Mode, Target> = {
    direct: {
      origin: stub.ready,
      path: "/synthesize",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: TEXT, speaker_id: 0, speed: 1, emotion: "happy", priority: "interactive" }),
      expectBytes: wavBytes,
    },
    node: tts(node.ready, nodeCustomer.key),
    edge: tts(edge.url, edgeCustomer.key),
  };
  const ids: Record<"node" | "edge", Set<string>> = { node: new Set(), edge: new Set() };
  for (const mode of MODES) {
    const r = await client.once(targets[mode]);
    if (r.status !== 200 || r.bytes !== wavBytes) throw new Error(`smoke ${mode}: ${r.status}, ${r.bytes} bytes`);
    if (mode !== "direct") ids[mode].add(r.headers["x-request-id"] ?? "");
  }

  const rows: Row[] = [];
  const step = async (mode: Mode, rate: number, phase: Row["phase"], ms: number) => {
    const meter = cpuMeter({ generator: "self", target: mode === "direct" ? 0 : pids[mode], stub: pids.stub });
    const result = await client.run(targets[mode], {
      rate,
      durationMs: ms,
      maxInFlight: 4096,
      requestTimeoutMs: 10_000,
    });
    const cpu = meter();
    if (mode !== "direct") for (const id of result.ids200) ids[mode].add(id);
    const { histograms: _h, ids200: _i, ...r } = result;
    const share = (name: string) => (cpu.processes[name] ?? 0) / cpu.wallMs;
    const row: Row = {
      phase,
      mode,
      rate,
      r,
      cores: {
        target: share("target"),
        stub: share("stub"),
        generator: share("generator"),
        machine: cpu.machineBusyMs / cpu.wallMs,
      },
    };
    if (phase === "rate") rows.push(row);
    log(
      `${phase.padEnd(6)} ${mode.padEnd(6)} ${String(rate).padStart(4)}/s achieved ${r.achievedRps.toFixed(0).padStart(4)} ` +
        `p50 ${r.latency.p50.toFixed(2)} p99 ${r.latency.p99.toFixed(2)} max ${r.latency.max.toFixed(1)} ms ` +
        `err ${r.errorCount} ${JSON.stringify(r.errors)} cores target ${row.cores.target.toFixed(2)} machine ${row.cores.machine.toFixed(2)}`,
    );
    await sleep(500);
  };
  for (const mode of MODES) await step(mode, rates[0] ?? 25, "warmup", warmupMs);
  // Interleaved per rate, so drift in the machine's load hits the three alike.
  for (const rate of rates) for (const mode of MODES) await step(mode, rate, "rate", durationMs);

  // Durable rows: the Node proxy's in SQLite (after a clean stop), the Worker's in local D1 once the Queue drained.
  const edgeRows = async () => {
    const res = await fetch(`${edge.url}/admin/usage?from=0`, { headers: { authorization: `Bearer ${adminToken}` } });
    const { totals } = (await res.json()) as { totals: { events: number }[] };
    return totals.reduce((a, t) => a + t.events, 0);
  };
  const drainDeadline = Date.now() + 60_000;
  while ((await edgeRows()) < ids.edge.size && Date.now() < drainDeadline) await sleep(500);
  await edge.stop();
  const edgeStored = new Set(
    queryLocalD1<{ id: string }>("select request_id as id from usage_events", edgeState).map((r) => r.id),
  );
  const edgeMissing = [...ids.edge].filter((id) => !edgeStored.has(id)).length;
  await node.stop(30_000);
  const db = new Database(join(dataDir, "proxy.db"), { readonly: true, fileMustExist: true });
  const nodeStored = new Set(
    (db.prepare("SELECT request_id AS id FROM usage_events").all() as { id: string }[]).map((r) => r.id),
  );
  db.close();
  const nodeMissing = [...ids.node].filter((id) => !nodeStored.has(id)).length;

  const at = (mode: Mode, rate: number) => rows.find((x) => x.mode === mode && x.rate === rate);
  const ms = (v: number) => v.toFixed(2);
  const lines = [
    `Command: \`npm run bench:edge${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}\``,
    `When: ${new Date().toISOString()}; commit ${gitCommit()}; ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; Node ${process.version}; load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}.`,
    `Each step ${durationMs / 1000} s at a fixed arrival rate (open loop, latency from the intended send time); stub answers a ${AUDIO_MS} ms WAV (${wavBytes} bytes) at once; auth, per-IP and per-key limits, metering and the durable usage write on in both proxies.`,
    "",
    "| rate/s | direct p50 / p99 ms | Node proxy p50 / p99 ms | edge (local workerd) p50 / p99 ms | added p50 Node / edge ms | added p99 Node / edge ms | errors (Node / edge) | workerd cores |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const rate of rates) {
    const d = at("direct", rate);
    const n = at("node", rate);
    const e = at("edge", rate);
    if (!d || !n || !e) continue;
    lines.push(
      `| ${rate} | ${ms(d.r.latency.p50)} / ${ms(d.r.latency.p99)} | ${ms(n.r.latency.p50)} / ${ms(n.r.latency.p99)} | ` +
        `${ms(e.r.latency.p50)} / ${ms(e.r.latency.p99)} | ${ms(n.r.latency.p50 - d.r.latency.p50)} / ${ms(e.r.latency.p50 - d.r.latency.p50)} | ` +
        `${ms(n.r.latency.p99 - d.r.latency.p99)} / ${ms(e.r.latency.p99 - d.r.latency.p99)} | ${n.r.errorCount} / ${e.r.errorCount} | ${e.cores.target.toFixed(2)} |`,
    );
  }
  lines.push(
    "",
    `Usage rows: Node proxy ${ids.node.size} answered 200, ${nodeStored.size} rows in SQLite, ${nodeMissing} answered without a row; ` +
      `edge ${ids.edge.size} answered 200, ${edgeStored.size} rows in D1 after the Queue drained, ${edgeMissing} answered without a row ` +
      "(a row without a 200 is a request the client gave up on after its usage was recorded, as on Node after a crash).",
  );
  const md = `${lines.join("\n")}\n`;
  writeFileSync(join(outDir, "edge.md"), md);
  writeFileSync(
    join(outDir, "edge.json"),
    `${JSON.stringify({ rows, ids: { node: ids.node.size, edge: ids.edge.size }, edgeStored: edgeStored.size, nodeStored: nodeStored.size }, null, 2)}\n`,
  );
  console.log(md);
  return nodeMissing === 0 && edgeMissing === 0 ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(e);
  for (const c of children) console.error(c.output().slice(-3000));
  if (running.edge) console.error(running.edge.output().slice(-3000));
  process.exitCode = 1;
} finally {
  await client.close();
  await running.edge?.stop();
  for (const c of children) await c.stop(5_000);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(edgeState, { recursive: true, force: true });
}
