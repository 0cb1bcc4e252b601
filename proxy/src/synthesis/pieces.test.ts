import { describe, expect, it } from "vitest";
import { ProxyError } from "../core/errors.ts";
import { gpuNodeAdapter, type SpeechRequest } from "../upstream/adapters.ts";
import { TransportError, type TransportRequest, type UpstreamTransport } from "../upstream/transport.ts";
import type { ForwardDeps } from "./forward.ts";
import { forwardPieces, pieceTexts } from "./pieces.ts";

/** A transport whose requests never answer on their own: the test fails one, and each ends when its signal aborts. */
function hangingTransport() {
  const requests: { req: TransportRequest; fail: (e: Error) => void }[] = [];
  const transport: UpstreamTransport = {
    request: (req) =>
      new Promise((_, reject) => {
        requests.push({ req, fail: reject });
        req.signal?.addEventListener("abort", () => reject(new TransportError("response", "aborted", "aborted")), {
          once: true,
        });
      }),
    close: async () => {},
  };
  return { requests, transport };
}

function deps(transport: UpstreamTransport): ForwardDeps {
  return {
    balancer: { acquire: () => ({ node: { id: "n1", url: "http://127.0.0.1:1" }, done: () => {} }) },
    transport,
    adapter: gpuNodeAdapter,
    now: () => 0,
    maxResponseBytes: 1 << 20,
    noCapacityRetryAfterSeconds: 1,
  } as unknown as ForwardDeps;
}

const sentence = "This sentence is one of many in a long text that the proxy splits into pieces. ";
const request: SpeechRequest = {
  requestId: "req_1",
  text: sentence.repeat(40),
  voice: 0,
  speed: 1,
  priority: "interactive",
  deadlineMs: 60_000,
};

describe("forwardPieces", () => {
  it("gives every piece its own signal (no pile of listeners on one), and a failed piece aborts the others", async () => {
    const pieces = pieceTexts(request.text).length;
    expect(pieces).toBeGreaterThan(10);
    const { requests, transport } = hangingTransport();
    const done = forwardPieces(deps(transport), request, "default", 60_000);
    const outcome = expect(done).rejects.toThrow(/failed/);
    await new Promise((r) => setImmediate(r));
    expect(requests.length).toBe(pieces);
    const signals = requests.map((r) => r.req.signal);
    expect(new Set(signals).size).toBe(pieces);
    requests[3]?.fail(new TransportError("response", "other", "node failed"));
    await outcome;
    expect(signals.every((s) => s?.aborted)).toBe(true);
  });

  it("the caller's abort (the client went away) aborts every piece", async () => {
    const { requests, transport } = hangingTransport();
    const client = new AbortController();
    const done = forwardPieces(deps(transport), request, "default", 60_000, client.signal);
    const outcome = expect(done).rejects.toSatisfy((e) => e instanceof ProxyError && e.code === "CLIENT_CLOSED");
    await new Promise((r) => setImmediate(r));
    expect(requests.length).toBeGreaterThan(10);
    client.abort();
    await outcome;
    expect(requests.every((r) => r.req.signal?.aborted)).toBe(true);
  });
});
