import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { measureDuration } from "../../audio/duration.ts";
import { FORMAT_SPECS } from "../../audio/formats.ts";
import { measureWav } from "../../audio/wav.ts";
import { rateUsage } from "../../billing/src/rating/rate.ts";
import { verifyCallback } from "../../proxy/src/jobs/callbacks.ts";
import { startSlotNode } from "../../proxy/src/jobs/testing/slot-node.ts";
import { startJobsStack } from "../../proxy/src/jobs/testing/stack.ts";

type Stack = Awaited<ReturnType<typeof startJobsStack>>;
type JobJson = {
  id: string;
  status: string;
  counts: { queued: number; running: number; done: number; failed: number; cancelled: number };
  charged: { audio_ms: number; tokens: number; amount_micros: number; currency: string };
  items: { n: number; state: string; attempts: number; error: { code: string; message: string } | null }[];
  callback_secret?: string;
};

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function setup(
  options: Parameters<typeof startJobsStack>[1] = {},
  node: Parameters<typeof startSlotNode>[0] = {},
) {
  const slot = await startSlotNode({ serviceMs: 5, audioMs: 1000, ...node });
  open.push(slot);
  const stack = await startJobsStack([slot.url], {
    ...options,
    jobs: { backoffBaseMs: 20, backoffMaxMs: 100, pollMs: 10, peakRecheckMs: 0, ...options.jobs },
  });
  open.push(stack);
  const customer = await stack.newCustomer("batch");
  return { slot, stack, customer };
}

function call(stack: Stack, key: string, method: string, path: string, body?: unknown) {
  return fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
}

