import type { D1Migration } from "cloudflare:test";
import type { WorkerBindings } from "../../proxy/src/adapters/workers/env.ts";

declare global {
  namespace Cloudflare {
    /** The Worker's bindings (wrangler.toml) plus what vitest.config.ts adds for the tests. */
    interface Env extends WorkerBindings {
      TEST_MIGRATIONS: D1Migration[];
      /** a real gpu-node (tiny model) started by test/workers-global-setup.ts */
      GPU_NODE_URL: string;
      /** a port on 127.0.0.1 nothing listens on */
      DEAD_NODE_URL: string;
      /** an HTTP receiver for job callbacks (test/workers-global-setup.ts): GET lists what was POSTed */
      CALLBACK_RECEIVER_URL: string;
      /** billing/testing/stripe-server, started by test/workers-global-setup.ts */
      STRIPE_TEST_API_BASE: string;
      STRIPE_TEST_SECRET_KEY: string;
      /** an R2 bucket for the ResultStore contract */
      TEST_RESULTS: R2Bucket;
    }
  }
}
