/** Test support: an empty D1 database for each test (the migrations stay applied). */

/** Deletes every row of every table the migrations made; retries tables a foreign key still holds. */
export async function emptyDatabase(db: D1Database): Promise<void> {
  const { results } = await db
    .prepare(
      "select name from sqlite_master where type = 'table' and name not like '\\_%' escape '\\' and name not in ('d1_migrations', 'sqlite_sequence')",
    )
    .all<{ name: string }>();
  let left = results.map((r) => r.name);
  for (let round = 0; left.length > 0 && round < 10; round++) {
    const failed: string[] = [];
    for (const table of left) {
      await db
        .prepare(`delete from "${table}"`)
        .run()
        .catch(() => failed.push(table));
    }
    left = failed;
  }
  if (left.length > 0) throw new Error(`could not empty ${left.join(", ")}`);
}
