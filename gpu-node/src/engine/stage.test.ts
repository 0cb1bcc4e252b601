import { describe, expect, it } from "vitest";
import { type Candidate, pickStage } from "./stage.ts";

const c = (index: number, priority: Candidate["priority"] = "batch", sticky = false): Candidate => ({
  index,
  priority,
  sticky,
});

describe("pickStage (the scheduling policy)", () => {
  it("runs nothing without candidates", () => {
    expect(pickStage([], 0)).toBeNull();
  });

  it("puts interactive work before batch work, wherever it is in the pipeline", () => {
    expect(pickStage([c(1), c(3, "interactive"), c(4)], 3)?.index).toBe(3);
  });

  it("round-robins over the stages after the last one, wrapping around", () => {
    const all = [c(0), c(1), c(2), c(3)];
    expect(pickStage(all, 1)?.index).toBe(2);
    expect(pickStage(all, 3)?.index).toBe(0);
    expect(pickStage([c(0), c(2)], 0)?.index).toBe(2);
  });

  it("lets a sticky stage run again while it is ready, and only then", () => {
    expect(pickStage([c(0, "batch", true), c(1)], 0)?.index).toBe(0);
    expect(pickStage([c(0, "batch", true), c(1)], 1)?.index).toBe(0);
    expect(pickStage([c(0, "batch", false), c(1)], 0)?.index).toBe(1);
  });
});
