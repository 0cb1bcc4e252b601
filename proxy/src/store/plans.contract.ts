import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NewPlan, Stores } from "./ports.ts";
import { type ContractOptions, ManualClock, type StoreHarness } from "./testing/harness.ts";

const DAY = 86_400_000;

const basic: NewPlan = {
  id: "basic",
  kind: "basic",
  name: "Basic",
  currency: "CNY",
  timeZone: "Asia/Shanghai",
  requestsPerSecond: 5,
  burst: 10,
  maxInFlight: 2,
};

/** The PlanStore contract: every implementation must pass it. */
export function runPlanStoreContract({ name, make }: ContractOptions): void {
  describe(`PlanStore contract (${name})`, () => {
    let clock: ManualClock;
    let harness: StoreHarness;
    let stores: Stores;
    const t0 = Date.UTC(2026, 0, 1);

    beforeEach(async () => {
      clock = new ManualClock(t0);
      harness = await make(clock);
      stores = harness.stores;
      await stores.plans.upsertPlan(basic);
    });
    afterEach(async () => {
      await harness.close?.();
    });

    const price = (effectiveFrom: number, unitPriceMicrosPer1kTokens: number) => ({
      effectiveFrom,
      unitPriceMicrosPer1kTokens,
    });

    it("creates and updates a plan, keeping its creation time", async () => {
      expect(await stores.plans.getPlan("basic")).toEqual({ ...basic, createdAt: t0 });
      clock.advance(1_000);
      const updated = await stores.plans.upsertPlan({ ...basic, name: "Basic 2", burst: 30 });
      expect(updated).toMatchObject({ ok: true, value: { name: "Basic 2", burst: 30, createdAt: t0 } });
      expect((await stores.plans.listPlans()).map((p) => p.id)).toEqual(["basic"]);
      expect(await stores.plans.getPlan("gold")).toBeNull();
    });

    it("refuses an unknown time zone, a non-ISO currency and non-positive limits", async () => {
      for (const bad of [{ timeZone: "Mars/Olympus" }, { currency: "usd" }, { requestsPerSecond: 0 }, { burst: 1.5 }]) {
        expect(await stores.plans.upsertPlan({ ...basic, id: "bad", ...bad })).toMatchObject({ error: "invalid" });
      }
      expect(await stores.plans.getPlan("bad")).toBeNull();
    });

    it("numbers versions 1, 2, 3 and stores every price field, peak windows included", async () => {
      const first = await stores.plans.addPriceVersion("basic", price(t0, 2_000));
      const second = await stores.plans.addPriceVersion("basic", {
        effectiveFrom: t0 + DAY,
        unitPriceMicrosPer1kTokens: 2_500,
        peakWindows: [{ days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }],
        peakMultiplierBp: 15_000,
        batchDiscountBp: 5_000,
        monthlyFeeMicros: 99_000_000,
        includedTokens: 1_000_000,
        overagePriceMicrosPer1kTokens: 1_800,
        stripeProductId: "prod_1",
        stripePriceId: "price_1",
      });
      expect(first).toMatchObject({
        ok: true,
        value: { version: 1, planId: "basic", peakWindows: [], peakMultiplierBp: 10_000 },
      });
      expect(second).toMatchObject({
        ok: true,
        value: {
          version: 2,
          peakWindows: [{ days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" }],
          peakMultiplierBp: 15_000,
          batchDiscountBp: 5_000,
          monthlyFeeMicros: 99_000_000,
          includedTokens: 1_000_000,
          overagePriceMicrosPer1kTokens: 1_800,
          stripePriceId: "price_1",
        },
      });
      const versions = await stores.plans.listVersions("basic");
      expect(versions.map((v) => v.version)).toEqual([1, 2]);
      if (second.ok) expect(await stores.plans.getVersion(second.value.id)).toEqual(second.value);
    });

    it("refuses a version that would take effect in the past or not after the latest one", async () => {
      clock.advance(DAY);
      expect(await stores.plans.addPriceVersion("basic", price(t0, 1))).toMatchObject({
        error: "effective_from_in_past",
      });
      await stores.plans.addPriceVersion("basic", price(t0 + 5 * DAY, 1));
      expect(await stores.plans.addPriceVersion("basic", price(t0 + 5 * DAY, 2))).toMatchObject({
        error: "not_after_latest",
      });
      expect(await stores.plans.addPriceVersion("basic", price(t0 + 2 * DAY, 2))).toMatchObject({
        error: "not_after_latest",
      });
      expect(await stores.plans.addPriceVersion("gold", price(t0 + 9 * DAY, 1))).toMatchObject({
        error: "plan_not_found",
      });
    });

    it("refuses malformed prices: fractions of a micro-unit, a discount over 100 %, bad peak windows", async () => {
      const bad = [
        { ...price(t0, 1.5) },
        { ...price(t0, 1), batchDiscountBp: 10_001 },
        { ...price(t0, 1), peakWindows: [{ days: [7], start: "09:00", end: "10:00" }] },
        { ...price(t0, 1), peakWindows: [{ days: [1], start: "9:00", end: "10:00" }] },
        { ...price(t0, 1), peakWindows: [{ days: [], start: "09:00", end: "10:00" }] },
      ];
      for (const input of bad) {
        expect(await stores.plans.addPriceVersion("basic", input)).toMatchObject({ error: "invalid" });
      }
      expect(await stores.plans.listVersions("basic")).toEqual([]);
    });

    it("answers the version in force at a time: none before the first, past ones, and future ones only from their start", async () => {
      const v1 = await stores.plans.addPriceVersion("basic", price(t0 + 1_000, 1_000));
      const v2 = await stores.plans.addPriceVersion("basic", price(t0 + 10 * DAY, 2_000));
      // Scheduled while v2 is still in the future.
      const v3 = await stores.plans.addPriceVersion("basic", price(t0 + 20 * DAY, 3_000));
      if (!v1.ok || !v2.ok || !v3.ok) throw new Error("seeding failed");

      const at = async (ms: number) => (await stores.plans.versionAt("basic", ms))?.version ?? null;
      expect(await at(t0)).toBeNull();
      expect(await at(t0 + 1_000)).toBe(1);
      expect(await at(t0 + 10 * DAY - 1)).toBe(1);
      expect(await at(t0 + 10 * DAY)).toBe(2);
      expect(await at(t0 + 15 * DAY)).toBe(2);
      expect(await at(t0 + 20 * DAY - 1)).toBe(2);
      expect(await at(t0 + 20 * DAY)).toBe(3);
      // Time passing does not change history: an old event is still rated by the version of its own time.
      clock.set(t0 + 30 * DAY);
      expect(await at(t0 + 5 * DAY)).toBe(1);
      expect(await stores.plans.versionAt("gold", t0 + 5 * DAY)).toBeNull();
    });
  });
}
