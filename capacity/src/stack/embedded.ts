/**
 * The embedded stack the capacity tool measures when no --target is given: a gpu-node child process with the
 * committed tiny model (RANDOM weights) and a proxy child process (SQLite in a temporary folder) in front of it,
 * both on 127.0.0.1 with ports chosen by the OS. A customer on a plan whose limits never bind gets a key, so the
 * load test measures the stack's capacity rather than its rate limits (the per-IP limit is raised for the same
 * reason: every request comes from 127.0.0.1).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Child, startChild } from "../../../proxy/bench/children.ts";

export interface EmbeddedStack {
  proxyUrl: string;
  nodeUrl: string;
  apiKey: string;
  adminToken: string;
  description: string;
  stop(): Promise<void>;
}

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

export interface EmbeddedOptions {
  maxBatch?: number;
  intraOpThreads?: number;
  model?: string;
}

export async function adminRequest(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: res.status, json };
}

export async function startEmbeddedStack(o: EmbeddedOptions = {}): Promise<EmbeddedStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "capacity-stack-"));
  const adminToken = randomBytes(16).toString("hex");
  const children: Child[] = [];
  // If this process dies without stopping the stack, its children go with it.
  const killAll = () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
  };
  process.once("exit", killAll);
  const stop = async () => {
    for (const c of [...children].reverse()) await c.stop(5000);
    process.off("exit", killAll);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const node = await startChild(
      "gpu-node",
      [
        "--import",
        "tsx",
        "gpu-node/src/entry.node.ts",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--max-batch",
        String(o.maxBatch ?? 16),
        ...(o.intraOpThreads ? ["--intra-op-threads", String(o.intraOpThreads)] : []),
        ...(o.model ? ["--model", o.model] : []),
      ],
      { cwd: REPO, ready: /gpu-node listening on (http:\/\/127\.0\.0\.1:\d+)/, timeoutMs: 60_000 },
    );
    children.push(node);
    const proxy = await startChild("proxy", ["--import", "tsx", "proxy/src/entry.node.ts"], {
      cwd: REPO,
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: dataDir,
        GPU_NODES: node.ready,
        ADMIN_TOKEN: adminToken,
        IP_RATE_PER_SECOND: "1000000",
        IP_BURST: "1000000",
      },
      ready: /proxy listening on (http:\/\/127\.0\.0\.1:\d+)/,
      timeoutMs: 60_000,
    });
    children.push(proxy);
    const admin = (method: string, path: string, body?: unknown) =>
      adminRequest(proxy.ready, adminToken, method, path, body);
    const plan = await admin("PUT", "/admin/plans/capacity-test", {
      kind: "basic",
      name: "Capacity test (limits that never bind)",
      currency: "USD",
      time_zone: "UTC",
      requests_per_second: 1e6,
      burst: 1e6,
      max_in_flight: 100_000,
    });
    if (plan.status !== 200) throw new Error(`cannot create the test plan: ${JSON.stringify(plan.json)}`);
    await admin("POST", "/admin/plans/capacity-test/prices", { unit_price_micros_per_1k_tokens: 0 });
    const customer = await admin("POST", "/admin/customers", {
      name: "Capacity test",
      email: "capacity@example.com",
      plan_id: "capacity-test",
    });
    const id = (customer.json.customer as { id?: string } | undefined)?.id;
    if (!id) throw new Error(`cannot create the test customer: ${JSON.stringify(customer.json)}`);
    const key = await admin("POST", `/admin/customers/${id}/keys`);
    await new Promise((r) => setTimeout(r, 20)); // the price version is in force from "now"
    return {
      proxyUrl: proxy.ready,
      nodeUrl: node.ready,
      apiKey: String(key.json.key),
      adminToken,
      description: `embedded stack: gpu-node ${node.ready} (${o.model ?? "gpu-node/models/tiny"}, max batch ${o.maxBatch ?? 16}) behind proxy ${proxy.ready} (SQLite in a temporary folder, per-IP limit raised)`,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
