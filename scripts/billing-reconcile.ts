/**
 * `npm run billing:reconcile -- --period YYYY-MM`: invoice a period in Stripe and print the reconciliation report.
 * Node only (opens the proxy's SQLite file). Exit codes: 0 every invoice equals its ledger total, 1 drift or errors,
 * 2 bad usage or configuration.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createBillingService, parseBillingEnv } from "../billing/src/config.ts";
import { isBillingError } from "../billing/src/errors.ts";
import { formatReport } from "../billing/src/reconcile/report.ts";
import { createSqlBillingStores } from "../billing/src/store/sql/index.ts";
import { createSqliteStores, openSqlite } from "../proxy/src/adapters/sqlite/index.ts";
import { systemClock } from "../proxy/src/store/ports.ts";
import { tuneForBulkReads } from "../storage/sqlite/open.ts";

const HELP = `Usage: npm run billing:reconcile -- --period YYYY-MM [options]

Invoices a billing period (a calendar month in each plan's time zone) in Stripe: per customer, the period's usage
is aggregated into invoice items (off-peak, peak, batch, included, overage; per price version), one invoice is
created and finalised. Re-running creates nothing new; a run stopped at any step resumes where it stopped.
Prints a report per customer: ledger total vs Stripe invoice total, the sub-cent remainder carried to the next
period, and any drift.

Options:
  --period YYYY-MM     the period to reconcile (required)
  --customer ID        only this customer (repeatable)
  --report-only        print what is recorded for the period; no Stripe calls
  --db PATH            the proxy's SQLite database (default: $DATA_DIR/proxy.db, DATA_DIR=data)
  --json               print the report as JSON
  -h, --help           this help

Environment:
  STRIPE_SECRET_KEY          Stripe secret key (required unless --report-only)
  STRIPE_API_BASE            another API base, e.g. http://127.0.0.1:12111 (a local Stripe-compatible server)
  BILLING_SETTLE_MINUTES     a period is invoiced only this long after it ended (default 15)
  BILLING_COLLECTION_METHOD  charge_automatically (default) | send_invoice
  BILLING_DAYS_UNTIL_DUE     for send_invoice (default 14)
  BILLING_KEY_PREFIX         prefix of the Stripe idempotency keys (default billing:v1)

Exit status: 0 all equal, 1 drift or errors, 2 usage or configuration error.`;

function fail(message: string): never {
  console.error(`billing:reconcile: ${message}\n\nRun with --help for usage.`);
  process.exit(2);
}

let args: ReturnType<typeof parseArgs<{ options: typeof options }>>;
const options = {
  period: { type: "string" },
  customer: { type: "string", multiple: true },
  "report-only": { type: "boolean", default: false },
  db: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;
try {
  args = parseArgs({ options, allowPositionals: false, strict: true });
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
if (args.values.help) {
  console.log(HELP);
  process.exit(0);
}
const period = args.values.period;
if (!period) fail("--period YYYY-MM is required");
if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) fail(`--period must be YYYY-MM, got ${JSON.stringify(period)}`);

let env: ReturnType<typeof parseBillingEnv>;
try {
  env = parseBillingEnv(process.env);
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
const dbPath = args.values.db ?? join(process.env.DATA_DIR ?? "data", "proxy.db");
if (!existsSync(dbPath)) fail(`no database at ${dbPath} (start the proxy once, or pass --db)`);
if (!args.values["report-only"] && !env.STRIPE_SECRET_KEY) fail("STRIPE_SECRET_KEY is not set");

const db = openSqlite(dbPath);
tuneForBulkReads(db);
const stores = createSqliteStores(db);
const billing = createBillingService(env, {
  customers: stores.customers,
  plans: stores.plans,
  billing: createSqlBillingStores(db),
  clock: systemClock,
  log: (line) => console.error(JSON.stringify(line)),
});
try {
  const report = args.values["report-only"]
    ? await billing.report(period)
    : await billing.reconcile(period, args.values.customer ? { customerIds: args.values.customer } : {});
  console.log(args.values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  process.exitCode = report.ok ? 0 : 1;
} catch (e) {
  console.error(`billing:reconcile: ${isBillingError(e) ? `${e.code}: ${e.message}` : String(e)}`);
  process.exitCode = isBillingError(e) && e.status < 500 ? 2 : 1;
} finally {
  db.$client.close();
}
