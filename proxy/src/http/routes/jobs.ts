import type { Context, Hono } from "hono";
import { isProxyError, ProxyError } from "../../core/errors.ts";
import { checkTextLength } from "../../core/text/length.ts";
import { isSpeakable, UNSPEAKABLE_MESSAGE } from "../../core/text/speakable.ts";
import { callbackUrlProblem, newCallbackSecret } from "../../jobs/callbacks.ts";
import { type JobQuota, quotaFor } from "../../jobs/config.ts";
import { contentTypeOf, downloadFormat, encodedJobStream, encodeItem } from "../../jobs/download-format.ts";
import { type ItemSpec, itemResultKey, jobResultPrefix } from "../../jobs/model.ts";
import type { JobWithCounts } from "../../jobs/ports.ts";
import {
  type JobBody,
  type JobItemInput,
  jobAudioQuerySchema,
  jobBodySchema,
  jobListQuerySchema,
  jobQuerySchema,
} from "../../jobs/schemas.ts";
import { splitText } from "../../jobs/segment.ts";
import type { JobsService } from "../../jobs/service.ts";
import { itemView, jobView } from "../../jobs/view.ts";
import { concatenatedWav, MAX_WAV_DATA_BYTES, parsePcmFormat, wavHeader } from "../../jobs/wav.ts";
import { sha256Hex } from "../../store/crypto.ts";
import { DEFAULT_IDEMPOTENCY_STALE_AFTER_MS } from "../../store/ports.ts";
import type { ProxyDeps, ProxyEnv } from "../deps.ts";
import { idempotencyConflict, idempotencyKeyOf, requestFingerprint } from "../idempotency.ts";
import { readJson } from "../read-json.ts";
import { EMOTION_LABELS } from "../schemas.ts";

/**
 * The batch plan's jobs API (see proxy/src/jobs/README.md): POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/{id},
 * GET /v1/jobs/{id}/items/{n}/audio, GET /v1/jobs/{id}/audio (the whole job as one WAV), DELETE /v1/jobs/{id}.
 * Registered before the proxy's 64 KiB body cap: a job body has its own (`jobs.config.maxBodyBytes`).
 */