async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function waitFor(stack: Stack, key: string, id: string, done: (j: JobJson) => boolean, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await json<JobJson>(await call(stack, key, "GET", `/v1/jobs/${id}`));
    if (done(job)) return job;
    if (Date.now() > until) throw new Error(`job ${id} stuck: ${JSON.stringify(job).slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const finished = (j: JobJson) => !["queued", "running"].includes(j.status);

async function usageRows(stack: Stack, customerId: string) {
  const totals = await stack.stores.ledger.totals({ customerId, fromMs: 0, toMs: Date.now() + 60_000 });
  return totals[0] ?? { events: 0, tokens: 0, amountMicros: 0, peakTokens: 0 };
}

/** The batch price of `tokens` under the default plans' price (20,000 µ/1k tokens, 35 % off), never at peak. */
async function batchPrice(stack: Stack, tokens: number) {
  const version = await stack.stores.plans.versionAt("batch", Date.now());
  if (!version) throw new Error("no batch price");
  return rateUsage({
    tokens,
    plan: "batch",
    atMs: Date.now(),
    version: {
      unitPriceMicrosPer1k: version.unitPriceMicrosPer1kTokens,
      peakMultiplierBp: version.peakMultiplierBp,
      batchDiscountBp: version.batchDiscountBp,
      peakWindows: version.peakWindows,
      timeZone: "UTC",
    },
  }).amountMicros;
}

describe("jobs API (proxy over HTTP, slot node on 127.0.0.1)", () => {
  it("refuses keys of other plans with 403 BATCH_PLAN_REQUIRED", async () => {
    const { stack } = await setup();
    const basic = await stack.newCustomer("basic");
    for (const [method, path] of [
      ["POST", "/v1/jobs"],
      ["GET", "/v1/jobs"],
      ["GET", "/v1/jobs/job_x"],
    ] as const) {
      const res = await call(
        stack,
        basic.key,
        method,
        path,
        method === "POST" ? { items: [{ text: "hi" }] } : undefined,
      );
      expect(res.status, path).toBe(403);
      const body = await json<{ error: { code: string; details: { required_plan: string } } }>(res);
      expect(body.error.code).toBe("BATCH_PLAN_REQUIRED");
      expect(body.error.details.required_plan).toBe("batch");
    }
  });

  it("runs a job: every item synthesised at batch priority, metered once at the batch price, audio per item and whole", async () => {
    const { stack, slot, customer } = await setup();
    const res = await call(stack, customer.key, "POST", "/v1/jobs", {
      items: [{ text: "第一句。" }, { text: "Second one.", speed: 1.2 }, { text: "Third.", emotion: "happy" }],
      metadata: { book: "demo" },
    });
    expect(res.status).toBe(202);
    const created = await json<JobJson & { metadata: unknown }>(res);
    expect(res.headers.get("location")).toBe(`/v1/jobs/${created.id}`);
    expect(created.metadata).toEqual({ book: "demo" });
    const job = await waitFor(stack, customer.key, created.id, finished);
    expect(job.status).toBe("succeeded");
    expect(job.items.map((i) => i.state)).toEqual(["done", "done", "done"]);
    expect(slot.stats.served).toEqual({ interactive: 0, batch: 3 });

    const price = await batchPrice(stack, 50); // 1 s of audio = 50 tokens
    expect(job.charged).toEqual({ audio_ms: 3000, tokens: 150, amount_micros: 3 * price, currency: "USD" });
    const usage = await usageRows(stack, customer.id);
    expect(usage).toMatchObject({ events: 3, tokens: 150, amountMicros: 3 * price });

    const item = await call(stack, customer.key, "GET", `/v1/jobs/${created.id}/items/1/audio`);
    expect(item.status).toBe(200);
    expect(item.headers.get("content-type")).toBe("audio/wav");
    const one = new Uint8Array(await item.arrayBuffer());
    expect(measureWav(one)).toMatchObject({ ok: true, wav: { durationMs: 1000 } });

    const whole = await call(stack, customer.key, "GET", `/v1/jobs/${created.id}/audio`);
    expect(whole.status).toBe(200);
    const all = new Uint8Array(await whole.arrayBuffer());
    expect(Number(whole.headers.get("content-length"))).toBe(all.byteLength);
    const measured = measureWav(all);
    expect(measured).toMatchObject({ ok: true, wav: { durationMs: 3000, sampleRate: 22050, channels: 1 } });
    expect(all.byteLength).toBe(44 + 3 * (one.byteLength - 44));
  });

  it("takes an item as long as the length rule allows: sent in pieces, metered once as one item", async () => {
    const { stack, slot, customer } = await setup();
    const text = "This sentence makes an item longer than one piece. ".repeat(40).trim();
    expect([...text].length).toBeGreaterThan(2000);
    const created = await json<JobJson>(await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text }] }));
    const job = await waitFor(stack, customer.key, created.id, finished);
    expect(job.status).toBe("succeeded");
    const pieces = slot.stats.served.batch;
    expect(pieces).toBeGreaterThan(1);
    expect(job.charged.audio_ms).toBe(pieces * 1000 + (pieces - 1) * 200);
    expect(await usageRows(stack, customer.id)).toMatchObject({ events: 1 });
  });

  it("downloads a job's audio in any response format, its duration the metered one, the bill unchanged", async () => {
    const { stack, customer } = await setup();
    const res = await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "One." }, { text: "Two." }] });
    const created = await json<JobJson>(res);
    const job = await waitFor(stack, customer.key, created.id, finished);
    expect(job.status).toBe("succeeded");
    const before = await usageRows(stack, customer.id);
    for (const format of ["mp3", "opus", "aac", "flac", "pcm"] as const) {
      const item = await call(stack, customer.key, "GET", `/v1/jobs/${created.id}/items/0/audio?format=${format}`);
      expect(item.status, format).toBe(200);
      expect(item.headers.get("content-type")).toBe(FORMAT_SPECS[format].contentType);
      const one = await measureDuration(format, new Uint8Array(await item.arrayBuffer()), 22050);
      expect(one.ok && Math.abs(one.durationMs - 1000) < 160, `${format} item: ${JSON.stringify(one)}`).toBe(true);
      const whole = await call(stack, customer.key, "GET", `/v1/jobs/${created.id}/audio?format=${format}`);
      expect(whole.status, format).toBe(200);
      const all = await measureDuration(format, new Uint8Array(await whole.arrayBuffer()), 22050);
      expect(all.ok && Math.abs(all.durationMs - 2000) < 160, `${format} job: ${JSON.stringify(all)}`).toBe(true);
    }
    const refused = await call(stack, customer.key, "GET", `/v1/jobs/${created.id}/audio?format=vorbis`);
    expect(refused.status).toBe(400);
    expect((await json<{ error: { code: string } }>(refused)).error.code).toBe("UNSUPPORTED_FORMAT");
    expect(await usageRows(stack, customer.id)).toEqual(before);
  });

  it("creates one job per Idempotency-Key: a retried POST gets the same job, not a second one", async () => {
    const { stack, customer } = await setup();
    const keyed = (key: string, body: unknown, path = "/v1/jobs", apiKey = customer.key) =>
      fetch(`${stack.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(body),
      });
    const hook = "http://127.0.0.1:9/hook";
    const post = (key: string, text: string) => keyed(key, { items: [{ text }], callback_url: hook });
    const first = await post("book-42", "once");
    expect(first.status).toBe(202);
    const created = await json<JobJson>(first);
    const [again, concurrent] = await Promise.all([post("book-42", "once"), post("book-42", "once")]);
    for (const res of [again, concurrent]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("idempotent-replayed")).toBe("true");
      const body = await json<JobJson>(res);
      expect(body.id).toBe(created.id);
      expect(body.callback_secret).toBe(created.callback_secret);
    }
    const other = await json<JobJson>(await post("book-43", "once"));
    expect(other.id).not.toBe(created.id);
    // Another customer's same key is another job.
    const someone = await stack.newCustomer("batch");
    const theirs = await keyed("book-42", { items: [{ text: "once" }] }, "/v1/jobs", someone.key);
    expect(theirs.status).toBe(202);
    expect((await json<JobJson>(theirs)).id).not.toBe(created.id);
    // The same request spelled another way (the voice by name, the default speed given) is the same request.
    const respelled = await keyed("book-42", {
      callback_url: hook,
      items: [{ text: "once", voice: "alice", speed: 1 }],
    });
    expect(respelled.status).toBe(200);
    expect((await json<JobJson>(respelled)).id).toBe(created.id);
    // Another body with the key: refused, nothing queued.
    const changed = await post("book-42", "twice");
    expect(changed.status).toBe(422);
    const refused = await json<{ error: { code: string; request_id: string } }>(changed);
    expect(refused.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(refused.error.request_id).toBe(changed.headers.get("x-request-id"));
    // One key, one request, whatever the endpoint: the job's key cannot also buy interactive audio.
    const tts = await keyed("book-42", { text: "once" }, "/v1/tts");
    expect([tts.status, (await json<{ error: { code: string } }>(tts)).error.code]).toEqual([
      422,
      "IDEMPOTENCY_KEY_REUSED",
    ]);
    const list = await json<{ jobs: { id: string }[] }>(await call(stack, customer.key, "GET", "/v1/jobs"));
    expect(list.jobs.map((j) => j.id).sort()).toEqual([created.id, other.id].sort());
    // Each job ran once and was charged once (one item each).
    for (const id of [created.id, other.id]) await waitFor(stack, customer.key, id, finished);
    await stack.worker.idle();
    expect((await usageRows(stack, customer.id)).events).toBe(2);
    expect((await keyed("x y", { items: [{ text: "once" }] })).status).toBe(400);
  });

  it("splits one long text into segments of at most segment_max_chars", async () => {
    const { stack, customer } = await setup();
    const sentence = "这是一个用于测试的句子，它会被切分成若干片段。";
    const text = sentence.repeat(20);
    const res = await call(stack, customer.key, "POST", "/v1/jobs", { text, segment_max_chars: 60, voice: "alice" });
    expect(res.status).toBe(202);
    const created = await json<JobJson & { items_total: number }>(res);
    expect(created.items_total).toBeGreaterThanOrEqual(Math.ceil([...text].length / 60));
    const job = await waitFor(stack, customer.key, created.id, finished);
    expect(job.status).toBe("succeeded");
    const items = await stack.jobStore.items(created.id);
    expect(items.every((i) => [...i.text].length <= 60)).toBe(true);
    expect(items.map((i) => i.text).join("")).toBe(text);
  });

  it("answers bad input with 4xx codes, never 500", async () => {
    const { stack, customer } = await setup({
      jobs: { quotas: { batch: { maxItemsPerJob: 3, maxCharsPerJob: 100, maxActiveJobs: 50, maxActiveItems: 1000 } } },
    });
    const cases: [unknown, number, string][] = [
      ["{not json", 400, "INVALID_JSON"],
      [{}, 400, "INVALID_REQUEST"],
      [{ items: [] }, 400, "INVALID_REQUEST"],
      [{ items: [{ text: "a" }], text: "b" }, 400, "INVALID_REQUEST"],
      [{ items: [{ text: 5 }] }, 400, "INVALID_REQUEST"],
      [{ items: [{ text: "ok" }, { text: "   " }] }, 400, "EMPTY_TEXT"],
      [{ text: "" }, 400, "EMPTY_TEXT"],
      [{ items: [{ text: "x".repeat(4097) }] }, 400, "TEXT_TOO_LONG"],
      [{ items: [{ text: "a", voice: 7 }] }, 400, "UNKNOWN_VOICE"],
      [{ items: [{ text: "a", emotion: "bored" }] }, 400, "UNKNOWN_EMOTION"],
      [{ items: [{ text: "a", speed: 9 }] }, 400, "INVALID_REQUEST"],
      [{ items: [{ text: "a" }], callback_url: "ftp://example.com/x" }, 400, "INVALID_REQUEST"],
      [{ items: [{ text: "a" }], callback_url: "not a url" }, 400, "INVALID_REQUEST"],
      [{ items: [{ text: "a" }, { text: "b" }, { text: "c" }, { text: "d" }] }, 429, "JOB_QUOTA_EXCEEDED"],
      [{ items: [{ text: "y".repeat(60) }, { text: "z".repeat(60) }] }, 429, "JOB_QUOTA_EXCEEDED"],
    ];
    for (const [body, status, code] of cases) {
      const res = await call(stack, customer.key, "POST", "/v1/jobs", body);
      const got = await json<{ error: { code: string; details?: { item?: number } } }>(res);
      expect([res.status, got.error.code], JSON.stringify(body).slice(0, 80)).toEqual([status, code]);
    }
    const detail = await json<{ error: { details: { item: number } } }>(
      await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "a" }, { text: "b", voice: 9 }] }),
    );
    expect(detail.error.details.item).toBe(1);
    const wrongType = await fetch(`${stack.url}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${customer.key}`, "content-type": "text/plain" },
      body: "{}",
    });
    expect(wrongType.status).toBe(415);
    for (const path of [
      "/v1/jobs/job_nope",
      "/v1/jobs/../etc",
      "/v1/jobs/job_nope/items/0/audio",
      "/v1/jobs/job_nope/audio",
    ]) {
      expect((await call(stack, customer.key, "GET", path)).status, path).toBe(404);
    }
    expect((await call(stack, customer.key, "GET", "/v1/jobs?limit=0")).status).toBe(400);
  });

  it("takes job bodies above the proxy's 64 KiB cap, up to the jobs' own cap", async () => {
    const { stack, customer } = await setup({ jobs: { maxBodyBytes: 512 * 1024 } });
    const items = Array.from({ length: 100 }, (_, i) => ({ text: `${"长".repeat(400)}${i}` }));
    const big = await call(stack, customer.key, "POST", "/v1/jobs", { items });
    expect(big.status).toBe(202);
    const huge = await call(stack, customer.key, "POST", "/v1/jobs", { text: "字".repeat(200_000) });
    expect(huge.status).toBe(413);
    expect((await json<{ error: { code: string } }>(huge)).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("limits active jobs per plan", async () => {
    const { stack, customer } = await setup(
      {
        jobs: {
          quotas: { batch: { maxItemsPerJob: 100, maxCharsPerJob: 10_000, maxActiveJobs: 2, maxActiveItems: 1000 } },
        },
      },
      { serviceMs: 2_000 },
    );
    for (let i = 0; i < 2; i++) {
      expect((await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "slow" }] })).status).toBe(202);
    }
    const third = await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "slow" }] });
    expect(third.status).toBe(429);
    // A retry of an accepted job is not new work: it gets its job even with the quota spent.
    const headers = { authorization: `Bearer ${customer.key}`, "content-type": "application/json" };
    const keyed = () =>
      fetch(`${stack.url}/v1/jobs`, {
        method: "POST",
        headers: { ...headers, "idempotency-key": "quota-retry" },
        body: JSON.stringify({ items: [{ text: "slow" }] }),
      });
    const refusedFirst = await keyed();
    expect(refusedFirst.status).toBe(429);
    await stack.jobStore.cancel((await stack.jobStore.list(customer.id))[0]?.job.id ?? "");
    const accepted = await keyed();
    expect(accepted.status).toBe(202);
    const retried = await keyed();
    expect([retried.status, retried.headers.get("idempotent-replayed")]).toEqual([200, "true"]);
    expect((await json<JobJson>(retried)).id).toBe((await json<JobJson>(accepted)).id);
    expect((await json<{ error: { code: string; details: { limit: number } } }>(third)).error).toMatchObject({
      code: "JOB_QUOTA_EXCEEDED",
      details: { limit: 2 },
    });
  });

  it("keeps customers apart: another customer's job is not found", async () => {
    const { stack, customer } = await setup();
    const other = await stack.newCustomer("batch");
    const created = await json<JobJson>(
      await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "mine" }] }),
    );
    for (const [method, path] of [
      ["GET", `/v1/jobs/${created.id}`],
      ["GET", `/v1/jobs/${created.id}/audio`],
      ["GET", `/v1/jobs/${created.id}/items/0/audio`],
      ["DELETE", `/v1/jobs/${created.id}`],
    ]) {
      expect((await call(stack, other.key, method ?? "GET", path ?? "")).status).toBe(404);
    }
    const list = await json<{ jobs: { id: string }[] }>(await call(stack, other.key, "GET", "/v1/jobs"));
    expect(list.jobs).toEqual([]);
    const mine = await json<{ jobs: { id: string }[] }>(await call(stack, customer.key, "GET", "/v1/jobs"));
    expect(mine.jobs.map((j) => j.id)).toEqual([created.id]);
  });

  it("cancels a job: what did not run is never charged, what ran is charged once", async () => {
    const { stack, customer } = await setup(
      { jobs: { capacity: { headroomSlots: 0, maxPerNode: 2, staleAfterMs: 15_000 } } },
      { serviceMs: 150 },
    );
    const created = await json<JobJson>(
      await call(stack, customer.key, "POST", "/v1/jobs", {
        items: Array.from({ length: 40 }, (_, i) => ({ text: `item ${i}` })),
      }),
    );
    await waitFor(stack, customer.key, created.id, (j) => j.counts.done >= 2);
    const cancel = await call(stack, customer.key, "DELETE", `/v1/jobs/${created.id}`);
    expect(cancel.status).toBe(200);
    expect(await json<{ cancelled: boolean }>(cancel)).toMatchObject({ cancelled: true });
    const job = await waitFor(stack, customer.key, created.id, finished);
    expect(job.status).toBe("cancelled");
    expect(job.counts.done).toBeGreaterThanOrEqual(2);
    expect(job.counts.cancelled).toBeGreaterThan(20);
    expect(job.counts.done + job.counts.cancelled).toBe(40);
    await stack.worker.idle();
    const usage = await usageRows(stack, customer.id);
    expect(usage.events).toBe(job.counts.done);
    expect(usage.amountMicros).toBe(job.charged.amount_micros);
    expect(usage.amountMicros).toBe(job.counts.done * (await batchPrice(stack, 50)));
    const cancelledItem = job.items.find((i) => i.state === "cancelled");
    const audio = await call(stack, customer.key, "GET", `/v1/jobs/${created.id}/items/${cancelledItem?.n}/audio`);
    expect(audio.status).toBe(409);
    expect((await json<{ error: { code: string } }>(audio)).error.code).toBe("ITEM_NOT_READY");
    // Audio of cancelled items that were running is not kept.
    for (const item of job.items.filter((i) => i.state === "cancelled")) {
      expect(await stack.results.get(`${created.id}/${item.n}.wav`)).toBeNull();
    }
    const whole = await call(stack, customer.key, "GET", `/v1/jobs/${created.id}/audio`);
    expect(whole.status).toBe(409);
    const partial = await call(stack, customer.key, "GET", `/v1/jobs/${created.id}/audio?skip_missing=true`);
    expect(partial.status).toBe(200);
    expect(measureWav(new Uint8Array(await partial.arrayBuffer()))).toMatchObject({
      ok: true,
      wav: { durationMs: 1000 * job.counts.done },
    });
  });

  it("retries failed attempts with backoff and charges each item once", async () => {
    const { stack, slot, customer } = await setup();
    // Every item's first attempt is a 500 (4 in a row: fewer than open the node's circuit breaker).
    slot.control.failFirst = true;
    const created = await json<JobJson>(
      await call(stack, customer.key, "POST", "/v1/jobs", {
        items: Array.from({ length: 4 }, (_, i) => ({ text: `r${i}` })),
      }),
    );
    const job = await waitFor(stack, customer.key, created.id, finished);
    expect(job.status).toBe("succeeded");
    expect(slot.stats.failed).toBe(4);
    expect(job.items.map((i) => i.attempts)).toEqual(Array(4).fill(2));
    expect((await usageRows(stack, customer.id)).events).toBe(4);
  });

  it("dead-letters an item after max attempts with a clear error, and charges nothing for it", async () => {
    const { stack, slot, customer } = await setup({ jobs: { maxAttempts: 3 } });
    slot.control.failEvery = 1; // every answer is a 500
    const created = await json<JobJson>(
      await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "doomed" }] }),
    );
    const job = await waitFor(stack, customer.key, created.id, finished);
    expect(job.status).toBe("failed");
    expect(job.items[0]).toMatchObject({ state: "failed", attempts: 3 });
    expect(job.items[0]?.error?.code).toBe("ATTEMPTS_EXHAUSTED");
    expect(job.items[0]?.error?.message).toMatch(/3 attempts.*UPSTREAM_FAILED/);
    expect(slot.stats.failed).toBe(3);
    expect((await usageRows(stack, customer.id)).events).toBe(0);
    expect(job.charged.amount_micros).toBe(0);
  });

  it("POSTs a signed callback when the job finishes, retrying until it is accepted", async () => {
    const received: { body: string; signature: string | null }[] = [];
    const answers = [500, 200];
    const receiver = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (d: Buffer) => {
        body += d.toString();
      });
      req.on("end", () => {
        received.push({ body, signature: (req.headers["x-signature"] as string | undefined) ?? null });
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    open.push({ close: () => new Promise<void>((r) => receiver.close(() => r())) });
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const { stack, customer } = await setup();
    const created = await json<JobJson>(
      await call(stack, customer.key, "POST", "/v1/jobs", {
        items: [{ text: "a" }, { text: "b" }],
        callback_url: hook,
      }),
    );
    expect(created.callback_secret).toMatch(/^whsec_[0-9a-f]{48}$/);
    const until = Date.now() + 20_000;
    while (received.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(received.length).toBe(2);
    const [first, second] = received;
    const secret = created.callback_secret ?? "";
    const now = Math.floor(Date.now() / 1000);
    expect(await verifyCallback(secret, second?.signature ?? null, second?.body ?? "", now)).toBe(true);
    expect(await verifyCallback("whsec_wrong", second?.signature ?? null, second?.body ?? "", now)).toBe(false);
    expect(await verifyCallback(secret, second?.signature ?? null, `${second?.body} `, now)).toBe(false);
    const payload = JSON.parse(second?.body ?? "{}") as {
      event_id: string;
      type: string;
      job: { id: string; status: string };
    };
    expect(payload).toMatchObject({ type: "job.finished", job: { id: created.id, status: "succeeded" } });
    expect(JSON.parse(first?.body ?? "{}").event_id).toBe(payload.event_id);
    const job = await json<{ callback: { state: string; attempts: number } }>(
      await call(stack, customer.key, "GET", `/v1/jobs/${created.id}`),
    );
    expect(job.callback).toMatchObject({ state: "delivered", attempts: 2 });
    expect(JSON.stringify(job)).not.toContain(secret);
  });

  it("deletes a finished job and its audio on DELETE, and expired jobs after retention", async () => {
    const { stack, customer } = await setup({ jobs: { retentionMs: 60_000 } });
    const a = await json<JobJson>(await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "keep" }] }));
    await waitFor(stack, customer.key, a.id, finished);
    expect(await stack.results.get(`${a.id}/0.wav`)).not.toBeNull();
    const del = await call(stack, customer.key, "DELETE", `/v1/jobs/${a.id}`);
    expect(await json(del)).toMatchObject({ id: a.id, deleted: true });
    expect((await call(stack, customer.key, "GET", `/v1/jobs/${a.id}`)).status).toBe(404);
    expect(await stack.results.get(`${a.id}/0.wav`)).toBeNull();
    // Usage stays: deleting a job's data does not undo what it was charged.
    expect((await usageRows(stack, customer.id)).events).toBe(1);

    const b = await json<JobJson>(await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "expire" }] }));
    await waitFor(stack, customer.key, b.id, finished);
    expect(await stack.worker.purgeExpired()).toBe(0);
    const stored = await stack.jobStore.get(b.id);
    expect(stored?.job.expiresAt).toBe((stored?.job.finishedAt ?? 0) + 60_000);
  });

  it("holds off-peak jobs during the plan's peak window, and charges batch work no peak surcharge", async () => {
    const { stack, customer } = await setup();
    // A price version of the batch plan whose peak window is the whole week, from now on (later than the first).
    await new Promise((r) => setTimeout(r, 5));
    const version = await stack.stores.plans.addPriceVersion("batch", {
      unitPriceMicrosPer1kTokens: 20_000,
      peakWindows: [{ days: [0, 1, 2, 3, 4, 5, 6], start: "00:00", end: "24:00" }],
      peakMultiplierBp: 20_000,
      batchDiscountBp: 3_500,
    });
    expect(version.ok).toBe(true);
    const waiting = await json<JobJson>(
      await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "later" }], prefer_off_peak: true }),
    );
    const now = await json<JobJson>(await call(stack, customer.key, "POST", "/v1/jobs", { items: [{ text: "now" }] }));
    const ran = await waitFor(stack, customer.key, now.id, finished);
    expect(ran.status).toBe("succeeded");
    // At peak, batch pays the discounted price: 50 tokens × 20,000 µ/1k × 0.65, not × 2.
    expect(ran.charged.amount_micros).toBe(650);
    const totals = await usageRows(stack, customer.id);
    expect(totals).toMatchObject({ events: 1, amountMicros: 650, peakTokens: 50 });
    await new Promise((r) => setTimeout(r, 300));
    const held = await json<JobJson>(await call(stack, customer.key, "GET", `/v1/jobs/${waiting.id}`));
    expect(held.status).toBe("queued");
  });
});
