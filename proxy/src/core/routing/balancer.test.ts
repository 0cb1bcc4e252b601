import { describe, expect, test } from "vitest";
import { LoadBalancer, type NodeConfig, NodeTable, pickTwoChoices } from "./balancer.ts";
import { CircuitBreakers } from "./breaker.ts";

/** mulberry32: a seeded PRNG so statistical tests are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function setup(nodes: NodeConfig[], seed = 1) {
  const clock = { now: 0 };
  const table = new NodeTable(nodes);
  const breakers = new CircuitBreakers({ now: () => clock.now, consecutiveFailures: 1, maxEjectionPercent: 100 });
  const balancer = new LoadBalancer({ table, breakers, random: prng(seed) });
  const load = (id: string, queueDepth: number) =>
    table.reportHealth(id, { queueDepth, inFlight: 0, freeSlots: 4, ready: true }, clock.now);
  return { clock, table, breakers, balancer, load };
}

const shared = (...ids: string[]) => ids.map((id) => ({ id, url: `http://${id}:8001` }));

describe("pickTwoChoices", () => {
  test("with two items it always takes the lighter one", () => {
    const random = prng(7);
    for (let i = 0; i < 100; i++) expect(pickTwoChoices(["a", "b"], (x) => (x === "a" ? 5 : 1), random)).toBe("b");
  });

  test("it never picks the same item twice, so the heaviest of n is never chosen", () => {
    const random = prng(3);
    const loads: Record<string, number> = { a: 0, b: 10, c: 5 };
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 3000; i++) {
      const pick = pickTwoChoices(["a", "b", "c"], (x) => loads[x] ?? 0, random) ?? "";
      counts[pick] = (counts[pick] ?? 0) + 1;
    }
    // pairs {a,b} and {a,c} → a; {b,c} → c: a ≈ 2/3, c ≈ 1/3, b never
    expect(counts.b).toBe(0);
    expect((counts.a ?? 0) / 3000).toBeGreaterThan(0.63);
    expect((counts.a ?? 0) / 3000).toBeLessThan(0.7);
  });

  test("empty and single inputs", () => {
    expect(pickTwoChoices([], () => 0, Math.random)).toBeUndefined();
    expect(pickTwoChoices(["only"], () => 99, Math.random)).toBe("only");
  });
});

describe("LoadBalancer", () => {
  test("prefers less loaded nodes (statistically), counting reported queue depth", () => {
    const { balancer, load } = setup(shared("a", "b", "c", "d"));
    load("a", 0);
    load("b", 2);
    load("c", 8);
    load("d", 16);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 4000; i++) {
      const lease = balancer.acquire({ pool: "shared" });
      counts[lease?.node.id ?? "none"] = (counts[lease?.node.id ?? "none"] ?? 0) + 1;
      lease?.done("success");
    }
    // rank k of n wins when it is drawn and the other draw ranks below it: P = 2(n−k)/(n(n−1)) = 1/2, 1/3, 1/6, 0
    expect(counts.d ?? 0).toBe(0);
    expect((counts.a ?? 0) / 4000).toBeCloseTo(0.5, 1);
    expect((counts.b ?? 0) / 4000).toBeCloseTo(1 / 3, 1);
    expect((counts.c ?? 0) / 4000).toBeCloseTo(1 / 6, 1);
  });

  test("local in-flight requests count as load, and done() gives them back", () => {
    const { balancer, table } = setup(shared("a", "b"));
    const leases = Array.from({ length: 10 }, () => balancer.acquire({ pool: "shared" }));
    // two nodes: each pick goes to the one with fewer in flight, so they stay balanced
    expect(table.get("a")?.localInFlight).toBe(5);
    expect(table.get("b")?.localInFlight).toBe(5);
    for (const l of leases) {
      l?.done("success");
      l?.done("success"); // idempotent
    }
    expect(table.list().map((n) => n.localInFlight)).toEqual([0, 0]);
  });

  test("outstanding work is compared per unit of weight", () => {
    const { balancer, load } = setup([
      { id: "small", url: "http://small:8001" },
      { id: "big", url: "http://big:8001", weight: 4 },
    ]);
    load("small", 2); // 2 per unit
    load("big", 4); // 1 per unit: the big node is the less loaded one
    for (let i = 0; i < 50; i++) {
      const lease = balancer.acquire({ pool: "shared" });
      expect(lease?.node.id).toBe("big");
      lease?.done("success");
    }
    // held leases count too: the big node takes 4 more before it is as loaded as the small one
    const held = Array.from({ length: 8 }, () => balancer.acquire({ pool: "shared" }));
    expect(held.filter((l) => l?.node.id === "big").length).toBeGreaterThanOrEqual(4);
    expect(held.some((l) => l?.node.id === "small")).toBe(true);
  });

  test("routes only within the requested pool", () => {
    const { balancer } = setup([
      { id: "s1", url: "http://s1", pool: "shared" },
      { id: "s2", url: "http://s2", pool: "shared" },
      { id: "acme1", url: "http://acme1", pool: "acme" },
    ]);
    for (let i = 0; i < 50; i++) {
      const lease = balancer.acquire({ pool: "acme" });
      expect(lease?.node.id).toBe("acme1");
      lease?.done("success");
      expect(balancer.acquire({ pool: "shared" })?.node.pool).toBe("shared");
    }
    expect(balancer.acquire({ pool: "globex" })).toBeNull();
  });

  test("skips down, not-ready, draining, excluded and ejected nodes; all gone → null", () => {
    const { balancer, table } = setup(shared("a", "b", "c", "d", "e"));
    table.setUp("a", false);
    table.reportHealth("b", { queueDepth: 0, inFlight: 0, freeSlots: 0, ready: false }, 0);
    table.setDraining("c", true);
    balancer.acquire({ pool: "shared", exclude: new Set(["e"]) })?.done("failure"); // only d is left: ejected
    expect(balancer.eligible({ pool: "shared" }).map((n) => n.id)).toEqual(["e"]);
    expect(balancer.acquire({ pool: "shared", exclude: new Set(["e"]) })).toBeNull();
    table.setDraining("c", false);
    expect(balancer.acquire({ pool: "shared", exclude: new Set(["e"]) })?.node.id).toBe("c");
  });

  test("a half-open node takes one probe at a time; a neutral outcome frees the slot", () => {
    const { balancer, breakers, clock } = setup(shared("a"));
    balancer.acquire({ pool: "shared" })?.done("failure");
    expect(balancer.acquire({ pool: "shared" })).toBeNull();
    clock.now = 30_000;
    const probe = balancer.acquire({ pool: "shared" });
    expect(probe?.probe).toBe(true);
    expect(balancer.acquire({ pool: "shared" })).toBeNull();
    probe?.done("neutral");
    const probe2 = balancer.acquire({ pool: "shared" });
    probe2?.done("success");
    expect(breakers.state("a")).toBe("closed");
  });

  test("setNodes adds and removes nodes in the table and the breakers", () => {
    const { balancer, table, breakers } = setup(shared("a"));
    balancer.setNodes(shared("b"));
    expect(table.list().map((n) => n.id)).toEqual(["b"]);
    expect(breakers.snapshot().map((s) => s.nodeId)).toEqual(["b"]);
    table.upsert({ id: "late", url: "http://late", pool: "x" }); // added behind the balancer's back
    expect(balancer.acquire({ pool: "x" })?.node.id).toBe("late");
  });
});
