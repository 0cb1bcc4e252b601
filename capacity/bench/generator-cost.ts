/**
 * Generator cost: requests per second per CPU core of this tool's load generator (closed model, back-to-back users
 * over undici) against autocannon, both driving the same trivial server (its own process) with the same POST body
 * and the same number of connections. Rounds alternate A, B, A, B so drift in a shared machine's load hits both.
 * "Per core" = requests completed ÷ CPU seconds the generator process used while measuring.
 *
 *   npx tsx capacity/bench/generator-cost.ts [--connections 16,64] [--seconds 5] [--rounds 3]
 */
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import { log, machine, REPO, startServer } from "./common.ts";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "16,64" },
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    together: { type: "boolean", default: false },
  },
});

interface Run {
  tool: string;
  requests: number;
  errors: number;
  wallS: number;
  cpuS: number;
}

const exec = promisify(execFile);
const server = await startServer();
try {
  log(`generator cost: ${machine()}`);
  log(
    `server ${server.ready} (pid ${server.proc.pid}); ${values.seconds} s per run after 1 s untimed, ${values.rounds} rounds`,
  );
  for (const c of values.connections.split(",").map(Number)) {
    const totals: Record<string, { requests: number; cpuS: number; wallS: number }> = {};
    const ratios: number[] = [];
    const pair: Record<string, number> = {};
    for (let round = 0; round < Number(values.rounds); round++) {
      const order = round % 2 === 0 ? ["autocannon", "capacity"] : ["capacity", "autocannon"];
      const one = async (tool: string): Promise<Run> => {
        const { stdout } = await exec(
          process.execPath,
          ["--import", "tsx", "capacity/bench/load-child.ts", tool, server.ready, String(c), values.seconds],
          { cwd: REPO, encoding: "utf8" },
        );
        return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as Run;
      };
      const runs: Run[] = [];
      if (values.together) runs.push(...(await Promise.all(order.map(one))));
      else for (const tool of order) runs.push(await one(tool));
      for (const r of runs) {
        const tool = r.tool;
        if (r.errors > 0) throw new Error(`${tool}: ${r.errors} errors`);
        const t = totals[tool] ?? { requests: 0, cpuS: 0, wallS: 0 };
        totals[tool] = t;
        t.requests += r.requests;
        t.cpuS += r.cpuS;
        t.wallS += r.wallS;
        pair[tool] = r.requests / r.cpuS;
        log(
          `  c=${c} round ${round + 1} ${tool.padEnd(10)} ${String(r.requests).padStart(7)} requests in ${r.wallS.toFixed(2)} s = ${(r.requests / r.wallS).toFixed(0).padStart(6)} req/s, CPU ${r.cpuS.toFixed(2)} s → ${(r.requests / r.cpuS).toFixed(0).padStart(6)} req/s per core`,
        );
      }
      ratios.push((pair.capacity ?? 0) / (pair.autocannon ?? 1));
    }
    ratios.sort((a, b) => a - b);
    const median =
      ratios.length % 2
        ? ratios[(ratios.length - 1) / 2]
        : ((ratios[ratios.length / 2 - 1] ?? 0) + (ratios[ratios.length / 2] ?? 0)) / 2;
    const perCore = (t: string) => (totals[t]?.requests ?? 0) / (totals[t]?.cpuS ?? 1);
    const perSecond = (t: string) => (totals[t]?.requests ?? 0) / (totals[t]?.wallS ?? 1);
    log(
      `c=${c}: capacity ${perCore("capacity").toFixed(0)} req/s per core (${perSecond("capacity").toFixed(0)} req/s), autocannon ${perCore("autocannon").toFixed(0)} (${perSecond("autocannon").toFixed(0)} req/s): ratio of the totals ${(perCore("capacity") / perCore("autocannon")).toFixed(2)}×, median of the ${ratios.length} paired rounds ${median?.toFixed(2)}× (range ${ratios[0]?.toFixed(2)}–${ratios[ratios.length - 1]?.toFixed(2)}) (target ≥ 0.8×)`,
    );
  }
  log(`after: ${machine()}`);
} finally {
  await server.stop();
}
