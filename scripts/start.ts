/**
 * `npm start`: the whole stack on embedded defaults — one gpu-node (committed tiny model, random weights) and the
 * proxy (SQLite in DATA_DIR) — as two child processes; Ctrl-C stops both.
 * Honours PORT (the proxy), DATA_DIR, ADMIN_TOKEN, GPU_NODE_PORT (default 8001) and GPU_NODE_MODEL.
 */
import { type ChildProcess, spawn } from "node:child_process";

const nodePort = process.env.GPU_NODE_PORT ?? "8001";
const children: ChildProcess[] = [];
const run = (script: string, env: Record<string, string>) => {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    stdio: "inherit",
    env: { ...process.env, ...env },
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${script} exited (${signal ?? code}); stopping the stack`);
      stop(1);
    }
  });
  children.push(child);
  return child;
};

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const c of children) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

run("gpu-node/src/entry.node.ts", { GPU_NODE_PORT: nodePort });
// The proxy waits for the node's /healthz so its first requests have somewhere to go.
const deadline = Date.now() + 60_000;
while (Date.now() < deadline) {
  const ok = await fetch(`http://127.0.0.1:${nodePort}/healthz`)
    .then((r) => r.ok)
    .catch(() => false);
  if (ok) break;
  await new Promise((r) => setTimeout(r, 200));
}
run("proxy/src/entry.node.ts", { GPU_NODES: `http://127.0.0.1:${nodePort}` });
