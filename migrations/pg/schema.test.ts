import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { getTableConfig } from "drizzle-orm/sqlite-core";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresServer, startPostgres } from "../../storage/testing/postgres-server.ts";
import { schema } from "../schema/index.ts";
import { toPgCondition } from "./schema.ts";

const MIGRATIONS = fileURLToPath(new URL("./sql", import.meta.url));

let server: PostgresServer;
let client: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await migrate(drizzle(client), { migrationsFolder: MIGRATIONS });
}, 120_000);

afterAll(async () => {
  await client?.end();
  await server?.stop();
});

describe("the schema on PostgreSQL (derived from the one schema, migrated by drizzle-kit's files)", () => {
  it("has every table and column of the SQLite schema, with the same nullability (and job_results, Postgres's own)", async () => {
    const { rows } = await client.query<{ table_name: string; column_name: string; is_nullable: string }>(
      "select table_name, column_name, is_nullable from information_schema.columns where table_schema = 'public'",
    );
    const actual = rows.map((r) => `${r.table_name}.${r.column_name}${r.is_nullable === "NO" ? "!" : ""}`).sort();
    const expected = Object.values(schema)
      .flatMap((t) => {
        const config = getTableConfig(t);
        return config.columns.map((c) => `${config.name}.${c.name}${c.notNull || c.primary ? "!" : ""}`);
      })
      .concat(["job_results.key!", "job_results.body!"])
      .sort();
    expect(actual).toEqual(expected);
  });

  it("keeps the money and enum CHECKs, the foreign keys and the unique request id", async () => {
    await client.query("insert into plans values ('p', 'basic', 'P', 'USD', 'UTC', 1, 1, 1, 0)");
    await client.query("insert into customers (id, name, email, plan_id, created_at) values ('c', 'C', 'c@x', 'p', 0)");
    await expect(client.query("insert into plans values ('q', 'gold', 'Q', 'USD', 'UTC', 1, 1, 1, 0)")).rejects.toThrow(
      /plans_kind_check/,
    );
    await expect(
      client.query("insert into customers (id, name, email, plan_id, created_at) values ('d', 'D', 'd@x', 'nope', 0)"),
    ).rejects.toThrow(/foreign key/);
    await expect(
      client.query(
        "insert into price_versions (id, plan_id, version, effective_from, unit_price_micros_per_1k_tokens, created_at) values ('v', 'p', 1, 0, -1, 0)",
      ),
    ).rejects.toThrow(/price_versions_unit_price_check/);
    const period =
      "insert into billing_invoice_syncs values ('c', $1, 'planned', 'USD', 'UTC', 0, 1, 0, 0, 0, 0, 0, 0, 0, '{}', null, null, null, null, null, null, 0, 0)";
    await client.query(period, ["2026-01"]);
    await expect(client.query(period, ["2026-1"])).rejects.toThrow(/billing_invoice_syncs_period_check/);
  });

  it("rewrites SQLite-only conditions for Postgres", () => {
    const [check] = getTableConfig(schema.usageEvents).checks.filter((c) => c.name === "usage_events_amount_check");
    expect(check && toPgCondition(check.value)).toBe('"amount_micros" >= 0');
  });
});
