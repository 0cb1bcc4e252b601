/**
 * Keeps `npm start`'s children alive (issue 14 #10): a child that exits when nobody asked it to is started again
 * after a backoff that doubles on each quick crash (0.5 s … 30 s; it resets once a child has run for a minute),
 * and the others keep running — a crashed proxy does not take the gpu-node down, nor the reverse. `stop()` asks
 * every child to drain (SIGTERM: no new work, in-flight work finished) and waits for them, killing a child that
 * has not exited by the deadline.
 *
 * Hand-written: it is small, and what the stack needs (restart one, keep the other, drain on SIGTERM) is exactly
 * this; a process manager (pm2 and the like) would bring a daemon, its own logs and a global state directory.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface ChildSpec {
  name: string;
  /** what to run: the executable and its arguments */
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export interface SupervisorOptions {
  /** first restart delay; doubles per crash in a row (default 500 ms) */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** a child that ran this long before exiting starts over from the first delay (default 60 s) */
  stableAfterMs?: number;
  log?: (message: string) => void;
  stdio?: "inherit" | "pipe" | "ignore";
}

export interface Supervised {
  readonly name: string;
  /** the live process (a new one after each restart) */
  readonly child: ChildProcess | null;
  readonly restarts: number;
}

export class Supervisor {
  readonly #children = new Map<string, Supervised & { child: ChildProcess | null; restarts: number }>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopping = false;
  readonly #o: Required<Omit<SupervisorOptions, "log">> & Pick<SupervisorOptions, "log">;

  constructor(options: SupervisorOptions = {}) {
    this.#o = {
      minBackoffMs: options.minBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      stableAfterMs: options.stableAfterMs ?? 60_000,
      stdio: options.stdio ?? "inherit",
      log: options.log,
    };
  }

  get(name: string): Supervised | undefined {
    return this.#children.get(name);
  }

  /** Starts a child and keeps it running until `stop()`. */
  start(spec: ChildSpec): Supervised {
    const entry = { name: spec.name, child: null as ChildProcess | null, restarts: 0 };
    this.#children.set(spec.name, entry);
    let crashesInARow = 0;
    const launch = () => {
      const startedAt = Date.now();
      const child = spawn(spec.command, spec.args, {
        stdio: this.#o.stdio,
        env: { ...process.env, ...spec.env },
      });
      entry.child = child;
      this.#o.log?.(`${spec.name} started (pid ${child.pid})`);
      child.on("error", (e) => this.#o.log?.(`${spec.name}: ${e.message}`));
      child.once("exit", (code, signal) => {
        if (this.#stopping) return;
        crashesInARow = Date.now() - startedAt >= this.#o.stableAfterMs ? 1 : crashesInARow + 1;
        const delay = Math.min(this.#o.maxBackoffMs, this.#o.minBackoffMs * 2 ** (crashesInARow - 1));
        this.#o.log?.(`${spec.name} exited (${signal ?? code}); restarting in ${delay} ms`);
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          if (this.#stopping) return;
          entry.restarts++;
          launch();
        }, delay);
        this.#timers.add(timer);
      });
    };
    launch();
    return entry;
  }

  /**
   * Drains the children in the given order (default: the order they were started, reversed), each with SIGTERM,
   * then SIGKILL for one still running after `deadlineMs`. Resolves once all have exited.
   */
  async stop(options: { order?: string[]; deadlineMs?: number } = {}): Promise<void> {
    this.#stopping = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const names = options.order ?? [...this.#children.keys()].reverse();
    for (const name of names) {
      const child = this.#children.get(name)?.child;
      if (child) await stopChild(child, options.deadlineMs ?? 30_000);
    }
  }
}

function stopChild(child: ChildProcess, deadlineMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
