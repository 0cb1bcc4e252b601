import { expect, it } from "vitest";
import { postgresForSuite } from "../../../../storage/testing/postgres-suite.ts";
import { ManualClock, seedCustomer, usageEvent } from "../../store/testing/harness.ts";
import { createPostgresStores } from "./index.ts";

// The fold reads ledger rows by id; on Postgres a lower id can commit after a higher one (replicas append at once).
// Here an append holds id 1 uncommitted while id 2 commits and a fold starts: the fold must wait for id 1, not skip
// it for ever (without the committed ceiling it folds id 2, moves the watermark to 2, and row 1 is never counted).
const databases = postgresForSuite();

it("never folds past a ledger row still in flight on another connection", async () => {
  const { db, drop } = await databases.create();
  try {
    const clock = new ManualClock(Date.UTC(2026, 0, 10, 12));
    const stores = createPostgresStores(db, { clock });
    const seed = await seedCustomer(stores, clock);
    const at = seed.version.effectiveFrom + 1;
    const reports = stores.reports;
    if (!reports) throw new Error("no reports on Postgres");

    // An append on another connection draws its id and holds its transaction open.
    const slow = await db.$client.connect();
    await slow.query("begin");
    await slow.query(
      `insert into usage_events (request_id, customer_id, api_key_id, plan_id, price_version_id, occurred_at, audio_ms,
         tokens, input_chars, peak, multiplier_bp, amount_micros, currency, priority)
       values ('req_slow', $1, $2, $3, $4, $5, 1000, 25, 12, false, 10000, 70, 'USD', 'interactive')`,
      [seed.customer.id, seed.key.id, seed.plan.id, seed.version.id, at],
    );
    // A later id commits first, then a fold starts.
    await stores.ledger.append([usageEvent(seed, { requestId: "req_fast", occurredAt: at, amountMicros: 50 })]);
    let folded = false;
    const fold = reports.catchUp().finally(() => {
      folded = true;
    });
    // The fold waits for the open append (a lock request not yet granted), observed, not slept on; a fold that does
    // not wait finishes first, and the totals below then miss req_slow.
    while (!folded) {
      const { rows } = await db.$client.query(
        "select count(*)::int as n from pg_locks where not granted and relation = 'usage_events'::regclass",
      );
      if ((rows[0] as { n: number }).n > 0) break;
      await new Promise((r) => setImmediate(r));
    }
    await slow.query("commit");
    slow.release();
    await fold;

    const day = Date.UTC(2026, 0, 10);
    const [totals] = await reports.totals({ fromMs: day - 86_400_000, toMs: day + 2 * 86_400_000 });
    expect(totals).toMatchObject({ events: 2, amountMicros: 120 });
    expect(await reports.catchUp()).toBe(0);
  } finally {
    await drop();
  }
});
