/**
 * A streamed answer (`stream_format` "audio" or "sse"): the text's pieces are asked of the nodes in order
 * (synthesis/piece-feed.ts), each node streams its piece segment by segment (synthesis/forward-segments.ts), and
 * each unit (a segment, or a whole piece from a node that answers WAV) goes out as soon as it arrives, encoded by a
 * stream encoder.
 *
 * Where money becomes durable: each unit has its own usage row (`<request id>[.<piece>].<segment>`, or
 * `<request id>[.<piece>]` for a whole piece; tokens from that unit's PCM, its 200 ms lead-in silence included),
 * committed before a byte of that unit is released. So every byte a client receives is covered by a durable row,
 * whatever happens to the proxy after (kill -9 included), and a row is never written twice (the ledger is idempotent
 * on the row id). A client that disconnects is charged for the units already released to its connection, and for
 * nothing after: what is still at the nodes is cancelled and never metered. A unit whose row was committed just as
 * the client left may be charged without arriving (at most one; the check before metering makes it rare).
 */
import type { Context } from "hono";
import type { StreamEncoder } from "../../../../audio/encoders/types.ts";
import type { AudioFormat } from "../../../../audio/formats.ts";
import { FORMAT_SPECS } from "../../../../audio/formats.ts";
import { ProxyError } from "../../core/errors.ts";
import { codePoints } from "../../core/text/length.ts";
import type { KeyContext } from "../../store/ports.ts";
import type { ForwardDeps } from "../../synthesis/forward.ts";
import { forwardSegments, type PieceUnit, type SegmentedPiece } from "../../synthesis/forward-segments.ts";
import { meterAndRecord } from "../../synthesis/meter.ts";
import { PieceFeed } from "../../synthesis/piece-feed.ts";
import { pieceRequestId, streamPieceTexts, unitPcm } from "../../synthesis/pieces.ts";
import { AsyncQueue } from "../../synthesis/unit-queue.ts";
import type { SpeechRequest } from "../../upstream/adapters.ts";
import type { ProxyDeps, ProxyEnv } from "../deps.ts";
import { requestSource } from "../request-source.ts";
import { takeResponseHeaders } from "../response-headers.ts";
import { sseDelta, sseDone } from "./speech-sse.ts";

export interface StreamInput {
  req: SpeechRequest;
  auth: KeyContext;
  at: number;
  pool: string;
  deadlineAt: number;
  format: AudioFormat;
  streamFormat: "audio" | "sse";
}

/** a unit as the stream releases it: which piece, and the piece's node and headers */
type Unit = PieceUnit & { piece: number; of: SegmentedPiece };

