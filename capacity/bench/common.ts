/** Shared by the capacity benchmarks: the machine in words (CPU, cores, load average) and a server child process. */
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { type Child, startChild } from "../../proxy/bench/children.ts";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model.trim() ?? "unknown CPU"} × ${c.length}, Node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ")}`;
}

/** The trivial server ("trivial") or the queueing server ("queue", slots, service ms) in its own process. */
export function startServer(args: string[] = ["trivial"]): Promise<Child> {
  return startChild("server", ["--import", "tsx", "capacity/bench/trivial-server.ts", ...args], {
    cwd: REPO,
    ready: /server listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
}

export const log = (line: string) => process.stdout.write(`${line}\n`);