export function registerJobRoutes(app: Hono<ProxyEnv>, deps: ProxyDeps, jobs: JobsService): void {
  const now = deps.now ?? Date.now;

  app.use("/v1/jobs", planGate(jobs));
  app.use("/v1/jobs/*", planGate(jobs));

  app.post("/v1/jobs", async (c) => {
    const body = await readJson(c, jobBodySchema, jobs.config.maxBodyBytes);
    const { customer, plan } = c.get("auth");
    const items = resolveItems(deps, jobs, body);
    const quota = quotaFor(jobs.config, plan.id);
    const chars = items.reduce((sum, i) => sum + [...i.text].length, 0);
    const over = (what: string, limit: number, asked: number) =>
      new ProxyError("JOB_QUOTA_EXCEEDED", `${what}: ${asked} asked, the ${plan.id} plan allows ${limit}`, {
        details: { limit, requested: asked, plan: plan.id },
      });
    if (items.length > quota.maxItemsPerJob) throw over("items per job", quota.maxItemsPerJob, items.length);
    if (chars > quota.maxCharsPerJob) throw over("characters per job", quota.maxCharsPerJob, chars);
    if (body.callback_url !== undefined) {
      const problem = callbackUrlProblem(body.callback_url, jobs.config.allowHttpCallbacks);
      if (problem) throw new ProxyError("INVALID_REQUEST", problem, { details: { field: "callback_url" } });
    }
    // Idempotency-Key: one key, one request (../idempotency.ts). The job's id is derived from it too, so even past
    // the key's 24 h a retried POST finds the job it created (while the job is kept) instead of queueing a twin.
    const idempotencyKey = idempotencyKeyOf(c);
    let jobId: string | undefined;
    if (idempotencyKey !== undefined) {
      jobId = `job_${(await (deps.sha256 ?? sha256Hex)(`${customer.id}\n${idempotencyKey}`)).slice(0, 32)}`;
      const begun = await deps.stores.idempotency.begin({
        customerId: customer.id,
        key: idempotencyKey,
        requestId: jobId,
        ttlMs: deps.config.idempotencyTtlMs,
        fingerprint: await requestFingerprint(deps, c, {
          endpoint: "POST /v1/jobs",
          items,
          prefer_off_peak: body.prefer_off_peak,
          callback_url: body.callback_url ?? null,
          metadata: body.metadata ?? null,
        }),
        staleAfterMs: DEFAULT_IDEMPOTENCY_STALE_AFTER_MS,
      });
      if (begun.state === "mismatch") throw idempotencyConflict(begun.state);
      // "done", or "in_progress" past the job's creation (two concurrent retries), or "new" after the key expired or
      // after a crash between creating the job and recording the key: the job exists, and this is its replay.
      const existing = await jobs.store.get(jobId);
      if (existing) {
        if (begun.state === "new") await settleKey(deps, customer.id, idempotencyKey, jobId);
        return replayed(c, existing, plan.currency);
      }
      if (begun.state === "in_progress") throw idempotencyConflict(begun.state);
      if (begun.state === "done") {
        throw new ProxyError("NOT_FOUND", `the job this Idempotency-Key created (${jobId}) was deleted`);
      }
    }
    try {
      const job = await createJob(c, jobs, body, items, quota, over, jobId);
      if (idempotencyKey !== undefined) await settleKey(deps, customer.id, idempotencyKey, job.job.id);
      c.header("location", `/v1/jobs/${job.job.id}`);
      return c.json(
        {
          ...jobView(job, plan.currency),
          // Shown once (and to a replay): the key of the callback's HMAC signature.
          ...(job.job.callbackSecret !== null ? { callback_secret: job.job.callbackSecret } : {}),
        },
        202,
      );
    } catch (e) {
      // Nothing was queued: a retry with the key runs again.
      if (idempotencyKey !== undefined && jobId !== undefined) {
        const raced = await jobs.store.get(jobId);
        if (raced) return replayed(c, raced, plan.currency);
        await deps.stores.idempotency.fail(customer.id, idempotencyKey, jobId);
      }
      throw e;
    }
  });

  app.get("/v1/jobs", async (c) => {
    const q = jobListQuerySchema.safeParse(c.req.query());
    if (!q.success) throw new ProxyError("INVALID_REQUEST", "limit is 1–100; before is a job id");
    const { customer, plan } = c.get("auth");
    const list = await jobs.store.list(customer.id, {
      limit: q.data.limit,
      ...(q.data.before !== undefined ? { beforeId: q.data.before } : {}),
    });
    return c.json({ jobs: list.map((j) => jobView(j, plan.currency)), next_before: list.at(-1)?.job.id ?? null });
  });

  app.get("/v1/jobs/:id", async (c) => {
    const q = jobQuerySchema.safeParse(c.req.query());
    if (!q.success) throw new ProxyError("INVALID_REQUEST", "from ≥ 0 and 0 ≤ limit ≤ 10000 select the items shown");
    const job = await ownJob(c, jobs);
    const items =
      q.data.limit === 0 ? [] : await jobs.store.items(job.job.id, { fromN: q.data.from, limit: q.data.limit });
    return c.json({ ...jobView(job, c.get("auth").plan.currency), items: items.map(itemView) });
  });

  app.get("/v1/jobs/:id/items/:n/audio", async (c) => {
    const job = await ownJob(c, jobs);
    const n = Number(c.req.param("n"));
    const item = Number.isInteger(n) && n >= 0 ? await jobs.store.item(job.job.id, n) : null;
    if (!item) throw new ProxyError("NOT_FOUND", `job ${job.job.id} has no item ${c.req.param("n")}`);
    if (item.state !== "done") {
      throw new ProxyError("ITEM_NOT_READY", `item ${n} is ${item.state}`, {
        details: { state: item.state, error: item.errorCode },
        ...(item.state === "failed" || item.state === "cancelled" ? {} : { retryAfterSeconds: 5 }),
      });
    }
    const format = downloadFormat(deps.audio, c.req.query("format"));
    const stored = await jobs.results.get(itemResultKey(job.job.id, n));
    if (!stored) throw new ProxyError("NOT_FOUND", `the audio of item ${n} is no longer kept`);
    const rate = parsePcmFormat(item.pcmFormat ?? "")?.sampleRate ?? 0;
    const audio = format === "wav" ? stored : await encodeItem(deps.audio, format, stored, rate, item.audioMs ?? 0);
    return c.body(audio as Uint8Array<ArrayBuffer>, 200, {
      "content-type": contentTypeOf(format),
      "x-audio-duration-ms": String(item.audioMs ?? 0),
      "x-tokens": String(item.tokens ?? 0),
      "x-amount-micros": String(item.amountMicros ?? 0),
    });
  });

  app.get("/v1/jobs/:id/audio", async (c) => {
    const q = jobAudioQuerySchema.safeParse(c.req.query());
    if (!q.success) throw new ProxyError("INVALID_REQUEST", "skip_missing is true or false");
    const job = await ownJob(c, jobs);
    const items = await jobs.store.items(job.job.id);
    const done = items.filter((i) => i.state === "done");
    if (done.length === 0 || (q.data.skip_missing === "false" && done.length < items.length)) {
      throw new ProxyError("JOB_NOT_COMPLETE", `${done.length} of ${items.length} items are done`, {
        details: { counts: job.counts, skip_missing: "add ?skip_missing=true to download the done items only" },
        ...(job.job.finishedAt === null ? { retryAfterSeconds: 5 } : {}),
      });
    }
    const wanted = downloadFormat(deps.audio, q.data.format);
    const formats = new Set(done.map((i) => i.pcmFormat));
    const format = formats.size === 1 ? parsePcmFormat([...formats][0] ?? "") : null;
    if (!format) throw new ProxyError("INTERNAL", `job ${job.job.id} holds audio of several formats`);
    const audioMs = done.reduce((sum, i) => sum + (i.audioMs ?? 0), 0);
    if (wanted !== "wav") {
      const encoded = encodedJobStream(deps.audio, wanted, format.sampleRate, done.length, (i) => {
        const item = done[i];
        return item ? jobs.results.get(itemResultKey(job.job.id, item.n)) : Promise.resolve(null);
      });
      return c.body(encoded, 200, {
        "content-type": contentTypeOf(wanted),
        "content-disposition": `attachment; filename="${job.job.id}.${wanted}"`,
        "x-job-items": String(done.length),
        "x-audio-duration-ms": String(audioMs),
      });
    }
    const sizes = done.map((i) => i.pcmBytes ?? 0);
    const dataBytes = sizes.reduce((a, b) => a + b, 0);
    if (dataBytes > MAX_WAV_DATA_BYTES) {
      throw new ProxyError("JOB_AUDIO_TOO_LARGE", "the job's audio is over a WAV's 4 GiB; download it item by item");
    }
    const stream = concatenatedWav(wavHeader(format, dataBytes), sizes, (i) => {
      const item = done[i];
      return item ? jobs.results.get(itemResultKey(job.job.id, item.n)) : Promise.resolve(null);
    });
    return c.body(stream, 200, {
      "content-type": "audio/wav",
      "content-length": String(44 + dataBytes),
      "content-disposition": `attachment; filename="${job.job.id}.wav"`,
      "x-job-items": String(done.length),
      "x-audio-duration-ms": String(audioMs),
    });
  });

  app.delete("/v1/jobs/:id", async (c) => {
    const job = await ownJob(c, jobs);
    const currency = c.get("auth").plan.currency;
    if (job.job.finishedAt === null) {
      // Cancel: what has not run is never charged; an item already finishing completes (and is charged).
      const cancelled = (await jobs.store.cancel(job.job.id)) ?? job;
      return c.json({ ...jobView(cancelled, currency), cancelled: true, deleted: false });
    }
    // A finished job: its audio and rows are deleted now instead of at the end of retention.
    await jobs.results.deletePrefix(jobResultPrefix(job.job.id));
    await jobs.store.delete(job.job.id);
    return c.json({ id: job.job.id, object: "job", cancelled: false, deleted: true, deleted_at: now() });
  });
}

