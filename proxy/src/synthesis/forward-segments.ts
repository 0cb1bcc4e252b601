/**
 * One piece of a streamed answer, segment by segment: the gpu-node is asked with
 * `Accept: application/vnd.indextts.segments` and sends each segment's PCM, framed with its sample count, as soon as
 * it is made (audio/segment-frames.ts). A node that answers a whole WAV instead (an older node, an
 * OpenAI-compatible server, a transport that cannot stream) gives the piece as one unit, verified as before.
 *
 * Retries as `forwardSpeech` does: once on another node, only when nothing was received (connect failure) or the
 * node refused with its 503 backpressure. Once a segment has arrived nothing is retried: the client may hold it.
 */
import { pcm16FromBytes } from "../../../audio/pcm.ts";
import { SEGMENTS_CONTENT_TYPE, SegmentFrameReader } from "../../../audio/segment-frames.ts";
import { pcmData, withExactSizes } from "../../../audio/wav.ts";
import { ProxyError } from "../core/errors.ts";
import type { UpstreamOutcome } from "../core/routing/balancer.ts";
import type { SpeechRequest } from "../upstream/adapters.ts";
import { TransportError, type UpstreamResponse } from "../upstream/transport.ts";
import { type ForwardDeps, forwardSpeech, nodeRequestError, noNodeError, verifyAudio } from "./forward.ts";

export interface PieceUnit {
  /** the node's segment index in this piece (0 for a whole-WAV answer) */
  segment: number;
  /** 16-bit mono PCM, without any silence before it */
  pcm: Int16Array;
  sampleRate: number;
}

export interface SegmentedPiece {
  nodeId: string;
  headers: Record<string, string>;
  /** true when the node streamed segments (each unit then has its own usage row) */
  segmented: boolean;
  /** the piece's audio in order; must be read to its end (that releases the node's lease) */
  units: AsyncIterable<PieceUnit>;
}

/** no segment frame is larger than a node's longest segment could be: 16 MiB is ~6 min at 22,050 Hz */
const MAX_FRAME_BYTES = 16 * 2 ** 20;

export async function forwardSegments(
  deps: ForwardDeps,
  req: SpeechRequest,
  pool: string,
  deadlineAt: number,
  signal: AbortSignal,
): Promise<SegmentedPiece> {
  const stream = deps.transport.stream?.bind(deps.transport);
  if (!stream || deps.adapter.kind !== "gpu-node") return whole(deps, req, pool, deadlineAt, signal);
  const tried = new Set<string>();
  let lastRefusal: ProxyError | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    const lease = deps.balancer.acquire({ pool, exclude: tried });
    if (!lease) throw lastRefusal ?? noNodeError(deps, pool);
    tried.add(lease.node.id);
    const nodeId = lease.node.id;
    let outcome: UpstreamOutcome = "failure";
    /** the lease is handed to the body's reader once the answer is a stream of segments */
    let handedOver = false;
    try {
      const timeoutMs = Math.max(1, deadlineAt - deps.now());
      const built = deps.adapter.build(lease.node.url, { ...req, deadlineMs: timeoutMs });
      let answer: Awaited<ReturnType<typeof stream>>;
      try {
        answer = await stream({
          ...built,
          headers: { ...built.headers, accept: `${SEGMENTS_CONTENT_TYPE}, audio/wav;q=0.5` },
          timeoutMs,
          maxResponseBytes: deps.maxResponseBytes,
          signal,
        });
      } catch (e) {
        if (signal.aborted) {
          outcome = "neutral";
          throw new ProxyError("CLIENT_CLOSED", "the client went away");
        }
        const failure = e instanceof TransportError ? e : new TransportError("response", "other", String(e));
        if (failure.phase === "connect" && attempt === 0 && deps.now() < deadlineAt) continue;
        throw failure.reason === "timeout"
          ? new ProxyError("UPSTREAM_TIMEOUT", `node ${nodeId} did not answer in time`)
          : new ProxyError("UPSTREAM_FAILED", `node ${nodeId} failed: ${failure.message}`);
      }
      const type = answer.headers["content-type"] ?? "";
      if (answer.status === 200 && type.startsWith(SEGMENTS_CONTENT_TYPE)) {
        const rate = Number(answer.headers["x-sample-rate"]);
        if (!Number.isInteger(rate) || rate <= 0) {
          await drain(answer.body);
          throw new ProxyError("UPSTREAM_INVALID_RESPONSE", `node ${nodeId} streamed without a sample rate`);
        }
        handedOver = true;
        return {
          nodeId,
          headers: answer.headers,
          segmented: true,
          units: readSegments(answer.body, rate, nodeId, signal, (o) => lease.done(o)),
        };
      }
      // anything else is read whole, as a plain answer
      const body = await readAll(answer.body);
      const response: UpstreamResponse = { status: answer.status, headers: answer.headers, body };
      if (answer.status === 200) {
        const wav = verifyAudio(nodeId, response);
        outcome = "success";
        const exact = { ...response, body: withExactSizes(response.body, wav) };
        return { nodeId, headers: answer.headers, segmented: false, units: one(exact, wav.sampleRate) };
      }
      if (answer.status === 503) {
        outcome = "neutral";
        lastRefusal = new ProxyError("NO_CAPACITY", "the GPU nodes are at capacity", {
          retryAfterSeconds: Number(answer.headers["retry-after"]) || deps.noCapacityRetryAfterSeconds,
        });
        if (deps.now() < deadlineAt) continue;
        throw lastRefusal;
      }
      if (answer.status >= 500) throw new ProxyError("UPSTREAM_FAILED", `node answered ${answer.status}`);
      outcome = "success";
      throw nodeRequestError(response);
    } catch (e) {
      if (e instanceof TransportError) {
        throw signal.aborted
          ? new ProxyError("CLIENT_CLOSED", "the client went away")
          : new ProxyError("UPSTREAM_FAILED", `node ${nodeId} failed: ${e.message}`);
      }
      throw e;
    } finally {
      if (!handedOver) lease.done(outcome);
    }
  }
  throw lastRefusal ?? new ProxyError("NO_CAPACITY", "no GPU node could take the request", { retryAfterSeconds: 1 });
}

