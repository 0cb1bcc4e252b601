/**
 * Crash scenarios on real processes over loopback: the proxy (Node entry, SQLite in a scratch DATA_DIR) and stand-in
 * GPU nodes are children that get SIGKILLed under load. The ledger is then read straight from SQLite and reconciled
 * against the answers clients got, by request id: a 200 without its usage row is money lost; two rows for one
 * request are a double charge (the UNIQUE request id makes it impossible; it is checked all the same).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

const ADMIN = "resilience-admin-token-0123456789";

export interface CrashResult {
  scenario: string;
  sent: number;
  ok: number;
  /** 5xx answers other than load shedding (503 with Retry-After) */
  serverErrors: number;
  /** connection errors while a process was being killed (expected: the process is gone) */
  killWindowErrors: number;
  /** connection errors at any other time */
  connectionErrors: number;
  lost: number;
  doubled: number;
  /** rows whose request got no 200 (charged, answer cut by the kill): reported, not a failure */
  unanswered: number;
  findings: string[];
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function spawnUntil(
  script: string,
  env: Record<string, string>,
  pattern: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${out}`)), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve({ child, match });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${out}`));
    });
    child.stderr?.resume();
  });
}

export const killed = (child: ChildProcess, signal: NodeJS.Signals = "SIGKILL") =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });

export async function stubNode(delayMs: number): Promise<{ url: string; child: ChildProcess }> {
  const { child, match } = await spawnUntil(
    "proxy/src/testing/stub-node-main.ts",
    { STUB_DELAY_MS: String(delayMs), STUB_AUDIO_MS: "1000" },
    /stub listening on (http:\/\/\S+)/,
  );
  return { url: match[1] ?? "", child };
}

export interface Proxy {
  url: string;
  dataDir: string;
  port: number;
  nodes: string;
  child: ChildProcess;
}

export async function startProxy(p: Omit<Proxy, "child" | "url">): Promise<Proxy> {
  const { child } = await spawnUntil(
    "proxy/src/entry.node.ts",
    {
      PORT: String(p.port),
      DATA_DIR: p.dataDir,
      ADMIN_TOKEN: ADMIN,
      GPU_NODES: p.nodes,
      IP_RATE_PER_SECOND: "100000",
      IP_BURST: "100000",
      JOBS_ALLOW_HTTP_CALLBACKS: "true",
    },
    /proxy listening on/,
  );
  return { ...p, child, url: `http://127.0.0.1:${p.port}` };
}

async function admin(url: string, path: string, body: unknown = {}) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

export async function customer(url: string, plan: string): Promise<{ id: string; key: string }> {
  const created = (await admin(url, "/admin/customers", { name: "R", email: "r@example.com", plan_id: plan }))
    .customer as { id: string };
  const key = (await admin(url, `/admin/customers/${created.id}/keys`)).key as string;
  return { id: created.id, key };
}

/** Closed-loop load of /v1/tts until `stop()`: records every answer's status and request id. */
function load(getUrl: () => string, key: string, lanes: number) {
  const answers: { status: number; requestId: string | null }[] = [];
  const errors: { at: number; error: string }[] = [];
  let running = true;
  const lane = async () => {
    while (running) {
      try {
        const res = await fetch(`${getUrl()}/v1/tts`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ text: "resilience under load", voice: 0 }),
          signal: AbortSignal.timeout(60_000),
        });
        await res.arrayBuffer();
        answers.push({ status: res.status, requestId: res.headers.get("x-request-id") });
      } catch (e) {
        errors.push({ at: Date.now(), error: String(e) });
        await new Promise((r) => setTimeout(r, 20)); // the proxy is down: do not spin
      }
    }
  };
  const done = Promise.all(Array.from({ length: lanes }, lane));
  return {
    answers,
    errors,
    async stop() {
      running = false;
      await done;
    },
  };
}

