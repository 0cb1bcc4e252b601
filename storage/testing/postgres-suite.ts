import { afterAll, beforeAll } from "vitest";
import { type PostgresDatabases, postgresDatabases } from "./postgres-databases.ts";
import { type PostgresServer, startPostgres } from "./postgres-server.ts";

/**
 * A throwaway PostgreSQL for one test file (started before its tests, fsync off: contract suites never crash the
 * server, stopped after them), and an emptied, migrated database per call of `create`.
 */
export function postgresForSuite(): PostgresDatabases {
  let server: PostgresServer | undefined;
  let databases: PostgresDatabases | undefined;
  beforeAll(async () => {
    server = await startPostgres({ settings: { fsync: "off" } });
    databases = await postgresDatabases(server);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    create: () => {
      if (!databases) throw new Error("postgresForSuite: used outside a test");
      return databases.create();
    },
  };
}
