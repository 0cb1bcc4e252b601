import { readFileSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // onnxruntime sessions use both cores; running test files in parallel only adds contention.
    fileParallelism: false,
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: [
            "audio/**/*.test.ts",
            "gpu-node/**/*.test.ts",
            "capacity/**/*.test.ts",
            "proxy/**/*.test.ts",
            "billing/**/*.test.ts",
            "domain/**/*.test.ts",
            "storage/**/*.test.ts",
            "migrations/**/*.test.ts",
            "test/**/*.test.ts",
            "deploy/**/*.test.ts",
            "scripts/**/*.test.ts",
          ],
          exclude: ["**/node_modules/**", "test/workers/**"],
        },
      },
      {
        // The Worker (wrangler.toml) in real workerd: D1, Durable Objects and Queues from miniflare.
        extends: true,
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations("migrations/sql"),
                ADMIN_TOKEN: "test-admin-token-0123456789",
                GPU_NODE_URL: inject("gpuNodeUrl"),
                DEAD_NODE_URL: inject("deadNodeUrl"),
                CALLBACK_RECEIVER_URL: inject("callbackReceiverUrl"),
                STRIPE_TEST_API_BASE: inject("stripeApiBase"),
                STRIPE_TEST_SECRET_KEY: inject("stripeSecretKey"),
                GPU_NODES: inject("gpuNodeUrl"),
                // Tests that are about the per-IP limit build their own isolates with a tight one.
                IP_RATE_PER_SECOND: "1000000",
                IP_BURST: "1000000",
                // Health rounds only when a test triggers the cron; isolates refresh routing on every request.
                HEALTH_INTERVAL_MS: "3600000",
                ROUTING_TTL_MS: "0",
              },
              // A bucket of its own for the ResultStore contract, which empties it between tests (JOB_RESULTS is the Worker's).
              r2Buckets: ["TEST_RESULTS"],
              // LimiterObject from a Worker of its own (test/workers/limiter-worker/): plain workerd RPC, without the
              // pool's per-call shim around the main Worker's Durable Objects.
              durableObjects: {
                LIMITER: { className: "LimiterObject", scriptName: "limiter-objects", useSQLite: true },
              },
              workers: [
                {
                  name: "limiter-objects",
                  modules: [
                    { type: "ESModule", path: "index.js", contents: readFileSync(inject("limiterScript"), "utf8") },
                  ],
                  compatibilityDate: "2026-04-01",
                  durableObjects: { LIMITER: { className: "LimiterObject", useSQLite: true } },
                },
              ],
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: ["test/workers-global-setup.ts"],
          setupFiles: ["test/workers/apply-migrations.ts"],
        },
      },
    ],
  },
});
