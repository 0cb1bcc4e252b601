/**
 * Load shapes of the closed model, as Locust's LoadTestShape: `tick(t)` is asked about once a second and answers the
 * number of users wanted and the rate to spawn (or stop) them at, or null to end the test.
 */
export interface UserTarget {
  users: number;
  /** users started (or stopped) per second on the way to `users` */
  spawnRate: number;
}

export interface UserShape {
  tick(elapsedS: number): UserTarget | null;
  /** how long the shape runs, seconds */
  durationS: number;
}

/** `users` users, spawned at `spawnRate` per second, for `durationS` seconds (Locust `-u -r -t`). */
export function fixedUsers(users: number, spawnRate: number, durationS: number): UserShape {
  return { durationS, tick: (t) => (t < durationS ? { users, spawnRate } : null) };
}

export interface StepShapeOptions {
  /** users at the start (the article: 10) */
  start: number;
  /** users added per step (the article: 2) */
  step: number;
  /** seconds per step (the article: 1) */
  everyS: number;
  /** the most users (the article: 50 "and beyond") */
  max: number;
  /** seconds to hold `max` before the end */
  holdS: number;
}

/** The article's ramp: start at `start` users, add `step` every `everyS` seconds up to `max`, hold, stop. */
export function stepUsers(o: StepShapeOptions): UserShape {
  const steps = o.step > 0 ? Math.ceil((o.max - o.start) / o.step) : 0;
  const rampS = steps * o.everyS;
  const durationS = rampS + o.holdS;
  const spawnRate = Math.max(o.start, o.step / o.everyS);
  return {
    durationS,
    tick: (t) => {
      if (t >= durationS) return null;
      return { users: Math.min(o.max, o.start + o.step * Math.floor(t / o.everyS)), spawnRate };
    },
  };
}