/** Checks the customer's unfinished-work quota and stores the job with all its items. */
async function createJob(
  c: Context<ProxyEnv>,
  jobs: JobsService,
  body: JobBody,
  items: ItemSpec[],
  quota: JobQuota,
  over: (what: string, limit: number, asked: number) => ProxyError,
  jobId: string | undefined,
): Promise<JobWithCounts> {
  const { key, customer, plan } = c.get("auth");
  const active = await jobs.store.activeUsage(customer.id);
  if (active.jobs + 1 > quota.maxActiveJobs) throw over("unfinished jobs", quota.maxActiveJobs, active.jobs + 1);
  if (active.items + items.length > quota.maxActiveItems) {
    throw over("unfinished items", quota.maxActiveItems, active.items + items.length);
  }
  const job = await jobs.store.create({
    ...(jobId !== undefined ? { id: jobId } : {}),
    customerId: customer.id,
    apiKeyId: key.id,
    planId: plan.id,
    pool: customer.dedicatedPool ?? "shared",
    preferOffPeak: body.prefer_off_peak,
    metadata: body.metadata ?? null,
    callbackUrl: body.callback_url ?? null,
    callbackSecret: body.callback_url !== undefined ? newCallbackSecret() : null,
    maxAttempts: jobs.config.maxAttempts,
    items,
  });
  jobs.wake?.();
  return mustGet(jobs, job.id);
}

