import type { TransportRequest } from "./transport.ts";

/** What the proxy asks a node for, whatever the node speaks. */
export interface SpeechRequest {
  requestId: string;
  text: string;
  voice: number;
  emotion?: string;
  emotionVector?: number[];
  emotionAlpha?: number;
  speed: number;
  seed?: number;
  priority: "interactive" | "batch";
  deadlineMs: number;
}

/** Builds the node-specific HTTP request for a speech request. */
export interface UpstreamAdapter {
  readonly kind: "gpu-node" | "openai";
  build(baseUrl: string, req: SpeechRequest): Omit<TransportRequest, "timeoutMs" | "maxResponseBytes" | "signal">;
}

/** Our gpu-node: POST /synthesize with the article's payload plus seed, priority and deadline. */
export const gpuNodeAdapter: UpstreamAdapter = {
  kind: "gpu-node",
  build(baseUrl, req) {
    return {
      method: "POST",
      url: `${baseUrl}/synthesize`,
      headers: { "content-type": "application/json", "x-request-id": req.requestId, "x-priority": req.priority },
      body: JSON.stringify({
        text: req.text,
        speaker_id: req.voice,
        speed: req.speed,
        ...(req.emotion !== undefined ? { emotion: req.emotion } : {}),
        ...(req.emotionVector !== undefined ? { emotion_vector: req.emotionVector } : {}),
        ...(req.emotionAlpha !== undefined ? { emotion_alpha: req.emotionAlpha } : {}),
        ...(req.seed !== undefined ? { seed: req.seed } : {}),
        priority: req.priority,
        deadline_ms: req.deadlineMs,
      }),
    };
  },
};

/**
 * Any OpenAI-compatible speech server: POST /v1/audio/speech, WAV requested so the proxy can meter it.
 * Emotion and seed have no OpenAI field; the emotion label goes into `instructions`, as such servers accept.
 */
export function openAiAdapter(model: string, voices: readonly string[]): UpstreamAdapter {
  return {
    kind: "openai",
    build(baseUrl, req) {
      return {
        method: "POST",
        url: `${baseUrl}/v1/audio/speech`,
        headers: { "content-type": "application/json", "x-request-id": req.requestId },
        body: JSON.stringify({
          model,
          input: req.text,
          voice: voices[req.voice] ?? voices[0] ?? "alloy",
          speed: req.speed,
          response_format: "wav",
          ...(req.emotion !== undefined ? { instructions: `Speak in a ${req.emotion} tone.` } : {}),
        }),
      };
    },
  };
}
