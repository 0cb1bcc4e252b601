/**
 * The bare relay the proxy's CPU is compared with: Hono on @hono/node-server forwarding POST /v1/tts to the node with
 * the proxy's own undici transport, and nothing else (no auth, limits, validation, metering or ledger). The admin
 * routes `cpu-per-request.ts` calls to set up a customer answer with dummies.
 *
 *   GPU_NODES=http://127.0.0.1:PORT node --import tsx proxy/bench/relay.ts
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { UndiciTransport } from "../src/adapters/node/undici-transport.ts";

const upstream = (process.env.GPU_NODES ?? "").split(",")[0] ?? "";
const transport = new UndiciTransport();
const app = new Hono();
app.all("/admin/*", (c) => c.json({ customer: { id: "relay" }, key: "relay", version: {} }, 201));
app.post("/v1/tts", async (c) => {
  const r = await transport.request({
    method: "POST",
    url: `${upstream}/synthesize`,
    headers: { "content-type": "application/json" },
    body: await c.req.text(),
    timeoutMs: 120_000,
    maxResponseBytes: 64 * 1024 * 1024,
  });
  return new Response(r.body as Uint8Array<ArrayBuffer>, {
    status: r.status,
    headers: { "content-type": "audio/wav" },
  });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" }, (info) =>
  console.log(`proxy listening on http://127.0.0.1:${info.port}`),
);
process.once("SIGTERM", () => process.exit(0));
