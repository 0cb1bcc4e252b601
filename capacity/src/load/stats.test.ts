import { describe, expect, it } from "vitest";
import type { Sample } from "./executor.ts";
import { Accumulator } from "./stats.ts";

const payload = { id: "p", inputChars: 29, body: "{}" };
const sample = (over: Partial<Sample>): Sample => ({
  payload,
  intendedAt: 0,
  sentAt: 0,
  headersAt: 100,
  endAt: 120,
  status: 200,
  error: null,
  bytes: 10,
  audioMs: 2000,
  tokens: 100,
  ...over,
});

describe("per-window statistics", () => {
  it("counts 429 apart from 5xx, other 4xx, transport errors and drops", () => {
    const a = new Accumulator(1000);
    a.add(sample({}));
    a.add(sample({ status: 429, error: "http_429" }));
    a.add(sample({ status: 503, error: "http_503" }));
    a.add(sample({ status: 500, error: "http_500" }));
    a.add(sample({ status: 400, error: "http_400" }));
    a.add(sample({ status: 0, error: "timeout" }));
    a.add(sample({ status: 200, error: "short_body" }));
    a.drop();
    const m = a.metrics(1);
    expect(m.ok).toBe(1);
    expect(m.failures).toMatchObject({ total: 7, http429: 1, http5xx: 2, http4xx: 1, transport: 2, dropped: 1 });
    expect(m.failures.byCause).toMatchObject({ http_503: 1, http_500: 1, dropped: 1, short_body: 1 });
    expect(m.errorRate).toBeCloseTo(7 / 8, 9);
  });

  it("times from the intended send: latency, TTFB, RTF, goodput and per-token time", () => {
    const a = new Accumulator(1000);
    // intended at 0, sent 400 ms late, head at 900, done at 1500: 1.5 s latency although service took 1.1 s
    a.add(sample({ intendedAt: 0, sentAt: 400, headersAt: 900, endAt: 1500 }));
    a.add(sample({ intendedAt: 1000, sentAt: 1000, headersAt: 1200, endAt: 1300 }));
    const m = a.metrics(2);
    expect(m.latency.max).toBeCloseTo(1500, 0);
    expect(m.latency.p50).toBeCloseTo(300, 0);
    expect(m.ttfb.max).toBeCloseTo(900, 0);
    expect(m.rtf.max).toBeCloseTo(0.75, 3); // 1.5 s for 2 s of audio
    expect(m.goodput).toBe(0.5); // one of two within 1 s, over 2 s
    expect(m.audioSecondsPerSecond).toBe(2);
    expect(m.tokensPerSecond).toBe(100);
    expect(m.msPerToken).toBeCloseTo(900 / 100, 1);
    expect(m.msPerInputChar).toBeCloseTo(900 / 29, 1);
  });

  it("percentiles are exact to 0.1 % (HDR, 3 significant digits)", () => {
    const a = new Accumulator(1e9);
    for (let i = 1; i <= 10_000; i++) a.add(sample({ intendedAt: 0, endAt: i, headersAt: i }));
    const m = a.metrics(1);
    expect(Math.abs(m.latency.p50 - 5000) / 5000).toBeLessThan(0.001);
    expect(Math.abs(m.latency.p95 - 9500) / 9500).toBeLessThan(0.001);
    expect(Math.abs(m.latency.p99 - 9900) / 9900).toBeLessThan(0.001);
  });
});
