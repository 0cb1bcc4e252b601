import { describe, expect, test } from "vitest";
import { type BreakerOptions, type BreakerState, CircuitBreakers } from "./breaker.ts";

function setup(options: Partial<BreakerOptions> = {}, nodes = ["a"]) {
  const clock = { now: 0 };
  const changes: [string, BreakerState, BreakerState][] = [];
  const breakers = new CircuitBreakers({
    now: () => clock.now,
    onStateChange: (id, from, to) => changes.push([id, from, to]),
    ...options,
  });
  breakers.setNodes(nodes.map((id) => ({ id, pool: "shared" })));
  const fail = (id = "a", n = 1) => {
    for (let i = 0; i < n; i++) breakers.acquire(id)?.failure();
  };
  const succeed = (id = "a", n = 1) => {
    for (let i = 0; i < n; i++) breakers.acquire(id)?.success();
  };
  return { breakers, clock, changes, fail, succeed };
}

describe("CircuitBreakers: opening", () => {
  test("opens after N consecutive failures", () => {
    const { breakers, fail, changes } = setup({ consecutiveFailures: 3 });
    fail("a", 2);
    expect(breakers.state("a")).toBe("closed");
    fail("a");
    expect(breakers.state("a")).toBe("open");
    expect(breakers.acquire("a")).toBeNull();
    expect(breakers.canRoute("a")).toBe(false);
    expect(changes).toEqual([["a", "closed", "open"]]);
  });

  test("a success resets the consecutive count", () => {
    const { breakers, fail, succeed } = setup({ consecutiveFailures: 3 });
    fail("a", 2);
    succeed("a");
    fail("a", 2);
    expect(breakers.state("a")).toBe("closed");
    expect(breakers.get("a")?.consecutiveFailures).toBe(2);
  });

  test("opens on the failure ratio only once the window has the minimum requests", () => {
    const { breakers, fail, succeed } = setup({ consecutiveFailures: 100, failureRatio: 0.5, minRequests: 10 });
    // alternate: 50 % failures, never 2 in a row
    for (let i = 0; i < 4; i++) {
      succeed("a");
      fail("a");
    }
    expect(breakers.get("a")).toMatchObject({ state: "closed", windowRequests: 8, windowFailures: 4 });
    succeed("a");
    fail("a"); // 10 requests, 5 failures
    expect(breakers.state("a")).toBe("open");
  });

  test("a low failure ratio does not open", () => {
    const { breakers, fail, succeed } = setup({ consecutiveFailures: 100, failureRatio: 0.5, minRequests: 10 });
    for (let i = 0; i < 30; i++) {
      succeed("a", 2);
      fail("a");
    }
    expect(breakers.state("a")).toBe("closed");
  });

  test("failures older than the window stop counting", () => {
    const { breakers, clock, fail, succeed } = setup({
      consecutiveFailures: 100,
      minRequests: 10,
      windowMs: 10_000,
      windowBuckets: 10,
    });
    fail("a", 6);
    clock.now = 10_500; // the bucket holding the failures has slid out
    succeed("a", 4);
    expect(breakers.get("a")).toMatchObject({ windowRequests: 4, windowFailures: 0 });
    fail("a", 4);
    expect(breakers.state("a")).toBe("closed"); // 8 requests < minRequests
  });
});