export async function streamSpeech(
  c: Context<ProxyEnv>,
  deps: ProxyDeps,
  forwardDeps: ForwardDeps,
  input: StreamInput,
): Promise<Response> {
  const { req, auth } = input;
  const texts = streamPieceTexts(req.text, deps.config.pieceMaxChars);
  const abort = new AbortController();
  const clientSignal = c.req.raw.signal;
  const onClientGone = () => abort.abort();
  clientSignal.addEventListener("abort", onClientGone, { once: true });
  // Each piece's units (the node's segments as they are made, or the whole piece) land in its queue; the pieces
  // are asked in order with a small window, a piece counting as done when its last segment has arrived.
  const queues = texts.map(() => new AsyncQueue<Unit>());
  new PieceFeed<void>(texts.length, async (i) => {
    const queue = queues[i] as AsyncQueue<Unit>;
    try {
      const piece = await forwardSegments(
        forwardDeps,
        { ...req, text: texts[i] ?? "", requestId: pieceRequestId(req.requestId, i, texts.length) },
        input.pool,
        input.deadlineAt,
        abort.signal,
      );
      for await (const unit of piece.units) queue.push({ ...unit, piece: i, of: piece });
      queue.end();
    } catch (e) {
      queue.fail(e);
      throw e;
    }
  });
  const units = (async function* () {
    for (const queue of queues) yield* queue;
  })();
  const totals = { tokens: 0, audioMs: 0, chars: 0 };
  const released: Uint8Array[] = [];
  let encoder: StreamEncoder | null = null;
  let rate = 0;

  /** one unit (a segment, or a whole piece): metered durably, then encoded; returns the bytes it releases */
  const release = async (unit: Unit): Promise<Uint8Array> => {
    const { pcm, wav } = unitPcm(unit);
    if (rate === 0) rate = wav.sampleRate;
    if (wav.sampleRate !== rate) throw new ProxyError("UPSTREAM_INVALID_RESPONSE", "pieces at different rates");
    if (abort.signal.aborted) throw new ProxyError("CLIENT_CLOSED", "the client went away");
    // a piece's characters go on its first row
    const chars = unit.segment === 0 ? codePoints(texts[unit.piece] ?? "") : 0;
    const pieceId = pieceRequestId(req.requestId, unit.piece, texts.length);
    const { event } = await meterAndRecord(
      { plans: deps.stores.plans, ledger: deps.ledger, tokensPerSecond: deps.config.tokensPerSecond },
      {
        requestId: unit.of.segmented ? `${pieceId}.${unit.segment}` : pieceId,
        auth,
        at: input.at,
        wav,
        inputChars: chars,
        nodeId: unit.of.nodeId,
        priority: req.priority,
        source: requestSource(c.req.raw),
      },
    );
    deps.metrics.metered(event.tokens, event.amountMicros, event.currency);
    totals.tokens += event.tokens;
    totals.audioMs += wav.durationMs;
    totals.chars += chars;
    encoder ??= await deps.audio.stream(input.format, rate);
    const bytes = await encoder.push(pcm);
    released.push(bytes);
    return bytes;
  };

  const frame = (bytes: Uint8Array): Uint8Array | null =>
    input.streamFormat === "sse"
      ? bytes.byteLength > 0
        ? sseDelta(bytes)
        : null
      : bytes.byteLength > 0
        ? bytes
        : null;

  const stop = () => {
    abort.abort();
    clientSignal.removeEventListener("abort", onClientGone);
  };

  // The first unit before the answer starts: a failure before any audio is still a JSON error with its status.
  let first: { unit: Unit; bytes: Uint8Array };
  try {
    const next = await units.next();
    if (next.done) throw new ProxyError("INTERNAL", "no audio");
    first = { unit: next.value, bytes: await release(next.value) };
  } catch (e) {
    stop();
    throw e;
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const out = frame(first.bytes);
      if (out) controller.enqueue(out);
    },
    async pull(controller) {
      try {
        // A pull that enqueues nothing is not called again: go on to the next unit until bytes go out.
        for (let next = await units.next(); !next.done; next = await units.next()) {
          const out = frame(await release(next.value));
          if (out) {
            controller.enqueue(out);
            return;
          }
        }
        const tail = encoder ? await encoder.end() : new Uint8Array(0);
        released.push(tail);
        await checkStream(deps, input.format, released, totals.audioMs, rate);
        const out = frame(tail);
        if (out) controller.enqueue(out);
        if (input.streamFormat === "sse") {
          controller.enqueue(sseDone({ inputChars: totals.chars, tokens: totals.tokens }));
        }
        stop();
        controller.close();
      } catch (e) {
        stop();
        deps.log?.({ level: "error", request_id: req.requestId, msg: "stream cut", error: String(e) });
        controller.error(e);
      }
    },
    cancel() {
      stop();
    },
  });

  const headers: Record<string, string> = {
    "x-request-id": req.requestId,
    "x-streamed": "true",
    "content-type": input.streamFormat === "sse" ? "text/event-stream" : FORMAT_SPECS[input.format].contentType,
    "cache-control": "no-cache",
  };
  const randomWeights = first.unit.of.headers["x-model-random-weights"];
  if (randomWeights !== undefined) headers["x-model-random-weights"] = randomWeights;
  return new Response(body, { status: 200, headers: takeResponseHeaders(c, headers) });
}

/** The whole streamed container states the metered duration (the rows are already durable: a mismatch cuts it). */
async function checkStream(
  deps: ProxyDeps,
  format: AudioFormat,
  parts: readonly Uint8Array[],
  expectedMs: number,
  rate: number,
): Promise<void> {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  const verdict = await deps.audio.verify(format, all, expectedMs, rate);
  if (!verdict.ok)
    throw new ProxyError("INTERNAL", `the streamed ${format} failed its duration check: ${verdict.reason}`);
}
