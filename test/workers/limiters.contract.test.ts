import { env } from "cloudflare:workers";
import { DurableConcurrencyLimiter, DurableRateLimiter } from "../../proxy/src/adapters/workers/durable-limiters.ts";
import { runConcurrencyLimiterContract, runRateLimiterContract } from "../../proxy/src/core/rate-limit/contract.ts";

// The same contracts as the in-memory limiters on Node, through real Durable Objects in workerd. Every limiter gets
// its own object names (a fresh prefix), so each test starts from empty buckets.
runRateLimiterContract({ make: () => new DurableRateLimiter(env.LIMITER, { prefix: `${crypto.randomUUID()}:` }) });
runConcurrencyLimiterContract({
  make: () => new DurableConcurrencyLimiter(env.LIMITER, 60_000, { prefix: `${crypto.randomUUID()}:` }),
});
