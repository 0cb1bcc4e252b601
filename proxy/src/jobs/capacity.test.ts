import { describe, expect, it } from "vitest";
import type { NodeView } from "../core/routing/balancer.ts";
import { BatchInFlight, batchSlots, type CapacityOptions } from "./capacity.ts";

const options: CapacityOptions = { headroomSlots: 2, maxPerNode: 4, staleAfterMs: 10_000 };
const NOW = 1_000_000;

const node = (patch: Partial<NodeView> = {}): NodeView => ({
  id: "n1",
  url: "http://n1",
  pool: "shared",
  up: true,
  ready: true,
  draining: false,
  localInFlight: 0,
  queueDepth: 0,
  remoteInFlight: 0,
  freeSlots: 8,
  lastReportMs: NOW - 100,
  ...patch,
});

describe("batchSlots", () => {
  it("gives an idle node's spare slots, less the headroom, at most maxPerNode", () => {
    expect(batchSlots(node(), true, new BatchInFlight(), NOW, options)).toBe(4);
    expect(batchSlots(node({ freeSlots: 5 }), true, new BatchInFlight(), NOW, options)).toBe(3);
    expect(batchSlots(node({ freeSlots: 2 }), true, new BatchInFlight(), NOW, options)).toBe(0);
    expect(batchSlots(node({ freeSlots: 0 }), true, new BatchInFlight(), NOW, options)).toBe(0);
  });

  it("gives nothing to a node with a queue: whatever waits there (interactive first) has the slots", () => {
    expect(batchSlots(node({ queueDepth: 1 }), true, new BatchInFlight(), NOW, options)).toBe(0);
  });

  it("gives nothing to a node that is down, not ready, draining, ejected, unreported or stale", () => {
    const f = new BatchInFlight();
    expect(batchSlots(node({ up: false }), true, f, NOW, options)).toBe(0);
    expect(batchSlots(node({ ready: false }), true, f, NOW, options)).toBe(0);
    expect(batchSlots(node({ draining: true }), true, f, NOW, options)).toBe(0);
    expect(batchSlots(node(), false, f, NOW, options)).toBe(0);
    expect(batchSlots(node({ lastReportMs: null }), true, f, NOW, options)).toBe(0);
    expect(batchSlots(node({ lastReportMs: NOW - 10_001 }), true, f, NOW, options)).toBe(0);
  });

  it("counts its own batch requests sent since the report, and those the report already saw", () => {
    const f = new BatchInFlight();
    const n = node({ freeSlots: 8 });
    expect(batchSlots(n, true, f, NOW, options)).toBe(4); // snapshot at this report: 0 batch in flight
    f.add("n1", 1);
    f.add("n1", 1);
    n.localInFlight = 2;
    expect(batchSlots(n, true, f, NOW, options)).toBe(2);
    // The next report counts those 2 as busy: 6 free, 2 in flight; the 2 are ours, so batch may still have 4 in all.
    Object.assign(n, { freeSlots: 6, remoteInFlight: 2, lastReportMs: NOW });
    expect(batchSlots(n, true, f, NOW, options)).toBe(2);
  });

  it("leaves room for interactive work of other proxies that the report shows", () => {
    // 8 slots: 5 in flight at the report, none of them this proxy's batch work → interactive from elsewhere.
    expect(batchSlots(node({ freeSlots: 3, remoteInFlight: 5 }), true, new BatchInFlight(), NOW, options)).toBe(1);
  });

  it("keeps room for the recent interactive peak for the window, then gives it back", () => {
    const f = new BatchInFlight();
    const n = node();
    n.localInFlight = 5;
    expect(batchSlots(n, true, f, NOW, options)).toBe(1); // 8 − 2 headroom − 5
    n.localInFlight = 0; // a gap between interactive requests: the burst may come back
    expect(batchSlots(n, true, f, NOW + 1_000, options)).toBe(1);
    expect(batchSlots({ ...n, lastReportMs: NOW + 9_000 }, true, f, NOW + 9_000, options)).toBe(1);
    expect(batchSlots({ ...n, lastReportMs: NOW + 12_000 }, true, f, NOW + 12_000, options)).toBe(4);
  });

  it("yields slots to interactive requests sent since the report", () => {
    const f = new BatchInFlight();
    const n = node({ freeSlots: 4 });
    expect(batchSlots(n, true, f, NOW, options)).toBe(2);
    n.localInFlight = 2; // two interactive requests went out after the report
    expect(batchSlots(n, true, f, NOW, options)).toBe(0);
  });
});
