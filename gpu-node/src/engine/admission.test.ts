import { describe, expect, it } from "vitest";
import { type AdmissionInput, admissionCandidate, DOWNSTREAM_ROWS_PER_SLOT } from "./admission.ts";
import type { Priority, SegmentState } from "./types.ts";

const seg = (priority: Priority, enqueuedAt: number) => ({ request: { priority }, enqueuedAt }) as SegmentState;
const options = { maxBatch: 4, reservedInteractiveSlots: 1, maxQueueDelayMs: 5 };
const input = (over: Partial<AdmissionInput>): AdmissionInput => ({
  waiting: [],
  occupancy: 1,
  batchOccupancy: 0,
  downstreamRows: 0,
  options,
  now: 100,
  ...over,
});

describe("admission to the running GPT batch", () => {
  it("takes an interactive segment before older batch ones", () => {
    const interactive = seg("interactive", 90);
    expect(admissionCandidate(input({ waiting: [seg("batch", 10), interactive] })).segment).toBe(interactive);
  });

  it("keeps the reserved slots for interactive work", () => {
    const waiting = [seg("batch", 10)];
    expect(admissionCandidate(input({ waiting, occupancy: 3, batchOccupancy: 3 }))).toEqual({});
    expect(admissionCandidate(input({ waiting, occupancy: 2, batchOccupancy: 2 })).segment).toBe(waiting[0]);
    const interactive = seg("interactive", 50);
    expect(admissionCandidate(input({ waiting: [interactive], occupancy: 3, batchOccupancy: 3 })).segment).toBe(
      interactive,
    );
  });

  it("admits nothing into a full batch or while the later stages hold their bound", () => {
    const waiting = [seg("interactive", 10)];
    expect(admissionCandidate(input({ waiting, occupancy: 4 }))).toEqual({});
    expect(admissionCandidate(input({ waiting, downstreamRows: DOWNSTREAM_ROWS_PER_SLOT * 4 }))).toEqual({});
    expect(admissionCandidate(input({ waiting, downstreamRows: DOWNSTREAM_ROWS_PER_SLOT * 4 - 1 })).segment).toBe(
      waiting[0],
    );
  });

  it("an idle GPT waits max_queue_delay for company unless a full batch is waiting (Triton)", () => {
    const waiting = [seg("interactive", 98), seg("interactive", 99)];
    expect(admissionCandidate(input({ waiting, occupancy: 0, now: 100 }))).toEqual({ wakeAt: 103 });
    expect(admissionCandidate(input({ waiting, occupancy: 0, now: 103 })).segment).toBe(waiting[0]);
    const full = [0, 1, 2, 3].map((i) => seg("batch", 99 + i / 10));
    expect(admissionCandidate(input({ waiting: full, occupancy: 0, now: 100 })).segment).toBe(full[0]);
  });
});

describe("admission under the memory budget (issue 14 #1)", () => {
  const withState = (priority: Priority, enqueuedAt: number, admitted: boolean, id: string) =>
    ({ request: { id, priority, admittedAt: admitted ? 1 : null }, enqueuedAt }) as unknown as SegmentState;

  it("a new request that does not fit waits in its place; segments of admitted requests go on", () => {
    const big = withState("interactive", 10, false, "big");
    const admittedSegment = withState("interactive", 20, true, "running");
    const fitsNothing = () => false;
    expect(admissionCandidate(input({ waiting: [big], fitsMemory: fitsNothing }))).toEqual({});
    expect(admissionCandidate(input({ waiting: [big, admittedSegment], fitsMemory: fitsNothing })).segment).toBe(
      admittedSegment,
    );
    // once memory is free again it is the next one in
    expect(admissionCandidate(input({ waiting: [big, admittedSegment], fitsMemory: () => true })).segment).toBe(big);
  });
});
