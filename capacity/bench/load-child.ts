/**
 * One load generator in its own process, for the generator-cost benchmark: either this tool's (closed model,
 * `users` back-to-back users) or autocannon (`connections` connections), against `url` with the same POST body.
 * Each first runs one untimed second (module loading, JIT, connections), then the measured `seconds`; it prints one
 * JSON line: requests completed, wall seconds and this process's CPU seconds over the measured run only.
 *
 *   node --import tsx capacity/bench/load-child.ts capacity|autocannon URL CONNECTIONS SECONDS
 */
import { seededRng } from "../src/core/rng.ts";
import { runClosed } from "../src/load/closed.ts";
import { HttpExecutor } from "../src/load/executor.ts";
import { fixedUsers } from "../src/load/shapes.ts";
import { Recorder } from "../src/load/stats.ts";
import { payloadsFor } from "../src/payloads/profiles.ts";

const [tool = "capacity", url = "", connectionsArg = "64", secondsArg = "5"] = process.argv.slice(2);
const connections = Number(connectionsArg);
const seconds = Number(secondsArg);
const payload = payloadsFor("node", "article")[0];
if (!payload) throw new Error("no payload");

async function run(tool: string, durationS: number): Promise<{ requests: number; errors: number }> {
  if (tool === "autocannon") {
    const { default: autocannon } = await import("autocannon");
    const r = await autocannon({
      url: `${url}/synthesize`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: payload?.body ?? "",
      connections,
      duration: durationS,
    });
    return { requests: r.requests.total, errors: r.errors + r.non2xx };
  }
  const executor = new HttpExecutor({ origin: url, path: "/synthesize", headers: {}, connections, timeoutMs: 10_000 });
  const recorder = new Recorder({ windowMs: 1000, goodMs: 1000 });
  const s = await runClosed({
    executor,
    recorder,
    pick: () => payload as NonNullable<typeof payload>,
    shape: fixedUsers(connections, 1e6, durationS),
    wait: [0, 0],
    rng: seededRng(1),
    phase: "bench",
    step: "closed",
  });
  await executor.close();
  return { requests: s.ok, errors: s.failures.total };
}

await run(tool, 1);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { requests, errors } = await run(tool, seconds);
const wallS = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ tool, requests, errors, wallS, cpuS: (cpu.user + cpu.system) / 1e6 }));
