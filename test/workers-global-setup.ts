/**
 * Runs in Node before the workerd tests (test/workers/): a real gpu-node (the committed tiny model, random weights)
 * on 127.0.0.1 port 0, a port nothing listens on, billing's local Stripe-compatible test server, and LimiterObject
 * bundled by wrangler as a Worker of its own (test/workers/limiter-worker/), all handed to the pool (vitest.config.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startStripeTestServer, TEST_SECRET_KEY } from "../billing/testing/stripe-server/index.ts";
import { spawnService } from "../proxy/src/testing/stack.ts";

declare module "vitest" {
  export interface ProvidedContext {
    gpuNodeUrl: string;
    deadNodeUrl: string;
    /** the bundled limiter Worker (ES module) */
    limiterScript: string;
    /** billing/testing/stripe-server on 127.0.0.1, and the key it expects */
    stripeApiBase: string;
    stripeSecretKey: string;
    /** an HTTP receiver for job callbacks: POSTs are kept, GET lists them ({ signature, body }[]) */
    callbackReceiverUrl: string;
  }
}

/** Job callbacks land here (a customer's endpoint); the tests read what arrived with a GET. */
async function startCallbackReceiver() {
  const received: { signature: string | null; body: string }[] = [];
  const server = createHttpServer((req, res) => {
    if (req.method === "GET") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(received));
      return;
    }
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const signature = req.headers["x-signature"];
      received.push({ signature: typeof signature === "string" ? signature : null, body });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** `wrangler deploy --dry-run`: the same bundler (and the same offline settings) as a deployment. */
function bundleLimiterWorker(outdir: string): string {
  execFileSync(
    join("node_modules", ".bin", "wrangler"),
    ["deploy", "--dry-run", "--config", "test/workers/limiter-worker/wrangler.toml", "--outdir", outdir],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CI: "true",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        XDG_CONFIG_HOME: join(outdir, "xdg"),
      },
    },
  );
  return join(outdir, "index.js");
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const outdir = mkdtempSync(join(tmpdir(), "limiter-worker-"));
  project.provide("limiterScript", bundleLimiterWorker(outdir));
  const stripe = await startStripeTestServer();
  project.provide("stripeApiBase", stripe.url);
  project.provide("stripeSecretKey", TEST_SECRET_KEY);
  const node = await spawnService("gpu-node/src/entry.node.ts", {
    GPU_NODE_PORT: "0",
    GPU_NODE_INTRA_OP_THREADS: "1",
    GPU_NODE_MAX_BATCH: "4",
  });
  project.provide("gpuNodeUrl", node.url);
  project.provide("deadNodeUrl", `http://127.0.0.1:${await closedPort()}`);
  const receiver = await startCallbackReceiver();
  project.provide("callbackReceiverUrl", receiver.url);
  return async () => {
    await receiver.close();
    const exited = new Promise((resolve) => node.child.once("exit", resolve));
    node.child.kill("SIGTERM");
    await exited;
    rmSync(outdir, { recursive: true, force: true });
    await stripe.close();
  };
}
