/** The two requests the proxy benches send: the stub node directly, and the same speech through a proxy. */
import type { Target } from "./open-loop.ts";

export const BENCH_TEXT = "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。";

/** The body the proxy itself sends the node for `BENCH_TEXT`, sent to the stub directly: the baseline. */
export function directTarget(stubOrigin: string, wavBytes: number): Target {
  return {
    origin: stubOrigin,
    path: "/synthesize",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      text: BENCH_TEXT,
      speaker_id: 0,
      speed: 1,
      emotion: "happy",
      priority: "interactive",
      deadline_ms: 120_000,
    }),
    expectBytes: wavBytes,
  };
}

/** `POST /v1/tts` through a proxy with `key`; every 200's request id is collected (to match against usage rows). */
export function proxyTarget(proxyOrigin: string, key: string, wavBytes: number): Target {
  return {
    origin: proxyOrigin,
    path: "/v1/tts",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ text: BENCH_TEXT, voice: 0, emotion: "happy" }),
    expectBytes: wavBytes,
    collectRequestIds: true,
  };
}
