/**
 * `npm run dev:edge`: the proxy as a Worker on local workerd (`wrangler dev`, offline settings, local D1, Durable
 * Objects and Queues in .wrangler/state) in front of a local gpu-node (the committed tiny model, random weights).
 * Honours PORT (the Worker, default 8787), GPU_NODE_PORT (default 8001), GPU_NODES (use running nodes instead of
 * starting one) and ADMIN_TOKEN. Ctrl-C stops both.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyLocalMigrations, REPO, startWranglerDev } from "./edge-local.ts";

const port = Number(process.env.PORT ?? 8787);
const nodePort = process.env.GPU_NODE_PORT ?? "8001";
const dataDir = join(REPO, "data");
mkdirSync(dataDir, { recursive: true });
const tokenFile = join(dataDir, "edge-admin-token.txt");
const adminToken =
  process.env.ADMIN_TOKEN ??
  (() => {
    try {
      return readFileSync(tokenFile, "utf8").trim();
    } catch {
      const token = `adm_${randomBytes(16).toString("hex")}`;
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      return token;
    }
  })();

let node: ChildProcess | null = null;
let nodes = process.env.GPU_NODES;
if (!nodes) {
  node = spawn(process.execPath, ["--import", "tsx", "gpu-node/src/entry.node.ts"], {
    cwd: REPO,
    env: { ...process.env, GPU_NODE_PORT: nodePort },
    stdio: "inherit",
  });
  nodes = `http://127.0.0.1:${nodePort}`;
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`${nodes}/healthz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error(`the gpu-node did not start on ${nodes}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

console.log(applyLocalMigrations().trim());
const worker = await startWranglerDev({ port, vars: { GPU_NODES: nodes, ADMIN_TOKEN: adminToken }, echo: true });
const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${worker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return (await res.json()) as Record<string, unknown>;
};
const known = (k: string) =>
  fetch(`${worker.url}/v1/voices`, { headers: { authorization: `Bearer ${k}` } }).then((r) => r.status !== 401);
/** The demo customer of a plan: its key from an earlier run is reused unless .wrangler/state (the local D1) was wiped. */
async function demoKey(planId: string, file: string): Promise<string> {
  let key = (() => {
    try {
      return readFileSync(file, "utf8").trim();
    } catch {
      return "";
    }
  })();
  if (!key || !(await known(key))) {
    const { customer } = (await admin("POST", "/admin/customers", {
      name: `Demo (edge, ${planId})`,
      email: "demo@example.com",
      plan_id: planId,
    })) as { customer: { id: string } };
    key = (await admin("POST", `/admin/customers/${customer.id}/keys`)).key as string;
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
  }
  return key;
}
const keyFile = join(dataDir, "edge-demo-key.txt");
await demoKey("basic", keyFile);
// The batch plan's key, for /v1/jobs (queued on the local jobs Queue, audio in the local R2 bucket).
const batchKeyFile = join(dataDir, "edge-demo-batch-key.txt");
await demoKey("batch", batchKeyFile);
console.log(`\nthe Worker serves ${worker.url} (local workerd; nodes: ${nodes}; admin token in ${tokenFile})`);
console.log(
  `try: curl -s -X POST ${worker.url}/v1/tts -H "Authorization: Bearer $(cat ${keyFile})" -H 'content-type: application/json' -d '{"text":"欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。","emotion":"happy","voice":0}' -o out.wav -D -`,
);
console.log(
  `     curl -s -X POST ${worker.url}/v1/jobs -H "Authorization: Bearer $(cat ${batchKeyFile})" -H 'content-type: application/json' -d '{"text":"第一段。第二段!第三段?","segment_max_chars":40,"voice":0}'`,
);
console.log(`     curl -s "${worker.url}/__scheduled?cron=*+*+*+*+*"   # the cron: a health round on every node`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  node?.kill("SIGTERM");
  await worker.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
worker.child.once("exit", () => void stop());
