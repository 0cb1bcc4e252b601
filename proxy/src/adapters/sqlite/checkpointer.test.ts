import { mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeSqlite, openSqlite, type SqliteDb } from "../../../../storage/sqlite/open.ts";
import { type Checkpointer, startCheckpointer } from "./checkpointer.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await sleep(20);
  }
}

describe("WAL checkpointer (a worker thread with its own connection)", () => {
  let dir: string;
  let db: SqliteDb;
  let checkpointer: Checkpointer | undefined;
  const walBytes = () => statSync(`${db.$client.name}-wal`).size;
  const writeRows = (n: number) => {
    const insert = db.$client.prepare("INSERT INTO filler (v) VALUES (?)");
    const one = db.$client.transaction((i: number) => insert.run(`${"x".repeat(500)}${i}`));
    for (let i = 0; i < n; i++) one(i);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "checkpointer-"));
    db = openSqlite(join(dir, "proxy.db"), { migrate: false });
    db.$client.exec("CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  });
  afterEach(async () => {
    await checkpointer?.stop();
    checkpointer = undefined;
    if (db.$client.open) closeSqlite(db);
    rmSync(dir, { recursive: true, force: true });
  });

  /** `n` one-row commits, yielding every 50 (as a busy event loop does), then the WAL's largest size seen. */
  const writeStream = async (n: number) => {
    let largest = 0;
    for (let done = 0; done < n; done += 50) {
      writeRows(50);
      largest = Math.max(largest, walBytes());
      await sleep(0);
    }
    return largest;
  };
  const ROWS = 20_000; // a frame each: 20,000 frames, 80 MB of WAL if nothing checkpoints
  const FRAME = 4096 + 24;

  it("checkpoints from the worker and keeps the WAL bounded under a commit stream that never pauses", async () => {
    checkpointer = startCheckpointer(db, { intervalMs: 10, restartFrames: 500 });
    expect(db.$client.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    const largest = await writeStream(ROWS);
    const s = await checkpointer.stats();
    // The WAL was restarted each time it passed 500 frames (plus what the writer added while the restart waited).
    expect(s.rounds).toBeGreaterThan(5);
    expect(s.restarts).toBeGreaterThan(1);
    // Bounded: without the worker the same stream reaches the whole 80 MB (next test). A starved worker thread on a
    // loaded machine lets it grow further between rounds (seen: 31 %), hence half, not a quarter.
    expect(largest).toBeLessThan(ROWS * FRAME * 0.5);

    await checkpointer.stop();
    closeSqlite(db);
    db = openSqlite(join(dir, "proxy.db"), { migrate: false });
    expect(db.$client.prepare("SELECT count(*) AS n FROM filler").get()).toEqual({ n: ROWS });
  });

  it("with auto-checkpoint off and no worker the same stream grows the WAL without bound (what the worker prevents)", async () => {
    db.$client.pragma("wal_autocheckpoint = 0");
    expect(await writeStream(ROWS)).toBeGreaterThanOrEqual(ROWS * FRAME);
  });

  it("without it, the connection checkpoints inside its own commits (SQLite's default)", () => {
    expect(db.$client.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
  });

  it("puts SQLite's auto-checkpoint back when the worker cannot run", async () => {
    // The worker opens the database by path; moved away, it cannot, while this connection keeps working.
    renameSync(join(dir, "proxy.db"), join(dir, "moved.db"));
    const errors: string[] = [];
    checkpointer = startCheckpointer(db, { intervalMs: 10, onError: (m) => errors.push(m) });
    const s = await until(
      () => checkpointer?.stats() ?? Promise.reject(new Error("no checkpointer")),
      (st) => st.rounds === -1,
    );
    expect(s.rounds).toBe(-1);
    expect(db.$client.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
    expect(errors.join("\n")).toMatch(/auto-checkpoint is back on/);
    writeRows(10);
  });

  it("does nothing for an in-memory database", async () => {
    const mem = openSqlite(":memory:", { migrate: false });
    const c = startCheckpointer(mem);
    expect(await c.stats()).toEqual({ rounds: 0, restarts: 0, walFrames: 0, checkpointedFrames: 0 });
    await c.stop();
    closeSqlite(mem);
  });
});
