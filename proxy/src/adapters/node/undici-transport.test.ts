import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransportError } from "../../upstream/transport.ts";
import { UndiciTransport } from "./undici-transport.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 whose behaviour each test sets. */
async function server(handler: () => Handler) {
  const s = createServer((req, res) => handler()(req, res));
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

const failure = async (p: Promise<unknown>): Promise<TransportError> => {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof TransportError)) throw new Error(`expected a TransportError, got ${String(e)}`);
  return e;
};

describe("UndiciTransport against a real HTTP server", () => {
  let behaviour: Handler = (_req, res) => res.end();
  let srv: Awaited<ReturnType<typeof server>>;
  const transport = new UndiciTransport(4);
  const send = (over: Partial<Parameters<UndiciTransport["request"]>[0]> = {}) =>
    transport.request({
      method: "POST",
      url: `${srv.url}/synthesize?x=1`,
      headers: { "content-type": "application/json" },
      body: '{"text":"hi"}',
      timeoutMs: 2_000,
      maxResponseBytes: 1_000,
      ...over,
    });

  beforeAll(async () => {
    srv = await server(() => behaviour);
  });
  afterAll(async () => {
    await transport.close();
    await srv.close();
  });

  it("sends method, path, headers and body; returns status, lowercase headers and the whole body", async () => {
    let seen = { method: "", url: "", type: "", body: "" };
    behaviour = (req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => {
        body += d.toString();
      });
      req.on("end", () => {
        seen = { method: req.method ?? "", url: req.url ?? "", type: req.headers["content-type"] ?? "", body };
        res.writeHead(201, { "X-Audio-Duration-Ms": "12.5", "content-type": "audio/wav" });
        // several writes: the body arrives in chunks
        res.write("ab");
        setTimeout(() => res.end("cd"), 5);
      });
    };
    const r = await send();
    expect(seen).toEqual({ method: "POST", url: "/synthesize?x=1", type: "application/json", body: '{"text":"hi"}' });
    expect(r.status).toBe(201);
    expect(r.headers["x-audio-duration-ms"]).toBe("12.5");
    expect(new TextDecoder().decode(r.body)).toBe("abcd");
  });

  it("a node that never answers hits the deadline before any byte (retryable)", async () => {
    behaviour = () => {};
    const started = Date.now();
    const e = await failure(send({ timeoutMs: 150 }));
    expect([e.phase, e.reason]).toEqual(["connect", "timeout"]);
    expect(Date.now() - started).toBeLessThan(10_000); // the node never answers: the deadline ended it
  });

  it("the deadline covers the whole answer: a body that trickles past it fails after the first byte", async () => {
    behaviour = (_req, res) => {
      res.writeHead(200, { "content-type": "audio/wav" });
      res.write("a");
      const t = setInterval(() => res.write("a"), 20);
      res.on("close", () => clearInterval(t));
    };
    const e = await failure(send({ timeoutMs: 200, maxResponseBytes: 1_000_000 }));
    expect([e.phase, e.reason]).toEqual(["response", "timeout"]);
  });

  it("refuses a declared length over the cap, and an undeclared body as soon as it passes the cap", async () => {
    behaviour = (_req, res) => {
      res.writeHead(200, { "content-length": "5000" });
      res.end("x".repeat(5000));
    };
    expect((await failure(send())).reason).toBe("too_large");
    let written = 0;
    behaviour = (_req, res) => {
      res.writeHead(200, { "content-type": "audio/wav" }); // chunked, no length
      const t = setInterval(() => {
        written += 500;
        res.write("x".repeat(500));
      }, 2);
      res.on("close", () => clearInterval(t));
    };
    const e = await failure(send({ maxResponseBytes: 2_000 }));
    expect([e.phase, e.reason]).toEqual(["response", "too_large"]);
    expect(written).toBeLessThan(100_000); // it stopped reading, it did not wait for the end
  });

  it("a connection refused is a connect failure (safe to retry elsewhere)", async () => {
    const gone = await server(() => (_req, res) => res.end());
    const url = gone.url;
    await gone.close();
    const e = await failure(
      transport.request({ method: "GET", url: `${url}/healthz`, headers: {}, timeoutMs: 1_000, maxResponseBytes: 10 }),
    );
    expect([e.phase, e.reason]).toEqual(["connect", "refused"]);
  });

  it("a node that dies after its headers is a response failure (it may have done the work)", async () => {
    behaviour = (_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      setTimeout(() => res.socket?.destroy(), 10);
    };
    expect((await failure(send())).phase).toBe("response");
  });

  it("the client going away aborts the upstream request", async () => {
    let closed = false;
    behaviour = (req) => {
      req.socket.on("close", () => {
        closed = true;
      });
    };
    const controller = new AbortController();
    const pending = send({ signal: controller.signal, timeoutMs: 5_000 });
    setTimeout(() => controller.abort(), 50);
    const e = await failure(pending);
    expect(e.reason).toBe("aborted");
    const end = Date.now() + 10_000; // the server sees the close when it sees it: poll, do not guess a delay
    while (!closed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
    const already = new AbortController();
    already.abort();
    expect((await failure(send({ signal: already.signal }))).reason).toBe("aborted");
  });
});
