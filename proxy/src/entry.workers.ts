/**
 * The Worker entry: the same app as `entry.node.ts`, on edge adapters (D1, Durable Objects, Queues, fetch). It only
 * builds the proxy once per isolate (configuration checked by zod) and routes the runtime's events to it.
 */
import { createEdgeProxy, type EdgeProxy } from "./adapters/workers/edge-proxy.ts";
import { BadEnvironmentError, QUEUE_NAMES, type WorkerBindings } from "./adapters/workers/env.ts";
import {
  badEnvironment,
  handleJobDeadLetters,
  handleScheduled,
  handleUsageBatch,
  handleUsageDeadLetters,
} from "./adapters/workers/handlers.ts";

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
  async queue(batch, env, ctx) {
    switch (batch.queue) {
      case QUEUE_NAMES.usage:
        return handleUsageBatch(batch, env);
      case QUEUE_NAMES.usageDeadLetters:
        return handleUsageDeadLetters(batch, env);
      case QUEUE_NAMES.jobs:
        proxy ??= createEdgeProxy(env);
        await proxy.consumeJobs(batch, ctx);
        return;
      case QUEUE_NAMES.jobDeadLetters:
        return handleJobDeadLetters(batch, env);
      default:
        // A queue this Worker was bound to but does not know: nothing is acked, so nothing is lost.
        throw new Error(`no consumer for queue ${batch.queue}`);
    }
  },
  async scheduled(_controller, env, ctx) {
    let jobs: EdgeProxy["jobWorker"] | undefined;
    try {
      proxy ??= createEdgeProxy(env);
      jobs = proxy.jobWorker;
    } catch (error) {
      // Without a valid configuration the cron still checks nodes and runs billing; job callbacks wait.
      if (!(error instanceof BadEnvironmentError)) throw error;
    }
    ctx.waitUntil(handleScheduled(env, jobs));
  },
} satisfies ExportedHandler<WorkerBindings>;
