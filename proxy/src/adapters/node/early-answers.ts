import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";

/**
 * Lets a client read an answer the server gave before reading the request body (413 from Content-Length, a 429
 * before the body, a chunked body cut at the cap) — issue 14 #6.
 *
 * Closing a socket while the client is still sending makes the kernel answer the next segments with a reset, and a
 * reset discards what the client had not read yet: the answer is lost and the client sees a connection error.
 * @hono/node-server drains the rest of such a body for at most 500 ms and then closes; a client on a slow link (or a
 * loaded machine) is still uploading then. So here the rest of the body is read and discarded (nothing is
 * buffered) until it ends — the connection then stays usable — or until a bound (time, bytes): only then is the
 * socket closed, gently: our side is half-closed first (the client reads the answer and a clean end), and the
 * socket is destroyed after a short linger, as web servers' "lingering close" does.
 *
 * Written for Node's http server (the proxy's and the gpu-node's entries, and the test stacks); Workers have no
 * sockets to manage.
 */
export interface EarlyAnswerOptions {
  /** longest time spent discarding the rest of a body after the answer (default 30 s) */
  maxDrainMs?: number;
  /** most bytes discarded after the answer before closing (default 64 MiB) */
  maxDrainBytes?: number;
  /** after the half-close, how long the client has to stop sending before the socket is destroyed (default 2 s) */
  lingerMs?: number;
}

export function drainEarlyAnswers(server: Server, options: EarlyAnswerOptions = {}): void {
  const maxDrainMs = options.maxDrainMs ?? 30_000;
  const maxDrainBytes = options.maxDrainBytes ?? 64 * 1024 * 1024;
  const lingerMs = options.lingerMs ?? 2_000;
  const draining = new WeakSet<Socket>();

  server.on("request", (req: IncomingMessage, res) => {
    res.once("finish", () => {
      if (!req.complete) drain(req);
    });
  });

  function drain(req: IncomingMessage): void {
    const socket = req.socket;
    if (socket.destroyed || draining.has(socket)) return;
    draining.add(socket);
    // Hold the server's own closes (a `Connection: close` answer, @hono/node-server's 500 ms drain) until the body
    // is in or a bound is reached: this function closes the socket itself then.
    const destroySoon = socket.destroySoon;
    socket.destroySoon = () => {
      closeRequested = true;
    };
    let closeRequested = false;
    let bytes = 0;
    const done = (forceClose: boolean) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      draining.delete(socket);
      socket.destroySoon = destroySoon;
      if (forceClose) lingeringClose(socket, lingerMs);
      else if (closeRequested) socket.destroySoon();
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (bytes > maxDrainBytes) done(true);
    };
    const onEnd = () => done(false);
    const onError = () => done(true);
    const timer = setTimeout(() => done(true), maxDrainMs);
    timer.unref();
    // The web stream the app read the start of keeps a listener that pauses the request once its queue is full.
    req.removeAllListeners("data");
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
    req.resume();
  }
}

/** Half-close (our answer is out; the client reads it, then our FIN), keep discarding, destroy after `lingerMs`. */
function lingeringClose(socket: Socket, lingerMs: number): void {
  if (socket.destroyed) return;
  socket.end();
  socket.on("data", () => {});
  socket.resume();
  setTimeout(() => socket.destroy(), lingerMs).unref();
}
