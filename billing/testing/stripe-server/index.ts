import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import Stripe from "stripe";
import { createStripeTestServer, type StripeTestServerOptions } from "./app.ts";

export {
  createStripeTestServer,
  type LoggedRequest,
  type StripeTestServer,
  type StripeTestServerOptions,
} from "./app.ts";
export { signatureHeader, signPayload } from "./signing.ts";

export const TEST_SECRET_KEY = "sk_test_billing_local_0123456789";

/**
 * The test server on 127.0.0.1 (port 0), and an official `stripe` SDK client pointed at it by host, port and
 * protocol, as production code is pointed at api.stripe.com.
 *
 * @example
 * const stripe = await startStripeTestServer();
 * const customer = await stripe.client.customers.create({ email: "a@b.test" });
 * await stripe.close();
 */
export async function startStripeTestServer(options: StripeTestServerOptions = {}) {
  const server = createStripeTestServer(options);
  const http: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: server.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = http.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  server.setBaseUrl(url);
  const connection = { host: "127.0.0.1", port, protocol: "http" as const };
  return {
    ...server,
    url,
    connection,
    /** An SDK client for this server (no network retries unless asked: tests see every request). */
    client: (config: { maxNetworkRetries?: number } = {}) =>
      new Stripe(TEST_SECRET_KEY, {
        ...connection,
        maxNetworkRetries: config.maxNetworkRetries ?? 0,
        telemetry: false,
      }),
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        (http as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

export type RunningStripeTestServer = Awaited<ReturnType<typeof startStripeTestServer>>;
