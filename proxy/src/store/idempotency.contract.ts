import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StoredResponse, Stores } from "./ports.ts";
import { type ContractOptions, ManualClock, type Seeded, type StoreHarness, seedCustomer } from "./testing/harness.ts";

const DAY = 86_400_000;
const audio: StoredResponse = {
  status: 200,
  body: new Uint8Array([82, 73, 70, 70, 0, 1, 2, 255]),
  contentType: "audio/wav",
  headers: { "x-request-id": "req_1", "x-audio-ms": "1200" },
};

/** The IdempotencyStore contract: every implementation must pass it. */
export function runIdempotencyStoreContract({ name, make }: ContractOptions): void {
  describe(`IdempotencyStore contract (${name})`, () => {
    let clock: ManualClock;
    let harness: StoreHarness;
    let stores: Stores;
    let seed: Seeded;
    let cus: string;

    beforeEach(async () => {
      clock = new ManualClock();
      harness = await make(clock);
      stores = harness.stores;
      seed = await seedCustomer(stores, clock);
      cus = seed.customer.id;
    });
    afterEach(async () => {
      await harness.close?.();
    });

    const begin = (requestId: string, extra: { fingerprint?: string; key?: string; customerId?: string } = {}) =>
      stores.idempotency.begin({
        customerId: extra.customerId ?? cus,
        key: extra.key ?? "idem-1",
        requestId,
        ttlMs: DAY,
        ...(extra.fingerprint ? { fingerprint: extra.fingerprint } : {}),
        staleAfterMs: 60_000,
      });

    it("starts new, reports in progress to a concurrent retry, then replays the stored response", async () => {
      expect(await begin("req_1")).toEqual({ state: "new", requestId: "req_1" });
      expect(await begin("req_2")).toEqual({ state: "in_progress", requestId: "req_1" });
      expect(await stores.idempotency.complete(cus, "idem-1", "req_1", audio)).toBe(true);
      const replay = await begin("req_3");
      expect(replay).toEqual({ state: "done", requestId: "req_1", response: audio });
      if (replay.state === "done") expect(replay.response.body).toBeInstanceOf(Uint8Array);
    });

    it("scopes keys per customer", async () => {
      const other = await seedCustomer(stores, clock, { customerId: "cus_b" });
      await begin("req_1");
      expect(await begin("req_2", { customerId: other.customer.id })).toEqual({ state: "new", requestId: "req_2" });
    });

    it("refuses the same key with a different request body", async () => {
      await begin("req_1", { fingerprint: "sha-a" });
      expect(await begin("req_2", { fingerprint: "sha-b" })).toEqual({ state: "mismatch", requestId: "req_1" });
      expect(await begin("req_2", { fingerprint: "sha-a" })).toEqual({ state: "in_progress", requestId: "req_1" });
    });

    it("forgets a failed request so its retry runs again", async () => {
      await begin("req_1");
      await stores.idempotency.fail(cus, "idem-1", "req_1");
      expect(await begin("req_2")).toEqual({ state: "new", requestId: "req_2" });
      // fail() of another request id, or of a finished request, changes nothing.
      await stores.idempotency.fail(cus, "idem-1", "req_1");
      expect(await begin("req_3")).toEqual({ state: "in_progress", requestId: "req_2" });
    });

    it("ignores expired entries: after the TTL the key starts a new request", async () => {
      await begin("req_1");
      await stores.idempotency.complete(cus, "idem-1", "req_1", audio);
      clock.advance(DAY - 1);
      expect((await begin("req_2")).state).toBe("done");
      clock.advance(1);
      expect(await begin("req_2")).toEqual({ state: "new", requestId: "req_2" });
    });

    it("does not store a response once the entry expired or belongs to another request", async () => {
      await begin("req_1");
      expect(await stores.idempotency.complete(cus, "idem-1", "req_other", audio)).toBe(false);
      clock.advance(DAY);
      expect(await stores.idempotency.complete(cus, "idem-1", "req_1", audio)).toBe(false);
    });

    it("takes over an abandoned attempt under its request id, so a charge it made is not repeated", async () => {
      await begin("req_1");
      clock.advance(59_999);
      expect((await begin("req_2")).state).toBe("in_progress");
      clock.advance(1);
      expect(await begin("req_2")).toEqual({ state: "new", requestId: "req_1" });
      // The takeover holds the entry again: a third attempt waits.
      expect(await begin("req_3")).toEqual({ state: "in_progress", requestId: "req_1" });
      expect(await stores.idempotency.complete(cus, "idem-1", "req_1", audio)).toBe(true);
    });

    it("purges expired entries", async () => {
      await begin("req_1");
      await begin("req_2", { key: "idem-2" });
      clock.advance(DAY);
      await begin("req_3", { key: "idem-3" });
      expect(await stores.idempotency.purgeExpired()).toBe(2);
      expect(await begin("req_4", { key: "idem-3" })).toEqual({ state: "in_progress", requestId: "req_3" });
    });
  });
}
