import type { Priority, RequestState } from "./types.ts";

/** How long the throughput estimate looks back. */
const WINDOW_MS = 60_000;

/**
 * The engine's estimate of how long new work would wait, behind its deadline checks and Retry-After: semantic codes
 * completed per second over the last minute, against the codes still to decode ahead of the new request (an
 * interactive request is not behind batch work, which it overtakes).
 */
export class WaitEstimator {
  private completions: { at: number; codes: number }[] = [];

  constructor(private readonly now: () => number) {}

  completed(codes: number): void {
    this.completions.push({ at: this.now(), codes });
  }

  /** semantic codes completed per second over the last minute, or null before there is data */
  throughput(): number | null {
    const now = this.now();
    this.completions = this.completions.filter((c) => now - c.at < WINDOW_MS);
    const first = this.completions[0];
    if (this.completions.length < 3 || !first) return null;
    const span = Math.max(1, (now - first.at) / 1000);
    return this.completions.reduce((n, c) => n + c.codes, 0) / span;
  }

  /** Estimated seconds until a new job of `codes` codes completes behind `inFlight`; null if unknown. */
  seconds(priority: Priority, codes: number, inFlight: Iterable<RequestState>): number | null {
    const rate = this.throughput();
    if (rate === null) return null;
    let ahead = codes;
    for (const r of inFlight) {
      if (priority === "interactive" && r.priority === "batch") continue;
      const done = r.segments.reduce((n, s) => n + s.codes.length, 0);
      ahead += Math.max(0, r.expectedCodes - done);
    }
    return ahead / rate;
  }

  /** Retry-After for a refused job of `codes` codes: the wait it would have had, at least 1 s. */
  retryAfterSeconds(codes: number, inFlight: Iterable<RequestState>): number {
    return Math.max(1, Math.ceil(this.seconds("interactive", codes, inFlight) ?? 1));
  }
}
