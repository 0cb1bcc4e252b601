/**
 * WAL checkpoints off the request thread. By default SQLite checkpoints inside whichever commit pushes the WAL past
 * 1,000 pages, so every few hundred requests one of them copies ~4 MB into the database file and fsyncs it on the
 * event loop; measured here, that doubles the mean cost of a one-row commit (126 → 58 µs without it). This turns the
 * connection's auto-checkpoint off and runs checkpoints from a worker thread with its own connection: PASSIVE ones,
 * which never block the writer or the readers (WAL allows one checkpointer beside them), copy the frames and fsync
 * off the event loop. A PASSIVE checkpoint cannot restart the WAL while commits keep arriving (each one lands while it
 * runs, so it never catches up: the file would grow without end), so once the WAL is over `restartFrames` the worker
 * runs a RESTART checkpoint right after a PASSIVE one: it holds the write lock while it copies the few frames added
 * since and fsyncs, a commit arriving then waits that long (in SQLite's busy handler), and the next commit starts the
 * WAL from the beginning again. The RESTART never waits for the lock itself (it retries 2 ms later), because a
 * pending RESTART also holds off every new writer.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";

export interface CheckpointerOptions {
  /** how often the worker checkpoints (default 100 ms) */
  intervalMs?: number;
  /** WAL size, in frames (pages), past which the worker restarts it (default 4,096: 16 MB of 4 KiB pages) */
  restartFrames?: number;
  /** the size the WAL file is cut back to after a checkpoint resets it (SQLite's journal_size_limit) */
  walSizeLimitBytes?: number;
  /**
   * A failed round (the worker keeps going; the next round tries again), or the worker's end: then SQLite's own
   * auto-checkpoint is switched back on, so the WAL can never grow without bound.
   */
  onError?: (message: string) => void;
}

export interface Checkpointer {
  /** Stops the worker; the database connection stays open (closing it checkpoints what is left). */
  stop(): Promise<void>;
  /** Rounds run so far (-1 once the worker has ended) and the WAL frames the last one saw and copied. */
  stats(): Promise<CheckpointStats>;
}

export interface CheckpointStats {
  rounds: number;
  /** RESTART checkpoints among the rounds */
  restarts: number;
  walFrames: number;
  checkpointedFrames: number;
}

// Plain CommonJS evaluated in the worker, so it needs no TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
// No busy wait here: a RESTART that meets a writer mid-commit gives up at once and is tried again a moment later.
// (Waiting would block new writers for as long, and the writer is the event loop.)
db.pragma("busy_timeout = 0");
const stats = { rounds: 0, restarts: 0, walFrames: 0, checkpointedFrames: 0 };
let timer;
const round = () => {
  let again = workerData.intervalMs;
  try {
    let [r] = db.pragma("wal_checkpoint(PASSIVE)");
    if (r.log > workerData.restartFrames) {
      // PASSIVE again until only a few frames are left to copy, so the RESTART holds the write lock for those and a
      // small fsync: milliseconds, where a RESTART of the whole backlog would stall commits for hundreds.
      for (let i = 0; i < 8 && r.log - r.checkpointed > 64; i++) [r] = db.pragma("wal_checkpoint(PASSIVE)");
      const [restart] = db.pragma("wal_checkpoint(RESTART)");
      if (restart.busy === 0) {
        stats.restarts++;
        r = restart;
      } else again = 2;
    }
    stats.rounds++;
    stats.walFrames = r.log;
    stats.checkpointedFrames = r.checkpointed;
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message ? e.message : e) });
  }
  timer = setTimeout(round, again);
};
timer = setTimeout(round, workerData.intervalMs);
parentPort.on("message", (m) => {
  if (m === "stats") parentPort.postMessage({ stats });
  if (m === "stop") {
    clearTimeout(timer);
    db.close();
    parentPort.close();
  }
});
`;

const AUTO_CHECKPOINT_PAGES = 1000;

/** For a database file in WAL mode; an in-memory database has no WAL and gets a checkpointer that does nothing. */
export function startCheckpointer(db: SqliteDb, options: CheckpointerOptions = {}): Checkpointer {
  const client = db.$client;
  if (client.memory) {
    return {
      stop: async () => {},
      stats: async () => ({ rounds: 0, restarts: 0, walFrames: 0, checkpointedFrames: 0 }),
    };
  }
  client.pragma("wal_autocheckpoint = 0");
  client.pragma(`journal_size_limit = ${Math.trunc(options.walSizeLimitBytes ?? 64 * 1024 * 1024)}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve("better-sqlite3"),
      path: client.name,
      intervalMs: options.intervalMs ?? 100,
      restartFrames: options.restartFrames ?? 4096,
    },
  });
  // The process may exit while the worker sleeps between rounds; the connection's close checkpoints the rest.
  worker.unref();
  const waiting: ((s: CheckpointStats) => void)[] = [];
  worker.on("message", (m: { error?: string; stats?: CheckpointStats }) => {
    if (m.error) options.onError?.(m.error);
    if (m.stats) waiting.shift()?.(m.stats);
  });
  worker.on("error", (e) => options.onError?.(`checkpointer: ${e.message}`));
  let stopping = false;
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      gone = true;
      for (const w of waiting.splice(0)) w({ rounds: -1, restarts: 0, walFrames: 0, checkpointedFrames: 0 });
      if (!stopping && client.open) {
        client.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
        options.onError?.("checkpointer: worker ended; SQLite's auto-checkpoint is back on");
      }
      resolve();
    }),
  );
  return {
    async stop() {
      stopping = true;
      if (!gone) worker.postMessage("stop");
      await exited;
    },
    stats: () =>
      new Promise((resolve) => {
        if (gone) return resolve({ rounds: -1, restarts: 0, walFrames: 0, checkpointedFrames: 0 });
        waiting.push(resolve);
        worker.postMessage("stats");
      }),
  };
}
