import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { usageEvents } from "../../migrations/schema/index.ts";
import { openD1 } from "../../proxy/src/adapters/workers/d1/index.ts";
import { createEdgeProxy } from "../../proxy/src/adapters/workers/edge-proxy.ts";
import { retryDelaySeconds } from "../../proxy/src/adapters/workers/usage-queue.ts";
import worker from "../../proxy/src/entry.workers.ts";
import type { UsageEvent } from "../../proxy/src/store/ports.ts";
import { eventually, isolate, newCustomer, request, self, tts, upsertPlan, usageRowsFor } from "./helpers.ts";

/** Runs the Worker's queue consumer on `bodies`, as Queues would deliver them (attempt `attempts`). */
async function deliver(bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch("indextts-usage", [
    ...bodies.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts, body })),
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function storedEvent(requestId: string): Promise<UsageEvent> {
  const row = await openD1(env.DB).select().from(usageEvents).where(eq(usageEvents.requestId, requestId)).get();
  if (!row) throw new Error(`no row ${requestId}`);
  const { id: _cursor, ...event } = row;
  return event;
}

describe("usage through the Queue into D1: none lost, none doubled", () => {
  beforeAll(async () => {
    expect((await self(request("/healthz"))).status).toBe(200);
    await upsertPlan("basic", { rps: 1000, burst: 1000, inFlight: 64 });
  });

  it("every 200 any isolate answered has exactly one row, with the tokens it was charged", async () => {
    const c = await newCustomer();
    const other = isolate(createEdgeProxy(env));
    const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? self : other)(tts(c.key))));
    const charged = new Map<string, number>();
    const refused: string[] = [];
    for (const r of responses) {
      // A loaded machine may make the test node shed load (503 NO_CAPACITY, nothing synthesised): such an answer must
      // leave no row; every 200 must have exactly one. The money property holds either way.
      if (r.status === 503) {
        expect(((await r.clone().json()) as { error: { code: string } }).error.code).toBe("NO_CAPACITY");
        refused.push(r.headers.get("x-request-id") ?? "");
      } else {
        expect(r.status, r.status === 200 ? "" : await r.clone().text()).toBe(200);
        charged.set(r.headers.get("x-request-id") ?? "", Number(r.headers.get("x-tokens")));
      }
      await r.arrayBuffer();
    }
    expect(charged.size).toBeGreaterThan(0);
    expect(charged.size + refused.length).toBe(6);
    const ids = [...charged.keys()];
    await eventually(async () => (await usageRowsFor(ids)).length === ids.length, 20_000, "every row in D1");
    const rows = await usageRowsFor(ids);
    expect(new Map(rows.map((r) => [r.request_id, r.tokens]))).toEqual(charged);
    const { results } = await env.DB.prepare("select count(*) as n from usage_events where customer_id = ?1")
      .bind(c.id)
      .all<{ n: number }>();
    expect(results[0]?.n).toBe(charged.size);
    expect(await usageRowsFor(refused)).toEqual([]);
  });

  it("a redelivered message or a repeated batch changes nothing; new rows in the same batch are written", async () => {
    const c = await newCustomer();
    const res = await self(tts(c.key));
    const id = res.headers.get("x-request-id") ?? "";
    await eventually(async () => (await usageRowsFor([id])).length === 1, 20_000, "the row");
    const event = await storedEvent(id);
    const fresh = { ...event, requestId: `${id}-fresh` };

    const first = await deliver([event, fresh, event], 2);
    expect(first.retryMessages).toEqual([]);
    expect(first.explicitAcks.sort()).toEqual(["msg-0", "msg-1", "msg-2"]);
    await deliver([fresh, event], 3);
    expect((await usageRowsFor([id, fresh.requestId])).map((r) => r.request_id).sort()).toEqual(
      [id, fresh.requestId].sort(),
    );
  });

  it("a row D1 refuses is retried alone with backoff; the rest of its batch is written", async () => {
    const c = await newCustomer();
    const res = await self(tts(c.key));
    const id = res.headers.get("x-request-id") ?? "";
    await eventually(async () => (await usageRowsFor([id])).length === 1, 20_000, "the row");
    const event = await storedEvent(id);
    const good = [1, 2].map((n) => ({ ...event, requestId: `${id}-good-${n}` }));
    const orphan = { ...event, requestId: `${id}-orphan`, customerId: "cus_does_not_exist" };

    const result = await deliver([good[0], orphan, good[1]], 3);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["msg-1"]);
    // Third attempt: 40 s (10 s doubling), capped at an hour (the test pool does not report the delay it was given).
    expect([1, 2, 3, 10, 99].map(retryDelaySeconds)).toEqual([10, 20, 40, 3_600, 3_600]);
    expect(result.explicitAcks.sort()).toEqual(["msg-0", "msg-2"]);
    const stored = (await usageRowsFor([...good.map((g) => g.requestId), orphan.requestId])).map((r) => r.request_id);
    expect(stored.sort()).toEqual(good.map((g) => g.requestId).sort());
  });

  it("a malformed message goes to the dead-letter queue at once and writes nothing", async () => {
    const result = await deliver([{ requestId: "req_bad", amountMicros: 1.5 }, "not even an object"]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual(["msg-0", "msg-1"]);
    expect(await usageRowsFor(["req_bad"])).toEqual([]);
  });

  it("no audio is released when the queue does not take the usage row", async () => {
    const c = await newCustomer();
    const refusingQueue = {
      send: () => Promise.reject(new Error("queue unavailable")),
      sendBatch: () => Promise.reject(new Error("queue unavailable")),
      metrics: () => Promise.reject(new Error("queue unavailable")),
    } as unknown as Queue<UsageEvent>;
    const broken = isolate(createEdgeProxy({ ...env, USAGE_QUEUE: refusingQueue }));
    const res = await broken(tts(c.key));
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INTERNAL");
  });
});
