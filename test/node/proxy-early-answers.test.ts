import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, startStubNode } from "../../proxy/src/testing/stack.ts";
import { billed, putPlan, type TestProxy } from "./proxy-helpers.ts";

type Stub = Awaited<ReturnType<typeof startStubNode>>;

/**
 * Sends a request the way many clients do (curl, Python's http.client, a fuzzer): the whole body first, in pieces
 * with short pauses (a slow link), and only then reads the answer. Resolves with everything the server sent before
 * it closed; rejects on a connection error (a reset loses the answer the server had already written).
 */
function uploadThenRead(url: string, head: Record<string, string>, bodyBytes: number, chunked: boolean) {
  const { hostname, port } = new URL(url);
  return new Promise<string>((resolve, reject) => {
    // Reads nothing until the whole body is sent (the data waits in the kernel's receive buffer, as it does for a
    // client busy uploading), and does not stop sending when the server half-closes.
    const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true });
    socket.pause();
    let received = "";
    socket.on("data", (d: Buffer) => {
      received += d.toString("latin1");
    });
    socket.on("error", (e) => reject(new Error(`${(e as NodeJS.ErrnoException).code} after ${received.length} bytes`)));
    socket.on("end", () => resolve(received));
    socket.on("close", () => resolve(received));
    const write = (data: string | Uint8Array) =>
      new Promise<void>((ok, fail) => socket.write(data, (e) => (e ? fail(e) : ok())));
    socket.once("connect", async () => {
      try {
        const lines = Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`);
        const framing = chunked ? "transfer-encoding: chunked\r\n" : `content-length: ${bodyBytes}\r\n`;
        await write(`POST /v1/tts HTTP/1.1\r\nhost: ${hostname}\r\n${lines.join("")}${framing}\r\n`);
        const piece = new Uint8Array(64 * 1024).fill(0x20);
        for (let sent = 0; sent < bodyBytes; sent += piece.byteLength) {
          await write(chunked ? `${piece.byteLength.toString(16)}\r\n` : "");
          await write(piece);
          if (chunked) await write("\r\n");
          await new Promise((r) => setTimeout(r, 40));
        }
        if (chunked) await write("0\r\n\r\n");
        socket.end(); // done sending: now read whatever the server answered
        socket.resume();
      } catch (e) {
        reject(new Error(`${(e as NodeJS.ErrnoException).code ?? e} while sending, after ${received.length} bytes`));
      }
    });
  });
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
const codeOf = (raw: string) => /"code":"([A-Z_]+)"/.exec(raw)?.[1];

/**
 * Issue 14 #6: an answer given before the body is read (413 from Content-Length, 429 before the body) must reach the
 * client. Closing the socket while the client is still sending makes the kernel reset the connection, and a client
 * that reads after sending loses the answer.
 */
describe("early answers reach a client that reads only after sending its whole body", () => {
  let node: Stub;
  let proxy: TestProxy;
  let limited: TestProxy;
  const BODY = 3 * 1024 * 1024;

  beforeAll(async () => {
    node = await startStubNode(1000);
    proxy = await startProxy([node.url], { config: { ipPolicy: { ratePerSecond: 1e6, burst: 1e6 } } });
    limited = await startProxy([node.url], { config: { ipPolicy: { ratePerSecond: 0.001, burst: 1 } } });
  });
  afterAll(async () => {
    await proxy.close();
    await limited.close();
    await node.close();
  });

  it("413 from Content-Length, and 413 of a chunked body past the cap, arrive whole", async () => {
    await putPlan(proxy, "basic");
    const c = await proxy.newCustomer();
    for (const chunked of [false, true]) {
      const raw = await uploadThenRead(
        proxy.url,
        { authorization: `Bearer ${c.key}`, "content-type": "application/json" },
        BODY,
        chunked,
      );
      expect([statusOf(raw), codeOf(raw)], `chunked: ${chunked}`).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    }
    expect((await billed(proxy, c.id)).events).toBe(0);
  });

  it("429 before the body is read arrives whole", async () => {
    const c = await limited.newCustomer();
    const first = await fetch(`${limited.url}/v1/voices`, { headers: { authorization: `Bearer ${c.key}` } });
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const raw = await uploadThenRead(
      limited.url,
      { authorization: `Bearer ${c.key}`, "content-type": "application/json" },
      BODY,
      false,
    );
    expect([statusOf(raw), codeOf(raw)]).toEqual([429, "RATE_LIMITED"]);
  });
});

/** Issue 14 #7: a client that goes away during its upload is a client event (499 CLIENT_CLOSED), not an INTERNAL. */
describe("a client that aborts during its upload", () => {
  it("is logged as CLIENT_CLOSED (a client-side outcome), never as INTERNAL", async () => {
    const node = await startStubNode(1000);
    const logs: Record<string, unknown>[] = [];
    const proxy = await startProxy([node.url], {
      config: { ipPolicy: { ratePerSecond: 1e6, burst: 1e6 } },
      log: (line) => logs.push(line),
    });
    try {
      const c = await proxy.newCustomer();
      const { port } = new URL(proxy.url);
      for (const framing of ["content-length: 60000\r\n", "transfer-encoding: chunked\r\n"]) {
        const before = logs.length;
        const socket = connect(Number(port), "127.0.0.1");
        await new Promise<void>((r) => socket.once("connect", () => r()));
        const chunked = framing.startsWith("transfer");
        socket.write(
          `POST /v1/tts HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${c.key}\r\ncontent-type: application/json\r\n${framing}\r\n`,
        );
        const part = `{"text":"${"x".repeat(1000)}`;
        socket.write(chunked ? `${part.length.toString(16)}\r\n${part}\r\n` : part);
        // The app has started reading the body once the request counts as in flight; then the client vanishes.
        const limiter = proxy.deps.concurrency as unknown as { inFlight(key: string): number };
        await until(() => limiter.inFlight(`key:${c.keyId}`) > 0 || logs.length > before);
        socket.destroy();
        await until(() => logs.length > before);
        const line = logs[before];
        expect(line?.code, JSON.stringify(line)).toBe("CLIENT_CLOSED");
        expect(line?.level).not.toBe("error");
      }
      expect(logs.filter((l) => l.code === "INTERNAL")).toEqual([]);
      expect((await billed(proxy, c.id)).events).toBe(0);
    } finally {
      await proxy.close();
      await node.close();
    }
  });
});

/** Polls a condition (each turn yields to the servers); fails after a generous deadline, never a fixed sleep. */
async function until(condition: () => boolean, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}
