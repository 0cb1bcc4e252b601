import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, startStubNode } from "../../proxy/src/testing/stack.ts";
import { addPrice, billed, GENEROUS_IP, putPlan, type TestProxy, tts } from "./proxy-helpers.ts";

type Stub = Awaited<ReturnType<typeof startStubNode>>;

const ZONE = "Asia/Tokyo";
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** Today's weekday in `zone` (0 = Sunday), and the day after: a window on both is in force now, even at midnight. */
function localDays(zone: string): [number, number] {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, weekday: "short" }).format(Date.now());
  const today = DAYS.indexOf(name);
  return [today, (today + 1) % 7];
}

async function customerOn(proxy: TestProxy, planId: string) {
  return proxy.newCustomer(planId);
}

describe("metering and pricing over HTTP (2 s of audio = 100 tokens)", () => {
  let node: Stub;
  let proxy: TestProxy;
  const now = localDays(ZONE);
  const otherDays = [0, 1, 2, 3, 4, 5, 6].filter((d) => !now.includes(d));

  beforeAll(async () => {
    node = await startStubNode(2000);
    proxy = await startProxy([node.url], { config: GENEROUS_IP });
  });
  afterAll(async () => {
    await proxy.close();
    await node.close();
  });

  it("a peak window in the plan's own time zone applies its multiplier; outside it, none", async () => {
    await putPlan(proxy, "tokyo-peak", { time_zone: ZONE });
    await addPrice(proxy, "tokyo-peak", {
      unit_price_micros_per_1k_tokens: 20_000,
      peak_windows: [{ days: now, start: "00:00", end: "24:00" }],
      peak_multiplier_bp: 15_000,
    });
    await putPlan(proxy, "tokyo-quiet", { time_zone: ZONE });
    await addPrice(proxy, "tokyo-quiet", {
      unit_price_micros_per_1k_tokens: 20_000,
      peak_windows: [{ days: otherDays, start: "00:00", end: "24:00" }],
      peak_multiplier_bp: 15_000,
    });
    const peak = await tts(proxy, (await customerOn(proxy, "tokyo-peak")).key);
    expect(peak.status).toBe(200);
    expect(peak.headers.get("x-peak")).toBe("true");
    expect(peak.headers.get("x-price-multiplier")).toBe("1.5000");
    // 100 tokens × 20 000 µ/1k × 1.5
    expect(peak.headers.get("x-amount-micros")).toBe("3000");
    expect(peak.headers.get("x-currency")).toBe("USD");

    const quiet = await tts(proxy, (await customerOn(proxy, "tokyo-quiet")).key);
    expect(quiet.headers.get("x-peak")).toBe("false");
    expect(quiet.headers.get("x-price-multiplier")).toBe("1.0000");
    expect(quiet.headers.get("x-amount-micros")).toBe("2000");
  });

  it("batch work pays no peak surcharge and gets its discount", async () => {
    await putPlan(proxy, "tokyo-batch", { kind: "batch", time_zone: ZONE });
    await addPrice(proxy, "tokyo-batch", {
      unit_price_micros_per_1k_tokens: 20_000,
      peak_windows: [{ days: now, start: "00:00", end: "24:00" }],
      peak_multiplier_bp: 15_000,
      batch_discount_bp: 3_500,
    });
    const r = await tts(proxy, (await customerOn(proxy, "tokyo-batch")).key);
    expect(r.headers.get("x-peak")).toBe("true"); // recorded, not charged
    expect(r.headers.get("x-price-multiplier")).toBe("1.0000"); // no surcharge; the discount is in the amount
    expect(r.headers.get("x-amount-micros")).toBe("1300");
    expect((node.state.lastBody as { priority: string }).priority).toBe("batch");
  });

  it("a price version set for a future time applies from then on; usage before it keeps the old price", async () => {
    await putPlan(proxy, "moving", {});
    await addPrice(proxy, "moving", { unit_price_micros_per_1k_tokens: 10_000 });
    const later = await addPrice(proxy, "moving", {
      unit_price_micros_per_1k_tokens: 30_000,
      effective_from: Date.now() + 700,
    });
    const c = await customerOn(proxy, "moving");
    const before = await tts(proxy, c.key);
    expect(before.headers.get("x-amount-micros")).toBe("1000");
    await new Promise((r) => setTimeout(r, Math.max(0, later.effectiveFrom - Date.now()) + 20));
    const after = await tts(proxy, c.key);
    expect(after.headers.get("x-amount-micros")).toBe("3000");
    expect(await billed(proxy, c.id)).toEqual({ events: 2, tokens: 200, amountMicros: 4000 });
    // a version cannot be back-dated (that would re-price usage already rated)
    const back = await proxy.admin("POST", "/admin/plans/moving/prices", {
      unit_price_micros_per_1k_tokens: 1,
      effective_from: Date.now() - 60_000,
    });
    expect(back.status).toBe(400);
  });

  it("tokens follow the configured rate: round(audio seconds × tokens per second)", async () => {
    const odd = await startStubNode(1234);
    const p = await startProxy([odd.url], { config: { ...GENEROUS_IP, tokensPerSecond: 75 } });
    try {
      await putPlan(p, "basic");
      const c = await p.newCustomer();
      const r = await tts(p, c.key);
      expect(r.headers.get("x-audio-duration-ms")).toBe("1234");
      expect(r.headers.get("x-tokens")).toBe(String(Math.round(1.234 * 75)));
    } finally {
      await p.close();
      await odd.close();
    }
  });
});