/** Records the job an Idempotency-Key created, so a retry (or another body) is recognised for 24 h. */
async function settleKey(deps: ProxyDeps, customerId: string, key: string, jobId: string): Promise<void> {
  const body = new TextEncoder().encode(JSON.stringify({ id: jobId }));
  await deps.stores.idempotency.complete(customerId, key, jobId, {
    status: 202,
    body,
    contentType: "application/json",
    headers: { location: `/v1/jobs/${jobId}` },
  });
}

/** The job an earlier POST with the same Idempotency-Key created (200, not 202: nothing new was queued). */
function replayed(c: Context<ProxyEnv>, job: JobWithCounts, currency: string): Response {
  c.header("location", `/v1/jobs/${job.job.id}`);
  c.header("idempotent-replayed", "true");
  return c.json(
    {
      ...jobView(job, currency),
      ...(job.job.callbackSecret !== null ? { callback_secret: job.job.callbackSecret } : {}),
    },
    200,
  );
}

function planGate(jobs: JobsService) {
  return async (c: Context<ProxyEnv>, next: () => Promise<void>) => {
    const { plan } = c.get("auth");
    if (!jobs.config.planKinds.includes(plan.kind)) {
      throw new ProxyError(
        "BATCH_PLAN_REQUIRED",
        `the jobs API needs a key of the batch plan; this key's plan "${plan.id}" is a ${plan.kind} plan`,
        { details: { required_plan: "batch", plan: plan.id } },
      );
    }
    await next();
  };
}

async function mustGet(jobs: JobsService, id: string): Promise<JobWithCounts> {
  const job = await jobs.store.get(id);
  if (!job) throw new ProxyError("INTERNAL", `job ${id} vanished`);
  return job;
}

/** The caller's job; another customer's job is "not found", like one that does not exist. */
async function ownJob(c: Context<ProxyEnv>, jobs: JobsService): Promise<JobWithCounts> {
  const id = c.req.param("id") ?? "";
  const job = /^job_[A-Za-z0-9]{1,64}$/.test(id) ? await jobs.store.get(id) : null;
  if (!job || job.job.customerId !== c.get("auth").customer.id) throw new ProxyError("NOT_FOUND", `no job ${id}`);
  return job;
}

/** The job's items, with the job's settings as defaults, voices resolved and texts checked. */
function resolveItems(deps: ProxyDeps, jobs: JobsService, body: JobBody): ItemSpec[] {
  const maxChars = deps.config.maxTextChars;
  const segmentChars = Math.min(body.segment_max_chars ?? jobs.config.segmentMaxChars, maxChars);
  // A long text's segments with nothing to say (e.g. a run of zero-width characters) are dropped, not billed.
  const raw: JobItemInput[] =
    body.items ?? splitText(body.text ?? "", segmentChars).flatMap((text) => (isSpeakable(text) ? [{ text }] : []));
  if (raw.length === 0) throw new ProxyError("EMPTY_TEXT", UNSPEAKABLE_MESSAGE);
  const voices = deps.voices();
  return raw.map((item, n) => {
    const fail = (code: "EMPTY_TEXT" | "TEXT_TOO_LONG" | "UNKNOWN_VOICE" | "UNKNOWN_EMOTION", message: string) =>
      new ProxyError(code, `item ${n}: ${message}`, { details: { item: n } });
    if (!isSpeakable(item.text)) throw fail("EMPTY_TEXT", UNSPEAKABLE_MESSAGE);
    try {
      checkTextLength(item.text, "text", maxChars);
    } catch (e) {
      throw isProxyError(e) ? fail("TEXT_TOO_LONG", e.message) : e;
    }
    const wanted = item.voice ?? body.voice ?? 0;
    const voice = voices.find((v) => v.id === wanted || v.name === wanted);
    if (!voice) throw fail("UNKNOWN_VOICE", `voice ${JSON.stringify(wanted)} does not exist; see GET /v1/voices`);
    const emotion = item.emotion ?? body.emotion;
    if (emotion !== undefined && !(EMOTION_LABELS as readonly string[]).includes(emotion)) {
      throw fail("UNKNOWN_EMOTION", `emotion "${emotion}" is not one of ${EMOTION_LABELS.join(", ")}`);
    }
    return {
      text: item.text,
      voice: voice.id,
      emotion: emotion ?? null,
      emotionVector: item.emotion_vector ?? body.emotion_vector ?? null,
      emotionAlpha: item.emotion_alpha ?? body.emotion_alpha ?? null,
      speed: item.speed ?? body.speed ?? 1,
      seed: item.seed ?? null,
    };
  });
}