describe("CircuitBreakers: backoff and half-open", () => {
  test("the open time doubles with each ejection, capped", () => {
    const { breakers, clock, fail } = setup({
      consecutiveFailures: 1,
      baseOpenMs: 1_000,
      maxOpenMs: 5_000,
      ejectionDecayMs: 1e12,
    });
    const openTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      fail("a"); // closed → open, or a half-open probe failing → open again
      const s = breakers.get("a");
      openTimes.push((s?.openUntilMs ?? 0) - clock.now);
      clock.now = s?.openUntilMs ?? 0;
      expect(breakers.state("a")).toBe("half_open");
    }
    expect(openTimes).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(breakers.get("a")).toMatchObject({ ejections: 5, totalEjections: 5 });
  });

  test("half-open admits a limited number of probes; one success closes", () => {
    const { breakers, clock, fail, changes } = setup({ consecutiveFailures: 1, baseOpenMs: 1_000, halfOpenProbes: 2 });
    fail("a");
    clock.now = 999;
    expect(breakers.acquire("a")).toBeNull();
    clock.now = 1_000;
    const p1 = breakers.acquire("a");
    const p2 = breakers.acquire("a");
    expect([p1?.probe, p2?.probe]).toEqual([true, true]);
    expect(breakers.acquire("a")).toBeNull();
    expect(breakers.get("a")?.probesInFlight).toBe(2);
    p1?.success();
    expect(breakers.state("a")).toBe("closed");
    p2?.failure(); // a probe from the previous state does not re-open a closed breaker
    expect(breakers.state("a")).toBe("closed");
    expect(changes.map(([, , to]) => to)).toEqual(["open", "half_open", "closed"]);
  });

  test("a released probe frees its slot without a verdict", () => {
    const { breakers, clock, fail } = setup({ consecutiveFailures: 1, baseOpenMs: 1_000 });
    fail("a");
    clock.now = 1_000;
    const probe = breakers.acquire("a");
    expect(breakers.acquire("a")).toBeNull();
    probe?.release();
    probe?.failure(); // ignored: the first call counts
    expect(breakers.state("a")).toBe("half_open");
    expect(breakers.acquire("a")?.probe).toBe(true);
  });

  test("a half-open probe failure re-opens with a longer time", () => {
    const { breakers, clock, fail } = setup({ consecutiveFailures: 1, baseOpenMs: 1_000 });
    fail("a");
    clock.now = 1_000;
    breakers.acquire("a")?.failure();
    expect(breakers.get("a")).toMatchObject({ state: "open", openUntilMs: 3_000 });
  });

  test("verdicts of requests in flight when the node was ejected do not move the state", () => {
    const { breakers, fail } = setup({ consecutiveFailures: 2 });
    const inFlight = breakers.acquire("a");
    fail("a", 2);
    expect(breakers.state("a")).toBe("open");
    inFlight?.success();
    expect(breakers.get("a")).toMatchObject({ state: "open", totalSuccesses: 1, totalFailures: 2 });
  });

  test("the ejection count decays while the node stays closed", () => {
    const { breakers, clock, fail, succeed } = setup({
      consecutiveFailures: 1,
      baseOpenMs: 1_000,
      ejectionDecayMs: 10_000,
    });
    fail("a");
    clock.now = 1_000;
    breakers.acquire("a")?.failure(); // ejections = 2
    clock.now = 3_000;
    succeed("a"); // closes at t = 3 000
    expect(breakers.get("a")?.ejections).toBe(2);
    clock.now = 13_000;
    expect(breakers.get("a")?.ejections).toBe(1);
    clock.now = 23_000;
    expect(breakers.get("a")?.ejections).toBe(0);
    fail("a");
    expect(breakers.get("a")?.openUntilMs).toBe(24_000); // back to the base time
  });
});

