/**
 * Payload profiles: which texts a load test sends, and the request body each endpoint expects. Bodies are encoded
 * once, up front, so the generator's cost per request does not include JSON encoding.
 */
import type { Rng } from "../core/rng.ts";
import { ARTICLE_PAYLOAD, CORPUS, type CorpusText, type Language, type Length } from "./corpus.ts";

export type Endpoint = "proxy" | "node";
export type Profile = "article" | "corpus" | Language;
export const PROFILES: readonly Profile[] = ["article", "corpus", "zh", "en", "mixed"];
export const LENGTHS: readonly Length[] = ["short", "medium", "long"];

export interface Payload {
  id: string;
  /** characters of text (code points), the article's "input characters" */
  inputChars: number;
  body: string;
}

const EMOTIONS = ["happy", "calm", "sad", "surprised"] as const;

/** The body for one text: the node's /synthesize takes the article's payload; the proxy's /v1/tts its own. */
export function requestBody(endpoint: Endpoint, text: string, emotion: string): string {
  return endpoint === "node"
    ? JSON.stringify({ text, emotion, speaker_id: 0, speed: 1.0 })
    : JSON.stringify({ text, emotion, voice: 0, speed: 1.0 });
}

export function endpointPath(endpoint: Endpoint): string {
  return endpoint === "node" ? "/synthesize" : "/v1/tts";
}

/** The payloads of a profile, in a fixed order. */
export function payloadsFor(endpoint: Endpoint, profile: Profile, lengths: readonly Length[] = LENGTHS): Payload[] {
  if (profile === "article") {
    return [
      {
        id: "article",
        inputChars: [...ARTICLE_PAYLOAD.text].length,
        body: requestBody(endpoint, ARTICLE_PAYLOAD.text, ARTICLE_PAYLOAD.emotion),
      },
    ];
  }
  const texts = CORPUS.filter(
    (t: CorpusText) => (profile === "corpus" || t.language === profile) && lengths.includes(t.length),
  );
  if (texts.length === 0) throw new RangeError(`profile ${profile} with lengths ${lengths.join(",")} has no texts`);
  return texts.map((t, i) => ({
    id: t.id,
    inputChars: [...t.text].length,
    body: requestBody(endpoint, t.text, EMOTIONS[i % EMOTIONS.length] ?? "happy"),
  }));
}

/** Picks payloads uniformly at random (seeded), or in turn when there is one. */
export function payloadPicker(payloads: readonly Payload[], rng: Rng): () => Payload {
  const first = payloads[0];
  if (!first) throw new RangeError("no payloads");
  if (payloads.length === 1) return () => first;
  return () => payloads[Math.floor(rng() * payloads.length)] ?? first;
}
