import { measureWav, type WavMeasure, withExactSizes } from "../../../audio/wav.ts";
import { ProxyError } from "../core/errors.ts";
import type { LoadBalancer, UpstreamOutcome } from "../core/routing/balancer.ts";
import type { SpeechRequest, UpstreamAdapter } from "../upstream/adapters.ts";
import { TransportError, type UpstreamResponse, type UpstreamTransport } from "../upstream/transport.ts";

export interface ForwardDeps {
  /** the proxy's balancer, or a view of it (the batch feeder lets only nodes with spare capacity be chosen) */
  balancer: Pick<LoadBalancer, "acquire">;
  transport: UpstreamTransport;
  adapter: UpstreamAdapter;
  now: () => number;
  /** largest audio body accepted from a node */
  maxResponseBytes: number;
  /** Retry-After when no node can take the request */
  noCapacityRetryAfterSeconds: number;
}

export interface Forwarded {
  nodeId: string;
  response: UpstreamResponse;
  wav: WavMeasure;
}

/** The node's own claim about the audio must match what we measured, to the millisecond. */
const DURATION_TOLERANCE_MS = 1;

/**
 * Send a speech request to a node of `pool` and return its verified audio. Retries once on another node, and only
 * when nothing was received yet (connection refused, no response before the deadline) or the node refused the work
 * with its own 503 backpressure. Node verdicts feed the node's circuit breaker.
 */
export async function forwardSpeech(
  deps: ForwardDeps,
  req: SpeechRequest,
  pool: string,
  deadlineAt: number,
  signal?: AbortSignal,
): Promise<Forwarded> {
  const tried = new Set<string>();
  let lastRefusal: ProxyError | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    const lease = deps.balancer.acquire({ pool, exclude: tried });
    if (!lease) throw lastRefusal ?? noNodeError(deps, pool);
    tried.add(lease.node.id);
    let outcome: UpstreamOutcome = "failure";
    try {
      const timeoutMs = Math.max(1, deadlineAt - deps.now());
      let response: UpstreamResponse;
      try {
        response = await deps.transport.request({
          ...deps.adapter.build(lease.node.url, { ...req, deadlineMs: timeoutMs }),
          timeoutMs,
          maxResponseBytes: deps.maxResponseBytes,
          ...(signal ? { signal } : {}),
        });
      } catch (e) {
        if (signal?.aborted) {
          outcome = "neutral";
          throw new ProxyError("CLIENT_CLOSED", "the client went away");
        }
        const failure = e instanceof TransportError ? e : new TransportError("response", "other", String(e));
        if (failure.phase === "connect" && attempt === 0 && deps.now() < deadlineAt) continue;
        throw failure.reason === "timeout"
          ? new ProxyError("UPSTREAM_TIMEOUT", `node ${lease.node.id} did not answer in time`)
          : new ProxyError("UPSTREAM_FAILED", `node ${lease.node.id} failed: ${failure.message}`);
      }
      if (response.status === 200) {
        const measured = verifyAudio(lease.node.id, response);
        outcome = "success";
        // A streamed WAV (OpenAI-compatible servers) gets its real sizes written in before it is relayed.
        const body = withExactSizes(response.body, measured);
        return {
          nodeId: lease.node.id,
          response: body === response.body ? response : { ...response, body },
          wav: measured,
        };
      }
      if (response.status === 503) {
        // The node's backpressure: it did no work, so another node may take it. Not the node's fault either.
        outcome = "neutral";
        lastRefusal = new ProxyError("NO_CAPACITY", "the GPU nodes are at capacity", {
          retryAfterSeconds: Number(response.headers["retry-after"]) || deps.noCapacityRetryAfterSeconds,
        });
        if (deps.now() < deadlineAt) continue;
        throw lastRefusal;
      }
      if (response.status >= 500) throw new ProxyError("UPSTREAM_FAILED", `node answered ${response.status}`);
      // A 4xx is about the request, not the node.
      outcome = "success";
      throw nodeRequestError(response);
    } finally {
      lease.done(outcome);
    }
  }
  throw lastRefusal ?? new ProxyError("NO_CAPACITY", "no GPU node could take the request", { retryAfterSeconds: 1 });
}

/** No node of the pool can take the request (none up, all tried, or all at their limits). */
export function noNodeError(deps: Pick<ForwardDeps, "noCapacityRetryAfterSeconds">, pool: string): ProxyError {
  return new ProxyError("NO_CAPACITY", `no GPU node of pool "${pool}" can take the request`, {
    retryAfterSeconds: deps.noCapacityRetryAfterSeconds,
  });
}

export function verifyAudio(nodeId: string, response: UpstreamResponse): WavMeasure {
  const type = response.headers["content-type"] ?? "";
  if (!type.startsWith("audio/wav") && !type.startsWith("audio/x-wav")) {
    throw new ProxyError("UPSTREAM_INVALID_RESPONSE", `node ${nodeId} answered ${type || "no content type"}, not WAV`);
  }
  const measured = measureWav(response.body);
  if (!measured.ok)
    throw new ProxyError("UPSTREAM_INVALID_RESPONSE", `node ${nodeId} sent a bad WAV: ${measured.reason}`);
  const claimed = response.headers["x-audio-duration-ms"];
  if (claimed !== undefined && Math.abs(Number(claimed) - measured.wav.durationMs) > DURATION_TOLERANCE_MS) {
    throw new ProxyError(
      "UPSTREAM_INVALID_RESPONSE",
      `node ${nodeId} claims ${claimed} ms of audio but sent ${measured.wav.durationMs.toFixed(1)} ms`,
    );
  }
  return measured.wav;
}

export function nodeRequestError(response: UpstreamResponse): ProxyError {
  let code = "INVALID_REQUEST";
  let message = `the GPU node refused the request (${response.status})`;
  try {
    const body = JSON.parse(new TextDecoder().decode(response.body)) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not JSON: keep the generic message
  }
  const known = ["EMPTY_TEXT", "TEXT_TOO_LONG", "UNKNOWN_EMOTION", "INVALID_REQUEST"] as const;
  const mapped = (known as readonly string[]).includes(code) ? (code as (typeof known)[number]) : "INVALID_REQUEST";
  if (code === "UNKNOWN_SPEAKER") return new ProxyError("UNKNOWN_VOICE", message);
  return new ProxyError(mapped, message, { details: { node_code: code } });
}
