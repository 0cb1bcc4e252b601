/**
 * Local servers for tests and benchmarks of the generator itself (never for measuring the TTS stack):
 * - a trivial server that answers every request at once (the generator-cost benchmark's target, as autocannon's);
 * - a queueing server with `slots` workers and a fixed service time (an M/D/c queue), whose capacity is known in
 *   advance (slots / service time), to check that the capacity search finds it.
 * Plain node:http on 127.0.0.1, port 0.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface LocalServer {
  url: string;
  served: () => number;
  close: () => Promise<void>;
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{
  url: string;
  close: () => Promise<void>;
}> {
  const server = createServer({ keepAliveTimeout: 60_000 }, handler);
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

const BODY = Buffer.from("ok");

export async function startTrivialServer(): Promise<LocalServer> {
  let served = 0;
  const s = await listen((req, res) => {
    req.resume();
    req.on("end", () => {
      served++;
      res.writeHead(200, {
        "content-type": "text/plain",
        "content-length": BODY.length,
        "x-audio-duration-ms": "1000",
      });
      res.end(BODY);
    });
  });
  return { ...s, served: () => served };
}

export interface QueueServerOptions {
  slots: number;
  serviceMs: number;
  /** audio each answer claims to carry */
  audioMs?: number;
  /** requests waiting beyond this are answered 503 at once */
  maxQueue?: number;
}

/** `slots` requests are served at a time, each for `serviceMs`; the rest wait in FIFO order. */
export async function startQueueServer(o: QueueServerOptions): Promise<LocalServer> {
  let served = 0;
  let busy = 0;
  const queue: ServerResponse[] = [];
  const finish = (res: ServerResponse) => {
    served++;
    res.writeHead(200, {
      "content-type": "text/plain",
      "content-length": BODY.length,
      "x-audio-duration-ms": String(o.audioMs ?? 1000),
    });
    res.end(BODY);
    busy--;
    pump();
  };
  const pump = () => {
    while (busy < o.slots && queue.length > 0) {
      const res = queue.shift();
      if (!res) break;
      busy++;
      setTimeout(() => finish(res), o.serviceMs);
    }
  };
  const s = await listen((req, res) => {
    req.resume();
    req.on("end", () => {
      if (o.maxQueue !== undefined && queue.length >= o.maxQueue) {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
        res.end('{"error":{"code":"QUEUE_FULL","message":"full"}}');
        return;
      }
      queue.push(res);
      pump();
    });
  });
  return { ...s, served: () => served };
}
