import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../../proxy/src/adapters/redis/testing/redis-server.ts";
import { spawnService } from "../../proxy/src/testing/stack.ts";

/**
 * Two Node proxy processes sharing one Redis (REDIS_URL): the per-IP limit is one bucket for both, not one each.
 * A flood at 10× the burst, spread over both replicas, is admitted at most burst + rate × elapsed (GCRA's bound),
 * within 1 %: with in-process limiters each replica would admit its own burst and the total would double.
 */
const BURST = 100;
const RATE = 1;
const FLOOD = 10 * BURST;

let redis: RedisServer;
const replicas: { url: string; child: ChildProcess }[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  for (let i = 0; i < 2; i++) {
    const dir = mkdtempSync(join(tmpdir(), `replica-${i}-`));
    dirs.push(dir);
    replicas.push(
      await spawnService(
        "proxy/src/entry.node.ts",
        {
          PORT: "0",
          DATA_DIR: dir,
          ADMIN_TOKEN: "replica-admin-token-0123456789",
          REDIS_URL: redis.url,
          IP_RATE_PER_SECOND: String(RATE),
          IP_BURST: String(BURST),
        },
        /proxy listening on (http:\/\/[^\s]+)/,
      ),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const r of replicas) r.child.kill("SIGKILL");
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("replicas on one Redis", () => {
  it(`admit one client at most burst + rate × elapsed (≤ 1 % over) across both, at ${FLOOD / BURST}× the burst`, async () => {
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: FLOOD }, async (_, i) => {
        const replica = replicas[i % 2];
        if (!replica) throw new Error("no replica");
        const res = await fetch(`${replica.url}/v1/voices`);
        await res.arrayBuffer();
        return { replica: i % 2, status: res.status };
      }),
    );
    const elapsedSeconds = (performance.now() - started) / 1000;
    const admitted = statuses.filter((s) => s.status !== 429);
    // Unauthenticated: an admitted request is answered 401 by the key check that follows the per-IP limit.
    expect(new Set(admitted.map((s) => s.status))).toEqual(new Set([401]));
    const bound = BURST + RATE * elapsedSeconds;
    expect(admitted.length).toBeGreaterThanOrEqual(BURST);
    expect(admitted.length).toBeLessThanOrEqual(Math.floor(bound * 1.01));
    // Both replicas took part in admitting (one bucket, two doors).
    expect(new Set(admitted.map((s) => s.replica)).size).toBe(2);
  });
});
