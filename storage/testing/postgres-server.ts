/**
 * A throwaway PostgreSQL cluster for tests (Debian's `postgresql`, installed by .ci/run): `initdb` into a temporary
 * directory, then `postgres` on a port chosen at run time on 127.0.0.1, ready when its log says so (no sleeps).
 * PostgreSQL refuses to run as root, so as root the cluster is created and run as the `postgres` user.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export interface PostgresServer {
  /** `postgres://test@127.0.0.1:PORT/postgres` (trust authentication: a throwaway cluster) */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The directory of `initdb`, `postgres` and `psql`: Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin. */
function binDir(): string {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "postgres")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], "bin");
  }
  return ""; // rely on PATH
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = "";
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("database system is ready to accept connections")) {
        child.stderr?.off("data", onData);
        child.off("exit", onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => reject(new Error(`postgres exited (${code}) before it was ready:\n${log}`));
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** A PostgreSQL program by name: from the newest Debian install, else from PATH. */
export function postgresBin(name: string): string {
  const dir = binDir();
  return dir ? join(dir, name) : name;
}

/**
 * `settings`: extra server settings (`-c name=value`), e.g. `{ fsync: "off" }` for contract suites that create a
 * database per test and never crash the server (a process killed by a test is a client, not the server).
 */
export async function startPostgres(options: { settings?: Record<string, string> } = {}): Promise<PostgresServer> {
  const bin = postgresBin;
  const dir = mkdtempSync(join(tmpdir(), "pg-"));
  const data = join(dir, "data");
  let user: { uid: number; gid: number } | object = {};
  if (userInfo().uid === 0) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
    user = { uid: id("-u"), gid: id("-g") };
    chownSync(dir, id("-u"), id("-g"));
  }
  execFileSync(bin("initdb"), ["-D", data, "-U", "test", "-A", "trust", "-E", "UTF8", "--no-sync"], {
    stdio: "ignore",
    ...user,
  });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = [
      "-D",
      data,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${dir}`,
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
    ];
    const child = spawn(bin("postgres"), args, { stdio: ["ignore", "ignore", "pipe"], ...user });
    try {
      await ready(child);
    } catch (error) {
      // The port was taken between our probe and postgres's bind: try another.
      if (attempt < 5 && child.exitCode !== null) continue;
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    child.stderr?.resume();
    return {
      url: `postgres://test@127.0.0.1:${port}/postgres`,
      port,
      stop: () =>
        new Promise<void>((resolve) => {
          const done = () => {
            rmSync(dir, { recursive: true, force: true });
            resolve();
          };
          if (child.exitCode !== null) return done();
          child.once("exit", done);
          child.kill("SIGINT"); // fast shutdown: roll back clients, stop
        }),
    };
  }
}
