import type { Server } from "node:http";

/**
 * Graceful stop of a Node HTTP server (issue 14 #10): on SIGTERM no new work is taken — the listener closes, idle
 * keep-alive connections are closed, and a request that still arrives on an open connection is answered 503
 * `SHUTTING_DOWN` with `Connection: close` — while the requests in flight run to the end. `drain()` resolves once
 * they have (or at the deadline, when the connections left are cut).
 */
export function drainable<F extends (req: Request, ...rest: never[]) => Response | Promise<Response>>(fetch: F) {
  let draining = false;
  const refuse = () =>
    new Response(
      JSON.stringify({ error: { code: "SHUTTING_DOWN", message: "this process is shutting down; retry on another" } }),
      { status: 503, headers: { "content-type": "application/json", "retry-after": "1", connection: "close" } },
    );
  const gated = ((req: Request, ...rest: never[]) => (draining ? refuse() : fetch(req, ...rest))) as F;
  return {
    fetch: gated,
    get draining() {
      return draining;
    },
    async drain(server: Server, deadlineMs = 30_000): Promise<void> {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A connection goes idle when its last response is written: close those as they appear.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
      await Promise.race([closed, deadline]);
      clearInterval(sweep);
      server.closeAllConnections();
    },
  };
}
