/**
 * Ledger benchmark: N usage events appended by C concurrent callers (each waits for its append, as a request handler
 * does before releasing its response) through GroupCommitLedger on a SQLite file. Prints events/s and append latency.
 *
 *   npm run bench:ledger -- [--events 100000] [--concurrency 256] [--max-batch 512] [--max-delay-ms 2]
 *                           [--synchronous NORMAL|FULL] [--no-group-commit] [--checkpointer]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { closeSqlite, openSqlite } from "../../storage/sqlite/open.ts";
import { startCheckpointer } from "../src/adapters/sqlite/checkpointer.ts";
import { createSqliteStores } from "../src/adapters/sqlite/index.ts";
import { GroupCommitLedger } from "../src/store/group-commit.ts";
import { systemClock, type UsageLedger } from "../src/store/ports.ts";
import { seedCustomer, usageEvent } from "../src/store/testing/harness.ts";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    concurrency: { type: "string", default: "256" },
    "max-batch": { type: "string", default: "512" },
    "max-delay-ms": { type: "string", default: "2" },
    synchronous: { type: "string", default: "NORMAL" },
    "no-group-commit": { type: "boolean", default: false },
    // WAL checkpoints from a worker thread, as the Node proxy runs (default here: SQLite's auto-checkpoint)
    checkpointer: { type: "boolean", default: false },
  },
});
const total = Number(args.events);
const concurrency = Number(args.concurrency);
const synchronous = args.synchronous === "FULL" ? "FULL" : "NORMAL";

const dir = mkdtempSync(join(tmpdir(), "bench-ledger-"));
const db = openSqlite(join(dir, "ledger.db"), { synchronous });
const checkpointer = args.checkpointer ? startCheckpointer(db) : null;
const stores = createSqliteStores(db);
const seed = await seedCustomer(stores, systemClock);
const group = args["no-group-commit"]
  ? null
  : new GroupCommitLedger(stores.ledger, {
      maxBatch: Number(args["max-batch"]),
      maxDelayMs: Number(args["max-delay-ms"]),
    });
const ledger: UsageLedger = group ?? stores.ledger;

const latencies = new Float64Array(total);
let issued = 0;
async function caller(): Promise<void> {
  while (issued < total) {
    const i = issued++;
    const event = usageEvent(seed, { requestId: `bench_${i}`, occurredAt: seed.version.effectiveFrom + i });
    const started = performance.now();
    await ledger.append([event]);
    latencies[i] = performance.now() - started;
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, caller));
const seconds = (performance.now() - started) / 1000;

const sorted = latencies.slice().sort();
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const [totals] = await stores.ledger.totals({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER });
const stats = group?.stats();
console.log(
  [
    `ledger bench: ${total} events, ${concurrency} concurrent callers, SQLite WAL synchronous=${synchronous}, ` +
      (group ? `group commit maxBatch=${args["max-batch"]} maxDelayMs=${args["max-delay-ms"]}` : "no group commit") +
      (checkpointer ? ", checkpoints from a worker thread" : ", SQLite's auto-checkpoint"),
    `  throughput   ${Math.round(total / seconds).toLocaleString("en-US")} events/s (${seconds.toFixed(2)} s)`,
    `  append p50   ${pct(50).toFixed(2)} ms   p99 ${pct(99).toFixed(2)} ms   max ${pct(100).toFixed(2)} ms`,
    stats
      ? `  transactions ${stats.flushes} (mean batch ${(stats.events / stats.flushes).toFixed(1)}, largest ${stats.largestBatch})`
      : `  transactions ${total}`,
    `  rows stored  ${totals?.events ?? 0}`,
  ].join("\n"),
);

await checkpointer?.stop();
closeSqlite(db);
rmSync(dir, { recursive: true, force: true });
if ((totals?.events ?? 0) !== total) process.exitCode = 1;
