/**
 * What WAL checkpoints cost the thread that commits: one-row transactions at a fixed rate on a table shaped like
 * usage_events (a unique request id and two secondary indexes: four B-trees, ~4 WAL frames a commit), timing every
 * commit, with SQLite's auto-checkpoint (inside the commit that passes 1,000 frames) or with the proxy's checkpointer
 * (a worker thread; `proxy/src/adapters/sqlite/checkpointer.ts`).
 *
 *   tsx proxy/bench/commit-stalls.ts [--rate 4000] [--commits 40000] [--checkpointer]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { closeSqlite, openSqlite } from "../../storage/sqlite/open.ts";
import { startCheckpointer } from "../src/adapters/sqlite/checkpointer.ts";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "4000" },
    commits: { type: "string", default: "40000" },
    checkpointer: { type: "boolean", default: false },
  },
});
const rate = Number(args.rate);
const commits = Number(args.commits);
const dir = mkdtempSync(join(tmpdir(), "commit-stalls-"));
const db = openSqlite(join(dir, "stalls.db"), { migrate: false });
const checkpointer = args.checkpointer ? startCheckpointer(db) : null;
const client = db.$client;
client.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, customer TEXT, at INTEGER)");
client.exec("CREATE INDEX t_customer_at ON t (customer, at)");
client.exec("CREATE INDEX t_at ON t (at)");
const insert = client.prepare("INSERT INTO t (request_id, customer, at) VALUES (?, ?, ?)");
const commit = client.transaction((i: number) => insert.run(`${Date.now().toString(36)}-${i}`, "cus_1", Date.now()));
const yieldTurn = () => new Promise((resolve) => setImmediate(resolve));

const took = new Float64Array(commits);
const started = performance.now();
for (let i = 0; i < commits; i++) {
  while (performance.now() < started + (i * 1000) / rate) await yieldTurn();
  const t = performance.now();
  commit.immediate(i);
  took[i] = performance.now() - t;
}
const wallMs = performance.now() - started;
const sorted = took.slice().sort();
const at = (q: number) => sorted[Math.min(commits - 1, Math.floor(q * commits))] ?? Number.NaN;
let stalls = 0;
let stalledMs = 0;
for (const ms of took)
  if (ms > 5) {
    stalls++;
    stalledMs += ms;
  }
const sum = took.reduce((s, ms) => s + ms, 0);
console.log(
  `${commits} one-row commits at ${rate}/s (${(wallMs / 1000).toFixed(1)} s), ${checkpointer ? "checkpoints from a worker thread" : "SQLite's auto-checkpoint"}\n` +
    `  per commit: mean ${((sum / commits) * 1000).toFixed(0)} µs, p50 ${(at(0.5) * 1000).toFixed(0)} µs, ` +
    `p99 ${at(0.99).toFixed(2)} ms, p99.9 ${at(0.999).toFixed(2)} ms, max ${at(1).toFixed(1)} ms\n` +
    `  commits over 5 ms: ${stalls}, ${stalledMs.toFixed(0)} ms in all (the event loop stood still that long)`,
);
await checkpointer?.stop();
closeSqlite(db);
rmSync(dir, { recursive: true, force: true });
