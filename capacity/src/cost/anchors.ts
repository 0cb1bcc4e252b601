/**
 * Public TTS API list prices (../shared/brief/load-testing.md §5.1, read 2026-10; volatile; ElevenLabs, Azure and
 * Google from third-party summaries) and the comparison of our prices with them per audio minute. The bridge from
 * characters to audio is the brief's: 12.5 (Unreal Speech: 750 chars a minute) to 16 characters per second of speech
 * (measured with tts-1).
 */
import { Q } from "../core/rational.ts";

export interface Anchor {
  provider: string;
  /** USD per 1M characters [low, high], or null for per-minute list prices */
  usdPer1MChars: [string, string] | null;
  /** USD per audio minute when the list price is per minute */
  usdPerMinute?: string;
  source: string;
}

export const ANCHORS: readonly Anchor[] = [
  { provider: "Amazon Polly Standard", usdPer1MChars: ["4", "4"], source: "aws.amazon.com/polly/pricing" },
  { provider: "OpenAI tts-1", usdPer1MChars: ["15", "15"], source: "developers.openai.com/api/docs/models/tts-1" },
  { provider: "Azure Neural (prebuilt)", usdPer1MChars: ["15", "15"], source: "Azure-Samples speech SDK issue 2969" },
  { provider: "Amazon Polly Neural", usdPer1MChars: ["16", "16"], source: "aws.amazon.com/polly/pricing" },
  { provider: "Google Cloud Neural/WaveNet", usdPer1MChars: ["16", "16"], source: "third-party summaries" },
  {
    provider: "OpenAI gpt-4o-mini-tts",
    usdPer1MChars: null,
    usdPerMinute: "0.015",
    source: "developers.openai.com/api/docs/models/gpt-4o-mini-tts",
  },
  { provider: "OpenAI tts-1-hd", usdPer1MChars: ["30", "30"], source: "developers.openai.com (tts-1 page)" },
  { provider: "Amazon Polly Generative", usdPer1MChars: ["30", "30"], source: "aws.amazon.com/polly/pricing" },
  { provider: "ElevenLabs Flash/Turbo", usdPer1MChars: ["50", "60"], source: "third-party summaries of elevenlabs.io" },
  { provider: "ElevenLabs Multilingual v2/v3", usdPer1MChars: ["100", "120"], source: "third-party summaries" },
  { provider: "Amazon Polly Long-Form", usdPer1MChars: ["100", "100"], source: "aws.amazon.com/polly/pricing" },
];

/** characters of text per second of speech: [low, high] */
export const CHARS_PER_AUDIO_SECOND: [number, number] = [12.5, 16];

export interface ComparisonRow {
  provider: string;
  listPrice: string;
  /** USD micros per audio minute [low, high] */
  perMinuteMicros: [number, number];
  /** our basic price ÷ theirs, [vs their high, vs their low] */
  oursOverTheirs: [number, number];
  source: string;
}

export interface Comparison {
  /** our basic price per audio minute, USD micros */
  oursPerMinuteMicros: number;
  /** our cost per audio minute, USD micros */
  ourCostPerMinuteMicros: number;
  usdRate: string;
  rows: ComparisonRow[];
}

/**
 * `usdRate`: units of our currency per 1 USD ("1" when pricing in USD). Our figures are per audio minute already
 * (3,000 tokens), so no character bridge is needed on our side.
 */
export function compareWithAnchors(
  basicPerMinuteMicros: number,
  costPerMinuteMicros: number,
  usdRate: string,
): Comparison {
  const rate = Q.parse(usdRate);
  const toUsd = (m: number) => Number(Q.of(BigInt(m)).div(rate).round());
  const ours = toUsd(basicPerMinuteMicros);
  const rows = ANCHORS.map((a) => {
    let perMinute: [number, number];
    let listPrice: string;
    if (a.usdPer1MChars) {
      const [lo, hi] = a.usdPer1MChars;
      const charsPerMinute = (x: number) => Q.fromMeasured(x * 60, 2);
      // USD per 1M chars × chars per minute = USD micros per minute
      perMinute = [
        Number(Q.parse(lo).mul(charsPerMinute(CHARS_PER_AUDIO_SECOND[0])).round()),
        Number(Q.parse(hi).mul(charsPerMinute(CHARS_PER_AUDIO_SECOND[1])).round()),
      ];
      listPrice = lo === hi ? `$${lo} / 1M chars` : `$${lo}–${hi} / 1M chars`;
    } else {
      const m = Number(Q.parse(a.usdPerMinute ?? "0").toMicros());
      perMinute = [m, m];
      listPrice = `$${a.usdPerMinute} / min`;
    }
    return {
      provider: a.provider,
      listPrice,
      perMinuteMicros: perMinute,
      oursOverTheirs: [ours / Math.max(1, perMinute[1]), ours / Math.max(1, perMinute[0])] as [number, number],
      source: a.source,
    };
  });
  return { oursPerMinuteMicros: ours, ourCostPerMinuteMicros: toUsd(costPerMinuteMicros), usdRate, rows };
}
