/**
 * `npm start`: the whole stack on embedded defaults — one gpu-node (committed tiny model, random weights) and the
 * proxy (SQLite in DATA_DIR) — as two supervised child processes (./supervisor.ts): a child that crashes or is
 * killed is restarted with backoff while the other keeps running. SIGTERM or Ctrl-C drains: the proxy first (no new
 * requests, in-flight ones finished, usage flushed), then the node, then this script exits.
 * Honours PORT (the proxy), DATA_DIR, ADMIN_TOKEN, GPU_NODE_PORT (default 8001) and GPU_NODE_MODEL.
 */
import { NODE_MALLOC_ENV } from "../gpu-node/src/adapters/malloc-env.ts";
import { Supervisor } from "./supervisor.ts";

const nodePort = process.env.GPU_NODE_PORT ?? "8001";
const tsx = (script: string) => ["--import", "tsx", script];
const supervisor = new Supervisor({ log: (m) => console.error(`npm start: ${m}`) });

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  console.error("npm start: draining the proxy, then the gpu-node");
  await supervisor.stop({ order: ["proxy", "gpu-node"], deadlineMs: 60_000 });
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

supervisor.start({
  name: "gpu-node",
  command: process.execPath,
  args: tsx("gpu-node/src/entry.node.ts"),
  // glibc settings that let the node's RSS return to idle after long requests (gpu-node/src/adapters/malloc-env.ts)
  env: { ...NODE_MALLOC_ENV, GPU_NODE_PORT: nodePort },
});
// The proxy waits for the node's /healthz so its first requests have somewhere to go.
const deadline = Date.now() + 60_000;
while (Date.now() < deadline && !stopping) {
  const ok = await fetch(`http://127.0.0.1:${nodePort}/healthz`)
    .then((r) => r.ok)
    .catch(() => false);
  if (ok) break;
  await new Promise((r) => setTimeout(r, 200));
}
if (!stopping) {
  supervisor.start({
    name: "proxy",
    command: process.execPath,
    args: tsx("proxy/src/entry.node.ts"),
    env: { GPU_NODES: `http://127.0.0.1:${nodePort}` },
  });
}
