/**
 * The LimiterObject class alone, as a Worker of its own, for the workerd tests: vitest-pool-workers wraps every
 * Durable Object of the main Worker in a shim that imports the module again on each call (milliseconds per RPC), so
 * the limiter contract's 12,000 calls go to this copy instead (the same source, bundled by wrangler in
 * test/workers-global-setup.ts) over plain workerd RPC.
 */
export { LimiterObject } from "../../../proxy/src/adapters/workers/limiter-object.ts";

export default {
  fetch: () => new Response("rate-limit objects only", { status: 404 }),
};
