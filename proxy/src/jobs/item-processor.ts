/**
 * One claimed item, start to end (see ./worker.ts for the order and why it charges once): the customer it is charged
 * under, audio reused from an earlier run or synthesised at batch priority on a node with batch slots left, stored,
 * finished, metered at the batch price, completed; a failure becomes a release, a refusal or a retry with backoff.
 */

import { measureWav, type WavMeasure, wavHeader } from "../../../audio/wav.ts";
import { isProxyError, type ProxyErrorCode } from "../core/errors.ts";
import type { AcquireOptions, UpstreamLease } from "../core/routing/balancer.ts";
import type { KeyContext } from "../store/ports.ts";
import { meterAndRecord } from "../synthesis/meter.ts";
import { forwardPieces, PIECE_MAX_CHARS } from "../synthesis/pieces.ts";
import { type BatchInFlight, batchSlots } from "./capacity.ts";
import { backoffMs } from "./config.ts";
import { itemRequestId, itemResultKey, type Job } from "./model.ts";
import type { ClaimedItem } from "./ports.ts";
import { pcmFormatOf } from "./wav.ts";
import type { JobWorkerDeps } from "./worker.ts";

/** Node answers about the request itself: no retry can succeed. */
const REFUSED: ReadonlySet<ProxyErrorCode> = new Set([
  "INVALID_REQUEST",
  "EMPTY_TEXT",
  "TEXT_TOO_LONG",
  "UNKNOWN_VOICE",
  "UNKNOWN_EMOTION",
]);

const AUTH_TTL_MS = 5_000;

export class ItemProcessor {
  readonly #d: JobWorkerDeps;
  /** batch work in flight per node, shared with the worker's capacity rule */
  readonly #inFlight: BatchInFlight;
  readonly #auth = new Map<string, { at: number; value: KeyContext | null }>();

  constructor(deps: JobWorkerDeps, inFlight: BatchInFlight) {
    this.#d = deps;
    this.#inFlight = inFlight;
  }

