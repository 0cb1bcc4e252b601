import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { accessLog } from "./access-log.ts";

describe("gpu-node access log", () => {
  it("logs the request id it was given, the synthesis figures from the response headers, and skips probes", async () => {
    const lines: Record<string, unknown>[] = [];
    let t = 0;
    const app = new Hono<{ Variables: { requestId: string } }>();
    app.use(async (c, next) => {
      c.set("requestId", c.req.header("x-request-id") ?? "generated");
      await next();
    });
    app.use(accessLog({ log: (l) => lines.push(l), now: () => t }));
    app.post("/synthesize", (c) => {
      t += 1234.56;
      return c.body("wav", 200, {
        "X-Semantic-Tokens": "87",
        "X-Audio-Duration-Ms": "1740.0",
        "X-Segments": "1",
        "X-Batch-Size": "4",
        "X-Queue-Wait-Ms": "12.5",
        "X-Compute-Ms": "1200.0",
        "X-Real-Time-Factor": "0.697",
      });
    });
    app.get("/healthz", (c) => c.json({}));
    await app.request("/synthesize", { method: "POST", headers: { "x-request-id": "req_abc", "x-priority": "batch" } });
    await app.request("/healthz");
    expect(lines).toEqual([
      {
        level: "info",
        msg: "request",
        request_id: "req_abc",
        method: "POST",
        path: "/synthesize",
        status: 200,
        priority: "batch",
        semantic_tokens: 87,
        audio_ms: 1740,
        segments: 1,
        batch_size: 4,
        queue_wait_ms: 12.5,
        compute_ms: 1200,
        real_time_factor: 0.697,
        duration_ms: 1234.6,
      },
    ]);
  });
});
