/**
 * The floor under any proxy on this stack: node:http (no framework) forwarding POST /v1/tts to the node with the
 * proxy's own undici transport, the WAV collected and sent back whole, and nothing else (no auth, limits, validation,
 * metering or ledger). `relay.ts` is the same on Hono. The admin routes the benches call to set up a customer answer
 * with dummies.
 *
 *   npm run bench:proxy -- --entry proxy/bench/raw-relay.ts
 *   tsx proxy/bench/cpu-per-request.ts --entry proxy/bench/raw-relay.ts
 */
import { createServer } from "node:http";
import { UndiciTransport } from "../src/adapters/node/undici-transport.ts";

const upstream = (process.env.GPU_NODES ?? "").split(",")[0] ?? "";
const transport = new UndiciTransport();
const server = createServer((req, res) => {
  if (req.url?.startsWith("/admin")) {
    req.resume();
    req.on("end", () => {
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ customer: { id: "relay" }, key: "relay", version: {} }));
    });
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const r = await transport.request({
      method: "POST",
      url: `${upstream}/synthesize`,
      headers: { "content-type": "application/json" },
      body: Buffer.concat(chunks).toString(),
      timeoutMs: 120_000,
      maxResponseBytes: 64 * 1024 * 1024,
    });
    res.writeHead(r.status, { "content-type": "audio/wav", "content-length": String(r.body.byteLength) });
    res.end(r.body);
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const a = server.address();
  console.log(`proxy listening on http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`);
});
process.once("SIGTERM", () => process.exit(0));
