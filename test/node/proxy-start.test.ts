import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { measureWav } from "../../audio/wav.ts";

const run = promisify(execFile);
const ADMIN = "start-test-admin-token-0123456789";

/** A port that was free a moment ago (the stack binds fixed ports: the node's and the proxy's). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** `npm start`'s script, as the README runs it, until it prints its curl line. */
async function start(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${out}`)), 90_000);
    const check = () => {
      if (/^try: curl .*$/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
  });
  return { child, output: () => out };
}

const stopped = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGINT"); // Ctrl-C: the script stops the node and the proxy
  });

describe("npm start (proxy + one gpu-node, tiny model, SQLite in DATA_DIR)", () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) await stopped(c);
  });

  it("honours PORT, DATA_DIR and ADMIN_TOKEN, creates the demo customer, and its printed curl line returns a WAV", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "start-"));
    const [port, nodePort] = [await freePort(), await freePort()];
    const env = { PORT: String(port), DATA_DIR: dataDir, ADMIN_TOKEN: ADMIN, GPU_NODE_PORT: String(nodePort) };
    const first = await start(env);
    children.push(first.child);
    const out = first.output();
    expect(out).toContain(`proxy listening on http://127.0.0.1:${port}`);
    const printedKey = /demo customer created; its API key[^\n]*\n\s+(tts_live_\w+)/.exec(out)?.[1];
    expect(printedKey).toMatch(/^tts_live_[0-9A-Za-z]{32}$/);
    expect(readFileSync(join(dataDir, "demo-key.txt"), "utf8").trim()).toBe(printedKey);

    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string };
    expect(health.status).toBe("ok");
    // The batch queue's state on /metrics (the SQLite queue's own counts): empty, every state shown.
    const metrics = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text();
    expect(metrics).toMatch(/^proxy_jobs\{state="queued"\} 0$/m);
    expect(metrics).toMatch(/^proxy_job_items\{state="dead_lettered"\} 0$/m);

    // The curl line exactly as printed, run by a shell in a scratch directory.
    const line = (/^try: (curl .*)$/m.exec(out)?.[1] ?? "").trim();
    const cwd = mkdtempSync(join(tmpdir(), "curl-"));
    const { stdout: head } = await run("bash", ["-c", line], { cwd, timeout: 60_000 });
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/content-type: audio\/wav/i);
    const measured = measureWav(new Uint8Array(readFileSync(join(cwd, "out.wav"))));
    if (!measured.ok) throw new Error(measured.reason);
    const duration = Number(/x-audio-duration-ms: (\d+)/i.exec(head)?.[1]);
    expect(Math.round(measured.wav.durationMs)).toBe(duration);
    expect(Number(/x-tokens: (\d+)/i.exec(head)?.[1])).toBe(Math.round((duration / 1000) * 50));

    // ADMIN_TOKEN guards the admin API; the demo customer is on the basic plan
    const customers = await fetch(`http://127.0.0.1:${port}/admin/customers`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const listed = (await customers.json()) as { customers: { id: string; planId: string }[] };
    expect(listed.customers.find((c) => c.id === "cus_demo")?.planId).toBe("basic");
    expect((await fetch(`http://127.0.0.1:${port}/admin/customers`)).status).toBe(401);

    // Supervision (issue 14 #10): the proxy killed with SIGKILL is started again; the gpu-node keeps running.
    const pidOf = (name: string) =>
      Number([...first.output().matchAll(new RegExp(`${name} started \\(pid (\\d+)\\)`, "g"))].at(-1)?.[1]);
    const [nodePid, proxyPid] = [pidOf("gpu-node"), pidOf("proxy")];
    expect(proxyPid).toBeGreaterThan(0);
    process.kill(proxyPid, "SIGKILL");
    const listening = () => first.output().split(`proxy listening on http://127.0.0.1:${port}`).length - 1;
    const back = Date.now() + 90_000;
    while (listening() < 2 && Date.now() < back) await new Promise((r) => setTimeout(r, 50));
    expect(pidOf("proxy")).not.toBe(proxyPid);
    expect(pidOf("gpu-node")).toBe(nodePid);
    expect(() => process.kill(nodePid, 0)).not.toThrow();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${nodePort}/healthz`)).status).toBe(200);

    // A restart on the same DATA_DIR keeps the customer, its key and its usage, and makes no new demo key.
    await stopped(first.child);
    const second = await start(env);
    children.push(second.child);
    expect(second.output()).not.toContain("demo customer created");
    const usage = await fetch(`http://127.0.0.1:${port}/v1/usage`, { headers: { "x-api-key": printedKey ?? "" } });
    const body = (await usage.json()) as { totals: { requests: number }[] };
    expect(body.totals[0]?.requests).toBe(1);
  });
});
