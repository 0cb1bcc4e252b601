import type { Clock } from "../records.ts";

/** A clock that tests move by hand (expiry, effective dates, day boundaries, billing periods). */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
