import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SQL_DIR = join(ROOT, "migrations/sql");

/** Applies migrations/sql in journal order to a fresh in-memory database, the way both migrators do. */
function migratedDatabase(): Database.Database {
  const db = new Database(":memory:");
  db.pragma("foreign_keys = ON");
  const journal = JSON.parse(readFileSync(join(SQL_DIR, "meta/_journal.json"), "utf8")) as {
    entries: { tag: string }[];
  };
  for (const { tag } of journal.entries) {
    for (const statement of readFileSync(join(SQL_DIR, `${tag}.sql`), "utf8").split("--> statement-breakpoint")) {
      db.exec(statement);
    }
  }
  return db;
}

describe("migrations", () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), "migrations-"));
  });
  afterEach(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it("migrations/sql is up to date with the schema (run `npm run db:generate` after a schema change)", () => {
    cpSync(SQL_DIR, scratch, { recursive: true });
    const before = readdirSync(scratch).sort();
    const run = spawnSync(
      join(ROOT, "node_modules/.bin/drizzle-kit"),
      // drizzle-kit reads `--out` relative to the cwd, and exits 0 even when it fails: hence the checks below.
      ["generate", "--dialect", "sqlite", "--schema", "./migrations/schema/index.ts", "--out", relative(ROOT, scratch)],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(scratch).sort()).toEqual(before);
    expect(run.stdout).toMatch(/No schema changes/);
  }, 60_000);

  it("migrations/pg/sql is up to date with the schema too (the Postgres schema derived from it)", () => {
    cpSync(join(ROOT, "migrations/pg/sql"), scratch, { recursive: true });
    const before = readdirSync(scratch).sort();
    const run = spawnSync(
      join(ROOT, "node_modules/.bin/drizzle-kit"),
      [
        "generate",
        "--dialect",
        "postgresql",
        "--schema",
        "./migrations/pg/tables.cjs",
        "--out",
        relative(ROOT, scratch),
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(scratch).sort()).toEqual(before);
    expect(run.stdout).toMatch(/No schema changes/);
  }, 60_000);

  describe("constraints the database enforces even if application checks are bypassed", () => {
    let db: Database.Database;
    beforeEach(() => {
      db = migratedDatabase();
      db.exec(`
        insert into plans values ('basic', 'basic', 'Basic', 'USD', 'UTC', 10, 20, 4, 0);
        insert into price_versions (id, plan_id, version, effective_from, unit_price_micros_per_1k_tokens, created_at)
          values ('pv_1', 'basic', 1, 0, 2000, 0);
        insert into customers (id, name, email, plan_id, created_at) values ('cus_a', 'A', 'a@a.test', 'basic', 0);
        insert into api_keys (id, customer_id, hash, prefix, created_at) values ('key_a', 'cus_a', 'h', 'tts_live_x', 0);
      `);
    });
    afterEach(() => db.close());

    const insertUsage = (requestId: string, overrides: Record<string, unknown> = {}) => {
      const row = {
        request_id: requestId,
        customer_id: "cus_a",
        api_key_id: "key_a",
        plan_id: "basic",
        price_version_id: "pv_1",
        occurred_at: 1,
        audio_ms: 1000,
        tokens: 25,
        input_chars: 12,
        peak: 0,
        multiplier_bp: 10000,
        amount_micros: 50,
        currency: "USD",
        node_id: null,
        priority: "interactive",
        ...overrides,
      };
      const columns = Object.keys(row);
      db.prepare(
        `insert into usage_events (${columns.join(",")}) values (${columns.map((c) => `@${c}`).join(",")})`,
      ).run(row);
    };

    it("accepts a well-formed usage row", () => {
      insertUsage("req_1");
      expect(db.prepare("select count(*) as n from usage_events").get()).toEqual({ n: 1 });
    });

    it.each([
      ["a fractional amount", { amount_micros: 1.5 }, /CHECK constraint failed: usage_events_amount_check/],
      ["negative tokens", { tokens: -1 }, /usage_events_tokens_check/],
      ["an unknown priority", { priority: "urgent" }, /usage_events_priority_check/],
      ["an unknown customer", { customer_id: "cus_ghost" }, /FOREIGN KEY constraint failed/],
    ])("refuses %s", (_name, overrides, error) => {
      expect(() => insertUsage("req_bad", overrides)).toThrow(error);
    });

    it("keeps one row per request id", () => {
      insertUsage("req_1");
      expect(() => insertUsage("req_1")).toThrow(/UNIQUE constraint failed: usage_events.request_id/);
    });

    it("keeps one price version number per plan and discounts within 0-100 %", () => {
      const insert = (id: string, version: number, discount: number) =>
        db
          .prepare(
            `insert into price_versions (id, plan_id, version, effective_from, unit_price_micros_per_1k_tokens,
               batch_discount_bp, created_at) values (?, 'basic', ?, 5, 1, ?, 0)`,
          )
          .run(id, version, discount);
      expect(() => insert("pv_dup", 1, 0)).toThrow(/UNIQUE constraint failed/);
      expect(() => insert("pv_2", 2, 10_001)).toThrow(/price_versions_batch_discount_check/);
    });

    it("accepts only known customer statuses and node states", () => {
      expect(() => db.exec("update customers set status = 'deleted'")).toThrow(/customers_status_check/);
      expect(() => db.exec("insert into nodes (id, url, state, created_at) values ('n', 'http://n', 'up', 0)")).toThrow(
        /nodes_state_check/,
      );
    });
  });
});
