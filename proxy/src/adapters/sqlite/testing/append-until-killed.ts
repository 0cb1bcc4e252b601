/**
 * Child process of the durability test: appends usage events through a GroupCommitLedger on SQLite, forever, and
 * prints each request id on stdout only after its append resolved (its transaction committed). The test kills it with
 * SIGKILL mid-run and checks that every printed id is in the database. WAL checkpoints run from a worker thread, as in
 * the proxy.
 *
 * Usage: node --import tsx append-until-killed.ts <db path> '<seed json: customerId, apiKeyId, planId, priceVersionId>'
 */

import { openSqlite } from "../../../../../storage/sqlite/open.ts";
import { GroupCommitLedger } from "../../../store/group-commit.ts";
import type { UsageEvent } from "../../../store/ports.ts";
import { startCheckpointer } from "../checkpointer.ts";
import { SqliteUsageLedger } from "../usage-ledger.ts";

const [dbPath, seedJson] = process.argv.slice(2);
if (!dbPath || !seedJson) {
  process.stderr.write("usage: append-until-killed.ts <db> <seed json>\n");
  process.exit(2);
}
const seed = JSON.parse(seedJson) as Pick<UsageEvent, "customerId" | "apiKeyId" | "planId" | "priceVersionId">;

const db = openSqlite(dbPath, { migrate: false });
// As the proxy runs: checkpoints from a worker thread, so the kill also lands mid-checkpoint.
startCheckpointer(db, { intervalMs: 5, restartFrames: 256 });
const ledger = new GroupCommitLedger(new SqliteUsageLedger(db), { maxBatch: 64, maxDelayMs: 1 });

let next = 0;
async function caller(): Promise<never> {
  for (;;) {
    const requestId = `kill_${process.pid}_${next++}`;
    await ledger.append([
      {
        ...seed,
        requestId,
        occurredAt: Date.now(),
        audioMs: 900,
        tokens: 22,
        inputChars: 10,
        peak: false,
        multiplierBp: 10_000,
        amountMicros: 44,
        currency: "USD",
        nodeId: null,
        priority: "interactive",
      },
    ]);
    // On Linux, writes to a pipe are synchronous: once this returns, the parent will read the line even if we die.
    process.stdout.write(`${requestId}\n`);
    // Yield to the event loop now and then, so the kill lands at arbitrary points, mid-transaction included.
    if (next % 97 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

process.stderr.write("ready\n");
await Promise.all(Array.from({ length: 32 }, caller));
