import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConsoleSessionStore } from "./ports.ts";
import { type ContractOptions, ManualClock, type StoreHarness } from "./testing/harness.ts";

const HOUR = 3_600_000;

/** The ConsoleSessionStore contract: every implementation must pass it. */
export function runConsoleSessionStoreContract({ name, make }: ContractOptions): void {
  describe(`ConsoleSessionStore contract (${name})`, () => {
    let clock: ManualClock;
    let harness: StoreHarness;
    let sessions: ConsoleSessionStore;

    beforeEach(async () => {
      clock = new ManualClock();
      harness = await make(clock);
      if (!harness.stores.consoleSessions) throw new Error(`${name} has no console session store`);
      sessions = harness.stores.consoleSessions;
    });
    afterEach(async () => {
      await harness.close?.();
    });

    it("knows a signed-out session, and only that one", async () => {
      expect(await sessions.isRevoked("sid_a")).toBe(false);
      await sessions.revoke("sid_a", clock.now() + HOUR);
      expect(await sessions.isRevoked("sid_a")).toBe(true);
      expect(await sessions.isRevoked("sid_b")).toBe(false);
    });

    it("takes a second sign-out of the same session without error", async () => {
      await sessions.revoke("sid_a", clock.now() + HOUR);
      await sessions.revoke("sid_a", clock.now() + HOUR);
      expect(await sessions.isRevoked("sid_a")).toBe(true);
    });

    it("forgets sessions that have expired anyway, at a later sign-out, and keeps the unexpired", async () => {
      await sessions.revoke("short", clock.now() + HOUR);
      await sessions.revoke("long", clock.now() + 8 * HOUR);
      clock.advance(2 * HOUR);
      await sessions.revoke("other", clock.now() + HOUR);
      expect(await sessions.isRevoked("short")).toBe(false);
      expect(await sessions.isRevoked("long")).toBe(true);
      expect(await sessions.isRevoked("other")).toBe(true);
    });
  });
}
