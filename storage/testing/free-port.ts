import { createServer } from "node:net";

/**
 * A TCP port free on 127.0.0.1 right now, for a test server that cannot be told to pick its own (redis-server,
 * postgres). Another process may take it before the server binds: callers retry on a failed start.
 */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
