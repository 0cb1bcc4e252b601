/**
 * The local Stripe-compatible test server as a process, for trying billing by hand:
 *
 *   npx tsx billing/testing/stripe-server/main.ts --port 12111 \
 *     --webhook http://127.0.0.1:8080/stripe/webhook --secret whsec_local
 *
 * then run the proxy with STRIPE_SECRET_KEY=sk_test_local STRIPE_API_BASE=http://127.0.0.1:12111
 * STRIPE_WEBHOOK_SECRET=whsec_local. Events are delivered (signed) every second while a webhook is set.
 */
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { createStripeTestServer } from "./app.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "12111" },
    host: { type: "string", default: "127.0.0.1" },
    webhook: { type: "string" },
    secret: { type: "string", default: "whsec_local" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(
    "Usage: tsx billing/testing/stripe-server/main.ts [--port 12111] [--host 127.0.0.1] [--webhook URL --secret whsec_…]",
  );
  process.exit(0);
}
const server = createStripeTestServer(
  values.webhook ? { webhook: { url: values.webhook, secret: values.secret } } : {},
);
const port = Number(values.port);
server.setBaseUrl(`http://${values.host}:${port}`);
serve({ fetch: server.app.fetch, port, hostname: values.host }, (info) => {
  console.log(`local Stripe-compatible test server on http://${values.host}:${info.port} (any sk_test_… key)`);
});
if (values.webhook) {
  setInterval(() => {
    server.deliverEvents().catch((e: unknown) => console.error(`webhook delivery failed: ${String(e)}`));
  }, 1_000).unref();
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));
