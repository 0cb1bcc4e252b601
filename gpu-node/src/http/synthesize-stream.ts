/**
 * A streamed /synthesize answer (`Accept: application/vnd.indextts.segments`, framing in audio/segment-frames.ts):
 * each segment goes out as soon as it and the ones before it are made. The answer starts with the first segment, so
 * a refusal before any audio (bad input, a full queue, a deadline) is still an ordinary JSON error with its status;
 * a failure after it is an ERROR frame, and the segments already sent stand (the proxy has metered them).
 */
import { floatToPcm16 } from "../../../audio/pcm.ts";
import { endFrame, errorFrame, SEGMENTS_CONTENT_TYPE, segmentFrame } from "../../../audio/segment-frames.ts";
import { isNodeError } from "../core/errors.ts";
import type { SynthesisJob, SynthesisResult } from "../engine/engine.ts";

export async function streamSegments(
  run: (onSegment: NonNullable<SynthesisJob["onSegment"]>, signal: AbortSignal) => Promise<SynthesisResult>,
  clientSignal: AbortSignal,
  headers: Record<string, string>,
): Promise<Response> {
  // the proxy cancelling the body (its client left) stops the synthesis like a closed connection does
  const cancelled = new AbortController();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const send = (bytes: Uint8Array, last = false) => {
    if (!open) return;
    controller.enqueue(bytes);
    if (last) {
      open = false;
      controller.close();
    }
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      open = false;
      cancelled.abort();
    },
  });
  let started!: () => void;
  const first = new Promise<void>((resolve) => {
    started = resolve;
  });
  let samples = 0;
  const result = run(
    (index, audio) => {
      samples += audio.length;
      send(segmentFrame(index, floatToPcm16(audio)));
      started();
    },
    AbortSignal.any([clientSignal, cancelled.signal]),
  );
  result.then(
    (r) =>
      send(
        endFrame({
          segments: r.segments,
          samples,
          semantic_tokens: r.semanticTokens,
          queue_wait_ms: r.queueWaitMs,
          compute_ms: r.computeMs,
        }),
        true,
      ),
    (e: unknown) => {
      const code = isNodeError(e) ? e.code : "INTERNAL";
      send(errorFrame(code, isNodeError(e) ? e.message : "internal error"), true);
    },
  );
  // before any audio, a failure is the handler's to answer (JSON, its status)
  await Promise.race([first, result]);
  return new Response(body, { status: 200, headers: { ...headers, "Content-Type": SEGMENTS_CONTENT_TYPE } });
}
