import { NodeError } from "../core/errors.ts";
import type { Engine, SynthesisJob, SynthesisResult } from "../engine/engine.ts";
import type { Priority } from "../engine/types.ts";
import { EMOTIONS, type EmotionLabel, type Manifest } from "../model/manifest.ts";
import type { EmotionRequest, VoiceBank } from "../model/voices.ts";
import { SPEED_MAX, SPEED_MIN, type SynthesizeBody } from "./schemas.ts";

/** The text front-end as the handler needs it (implemented by text/tokenizer.ts). */
export interface TextSegmenter {
  segments(text: string): { ids: number[] }[];
}

export interface SynthesizeDeps {
  engine: Pick<Engine, "submit">;
  manifest: Manifest;
  voices: VoiceBank;
  text: TextSegmenter;
  randomSeed: () => number;
}

/** Check a parsed body's meaning, build the engine job and run it. */
export async function synthesize(
  deps: SynthesizeDeps,
  id: string,
  body: SynthesizeBody,
  headerPriority: string | undefined,
  signal: AbortSignal | undefined,
  /** a streamed answer's segments, in order, as they are made */
  onSegment?: SynthesisJob["onSegment"],
): Promise<SynthesisResult> {
  const { manifest } = deps;
  const text = body.text.trim();
  if (text.length === 0) throw new NodeError("EMPTY_TEXT", "text is empty");
  if (body.text.length > manifest.limits.max_text_chars) {
    throw new NodeError(
      "TEXT_TOO_LONG",
      `text has ${body.text.length} characters; the limit is ${manifest.limits.max_text_chars}`,
    );
  }
  if (!(body.speed >= SPEED_MIN && body.speed <= SPEED_MAX)) {
    throw new NodeError("SPEED_OUT_OF_RANGE", `speed must be between ${SPEED_MIN} and ${SPEED_MAX}`);
  }
  if (body.max_tokens !== undefined && body.max_tokens > manifest.gpt.max_mel_tokens) {
    throw new NodeError("INVALID_REQUEST", `max_tokens must be at most ${manifest.gpt.max_mel_tokens}`);
  }
  const voice = deps.voices.get(body.speaker_id);
  const emotion = emotionRequest(body);
  const priority = parsePriority(body.priority ?? headerPriority);

  const segments = deps.text.segments(text).filter((s) => s.ids.length > 0);
  if (segments.length === 0) throw new NodeError("EMPTY_TEXT", "text has nothing to speak after normalisation");
  if (segments.length > manifest.limits.max_segments) {
    throw new NodeError(
      "TOO_MANY_SEGMENTS",
      `text splits into ${segments.length} segments; the limit is ${manifest.limits.max_segments}`,
    );
  }
  return deps.engine.submit(
    {
      id,
      segments: segments.map((s) => s.ids),
      voice,
      emoVec: deps.voices.emotionVector(voice, emotion),
      speed: body.speed,
      seed: body.seed ?? deps.randomSeed(),
      priority,
      ...(body.max_tokens !== undefined ? { maxTokens: body.max_tokens } : {}),
      ...(body.deadline_ms !== undefined ? { deadlineMs: body.deadline_ms } : {}),
      ...(body.num_beams !== undefined ? { sampling: { numBeams: body.num_beams } } : {}),
      ...(onSegment ? { onSegment } : {}),
    },
    signal,
  );
}

function emotionRequest(body: SynthesizeBody): EmotionRequest {
  if (body.emotion !== undefined && body.emotion_vector !== undefined) {
    throw new NodeError("CONFLICTING_EMOTION", "give either emotion or emotion_vector, not both");
  }
  if (body.emotion_vector !== undefined) {
    return { kind: "vector", weights: body.emotion_vector, alpha: body.emotion_alpha };
  }
  if (body.emotion === undefined) return { kind: "none" };
  const label = body.emotion.trim().toLowerCase();
  if (!(EMOTIONS as readonly string[]).includes(label)) {
    throw new NodeError("UNKNOWN_EMOTION", `emotion "${body.emotion}" is not one of ${EMOTIONS.join(", ")}`);
  }
  return { kind: "label", label: label as EmotionLabel, alpha: body.emotion_alpha };
}

function parsePriority(value: string | undefined): Priority {
  if (value === undefined || value === "" || value === "interactive") return "interactive";
  if (value === "batch") return "batch";
  throw new NodeError("INVALID_REQUEST", `priority must be "interactive" or "batch", not "${value}"`);
}
