/**
 * An empty, migrated Postgres database per test, for contract suites that want empty stores each time: one database,
 * migrated once, emptied by one TRUNCATE of every table (tens of milliseconds, where a CREATE DATABASE per test took
 * about a second on this shared machine). Tests of one file run one after another, so one database serves them.
 */
import { getTableConfig } from "drizzle-orm/pg-core";
import { pgSchema } from "../../migrations/pg/schema.ts";
import { closePostgres, openPostgres, type PgDb } from "../pg/open.ts";
import type { PostgresServer } from "./postgres-server.ts";

export interface PostgresDatabases {
  /** The database emptied, and a pool on it (closed by `drop`). */
  create(): Promise<{ db: PgDb; url: string; drop(): Promise<void> }>;
}

const TABLES = Object.values(pgSchema)
  .map((t) => `"${getTableConfig(t).name}"`)
  .join(", ");

export async function postgresDatabases(server: PostgresServer): Promise<PostgresDatabases> {
  await closePostgres(await openPostgres(server.url, { max: 1 }));
  return {
    async create() {
      const db = await openPostgres(server.url, { migrate: false, max: 4 });
      await db.$client.query(`truncate ${TABLES} restart identity cascade`);
      return { db, url: server.url, drop: () => closePostgres(db) };
    },
  };
}
