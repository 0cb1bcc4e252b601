import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Stores } from "./ports.ts";
import { type ContractOptions, ManualClock, type StoreHarness } from "./testing/harness.ts";

/** The NodeStore contract: every implementation must pass it. */
export function runNodeStoreContract({ name, make }: ContractOptions): void {
  describe(`NodeStore contract (${name})`, () => {
    let clock: ManualClock;
    let harness: StoreHarness;
    let stores: Stores;

    beforeEach(async () => {
      clock = new ManualClock();
      harness = await make(clock);
      stores = harness.stores;
    });
    afterEach(async () => {
      await harness.close?.();
    });

    it("adds nodes to the shared pool by default, with weight 1, active", async () => {
      const added = await stores.nodes.add({ id: "n1", url: "http://10.0.0.1:8001/" });
      expect(added).toEqual({
        ok: true,
        value: {
          id: "n1",
          url: "http://10.0.0.1:8001",
          pool: "shared",
          weight: 1,
          state: "active",
          createdAt: clock.now(),
        },
      });
      expect(await stores.nodes.get("n1")).toMatchObject({ url: "http://10.0.0.1:8001" });
    });

    it("refuses a URL already registered, a taken id and malformed input", async () => {
      await stores.nodes.add({ id: "n1", url: "http://10.0.0.1:8001" });
      expect(await stores.nodes.add({ url: "http://10.0.0.1:8001/" })).toMatchObject({ error: "url_taken" });
      expect(await stores.nodes.add({ id: "n1", url: "http://10.0.0.2:8001" })).toMatchObject({ error: "id_taken" });
      expect(await stores.nodes.add({ url: "ftp://10.0.0.3" })).toMatchObject({ error: "invalid" });
      expect(await stores.nodes.add({ url: "http://10.0.0.3", weight: -1 })).toMatchObject({ error: "invalid" });
    });

    it("lists by pool and state, drains, and tombstones removed nodes", async () => {
      await stores.nodes.add({ id: "n2", url: "http://b:8001" });
      await stores.nodes.add({ id: "n1", url: "http://a:8001" });
      await stores.nodes.add({ id: "e1", url: "http://e:8001", pool: "acme", weight: 3 });
      expect((await stores.nodes.list()).map((n) => n.id)).toEqual(["e1", "n1", "n2"]);
      expect((await stores.nodes.list({ pool: "shared" })).map((n) => n.id)).toEqual(["n1", "n2"]);

      expect(await stores.nodes.setState("n1", "draining")).toMatchObject({ state: "draining" });
      expect((await stores.nodes.list({ state: "draining" })).map((n) => n.id)).toEqual(["n1"]);

      expect(await stores.nodes.remove("n2")).toBe(true);
      expect(await stores.nodes.remove("nope")).toBe(false);
      expect((await stores.nodes.list()).map((n) => n.id)).toEqual(["e1", "n1"]);
      expect(await stores.nodes.get("n2")).toMatchObject({ state: "removed" });
      expect(await stores.nodes.setState("nope", "active")).toBeNull();
    });

    it("brings a removed node back under its id when its URL is added again", async () => {
      await stores.nodes.add({ id: "n1", url: "http://a:8001" });
      await stores.nodes.remove("n1");
      const back = await stores.nodes.add({ url: "http://a:8001", pool: "acme", weight: 2 });
      expect(back).toMatchObject({ ok: true, value: { id: "n1", pool: "acme", weight: 2, state: "active" } });
    });
  });
}