/** The frames of a node's streamed answer, as units; the node's verdict goes to its lease when the body ends. */
async function* readSegments(
  body: AsyncIterable<Uint8Array>,
  sampleRate: number,
  nodeId: string,
  signal: AbortSignal,
  done: (outcome: UpstreamOutcome) => void,
): AsyncGenerator<PieceUnit> {
  const reader = new SegmentFrameReader(MAX_FRAME_BYTES);
  let outcome: UpstreamOutcome = "failure";
  try {
    for await (const chunk of body) {
      for (const frame of reader.push(chunk)) {
        if (frame.kind === "segment") yield { segment: frame.index, pcm: frame.pcm, sampleRate };
        else if (frame.kind === "error") {
          // the node's own verdict on its work after the answer started (a deadline, a graph failure)
          throw new ProxyError("UPSTREAM_FAILED", `node ${nodeId} failed mid-stream: ${frame.code} ${frame.message}`);
        }
      }
    }
    reader.finish();
    outcome = "success";
  } catch (e) {
    if (signal.aborted) {
      outcome = "neutral";
      throw new ProxyError("CLIENT_CLOSED", "the client went away");
    }
    if (e instanceof ProxyError) throw e;
    if (e instanceof TransportError) {
      throw e.reason === "timeout"
        ? new ProxyError("UPSTREAM_TIMEOUT", `node ${nodeId} did not finish in time`)
        : new ProxyError("UPSTREAM_FAILED", `node ${nodeId} failed mid-stream: ${e.message}`);
    }
    throw new ProxyError("UPSTREAM_INVALID_RESPONSE", `node ${nodeId} streamed bad frames: ${String(e)}`);
  } finally {
    done(outcome);
  }
}

/** A plain answer (whole WAV) through `forwardSpeech`: one unit. */
async function whole(
  deps: ForwardDeps,
  req: SpeechRequest,
  pool: string,
  deadlineAt: number,
  signal: AbortSignal,
): Promise<SegmentedPiece> {
  const f = await forwardSpeech(deps, req, pool, deadlineAt, signal);
  return { nodeId: f.nodeId, headers: f.response.headers, segmented: false, units: one(f.response, f.wav.sampleRate) };
}

async function* one(response: UpstreamResponse, sampleRate: number): AsyncGenerator<PieceUnit> {
  const data = pcmData(response.body);
  if (!data) throw new ProxyError("UPSTREAM_INVALID_RESPONSE", "a piece's WAV has no data");
  yield { segment: 0, pcm: pcm16FromBytes(data.slice()), sampleRate };
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of body) {
    // discard
  }
}
