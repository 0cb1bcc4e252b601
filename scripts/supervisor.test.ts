import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Supervisor } from "./supervisor.ts";

const dir = mkdtempSync(join(tmpdir(), "supervisor-"));
/** A child that stays up until SIGTERM, then "drains" (writes a mark) and exits 0. */
const STAYS_UP = `
const fs = require("node:fs");
process.on("SIGTERM", () => { fs.appendFileSync(process.env.MARK, "drained\\n"); process.exit(0); });
fs.appendFileSync(process.env.MARK, "up\\n");
setInterval(() => {}, 1000);`;
/** A child that crashes on its first two runs (counted in a file), then stays up. */
const CRASHES_TWICE = `
const fs = require("node:fs");
const runs = Number(fs.existsSync(process.env.COUNT) ? fs.readFileSync(process.env.COUNT, "utf8") : 0) + 1;
fs.writeFileSync(process.env.COUNT, String(runs));
if (runs <= 2) process.exit(3);
setInterval(() => {}, 1000);`;

const until = async (condition: () => boolean, deadlineMs = 20_000) => {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
};
const alive = (pid: number | undefined) => {
  try {
    return pid !== undefined && process.kill(pid, 0);
  } catch {
    return false;
  }
};

describe("npm start's supervisor (issue 14 #10)", () => {
  let sup: Supervisor;
  afterEach(async () => {
    await sup?.stop({ deadlineMs: 2_000 });
  });

  it("restarts a crashing child with backoff and leaves the other running", async () => {
    const count = join(dir, "count");
    const mark = join(dir, "mark-a");
    const logs: string[] = [];
    sup = new Supervisor({ minBackoffMs: 50, stdio: "ignore", log: (m) => logs.push(m) });
    const node = sup.start({ name: "node", command: process.execPath, args: ["-e", STAYS_UP], env: { MARK: mark } });
    const pid = node.child?.pid;
    const proxy = sup.start({
      name: "proxy",
      command: process.execPath,
      args: ["-e", CRASHES_TWICE],
      env: { COUNT: count },
    });
    await until(() => proxy.restarts === 2 && readFileSync(count, "utf8") === "3");
    expect(readFileSync(count, "utf8")).toBe("3");
    expect(logs.filter((l) => l.startsWith("proxy exited (3)"))).toHaveLength(2);
    // the backoff doubled: 50 ms, then 100 ms
    expect(logs.flatMap((l) => /restarting in (\d+) ms/.exec(l)?.[1] ?? [])).toEqual(["50", "100"]);
    expect(logs.filter((l) => l.startsWith("proxy started (pid"))).toHaveLength(3);
    expect(node.child?.pid).toBe(pid);
    expect(alive(pid)).toBe(true);
  });

  it("a child killed with SIGKILL comes back; the other is untouched; stop() drains both with SIGTERM", async () => {
    const mark = join(dir, "mark-b");
    writeFileSync(mark, "");
    sup = new Supervisor({ minBackoffMs: 20, stdio: "ignore" });
    const node = sup.start({ name: "node", command: process.execPath, args: ["-e", STAYS_UP], env: { MARK: mark } });
    const proxy = sup.start({ name: "proxy", command: process.execPath, args: ["-e", STAYS_UP], env: { MARK: mark } });
    const [nodePid, proxyPid] = [node.child?.pid, proxy.child?.pid];
    const lines = () => readFileSync(mark, "utf8").split("\n").filter(Boolean);
    await until(() => lines().length === 2); // both up
    process.kill(proxyPid as number, "SIGKILL");
    await until(() => proxy.restarts === 1 && proxy.child?.pid !== proxyPid && alive(proxy.child?.pid));
    expect(node.child?.pid).toBe(nodePid);
    expect(alive(nodePid)).toBe(true);
    const newProxyPid = proxy.child?.pid;
    await until(() => lines().length === 3); // both up, and the new proxy up (its SIGTERM handler installed)
    await sup.stop({ deadlineMs: 10_000 });
    expect(alive(nodePid)).toBe(false);
    expect(alive(newProxyPid)).toBe(false);
    expect(lines()).toEqual(["up", "up", "up", "drained", "drained"]);
  });
});