describe("CircuitBreakers: max-ejection share", () => {
  const ten = Array.from({ length: 10 }, (_, i) => `n${i}`);

  test("at most X % of a pool is ejected at once; the refused ejection is counted", () => {
    const { breakers, fail } = setup({ consecutiveFailures: 1, maxEjectionPercent: 20 }, ten);
    fail("n0");
    fail("n1");
    fail("n2");
    expect(["n0", "n1", "n2"].map((id) => breakers.state(id))).toEqual(["open", "open", "closed"]);
    expect(breakers.get("n2")).toMatchObject({ refusedEjections: 1, consecutiveFailures: 1 });
    expect(breakers.canRoute("n2")).toBe(true);
  });

  test("a refused ejection happens once the share frees up", () => {
    const { breakers, clock, fail, succeed } = setup(
      { consecutiveFailures: 1, maxEjectionPercent: 10, baseOpenMs: 1_000 },
      ten,
    );
    fail("n0");
    fail("n1");
    expect(breakers.state("n1")).toBe("closed");
    clock.now = 1_000;
    succeed("n0"); // probe succeeds: n0 closes
    fail("n1");
    expect(breakers.state("n1")).toBe("open");
  });

  test("one node can always be ejected, even when the percentage rounds to zero", () => {
    const { breakers, fail } = setup({ consecutiveFailures: 1, maxEjectionPercent: 10 }, ["x", "y", "z"]);
    fail("x");
    fail("y");
    expect([breakers.state("x"), breakers.state("y")]).toEqual(["open", "closed"]);
  });

  test("pools are counted separately", () => {
    const { breakers, fail } = setup({ consecutiveFailures: 1, maxEjectionPercent: 10 });
    breakers.setNodes([
      { id: "s1", pool: "shared" },
      { id: "s2", pool: "shared" },
      { id: "e1", pool: "acme" },
      { id: "e2", pool: "acme" },
    ]);
    fail("s1");
    fail("e1");
    expect([breakers.state("s1"), breakers.state("e1")]).toEqual(["open", "open"]);
  });

  test("a half-open probe failure re-opens regardless of the share", () => {
    const { breakers, clock, fail } = setup({ consecutiveFailures: 1, maxEjectionPercent: 10, baseOpenMs: 1_000 }, ten);
    fail("n0");
    clock.now = 1_000;
    fail("n0");
    expect(breakers.state("n0")).toBe("open");
  });
});

describe("CircuitBreakers: admin and bookkeeping", () => {
  test("forceOpen and reset", () => {
    const { breakers, clock, fail } = setup({ consecutiveFailures: 1, baseOpenMs: 1_000 });
    breakers.forceOpen("a", 60_000);
    expect(breakers.get("a")).toMatchObject({ state: "open", openUntilMs: 60_000 });
    breakers.reset("a");
    expect(breakers.get("a")).toMatchObject({ state: "closed", ejections: 0, openUntilMs: null });
    clock.now = 5;
    fail("a");
    expect(breakers.get("a")?.openUntilMs).toBe(1_005);
  });

  test("recordFailure from a health check counts while closed and re-opens a half-open breaker", () => {
    const { breakers, clock } = setup({ consecutiveFailures: 2, baseOpenMs: 1_000 });
    breakers.recordFailure("a");
    breakers.recordFailure("a");
    expect(breakers.state("a")).toBe("open");
    breakers.recordFailure("a"); // ignored while open
    expect(breakers.get("a")?.ejections).toBe(1);
    clock.now = 1_000;
    breakers.recordFailure("a");
    expect(breakers.get("a")).toMatchObject({ state: "open", ejections: 2 });
  });

  test("recordSuccess does not close a half-open breaker (that takes a real probe)", () => {
    const { breakers, clock } = setup({ consecutiveFailures: 1, baseOpenMs: 1_000 });
    breakers.recordFailure("a");
    clock.now = 1_000;
    breakers.recordSuccess("a");
    expect(breakers.state("a")).toBe("half_open");
  });

  test("unknown nodes cannot be routed to; setNodes keeps state of kept nodes", () => {
    const { breakers, fail } = setup({ consecutiveFailures: 1 }, ["a", "b"]);
    expect(breakers.acquire("zzz")).toBeNull();
    fail("a");
    breakers.setNodes([
      { id: "a", pool: "shared" },
      { id: "c", pool: "shared" },
    ]);
    expect(breakers.snapshot().map((s) => [s.nodeId, s.state])).toEqual([
      ["a", "open"],
      ["c", "closed"],
    ]);
  });

  test("bad options fail at construction", () => {
    expect(() => new CircuitBreakers({ now: () => 0, failureRatio: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreakers({ now: () => 0, consecutiveFailures: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreakers({ now: () => 0, maxEjectionPercent: 101 })).toThrow(RangeError);
  });
});
