/**
 * Runs in Node before the workerd tests (test/workers/): a real gpu-node (the committed tiny model, random weights)
 * on 127.0.0.1 port 0, and a port nothing listens on, handed to the Worker as bindings (vitest.config.ts).
 */
import { createServer } from "node:net";
import type { TestProject } from "vitest/node";
import { spawnService } from "../proxy/src/testing/stack.ts";

declare module "vitest" {
  export interface ProvidedContext {
    gpuNodeUrl: string;
    deadNodeUrl: string;
  }
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const node = await spawnService("gpu-node/src/entry.node.ts", {
    GPU_NODE_PORT: "0",
    GPU_NODE_INTRA_OP_THREADS: "1",
    GPU_NODE_MAX_BATCH: "4",
  });
  project.provide("gpuNodeUrl", node.url);
  project.provide("deadNodeUrl", `http://127.0.0.1:${await closedPort()}`);
  return async () => {
    const exited = new Promise((resolve) => node.child.once("exit", resolve));
    node.child.kill("SIGTERM");
    await exited;
  };
}
