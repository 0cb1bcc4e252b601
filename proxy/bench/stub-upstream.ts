/**
 * The fast stub upstream of the proxy benchmark: a stand-in GPU node on plain node:http (no framework, so its own cost
 * stays small next to the proxy's) that answers every POST /synthesize at once with the same WAV.
 *
 *   node --import tsx proxy/bench/stub-upstream.ts [--port 0] [--audio-ms 1000]
 *
 * Prints "stub listening on http://127.0.0.1:PORT" once it accepts connections. Serves:
 *   POST /synthesize  the fixed WAV (content-type audio/wav, x-audio-duration-ms), the request body drained unparsed
 *   GET  /healthz     the gpu-node health body (always ready, idle)
 *   GET  /info        one voice, and how many /synthesize requests were served
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { silentWav } from "../src/testing/stack.ts";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "audio-ms": { type: "string", default: "1000" },
  },
});
const audioMs = Number(args["audio-ms"]);
const wav = Buffer.from(silentWav(audioMs));
const wavHeaders = {
  "content-type": "audio/wav",
  "content-length": String(wav.byteLength),
  "x-audio-duration-ms": audioMs.toFixed(1),
};
const healthz = Buffer.from(JSON.stringify({ queue_depth: 0, in_flight: 0, free_slots: 64, ready: true }));
let served = 0;

const json = (body: Buffer | string) => ({
  "content-type": "application/json",
  "content-length": String(Buffer.byteLength(body)),
});

const server = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/synthesize") {
    req.resume();
    req.on("end", () => {
      served++;
      res.writeHead(200, wavHeaders);
      res.end(wav);
    });
    return;
  }
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, json(healthz));
    res.end(healthz);
    return;
  }
  if (req.method === "GET" && req.url === "/info") {
    const body = JSON.stringify({
      stub: true,
      audio_ms: audioMs,
      served,
      voices: [{ id: 0, name: "alice", description: "bench stub" }],
    });
    res.writeHead(200, json(body));
    res.end(body);
    return;
  }
  req.resume();
  res.writeHead(404, json("{}"));
  res.end("{}");
});
// Longer than the clients' keep-alive, so the server never closes a pooled connection under a client's feet.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen(Number(args.port), "127.0.0.1", () => {
  console.log(`stub listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
