/**
 * When a capacity probe has measured enough: its first window is the level's warm-up (connections, the queue
 * settling) and is left out of the verdict; after it, the probe stops as soon as the last windows are stable, or
 * early when the latest window is already twice over the SLO bound (a queue that only grows from there).
 */
import type { Recorder, WindowSummary } from "../load/stats.ts";
import { isStable, type Slo, type Stability, sloValue } from "./slo.ts";

export interface ProbeStopper {
  shouldStop: () => boolean;
  /** stable while running, or judged on the probe's final windows (the last one closes when the probe ends) */
  stable: (finalWindows: readonly WindowSummary[]) => boolean;
}

export function probeStopper(recorder: Recorder, slo: Slo, stability: Stability, aborted = () => false): ProbeStopper {
  let stable = false;
  let warmedUp = false;
  return {
    stable: (finalWindows) => stable || isStable(finalWindows.slice(1), slo, stability),
    shouldStop: () => {
      if (aborted()) return true;
      const all = recorder.currentWindows();
      if (!warmedUp && all.length >= 1) {
        warmedUp = true;
        recorder.restartStepStats();
      }
      const ws = all.slice(1);
      if (isStable(ws, slo, stability)) {
        stable = true;
        return true;
      }
      const last = ws[ws.length - 1];
      return ws.length >= 2 && last !== undefined && sloValue(last, slo) > 2 * slo.boundMs;
    },
  };
}
