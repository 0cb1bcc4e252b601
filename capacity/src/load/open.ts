/**
 * The open model: requests go out at their scheduled times whatever the server does, and each one is timed from
 * its intended send time, so a stalled server shows its whole stall in every request queued behind it (no
 * coordinated omission) and a generator that falls behind shows up as latency and send lag, never as a quietly
 * lower rate. When `maxInFlight` requests are outstanding, a due arrival is not sent but counted as dropped (as k6's
 * dropped_iterations), which is a failure for the SLO.
 *
 * The loop runs on timers (1 ms resolution) and sends every arrival that is due on each tick; it does not spin, so
 * it leaves the CPU to the server on a small machine. Its dispatch lag is reported (`sendLag`).
 */
import type { Rng } from "../core/rng.ts";
import type { Payload } from "../payloads/profiles.ts";
import { type ArrivalProcess, arrivalTimes, type RateSegment, rateAt, totalDurationMs } from "./arrivals.ts";
import type { HttpExecutor } from "./executor.ts";
import type { Recorder, StepSummary } from "./stats.ts";

export interface OpenRunOptions {
  executor: HttpExecutor;
  recorder: Recorder;
  pick: () => Payload;
  segments: readonly RateSegment[];
  process: ArrivalProcess;
  rng: Rng;
  maxInFlight: number;
  phase: string;
  step: string;
  /** window length of this step's statistics (default: the recorder's) */
  windowMs?: number;
  /** checked on every tick: true ends the schedule early (stability reached, Ctrl-C) */
  shouldStop?: () => boolean;
}

export function runOpen(o: OpenRunOptions): Promise<StepSummary> {
  const arrivals = arrivalTimes(o.segments, o.process, o.rng);
  let inFlight = 0;
  let scheduleDone = false;
  const start = performance.now() + 5;
  o.recorder.beginStep(
    { phase: o.phase, step: o.step, load: rateAt(o.segments, 0), unit: "req/s" },
    () => inFlight,
    o.windowMs,
  );

  return new Promise<StepSummary>((resolve) => {
    let next = arrivals.next();
    const maybeFinish = () => {
      if (scheduleDone && inFlight === 0) resolve(o.recorder.endStep());
    };
    const done = (s: Parameters<Recorder["completed"]>[0]) => {
      inFlight--;
      o.recorder.completed(s);
      maybeFinish();
    };
    const tick = () => {
      const now = performance.now();
      o.recorder.setLoad(rateAt(o.segments, now - start));
      let stopped = false;
      if (o.shouldStop?.()) {
        next = { done: true, value: undefined };
        stopped = true;
      }
      while (!next.done) {
        const intended = start + next.value;
        if (intended > now) break;
        if (inFlight >= o.maxInFlight) {
          o.recorder.dropped();
        } else {
          inFlight++;
          o.recorder.sent(performance.now() - intended, inFlight);
          o.executor.send(o.pick(), intended, done);
        }
        next = arrivals.next();
      }
      if (next.done) {
        // The step lasts the whole schedule, even when its last arrival comes early (a low rate).
        const left = stopped ? 0 : start + totalDurationMs(o.segments) - performance.now();
        setTimeout(
          () => {
            scheduleDone = true;
            maybeFinish();
          },
          Math.max(0, left),
        );
        return;
      }
      setTimeout(tick, Math.max(0, Math.floor(start + next.value - performance.now())));
    };
    setTimeout(tick, 5);
  });
}
