import { describe, expect, test } from "vitest";
import { NodeTable } from "./balancer.ts";
import { CircuitBreakers } from "./breaker.ts";
import { type FetchLike, HealthChecker, parseHealthz, type Scheduler } from "./health.ts";

/** Timers driven by hand. */
function manualScheduler() {
  const intervals = new Set<() => void>();
  const timeouts = new Set<() => void>();
  const scheduler: Scheduler = {
    every(_ms, task) {
      intervals.add(task);
      return () => intervals.delete(task);
    },
    after(_ms, task) {
      timeouts.add(task);
      return () => timeouts.delete(task);
    },
  };
  return {
    scheduler,
    tick: () => {
      for (const t of intervals) t();
    },
    fireTimeouts: () => {
      for (const t of [...timeouts]) {
        timeouts.delete(t);
        t();
      }
    },
    pending: () => ({ intervals: intervals.size, timeouts: timeouts.size }),
  };
}

const healthz = (over: Record<string, unknown> = {}, status = 200) =>
  new Response(JSON.stringify({ status: "ok", queue_depth: 3, in_flight: 2, free_slots: 5, ready: true, ...over }), {
    status,
    headers: { "content-type": "application/json" },
  });

/** lets every settled promise chain run (one macrotask) */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

type Reply = Response | Error | "hang";

function setup(replies: Record<string, Reply[]>, options: { unhealthyThreshold?: number } = {}) {
  const clock = { now: 1_000 };
  const sched = manualScheduler();
  const table = new NodeTable([
    { id: "a", url: "http://a:8001/" },
    { id: "b", url: "http://b:8001" },
  ]);
  const breakers = new CircuitBreakers({ now: () => clock.now, consecutiveFailures: 3 });
  breakers.setNodes(table.list());
  const calls: string[] = [];
  const signals: AbortSignal[] = [];
  const fetch: FetchLike = (url, init) => {
    calls.push(url);
    signals.push(init.signal);
    const id = new URL(url).hostname;
    const reply = replies[id]?.shift() ?? healthz();
    if (reply === "hang") return new Promise<Response>(() => {});
    return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
  };
  const checker = new HealthChecker({
    table,
    breakers,
    fetch,
    scheduler: sched.scheduler,
    now: () => clock.now,
    ...options,
  });
  return { clock, sched, table, breakers, checker, calls, signals };
}

describe("parseHealthz", () => {
  const cases: { name: string; input: [number, unknown]; expected: ReturnType<typeof parseHealthz> }[] = [
    {
      name: "a ready node",
      input: [200, { queue_depth: 1, in_flight: 2, free_slots: 3, ready: true, extra: "ignored" }],
      expected: { ok: true, report: { queueDepth: 1, inFlight: 2, freeSlots: 3, ready: true } },
    },
    {
      name: "a draining node answers 503 with a body: alive, not ready",
      input: [503, { queue_depth: 0, in_flight: 4, free_slots: 0, ready: false }],
      expected: { ok: true, report: { queueDepth: 0, inFlight: 4, freeSlots: 0, ready: false } },
    },
    {
      name: "a 503 without the body is a failure",
      input: [503, "Service Unavailable"],
      expected: { ok: false, error: "bad_status", message: "GET /healthz answered 503" },
    },
    {
      name: "another status is a failure",
      input: [500, { queue_depth: 0, in_flight: 0, free_slots: 0, ready: true }],
      expected: { ok: false, error: "bad_status", message: "GET /healthz answered 500" },
    },
    {
      name: "a 200 with a wrong body is a failure",
      input: [200, { queue_depth: -1, in_flight: 0, free_slots: 0, ready: true }],
      expected: { ok: false, error: "bad_body", message: "unexpected /healthz body" },
    },
  ];
  for (const { name, input, expected } of cases) test(name, () => expect(parseHealthz(...input)).toEqual(expected));
});

describe("HealthChecker", () => {
  test("a healthy answer updates load and readiness", async () => {
    const { checker, table, calls } = setup({ a: [healthz({ queue_depth: 7, in_flight: 1, free_slots: 2 })] });
    const results = await checker.checkAll();
    expect(calls.sort()).toEqual(["http://a:8001/healthz", "http://b:8001/healthz"]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(table.get("a")).toMatchObject({ up: true, ready: true, queueDepth: 7, remoteInFlight: 1, freeSlots: 2 });
    expect(table.get("a")?.lastReportMs).toBe(1_000);
  });

  test("a draining node is kept up but not ready, and the breaker is not blamed", async () => {
    const { checker, table, breakers } = setup({ a: [healthz({ ready: false, status: "draining" }, 503)] });
    await checker.checkNode("a");
    expect(table.get("a")).toMatchObject({ up: true, ready: false });
    expect(breakers.get("a")?.totalFailures).toBe(0);
  });

  test("failures feed the breaker; the threshold marks the node down; recovery marks it up and resets", async () => {
    const err = new TypeError("fetch failed: ECONNREFUSED");
    const { checker, table, breakers } = setup({ a: [err, err, err, healthz()] });
    const first = await checker.checkNode("a");
    expect(first).toMatchObject({ ok: false, error: "network" });
    expect(table.get("a")?.up).toBe(true); // one failure is not enough (threshold 2)
    await checker.checkNode("a");
    expect(table.get("a")?.up).toBe(false);
    await checker.checkNode("a");
    expect(breakers.get("a")).toMatchObject({ state: "open", totalFailures: 3 });
    await checker.checkNode("a");
    expect(table.get("a")?.up).toBe(true);
    expect(breakers.get("a")).toMatchObject({ state: "closed", ejections: 0 });
  });

  test("a node that never answers times out via the scheduler, and the request is aborted", async () => {
    const { checker, sched, signals } = setup({ a: ["hang"] });
    const pending = checker.checkNode("a");
    await Promise.resolve();
    expect(sched.pending().timeouts).toBe(1);
    sched.fireTimeouts();
    expect(await pending).toMatchObject({ ok: false, error: "timeout" });
    expect(signals[0]?.aborted).toBe(true);
  });

  test("the timeout timer is cancelled when the node answers", async () => {
    const { checker, sched } = setup({});
    await checker.checkNode("a");
    expect(sched.pending().timeouts).toBe(0);
  });

  test("bad bodies and statuses are failures", async () => {
    const { checker } = setup({
      a: [new Response("not json", { status: 200 }), new Response("oops", { status: 500 })],
    });
    expect(await checker.checkNode("a")).toMatchObject({ ok: false, error: "bad_body", status: 200 });
    expect(await checker.checkNode("a")).toMatchObject({ ok: false, error: "bad_status", status: 500 });
  });

  test("start() checks now and on every tick; stop() cancels; a running check is not doubled", async () => {
    const { checker, sched, calls } = setup({ a: ["hang"] });
    checker.start();
    checker.start(); // idempotent
    await flush();
    expect(calls).toHaveLength(2);
    sched.tick(); // a is still hanging: only b is checked again
    await flush();
    expect(calls.filter((u) => u.includes("//a:"))).toHaveLength(1);
    expect(calls.filter((u) => u.includes("//b:"))).toHaveLength(2);
    checker.stop();
    expect(sched.pending().intervals).toBe(0);
  });

  test("lastResults reports the latest result per node; unknown nodes are skipped", async () => {
    const { checker } = setup({});
    expect(await checker.checkNode("nope")).toBeUndefined();
    await checker.checkAll();
    expect(checker.lastResults().map((r) => r.nodeId)).toEqual(["a", "b"]);
  });
});
