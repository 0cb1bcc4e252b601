/**
 * The Worker entry: the same app as `entry.node.ts`, on edge adapters (D1, Durable Objects, Queues, fetch). It only
 * builds the proxy once per isolate (configuration checked by zod) and routes the runtime's events to it.
 */
import { createEdgeProxy, type EdgeProxy } from "./adapters/workers/edge-proxy.ts";
import { BadEnvironmentError, type WorkerBindings } from "./adapters/workers/env.ts";
import { badEnvironment, handleScheduled, handleUsageBatch } from "./adapters/workers/handlers.ts";

export { LimiterObject } from "./adapters/workers/limiter-object.ts";
export { NodeHealthObject } from "./adapters/workers/node-health-object.ts";

let proxy: EdgeProxy | undefined;

export default {
  async fetch(request, env, ctx) {
    try {
      proxy ??= createEdgeProxy(env);
    } catch (error) {
      if (error instanceof BadEnvironmentError) return badEnvironment(error);
      throw error;
    }
    return proxy.fetch(request, ctx);
  },
  async queue(batch, env) {
    await handleUsageBatch(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(handleScheduled(env));
  },
} satisfies ExportedHandler<WorkerBindings>;
