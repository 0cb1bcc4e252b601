/**
 * CPU time per request of a proxy process: the number that survives a shared machine (another process's load makes
 * latency meaningless but does not add to this process's own CPU time). Starts the stub node and a proxy entry, sets
 * up a customer whose limits never bind, warms up, then drives POST /v1/tts closed-loop and reads the proxy's CPU
 * time from /proc.
 *
 *   tsx proxy/bench/cpu-per-request.ts [--entry proxy/src/entry.node.ts] [--cwd DIR] [--seconds 8] [--connections 32]
 *
 * `--entry proxy/bench/relay.ts` measures the bare relay; `--cwd` runs another checkout's proxy (e.g. a git worktree
 * of an earlier commit), so before/after/relay can be interleaved in one session.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { adminClient, benchCustomer } from "./admin.ts";
import { type Child, startChild } from "./children.ts";
import { cpuMeter } from "./cpu.ts";

const { values: args } = parseArgs({
  options: {
    entry: { type: "string", default: "proxy/src/entry.node.ts" },
    cwd: { type: "string" },
    seconds: { type: "string", default: "8" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
  },
});
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "cpu-per-request-"));
const adminToken = randomBytes(16).toString("hex");
const children: Child[] = [];

async function main(): Promise<void> {
  const stub = await startChild("stub", ["--import", "tsx", "proxy/bench/stub-upstream.ts"], {
    cwd: REPO,
    ready: /stub listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
  children.push(stub);
  const proxy = await startChild("proxy", ["--import", "tsx", args.entry], {
    cwd: args.cwd ?? REPO,
    env: {
      PORT: "0",
      DATA_DIR: dataDir,
      GPU_NODES: stub.ready,
      ADMIN_TOKEN: adminToken,
      IP_RATE_PER_SECOND: "1000000000",
      IP_BURST: "1000000000",
    },
    ready: /proxy listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
  children.push(proxy);
  const { key } = await benchCustomer(adminClient(proxy.ready, adminToken));

  const pool = new Pool(proxy.ready, { connections: Number(args.connections), pipelining: 1 });
  const body = JSON.stringify({
    text: "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。",
    voice: 0,
    emotion: "happy",
  });
  const drive = async (ms: number) => {
    const until = performance.now() + ms;
    let ok = 0;
    let bad = 0;
    await Promise.all(
      Array.from({ length: Number(args.connections) }, async () => {
        while (performance.now() < until) {
          const res = await pool.request({
            method: "POST",
            path: "/v1/tts",
            headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
            body,
          });
          await res.body.dump({ limit: Number.POSITIVE_INFINITY });
          if (res.statusCode === 200) ok++;
          else bad++;
        }
      }),
    );
    return { ok, bad };
  };
  await drive(Number(args.warmup) * 1000);
  const load = loadavg()[0] ?? 0;
  const meter = cpuMeter({ proxy: proxy.proc.pid ?? 0 });
  const { ok, bad } = await drive(Number(args.seconds) * 1000);
  const cpu = meter();
  await pool.close();
  const proxyMs = cpu.processes.proxy ?? 0;
  console.log(
    `${args.entry}${args.cwd ? ` in ${args.cwd}` : ""}: ${((ok * 1000) / cpu.wallMs).toFixed(0)} req/s, ` +
      `proxy ${(proxyMs / cpu.wallMs).toFixed(2)} cores, ${((proxyMs * 1000) / Math.max(1, ok)).toFixed(0)} µs CPU per ` +
      `request, ${bad} not 200, machine ${(cpu.machineBusyMs / cpu.wallMs).toFixed(2)} cores busy, load ${load.toFixed(2)}`,
  );
}

try {
  await main();
} catch (e) {
  console.error(e);
  for (const c of children) console.error(c.output().slice(-2000));
  process.exitCode = 1;
} finally {
  for (const c of children) await c.stop(5_000);
  rmSync(dataDir, { recursive: true, force: true });
}
