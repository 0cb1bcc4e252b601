import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { TINY_MODEL_DIR } from "./testing/harness.ts";

const run = promisify(execFile);
const ENTRY = "gpu-node/src/entry.node.ts";

/** Start the real entry point (what `npm run node -- …` runs) and resolve with its URL once it listens. */
function startNode(args: string[]): Promise<{ url: string; child: ChildProcess; stdout: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve({ url: m[1], child, stdout: out });
    });
    child.once("exit", (code) => reject(new Error(`gpu-node exited with ${code}: ${out}`)));
  });
}

describe("npm run node (the gpu-node entry point)", () => {
  it("--help prints the usage and exits 0", async () => {
    const { stdout } = await run("npm", ["run", "--silent", "node", "--", "--help"]);
    expect(stdout).toMatch(/usage: npm run node -- \[--port 8001\]/);
    expect(stdout).toContain("--model");
    expect(stdout).toContain("--intra-op-threads");
  });

  it("refuses a bad flag with exit code 2 and the usage", async () => {
    const failed = await run(process.execPath, ["--import", "tsx", ENTRY, "--max-batch", "0"]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/bad configuration[\s\S]*maxBatch[\s\S]*usage:/);
  });

  it("--port/--model/--max-batch/--intra-op-threads reach the running node, which says its weights are random", async () => {
    const node = await startNode([
      "--port",
      "0",
      "--model",
      TINY_MODEL_DIR,
      "--max-batch",
      "3",
      "--intra-op-threads",
      "1",
      "--inter-op-threads",
      "1",
      "--intra-op-spinning",
      "1",
    ]);
    try {
      expect(node.stdout).toContain("RANDOM weights: audio is noise");
      const info = (await (await request(`${node.url}/info`)).body.json()) as {
        model: { name: string; random_weights: boolean };
        batching: { max_batch: number };
        runtime: {
          intra_op_threads: number;
          inter_op_threads: number;
          intra_op_spinning: boolean;
          execution_providers: string[];
        };
      };
      expect(info.model.random_weights).toBe(true);
      expect(info.model.name).toMatch(/tiny/);
      expect(info.batching.max_batch).toBe(3);
      expect(info.runtime).toMatchObject({
        intra_op_threads: 1,
        inter_op_threads: 1,
        intra_op_spinning: true,
        execution_providers: ["cpu"],
      });
      const res = await request(`${node.url}/synthesize`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "hello", max_tokens: 5 }),
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      const exited = new Promise<number | null>((resolve) => node.child.once("exit", (code) => resolve(code)));
      node.child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
