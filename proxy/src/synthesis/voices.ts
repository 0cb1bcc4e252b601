/**
 * Which deployment voice a request means. Ids and names match case-insensitively ("Alice", "alice", "0"); OpenAI's
 * voice names ("alloy", "nova", …) map to the deployment's voices, as the operator sets (`openAiVoiceMap`), or by
 * default in turn: alloy → the first voice, ash → the second, … wrapping around, so every OpenAI client works as is.
 */
import type { VoiceInfo } from "../http/deps.ts";

/** OpenAI's speech voices, in its documentation's order. */
export const OPENAI_VOICES = [
  "alloy",
  "ash",
  "ballad",
  "coral",
  "echo",
  "fable",
  "onyx",
  "nova",
  "sage",
  "shimmer",
  "verse",
  "marin",
  "cedar",
] as const;

export function resolveVoice(
  voices: readonly VoiceInfo[],
  wanted: number | string,
  openAiVoiceMap: Readonly<Record<string, number | string>> = {},
): VoiceInfo | undefined {
  const direct = findVoice(voices, wanted);
  if (direct || typeof wanted === "number") return direct;
  const key = wanted.trim().toLowerCase();
  const mapped = Object.entries(openAiVoiceMap).find(([name]) => name.toLowerCase() === key)?.[1];
  if (mapped !== undefined) return findVoice(voices, mapped);
  const index = (OPENAI_VOICES as readonly string[]).indexOf(key);
  if (index < 0 || voices.length === 0) return undefined;
  const ordered = [...voices].sort((a, b) => a.id - b.id);
  return ordered[index % ordered.length];
}

function findVoice(voices: readonly VoiceInfo[], wanted: number | string): VoiceInfo | undefined {
  if (typeof wanted === "number") return voices.find((v) => v.id === wanted);
  const key = wanted.trim().toLowerCase();
  return voices.find((v) => v.name.toLowerCase() === key || String(v.id) === key);
}