  /** Runs `claimed`; `chosen` is called once its node is chosen (or none is needed). */
  async process(claimed: ClaimedItem, chosen: () => void): Promise<void> {
    const { job, item, leaseToken } = claimed;
    const { jobs, results } = this.#d;
    const auth = await this.#authFor(job);
    if (!auth) {
      chosen();
      await jobs.fail(job.id, item.n, leaseToken, { code: "CUSTOMER_NOT_FOUND", message: "the job's key is gone" });
      return;
    }
    if (auth.customer.status === "suspended") {
      // Not the item's fault: it waits, without spending attempts, until the customer is restored.
      chosen();
      await jobs.release(job.id, item.n, leaseToken, this.#d.now() + 60_000);
      return;
    }
    const resultKey = itemResultKey(job.id, item.n);
    try {
      // An earlier run may have stored the audio and died before finishing: meter that audio, don't synthesise again.
      let audio = item.attempts > 1 || item.state === "finishing" ? await this.#stored(resultKey) : null;
      let nodeId: string | null = null;
      if (audio) chosen();
      else {
        const forwarded = await this.#synthesize(claimed, chosen);
        audio = { bytes: forwarded.response.body, wav: forwarded.wav };
        nodeId = forwarded.nodeId;
        await results.put(resultKey, audio.bytes);
      }
      const finish = await jobs.beginFinish(job.id, item.n, leaseToken);
      if (finish === "cancelled") {
        await results.delete(resultKey);
        return;
      }
      if (finish === "lost") return;
      const { event } = await meterAndRecord(
        { plans: this.#d.stores.plans, ledger: this.#d.ledger, tokensPerSecond: this.#d.tokensPerSecond },
        {
          requestId: itemRequestId(job.id, item.n),
          auth,
          at: this.#d.now(),
          wav: audio.wav,
          inputChars: [...item.text].length,
          nodeId,
          priority: "batch",
          source: "job",
        },
      );
      this.#d.metrics?.metered(event.tokens, event.amountMicros, event.currency);
      await jobs.complete(job.id, item.n, leaseToken, {
        audioMs: event.audioMs,
        tokens: event.tokens,
        amountMicros: event.amountMicros,
        pcmBytes: audio.wav.dataBytes,
        pcmFormat: pcmFormatOf(audio.wav),
      });
    } catch (e) {
      chosen();
      await this.#failed(claimed, e);
    }
  }

  async #stored(resultKey: string): Promise<{ bytes: Uint8Array; wav: WavMeasure } | null> {
    const bytes = await this.#d.results.get(resultKey);
    if (!bytes) return null;
    const measured = measureWav(bytes);
    return measured.ok ? { bytes, wav: measured.wav } : null;
  }

  /**
   * An item's audio as one WAV. An item may be as long as the length rule allows (4,096 code points), more than a
   * node takes in one request: it goes in pieces like a long /v1/tts text (synthesis/pieces.ts), one after another
   * on the item's batch slot, joined with 200 ms between them.
   */
  async #synthesize({ job, item }: ClaimedItem, chosen: () => void) {
    const d = this.#d;
    const now = d.now();
    const joined = await forwardPieces(
      {
        balancer: { acquire: (options) => this.#acquire(options, chosen) },
        transport: d.transport,
        adapter: d.adapter,
        now: d.now,
        maxResponseBytes: d.maxResponseBytes,
        noCapacityRetryAfterSeconds: 1,
      },
      {
        requestId: itemRequestId(job.id, item.n),
        text: item.text,
        voice: item.voice,
        ...(item.emotion !== null ? { emotion: item.emotion } : {}),
        ...(item.emotionVector !== null ? { emotionVector: item.emotionVector } : {}),
        ...(item.emotionAlpha !== null ? { emotionAlpha: item.emotionAlpha } : {}),
        speed: item.speed,
        seed: item.seed,
        priority: "batch",
        deadlineMs: d.requestTimeoutMs,
      },
      job.pool,
      now + d.requestTimeoutMs,
      undefined,
      PIECE_MAX_CHARS,
      true,
    );
    const body = new Uint8Array(44 + joined.pcm.byteLength);
    body.set(wavHeader(joined.wav, joined.pcm.byteLength), 0);
    body.set(joined.pcm, 44);
    return { nodeId: joined.nodeId, response: { body }, wav: joined.wav };
  }

  /** The balancer, restricted to nodes with batch slots left; the lease counts as batch in flight. */
  #acquire(options: AcquireOptions, chosen: () => void): UpstreamLease | null {
    const now = this.#d.now();
    const exclude = new Set(options.exclude ?? []);
    for (const node of this.#d.nodes.list()) {
      const routable = this.#d.breakers.canRoute(node.id);
      if (batchSlots(node, routable, this.#inFlight, now, this.#d.config.capacity) <= 0) exclude.add(node.id);
    }
    chosen();
    const lease = this.#d.balancer.acquire({ pool: options.pool, exclude });
    if (!lease) return null;
    this.#inFlight.add(lease.node.id, 1);
    let released = false;
    return {
      node: lease.node,
      probe: lease.probe,
      done: (outcome) => {
        if (!released) this.#inFlight.add(lease.node.id, -1);
        released = true;
        lease.done(outcome);
      },
    };
  }

  async #failed({ job, item, leaseToken }: ClaimedItem, e: unknown): Promise<void> {
    const { jobs, config } = this.#d;
    const now = this.#d.now();
    const error = isProxyError(e)
      ? { code: e.code, message: e.message }
      : { code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
    if (isProxyError(e) && e.code === "NO_CAPACITY") {
      // No node could take it after all (capacity changed since the claim): back in line, no attempt spent.
      const retryAfterMs = Math.max(config.pollMs, (e.options.retryAfterSeconds ?? 0) * 1000);
      await jobs.release(job.id, item.n, leaseToken, now + Math.min(retryAfterMs, 5_000));
      return;
    }
    if (isProxyError(e) && REFUSED.has(e.code) && item.state !== "finishing") {
      await jobs.fail(job.id, item.n, leaseToken, error);
      return;
    }
    const retryAt = now + backoffMs(config, item.attempts, this.#d.random ?? Math.random);
    const outcome = await jobs.retry(job.id, item.n, leaseToken, error, retryAt);
    this.#d.log?.({ level: "warn", msg: "jobs: item attempt failed", item: `${job.id}.${item.n}`, ...error, outcome });
  }

  /** The key, customer and plan the job is charged under (the plan it was accepted on, at the batch price). */
  async #authFor(job: Job): Promise<KeyContext | null> {
    const now = this.#d.now();
    const cached = this.#auth.get(job.id);
    if (cached && now - cached.at < AUTH_TTL_MS) return cached.value;
    const { customers, keys, plans } = this.#d.stores;
    const [customer, plan, customerKeys] = await Promise.all([
      customers.getCustomer(job.customerId),
      plans.getPlan(job.planId),
      keys.listForCustomer(job.customerId),
    ]);
    const key = customerKeys.find((k) => k.id === job.apiKeyId);
    const value = customer && plan && key ? { customer, key, plan: { ...plan, kind: "batch" as const } } : null;
    if (this.#auth.size > 10_000) this.#auth.clear();
    this.#auth.set(job.id, { at: now, value });
    return value;
  }
}
