/**
 * A stand-in GPU node for the jobs tests and benchmark, over real HTTP on 127.0.0.1. It is NOT the model: it answers
 * silent WAV. What it does copy from gpu-node is the admission behaviour the batch feeder depends on:
 *
 * - `slots` requests run at once (the GPT batch); `reservedInteractive` of them batch work may never take;
 * - others wait in one queue, interactive first; past `maxQueue` waiting → 503 QUEUE_FULL with Retry-After;
 * - `/healthz` reports `queue_depth`, `in_flight`, `free_slots`, `ready` like gpu-node's;
 * - a request runs for `serviceMs × (1 + contention × (running − 1))`, the running count taken when it starts: a
 *   batched GPU step costs more with more rows (a modelled cost, stated in the benchmark).
 *
 * Faults can be switched on (`failEvery`, `failFirst`: answers 500) to drive retries.
 */
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { silentWav } from "../../testing/stack.ts";

export interface SlotNodeOptions {
  slots?: number;
  reservedInteractive?: number;
  maxQueue?: number;
  serviceMs?: number;
  contention?: number;
  audioMs?: number;
}

type Priority = "interactive" | "batch";

export interface SlotNodeStats {
  served: Record<Priority, number>;
  refused: number;
  failed: number;
  /** the most requests of each priority running at once */
  peakRunning: Record<Priority, number>;
  /** interactive requests that had to wait for a slot, and the longest wait (ms) */
  interactiveQueued: number;
  interactiveMaxWaitMs: number;
  /** batch requests that had to wait for a slot */
  batchQueued: number;
  /** request ids served more than once (a re-run item) */
  repeats: number;
  /** what was running when each interactive request had to wait */
  queuedWhile: Record<Priority, number>[];
}

export async function startSlotNode(options: SlotNodeOptions = {}) {
  const o = {
    slots: 8,
    reservedInteractive: 2,
    maxQueue: 64,
    serviceMs: 20,
    contention: 0,
    audioMs: 1000,
    ...options,
  };
  const wav = silentWav(o.audioMs);
  const running: Record<Priority, number> = { interactive: 0, batch: 0 };
  const queue: { priority: Priority; since: number; start: () => void }[] = [];
  const seen = new Set<string>();
  /**
   * failEvery: every n-th answer is a 500; failFirst: the first request of each request id is a 500 (its retry
   * succeeds); reportQueueDepth: what /healthz claims (null: the truth)
   */
  const control = { failEvery: 0, failFirst: false, count: 0, reportQueueDepth: null as number | null };
  const failedOnce = new Set<string>();
  const stats: SlotNodeStats = {
    served: { interactive: 0, batch: 0 },
    refused: 0,
    failed: 0,
    peakRunning: { interactive: 0, batch: 0 },
    interactiveQueued: 0,
    interactiveMaxWaitMs: 0,
    batchQueued: 0,
    repeats: 0,
    queuedWhile: [],
  };
  const total = () => running.interactive + running.batch;
  const canStart = (p: Priority) =>
    total() < o.slots && (p === "interactive" || running.batch < o.slots - o.reservedInteractive);

  const pump = () => {
    for (;;) {
      const i = queue.findIndex((w) => w.priority === "interactive" && canStart("interactive"));
      const j = i >= 0 ? i : queue.findIndex((w) => w.priority === "batch" && canStart("batch"));
      if (j < 0) return;
      const [next] = queue.splice(j, 1);
      next?.start();
    }
  };

  const run = (priority: Priority) =>
    new Promise<void>((resolve, reject) => {
      const begin = () => {
        running[priority]++;
        stats.peakRunning[priority] = Math.max(stats.peakRunning[priority], running[priority]);
        const ms = o.serviceMs * (1 + o.contention * (total() - 1));
        setTimeout(() => {
          running[priority]--;
          pump();
          resolve();
        }, ms);
      };
      if (queue.length === 0 && canStart(priority)) return begin();
      if (queue.length >= o.maxQueue) return reject(new Error("full"));
      const since = performance.now();
      if (priority === "interactive") {
        stats.interactiveQueued++;
        stats.queuedWhile.push({ ...running });
      } else stats.batchQueued++;
      queue.push({
        priority,
        since,
        start: () => {
          if (priority === "interactive") {
            stats.interactiveMaxWaitMs = Math.max(stats.interactiveMaxWaitMs, performance.now() - since);
          }
          begin();
        },
      });
    });

  const app = new Hono();
  app.get("/healthz", (c) =>
    c.json({
      queue_depth: control.reportQueueDepth ?? queue.length,
      in_flight: total(),
      free_slots: o.slots - total(),
      ready: true,
    }),
  );
  app.get("/stats", (c) =>
    c.json({ ...stats, queuedWhile: stats.queuedWhile.length, running, queue_depth: queue.length }),
  );
  app.get("/info", (c) => c.json({ voices: [{ id: 0, name: "alice", description: "slot node (silent audio)" }] }));
  app.post("/synthesize", async (c) => {
    const body = (await c.req.json()) as { priority?: Priority };
    const priority: Priority = body.priority === "batch" ? "batch" : "interactive";
    const id = c.req.header("x-request-id") ?? "";
    try {
      await run(priority);
    } catch {
      stats.refused++;
      return c.json({ error: { code: "QUEUE_FULL", message: "full" } }, 503, { "retry-after": "1" });
    }
    control.count++;
    const firstFailure = control.failFirst && !failedOnce.has(id);
    if (firstFailure) failedOnce.add(id);
    if (firstFailure || (control.failEvery > 0 && control.count % control.failEvery === 0)) {
      stats.failed++;
      return c.json({ error: { code: "INTERNAL", message: "injected failure" } }, 500);
    }
    stats.served[priority]++;
    if (seen.has(id)) stats.repeats++;
    seen.add(id);
    return c.body(wav as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "audio/wav",
      "x-audio-duration-ms": o.audioMs.toFixed(1),
    });
  });

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    control,
    running,
    queueDepth: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
