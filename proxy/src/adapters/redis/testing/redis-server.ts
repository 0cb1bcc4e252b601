/**
 * A throwaway redis-server for tests (Debian's `redis-server`, installed by .ci/run): no disk persistence, a port
 * chosen at run time on 127.0.0.1, ready when it says so on stdout (no sleeps).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "../../../../../storage/testing/free-port.ts";

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
  });
}

export async function startRedisServer(): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "notice"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      await started(child);
    } catch (error) {
      // Another process took the port between our probe and redis's bind: try another.
      if (attempt < 5 && child.exitCode !== null) continue;
      child.kill("SIGKILL");
      throw error;
    }
    child.stdout?.resume();
    child.stderr?.resume();
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    };
  }
}
