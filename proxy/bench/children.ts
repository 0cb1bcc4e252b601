/** Child processes of the proxy benchmark: start one, wait for the line that says it listens, stop it cleanly. */
import { type ChildProcess, spawn } from "node:child_process";

export interface Child {
  proc: ChildProcess;
  /** the first capture group of the ready pattern */
  ready: string;
  /** everything the child printed so far (stdout and stderr, newest last, bounded) */
  output: () => string;
  /** SIGTERM, then wait for the exit (SIGKILL after `graceMs`); resolves with the exit code or signal */
  stop: (graceMs?: number) => Promise<string>;
}

const KEEP_OUTPUT_CHARS = 64 * 1024;

export function startChild(
  name: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; ready: RegExp; timeoutMs?: number; echo?: boolean },
): Promise<Child> {
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited: string | null = null;
  const exit = new Promise<string>((resolve) => {
    proc.once("exit", (code, signal) => {
      exited = signal ?? String(code);
      resolve(exited);
    });
  });
  const stop = async (graceMs = 10_000) => {
    if (exited === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    }
    return exited ?? "unknown";
  };
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      void stop(1000);
      reject(new Error(`${name} did not start in ${options.timeoutMs ?? 30_000} ms:\n${output}`));
    }, options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      if (options.echo) process.stderr.write(`[${name}] ${text}`);
      output = (output + text).slice(-KEEP_OUTPUT_CHARS);
      const m = options.ready.exec(output);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ proc, ready: m[1] ?? "", output: () => output, stop });
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    void exit.then((how) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${name} exited (${how}) before it was ready:\n${output}`));
    });
  });
}