const untilCount = async (count: () => number, n: number, deadlineMs = 120_000) => {
  const end = Date.now() + deadlineMs;
  while (count() < n) {
    if (Date.now() > end) throw new Error(`only ${count()} of ${n} in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

function reconcile(
  scenario: string,
  dataDir: string,
  customerId: string,
  l: ReturnType<typeof load>,
  killWindows: { from: number; to: number }[],
): CrashResult {
  const db = new Database(join(dataDir, "proxy.db"), { readonly: true });
  const rows = db.prepare("select request_id as id from usage_events where customer_id = ?").all(customerId) as {
    id: string;
  }[];
  db.close();
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  const ok = l.answers.filter((a) => a.status === 200);
  const okIds = new Set(ok.map((a) => a.requestId));
  const lost = ok.filter((a) => !a.requestId || !counts.has(a.requestId));
  const inWindow = (at: number) => killWindows.some((w) => at >= w.from && at <= w.to);
  const serverErrors = l.answers.filter((a) => a.status >= 500 && a.status !== 503);
  return {
    scenario,
    sent: l.answers.length + l.errors.length,
    ok: ok.length,
    serverErrors: serverErrors.length,
    killWindowErrors: l.errors.filter((e) => inWindow(e.at)).length,
    connectionErrors: l.errors.filter((e) => !inWindow(e.at)).length,
    lost: lost.length,
    doubled: [...counts.values()].filter((n) => n > 1).length,
    unanswered: rows.filter((r) => !okIds.has(r.id)).length,
    findings: [
      ...lost.slice(0, 5).map((a) => `200 without a usage row: ${a.requestId}`),
      ...serverErrors.slice(0, 5).map((a) => `${a.status} for ${a.requestId}`),
      ...l.errors
        .filter((e) => !inWindow(e.at))
        .slice(0, 3)
        .map((e) => e.error),
    ],
  };
}

/** kill -9 of the proxy under load, `kills` times; each time it is started again on the same database. */
export async function proxyKilledUnderLoad(kills: number): Promise<CrashResult> {
  const node = await stubNode(30);
  const dataDir = mkdtempSync(join(tmpdir(), "resilience-proxy-"));
  let proxy = await startProxy({ dataDir, port: await freePort(), nodes: node.url });
  const c = await customer(proxy.url, "enterprise");
  const l = load(() => proxy.url, c.key, 8);
  const windows: { from: number; to: number }[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      await untilCount(() => l.answers.length, (k + 1) * 60);
      const from = Date.now();
      await killed(proxy.child);
      proxy = await startProxy({ dataDir, port: proxy.port, nodes: node.url });
      windows.push({ from, to: Date.now() + 2_000 });
    }
    await untilCount(() => l.answers.length, (kills + 1) * 60 + 30);
  } finally {
    await l.stop();
    await killed(proxy.child, "SIGTERM");
    await killed(node.child);
  }
  return reconcile("proxy kill -9 under load", dataDir, c.id, l, windows);
}

/** One of two nodes SIGKILLed under load: requests move to the other; nothing lost, no 5xx but shedding. */
export async function nodeKilledUnderLoad(): Promise<CrashResult> {
  const [a, b] = [await stubNode(200), await stubNode(200)];
  const dataDir = mkdtempSync(join(tmpdir(), "resilience-node-"));
  const proxy = await startProxy({ dataDir, port: await freePort(), nodes: `${a.url},${b.url}` });
  const c = await customer(proxy.url, "enterprise");
  const l = load(() => proxy.url, c.key, 8);
  try {
    await untilCount(() => l.answers.length, 40);
    await killed(a.child);
    await untilCount(() => l.answers.length, 120);
  } finally {
    await l.stop();
    await killed(proxy.child, "SIGTERM");
    await killed(b.child);
  }
  return reconcile("gpu-node kill -9 under load", dataDir, c.id, l, []);
}

/** A batch job interrupted by kill -9 of the proxy: on restart it finishes, each item charged exactly once. */
export async function jobInterrupted(): Promise<CrashResult> {
  const node = await stubNode(100);
  const dataDir = mkdtempSync(join(tmpdir(), "resilience-job-"));
  let proxy = await startProxy({ dataDir, port: await freePort(), nodes: node.url });
  const c = await customer(proxy.url, "batch");
  const items = 24;
  const findings: string[] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${proxy.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${c.key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await res.json()) as { id?: string; status?: string; counts?: Record<string, number> };
  };
  let status = "";
  let jobId = "";
  try {
    const job = await call("POST", "/v1/jobs", {
      items: Array.from({ length: items }, (_, i) => ({ text: `item ${i} of an interrupted job` })),
    });
    jobId = job.id ?? "";
    // kill once a few items are done, mid-job
    const doneItems = async () => {
      const db = new Database(join(dataDir, "proxy.db"), { readonly: true });
      const n = (db.prepare("select count(*) as n from usage_events where customer_id = ?").get(c.id) as { n: number })
        .n;
      db.close();
      return n;
    };
    const end = Date.now() + 120_000;
    while ((await doneItems()) < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await killed(proxy.child);
    proxy = await startProxy({ dataDir, port: proxy.port, nodes: node.url });
    const until = Date.now() + 300_000;
    for (;;) {
      status = (await call("GET", `/v1/jobs/${jobId}`)).status ?? "";
      if (!["queued", "running"].includes(status) || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await killed(proxy.child, "SIGTERM");
    await killed(node.child);
  }
  if (status !== "succeeded") findings.push(`job ${jobId} ended ${status}`);
  const db = new Database(join(dataDir, "proxy.db"), { readonly: true });
  const rows = db.prepare("select request_id as id from usage_events where customer_id = ?").all(c.id) as {
    id: string;
  }[];
  db.close();
  const distinct = new Set(rows.map((r) => r.id)).size;
  return {
    scenario: "batch job interrupted (proxy kill -9)",
    sent: items,
    ok: distinct,
    serverErrors: 0,
    killWindowErrors: 0,
    connectionErrors: 0,
    lost: Math.max(0, items - distinct) + (findings.length > 0 ? 1 : 0),
    doubled: rows.length - distinct,
    unanswered: 0,
    findings,
  };
}
