import { describe, expect, it } from "vitest";
import { newRequestId } from "./middleware.ts";

describe("request ids", () => {
  it("are req_ + 32 hex digits, unique, and sort by time", () => {
    const t0 = Date.UTC(2026, 11, 1);
    const ids = Array.from({ length: 2_000 }, (_, i) => newRequestId(t0 + i));
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // within one millisecond they still differ (80 random bits)
    const same = new Set(Array.from({ length: 10_000 }, () => newRequestId(t0)));
    expect(same.size).toBe(10_000);
    expect(newRequestId(t0).slice(4, 16)).toBe(t0.toString(16).padStart(12, "0"));
  });
});
