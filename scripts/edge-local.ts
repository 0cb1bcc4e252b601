/**
 * The Worker on local workerd (`wrangler dev`), offline: the settings that keep wrangler from phoning home or writing
 * to ~/.config, local D1 migrated from migrations/sql, and a child process that is stopped by its handle.
 * Used by `npm run dev:edge` and `npm run bench:edge`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../", import.meta.url));
const WRANGLER = join(REPO, "node_modules", ".bin", "wrangler");

/** No metrics, no interactive prompts, no Request.cf fetch, and wrangler's own files under .wrangler/ (ignored). */
export function wranglerEnv(): NodeJS.ProcessEnv {
  const xdg = join(REPO, ".wrangler", "xdg");
  mkdirSync(xdg, { recursive: true });
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CI: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    XDG_CONFIG_HOME: xdg,
  };
}

/** `wrangler d1 migrations apply --local`: the same migrations/sql the Node proxy's SQLite applies. */
export function applyLocalMigrations(persistTo?: string): string {
  return execFileSync(
    WRANGLER,
    ["d1", "migrations", "apply", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])],
    { cwd: REPO, env: wranglerEnv(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
}

/** Runs SQL on the local D1 (`wrangler d1 execute --local`) and returns its rows. */
export function queryLocalD1<T>(sql: string, persistTo?: string): T[] {
  const out = execFileSync(
    WRANGLER,
    ["d1", "execute", "DB", "--local", "--json", "--command", sql, ...(persistTo ? ["--persist-to", persistTo] : [])],
    {
      cwd: REPO,
      env: wranglerEnv(),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const [first] = JSON.parse(out) as { results: T[] }[];
  return first?.results ?? [];
}

export interface WranglerDev {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `wrangler dev` on 127.0.0.1 and resolves once it serves; `vars` override wrangler.toml's [vars]. */
export async function startWranglerDev(options: {
  port: number;
  vars: Record<string, string>;
  persistTo?: string;
  logLevel?: "info" | "warn" | "error";
  echo?: boolean;
}): Promise<WranglerDev> {
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--show-interactive-dev-session=false",
    "--test-scheduled",
    "--log-level",
    options.logLevel ?? "info",
    ...(options.persistTo ? ["--persist-to", options.persistTo] : []),
    ...Object.entries(options.vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const child = spawn(WRANGLER, args, { cwd: REPO, env: wranglerEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const onData = (d: Buffer) => {
    out = (out + d.toString()).slice(-64 * 1024);
    if (options.echo) process.stderr.write(d);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${out}`);
    const up = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`wrangler dev did not serve ${url} within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
