/**
 * The one schema (`../schema/`, declared in drizzle's SQLite dialect) in PostgreSQL's dialect, derived table by table
 * when this module loads instead of declared a second time: a column, index, constraint or CHECK added there is here
 * too, and `drizzle-kit generate --config drizzle.pg.config.ts` (which reads the tables through `./tables.cjs`)
 * writes its migration into `./sql/` beside the SQLite/D1 one. Types map one to one (integer → bigint, 0/1 flag → boolean, JSON text → jsonb, blob → bytea, real →
 * double precision); CHECKs keep their meaning where SQLite needed more words (`typeof(x) = 'integer'` is the column
 * type itself in Postgres; `glob` becomes an anchored regular expression).
 */
import { getTableColumns, type SQL, sql } from "drizzle-orm";
import * as pg from "drizzle-orm/pg-core";
import { getTableConfig, type SQLiteColumn, SQLiteSyncDialect, type SQLiteTable } from "drizzle-orm/sqlite-core";
import { schema as sqliteSchema } from "../schema/index.ts";

const bytea = pg.customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => new Uint8Array(value),
});

const sqliteDialect = new SQLiteSyncDialect();

/** A CHECK or partial-index condition, rendered for SQLite, rewritten for Postgres (its columns are this table's). */
export function toPgCondition(condition: SQL): string {
  return sqliteDialect
    .sqlToQuery(condition)
    .sql.replace(/"\w+"\.(?="\w+")/g, "")
    .replace(/typeof\(("\w+")\) = 'integer' and /g, "")
    .replace(/ glob '([^']*)'/g, (_, glob: string) => ` ~ '^${glob.replaceAll("*", ".*").replaceAll("?", ".")}$'`);
}

function toPgColumn(column: SQLiteColumn) {
  const c = column as SQLiteColumn & { autoIncrement?: boolean; uniqueName?: string };
  let built: pg.PgColumnBuilderBase;
  switch (column.columnType) {
    case "SQLiteInteger":
      built = c.autoIncrement ? pg.bigserial(c.name, { mode: "number" }) : pg.bigint(c.name, { mode: "number" });
      break;
    case "SQLiteBoolean":
      built = pg.boolean(c.name);
      break;
    case "SQLiteTextJson":
      built = pg.jsonb(c.name);
      break;
    case "SQLiteReal":
      built = pg.doublePrecision(c.name);
      break;
    case "SQLiteText":
      built = pg.text(c.name);
      break;
    case "SQLiteCustomColumn":
      if (c.getSQLType() !== "blob") throw new Error(`no Postgres type for ${c.name} (${c.getSQLType()})`);
      built = bytea(c.name);
      break;
    default:
      throw new Error(`no Postgres type for ${c.name} (${column.columnType})`);
  }
  // The builders are chainable; each call returns the same builder with the flag set.
  type Chain = { notNull(): Chain; primaryKey(): Chain; unique(name?: string): Chain; default(v: unknown): Chain };
  let chain = built as unknown as Chain;
  if (c.notNull && !c.primary) chain = chain.notNull();
  if (c.primary) chain = chain.primaryKey();
  if (c.isUnique) chain = chain.unique(c.uniqueName);
  if (c.default !== undefined && !c.autoIncrement) chain = chain.default(c.default);
  return chain as unknown as pg.PgColumnBuilderBase;
}

type PgTables = { [K in keyof typeof sqliteSchema]: pg.PgTableWithColumns<pg.TableConfig> };

function derive(tables: Record<string, SQLiteTable>): PgTables {
  const byName = new Map<string, pg.PgTable>();
  /** The Postgres column of a SQLite one (looked up lazily: a foreign key may point at a later table). */
  const pgColumn = (column: SQLiteColumn): pg.PgColumn => {
    const table = byName.get(getTableConfig(column.table as SQLiteTable).name);
    const found = table && Object.values(getTableColumns(table)).find((c) => c.name === column.name);
    if (!found) throw new Error(`no Postgres column for ${column.name}`);
    return found as pg.PgColumn;
  };
  const out: Record<string, pg.PgTable> = {};
  for (const [key, table] of Object.entries(tables)) {
    const config = getTableConfig(table);
    const columns = Object.fromEntries(
      Object.entries(getTableColumns(table)).map(([field, column]) => [field, toPgColumn(column as SQLiteColumn)]),
    );
    const fieldOf = new Map(Object.entries(getTableColumns(table)).map(([field, c]) => [c.name, field]));
    // Indexes, keys and CHECKs on this table take the callback's columns (drizzle's extra-config columns).
    const pgTable = pg.pgTable(config.name, columns, (t) => {
      const own = (column: SQLiteColumn) => {
        const found = t[fieldOf.get(column.name) ?? ""];
        if (!found) throw new Error(`no column ${column.name} in ${config.name}`);
        return found;
      };
      const owns = (list: readonly unknown[]) => list.map((c) => own(c as SQLiteColumn)) as [pg.ExtraConfigColumn];
      return [
        ...config.primaryKeys.map((pk) => pg.primaryKey({ name: pk.getName(), columns: owns(pk.columns) })),
        ...config.uniqueConstraints.map((u) => pg.unique(u.getName()).on(...owns(u.columns))),
        ...config.foreignKeys.map((fk) => {
          const ref = fk.reference();
          return pg.foreignKey({
            name: fk.getName(),
            columns: owns(ref.columns),
            foreignColumns: ref.foreignColumns.map(pgColumn) as [pg.PgColumn],
          });
        }),
        ...config.indexes.map((ix) => {
          const built = (ix.config.unique ? pg.uniqueIndex(ix.config.name) : pg.index(ix.config.name)).on(
            ...owns(ix.config.columns),
          );
          return ix.config.where ? built.where(sql.raw(toPgCondition(ix.config.where))) : built;
        }),
        ...config.checks.map((ch) => pg.check(ch.name, sql.raw(toPgCondition(ch.value)))),
      ];
    });
    byName.set(config.name, pgTable);
    out[key] = pgTable;
  }
  return out as PgTables;
}

/**
 * Postgres only: batch-job results (each item's audio, `proxy/src/adapters/postgres/results.ts`) in the database, so
 * every replica serves every item's audio and nothing lives in one replica's DATA_DIR. The embedded SQLite proxy (one
 * process) keeps them as files in DATA_DIR, Workers in R2, so the one schema has no such table.
 */
export const jobResults = pg.pgTable("job_results", {
  key: pg.text("key").primaryKey(),
  body: bytea("body").notNull(),
});

export const pgSchema = { ...derive(sqliteSchema as unknown as Record<string, SQLiteTable>), jobResults };
