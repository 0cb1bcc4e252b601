/** Shared by the workerd job tests: a holding jobs Queue, delivering messages, the job API, and D1 reads. */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { JobMessage } from "../../proxy/src/adapters/workers/jobs-queue.ts";
import worker from "../../proxy/src/entry.workers.ts";
import { request, self, type Target } from "./helpers.ts";

/** A jobs Queue that keeps what is sent to it (nothing is delivered): the test delivers it when it chooses. */
export function holdingQueue() {
  const sent: { body: JobMessage; delaySeconds: number | undefined }[] = [];
  const queue = {
    async send(body: JobMessage, options?: QueueSendOptions) {
      sent.push({ body, delaySeconds: options?.delaySeconds });
    },
    async sendBatch(messages: Iterable<MessageSendRequest<JobMessage>>) {
      for (const m of messages) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
    },
  } as unknown as Queue<JobMessage>;
  return { queue, sent };
}

let delivery = 0;
/** Runs the Worker's consumer of `queue` on `bodies`, as Queues would deliver them. */
export async function deliver(queue: string, bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(queue, [
    ...bodies.map((body, i) => ({ id: `m-${++delivery}-${i}`, timestamp: new Date(), attempts, body })),
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

export const auth = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
export const ITEMS = ["第一段。", "第二段!", "第三段?"].map((text) => ({ text, voice: 0 }));

export async function submit(key: string, target: Target = self, items = ITEMS) {
  const res = await target(
    request("/v1/jobs", { method: "POST", headers: auth(key), body: JSON.stringify({ items }) }),
  );
  const body = (await res.json()) as { id: string; status: string };
  expect(res.status, JSON.stringify(body)).toBe(202);
  return body.id;
}

export async function getJob(key: string, id: string) {
  const res = await self(request(`/v1/jobs/${id}`, { headers: auth(key) }));
  return (await res.json()) as {
    status: string;
    counts: Record<string, number>;
    charged: { amount_micros: number; tokens: number };
    items: { n: number; state: string; attempts: number; amount_micros: number | null }[];
  };
}

export async function usageRows(jobId: string) {
  const { results } = await env.DB.prepare(
    "select request_id, amount_micros, tokens, priority, multiplier_bp from usage_events where request_id like ?1 order by request_id",
  )
    .bind(`${jobId}.%`)
    .all<{ request_id: string; amount_micros: number; tokens: number; priority: string; multiplier_bp: number }>();
  return results;
}

export async function itemStates(jobId: string) {
  const { results } = await env.DB.prepare(
    "select n, state, attempts, completed_at from job_items where job_id = ?1 order by n",
  )
    .bind(jobId)
    .all<{ n: number; state: string; attempts: number; completed_at: number | null }>();
  return results;
}

export async function deadLetters(queue: string) {
  const { results } = await env.DB.prepare(
    "select message_id, kind, request_id, customer_id, amount_micros, problem, resolution, resolved_at from queue_dead_letters where queue = ?1 order by id",
  )
    .bind(queue)
    .all<{
      message_id: string;
      kind: string;
      request_id: string | null;
      customer_id: string | null;
      amount_micros: number | null;
      problem: string | null;
      resolution: string | null;
      resolved_at: number | null;
    }>();
  return results;
}
