import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { postgresBin, startPostgres } from "./postgres-server.ts";

const psql = postgresBin("psql");

describe("startPostgres (the throwaway cluster the Postgres tests will run on)", () => {
  it("starts a cluster on a free 127.0.0.1 port that answers queries, and removes it on stop", async () => {
    const pg = await startPostgres();
    try {
      expect(pg.url).toMatch(/^postgres:\/\/test@127\.0\.0\.1:\d+\/postgres$/);
      const answer = execFileSync(psql, [pg.url, "-Atc", "select 6 * 7"], { encoding: "utf8" }).trim();
      expect(answer).toBe("42");
    } finally {
      await pg.stop();
    }
    expect(() => execFileSync(psql, [pg.url, "-Atc", "select 1"], { stdio: "ignore" })).toThrow();
  });
});
